"""Validation at the public boundary: user arguments in, a frozen :class:`ConvSpec` out.

Everything PyTorch checks is checked here, once, in PyTorch's order and (adapted to 1-D)
PyTorch's wording; the engine trusts the spec it is handed.

>>> import numpy as np
>>> x, w, b, spec = check_conv1d(np.ones((1, 1, 4)), np.ones((1, 1, 3)), None, 1, 1, 1, 1)
>>> (spec.out_length, spec.pad_left, spec.pad_right)
(4, 1, 1)
"""

from __future__ import annotations

import enum
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import ConvtraceError, ConvtraceTypeError

__all__ = [
    "PaddingMode",
    "PadMode",
    "ConvSpec",
    "SUPPORTED_DTYPES",
    "check_conv1d",
    "check_conv_transpose1d",
    "parse_int_param",
    "parse_padding",
    "same_padding",
    "describe_call",
    "CallText",
]


class PaddingMode(str, enum.Enum):
    """``padding_mode`` of :class:`convtrace.nn.Conv1d` (PyTorch's names)."""

    ZEROS = "zeros"
    REFLECT = "reflect"
    REPLICATE = "replicate"
    CIRCULAR = "circular"

    def __str__(self) -> str:
        return self.value


class PadMode(str, enum.Enum):
    """``mode`` of :func:`convtrace.functional.pad` (PyTorch's names)."""

    CONSTANT = "constant"
    REFLECT = "reflect"
    REPLICATE = "replicate"
    CIRCULAR = "circular"

    def __str__(self) -> str:
        return self.value


#: dtypes that NumPy and PyTorch's CPU convolution share.
SUPPORTED_DTYPES = tuple(
    np.dtype(t) for t in (np.float16, np.float32, np.float64, np.complex64, np.complex128)
)

_TORCH_TYPE_NAME = {
    "float16": "Half",
    "float32": "Float",
    "float64": "Double",
    "complex64": "ComplexFloat",
    "complex128": "ComplexDouble",
}


@dataclass(frozen=True)
class ConvSpec:
    """A validated 1-D convolution: every number the engine and the explainer need.

    ``transposed`` selects ConvTranspose1d. Lengths are per channel. ``pad_left`` and
    ``pad_right`` are the zero padding actually applied (they differ only for 'same' with an
    odd total). For the transposed op ``pad_left == pad_right == padding``.
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
    dtype: np.dtype
    out_length: int

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


# --------------------------------------------------------------------------- helpers


def _shape(a: Any) -> str:
    return "[" + ", ".join(str(int(s)) for s in np.shape(a)) + "]"


def describe_call(op: str, args: list[tuple[str, Any]]) -> str:
    """Render the user's call as text, arrays shown by shape and dtype.

    >>> import numpy as np
    >>> describe_call("conv1d", [("input", np.ones((1, 1, 5))), ("stride", 2)])
    'conv1d(input=<[1, 1, 5] float64>, stride=2)'
    """
    parts = []
    for name, value in args:
        if isinstance(value, np.ndarray):
            parts.append(f"{name}=<{_shape(value)} {value.dtype}>")
        elif value is not None and hasattr(value, "shape") and hasattr(value, "dtype"):
            parts.append(f"{name}=<{list(value.shape)} {value.dtype}>")
        elif isinstance(value, str):
            parts.append(f"{name}={value!r}")
        elif isinstance(value, (list, tuple)) and len(value) > 8:
            parts.append(f"{name}=<{type(value).__name__} of {len(value)}>")
        else:
            parts.append(f"{name}={value!r}")
    return f"{op}({', '.join(parts)})"


class CallText:
    """The user's call, described only when an error needs it (validation stays cheap).

    >>> import numpy as np
    >>> str(CallText("pad", [("input", np.ones(3)), ("pad", (1, 1))]))
    'pad(input=<[3] float64>, pad=(1, 1))'
    """

    __slots__ = ("op", "args")

    def __init__(self, op: str, args: list[tuple[str, Any]]) -> None:
        self.op = op
        self.args = args

    def __str__(self) -> str:
        return describe_call(self.op, self.args)


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def parse_int_param(name: str, value: Any, call: object = None) -> int:
    """An int-or-1-tuple parameter (stride, padding, dilation, output_padding, kernel_size).

    >>> parse_int_param("stride", (2,))
    2
    """
    if _is_int(value):
        return int(value)
    if isinstance(value, (tuple, list)):
        if all(_is_int(v) for v in value):
            if len(value) != 1:
                raise ConvtraceError(
                    name,
                    value,
                    f"expected {name} to be a single integer value or a list of 1 values to match "
                    f"the convolution dimensions, but got {name}={list(int(v) for v in value)}",
                    call=call,
                )
            return int(value[0])
    raise ConvtraceTypeError(
        name,
        value,
        f"{name} must be an int or a tuple of 1 int, not {type(value).__name__}",
        call=call,
    )


def _check_int_types(call: object, *params: tuple[str, Any]) -> None:
    """The type half of :func:`parse_int_param` (a padding string is left to :func:`parse_padding`)."""
    for name, value in params:
        if (name == "padding" and isinstance(value, str)) or _is_int(value):
            continue
        if isinstance(value, (tuple, list)) and all(_is_int(v) for v in value):
            continue
        parse_int_param(name, value, call)  # raises the ConvtraceTypeError


def parse_padding(value: Any, call: object = None, *, allow_string: bool = True) -> int | str:
    """``padding``: an int, a 1-tuple, or (for Conv1d) 'same' / 'valid'.

    >>> parse_padding("same"), parse_padding((3,))
    ('same', 3)
    """
    if isinstance(value, str):
        if not allow_string:
            raise ConvtraceTypeError(
                "padding",
                value,
                "conv_transpose1d(): argument 'padding' must be tuple of ints, not str "
                "(string padding is not supported for transposed convolutions)",
                call=call,
            )
        if value not in ("same", "valid"):
            raise ConvtraceError(
                "padding",
                value,
                f"Invalid padding string: {value!r} (use 'same', 'valid' or an int)",
                call=call,
            )
        return value
    return parse_int_param("padding", value, call)


def same_padding(kernel_size: int, dilation: int = 1) -> tuple[int, int]:
    """The (left, right) split PyTorch uses for ``padding='same'``: odd extra on the right.

    >>> same_padding(4)
    (1, 2)
    >>> same_padding(3, dilation=2)
    (2, 2)
    """
    total = dilation * (kernel_size - 1)
    left = total // 2
    return left, total - left


def as_array(name: str, value: Any, call: object = None) -> np.ndarray:
    """Convert an array argument, rejecting dtypes outside :data:`SUPPORTED_DTYPES`."""
    if isinstance(value, np.ndarray):
        arr = value
    else:
        if value is None or isinstance(value, (str, bytes, dict, set)):
            raise ConvtraceTypeError(
                name, value, f"{name} must be an array, not {type(value).__name__}", call=call
            )
        try:
            arr = np.asarray(value)
        except (ValueError, TypeError) as exc:
            raise ConvtraceTypeError(
                name, value, f"{name} could not be read as an array ({exc})", call=call
            ) from None
        if arr.dtype.kind in "iub" and not isinstance(value, np.ndarray):
            # Python ints in a list: treat as float64, as a learner means them.
            arr = arr.astype(np.float64)
    check_dtype(name, value, arr.dtype, call)
    return arr


def check_dtype(name: str, value: Any, dtype: np.dtype, call: object = None) -> None:
    """Reject a dtype outside :data:`SUPPORTED_DTYPES`, naming the ones accepted."""
    if dtype not in SUPPORTED_DTYPES:
        raise ConvtraceTypeError(
            name,
            value,
            f"dtype {dtype} is not supported: use one of "
            + ", ".join(str(d) for d in SUPPORTED_DTYPES)
            + " (the dtypes NumPy and PyTorch's CPU convolution share)",
            call=call,
        )


def _positive_checks(
    call: object, stride: int, padding: int | str, dilation: int, groups: int, output_padding: int = 0
) -> None:
    if isinstance(padding, int) and padding < 0:
        raise ConvtraceError("padding", padding, "negative padding is not supported", call=call)
    if output_padding < 0:
        raise ConvtraceError(
            "output_padding", output_padding, "negative output_padding is not supported", call=call
        )
    if stride <= 0:
        raise ConvtraceError("stride", stride, "non-positive stride is not supported", call=call)
    if dilation <= 0:
        raise ConvtraceError(
            "dilation",
            dilation,
            f"dilation should be greater than zero, but got dilation={dilation}",
            call=call,
        )
    if groups <= 0:
        raise ConvtraceError("groups", groups, "non-positive groups is not supported", call=call)


def _check_dims(op: str, x: np.ndarray, w: np.ndarray, call: object) -> None:
    if x.ndim not in (2, 3):
        raise ConvtraceError(
            "input",
            x,
            f"Expected 2D (unbatched) or 3D (batched) input to {op}, but got input of size: "
            f"{_shape(x)}",
            call=call,
        )
    if w.ndim < 3:
        raise ConvtraceError(
            "weight",
            w,
            f"weight should have at least three dimensions, but got weight of size {_shape(w)}",
            call=call,
        )
    if w.ndim > 3:
        raise ConvtraceError(
            "weight",
            w,
            f"Expected {w.ndim}-dimensional input for {w.ndim}-dimensional weight {_shape(w)}, "
            f"but got 3-dimensional input of size {_shape(x if x.ndim == 3 else x[None])} instead",
            call=call,
        )


def _check_groups(w: np.ndarray, groups: int, call: object) -> None:
    if w.shape[0] < groups:
        raise ConvtraceError(
            "groups",
            groups,
            f"Given groups={groups}, expected weight to be at least {groups} at dimension 0, "
            f"but got weight of size {_shape(w)} instead",
            call=call,
        )
    if w.shape[0] % groups != 0:
        raise ConvtraceError(
            "groups",
            groups,
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
            f"but got weight of size {_shape(w)} instead",
            call=call,
        )


def _check_dtype_pair(x: np.ndarray, w: np.ndarray, call: object) -> None:
    if x.dtype != w.dtype:
        tx = _TORCH_TYPE_NAME[x.dtype.name]
        tw = _TORCH_TYPE_NAME[w.dtype.name]
        raise ConvtraceError(
            "weight",
            w,
            f"expected scalar type {tx} but found {tw} "
            f"(input is {x.dtype}, weight is {w.dtype}; they must be the same)",
            call=call,
        )


# --------------------------------------------------------------------------- conv1d


#: Validated specs by call signature (shapes, dtypes, parameters — never values): a repeated
#: call of the same configuration skips straight to the engine.
_SPEC_CACHE: dict[tuple[Any, ...], ConvSpec] = {}
_SPEC_CACHE_SIZE = 512


def _cache_key(kind: str, op: str, input: Any, weight: Any, bias: Any, *params: Any) -> tuple[Any, ...] | None:
    """A key for :data:`_SPEC_CACHE`, or None when the call is not plain enough to cache
    (only NumPy arrays and plain ints/strings; a bias of another dtype is cast, so not cached)."""
    if type(input) is not np.ndarray or type(weight) is not np.ndarray:
        return None
    if bias is not None and (type(bias) is not np.ndarray or bias.dtype != input.dtype):
        return None
    for p in params:
        if type(p) is not int and type(p) is not str:
            return None
    bkey = None if bias is None else bias.shape
    return (kind, op, input.shape, input.dtype, weight.shape, weight.dtype, bkey, *params)


def _remember(key: tuple[Any, ...] | None, spec: ConvSpec) -> None:
    if key is None:
        return
    if len(_SPEC_CACHE) >= _SPEC_CACHE_SIZE:
        _SPEC_CACHE.clear()
    _SPEC_CACHE[key] = spec


def check_conv1d(
    input: Any,
    weight: Any,
    bias: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    groups: Any,
    *,
    op: str = "conv1d",
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, ConvSpec]:
    """Validate a ``conv1d`` call as PyTorch does.

    Returns the input as a 3-D array (a view; unbatched input gains a batch axis of 1), the
    weight, the bias (or None) and the spec.
    """
    key = _cache_key("conv1d", op, input, weight, bias, stride, padding, dilation, groups)
    cached = _SPEC_CACHE.get(key) if key is not None else None
    if cached is not None:
        return (input if input.ndim == 3 else input[None]), weight, bias, cached
    call = CallText(
        op,
        [
            ("input", input),
            ("weight", weight),
            ("bias", bias),
            ("stride", stride),
            ("padding", padding),
            ("dilation", dilation),
            ("groups", groups),
        ],
    )
    x = as_array("input", input, call)
    w = as_array("weight", weight, call)
    b = None if bias is None else as_array("bias", bias, call)
    # PyTorch's argument parser rejects wrong types before any other check.
    _check_int_types(call, ("padding", padding), ("stride", stride), ("dilation", dilation))
    if not _is_int(groups):
        raise ConvtraceTypeError(
            "groups", groups, f"groups must be an int, not {type(groups).__name__}", call=call
        )
    _check_dims(op, x, w, call)
    pad = parse_padding(padding, call)
    s = parse_int_param("stride", stride, call)
    d = parse_int_param("dilation", dilation, call)
    g = int(groups)
    _check_dtype_pair(x, w, call)
    if b is not None and b.dtype != x.dtype:
        raise ConvtraceError(
            "bias",
            b,
            f"Input type ({x.dtype}) and bias type ({b.dtype}) should be the same",
            call=call,
        )
    _positive_checks(call, s, pad, d, g)
    if pad == "same" and s != 1:
        raise ConvtraceError(
            "padding",
            "same",
            "padding='same' is not supported for strided convolutions",
            call=call,
            hint="use stride=1, or an explicit int padding",
        )
    _check_groups(w, g, call)
    x3 = x if x.ndim == 3 else x[None]
    n, c, length = x3.shape
    cout, cin_g, k = w.shape
    if c != cin_g * g:
        raise ConvtraceError(
            "input",
            x,
            f"Given groups={g}, weight of size {_shape(w)}, expected input{_shape(x3)} to have "
            f"{cin_g * g} channels, but got {c} channels instead",
            call=call,
        )
    if b is not None and (b.ndim != 1 or b.shape[0] != cout):
        raise ConvtraceError(
            "bias",
            b,
            f"Given weight of size {_shape(w)}, expected bias to be 1-dimensional with {cout} "
            f"elements, but got bias of size {_shape(b)} instead",
            call=call,
        )
    if pad == "same":
        pl, pr = same_padding(k, d) if k > 0 else (0, 0)
    elif pad == "valid":
        pl = pr = 0
    else:
        pl = pr = int(pad)
    padded = length + pl + pr
    dilated_k = d * (k - 1) + 1
    if padded < dilated_k:
        hint = _short_input_hint(length, pl + pr, k, d, pad)
        raise ConvtraceError(
            "input" if pad in ("same", "valid") or pl == 0 else "padding",
            pad if pad not in ("same", "valid") and pl else x,
            f"Calculated padded input size per channel: ({padded}). Kernel size: ({dilated_k}). "
            "Kernel size can't be greater than actual input size",
            call=call,
            hint=hint,
        )
    if length == 0 and n * c != 0:
        raise ConvtraceError(
            "input",
            x,
            "Only zero batch or zero channel inputs are supported, but got input shape: "
            f"{_shape(x3)}",
            call=call,
            hint="the input length must be at least 1",
        )
    if k == 0:
        raise ConvtraceError(
            "weight",
            w,
            "kernel size should be greater than zero, but got kernel_size: 0",
            call=call,
        )
    out_len = (padded - dilated_k) // s + 1
    spec = ConvSpec(
        transposed=False,
        batched=x.ndim == 3,
        batch=n,
        in_channels=c,
        out_channels=cout,
        length=length,
        kernel_size=k,
        stride=s,
        padding=pad,
        pad_left=pl,
        pad_right=pr,
        dilation=d,
        groups=g,
        output_padding=0,
        has_bias=b is not None,
        dtype=x.dtype,
        out_length=out_len,
    )
    _remember(key, spec)
    return x3, w, b, spec


def _short_input_hint(length: int, total_pad: int, k: int, d: int, pad: int | str) -> str:
    dilated_k = d * (k - 1) + 1
    need_len = dilated_k - total_pad
    parts = [f"the smallest valid input length here is {need_len}"]
    if isinstance(pad, int):
        need_pad = -(-(dilated_k - length) // 2)
        parts.append(f"or padding >= {need_pad}")
    if length >= 1 and k > 1:
        max_k = (length + total_pad - 1) // d + 1
        parts.append(f"or kernel_size <= {max_k}")
    return ", ".join(parts)


# --------------------------------------------------------------------------- conv_transpose1d


def check_conv_transpose1d(
    input: Any,
    weight: Any,
    bias: Any,
    stride: Any,
    padding: Any,
    output_padding: Any,
    groups: Any,
    dilation: Any,
    *,
    op: str = "conv_transpose1d",
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, ConvSpec]:
    """Validate a ``conv_transpose1d`` call as PyTorch does (note: dilation comes last)."""
    key = _cache_key("conv_transpose1d", op, input, weight, bias, stride, padding, output_padding, groups, dilation)
    cached = _SPEC_CACHE.get(key) if key is not None else None
    if cached is not None:
        return (input if input.ndim == 3 else input[None]), weight, bias, cached
    call = CallText(
        op,
        [
            ("input", input),
            ("weight", weight),
            ("bias", bias),
            ("stride", stride),
            ("padding", padding),
            ("output_padding", output_padding),
            ("groups", groups),
            ("dilation", dilation),
        ],
    )
    x = as_array("input", input, call)
    w = as_array("weight", weight, call)
    b = None if bias is None else as_array("bias", bias, call)
    # PyTorch's argument parser rejects wrong types before any other check.
    if isinstance(padding, str):
        parse_padding(padding, call, allow_string=False)
    _check_int_types(
        call,
        ("stride", stride),
        ("padding", padding),
        ("output_padding", output_padding),
        ("dilation", dilation),
    )
    if not _is_int(groups):
        raise ConvtraceTypeError(
            "groups", groups, f"groups must be an int, not {type(groups).__name__}", call=call
        )
    _check_dims(op, x, w, call)
    pad = parse_padding(padding, call, allow_string=False)
    assert isinstance(pad, int)
    s = parse_int_param("stride", stride, call)
    op_ = parse_int_param("output_padding", output_padding, call)
    d = parse_int_param("dilation", dilation, call)
    g = int(groups)
    _check_dtype_pair(x, w, call)
    if b is not None and b.dtype != x.dtype:
        if b.dtype.kind == "c" and x.dtype.kind != "c":
            raise ConvtraceError(
                "bias",
                b,
                f"result type {_TORCH_TYPE_NAME[b.dtype.name]} can't be cast to the desired "
                f"output type {_TORCH_TYPE_NAME[x.dtype.name]}",
                call=call,
            )
        if x.dtype.kind == "c":
            raise ConvtraceError(
                "bias",
                b,
                f"Input type ({x.dtype}) and bias type ({b.dtype}) should be the same",
                call=call,
            )
        b = b.astype(x.dtype)  # PyTorch adds a real bias of another dtype, cast to the output's
    _positive_checks(call, s, pad, d, g, op_)
    _check_groups(w, g, call)
    x3 = x if x.ndim == 3 else x[None]
    n, c, length = x3.shape
    cin, cout_g, k = w.shape
    if c != cin:
        raise ConvtraceError(
            "input",
            x,
            f"Given transposed=1, weight of size {_shape(w)}, expected input{_shape(x3)} to have "
            f"{cin} channels, but got {c} channels instead",
            call=call,
        )
    cout = cout_g * g
    if b is not None and (b.ndim != 1 or b.shape[0] != cout):
        raise ConvtraceError(
            "bias",
            b,
            f"Given transposed=1, weight of size {_shape(w)}, expected bias to be 1-dimensional "
            f"with {cout} elements, but got bias of size {_shape(b)} instead",
            call=call,
        )
    if cout_g == 0:
        raise ConvtraceError(
            "weight", w, f"non-empty 3D weight tensor expected, but got: {_shape(w)}", call=call
        )
    if k == 0:
        raise ConvtraceError(
            "weight", w, "kernel size should be greater than zero, but got kernel_size: 0", call=call
        )
    if not (op_ < s or op_ < d):
        raise ConvtraceError(
            "output_padding",
            op_,
            "output padding must be smaller than either stride or dilation, but got "
            f"output_padding={op_} stride={s} dilation={d}",
            call=call,
            hint=f"use output_padding <= {max(s, d) - 1}",
        )
    if length == 0 and n * c != 0:
        raise ConvtraceError(
            "input",
            x,
            "Only zero batch or zero channel inputs are supported, but got input shape: "
            f"{_shape(x3)}",
            call=call,
            hint="the input length must be at least 1",
        )
    out_len = (length - 1) * s - 2 * pad + d * (k - 1) + op_ + 1
    if out_len < 1:
        full = (length - 1) * s + d * (k - 1) + op_ + 1
        max_pad = (full - 1) // 2
        raise ConvtraceError(
            "padding",
            pad,
            f"Given input size per channel: ({length}). Calculated output size per channel: "
            f"({out_len}). Output size is too small",
            call=call,
            hint=f"padding <= {max_pad} gives an output of at least one sample",
        )
    spec = ConvSpec(
        transposed=True,
        batched=x.ndim == 3,
        batch=n,
        in_channels=c,
        out_channels=cout,
        length=length,
        kernel_size=k,
        stride=s,
        padding=pad,
        pad_left=pad,
        pad_right=pad,
        dilation=d,
        groups=g,
        output_padding=op_,
        has_bias=b is not None,
        dtype=x.dtype,
        out_length=out_len,
    )
    _remember(key, spec)
    return x3, w, b, spec


def is_number(v: Any) -> bool:
    return isinstance(v, numbers.Number) and not isinstance(v, bool)


# --------------------------------------------------------------------------- pad


def check_pad(
    input: Any, pad: Any, mode: Any, value: Any
) -> tuple[np.ndarray, int, int, PadMode, float]:
    """Validate a ``pad`` call (the last dimension) as PyTorch's ``F.pad`` does."""
    call = CallText(
        "pad", [("input", input), ("pad", pad), ("mode", mode), ("value", value)]
    )
    x = as_array("input", input, call)
    if not isinstance(pad, (tuple, list)):
        raise ConvtraceTypeError(
            "pad", pad, f"pad must be a tuple of ints, not {type(pad).__name__}", call=call
        )
    for i, p in enumerate(pad):
        if not _is_int(p):
            raise ConvtraceTypeError(
                "pad",
                pad,
                f"pad(): argument 'pad' must be tuple of ints, but found element of type "
                f"{type(p).__name__} at pos {i}",
                call=call,
            )
    # the remaining type checks, which PyTorch's argument parser makes before any other
    if not isinstance(mode, str):
        raise ConvtraceTypeError(
            "mode", mode, f"pad(): argument 'mode' must be str, not {type(mode).__name__}", call=call
        )
    if value is not None and not (isinstance(value, (numbers.Real, np.floating, np.integer))):
        raise ConvtraceTypeError(
            "value",
            value,
            f"pad(): argument 'value' must be float, not {type(value).__name__}",
            call=call,
        )
    if len(pad) % 2:
        raise ConvtraceError("pad", pad, "Padding length must be divisible by 2", call=call)
    if len(pad) != 2:
        raise ConvtraceError(
            "pad",
            pad,
            "convtrace pads the last dimension only: pad must be (left, right)",
            call=call,
        )
    try:
        m = PadMode(mode)
    except ValueError:
        raise ConvtraceError(
            "mode",
            mode,
            f"Unrecognised padding mode {mode} (use one of "
            + ", ".join(repr(p.value) for p in PadMode)
            + ")",
            call=call,
        ) from None
    left, right = (int(pad[0]), int(pad[1])) if pad else (0, 0)
    fill = 0.0 if value is None else float(value)
    length = x.shape[-1] if x.ndim else 0
    out_len = length + left + right
    if m is PadMode.CONSTANT:
        if x.ndim < 1:
            raise ConvtraceError("input", x, "input must have at least one dimension", call=call)
        # PyTorch crops (narrows) by each negative pad before padding by the positive one.
        cropped = length - max(-left, 0) - max(-right, 0)
        if cropped < 0:
            raise ConvtraceError(
                "pad",
                pad,
                f"narrow(): length must be non-negative (input length {length} cropped by "
                f"{pad} would leave {cropped} samples)",
                call=call,
            )
        return x, left, right, m, fill
    if value is not None and fill != 0:
        raise ConvtraceError(
            "value", value, f'Padding mode "{m.value}" doesn\'t take in value argument', call=call
        )
    if not pad:
        return x, 0, 0, m, 0.0
    if x.ndim not in (2, 3):
        raise ConvtraceError(
            "input",
            x,
            f"Padding size 2 is not supported for {x.ndim}D input tensor "
            f"(mode {m.value!r} takes (C, L) or (N, C, L) input)",
            call=call,
        )
    if m is PadMode.CIRCULAR:
        centre = length - max(-left, 0) - max(-right, 0)
        if out_len < 0 or centre < 0:
            raise ConvtraceError(
                "pad", pad, "Negative padding value is resulting in an empty dimension", call=call
            )
        if max(left, 0) > centre or max(right, 0) > centre:
            raise ConvtraceError(
                "pad",
                pad,
                "Padding value causes wrapping around more than once "
                f"(each pad must be <= the {'cropped ' if centre < length else ''}"
                f"input length {centre})",
                call=call,
            )
        return x, left, right, m, 0.0
    if any(s == 0 for s in x.shape[1:]) or (x.ndim == 2 and x.shape[0] == 0):
        raise ConvtraceError(
            "input",
            x,
            "Expected 2D or 3D (batch mode) tensor with possibly 0 batch size and other non-zero "
            f"dimensions for input, but got: {_shape(x)}",
            call=call,
        )
    if m is PadMode.REFLECT and (left >= length or right >= length):
        raise ConvtraceError(
            "pad",
            pad,
            f"Argument #4: Padding size should be less than the corresponding input dimension, "
            f"but got: padding ({left}, {right}) at dimension {x.ndim - 1} of input {_shape(x)}",
            call=call,
            hint=f"reflect padding must be <= {length - 1} for an input of length {length}",
        )
    if out_len < 1:
        raise ConvtraceError(
            "pad",
            pad,
            f"input (W: {length}) is too small. Calculated output W: {out_len}",
            call=call,
        )
    return x, left, right, m, 0.0
