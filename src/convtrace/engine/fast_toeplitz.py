"""Block-Toeplitz GEMMs for depthwise convolutions (one input and one output channel per group).

A depthwise stride-1 convolution is a different short filter per channel: elementwise
tap loops are memory-bound, and FFTs trade accuracy for speed. Instead, cut the output
into blocks of ``B >= e = (K-1)*d`` samples; block ``b`` reads input blocks ``b`` and
``b+1`` only, so per channel ``c``::

    y_blk[b] = xpad_blk[b] @ A_c[:B] + xpad_blk[b+1][:e] @ A_c[B:]

with the banded (Toeplitz) matrix ``A_c[u + k*d, u] = w[c, k]``: two batched GEMMs per
call. They form exactly the products of a direct convolution (plus exact zeros), so the
result agrees with the loop reference to rounding, unlike an FFT, whose error scales with
the whole signal. The weight gradient sums the same products along the band's diagonals.
The input gradient needs no code here: for stride 1 it is a forward convolution with the
flipped kernel (see :func:`convtrace.engine.fast.input_grad_algorithm`).

>>> import numpy as np
>>> x = np.arange(6.0).reshape(1, 1, 6); w = np.array([[[1.0, 10.0]]])
>>> f64 = np.dtype(np.float64)
>>> forward_toeplitz(x, w, 1, 1, 6, 1, 1, f64).tolist()
[[[0.0, 10.0, 21.0, 32.0, 43.0, 54.0]]]
>>> weight_grad_toeplitz(x, np.ones((1, 1, 6)), 2, 1, 1, 1, 1, f64).tolist()
[[[10.0, 15.0]]]
"""

from __future__ import annotations

import numpy as np

from .fast_layout import padded, tile_shape, tiles

__all__ = ["block_size", "forward_toeplitz", "weight_grad_toeplitz"]

#: Smallest block: below it the per-GEMM overhead dominates; above ``e`` each output costs
#: ``2*(B + e)`` flops, so blocks stay as short as the band allows.
MIN_BLOCK = 32


def block_size(k_size: int, dilation: int) -> int:
    """Output block length ``B``: at least the band's extent ``e = (K-1)*d``."""
    return max(MIN_BLOCK, (k_size - 1) * dilation)


def _band(w: np.ndarray, block: int, dilation: int, cdt: np.dtype) -> np.ndarray:
    """``A[c, u + k*d, u] = w[c, 0, k]`` for ``u < B``: shape (C, B + e, B)."""
    c, _, k_size = w.shape
    extent = (k_size - 1) * dilation
    band = np.zeros((c, block + extent, block), dtype=cdt)
    u = np.arange(block)
    for k in range(k_size):
        band[:, u + k * dilation, u] = w[:, 0, k, None]
    return band


def _blocks(a: np.ndarray, pad_left: int, n_blocks: int, block: int, cdt: np.dtype) -> np.ndarray:
    """Zero-padded ``a`` cut into (N, C, n_blocks, B) blocks."""
    ap = padded(a, pad_left, n_blocks * block, cdt)[:, :, : n_blocks * block]
    if not ap.flags.c_contiguous:
        ap = np.ascontiguousarray(ap)
    return ap.reshape(a.shape[0], a.shape[1], n_blocks, block)


def forward_toeplitz(
    x: np.ndarray, w: np.ndarray, stride: int, pad_left: int, out_len: int, dilation: int, groups: int,
    cdt: np.dtype,
) -> np.ndarray:
    """Depthwise stride-1 forward as two banded batched GEMMs per output block.

    Tiles of (items, blocks) within ``TILE_BYTES`` bound the padded input blocks and the
    products (see :func:`~.fast_layout.tile_shape`).
    """
    assert stride == 1 and w.shape[:2] == (groups, 1) and x.shape[1] == groups
    n, c, _ = x.shape
    k_size = w.shape[2]
    extent = (k_size - 1) * dilation
    block = block_size(k_size, dilation)
    nb = -(-out_len // block)
    band = _band(w.astype(cdt, copy=False), block, dilation, cdt)
    y = np.empty((n, c, out_len), dtype=cdt)
    step_n, step_b = tile_shape(n, nb, 4 * c * block * cdt.itemsize)
    for n0, m, b0, bc in tiles(n, nb, step_n, step_b):
        xb = _blocks(x[n0 : n0 + m], pad_left - b0 * block, bc + 1, block, cdt)
        yt = np.matmul(xb[:, :, :bc], band[:, :block])
        if extent:
            yt += np.matmul(xb[:, :, 1:, :extent], band[:, block:])
        l0 = b0 * block
        l1 = min(out_len, l0 + bc * block)
        y[n0 : n0 + m, :, l0:l1] = yt.reshape(m, c, bc * block)[:, :, : l1 - l0]
    return y


def weight_grad_toeplitz(
    x: np.ndarray, gy: np.ndarray, kernel_size: int, stride: int, pad_left: int, dilation: int, groups: int,
    cdt: np.dtype,
) -> np.ndarray:
    """Depthwise stride-1 weight gradient: block outer products summed along the band.

    ``M[c, u, v] = Σ_{n,b} gy_blk[b][u] · xpad[b*B + v]`` for ``v < B + e`` (two GEMMs per
    item and tile of blocks, tiles within ``TILE_BYTES``), then ``gw[c, 0, k] = Σ_u M[c, u, u + k*d]``.
    """
    assert stride == 1 and x.shape[1] == groups and gy.shape[1] == groups
    n, c, _ = x.shape
    out_len = gy.shape[2]
    extent = (kernel_size - 1) * dilation
    block = block_size(kernel_size, dilation)
    nb = -(-out_len // block)
    acc = np.zeros((c, block, block + extent), dtype=cdt)
    tmp = np.empty_like(acc)
    _, step_b = tile_shape(1, nb, 3 * c * block * cdt.itemsize)
    for i, _m, b0, bc in tiles(n, nb, 1, step_b):
        xb = _blocks(x[i : i + 1], pad_left - b0 * block, bc + 1, block, cdt)[0]
        gyb = _blocks(gy[i : i + 1], -b0 * block, bc, block, cdt)[0].swapaxes(-1, -2)
        np.matmul(gyb, xb[:, :bc], out=tmp[:, :, :block])
        if extent:
            np.matmul(gyb, xb[:, 1:, :extent], out=tmp[:, :, block:])
        acc += tmp
    s0, s1, s2 = acc.strides
    diagonals = np.ndarray(
        (c, kernel_size, block), dtype=cdt, buffer=acc, strides=(s0, dilation * s2, s1 + s2)
    )
    gw: np.ndarray = diagonals.sum(axis=-1)
    return gw.reshape(c, 1, kernel_size)
