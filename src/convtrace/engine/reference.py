"""Loop-based reference: each primitive written out as a teacher would, top to bottom.

Slow by design (pure Python loops); used by the tests to hold the fast path to account,
and small enough to read beside :mod:`convtrace.engine.fast`.

>>> import numpy as np
>>> conv1d_forward(np.ones((1, 1, 4)), np.ones((1, 1, 3)), 1, 1, 4, 1, 1).tolist()
[[[2.0, 3.0, 3.0, 2.0]]]
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "conv1d_forward",
    "conv1d_input_grad",
    "conv1d_weight_grad",
    "conv_transpose1d_scatter",
]


def conv1d_forward(
    x: np.ndarray, w: np.ndarray, stride: int, pad_left: int, out_len: int, dilation: int, groups: int
) -> np.ndarray:
    """y[n, o, i] = sum over c, k of x[n, g*Cg + c, i*stride - pad_left + k*dilation] * w[o, c, k]."""
    n_batch, _, length = x.shape
    c_out, c_per_group, k_size = w.shape
    out_per_group = c_out // groups
    y = np.zeros((n_batch, c_out, out_len), dtype=np.result_type(x, w))
    for n in range(n_batch):
        for o in range(c_out):
            g = o // out_per_group
            for i in range(out_len):
                acc = y.dtype.type(0)
                for c in range(c_per_group):
                    for k in range(k_size):
                        t = i * stride - pad_left + k * dilation
                        if 0 <= t < length:  # outside: zero padding
                            acc += x[n, g * c_per_group + c, t] * w[o, c, k]
                y[n, o, i] = acc
    return y


def conv1d_input_grad(
    gy: np.ndarray, w: np.ndarray, length: int, stride: int, pad_left: int, dilation: int, groups: int
) -> np.ndarray:
    """The adjoint of :func:`conv1d_forward`: scatter each gy[n, o, i] back along the kernel."""
    n_batch, c_out, out_len = gy.shape
    _, c_per_group, k_size = w.shape
    out_per_group = c_out // groups
    gx = np.zeros((n_batch, c_per_group * groups, length), dtype=np.result_type(gy, w))
    for n in range(n_batch):
        for o in range(c_out):
            g = o // out_per_group
            for i in range(out_len):
                for c in range(c_per_group):
                    for k in range(k_size):
                        t = i * stride - pad_left + k * dilation
                        if 0 <= t < length:
                            gx[n, g * c_per_group + c, t] += gy[n, o, i] * w[o, c, k]
    return gx


def conv1d_weight_grad(
    x: np.ndarray, gy: np.ndarray, kernel_size: int, stride: int, pad_left: int, dilation: int, groups: int
) -> np.ndarray:
    """gw[o, c, k] = sum over n, i of gy[n, o, i] * x[n, g*Cg + c, i*stride - pad_left + k*dilation]."""
    n_batch, c_in, length = x.shape
    _, c_out, out_len = gy.shape
    c_per_group = c_in // groups
    out_per_group = c_out // groups
    gw = np.zeros((c_out, c_per_group, kernel_size), dtype=np.result_type(x, gy))
    for o in range(c_out):
        g = o // out_per_group
        for c in range(c_per_group):
            for k in range(kernel_size):
                acc = gw.dtype.type(0)
                for n in range(n_batch):
                    for i in range(out_len):
                        t = i * stride - pad_left + k * dilation
                        if 0 <= t < length:
                            acc += gy[n, o, i] * x[n, g * c_per_group + c, t]
                gw[o, c, k] = acc
    return gw


def conv_transpose1d_scatter(
    x: np.ndarray,
    w: np.ndarray,
    stride: int,
    padding: int,
    output_padding: int,
    dilation: int,
    groups: int,
) -> np.ndarray:
    """ConvTranspose1d as the textbook scatter-add, with ``w`` in PyTorch's (Cin, Cout/g, K) layout.

    Each input sample x[n, ci, i] times the kernel is added into the output starting at
    ``i*stride - padding``; taps that land outside [0, out_len) are cropped.
    """
    n_batch, c_in, length = x.shape
    _, out_per_group, k_size = w.shape
    in_per_group = c_in // groups
    out_len = (length - 1) * stride - 2 * padding + dilation * (k_size - 1) + output_padding + 1
    y = np.zeros((n_batch, out_per_group * groups, out_len), dtype=np.result_type(x, w))
    for n in range(n_batch):
        for ci in range(c_in):
            g = ci // in_per_group
            for i in range(length):
                for co in range(out_per_group):
                    for k in range(k_size):
                        j = i * stride - padding + k * dilation
                        if 0 <= j < out_len:
                            y[n, g * out_per_group + co, j] += x[n, ci, i] * w[ci, co, k]
    return y
