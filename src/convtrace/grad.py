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

from . import rules
from .engine import fast, pool_backward
from .errors import ConvtraceError, ConvtraceTypeError
from .params import (
    CallText,
    ConvSpec,
    PoolSpec,
    as_array,
    as_pool_array,
    check_conv1d,
    check_conv_transpose1d,
    check_pool1d,
)

__all__ = [
    "conv1d_input",
    "conv1d_weight",
    "conv1d_bias",
    "conv_transpose1d_input",
    "conv_transpose1d_weight",
    "conv_transpose1d_bias",
    "max_pool1d_input",
    "avg_pool1d_input",
    "lp_pool1d_input",
    "adaptive_avg_pool1d_input",
    "adaptive_max_pool1d_input",
    "max_unpool1d_input",
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


# --------------------------------------------------------------------------- pools
#
# The input gradient of each pool, equal to PyTorch's autograd. The pool's own arguments are
# validated by the forward's resolver (the same words as the forward call); grad_output is
# then held to the output that call would give, as autograd holds it: the same shape, and a
# real dtype (cast to the input's, as autograd casts; complex is rejected in its words).


def _pool_grad_output(grad_output: Any, spec: PoolSpec, call: CallText) -> np.ndarray:
    """``grad_output`` as autograd takes it for a pool's output: the same shape, any real dtype
    (cast to the input's dtype), never complex."""
    gy = np.asarray(grad_output) if not isinstance(grad_output, np.ndarray) else grad_output
    if gy.dtype.kind not in "biuf" and gy.dtype.kind != "c":
        raise ConvtraceTypeError(
            "grad_output", grad_output, f"grad_output must be an array of numbers, not {gy.dtype}", call=call
        )
    if gy.shape != spec.output_shape:
        raise ConvtraceError(
            "grad_output", gy,
            f"Mismatch in shape: grad_output has a shape of {list(gy.shape)} and the output of "
            f"{spec.op} has a shape of {list(spec.output_shape)}",
            call=call,
        )
    if gy.dtype.kind == "c":
        raise ConvtraceError(
            "grad_output", gy,
            "For complex Tensors, both grad_output and output are required to have the same dtype. "
            f"Mismatch in dtype: grad_output has a dtype of {gy.dtype} and the output of {spec.op} "
            f"has a dtype of {spec.dtype}",
            call=call,
        )
    return gy.astype(spec.dtype, copy=False)


def _batched(a: np.ndarray, spec: PoolSpec) -> np.ndarray:
    return a if spec.batched else a[None]


def _unbatched(a: np.ndarray, spec: PoolSpec) -> np.ndarray:
    return a if spec.batched else a[0]


def _resolve_pool(op: str, input: Any, call: CallText, **arguments: Any) -> tuple[np.ndarray, PoolSpec]:
    """The forward's resolver on the pool's own arguments (its checks and words, the error
    showing the gradient call); then the input must be one autograd differentiates."""
    try:
        x3, spec = check_pool1d(op, input, **arguments)
    except ConvtraceError as error:
        raise error.with_call(str(call)) from None
    if spec.dtype.kind != "f":
        raise ConvtraceError(
            "input", input, f"only Tensors of floating point and complex dtype can require gradients "
            f"(got {spec.dtype}): {op} has no input gradient for it", call=call,
        )
    return x3, spec


def _size_input(input_size: Any, grad_output: Any, call: CallText) -> tuple[np.ndarray, np.ndarray]:
    """A gradient call that gives the input's size only: ``grad_output`` as an array, and a
    zero-strided stand-in input of that size and ``grad_output``'s dtype for the resolver
    (so the input is as floating as ``grad_output``: an integer one is rejected)."""
    gy = as_pool_array("grad_output", grad_output, call)
    if gy.dtype.kind != "f":
        raise ConvtraceError(
            "grad_output", gy, "only Tensors of floating point and complex dtype can require gradients: "
            f"the input of {call.op.removesuffix('_input')} has grad_output's dtype, {gy.dtype}, and PyTorch's "
            f"{call.op.removesuffix('_input')} has no input gradient for it", call=call,
        )
    try:
        size = tuple(int(v) for v in input_size)
        ok = all(rules.is_int(v) for v in input_size) and len(size) in (2, 3) and min(size) >= 0
    except TypeError:
        ok = False
    if not ok:
        raise ConvtraceTypeError(
            "input_size", input_size, "input_size must be a sequence of 2 or 3 non-negative ints "
            "((C, L) or (N, C, L))", call=call,
        )
    return np.broadcast_to(np.zeros((), gy.dtype), size), gy


def max_pool1d_input(
    input: Any, grad_output: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
    ceil_mode: Any = False, *, indices: Any = None,
) -> np.ndarray:
    """Gradient of max_pool1d with respect to its input (PyTorch's autograd): each output's
    gradient goes to its window's winner (ties: the first index; NaN: the window's last NaN).
    With ``indices`` (those ``max_pool1d(..., return_indices=True)`` returned, as autograd
    saves them) the gradient is added into zeros at them, no winner searched again.

    >>> import numpy as np
    >>> max_pool1d_input(np.array([[[1.0, 3.0, 3.0, 2.0]]]), np.array([[[10.0, 20.0]]]), 2).tolist()
    [[[0.0, 10.0, 20.0, 0.0]]]
    >>> max_pool1d_input(np.zeros((1, 1, 4)), np.array([[[10.0, 20.0]]]), 2, indices=np.array([[[1, 2]]])).tolist()
    [[[0.0, 10.0, 20.0, 0.0]]]
    """
    call = CallText(
        "max_pool1d_input",
        [("input", input), ("grad_output", grad_output), ("kernel_size", kernel_size), ("stride", stride),
         ("padding", padding), ("dilation", dilation), ("ceil_mode", ceil_mode), ("indices", indices)],
    )
    x3, spec = _resolve_pool("max_pool1d", input, call, kernel_size=kernel_size, stride=stride, padding=padding,
                             dilation=dilation, ceil_mode=ceil_mode)
    gy = _batched(_pool_grad_output(grad_output, spec, call), spec)
    if indices is not None:
        return _unbatched(_grad_from_indices(indices, gy, spec, call), spec)
    gx = pool_backward.max_pool1d_input_grad(x3, gy, spec.kernel_size, spec.stride, spec.padding, spec.dilation)
    return _unbatched(gx, spec)


def _grad_from_indices(indices: Any, gy: np.ndarray, spec: PoolSpec, call: CallText) -> np.ndarray:
    """A max pool's gradient from the forward's saved ``indices`` (checked against the batched
    ``gy``: its shape as given, int64, each in the input's length)."""
    idx = indices if isinstance(indices, np.ndarray) else np.asarray(indices)
    rules.check_pool_backward_indices(idx, spec.output_shape, indices, call)
    bad = pool_backward.index_outside(idx, spec.length)
    if bad is not None:
        raise rules.invalid_pool_backward_index(bad, spec.length, indices, call)
    return pool_backward.max_grad_from_indices(_batched(idx, spec), gy, spec.length)


def avg_pool1d_input(
    input_size: Any, grad_output: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,
    ceil_mode: Any = False, count_include_pad: Any = True,
) -> np.ndarray:
    """Gradient of avg_pool1d with respect to its input: each output's gradient divided by
    its divisor (padding counted with ``count_include_pad``, the ceil_mode overhang never),
    spread over its window's real samples.

    >>> import numpy as np
    >>> avg_pool1d_input((1, 1, 6), np.ones((1, 1, 4)), 3, 2, 1, ceil_mode=True).tolist()
    [[[0.3333333333333333, 0.6666666666666666, 0.3333333333333333, 0.6666666666666666, 0.3333333333333333, 0.8333333333333333]]]
    """
    call = CallText(
        "avg_pool1d_input",
        [("input_size", input_size), ("grad_output", grad_output), ("kernel_size", kernel_size),
         ("stride", stride), ("padding", padding), ("ceil_mode", ceil_mode),
         ("count_include_pad", count_include_pad)],
    )
    dummy, given = _size_input(input_size, grad_output, call)
    _, spec = _resolve_pool("avg_pool1d", dummy, call, kernel_size=kernel_size, stride=stride, padding=padding,
                            ceil_mode=ceil_mode, count_include_pad=count_include_pad)
    gy = _batched(_pool_grad_output(given, spec, call), spec)
    gx = pool_backward.avg_pool1d_input_grad(spec.length, gy, spec.kernel_size, spec.stride, spec.padding,
                                             spec.divisors())
    return _unbatched(gx, spec)


def lp_pool1d_input(
    input: Any, grad_output: Any, norm_type: Any, kernel_size: Any, stride: Any = None, ceil_mode: Any = False
) -> np.ndarray:
    """Gradient of lp_pool1d with respect to its input, through PyTorch's own composition
    ``(sign(A) * relu(|A|) * k) ** (1/p)``, ``A = avg_pool1d(x ** p)``: a window summing to
    0 gets 0, ``p = 1`` is a signed sum, an odd ``p`` on a negative sum gives NaN.

    >>> import numpy as np
    >>> lp_pool1d_input(np.array([[[3.0, 4.0, 0.0, 0.0]]]), np.ones((1, 1, 2)), 2, 2).tolist()
    [[[0.6000000000000001, 0.8, 0.0, 0.0]]]
    """
    call = CallText(
        "lp_pool1d_input",
        [("input", input), ("grad_output", grad_output), ("norm_type", norm_type), ("kernel_size", kernel_size),
         ("stride", stride), ("ceil_mode", ceil_mode)],
    )
    x3, spec = _resolve_pool("lp_pool1d", input, call, norm_type=norm_type, kernel_size=kernel_size,
                             stride=stride, ceil_mode=ceil_mode)
    gy = _batched(_pool_grad_output(grad_output, spec, call), spec)
    assert spec.norm_type is not None
    gx = pool_backward.lp_pool1d_input_grad(x3, gy, float(spec.norm_type), spec.kernel_size, spec.stride)
    return _unbatched(gx, spec)


def adaptive_avg_pool1d_input(input_size: Any, grad_output: Any) -> np.ndarray:
    """Gradient of adaptive_avg_pool1d with respect to its input (the output size is
    ``grad_output``'s length): windows ``[floor(i*L/O), ceil((i+1)*L/O))`` overlap.

    >>> import numpy as np
    >>> adaptive_avg_pool1d_input((1, 1, 5), np.ones((1, 1, 3))).tolist()
    [[[0.5, 0.8333333333333333, 0.3333333333333333, 0.8333333333333333, 0.5]]]
    """
    call = CallText("adaptive_avg_pool1d_input", [("input_size", input_size), ("grad_output", grad_output)])
    dummy, given = _size_input(input_size, grad_output, call)
    _, spec = _resolve_pool("adaptive_avg_pool1d", dummy, call, output_size=_output_size_of(given))
    gy = _batched(_pool_grad_output(given, spec, call), spec)
    if spec.out_length != 1:
        _nonempty_adaptive_grad("adaptive_avg_pool2d", _unbatched(gy, spec), call)
    return _unbatched(pool_backward.adaptive_avg_pool1d_input_grad(spec.length, gy), spec)


def _nonempty_adaptive_grad(kernel: str, gy: np.ndarray, call: CallText) -> None:
    """PyTorch's adaptive backward kernels (not ``output_size=1``'s mean) reject an empty
    non-batch size of ``grad_output`` (seen with a height of 1), though the forward made it."""
    sizes = (*gy.shape[:-1], 1, gy.shape[-1])
    for i in range(1, len(sizes)):
        if sizes[i] == 0:
            raise ConvtraceError(
                "grad_output", gy,
                f"{kernel}_backward(): Expected grad_output to have non-zero size for non-batch dimensions, but "
                f"grad_output has sizes {list(sizes)} with dimension {i} being empty",
                call=call,
            )


def _output_size_of(grad_output: np.ndarray) -> int:
    """An adaptive pool's output size: the length of its output gradient."""
    return int(grad_output.shape[-1]) if grad_output.ndim else 0


def adaptive_max_pool1d_input(input: Any, grad_output: Any, *, indices: Any = None) -> np.ndarray:
    """Gradient of adaptive_max_pool1d with respect to its input (the output size is
    ``grad_output``'s length): each output's gradient to its window's winner. With
    ``indices`` (those ``adaptive_max_pool1d(..., return_indices=True)`` returned) the
    gradient is added into zeros at them, no winner searched again.

    >>> import numpy as np
    >>> adaptive_max_pool1d_input(np.array([[[1.0, 5.0, 2.0]]]), np.ones((1, 1, 2))).tolist()
    [[[0.0, 2.0, 0.0]]]
    >>> adaptive_max_pool1d_input(np.zeros((1, 1, 3)), np.ones((1, 1, 2)), indices=np.array([[[1, 1]]])).tolist()
    [[[0.0, 2.0, 0.0]]]
    """
    call = CallText("adaptive_max_pool1d_input",
                    [("input", input), ("grad_output", grad_output), ("indices", indices)])
    gy_given = np.asarray(grad_output)
    x3, spec = _resolve_pool("adaptive_max_pool1d", input, call, output_size=_output_size_of(gy_given))
    gy = _batched(_pool_grad_output(grad_output, spec, call), spec)
    _nonempty_adaptive_grad("adaptive_max_pool2d", _unbatched(gy, spec), call)
    if indices is not None:
        return _unbatched(_grad_from_indices(indices, gy, spec, call), spec)
    return _unbatched(pool_backward.adaptive_max_pool1d_input_grad(x3, gy), spec)


def max_unpool1d_input(indices: Any, grad_output: Any) -> np.ndarray:
    """Gradient of max_unpool1d with respect to its input: ``grad_output`` read at each index
    (``grad_output`` is the unpooled output's gradient; every index must lie inside it).

    >>> import numpy as np
    >>> max_unpool1d_input(np.array([[[1, 1, 3]]]), np.array([[[0.0, 1.0, 2.0, 3.0, 4.0]]])).tolist()
    [[[1.0, 1.0, 3.0]]]
    """
    call = CallText("max_unpool1d_input", [("indices", indices), ("grad_output", grad_output)])
    idx = np.asarray(indices)
    gy = as_pool_array("grad_output", grad_output, call)
    if gy.dtype.kind != "f":
        raise ConvtraceError(
            "grad_output", gy, "only Tensors of floating point and complex dtype can require gradients: "
            f"the input of max_unpool1d has grad_output's dtype, {gy.dtype}", call=call,
        )
    if idx.ndim not in (2, 3):
        raise ConvtraceError("indices", idx, f"Expected 2D (unbatched) or 3D (batched) indices, but got indices "
                             f"of size {list(idx.shape)}", call=call)
    rules.check_unpool_arrays(idx.shape, idx.shape, idx.dtype, indices, indices, call)
    if gy.ndim != idx.ndim or gy.shape[:-1] != idx.shape[:-1]:
        raise ConvtraceError(
            "grad_output", gy,
            f"Mismatch in shape: grad_output has a shape of {list(gy.shape)}, but the output of max_unpool1d "
            f"with indices of shape {list(idx.shape)} has a shape of {[*idx.shape[:-1], 'L_out']}", call=call,
        )
    if pool_backward.index_outside(idx, gy.shape[-1]) is not None:  # one pass when all are inside
        bad = (idx < 0) | (idx >= gy.shape[-1])
        raise rules.invalid_unpool_index(int(idx.ravel()[np.flatnonzero(bad.ravel())[0]]), gy.shape[-1], indices, call)
    return pool_backward.max_unpool1d_input_grad(idx, gy)
