"""What the explorer's API does, without the web framework: size limits, explaining a
configuration, the figure of a step, the PyTorch snippet and the server's PyTorch.

>>> trace = explain_request({"input": [1, 1, 1, 1], "kernel_size": 3, "padding": 1, "verify": False})
>>> trace.output.tolist()
[[2.0, 3.0, 3.0, 2.0]]
>>> try:
...     explain_request({"input": [1] * 100000})
... except ApiError as e:
...     print(e.status, e.detail["error"])
422 too_large
>>> try:
...     explain_request({"input": [1, 2], "kernel_size": 5, "verify": False})
... except ApiError as e:
...     print(e.detail["param"], e.detail["suggestions"][0])
input input length >= 5
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import numpy as np

from ..errors import ConvtraceError
from ..explainer import PoolTrace, Trace
from ..params import POOL_OPS

__all__ = [
    "LIMITS", "ApiError", "explain_request", "draw_response", "torch_snippet", "torch_status", "advise",
    "PLAN_LIMITS", "stack_request", "solve_request",
]  # fmt: skip

# The one import of the advice module, and the typed-number exponent rule
from ..render.advice import advise
from ..rules import MAX_EXPONENT

#: largest configuration the server explains (beyond: 422 with a message, never a hang)
LIMITS: dict[str, int] = {
    "input_elements": 4096,
    "weight_elements": 4096,
    "length": 1024,
    "channels": 64,
    "batch": 8,
    "kernel_size": 64,
    "stride": 64,
    "dilation": 64,
    "padding": 256,
    "output_padding": 64,
    "output_elements": 16384,
    "macs": 2_000_000,
    "max_steps": 256,
    "text_chars": 65536,
}

KEYS = (
    "input", "weight", "bias", "in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation",
    "groups", "padding_mode", "output_padding", "output_size", "transposed", "input_shape", "at", "verify",
    "exact", "max_steps", "op", "ceil_mode", "count_include_pad", "norm_type", "indices", "return_indices",
    "stream_chunk", "stream_push",  # one streamed push (issue 19)
)  # fmt: skip


class ApiError(Exception):
    """An answer other than 200: ``status`` and a JSON ``detail``."""

    def __init__(self, status: int, detail: dict[str, Any]) -> None:
        super().__init__(detail.get("message", ""))
        self.status = status
        self.detail = detail


def rejected(param: str, value: str, rule: str, *, pytorch: str = "", numbers: str = "",
             suggestions: list[str] | None = None, lang: str = "en") -> ApiError:
    """The 422 of an invalid setting, worded as every other: the parameter, its value (as
    text), the rule (in ``lang``), PyTorch's own message where it has one, the numbers that
    broke the rule and the nearest valid settings.

    >>> rejected("stride", "0", "stride must be at least 1").detail["message"]
    'stride=0: stride must be at least 1'
    """
    from ..render.advice import in_language

    value = value if len(value) <= 80 else value[:77] + "..."
    return ApiError(422, {"error": "invalid_configuration", "param": param, "value": value,
                          "message": f"{param}={value}: {pytorch or rule}", "pytorch": pytorch,
                          "rule": in_language(rule, lang), "numbers": numbers,
                          "suggestions": [in_language(s, lang) for s in suggestions or []]})


def _too_large(what: str, value: Any, limit: int) -> ApiError:
    return ApiError(422, {"error": "too_large", "param": what, "value": value, "limit": limit,
                          "rule": f"at most {limit} on this server",
                          "message": f"{what}={value} is larger than this server explains (at most {limit}); "
                                     "use convtrace from Python or the command line for large inputs"})


_EXPONENT = re.compile(r"[eE]\s*([+-]?\d+)")


def _check_text(text: str, name: str) -> None:
    for match in _EXPONENT.finditer(text):
        if abs(int(match.group(1))) > MAX_EXPONENT:
            raise _too_large(f"{name} exponent", abs(int(match.group(1))), MAX_EXPONENT)


def _leaves(value: Any, name: str, depth: int = 0) -> tuple[int, tuple[int, ...]]:
    """(number of scalars, shape of the first path) of nested lists, bounded; typed numbers
    (strings) with huge exponents are refused."""
    if isinstance(value, (list, tuple)):
        if depth > 4:
            raise rejected(name, "<nested lists>", "arrays nest at most 3 levels")
        count = 0
        inner: tuple[int, ...] = ()
        for i, v in enumerate(value):
            c, shape = _leaves(v, name, depth + 1)
            count += c
            if i == 0:
                inner = shape
        return count, (len(value), *inner)
    if isinstance(value, str):
        _check_text(value, name)
    return 1, ()


def _refused(name: str, text: str, rule: str) -> ApiError:
    return rejected(name, repr(text if len(text) <= 40 else text[:37] + "..."), rule)


_TOKEN = re.compile(r"[^,:;|\[\]\s]{65,}")


def _check_text_form(name: str, text: str) -> None:
    """Bounds of a text-form operand before it is read: its length, no files, arrays nested
    at most 3 levels, no number longer than 64 characters, no huge exponent."""
    if len(text) > LIMITS["text_chars"]:
        raise _too_large(name + " characters", len(text), LIMITS["text_chars"])
    if text.strip().startswith("@"):
        raise _refused(name, text, "files are not read over the web: paste the values")
    depth = deepest = 0
    for char in text:
        depth += (char == "[") - (char == "]")
        deepest = max(deepest, depth)
    if deepest > 3:
        raise _refused(name, text, "arrays nest at most 3 levels")
    if _TOKEN.search(text):
        raise _refused(name, text, "a number is at most 64 characters long")
    _check_text(text, name)


def read_text_values(config: Mapping[str, Any], lang: str = "en") -> dict[str, Any]:
    """``config`` with its text-form operands (``"1,2,3:4,5,6"``, as the command line reads
    them: :func:`convtrace.trace.text_values.parse_values`) read into arrays; a weight of rows
    ``a;b`` is one kernel per row, as ``--weight``. Files (``@x.npy``) are not read over the web.

    >>> read_text_values({"input": "1,2,3:4,5,6"})["input"].shape
    (2, 3)
    >>> read_text_values({"input": "1,2", "weight": "1,1;2,2"})["weight"].shape
    (2, 1, 2)
    """
    from ..trace.text_values import as_weight, parse_values

    out = dict(config)
    for name in ("input", "weight", "bias", "indices"):
        text = out.get(name)
        if not isinstance(text, str):
            continue
        _check_text_form(name, text)
        try:
            values = parse_values(text, name, mmap=False)
        except ConvtraceError as err:
            raise _stated(err, lang) from None
        out[name] = as_weight(values) if name == "weight" else _as_indices(values.numeric) if name == "indices" else values
    return out


def _as_indices(numeric: np.ndarray) -> np.ndarray:
    """max_unpool1d's indices as PyTorch takes them: integers (a non-integer stays as it is,
    for the resolver to refuse in PyTorch's words).

    >>> _as_indices(np.array([1.0, 3.0])).dtype
    dtype('int64')
    """
    numeric = np.asarray(numeric)
    if np.issubdtype(numeric.dtype, np.number) and np.all(np.isfinite(numeric)) and np.all(numeric == np.round(numeric)):
        return numeric.astype(np.int64)
    return numeric


def _count_and_shape(value: Any, name: str) -> tuple[int, tuple[int, ...]]:
    """(number of scalars, shape) of nested lists or of values already read from text."""
    shape = getattr(value, "shape", None)
    if shape is not None:
        return math.prod(shape), tuple(shape)
    return _leaves(value, name)


def _int(config: Mapping[str, Any], key: str, default: int) -> int:
    v = config.get(key)
    if isinstance(v, (list, tuple)) and len(v) == 1:
        v = v[0]
    return int(v) if isinstance(v, int) and not isinstance(v, bool) else default


def _check_ranges(config: Mapping[str, Any]) -> None:
    for key in ("kernel_size", "stride", "dilation", "padding", "output_padding", "max_steps"):
        v = _int(config, key, 0)
        if abs(v) > LIMITS[key]:
            raise _too_large(key, v, LIMITS[key])
    for key in ("in_channels", "out_channels", "groups"):
        v = _int(config, key, 0)
        if abs(v) > LIMITS["channels"]:
            raise _too_large(key, v, LIMITS["channels"])
    size = _int(config, "output_size", 0)
    if abs(size) > LIMITS["length"] * LIMITS["stride"]:
        raise _too_large("output_size", size, LIMITS["length"] * LIMITS["stride"])


def _input_shape(config: Mapping[str, Any]) -> tuple[int, int, int]:
    """(batch, channels, length) as far as it can be read (explain validates it properly)."""
    if config.get("input") is not None:
        count, shape = _count_and_shape(config["input"], "input")
        if count > LIMITS["input_elements"]:
            raise _too_large("input elements", count, LIMITS["input_elements"])
    else:
        shape = tuple(int(v) for v in (config.get("input_shape") or ()) if isinstance(v, int))
        count = math.prod(abs(v) for v in shape) if shape else 0
        if count > LIMITS["input_elements"]:
            raise _too_large("input_shape elements", count, LIMITS["input_elements"])
    shape3 = (1, 1, *shape) if len(shape) == 1 else (1, *shape) if len(shape) == 2 else shape
    if len(shape3) != 3:
        return 1, max(1, _int(config, "in_channels", 1)), 4
    return shape3[0], shape3[1], shape3[2]


def _check_sizes(config: Mapping[str, Any]) -> None:
    """Refuse work beyond :data:`LIMITS` before any of it is done."""
    _check_ranges(config)
    batch, channels, length = _input_shape(config)
    for key, v, limit in (("batch", batch, "batch"), ("in_channels", channels, "channels"), ("length", length, "length")):
        if v > LIMITS[limit]:
            raise _too_large(key, v, LIMITS[limit])
    if isinstance(config.get("bias"), (list, tuple, str)):
        _leaves(config["bias"], "bias")
    if config.get("indices") is not None:
        count, _ = _count_and_shape(config["indices"], "indices")
        if count > LIMITS["input_elements"]:
            raise _too_large("indices elements", count, LIMITS["input_elements"])
    if config.get("op") in POOL_OPS:
        _check_pool_size(config, batch * channels, length)
        return
    if config.get("weight") is not None:
        count, _ = _count_and_shape(config["weight"], "weight")
        if count > LIMITS["weight_elements"]:
            raise _too_large("weight elements", count, LIMITS["weight_elements"])
    k = max(1, _int(config, "kernel_size", 3))
    s, d = max(1, _int(config, "stride", 1)), max(1, _int(config, "dilation", 1))
    p = _int(config, "padding", 0) if not isinstance(config.get("padding"), str) else d * (k - 1)
    out_c = max(1, _int(config, "out_channels", channels))
    if config.get("transposed"):
        out_len = max(_int(config, "output_size", 0), (length - 1) * s + d * (k - 1) + _int(config, "output_padding", 0) + 1)
    else:
        out_len = (length + 2 * max(p, 0)) // s + 1
    elements = batch * out_c * max(out_len, 0)
    if elements > LIMITS["output_elements"]:
        raise _too_large("output elements", elements, LIMITS["output_elements"])
    macs = elements * k * max(1, channels // max(1, _int(config, "groups", 1)))
    if macs > LIMITS["macs"]:
        raise _too_large("multiply-adds", macs, LIMITS["macs"])


def _check_pool_size(config: Mapping[str, Any], rows: int, length: int) -> None:
    """A pool's output within :data:`LIMITS` (its windows are at most ``kernel_size`` long,
    an adaptive one at most the input's length)."""
    k = max(1, _int(config, "kernel_size", 1))
    s = max(1, _int(config, "stride", k))
    p = max(0, _int(config, "padding", 0))
    if config.get("op") == "max_unpool1d":
        out_len = max(_int(config, "output_size", 0), (length - 1) * s + k)
    elif str(config.get("op", "")).startswith("adaptive_"):
        out_len = _int(config, "output_size", 0)
        k = length
    else:
        out_len = (length + 2 * p) // s + 2
    elements = rows * max(out_len, 0)
    if elements > LIMITS["output_elements"]:
        raise _too_large("output elements", elements, LIMITS["output_elements"])
    if elements * k > LIMITS["macs"]:
        raise _too_large("window reads", elements * k, LIMITS["macs"])


def _invalid(err: ConvtraceError, config: Mapping[str, Any], lang: str = "en") -> ApiError:
    """The 422 of a :class:`ConvtraceError`: PyTorch's wording, the rule, the numbers and the
    nearest valid settings (:func:`advise`), the rule and suggestions in ``lang``."""
    from ..render.advice import split_backend_note

    advice = advise(err, dict(config))
    shape = getattr(err.value, "shape", None)
    shown = f"<array of shape {tuple(shape)}>" if shape is not None else repr(err.value)
    words, backend = split_backend_note(err, lang)
    out = rejected(err.param, shown, advice.rule or words, pytorch=words, numbers=advice.numbers,
                   suggestions=list(advice.suggestions) or ([err.hint] if err.hint else []), lang=lang)
    out.detail["message"] = str(err)
    if backend:  # a backend-dependent rule (convtrace.rules.BACKEND_RULES): why convtrace raises
        out.detail["backend_rule"], out.detail["backend"] = err.code, backend
    return out


def _stated(err: ConvtraceError, lang: str) -> ApiError:
    """The 422 of an error that is not PyTorch's (the text forms, the planner): its rule and hint."""
    return rejected(err.param, repr(err.value), err.rule, suggestions=[err.hint] if err.hint else [], lang=lang)


_CACHE: OrderedDict[str, Trace | PoolTrace] = OrderedDict()
_LOCK = threading.Lock()


def explain_request(config: Mapping[str, Any], lang: str = "en") -> Trace | PoolTrace:
    """:func:`convtrace.explain` of a JSON request (its keyword arguments, plus
    ``"transposed": true``), within :data:`LIMITS`; the last few answers are cached. An
    invalid one raises :class:`ApiError`, its rule and suggestions in ``lang``."""
    unknown = sorted(set(config) - set(KEYS))
    if unknown:
        raise rejected(unknown[0], repr(config[unknown[0]]), "not an argument of convtrace.explain", lang=lang)
    kwargs = {k: v for k, v in config.items() if v is not None or k == "bias"}
    key = json.dumps(kwargs, sort_keys=True, default=str)
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    kwargs = read_text_values(kwargs, lang)
    _check_sizes(kwargs)
    from ..explainer import explain

    try:
        trace: Trace | PoolTrace = explain(**kwargs)
    except ConvtraceError as err:
        raise _invalid(err, kwargs, lang) from None
    with _LOCK:
        _CACHE[key] = trace
        while len(_CACHE) > 32:
            _CACHE.popitem(last=False)
    return trace


def draw_response(trace: Trace | PoolTrace, step: int | None, lang: str, *, model: bool = False) -> dict[str, Any]:
    """The SVG of frame ``step`` (None: the overview), the frame count, the frame in words
    (``detail``: a step as the command line writes it; ``scatter``: the names of a
    ConvTranspose1d placement) and, if asked, the drawing model itself."""
    from ..draw import build_figure, frame_count
    from ..draw.svg import figure_to_svg

    try:
        figure = build_figure(trace, step, lang)
    except ConvtraceError as err:
        raise _stated(err, lang) from None
    out: dict[str, Any] = {"svg": figure_to_svg(figure), "frames": frame_count(trace), "step": step,
                           "title": figure.title, "width": figure.width, "height": figure.height,
                           **frame_words(trace, step, lang)}
    if model:
        out["model"] = figure.to_dict()
    return out


def frame_words(trace: Trace | PoolTrace, step: int | None, lang: str = "en") -> dict[str, Any]:
    """Frame ``step`` in words, named as the command line names things (``x[c][i]``,
    ``w[o][c][k]``, ``y[o][t]`` with several channels): a Conv1d step as ``convtrace
    explain`` writes it; a ConvTranspose1d placement as the names of its input sample and of
    each tap's weight and output (None where the output is cropped).

    >>> from convtrace import explain
    >>> trace = explain([[1, 2], [3, 4]], [[[1, 1]], [[2, 2]]], transposed=True, verify=False)
    >>> frame_words(trace, 2)["scatter"]["taps"][1]
    {'w': 'w[2][1][2]', 'y': 'y[1][2]', 'weight': '2', 'product': '6'}
    """
    from ..draw.transposed_figure import placements
    from ..render.names import Names
    from ..render.numfmt import as_typed, fmt
    from ..render.text import step_text

    if isinstance(trace, PoolTrace):
        return _pool_words(trace, step, lang)
    if step is None:
        return _outputs_shown(trace, lang)
    if trace.stream is not None:  # the chunk loop: a push (or the flush) in words
        from ..render.stream_chunk_text import frame_text

        return {"detail": frame_text(trace, step, lang)}
    if not trace.spec.transposed:
        return {"detail": step_text(trace, step, lang)}
    def shown(v: Any) -> str:  # the views hold a float's exact value (0.3333...3148...): show the float
        return fmt(float(v) if isinstance(v, Fraction) and v.denominator > 10**9 else as_typed(v) if trace.exact else v)

    s, names, p = trace.spec, Names.for_spec(trace.spec), placements(trace)[step]
    group = p.in_channel // s.in_per_group
    x = names.x(p.batch, p.in_channel, p.input_index)
    taps = [{"w": names.w(p.in_channel, tap.out_channel - group * s.out_per_group, tap.kernel_index),
             "y": None if tap.cropped else names.y(p.batch, tap.out_channel, tap.out_index),
             "weight": shown(tap.w), "product": shown(tap.product)} for tap in p.taps]
    return {"scatter": {"x": x, "value": shown(p.x), "taps": taps}}


def _pool_words(trace: PoolTrace, step: int | None, lang: str) -> dict[str, Any]:
    """A pool's frame in words, as ``convtrace explain`` writes its step (for max_unpool1d,
    the step of the output the value lands on); for the overview, which outputs are explained.

    >>> from convtrace import explain
    >>> t = explain(op="max_unpool1d", input=[5, 7, 9], indices=[1, 1, 4], kernel_size=2, verify=False)
    >>> print(_pool_words(t, 1, "en")["detail"].splitlines()[0])
    Step 2: y2
    """
    from ..draw.pool_data import picture_of
    from ..render.pool_text import pool_names
    from ..render.text import step_text

    s, names = trace.spec, pool_names(trace)
    if step is None:
        return {"outputs": {"elements": s.batch * s.channels * s.out_length, "complete": trace.complete,
                            "at": trace.at is not None,
                            "shown": [names.y(x.batch, x.out_channel, x.out_index) for x in trace.steps]}}
    if s.op == "max_unpool1d":
        land = picture_of(trace).landings[step]
        key = (land.batch, land.channel, land.target)
        found = [i for i, x in enumerate(trace.steps) if (x.batch, x.out_channel, x.out_index) == key]
        if not found:  # a long unpool explains some outputs only: the landing as its figure words it
            from ..draw.labels import fmt, label

            x, y = names.x(land.batch, land.channel, land.source), names.y(*key)
            return {"detail": label(lang, "unpool_lands", x=x, v=fmt(land.value), i=land.target, y=y)}
        step = found[0]
    return {"detail": step_text(trace, step, lang)}


def _outputs_shown(trace: Trace, lang: str) -> dict[str, Any]:
    """Which outputs the trace explains (``shown``, named as the command line names them) out
    of how many, and whether one was asked for (``at``); with no frames to step through, every
    explained step in words."""
    from ..draw import frame_count
    from ..render.names import Names
    from ..render.text import step_text

    s, names = trace.spec, Names.for_spec(trace.spec)
    out: dict[str, Any] = {"outputs": {
        "elements": s.batch * s.out_channels * s.out_length, "complete": trace.complete, "at": trace.at is not None,
        "shown": [names.y(step.batch, step.out_channel, step.out_index) for step in trace.steps]}}
    if frame_count(trace) == 0 and trace.steps:
        out["detail"] = "\n\n".join(step_text(trace, i, lang) for i in range(len(trace.steps)))
    return out


def _literal(a: np.ndarray | None) -> str:
    if a is None:
        return "None"
    return json.dumps(np.asarray(a).tolist()).replace("NaN", "float('nan')").replace("Infinity", "float('inf')")


def torch_snippet(trace: Trace | PoolTrace) -> str:
    """Runnable PyTorch code that reproduces the configuration and data of ``trace``.

    >>> from convtrace import explain
    >>> print(torch_snippet(explain([1, 1, 1, 1], [1, 1, 1], padding=1, verify=False)))
    import torch
    <BLANKLINE>
    x = torch.tensor([[1.0, 1.0, 1.0, 1.0]], dtype=torch.float64)
    m = torch.nn.Conv1d(in_channels=1, out_channels=1, kernel_size=3, stride=1, padding=1, bias=False).double()
    with torch.no_grad():
        m.weight.copy_(torch.tensor([[[1.0, 1.0, 1.0]]], dtype=torch.float64))
    y = m(x)
    print(y)  # tensor([[2., 3., 3., 2.]], dtype=torch.float64)
    """
    if isinstance(trace, PoolTrace):
        return _pool_snippet(trace)
    from ..render.jsondoc import trace_to_json

    doc = trace_to_json(trace)
    complex_data = np.iscomplexobj(trace.input) or np.iscomplexobj(trace.weight)
    dtype = "torch.complex128" if complex_data else "torch.float64"
    conv = ".to(torch.complex128)" if complex_data else ".double()"
    lines = ["import torch", "", f"x = torch.tensor({_literal(trace.input)}, dtype={dtype})",
             f"m = {doc['module_call']}{conv}", "with torch.no_grad():",
             f"    m.weight.copy_(torch.tensor({_literal(trace.weight)}, dtype={dtype}))"]
    if trace.bias is not None:
        lines.append(f"    m.bias.copy_(torch.tensor({_literal(trace.bias)}, dtype={dtype}))")
    call = f"m(x, output_size={[trace.output_size]})" if trace.output_size is not None else "m(x)"
    lines.append(f"y = {call}")
    out = trace.output
    if out is not None and out.size <= 16 and not complex_data:
        out = np.asarray(out)
        shown = ", ".join(_torch_row(r) for r in (out if out.ndim == 2 else out.reshape(-1, out.shape[-1])))
        lines.append(f"print(y)  # tensor([{shown}], dtype=torch.float64)")
    else:
        lines.append("print(y)")
    return "\n".join(lines)


def _pool_snippet(trace: PoolTrace) -> str:
    """Runnable PyTorch code of a pool: its ``torch.nn`` module on the same data (and, for
    max_unpool1d, the same indices and output_size).

    >>> from convtrace import explain
    >>> print(_pool_snippet(explain(op="avg_pool1d", input=[1, 2, 3, 4, 5, 6], kernel_size=3, stride=2, padding=1,
    ...                             ceil_mode=True, verify=False)))
    import torch
    <BLANKLINE>
    x = torch.tensor([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]], dtype=torch.float64)
    m = torch.nn.AvgPool1d(kernel_size=3, stride=2, padding=1, ceil_mode=True)
    y = m(x)
    print(y)  # tensor([[1., 3., 5., 3.]], dtype=torch.float64)
    """
    data = _literal(np.asarray(trace.input, dtype=np.float64))
    lines = ["import torch", "", f"x = torch.tensor({data}, dtype=torch.float64)", f"m = {trace.module_call}"]
    if trace.spec.op == "max_unpool1d":
        indices = json.dumps(np.asarray(trace.indices).tolist())
        lines.append(f"indices = torch.tensor({indices})")
        size = f", output_size={[trace.spec.output_size]}" if trace.spec.output_size is not None else ""
        lines.append(f"y = m(x, indices{size})")
    else:
        lines.append("y = m(x)")
    out = trace.output
    if out is not None and out.size <= 16:
        out = np.asarray(out, dtype=np.float64)
        shown = ", ".join(_torch_row(r) for r in (out if out.ndim == 2 else out.reshape(-1, out.shape[-1])))
        lines.append(f"print(y)  # tensor([{shown}], dtype=torch.float64)")
    else:
        lines.append("print(y)")
    return "\n".join(lines)


def _torch_row(row: np.ndarray) -> str:
    return "[" + ", ".join(_torch_num(float(v)) for v in row) + "]"


def _torch_num(v: float) -> str:
    """A number as PyTorch prints it in a tensor (roughly: for the snippet's comment).

    >>> _torch_num(3.0), _torch_num(1 / 3), _torch_num(float("nan")), _torch_num(float("-inf"))
    ('3.', '0.3333', 'nan', '-inf')
    """
    if not math.isfinite(v):
        return str(v)
    return f"{int(v)}." if v == int(v) else f"{v:.4f}"


_TORCH: dict[str, Any] = {}


def torch_status() -> dict[str, Any]:
    """Whether this server can run PyTorch (the badge's source), and its version."""
    if not _TORCH:
        from ..interop.torch import torch_version

        version = torch_version()
        if version is None:
            _TORCH.update(available=False, version=None,
                          message="PyTorch is not installed on this server: the numbers are convtrace's own "
                                  "(pip install 'convtrace[torch]' to have PyTorch confirm them)")
        else:
            _TORCH.update(available=True, version=version, message=f"PyTorch {version}")
    return dict(_TORCH)


# ----------------------------------------------------------------- the planning panel

#: bounds of the planning requests the server answers
PLAN_LIMITS: dict[str, int] = {"layers": 200, "stack_chars": 2000, "kernel_sizes": 64, "dilations": 4, "stride": 64,
                               "length": 10**9}




def stack_request(stack: str, length: int, in_channels: int = 1, lang: str = "en",
                  width: int | None = None) -> dict[str, Any]:
    """The stack report (:func:`convtrace.plan.analyse_stack`): its text (fitted to ``width``
    display columns when given) and its JSON, in ``lang``.

    >>> stack_request("conv k=7 p=3; 4x(conv k=4 s=2 p=1)", 16000)["text"].splitlines()[0]
    'Stack on 16000 samples (1 channel) -> 1000 samples'
    """
    from ..plan import analyse_stack, parse_stack
    from ..render.plan_text import render_stack, to_json

    if len(stack) > PLAN_LIMITS["stack_chars"]:
        raise _too_large("stack characters", len(stack), PLAN_LIMITS["stack_chars"])
    if abs(length) > PLAN_LIMITS["length"]:
        raise _too_large("length", length, PLAN_LIMITS["length"])
    try:
        layers = parse_stack(stack)
        if len(layers) > PLAN_LIMITS["layers"]:
            raise _too_large("layers", len(layers), PLAN_LIMITS["layers"])
        report = analyse_stack(layers, length, in_channels)
    except ConvtraceError as err:
        raise _stated(err, lang) from None
    return {"text": render_stack(report, lang=lang, width=width), "report": to_json(report, lang)}


def _values(text: str, name: str, lang: str = "en") -> list[int]:
    """``1..16`` (inclusive), ``3,5,7`` or ``4``, as ``convtrace solve`` reads them, bounded."""
    try:
        if ".." in text:
            lo, hi = (int(v) for v in text.split("..", 1))
            if hi - lo >= PLAN_LIMITS[name]:
                raise _too_large(name, hi - lo + 1, PLAN_LIMITS[name])
            values = list(range(lo, hi + 1))
        else:
            values = [int(v) for v in text.split(",")]
    except ValueError:
        raise rejected(name, repr(text), f"{name} must be a range like 1..16 or a list like 3,5,7", lang=lang) from None
    if len(values) > PLAN_LIMITS[name]:
        raise _too_large(name, len(values), PLAN_LIMITS[name])
    return values


def solve_request(goal: str, *, stride: int = 1, kernel_sizes: str = "1..16", dilations: str = "1",
                  causal: bool = False, length: int | None = None, target: int | None = None,
                  conv: str | None = None, channels: int = 1, limit: int = 10, lang: str = "en",
                  width: int | None = None) -> dict[str, Any]:
    """The solver (:func:`convtrace.plan.solve`): every layer within the bounds reaching the
    goal, best first, as text and JSON, in ``lang``.

    >>> solve_request("down", stride=4)["text"].splitlines()[0]
    'solve down (stride=4, kernel_sizes=1..16, dilations=1): output length L/4'
    """
    from ..plan import parse_stack, solve
    from ..render.plan_text import render_solve, to_json

    if abs(stride) > PLAN_LIMITS["stride"]:
        raise _too_large("stride", stride, PLAN_LIMITS["stride"])
    for name, v in (("length", length), ("target", target)):
        if v is not None and abs(v) > PLAN_LIMITS["length"]:
            raise _too_large(name, v, PLAN_LIMITS["length"])
    try:
        layer = None
        if conv:
            if len(conv) > 200:
                raise _too_large("conv characters", len(conv), 200)
            chain = parse_stack(conv)
            if len(chain) != 1:
                raise ConvtraceError("conv", conv, "undo takes one Conv1d, e.g. 'conv k=4 s=2 p=1'")
            layer = chain[0]
        report = solve(goal, stride=stride, kernel_sizes=_values(kernel_sizes, "kernel_sizes", lang),
                       dilations=_values(dilations, "dilations", lang), causal=causal, length=length, target=target,
                       conv=layer, channels=channels, limit=limit)
    except ConvtraceError as err:
        raise _stated(err, lang) from None
    return {"text": render_solve(report, lang, width), "report": to_json(report, lang)}
