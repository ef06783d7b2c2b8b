"""Shared layout helpers for the fast paths: compute dtypes, padding, phases, windows.

Every fast algorithm reads the zero-padded input ``xpad[t] = x[t - pad_left]`` (zero
outside ``x``) at ``t = i*stride + k*dilation``. These helpers build that signal once, in
the compute dtype, without copying when ``x`` can be used as it is; they view it as
receptive-field windows (for im2col) or split it into stride phases (so that every tap
of a per-tap GEMM reads unit-stride rows).

>>> import numpy as np
>>> x = np.arange(5.0).reshape(1, 1, 5)
>>> padded(x, 1, 7, np.dtype(np.float64)).tolist()
[[[0.0, 0.0, 1.0, 2.0, 3.0, 4.0, 0.0]]]
>>> phase_split(x, 1, 7, 2, np.dtype(np.float64)).tolist()  # even, odd samples of xpad
[[[[0.0, 1.0, 3.0, 0.0], [0.0, 2.0, 4.0, 0.0]]]]
>>> windows(padded(x, 1, 7, np.dtype(np.float64)), 3, 3, 2, 1)[0, 0].tolist()
[[0.0, 1.0, 3.0], [0.0, 2.0, 4.0], [1.0, 3.0, 0.0]]
>>> tap_range(0, 2, 1, 3, 5)  # i with 0 <= 2*i - 1 < 5
(1, 3)
"""

from __future__ import annotations

import numpy as np

__all__ = ["compute_dtype", "padded", "phase_split", "windows", "tap_range", "span_of"]

_F32 = np.dtype(np.float32)


def compute_dtype(dtype: np.dtype) -> np.dtype:
    """float16 is computed in float32 (as PyTorch's CPU kernels accumulate); others as is."""
    return _F32 if dtype == np.float16 else dtype


def span_of(out_len: int, k_size: int, stride: int, dilation: int) -> int:
    """Extent of the padded input that ``out_len`` outputs read: ``(L'-1)*s + (K-1)*d + 1``."""
    return (out_len - 1) * stride + (k_size - 1) * dilation + 1 if out_len > 0 else 0


def padded(x: np.ndarray, pad_left: int, span: int, dtype: np.dtype) -> np.ndarray:
    """C-contiguous ``xpad`` in ``dtype``, at least ``span`` long: ``x`` itself if it can be.

    A copy is made (exactly ``span`` long) when ``x`` needs padding, cropping, a cast or
    compaction; ``pad_left`` may be negative (crop). Positions outside ``x`` are zero.
    """
    n, c, length = x.shape
    if pad_left == 0 and span <= length and x.dtype == dtype and x.flags.c_contiguous:
        return x
    buf = np.zeros((n, c, span), dtype=dtype)
    src_lo = max(0, -pad_left)
    dst_lo = max(0, pad_left)
    m = min(length - src_lo, span - dst_lo)
    if m > 0:
        buf[:, :, dst_lo : dst_lo + m] = x[:, :, src_lo : src_lo + m]
    return buf


def phase_split(x: np.ndarray, pad_left: int, span: int, stride: int, dtype: np.dtype) -> np.ndarray:
    """``P[n, c, r, j] = xpad[n, c, j*stride + r]``, shape (N, C, stride, ceil(span/stride)).

    Tap ``k`` of output ``i`` reads ``xpad[i*s + k*d] = P[..., r, i + q]`` with
    ``(q, r) = divmod(k*d, s)``: every tap becomes a unit-stride (BLAS-friendly) slice.
    For stride 1 this is a view of :func:`padded` (no copy when ``x`` can be used as is).
    """
    if stride == 1:
        return padded(x, pad_left, span, dtype)[:, :, None, :span]
    n, c, length = x.shape
    lq = -(-span // stride)
    buf = np.zeros((n, c, stride, lq), dtype=dtype)
    for r in range(stride):
        # xpad[j*s + r] = x[j*s + r - pad_left] for 0 <= that < length, j < lq
        j0 = max(0, -((r - pad_left) // stride))
        j1 = min(lq, (length - 1 - r + pad_left) // stride + 1)
        if j1 > j0:
            src = j0 * stride + r - pad_left
            buf[:, :, r, j0:j1] = x[:, :, src : src + (j1 - j0 - 1) * stride + 1 : stride]
    return buf


def windows(xp: np.ndarray, out_len: int, k_size: int, stride: int, dilation: int) -> np.ndarray:
    """Read-only view ``V[n, c, k, i] = xp[n, c, i*stride + k*dilation]`` of a C-contiguous ``xp``."""
    sn, sc, sl = xp.strides
    return np.ndarray(
        (xp.shape[0], xp.shape[1], k_size, out_len),
        dtype=xp.dtype,
        buffer=xp,
        strides=(sn, sc, dilation * sl, stride * sl),
    )


def tap_range(offset: int, stride: int, pad_left: int, out_len: int, length: int) -> tuple[int, int]:
    """Outputs ``i`` in ``[i0, i1)`` whose tap ``t = i*stride - pad_left + offset`` is in ``[0, length)``."""
    base = offset - pad_left
    i0 = max(0, -(base // stride))
    i1 = min(out_len, (length - 1 - base) // stride + 1)
    return i0, max(i0, i1)
