"""Fast NumPy paths for the three primitives (see :mod:`convtrace.engine.reference`).

The baseline algorithm is one batched GEMM per kernel tap, accumulated into the output;
callers hand in validated arrays. float16 is computed in float32 and rounded once at the
end, as PyTorch's CPU kernels accumulate in float32.

>>> import numpy as np
>>> conv1d_forward(np.ones((1, 1, 4)), np.ones((1, 1, 3)), 2, 1, 2, 1, 1).tolist()
[[[2.0, 3.0]]]
"""

from __future__ import annotations

import numpy as np

__all__ = ["conv1d_forward", "conv1d_input_grad", "conv1d_weight_grad"]


def _compute_dtype(dtype: np.dtype) -> np.dtype:
    return np.dtype(np.float32) if dtype == np.float16 else np.dtype(dtype)


def _padded(x: np.ndarray, pad_left: int, span: int, dtype: np.dtype) -> np.ndarray:
    """x[:, :, t - pad_left] for t in [0, span), zeros outside x (a view when possible)."""
    n, c, length = x.shape
    if pad_left == 0 and span <= length and x.dtype == dtype:
        return x[:, :, :span]
    buf = np.zeros((n, c, span), dtype=dtype)
    src_lo = max(0, -pad_left)
    dst_lo = max(0, pad_left)
    m = min(length - src_lo, span - dst_lo)
    if m > 0:
        buf[:, :, dst_lo : dst_lo + m] = x[:, :, src_lo : src_lo + m]
    return buf


def conv1d_forward(
    x: np.ndarray, w: np.ndarray, stride: int, pad_left: int, out_len: int, dilation: int, groups: int
) -> np.ndarray:
    """Gather: ``y[n,o,i] = Σ_c Σ_k x[n, g*Cg+c, i*stride - pad_left + k*dilation] · w[o,c,k]``."""
    out_dtype = np.result_type(x, w)
    cdt = _compute_dtype(out_dtype)
    n, c_in, _ = x.shape
    c_out, cg, k_size = w.shape
    og = c_out // groups
    span = (out_len - 1) * stride + dilation * (k_size - 1) + 1
    xp = _padded(x, pad_left, span, cdt)
    wc = w.astype(cdt, copy=False)
    last = (out_len - 1) * stride + 1
    if groups == 1:
        y = np.zeros((n, c_out, out_len), dtype=cdt)
        for k in range(k_size):
            lo = k * dilation
            y += np.matmul(wc[:, :, k], xp[:, :, lo : lo + last : stride])
    elif cg == 1 and og == 1:
        y = np.zeros((n, c_out, out_len), dtype=cdt)
        for k in range(k_size):
            lo = k * dilation
            y += wc[:, 0, k][None, :, None] * xp[:, :, lo : lo + last : stride]
    else:
        y4 = np.zeros((n, groups, og, out_len), dtype=cdt)
        wg = wc.reshape(groups, og, cg, k_size)
        xg = xp.reshape(n, groups, cg, span)
        for k in range(k_size):
            lo = k * dilation
            y4 += np.matmul(wg[:, :, :, k], xg[:, :, :, lo : lo + last : stride])
        y = y4.reshape(n, c_out, out_len)
    return y.astype(out_dtype, copy=False)


def conv1d_input_grad(
    gy: np.ndarray, w: np.ndarray, length: int, stride: int, pad_left: int, dilation: int, groups: int
) -> np.ndarray:
    """Scatter (the adjoint of the gather): also ConvTranspose1d's forward."""
    out_dtype = np.result_type(gy, w)
    cdt = _compute_dtype(out_dtype)
    n, c_out, out_len = gy.shape
    _, cg, k_size = w.shape
    og = c_out // groups
    c_in = cg * groups
    span = (out_len - 1) * stride + dilation * (k_size - 1) + 1
    size = max(span, pad_left + length)
    buf = np.zeros((n, c_in, size), dtype=cdt)
    gyc = gy.astype(cdt, copy=False)
    wc = w.astype(cdt, copy=False)
    last = (out_len - 1) * stride + 1
    if groups == 1:
        for k in range(k_size):
            lo = k * dilation
            buf[:, :, lo : lo + last : stride] += np.matmul(wc[:, :, k].T, gyc)
    elif cg == 1 and og == 1:
        for k in range(k_size):
            lo = k * dilation
            buf[:, :, lo : lo + last : stride] += wc[:, 0, k][None, :, None] * gyc
    else:
        wg = wc.reshape(groups, og, cg, k_size)
        gyg = gyc.reshape(n, groups, og, out_len)
        bufg = buf.reshape(n, groups, cg, size)
        for k in range(k_size):
            lo = k * dilation
            bufg[:, :, :, lo : lo + last : stride] += np.matmul(
                np.swapaxes(wg[:, :, :, k], -1, -2), gyg
            )
    return buf[:, :, pad_left : pad_left + length].astype(out_dtype, copy=True)


def conv1d_weight_grad(
    x: np.ndarray, gy: np.ndarray, kernel_size: int, stride: int, pad_left: int, dilation: int, groups: int
) -> np.ndarray:
    """``gw[o,c,k] = Σ_n Σ_i gy[n,o,i] · x[n, g*Cg+c, i*stride - pad_left + k*dilation]``."""
    out_dtype = np.result_type(x, gy)
    cdt = _compute_dtype(out_dtype)
    n, c_in, _ = x.shape
    _, c_out, out_len = gy.shape
    cg = c_in // groups
    og = c_out // groups
    span = (out_len - 1) * stride + dilation * (kernel_size - 1) + 1
    xp = _padded(x, pad_left, span, cdt)
    gyc = gy.astype(cdt, copy=False)
    last = (out_len - 1) * stride + 1
    gw = np.zeros((c_out, cg, kernel_size), dtype=cdt)
    if n == 0 or out_len == 0:
        return gw.astype(out_dtype)
    gyg = gyc.reshape(n, groups, og, out_len)
    xg = xp.reshape(n, groups, cg, span)
    for k in range(kernel_size):
        lo = k * dilation
        xs = xg[:, :, :, lo : lo + last : stride]
        # (N, G, og, L') @ (N, G, L', cg) -> sum over N
        part = np.matmul(gyg, np.swapaxes(xs, -1, -2)).sum(axis=0)
        gw[:, :, k] = part.reshape(c_out, cg)
    return gw.astype(out_dtype, copy=False)
