"""``convtrace.explain``: the explanation as the user meets it — the trace (data, from
:mod:`convtrace.trace`), PyTorch's verdict (from :mod:`convtrace.interop`, only when torch is
installed) and the ways to show it (text, JSON, HTML, from :mod:`convtrace.render`).

This is the one module that joins the three: the trace itself never imports torch nor
renders.

>>> t = explain([1, 1, 1, 1], [1, 1, 1], stride=2, padding=1, verify=False)
>>> t.output.tolist(), t.length.result, t.exact
([[2.0, 3.0]], 2, True)
>>> print(t.render(lang="zh").splitlines()[0])
Conv1d 逐步计算
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
import threading
from collections.abc import Collection, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

from .trace import build
from .trace import model as _model
from .trace.verify import verify_check, verify_trace

if TYPE_CHECKING:  # pragma: no cover
    from .draw.bundle import Display

__all__ = ["Trace", "PoolTrace", "explain", "explain_transposed", "prefetch_torch"]


class Trace(_model.Trace):
    """An explained convolution (the data of :class:`convtrace.trace.model.Trace`) that can
    show itself: ``print(trace)``, :meth:`render`, :meth:`to_json`, Jupyter's HTML view, and
    re-check itself with :meth:`verify`."""

    @classmethod
    def from_data(cls, data: _model.Trace) -> Trace:
        """The same trace, with the methods of this class."""
        if isinstance(data, cls):
            return data
        return cls(**{f.name: getattr(data, f.name) for f in dataclasses.fields(data)})

    def render(self, lang: str = "en", *, symbolic: bool = False, width: int | None = None) -> str:
        """The explanation as text, in English (``lang='en'``) or Chinese (``'zh'``);
        ``symbolic`` writes names (x1, w1, b) instead of numbers; ``width`` wraps the lines
        to that many display columns (a Chinese character counts 2)."""
        from .render.text import render_text

        return render_text(self, lang, symbolic=symbolic, width=width)

    def render_parts(
        self, lang: str = "en", *, symbolic: bool = False, width: int | None = None, numbering: bool = True,
        verify: bool = False,
    ) -> Iterator[str]:
        """The text of :meth:`render`, in the order it can be printed: everything before
        PyTorch's check at once, then — with ``verify``, when this trace has no check yet — the
        check, made only when asked for (this is where a first check waits for ``import
        torch``). The parts join to the text of the checked trace, byte for byte;
        ``numbering`` says at the top how names and indices count.

        >>> t = explain([1, 1, 1, 1], [1, 1, 1], padding=1, verify=False)
        >>> parts = list(t.render_parts(verify=True))
        >>> len(parts), parts[0].rstrip().endswith("y1..y4 = 2, 3, 3, 2"), parts[1].splitlines()[0]
        (2, True, 'PyTorch check:')
        >>> "".join(parts) == t.with_check().render()
        True
        """
        return _render_parts(self, lang, symbolic=symbolic, width=width, numbering=numbering, verify=verify)

    def __str__(self) -> str:
        return self.render("en")

    def _repr_html_(self) -> str:
        """Jupyter's view: the figure (SVG, inline), then every step as a table."""
        from .render.html import render_html

        return render_html(self, figure=self.to_svg())

    def _repr_svg_(self) -> str:
        return self.to_svg()

    def _repr_mimebundle_(
        self, include: Collection[str] | None = None, exclude: Collection[str] | None = None
    ) -> tuple[dict[str, str], dict[str, Any]]:
        """Jupyter's bundle, for every notebook host: the figure as ``image/svg+xml`` and
        ``image/png`` (with the viz extra), the text as ``text/plain``, the tables (the
        figure as an ``<img>``) as ``text/html`` (see :mod:`convtrace.draw.bundle`).

        >>> data, _ = explain([1, 1, 1, 1], [1, 1, 1], padding=1, verify=False)._repr_mimebundle_()
        >>> data["image/svg+xml"].startswith("<svg"), data["text/plain"].splitlines()[0]
        (True, 'Conv1d, step by step')
        """
        from .draw.bundle import mime_bundle

        return mime_bundle(self, include, exclude)

    def show(self, lang: str = "en", step: int | None = None) -> Display:
        """The trace as a notebook shows it, in ``lang`` ('en' or 'zh'), or only frame
        ``step`` (0-based): the figure, the text and the tables (see
        :meth:`_repr_mimebundle_`); make it a cell's last expression, or ``display()`` it.

        >>> explain([1, 1, 1, 1], [1, 1, 1], padding=1, verify=False).show("zh", step=1).step
        1
        """
        return _show(self, lang, step)

    def to_svg(self, *, step: int | None = None, lang: str = "en") -> str:
        """The figure as a self-contained SVG: the overview, or frame ``step`` (0-based).

        >>> explain([1, 1, 1, 1], [1, 1, 1], padding=1, verify=False).to_svg().startswith("<svg")
        True
        """
        from .draw import render_svg

        return render_svg(self, step=step, lang=lang)

    def save(self, path: str, *, step: int | None = None, lang: str = "en") -> None:
        """Write the figure to ``path``: ``.svg``, ``.png`` or an animated ``.gif`` (PNG and
        GIF need ``pip install 'convtrace[viz]'``)."""
        from .draw import save

        save(self, path, step=step, lang=lang)

    def to_json(self, *, indent: int | None = None, as_text: bool = False) -> Any:
        """The trace as a JSON document (a dict; ``as_text=True`` gives the text), versioned
        by :data:`~convtrace.trace.model.SCHEMA_VERSION` and documented in docs/trace-schema.md.

        >>> doc = explain(["1/2", 1], [1], verify=False).to_json()
        >>> doc["schema_version"], doc["output"], doc["steps"][0]["value"]
        ('1.3', [[0.5, 1]], '1/2')
        """
        from .render.jsondoc import trace_to_json

        doc = trace_to_json(self)
        if as_text:
            import json

            return json.dumps(doc, indent=indent, ensure_ascii=False)
        return doc

    def with_check(self) -> Trace:
        """The same trace with PyTorch's verdict (``check``; says so when torch is missing)."""
        from .interop.check import check_trace

        _await_prefetch()
        return dataclasses.replace(self, check=check_trace(self))

    def verify(self, torch: bool | None = None) -> bool:
        """Re-derive every explained output element from its own terms and assert that it
        equals the engine's output (exactly for Fractions vs a float64 engine to 1e-12
        relative) and, where available, PyTorch's; also that each transposed view equals the
        engine. ``torch``: None uses the check made at build time (or runs one if torch is
        importable and none was made), False skips PyTorch, True requires it.

        Returns True, or raises ``AssertionError`` naming the first disagreement.

        >>> explain([1, 1, 1, 1], [1, 1, 1], padding=1, verify=False).verify(torch=False)
        True
        """
        return _verify(self, torch)


class PoolTrace(_model.PoolTrace):
    """An explained pool (the data of :class:`convtrace.trace.model.PoolTrace`) that shows
    itself as :class:`Trace` does: ``print(trace)``, :meth:`render`, :meth:`to_json`,
    Jupyter's HTML view, and :meth:`verify`.

    >>> t = explain(op="max_pool1d", input=[1, 3, 2, 5, 4], kernel_size=2, ceil_mode=True, verify=False)
    >>> [str(s.value) for s in t], [s.pool.winner_index for s in t]
    (['3', '5', '4'], [1, 3, 4])
    """

    @classmethod
    def from_data(cls, data: _model.PoolTrace) -> PoolTrace:
        """The same trace, with the methods of this class."""
        if isinstance(data, cls):
            return data
        return cls(**{f.name: getattr(data, f.name) for f in dataclasses.fields(data)})

    def render(self, lang: str = "en", *, symbolic: bool = False, width: int | None = None) -> str:
        """The explanation as text, in English (``lang='en'``) or Chinese (``'zh'``)."""
        from .render.text import render_text

        return render_text(self, lang, symbolic=symbolic, width=width)

    def render_parts(
        self, lang: str = "en", *, symbolic: bool = False, width: int | None = None, numbering: bool = True,
        verify: bool = False,
    ) -> Iterator[str]:
        """The text of :meth:`render`, the PyTorch check last and made only when asked for
        (see :meth:`Trace.render_parts`)."""
        return _render_parts(self, lang, symbolic=symbolic, width=width, numbering=numbering, verify=verify)

    def __str__(self) -> str:
        return self.render("en")

    def _repr_html_(self) -> str:
        from .render.html import render_html

        return render_html(self)

    def _repr_mimebundle_(
        self, include: Collection[str] | None = None, exclude: Collection[str] | None = None
    ) -> tuple[dict[str, str], dict[str, Any]]:
        """Jupyter's bundle: the figure (SVG, PNG with the viz extra), the text and the
        tables (see :meth:`Trace._repr_mimebundle_`)."""
        from .draw.bundle import mime_bundle

        return mime_bundle(self, include, exclude)

    def show(self, lang: str = "en", step: int | None = None) -> Display:
        """The trace as a notebook shows it, in ``lang``, or only frame ``step`` (0-based)
        (see :meth:`Trace.show`).

        >>> explain(op="max_pool1d", input=[1, 3, 2], kernel_size=2, verify=False).show("zh").lang
        'zh'
        """
        return _show(self, lang, step)

    def to_json(self, *, indent: int | None = None, as_text: bool = False) -> Any:
        """The trace as a JSON document (schema of docs/trace-schema.md, pool fields included).

        >>> doc = explain(op="avg_pool1d", input=[1, 2, 3], kernel_size=2, verify=False).to_json()
        >>> doc["op"], doc["steps"][0]["reduction"], doc["steps"][0]["pool"]["divisor"]
        ('avg_pool1d', 'mean', 2)
        """
        from .render.jsondoc import trace_to_json

        doc = trace_to_json(self)
        if as_text:
            import json

            return json.dumps(doc, indent=indent, ensure_ascii=False)
        return doc

    def with_check(self) -> PoolTrace:
        """The same trace with PyTorch's verdict (``check``; says so when torch is missing)."""
        from .interop.check import check_trace

        _await_prefetch()
        return dataclasses.replace(self, check=check_trace(self))

    def verify(self, torch: bool | None = None) -> bool:
        """Re-derive every explained output from its taps (the max and its index, the mean
        and its divisor, the p-norm, the scatter) and hold it to the engine's and PyTorch's
        (see :meth:`Trace.verify`).

        >>> explain(op="avg_pool1d", input=[1, 2, 3, 4], kernel_size=2, verify=False).verify(torch=False)
        True
        """
        return _verify(self, torch)


def _show(trace: Trace | PoolTrace, lang: str, step: int | None) -> Display:
    from .draw.build import check_step
    from .draw.bundle import Display
    from .draw.labels import check_lang

    check_lang(lang)
    check_step(trace, step)
    return Display(trace, lang, step)


def _render_parts(
    trace: Trace | PoolTrace, lang: str, *, symbolic: bool, width: int | None, numbering: bool, verify: bool
) -> Iterator[str]:
    from .render.i18n import translator
    from .render.text import render_text

    unchecked = render_text(trace, lang, symbolic=symbolic, width=width, numbering=numbering)
    if not verify or trace.check is not None:
        yield unchecked
        return
    # the check is the last section: it starts at the last line that is its heading (a
    # width too narrow for the heading's line wraps it: then all comes at once)
    cut = unchecked.rfind("\n" + translator(lang)("check_heading") + "\n") + 1
    if cut:
        yield unchecked[:cut]
    checked = render_text(trace.with_check(), lang, symbolic=symbolic, width=width, numbering=numbering)
    if checked[:cut] != unchecked[:cut]:  # pragma: no cover - the check changes its own section only
        raise AssertionError("PyTorch's check changed the explanation printed before it")
    yield checked[cut:]


def _verify(trace: Trace | PoolTrace, torch: bool | None) -> bool:
    verify_trace(trace)
    if torch is False:
        return True
    check = trace.check
    if check is None or (torch is True and not check.available):
        from .oracle import torch_available

        if torch is True or torch_available():
            check = trace.with_check().check
    verify_check(check, required=torch is True)
    return True


@overload
def explain(
    input: Any = ...,
    weight: Any = ...,
    bias: Any = ...,
    *,
    op: Literal["conv1d", "conv_transpose1d"] = ...,
    in_channels: int | None = ...,
    out_channels: int | None = ...,
    kernel_size: Any = ...,
    stride: Any = ...,
    padding: Any = ...,
    dilation: Any = ...,
    groups: Any = ...,
    padding_mode: str = ...,
    output_padding: Any = ...,
    output_size: Any = ...,
    transposed: bool = ...,
    ceil_mode: Any = ...,
    count_include_pad: Any = ...,
    norm_type: Any = ...,
    return_indices: Any = ...,
    indices: Any = ...,
    input_shape: Any = ...,
    dtype: Any = ...,
    at: Sequence[int] | None = ...,
    verify: bool = ...,
    exact: bool | None = ...,
    max_steps: int = ...,
    weight_fill: str | None = ...,
    bias_fill: str | None = ...,
    seed: int | None = ...,
    stream_chunk: int | str | None = ...,
    stream_push: int | None = ...,
) -> Trace: ...


@overload
def explain(
    input: Any = ...,
    weight: Any = ...,
    bias: Any = ...,
    *,
    op: str,
    in_channels: int | None = ...,
    out_channels: int | None = ...,
    kernel_size: Any = ...,
    stride: Any = ...,
    padding: Any = ...,
    dilation: Any = ...,
    groups: Any = ...,
    padding_mode: str = ...,
    output_padding: Any = ...,
    output_size: Any = ...,
    transposed: bool = ...,
    ceil_mode: Any = ...,
    count_include_pad: Any = ...,
    norm_type: Any = ...,
    return_indices: Any = ...,
    indices: Any = ...,
    input_shape: Any = ...,
    dtype: Any = ...,
    at: Sequence[int] | None = ...,
    verify: bool = ...,
    exact: bool | None = ...,
    max_steps: int = ...,
    weight_fill: str | None = ...,
    bias_fill: str | None = ...,
    seed: int | None = ...,
    stream_chunk: int | str | None = ...,
    stream_push: int | None = ...,
) -> Trace | PoolTrace: ...


def explain(
    input: Any = None,
    weight: Any = None,
    bias: Any = None,
    *,
    op: str = "conv1d",
    in_channels: int | None = None,
    out_channels: int | None = None,
    kernel_size: Any = None,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    groups: Any = 1,
    padding_mode: str = "zeros",
    output_padding: Any = 0,
    output_size: Any = None,
    transposed: bool = False,
    ceil_mode: Any = False,
    count_include_pad: Any = True,
    norm_type: Any = None,
    return_indices: Any = False,
    indices: Any = None,
    input_shape: Any = None,
    dtype: Any = None,
    at: Sequence[int] | None = None,
    verify: bool = True,
    exact: bool | None = None,
    max_steps: int = build.DEFAULT_MAX_STEPS,
    weight_fill: str | None = None,
    bias_fill: str | None = None,
    seed: int | None = 0,
    stream_chunk: int | str | None = None,
    stream_push: int | None = None,
) -> Trace | PoolTrace:
    """Explain a ``torch.nn.Conv1d`` (or, with ``transposed=True``, ``ConvTranspose1d``) step by step.

    Data: ``input`` (N, C, L), (C, L) or (L); ``weight`` in PyTorch's layout, or one kernel
    (k,) for every channel pair; ``bias`` (out,), a scalar, ``True`` (ones) or None/False —
    arrays (memory maps are read only where needed), nested lists or numbers as strings
    (``"1/3"``). Missing data are ones (as the teaching post; input of ``input_shape``), or made
    up by ``weight_fill`` / ``bias_fill`` ('ones', 'arange', 'randint', 'randn'; ``seed``).
    Parameters mirror PyTorch's (``padding_mode`` pads as ``torch.nn.Conv1d`` does;
    ``output_padding`` and ``output_size`` belong to the transposed op).

    ``at=(n, c, t)`` explains one output element, computed on its own from the
    ``in_channels/groups * kernel_size`` values it reads. Outputs larger than ``max_steps``
    elements get a summary: steps for positions 0, 1, T-2 and T-1 of channel 0 of batch item 0.
    ``exact``: None decides from the data (integers, fractions and decimal strings are exact),
    True forces Fractions, False floats. ``verify`` runs the PyTorch check when torch is
    installed. Invalid settings raise :class:`~convtrace.errors.ConvtraceError`.

    >>> t = explain([1, 1, 1, 1], [1, 1, 1], stride=2, padding=1, verify=False)
    >>> [c.source.value for c in t.pad_cells]
    ['zero', 'input', 'input', 'input', 'input', 'zero']
    >>> explain(["1/3", 1, 1], [3, 3], verify=False).steps[0].value
    Fraction(4, 1)

    Pools: ``op`` is any of ``max_pool1d``, ``avg_pool1d``, ``lp_pool1d``,
    ``adaptive_avg_pool1d``, ``adaptive_max_pool1d``, ``max_unpool1d`` (or ``conv1d``,
    ``conv_transpose1d``), with PyTorch's functional arguments (``kernel_size``, ``stride``
    (default: ``kernel_size``), ``padding``, ``dilation``, ``ceil_mode``,
    ``count_include_pad``, ``norm_type``, ``output_size``, ``return_indices``, ``indices``).
    The result is a :class:`PoolTrace`: every output's window (taps tagged real, left pad,
    right pad or overhang) and its reduction with the numbers.

    >>> t = explain(op="avg_pool1d", input=[1, 2, 3, 4, 5, 6], kernel_size=3, stride=2, padding=1,
    ...             ceil_mode=True, verify=False)
    >>> [str(s.value) for s in t], t.steps[-1].pool.divisor
    (['1', '3', '5', '3'], 2)

    Streaming (issue 19): ``stream_chunk`` (input samples per push, or ``'hop'``) streams the
    layer on the data with :class:`convtrace.stream.Streamer` and explains push
    ``stream_push`` (1-based; default the second, whose cache holds the first push's
    samples) in ``trace.stream``: which inputs its outputs read from the cache and which are
    new; for ConvTranspose1d the carried tail, without the bias.

    >>> s = explain([1, 1, 1, 1], [1, 1, 1], padding=1, stream_chunk=2, verify=False).stream
    >>> s.push, s.output.tolist(), [str(r.origin) for r in s.outputs[0].reads]
    (2, [[[3.0, 3.0]]], ['cache', 'cache', 'new'])
    """
    request = build.Request(
        input=input, weight=weight, bias=bias, in_channels=in_channels, out_channels=out_channels,
        kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation, groups=groups,
        padding_mode=padding_mode, output_padding=output_padding, output_size=output_size,
        transposed=transposed or op == "conv_transpose1d", input_shape=input_shape, dtype=dtype, at=at, exact=exact,
        max_steps=max_steps, weight_fill=weight_fill, bias_fill=bias_fill, seed=seed, op=_op_of(op, transposed), ceil_mode=ceil_mode,
        count_include_pad=count_include_pad, norm_type=norm_type, return_indices=return_indices, indices=indices,
        stream_chunk=stream_chunk, stream_push=stream_push,
    )
    data = build.explain_request(request)
    if stream_chunk is not None and isinstance(data, _model.Trace):
        from .stream.learner import stream_chunk as explain_push

        data = dataclasses.replace(data, stream=explain_push(data, stream_chunk, stream_push))
    trace: Trace | PoolTrace = (
        PoolTrace.from_data(data) if isinstance(data, _model.PoolTrace) else Trace.from_data(data)
    )
    return trace.with_check() if verify else trace


def _op_of(op: Any, transposed: bool) -> str:
    """The op asked for: ``conv1d`` with ``transposed=True`` is ``conv_transpose1d``; an
    unknown op is an error naming the ops."""
    from .errors import ConvtraceError
    from .params import POOL_OPS

    ops = ("conv1d", "conv_transpose1d", *POOL_OPS)
    if op not in ops:
        raise ConvtraceError("op", op, "op must be one of " + ", ".join(ops))
    if op == "conv_transpose1d" or (op == "conv1d" and transposed):
        return "conv_transpose1d"
    if transposed:
        raise ConvtraceError("transposed", True, f"transposed=True applies to the convolutions, not to {op}",
                             hint="drop transposed")
    return str(op)


def explain_transposed(input: Any = None, weight: Any = None, bias: Any = None, **kwargs: Any) -> Trace:
    """:func:`explain` with ``transposed=True``: a ``torch.nn.ConvTranspose1d`` step by step,
    plus its four equivalent views (``trace.views``).

    >>> t = explain_transposed([1, 1, 1, 1], [1, 1, 1], stride=2, padding=1, verify=False)
    >>> t.output.tolist(), t.views.scatter.overlap
    ([[1.0, 2.0, 1.0, 2.0, 1.0, 2.0, 1.0]], (1, 2, 1, 2, 1, 2, 1))
    """
    kwargs["transposed"] = True
    trace = explain(input, weight, bias, **kwargs)
    assert isinstance(trace, Trace)
    return trace


def prefetch_torch() -> threading.Thread | None:
    """Start importing PyTorch on a background thread, so that a check made later waits for
    what is left of the import, not for all of it (about a second); the caller goes on
    building and printing meanwhile. None when PyTorch is not installed. A failed import is
    not reported here: the check (:meth:`Trace.with_check`, which waits for this thread
    first) imports again and says so. The thread is not a daemon (an import cut off at exit
    can crash the interpreter), so a process ends once the import has.

    >>> thread = prefetch_torch()
    >>> thread is None or isinstance(thread, threading.Thread)
    True
    """
    from .oracle import torch_available

    if "torch" in sys.modules or not torch_available():
        return None
    from .interop import torch as bridge  # imported here, so that the thread imports torch alone

    def load() -> None:
        with contextlib.suppress(BaseException):  # the check imports again and reports the failure
            bridge.require_torch()

    thread = threading.Thread(target=load, name="convtrace-import-torch")
    _PREFETCHES[:] = [*(t for t in _PREFETCHES if t.is_alive()), thread]
    thread.start()
    return thread


#: the imports of torch started by :func:`prefetch_torch`
_PREFETCHES: list[threading.Thread] = []


def _await_prefetch() -> None:
    """Wait for the imports of torch started in the background. A check must not import torch
    while another thread does: if that import fails, Python hands the waiting thread the
    half-initialised module (an ``AttributeError`` later) instead of the error."""
    for thread in tuple(_PREFETCHES):
        thread.join()
