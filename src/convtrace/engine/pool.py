"""The pools' forward pass, exact and fast, in NumPy (validated (N, C, L) arrays in).

A sliding pool (max, avg, lp) runs tap by tap: for tap ``j`` the outputs whose tap lands in
the input (:func:`~.fast_layout.tap_range`) read one slice of ``x``, and one NumPy call folds
it into their accumulators: ``np.maximum`` / ``np.add`` over (N, C, O), never a gathered
(N, C, O, k) copy. With a stride, each tile's input is first split into its stride phases
(one copy), so that every tap reads contiguous data. This is PyTorch's own order (each output sums or
compares its taps left to right, starting from 0 or -inf), so sums are the same sums and
the ties, NaN and padding rules come out as PyTorch's:

* max: a tap wins if it is greater or NaN (ties keep the first index, the last NaN is the
  index); windows start at -inf (padding never wins; a window of padding only, possible with
  dilation, gives -inf and the index of its first tap at or after 0, as PyTorch);
* avg: the sum of the real taps divided by :func:`~convtrace.shapes.avg_pool_divisors`
  (count_include_pad counts the padding, never the ceil_mode overhang); integer input
  divides as C++ does (toward zero); float16 sums in float32;
* lp: ``avg_pool1d(x**p)``, then ``sign(a)*relu(|a|) * kernel_size`` and ``** (1/p)``, as
  PyTorch's ``lp_pool1d`` (no abs: p=1 gives a signed sum, odd p on negatives NaN; the ceil
  overhang is not counted, then the whole kernel size multiplies). The powers use PyTorch's
  special cases (``x*x`` for 2, ``sqrt`` for 0.5, ...).

Adaptive pools read ``[floor(i*L/O), ceil((i+1)*L/O))``. With few classes of outputs
(``O / gcd(L, O)``, :func:`adaptive_classes`) and short windows they run as that many sliding
pools (the same tap-by-tap sums and comparisons); else tap by tap with a gathered tap per
output, masked where a window is shorter, or, when there are fewer windows than taps, window
by window (NumPy's pairwise sum: on such long windows the last bits of a sum may differ from
PyTorch's sequential one). A global max without indices is NumPy's max per row; a global
average of a short float input one matrix-vector product (BLAS's sum, as PyTorch's
vectorised ``mean``: not in sequential order). ``max_unpool1d`` scatters plane by plane (the
last of colliding values wins, as in PyTorch on one thread).

Stride-1 max pooling without indices runs on the flattened rows of a tile: one long NumPy
call per tap instead of a short one per row, the few edge outputs (those that read padding)
redone tap by tap.

Tiles run on the convolution engine's worker threads (:func:`run_tiles`; NumPy releases the
GIL in its loops) when a call has at least ``PARALLEL_OUTPUTS`` outputs (a smaller call runs
in the calling thread: a hand-off to the workers costs about 50 us, more than the whole of
a text-sized pool). Scratch (accumulators
of another dtype, masks, stride phases, gathered taps, lp's powers) stays within
``POOL_TILE_BYTES`` (4 MiB) for all the workers' tiles together: tiles are whole batch items,
or runs of outputs of one item.

>>> import numpy as np
>>> x = np.array([[[1.0, 3.0, 2.0, 5.0, 4.0]]])
>>> max_pool1d(x, 2, 2, 0, 1, 3, True)[0].tolist(), max_pool1d(x, 2, 2, 0, 1, 3, True)[1].tolist()
([[[3.0, 5.0, 4.0]]], [[[1, 3, 4]]])
>>> avg_pool1d(np.arange(1.0, 7.0)[None, None], 3, 2, 1, 4, True).tolist()
[[[1.0, 3.0, 5.0, 3.0]]]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from .. import shapes
from ..params import PoolSpec, lp_power_dtype
from . import fast_threads
from .fast_layout import TILE_BYTES, tap_range

T = TypeVar("T")

__all__ = [
    "POOL_TILE_BYTES",
    "PARALLEL_OUTPUTS",
    "run_tiles",
    "row_max",
    "pool_forward",
    "max_pool1d",
    "avg_pool1d",
    "lp_pool1d",
    "adaptive_avg_pool1d",
    "adaptive_max_pool1d",
    "max_unpool1d",
    "torch_power",
    "accumulator_dtype",
]

#: Most scratch bytes of one tile (accumulators, masks, phases, gathered taps): the conv
#: engine's budget (measured: 1 MiB tiles were slower, their per-tile calls outweighing the cache)
POOL_TILE_BYTES = TILE_BYTES
#: Fewest outputs in a tile of one item (however many channels), so the NumPy calls stay long.
MIN_TILE_OUTPUTS = 256
#: Fewest outputs of a call for which its tiles run on the worker threads (measured: the
#: text-CNN pools, 409,600 outputs, ran 1.3-2x slower on two workers than in one thread).
PARALLEL_OUTPUTS = 1 << 19


def accumulator_dtype(dtype: np.dtype[Any]) -> np.dtype[Any]:
    """The dtype PyTorch's CPU pools sum in: float32 for float16, else the input's.

    >>> accumulator_dtype(np.dtype("float16")), accumulator_dtype(np.dtype("int64"))
    (dtype('float32'), dtype('int64'))
    """
    return np.dtype(np.float32) if dtype == np.float16 else dtype


def _workers_for(outputs: int, threshold: int | None = None) -> int:
    """Worker threads for a call of ``outputs`` outputs (or elements read): one below
    ``threshold`` (``PARALLEL_OUTPUTS`` unless given: a thread's hand-off costs more than it
    saves), else :func:`~.fast_threads.workers`."""
    return 1 if outputs < (PARALLEL_OUTPUTS if threshold is None else threshold) else fast_threads.workers()


def _tiles(
    n: int, c: int, out_len: int, bytes_per_output: int, work: int | None = None
) -> list[tuple[int, int, int, int]]:
    """(n0, n1, o0, o1): whole items while they fit a worker's share of ``POOL_TILE_BYTES``,
    else runs of outputs; with several workers, at least two tiles per worker where the batch
    allows (so that the workers' tiles together stay within ``POOL_TILE_BYTES``). ``work``:
    the elements the call reads (its outputs unless given)."""
    workers = _workers_for(n * c * out_len if work is None else work)
    budget = POOL_TILE_BYTES // workers
    per_item = max(1, c * out_len * bytes_per_output)
    if per_item <= budget:
        items = max(1, budget // per_item)
        if workers > 1:
            items = min(items, max(1, -(-n // (2 * workers))))
        return [(n0, min(n, n0 + items), 0, out_len) for n0 in range(0, n, items)]
    run = max(MIN_TILE_OUTPUTS, budget // max(1, c * bytes_per_output))
    return [(n0, n0 + 1, o0, min(out_len, o0 + run)) for n0 in range(n) for o0 in range(0, out_len, run)]


def run_tiles(
    plan: Sequence[T], job: Callable[[T], object], work: int | None = None, threshold: int | None = None
) -> None:
    """``job`` on every tile of ``plan``, on the worker threads when there are several tiles
    and the call's ``work`` (its outputs, or the elements it reads; not given: large) is at
    least ``threshold`` (``PARALLEL_OUTPUTS`` unless given; each worker takes the next tile
    when it is free; tiles must write disjoint outputs). NumPy releases the GIL inside its
    loops, so the workers run at once.

    >>> done = []; run_tiles([1, 2, 3], done.append); sorted(done)
    [1, 2, 3]
    """
    count = min(_workers_for(PARALLEL_OUTPUTS if work is None else work, threshold), len(plan))
    if count <= 1:
        for tile in plan:
            job(tile)
        return
    shared = iter(plan)

    def worker() -> None:
        for tile in shared:
            job(tile)

    fast_threads._run([worker] * count, limit_blas=False)  # the conv engine's shared pool


def _taps(
    length: int, kernel_size: int, stride: int, padding: int, dilation: int, out_len: int, o0: int, o1: int
) -> Iterator[tuple[int, int, int, slice]]:
    """Per tap ``j`` that some output in ``[o0, o1)`` reads inside the input: ``(j, a, b,
    slice)``: outputs ``[a, b)`` read ``x[..., slice]`` (a strided view)."""
    for j in range(kernel_size):
        i0, i1 = tap_range(j * dilation, stride, padding, out_len, length)
        a, b = max(i0, o0), min(i1, o1)
        if a < b:
            start = a * stride - padding + j * dilation
            yield j, a, b, slice(start, start + (b - a - 1) * stride + 1, stride)


def _tile_taps(
    x: np.ndarray, n0: int, n1: int, o0: int, o1: int, kernel_size: int, stride: int, padding: int,
    dilation: int, out_len: int,
) -> Iterator[tuple[int, int, int, np.ndarray]]:
    """:func:`_taps` of one tile, each as the array its outputs ``[a, b)`` read. With a
    stride, the tile's input is first split into its ``stride`` phases (one copy: sample
    ``m*stride + r`` goes to phase ``r``), so that every tap reads a contiguous run of one
    phase: NumPy's loops run several times faster on contiguous data than on strided."""
    taps = list(_taps(x.shape[2], kernel_size, stride, padding, dilation, out_len, o0, o1))
    if stride == 1 or not taps:
        for j, a, b, where in taps:
            yield j, a, b, x[n0:n1, :, where]
        return
    # tap j of output i reads sample (i + q)*stride + r, with r, q = divmod's of j*d - p
    shifts = [divmod(j * dilation - padding, stride)[::-1] for j, *_ in taps]  # (r, q) per tap
    first = min(a + q for (_, a, _, _), (_, q) in zip(taps, shifts))
    last = max(b + q for (_, _, b, _), (_, q) in zip(taps, shifts))
    slot = {r: i for i, r in enumerate(sorted({r for r, _ in shifts}))}  # only the phases read
    phases = np.empty((len(slot), n1 - n0, x.shape[1], last - first), dtype=x.dtype)
    whole = max(first, min(last, x.shape[2] // stride))  # rows whose every phase is inside the input
    if whole > first:
        rows = x[n0:n1, :, first * stride : whole * stride].reshape(n1 - n0, x.shape[1], whole - first, stride)
        if len(slot) == stride:  # one copy, which NumPy runs along the input
            phases[..., : whole - first] = np.moveaxis(rows, 3, 0)
        else:
            for r, i in slot.items():
                phases[i, ..., : whole - first] = rows[..., r]
    for r, i in slot.items():  # the last row, where the input ends
        start = whole * stride + r
        count = min(last - whole, max(0, -(-(x.shape[2] - start) // stride)))
        if count > 0:
            phases[i, ..., whole - first : whole - first + count] = x[n0:n1, :, start : start + (count - 1) * stride + 1 : stride]
    for (j, a, b, _), (r, q) in zip(taps, shifts):
        yield j, a, b, phases[slot[r], ..., a + q - first : b + q - first]


def _lowest(dtype: np.dtype[Any]) -> Any:
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _first_real(o0: int, o1: int, stride: int, padding: int, dilation: int) -> np.ndarray:
    """PyTorch's starting index of max windows ``[o0, o1)``: their first tap at or after 0."""
    start = np.arange(o0, o1, dtype=np.int64) * stride - padding
    behind = np.maximum(-start, 0)
    first: np.ndarray = start + -(-behind // dilation) * dilation
    return first


def max_pool1d(
    x: np.ndarray, kernel_size: int, stride: int, padding: int, dilation: int, out_len: int, return_indices: bool,
    out: np.ndarray | None = None, index: np.ndarray | None = None, index_offset: int = 0, work: int | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Max pooling of (N, C, L) ``x``: the values and (with ``return_indices``) the int64
    indices into the length (PyTorch's ties, NaN and padding rules; see the module). ``out``
    and ``index`` (optional) are where to write them (an adaptive class of outputs: strided
    views), the indices shifted by ``index_offset``; ``work`` is the whole call's outputs
    when this is one part of it (an adaptive class), for the choice of threads."""
    n, c, _ = x.shape
    work = n * c * out_len if work is None else work
    if out is None:
        out = np.empty((n, c, out_len), dtype=x.dtype)
    values = out
    if not return_indices:
        flat = _flat_max_columns(x, kernel_size, stride, padding, dilation, out_len, out)
        if flat is None:
            per_output = (min(stride, kernel_size) + 2) * x.itemsize
        elif out.flags.c_contiguous and out_len == x.shape[2]:
            per_output = 1  # in place in ``out``: no scratch
        else:
            per_output = (3 + -(-x.shape[2] // max(out_len, 1))) * x.itemsize
        run_tiles(
            _tiles(n, c, out_len, per_output),
            lambda t: _max_tile(x, values, t, kernel_size, stride, padding, dilation, out_len, flat),
            work,
        )
        return out, None
    if index is None:
        index = np.empty((n, c, out_len), dtype=np.int64)
    where = index
    run_tiles(
        _tiles(n, c, out_len, 2 + (min(stride, kernel_size) + 1) * x.itemsize + 8),
        lambda t: _max_index_tile(x, values, where, t, kernel_size, stride, padding, dilation, out_len, index_offset),
        work,
    )
    return out, index


def _flat_max_columns(
    x: np.ndarray, kernel_size: int, stride: int, padding: int, dilation: int, out_len: int, out: np.ndarray
) -> tuple[int, int] | None:
    """The outputs ``[a, b)`` whose every tap is inside the input, when a stride-1 pool runs
    them on the flattened rows (:func:`_flat_max`), else None."""
    length = x.shape[2]
    a = min(out_len, padding)
    b = max(a, min(out_len, length + padding - (kernel_size - 1) * dilation))
    if stride != 1 or kernel_size < 2 or b - a < 8 or not x.flags.c_contiguous:
        return None
    return a, b


def _max_tile(
    x: np.ndarray, out: np.ndarray, tile: tuple[int, int, int, int], kernel_size: int, stride: int, padding: int,
    dilation: int, out_len: int, flat: tuple[int, int] | None,
) -> None:
    """Max values of one tile (no indices)."""
    n0, n1, o0, o1 = tile
    if flat is not None and (o0, o1) == (0, out_len):
        a, b = flat
        _flat_max(x, out, n0, n1, a, b, kernel_size, padding, dilation)
        for o in (*range(a), *range(b, out_len)):  # the edge outputs, which read padding
            _edge_max(x, out, n0, n1, o, kernel_size, padding, dilation)
        return
    fresh = True  # no tap read yet: the window's -inf start
    # a max is a max in any order (NaN included): a tap every window reads goes first
    taps = sorted(
        _tile_taps(x, n0, n1, o0, o1, kernel_size, stride, padding, dilation, out_len),
        key=lambda t: (t[1], t[2]) != (o0, o1),
    )
    for _, a, b, tap in taps:
        view = out[n0:n1, :, a:b]
        if fresh and (a, b) == (o0, o1):
            view[...] = tap  # max(-inf, v) is v (NaN too)
        else:
            if fresh:
                out[n0:n1, :, o0:o1] = _lowest(x.dtype)
            np.maximum(view, tap, out=view)
        fresh = False
    if fresh:
        out[n0:n1, :, o0:o1] = _lowest(x.dtype)


def _edge_max(
    x: np.ndarray, out: np.ndarray, n0: int, n1: int, o: int, kernel_size: int, padding: int, dilation: int
) -> None:
    """Stride 1: output ``o`` of items ``[n0, n1)`` (an edge output, which reads padding) as
    the maximum of its real taps, one NumPy call per tap past the first (-inf without one)."""
    length = x.shape[2]
    where = [t for t in range(o - padding, o - padding + kernel_size * dilation, dilation) if 0 <= t < length]
    target = out[n0:n1, :, o]
    if not where:
        target[...] = _lowest(x.dtype)
    elif len(where) == 1:
        target[...] = x[n0:n1, :, where[0]]
    else:
        np.maximum(x[n0:n1, :, where[0]], x[n0:n1, :, where[1]], out=target)
        for t in where[2:]:
            np.maximum(target, x[n0:n1, :, t], out=target)


def _flat_max(
    x: np.ndarray, out: np.ndarray, n0: int, n1: int, a: int, b: int, kernel_size: int, padding: int, dilation: int
) -> None:
    """Stride 1: outputs ``[a, b)`` of items ``[n0, n1)`` as maxima of shifted runs of the
    flattened (C-contiguous) rows: long contiguous NumPy calls instead of one short call per
    row. Output ``o`` of a row is ``full[row*L + o]`` with ``full[t] = max_j xf[t - p + j*d]``;
    the runs cross from row to row only for the edge outputs, which are not kept."""
    length = x.shape[2]
    xf = x[n0:n1].reshape(-1)
    total = xf.shape[0]
    shifts = [j * dilation - padding for j in range(kernel_size)]
    # full[t] for t in [lo, hi): every tap inside xf
    lo, hi = max(0, -min(shifts)), total - max(0, *shifts)
    in_place = out.flags.c_contiguous and out.shape[2] == length
    full = out[n0:n1].reshape(-1) if in_place else np.empty(total, dtype=x.dtype)
    np.maximum(xf[lo + shifts[0] : hi + shifts[0]], xf[lo + shifts[1] : hi + shifts[1]], out=full[lo:hi])
    for shift in shifts[2:]:
        np.maximum(full[lo:hi], xf[lo + shift : hi + shift], out=full[lo:hi])
    if not in_place:
        out[n0:n1, :, a:b] = full.reshape(n1 - n0, x.shape[1], length)[:, :, a:b]


def _max_index_tile(
    x: np.ndarray, out: np.ndarray, index: np.ndarray, tile: tuple[int, int, int, int], kernel_size: int,
    stride: int, padding: int, dilation: int, out_len: int, index_offset: int,
) -> None:
    """Max values and indices of one tile."""
    n0, n1, o0, o1 = tile
    c = x.shape[1]
    fresh = True  # no tap read yet: the windows' -inf start and first indices
    shape = (n1 - n0, c, o1 - o0)
    wins = np.empty(shape, dtype=bool)
    # a NaN tap always wins: only tiles whose input holds a NaN need the second mask
    span = x[n0:n1, :, max(0, o0 * stride - padding) : (o1 - 1) * stride - padding + (kernel_size - 1) * dilation + 1]
    nans = np.empty(shape, dtype=bool) if x.dtype.kind == "f" and np.isnan(span).any() else None
    for j, a, b, tap in _tile_taps(x, n0, n1, o0, o1, kernel_size, stride, padding, dilation, out_len):
        view = out[n0:n1, :, a:b]
        positions = np.arange(a, b, dtype=np.int64) * stride + (index_offset - padding + j * dilation)
        if fresh:
            fresh = False
            if (a, b) == (o0, o1):  # the first tap of every window: it wins (from -inf)
                view[...] = tap
                index[n0:n1, :, a:b] = positions
                continue
            out[n0:n1, :, o0:o1] = _lowest(x.dtype)
            index[n0:n1, :, o0:o1] = _first_real(o0, o1, stride, padding, dilation) + index_offset
        mask = np.greater(tap, view, out=wins[..., : b - a])
        if nans is not None:
            np.logical_or(mask, np.isnan(tap, out=nans[..., : b - a]), out=mask)
            np.copyto(view, tap, where=mask)
        else:  # no NaN here: the greater of the two is the winner's value (ties keep the first)
            np.maximum(view, tap, out=view)
        np.copyto(index[n0:n1, :, a:b], positions, where=mask)
    if fresh:  # no tap inside the input (windows of padding only)
        out[n0:n1, :, o0:o1] = _lowest(x.dtype)
        index[n0:n1, :, o0:o1] = _first_real(o0, o1, stride, padding, dilation) + index_offset


def _window_sums(
    x: np.ndarray, n0: int, n1: int, o0: int, o1: int, kernel_size: int, stride: int, padding: int,
    out_len: int, acc: np.dtype[Any],
) -> np.ndarray:
    """The sums of the real taps of outputs ``[o0, o1)`` of items ``[n0, n1)``, in ``acc``,
    each summed left to right from 0 (PyTorch's order)."""
    total = np.zeros((n1 - n0, x.shape[1], o1 - o0), dtype=acc)
    with np.errstate(all="ignore"):  # inf - inf is NaN, overflow is inf: PyTorch says nothing
        for _, a, b, tap in _tile_taps(x, n0, n1, o0, o1, kernel_size, stride, padding, 1, out_len):
            view = total[..., a - o0 : b - o0]
            np.add(view, tap, out=view, dtype=acc)
    return total


def _divide(total: np.ndarray, divisors: np.ndarray) -> np.ndarray:
    """``total / divisors`` as PyTorch's C++ divides: toward zero for integers."""
    quotient: np.ndarray
    if total.dtype.kind in "iub":
        quotient = (total - np.fmod(total, divisors)) // divisors
    else:
        quotient = np.divide(total, divisors.astype(total.dtype), out=total)
    return quotient


def avg_pool1d(
    x: np.ndarray, kernel_size: int, stride: int, padding: int, out_len: int, count_include_pad: bool,
    out: np.ndarray | None = None, work: int | None = None,
) -> np.ndarray:
    """Average pooling of (N, C, L) ``x`` (float16 sums in float32; integers truncate), into
    ``out`` when given (an adaptive class of outputs: a strided view; ``work``: the whole
    call's outputs, for the choice of threads)."""
    n, c, length = x.shape
    acc = accumulator_dtype(x.dtype)
    result = np.empty((n, c, out_len), dtype=x.dtype) if out is None else out

    def tile(t: tuple[int, int, int, int]) -> None:
        n0, n1, o0, o1 = t
        total = _window_sums(x, n0, n1, o0, o1, kernel_size, stride, padding, out_len, acc)
        divisors = shapes.avg_pool_divisors(length, kernel_size, stride, padding, o1 - o0, count_include_pad, o0)
        result[n0:n1, :, o0:o1] = _divide(total, divisors)

    run_tiles(_tiles(n, c, out_len, acc.itemsize + min(stride, kernel_size) * x.itemsize), tile,
              n * c * out_len if work is None else work)
    return result


def torch_power(x: np.ndarray, exponent: float) -> np.ndarray:
    """``x ** exponent`` as PyTorch's ``Tensor.pow(scalar)`` computes it on the CPU: its
    special cases (1: a copy, 2: ``x*x``, 3: ``x*x*x``, 0.5: sqrt, -0.5: 1/sqrt, -1: 1/x,
    -2: 1/(x*x), 0: ones), else ``pow``. Integers stay integers for an integer exponent.

    >>> torch_power(np.array([-2.0, 3.0]), 3).tolist(), torch_power(np.array([4.0]), -0.5).tolist()
    ([-8.0, 27.0], [0.5])
    """
    with np.errstate(all="ignore"):  # PyTorch gives inf and NaN without a word
        return _power(x, exponent)


def _power(x: np.ndarray, exponent: float) -> np.ndarray:
    result: np.ndarray
    one = x.dtype.type(1)
    if exponent == 0:
        result = np.ones_like(x)
    elif exponent == 1:
        result = x.copy()
    elif x.dtype == np.float16:  # PyTorch's Half pow: in float32, the exponent rounded to Half
        result = np.power(x.astype(np.float32), np.float32(np.float16(exponent))).astype(np.float16)
    elif exponent == 2:
        result = x * x
    elif exponent == 3:
        result = x * x * x
    elif x.dtype.kind in "iub":
        result = np.power(x, int(exponent))
    elif exponent == 0.5:
        result = np.sqrt(x)
    elif exponent == -0.5:
        result = one / np.sqrt(x)
    elif exponent == -1:
        result = one / x
    elif exponent == -2:
        result = one / (x * x)
    else:
        result = np.power(x, x.dtype.type(exponent))
    return result


def lp_pool1d(x: np.ndarray, norm_type: float, kernel_size: int, stride: int, out_len: int) -> np.ndarray:
    """Power-average pooling of (N, C, L) ``x``, as PyTorch's ``lp_pool1d`` (see the module).
    ``norm_type`` ±inf is max pooling of ``|x|`` (negated for -inf), as PyTorch. An int
    ``norm_type`` keeps an integer input's powers integers (PyTorch's ``pow``); the result
    of an integer input is float32."""
    n, c, length = x.shape
    if abs(norm_type) == np.inf:
        sign = 1 if norm_type > 0 else -1
        peak: np.ndarray = sign * max_pool1d(sign * np.abs(x), kernel_size, stride, 0, 1, out_len, False)[0]
        return peak
    power_dtype = lp_power_dtype(x.dtype, norm_type)
    acc = accumulator_dtype(power_dtype)
    out = np.empty((n, c, out_len), dtype=power_dtype if power_dtype.kind == "f" else np.dtype(np.float32))

    def tile(t: tuple[int, int, int, int]) -> None:
        n0, n1, o0, o1 = t
        lo, hi = o0 * stride, min(length, (o1 - 1) * stride + kernel_size)
        part = x[n0:n1, :, lo:hi]
        powered = torch_power(part if power_dtype == x.dtype else part.astype(power_dtype), norm_type)
        total = _window_sums(powered, 0, n1 - n0, 0, o1 - o0, kernel_size, stride, 0, o1 - o0, acc)
        divisors = shapes.avg_pool_divisors(length, kernel_size, stride, 0, o1 - o0, True, o0)
        mean = _divide(total, divisors).astype(power_dtype, copy=False)
        # sign(a) * relu(|a|) is a itself, but -0.0 becomes 0.0 (and NaN stays NaN)
        scaled = (mean + power_dtype.type(0)) * power_dtype.type(kernel_size)
        if scaled.dtype.kind != "f":
            scaled = scaled.astype(np.float32)
        out[n0:n1, :, o0:o1] = torch_power(scaled, 1.0 / norm_type)

    run_tiles(_tiles(n, c, out_len, (max(stride, 1) + 1) * power_dtype.itemsize + acc.itemsize), tile, n * c * out_len)
    return out


#: Most classes of outputs (``O / gcd(L, O)``) for which an adaptive pool runs as that many
#: sliding pools (:func:`adaptive_classes`); beyond, tap by tap with gathered taps.
MAX_ADAPTIVE_CLASSES = 64
#: Longest input of a global (``O = 1``) average pool summed as one matrix-vector product
#: (its vector of ones is scratch).
GLOBAL_AVG_LENGTH = 1 << 12


@dataclass(frozen=True)
class AdaptiveClass:
    """Outputs ``first, first + period, ...`` (``count`` of them) of an adaptive pool: windows
    of ``width`` samples starting at ``start + i*stride`` (a sliding pool)."""

    first: int
    period: int
    count: int
    start: int
    width: int
    stride: int


def adaptive_classes(length: int, out_length: int) -> list[AdaptiveClass]:
    """The adaptive windows ``[floor(o*L/O), ceil((o+1)*L/O))`` repeat every ``O' = O/g``
    outputs, shifted by ``L' = L/g`` samples (``g = gcd(L, O)``): outputs ``o ≡ r (mod O')``
    are a sliding pool of stride ``L'``.

    >>> [(c.first, c.count, c.start, c.width, c.stride) for c in adaptive_classes(16, 6)]
    [(0, 2, 0, 3, 8), (1, 2, 2, 4, 8), (2, 2, 5, 3, 8)]
    """
    g = math.gcd(length, out_length)
    period, shift = out_length // g, length // g
    starts, ends = shapes.adaptive_bounds(length, out_length, 0, period)  # each class's first window
    return [
        AdaptiveClass(r, period, g, int(starts[r]), int(ends[r] - starts[r]), shift) for r in range(period)
    ]


def _adaptive_by_taps(x: np.ndarray, out_len: int) -> bool:
    """Tap by tap when there are at least as many windows as a window can have taps
    (``ceil(L/O) + 1`` at most)."""
    return bool(out_len >= -(-x.shape[2] // max(out_len, 1)) + 1)


def _by_classes(x: np.ndarray, out_len: int) -> list[AdaptiveClass] | None:
    """The classes of outputs when an adaptive pool runs as sliding pools, one per class
    (few classes, windows short enough to go tap by tap), else None."""
    length = x.shape[2]
    if not (length and out_len and _adaptive_by_taps(x, out_len)):
        return None
    if out_len // math.gcd(length, out_len) > MAX_ADAPTIVE_CLASSES:
        return None
    return adaptive_classes(length, out_len)


def adaptive_avg_pool1d(x: np.ndarray, out_len: int) -> np.ndarray:
    """Adaptive average pooling of (N, C, L) ``x``: each window's sequential sum (float16 in
    float32) divided by its length. An empty length (``out_len`` 1 only) gives NaN, as
    PyTorch's ``mean``. A global pool of a short float input is one matrix-vector product
    (BLAS's sum: as PyTorch's vectorised ``mean``, not in sequential order)."""
    n, c, length = x.shape
    acc = accumulator_dtype(x.dtype)
    out = np.empty((n, c, out_len), dtype=x.dtype)
    classes = _by_classes(x, out_len)
    with np.errstate(all="ignore"):  # 0/0 (an empty length), inf - inf: PyTorch says nothing
        if out_len == 1 and 0 < length <= GLOBAL_AVG_LENGTH and x.dtype in (np.float32, np.float64):
            np.matmul(x, np.ones((length, 1), dtype=x.dtype), out=out)
            out /= x.dtype.type(length)
        elif classes is not None:
            for k in classes:
                avg_pool1d(x[:, :, k.start:], k.width, k.stride, 0, k.count, True, out=out[:, :, k.first :: k.period],
                           work=n * c * out_len)  # the classes are parts of one call
        else:
            _adaptive_avg_tiles(x, out, _adaptive_by_taps(x, out_len), acc)
    return out


def _adaptive_avg_tiles(x: np.ndarray, out: np.ndarray, by_taps: bool, acc: np.dtype[Any]) -> None:
    """The sums of every window, tile by tile, divided into ``out``."""
    n, c, length = x.shape
    out_len = out.shape[2]
    for n0, n1, o0, o1 in _tiles(n, c, out_len, 2 * acc.itemsize + 1):
        total = np.zeros((n1 - n0, c, o1 - o0), dtype=acc)
        s, e = shapes.adaptive_bounds(length, out_len, o0, o1 - o0)
        if by_taps:
            for j in range(int((e - s).max(initial=0))):
                inside = s + j < e
                tap = x[n0:n1, :, np.minimum(s + j, length - 1)]
                np.add(total, tap, out=total, where=inside, dtype=acc)
        else:
            for i in range(o1 - o0):
                # long windows: NumPy's pairwise sum (PyTorch sums in order: the last bits may differ)
                np.add.reduce(x[n0:n1, :, s[i] : e[i]], axis=-1, dtype=acc, out=total[..., i])
        out[n0:n1, :, o0:o1] = total / (e - s).astype(acc)


def row_max(rows: np.ndarray) -> np.ndarray:
    """The maximum of each row of a C-contiguous 2-D array, NaN propagating (as ``max(axis=1)``),
    in ``log2(L)`` long NumPy calls over the flattened rows instead of a short reduction per
    row: ``m[t]`` is the maximum of ``flat[t : t + w]`` for doubling ``w``, then two windows
    of ``w`` cover each row.

    >>> row_max(np.array([[1.0, 5.0, 2.0], [np.nan, 0.0, 1.0], [-1.0, -2.0, -3.0]])).tolist()
    [5.0, nan, -1.0]
    """
    count, length = rows.shape
    flat = rows.reshape(-1)
    if length < 2 or count == 0:
        return flat[::max(length, 1)].copy() if length else np.empty(0, dtype=rows.dtype)
    window, best = 1, flat
    while window * 2 <= length:
        best = np.maximum(best[:-window], best[window:])
        window *= 2
    if window < length:
        best = np.maximum(best[: best.shape[0] - (length - window)], best[length - window:])
    result: np.ndarray = best[::length][:count].copy()
    return result


def adaptive_max_pool1d(x: np.ndarray, out_len: int, return_indices: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Adaptive max pooling of (N, C, L) ``x``: values and (with ``return_indices``) int64
    indices, with max pooling's rules (ties: the first; NaN: the last NaN)."""
    n, c, length = x.shape
    out = np.empty((n, c, out_len), dtype=x.dtype)
    classes = _by_classes(x, out_len)
    if out_len == 1 and length and not return_indices:  # a global max: NumPy's max propagates NaN
        def tile(t: tuple[int, int, int, int]) -> None:
            part = x[t[0]:t[1]]
            if part.flags.c_contiguous:
                out[t[0]:t[1], :, 0] = row_max(part.reshape(-1, length)).reshape(t[1] - t[0], c)
            else:
                np.max(part, axis=2, keepdims=True, out=out[t[0]:t[1]])

        run_tiles(_tiles(n, c, 1, 2 * x.itemsize * length, work=n * c * length), tile, n * c * length)
        return out, None
    if classes is not None:
        index = np.empty((n, c, out_len), dtype=np.int64) if return_indices else None
        for k in classes:
            max_pool1d(x[:, :, k.start:], k.width, k.stride, 0, 1, k.count, return_indices,
                       out=out[:, :, k.first :: k.period],
                       index=None if index is None else index[:, :, k.first :: k.period], index_offset=k.start,
                       work=n * c * out_len)  # the classes are parts of one call
        return out, index
    index = np.empty((n, c, out_len), dtype=np.int64)
    by_taps = _adaptive_by_taps(x, out_len)
    for n0, n1, o0, o1 in _tiles(n, c, out_len, 2 * x.itemsize + 2 + 8):
        s, e = shapes.adaptive_bounds(length, out_len, o0, o1 - o0)
        best = x[n0:n1, :, s].copy()
        where = np.empty(best.shape, dtype=np.int64)
        where[...] = s
        if by_taps:
            for j in range(1, int((e - s).max(initial=0))):
                tap = x[n0:n1, :, np.minimum(s + j, length - 1)]
                wins = ((tap > best) | np.isnan(tap)) & (s + j < e)
                np.copyto(best, tap, where=wins)
                np.copyto(where, s + j, where=wins)
        else:
            for i in range(o1 - o0):
                window = x[n0:n1, :, s[i] : e[i]]
                nan = np.isnan(window)
                last_nan = window.shape[-1] - 1 - np.argmax(nan[..., ::-1], axis=-1)
                pick = np.where(nan.any(axis=-1), last_nan, np.argmax(window, axis=-1))
                where[..., i] = s[i] + pick
                best[..., i] = np.take_along_axis(window, pick[..., None], axis=-1)[..., 0]
        out[n0:n1, :, o0:o1] = best
        index[n0:n1, :, o0:o1] = where
    return out, (index if return_indices else None)


def max_unpool1d(x: np.ndarray, indices: np.ndarray, out_len: int) -> np.ndarray:
    """Scatter (N, C, L) ``x`` to ``indices`` (validated: inside ``[0, out_len)``) of a
    zero (N, C, out_len) output; of colliding values the last wins (PyTorch on one thread).
    Each (item, channel) plane scatters into its own output plane, so planes run on the
    workers; a plane too long for a tile runs in order, runs of its length one after the other."""
    n, c, length = x.shape
    out = np.zeros((n, c, out_len), dtype=x.dtype)
    if out.size == 0 or x.size == 0:
        return out
    flat = out.reshape(-1)

    def tile(t: tuple[int, int, int, int, int]) -> None:
        n0, n1, c0, c1, l0 = t[0], t[1], t[2], t[3], t[4]
        l1 = min(length, l0 + run)
        # the tile's planes are consecutive (whole items, or channels of one item): one
        # contiguous add of each plane's offset, repeated along its length
        first, last = n0 * c + c0, (n1 - 1) * c + c1
        offsets = np.repeat(np.arange(first * out_len, last * out_len, out_len, dtype=np.int64), l1 - l0)
        target = np.add(offsets, indices[n0:n1, c0:c1, l0:l1].ravel(), out=offsets)
        flat[target] = x[n0:n1, c0:c1, l0:l1].ravel()

    per_plane = length * 16  # the target indices and the values, per plane
    workers = _workers_for(n * c * length)
    budget = POOL_TILE_BYTES // workers
    if per_plane > budget:  # runs of one plane at a time, in order (the last colliding value wins)
        run = max(MIN_TILE_OUTPUTS, budget // 16)
        for n0 in range(n):
            for c0 in range(c):
                for l0 in range(0, length, run):
                    tile((n0, n0 + 1, c0, c0 + 1, l0))
        return out
    run = length
    if c * per_plane <= budget:  # whole items, at least two tiles per worker where the batch allows
        items = max(1, budget // (c * per_plane))
        items = min(items, max(1, -(-n // (2 * workers))))
        plan = [(n0, min(n, n0 + items), 0, c, 0) for n0 in range(0, n, items)]
    else:  # runs of channels of one item
        channels = max(1, budget // per_plane)
        plan = [(n0, n0 + 1, c0, min(c, c0 + channels), 0) for n0 in range(n) for c0 in range(0, c, channels)]
    run_tiles(plan, tile, n * c * length)
    return out


def pool_forward(
    x: np.ndarray, spec: PoolSpec, indices: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """The pool ``spec.op`` on resolved (N, C, L) ``x`` (as :func:`~convtrace.params.check_pool1d`
    returns it; ``max_unpool1d`` needs its ``indices``): the (N, C, O) output and, for max
    pools with ``return_indices``, the indices.

    >>> from convtrace.params import check_pool1d
    >>> x, spec = check_pool1d("lp_pool1d", np.ones((1, 5)), norm_type=2, kernel_size=2, stride=2, ceil_mode=True)
    >>> [round(v, 4) for v in pool_forward(x, spec)[0].ravel().tolist()]
    [1.4142, 1.4142, 1.4142]
    """
    if spec.op == "max_pool1d":
        return max_pool1d(
            x, spec.kernel_size, spec.stride, spec.padding, spec.dilation, spec.out_length, spec.return_indices
        )
    if spec.op == "avg_pool1d":
        return avg_pool1d(x, spec.kernel_size, spec.stride, spec.padding, spec.out_length, spec.count_include_pad), None
    if spec.op == "lp_pool1d":
        assert spec.norm_type is not None
        return lp_pool1d(x, spec.norm_type, spec.kernel_size, spec.stride, spec.out_length), None
    if spec.op == "adaptive_avg_pool1d":
        return adaptive_avg_pool1d(x, spec.out_length), None
    if spec.op == "adaptive_max_pool1d":
        return adaptive_max_pool1d(x, spec.out_length, spec.return_indices)
    assert indices is not None, "max_unpool1d needs its indices"
    return max_unpool1d(x, indices, spec.out_length), None
