"""Build a :class:`~convtrace.trace.model.Trace`: every output element the way a teacher
writes it by hand, computed from the data, with the engine's output beside it.

The explanation is data: notes are codes with numbers, and the PyTorch check is added by
:func:`convtrace.explain` (this module never imports torch nor renders text). Building is a
pipeline of small functions: :func:`resolve` (defaults filled from the data, then the one
resolver of :mod:`convtrace.params`), :func:`select_elements`, :func:`gather` and
:func:`make_step` per explained element, then the padded row, the reach and the notes.

The three worked examples of the teaching post (input 1,1,1,1; kernel 1,1,1; no bias):

>>> explain([1, 1, 1, 1], [1, 1, 1]).output.tolist()
[[3.0, 3.0]]
>>> t = explain([1, 1, 1, 1], [1, 1, 1], padding=1)
>>> [str(s.value) for s in t]
['2', '3', '3', '2']
>>> [(term.source.value, term.kernel_index) for term in t.steps[0].terms]
[('zero', 0), ('input', 1), ('input', 2)]
>>> [str(s.value) for s in explain([1, 1, 1, 1], [1, 1, 1], stride=2, padding=1)]
['2', '3']

ConvTranspose1d, gather form (``y[j] = Σ x[i]·w[k]`` over ``j = i*stride - padding + k*dilation``):

>>> t = explain([1, 2], [1, 1, 1], stride=2, transposed=True)
>>> t.output.tolist(), [str(s.value) for s in t]
([[1.0, 1.0, 3.0, 2.0, 2.0]], ['1', '1', '3', '2', '2'])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

import numpy as np

from .. import shapes
from ..errors import ConvtraceError, ConvtraceTypeError
from ..functional import run_pool, run_spec
from ..oracle import module_call
from ..params import (
    POOL_OPS,
    ConvSpec,
    PaddingMode,
    PoolSpec,
    check_conv1d,
    check_conv_transpose1d,
    check_element_count,
    check_max_unpool1d,
    check_pool1d,
    describe_call,
    parse_int_param,
    parse_padding,
)
from ..rules import (
    check_channels,
    check_positive,
    check_stream_chunk,
    check_stream_op,
    check_transposed_only,
    is_int,
)
from .data import FILLS, Values, as_values, generate
from .elements import Gathered, gather, make_step, pool_step, reach
from .exact import is_integral_array
from .model import LengthFormula, Note, PadCell, PoolTrace, Source, Step, Trace, UnpoolPlacement

__all__ = [
    "explain",
    "explain_request",
    "build_pool",
    "resolve_pool",
    "ResolvedPool",
    "pool_length_formula",
    "Request",
    "Resolved",
    "resolve",
    "select_elements",
    "pad_cells_at",
    "DEFAULT_MAX_STEPS",
    "FULL_OUTPUT_MAX_MACS",
    "PAD_ROW_LIMIT",
]

#: outputs with more elements than this get a summary (unless ``at`` is given)
DEFAULT_MAX_STEPS = 64
#: beyond this many multiply-adds the whole output is not computed (steps are computed alone)
FULL_OUTPUT_MAX_MACS = 100_000_000
#: padded rows longer than this list only the cells that the explained steps read
PAD_ROW_LIMIT = 4096
#: pool inputs up to this length get their unread samples (dropped tail, gaps) noted
POOL_REACH_LIMIT = 1_000_000

_SHOWN_DEFAULTS = {"stride": 1, "dilation": 1, "groups": 1, "padding": 0, "output_padding": 0, "padding_mode": "zeros"}


@dataclass(frozen=True)
class Request:
    """The arguments of :func:`explain`, as the user gave them."""

    input: Any = None
    weight: Any = None
    bias: Any = None
    in_channels: Any = None
    out_channels: Any = None
    kernel_size: Any = None
    stride: Any = None  # None: 1 for the convolutions, kernel_size for the pools (PyTorch's defaults)
    padding: Any = 0
    dilation: Any = 1
    groups: Any = 1
    padding_mode: Any = "zeros"
    output_padding: Any = 0
    output_size: Any = None
    transposed: bool = False
    input_shape: Any = None
    dtype: Any = None
    at: Sequence[int] | None = None
    exact: bool | None = None
    max_steps: int = DEFAULT_MAX_STEPS
    weight_fill: str | None = None
    bias_fill: str | None = None
    seed: int | None = 0
    op: str = "conv1d"  # conv1d, conv_transpose1d or one of POOL_OPS
    ceil_mode: Any = False
    count_include_pad: Any = True
    norm_type: Any = None
    return_indices: Any = False
    indices: Any = None  # max_unpool1d's indices
    stream_chunk: Any = None  # explain one streamed push: input samples per push (or "hop")
    stream_push: Any = None  # which push (1-based; default: the second, or the only one)

    @property
    def pool(self) -> bool:
        """A pooling op (one of :data:`convtrace.params.POOL_OPS`)."""
        return self.op in POOL_OPS

    def call_text(self) -> str:
        """The call as the user wrote it (arguments at their defaults left out)."""
        if self.pool:
            return _pool_call_text(self)
        op = "explain_transposed" if self.transposed else "explain"
        shown = [(k, getattr(self, k)) for k in ("input", "weight", "bias") if getattr(self, k) is not None]
        for name in ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups",
                     "padding_mode", "output_padding", "output_size", "at", "stream_chunk", "stream_push"):
            value = getattr(self, name)
            if value is not None and not (name in _SHOWN_DEFAULTS and value == _SHOWN_DEFAULTS[name]):
                shown.append((name, value))
        return describe_call(op, shown)


@dataclass(frozen=True)
class Resolved:
    """A request resolved: the spec and the operands (numeric, and exact where given so)."""

    spec: ConvSpec
    x3: np.ndarray  # (N, C, L) view of the input
    weight: np.ndarray
    bias: np.ndarray | None
    input_values: Values
    weight_values: Values
    bias_values: Values | None
    call: str

    @property
    def complex(self) -> bool:
        return bool(self.x3.dtype.kind == "c" or self.weight.dtype.kind == "c")


# --------------------------------------------------------------------------- public API


def explain(
    input: Any = None,
    weight: Any = None,
    bias: Any = None,
    *,
    in_channels: int | None = None,
    out_channels: int | None = None,
    kernel_size: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: Any = 1,
    padding_mode: str = "zeros",
    output_padding: Any = 0,
    output_size: Any = None,
    transposed: bool = False,
    input_shape: Any = None,
    dtype: Any = None,
    at: Sequence[int] | None = None,
    exact: bool | None = None,
    max_steps: int = DEFAULT_MAX_STEPS,
    weight_fill: str | None = None,
    bias_fill: str | None = None,
    seed: int | None = 0,
) -> Trace:
    """The trace of one ``Conv1d`` (``transposed=True``: ``ConvTranspose1d``), as data and
    without the PyTorch check: see :func:`convtrace.explain` for the arguments (pools:
    :func:`explain_request` with ``Request(op=...)``).

    >>> explain(["1/3", 1, 1], [3, 3]).steps[0].value
    Fraction(4, 1)
    """
    request = Request(
        input=input, weight=weight, bias=bias, in_channels=in_channels, out_channels=out_channels,
        kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation, groups=groups,
        padding_mode=padding_mode, output_padding=output_padding, output_size=output_size,
        transposed=transposed, input_shape=input_shape, dtype=dtype, at=at, exact=exact, max_steps=max_steps,
        weight_fill=weight_fill, bias_fill=bias_fill, seed=seed,
    )
    return build(resolve(request), request)


def explain_request(request: Request) -> Trace | PoolTrace:
    """The trace of any request: a convolution (:class:`Trace`) or a pool (:class:`PoolTrace`),
    through the one pipeline (resolve, select the elements, a step per element, notes).

    >>> t = explain_request(Request(op="avg_pool1d", input=[1, 2, 3, 4, 5, 6], kernel_size=3, stride=2,
    ...                             padding=1, ceil_mode=True))
    >>> [str(s.value) for s in t], t.steps[-1].pool.divisor
    (['1', '3', '5', '3'], 2)
    """
    if request.pool:
        check_stream_op(request.op, request.stream_chunk, request.stream_push, call=request.call_text())
        return build_pool(resolve_pool(request), request)
    return build(resolve(request), request)


# --------------------------------------------------------------------------- resolving


def resolve(request: Request) -> Resolved:
    """Fill the defaults from the data (kernel size from the weight, channels from the input,
    ones where nothing is given), then validate everything through :mod:`convtrace.params`."""
    call = request.call_text()
    if request.exact not in (None, True, False):
        raise ConvtraceTypeError("exact", request.exact, "exact must be None (auto), True or False", call=call)
    _check_conv_arguments(request, call)
    check_stream_op(request.op, request.stream_chunk, request.stream_push, call=call)
    if request.stream_chunk is not None:
        check_stream_chunk(request.stream_chunk, call=call)
    op_given = request.output_padding not in (0, (0,), [0], None)
    check_transposed_only("output_padding", request.output_padding, op_given, transposed=request.transposed, call=call)
    check_transposed_only(
        "output_size", request.output_size, request.output_size is not None, transposed=request.transposed, call=call
    )
    _check_fills(request, call)
    x_values, w_values, b_values = _read_operands(request, call)
    groups = _groups(request.groups, call)
    kernel_size = _kernel_size(request, w_values, call)
    cin, cout = _channels(request, x_values, w_values, groups, call)
    x_values, w_values, b_values = _fill_defaults(request, x_values, w_values, b_values, (cin, cout, groups, kernel_size), call)
    x, w = x_values.numeric, w_values.numeric
    b = None if b_values is None else b_values.numeric
    stride = 1 if request.stride is None else request.stride
    if request.transposed:
        x3, w, b, spec = check_conv_transpose1d(
            x, w, b, stride, request.padding, request.output_padding, request.groups, request.dilation,
            output_size=request.output_size, padding_mode=request.padding_mode,
        )
    else:
        x3, w, b, spec = check_conv1d(
            x, w, b, stride, request.padding, request.dilation, request.groups,
            padding_mode=request.padding_mode,
        )
    return Resolved(spec, x3, w, b, x_values, w_values, b_values, call)


def _check_conv_arguments(request: Request, call: str) -> None:
    """A pool's argument given to a convolution is an error, never silently ignored."""
    op = "conv_transpose1d" if request.transposed else "conv1d"
    for name in ("ceil_mode", "count_include_pad", "norm_type", "return_indices", "indices"):
        value, default = getattr(request, name), _POOL_DEFAULTS[name]
        if not _is_default(value, default):
            raise ConvtraceError(
                name, value, f"{op} takes no {name} (it is a pooling argument)", call=call,
                hint=f"drop {name}, or choose a pool with op=",
            )


def _read_operands(request: Request, call: str) -> tuple[Values | None, Values | None, Values | None]:
    exact = request.exact
    x = None if request.input is None else as_values("input", request.input, exact=exact)
    w = None if request.weight is None else as_values("weight", request.weight, exact=exact)
    b = request.bias
    bias = None if (b is None or b is False or b is True) else as_values("bias", b, exact=exact)
    if x is not None and x.ndim == 0:
        raise ConvtraceError("input", request.input, "input must have at least one dimension", call=call)
    if x is not None and x.ndim == 1:
        x = x.reshape((1,) + x.shape)
    return x, w, bias


def _groups(groups: Any, call: str) -> int:
    if not is_int(groups):
        raise ConvtraceTypeError("groups", groups, f"groups must be an int, not {type(groups).__name__}", call=call)
    if groups <= 0:
        raise ConvtraceError("groups", groups, "groups must be a positive integer", call=call)
    return int(groups)


def _optional_int(name: str, value: Any, call: str) -> int | None:
    return None if value is None else parse_int_param(name, value, call)


def _kernel_size(request: Request, w: Values | None, call: str) -> int:
    k = _optional_int("kernel_size", request.kernel_size, call)
    if w is not None and w.ndim >= 1:
        taps = w.shape[-1]
        if k is not None and k != taps and w.ndim in (1, 3):
            raise ConvtraceError(
                "kernel_size", k, f"kernel_size={k} but the weight has {taps} taps (weight shape {list(w.shape)})",
                call=call,
            )
        k = taps
    k = 3 if k is None else k
    if k < 1:
        raise ConvtraceError(
            "kernel_size", k, f"kernel size should be greater than zero, but got kernel_size: {k}",
            call=call, hint="use kernel_size >= 1",
        )
    return k


def _channels(request: Request, x: Values | None, w: Values | None, groups: int, call: str) -> tuple[int, int]:
    """(in_channels, out_channels): given, or read from the data, or ``groups`` (else 1)."""
    weight3 = w if w is not None and w.ndim == 3 else None
    cin = _optional_int("in_channels", request.in_channels, call)
    if x is not None and x.ndim in (2, 3):
        if cin is not None and cin != x.shape[-2]:
            raise ConvtraceError(
                "in_channels", cin,
                f"in_channels={cin} but the input has {x.shape[-2]} channels (input shape {list(x.shape)})", call=call,
            )
        cin = x.shape[-2]
    elif cin is None and weight3 is not None:
        cin = weight3.shape[0] if request.transposed else weight3.shape[1] * groups
    elif cin is None and x is None and request.input_shape is not None:
        shape = tuple(request.input_shape)
        cin = int(shape[-2]) if len(shape) >= 2 else None
    cout = _optional_int("out_channels", request.out_channels, call)
    if weight3 is not None:
        from_weight = weight3.shape[1] * groups if request.transposed else weight3.shape[0]
        if cout is not None and cout != from_weight:
            raise ConvtraceError(
                "out_channels", cout,
                f"out_channels={cout} but the weight {list(weight3.shape)} gives {from_weight} output channels",
                call=call,
            )
        cout = from_weight
    cin = groups if cin is None else cin
    cout = groups if cout is None else cout
    for name, value in (("in_channels", cin), ("out_channels", cout)):
        check_positive(call, (name, value))
        check_channels(name, value, groups, call)
    return cin, cout


def _default_length(request: Request, kernel_size: int, call: str) -> int:
    """The default input length: 4 (the post's), or what the kernel needs to fit."""
    if request.transposed:
        return 4
    dilation = _optional_int("dilation", request.dilation, call) or 1
    padding = parse_padding(request.padding, call)
    span = shapes.dilated_kernel(kernel_size, dilation)
    if padding == "same":
        return 4
    total = 0 if isinstance(padding, str) else 2 * int(padding)
    return max(4, span - total, 1)


def _default_input_shape(request: Request, cin: int, kernel_size: int, call: str) -> tuple[int, ...]:
    if request.input_shape is None:
        return (1, cin, _default_length(request, kernel_size, call))
    try:
        shape = tuple(int(v) for v in request.input_shape)
    except (TypeError, ValueError):
        raise ConvtraceTypeError(
            "input_shape", request.input_shape, "input_shape must be (L), (C, L) or (N, C, L) integers", call=call
        ) from None
    if not 1 <= len(shape) <= 3 or any(v < 0 for v in shape):
        raise ConvtraceError(
            "input_shape", request.input_shape, "input_shape must be 1 to 3 sizes >= 0: (L), (C, L) or (N, C, L)",
            call=call,
        )
    check_element_count("input_shape", shape, call)
    return (cin,) + shape if len(shape) == 1 else shape


def _fill_defaults(
    request: Request, x: Values | None, w: Values | None, b: Values | None, sizes: tuple[int, int, int, int], call: str
) -> tuple[Values, Values, Values | None]:
    """Ones where no data was given (as the post), a 1-D kernel broadcast to every channel
    pair, a scalar bias to every channel; lists and defaults take the data's dtype."""
    cin, cout, groups, k = sizes
    ones = as_values("ones", 1)
    w_shape = (cin, cout // groups, k) if request.transposed else (cout, cin // groups, k)
    if w is None and request.weight_fill is not None:
        w = as_values("weight", generate(w_shape, request.weight_fill, _seed(request.seed, 1)))
    w = ones.broadcast(w_shape) if w is None else (w.broadcast(w_shape) if w.ndim == 1 else w)
    if b is None and request.bias_fill is not None:
        b = as_values("bias", generate((cout,), request.bias_fill, _seed(request.seed, 2)))
    if x is None:
        x = ones.broadcast(_default_input_shape(request, cin, k, call))
    if request.bias is True:
        b = ones.broadcast((cout,))
    elif b is not None and b.ndim == 0:
        b = b.broadcast((cout,))
    target = _target_dtype(request.dtype, x, w, b)
    x, w = (v if v.from_array else v.astype(_cast(target, v)) for v in (x, w))
    if b is not None and not b.from_array:
        b = b.astype(_cast(target, b))
    return x, w, b


def _check_fills(request: Request, call: str) -> None:
    """A fill makes data up: it does not apply where the data are given."""
    bias_given = not (request.bias is None or request.bias is False or request.bias is True)
    for name, fill, given in (("weight_fill", request.weight_fill, request.weight is not None),
                              ("bias_fill", request.bias_fill, bias_given)):
        if fill is None:
            continue
        if fill not in FILLS:
            raise ConvtraceError(name, fill, f"{name} must be one of " + ", ".join(FILLS), call=call)
        if given:
            raise ConvtraceError(
                name, fill, f"{name} makes up the {name[:-5]}: it does not apply when the {name[:-5]} is given",
                call=call,
            )


def _seed(seed: int | None, offset: int) -> int | None:
    """Different seeds for input, weight and bias made up from one ``seed``."""
    return None if seed is None else int(seed) + offset


def _target_dtype(dtype: Any, *values: Values | None) -> np.dtype[Any]:
    """Arrays decide the dtype; lists and defaults follow (complex lists: complex128)."""
    if dtype is not None:
        return np.dtype(str(np.dtype(dtype)))
    from_arrays = [v.numeric.dtype for v in values if v is not None and v.from_array]
    if from_arrays:
        return from_arrays[0]
    if any(v is not None and v.numeric.dtype.kind == "c" for v in values):
        return np.dtype(np.complex128)
    return np.dtype(np.float64)


def _cast(target: np.dtype[Any], v: Values) -> np.dtype[Any]:
    if target.kind != "c" and v.numeric.dtype.kind == "c":
        return np.dtype(np.complex128)
    return target


# --------------------------------------------------------------------------- which elements


def _out_channels(spec: ConvSpec | PoolSpec) -> int:
    return spec.channels if isinstance(spec, PoolSpec) else spec.out_channels


def select_elements(
    spec: ConvSpec | PoolSpec, at: tuple[int, int, int] | None, max_steps: int
) -> tuple[list[tuple[int, int, int]], list[Note]]:
    """The output elements that get a step: ``at``, or all of them, or (beyond ``max_steps``)
    positions 0, 1, T-2 and T-1 of channel 0 of batch item 0, with a ``summary`` note.

    >>> from convtrace.params import check_conv1d
    >>> spec = check_conv1d(np.ones((1, 1, 100)), np.ones((1, 1, 3)), None, 1, 0, 1, 1)[3]
    >>> select_elements(spec, None, 64)[0]
    [(0, 0, 0), (0, 0, 1), (0, 0, 96), (0, 0, 97)]
    """
    channels = _out_channels(spec)
    n_out = spec.batch * channels * spec.out_length
    if at is not None:
        return [at], []
    if n_out <= max_steps:
        return [(n, c, t) for n in range(spec.batch) for c in range(channels) for t in range(spec.out_length)], []
    last = spec.out_length
    positions = sorted({t for t in (0, 1, last - 2, last - 1) if 0 <= t < last})
    keys = [(0, 0, t) for t in positions]
    return keys, [Note("summary", {"elements": n_out, "shown": [list(k) for k in keys]})]


def check_at(at: Any, spec: ConvSpec | PoolSpec, call: str) -> tuple[int, int, int] | None:
    """``at=(n, c, t)`` (``(c, t)`` for unbatched input) within the output's shape."""
    if at is None:
        return None
    bounds = (f"n in [0, {spec.batch - 1}], " if spec.batched else "n = 0 (unbatched input), ") + (
        f"c in [0, {_out_channels(spec) - 1}], t in [0, {spec.out_length - 1}]"
    )
    try:
        values = [int(v) for v in at]
        ok = all(is_int(v) for v in at)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ConvtraceTypeError("at", at, f"at must be (n, c, t) integers: {bounds}", call=call)
    if len(values) == 2 and not spec.batched:
        values = [0] + values
    if len(values) != 3:
        raise ConvtraceError("at", at, f"at must be (n, c, t): {bounds}", call=call)
    n, c, t = values
    bad = [name for name, v, hi in (("n", n, spec.batch), ("c", c, _out_channels(spec)), ("t", t, spec.out_length))
           if not 0 <= v < hi]
    if bad:
        raise ConvtraceError(
            "at", tuple(at), f"{', '.join(bad)} out of range: the output has shape {list(spec.output_shape)}, so {bounds}",
            call=call,
        )
    return (n, c, t)


# --------------------------------------------------------------------------- building


def build(resolved: Resolved, request: Request) -> Trace:
    """The trace of a resolved request (see the module docstring for the pipeline)."""
    spec = resolved.spec
    at = check_at(request.at, spec, resolved.call)
    keys, notes = select_elements(spec, at, int(request.max_steps))
    n_out = spec.batch * spec.out_channels * spec.out_length
    macs = n_out * spec.in_per_group * spec.kernel_size
    y = None
    if macs <= FULL_OUTPUT_MAX_MACS and (at is None or macs <= 1_000_000):
        y = run_spec(resolved.x3, resolved.weight, resolved.bias, spec)
    else:
        notes.append(Note("output_not_computed", {"multiply_adds": macs}))
    gathered = [gather(resolved.x3, resolved.weight, resolved.bias, spec, key, _exact_operands(resolved)) for key in keys]
    exact = decide_exact(request.exact, resolved, gathered)
    steps = [make_step(spec, g, exact, y, (resolved.x3, resolved.weight)) for g in gathered]
    pad_cells, pad_complete = pad_row(spec, steps)
    unreached, split = reach(spec)
    dropped = split.tail if split is not None else 0
    notes += reach_notes(spec, unreached, split) + length_notes(spec)
    trace = Trace(
        spec=spec, padding_mode=spec.padding_mode, input=resolved.input_values.numeric, weight=resolved.weight,
        bias=resolved.bias, exact=exact, length=length_formula(spec), pad_cells=pad_cells,
        same_split=(spec.pad_left, spec.pad_right) if spec.padding == "same" else None,
        unreached=unreached, dropped_tail=dropped, steps=tuple(steps), complete=len(keys) == n_out, output=y,
        at=at, output_size=spec.output_size, pad_row_complete=pad_complete,
        exact_output=_exact_output(spec, steps) if exact and len(keys) == n_out and y is not None else None,
        exact_data=_exact_data(resolved) if exact else {}, call=resolved.call,
        module_call=_module_call(spec), input_source=resolved.input_values.source,
    )
    return _with_views(trace, notes)


def _exact_operands(resolved: Resolved) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    x = resolved.input_values.exact_values
    if x is not None and x.ndim == 2:
        x = x[None]
    b = None if resolved.bias_values is None else resolved.bias_values.exact_values
    return x, resolved.weight_values.exact_values, b


def _with_views(trace: Trace, notes: list[Note]) -> Trace:
    spec = trace.spec
    if spec.padding == "same" and spec.pad_left != spec.pad_right:
        notes.insert(_after_summary(notes), Note("same_split", {"left": spec.pad_left, "right": spec.pad_right}))
    if not spec.transposed:
        return replace(trace, notes=tuple(notes))
    if trace.output is None:
        notes.append(Note("views_skipped"))
        return replace(trace, notes=tuple(notes))
    from .transposed import build_views

    views, view_notes = build_views(trace)
    return replace(trace, views=views, notes=tuple(notes + view_notes))


def _after_summary(notes: list[Note]) -> int:
    return sum(1 for n in notes if n.code in ("summary", "output_not_computed"))


def decide_exact(exact: bool | None, resolved: Resolved, gathered: list[Gathered]) -> bool:
    """Fractions or floats: ``exact`` when given; else exact when every value used is (lists
    of integers, fractions and decimals; integral arrays)."""
    if exact is False:
        return False
    operands = (("xn", resolved.input_values), ("wn", resolved.weight_values), ("bn", resolved.bias_values))
    if resolved.complex or any(v is not None and v.numeric.dtype.kind == "c" for _, v in operands):
        if exact is True:
            raise ConvtraceError("exact", True, "complex data cannot be computed exactly", call=resolved.call)
        return False
    if exact is True:
        return True
    for part, values in operands:
        if values is None or values.exact_values is not None:
            continue
        if not values.from_array:
            return False
        if values.numeric.size <= 4_000_000:
            if not is_integral_array(values.numeric):
                return False
        elif not all(getattr(g, part) is None or is_integral_array(np.asarray(getattr(g, part))) for g in gathered):
            return False
    return True


def _exact_output(spec: ConvSpec, steps: list[Step]) -> np.ndarray:
    out = np.empty((spec.batch, spec.out_channels, spec.out_length), dtype=object)
    for s in steps:
        out[s.batch, s.out_channel, s.out_index] = s.value
    return out if spec.batched else out[0]


def _exact_data(resolved: Resolved) -> dict[str, np.ndarray]:
    named = (("input", resolved.input_values), ("weight", resolved.weight_values), ("bias", resolved.bias_values))
    return {name: v.exact_values for name, v in named if v is not None and v.exact_values is not None}


def pad_row(spec: ConvSpec, steps: list[Step]) -> tuple[tuple[PadCell, ...], bool]:
    """The padded row's cells (each with its source), whole up to :data:`PAD_ROW_LIMIT`
    positions, else only those the explained steps read; () for ConvTranspose1d."""
    if spec.transposed:
        return (), True
    total = spec.length + spec.pad_left + spec.pad_right
    if total <= PAD_ROW_LIMIT:
        positions = np.arange(total)
    else:
        read = {t.padded_index for s in steps for t in s.terms if t.padded_index is not None}
        positions = np.array(sorted(read), dtype=np.int64)
    return pad_cells_at(spec, positions.tolist()), total <= PAD_ROW_LIMIT


def pad_cells_at(spec: ConvSpec, positions: Sequence[int]) -> tuple[PadCell, ...]:
    """The padded row's cells at ``positions`` (a Conv1d's), each with its source.

    >>> spec = resolve(Request(input=[1, 2, 3], kernel_size=3, padding=1, padding_mode="reflect")).spec
    >>> [(c.source.value, c.input_index) for c in pad_cells_at(spec, [0, 1, 4])]
    [('reflect', 1), ('input', 0), ('reflect', 1)]
    """
    from ..engine.padding import pad_source_at

    sources = pad_source_at(np.asarray(positions, dtype=np.int64), spec.length, spec.pad_left, spec.padding_mode)
    padding_source = Source(spec.padding_mode.value) if spec.padding_mode is not PaddingMode.ZEROS else Source.ZERO
    return tuple(
        PadCell(position=p, source=Source.INPUT if 0 <= p - spec.pad_left < spec.length else padding_source,
                input_index=None if s < 0 else s)
        for p, s in zip(positions, sources.tolist())
    )


def reach_notes(
    spec: ConvSpec | PoolSpec, unreached: tuple[int, ...], split: shapes.UnreadSamples | None
) -> list[Note]:
    """``dropped_tail`` (the unread samples after the last read one, ``last_read`` -1 if
    none is read) and ``unreached`` (the gaps before it, counted by where they lie: between
    the taps of a window, between windows, after the last window) notes, with the numbers
    their words use; ConvTranspose1d: ``unreached_transposed`` (inputs all of whose
    products land on cropped positions)."""
    if split is None:
        if isinstance(spec, ConvSpec) and spec.transposed and unreached:
            return [Note("unreached_transposed", {"indices": list(unreached[:64]), "count": len(unreached)})]
        return []
    notes = []
    if split.tail:
        notes.append(Note("dropped_tail", {"count": split.tail, "indices": list(split.tail_indices),
                                           "last_read": split.last_read}))  # fmt: skip
    gaps = split.gaps or ()
    if gaps:
        notes.append(Note("unreached", {
            "indices": list(gaps[:64]), "count": len(gaps), "between_taps": split.between_taps,
            "between_windows": split.between_windows, "after_windows": split.after_windows,
            "stride": spec.stride, "dilation": spec.dilation,
            "span": shapes.dilated_kernel(spec.kernel_size, spec.dilation),
        }))  # fmt: skip
    return notes


def length_notes(spec: ConvSpec) -> list[Note]:
    """``length_change``: a stride-1 Conv1d with an int padding whose output is shorter than
    its input (kernel 4, padding 1: 8 -> 7), with the 'same' split that keeps the length."""
    if spec.transposed or spec.stride != 1 or not isinstance(spec.padding, int) or spec.padding == 0:
        return []
    if spec.out_length >= spec.length:  # kept, or grown on purpose (a "full" padding)
        return []
    left, right = shapes.same_padding(spec.kernel_size, spec.dilation)
    return [Note("length_change", {"length": spec.length, "out_length": spec.out_length, "same_split": [left, right]})]


def length_formula(spec: ConvSpec) -> LengthFormula:
    """The output-length formula, symbolic and with the spec's numbers substituted."""
    if spec.transposed:
        formula, substituted, values = shapes.conv_transpose1d_formula(
            spec.length, spec.kernel_size, spec.stride, spec.padding_int, spec.output_padding, spec.dilation
        )
    else:
        formula, substituted, values = shapes.conv1d_formula(
            spec.length, spec.pad_left, spec.pad_right, spec.kernel_size, spec.stride, spec.dilation
        )
    return LengthFormula(formula=formula, substituted=substituted, values=values, result=spec.out_length)


def _module_call(spec: ConvSpec) -> str:
    return module_call(
        spec.transposed, in_channels=spec.in_channels, out_channels=spec.out_channels,
        kernel_size=spec.kernel_size, stride=spec.stride, padding=spec.padding, dilation=spec.dilation,
        groups=spec.groups, bias=spec.has_bias, padding_mode=spec.padding_mode.value,
        output_padding=spec.output_padding if spec.output_size is None else 0,
    )


# --------------------------------------------------------------------------- pools
#
# The same pipeline for the pools: resolve (the data, then the one resolver of params), select
# the elements (select_elements, check_at), a step per element (elements.pool_step: the window
# model of shapes, reduced by max, mean, p-norm or scatter), the length formula and the notes.

#: Request fields that belong to the convolutions, with their defaults (given to a pool: an error)
_CONV_ONLY = {
    "weight": None, "bias": None, "in_channels": None, "out_channels": None, "groups": 1,
    "padding_mode": "zeros", "output_padding": 0, "transposed": False, "weight_fill": None, "bias_fill": None,
}
#: the pool arguments each op takes (besides input), as PyTorch's functional names them
POOL_ARGUMENTS: dict[str, tuple[str, ...]] = {
    "max_pool1d": ("kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"),
    "avg_pool1d": ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"),
    "lp_pool1d": ("norm_type", "kernel_size", "stride", "ceil_mode"),
    "adaptive_avg_pool1d": ("output_size",),
    "adaptive_max_pool1d": ("output_size", "return_indices"),
    "max_unpool1d": ("indices", "kernel_size", "stride", "padding", "output_size"),
}
_POOL_DEFAULTS: dict[str, Any] = {
    "kernel_size": None, "stride": None, "padding": 0, "dilation": 1, "ceil_mode": False,
    "count_include_pad": True, "norm_type": None, "return_indices": False, "output_size": None, "indices": None,
}


def _pool_call_text(request: Request) -> str:
    shown: list[tuple[str, Any]] = [("input", request.input)] if request.input is not None else []
    for name in POOL_ARGUMENTS.get(request.op, ()):
        value = getattr(request, name)
        if not _is_default(value, _POOL_DEFAULTS[name]):
            shown.append((name, value))
    if request.at is not None:
        shown.append(("at", request.at))
    return describe_call(request.op, shown)


def _is_default(value: Any, default: Any) -> bool:
    if isinstance(value, np.ndarray) or isinstance(default, np.ndarray):
        return False
    return bool(value is default or (value == default and type(value) is type(default)))


@dataclass(frozen=True)
class ResolvedPool:
    """A pool request resolved: the spec, the (N, C, L) input, its values, and max_unpool1d's
    (N, C, L) indices."""

    spec: PoolSpec
    x3: np.ndarray
    input_values: Values
    indices: np.ndarray | None
    call: str


def resolve_pool(request: Request) -> ResolvedPool:
    """The input (given, or ones of ``input_shape``), the arguments this op does not take
    refused, then the pool resolver of :mod:`convtrace.params`."""
    call = request.call_text()
    if request.exact not in (None, True, False):
        raise ConvtraceTypeError("exact", request.exact, "exact must be None (auto), True or False", call=call)
    _check_pool_arguments(request, call)
    x = None if request.input is None else as_values("input", request.input, exact=request.exact)
    if x is not None and isinstance(request.input, np.ndarray) and request.input.dtype.kind in "iu":
        x = Values(request.input, x.exact_values, True, x.source)  # PyTorch pools integers (avg truncates)
    if x is not None and x.ndim == 0:
        raise ConvtraceError("input", request.input, "input must have at least one dimension", call=call)
    if x is not None and x.ndim == 1:
        x = x.reshape((1,) + x.shape)
    if x is None:
        k = _optional_int("kernel_size", request.kernel_size, call) or 2
        shape = (1, 1, max(4, k)) if request.input_shape is None else _default_input_shape(request, 1, k, call)
        x = as_values("ones", 1).broadcast(shape)
    if not x.from_array:
        x = x.astype(np.dtype(str(np.dtype(request.dtype))) if request.dtype is not None else np.dtype(np.float64))
    indices = _unpool_indices(request.indices, call)
    spec, x3, idx3 = _pool_spec(request, x.numeric, indices, call)
    return ResolvedPool(spec, x3, x, idx3, call)


def _unpool_indices(indices: Any, call: str) -> Any:
    """max_unpool1d's indices as given (the resolver checks them), a 1-D row made (1, L) as
    the input is; typed as text (``Values``, as the command line reads them): whole numbers,
    as int64."""
    if isinstance(indices, Values):
        a = indices.numeric
        if a.size and not (np.all(np.isfinite(a)) and np.all(a == np.floor(a))):
            raise ConvtraceTypeError("indices", indices, "indices must be whole numbers (int64)", call=call)
        indices = a.astype(np.int64)
    if isinstance(indices, (list, tuple, np.ndarray)) and np.ndim(indices) == 1:
        return np.asarray(indices).reshape(1, -1)
    return indices


def _check_pool_arguments(request: Request, call: str) -> None:
    """A convolution's argument, or another pool's, given to this pool is an error (PyTorch's
    functional has no such parameter), never silently ignored."""
    takes = POOL_ARGUMENTS[request.op]
    for name, default in (*_CONV_ONLY.items(), *_POOL_DEFAULTS.items()):
        if name in takes:
            continue
        value = getattr(request, name)
        if not _is_default(value, default) and not (name == "stride" and value is None):
            raise ConvtraceError(
                name, value, f"{request.op} takes no {name} (torch.nn.functional.{request.op} has none)",
                call=call, hint=f"drop {name}",
            )


def _pool_spec(
    request: Request, x: np.ndarray, indices: Any, call: str
) -> tuple[PoolSpec, np.ndarray, np.ndarray | None]:
    """The pool resolver of :mod:`convtrace.params` on the arguments this op takes, as the
    user gave them (PyTorch's checks and words); max_unpool1d's indices come back (N, C, L)."""
    del call  # the resolver writes the call as PyTorch's functional spells it
    arguments = {name: getattr(request, name) for name in POOL_ARGUMENTS[request.op] if name != "indices"}
    if request.op == "max_unpool1d":
        return_x, idx3, spec = check_max_unpool1d(x, indices, **arguments)
        return spec, return_x, idx3
    x3, spec = check_pool1d(request.op, x, **arguments)
    return spec, x3, None


def build_pool(resolved: ResolvedPool, request: Request) -> PoolTrace:
    """The trace of a resolved pool request: steps, length formula, notes, the engine's output."""
    spec = resolved.spec
    at = check_at(request.at, spec, resolved.call)
    keys, notes = select_elements(spec, at, int(request.max_steps))
    values = resolved.input_values
    exact = _pool_exact(request.exact, values, spec)
    x_exact = values.exact_values
    if x_exact is not None and x_exact.ndim == 2:
        x_exact = x_exact[None]
    y, y_indices = _pool_forward(resolved)
    y3 = None if y is None else (y if y.ndim == 3 else y[None])
    steps = [
        pool_step(spec, key, (resolved.x3, x_exact), exact, None if y3 is None else y3[key], resolved.indices)
        for key in keys
    ]
    n_out = spec.batch * spec.channels * spec.out_length
    complete = len(keys) == n_out
    notes += pool_notes(spec, steps, resolved)
    exact_output = None
    if exact and complete:
        exact_output = np.empty((spec.batch, spec.channels, spec.out_length), dtype=object)
        for s in steps:
            exact_output[s.batch, s.out_channel, s.out_index] = s.value
        exact_output = exact_output if spec.batched else exact_output[0]
    indices = resolved.indices if spec.op == "max_unpool1d" else y_indices
    if indices is not None and not spec.batched and indices.ndim == 3:
        indices = indices[0]
    return PoolTrace(
        spec=spec, input=values.numeric, exact=exact, length=pool_length_formula(spec), steps=tuple(steps),
        complete=complete, output=y, indices=indices, placements=_placements(resolved, exact), at=at,
        notes=tuple(notes), exact_output=exact_output,
        exact_data={"input": values.exact_values} if exact and values.exact_values is not None else {},
        call=resolved.call, module_call=pool_module_call(spec), input_source=values.source,
    )


def _pool_exact(exact: bool | None, values: Values, spec: PoolSpec) -> bool:
    """Fractions when asked, or when every input value is exact; an lp_pool1d with a
    non-integral norm_type computes in floats."""
    if exact is False or values.numeric.dtype.kind == "c":
        return False
    if spec.op == "lp_pool1d" and spec.norm_type is not None and not float(spec.norm_type).is_integer():
        return False
    if exact is True:
        return True
    return values.all_exact()


def _pool_forward(resolved: ResolvedPool) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The engine's output (and max pooling's indices), in the spec's batchedness (NaN from
    lp_pool1d's signed power is PyTorch's answer, not a warning)."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        return run_pool(resolved.x3, resolved.spec, resolved.indices)


def _placements(resolved: ResolvedPool, exact: bool) -> tuple[UnpoolPlacement, ...]:
    """max_unpool1d: where each input value lands (the last value written to a position stays)."""
    if resolved.spec.op != "max_unpool1d" or resolved.indices is None:
        return ()
    spec, idx = resolved.spec, resolved.indices
    if spec.batch * spec.channels * spec.length > PAD_ROW_LIMIT:
        return ()
    source = resolved.input_values.exact_values if exact else None
    x3 = resolved.x3 if source is None else (source if source.ndim == 3 else source[None])
    out = []
    for n in range(spec.batch):
        for c in range(spec.channels):
            row = [int(v) for v in idx[n, c]]
            last = {j: i for i, j in enumerate(row)}
            for i, j in enumerate(row):
                x = x3[n, c, i]
                out.append(UnpoolPlacement(batch=n, channel=c, input_index=i, index=j,
                                           x=x if isinstance(x, Fraction) else float(x), kept=last[j] == i))
    return tuple(out)


def pool_notes(spec: PoolSpec, steps: list[Step], resolved: ResolvedPool) -> list[Note]:
    """The pool's notes, codes with numbers: ``ceil_dropped_window`` (the "must start inside"
    rule dropped a window that the docs' formula counts), ``max_padding_dilation``,
    ``lp_signed`` and ``lp_ceil_scale`` (PyTorch's rules for LPPool1d), ``adaptive_windows``,
    ``unpool_collision`` (several values land on one output position)."""
    notes: list[Note] = []
    if spec.sliding and spec.length <= POOL_REACH_LIMIT:
        dilation = spec.dilation if spec.op == "max_pool1d" else 1
        split = shapes.unread_samples_of(spec.length, spec.padding, spec.padding, spec.kernel_size, spec.stride,
                                         dilation, spec.out_length)
        if split.unread is not None:
            notes += reach_notes(spec, split.unread, split)
    if spec.sliding and spec.ceil_mode:
        dilation = spec.dilation if spec.op == "max_pool1d" else 1
        raw = shapes.pool1d_length_of(spec.length, spec.kernel_size, spec.stride, spec.padding, dilation, False)
        ceiled = (spec.length + 2 * spec.padding - dilation * (spec.kernel_size - 1) - 1 + spec.stride - 1) // spec.stride + 1
        if ceiled > spec.out_length:
            notes.append(Note("ceil_dropped_window", {
                "index": ceiled - 1, "start": (ceiled - 1) * spec.stride, "limit": spec.length + spec.padding,
                "length": spec.length, "padding": spec.padding, "stride": spec.stride,
                "docs_length": ceiled, "out_length": spec.out_length, "floor_length": raw,
            }))  # fmt: skip
    if spec.op == "max_pool1d" and spec.dilation > 1 and spec.padding > 0:
        notes.append(Note("max_padding_dilation", {
            "padding": spec.padding, "kernel_size": spec.kernel_size, "dilation": spec.dilation,
            "span": shapes.dilated_kernel(spec.kernel_size, spec.dilation),
        }))  # fmt: skip
    if spec.op == "lp_pool1d" and not math.isinf(spec.norm_type or 0.0):  # ±inf: a max of |x|, no power
        notes += _lp_notes(spec, steps, resolved)
    if spec.adaptive:
        starts, ends = shapes.adaptive_bounds(spec.length, spec.out_length)
        lengths = (ends - starts).tolist()
        overlap = bool(np.any(starts[1:] < ends[:-1])) if spec.out_length > 1 else False
        notes.append(Note("adaptive_windows", {
            "length": spec.length, "output_size": spec.out_length, "lengths": lengths[:64], "overlap": overlap,
        }))  # fmt: skip
    if spec.op == "max_unpool1d" and resolved.indices is not None:
        notes += _unpool_notes(spec, resolved.indices)
    return notes


def _lp_notes(spec: PoolSpec, steps: list[Step], resolved: ResolvedPool) -> list[Note]:
    notes = []
    negative = bool(np.any(np.asarray(resolved.x3) < 0))
    if negative:
        notes.append(Note("lp_signed", {"norm_type": spec.norm_type}))
    partial = [s for s in steps if s.pool is not None and s.pool.overhang]
    for s in partial[:1]:
        assert s.pool is not None and s.pool.divisor is not None
        notes.append(Note("lp_ceil_scale", {
            "index": s.out_index, "kernel_size": spec.kernel_size, "divisor": s.pool.divisor,
            "overhang": s.pool.overhang,
        }))  # fmt: skip
    return notes


def _unpool_notes(spec: PoolSpec, indices: np.ndarray) -> list[Note]:
    collided: list[int] = []
    for row in indices.reshape(-1, indices.shape[-1]):
        values, counts = np.unique(row, return_counts=True)
        collided += [int(v) for v in values[counts > 1]]
    if not collided:
        return []
    positions = sorted(set(collided))
    return [Note("unpool_collision", {"positions": positions[:64], "count": len(positions)})]


def pool_length_formula(spec: PoolSpec) -> LengthFormula:
    """The pool's output-length formula, symbolic and with the numbers substituted.

    >>> from convtrace.params import PoolSpec
    >>> spec = PoolSpec("max_pool1d", True, 1, 1, 2, 2, 3, 1, 1, True, True, None, None, False, np.dtype("float64"), 1)
    >>> f = pool_length_formula(spec)
    >>> f.substituted, f.result
    ('ceil((2 + 2*1 - 1*(2 - 1) - 1) / 3) + 1 - 1', 1)
    """
    L, k, s, p, d = spec.length, spec.kernel_size, spec.stride, spec.padding, spec.dilation
    if spec.adaptive:
        return LengthFormula("output_size", f"{spec.out_length}", {"L": L, "output_size": spec.out_length},
                             spec.out_length)
    if spec.op == "max_unpool1d":
        values = {"L": L, "stride": s, "padding": p, "kernel_size": k}
        if spec.output_size is not None:  # any length from the default up to stride - 1 more
            default = shapes.max_unpool1d_length_of(L, k, s, p)
            return LengthFormula(
                "output_size ∈ [D, D + stride), D = (L - 1)*stride - 2*padding + kernel_size",
                f"{spec.out_length} ∈ [{default}, {default + s}), D = ({L} - 1)*{s} - 2*{p} + {k} = {default}",
                {**values, "output_size": spec.out_length}, spec.out_length,
            )
        return LengthFormula("(L - 1)*stride - 2*padding + kernel_size", f"({L} - 1)*{s} - 2*{p} + {k}", values,
                             spec.out_length)
    values = {"L": L, "padding": p, "dilation": d, "kernel_size": k, "stride": s}
    inner = f"({L} + 2*{p} - {d}*({k} - 1) - 1) / {s}"
    if not spec.ceil_mode:
        return LengthFormula("floor((L + 2*padding - dilation*(kernel_size - 1) - 1) / stride) + 1",
                             f"floor({inner}) + 1", values, spec.out_length)
    ceiled = (L + 2 * p - d * (k - 1) - 1 + s - 1) // s + 1
    substituted = f"ceil({inner}) + 1" + (" - 1" if ceiled > spec.out_length else "")
    return LengthFormula("ceil((L + 2*padding - dilation*(kernel_size - 1) - 1) / stride) + 1", substituted, values,
                         spec.out_length)


def pool_module_call(spec: PoolSpec) -> str:
    """The ``torch.nn`` module of a pool, as PyTorch spells it.

    >>> from convtrace.params import PoolSpec
    >>> pool_module_call(PoolSpec("avg_pool1d", True, 1, 1, 6, 3, 2, 1, 1, True, True, None, None, False, np.dtype("float64"), 4))
    'torch.nn.AvgPool1d(kernel_size=3, stride=2, padding=1, ceil_mode=True)'
    """
    name = POOL_MODULES[spec.op]
    args: list[str] = []
    if spec.op == "lp_pool1d":
        args.append(f"norm_type={_norm_text(spec.norm_type)}")
    if spec.adaptive:
        args.append(f"output_size={spec.out_length}")
    else:
        args += [f"kernel_size={spec.kernel_size}", f"stride={spec.stride}"]
        if spec.op != "lp_pool1d" and spec.padding:
            args.append(f"padding={spec.padding}")
        if spec.op == "max_pool1d" and spec.dilation != 1:
            args.append(f"dilation={spec.dilation}")
        if spec.op != "max_unpool1d" and spec.ceil_mode:
            args.append("ceil_mode=True")
        if spec.op == "avg_pool1d" and not spec.count_include_pad:
            args.append("count_include_pad=False")
    if spec.return_indices:
        args.append("return_indices=True")
    return f"torch.nn.{name}({', '.join(args)})"


def _norm_text(p: Any) -> str:
    f = float(p)
    return str(int(f)) if f.is_integer() else repr(f)


#: the torch.nn module of each pool
POOL_MODULES = {
    "max_pool1d": "MaxPool1d",
    "avg_pool1d": "AvgPool1d",
    "lp_pool1d": "LPPool1d",
    "adaptive_avg_pool1d": "AdaptiveAvgPool1d",
    "adaptive_max_pool1d": "AdaptiveMaxPool1d",
    "max_unpool1d": "MaxUnpool1d",
}
