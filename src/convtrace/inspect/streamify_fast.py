"""The fast path of :meth:`StreamedModel.push <convtrace.inspect.streamify.StreamedModel.push>`
(imports torch; ONNX Runtime when it is installed and asked for).

A push of a fixed length, once the stream has passed its start, does the same thing every
time: the same calls on the same shapes, every state's counters moving by the same amounts.
That *steady* push is recorded once — the model's own forward, run by the general path on
copies of the states, traced — and replayed without Python:

- ``"onnxruntime"`` (float32): the trace exported to ONNX (the TorchScript exporter, opset
  17, one Conv per conv1d) and run by ONNX Runtime, the states bound in place (two sets of
  buffers, each push reads one and writes the other);
- ``"torch"`` (any dtype; ONNX Runtime has no float64 Conv): the trace as TorchScript.

How it is found (:func:`build`): a dry run pushes zeros of the chunk length through the
general path until a push takes no branch of the stream's start (no mask of indices
before 0, no left pad's first values, no mirrored head, nothing dropped at the output:
:data:`~convtrace.inspect.streamify_ops.TRANSIENTS`) and every counter moved as in the
push before. The state after it is the *base*; the trace is the next push. A live stream
takes the fast path when its counters are the base's plus a whole number ``n >= 0`` of
pushes (the same place in the stream's pattern of strides, past its start) and no parameter
changed since; any other push (another length, another place, a parameter written) runs the
general path, after the counters and tensors are handed back (:func:`leave`). The build
checks the replay against the general path on a random chunk and gives up, with the reason,
where it differs.

>>> import torch
>>> from convtrace.inspect.streamify import streamify
>>> torch.manual_seed(0) and None
>>> model = torch.nn.Sequential(torch.nn.Conv1d(1, 4, 3, padding=1), torch.nn.Tanh(),
...                             torch.nn.Conv1d(4, 1, 5, stride=2, padding=2)).double()
>>> sm = streamify(model, (1, 1, 64), fast="torch")
>>> sm.fast_path, sm.chunk_size
('torch', 2)
>>> x = torch.randn(1, 1, 64, dtype=torch.float64)
>>> y = torch.cat([sm.push(x[..., i : i + 2]) for i in range(0, 64, 2)] + [sm.flush()], -1)
>>> bool(torch.allclose(y, model(x), rtol=1e-12, atol=1e-12)), sm.fast_pushes > 25
(True, True)
"""

from __future__ import annotations

import contextlib
import io
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import torch

from .streamify_ops import TRANSIENTS, OpState, Timeline

__all__ = ["FastPush", "build", "enter", "leave", "BACKENDS"]

#: the backends, by name
BACKENDS = ("onnxruntime", "torch")
#: the dry run gives up after this many pushes past the model's receptive field and lookahead
DRY_EXTRA = 64
#: the replay's largest difference from the general path, relative to the output's scale
#: (float32 through ONNX Runtime: its own kernels; TorchScript runs the same calls)
CHECK_TOLERANCE = {"onnxruntime": 1e-4, "torch": 1e-10}
#: the ONNX Runtime recordings' graphs go through :func:`convtrace.inspect.streamify_graph.optimise`
#: (False: as exported; the benchmark's A/B)
OPTIMISE = True
#: ONNX Runtime's pool threads spin between pushes (its default); off here: every recording
#: (a stream's first pushes, its start, the steady push) has its own pool, and the threads
#: one leaves spinning take the cores of the next (False: the benchmark's A/B)
SPINNING = False

Structure = tuple[Any, ...]
Numbers = tuple[int, ...]


def states_of(runner: Any) -> list[OpState]:
    """The runner's states in order: time calls, then joins."""
    return [runner.states[i] for i in sorted(runner.states)] + [runner.joins[i] for i in sorted(runner.joins)]


def _tensors(states: list[OpState]) -> list[Any]:
    return [t for s in states for t in s.tensors() if t.numel()]


def snapshot(sm: Any) -> tuple[Structure, Numbers]:
    """The stream's place: its structure (each state's kind, counters and tensor shapes, in
    order: not their names, which count the calls made, hooks' too) and its counters
    (samples pushed and emitted, then every state's integers)."""
    structure: list[Any] = []
    numbers = [int(sm._pushed), int(sm._emitted)]
    for s in states_of(sm._runner):
        names = []
        for name, value in sorted(vars(s).items()):
            if isinstance(value, int):
                names.append(name)
                numbers.append(int(value))
        structure.append((type(s).__name__, tuple(names), tuple(tuple(t.shape) for t in s.tensors())))
    return tuple(structure), tuple(numbers)


def _restore(sm: Any, structure: Structure, numbers: Numbers) -> None:
    """Set the stream's counters (the inverse of :func:`snapshot`)."""
    sm._pushed, sm._emitted = numbers[0], numbers[1]
    at = 2
    for s, (_, names, _) in zip(states_of(sm._runner), structure, strict=True):
        for name in names:
            old = getattr(s, name)
            setattr(s, name, type(old)(numbers[at]))  # (a bool stays a bool)
            at += 1


class _Engine:
    """A replay of a recorded push: ``load`` the state tensors, ``push`` chunks (and, for a
    push recorded with its masks, the samples pushed since the recording), read ``state``."""

    def load(self, tensors: list[Any]) -> None:
        raise NotImplementedError

    def push(self, chunk: Any, shift: int | None = None) -> Any:
        raise NotImplementedError

    def state(self) -> list[Any]:
        raise NotImplementedError


class _TorchEngine(_Engine):
    """The trace as TorchScript (frozen where it can be)."""

    def __init__(self, traced: Any) -> None:
        self.fn = traced
        self.tensors: list[Any] = []

    def load(self, tensors: list[Any]) -> None:
        self.tensors = list(tensors)

    def push(self, chunk: Any, shift: int | None = None) -> Any:
        if shift is None:
            y, *self.tensors = self.fn(chunk, *self.tensors)
        else:
            y, *self.tensors = self.fn(chunk, torch.tensor(shift, dtype=torch.int64), *self.tensors)
        return y

    def state(self) -> list[Any]:
        return list(self.tensors)


class _OrtEngine(_Engine):
    """The trace exported to ONNX, run by ONNX Runtime. Where the state keeps its shapes, two
    sets of buffers are bound to the session's inputs and outputs and swapped after each
    push (the state is never copied); a push of the stream's start whose state changes
    shape (``after``: the state it gives) runs with its arrays fed and kept."""

    def __init__(self, model: bytes, chunk: Any, tensors: list[Any], after: list[Any], out: Any, threads: int) -> None:
        import numpy as np
        import onnxruntime as ort

        from .streamify_graph import optimise

        #: what :func:`~convtrace.inspect.streamify_graph.optimise` changed ({}: nothing)
        self.changes: dict[str, int] = {}
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        if threads > 1 and not SPINNING:  # (each recording has its own pool: spinning ones fight for the cores)
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        options.log_severity_level = 3
        self._np = np
        self.session: Any = None
        if OPTIMISE:
            with contextlib.suppress(Exception):  # (an optimisation only: else the graph as exported)
                optimised, changes = optimise(model)
                self.session = ort.InferenceSession(optimised, options, providers=["CPUExecutionProvider"])
                self.changes = changes
        if self.session is None:
            self.session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        names_in = [i.name for i in self.session.get_inputs()]
        names_out = [o.name for o in self.session.get_outputs()]
        self.states = [n for n in names_in if n.startswith("state")]  # (an input the graph does not read is gone)
        self.has_shift = "shift" in names_in
        self.fixed = [tuple(t.shape) for t in tensors] == [tuple(t.shape) for t in after] and \
            len(self.states) == len(tensors)  # fmt: skip
        self.held: list[Any] = []

        def value(shape: Any, dtype: Any) -> Any:
            return ort.OrtValue.ortvalue_from_numpy(np.zeros(tuple(shape), dtype=dtype))

        self.x = value(chunk.shape, chunk.numpy().dtype)
        self.y = value(out.shape, out.numpy().dtype)
        self.shift = value((), np.int64)
        self.sets = ([value(t.shape, t.numpy().dtype) for t in tensors], [value(t.shape, t.numpy().dtype) for t in tensors])
        self.bindings = []
        for read, write in ((0, 1), (1, 0)) if self.fixed else ():
            binding = self.session.io_binding()
            binding.bind_ortvalue_input("chunk", self.x)
            if self.has_shift:
                binding.bind_ortvalue_input("shift", self.shift)
            for name, v in zip(self.states, self.sets[read], strict=True):
                binding.bind_ortvalue_input(name, v)
            binding.bind_ortvalue_output(names_out[0], self.y)
            for name, v in zip(names_out[1:], self.sets[write], strict=True):
                binding.bind_ortvalue_output(name, v)
            self.bindings.append(binding)
        self.current = 0

    def load(self, tensors: list[Any]) -> None:
        if not self.fixed:
            self.held = [t.detach().contiguous().numpy() for t in tensors]
            return
        for v, t in zip(self.sets[0], tensors, strict=True):
            v.update_inplace(t.detach().contiguous().numpy())
        self.current = 0

    def push(self, chunk: Any, shift: int | None = None) -> Any:
        np = self._np
        if not self.fixed:
            feeds = {name: self.held[int(name[5:])] for name in self.states}
            feeds["chunk"] = chunk.detach().contiguous().numpy()
            if self.has_shift:
                feeds["shift"] = np.array(shift or 0, dtype=np.int64)
            y, *self.held = self.session.run(None, feeds)
            return torch.from_numpy(y)
        self.x.update_inplace(chunk.detach().contiguous().numpy())
        if self.has_shift:
            self.shift.update_inplace(np.array(shift or 0, dtype=np.int64))
        self.session.run_with_iobinding(self.bindings[self.current])
        self.current ^= 1
        return torch.from_numpy(self.y.numpy().copy())

    def state(self) -> list[Any]:
        if not self.fixed:
            return [torch.from_numpy(np_value.copy()) for np_value in self.held]
        return [torch.from_numpy(v.numpy().copy()) for v in self.sets[self.current]]


@dataclass
class FastPush:
    """Pushes of ``length`` samples (chunks of ``shape``) replayed by ``backend``: from the
    place ``base`` (the stream's counters, :func:`snapshot`, on ``structure``) on, every push
    moves them by ``delta``. ``start`` replays the pushes ``0 .. steady - 1`` from there
    (recorded with the masks of the stream's start; its outputs before index 0, from
    ``out_start`` on, are dropped), ``engine`` the steady ones after (no mask). The ``first``
    pushes of a stream before the base (their shapes change) are each recorded as they are
    (``heads``: the engine, the output's timeline, the place before it). Valid while the
    model's parameters are those of the build (``marks``)."""

    backend: str
    length: int
    shape: tuple[int, ...]
    structure: Structure
    base: Numbers
    delta: Numbers
    engine: _Engine
    marks: list[tuple[Any, int, int]]
    start: _Engine | None = None
    steady: int = 0
    out_start: int = 0
    out_length: int = 0
    out_dim: int = -1
    heads: list[tuple[_Engine, Timeline, tuple[Structure, Numbers]]] = field(default_factory=list)
    #: the states (time calls, joins) at each head's place and at the base, to hand back
    templates: list[tuple[dict[int, OpState], dict[int, OpState]]] = field(default_factory=list)
    seconds: float = 0.0
    #: the chunks' dtype (the model's at the build)
    dtype: Any = None
    #: a live stream on the fast path: its place ``n`` when it took it (negative: a head),
    #: the pushes since, the engine holding its state
    entered: int | None = None
    count: int = 0
    active: _Engine | None = None

    @property
    def first(self) -> int:
        """The pushes of a stream before the base."""
        return len(self.heads)

    def place(self, structure: Structure, numbers: Numbers) -> int | None:
        """``n`` when ``numbers`` are the base's plus ``n >= 0`` pushes (all but the
        outputs emitted, which the start holds back), ``n < 0`` at a head's place, else
        None."""
        if numbers[0] < self.base[0] and numbers[0] % self.length == 0:
            k = numbers[0] // self.length
            if k < len(self.heads) and self.heads[k][2] == (structure, numbers):
                return k - len(self.heads)
            return None
        if structure != self.structure or len(numbers) != len(self.base):
            return None
        gone = numbers[0] - self.base[0]
        if gone < 0 or gone % self.length:
            return None
        n = gone // self.length
        if n < self.steady and self.start is None:
            return None
        if any(v != b + n * d for i, (v, b, d) in enumerate(zip(numbers, self.base, self.delta)) if i != 1):
            return None
        return n

    def __post_init__(self) -> None:
        self._marked = [t for t, _, _ in self.marks]
        self._versions = [version for _, version, _ in self.marks]
        self._pointers = [pointer for _, _, pointer in self.marks]

    def fresh(self) -> bool:
        """No parameter or buffer of the model was written (or replaced) since the build
        (every push checks it: two list comprehensions, a third of the ``all()`` of pairs)."""
        return [t._version for t in self._marked] == self._versions and \
            [t.data_ptr() for t in self._marked] == self._pointers  # fmt: skip

    def engine_at(self, n: int) -> _Engine:
        """The engine of the push at place ``n``."""
        if n < 0:
            return self.heads[len(self.heads) + n][0]
        if n < self.steady and self.start is not None:
            return self.start
        return self.engine

    def push(self, sm: Any, chunk: Any) -> Any:
        """One push on the fast path (the stream is on it)."""
        assert self.entered is not None and self.active is not None
        n = self.entered + self.count
        engine = self.engine_at(n)
        if engine is not self.active:  # the state moves over to the next recording
            engine.load(self.active.state())
            self.active = engine
        self.count += 1
        sm._pushed += self.length
        if n < 0:
            return sm._emit(engine.push(chunk), self.heads[len(self.heads) + n][1])
        if n < self.steady:
            y = engine.push(chunk, n * self.length)
            first = self.out_start + n * self.out_length
            drop = min(self.out_length, max(0, -first))
            if drop:
                y = y.narrow(self.out_dim, drop, self.out_length - drop)
        else:
            y = engine.push(chunk)
        sm._emitted += int(y.shape[self.out_dim])
        return y


def _marks(model: Any) -> list[tuple[Any, int, int]]:
    return [(t, t._version, t.data_ptr()) for t in (*model.parameters(), *model.buffers())]


class _RecordedPush(torch.nn.Module):
    """One push of the general path on copies of the stream's states, given as tensors:
    ``(out, *new state tensors)`` (what is traced). ``masked``: the push also takes the
    samples pushed since the recording (``shift``, a 0-d int64 tensor): every mask of the
    stream's start is recorded as a comparison with the indices it gives."""

    def __init__(self, sm: Any, plain_conv: bool, masked: bool) -> None:
        super().__init__()
        self.owner = [sm]  # (a list: not a submodule, its parameters are the trace's constants)
        self.plain_conv = plain_conv
        self.masked = masked
        self.copies: list[OpState] = []
        self.timeline: Timeline | None = None

    def forward(self, chunk: Any, *tensors: Any) -> tuple[Any, ...]:
        sm = self.owner[0]
        runner = sm._runner
        shift: Any = 0
        if self.masked:
            shift, tensors = tensors[0], tensors[1:]
        saved = (runner.states, runner.joins)
        runner.states = {i: s.copy() for i, s in saved[0].items()}
        runner.joins = {i: s.copy() for i, s in saved[1].items()}
        given = iter(tensors)
        for s in states_of(runner):
            s.load([next(given) if t.numel() else t for t in s.tensors()])
        runner.plain_conv = self.plain_conv
        try:
            y, self.timeline = runner.run(chunk, Timeline(sm._pushed, shift, sm.time_dim))
            self.copies = states_of(runner)  # (with the states the push made)
        finally:
            runner.states, runner.joins = saved
            runner.plain_conv = False
        return (y, *_tensors(self.copies))


def _backend(asked: str, dtype: Any) -> str | None:
    """The backend for ``asked`` ("auto": ONNX Runtime for float32 when installed, else
    TorchScript), None when ONNX Runtime is asked for and cannot run it."""
    if asked == "torch":
        return "torch"
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return None if asked == "onnxruntime" else "torch"
    if dtype != torch.float32:
        return None if asked == "onnxruntime" else "torch"
    return "onnxruntime"


def _record(backend: str, sm: Any, chunk: Any, tensors: list[Any], masked: bool) -> tuple[_Engine, _RecordedPush, Any]:
    """The engine replaying the push from the stream's current state; the recorded module
    (its copies: the counters after the push; the output's timeline) and the output."""
    module = _RecordedPush(sm, plain_conv=backend == "onnxruntime", masked=masked)
    args = (chunk, *([torch.zeros((), dtype=torch.int64)] if masked else []), *tensors)
    grads = [(p, p.requires_grad) for p in sm.model.parameters()]
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        try:  # (the parameters are the trace's constants: constants take no gradient)
            for p, _ in grads:
                p.requires_grad_(False)
            if backend == "torch":
                traced = torch.jit.trace(module, args, check_trace=False)  # type: ignore[no-untyped-call]
                with contextlib.suppress(Exception):  # (freezing is an optimisation only)
                    traced = torch.jit.freeze(traced.eval())
            else:
                f = io.BytesIO()
                count = len(tensors)
                given = len(module(*args)) - 1  # (a push of the start may make states)
                torch.onnx.export(module, args, f, dynamo=False, opset_version=17,  # type: ignore[arg-type]
                                  input_names=["chunk", *(["shift"] if masked else []), *(f"state{i}" for i in range(count))],
                                  output_names=["out", *(f"next{i}" for i in range(given))])  # fmt: skip
        finally:
            for p, flag in grads:
                p.requires_grad_(flag)
        out = module(*args)[0]  # (a run outside the trace: the copies' counters, the timeline)
    if backend == "torch":
        return _TorchEngine(traced), module, out
    after = _tensors(module.copies)
    return _OrtEngine(f.getvalue(), chunk, tensors, after, out, torch.get_num_threads()), module, out


def _dry_run(sm: Any, zeros: Any, limit: int) -> tuple[list[tuple[Structure, Numbers]], int] | str:
    """Pushes of zeros until one is steady: the stream's places (before each push, and
    after the last) and the index of the place after the first steady push."""
    places = [snapshot(sm)]
    delta: Numbers | None = None
    for _ in range(limit):
        seen = TRANSIENTS.count
        sm._push(zeros, fast=False)
        places.append(snapshot(sm))
        before, after = places[-2], places[-1]
        moved = tuple(a - b for a, b in zip(after[1], before[1])) if after[0] == before[0] else None
        if TRANSIENTS.count == seen and moved is not None and moved == delta:
            return places, len(places) - 1
        delta = moved if TRANSIENTS.count == seen else None
    return f"no steady push of {int(zeros.shape[sm.time_dim])} samples within {limit} pushes"


def _first_regular(places: list[tuple[Structure, Numbers]], steady: int) -> int:
    """The first place from which every push moves the counters as the steady ones do
    (but the outputs emitted: the stream's start holds them back)."""
    structure, last = places[steady]
    delta = [a - b for a, b in zip(last, places[steady - 1][1])]
    first = steady
    while first > 0 and places[first - 1][0] == structure and all(
            a - b == d for i, (a, b, d) in enumerate(zip(places[first][1], places[first - 1][1], delta)) if i != 1):  # fmt: skip
        first -= 1
    return first


def build(sm: Any, asked: str = "auto") -> FastPush | str:
    """The fast path of pushes of ``sm.chunk_size`` samples, or the reason there is none.
    The stream is reset (the dry run uses it)."""
    started = time.perf_counter()
    backend = _backend(asked, sm._dtype())
    if backend is None:
        return f"{asked} cannot run it: onnxruntime is not installed or has no {sm._dtype()} Conv"
    length = sm.chunk_size
    shape = list(sm.input_shape)
    shape[sm.time_dim] = length
    zeros = torch.zeros(shape, dtype=sm._dtype())
    probe = torch.randn(shape, generator=torch.Generator().manual_seed(0), dtype=sm._dtype())
    reach = float((sm.receptive_field or 0) + (sm.lookahead or 0) + (sm.latency or 0))
    sm.reset()
    try:
        found = _dry_run(sm, zeros, int(reach) // length + DRY_EXTRA)
        if isinstance(found, str):
            return found
        places, steady = found
        first = _first_regular(places, steady)
        structure, last = places[steady]
        delta = tuple(a - b for a, b in zip(last, places[steady - 1][1]))
        base = places[first][1]
        sm.reset()
        start: _Engine | None = None
        out_start = 0
        heads: list[tuple[_Engine, Timeline, tuple[Structure, Numbers]]] = []
        templates = []
        for at in range(steady + 1):
            if at <= first:
                templates.append(({i: s.copy() for i, s in sm._runner.states.items()},
                                  {i: s.copy() for i, s in sm._runner.joins.items()}))  # fmt: skip
            if at < first or at == steady or (at == first and first < steady):
                tensors = [t.clone() for t in _tensors(states_of(sm._runner))]
                masked = first <= at < steady
                seen = TRANSIENTS.count
                place = snapshot(sm)
                try:
                    engine, module, out = _record(backend, sm, zeros, tensors, masked)
                except Exception as exc:  # (an op the exporter or the tracer does not take)
                    return (f"{backend} cannot record the push: {type(exc).__name__}: "
                            f"{str(exc).splitlines()[0] if str(exc) else ''}")  # fmt: skip
                tl = module.timeline
                steady_now = at == steady
                if tl is None or (steady_now and (TRANSIENTS.count != seen or tl.fill is not None or tl.start != sm._emitted)):
                    return "the recorded push is not the steady one"
                problem = _check(sm, engine, probe, tensors, backend, 0 if masked else None)
                if problem:
                    return problem
                if at < first:
                    heads.append((engine, tl, place))
                elif masked:
                    start, out_start = engine, tl.start
                else:
                    fast = FastPush(backend, length, tuple(shape), structure, base, delta, engine, _marks(sm.model),
                                    start, steady - first, out_start, int(out.shape[tl.dim]), tl.dim, heads,
                                    templates)  # fmt: skip
                    fast.seconds = time.perf_counter() - started
                    fast.dtype = sm._dtype()
                    return fast
                continue
            sm._push(zeros, fast=False)
        raise AssertionError("unreachable")
    finally:
        sm.reset()


def _check(sm: Any, engine: _Engine, probe: Any, tensors: list[Any], backend: str, shift: int | None) -> str | None:
    """The replay against the general path from the stream's place, on a random chunk: the
    output (all of it, the samples before index 0 too) and the new state (None: the same).
    The stream moves on by that push."""
    engine.load(tensors)
    got = [engine.push(probe, shift), *engine.state()]
    seen = sm._runner.trace
    sm._runner.trace = None
    y, tl = sm._runner.run(probe, Timeline(sm._pushed, 0, sm.time_dim))
    sm._pushed += int(probe.shape[sm.time_dim])
    want = [y, *_tensors(states_of(sm._runner))]
    sm._runner.trace = seen
    sm._emit(y, tl)
    tolerance = CHECK_TOLERANCE[backend]
    for i, (a, b) in enumerate(zip(got, want, strict=True)):
        scale = max(float(b.abs().max()) if b.numel() else 0.0, 1e-30)
        if a.shape != b.shape or (b.numel() and float((a.to(b.dtype) - b).abs().max()) > tolerance * scale):
            what = "output" if i == 0 else f"state tensor {i - 1}"
            return f"the {backend} replay differs from the general path ({what})"
    return None


def enter(sm: Any, fast: FastPush) -> bool:
    """Take the fast path from the stream's current place, when it is one (load the state)."""
    structure, numbers = snapshot(sm)
    n = fast.place(structure, numbers)
    if n is None or not fast.fresh():
        return False
    fast.active = fast.engine_at(n)
    fast.active.load(_tensors(states_of(sm._runner)))
    fast.entered, fast.count = n, 0
    return True


def leave(sm: Any, fast: FastPush) -> None:
    """Hand the state back to the general path: the tensors, and the counters of ``count``
    more pushes (the samples pushed and emitted are kept up to date by each push)."""
    if fast.entered is None or fast.active is None:
        return
    n = fast.entered + fast.count
    if n < 0:  # at a head's place: its counters as recorded
        structure, numbers = fast.heads[len(fast.heads) + n][2]
    else:
        structure = fast.structure
        numbers = tuple(b + n * d for b, d in zip(fast.base, fast.delta))
    if fast.count:
        if snapshot(sm)[0] != structure:  # (the stream took the fast path before its states were made)
            states, joins = fast.templates[min(len(fast.heads), len(fast.heads) + n)]
            sm._runner.states = {i: s.copy() for i, s in states.items()}
            sm._runner.joins = {i: s.copy() for i, s in joins.items()}
        _restore(sm, structure, (sm._pushed, sm._emitted, *numbers[2:]))
        given = iter(fast.active.state())
        for s in states_of(sm._runner):
            s.load([next(given) if t.numel() else t for t in s.tensors()])
    fast.entered, fast.count, fast.active = None, 0, None
