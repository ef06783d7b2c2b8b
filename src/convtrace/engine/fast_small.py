"""Fewest-call algorithms for small problems, where NumPy's per-call overhead dominates.

Every index a small call needs depends on the shape numbers only, so it is computed once
and cached (:func:`gather_index`, :func:`scatter_matrix`). A call then costs a handful of
NumPy operations: one gather of the receptive fields (out-of-range taps read a zero slot
appended to the input), one GEMM, and for the input gradient one product with a 0/1
scatter matrix. Each sums exactly the products of the loop reference (plus exact zeros),
so float64 agrees with it to rounding.

>>> import numpy as np
>>> f64 = np.dtype(np.float64)
>>> gather_index(4, 2, 3, 2, 1, 1).tolist()  # taps x outputs; 4 is the zero slot
[[4, 1], [0, 2], [1, 3]]
>>> forward_small(np.ones((1, 1, 4)), np.ones((1, 1, 3)), 2, 1, 2, 1, 1, f64).tolist()
[[[2.0, 3.0]]]
>>> input_grad_small(np.ones((1, 1, 2)), np.ones((1, 1, 3)), 4, 2, 1, 1, 1, f64).tolist()
[[[1.0, 2.0, 1.0, 1.0]]]
>>> weight_grad_small(np.ones((1, 1, 4)), np.ones((1, 1, 2)), 3, 2, 1, 1, 1, f64).tolist()
[[[1.0, 2.0, 2.0]]]
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = [
    "SMALL_SCATTER",
    "gather_index",
    "scatter_matrix",
    "forward_small",
    "input_grad_small",
    "weight_grad_small",
]

#: Largest scatter matrix (``K * L_out * L`` entries) the small input gradient builds.
SMALL_SCATTER = 1 << 14


@lru_cache(maxsize=512)
def gather_index(
    length: int, out_len: int, k_size: int, stride: int, pad_left: int, dilation: int
) -> np.ndarray:
    """``idx[k, i] = i*stride - pad_left + k*dilation``, or ``length`` (a zero slot) where
    that falls outside ``[0, length)``. Read-only, cached."""
    t = np.arange(out_len)[None, :] * stride - pad_left + np.arange(k_size)[:, None] * dilation
    idx = np.where((t >= 0) & (t < length), t, length)
    idx.flags.writeable = False
    return idx


@lru_cache(maxsize=512)
def scatter_matrix(
    length: int, out_len: int, k_size: int, stride: int, pad_left: int, dilation: int, dtype: np.dtype
) -> np.ndarray:
    """``S[(k, i), t] = 1`` where tap ``k`` of output ``i`` reads input ``t`` (else 0):
    shape ``(K*L_out, length)``. Read-only, cached."""
    idx = gather_index(length, out_len, k_size, stride, pad_left, dilation).reshape(-1)
    s = np.zeros((idx.size, length + 1), dtype=dtype)
    s[np.arange(idx.size), idx] = 1
    s = np.ascontiguousarray(s[:, :length])
    s.flags.writeable = False
    return s


def _columns(
    x: np.ndarray, out_len: int, k_size: int, stride: int, pad_left: int, dilation: int, cdt: np.dtype
) -> np.ndarray:
    """``cols[n, c, k, i] = xpad[n, c, i*stride + k*dilation]`` (a fresh array, in ``cdt``)."""
    n, c, length = x.shape
    xe = np.zeros((n, c, length + 1), dtype=cdt)
    xe[:, :, :length] = x
    return xe.take(gather_index(length, out_len, k_size, stride, pad_left, dilation), axis=2)


def forward_small(
    x: np.ndarray, w: np.ndarray, stride: int, pad_left: int, out_len: int, dilation: int, groups: int,
    cdt: np.dtype,
) -> np.ndarray:
    """Forward: gather the receptive fields, then one (batched over items and groups) GEMM."""
    n = x.shape[0]
    c_out, cg, k_size = w.shape
    cols = _columns(x, out_len, k_size, stride, pad_left, dilation, cdt)
    w2 = w.astype(cdt, copy=False).reshape(groups, c_out // groups, cg * k_size)
    if n == 1 and groups == 1:  # one plain product: np.dot is the cheapest call
        y: np.ndarray = np.dot(w2[0], cols.reshape(cg * k_size, out_len))
        return y.reshape(1, c_out, out_len)
    y = np.matmul(w2, cols.reshape(n, groups, cg * k_size, out_len))
    return y.reshape(n, c_out, out_len)


def input_grad_small(
    gy: np.ndarray, w: np.ndarray, length: int, stride: int, pad_left: int, dilation: int, groups: int,
    cdt: np.dtype,
) -> np.ndarray:
    """Scatter: ``cols = Wᵀ @ gy`` (one GEMM for every tap), then ``gx = cols @ S`` with the
    0/1 :func:`scatter_matrix` adding each tap's contribution where it lands."""
    n, c_out, out_len = gy.shape
    _, cg, k_size = w.shape
    og = c_out // groups
    w2t = w.astype(cdt, copy=False).reshape(groups, og, cg * k_size).swapaxes(-1, -2)
    s = scatter_matrix(length, out_len, k_size, stride, pad_left, dilation, cdt)
    gyc = gy.astype(cdt, copy=False)
    if n == 1 and groups == 1:
        cols: np.ndarray = np.dot(w2t[0], gyc.reshape(og, out_len))
        gx: np.ndarray = np.dot(cols.reshape(cg, k_size * out_len), s)
        return gx.reshape(1, cg, length)
    cols = np.matmul(w2t, gyc.reshape(n, groups, og, out_len))
    gx = np.matmul(cols.reshape(n, groups * cg, k_size * out_len), s)
    return gx


def weight_grad_small(
    x: np.ndarray, gy: np.ndarray, kernel_size: int, stride: int, pad_left: int, dilation: int, groups: int,
    cdt: np.dtype,
) -> np.ndarray:
    """``gw[g] = Σ_n gy[n, g] @ cols[n, g]ᵀ``: one gather, one GEMM per item and group, one sum."""
    n, c_in, _ = x.shape
    _, c_out, out_len = gy.shape
    cg, og = c_in // groups, c_out // groups
    cols = _columns(x, out_len, kernel_size, stride, pad_left, dilation, cdt)
    gyc = gy.astype(cdt, copy=False)
    if n == 1 and groups == 1:
        gw: np.ndarray = np.dot(gyc.reshape(og, out_len), cols.reshape(cg * kernel_size, out_len).T)
        return gw.reshape(c_out, cg, kernel_size)
    cols = cols.reshape(n, groups, cg * kernel_size, out_len).swapaxes(-1, -2)
    per_item = np.matmul(gyc.reshape(n, groups, og, out_len), cols)
    gw = per_item.sum(axis=0)
    return gw.reshape(c_out, cg, kernel_size)
