"""One streamed push explained for a learner (issue 19, item 4): the trace's layer run by
:class:`~convtrace.stream.Streamer` on the trace's own data, cut in chunks, and the state
before and after push ``N`` read back from the streamer — which of the values an output of
that push reads come from the cache and which are new (Conv1d), or which part of an output
was carried from the earlier pushes and why its bias was not (ConvTranspose1d).

Every number here is the streamer's: its state arrays (copied) and its outputs. This module
only labels them (positions, origins) and adds notes (codes with numbers; the words are in
:mod:`convtrace.render.stream_chunk_text`).

The seed's example, ``1,1,1,1`` with k=3, p=1, in chunks of 2: the second push.

>>> from convtrace.trace.build import explain
>>> s = stream_chunk(explain([1, 1, 1, 1], [1, 1, 1], padding=1), 2)
>>> s.push, s.pushes, s.before, s.arrived, s.output.tolist()
(2, 2, 2, 2, [[[3.0, 3.0]]])
>>> s.state("window").positions, s.state("window").values   # padded cells 1, 2 (x0, x1) kept
((1, 2), (1.0, 1.0))
>>> [str(r.origin) for r in s.outputs[0].reads]   # y[1] reads x0, x1 from the cache, x2 new
['cache', 'cache', 'new']
>>> s.flush_outputs   # y[3] reads the right padding: it waits for the end
1
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import nn
from ..errors import ConvtraceError
from ..rules import STREAM_CHUNK_HOP, check_stream_chunk, check_stream_push
from ..trace.build import pad_cells_at
from ..trace.model import (
    Note,
    Source,
    StreamChunk,
    StreamOrigin,
    StreamOutput,
    StreamRead,
    StreamState,
    Trace,
)
from .stages import PadStage, ScatterStage, Stage, WindowStage
from .streamer import Streamer, layer_of
from .timing import PadStep, layer_timing, pad_head, steps_of

__all__ = ["stream_chunk", "stream_chunks", "module_of", "default_push", "push_count"]


def module_of(trace: Trace) -> nn.Conv1d | nn.ConvTranspose1d:
    """The trace's layer as a ``convtrace.nn`` module with the trace's weight and bias
    (float64 for exact data; a layer that cannot stream raises the streaming refusal).

    >>> from convtrace.trace.build import explain
    >>> module_of(explain([1, 2, 3], [1, 1], stride=2, transposed=True)).stride
    (2,)
    """
    spec = trace.spec
    dtype = _dtype(trace)
    common: dict[str, Any] = {"groups": spec.groups, "bias": spec.has_bias, "dtype": dtype}
    module: nn.Conv1d | nn.ConvTranspose1d
    if spec.transposed:
        module = nn.ConvTranspose1d(spec.in_channels, spec.out_channels, spec.kernel_size, spec.stride, spec.padding,
                                    spec.output_padding, dilation=spec.dilation, **common)  # fmt: skip
    else:
        module = nn.Conv1d(spec.in_channels, spec.out_channels, spec.kernel_size, spec.stride, spec.padding,
                           spec.dilation, padding_mode=spec.padding_mode.value, **common)  # fmt: skip
    module.weight = np.asarray(trace.weight, dtype=dtype)
    if trace.bias is not None:
        module.bias = np.asarray(trace.bias, dtype=dtype)
    try:
        layer_of(module)
    except ConvtraceError as err:
        raise err.with_call(trace.call or f"stream {type(module).__name__}") from None
    return module


def _dtype(trace: Trace) -> np.dtype[Any]:
    found = np.result_type(np.asarray(trace.input).dtype, trace.weight.dtype)
    if found.kind == "c":
        raise ConvtraceError("stream_chunk", "complex data", "a streamed push is explained for real data (the streamer's)",
                             call=trace.call, hint="drop stream_chunk, or give real data")  # fmt: skip
    return np.dtype(found) if found in (np.float32, np.float64) else np.dtype("float64")


def push_count(length: int, chunk: int) -> int:
    """Pushes of an input of ``length`` samples in chunks of ``chunk`` (the last may be
    shorter; an empty input is one empty push).

    >>> push_count(4, 3), push_count(4, 4), push_count(0, 2)
    (2, 1, 1)
    """
    return max(1, -(-length // chunk))


def default_push(pushes: int) -> int:
    """The push shown when none is asked for: the second (its cache holds the first push's
    samples), or the only one.

    >>> default_push(1), default_push(5)
    (1, 2)
    """
    return 2 if pushes >= 2 else 1


def stream_chunk(trace: Trace, chunk: Any, push: Any = None) -> StreamChunk:
    """Stream the trace's layer on its data in chunks of ``chunk`` samples (or ``'hop'``) and
    explain push ``push`` (1-based; default :func:`default_push`). The whole stream runs
    (the earlier pushes, this one, the later ones and the flush), as one
    :class:`~convtrace.stream.Streamer` does.

    >>> from convtrace.trace.build import explain
    >>> t = explain([1, 2, 3, 4], [1, 1, 1], bias=[10], stride=2, transposed=True)
    >>> s = stream_chunk(t, 2)
    >>> s.state("tail").positions, s.state("tail").values   # x1·w2 waits at position 4, no bias
    ((4,), (2.0,))
    >>> [(o.out_index, o.carried, o.bias, o.value) for o in s.outputs]
    [(4, 2.0, 10.0, 15.0), (5, 0.0, 10.0, 13.0), (6, 0.0, 10.0, 17.0), (7, 0.0, 10.0, 14.0)]
    """
    run = _Run(trace, chunk)
    shown = default_push(run.pushes) if push is None else check_stream_push(push, run.pushes, call=trace.call)
    return run.explain({shown})[0]


def stream_chunks(trace: Trace, chunk: Any, limit: int | None = None) -> tuple[StreamChunk, ...]:
    """Every push of the stream explained (the first ``limit`` of them), from one run of the
    streamer: the chunk loop a figure animates.

    >>> from convtrace.trace.build import explain
    >>> [s.output.shape[-1] for s in stream_chunks(explain([1, 1, 1, 1], [1, 1, 1], padding=1), 1)]
    [0, 1, 1, 1]
    """
    run = _Run(trace, chunk)
    count = run.pushes if limit is None else min(run.pushes, limit)
    return run.explain(set(range(1, count + 1)))


class _Run:
    """The trace's layer, its timing and its data cut in chunks."""

    def __init__(self, trace: Trace, chunk: Any) -> None:
        spec = trace.spec
        given = check_stream_chunk(chunk, call=trace.call)
        self.trace, self.given = trace, given
        self.module = module_of(trace)
        layer = layer_of(self.module)
        assert layer is not None
        self.kind, self.steps = layer.kind, steps_of(layer)
        self.timing = layer_timing(layer)
        self.size = self.timing.min_chunk if given == STREAM_CHUNK_HOP else int(given)
        self.pushes = push_count(spec.length, self.size)
        self.x3 = np.asarray(trace.input, dtype=self.module.weight.dtype).reshape(spec.batch, spec.in_channels, spec.length)

    def chunk_of(self, push: int) -> np.ndarray:
        return self.x3[..., (push - 1) * self.size : push * self.size]

    def explain(self, shown: set[int]) -> tuple[StreamChunk, ...]:
        """One streamer through every push and the flush; the pushes in ``shown`` explained."""
        streamer = Streamer(self.module, batch_size=self.trace.spec.batch)
        stages = streamer.units[0].stages
        taken: list[tuple[int, int, tuple[StreamState, ...], np.ndarray, tuple[StreamState, ...]]] = []
        counts: list[int] = []
        for push in range(1, self.pushes + 1):
            before = _states(streamer, stages) if push in shown else ()
            output = streamer.push(self.chunk_of(push))
            if push in shown:
                taken.append((push, sum(counts), before, output.copy(), _states(streamer, stages)))
            counts.append(int(output.shape[-1]))
        flush = streamer.flush()
        return tuple(self._chunk(push, emitted, before, output, after, sum(counts[push:]), flush)
                     for push, emitted, before, output, after in taken)  # fmt: skip

    def _chunk(self, push: int, emitted_before: int, before: tuple[StreamState, ...], output: np.ndarray,
               after: tuple[StreamState, ...], later: int, flush: np.ndarray) -> StreamChunk:  # fmt: skip
        trace, spec, timing = self.trace, self.trace.spec, self.timing
        start = (push - 1) * self.size
        context = _Context(trace, start, int(self.chunk_of(push).shape[-1]), emitted_before, before, output)
        context.steps = self.steps
        context.after_tail = next((e.positions for e in after if e.role == "tail"), ())
        outputs = _transposed_outputs(context) if spec.transposed else _conv_outputs(context)
        notes = _notes(context, push, later, int(flush.shape[-1]), self.kind)
        return StreamChunk(
            kind="convT" if spec.transposed else "conv", chunk=self.size, chunk_given=self.given, push=push,
            pushes=self.pushes, before=start, arrived=context.arrived, emitted_before=emitted_before, outputs=outputs,
            output=output, state_before=before, state_after=after, flush_outputs=int(flush.shape[-1]),
            hop=timing.hop, lookahead=timing.lookahead, min_chunk=timing.min_chunk, first_output=timing.first_output,
            cache=timing.cache, cache_out=timing.cache_out, notes=tuple(notes), flush=flush,
        )


# ---------------------------------------------------------------------- the state, read back


def _states(streamer: Streamer, stages: Sequence[Stage]) -> tuple[StreamState, ...]:
    names = {id(stage): name for name, stage in streamer._names()}
    return tuple(_state(f"{names[id(stage)]}.buffer", stage) for stage in stages)


def _state(name: str, stage: Stage) -> StreamState:
    """A copy of ``stage``'s buffer with the coordinates of the samples it holds (the
    streamer's own counts of what it keeps)."""
    n, done = int(stage.samples_in), int(stage.done)
    array = stage.buffer.copy()
    if isinstance(stage, ScatterStage):
        held = stage._pending(n, done)
        positions, values = range(done, done + held), array[0, 0, :held] if array.shape[0] else ()
        role = "tail"
    else:
        assert isinstance(stage, (PadStage, WindowStage))
        held = stage._held(n, done)
        positions, values = range(n - held, n), array[0, 0, stage.cache - held :] if array.shape[0] else ()
        role = "pad" if isinstance(stage, PadStage) else "window"
    return StreamState(name, role, tuple(positions), tuple(v.item() for v in values), array, n, done)


class _Context:
    """What the outputs and notes are read from."""

    def __init__(self, trace: Trace, start: int, arrived: int, emitted_before: int,
                 before: tuple[StreamState, ...], output: np.ndarray) -> None:  # fmt: skip
        self.trace, self.spec = trace, trace.spec
        self.start, self.arrived, self.emitted_before = start, arrived, emitted_before
        self.before, self.output = before, output
        self.steps: tuple[Any, ...] = ()
        self.after_tail: tuple[int, ...] = ()

    def state(self, role: str) -> StreamState | None:
        return next((s for s in self.before if s.role == role), None)


def _conv_outputs(ctx: _Context) -> tuple[StreamOutput, ...]:
    """Each output's padded cells: in the window's cache, made now from the padding's kept
    samples, or new."""
    spec = ctx.spec
    window = ctx.state("window")
    assert window is not None
    cached_until = window.samples_in  # padded cells the window had before this push
    outputs = []
    for offset in range(ctx.output.shape[-1]):
        t = ctx.emitted_before + offset
        positions = [t * spec.stride + k * spec.dilation for k in range(spec.kernel_size)]
        reads = []
        for k, cell in enumerate(pad_cells_at(spec, positions)):
            if cell.position < cached_until:
                origin = StreamOrigin.CACHE
            elif cell.input_index is not None and cell.input_index < ctx.start and cell.source is not Source.ZERO:
                origin = StreamOrigin.PAD_CACHE
            else:
                origin = StreamOrigin.NEW
            index = None if cell.source is Source.ZERO else cell.input_index
            reads.append(StreamRead(k, cell.position, index, cell.source, origin))
        outputs.append(StreamOutput(t, ctx.output[0, 0, offset].item(), tuple(reads)))
    return tuple(outputs)


def _transposed_outputs(ctx: _Context) -> tuple[StreamOutput, ...]:
    """Each output: the partial sum carried for it (the tail before the push, no bias), the
    new inputs' taps that land on it, and the bias added once as it leaves."""
    spec = ctx.spec
    tail = ctx.state("tail")
    assert tail is not None
    carried = dict(zip(tail.positions, tail.values))
    zero = 0.0
    bias = None if ctx.trace.bias is None else np.asarray(ctx.trace.bias).reshape(-1)[0].item()
    arrived_end = ctx.start + ctx.arrived
    outputs = []
    for offset in range(ctx.output.shape[-1]):
        j = ctx.emitted_before + offset
        full = j + spec.pad_left
        reads = []
        for k in range(spec.kernel_size):
            reach = full - k * spec.dilation
            if reach % spec.stride == 0 and 0 <= reach // spec.stride < arrived_end:
                i = reach // spec.stride
                origin = StreamOrigin.CARRIED if i < ctx.start else StreamOrigin.NEW
                reads.append(StreamRead(k, full, i, Source.INPUT, origin))
        value = ctx.output[0, 0, offset].item()
        reads.sort(key=lambda r: r.input_index or 0)  # in the order the inputs arrived
        outputs.append(StreamOutput(j, value, tuple(reads), carried.get(full, zero), bias))
    return tuple(outputs)


# ---------------------------------------------------------------------- notes


def _notes(ctx: _Context, push: int, later: int, flush: int, kind: str) -> list[Note]:
    spec = ctx.spec
    notes: list[Note] = []
    emitted_after = ctx.emitted_before + ctx.output.shape[-1]
    if push == 1:
        notes.append(Note("stream_warmup", {"kind": kind, "left": 0 if spec.transposed else spec.pad_left,
                                            "mode": spec.padding_mode.value}))  # fmt: skip
    pad = ctx.state("pad")
    if pad is not None and not spec.transposed:
        step = next(st for st in ctx.steps if isinstance(st, PadStep))
        head = pad_head(step)
        if head > 1 and ctx.start < head:
            notes.append(Note("stream_pad_wait", {"need": head, "have": ctx.start + ctx.arrived, "left": spec.pad_left,
                                                  "mode": spec.padding_mode.value}))  # fmt: skip
        if spec.pad_right > 0 and spec.padding_mode.value != "zeros":
            notes.append(Note("stream_pad_keep", {"mode": spec.padding_mode.value, "kept": int(pad.array.shape[-1]),
                                                  "right": spec.pad_right}))  # fmt: skip
    waiting = spec.out_length - emitted_after
    if waiting > 0:
        notes.append(Note("stream_waiting", _waiting(ctx, emitted_after, waiting, later, flush)))
    if flush:
        notes.append(Note("stream_flush", {"count": flush, "kind": kind, "right": spec.pad_right if not spec.transposed else 0,
                                           "output_padding": spec.output_padding}))  # fmt: skip
    tail_after = [p for p in ctx.after_tail if p - spec.pad_left >= spec.out_length] if spec.transposed else []
    if tail_after:
        notes.append(Note("stream_tail_cropped", {"positions": tail_after, "padding": spec.pad_left,
                                                  "output_padding": spec.output_padding}))  # fmt: skip
    if spec.transposed and spec.has_bias and ctx.trace.bias is not None:
        notes.append(Note("stream_bias_tail", {"bias": np.asarray(ctx.trace.bias).reshape(-1)[0].item()}))
    if spec.batch > 1 or spec.out_channels > 1:
        notes.append(Note("stream_item0", {"batch": spec.batch, "channels": spec.out_channels}))
    return notes


def _waiting(ctx: _Context, next_out: int, waiting: int, later: int, flush: int) -> dict[str, Any]:
    """The next output and the input sample it waits for (the end: -1)."""
    spec = ctx.spec
    if spec.transposed:
        needs = ctx.start + ctx.arrived  # the next input reaches its position
        needs = needs if needs < spec.length else -1
    else:
        last = next_out * spec.stride + (spec.kernel_size - 1) * spec.dilation - spec.pad_left
        needs = last if last < spec.length else -1
    return {"count": waiting, "next": next_out, "needs": needs, "later": later, "flush": flush}
