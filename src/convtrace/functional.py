"""``torch.nn.functional``'s 1-D convolutions, pools and ``pad``, in NumPy, with PyTorch's signatures.

>>> import numpy as np
>>> x = np.ones((1, 1, 4)); w = np.ones((1, 1, 3))
>>> conv1d(x, w, stride=2, padding=1).tolist()
[[[2.0, 3.0]]]
>>> conv_transpose1d(np.array([[[1.0, 2.0]]]), w, stride=2).tolist()
[[[1.0, 1.0, 3.0, 2.0, 2.0]]]
>>> pad(np.array([[[1.0, 2.0, 3.0]]]), (2, 1), mode="reflect").tolist()
[[[3.0, 2.0, 1.0, 2.0, 3.0, 2.0]]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .engine import fast, pool
from .engine.padding import apply_pad
from .params import (
    ConvSpec,
    PaddingMode,
    PoolSpec,
    check_adaptive_avg_pool1d,
    check_adaptive_max_pool1d,
    check_avg_pool1d,
    check_conv1d,
    check_conv_transpose1d,
    check_lp_pool1d,
    check_max_pool1d,
    check_max_unpool1d,
    check_pad,
)

__all__ = [
    "conv1d",
    "conv_transpose1d",
    "pad",
    "run_spec",
    "run_pool",
    "max_pool1d",
    "avg_pool1d",
    "lp_pool1d",
    "adaptive_avg_pool1d",
    "adaptive_max_pool1d",
    "max_unpool1d",
]


def _finish(y: np.ndarray, b: np.ndarray | None, spec: ConvSpec) -> np.ndarray:
    if b is not None:
        y += b[None, :, None].astype(y.dtype, copy=False)
    return y if spec.batched else y[0]


def run_spec(x3: np.ndarray, w: np.ndarray, b: np.ndarray | None, spec: ConvSpec) -> np.ndarray:
    """The engine on resolved arguments (as :func:`~convtrace.params.check_conv1d` or
    :func:`~convtrace.params.check_conv_transpose1d` return them): the output, in the spec's
    dtype and batchedness. A ``padding_mode`` other than 'zeros' pads first, as
    ``torch.nn.Conv1d`` does.

    >>> import numpy as np
    >>> from convtrace.params import check_conv1d
    >>> args = check_conv1d(np.arange(4.0)[None], np.ones((1, 1, 3)), None, 1, 1, 1, 1,
    ...                     padding_mode="reflect")
    >>> run_spec(*args).tolist()
    [[2.0, 3.0, 6.0, 7.0]]
    """
    if spec.transposed:
        y = fast.conv1d_input_grad(
            x3, w, spec.out_length, spec.stride, spec.padding_int, spec.dilation, spec.groups
        )
        return _finish(y, b, spec)
    pad_left = spec.pad_left
    if spec.padding_mode is not PaddingMode.ZEROS:
        x3 = apply_pad(x3, spec.pad_left, spec.pad_right, spec.padding_mode)
        pad_left = 0
    if b is not None and spec.dtype == np.float16:
        # PyTorch adds the bias in float32, before the one rounding to float16 (not after it).
        x3, w = x3.astype(np.float32), w.astype(np.float32)
    y = fast.conv1d_forward(x3, w, spec.stride, pad_left, spec.out_length, spec.dilation, spec.groups)
    return _finish(y, b, spec).astype(spec.dtype, copy=False)


def conv1d_with_spec(
    input: Any,
    weight: Any,
    bias: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: Any = 1,
) -> tuple[np.ndarray, ConvSpec]:
    """:func:`conv1d`, also returning the validated :class:`~convtrace.params.ConvSpec`."""
    x, w, b, spec = check_conv1d(input, weight, bias, stride, padding, dilation, groups)
    return run_spec(x, w, b, spec), spec


def conv1d(
    input: Any,
    weight: Any,
    bias: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: Any = 1,
) -> np.ndarray:
    """1-D convolution (cross-correlation), as ``torch.nn.functional.conv1d``.

    ``input`` is (N, C_in, L) or unbatched (C_in, L); ``weight`` is (C_out, C_in/groups, K);
    ``padding`` is an int, a 1-tuple, ``'same'`` (odd extra on the right) or ``'valid'``.

    >>> import numpy as np
    >>> conv1d(np.arange(5.0)[None], np.ones((1, 1, 2)), padding="same").tolist()
    [[1.0, 3.0, 5.0, 7.0, 4.0]]
    """
    return conv1d_with_spec(input, weight, bias, stride, padding, dilation, groups)[0]


def conv_transpose1d_with_spec(
    input: Any,
    weight: Any,
    bias: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: Any = 1,
    dilation: Any = 1,
) -> tuple[np.ndarray, ConvSpec]:
    """:func:`conv_transpose1d`, also returning the validated spec."""
    x, w, b, spec = check_conv_transpose1d(
        input, weight, bias, stride, padding, output_padding, groups, dilation
    )
    return run_spec(x, w, b, spec), spec


def conv_transpose1d(
    input: Any,
    weight: Any,
    bias: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: Any = 1,
    dilation: Any = 1,
) -> np.ndarray:
    """1-D transposed convolution, as ``torch.nn.functional.conv_transpose1d``.

    ``weight`` is (C_in, C_out/groups, K); note that ``dilation`` comes last, as in PyTorch.
    Output length: ``(L-1)*stride - 2*padding + dilation*(K-1) + output_padding + 1``.

    >>> import numpy as np
    >>> conv_transpose1d(np.ones((1, 1, 3)), np.ones((1, 1, 2)), stride=2, output_padding=1).shape
    (1, 1, 7)
    """
    return conv_transpose1d_with_spec(
        input, weight, bias, stride, padding, output_padding, groups, dilation
    )[0]


def pad(input: Any, pad: Any, mode: str = "constant", value: float | None = None) -> np.ndarray:
    """Pad the last dimension, as ``torch.nn.functional.pad`` with ``pad=(left, right)``.

    Modes: ``'constant'`` (with ``value``, default 0), ``'reflect'`` (each pad < length),
    ``'replicate'`` and ``'circular'`` (each pad <= length). Negative pads crop.

    >>> import numpy as np
    >>> pad(np.array([[1.0, 2.0, 3.0]]), (1, 2), mode="circular").tolist()
    [[3.0, 1.0, 2.0, 3.0, 1.0, 2.0]]
    """
    x, left, right, m, fill = check_pad(input, pad, mode, value)
    return apply_pad(x, left, right, m.value, fill)


# --------------------------------------------------------------------------- pools


def run_pool(x3: np.ndarray, spec: PoolSpec, indices: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """The pool engine on resolved arguments (as :func:`~convtrace.params.check_pool1d`
    returns them; ``max_unpool1d`` also takes its (N, C, L) ``indices``): the output and the
    indices (or None), in the spec's batchedness.

    >>> import numpy as np
    >>> from convtrace.params import check_pool1d
    >>> run_pool(*check_pool1d("adaptive_avg_pool1d", np.arange(5.0)[None], output_size=3))[0].tolist()
    [[0.5, 2.0, 3.5]]
    """
    y, where = pool.pool_forward(x3, spec, indices)
    if spec.batched:
        return y, where
    return y[0], None if where is None else where[0]


def max_pool1d(
    input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
    ceil_mode: Any = False, return_indices: Any = False,
) -> Any:
    """1-D max pooling, as ``torch.nn.functional.max_pool1d``: padding is -inf; ties give
    the first index, NaN wins (the last NaN is the index). With ``return_indices`` it returns
    ``(values, indices)`` (int64), else the values. Note PyTorch's argument order (ceil_mode
    before return_indices) and that PyTorch checks the two paths with different words.

    >>> import numpy as np
    >>> max_pool1d(np.array([[1.0, 3.0, 3.0, 2.0, 5.0]]), 2, ceil_mode=True, return_indices=True)
    (array([[3., 3., 5.]]), array([[1, 2, 4]]))
    >>> max_pool1d(np.ones((1, 2)), 2, 3, 1, ceil_mode=True).shape  # the last window must start inside
    (1, 1)
    """
    x, spec = check_max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)
    y, where = run_pool(x, spec)
    return (y, where) if spec.return_indices else y


def avg_pool1d(
    input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: Any = False,
    count_include_pad: Any = True,
) -> np.ndarray:
    """1-D average pooling, as ``torch.nn.functional.avg_pool1d``. ``count_include_pad``
    counts the zero padding in the divisor, never the ceil_mode overhang; integer (int64)
    input divides toward zero.

    >>> import numpy as np
    >>> avg_pool1d(np.arange(1.0, 7.0)[None], 3, 2, 1, ceil_mode=True).tolist()  # last: (6 + 0) / 2
    [[1.0, 3.0, 5.0, 3.0]]
    >>> avg_pool1d(np.array([[-1, -2, 3, 4]]), 2).tolist()
    [[-1, 3]]
    """
    x, spec = check_avg_pool1d(input, kernel_size, stride, padding, ceil_mode, count_include_pad)
    return run_pool(x, spec)[0]


def lp_pool1d(input: Any, norm_type: Any, kernel_size: Any, stride: Any = None, ceil_mode: Any = False) -> np.ndarray:
    """1-D power-average pooling, as ``torch.nn.functional.lp_pool1d``:
    ``(avg_pool1d(x**p) * kernel_size) ** (1/p)``. As in PyTorch, x**p has no abs (p=1 gives a
    signed sum; odd p on negative input gives NaN) and with ceil_mode a partial window is
    scaled by the whole kernel size.

    >>> import numpy as np
    >>> lp_pool1d(np.ones((1, 5)), 2, 2, 2, ceil_mode=True).round(4).tolist()  # last window: 1.4142
    [[1.4142, 1.4142, 1.4142]]
    >>> lp_pool1d(np.array([[-1.0, -2.0]]), 1, 2).tolist()
    [[-3.0]]
    """
    x, spec = check_lp_pool1d(input, norm_type, kernel_size, stride, ceil_mode)
    return run_pool(x, spec)[0]


def adaptive_avg_pool1d(input: Any, output_size: Any) -> np.ndarray:
    """1-D adaptive average pooling, as ``torch.nn.functional.adaptive_avg_pool1d``: output
    ``i`` averages ``[floor(i*L/O), ceil((i+1)*L/O))`` (windows overlap; O > L works).

    >>> import numpy as np
    >>> adaptive_avg_pool1d(np.arange(5.0)[None], 3).tolist()  # windows of 2, 3 and 2
    [[0.5, 2.0, 3.5]]
    """
    x, spec = check_adaptive_avg_pool1d(input, output_size)
    return run_pool(x, spec)[0]


def adaptive_max_pool1d(input: Any, output_size: Any, return_indices: Any = False) -> Any:
    """1-D adaptive max pooling, as ``torch.nn.functional.adaptive_max_pool1d`` (the windows
    of :func:`adaptive_avg_pool1d`; ties and NaN as :func:`max_pool1d`).

    >>> import numpy as np
    >>> adaptive_max_pool1d(np.array([[0.0, 1.0]]), 3, return_indices=True)
    (array([[0., 1., 1.]]), array([[0, 1, 1]]))
    """
    x, spec = check_adaptive_max_pool1d(input, output_size, return_indices)
    y, where = run_pool(x, spec)
    return (y, where) if spec.return_indices else y


def max_unpool1d(
    input: Any, indices: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, output_size: Any = None
) -> np.ndarray:
    """The partial inverse of :func:`max_pool1d`, as ``torch.nn.functional.max_unpool1d``:
    each value goes to its index in a zero output of length ``(L - 1)*stride - 2*padding +
    kernel_size`` (or ``output_size``, within ``stride`` of it); of values sent to the same
    index the last wins.

    >>> import numpy as np
    >>> max_unpool1d(np.array([[3.0, 5.0]]), np.array([[1, 2]]), 2).tolist()
    [[0.0, 3.0, 5.0, 0.0]]
    """
    x, where, spec = check_max_unpool1d(input, indices, kernel_size, stride, padding, output_size)
    return run_pool(x, spec, where)[0]
