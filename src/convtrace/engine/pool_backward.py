"""Input gradients of the 1-D pools, as PyTorch's CPU backward kernels compute them.

Every function takes validated ``(N, C, L)`` / ``(N, C, O)`` arrays and ints (the spec's
numbers) and returns a new ``(N, C, L)`` array in the gradient's dtype (float16 computed in
float32, rounded once at the end).

* **Sliding pools** (max, avg, lp): output ``o`` reads the input positions
  ``o*stride - padding + j*dilation`` (``shapes.pool_window_positions``). The work is cut
  into blocks (:func:`blocks`): rows of ``N*C`` and runs of outputs, ``BLOCK_OUTPUTS`` outputs
  x taps at a time, so the scratch stays bounded (a few MiB per worker thread) whatever the
  length. Blocks run on the engine's worker threads (:func:`_on_workers`): blocks of
  different rows at once; runs of one row every other one, then the rest (their spans meet).
  A block inside the input reads it in place and adds its gradient straight into the
  result; a block at an edge copies its span into a padded scratch row (padding and the
  ceil_mode overhang filled with a value that never wins) and adds into a padded scratch span
  whose padding cells are then dropped. Strided taps are gathered into a contiguous tap-major
  table (one strided copy per tap, so every later pass is contiguous); stride-1 taps are read
  in place.
* **Max** routes each output's gradient to its window's winner, by PyTorch's rule
  (``if (val > maxval) || isnan(val)`` over the real taps in order, starting from the first
  real tap): ties go to the first index, a NaN to the *last* NaN of the window; a window
  whose real taps are all ``-inf`` picks its first real tap. A window with no real tap at all
  (possible with ceil_mode and dilation) gets no gradient: PyTorch's own kernel writes that
  gradient out of bounds (a crash or a neighbour's sample), convtrace drops it. The common
  case is found first: every window's maximum finite and met by one tap only (a count of
  the equalities tells); then the equalities are the winners, and windows that do not
  overlap write their gradient instead of adding it.
* **Avg** spreads ``grad_output / divisor`` over the window's taps (padding and overhang
  cells dropped); the divisor is ``shapes.avg_pool_divisors``.
* **LP** runs PyTorch's autograd chain for ``(sign(A) * relu(|A|) * k) ** (1/p)`` with
  ``A = avg_pool1d(x ** p)``, including its zeros (``A == 0`` gives 0) and NaNs.
* **Adaptive** windows ``[floor(o*L/O), ceil((o+1)*L/O))`` overlap and vary in length; they
  run as ``O / gcd(L, O)`` sliding pools (:func:`adaptive_classes`), or by index when there are
  more than ``MAX_ADAPTIVE_CLASSES``; a global pool (``O = 1``) in one NumPy call.
* **Max from saved indices** (the indices the forward returned, as PyTorch's autograd saves
  them): a scatter-add of ``grad_output`` at the indices, row by row, no winner search
  (:func:`max_grad_from_indices`); a small call with as many outputs as samples per row (a
  "same" stride-1 pool) adds one contiguous pass per shift instead (:func:`_same_length_grad`).
* **max_unpool1d** gathers ``grad_output`` at the indices.

>>> import numpy as np
>>> x = np.array([[[1.0, 3.0, 3.0, 2.0]]]); g = np.array([[[10.0, 20.0]]])
>>> max_pool1d_input_grad(x, g, 2, 2, 0, 1).tolist()   # ties: the first index wins
[[[0.0, 10.0, 20.0, 0.0]]]
>>> avg_pool1d_input_grad(4, g, 2, 2, 0, np.array([2, 2])).tolist()
[[[5.0, 5.0, 10.0, 10.0]]]
>>> adaptive_avg_pool1d_input_grad(5, np.ones((1, 1, 3))).tolist()   # windows [0,2) [1,4) [3,5)
[[[0.5, 0.8333333333333333, 0.3333333333333333, 0.8333333333333333, 0.5]]]
>>> max_unpool1d_input_grad(np.array([[[1, 1, 3]]]), np.array([[[0.0, 1.0, 2.0, 3.0]]])).tolist()
[[[1.0, 1.0, 3.0]]]
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from .. import shapes
from . import fast_threads
from .fast_layout import compute_dtype
from .pool import (
    MAX_ADAPTIVE_CLASSES,
    PARALLEL_OUTPUTS,
    POOL_TILE_BYTES,
    AdaptiveClass,
    adaptive_classes,
    row_max,
    run_tiles,
    torch_power,
)

__all__ = [
    "BLOCK_OUTPUTS",
    "Block",
    "blocks",
    "max_pool1d_input_grad",
    "avg_pool1d_input_grad",
    "lp_pool1d_input_grad",
    "adaptive_avg_pool1d_input_grad",
    "adaptive_max_pool1d_input_grad",
    "max_unpool1d_input_grad",
    "max_grad_from_indices",
    "index_outside",
    "torch_sign",
    "MAX_ADAPTIVE_CLASSES",
    "AdaptiveClass",
    "adaptive_classes",
]

#: Outputs x taps per block: the tap-major table of a block is at most this many elements
#: (256 Ki: 1 MiB in float32), so every block's scratch stays in the outer caches.
BLOCK_OUTPUTS = 1 << 18
#: Fewest outputs per block (however many taps), so per-block overhead stays small.
MIN_BLOCK_OUTPUTS = 1024


@dataclass(frozen=True)
class Block:
    """Rows ``[r0, r1)`` of the ``(N*C, ...)`` planes and outputs ``[o0, o1)``; the block reads
    input positions ``[lo, hi)`` (input coordinates: negative in the left padding)."""

    r0: int
    r1: int
    o0: int
    o1: int
    lo: int
    hi: int

    def inside(self, length: int) -> bool:
        """Whether the block reads no padding or overhang cell (its span is a view of the input)."""
        return self.lo >= 0 and self.hi <= length


def blocks(rows: int, out_length: int, taps: int, stride: int, padding: int, dilation: int) -> Iterator[Block]:
    """The blocks of a sliding pool: whole rows while they fit, else runs of outputs.

    >>> [(b.r0, b.r1, b.o0, b.o1, b.lo, b.hi) for b in blocks(3, 4, 2, 2, 1, 1)]
    [(0, 3, 0, 4, -1, 7)]
    >>> [(b.o0, b.o1, b.lo, b.hi) for b in blocks(1, 3000, 128, 1, 0, 1)][:2]
    [(0, 2048, 0, 2175), (2048, 3000, 2048, 3127)]
    """
    per_block = max(MIN_BLOCK_OUTPUTS, BLOCK_OUTPUTS // max(taps, 1))
    span = (taps - 1) * dilation + 1
    if out_length <= per_block:
        rows_per_block = max(1, per_block // max(out_length, 1))
        for r0 in range(0, rows, rows_per_block):
            yield Block(r0, min(rows, r0 + rows_per_block), 0, out_length,
                        -padding, (out_length - 1) * stride - padding + span)
        return
    for r0 in range(rows):
        for o0 in range(0, out_length, per_block):
            o1 = min(out_length, o0 + per_block)
            yield Block(r0, r0 + 1, o0, o1, o0 * stride - padding, (o1 - 1) * stride - padding + span)


def torch_sign(a: np.ndarray) -> np.ndarray:
    """PyTorch's ``sign``/``sgn`` of a real array: ``(0 < a) - (a < 0)``, so NaN gives 0.

    >>> torch_sign(np.array([-2.0, 0.0, np.nan, 3.0])).tolist()
    [-1.0, 0.0, 0.0, 1.0]
    """
    sign: np.ndarray = np.greater(a, 0).astype(a.dtype)
    sign -= np.less(a, 0)
    return sign


def _planes(a: np.ndarray) -> np.ndarray:
    """``(..., L)`` as ``(rows, L)`` (also when a size is 0)."""
    return a.reshape(math.prod(a.shape[:-1]), a.shape[-1])


def _read_span(x2: np.ndarray, block: Block, fill: float, out: np.ndarray, copy: bool = False) -> np.ndarray:
    """``x2[rows, lo:hi]`` of the block: a view when it lies inside the input (and ``copy`` is
    not asked), else a copy in ``out`` with its padding and overhang cells set to ``fill``."""
    length = x2.shape[-1]
    if block.inside(length) and not copy:
        return x2[block.r0: block.r1, block.lo: block.hi]
    span = out[: block.r1 - block.r0, : block.hi - block.lo]
    a, b = max(block.lo, 0), min(block.hi, length)
    if a < b:
        span[:, a - block.lo: b - block.lo] = x2[block.r0: block.r1, a:b]
    _fill_outside(span, block, length, fill)
    return span


def _grad_span(gx2: np.ndarray, block: Block, out: np.ndarray) -> np.ndarray:
    """Where a block adds its gradient: the result itself when the block lies inside the
    input, else zeroed scratch (then :func:`_add_span` adds its real cells to the result)."""
    if block.inside(gx2.shape[-1]):
        return gx2[block.r0: block.r1, block.lo: block.hi]
    span = out[: block.r1 - block.r0, : block.hi - block.lo]
    span.fill(0)
    return span


def _tap(span: np.ndarray, j: int, count: int, stride: int, dilation: int) -> np.ndarray:
    """The view of tap ``j`` of ``count`` consecutive outputs in a block's span."""
    start = j * dilation
    return span[:, start: start + (count - 1) * stride + 1: stride]


def _add_span(gx2: np.ndarray, block: Block, span: np.ndarray) -> None:
    """Add a block's gradient span into the result (its padding and overhang cells dropped),
    unless it is the result already (:func:`_grad_span`)."""
    length = gx2.shape[-1]
    if block.inside(length):
        return
    a, b = max(block.lo, 0), min(block.hi, length)
    if a < b:
        gx2[block.r0: block.r1, a:b] += span[:, a - block.lo: b - block.lo]


def _first_real_tap(block: Block, length: int, taps: int, stride: int, padding: int, dilation: int) -> np.ndarray:
    """Per output of the block: its first real tap (``taps`` when it has none)."""
    positions = shapes.pool_window_positions(block.o1, taps, stride, padding, dilation)[block.o0:]
    real = (positions >= 0) & (positions < length)
    return np.where(real.any(axis=1), real.argmax(axis=1), taps)


def _winner_hits(table: list[np.ndarray], hits: np.ndarray, first_real: Callable[[], np.ndarray] | None) -> None:
    """``hits[j]``: whether tap ``j`` wins its window, by PyTorch's max rule (module docstring).
    ``table`` is the tap-major ``(taps, rows, outputs)`` gather, padding cells at -inf;
    ``first_real()`` gives each output's first real tap where a window may hold padding.
    When every window's maximum is finite and met once (no tie, the common case: a count of
    the hits tells), the equalities are the answer; else ties go to the first index."""
    taps = len(table)
    best = table[0].copy()
    for j in range(1, taps):
        np.maximum(best, table[j], out=best)
    met = 0
    for j in range(taps):
        np.equal(table[j], best, out=hits[j])
        met += int(np.count_nonzero(hits[j]))
    finite = bool(np.isfinite(best).all())
    if finite and met == best.size:  # one hit per window (a finite maximum is met at least once)
        return
    claimed = hits[0].copy()
    for j in range(1, taps):
        np.greater(hits[j], claimed, out=hits[j])  # hit and not claimed by an earlier tap
        if j < taps - 1:
            claimed |= hits[j]
    if finite:  # no NaN window, no all -inf one: done
        return
    nan_windows = np.isnan(best)
    if nan_windows.any():  # NaN never equals itself: the last NaN of the window wins
        claimed = ~nan_windows
        for j in range(taps - 1, -1, -1):
            found = np.isnan(table[j]) & ~claimed
            hits[j] |= found
            claimed |= found
    if first_real is None:
        return
    empty = best == -np.inf
    if empty.any():  # all real taps -inf (or none): the first real tap, never a padding cell
        first = first_real()
        for j in range(taps):
            hits[j] &= ~empty
            hits[j] |= empty & (first == j)[None, :]


def _plan(rows: int, out_length: int, taps: int, stride: int, padding: int, dilation: int) -> tuple[list[Block], int, int, int]:
    """The blocks, and the largest span width, row count and output count among them."""
    plan = list(blocks(rows, out_length, taps, stride, padding, dilation))
    return (plan, max(b.hi - b.lo for b in plan), max(b.r1 - b.r0 for b in plan), max(b.o1 - b.o0 for b in plan))


def max_pool1d_input_grad(
    x: np.ndarray, grad_output: np.ndarray, kernel_size: int, stride: int, padding: int, dilation: int,
    magnitude: int = 0,
) -> np.ndarray:
    """Input gradient of max_pool1d (validated ints). ``magnitude`` +1 / -1 pools ``|x|`` /
    ``-|x|`` instead of ``x`` (lp_pool1d with ``p = ±inf``), without an input-sized copy.

    >>> x = np.array([[[np.nan, 1.0, np.nan, 2.0]]])
    >>> max_pool1d_input_grad(x, np.array([[[1.0, 1.0]]]), 3, 1, 0, 1).tolist()  # the last NaN wins
    [[[0.0, 0.0, 2.0, 0.0]]]
    """
    dtype = np.dtype(compute_dtype(grad_output.dtype))
    x2 = _planes(x)
    gx2 = np.zeros(x2.shape, dtype=dtype)
    _max_into(gx2, x2, _planes(grad_output).astype(dtype, copy=False), kernel_size, stride, padding, dilation,
              magnitude, fresh=True)
    return gx2.reshape(x.shape).astype(grad_output.dtype, copy=False)


def _max_into(
    gx2: np.ndarray, x2: np.ndarray, g2: np.ndarray, k: int, s: int, p: int, d: int, magnitude: int = 0,
    fresh: bool = False,
) -> None:
    """Add max pooling's routed gradient into ``gx2`` (planes). A negative ``p`` starts the
    first window inside the input (an adaptive pool's class of outputs). ``fresh``: ``gx2`` is
    all zeros, so windows that do not overlap may write their gradient instead of adding it."""
    rows, length = x2.shape
    out_length = g2.shape[-1]
    if rows == 0 or out_length == 0 or length == 0:
        return
    dtype = gx2.dtype
    plan, widest, most_rows, most_out = _plan(rows, out_length, k, s, p, d)
    assign = fresh and s >= (k - 1) * d + 1

    def worker(share: Iterator[Block]) -> None:
        span_buffer = np.empty((most_rows, widest), dtype=dtype)
        grad_buffer = np.empty((most_rows, widest), dtype=dtype)
        table_buffer = np.empty((k, most_rows, most_out), dtype=dtype)
        hit_buffer = np.empty((k, most_rows, most_out), dtype=bool)
        masked = np.empty((most_rows, most_out), dtype=dtype)
        for block in share:
            n, count = block.r1 - block.r0, block.o1 - block.o0
            span = _read_span(x2, block, -np.inf, span_buffer, copy=bool(magnitude) or x2.dtype != dtype)
            if magnitude:
                np.abs(span, out=span)
                if magnitude < 0:
                    np.negative(span, out=span)
                _fill_outside(span, block, length, -np.inf)
            if s == 1:  # every tap is a run of the span: read in place
                table: list[np.ndarray] = [_tap(span, j, count, s, d) for j in range(k)]
            else:  # strided taps: one copy each, so that every later pass is contiguous
                table = list(table_buffer[:, :n, :count])
                for j in range(k):
                    np.copyto(table[j], _tap(span, j, count, s, d))
            hits = hit_buffer[:, :n, :count]
            _winner_hits(table, hits, functools.partial(_first_real_tap, block, length, k, s, p, d))
            grads = _grad_span(gx2, block, grad_buffer)
            g = g2[block.r0: block.r1, block.o0: block.o1]
            with np.errstate(all="ignore"):  # inf + -inf where windows share a winner: PyTorch says nothing
                _route(grads, g, hits, masked[:n, :count], s, d, assign)
            _add_span(gx2, block, grads)

    _on_workers(plan, worker)


def _on_workers(plan: list[Block], worker: Callable[[Iterator[Block]], None]) -> None:
    """Run ``worker`` over the blocks of ``plan`` on the engine's worker threads (each worker
    with its own scratch: :func:`~.pool.run_tiles`). Blocks of different rows never write the
    same cells; runs of one row may (overlapping windows), so when a row has several blocks,
    every other block runs first, then the rest."""
    count = min(fast_threads.workers(), len(plan))
    if count <= 1 or sum(b.o1 - b.o0 for b in plan) * (plan[0].r1 - plan[0].r0) < PARALLEL_OUTPUTS:
        worker(iter(plan))
        return
    split = any(b.o0 > 0 for b in plan)
    if split and any(a.r0 == b.r0 and a.hi > b.lo for a, b in zip(plan, plan[2:])):
        worker(iter(plan))  # windows wider than a block: blocks two apart overlap too
        return
    for wave in ([plan[0::2], plan[1::2]] if split else [plan]):
        shared = iter(wave)
        run_tiles([shared] * count, worker)


def _route(
    grads: np.ndarray, g: np.ndarray, hits: np.ndarray, masked: np.ndarray, stride: int, dilation: int,
    assign: bool = False,
) -> None:
    """Add ``g`` to the tap of each window that ``hits`` marks (``assign``: write it, the
    windows not overlapping and ``grads`` zero). Branch-free (a mask that changes at random
    costs a mispredicted branch per element in NumPy's masked loops): ``g * hit`` when ``g``
    is finite, else the exact bit mask (``NaN * 0`` would be NaN)."""
    count = g.shape[-1]
    g = np.ascontiguousarray(g)  # an adaptive class reads every period-th output
    finite = bool(np.isfinite(g).all())
    bits = None if finite else g.view(np.dtype(f"i{g.dtype.itemsize}"))
    for j in range(hits.shape[0]):
        view = _tap(grads, j, count, stride, dilation)
        if bits is None and assign:
            np.multiply(g, hits[j], out=view)
            continue
        if bits is None:
            np.multiply(g, hits[j], out=masked)
        else:
            mask = np.negative(hits[j], dtype=bits.dtype)
            np.bitwise_and(bits, mask, out=masked.view(bits.dtype))
        view += masked


def _fill_outside(span: np.ndarray, block: Block, length: int, fill: float) -> None:
    """Set a block span's padding and overhang cells to ``fill``."""
    a, b = max(block.lo, 0), min(block.hi, length)
    span[:, : max(a - block.lo, 0)] = fill
    span[:, max(b - block.lo, 0):] = fill


def _spread(grads: np.ndarray, share: np.ndarray, kernel_size: int, stride: int) -> None:
    """Add each output's ``share`` to every tap of its window (a block's gradient span)."""
    count = share.shape[-1]
    for j in range(kernel_size):
        view = _tap(grads, j, count, stride, 1)
        view += share


def avg_pool1d_input_grad(
    length: int, grad_output: np.ndarray, kernel_size: int, stride: int, padding: int, divisors: np.ndarray
) -> np.ndarray:
    """Input gradient of avg_pool1d: ``grad_output / divisor`` added over each window's real
    taps (``divisors``: one per output, ``shapes.avg_pool_divisors``).

    >>> avg_pool1d_input_grad(6, np.ones((1, 1, 4)), 3, 2, 1, np.array([3, 3, 3, 2])).tolist()
    [[[0.3333333333333333, 0.6666666666666666, 0.3333333333333333, 0.6666666666666666, 0.3333333333333333, 0.8333333333333333]]]
    """
    dtype = np.dtype(compute_dtype(grad_output.dtype))
    g2 = _planes(grad_output)
    gx2 = np.zeros((g2.shape[0], length), dtype=dtype)
    _avg_into(gx2, g2, kernel_size, stride, padding, divisors.astype(dtype))
    return gx2.reshape(*grad_output.shape[:-1], length).astype(grad_output.dtype, copy=False)


def _avg_into(gx2: np.ndarray, g2: np.ndarray, k: int, s: int, p: int, divisor: np.ndarray) -> None:
    """Add avg pooling's gradient (``g2 / divisor`` over each window) into ``gx2`` (planes)."""
    rows, out_length = g2.shape
    if not (rows and out_length and gx2.shape[-1]):
        return
    dtype = gx2.dtype
    plan, widest, most_rows, most_out = _plan(rows, out_length, k, s, p, 1)

    def worker(share: Iterator[Block]) -> None:
        grad_buffer = np.empty((most_rows, widest), dtype=dtype)
        share_buffer = np.empty((most_rows, most_out), dtype=dtype)
        for block in share:
            n, count = block.r1 - block.r0, block.o1 - block.o0
            part = share_buffer[:n, :count]
            np.divide(g2[block.r0: block.r1, block.o0: block.o1], divisor[block.o0: block.o1], out=part)
            grads = _grad_span(gx2, block, grad_buffer)
            _spread(grads, part, k, s)
            _add_span(gx2, block, grads)

    _on_workers(plan, worker)


def _pow_backward(grad: np.ndarray, base: np.ndarray, exponent: float) -> np.ndarray:
    """PyTorch's ``pow_backward`` for a scalar exponent: ``grad * (e * base ** (e - 1))``, zeros
    when ``e == 0``."""
    if exponent == 0:
        return np.zeros_like(base)
    with np.errstate(all="ignore"):
        factor = torch_power(base, exponent - 1)  # PyTorch's pow, with its special cases
        factor *= base.dtype.type(exponent)
        product: np.ndarray = np.multiply(grad, factor, out=factor)
        return product


def _lp_output_grad(sums: np.ndarray, grad: np.ndarray, divisor: np.ndarray, norm_type: float, kernel_size: int) -> np.ndarray:
    """The gradient reaching ``A = avg_pool1d(x ** p)`` through PyTorch's lp_pool1d tail
    ``(sign(A) * relu(|A|)).mul(k).pow(1/p)``, op by op as autograd runs it."""
    dtype = sums.dtype.type
    with np.errstate(all="ignore"):
        averaged = sums / divisor
        sign = torch_sign(averaged)
        rectified = np.abs(averaged)                                        # relu(|A|): NaN stays NaN
        scaled = sign * rectified * dtype(kernel_size)                      # C
        grad_scaled = _pow_backward(grad, scaled, 1.0 / float(norm_type))   # through C ** (1/p)
        grad_rectified: np.ndarray = grad_scaled * dtype(kernel_size) * sign  # through .mul(k), then sign(A) *
        grad_rectified[rectified <= 0] = 0                                  # relu's backward (NaN passes)
        grad_rectified *= sign                                              # abs's backward: * sgn(A)
        return grad_rectified


def lp_pool1d_input_grad(
    x: np.ndarray, grad_output: np.ndarray, norm_type: float, kernel_size: int, stride: int
) -> np.ndarray:
    """Input gradient of lp_pool1d, through PyTorch's own composition (module docstring); the
    output count comes from ``grad_output`` (ceil_mode's extra window included).

    ``p = 1`` is a signed sum (gradient 1 through every tap, even where the sum is negative),
    a window summing to 0 gives 0, an odd ``p`` on a negative sum gives NaN:

    >>> x = np.array([[[1.0, -2.0, 0.0, 0.0]]])
    >>> lp_pool1d_input_grad(x, np.ones((1, 1, 2)), 1.0, 2, 2).tolist()
    [[[1.0, 1.0, 0.0, 0.0]]]
    >>> lp_pool1d_input_grad(x, np.ones((1, 1, 2)), 3.0, 2, 2).tolist()
    [[[nan, nan, 0.0, 0.0]]]
    """
    if np.isinf(norm_type):  # max_pool1d(|x|), or -max_pool1d(-|x|): both route gy to the winner
        routed = max_pool1d_input_grad(x, grad_output, kernel_size, stride, 0, 1, magnitude=1 if norm_type > 0 else -1)
        return _scale_by(routed, x, torch_sign).astype(grad_output.dtype, copy=False)
    dtype = np.dtype(compute_dtype(grad_output.dtype))
    x2 = _planes(x)
    g2 = _planes(grad_output)
    rows, length = x2.shape
    out_length = g2.shape[-1]
    gx2 = np.zeros((rows, length), dtype=dtype)
    k = kernel_size
    if rows and out_length and length:
        divisors = shapes.avg_pool_divisors(length, k, stride, 0, out_length, True).astype(dtype)
        plan, widest, most_rows, _ = _plan(rows, out_length, k, stride, 0, 1)

        def worker(share: Iterator[Block]) -> None:
            span_buffer = np.empty((most_rows, widest), dtype=dtype)
            grad_buffer = np.empty((most_rows, widest), dtype=dtype)
            with np.errstate(all="ignore"):  # inf - inf, 0 * inf: PyTorch gives NaN without a word
                _lp_blocks(x2, g2, gx2, share, divisors, span_buffer, grad_buffer, float(norm_type), k, stride, length)

        _on_workers(plan, worker)
    gx = gx2.reshape(x.shape)
    return _scale_by(gx, x, lambda part: _pow_backward(np.ones_like(part), part, float(norm_type))).astype(
        grad_output.dtype, copy=False
    )


def _lp_blocks(
    x2: np.ndarray, g2: np.ndarray, gx2: np.ndarray, plan: Iterator[Block], divisors: np.ndarray,
    span_buffer: np.ndarray, grad_buffer: np.ndarray, norm_type: float, k: int, stride: int, length: int,
) -> None:
    """lp_pool1d's gradient block by block into ``gx2`` (before the ``x ** p`` factor)."""
    dtype = gx2.dtype
    for block in plan:
        n, count = block.r1 - block.r0, block.o1 - block.o0
        span = _read_span(x2, block, 0.0, span_buffer, copy=True)
        np.copyto(span, torch_power(span, norm_type))  # x ** p (the overhang reads nothing)
        _fill_outside(span, block, length, 0.0)
        sums = np.zeros((n, count), dtype=dtype)
        for j in range(k):
            sums += _tap(span, j, count, stride, 1)
        g = g2[block.r0: block.r1, block.o0: block.o1].astype(dtype, copy=False)
        grad_sums = _lp_output_grad(sums, g, divisors[block.o0: block.o1], norm_type, k)
        grads = _grad_span(gx2, block, grad_buffer)
        _spread(grads, np.divide(grad_sums, divisors[block.o0: block.o1], out=grad_sums), k, stride)
        _add_span(gx2, block, grads)


def _scale_by(grad: np.ndarray, x: np.ndarray, factor: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """``grad * factor(x)`` in place, a block of rows or columns at a time (bounded scratch)."""
    g2, x2 = _planes(grad), _planes(x)
    rows, length = g2.shape
    if not g2.size:
        return grad
    row_step = max(1, BLOCK_OUTPUTS // length)
    col_step = min(length, BLOCK_OUTPUTS)
    with np.errstate(all="ignore"):
        for r0 in range(0, rows, row_step):
            for c0 in range(0, length, col_step):
                target = g2[r0: r0 + row_step, c0: c0 + col_step]
                target *= factor(x2[r0: r0 + row_step, c0: c0 + col_step].astype(g2.dtype, copy=False))
    return grad


def _adaptive_groups(length: int, out_length: int) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Adaptive windows: starts, ends, the longest window, and how many outputs apart two
    outputs must be to start at different positions (1 unless ``O > L``)."""
    starts, ends = shapes.adaptive_bounds(length, out_length)
    longest = int((ends - starts).max()) if out_length else 0
    apart = -(-out_length // length) if length else 1
    return starts, ends, longest, apart


def adaptive_avg_pool1d_input_grad(length: int, grad_output: np.ndarray) -> np.ndarray:
    """Input gradient of adaptive_avg_pool1d: ``grad_output / window length`` over each
    (overlapping) window; ``O > L`` works. The outputs run as a few sliding pools
    (:func:`adaptive_classes`) when there are few classes, else tap by tap by index.

    >>> adaptive_avg_pool1d_input_grad(2, np.array([[[1.0, 2.0, 3.0]]])).tolist()  # windows [0,1) [0,2) [1,2)
    [[[2.0, 4.0]]]
    """
    dtype = np.dtype(compute_dtype(grad_output.dtype))
    g2 = _planes(grad_output)
    rows, out_length = g2.shape
    if out_length == 1:  # one window, the whole length: every sample gets grad_output / L
        share = g2.astype(dtype) / dtype.type(max(length, 1))
        whole = np.broadcast_to(share, (rows, length)).astype(grad_output.dtype)
        return whole.reshape(*grad_output.shape[:-1], length)
    gx2 = np.zeros((rows, length), dtype=dtype)
    if rows and out_length and length:
        classes = adaptive_classes(length, out_length)
        if len(classes) <= MAX_ADAPTIVE_CLASSES:
            for c in classes:
                part = g2[:, c.first:: c.period]
                _avg_into(gx2, part, c.width, c.stride, -c.start, np.full(c.count, c.width, dtype=dtype))
        else:
            _adaptive_avg_by_index(gx2, g2)
    return gx2.reshape(*grad_output.shape[:-1], length).astype(grad_output.dtype, copy=False)


def _adaptive_avg_by_index(gx2: np.ndarray, g2: np.ndarray) -> None:
    """Adaptive avg's gradient tap by tap: a scatter by index per tap and group of outputs far
    enough apart to start at distinct positions (no index twice in one scatter)."""
    rows, out_length = g2.shape
    length = gx2.shape[-1]
    starts, ends, longest, apart = _adaptive_groups(length, out_length)
    share = g2.astype(gx2.dtype) / (ends - starts).astype(gx2.dtype)
    step = max(1, BLOCK_OUTPUTS // max(out_length * longest, 1))
    for r0 in range(0, rows, step):
        target = gx2[r0: r0 + step]
        part = share[r0: r0 + step]
        for first in range(apart):
            chosen = np.arange(first, out_length, apart)
            for j in range(longest):
                inside = chosen[starts[chosen] + j < ends[chosen]]
                target[:, starts[inside] + j] += part[:, inside]


def adaptive_max_pool1d_input_grad(x: np.ndarray, grad_output: np.ndarray) -> np.ndarray:
    """Input gradient of adaptive_max_pool1d: each output's gradient to its window's winner
    (ties: the first; NaN: the last NaN), summed where windows share a winner.

    >>> adaptive_max_pool1d_input_grad(np.array([[[1.0, 5.0]]]), np.array([[[1.0, 2.0, 3.0]]])).tolist()
    [[[1.0, 5.0]]]
    """
    dtype = np.dtype(compute_dtype(grad_output.dtype))
    x2 = _planes(x)
    g2 = _planes(grad_output).astype(dtype, copy=False)
    rows, length = x2.shape
    out_length = g2.shape[-1]
    if out_length == 1 and length:
        return _global_max_grad(x, grad_output)
    gx2 = np.zeros((rows, length), dtype=dtype)
    if rows and out_length and length:
        classes = adaptive_classes(length, out_length)
        if len(classes) <= MAX_ADAPTIVE_CLASSES:
            for c in classes:
                _max_into(gx2, x2, g2[:, c.first:: c.period], c.width, c.stride, -c.start, 1)
        else:
            _adaptive_max_by_index(gx2, x2, g2)
    return gx2.reshape(x.shape).astype(grad_output.dtype, copy=False)


def _adaptive_max_by_index(gx2: np.ndarray, x2: np.ndarray, g2: np.ndarray) -> None:
    """Adaptive max's gradient with the windows gathered by index (many classes of outputs)."""
    rows, length = x2.shape
    out_length = g2.shape[-1]
    starts, ends, longest, _ = _adaptive_groups(length, out_length)
    # tap j of output o reads min(start + j, end - 1): a window shorter than the longest
    # repeats its last sample, which neither wins a tie nor moves a NaN to a new position
    positions = np.minimum(starts[None, :] + np.arange(longest)[:, None], ends[None, :] - 1)
    step = max(1, BLOCK_OUTPUTS // max(out_length * longest, 1))
    for r0 in range(0, rows, step):
        part = x2[r0: r0 + step].astype(gx2.dtype, copy=False)
        table = np.stack([part[:, positions[j]] for j in range(longest)])
        hits = np.empty(table.shape, dtype=bool)
        _winner_hits(list(table), hits, None)  # every tap is real
        winner = np.zeros(table.shape[1:], dtype=np.int64)
        for j in range(longest):
            np.copyto(winner, positions[j][None, :], where=hits[j])
        flat = winner + (np.arange(part.shape[0], dtype=np.int64) * length)[:, None]
        total = np.bincount(flat.ravel(), weights=g2[r0: r0 + step].ravel(), minlength=part.shape[0] * length)
        gx2[r0: r0 + step] = total.reshape(part.shape[0], length)


def _global_max_grad(x: np.ndarray, grad_output: np.ndarray) -> np.ndarray:
    """One window over the whole length, rows in tiles on the workers: each row's maximum
    (:func:`~.pool.row_max`), and where it is finite and met once (counted), the gradient
    where ``x`` equals it; else
    NumPy's argmax per row (ties: the first; all -inf: the first), then the last NaN for rows
    holding one (NumPy's argmax takes the first)."""
    dtype = np.dtype(compute_dtype(grad_output.dtype))
    x2 = _planes(x)
    g2 = _planes(grad_output).astype(dtype, copy=False)
    rows, length = x2.shape
    gx2 = np.empty((rows, length), dtype=dtype)
    step = max(1, BLOCK_OUTPUTS // length)
    if rows * length >= PARALLEL_OUTPUTS:
        step = min(step, max(1, -(-rows // (2 * fast_threads.workers()))))

    def tile(r0: int) -> None:
        part, target, g = x2[r0: r0 + step], gx2[r0: r0 + step], g2[r0: r0 + step]
        if part.flags.c_contiguous and np.isfinite(g).all():
            best = row_max(part)
            if np.isfinite(best).all():
                hits = np.flatnonzero(np.equal(part.reshape(-1), np.repeat(best, length)))
                if hits.size == part.shape[0]:  # one winner per row (a finite maximum is met at least once)
                    target.fill(0)
                    target.reshape(-1)[hits] = g[:, 0]
                    return
        winner = np.argmax(part, axis=1)
        here = np.arange(part.shape[0])
        nan_rows = np.flatnonzero(np.isnan(part[here, winner]))
        if nan_rows.size:
            winner[nan_rows] = length - 1 - np.argmax(np.isnan(part[nan_rows, ::-1]), axis=1)
        target.fill(0)
        target[here, winner] = g[:, 0]

    run_tiles(range(0, rows, step), tile, rows * length)
    return gx2.reshape(x.shape).astype(grad_output.dtype, copy=False)


def max_unpool1d_input_grad(indices: np.ndarray, grad_output: np.ndarray) -> np.ndarray:
    """Input gradient of max_unpool1d: ``grad_output`` read at each index (validated: every
    index inside ``grad_output``'s length).

    >>> max_unpool1d_input_grad(np.array([[[2, 0]]]), np.array([[[5.0, 6.0, 7.0]]])).tolist()
    [[[7.0, 5.0]]]
    """
    lead = indices.shape[:-1]
    rows = math.prod(lead)
    g2 = _planes(np.ascontiguousarray(grad_output))
    i2 = _planes(indices)
    gathered = np.empty(i2.shape, dtype=g2.dtype)
    width = max(1, i2.shape[-1])
    step = max(1, BLOCK_OUTPUTS // width)
    if rows * width >= PARALLEL_OUTPUTS:
        step = min(step, max(1, -(-rows // (2 * fast_threads.workers()))))

    def tile(r0: int) -> None:
        # a flat take of the tile's rows (take_along_axis: 3x slower), each row's offset
        # repeated along it and added in one contiguous pass
        r1 = min(rows, r0 + step)
        target = np.repeat(np.arange(r0 * g2.shape[-1], r1 * g2.shape[-1], g2.shape[-1], dtype=np.intp), width)
        np.add(target, i2[r0:r1].ravel(), out=target, casting="unsafe")
        # mode "clip" (the indices are validated): "raise" with ``out`` copies through a buffer
        np.take(g2.reshape(-1), target, out=gathered[r0:r1].reshape(-1), mode="clip")

    run_tiles(range(0, rows, step), tile, rows * width)
    return gathered.reshape(indices.shape)


#: Scratch bytes per output of :func:`max_grad_from_indices` (the flat index, the value).
_SCATTER_OUTPUT_BYTES = 16


def index_outside(indices: np.ndarray, length: int) -> int | None:
    """The index of int64 ``indices`` outside ``[0, length)`` to report (the smallest if
    negative, else the largest), or None when all lie inside: one pass (their largest as
    unsigned integers: a negative index is a huge one) when they do.

    >>> index_outside(np.array([[0, 3]]), 4), index_outside(np.array([[-2, 9]]), 4), index_outside(np.array([[1, 9]]), 4)
    (None, -2, 9)
    """
    if not indices.size or int(indices.view(np.uint64).max()) < length:
        return None
    low = int(indices.min())
    return low if low < 0 else int(indices.max())


def max_grad_from_indices(indices: np.ndarray, grad_output: np.ndarray, length: int) -> np.ndarray:
    """Input gradient of a max pool from its forward's saved indices (validated: int64, the
    shape of ``grad_output``, every index in ``[0, length)``, :func:`index_outside`): per
    ``(n, c)`` row, ``grad_output`` added into zeros at the indices, as PyTorch's backward
    does (no winner search).

    Each tile's flat indices (row * length + index) are checked in one pass: strictly
    increasing (windows that do not overlap: no index twice) they are written by fancy-index
    assignment; else ``np.add.at``, unbuffered, in window order and in the gradient's dtype,
    as PyTorch's loop adds (float32: its bits; measured several times faster than
    ``np.bincount``, which sums in float64). Tiles are whole rows within the workers' share
    of ``POOL_TILE_BYTES``, or runs of outputs of one long row, in order. A call under
    ``PARALLEL_OUTPUTS`` outputs with as many outputs as samples per row goes by shifts
    (:func:`_same_length_grad`: the same sums in the same order) when it can.

    >>> max_grad_from_indices(np.array([[[1, 1, 3]]]), np.array([[[1.0, 2.0, 4.0]]]), 4).tolist()
    [[[0.0, 3.0, 0.0, 4.0]]]
    """
    dtype = np.dtype(compute_dtype(grad_output.dtype))
    i2 = _planes(indices)
    g2 = _planes(grad_output).astype(dtype, copy=False)
    rows, width = i2.shape
    if 0 < rows * width < PARALLEL_OUTPUTS and width == length:
        by_shifts = _same_length_grad(i2, g2)
        if by_shifts is not None:
            return by_shifts.reshape(*grad_output.shape[:-1], length).astype(grad_output.dtype, copy=False)
    gx2 = np.zeros((rows, length), dtype=dtype)
    workers = fast_threads.workers() if rows * width >= PARALLEL_OUTPUTS else 1  # the scatter's work: its outputs
    budget = POOL_TILE_BYTES // workers
    if rows and width:
        per_row = width * _SCATTER_OUTPUT_BYTES
        if per_row <= budget:
            step = max(1, budget // per_row)
            if workers > 1:
                step = min(step, max(1, -(-rows // (2 * workers))))
            run_tiles(range(0, rows, step), lambda r0: _scatter_rows(
                gx2[r0: r0 + step], i2[r0: r0 + step], g2[r0: r0 + step]), rows * width)
        else:  # one long row at a time, in runs of outputs (in order: their adds stay in window order)
            run = max(MIN_BLOCK_OUTPUTS, budget // _SCATTER_OUTPUT_BYTES)

            def long_row(r: int) -> None:
                last = -1
                for o0 in range(0, width, run):
                    last = _scatter_rows(gx2[r: r + 1], i2[r: r + 1, o0: o0 + run], g2[r: r + 1, o0: o0 + run], last)

            run_tiles(range(rows), long_row, rows * width)
    return gx2.reshape(*grad_output.shape[:-1], length).astype(grad_output.dtype, copy=False)


def _scatter_rows(target: np.ndarray, indices: np.ndarray, grads: np.ndarray, after: int = -1) -> int:
    """Rows: ``grads`` added into ``target`` at ``indices``, row by row; written instead when
    the flat indices strictly increase and start past ``after`` (the last flat index a
    previous run of the same row scattered to: it may not be written over). Returns the
    last flat index."""
    count, length = target.shape
    flat = indices.ravel()
    if count > 1:
        flat = np.repeat(np.arange(0, count * length, length, dtype=np.int64), indices.shape[1]) + flat
    head = min(flat.shape[0], 65)  # overlapping windows share a winner early: no full pass then
    if (int(flat[0]) > after and bool(np.greater(flat[1:head], flat[: head - 1]).all())
            and bool(np.greater(flat[head:], flat[head - 1: -1]).all())):
        target.reshape(-1)[flat] = grads.ravel()
    else:
        np.add.at(target.reshape(-1), flat, grads.ravel())
    return int(flat[-1])


#: Most distinct shifts (index minus output position) :func:`_same_length_grad` adds tap by tap.
MAX_INDEX_SHIFTS = 4


def _same_length_grad(indices: np.ndarray, grads: np.ndarray) -> np.ndarray | None:
    """A max pool's gradient from indices when each row has as many outputs as samples (a
    "same" stride-1 pool, e.g. k=3 s=1 p=1), as one contiguous pass per shift instead of a
    scatter: output ``t`` sends its gradient to sample ``t + v``, ``v = index - t``; for each
    shift ``v``, from the largest down (so every sample adds its outputs in output order, as
    PyTorch's loop does: the same float sums), ``grads * (shift == v)`` is added into the
    result moved by ``v`` along the flat rows (a shift never leaves its row where it matches:
    the indices lie inside the row). None (the caller scatters) when ``grads`` holds a NaN or
    an infinity (``inf * 0``), or the shifts span more than ``MAX_INDEX_SHIFTS`` values.

    >>> _same_length_grad(np.array([[1, 1, 1, 2]]), np.array([[1.0, 2.0, 4.0, 8.0]])).tolist()
    [[0.0, 7.0, 8.0, 0.0]]
    """
    rows, length = indices.shape
    narrow = np.int8 if length <= 127 else np.int16 if length <= 32767 else None
    if narrow is None or not bool(np.isfinite(grads).all()):
        return None
    shift = indices.astype(narrow)
    shift -= np.arange(length, dtype=narrow)
    flat_shift = shift.reshape(-1)
    low, high = int(flat_shift.min()), int(flat_shift.max())
    if high - low >= MAX_INDEX_SHIFTS:
        return None
    count = rows * length
    margin = max(high, -low, 0)
    total = np.zeros(count + 2 * margin, dtype=grads.dtype)
    flat_grads = grads.reshape(-1)
    hit = np.empty(count, dtype=bool)
    part = np.empty(count, dtype=grads.dtype)
    for v in range(high, low - 1, -1):  # output order per sample: t = sample - v rises as v falls
        np.equal(flat_shift, v, out=hit)
        np.multiply(flat_grads, hit, out=part)  # grads finite: a miss is ±0, which adds nothing
        target = total[margin + v: margin + v + count]
        target += part
    return total[margin: margin + count].reshape(rows, length)
