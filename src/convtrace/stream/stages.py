"""The streaming steps of :mod:`convtrace.stream.timing` as stateful NumPy stages, on the
existing engine (``engine.fast`` for the convolutions, ``functional`` for pads and pools).

Each stage takes (N, C, T) chunks of its input (any T >= 0) and returns the outputs that
are final now (``timing.step_ready``); ``flush`` returns the rest. Its state is plain
arrays of a fixed shape: a buffer of the last input samples it still needs (right-aligned:
the valid samples are the last ``held`` ones, a number the counters give) and two int64
counters, ``samples_in`` and ``done`` (outputs emitted; a ConvTranspose1d counts full
positions finalised, the cropped ones included). Nothing grows with the stream.

``peek(x, count)`` gives, without changing the state, the values of the next ``count``
outputs were ``x`` the next input samples: the streamer's window of samples final out of
order (:func:`~convtrace.stream.timing.step_window` says which are final).

>>> import numpy as np
>>> stage = WindowStage(WindowStep(span=3, stride=2), np.ones((1, 1, 3)), None, 1)
>>> stage.allocate(1, 1, np.dtype("float64"))
>>> [stage.push(np.arange(a, b, dtype=float)[None, None]).tolist() for a, b in ((0, 2), (2, 3), (3, 7))]
[[[[]]], [[[3.0]]], [[[9.0, 15.0]]]]
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import functional
from ..engine import fast, fast_threads
from ..engine.fast_threads import SMALL_GEMM
from ..engine.padding import apply_pad
from .timing import PadStep, PoolStep, ScatterStep, WindowStep, scatter_final, step_cache, step_ready

__all__ = ["StateEntry", "Stage", "PadStage", "WindowStage", "PoolStage", "ScatterStage", "PointwiseStage"]


@dataclass(frozen=True)
class StateEntry:
    """One state array: ``name``, ``shape`` (for the batch size asked), ``dtype``, its
    ``initial`` value (every element) and ``bytes``."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    initial: float
    bytes: int


def _empty(n: int, c: int, dtype: np.dtype[Any]) -> np.ndarray:
    return np.empty((n, c, 0), dtype=dtype)


class Stage:
    """A streaming stage. ``channels_in``/``channels_out`` are per sample; ``cache`` the
    buffer's length (samples per channel) and ``buffer_channels`` its channels."""

    kind = "stage"

    def __init__(self, cache: int, channels_in: int, channels_out: int, buffer_channels: int) -> None:
        self.cache = cache
        self.channels_in = channels_in
        self.channels_out = channels_out
        self.buffer_channels = buffer_channels
        self.batch = 0
        self.dtype: np.dtype[Any] = np.dtype("float64")
        self.buffer = np.zeros((0, buffer_channels, cache))
        self.samples_in = np.zeros((), dtype=np.int64)
        self.done = np.zeros((), dtype=np.int64)
        self.nothing = _empty(0, channels_out, self.dtype)

    def allocate(self, batch: int, channels: int, dtype: np.dtype[Any]) -> None:
        """Fresh state for ``batch`` items (``channels`` fixes a pool's or pad's channels)."""
        if self.channels_in == 0:
            self.channels_out = self.buffer_channels = channels
        self.batch, self.dtype = batch, np.dtype(dtype)
        self.buffer = np.zeros((batch, self.buffer_channels, self.cache), dtype=self.dtype)
        self.samples_in = np.zeros((), dtype=np.int64)
        self.done = np.zeros((), dtype=np.int64)
        weight = getattr(self, "weight", None)
        out_dtype = self.dtype if weight is None else np.result_type(self.dtype, weight)
        self.nothing = _empty(batch, self.channels_out or channels, out_dtype)  # what a push with no output returns

    def state_arrays(self) -> dict[str, np.ndarray]:
        return {"buffer": self.buffer, "samples_in": self.samples_in, "done": self.done}

    def spec(self, batch: int, channels: int, dtype: np.dtype[Any]) -> list[StateEntry]:
        c = self.buffer_channels or channels
        shape = (batch, c, self.cache)
        return [
            StateEntry("buffer", shape, np.dtype(dtype).name, 0.0, int(np.prod(shape)) * np.dtype(dtype).itemsize),
            StateEntry("samples_in", (), "int64", 0, 8),
            StateEntry("done", (), "int64", 0, 8),
        ]

    # the held samples: the last ``count`` of the buffer
    def _work(self, x: np.ndarray, held: int) -> np.ndarray:
        if held == 0:
            return x
        if x.shape[-1] == 0:
            return self.buffer[..., self.cache - held :]
        return np.concatenate((self.buffer[..., self.cache - held :], x), axis=-1)

    def _keep(self, work: np.ndarray, keep: int) -> None:
        if keep > 0:
            self.buffer[..., self.cache - keep :] = work[..., work.shape[-1] - keep :]

    def push(self, x: np.ndarray, floor: int = 0) -> np.ndarray:  # pragma: no cover - overridden
        """The outputs final once ``x`` is in; ``floor``: the fewest input samples the stage
        will have in all (see :func:`~convtrace.stream.timing.step_ready`)."""
        raise NotImplementedError

    def flush(self, total: int) -> np.ndarray:  # pragma: no cover - overridden
        """The outputs not emitted yet, ``total`` outputs in all (the layer's length)."""
        raise NotImplementedError

    def peek(self, x: np.ndarray | None, count: int) -> np.ndarray:  # pragma: no cover - overridden
        """The values of (at least ``count``) outputs after the ones emitted, were ``x``
        the next input samples (any values where they are not final: only the outputs
        :func:`~convtrace.stream.timing.step_window` marks final are used); the state is
        not changed."""
        raise NotImplementedError


class PadStage(Stage):
    """``F.pad`` streamed: the left pad leaves once the samples it copies have arrived
    (constant: at the first push), the right pad at the end; a negative right pad holds
    back the samples it may crop."""

    kind = "pad"

    def __init__(self, step: PadStep, value: float = 0.0) -> None:
        super().__init__(step_cache(step), 0, 0, 0)
        self.step, self.value = step, float(value)
        # samples a right pad copies at the end (kept once passed on); None: no pass-through (a crop)
        self._tail: int | None = None
        if step.left >= 0 and step.right >= 0:
            self._tail = 0 if step.right == 0 else step.right + 1 if step.mode == "reflect" else 1 if step.mode == "replicate" else 0

    def _held(self, n: int, done: int) -> int:
        """Samples kept after ``n`` in and ``done`` out: all of them until the left pad has
        left (it copies them), then those not yet passed on (a crop may drop them) and the
        last ones the right pad copies."""
        step = self.step
        if done == 0 and step.left > 0:
            return n
        tail = 0 if step.right <= 0 else step.right + 1 if step.mode == "reflect" else 1 if step.mode == "replicate" else 0
        return n - max(0, min(done - step.left, n - tail))

    def push(self, x: np.ndarray, floor: int = 0) -> np.ndarray:
        step = self.step
        before, done = int(self.samples_in), int(self.done)
        tail = self._tail
        if tail is not None and done == step.left + before and (done or not step.left):
            return self._pass(x, before, tail)
        if not x.shape[-1] and step_ready(step, before, floor) <= done:
            return self.nothing
        held = self._held(before, done)
        n = before + x.shape[-1]
        work = self._work(x, held)  # input samples [n - work_len, n)
        start = n - work.shape[-1]
        target = step_ready(step, n, floor)
        out: np.ndarray
        if target <= done:
            out = self.nothing
        elif done == 0 and step.left > 0:
            # the head: built by F.pad of the samples so far (its right side is cut off)
            padded = apply_pad(work, step.left, 0, step.mode, self.value)
            out = padded[..., :target]
        else:
            lo, hi = done - step.left - start, target - step.left - start
            out = work[..., lo:hi]
        self.samples_in[...] = n
        self.done[...] = max(done, target)
        keep = self._held(n, int(self.done))
        self._keep(work, keep)
        return out

    def _pass(self, x: np.ndarray, before: int, tail: int) -> np.ndarray:
        """Past the left pad (and with no crop), every sample leaves as it arrives; the last
        ``tail`` are kept for the right pad."""
        t = x.shape[-1]
        if not t:
            return self.nothing
        self.samples_in[...] = before + t
        self.done[...] = self.step.left + before + t
        if tail:
            cache = self.cache
            if t < tail:  # the older kept samples move left
                self.buffer[..., cache - tail : cache - t] = self.buffer[..., cache - tail + t :]
            self.buffer[..., cache - min(t, tail) :] = x[..., t - min(t, tail) :]
        return x

    def peek(self, x: np.ndarray | None, count: int) -> np.ndarray:
        """Output ``o`` copies input ``o - left``; the left pad's ``o < left`` the value
        (constant), input 0 (replicate) or input ``left - o`` (reflect); 0 where the input
        is not there."""
        step = self.step
        n, done = int(self.samples_in), int(self.done)
        work = self._work(x, self._held(n, done)) if x is not None else self.buffer[..., self.cache - self._held(n, done) :]
        end = n + (x.shape[-1] if x is not None else 0)
        start = end - work.shape[-1]
        o = np.arange(done, done + count)
        index = np.where(o >= step.left, o - step.left, 0 if step.mode == "replicate" else step.left - o)
        there = (index >= start) & (index < end)
        out = np.zeros(work.shape[:-1] + (count,), dtype=work.dtype)
        out[..., there] = work[..., index[there] - start]
        if step.mode == "constant":
            out[..., o < step.left] = self.value
        return out

    def flush(self, total: int) -> np.ndarray:
        step = self.step
        n, done = int(self.samples_in), int(self.done)
        held = self._held(n, done)
        work = self.buffer[..., self.cache - held :]
        start = n - held
        if done == 0 and start == 0 and step.left > 0:
            return functional.pad(work, (step.left, step.right), step.mode, self.value if step.mode == "constant" else None)
        body_end = n - max(-step.right, 0)
        body = work[..., done - step.left - start : max(body_end - start, done - step.left - start)]
        if step.right <= 0:
            return np.ascontiguousarray(body)
        right = apply_pad(work, 0, step.right, step.mode, self.value)[..., held:]
        return np.concatenate((body, right), axis=-1)


class _SlidingStage(Stage):
    """A window sliding by ``stride`` over the input (after ``left`` samples of its own
    padding): it keeps the samples from the next window's start; whole windows leave."""

    step: WindowStep | PoolStep
    left = 0

    def _next_start(self, done: int) -> int:
        return done * self.step.stride - self.left

    def _held(self, n: int, done: int) -> int:
        return max(0, min(n, n - self._next_start(done)))

    def push(self, x: np.ndarray, floor: int = 0) -> np.ndarray:
        if not x.shape[-1]:  # nothing new: nothing more is final
            return self.nothing
        before, done = int(self.samples_in), int(self.done)
        n = before + x.shape[-1]
        target = step_ready(self.step, n)
        work = self._work(x, self._held(before, done))
        self.samples_in[...] = n
        if target <= done:
            self._keep(work, self._held(n, done))
            return self.nothing
        out = self._windows(work, n - work.shape[-1], done, target)
        self.done[...] = target
        self._keep(work, self._held(n, target))
        return out

    def _windows(self, work: np.ndarray, start: int, done: int, target: int) -> np.ndarray:  # pragma: no cover
        """Outputs ``done..target-1`` from ``work`` (input samples from ``start``)."""
        raise NotImplementedError

    def peek(self, x: np.ndarray | None, count: int) -> np.ndarray:
        """The windows that lie in the held samples and ``x`` (by ``_windows``)."""
        if x is None or not x.shape[-1]:
            return self.nothing
        n, done, t = int(self.samples_in), int(self.done), x.shape[-1]
        target = min(step_ready(self.step, n + t), done + count)
        if target <= done:
            return self.nothing
        work = self._work(x, self._held(n, done))
        return self._windows(work, n + t - work.shape[-1], done, target)


#: Outputs per push from which the windows are cut into blocks (each by the weights arranged
#: as columns, output time-major) rather than the weights into blocks of rows (each by all
#: the windows, output channel-major). One thread, per push of the EnCodec-like encoder
#: (bench_stream.py): 256 x 1280 weights by 8 windows 54 us by weight rows against 101 by
#: windows; 128 x 512 by 40 windows 49 us by windows against 95 by weight rows.
MANY_OUTPUTS = 16


def _row_blocks(weight: np.ndarray, count: int) -> list[tuple[np.ndarray, slice]]:
    """``weight`` (C_out x C_in*K) cut into blocks of rows whose products with ``count``
    columns stay within ``SMALL_GEMM`` multiply-adds: OpenBLAS multiplies such small
    matrices without packing the weights, where a push's few columns would pay for packing
    them all on every call (a 256 x 1280 weight times 8 columns: about 1.8x faster).

    >>> [rows for _, rows in _row_blocks(np.zeros((256, 1280)), 8)]
    [slice(0, 86, None), slice(86, 172, None), slice(172, 256, None)]
    >>> [rows for _, rows in _row_blocks(np.zeros((256, 1280)), 1)]
    [slice(None, None, None)]
    """
    rows, field = weight.shape
    blocks = _small_blocks(rows, field * count) if count > 1 else [slice(0, rows)]
    if len(blocks) <= 1:
        return [(weight, slice(None))]
    return [(weight[block], block) for block in blocks]


def _small_blocks(rows: int, per_row: int) -> list[slice]:
    """``rows`` cut into equal blocks of at most ``SMALL_GEMM`` multiply-adds (``per_row`` a row).

    >>> _small_blocks(40, 65_000)
    [slice(0, 14, None), slice(14, 28, None), slice(28, 40, None)]
    """
    step = max(1, -(-rows // max(1, -(-rows * per_row // SMALL_GEMM))))
    return [slice(r, min(r + step, rows)) for r in range(0, rows, step)]


#: Calls of a product between two trials of the way not chosen (:class:`ThreadChoice`); a
#: trial that loses doubles the wait, up to ``TRIAL_MAX``.
TRIAL_FIRST = 32
TRIAL_MAX = 512
#: BLAS's threads are left only for a way this many times cheaper: a neighbour's use of the
#: shared cache makes their calls 1-2x slower now and then (70-200 us where one thread
#: takes 117-207), a descheduled thread makes them 30-100x slower.
LEAVE_THREADS = 2.0
_clock = time.perf_counter


class ThreadChoice:
    """Whether one product that a stage calls on every push (the one-output matrix-vector
    product, which reads megabytes of weights) runs on BLAS's threads or on one thread.

    Each way's cost is the shorter of its last two calls (one call slowed by a neighbour
    does not move it; two in a row do). The cheaper way runs (the threads are left only
    for a way ``LEAVE_THREADS`` times cheaper); the other is tried (the
    second call first), then again after ``TRIAL_FIRST`` calls, each wait twice the last
    (up to ``TRIAL_MAX``); a trial's time stands for its way; when the cheaper way
    changes, the waits start again at ``TRIAL_FIRST``.

    On a quiet host BLAS's two threads read the weights about twice as fast (70 against
    135 us for 8.4 MB); when another process holds the second core, a call waits for BLAS's
    descheduled thread (4-12 ms a call measured), and the stream moves to one thread until
    a trial shows the second core free again. ``workers()`` (``CONVTRACE_NUM_THREADS``,
    ``OPENBLAS_NUM_THREADS``, the CPUs) of 1 means one thread always; without threadpoolctl
    or a BLAS it controls, the product runs as BLAS is set. Either way gives the same
    values (OpenBLAS's matrix-vector product gives each output to one thread).

    >>> choice = ThreadChoice(None, 2)
    >>> choice.way(), choice.fixed
    (0, 0)
    >>> c = ThreadChoice(object(), 2)
    >>> for seconds in (70e-6, 135e-6):  # the first two calls: the threads, then one thread
    ...     c.record(c.way(), seconds)
    >>> c.way()
    0
    >>> c.record(c.way(), 900e-6); c.way()   # one slow call: still the threads
    0
    >>> c.record(c.way(), 900e-6); c.way()   # two: one thread
    1
    """

    def __init__(self, controller: Any, workers: int) -> None:
        self.switches = _blas_switches(controller) if controller is not None else []
        # None: choose; 0: BLAS as it is set; 1: one thread always
        self.fixed: int | None = 0 if controller is None else 1 if workers <= 1 else None
        # per way (two slots each), its last two times in seconds (inf: not measured yet)
        self.last = [np.inf] * 4
        self.best = 0  # the cheaper way
        self.calls = 0
        self.due = 1  # the call that tries the other way (the second call measures it first)
        self.wait = TRIAL_FIRST  # calls from that trial to the next
        self.trial = False

    def cost(self, way: int) -> float:
        """The shorter of ``way``'s last two times (inf: not measured yet)."""
        return min(self.last[2 * way], self.last[2 * way + 1])

    def way(self) -> int:
        """0: BLAS's threads; 1: one thread."""
        if self.fixed is not None:
            return self.fixed
        if self.calls < self.due:
            return self.best
        self.trial = True
        return 1 - self.best

    def record(self, way: int, seconds: float) -> None:
        """The time of a call made the ``way`` :meth:`way` said."""
        self.calls += 1
        if self.fixed is not None:
            return
        last, slot = self.last, 2 * way
        if self.trial:  # its time stands for its way
            self.trial = False
            last[slot] = last[slot + 1] = seconds
            self.due = self.calls + self.wait
            self.wait = min(2 * self.wait, TRIAL_MAX)
        else:
            last[slot], last[slot + 1] = last[slot + 1], seconds
        threads, one = min(last[0], last[1]), min(last[2], last[3])
        best = 1 if threads > LEAVE_THREADS * one else 0 if one > threads else self.best
        if best != self.best:
            self.best, self.wait = best, TRIAL_FIRST
            self.due = self.calls + self.wait
            self.wait = min(2 * self.wait, TRIAL_MAX)

    def dot(self, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
        """``np.dot(a, b, out=out)`` the chosen way, timed."""
        way = self.way()
        if not way:  # BLAS as it is set
            start = _clock()
            np.dot(a, b, out=out)
            self.record(0, _clock() - start)
            return
        saved = _one_thread(self.switches)
        start = _clock()
        try:
            np.dot(a, b, out=out)
        finally:
            seconds = _clock() - start
            _restore(saved)
        self.record(way, seconds)


#: Per BLAS: how to read its thread count, how to set it, and what to call after (or None).
_Switch = tuple[Callable[[], Any], Callable[[int], Any], Callable[[], Any] | None]


def _blas_switches(controller: Any) -> list[_Switch]:
    """For every BLAS that ``controller`` (threadpoolctl's selection) holds, its thread
    count's getter and setter: OpenBLAS's own C functions where threadpoolctl finds them
    (called directly: no lookup and no allocation per call), else the controller's methods
    (then threadpoolctl's claim on the BLAS is released after each use)."""
    switches: list[_Switch] = []
    for lib in getattr(controller, "lib_controllers", ()):
        symbol = getattr(lib, "_get_symbol", None)
        if symbol is not None and getattr(lib, "internal_api", "") == "openblas" and getattr(lib, "threading_layer", "") != "openmp":
            get, put = symbol("openblas_get_num_threads"), symbol("openblas_set_num_threads")
            if get is not None and put is not None:
                switches.append((get, put, None))
                continue
        clear = getattr(type(lib), "clear_controlling_thread", None)  # threadpoolctl >= 3.6
        switches.append((lib.get_num_threads, lib.set_num_threads, clear))
    return switches


def _one_thread(switches: list[_Switch]) -> list[tuple[_Switch, int]]:
    """Every BLAS limited to one thread; what :func:`_restore` needs to undo it."""
    saved = []
    for switch in switches:
        threads = switch[0]()
        if threads and threads > 1:
            switch[1](1)
            saved.append((switch, threads))
    return saved


def _restore(saved: list[tuple[_Switch, int]]) -> None:
    for (_, put, clear), threads in saved:
        put(threads)
        if clear is not None:
            clear()


def _thread_choice() -> ThreadChoice:
    return ThreadChoice(fast_threads._blas_controller(), fast_threads.workers())


#: Weights (elements) from which a one-output product chooses its threads: smaller ones take
#: microseconds either way, and the choice needs threadpoolctl's controller (about 0.1 s to
#: make, once per process).
CHOICE_FROM = 1 << 16


def _dot(choice: ThreadChoice | None, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    """``np.dot(a, b, out=out)``, the way ``choice`` says if there is one."""
    if choice is None:
        np.dot(a, b, out=out)
    else:
        choice.dot(a, b, out)


@dataclass
class _Plan:
    """The views of one kind of Conv1d push (``held`` samples kept, ``t`` new, the first
    window at row ``first`` of the scratch, ``count`` outputs): where the chunk goes, the
    work area (as ``(N, C_in, T)``, for the keep), the samples kept, and per item the
    taps of every output (a strided view of the scratch) or, for one output, its window
    read in place; ``windows``: the copy the products read."""

    chunk: np.ndarray
    work: np.ndarray
    keep: int
    taps: list[np.ndarray]
    windows: np.ndarray
    into: np.ndarray  # the windows' taps (without the ones), shaped as each item's ``taps``
    count: int


class WindowStage(_SlidingStage):
    """Conv1d's valid sums: output t reads padded input ``[t*stride, t*stride + span)``.

    The fast path (float32/float64 weights and input of the same dtype) works time-major,
    in one kept scratch ``(N, cache + T, C_in)``: its first ``cache`` rows are the buffer
    (the state ``(N, C_in, cache)`` is a transposed view of them, the held samples
    right-aligned), the chunk is copied after them, one row per sample, so that the taps
    of one output (dilation 1) are one contiguous run of ``K*C_in`` values, tap-major,
    and the samples kept move back in front of the next chunk. Per push:

    - one output: one matrix-vector product by the weights arranged once (when the
      stream is built) as ``(C_out, K*C_in)``, reading the window in place, on BLAS's
      threads or on one, whichever has been faster lately (:class:`ThreadChoice`);
    - a few outputs (< ``MANY_OUTPUTS``): their windows copied as rows, then blocks of
      weight rows by them (:func:`_row_blocks`), channel-major;
    - more: blocks of the windows (:meth:`_window_blocks`) by the weights arranged as
      ``(K*C_in, C_out)``, time-major, returned as a transposed view (the next Conv1d
      copies it into its scratch row by row, contiguously); groups: one batched product.

    The windows' copy has a last column of ones and the weights a last row (column) of the
    bias, so the bias is added inside the product, not in a pass of its own. The views of
    each kind of push are kept in a :class:`_Plan` (a steady stream repeats a few kinds).
    The scratch beyond the buffer and the windows' copy are workspace, not state: each
    push refills them, and they grow only to the largest chunk pushed, never with the
    stream. Other dtypes (float16) take the engine's forward on the windows' span.
    """

    kind = "conv"

    def __init__(self, step: WindowStep, weight: np.ndarray, bias: np.ndarray | None, dilation: int, groups: int = 1) -> None:
        c_out, c_per_group, k_size = weight.shape
        super().__init__(step_cache(step), c_per_group * groups, c_out, c_per_group * groups)
        self.step, self.weight, self.bias = step, weight, bias
        self.dilation, self.groups = dilation, groups
        self._fast_dtype: np.dtype[Any] | None = weight.dtype if weight.dtype in (np.float32, np.float64) else None
        self._field = k_size * c_per_group  # one output's taps per group
        self._ones = int(bias is not None)  # the windows' column of ones (the bias's)
        # the weights arranged: (C_out, K*C_in) (made below for one group), the same with the bias
        # as a last column, (groups, K*C_in/groups [+ 1], C_out/groups) (made on first use)
        self._w_vector: np.ndarray | None = None
        self._w_rows: np.ndarray | None = None
        self._w_columns: np.ndarray | None = None
        self._row_blocks: dict[int, list[tuple[np.ndarray, slice]]] = {}
        self._window_row_blocks: dict[int, list[slice]] = {}
        self._scratch = np.zeros((0, self.cache, self.channels_in), dtype=weight.dtype)  # the buffer, then the chunk
        self._columns = np.empty((0, 0), dtype=weight.dtype)  # several outputs' windows, a row each (and the ones)
        self._plans: dict[tuple[int, int, int, int], _Plan] = {}
        self._choice: ThreadChoice | None = None  # the one-output product's threads (large weights)
        if self._fast_dtype is not None and groups == 1:
            # made now, not by the first push (a live stream's first push would wait for it:
            # 10-15 ms for the encoder's two 8 MB weights)
            self._vector_weights()
            if weight.size >= CHOICE_FROM:
                self._choice = _thread_choice()

    def allocate(self, batch: int, channels: int, dtype: np.dtype[Any]) -> None:
        super().allocate(batch, channels, dtype)
        self._scratch = np.zeros((batch, self.cache, self.channels_in), dtype=self.dtype)
        self.buffer = self._scratch.transpose(0, 2, 1)  # the state (N, C_in, cache), stored time-major
        self._plans.clear()

    def push(self, x: np.ndarray, floor: int = 0) -> np.ndarray:
        if x.dtype != self._fast_dtype or self.dtype != x.dtype:
            return super().push(x, floor)
        t = x.shape[-1]
        if not t:  # nothing new: nothing more is final
            return self.nothing
        stride = self.step.stride
        before, done = int(self.samples_in), int(self.done)
        n = before + t
        held = max(0, min(before, before - done * stride))
        target = (n - self.step.span) // stride + 1 if n >= self.step.span else done
        key = (held, t, done * stride - before, target - done)
        plan = self._plans.get(key) or self._plan(x.shape[0], *key)
        np.copyto(plan.chunk, x.transpose(0, 2, 1))
        self.samples_in[...] = n
        out = self.nothing
        if plan.count:
            out = self._products(plan)
            self.done[...] = target
        self._keep(plan.work, plan.keep)
        return out

    def _plan(self, batch: int, held: int, t: int, lo: int, count: int) -> _Plan:
        """The views one kind of push uses (kept: a steady stream repeats a few kinds)."""
        cache, c_in, dtype = self.cache, self.channels_in, self.dtype
        if self._scratch.shape[1] < cache + t:  # workspace for the largest chunk so far; the buffer moves along
            scratch = np.zeros((batch, cache + t, c_in), dtype=dtype)
            scratch[:, :cache] = self._scratch[:, :cache]
            self._scratch, self.buffer = scratch, scratch[:, :cache].transpose(0, 2, 1)
            self._plans.clear()
        groups, field = self.groups, self._field
        if self._columns.shape[0] < groups * count:
            self._columns = np.ones((groups * count, field + self._ones), dtype=dtype)
            self._plans.clear()
        if len(self._plans) >= 16:
            self._plans.clear()
        scratch, first = self._scratch, cache + lo
        stride, dilation, c_group, item = self.step.stride, self.dilation, c_in // groups, dtype.itemsize
        taps = []
        for i in range(batch if count else 0):
            if count == 1 and groups == 1 and dilation == 1:  # the window, read in place
                taps.append(scratch[i, first : first + self.step.span].reshape(-1))
            else:
                taps.append(np.ndarray((groups, count, field // c_group, c_group), dtype, scratch[i, first:], 0,
                                       (c_group * item, stride * c_in * item, dilation * c_in * item, item)))  # fmt: skip
        windows = self._columns[: groups * count].reshape(groups, count, -1) if count else self._columns
        into = windows[..., :field].reshape(groups, count, field // c_group, c_group) if count else windows
        plan = _Plan(scratch[:, cache : cache + t], scratch[:, cache - held : cache + t].transpose(0, 2, 1),
                     max(0, t - lo - count * stride), taps, windows, into, count)  # fmt: skip
        self._plans[(held, t, lo, count)] = plan
        return plan

    def _products(self, plan: _Plan) -> np.ndarray:
        """The outputs of one push."""
        batch, groups, count, windows = len(plan.taps), self.groups, plan.count, plan.windows
        if count == 1 and groups == 1:
            out = np.empty((batch, self.channels_out, 1), dtype=windows.dtype)
            in_place = self.dilation == 1
            for item, taps in enumerate(plan.taps):
                column = out[item, :, 0]
                if in_place:
                    _dot(self._choice, self._vector_weights(), taps, column)
                    if self.bias is not None:
                        column += self.bias
                else:  # the taps copied, with the ones (the bias in the product)
                    np.copyto(plan.into, taps)
                    _dot(self._choice, self._blocks(1)[0][0], windows[0, 0], column)
            return out
        by_rows = groups == 1 and count < MANY_OUTPUTS
        out = np.empty((batch, self.channels_out, count) if by_rows else (batch, count, self.channels_out), dtype=windows.dtype)
        for item, taps in enumerate(plan.taps):
            np.copyto(plan.into, taps)  # the ones stay: only the taps are written
            if by_rows:
                for weight, rows in self._blocks(count):
                    np.dot(weight, windows[0].T, out=out[item, rows])
            elif groups == 1:
                weight = self._column_weights()[0]
                for rows in self._window_blocks(count):
                    np.dot(windows[0, rows], weight, out=out[item, rows])
            else:
                out[item] = np.matmul(windows, self._column_weights()).transpose(1, 0, 2).reshape(count, -1)
        return out if by_rows else out.transpose(0, 2, 1)

    def _vector_weights(self) -> np.ndarray:
        """``(C_out, K*C_in)`` (one group): row o, column ``k*C_in + c`` is ``weight[o, c, k]``."""
        if self._w_vector is None:
            w = self.weight
            self._w_vector = np.ascontiguousarray(w.transpose(0, 2, 1).reshape(w.shape[0], -1))
        return self._w_vector

    def _blocks(self, count: int) -> list[tuple[np.ndarray, slice]]:
        """Blocks of the weight rows (with the bias as a last column) for ``count`` outputs
        (kept per count)."""
        blocks = self._row_blocks.get(count)
        if blocks is None:
            if self._w_rows is None:
                self._w_rows = self._vector_weights() if self.bias is None else np.concatenate(
                    (self._vector_weights(), self.bias.astype(self.weight.dtype)[:, None]), axis=1)
            if len(self._row_blocks) >= 16:
                self._row_blocks.clear()
            blocks = self._row_blocks[count] = _row_blocks(self._w_rows, count)
        return blocks

    def _window_blocks(self, count: int) -> list[slice]:
        """Blocks of the ``count`` windows whose products with the weights' columns stay
        within ``SMALL_GEMM`` multiply-adds (kept per count): OpenBLAS's small-matrix
        kernels on one thread each, where one large product would wake BLAS's threads on
        every push (a descheduled thread costs a time slice on a loaded host)."""
        blocks = self._window_row_blocks.get(count)
        if blocks is None:
            if len(self._window_row_blocks) >= 16:
                self._window_row_blocks.clear()
            blocks = self._window_row_blocks[count] = _small_blocks(count, (self._field + self._ones) * self.channels_out)
        return blocks

    def _column_weights(self) -> np.ndarray:
        """``(groups, K*C_in/groups [+ 1], C_out/groups)``: group g, row ``k*C_in/groups + c``,
        column o is ``weight[g*C_out/groups + o, c, k]``; the last row the bias."""
        if self._w_columns is None:
            w, groups = self.weight, self.groups
            c_out, c_per_group, k_size = w.shape
            arranged = w.reshape(groups, c_out // groups, c_per_group, k_size).transpose(0, 3, 2, 1)
            arranged = arranged.reshape(groups, k_size * c_per_group, -1)
            if self.bias is not None:
                arranged = np.concatenate((arranged, self.bias.astype(w.dtype).reshape(groups, 1, -1)), axis=1)
            self._w_columns = np.ascontiguousarray(arranged)
        return self._w_columns

    def _windows(self, work: np.ndarray, start: int, done: int, target: int) -> np.ndarray:
        """The general path (other dtypes): the engine's forward on the windows' span."""
        step = self.step
        lo = done * step.stride - start
        hi = (target - 1) * step.stride + step.span - start
        x, w, b = work[..., lo:hi], self.weight, self.bias
        dtype = np.result_type(x, w)
        if b is not None and dtype == np.float16:  # as functional.run_spec: the bias in float32
            x, w = x.astype(np.float32), w.astype(np.float32)
        y = fast.conv1d_forward(x, w, step.stride, 0, target - done, self.dilation, self.groups)
        if b is not None:
            y += b[None, :, None].astype(y.dtype, copy=False)
        return y.astype(dtype, copy=False)

    def flush(self, total: int) -> np.ndarray:
        return self.nothing


class PoolStage(_SlidingStage):
    """MaxPool1d / AvgPool1d / LPPool1d: whole windows as they arrive (by the functional
    pool, without padding once past the left edge); the right padding and ceil_mode's last
    windows at the end, on the held samples shifted by whole strides."""

    kind = "pool"
    step: PoolStep

    def __init__(self, step: PoolStep, run: Callable[[np.ndarray, int, bool], np.ndarray]) -> None:
        super().__init__(step_cache(step), 0, 0, 0)
        self.step, self.left = step, step.padding
        self.run = run  # run(x, padding, last): the layer's pool (last: with its ceil_mode)

    def _windows(self, work: np.ndarray, start: int, done: int, target: int) -> np.ndarray:
        step = self.step
        end = (target - 1) * step.stride - step.padding + step.span - start
        first = self._next_start(done)
        if first < 0:  # the left edge: the layer's own padding, from the first sample
            return self.run(work[..., :end], step.padding, False)[..., done:target]
        return self.run(work[..., first - start : end], 0, False)

    def flush(self, total: int) -> np.ndarray:
        step = self.step
        n, done = int(self.samples_in), int(self.done)
        held = self._held(n, done)
        work = self.buffer[..., self.cache - held :]
        if total <= done:
            return _empty(self.batch, self.channels_out, self.dtype)
        if n - held == 0:  # the whole signal is held: the layer itself
            return self.run(work, step.padding, True)[..., done:total]
        skip = -(-step.padding // step.stride)  # outputs the shifted copy's own left padding spoils
        shift = skip * step.stride - step.padding
        lead = np.zeros(work.shape[:-1] + (shift,), dtype=work.dtype)
        out = self.run(np.concatenate((lead, work), axis=-1), step.padding, True)
        return out[..., skip : skip + total - done]


class ScatterStage(Stage):
    """ConvTranspose1d: each chunk's contributions (the engine's scatter, no bias) are added
    to the pending tail; full positions no later input reaches leave, the first ``padding``
    dropped, with the bias added once, as they leave. The buffer is the pending tail (output
    channels, left-aligned)."""

    kind = "convT"

    def __init__(self, step: ScatterStep, weight: np.ndarray, bias: np.ndarray | None, dilation: int, groups: int) -> None:
        c_in, c_per_group, _ = weight.shape
        super().__init__(step_cache(step), c_in, c_per_group * groups, c_per_group * groups)
        self.step, self.weight, self.bias = step, weight, bias
        self.dilation, self.groups = dilation, groups
        self._wt: np.ndarray | None = None  # the weights as one matrix (C_out*K, C_in), made on first use
        self._choice: ThreadChoice | None = None  # the one-sample product's threads (large weights), made on first use

    def _pending(self, n: int, done: int) -> int:
        return max(0, (n - 1) * self.step.stride + self.step.span - done) if n > 0 else 0

    def push(self, x: np.ndarray, floor: int = 0) -> np.ndarray:
        step = self.step
        before, done = int(self.samples_in), int(self.done)
        n = before + x.shape[-1]
        target = scatter_final(step, n, floor)
        if not x.shape[-1] and target <= done:
            return self.nothing
        pending = self._pending(before, done)
        self.samples_in[...] = n
        end = max(self._pending(n, done) + done, target)
        work = np.zeros((x.shape[0], self.channels_out, end - done), dtype=np.result_type(x, self.weight))
        work[..., :pending] = self.buffer[..., :pending]
        if x.shape[-1]:
            count = (x.shape[-1] - 1) * step.stride + step.span
            part = self._scatter(x, count)
            at = before * step.stride - done
            if at < 0:  # positions already done: cropped on the left (nothing else lands there)
                part, at = part[..., -at:], 0
            work[..., at : at + part.shape[-1]] += part
        out = self._emit(work, done, target)
        left = end - target
        self.buffer[..., :left] = work[..., target - done :]
        self.done[...] = max(done, target)
        return out

    def _scatter(self, x: np.ndarray, count: int) -> np.ndarray:
        """The chunk's contributions to ``count`` full positions (no bias): for one group,
        ``Z = W^T x`` by ``np.dot`` (the weights read once per push), then tap ``j`` of
        input ``i`` added at ``i*stride + j*dilation``; else the engine's scatter."""
        w = self.weight
        if self.groups != 1 or x.dtype != w.dtype or x.dtype not in (np.float32, np.float64):
            return fast.conv1d_input_grad(x, w, count, self.step.stride, 0, self.dilation, self.groups)
        if self._wt is None:  # (C_out*K, C_in)
            self._wt = np.ascontiguousarray(w.transpose(1, 2, 0).reshape(-1, w.shape[0]))
        n, t = x.shape[0], x.shape[-1]
        c_out, k_size = w.shape[1], w.shape[2]
        part = np.zeros((n, c_out, count), dtype=x.dtype)
        reach = (t - 1) * self.step.stride + 1
        if t == 1 and self._choice is None and self._wt.size >= CHOICE_FROM:
            self._choice = _thread_choice()
        for item in range(n):
            if t == 1:  # one input sample: a matrix-vector product (BLAS's GEMM with one column is far slower)
                z = np.empty(self._wt.shape[0], dtype=x.dtype)
                _dot(self._choice, self._wt, x[item, :, 0], z)
                z = z.reshape(c_out, k_size, 1)
            else:
                z = np.dot(self._wt, x[item]).reshape(c_out, k_size, t)
            for j in range(k_size):
                part[item, :, j * self.dilation : j * self.dilation + reach : self.step.stride] += z[:, j]
        return part

    def peek(self, x: np.ndarray | None, count: int) -> np.ndarray:
        """The pending tail plus ``x``'s contributions (and the bias) at the ``count``
        positions after the ones emitted (holes: the bias only)."""
        step = self.step
        n, done = int(self.samples_in), int(self.done)
        end = max(done, step.padding) + count
        dtype = np.result_type(x if x is not None else self.dtype, self.weight)
        work = np.zeros((self.batch, self.channels_out, max(end - done, 0)), dtype=dtype)
        used = min(self._pending(n, done), work.shape[-1])
        work[..., :used] = self.buffer[..., :used]
        if x is not None and x.shape[-1]:
            part = self._scatter(x, (x.shape[-1] - 1) * step.stride + step.span)
            at = n * step.stride - done
            if at < 0:  # positions already done: cropped on the left
                part, at = part[..., -at:], 0
            size = max(0, min(part.shape[-1], work.shape[-1] - at))
            work[..., at : at + size] += part[..., :size]
        return self._emit(work, done, end)

    def _emit(self, work: np.ndarray, done: int, target: int) -> np.ndarray:
        lo = max(done, self.step.padding)
        out = work[..., lo - done : max(target, lo) - done]
        if self.bias is not None:
            out = out + self.bias[None, :, None].astype(out.dtype, copy=False)
        return out

    def flush(self, total: int) -> np.ndarray:
        """The tail, ``output_padding`` and the crop: up to ``total`` outputs in all."""
        n, done = int(self.samples_in), int(self.done)
        pending = self._pending(n, done)
        end = self.step.padding + total
        work = np.zeros((self.batch, self.channels_out, max(end - done, 0)), dtype=np.result_type(self.dtype, self.weight))
        used = min(pending, work.shape[-1])
        work[..., :used] = self.buffer[..., :used]
        return self._emit(work, done, end)


class PointwiseStage(Stage):
    """A function applied to every sample as it arrives (no state)."""

    kind = "pointwise"

    def __init__(self, fn: Callable[[np.ndarray], np.ndarray]) -> None:
        super().__init__(0, 0, 0, 0)
        self.fn = fn

    def push(self, x: np.ndarray, floor: int = 0) -> np.ndarray:
        return np.asarray(self.fn(x))

    def peek(self, x: np.ndarray | None, count: int) -> np.ndarray:
        return self.nothing if x is None else np.asarray(self.fn(x))

    def flush(self, total: int) -> np.ndarray:
        return _empty(self.batch, self.channels_out, self.dtype)

    def spec(self, batch: int, channels: int, dtype: np.dtype[Any]) -> list[StateEntry]:
        return []

    def state_arrays(self) -> dict[str, np.ndarray]:
        return {}
