"""GEMM-based algorithms for the three primitives (dense and grouped convolutions).

Each function takes the primitive's arguments plus the compute dtype ``cdt`` and returns a
freshly allocated array in ``cdt``; :mod:`convtrace.engine.fast` picks one per shape.

* ``*_taps``: one batched GEMM per kernel tap (or per full group of taps sharing a phase
  offset, see :func:`tap_groups`), accumulated, on unit-stride views of the phase-split
  input (:func:`~.fast_layout.phase_split`); depthwise taps (one input and one output
  channel per group) are elementwise products instead.
* ``*_im2col``: copy the receptive fields, then one GEMM per tile (batch items or a run
  of positions, so that the column buffer stays bounded); ``input_grad_col2im`` is its
  adjoint (one GEMM for all taps, then strided scatter-adds).
* ``flip_kernel``: the stride-1 input gradient is a forward convolution with this kernel.

>>> import numpy as np
>>> x, w = np.arange(8.0).reshape(1, 2, 4), np.ones((1, 2, 2))
>>> f64 = np.dtype(np.float64)
>>> forward_taps(x, w, 1, 0, 3, 1, 1, f64).tolist()
[[[10.0, 14.0, 18.0]]]
>>> forward_im2col(x, w, 1, 0, 3, 1, 1, f64).tolist()
[[[10.0, 14.0, 18.0]]]
"""

from __future__ import annotations

import math

import numpy as np

from .fast_layout import padded, phase_split, span_of, tap_range, windows

__all__ = [
    "tap_groups",
    "forward_taps",
    "forward_im2col",
    "input_grad_taps",
    "input_grad_col2im",
    "weight_grad_taps",
    "weight_grad_im2col",
    "flip_kernel",
]


def tap_groups(k_size: int, stride: int, dilation: int) -> list[tuple[int, int, list[int]]]:
    """Taps as GEMM operands on the phase-split input: ``(q, r0, taps)`` entries.

    Tap ``k`` reads phase row ``r`` at offset ``q`` with ``k*d = q*s + r``. The taps sharing
    an offset ``q`` and covering all ``s`` phases form one entry (``r0 = 0``, taps in phase
    order) whose operand is a single (channel, phase)-deep view; any other tap is an entry
    of its own. With stride 1 every tap is its own full group.

    >>> tap_groups(16, 8, 1)[1]  # a HiFi-GAN upsampler's second half: one 8-phase group
    (1, 0, [8, 9, 10, 11, 12, 13, 14, 15])
    >>> tap_groups(3, 2, 1)
    [(0, 0, [0, 1]), (1, 0, [2])]
    """
    by_offset: dict[int, dict[int, int]] = {}
    for k in range(k_size):
        q, r = divmod(k * dilation, stride)
        by_offset.setdefault(q, {})[r] = k
    entries: list[tuple[int, int, list[int]]] = []
    for q, phases in by_offset.items():
        if len(phases) == stride:
            entries.append((q, 0, [phases[r] for r in range(stride)]))
        else:
            entries.extend((q, r, [k]) for r, k in phases.items())
    return entries


def _group_operand(ph: np.ndarray, q: int, r0: int, width: int, out_len: int) -> np.ndarray:
    """``ph[n, g, c, r0 + j, q + i]`` as (N, G, Cg*width, L'): a view (see :func:`tap_groups`)."""
    n, groups, cg = ph.shape[:3]
    return ph[:, :, :, r0 : r0 + width, q : q + out_len].reshape(n, groups, cg * width, out_len)


def _tap_product(wk: np.ndarray, xk: np.ndarray, out: np.ndarray) -> None:
    """``out[n, g] = wk[g] @ xk[n, g]``; a broadcast product when each group is 1 x 1."""
    if wk.shape[-2:] == (1, 1):
        np.multiply(wk, xk, out=out)
    else:
        np.matmul(wk, xk, out=out)


#: Scratch (elements) always allowed to a tile, however small the problem: fewer calls.
MIN_SCRATCH = 1 << 14


def _tiles(n: int, length: int, per_position: int, budget: int) -> tuple[int, int]:
    """(batch items, positions) per tile so that ``items*positions*per_position <= budget``.

    The budget is at least ``MIN_SCRATCH``. Whole batch items when one fits, else a run of
    positions of one item (at least one).
    """
    budget = max(budget, MIN_SCRATCH)
    per_item = per_position * length
    if per_item <= budget:
        return max(1, min(n, budget // max(per_item, 1))), length
    return 1, max(1, budget // per_position)


def _scratch(shape: tuple[int, ...], capacity: np.ndarray) -> np.ndarray:
    """A C-contiguous array of ``shape`` over the start of the flat buffer ``capacity``."""
    return capacity[: math.prod(shape)].reshape(shape)


def forward_taps(
    x: np.ndarray, w: np.ndarray, stride: int, pad_left: int, out_len: int, dilation: int, groups: int,
    cdt: np.dtype,
) -> np.ndarray:
    """Forward as ``y = Σ W_group @ x_group``: one batched GEMM per tap group, accumulated.

    Stride 1: one GEMM per tap. Strided: taps sharing an offset are contracted together
    over (channel, phase) of the phase-split input (:func:`tap_groups`), a space-to-depth
    view that needs no column copy.
    """
    n = x.shape[0]
    c_out, cg, k_size = w.shape
    og = c_out // groups
    ph = phase_split(x, pad_left, span_of(out_len, k_size, stride, dilation), stride, cdt)
    ph = ph.reshape(n, groups, cg, stride, ph.shape[-1])
    w4 = w.astype(cdt, copy=False).reshape(groups, og, cg, k_size)
    y = np.empty((n, groups, og, out_len), dtype=cdt)
    tmp = np.empty_like(y) if k_size > 1 else y
    for idx, (q, r0, taps) in enumerate(tap_groups(k_size, stride, dilation)):
        wq = np.take(w4, taps, axis=-1).reshape(groups, og, cg * len(taps))
        _tap_product(wq, _group_operand(ph, q, r0, len(taps), out_len), tmp if idx else y)
        if idx:
            y += tmp
    return y.reshape(n, c_out, out_len)


def forward_im2col(
    x: np.ndarray, w: np.ndarray, stride: int, pad_left: int, out_len: int, dilation: int, groups: int,
    cdt: np.dtype,
) -> np.ndarray:
    """Forward as one GEMM per tile on the copied receptive fields (im2col).

    Tiles (batch items, or runs of output positions) keep the column buffer within 1.5x
    the output's size.
    """
    n, c_in, _ = x.shape
    c_out, cg, k_size = w.shape
    og = c_out // groups
    xp = padded(x, pad_left, span_of(out_len, k_size, stride, dilation), cdt)
    win = windows(xp, out_len, k_size, stride, dilation)
    w2 = w.astype(cdt, copy=False).reshape(groups, og, cg * k_size)
    step_n, step_l = _tiles(n, out_len, c_in * k_size, 3 * c_out * out_len * n // 2)
    if step_n == n:  # a single tile: the reshape makes the column copy
        return np.matmul(w2, win.reshape(n, groups, cg * k_size, out_len)).reshape(n, c_out, out_len)
    y = np.empty((n, groups, og, out_len), dtype=cdt)
    capacity = np.empty(step_n * c_in * k_size * step_l, dtype=cdt)
    for n0 in range(0, n, step_n):
        m = min(step_n, n - n0)
        for l0 in range(0, out_len, step_l):
            lc = min(step_l, out_len - l0)
            cols = _scratch((m, c_in, k_size, lc), capacity)
            np.copyto(cols, win[n0 : n0 + m, :, :, l0 : l0 + lc])
            np.matmul(w2, cols.reshape(m, groups, cg * k_size, lc), out=y[n0 : n0 + m, :, :, l0 : l0 + lc])
    return y.reshape(n, c_out, out_len)


def input_grad_taps(
    gy: np.ndarray, w: np.ndarray, length: int, stride: int, pad_left: int, dilation: int, groups: int,
    cdt: np.dtype,
) -> np.ndarray:
    """Scatter as ``gx[taps of k] += W_kᵀ @ gy``: one GEMM per tap, clipped to ``[0, length)``."""
    n, c_out, out_len = gy.shape
    _, cg, k_size = w.shape
    og = c_out // groups
    gx = np.zeros((n, groups, cg, length), dtype=cdt)
    gyg = gy.astype(cdt, copy=False).reshape(n, groups, og, out_len)
    w4 = w.astype(cdt, copy=False).reshape(groups, og, cg, k_size)
    wk = np.ascontiguousarray(w4.transpose(3, 0, 2, 1))  # (K, G, Cg, C_out/G)
    buf = np.empty((n, groups, cg, out_len), dtype=cdt)
    for k in range(k_size):
        i0, i1 = tap_range(k * dilation, stride, pad_left, out_len, length)
        if i1 == i0:
            continue
        part = buf[..., : i1 - i0]
        _tap_product(wk[k], gyg[..., i0:i1], part)
        t0 = i0 * stride - pad_left + k * dilation
        gx[..., t0 : t0 + (i1 - i0 - 1) * stride + 1 : stride] += part
    return gx.reshape(n, groups * cg, length)


def input_grad_col2im(
    gy: np.ndarray, w: np.ndarray, length: int, stride: int, pad_left: int, dilation: int, groups: int,
    cdt: np.dtype,
) -> np.ndarray:
    """Scatter as one GEMM per tile for all taps, ``cols = Wᵀ @ gy[n, :, tile]``, then K strided adds.

    The weight is used in place (a transposed view), so no weight-sized copy is made: the
    choice when the weight outweighs the activations (e.g. a ConvTranspose1d upsampler).
    Tiles (runs of positions of one item) keep the column buffer within twice the output.
    """
    n, c_out, out_len = gy.shape
    _, cg, k_size = w.shape
    og = c_out // groups
    w2t = w.astype(cdt, copy=False).reshape(groups, og, cg * k_size).swapaxes(-1, -2)
    gyg = gy.astype(cdt, copy=False).reshape(n, groups, og, out_len)
    gx = np.zeros((n, groups, cg, length), dtype=cdt)
    _, step = _tiles(1, out_len, cg * groups * k_size, 2 * gx.size)
    capacity = np.empty(groups * cg * k_size * step, dtype=cdt)
    taps = [(k, *tap_range(k * dilation, stride, pad_left, out_len, length)) for k in range(k_size)]
    for i in range(n):
        for l0 in range(0, out_len, step):
            lc = min(step, out_len - l0)
            cols = _scratch((groups, cg, k_size, lc), capacity)
            np.matmul(w2t, gyg[i, :, :, l0 : l0 + lc], out=cols.reshape(groups, cg * k_size, lc))
            for k, i0, i1 in taps:
                a0, a1 = max(i0, l0), min(i1, l0 + lc)
                if a1 > a0:
                    t0 = a0 * stride - pad_left + k * dilation
                    gx[i, ..., t0 : t0 + (a1 - a0 - 1) * stride + 1 : stride] += cols[:, :, k, a0 - l0 : a1 - l0]
    return gx.reshape(n, groups * cg, length)


def weight_grad_taps(
    x: np.ndarray, gy: np.ndarray, kernel_size: int, stride: int, pad_left: int, dilation: int, groups: int,
    cdt: np.dtype,
) -> np.ndarray:
    """Stride 1: ``gw[:, :, k] = Σ_n gy[n, :, taps] @ x[n, :, shifted]ᵀ``, one GEMM per tap and item.

    Each tap's positions are clipped to those reading inside ``x`` (:func:`tap_range`), so
    the operands are views of the input, with no padded copy; depthwise taps are one einsum.
    """
    assert stride == 1
    n, c_in, length = x.shape
    _, c_out, out_len = gy.shape
    cg, og = c_in // groups, c_out // groups
    xg = x.astype(cdt, copy=False).reshape(n, groups, cg, length)
    gyg = gy.astype(cdt, copy=False).reshape(n, groups, og, out_len)
    gw = np.zeros((groups, og, cg, kernel_size), dtype=cdt)
    acc, tmp = np.empty((groups, og, cg), dtype=cdt), np.empty((groups, og, cg), dtype=cdt)
    for k in range(kernel_size):
        i0, i1 = tap_range(k * dilation, 1, pad_left, out_len, length)
        if i1 == i0 or n == 0:
            continue
        t0 = i0 - pad_left + k * dilation
        xk, gyk = xg[..., t0 : t0 + i1 - i0], gyg[..., i0:i1]
        if og == cg == 1:
            gw[:, 0, 0, k] = np.einsum("ngi,ngi->g", gyk[:, :, 0], xk[:, :, 0])
            continue
        for i in range(n):
            np.matmul(gyk[i], xk[i].swapaxes(-1, -2), out=tmp if i else acc)
            if i:
                acc += tmp
        gw[..., k] = acc
    return gw.reshape(c_out, cg, kernel_size)


def weight_grad_im2col(
    x: np.ndarray, gy: np.ndarray, kernel_size: int, stride: int, pad_left: int, dilation: int, groups: int,
    cdt: np.dtype,
) -> np.ndarray:
    """``gw = Σ gy[n, :, tile] @ cols[tile]ᵀ``: one GEMM per tile of copied receptive fields.

    A tile is one batch item, or a run of its output positions when the item's column
    buffer would exceed a quarter of the larger input plus half the weight's size.
    """
    n, c_in, _ = x.shape
    _, c_out, out_len = gy.shape
    cg, og = c_in // groups, c_out // groups
    xp = padded(x, pad_left, span_of(out_len, kernel_size, stride, dilation), cdt)
    win = windows(xp, out_len, kernel_size, stride, dilation)
    gyg = gy.astype(cdt, copy=False).reshape(n, groups, og, out_len)
    gw = np.zeros((groups, og, cg * kernel_size), dtype=cdt)
    tmp = np.empty_like(gw)
    _, step = _tiles(1, out_len, c_in * kernel_size, max(x.size, gy.size) // 4 + gw.size // 2)
    capacity = np.empty(c_in * kernel_size * step, dtype=cdt)
    for i in range(n):
        for l0 in range(0, out_len, step):
            lc = min(step, out_len - l0)
            cols = _scratch((c_in, kernel_size, lc), capacity)
            np.copyto(cols, win[i, :, :, l0 : l0 + lc])
            cols_t = cols.reshape(groups, cg * kernel_size, lc).swapaxes(-1, -2)
            np.matmul(gyg[i, :, :, l0 : l0 + lc], cols_t, out=tmp)
            gw += tmp
    return gw.reshape(c_out, cg, kernel_size)


def flip_kernel(w: np.ndarray, groups: int, cdt: np.dtype) -> np.ndarray:
    """The stride-1 input gradient's forward kernel: per group transposed and reversed.

    ``gx = forward(gy, flip_kernel(w), 1, (K-1)*d - pad_left, length, d, groups)``.
    """
    c_out, cg, k_size = w.shape
    w4 = w.astype(cdt, copy=False).reshape(groups, c_out // groups, cg, k_size)
    return np.ascontiguousarray(w4.transpose(0, 2, 1, 3)[..., ::-1]).reshape(groups * cg, -1, k_size)
