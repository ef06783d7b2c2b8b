"""The resolver: user arguments in, one complete frozen :class:`ConvSpec` out.

Everything PyTorch checks is checked here, once, in PyTorch's order and (adapted to 1-D)
PyTorch's wording, by the named rules of :mod:`convtrace.rules` and the length rules of
:mod:`convtrace.shapes`. ``functional``, ``grad``, ``nn``, the explainer, planning and the
web API all consume the spec; the engine trusts it.

>>> import numpy as np
>>> x, w, b, spec = check_conv1d(np.ones((1, 1, 4)), np.ones((1, 1, 3)), None, 1, 1, 1, 1)
>>> (spec.out_length, spec.pad_left, spec.pad_right, spec.padding_mode.value)
(4, 1, 1, 'zeros')
>>> layer = resolve_layer(transposed=False, in_channels=2, out_channels=4, kernel_size=4,
...                       padding="same", groups=2)
>>> layer.pad_pair, layer.weight_shape
((1, 2), (4, 1, 4))
"""

from __future__ import annotations

import collections.abc
import dataclasses
import functools
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import shapes
from .errors import ConvtraceError, ConvtraceTypeError
from .rules import (
    BACKEND_RULES,
    MAX_ELEMENTS,
    SUPPORTED_DTYPES,
    TORCH_TYPE_NAME,
    CallText,
    PaddingMode,
    PadMode,
    backend_dependent_error,
    backend_rule_for,
    check_adaptive_avg_output_size,
    check_adaptive_sizes,
    check_channels,
    check_dtype,
    check_element_count,
    check_groups_type,
    check_int_types,
    check_integer_power,
    check_lp_kernel_type,
    check_max_pool1d_input,
    check_mean_dtype,
    check_norm_not_zero,
    check_norm_type,
    check_output_dims,
    check_output_padding,
    check_padding_mode,
    check_pool_dims,
    check_pool_input_dtype,
    check_pool_kernel_dtype,
    check_positive,
    check_unpool_arrays,
    check_unpool_output_length,
    check_unpool_output_size_length,
    check_unpool_output_size_range,
    check_unpool_output_type,
    describe_call,
    invalid_unpool_index,
    is_int,
    max_pool1d_one_int,
    one_int,
    parse_int_param,
    parse_padding,
    pool_bool,
    pool_int_list,
)
from .shapes import (
    check_kernel_fits,
    check_transposed_length,
    conv1d_length_of,
    output_padding_for_size,
    same_padding,
)

__all__ = [
    "PaddingMode",
    "PadMode",
    "ConvSpec",
    "PoolSpec",
    "POOL_OPS",
    "pool_arguments",
    "LayerSpec",
    "SUPPORTED_DTYPES",
    "MAX_ELEMENTS",
    "check_conv1d",
    "check_conv_transpose1d",
    "check_pad",
    "resolve_layer",
    "resolve_dtype",
    "as_array",
    "check_dtype",
    "check_element_count",
    "parse_int_param",
    "parse_padding",
    "same_padding",
    "describe_call",
    "CallText",
    "output_padding_for_size",
    "as_pool_array",
    "check_max_pool1d",
    "check_avg_pool1d",
    "check_lp_pool1d",
    "check_adaptive_avg_pool1d",
    "check_adaptive_max_pool1d",
    "check_max_unpool1d",
    "check_pool1d",
    "lp_power_dtype",
    "as_ntuple",
]


@dataclass(frozen=True)
class ConvSpec:
    """A validated 1-D convolution: every number the engine and the explainer need.

    ``transposed`` selects ConvTranspose1d. Lengths are per channel. ``pad_left`` and
    ``pad_right`` are the padding actually applied (they differ only for 'same' with an odd
    total), in ``padding_mode``; for the transposed op ``pad_left == pad_right == padding``.
    ``output_size`` is ConvTranspose1d's requested output length, when one was given (its
    ``output_padding`` is then derived from it).
    """

    transposed: bool
    batched: bool
    batch: int
    in_channels: int
    out_channels: int
    length: int
    kernel_size: int
    stride: int
    padding: int | str
    pad_left: int
    pad_right: int
    dilation: int
    groups: int
    output_padding: int
    has_bias: bool
    dtype: np.dtype[Any]
    out_length: int
    padding_mode: PaddingMode = PaddingMode.ZEROS
    output_size: int | None = None

    @property
    def padding_int(self) -> int:
        """The symmetric padding of the transposed op (``pad_left`` for Conv1d)."""
        return self.pad_left

    @property
    def in_per_group(self) -> int:
        return self.in_channels // self.groups

    @property
    def out_per_group(self) -> int:
        return self.out_channels // self.groups

    @property
    def op_name(self) -> str:
        return "conv_transpose1d" if self.transposed else "conv1d"

    @property
    def input_shape(self) -> tuple[int, ...]:
        if self.batched:
            return (self.batch, self.in_channels, self.length)
        return (self.in_channels, self.length)

    @property
    def output_shape(self) -> tuple[int, ...]:
        if self.batched:
            return (self.batch, self.out_channels, self.out_length)
        return (self.out_channels, self.out_length)

    @property
    def weight_shape(self) -> tuple[int, int, int]:
        if self.transposed:
            return (self.in_channels, self.out_per_group, self.kernel_size)
        return (self.out_channels, self.in_per_group, self.kernel_size)

    @property
    def multiply_adds(self) -> int:
        """Multiply-adds of the whole output: every output element reads Cin/groups·K values."""
        if self.transposed:
            return self.batch * self.in_channels * self.length * self.out_per_group * self.kernel_size
        return self.batch * self.out_channels * self.out_length * self.in_per_group * self.kernel_size


# --------------------------------------------------------------------------- pools


#: the functional names of the pools, as PyTorch spells them
POOL_OPS = (
    "max_pool1d",
    "avg_pool1d",
    "lp_pool1d",
    "adaptive_avg_pool1d",
    "adaptive_max_pool1d",
    "max_unpool1d",
)


@dataclass(frozen=True)
class PoolSpec:
    """A validated 1-D pooling call: every number the engine, the explainer, the figures and
    streaming need. One window model serves all of them (:meth:`window`).

    ``op`` is one of :data:`POOL_OPS`. Sliding pools (max, avg, lp) use ``kernel_size``,
    ``stride``, ``padding``, ``dilation`` (1 unless max) and ``ceil_mode``; avg also
    ``count_include_pad``; lp ``norm_type`` (its padding is always 0). Adaptive pools use
    ``output_size`` (``kernel_size == stride == 0``). ``max_unpool1d`` uses ``kernel_size``,
    ``stride`` and ``padding`` and its ``out_length`` (from ``output_size`` when given; its
    ``length`` is that of the pooled input it scatters). Every pool keeps the channels.

    >>> spec = PoolSpec("avg_pool1d", True, 1, 1, 6, 3, 2, 1, 1, True, True, None, None, False, np.dtype("float32"), 4)
    >>> spec.window(3).positions, spec.divisors().tolist()
    ((5, 6, 7), [3, 3, 3, 2])
    """

    op: str
    batched: bool
    batch: int
    channels: int
    length: int
    kernel_size: int
    stride: int
    padding: int
    dilation: int
    ceil_mode: bool
    count_include_pad: bool
    norm_type: float | None
    output_size: int | None
    return_indices: bool
    dtype: np.dtype[Any]
    out_length: int

    @property
    def adaptive(self) -> bool:
        return self.op.startswith("adaptive_")

    @property
    def sliding(self) -> bool:
        """max, avg or lp: a fixed window sliding by ``stride``."""
        return self.op in ("max_pool1d", "avg_pool1d", "lp_pool1d")

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (self.batch, self.channels, self.length) if self.batched else (self.channels, self.length)

    @property
    def output_dtype(self) -> np.dtype[Any]:
        """The output's dtype: the input's, but float32 for ``lp_pool1d`` of integers (as
        PyTorch's final ``pow(1/p)``). Indices are int64.

        >>> check_pool1d("lp_pool1d", np.ones((1, 4), np.int64), norm_type=2, kernel_size=2)[1].output_dtype
        dtype('float32')
        """
        if self.op == "lp_pool1d" and self.dtype.kind in "iub":
            return np.dtype(np.float32)
        if self.op == "lp_pool1d" and self.dtype.kind == "c":  # norm_type ±inf: max of |x|
            return np.zeros((), self.dtype).real.dtype
        return self.dtype

    @property
    def output_shape(self) -> tuple[int, ...]:
        return (self.batch, self.channels, self.out_length) if self.batched else (self.channels, self.out_length)

    def window(self, index: int) -> shapes.PoolWindow:
        """The input positions output ``index`` reads (not for ``max_unpool1d``, which scatters)."""
        if self.adaptive:
            return shapes.adaptive_window(index, self.length, self.out_length)
        if self.op == "max_unpool1d":
            raise ValueError("max_unpool1d scatters: it has no windows")
        return shapes.pool_window(index, self.length, self.kernel_size, self.stride, self.padding, self.dilation)

    def divisors(self) -> np.ndarray:
        """avg_pool1d's divisor per output (lp_pool1d's before its ``× kernel_size``)."""
        count_include_pad = self.count_include_pad or self.op == "lp_pool1d"
        return shapes.avg_pool_divisors(
            self.length, self.kernel_size, self.stride, self.padding, self.out_length, count_include_pad
        )


# --------------------------------------------------------------------------- layers


@dataclass(frozen=True)
class LayerSpec:
    """A validated Conv1d / ConvTranspose1d *layer* (its constructor arguments): what
    :class:`convtrace.nn.Conv1d` stores and what the explainer resolves before it has data."""

    transposed: bool
    in_channels: int
    out_channels: int
    kernel_size: int
    stride: int
    padding: int | str
    dilation: int
    groups: int
    output_padding: int
    padding_mode: PaddingMode
    has_bias: bool
    dtype: np.dtype[Any]

    @property
    def pad_pair(self) -> tuple[int, int]:
        """(left, right) padding the layer applies (the 'same' split; 0 for 'valid')."""
        if self.padding == "same":
            return same_padding(self.kernel_size, self.dilation)
        if self.padding == "valid":
            return (0, 0)
        assert isinstance(self.padding, int)
        return (self.padding, self.padding)

    @property
    def weight_shape(self) -> tuple[int, int, int]:
        if self.transposed:
            return (self.in_channels, self.out_channels // self.groups, self.kernel_size)
        return (self.out_channels, self.in_channels // self.groups, self.kernel_size)


def resolve_dtype(dtype: Any, call: object = None, *, default: Any = np.float32) -> np.dtype[Any]:
    """A module's or explanation's dtype (``None``: ``default``), one of the supported ones."""
    try:
        dt: np.dtype[Any] = np.dtype(default if dtype is None else dtype)
    except TypeError:
        raise ConvtraceTypeError("dtype", dtype, f"dtype {dtype!r} is not a NumPy dtype", call=call) from None
    check_dtype("dtype", dtype, dt, call)
    return dt


def _module_channels(call: object, groups: Any, **channels: Any) -> int:
    """Types and divisibility of ``in_channels``/``out_channels`` and ``groups`` (nn's rules)."""
    for name, value in (*channels.items(), ("groups", groups)):
        if not is_int(value):
            raise ConvtraceTypeError(name, value, f"{name} must be an int", call=call)
    if groups <= 0:
        raise ConvtraceError("groups", groups, "groups must be a positive integer", call=call)
    for name, value in channels.items():
        check_channels(name, int(value), int(groups), call)
    for name, value in channels.items():
        if value < 0:
            raise ConvtraceError(name, value, "channel counts must be >= 0", call=call)
    return int(groups)


def resolve_layer(
    *,
    transposed: bool,
    in_channels: Any,
    out_channels: Any,
    kernel_size: Any,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: Any = 1,
    bias: bool = True,
    padding_mode: Any = "zeros",
    output_padding: Any = 0,
    dtype: Any = None,
    call: object = None,
) -> LayerSpec:
    """Validate a layer's constructor arguments as ``torch.nn.Conv1d`` / ``ConvTranspose1d``
    do (which check less than the functional call: the rest waits for the data)."""
    g = _module_channels(call, groups, in_channels=in_channels, out_channels=out_channels)
    k = parse_int_param("kernel_size", kernel_size, call)
    s = parse_int_param("stride", stride, call)
    d = parse_int_param("dilation", dilation, call)
    op = parse_int_param("output_padding", output_padding, call)
    if k < 0:
        raise ConvtraceError("kernel_size", kernel_size, "kernel_size must be >= 0", call=call)
    pad = parse_padding(padding, call, allow_string=not transposed)
    if pad == "same" and s != 1:
        raise ConvtraceError(
            "padding", pad, "padding='same' is not supported for strided convolutions", call=call,
            hint="use stride=1, or an explicit int padding",
        )
    mode = check_padding_mode(padding_mode, transposed=transposed, call=call)
    return LayerSpec(
        transposed=transposed, in_channels=int(in_channels), out_channels=int(out_channels),
        kernel_size=k, stride=s, padding=pad, dilation=d, groups=g, output_padding=op,
        padding_mode=mode, has_bias=bool(bias), dtype=resolve_dtype(dtype, call),
    )


# --------------------------------------------------------------------------- arrays


def as_array(name: str, value: Any, call: object = None) -> np.ndarray:
    """Convert an array argument, rejecting dtypes outside :data:`SUPPORTED_DTYPES`."""
    arr = _read_array(name, value, call)
    check_dtype(name, value, arr.dtype, call)
    return arr


def _read_array(name: str, value: Any, call: object = None) -> np.ndarray:
    """An array argument as an array (a list of Python ints reads as float64)."""
    if isinstance(value, np.ndarray):
        arr = value
    else:
        if value is None or isinstance(value, (str, bytes, dict, set)):
            raise ConvtraceTypeError(name, value, f"{name} must be an array, not {type(value).__name__}", call=call)
        try:
            arr = np.asarray(value)
        except (ValueError, TypeError) as exc:
            raise ConvtraceTypeError(name, value, f"{name} could not be read as an array ({exc})", call=call) from None
        if arr.dtype.kind in "iub":
            # Python ints in a list: treat as float64, as a learner means them.
            arr = arr.astype(np.float64)
    return arr


def _shape(a: Any) -> str:
    return "[" + ", ".join(str(int(s)) for s in np.shape(a)) + "]"


def _check_dims(op: str, x: np.ndarray, w: np.ndarray, call: object) -> None:
    if x.ndim not in (2, 3):
        raise ConvtraceError(
            "input", x,
            f"Expected 2D (unbatched) or 3D (batched) input to {op}, but got input of size: {_shape(x)}",
            call=call,
        )
    if w.ndim < 3:
        raise ConvtraceError(
            "weight", w, f"weight should have at least three dimensions, but got weight of size {_shape(w)}",
            call=call,
        )
    if w.ndim > 3:
        raise ConvtraceError(
            "weight", w,
            f"Expected {w.ndim}-dimensional input for {w.ndim}-dimensional weight {_shape(w)}, "
            f"but got 3-dimensional input of size {_shape(x if x.ndim == 3 else x[None])} instead",
            call=call,
        )


def _check_weight_groups(w: np.ndarray, groups: int, call: object) -> None:
    for rule, broken in (("at least", w.shape[0] < groups), ("divisible by", w.shape[0] % groups != 0)):
        if broken:
            raise ConvtraceError(
                "groups", groups,
                f"Given groups={groups}, expected weight to be {rule} {groups} at dimension 0, "
                f"but got weight of size {_shape(w)} instead",
                call=call,
            )


def _check_dtypes(
    transposed: bool, x: np.ndarray, w: np.ndarray, b: np.ndarray | None, call: object, *, string_padding: bool = False
) -> None:
    """Input and weight share a dtype; so does a bias, for every op, padding, shape and dtype.
    Where PyTorch casts a bias of another dtype on some backends only (conv_transpose1d, conv1d
    with a string padding), convtrace raises: a backend-dependent rule of ``rules``."""
    if x.dtype != w.dtype:
        tx, tw = TORCH_TYPE_NAME[x.dtype.name], TORCH_TYPE_NAME[w.dtype.name]
        raise ConvtraceError(
            "weight", w,
            f"expected scalar type {tx} but found {tw} (input is {x.dtype}, weight is {w.dtype}; "
            "they must be the same)",
            call=call,
            hint=f"convert one of them: input.astype(np.{w.dtype}) or weight.astype(np.{x.dtype})",
        )
    if b is None or b.dtype == x.dtype:
        return
    if transposed and b.dtype.kind == "c" and x.dtype.kind != "c":
        raise ConvtraceError(
            "bias", b,
            f"result type {TORCH_TYPE_NAME[b.dtype.name]} can't be cast to the desired output type "
            f"{TORCH_TYPE_NAME[x.dtype.name]}",
            call=call,
        )
    message = f"Input type ({x.dtype}) and bias type ({b.dtype}) should be the same"
    rule = backend_rule_for(
        transposed=transposed, input_dtype=x.dtype, bias_dtype=b.dtype, string_padding=string_padding
    )
    if rule is None:
        raise ConvtraceError("bias", b, message, call=call, hint=f"use bias.astype(np.{x.dtype})")
    raise backend_dependent_error(rule, "bias", b, message, call=call, hint=f"use bias.astype(np.{x.dtype})")


def _check_bias_shape(transposed: bool, w: np.ndarray, b: np.ndarray | None, out_channels: int, call: object) -> None:
    if b is not None and (b.ndim != 1 or b.shape[0] != out_channels):
        given = "Given transposed=1, weight" if transposed else "Given weight"
        raise ConvtraceError(
            "bias", b,
            f"{given} of size {_shape(w)}, expected bias to be 1-dimensional with {out_channels} "
            f"elements, but got bias of size {_shape(b)} instead",
            call=call,
        )


def _check_transposed_weight(w: np.ndarray, call: object) -> None:
    if w.shape[1] == 0:
        raise ConvtraceError("weight", w, f"non-empty 3D weight tensor expected, but got: {_shape(w)}", call=call)
    if w.shape[2] == 0:
        raise ConvtraceError("weight", w, "kernel size should be greater than zero, but got kernel_size: 0", call=call)


def _check_nonempty(x3: np.ndarray, call: object) -> None:
    n, c, length = x3.shape
    if length == 0 and n * c != 0:
        raise ConvtraceError(
            "input", x3,
            f"Only zero batch or zero channel inputs are supported, but got input shape: {_shape(x3)}",
            call=call, hint="the input length must be at least 1",
        )


# --------------------------------------------------------------------------- the spec cache


def _cache_key(kind: str, op: str, input: Any, weight: Any, bias: Any, *params: Any) -> tuple[Any, ...] | None:
    """A key for :func:`_cached_spec`, or None when the call is not plain enough to cache
    (only NumPy arrays and plain ints/strings/enums; never values, only shapes and dtypes)."""
    if type(input) is not np.ndarray or type(weight) is not np.ndarray:
        return None
    if bias is not None and (type(bias) is not np.ndarray or bias.dtype != input.dtype):
        return None  # a bias of another dtype is cast (ConvTranspose1d): not cached
    for p in params:
        if type(p) not in (int, str, PaddingMode) and p is not None:
            return None
    bias_key = None if bias is None else (bias.shape, bias.dtype)
    return (kind, op, input.shape, input.dtype, weight.shape, weight.dtype, bias_key, *params)


@functools.lru_cache(maxsize=512)
def _cached_spec(key: tuple[Any, ...]) -> ConvSpec:
    """The spec of a plain call, validated once per signature on zero-strided stand-ins of its
    arrays (validation reads shapes and dtypes only). Errors are not cached: a failing call is
    validated again with the user's own arrays, so the message shows them."""
    kind, op, xs, xd, ws, wd, bias_key, *params = key
    x = np.broadcast_to(np.zeros((), xd), xs)
    w = np.broadcast_to(np.zeros((), wd), ws)
    b = None if bias_key is None else np.broadcast_to(np.zeros((), bias_key[1]), bias_key[0])
    resolve = _resolve_conv1d if kind == "conv1d" else _resolve_conv_transpose1d
    return resolve(x, w, b, *params, op=op)[3]


def _lookup(kind: str, op: str, input: Any, weight: Any, bias: Any, *params: Any) -> ConvSpec | None:
    key = _cache_key(kind, op, input, weight, bias, *params)
    if key is None:
        return None
    try:
        return _cached_spec(key)
    except ConvtraceError:
        return None


# --------------------------------------------------------------------------- conv1d


def check_conv1d(
    input: Any, weight: Any, bias: Any, stride: Any, padding: Any, dilation: Any, groups: Any,
    *, op: str = "conv1d", padding_mode: Any = PaddingMode.ZEROS,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, ConvSpec]:
    """Validate a ``conv1d`` call as PyTorch does; with a ``padding_mode`` other than 'zeros',
    as ``torch.nn.Conv1d`` does (its ``F.pad`` first, then the convolution).

    Returns the input as a 3-D array (a view; unbatched input gains a batch axis of 1), the
    weight, the bias (or None) and the spec.
    """
    spec = _lookup("conv1d", op, input, weight, bias, stride, padding, dilation, groups, padding_mode)
    if spec is not None:
        return (input if input.ndim == 3 else input[None]), weight, bias, spec
    return _resolve_conv1d(input, weight, bias, stride, padding, dilation, groups, padding_mode, op=op)


def _read_arrays(call: CallText, input: Any, weight: Any, bias: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    x = as_array("input", input, call)
    w = as_array("weight", weight, call)
    return x, w, None if bias is None else as_array("bias", bias, call)


def _call(op: str, names: tuple[str, ...], values: tuple[Any, ...]) -> CallText:
    return CallText(op, list(zip(names, values)))


_CONV1D_ARGS = ("input", "weight", "bias", "stride", "padding", "dilation", "groups")


def _resolve_conv1d(
    input: Any, weight: Any, bias: Any, stride: Any, padding: Any, dilation: Any, groups: Any,
    padding_mode: Any = PaddingMode.ZEROS, *, op: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, ConvSpec]:
    call = _call(op, _CONV1D_ARGS, (input, weight, bias, stride, padding, dilation, groups))
    if padding_mode != PaddingMode.ZEROS:
        call.args.append(("padding_mode", str(padding_mode)))
    x, w, b = _read_arrays(call, input, weight, bias)
    check_int_types(call, ("padding", padding), ("stride", stride), ("dilation", dilation))
    g = check_groups_type(groups, call)
    _check_dims(op, x, w, call)
    pad = parse_padding(padding, call)
    s = parse_int_param("stride", stride, call)
    d = parse_int_param("dilation", dilation, call)
    mode = check_padding_mode(padding_mode, transposed=False, call=call)
    # PyTorch's conv1d with padding='same'/'valid' casts a bias of another dtype on some
    # backends only: a backend-dependent rule (rules.BACKEND_RULES), so convtrace raises
    _check_dtypes(False, x, w, b, call, string_padding=isinstance(pad, str))
    # with a padding_mode, torch.nn.Conv1d pads by F.pad (a negative pad crops), then convolves
    check_positive(call, *([("padding", pad)] if mode is PaddingMode.ZEROS else []))
    check_positive(call, ("stride", s), ("dilation", d), ("groups", g))
    if pad == "same" and s != 1:
        raise ConvtraceError(
            "padding", "same", "padding='same' is not supported for strided convolutions", call=call,
            hint="use stride=1, or an explicit int padding",
        )
    _check_weight_groups(w, g, call)
    x3 = x if x.ndim == 3 else x[None]
    return x3, w, b, _conv1d_spec(call, x, x3, w, b, pad, s, d, g, mode)


def _conv1d_spec(
    call: CallText, x: np.ndarray, x3: np.ndarray, w: np.ndarray, b: np.ndarray | None,
    pad: int | str, stride: int, dilation: int, groups: int, mode: PaddingMode,
) -> ConvSpec:
    """The rules that need the data's sizes, then the spec."""
    n, c, length = x3.shape
    cout, cin_per_group, k = w.shape
    if c != cin_per_group * groups:
        raise ConvtraceError(
            "input", x,
            f"Given groups={groups}, weight of size {_shape(w)}, expected input{_shape(x3)} to have "
            f"{cin_per_group * groups} channels, but got {c} channels instead",
            call=call,
        )
    _check_bias_shape(False, w, b, cout, call)
    pl, pr = same_padding(k, dilation) if pad == "same" else (0, 0) if pad == "valid" else (int(pad), int(pad))
    if mode is PaddingMode.ZEROS:
        check_kernel_fits(length, pl, pr, k, dilation, pad, value=x, call=call)
    else:
        _check_pad_values(x, pl, pr, _PAD_MODE_OF[mode], call)
        check_kernel_fits(length + pl + pr, 0, 0, k, dilation, 0, value=x, call=call)
    _check_nonempty(x3, call)
    if k == 0:
        raise ConvtraceError("weight", w, "kernel size should be greater than zero, but got kernel_size: 0", call=call)
    return ConvSpec(
        transposed=False, batched=x.ndim == 3, batch=n, in_channels=c, out_channels=cout, length=length,
        kernel_size=k, stride=stride, padding=pad, pad_left=pl, pad_right=pr, dilation=dilation,
        groups=groups, output_padding=0, has_bias=b is not None, dtype=x.dtype,
        out_length=conv1d_length_of(length, pl, pr, k, stride, dilation), padding_mode=mode,
    )


_PAD_MODE_OF = {
    PaddingMode.REFLECT: PadMode.REFLECT,
    PaddingMode.REPLICATE: PadMode.REPLICATE,
    PaddingMode.CIRCULAR: PadMode.CIRCULAR,
}


# --------------------------------------------------------------------------- conv_transpose1d

_TRANSPOSED_ARGS = ("input", "weight", "bias", "stride", "padding", "output_padding", "groups", "dilation")


def check_conv_transpose1d(
    input: Any, weight: Any, bias: Any, stride: Any, padding: Any, output_padding: Any, groups: Any,
    dilation: Any, *, op: str = "conv_transpose1d", output_size: Any = None, padding_mode: Any = PaddingMode.ZEROS,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, ConvSpec]:
    """Validate a ``conv_transpose1d`` call as PyTorch does (note: dilation comes last); with
    ``output_size`` (``nn.ConvTranspose1d(...)(x, output_size=...)``) the output_padding is
    derived from it, as PyTorch's ``_output_padding`` does; ``padding_mode`` (the module's)
    must be 'zeros'."""
    if padding_mode != PaddingMode.ZEROS:
        check_padding_mode(padding_mode, transposed=True, call=_call(op, ("padding_mode",), (padding_mode,)))
    if output_size is None:
        spec = _lookup("conv_transpose1d", op, input, weight, bias, stride, padding, output_padding, groups, dilation)
        if spec is not None:
            return (input if input.ndim == 3 else input[None]), weight, bias, spec
    return _resolve_conv_transpose1d(
        input, weight, bias, stride, padding, output_padding, groups, dilation, op=op, output_size=output_size
    )


def _resolve_conv_transpose1d(
    input: Any, weight: Any, bias: Any, stride: Any, padding: Any, output_padding: Any, groups: Any,
    dilation: Any, *, op: str, output_size: Any = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, ConvSpec]:
    call = _call(op, _TRANSPOSED_ARGS, (input, weight, bias, stride, padding, output_padding, groups, dilation))
    if output_size is not None:
        call.args.append(("output_size", output_size))
    x, w, b = _read_arrays(call, input, weight, bias)
    if isinstance(padding, str):
        parse_padding(padding, call, allow_string=False)
    check_int_types(
        call, ("stride", stride), ("padding", padding), ("output_padding", output_padding), ("dilation", dilation)
    )
    g = check_groups_type(groups, call)
    _check_dims(op, x, w, call)
    pad = int(parse_padding(padding, call, allow_string=False))
    s = parse_int_param("stride", stride, call)
    op_ = parse_int_param("output_padding", output_padding, call)
    d = parse_int_param("dilation", dilation, call)
    _check_dtypes(True, x, w, b, call)
    check_positive(call, ("padding", pad), ("output_padding", op_), ("stride", s))
    if d == 0:  # oneDNN accepts it on some CPUs: a backend-dependent rule
        raise backend_dependent_error(
            BACKEND_RULES["transposed-dilation-zero"], "dilation", d,
            "dilation should be greater than zero, but got dilation=0", call=call, hint="use dilation >= 1",
        )
    check_positive(call, ("dilation", d), ("groups", g))
    _check_weight_groups(w, g, call)
    x3 = x if x.ndim == 3 else x[None]
    return x3, w, b, _transposed_spec(call, x, x3, w, b, pad, s, op_, d, g, output_size)


def _transposed_spec(
    call: CallText, x: np.ndarray, x3: np.ndarray, w: np.ndarray, b: np.ndarray | None,
    pad: int, stride: int, output_padding: int, dilation: int, groups: int, output_size: Any,
) -> ConvSpec:
    """The rules that need the data's sizes, then the spec."""
    n, c, length = x3.shape
    cin, cout_per_group, k = w.shape
    if c != cin:
        raise ConvtraceError(
            "input", x,
            f"Given transposed=1, weight of size {_shape(w)}, expected input{_shape(x3)} to have "
            f"{cin} channels, but got {c} channels instead",
            call=call,
        )
    _check_bias_shape(True, w, b, cout_per_group * groups, call)
    _check_transposed_weight(w, call)
    size = None
    if output_size is not None:
        size, output_padding = output_padding_for_size(
            output_size, x.ndim, length, k, stride, pad, dilation, call=call, allow_int=True
        )
    check_output_padding(output_padding, stride, dilation, call)
    _check_nonempty(x3, call)
    out_length = check_transposed_length(length, k, stride, pad, output_padding, dilation, call=call)
    return ConvSpec(
        transposed=True, batched=x.ndim == 3, batch=n, in_channels=c, out_channels=cout_per_group * groups,
        length=length, kernel_size=k, stride=stride, padding=pad, pad_left=pad, pad_right=pad,
        dilation=dilation, groups=groups, output_padding=output_padding, has_bias=b is not None,
        dtype=x.dtype, out_length=out_length, output_size=size,
    )


def is_number(v: Any) -> bool:
    return isinstance(v, numbers.Number) and not isinstance(v, bool)


# --------------------------------------------------------------------------- pad


def check_pad(input: Any, pad: Any, mode: Any, value: Any) -> tuple[np.ndarray, int, int, PadMode, float]:
    """Validate a ``pad`` call (the last dimension) as PyTorch's ``F.pad`` does."""
    call = CallText("pad", [("input", input), ("pad", pad), ("mode", mode), ("value", value)])
    x = as_array("input", input, call)
    _check_pad_types(pad, mode, value, call)
    if len(pad) % 2:
        raise ConvtraceError("pad", pad, "Padding length must be divisible by 2", call=call)
    if len(pad) != 2:
        raise ConvtraceError("pad", pad, "convtrace pads the last dimension only: pad must be (left, right)", call=call)
    try:
        m = PadMode(mode)
    except ValueError:
        raise ConvtraceError(
            "mode", mode,
            f"Unrecognised padding mode {mode} (use one of " + ", ".join(repr(p.value) for p in PadMode) + ")",
            call=call,
        ) from None
    left, right = int(pad[0]), int(pad[1])
    fill = 0.0 if value is None else float(value)
    if m is not PadMode.CONSTANT and value is not None and fill != 0:
        raise ConvtraceError("value", value, f'Padding mode "{m.value}" doesn\'t take in value argument', call=call)
    _check_pad_values(x, left, right, m, call, pad)
    return x, left, right, m, fill if m is PadMode.CONSTANT else 0.0


def _check_pad_types(pad: Any, mode: Any, value: Any, call: object) -> None:
    """The type checks PyTorch's argument parser makes before any other."""
    if not isinstance(pad, (tuple, list)):
        raise ConvtraceTypeError("pad", pad, f"pad must be a tuple of ints, not {type(pad).__name__}", call=call)
    for i, p in enumerate(pad):
        if not is_int(p):
            raise ConvtraceTypeError(
                "pad", pad,
                f"pad(): argument 'pad' must be tuple of ints, but found element of type {type(p).__name__} at pos {i}",
                call=call,
            )
    if not isinstance(mode, str):
        raise ConvtraceTypeError("mode", mode, f"pad(): argument 'mode' must be str, not {type(mode).__name__}", call=call)
    if value is not None and not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise ConvtraceTypeError(
            "value", value, f"pad(): argument 'value' must be float, not {type(value).__name__}", call=call
        )


def _check_pad_values(x: np.ndarray, left: int, right: int, mode: PadMode, call: object, shown: Any = None) -> None:
    """The size rules of each padding mode (negative pads crop first, as in PyTorch);
    ``shown`` is the ``pad`` argument as the user gave it."""
    pad = (left, right) if shown is None else shown
    length = x.shape[-1] if x.ndim else 0
    if mode is PadMode.CONSTANT:
        if x.ndim < 1:
            raise ConvtraceError("input", x, "input must have at least one dimension", call=call)
        cropped = length - max(-left, 0) - max(-right, 0)
        if cropped < 0:
            raise ConvtraceError(
                "pad", pad,
                f"narrow(): length must be non-negative (input length {length} cropped by "
                f"{pad} would leave {cropped} samples)",
                call=call,
            )
        return
    if x.ndim not in (2, 3):
        raise ConvtraceError(
            "input", x,
            f"Padding size 2 is not supported for {x.ndim}D input tensor "
            f"(mode {mode.value!r} takes (C, L) or (N, C, L) input)",
            call=call,
        )
    if mode is PadMode.CIRCULAR:
        _check_circular(length, left, right, pad, call)
    else:
        _check_reflect_replicate(x, length, left, right, mode, pad, call)


def _check_circular(length: int, left: int, right: int, pad: Any, call: object) -> None:
    centre = length - max(-left, 0) - max(-right, 0)
    if length + left + right < 0 or centre < 0:
        raise ConvtraceError("pad", pad, "Negative padding value is resulting in an empty dimension", call=call)
    if max(left, 0) > centre or max(right, 0) > centre:
        raise ConvtraceError(
            "pad", pad,
            "Padding value causes wrapping around more than once "
            f"(each pad must be <= the {'cropped ' if centre < length else ''}input length {centre})",
            call=call,
        )


def _check_reflect_replicate(
    x: np.ndarray, length: int, left: int, right: int, mode: PadMode, pad: Any, call: object
) -> None:
    if any(s == 0 for s in x.shape[1:]) or (x.ndim == 2 and x.shape[0] == 0):
        raise ConvtraceError(
            "input", x,
            "Expected 2D or 3D (batch mode) tensor with possibly 0 batch size and other non-zero "
            f"dimensions for input, but got: {_shape(x)}",
            call=call,
        )
    if mode is PadMode.REFLECT and (left >= length or right >= length):
        raise ConvtraceError(
            "pad", pad,
            f"Argument #4: Padding size should be less than the corresponding input dimension, "
            f"but got: padding ({left}, {right}) at dimension {x.ndim - 1} of input {_shape(x)}",
            call=call,
            hint=f"reflect padding must be <= {length - 1} for an input of length {length}",
        )
    if length + left + right < 1:
        raise ConvtraceError(
            "pad", pad, f"input (W: {length}) is too small. Calculated output W: {length + left + right}",
            call=call,
        )


__all__ += ["is_number"]


# --------------------------------------------------------------------------- pool resolvers
#
# One resolver per pool, each in PyTorch's order and with the words of the path the call
# takes (see the pool section of :mod:`convtrace.rules`); :func:`check_pool1d` dispatches.
# Every one returns the input as (N, C, L) (a view; unbatched input gains a batch axis of 1)
# and the frozen :class:`PoolSpec`.


def as_pool_array(name: str, value: Any, call: object = None) -> np.ndarray:
    """A pool's input: any dtype PyTorch has (which pool takes which is checked later, where
    PyTorch checks it); a list of Python ints reads as float64, as for the convolutions."""
    arr = _read_array(name, value, call)
    check_pool_input_dtype(name, value, arr.dtype, call)
    return arr


def _as_indices(value: Any, call: object) -> np.ndarray:
    """``max_unpool1d``'s indices (a list of Python ints reads as int64)."""
    if isinstance(value, np.ndarray):
        return value
    if value is None or isinstance(value, (str, bytes, dict, set)):
        raise ConvtraceTypeError("indices", value, f"indices must be an array, not {type(value).__name__}", call=call)
    try:
        return np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise ConvtraceTypeError("indices", value, f"indices could not be read as an array ({exc})", call=call) from None


def _pool_spec(
    op: str, x: np.ndarray, *, kernel_size: int = 0, stride: int = 0, padding: int = 0, dilation: int = 1,
    ceil_mode: bool = False, count_include_pad: bool = True, norm_type: float | None = None,
    output_size: int | None = None, return_indices: bool = False, out_length: int, length: int | None = None,
) -> PoolSpec:
    n, c = (x.shape[0], x.shape[1]) if x.ndim == 3 else (1, x.shape[0])
    return PoolSpec(
        op=op, batched=x.ndim == 3, batch=n, channels=c, length=x.shape[-1] if length is None else length,
        kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode,
        count_include_pad=count_include_pad, norm_type=norm_type, output_size=output_size,
        return_indices=return_indices, dtype=x.dtype, out_length=out_length,
    )


def _three(x: np.ndarray) -> np.ndarray:
    return x if x.ndim == 3 else x[None]


def _with_height(x: np.ndarray) -> tuple[int, ...]:
    """The input's sizes as PyTorch's 2-D pools see them: a height of 1 before the length."""
    return (*x.shape[:-1], 1, x.shape[-1])


def check_max_pool1d(
    input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
    ceil_mode: Any = False, return_indices: Any = False,
) -> tuple[np.ndarray, PoolSpec]:
    """Validate a ``max_pool1d`` call as PyTorch does. Without ``return_indices`` PyTorch runs
    ``max_pool1d``'s own checks; with it, the 2-D path's, in other words (and its padding
    rules differ: see :mod:`convtrace.rules`).

    >>> x, spec = check_max_pool1d(np.ones((1, 2)), 2, 3, 1, ceil_mode=True)
    >>> spec.out_length, x.shape
    (1, (1, 1, 2))
    >>> check_max_pool1d(np.ones((1, 1, 6)), 0, return_indices=True)
    Traceback (most recent call last):
    ...
    convtrace.errors.ConvtraceError: max_pool1d(input=<[1, 1, 6] float64>, kernel_size=0, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=True): stride=0: stride should not be zero
    """
    indices = bool(return_indices)
    call = CallText(
        "max_pool1d",
        [("input", input), ("kernel_size", kernel_size), ("stride", stride), ("padding", padding),
         ("dilation", dilation), ("ceil_mode", ceil_mode), ("return_indices", return_indices)],
    )
    function = "max_pool1d_with_indices" if indices else "max_pool1d"
    ks = pool_int_list(function, "kernel_size", kernel_size, 2, call)
    ss = [] if stride is None else pool_int_list(function, "stride", stride, 3, call)
    ps = pool_int_list(function, "padding", padding, 4, call)
    ds = pool_int_list(function, "dilation", dilation, 5, call)
    ceil = pool_bool(function, "ceil_mode", ceil_mode, 6, call)
    x = as_pool_array("input", input, call)
    if not indices:
        check_max_pool1d_input(x.shape, x, call)
        k = max_pool1d_one_int("kernel_size", ks, call)
        s = k if not ss else max_pool1d_one_int("stride", ss, call)
        p = max_pool1d_one_int("padding", ps, call)
        d = max_pool1d_one_int("dilation", ds, call)
        out = shapes.max_pool1d_length(x.shape[-1], k, s, p, d, ceil, value=x, call=call)
        check_pool_kernel_dtype("max_pool1d_impl", x.dtype, x, call)
    else:
        ss = ss or ks
        check_pool_dims("max_pool1d", x, x.ndim, call)
        k = one_int("max_pool1d", "kernel_size", ks, call)
        s = one_int("max_pool1d", "stride", ss, call)
        p = one_int("max_pool1d", "padding", ps, call)
        d = one_int("max_pool1d", "dilation", ds, call)
        out = shapes.pool2d_length(_with_height(x), k, s, p, d, ceil, value=x, call=call)
        check_pool_kernel_dtype("max_pool2d", x.dtype, x, call)
    spec = _pool_spec(
        "max_pool1d", x, kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=ceil,
        return_indices=indices, out_length=out,
    )
    return _three(x), spec


def _avg_pool1d_checks(
    x: np.ndarray, ks: list[int], ss: list[int], ps: list[int], ceil: bool, call: object
) -> tuple[int, int, int, int]:
    """``avg_pool1d``'s checks after its argument parser: kernel, stride, padding, length."""
    ss = ss or ks
    check_pool_dims("avg_pool1d", x, x.ndim, call)
    k = one_int("avg_pool1d", "kernel_size", ks, call)
    s = one_int("avg_pool1d", "stride", ss, call)
    p = one_int("avg_pool1d", "padding", ps, call)
    out = shapes.pool2d_length(_with_height(x), k, s, p, 1, ceil, value=x, call=call)
    return k, s, p, out


def check_avg_pool1d(
    input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: Any = False,
    count_include_pad: Any = True,
) -> tuple[np.ndarray, PoolSpec]:
    """Validate an ``avg_pool1d`` call as PyTorch does (its 2-D path: ``avg_pool1d(x, 0)``
    says "stride should not be zero", the stride defaulting to the kernel size).

    >>> check_avg_pool1d(np.ones((1, 1, 6)), 3, 2, 1, True)[1].divisors().tolist()
    [3, 3, 3, 2]
    """
    call = CallText(
        "avg_pool1d",
        [("input", input), ("kernel_size", kernel_size), ("stride", stride), ("padding", padding),
         ("ceil_mode", ceil_mode), ("count_include_pad", count_include_pad)],
    )
    ks = pool_int_list("avg_pool1d", "kernel_size", kernel_size, 2, call)
    ss = [] if stride is None else pool_int_list("avg_pool1d", "stride", stride, 3, call)
    ps = pool_int_list("avg_pool1d", "padding", padding, 4, call)
    ceil = pool_bool("avg_pool1d", "ceil_mode", ceil_mode, None, call)
    cip = pool_bool("avg_pool1d", "count_include_pad", count_include_pad, None, call)
    x = as_pool_array("input", input, call)
    k, s, p, out = _avg_pool1d_checks(x, ks, ss, ps, ceil, call)
    check_pool_kernel_dtype("avg_pool2d", x.dtype, x, call)
    spec = _pool_spec(
        "avg_pool1d", x, kernel_size=k, stride=s, padding=p, ceil_mode=ceil, count_include_pad=cip, out_length=out
    )
    return _three(x), spec


def lp_power_dtype(dtype: np.dtype, norm_type: Any) -> np.dtype:
    """The dtype of PyTorch's ``input.pow(norm_type)`` (what ``lp_pool1d`` averages): a float
    (or complex) input keeps its dtype; an integer one keeps it for an int ``norm_type`` (bool becomes
    int64) and becomes float32 (PyTorch's default dtype) for a float one."""
    if dtype.kind in "fc":
        return dtype
    if not isinstance(norm_type, (int, np.integer, np.bool_)):
        return np.dtype(np.float32)
    return np.dtype(np.int64) if dtype.kind == "b" else dtype


def check_lp_pool1d(
    input: Any, norm_type: Any, kernel_size: Any, stride: Any = None, ceil_mode: Any = False
) -> tuple[np.ndarray, PoolSpec]:
    """Validate an ``lp_pool1d`` call as PyTorch does: it is ``avg_pool1d`` of
    ``input.pow(norm_type)`` (``norm_type`` ±inf: ``max_pool1d`` of ``abs(input)``), so its
    errors are theirs.

    >>> check_lp_pool1d(np.ones(5)[None], 2, 2, 2, True)[1].out_length
    3
    """
    call = CallText(
        "lp_pool1d",
        [("input", input), ("norm_type", norm_type), ("kernel_size", kernel_size), ("stride", stride),
         ("ceil_mode", ceil_mode)],
    )
    if isinstance(norm_type, (int, float)) and abs(norm_type) == float("inf"):
        # PyTorch: max_pool1d(input.abs(), ...): abs first (a complex input's is real)
        x = as_pool_array("input", input, call)
        check_pool_kernel_dtype("abs_cpu", x.dtype, x, call)
        magnitude = np.broadcast_to(np.zeros((), x.real.dtype), x.shape)
        spec = check_max_pool1d(magnitude, kernel_size, stride, 0, 1, ceil_mode)[1]
        return _three(x), dataclasses.replace(spec, op="lp_pool1d", norm_type=float(norm_type), dtype=x.dtype)
    x = as_pool_array("input", input, call)
    p_norm = check_norm_type(norm_type, call)
    check_integer_power(norm_type, x.dtype, call)
    ks = pool_int_list("avg_pool1d", "kernel_size", kernel_size, 2, call)
    ss = [] if stride is None else pool_int_list("avg_pool1d", "stride", stride, 3, call)
    ceil = pool_bool("avg_pool1d", "ceil_mode", ceil_mode, None if stride is None else 5, call)
    k, s, _, out = _avg_pool1d_checks(x, ks, ss, [0], ceil, call)
    check_pool_kernel_dtype("avg_pool2d", lp_power_dtype(x.dtype, norm_type), x, call)
    check_lp_kernel_type(kernel_size, call)
    check_norm_not_zero(p_norm, call)
    spec = _pool_spec("lp_pool1d", x, kernel_size=k, stride=s, ceil_mode=ceil, norm_type=p_norm, out_length=out)
    return _three(x), spec


def check_adaptive_avg_pool1d(input: Any, output_size: Any) -> tuple[np.ndarray, PoolSpec]:
    """Validate an ``adaptive_avg_pool1d`` call as PyTorch does. ``output_size=1`` is
    PyTorch's ``mean`` (any float or complex dtype, even an empty length: NaN).

    >>> check_adaptive_avg_pool1d(np.ones((1, 1, 5)), 3)[1].window(1).positions
    (1, 2, 3)
    """
    call = CallText("adaptive_avg_pool1d", [("input", input), ("output_size", output_size)])
    sizes = pool_int_list("adaptive_avg_pool1d", "output_size", output_size, 2, call)
    x = as_pool_array("input", input, call)
    check_pool_dims("adaptive_avg_pool1d", x, x.ndim, call)
    o = one_int("adaptive_avg_pool1d", "output_size", sizes, call)
    check_adaptive_avg_output_size(o, call)
    if o == 1:
        check_mean_dtype(x.dtype, x, call)
    else:
        seen = _with_height(x)
        check_adaptive_sizes("adaptive_avg_pool2d", seen, (len(seen) - 2, len(seen) - 1), x, call)
        if math.prod(x.shape[:-1]) * o:  # an empty output never reaches the kernel
            check_pool_kernel_dtype("adaptive_avg_pool2d", x.dtype, x, call)
    return _three(x), _pool_spec("adaptive_avg_pool1d", x, output_size=o, out_length=o)


def check_adaptive_max_pool1d(input: Any, output_size: Any, return_indices: Any = False) -> tuple[np.ndarray, PoolSpec]:
    """Validate an ``adaptive_max_pool1d`` call as PyTorch does.

    >>> check_adaptive_max_pool1d(np.ones((1, 2)), 3)[1].out_length
    3
    """
    call = CallText(
        "adaptive_max_pool1d", [("input", input), ("output_size", output_size), ("return_indices", return_indices)]
    )
    sizes = pool_int_list("adaptive_max_pool1d", "output_size", output_size, 2, call)
    x = as_pool_array("input", input, call)
    check_pool_dims("adaptive_max_pool1d", x, x.ndim, call)
    o = one_int("adaptive_max_pool1d", "output_size", sizes, call)
    check_adaptive_sizes("adaptive_max_pool1d", x.shape, tuple(range(1, x.ndim)), x, call)
    check_output_dims((*x.shape[:-1], 1, o), call)
    check_pool_kernel_dtype("adaptive_max_pool2d", x.dtype, x, call)
    spec = _pool_spec(
        "adaptive_max_pool1d", x, output_size=o, out_length=o, return_indices=bool(return_indices)
    )
    return _three(x), spec


def as_ntuple(value: Any, n: int) -> tuple[Any, ...]:
    """PyTorch's ``_single`` (n=1) / ``_pair`` (n=2): an iterable as a tuple (of any length),
    anything else repeated ``n`` times.

    >>> as_ntuple(3, 2), as_ntuple((1, 2, 3), 1)
    ((3, 3), (1, 2, 3))
    """
    if isinstance(value, collections.abc.Iterable):
        return tuple(value)
    return (value,) * n


def _unpool_number(name: str, value: Any, call: object) -> Any:
    """One of ``max_unpool1d``'s kernel_size / stride / padding: ``_single``'s one item
    (PyTorch does the arithmetic in Python on whatever it is given)."""
    items = as_ntuple(value, 1)
    if len(items) != 1:
        raise ConvtraceError(
            name, value, "tuple index out of range", call=call,
            hint=f"max_unpool1d takes one int for {name}",
        )
    item = items[0]
    if not isinstance(item, (numbers.Real, np.integer, np.floating)):
        raise ConvtraceTypeError(name, value, f"{name} must be a number, not {type(item).__name__}", call=call)
    return item


def check_max_unpool1d(
    input: Any, indices: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, output_size: Any = None
) -> tuple[np.ndarray, np.ndarray, PoolSpec]:
    """Validate a ``max_unpool1d`` call as PyTorch does: the output length in Python first
    (``(L - 1)*stride - 2*padding + kernel_size``, or ``output_size`` within ``stride`` of
    it), then ``max_unpool2d``'s rules; every index must land inside the output.

    Returns the input and the indices as (N, C, L), and the spec (``length`` is the pooled
    input's, ``out_length`` the output's).

    >>> x, i, spec = check_max_unpool1d(np.ones((1, 1, 3)), np.array([[[1, 3, 4]]]), 2, output_size=(7,))
    >>> spec.out_length, spec.output_size
    (7, 7)
    """
    call = CallText(
        "max_unpool1d",
        [("input", input), ("indices", indices), ("kernel_size", kernel_size), ("stride", stride),
         ("padding", padding), ("output_size", output_size)],
    )
    x = as_pool_array("input", input, call)
    idx = _as_indices(indices, call)
    k = _unpool_number("kernel_size", kernel_size, call)
    s = k if stride is None else _unpool_number("stride", stride, call)
    p = _unpool_number("padding", padding, call)
    if x.ndim == 0:
        raise ConvtraceError("input", x, "tuple index out of range", call=call, hint="give (C, L) or (N, C, L) input")
    default = (x.shape[-1] - 1) * s + k - 2 * p
    requested: int | None = None
    if output_size is None:
        length = default
    else:
        sizes = check_unpool_output_size_length(output_size, call)
        check_unpool_output_size_range(_shown_sizes(output_size), default, s, call)
        length = sizes[0]
        requested = length
    check_unpool_output_length(length, call)
    out = check_unpool_output_type(length, call)
    check_unpool_arrays(x.shape, idx.shape, idx.dtype, x, indices, call)
    if math.prod(x.shape[:-1]) * out:  # an empty output never reaches the kernel
        check_pool_kernel_dtype("max_unpool2d", x.dtype, x, call)
    # one pass when every index is inside (the largest as unsigned: a negative one is huge)
    if x.size and out and idx.size and int(idx.view(np.uint64).max()) >= out:
        bad = (idx < 0) | (idx >= out)
        if bad.any():
            # PyTorch on one thread reports the last bad index (on several, whichever
            # thread writes last)
            raise invalid_unpool_index(int(idx.ravel()[np.flatnonzero(bad.ravel())[-1]]), out, indices, call)
    spec = _pool_spec(
        "max_unpool1d", x, kernel_size=int(k), stride=int(s), padding=int(p),
        output_size=None if requested is None else int(requested), out_length=out,
    )
    return _three(x), _three(idx), spec


def _shown_sizes(output_size: Any) -> Any:
    """``output_size`` as PyTorch shows it in its range error (N and C dropped)."""
    return output_size[2:] if len(output_size) == 3 else output_size


_POOL_RESOLVERS: dict[str, Callable[..., tuple[Any, ...]]] = {
    "max_pool1d": check_max_pool1d,
    "avg_pool1d": check_avg_pool1d,
    "lp_pool1d": check_lp_pool1d,
    "adaptive_avg_pool1d": check_adaptive_avg_pool1d,
    "adaptive_max_pool1d": check_adaptive_max_pool1d,
    "max_unpool1d": check_max_unpool1d,
}


def pool_arguments(op: str) -> tuple[str, ...]:
    """The keyword arguments the pool ``op`` takes besides its input (PyTorch's names).

    >>> pool_arguments("avg_pool1d")
    ('kernel_size', 'stride', 'padding', 'ceil_mode', 'count_include_pad')
    """
    import inspect

    names = tuple(inspect.signature(_POOL_RESOLVERS[op]).parameters)
    return tuple(name for name in names if name not in ("input", "call"))


def check_pool1d(op: str, input: Any, **arguments: Any) -> tuple[np.ndarray, PoolSpec]:
    """Validate a call of the pool ``op`` (one of :data:`POOL_OPS`) with its functional
    arguments by keyword; returns the (N, C, L) input and the spec (``max_unpool1d`` takes
    ``indices=`` too; :func:`check_max_unpool1d` also returns them).

    >>> x, spec = check_pool1d("avg_pool1d", np.arange(1.0, 7.0), kernel_size=3, stride=2, padding=1, ceil_mode=True)
    Traceback (most recent call last):
    ...
    convtrace.errors.ConvtraceError: avg_pool1d(input=<[6] float64>, kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=True): input=<array shape=[6] dtype=float64>: Expected 2 to 3 dimensions, but got 1-dimensional tensor for argument #1 'self' (while checking arguments for avg_pool1d)
    >>> check_pool1d("avg_pool1d", np.arange(1.0, 7.0)[None], kernel_size=3, stride=2, padding=1, ceil_mode=True)[1].out_length
    4
    """
    if op not in _POOL_RESOLVERS:
        raise ConvtraceError("op", op, "op must be one of " + ", ".join(POOL_OPS), call=f"check_pool1d(op={op!r})")
    resolved = _POOL_RESOLVERS[op](input, **arguments)
    return resolved[0], resolved[-1]
