"""Worker-thread algorithms: im2col in small GEMMs, for convolutions with small per-group
GEMMs, and col2im (:func:`input_grad_col2im`), whose workers own blocks of channels.

A grouped convolution with tens of channels per group (ResNeXt-style) multiplies, per
group, a small ``C_out/G x Cg*K`` weight by a long column matrix. One big GEMM per group
runs OpenBLAS's general kernel at about half its speed on such thin shapes. Cut into tiles
of at most ``SMALL_GEMM`` multiply-adds per group instead, every GEMM stays small and
cache-resident, and worker threads (NumPy releases the GIL in its copies and products)
take chunks of the work from a shared queue side by side.

* **Chunks** (:func:`_chunk_plan`): whole items, or runs of positions when the batch is
  small, about ``CHUNKS_PER_WORKER`` per worker.
* **Tiles** (:func:`_column_tiles`): per item, ``positions`` output positions at a time,
  the columns copied into the worker's column buffer (from a window view of ``x`` itself;
  in the few tiles at the edges, or when ``x`` needs a cast, from a padded copy of the
  tile's own span), then one GEMM per group.
* **Weight gradient**: the same columns times the output gradient read in place
  (transposed view), with the receptive field (``Cg*K``) as the GEMM's long side; each
  worker sums its own chunks, dealt round-robin, then the workers' sums are added in
  order, so the result never depends on timing.
* **Threads**: BLAS is limited to one thread while the im2col workers run
  (:func:`single_threaded_blas`, through threadpoolctl; col2im's larger GEMMs keep BLAS's
  threads, see :func:`input_grad_col2im`), and each worker keeps its column buffer between
  calls (:func:`kept_buffer`): a worker thread's freed megabytes go back to the system and
  would be faulted in again on every call. (OpenBLAS's own idle threads spin for ~0.1 s
  after a multi-threaded call: a grouped convolution right after a large dense one runs at
  about half speed either way.)

Every tile sums the same products as :func:`~.fast_gemm.forward_tile` (so float64 agrees
with the loop reference to rounding); only the tile size and the order in which tiles run
differ.

>>> import numpy as np
>>> x = np.arange(16.0).reshape(1, 4, 4); w = np.ones((4, 2, 3))
>>> f64 = np.dtype(np.float64)
>>> forward_im2col_mt(x, w, 1, 1, 4, 1, 2, f64)[0, :, 0].tolist()
[10.0, 10.0, 42.0, 42.0]
>>> positions_per_gemm(32, 96)  # 32 x 96 x 256 <= SMALL_GEMM
256
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from typing import Any

import numpy as np

from . import fast_layout
from .fast_gemm import field_major
from .fast_layout import tap_range, tile_shape, tiles, window_tile, windows

__all__ = [
    "SMALL_GEMM",
    "MAX_WORKERS",
    "workers",
    "positions_per_gemm",
    "forward_im2col_mt",
    "input_grad_col2im",
    "kept_buffer",
    "release_kept_buffers",
    "weight_grad_im2col_mt",
]

#: Multiply-adds per GEMM up to which OpenBLAS uses its small-matrix kernels (100**3).
SMALL_GEMM = 1_000_000
#: Fewest positions per tile (below it, per-tile Python overhead dominates).
MIN_POSITIONS = 32
#: Most worker threads.
MAX_WORKERS = 8
#: Chunks per worker when the batch alone would not give each worker several (load balance).
CHUNKS_PER_WORKER = 2
#: Fewest positions per weight-gradient tile (its GEMM's contraction: longer is faster).
WEIGHT_GRAD_POSITIONS = 1024
_THREAD_VARIABLES = ("CONVTRACE_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")

_pools: dict[int, ThreadPoolExecutor] = {}  # by size, created on first use
_pool_lock = threading.Lock()


def workers() -> int:
    """Worker threads: the first positive integer among ``CONVTRACE_NUM_THREADS``,
    ``OPENBLAS_NUM_THREADS`` and ``OMP_NUM_THREADS``, else the CPUs this process may run
    on; at most ``MAX_WORKERS``."""
    for key in _THREAD_VARIABLES:
        value = os.environ.get(key, "")
        if value.isdigit() and int(value) > 0:
            return min(int(value), MAX_WORKERS)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cpus, MAX_WORKERS))


def positions_per_gemm(og: int, field: int) -> int:
    """Positions per tile: the largest power of two ``P`` with ``og * field * P <= SMALL_GEMM``
    (at least ``MIN_POSITIONS``)."""
    p = MIN_POSITIONS
    while og * field * p * 2 <= SMALL_GEMM:
        p *= 2
    return p


def _tile_positions(og: int, field: int, c_in: int, k_size: int, itemsize: int) -> int:
    """:func:`positions_per_gemm`, but a worker's column buffer within ``TILE_BYTES`` too."""
    within_budget = fast_layout.TILE_BYTES // max(c_in * k_size * itemsize, 1)
    return max(MIN_POSITIONS, min(positions_per_gemm(og, field), within_budget))


#: Largest column buffer (bytes) a worker thread keeps between calls.
KEPT_SCRATCH = 8 << 20
_kept = threading.local()
_kept_generation = [0]


def kept_buffer(role: str, count: int, dtype: np.dtype) -> np.ndarray:
    """A 1-D scratch buffer of ``count`` elements for ``role`` (``"cols"``, ``"product"``),
    kept by the calling thread between calls (up to ``KEPT_SCRATCH`` bytes); its contents
    are whatever the last call left. Worker threads allocate from their own malloc arenas,
    which hand freed megabytes back to the system; a buffer allocated afresh on every call
    then costs a page fault per 4 KiB (measured: ~1,600 faults and +4 ms per call when the
    grouped input and weight gradients alternate). :func:`release_kept_buffers` drops them.

    >>> a = kept_buffer("doc", 8, np.dtype(np.float64)); b = kept_buffer("doc", 4, np.dtype(np.float64))
    >>> bool(np.shares_memory(a, b))
    True
    """
    buffers: dict[tuple[str, np.dtype], np.ndarray] | None = getattr(_kept, "buffers", None)
    if buffers is None or getattr(_kept, "generation", -1) != _kept_generation[0]:
        buffers = _kept.buffers = {}
        _kept.generation = _kept_generation[0]
    kept = buffers.get((role, dtype))
    if kept is not None and kept.size >= count:
        return kept[:count]
    fresh = np.empty(count, dtype=dtype)
    if fresh.nbytes <= KEPT_SCRATCH:
        buffers[role, dtype] = fresh
    return fresh


def release_kept_buffers() -> None:
    """Drop every thread's kept scratch (each thread lets go of it at its next call; this
    thread's at once): the next call allocates afresh, as the first call does."""
    _kept_generation[0] += 1
    _kept.buffers = None


_blas_lock = threading.Lock()
_blas_state: dict[str, Any] = {"users": 0, "limiter": None, "controller": None}


def _blas_controller() -> Any:
    """threadpoolctl's controller of the BLAS libraries NumPy loaded (created once), or
    None without threadpoolctl."""
    if _blas_state["controller"] is None:
        try:
            from threadpoolctl import ThreadpoolController

            _blas_state["controller"] = ThreadpoolController().select(user_api="blas")
        except Exception:
            _blas_state["controller"] = False
    return _blas_state["controller"] or None


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """BLAS limited to one thread while worker threads run (the workers are the parallelism:
    OpenBLAS threading each worker's GEMMs as well would put several busy threads on each
    core; measured 1.2-1.4x slower on the grouped weight gradient). Process-wide, as
    threadpoolctl's limits are: the first of concurrent calls sets it, the last restores it.
    """
    controller = _blas_controller()
    if controller is None:
        yield
        return
    with _blas_lock:
        if _blas_state["users"] == 0:
            _blas_state["limiter"] = controller.limit(limits=1)
        _blas_state["users"] += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_state["users"] -= 1
            if _blas_state["users"] == 0:
                _blas_state["limiter"].restore_original_limits()
                _blas_state["limiter"] = None


def _run(jobs: list[Callable[[], object]], *, limit_blas: bool = True) -> list[object]:
    """Run the jobs on the shared pool (the first in this thread), BLAS single-threaded
    meanwhile unless ``limit_blas`` is false; results in order."""
    if len(jobs) <= 1:
        return [job() for job in jobs]
    size = len(jobs) - 1
    with _pool_lock:
        pool = _pools.get(size)
        if pool is None:
            pool = _pools[size] = ThreadPoolExecutor(max_workers=size, thread_name_prefix="convtrace")
    with single_threaded_blas() if limit_blas else nullcontext():
        futures = [pool.submit(job) for job in jobs[1:]]
        first = jobs[0]()
        return [first, *(f.result() for f in futures)]


def _split(plan: list[tuple[int, int, int, int]]) -> list[Iterator[tuple[int, int, int, int]]]:
    """One shared iterator over the plan, once per worker: each worker takes the next tile
    when it is free (CPython's list iterator hands out each tile once), so a worker whose
    core is busy with another process does fewer tiles instead of holding up the call."""
    shared = iter(plan)
    return [shared] * max(1, min(workers(), len(plan)))


def _deal(plan: list[tuple[int, int, int, int]]) -> list[Iterator[tuple[int, int, int, int]]]:
    """The plan dealt round-robin to the workers: a fixed assignment, so that sums over each
    worker's tiles (the weight gradient) add in the same order on every call."""
    count = max(1, min(workers(), len(plan)))
    return [iter(plan[i::count]) for i in range(count)]


def _chunk_plan(n: int, out_len: int, per_position: int, positions: int) -> tuple[int, int]:
    """(items, positions) per chunk: within ``TILE_BYTES`` of input span (``per_position``
    bytes per output position), and small enough that every worker gets about
    ``CHUNKS_PER_WORKER`` chunks (fewer items per chunk; for a small batch, runs of positions,
    a multiple of ``positions``, the small-GEMM tile)."""
    step_n, step_l = tile_shape(n, out_len, per_position)
    wanted = CHUNKS_PER_WORKER * workers()
    if step_n > 1:
        step_n = max(1, min(step_n, n // wanted))
    if step_n == 1 and n < wanted:
        share = -(-n * out_len // wanted)  # positions per chunk for a fair share
        step_l = min(step_l, max(positions, -(-share // positions) * positions))
    return step_n, min(step_l, out_len)


def _inside(length: int, k_size: int, stride: int, pad_left: int, dilation: int) -> tuple[int, int]:
    """Positions ``[first, stop)`` whose every tap reads inside ``x`` (no padding).

    >>> _inside(10, 3, 1, 1, 1)  # 'same' padding: positions 1..8
    (1, 9)
    """
    first = -(-pad_left // stride)
    stop = (length - 1 - (k_size - 1) * dilation + pad_left) // stride + 1
    return first, max(first, stop)


def _tile_views(cols: np.ndarray, groups: int, cg: int, k_size: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The column buffer's first tile of ``count`` positions as ``(G, Cg, K, count)`` (to
    copy into) and as ``(G, Cg*K, count)`` (the GEMM's operand)."""
    col = cols[: groups * cg * k_size * count].reshape(groups, cg, k_size, count)
    return col, col.reshape(groups, cg * k_size, count)


def _column_tiles(
    x: np.ndarray, chunk: tuple[int, int, int, int], groups: int, k_size: int, stride: int, pad_left: int,
    dilation: int, positions: int, cols: np.ndarray,
) -> Iterator[tuple[int, int, int, np.ndarray]]:
    """A chunk's small-GEMM tiles: per item and run of ``positions`` positions (the last
    one partial), the tile's columns copied into ``cols`` (cache-resident). A tile whose
    every tap reads inside ``x`` copies from one window view of ``x`` made for the chunk;
    the few tiles at the edges (and every tile when ``x`` needs a cast or compaction) copy
    from :func:`~.fast_layout.window_tile`'s padded copy of their own span, so padding never
    splits a tile. Yields ``(item, first position, count, columns as (G, Cg*K, count))``."""
    n0, items, l0, length = chunk
    end = l0 + length
    cg = x.shape[1] // groups
    first, stop = _inside(x.shape[2], k_size, stride, pad_left, dilation)
    a, b = max(l0, first), min(end, stop)
    usable = x.dtype == cols.dtype and x.flags.c_contiguous and b > a
    inside = windows(x[n0 : n0 + items], b - a, k_size, stride, dilation, start=a * stride - pad_left) if usable else None
    full = _tile_views(cols, groups, cg, k_size, positions)
    for j in range(items):
        for p0 in range(l0, end, positions):
            count = min(positions, end - p0)
            col, col2 = full if count == positions else _tile_views(cols, groups, cg, k_size, count)
            if inside is not None and a <= p0 and p0 + count <= b:
                win = inside[j, :, :, p0 - a : p0 - a + count]
            else:
                win = window_tile(x, n0 + j, 1, p0, count, k_size, stride, pad_left, dilation, cols.dtype)[0]
            np.copyto(col, win.reshape(groups, cg, k_size, count))
            yield n0 + j, p0, count, col2


def _forward_chunk(
    x: np.ndarray, w2: np.ndarray, y: np.ndarray, chunk: tuple[int, int, int, int], k_size: int, stride: int,
    pad_left: int, dilation: int, positions: int, cols: np.ndarray,
) -> None:
    """One chunk ``(n0, items, l0, length)`` of the forward: one GEMM per group and tile of
    :func:`_column_tiles`, straight into ``y``."""
    groups, og, _ = w2.shape
    for item, at, count, col2 in _column_tiles(x, chunk, groups, k_size, stride, pad_left, dilation, positions, cols):
        np.matmul(w2, col2, out=y[item, :, at : at + count].reshape(groups, og, count))


def forward_im2col_mt(
    x: np.ndarray, w: np.ndarray, stride: int, pad_left: int, out_len: int, dilation: int, groups: int,
    cdt: np.dtype,
) -> np.ndarray:
    """Forward im2col in tiles of at most ``SMALL_GEMM`` multiply-adds per group GEMM, on workers.

    Workers take chunks (:func:`_chunk_plan`: whole items, or runs of positions) from a shared
    queue; a chunk reads ``x`` in place, or a padded copy of its own span at the edges, and
    runs its small-GEMM tiles one after another through one small column buffer.
    """
    n, c_in, _ = x.shape
    c_out, cg, k_size = w.shape
    w2 = np.ascontiguousarray(w.astype(cdt, copy=False).reshape(groups, c_out // groups, cg * k_size))
    y = np.empty((n, c_out, out_len), dtype=cdt)
    positions = _tile_positions(c_out // groups, cg * k_size, c_in, k_size, cdt.itemsize)
    step_n, step_l = _chunk_plan(n, out_len, c_in * stride * cdt.itemsize, positions)

    def job(part: Iterator[tuple[int, int, int, int]]) -> Callable[[], object]:
        def run() -> None:
            cols = kept_buffer("cols", c_in * k_size * positions, cdt)
            for chunk in part:
                _forward_chunk(x, w2, y, chunk, k_size, stride, pad_left, dilation, positions, cols)

        return run

    _run([job(part) for part in _split(tiles(n, out_len, step_n, step_l))])
    return y


def _weight_grad_chunk(
    x: np.ndarray, gy: np.ndarray, acc: np.ndarray, tmp: np.ndarray, chunk: tuple[int, int, int, int],
    first: bool, stride: int, pad_left: int, dilation: int, positions: int, cols: np.ndarray,
) -> None:
    """Add one chunk's product to ``acc``, per item and tile of ``positions``: the columns
    copied as in :func:`_forward_chunk`, the output gradient read in place (a transposed
    view); ``cols @ gyᵀ`` into ``(G, Cg*K, C_out/G)`` or ``gy @ colsᵀ`` into
    ``(G, C_out/G, Cg*K)``, the longer side first (:func:`~.fast_gemm.field_major`)."""
    groups = acc.shape[0]
    cg = x.shape[1] // groups
    og = gy.shape[1] // groups
    k_size = acc.shape[1] * acc.shape[2] // (og * cg)
    for item, at, count, col2 in _column_tiles(x, chunk, groups, k_size, stride, pad_left, dilation, positions, cols):
        part = gy[item, :, at : at + count].reshape(groups, og, count)
        if first:
            np.matmul(col2, part.swapaxes(-1, -2), out=tmp)
        else:
            np.matmul(part, col2.swapaxes(-1, -2), out=tmp)
        acc += tmp


def weight_grad_im2col_mt(
    x: np.ndarray, gy: np.ndarray, kernel_size: int, stride: int, pad_left: int, dilation: int, groups: int,
    cdt: np.dtype,
) -> np.ndarray:
    """Weight gradient in chunks on workers (as :func:`forward_im2col_mt`), each worker summing
    its own chunks (a fixed round-robin deal, so the sum's order never depends on timing),
    then the workers' sums in order."""
    n, c_in, _ = x.shape
    _, c_out, out_len = gy.shape
    cg, og = c_in // groups, c_out // groups
    field = cg * kernel_size
    gy = gy.astype(cdt, copy=False)
    within_budget = max(MIN_POSITIONS, fast_layout.TILE_BYTES // max(c_in * kernel_size * cdt.itemsize, 1))
    positions = min(max(_tile_positions(og, field, c_in, kernel_size, cdt.itemsize), WEIGHT_GRAD_POSITIONS),
                     within_budget)
    step_n, step_l = _chunk_plan(n, out_len, c_in * stride * cdt.itemsize, positions)
    first = field_major(field, og, n * out_len)
    shape = (groups, field, og) if first else (groups, og, field)

    def job(part: Iterator[tuple[int, int, int, int]]) -> Callable[[], object]:
        def run() -> np.ndarray:
            acc = np.zeros(shape, dtype=cdt)  # returned: a fresh array
            tmp = kept_buffer("product", acc.size, cdt).reshape(acc.shape)
            cols = kept_buffer("cols", c_in * kernel_size * positions, cdt)
            for chunk in part:
                _weight_grad_chunk(x, gy, acc, tmp, chunk, first, stride, pad_left, dilation, positions, cols)
            return acc

        return run

    partials = _run([job(part) for part in _deal(tiles(n, out_len, step_n, step_l))])
    total = np.zeros(shape, dtype=cdt)
    for part_sum in partials:
        assert isinstance(part_sum, np.ndarray)
        total += part_sum
    gw = np.ascontiguousarray(total.transpose(0, 2, 1)) if first else total
    return gw.reshape(c_out, cg, kernel_size)


def _channel_blocks(groups: int, cg: int) -> list[tuple[int, int, int]]:
    """``(group, c0, c1)`` blocks of input channels, about two per worker in all: each
    worker scatters into its own channels only, so no two workers write the same sample."""
    parts = max(1, min(cg, -(-CHUNKS_PER_WORKER * workers() // groups)))
    size = -(-cg // parts)
    return [(g, c0, min(c0 + size, cg)) for g in range(groups) for c0 in range(0, cg, size)]


def input_grad_col2im(
    gy: np.ndarray, w: np.ndarray, length: int, stride: int, pad_left: int, dilation: int, groups: int,
    cdt: np.dtype,
) -> np.ndarray:
    """Scatter as one GEMM per tile for all taps, ``cols = Wᵀ @ gy[n, :, tile]``, then K strided
    adds; on worker threads, each owning blocks of input channels (:func:`_channel_blocks`).

    The weight is used in place (a transposed view), so no weight-sized copy is made: the
    choice when the weight outweighs the activations (e.g. a ConvTranspose1d upsampler).
    Tiles (runs of positions of one item) keep each worker's column buffer within
    ``TILE_BYTES``; both the GEMMs and the adds (single-threaded in NumPy) are shared out.
    """
    n, c_out, out_len = gy.shape
    _, cg, k_size = w.shape
    og = c_out // groups
    w4t = w.astype(cdt, copy=False).reshape(groups, og, cg, k_size).transpose(0, 2, 3, 1)  # (G, Cg, K, og)
    gyg = gy.astype(cdt, copy=False).reshape(n, groups, og, out_len)
    gx = np.zeros((n, groups, cg, length), dtype=cdt)
    blocks = _channel_blocks(groups, cg)
    widest = max(c1 - c0 for _, c0, c1 in blocks)
    _, step = tile_shape(1, out_len, widest * k_size * cdt.itemsize)
    taps = [(k, *tap_range(k * dilation, stride, pad_left, out_len, length)) for k in range(k_size)]

    def job(mine: list[tuple[int, int, int]]) -> Callable[[], object]:
        def run() -> None:
            capacity = kept_buffer("cols", widest * k_size * step, cdt)
            for g, c0, c1 in mine:
                wt = w4t[g, c0:c1].reshape((c1 - c0) * k_size, og)
                for i in range(n):
                    for l0 in range(0, out_len, step):
                        lc = min(step, out_len - l0)
                        cols = capacity[: (c1 - c0) * k_size * lc].reshape(c1 - c0, k_size, lc)
                        np.matmul(wt, gyg[i, g, :, l0 : l0 + lc], out=cols.reshape((c1 - c0) * k_size, lc))
                        _scatter(gx[i, g, c0:c1], cols, taps, l0, lc, stride, pad_left, dilation)

        return run

    count = max(1, min(workers(), len(blocks)))
    # BLAS keeps its threads here: its GEMMs are large, and after any multi-threaded BLAS
    # call OpenBLAS's idle threads spin for ~0.1 s, which a limit would leave without work
    # (measured: wav2vec 2.0's strided input gradient after an im2col weight gradient,
    # 54 ms limited against 32 ms not)
    _run([job(blocks[i::count]) for i in range(count)], limit_blas=False)
    return gx.reshape(n, groups * cg, length)


def _scatter(
    gx: np.ndarray, cols: np.ndarray, taps: list[tuple[int, int, int]], l0: int, lc: int, stride: int,
    pad_left: int, dilation: int,
) -> None:
    """``gx[:, i*stride - pad_left + k*dilation] += cols[:, k, i - l0]`` for the tile's ``i``
    in each tap's range ``[i0, i1)``."""
    for k, i0, i1 in taps:
        a0, a1 = max(i0, l0), min(i1, l0 + lc)
        if a1 > a0:
            t0 = a0 * stride - pad_left + k * dilation
            gx[:, t0 : t0 + (a1 - a0 - 1) * stride + 1 : stride] += cols[:, k, a0 - l0 : a1 - l0]
