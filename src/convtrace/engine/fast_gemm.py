"""GEMM-based algorithms for the three primitives (dense and grouped convolutions).

Each function takes the primitive's arguments plus the compute dtype ``cdt`` and returns a
freshly allocated array in ``cdt``; :mod:`convtrace.engine.fast` picks one per shape.

* ``*_taps``: one batched GEMM per kernel tap (or per full group of taps sharing a phase
  offset, see :func:`tap_groups`), accumulated, on unit-stride views of the phase-split
  input (:func:`~.fast_layout.phase_split`); depthwise taps (one input and one output
  channel per group) are elementwise products instead.
* ``*_im2col``: copy the receptive fields, then one GEMM per tile (batch items or a run
  of positions, so that the column buffer stays bounded); its adjoint, col2im (one GEMM
  for all taps, then strided scatter-adds), runs on worker threads in :mod:`.fast_threads`.
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

from .fast_layout import phase_split, span_of, tap_range, tile_budget, tile_shape, tiles, window_tile

__all__ = [
    "forward_tile",
    "weight_grad_tile",
    "field_major",
    "tap_groups",
    "forward_taps",
    "forward_im2col",
    "input_grad_taps",
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


def _scratch(shape: tuple[int, ...], capacity: np.ndarray) -> np.ndarray:
    """A C-contiguous array of ``shape`` over the start of the flat buffer ``capacity``."""
    return capacity[: math.prod(shape)].reshape(shape)


def _store(y: np.ndarray, n0: int, l0: int, tile: np.ndarray) -> None:
    """``y[n0 + j, :, l0 + i] = tile[:, j, i]`` (``tile`` laid out channel-major, items inside)."""
    items, positions = tile.shape[1:]
    y[n0 : n0 + items, :, l0 : l0 + positions] = tile.transpose(1, 0, 2)


def forward_taps(
    x: np.ndarray, w: np.ndarray, stride: int, pad_left: int, out_len: int, dilation: int, groups: int,
    cdt: np.dtype,
) -> np.ndarray:
    """Forward as ``y = Σ W_group @ x_group``: one batched GEMM per tap group, accumulated.

    Stride 1: one GEMM per tap. Strided: taps sharing an offset are contracted together
    over (channel, phase) of the phase-split input (:func:`tap_groups`), a space-to-depth
    view that needs no column copy. Tiles (:func:`~.fast_layout.tile_shape`) bound the
    phase-split copy and the accumulator to the scratch budget.
    """
    n, c_in, _ = x.shape
    c_out, cg, k_size = w.shape
    og = c_out // groups
    w4 = w.astype(cdt, copy=False).reshape(groups, og, cg, k_size)
    entries = [(q, r0, np.take(w4, taps, axis=-1).reshape(groups, og, cg * len(taps)), len(taps))
               for q, r0, taps in tap_groups(k_size, stride, dilation)]
    y = np.empty((n, c_out, out_len), dtype=cdt)
    step_n, step_l = tile_shape(n, out_len, (2 * c_out + 2 * c_in * stride) * cdt.itemsize)
    for n0, m, l0, lc in tiles(n, out_len, step_n, step_l):
        span = span_of(lc, k_size, stride, dilation)
        ph = phase_split(x[n0 : n0 + m], pad_left - l0 * stride, span, stride, cdt)
        ph = ph.reshape(m, groups, cg, stride, ph.shape[-1])
        acc = np.empty((m, groups, og, lc), dtype=cdt)
        tmp = np.empty_like(acc) if len(entries) > 1 else acc
        for idx, (q, r0, wq, width) in enumerate(entries):
            _tap_product(wq, _group_operand(ph, q, r0, width, lc), tmp if idx else acc)
            if idx:
                acc += tmp
        y[n0 : n0 + m, :, l0 : l0 + lc] = acc.reshape(m, c_out, lc)
    return y


def forward_tile(
    x: np.ndarray, w2: np.ndarray, y: np.ndarray, tile: tuple[int, int, int, int], k_size: int,
    stride: int, pad_left: int, dilation: int, capacity: np.ndarray, out_capacity: np.ndarray,
) -> None:
    """One im2col tile ``(n0, items, l0, positions)`` of the forward, written into ``y``.

    The columns ``cols[c, k, item, i]`` are copied into ``capacity`` (a view of ``x``, or a
    padded copy of the tile's span only, at the edges, is read); then each group's
    ``W_g (C_out/G x Cg*K)`` multiplies all the tile's items and positions at once, into
    ``y`` directly for one item, else through ``out_capacity``.
    """
    n0, m, l0, lc = tile
    c_in = x.shape[1]
    groups, og, field = w2.shape
    cdt = w2.dtype
    win = window_tile(x, n0, m, l0, lc, k_size, stride, pad_left, dilation, cdt)
    cols = _scratch((c_in, k_size, m, lc), capacity)
    np.copyto(cols, win.transpose(1, 2, 0, 3))
    a = cols.reshape(groups, field, m * lc)
    if m == 1:
        np.matmul(w2, a, out=y[n0, :, l0 : l0 + lc].reshape(groups, og, lc))
    else:
        out = _scratch((groups, og, m * lc), out_capacity)
        np.matmul(w2, a, out=out)
        _store(y, n0, l0, out.reshape(groups * og, m, lc))


def forward_im2col(
    x: np.ndarray, w: np.ndarray, stride: int, pad_left: int, out_len: int, dilation: int, groups: int,
    cdt: np.dtype,
) -> np.ndarray:
    """Forward as one GEMM per group and tile on the copied receptive fields (im2col).

    Tiles (:func:`~.fast_layout.tile_shape`: whole items, or a run of positions of one)
    keep the reused column buffer within :func:`~.fast_layout.tile_budget` (``TILE_BYTES``,
    or less for a GEMM with few rows); see :func:`forward_tile`.
    """
    n, c_in, _ = x.shape
    c_out, cg, k_size = w.shape
    w2 = w.astype(cdt, copy=False).reshape(groups, c_out // groups, cg * k_size)
    y = np.empty((n, c_out, out_len), dtype=cdt)
    # per position: its columns, and its outputs staged when a tile spans several items
    per_position = (c_in * k_size + c_out) * cdt.itemsize
    step_n, step_l = tile_shape(n, out_len, per_position, tile_budget(c_out // groups))
    capacity = np.empty(step_n * step_l * c_in * k_size, dtype=cdt)
    out_capacity = np.empty(step_n * step_l * c_out if step_n > 1 else 0, dtype=cdt)
    for tile in tiles(n, out_len, step_n, step_l):
        forward_tile(x, w2, y, tile, k_size, stride, pad_left, dilation, capacity, out_capacity)
    return y


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


#: Fewest positions (items x output positions) for which a weight gradient is computed
#: receptive field first: below it the final transpose of the weight-sized result costs more
#: than the faster GEMM gains (e.g. a 512 x 4096 gradient from 200 positions: 5 ms vs 0.3 ms).
FIELD_MAJOR_POSITIONS = 4096


def field_major(field: int, og: int, positions: int) -> bool:
    """Whether a weight-gradient GEMM computes ``cols @ gyᵀ`` (the receptive field ``Cg*K``
    first, then one transpose of the result) rather than ``gy @ colsᵀ``: when the field is
    the longer side (measured 1.05-1.15x faster GEMMs, e.g. text CNN 1500 vs 100; 1.8x slower
    the other way for wav2vec 2.0's first layer, 10 vs 512) and at least
    ``FIELD_MAJOR_POSITIONS`` positions are summed.

    >>> field_major(1500, 100, 32 * 252), field_major(10, 512, 4 * 3199), field_major(4096, 512, 200)
    (True, False, False)
    """
    return field >= og and positions >= FIELD_MAJOR_POSITIONS


def weight_grad_tile(
    x: np.ndarray, gy: np.ndarray, out: np.ndarray, tile: tuple[int, int, int, int], first: bool,
    stride: int, pad_left: int, dilation: int, capacity: np.ndarray, gy_capacity: np.ndarray,
) -> None:
    """One im2col tile's product into ``out``: ``cols[tile] @ gy[tile]ᵀ`` as ``(G, Cg*K,
    C_out/G)`` when ``first`` (:func:`field_major`), else ``gy[tile] @ cols[tile]ᵀ`` as
    ``(G, C_out/G, Cg*K)``."""
    n0, m, l0, lc = tile
    c_in, c_out = x.shape[1], gy.shape[1]
    groups = out.shape[0]
    og = c_out // groups
    field = out.shape[1] * out.shape[2] // og
    k_size = field * groups // c_in
    cdt = out.dtype
    win = window_tile(x, n0, m, l0, lc, k_size, stride, pad_left, dilation, cdt)
    cols = _scratch((c_in, k_size, m, lc), capacity)
    np.copyto(cols, win.transpose(1, 2, 0, 3))
    if m == 1 and gy.dtype == cdt:
        gyt = gy[n0, :, l0 : l0 + lc].reshape(groups, og, lc)
    else:
        gyt = _scratch((c_out, m, lc), gy_capacity)
        np.copyto(gyt, gy[n0 : n0 + m, :, l0 : l0 + lc].transpose(1, 0, 2))
        gyt = gyt.reshape(groups, og, m * lc)
    cols3 = cols.reshape(groups, field, m * lc)
    if first:
        np.matmul(cols3, gyt.swapaxes(-1, -2), out=out)
    else:
        np.matmul(gyt, cols3.swapaxes(-1, -2), out=out)


def weight_grad_im2col(
    x: np.ndarray, gy: np.ndarray, kernel_size: int, stride: int, pad_left: int, dilation: int, groups: int,
    cdt: np.dtype,
) -> np.ndarray:
    """``gw = Σ gy[tile] @ cols[tile]ᵀ`` (or its transpose, :func:`field_major`): one GEMM per
    group and tile of copied receptive fields, the first tile's straight into the result.

    Tiles as in :func:`forward_im2col` (the output gradient's tile is gathered alongside
    when it spans several items), so the scratch stays within about ``TILE_BYTES``.
    """
    n, c_in, _ = x.shape
    _, c_out, out_len = gy.shape
    cg, og = c_in // groups, c_out // groups
    first = field_major(cg * kernel_size, og, n * out_len)
    gwt = np.zeros((groups, cg * kernel_size, og) if first else (groups, og, cg * kernel_size), dtype=cdt)
    per_position = (c_in * kernel_size + c_out) * cdt.itemsize
    step_n, step_l = tile_shape(n, out_len, per_position, tile_budget(og))
    capacity = np.empty(step_n * step_l * c_in * kernel_size, dtype=cdt)
    gy_capacity = np.empty(step_n * step_l * c_out, dtype=cdt)
    tmp: np.ndarray | None = None
    for index, tile in enumerate(tiles(n, out_len, step_n, step_l)):
        if index == 0:
            weight_grad_tile(x, gy, gwt, tile, first, stride, pad_left, dilation, capacity, gy_capacity)
            continue
        tmp = np.empty_like(gwt) if tmp is None else tmp
        weight_grad_tile(x, gy, tmp, tile, first, stride, pad_left, dilation, capacity, gy_capacity)
        gwt += tmp
    gw = np.ascontiguousarray(gwt.transpose(0, 2, 1)) if first else gwt
    return gw.reshape(c_out, cg, kernel_size)


def flip_kernel(w: np.ndarray, groups: int, cdt: np.dtype) -> np.ndarray:
    """The stride-1 input gradient's forward kernel: per group transposed and reversed.

    ``gx = forward(gy, flip_kernel(w), 1, (K-1)*d - pad_left, length, d, groups)``.
    """
    c_out, cg, k_size = w.shape
    w4 = w.astype(cdt, copy=False).reshape(groups, c_out // groups, cg, k_size)
    return np.ascontiguousarray(w4.transpose(0, 2, 1, 3)[..., ::-1]).reshape(groups * cg, -1, k_size)
