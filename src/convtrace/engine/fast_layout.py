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

Large problems are cut into tiles (:func:`tile_shape`, :func:`tiles`): whole batch items
while they fit the scratch budget ``TILE_BYTES``, else runs of output positions of one item.
A tile reads its input through :func:`window_tile`: a view of ``x`` when the tile lies
inside it, else a zero-padded copy of just the tile's input span (its halo), so no
input-sized padded copy is ever made and the scratch memory stays bounded.

>>> tile_shape(5, 100, 8, 1600)  # 1600 bytes: two whole items of 100 positions x 8 bytes
(2, 100)
>>> [t for t in tiles(5, 100, 2, 100)]  # the last batch tile is partial
[(0, 2, 0, 100), (2, 2, 0, 100), (4, 1, 0, 100)]
>>> window_tile(x, 0, 1, 1, 2, 3, 2, 1, 1, np.dtype(np.float64))[0, 0].tolist()  # positions 1, 2
[[1.0, 3.0], [2.0, 4.0], [3.0, 0.0]]
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "compute_dtype",
    "padded",
    "phase_split",
    "windows",
    "tap_range",
    "span_of",
    "TILE_BYTES",
    "NARROW_TILE_BYTES",
    "NARROW_ROWS",
    "tile_budget",
    "MIN_TILE_POSITIONS",
    "tile_shape",
    "tiles",
    "window_tile",
]

#: Scratch budget of one tile (bytes): a few MiB, so that a tile's column buffer stays in
#: the outer caches and is reused from tile to tile (no large allocation, no page faults).
TILE_BYTES = 4 << 20
#: Scratch budget of a tile whose GEMM has at most ``NARROW_ROWS`` rows (see :func:`tile_budget`).
NARROW_TILE_BYTES = 1 << 20
#: Most GEMM rows (output channels per group) for which a tile gets ``NARROW_TILE_BYTES``.
NARROW_ROWS = 4
#: Fewest output positions in a tile (however large a position), so GEMMs stay wide.
MIN_TILE_POSITIONS = 64

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


def windows(
    xp: np.ndarray, out_len: int, k_size: int, stride: int, dilation: int, start: int = 0
) -> np.ndarray:
    """Read-only view ``V[n, c, k, i] = xp[n, c, start + i*stride + k*dilation]`` of a
    C-contiguous ``xp`` (which must hold every sample read)."""
    sn, sc, sl = xp.strides
    view: np.ndarray = np.ndarray(
        (xp.shape[0], xp.shape[1], k_size, out_len),
        dtype=xp.dtype,
        buffer=xp,
        offset=start * sl,
        strides=(sn, sc, dilation * sl, stride * sl),
    )
    return view


def tile_budget(rows: int) -> int:
    """The scratch budget of an im2col tile whose GEMM has ``rows`` rows (output channels
    per group): ``NARROW_TILE_BYTES`` for at most ``NARROW_ROWS``, else ``TILE_BYTES``.

    A GEMM with a few rows reads each copied column only a few times, so it runs at the
    speed of memory: columns that stay in a core's own cache (typically 1-2 MiB) pay, and
    so does touching less fresh scratch on a first call. Wider GEMMs run faster on longer
    tiles. (Measured with 2 threads, 1 MiB against 4 MiB: 0.58-0.92x the time for 2-4
    rows, 1.02-1.26x for 8-16 rows.)

    >>> tile_budget(4) == NARROW_TILE_BYTES, tile_budget(8) == TILE_BYTES
    (True, True)
    """
    return NARROW_TILE_BYTES if rows <= NARROW_ROWS else TILE_BYTES


def tile_shape(n: int, out_len: int, per_position: int, budget: int | None = None) -> tuple[int, int]:
    """(items, positions) per tile, so that ``items * positions * per_position <= budget`` bytes.

    ``budget`` defaults to ``TILE_BYTES``. Whole batch items when at least one fits (as
    many as fit), else a run of positions of one item, at least ``MIN_TILE_POSITIONS``
    (and at least one) long.
    """
    budget = TILE_BYTES if budget is None else budget
    per_item = max(per_position * out_len, 1)
    if per_item <= budget:
        return max(1, min(n, budget // per_item)), out_len
    run = max(budget // max(per_position, 1), min(MIN_TILE_POSITIONS, out_len), 1)
    return 1, min(run, out_len)


def tiles(n: int, out_len: int, step_n: int, step_l: int) -> list[tuple[int, int, int, int]]:
    """The tiles ``(n0, items, l0, positions)`` covering ``n`` items x ``out_len`` positions;
    the last tile along each axis may be partial (clamped)."""
    return [
        (n0, min(step_n, n - n0), l0, min(step_l, out_len - l0))
        for n0 in range(0, n, step_n)
        for l0 in range(0, out_len, step_l)
    ]


def window_tile(
    x: np.ndarray, n0: int, items: int, l0: int, positions: int, k_size: int, stride: int,
    pad_left: int, dilation: int, dtype: np.dtype,
) -> np.ndarray:
    """``V[j, c, k, i] = xpad[n0 + j, c, (l0 + i)*stride + k*dilation]``: the tile's windows.

    A view of ``x`` when the tile reads inside it and ``x`` is usable as is (dtype, layout);
    else a view of a zero-padded copy of the tile's input span only (in ``dtype``).
    """
    t0 = l0 * stride - pad_left
    span = span_of(positions, k_size, stride, dilation)
    part = x[n0 : n0 + items]
    if not (t0 >= 0 and t0 + span <= x.shape[2] and x.dtype == dtype and x.flags.c_contiguous):
        part = padded(part, -t0, span, dtype)
        t0 = 0
    return windows(part, positions, k_size, stride, dilation, start=t0)


def tap_range(offset: int, stride: int, pad_left: int, out_len: int, length: int) -> tuple[int, int]:
    """Outputs ``i`` in ``[i0, i1)`` whose tap ``t = i*stride - pad_left + offset`` is in ``[0, length)``."""
    base = offset - pad_left
    i0 = max(0, -(base // stride))
    i1 = min(out_len, (length - 1 - base) // stride + 1)
    return i0, max(i0, i1)
