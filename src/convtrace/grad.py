"""Gradients of the 1-D convolutions, as ``torch.nn.grad`` names them.

``conv1d_input`` / ``conv1d_weight`` mirror ``torch.nn.grad``; the ``conv_transpose1d_*``
functions follow the same pattern for ConvTranspose1d, and ``*_bias`` sum the output
gradient. For complex dtypes they follow PyTorch autograd's convention (the gradient of a
real loss: the other operand enters conjugated); ``torch.nn.grad`` itself rejects complex.

>>> import numpy as np
>>> w = np.ones((1, 1, 3))
>>> conv1d_input((1, 1, 4), w, np.ones((1, 1, 2))).tolist()
[[[1.0, 2.0, 2.0, 1.0]]]
>>> conv1d_weight(np.arange(4.0).reshape(1, 1, 4), (1, 1, 3), np.ones((1, 1, 2))).tolist()
[[[1.0, 3.0, 5.0]]]
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from .engine import fast
from .errors import ConvtraceError, ConvtraceTypeError
from .params import (
    CallText,
    ConvSpec,
    as_array,
    check_conv1d,
    check_conv_transpose1d,
)

__all__ = [
    "conv1d_input",
    "conv1d_weight",
    "conv1d_bias",
    "conv_transpose1d_input",
    "conv_transpose1d_weight",
    "conv_transpose1d_bias",
]


def _size(name: str, value: Any, call: object) -> tuple[int, ...]:
    try:
        size = tuple(int(v) for v in value)
        ok = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value)
    except TypeError:
        ok = False
    if not ok:
        raise ConvtraceTypeError(name, value, f"{name} must be a sequence of ints", call=call)
    if len(size) != 3:
        raise ConvtraceError(
            name,
            value,
            f"Expected 3-dimensional {name} (N, C, L), but got {len(size)} dimensions",
            call=call,
        )
    if any(v < 0 for v in size):
        raise ConvtraceError(name, value, f"{name} must not have negative sizes", call=call)
    return size


def _no_string_padding(padding: Any, call: object) -> None:
    if isinstance(padding, str):
        raise ConvtraceTypeError(
            "padding", padding, "padding must be an int or a tuple of 1 int, not str", call=call
        )


def _check_grad_output(gy: np.ndarray, spec: ConvSpec, dtype: np.dtype, call: object) -> np.ndarray:
    if gy.shape != spec.output_shape:
        raise ConvtraceError(
            "grad_output",
            gy,
            f"Expected grad_output of size {list(spec.output_shape)} (the output of this "
            f"convolution), but got {list(gy.shape)}",
            call=call,
        )
    if gy.dtype != dtype:
        raise ConvtraceError(
            "grad_output",
            gy,
            f"expected grad_output of dtype {dtype}, but got {gy.dtype}",
            call=call,
        )
    return gy


def _fast_spec(which: str, op: str, size: Any, array: Any, grad_output: Any, conv_args: tuple[Any, ...]) -> ConvSpec | None:
    """The spec of a plain call (NumPy arrays, int sizes and parameters) from the cache, or
    None: then the call is validated in full (and an error names the user's own arrays)."""
    if type(array) is not np.ndarray or type(grad_output) is not np.ndarray or type(size) not in (tuple, list):
        return None
    if not all(type(v) is int for v in (*size, *conv_args)):
        return None
    try:
        return _cached_spec(which, op, tuple(size), array.shape, array.dtype, grad_output.shape, grad_output.dtype,
                            tuple(conv_args))
    except ConvtraceError:
        return None


@functools.lru_cache(maxsize=256)
def _cached_spec(
    which: str, op: str, size: tuple[int, ...], shape: tuple[int, ...], dtype: np.dtype[Any],
    grad_shape: tuple[int, ...], grad_dtype: np.dtype[Any], conv_args: tuple[Any, ...],
) -> ConvSpec:
    """Validation of a gradient call by signature, on zero-strided stand-ins (it reads shapes
    and dtypes only); errors are not cached."""
    check = check_conv_transpose1d if op.startswith("conv_transpose1d") else check_conv1d
    array = np.broadcast_to(np.zeros((), dtype), shape)
    grad_output = np.broadcast_to(np.zeros((), grad_dtype), grad_shape)
    call = CallText(op, [])
    return _validate(which, check, call, size, array, grad_output, conv_args)[2]


def _given(
    which: str, check: Callable[..., Any], call: CallText, size: Any, array: Any, grad_output: Any,
    conv_args: tuple[Any, ...],
) -> tuple[np.ndarray, np.ndarray, ConvSpec]:
    """Validate a ``*_input`` (``which="input"``: ``size`` is the input's, ``array`` the weight)
    or ``*_weight`` gradient call (``size`` the weight's, ``array`` the input): a plain call's
    spec from the cache, else in full. Returns ``(array, grad_output, spec)``."""
    spec = _fast_spec(which, call.op, size, array, grad_output, conv_args)
    if spec is not None:
        return array, grad_output, spec
    return _validate(which, check, call, size, array, grad_output, conv_args)


def _validate(
    which: str, check: Callable[..., Any], call: CallText, size: Any, array: Any, grad_output: Any,
    conv_args: tuple[Any, ...],
) -> tuple[np.ndarray, np.ndarray, ConvSpec]:
    """Full validation of a gradient call (arguments as :func:`_given`)."""
    if which == "input":
        return _validate_input_size(check, call, size, array, grad_output, conv_args)
    return _validate_weight_size(check, call, array, size, grad_output, conv_args)


def _validate_input_size(
    check: Callable[..., Any], call: CallText, input_size: Any, weight: Any, grad_output: Any, conv_args: tuple[Any, ...]
) -> tuple[np.ndarray, np.ndarray, ConvSpec]:
    size = _size("input_size", input_size, call)
    w = as_array("weight", weight, call)
    gy = as_array("grad_output", grad_output, call)
    dummy = np.broadcast_to(np.zeros((), dtype=w.dtype), size)
    _, w, _, spec = check(dummy, w, None, *conv_args, op=call.op)
    return w, _check_grad_output(gy, spec, w.dtype, call), spec


def _validate_weight_size(
    check: Callable[..., Any], call: CallText, input: Any, weight_size: Any, grad_output: Any, conv_args: tuple[Any, ...]
) -> tuple[np.ndarray, np.ndarray, ConvSpec]:
    size = _size("weight_size", weight_size, call)
    x = as_array("input", input, call)
    gy = as_array("grad_output", grad_output, call)
    if x.ndim != 3:
        raise ConvtraceError(
            "input", x, f"Expected 3-dimensional input (N, C, L), but got input of size {list(x.shape)}",
            call=call,
        )
    dummy = np.broadcast_to(np.zeros((), dtype=x.dtype), size)
    x3, _, _, spec = check(x, dummy, None, *conv_args, op=call.op)
    return x3, _check_grad_output(gy, spec, x.dtype, call), spec


def _conj(a: np.ndarray) -> np.ndarray:
    return a.conj() if a.dtype.kind == "c" else a


def conv1d_input(
    input_size: Any,
    weight: Any,
    grad_output: Any,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: Any = 1,
) -> np.ndarray:
    """Gradient of conv1d with respect to its input (``torch.nn.grad.conv1d_input``).

    >>> import numpy as np
    >>> conv1d_input((1, 1, 5), np.ones((1, 1, 3)), np.ones((1, 1, 2)), stride=2).tolist()
    [[[1.0, 1.0, 2.0, 1.0, 1.0]]]
    """
    call = CallText(
        "conv1d_input",
        [("input_size", input_size), ("weight", weight), ("grad_output", grad_output),
         ("stride", stride), ("padding", padding), ("dilation", dilation), ("groups", groups)],
    )
    _no_string_padding(padding, call)
    w, gy, spec = _given(
        "input", check_conv1d, call, input_size, weight, grad_output, (stride, padding, dilation, groups)
    )
    return fast.conv1d_input_grad(
        gy, _conj(w), spec.length, spec.stride, spec.pad_left, spec.dilation, spec.groups
    )


def conv1d_weight(
    input: Any,
    weight_size: Any,
    grad_output: Any,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: Any = 1,
) -> np.ndarray:
    """Gradient of conv1d with respect to its weight (``torch.nn.grad.conv1d_weight``).

    >>> import numpy as np
    >>> conv1d_weight(np.ones((1, 1, 4)), (1, 1, 3), np.ones((1, 1, 4)), padding=1).tolist()
    [[[3.0, 4.0, 3.0]]]
    """
    call = CallText(
        "conv1d_weight",
        [("input", input), ("weight_size", weight_size), ("grad_output", grad_output),
         ("stride", stride), ("padding", padding), ("dilation", dilation), ("groups", groups)],
    )
    _no_string_padding(padding, call)
    x3, gy, spec = _given(
        "weight", check_conv1d, call, weight_size, input, grad_output, (stride, padding, dilation, groups)
    )
    return fast.conv1d_weight_grad(
        _conj(x3), gy, spec.kernel_size, spec.stride, spec.pad_left, spec.dilation, spec.groups
    )


def conv1d_bias(grad_output: Any) -> np.ndarray:
    """Gradient of conv1d (or conv_transpose1d) with respect to its bias: Σ over N and L.

    >>> import numpy as np
    >>> conv1d_bias(np.ones((2, 3, 4))).tolist()
    [8.0, 8.0, 8.0]
    """
    call = CallText("conv1d_bias", [("grad_output", grad_output)])
    gy = as_array("grad_output", grad_output, call)
    if gy.ndim not in (2, 3):
        raise ConvtraceError(
            "grad_output", gy, "Expected 2D (unbatched) or 3D (batched) grad_output", call=call
        )
    axes = (0, 2) if gy.ndim == 3 else (1,)
    total: np.ndarray = gy.sum(axis=axes, dtype=np.float32 if gy.dtype == np.float16 else None)
    return total.astype(gy.dtype)


conv_transpose1d_bias = conv1d_bias


def conv_transpose1d_input(
    input_size: Any,
    weight: Any,
    grad_output: Any,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: Any = 1,
    dilation: Any = 1,
) -> np.ndarray:
    """Gradient of conv_transpose1d with respect to its input: a conv1d of ``grad_output``.

    >>> import numpy as np
    >>> conv_transpose1d_input((1, 1, 2), np.ones((1, 1, 3)), np.ones((1, 1, 5)), stride=2).tolist()
    [[[3.0, 3.0]]]
    """
    call = CallText(
        "conv_transpose1d_input",
        [("input_size", input_size), ("weight", weight), ("grad_output", grad_output),
         ("stride", stride), ("padding", padding), ("output_padding", output_padding),
         ("groups", groups), ("dilation", dilation)],
    )
    w, gy, spec = _given(
        "input", check_conv_transpose1d, call, input_size, weight, grad_output,
        (stride, padding, output_padding, groups, dilation),
    )
    return fast.conv1d_forward(
        gy, _conj(w), spec.stride, spec.padding_int, spec.length, spec.dilation, spec.groups
    )


def conv_transpose1d_weight(
    input: Any,
    weight_size: Any,
    grad_output: Any,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: Any = 1,
    dilation: Any = 1,
) -> np.ndarray:
    """Gradient of conv_transpose1d with respect to its (C_in, C_out/groups, K) weight.

    >>> import numpy as np
    >>> conv_transpose1d_weight(np.ones((1, 1, 2)), (1, 1, 3), np.ones((1, 1, 5)), stride=2).tolist()
    [[[2.0, 2.0, 2.0]]]
    """
    call = CallText(
        "conv_transpose1d_weight",
        [("input", input), ("weight_size", weight_size), ("grad_output", grad_output),
         ("stride", stride), ("padding", padding), ("output_padding", output_padding),
         ("groups", groups), ("dilation", dilation)],
    )
    x3, gy, spec = _given(
        "weight", check_conv_transpose1d, call, weight_size, input, grad_output,
        (stride, padding, output_padding, groups, dilation),
    )
    # gw[ci, co, k] = Σ x[n, ci, i] · gy[n, g*og + co, i*s - p + k*d]: conv1d's weight gradient
    # with the roles of input and output gradient swapped.
    return fast.conv1d_weight_grad(
        gy, _conj(x3), spec.kernel_size, spec.stride, spec.padding_int, spec.dilation, spec.groups
    )
