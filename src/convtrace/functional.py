"""``torch.nn.functional``'s 1-D convolutions and ``pad``, in NumPy, with PyTorch's signatures.

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

from .engine import fast
from .engine.padding import apply_pad
from .params import ConvSpec, PaddingMode, check_conv1d, check_conv_transpose1d, check_pad

__all__ = ["conv1d", "conv_transpose1d", "pad", "run_spec"]


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
