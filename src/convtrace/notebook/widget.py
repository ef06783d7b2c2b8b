"""``convtrace.Explorer``: the explorer page's front end in a notebook (an anywidget).

Python computes and JavaScript draws: the widget runs the page's shared ES module
(``convtrace/web/static/explorer.js``) with its notebook adapter (``widget.js``) and stylesheet,
shipped in the package (no CDN, no network). Its traits are :func:`convtrace.explain`'s keyword
arguments, the ``step`` and the ``lang``; the front end asks the kernel for the documents the
explorer's API returns (:func:`answer`).

>>> from convtrace.notebook.widget import Explorer
>>> w = Explorer(input=[1, 1, 1, 1], kernel_size=3, padding=1)
>>> w.trace.output.ravel().tolist()
[2.0, 3.0, 3.0, 2.0]
>>> w.kernel_size = 5
>>> w.trace.output.ravel().tolist()
[4.0, 4.0]
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import anywidget
import traitlets

from ..errors import ConvtraceError, ConvtraceTypeError
from ..explainer import Trace
from ..web.assets import module_text, static_path
from ..web.service import (
    KEYS,
    ApiError,
    draw_response,
    explain_request,
    rejected,
    torch_snippet,
    torch_status,
)

__all__ = ["Explorer", "answer", "CONFIG_KEYS"]

#: the configuration traits: the explorer API's arguments (convtrace.explain's keyword
#: arguments, ``transposed`` and ``op`` for the pools), and streaming's ``stream_chunk``
#: (passed on to explain; the API says whether this version knows it)
CONFIG_KEYS: tuple[str, ...] = tuple(KEYS) + (() if "stream_chunk" in KEYS else ("stream_chunk",))
#: what a request carries besides the configuration
_REQUEST_ONLY = ("step", "lang", "include_model")


def _jsonable(value: Any) -> Any:
    """``value`` as JSON can carry it: arrays and tuples as lists, NumPy scalars as numbers, a
    fraction as its exact text ("1/3", read back exactly).

    >>> import numpy as np
    >>> _jsonable((np.arange(2), Fraction(1, 3)))
    [[0, 1], '1/3']
    """
    if isinstance(value, Fraction):
        return str(value)
    if hasattr(value, "tolist"):
        return _jsonable(value.tolist())
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


class Value(traitlets.Any):
    """A configuration value (anything :func:`convtrace.explain` takes), kept as JSON."""

    def validate(self, obj: Any, value: Any) -> Any:
        return _jsonable(value)


def _reply(data: Any) -> dict[str, Any]:
    return {"ok": True, "status": 200, "data": data}


def answer(what: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """The explorer API's answer to a request, as the front end's adapters see it: ``ok``,
    ``status`` and the JSON document (``explain``: the trace; ``draw``: the figure of
    ``body["step"]``, None the overview; ``snippet``: the PyTorch code; ``torch``: the status),
    or the same 422 ``detail`` the API gives (the invalid-setting advice).

    >>> answer("draw", {"input": [1, 1, 1, 1], "kernel_size": 3, "padding": 1, "step": 0})["data"]["frames"]
    4
    >>> answer("explain", {"input": [1, 2], "kernel_size": 3})["data"]["detail"]["param"]
    'input'
    """
    lang = str(body.get("lang", "en"))
    try:
        if what == "torch":
            return _reply(torch_status())
        if what not in ("explain", "draw", "snippet"):
            raise rejected("what", repr(what), "must be explain, draw, snippet or torch", lang=lang)
        config = {k: v for k, v in body.items() if k not in _REQUEST_ONLY}
        trace = explain_request(config, lang)
        if what == "explain":
            return _reply(json.loads(trace.to_json(as_text=True)))
        if what == "draw":
            return _reply(draw_response(trace, body.get("step"), lang))
        return _reply({"code": torch_snippet(trace)})
    except ApiError as err:
        return {"ok": False, "status": err.status, "data": {"detail": err.detail}}
    except ConvtraceError as err:
        detail = rejected(err.param, repr(err.value), err.rule, lang=lang).detail
        return {"ok": False, "status": 422, "data": {"detail": detail}}
    except Exception as err:  # never a traceback in the widget: said as the server's failure
        return {"ok": False, "status": 500, "data": {"detail": {"error": "server", "rule": f"{type(err).__name__}: {err}"}}}


def _widget_traits() -> dict[str, Any]:
    return {key: Value(None, allow_none=True).tag(sync=True) for key in CONFIG_KEYS}


class Explorer(anywidget.AnyWidget):
    """The explorer (figure, step scrubber with play, formula, invalid-setting advice, PyTorch
    snippet, language switch) of a configuration: :func:`convtrace.explain`'s keyword arguments.

    Traits sync both ways: every configuration argument (``w.kernel_size = 5`` redraws),
    ``step`` (0-based; dragging the scrubber sets it) and ``lang`` ("en" or "zh").
    ``w.trace`` is the current trace (None while the setting is invalid; ``w.error`` then holds
    the advice the widget shows).
    """

    _esm = module_text("widget.js")
    _css = static_path("style.css")
    _keys = traitlets.List(traitlets.Unicode(), default_value=list(CONFIG_KEYS)).tag(sync=True)
    step = traitlets.Int(0).tag(sync=True)
    lang = traitlets.Unicode("en").tag(sync=True)
    locals().update(_widget_traits())

    def __init__(self, input: Any = None, weight: Any = None, bias: Any = None, *, step: int = 0,
                 lang: str = "en", **config: Any) -> None:
        for name in config:
            if name not in CONFIG_KEYS:
                close = difflib.get_close_matches(name, CONFIG_KEYS, n=1)
                raise ConvtraceTypeError(name, config[name], "is not an argument of convtrace.explain",
                                         call="convtrace.Explorer(...)", hint=f"did you mean {close[0]}?" if close else None)
        if lang not in ("en", "zh"):
            raise ConvtraceError("lang", lang, "must be 'en' or 'zh'")
        given = {"input": input, "weight": weight, "bias": bias, **config}
        super().__init__(step=step, lang=lang, **{k: v for k, v in given.items() if v is not None})
        self.on_msg(self._on_request)

    def config(self) -> dict[str, Any]:
        """The configuration the traits hold (unset ones left out: explain's defaults)."""
        values = {key: getattr(self, key) for key in CONFIG_KEYS}
        return {k: v for k, v in values.items() if v is not None}

    @property
    def trace(self) -> Trace | Any | None:
        """The current :class:`~convtrace.Trace` (a pool's trace for a pool), None if invalid."""
        try:
            return explain_request(self.config(), self.lang)
        except (ApiError, ConvtraceError):
            return None

    @property
    def error(self) -> dict[str, Any] | None:
        """The invalid-setting advice (the API's 422 detail) while the setting is invalid, else None."""
        reply = answer("explain", {**self.config(), "lang": self.lang})
        return None if reply["ok"] else dict(reply["data"]["detail"])

    def reply_to(self, content: Any) -> dict[str, Any] | None:
        """The message answering the front end's ``content`` (``{"kind": "request", "id",
        "what", "body"}``: :func:`answer`), None for a message that is not a request."""
        if not isinstance(content, dict) or content.get("kind") != "request":
            return None
        body = content.get("body")
        reply = answer(str(content.get("what")), body if isinstance(body, dict) else {})
        return {"kind": "answer", "id": content.get("id"), "reply": reply}

    def _on_request(self, _: Any, content: Any, buffers: Any = None) -> None:
        message = self.reply_to(content)
        if message is not None:
            self.send(message)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The widget, and a static figure of the current step beside it (SVG; PNG with the viz
        extra) so an exported notebook shows a picture."""
        bundle = super()._repr_mimebundle_(**kwargs)
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
        data = dict(data or {})
        data.update(self.static_figure())
        return (data, metadata) if isinstance(bundle, tuple) else data

    def static_figure(self) -> dict[str, Any]:
        """The current step's figure (the overview when there are no steps) as
        ``image/svg+xml`` and, when cairosvg is installed, ``image/png``; empty while invalid."""
        from ..draw import build_figure, frame_count
        from ..draw.svg import figure_to_svg

        trace = self.trace
        if trace is None:
            return {}
        frames = frame_count(trace)
        figure = build_figure(trace, min(self.step, frames - 1) if frames else None, self.lang)
        out: dict[str, Any] = {"image/svg+xml": figure_to_svg(figure)}
        try:
            from ..draw import raster

            out["image/png"] = raster.png_bytes(figure)
        except ConvtraceError:
            pass
        return out
