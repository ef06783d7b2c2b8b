"""im2col in small GEMMs on worker threads, for convolutions with small per-group GEMMs.

A grouped convolution with tens of channels per group (ResNeXt-style) multiplies, per
group, a small ``C_out/G x Cg*K`` weight by a long column matrix. One big GEMM per group
runs OpenBLAS's general kernel at about half its speed on such thin shapes, split over its
threads for each call. Cut into tiles of at most ``SMALL_GEMM`` multiply-adds per group
instead, every GEMM fits OpenBLAS's small-matrix kernels (no packing, one thread each), and
worker threads (NumPy releases the GIL in its copies and products) take tiles from a shared
queue side by side: one BLAS thread each instead of one pool for all, and a worker whose
core is busy elsewhere simply takes fewer tiles.

The tiles and their arithmetic are those of :func:`~.fast_gemm.forward_tile` and
:func:`~.fast_gemm.weight_grad_tile` (so float64 agrees with the loop reference to
rounding); only the tile size and the order in which tiles run differ. The weight
gradient deals the tiles to the workers in a fixed round-robin, sums each worker's tiles,
then the workers' sums in order, so its result does not depend on timing.

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

import numpy as np

from . import fast_layout
from .fast_gemm import forward_tile, weight_grad_tile
from .fast_layout import tile_shape, tiles

__all__ = [
    "SMALL_GEMM",
    "MAX_WORKERS",
    "workers",
    "positions_per_gemm",
    "forward_im2col_mt",
    "weight_grad_im2col_mt",
]

#: Multiply-adds per GEMM up to which OpenBLAS uses its small-matrix kernels (100**3).
SMALL_GEMM = 1_000_000
#: Fewest positions per tile (below it, per-tile Python overhead dominates).
MIN_POSITIONS = 32
#: Most worker threads.
MAX_WORKERS = 8
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


def _run(jobs: list[Callable[[], object]]) -> list[object]:
    """Run the jobs on the shared pool (the first in this thread); results in order."""
    if len(jobs) <= 1:
        return [job() for job in jobs]
    size = len(jobs) - 1
    with _pool_lock:
        pool = _pools.get(size)
        if pool is None:
            pool = _pools[size] = ThreadPoolExecutor(max_workers=size, thread_name_prefix="convtrace")
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


def forward_im2col_mt(
    x: np.ndarray, w: np.ndarray, stride: int, pad_left: int, out_len: int, dilation: int, groups: int,
    cdt: np.dtype,
) -> np.ndarray:
    """Forward im2col in tiles of at most ``SMALL_GEMM`` multiply-adds per group GEMM, on workers."""
    n, c_in, _ = x.shape
    c_out, cg, k_size = w.shape
    w2 = np.ascontiguousarray(w.astype(cdt, copy=False).reshape(groups, c_out // groups, cg * k_size))
    y = np.empty((n, c_out, out_len), dtype=cdt)
    positions = _tile_positions(c_out // groups, cg * k_size, c_in, k_size, cdt.itemsize)
    step_n, step_l = tile_shape(n, out_len, 1, positions)

    def job(part: Iterator[tuple[int, int, int, int]]) -> Callable[[], object]:
        def run() -> None:
            capacity = np.empty(step_n * step_l * c_in * k_size, dtype=cdt)
            out_capacity = np.empty(step_n * step_l * c_out if step_n > 1 else 0, dtype=cdt)
            for tile in part:
                forward_tile(x, w2, y, tile, k_size, stride, pad_left, dilation, capacity, out_capacity)

        return run

    _run([job(part) for part in _split(tiles(n, out_len, step_n, step_l))])
    return y


def weight_grad_im2col_mt(
    x: np.ndarray, gy: np.ndarray, kernel_size: int, stride: int, pad_left: int, dilation: int, groups: int,
    cdt: np.dtype,
) -> np.ndarray:
    """Weight gradient in small-GEMM tiles on workers, each summing its own tiles, then summed."""
    n, c_in, _ = x.shape
    _, c_out, out_len = gy.shape
    cg, og = c_in // groups, c_out // groups
    positions = _tile_positions(og, cg * kernel_size, c_in, kernel_size, cdt.itemsize)
    step_n, step_l = tile_shape(n, out_len, 1, positions)

    def job(part: Iterator[tuple[int, int, int, int]]) -> Callable[[], object]:
        def run() -> np.ndarray:
            gw = np.zeros((groups, og, cg * kernel_size), dtype=cdt)
            tmp = np.empty_like(gw)
            capacity = np.empty(step_n * step_l * c_in * kernel_size, dtype=cdt)
            gy_capacity = np.empty(step_n * step_l * c_out, dtype=cdt)
            for tile in part:
                weight_grad_tile(x, gy, gw, tmp, tile, stride, pad_left, dilation, capacity, gy_capacity)
            return gw

        return run

    partials = _run([job(part) for part in _deal(tiles(n, out_len, step_n, step_l))])
    gw = np.zeros((groups, og, cg * kernel_size), dtype=cdt)
    for part_sum in partials:
        assert isinstance(part_sum, np.ndarray)
        gw += part_sum
    return gw.reshape(c_out, cg, kernel_size)
