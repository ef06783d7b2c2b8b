"""``convtrace.streamify(model, input_shape)``: run a PyTorch model's own ``forward`` chunk
by chunk, with exactly the offline result, and with its state as tensors for export.

Every time-axis call the inspector records is replaced by its streaming form, with state
(:mod:`convtrace.inspect.streamify_ops`): Conv1d and the sliding pools keep their last
inputs, ConvTranspose1d its overlap-add tail (the bias added once), ``F.pad`` and crops move
the indices (a right pad or a right crop waits for the end, where its size, possibly set from
the whole length, is known), and joins of branches with different delays (``x + f(x)``,
``x += f(x)``, ``torch.cat`` on channels) wait in delay lines. Everything else is pointwise
in time and runs on the chunk as it is.

Two ways to run it, the same numbers:

- ``push(chunk)`` with any chunk length (0 included) returns the outputs final now;
  ``flush()`` the rest (and resets).
- ``step(chunk, *state)`` for chunks of ``chunk_size`` returns ``(out, *new_state)`` with
  no state kept in Python: the form :func:`torch.onnx.export` takes. Each step returns
  ``chunk_size / hop`` outputs; the first ``-step_offset`` of the stream are zeros (outputs
  before the first: the step form is late by that many).

Speed: ``push`` runs the model's own Python ``forward`` on every chunk (calls on parameters
alone, such as a weight norm, run once per stream), so a push costs at least that forward's
calls on a small input and every layer's weights read once. ``fast=True``
(:meth:`StreamedModel.build_fast`, :mod:`convtrace.inspect.streamify_fast`) records the
pushes of ``chunk_size`` samples once and replays them without Python (ONNX Runtime for
float32, TorchScript otherwise); ``push_path`` says which path a push ran.

Where a model cannot stream, :func:`streamify` raises :class:`~convtrace.errors.ConvtraceError`
naming the module, the op, the reason and the fix: normalisation, attention or recurrence
over time (and batch norm or dropout in training mode), adaptive pools and pooling indices,
circular padding, an amount on the left set from the whole length or one on the right that
grows with it, ops that reduce, resample or index time, ``torch.cat`` over time, writes into
a time range (``x[..., a:b] = y``), a forward whose calls change with the input length.
The model is planned on ``input_shape`` and a few longer inputs (on the meta device); the
end of each stream is planned again on its whole length (a pad or crop set from the length,
EnCodec's extra padding, is applied there). Conv1d, pads and crops must act on the last
dimension; the input's time may be on any (``time_dim``).

>>> import torch
>>> torch.manual_seed(0) and None
>>> model = torch.nn.Sequential(torch.nn.Conv1d(1, 4, 3, padding=1), torch.nn.Tanh(),
...                             torch.nn.ConvTranspose1d(4, 1, 4, stride=2, padding=1)).double()
>>> sm = streamify(model, (1, 1, 32))
>>> x = torch.randn(1, 1, 32, dtype=torch.float64)
>>> y = torch.cat([sm.push(x[..., :5]), sm.push(x[..., 5:6]), sm.push(x[..., 6:]), sm.flush()], -1)
>>> bool(torch.allclose(y, model(x), rtol=1e-12, atol=1e-12)), y.shape
(True, torch.Size([1, 1, 64]))
>>> sm.receptive_field, sm.hop, sm.lookahead, sm.chunk_size
(Fraction(9, 2), Fraction(1, 2), Fraction(3, 2), 1)
>>> [(e.name, e.shape) for e in sm.state_spec()]
[('0.conv1d0.buffer', (1, 1, 2)), ('2.conv_transpose1d1.pending', (1, 1, 2)), ('steps', ())]

The explicit state: each step takes ``chunk_size`` samples and gives ``chunk_size / hop``
outputs; the first ``-step_offset`` are zeros (outputs before the first).

>>> state = sm.initial_state(1)
>>> outs = []
>>> for t in range(32):
...     out, *state = sm.step(x[..., t : t + 1], *state)
...     outs.append(out)
>>> stepped = torch.cat(outs, -1)
>>> sm.step_offset, bool(torch.allclose(stepped[..., 3:], model(x)[..., :61], rtol=1e-12, atol=1e-12))
(-3, True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import torch

from ..errors import ConvtraceError
from ..stream.stages import StateEntry
from .streamify_fast import BACKENDS, FastPush
from .streamify_fast import build as build_fast
from .streamify_fast import enter as enter_fast
from .streamify_fast import leave as leave_fast
from .streamify_ops import OpState, Timeline, WindowState, mask_before, transient
from .streamify_run import ParameterCalls, PlanOp, Runner, from_last, plan_forward, refuse, to_last

__all__ = ["streamify", "StreamedModel", "StateEntry"]

#: the extra lengths the forward is planned on (and twice the length): the amounts that
#: change with the length are applied at the end, the most any of them holds back is kept
PLAN_EXTRA = (1, 2, 3)
#: the whole-input plans :meth:`StreamedModel.flush` keeps (the last lengths flushed)
FLUSH_PLANS = 8
#: the report codes that stop a model from streaming
_BLOCKING = ("R101", "R102", "R104")


def streamify(model: Any, input_shape: Sequence[int], *, chunk_size: int | None = None,
              time_dim: int = -1, fast: bool | str = False) -> StreamedModel:  # fmt: skip
    """A :class:`StreamedModel` running ``model`` chunk by chunk. ``input_shape``: an
    input the model takes (``(N, C, T)``, or any layout with time on ``time_dim``; the
    batch, when there are three dimensions or more, first); ``chunk_size``: the chunk of
    :meth:`StreamedModel.step` (default: the smallest that works, the hop rounded up to
    whole strides). ``fast``: build the fast path of pushes of ``chunk_size`` samples
    (:meth:`StreamedModel.build_fast`: True or "auto", "onnxruntime", "torch"). Raises
    :class:`ConvtraceError` for a model that cannot stream."""
    if not isinstance(model, torch.nn.Module):
        raise ConvtraceError("model", type(model).__name__, "the model must be a torch.nn.Module", call="streamify")
    shape = _shape(input_shape)
    if isinstance(time_dim, bool) or not isinstance(time_dim, int) or not -len(shape) <= time_dim < len(shape):
        raise ConvtraceError("time_dim", time_dim, f"time_dim must index a dimension of the {len(shape)}-D input",
                             call="streamify")  # fmt: skip
    time_dim %= len(shape)
    plans = _plans(model, shape, time_dim)  # (first: it names the innermost module of what cannot stream)
    report = _report(model, shape, time_dim)
    sm = StreamedModel(model, shape, plans, report, chunk_size, time_dim)
    if fast is not False:
        sm.build_fast("auto" if fast is True else fast)
    return sm


def _longer(shape: tuple[int, ...], time_dim: int, length: int) -> tuple[int, ...]:
    return (*shape[:time_dim], length, *shape[time_dim + 1 :])


def _shape(input_shape: Any) -> tuple[int, ...]:
    try:
        shape = tuple(int(v) for v in input_shape)
    except (TypeError, ValueError):
        raise ConvtraceError("input_shape", input_shape, "input_shape must be a sequence of whole numbers",
                             call="streamify") from None  # fmt: skip
    if len(shape) < 2 or any(v < 1 for v in shape):
        raise ConvtraceError("input_shape", input_shape, "input_shape must be (N, C, T) or (C, T), each at least 1",
                             call="streamify")  # fmt: skip
    return shape


def _report(model: Any, shape: tuple[int, ...], time_dim: int) -> Any:
    """The streaming report of the model (its refusals raise here)."""
    from ..render.stream_text import fix, message
    from ..stream.report import report
    from ..stream.timing import REFUSALS
    from .model import inspect_model

    first = inspect_model(model, shape, time_dim=time_dim)
    also = inspect_model(model, _longer(shape, time_dim, shape[time_dim] + 1), time_dim=time_dim, raise_on_error=False)
    found = report(first, also=also)
    blocking = [f for f in found.findings if f.code in _BLOCKING]
    if not blocking:
        if any(f.code == "R103" for f in found.findings):  # applied at flush: the figures hold before the end
            return report(first)
        return found
    first_found = blocking[0]
    inner = [f for f in blocking if f.code == first_found.code and f.layer.startswith(first_found.layer + ".")]
    finding = max(inner, key=lambda f: len(f.layer), default=first_found)  # the norm itself, not its block
    op = str(finding.values.get("kind") or finding.values.get("value") or finding.values.get("op") or finding.code)
    module = finding.layer.split(" (")[0]
    if finding.code == "R101":  # a layer's own refusal: the one wording of the engine
        reason, hint = REFUSALS[str(finding.values["refusal"])]
        raise refuse(module, op, reason, hint)
    raise refuse(module, op, message(finding), fix(finding))


def _plans(model: Any, shape: tuple[int, ...], time_dim: int) -> list[list[PlanOp]]:
    """The forward planned on ``shape`` and on longer inputs (a few samples more, and
    twice as long): the lefts must agree; a right amount may change with the length (it is
    applied at the end) but not grow with it."""
    length = shape[time_dim]
    plans = [plan_forward(model, shape, time_dim)[0]]
    for total in [length + extra for extra in PLAN_EXTRA] + [2 * length]:
        plan = plan_forward(model, _longer(shape, time_dim, total), time_dim)[0]
        if len(plan) != len(plans[0]) or any((a.op, a.module) != (b.op, b.module) for a, b in zip(plans[0], plan)):
            where = next(((a.module, a.op) for a, b in zip(plans[0], plan) if (a.op, a.module) != (b.op, b.module)),
                         ("", "forward"))  # fmt: skip
            raise refuse(where[0], where[1], f"the forward makes other calls on {total} samples than on {length}",
                         "make the calls independent of the input length")  # fmt: skip
        for a, b in zip(plans[0], plan):
            if a.left != b.left:
                raise refuse(a.module, a.op, f"its left amount depends on the whole input length ({a.left} for "
                             f"{length} samples, {b.left} for {total})",
                             "set the left padding or crop from the layer, not from the length")  # fmt: skip
            grown = (b.out_length - b.right) - (a.out_length - a.right)  # its input grew by this much
            if total == 2 * length and abs(b.right - a.right) * 2 >= max(grown, 1) and b.right != a.right:
                raise refuse(a.module, a.op, f"its right amount grows with the whole input length ({a.right} for "
                             f"{length} samples, {b.right} for {total}): the stream cannot know when to stop",
                             "crop or pad the end by an amount the layers fix, not by the length")  # fmt: skip
        plans.append(plan)
    return plans


class StreamedModel(torch.nn.Module):
    """A model run chunk by chunk (see the module docstring). Attributes:
    ``receptive_field``, ``hop``, ``lookahead``, ``latency`` (:class:`~fractions.Fraction`,
    in input samples, from the streaming report), ``chunk_size`` and ``step_offset``
    (int), ``input_shape`` (the shape planned on)."""

    def __init__(self, model: Any, input_shape: tuple[int, ...], plans: list[list[PlanOp]], report: Any,
                 chunk_size: int | None, time_dim: int = -1) -> None:  # fmt: skip
        super().__init__()
        self.model = model
        self.input_shape = input_shape
        self.time_dim = time_dim % len(input_shape)
        self._plans = plans
        self._report = report
        self.receptive_field: Fraction | None = report.receptive_field
        self.hop: Fraction | None = report.hop
        self.lookahead: Fraction | None = report.lookahead
        self.latency: Fraction | None = report.latency
        self.base_chunk = self._base_chunk()
        self.chunk_size = self._chunk(chunk_size)
        self._templates: dict[int, list[tuple[bool, int, OpState]]] = {}
        self._offset: int | None = None
        self._flush_plans: dict[tuple[int, ...], tuple[list[PlanOp], int]] = {}
        self._fast: FastPush | None = None
        self._fast_asked: str | None = None
        #: why the fast path asked for was not built (None: it was, or none was asked for)
        self.fast_reason: str | None = None
        #: the path the last push ran: "python" (the general path), "onnxruntime", "torch"
        self.push_path = "python"
        #: the pushes the fast path ran, since the model was streamified
        self.fast_pushes = 0
        self.reset()

    @property
    def calls(self) -> tuple[PlanOp, ...]:
        """The time-axis calls replaced by their streaming forms, in the forward's order
        (op, module, the amounts added or removed at each end on ``input_shape``).

        >>> import torch
        >>> [(c.op, c.module) for c in streamify(torch.nn.Conv1d(1, 1, 3), (1, 1, 8)).calls]
        [('conv1d', '')]
        """
        return tuple(self._plans[0])

    @property
    def step_offset(self) -> int:
        """The output index of the first sample the first :meth:`step` returns (negative:
        that many zeros come first; the step form is late by them)."""
        if self._offset is None:
            self._template(1)
        assert self._offset is not None
        return self._offset

    # ------------------------------------------------------------------ the chunk size
    def _dry_run(self, batch: int, step: int | None) -> tuple[Runner, Timeline]:
        runner = Runner(self.model, self._plans)
        runner.mode = "push"
        runner.step_chunk = step
        shape = list(self.input_shape)
        shape[self.time_dim] = 0
        if len(shape) >= 3:
            shape[0] = batch
        x = torch.zeros(shape, dtype=self._dtype())
        with torch.no_grad():
            _, tl = runner.run(x, Timeline(0, 0, self.time_dim))
        return runner, tl

    def _dtype(self) -> Any:
        return next((p.dtype for p in self.model.parameters() if p.is_floating_point()), torch.float32)

    def _base_chunk(self) -> int:
        """The smallest chunk after which every layer has whole strides to run."""
        runner, _ = self._dry_run(1, None)
        base = 1
        for state in runner.states.values():
            rate = getattr(state, "in_rate", Fraction(1))
            stride = state.stride if isinstance(state, WindowState) else 1
            for need in (rate, rate / stride):
                base = math.lcm(base, need.denominator)
        return base

    def _chunk(self, chunk_size: int | None) -> int:
        if chunk_size is None:
            return self.base_chunk
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1 or chunk_size % self.base_chunk:
            raise ConvtraceError("chunk_size", chunk_size, f"the chunk of a step must be a positive multiple of "
                                 f"{self.base_chunk} (then every strided layer takes whole strides)", call="streamify")  # fmt: skip
        return chunk_size

    # ------------------------------------------------------------------ the fast path
    @property
    def fast_path(self) -> str | None:
        """The backend of the fast path of pushes of ``chunk_size`` samples ("onnxruntime",
        "torch"), None when there is none."""
        return None if self._fast is None else self._fast.backend

    def build_fast(self, backend: str = "auto") -> str | None:
        """Build the fast path of pushes of ``chunk_size`` samples (see
        :mod:`convtrace.inspect.streamify_fast`): ``backend`` "auto" (ONNX Runtime for
        float32 when it is installed, else TorchScript), "onnxruntime" or "torch". Returns
        the backend built, or None with the reason in ``fast_reason`` (the general path
        runs every push). Resets the stream; takes about as long as an ONNX export of the
        model (seconds for a vocoder).

        >>> import torch
        >>> sm = streamify(torch.nn.Conv1d(1, 1, 3).double(), (1, 1, 8))
        >>> sm.build_fast("torch"), sm.fast_reason
        ('torch', None)
        """
        if backend not in ("auto", *BACKENDS):
            raise ConvtraceError("fast", backend, f"the fast path's backend is one of auto, {', '.join(BACKENDS)}",
                                 call="streamify")  # fmt: skip
        self._fast_asked = backend
        self._fast = None
        with torch.no_grad():
            found = build_fast(self, backend)
        self._fast, self.fast_reason = (found, None) if isinstance(found, FastPush) else (None, found)
        return self.fast_path

    # ------------------------------------------------------------------ push, flush, reset
    def reset(self) -> None:
        """Start a new stream: every state back to its initial value."""
        if getattr(self, "_fast", None) is not None:
            assert self._fast is not None
            self._fast.entered = None
        self._runner = Runner(self.model, self._plans)
        self._runner.mode = "push"
        self._runner.constants = ParameterCalls()
        self._pushed = 0
        self._emitted = 0
        self._shape: tuple[int, ...] | None = None

    def _fixed(self, shape: Sequence[int]) -> tuple[int, ...]:
        """The dimensions every chunk shares with the input: all but time (and the batch)."""
        skip = {self.time_dim} | ({0} if len(self.input_shape) >= 3 else set())
        return tuple(int(v) for i, v in enumerate(shape) if i not in skip)

    def _checked(self, chunk: Any) -> Any:
        if not isinstance(chunk, torch.Tensor):
            raise ConvtraceError("chunk", type(chunk).__name__, "a chunk is a torch.Tensor", call="push")
        if chunk.dim() != len(self.input_shape) or self._fixed(chunk.shape) != self._fixed(self.input_shape):
            want = ", ".join("T" if i == self.time_dim else str(v) for i, v in enumerate(self.input_shape))
            raise ConvtraceError("chunk", tuple(chunk.shape), f"a chunk has the input's shape but for time: ({want})",
                                 call="push")  # fmt: skip
        if chunk.dtype != self._dtype():
            raise ConvtraceError("chunk", tuple(chunk.shape), f"the chunk's dtype must be the model's ({self._dtype()}), "
                                 f"got {chunk.dtype}", call="push", hint=f"chunk.to({self._dtype()})")  # fmt: skip
        lead = tuple(int(v) for i, v in enumerate(chunk.shape) if i != self.time_dim)
        if self._shape is not None and lead != self._shape:
            raise ConvtraceError("chunk", tuple(chunk.shape), "every chunk of a stream has the first one's batch",
                                 call="push", hint="flush() or reset() to start another")  # fmt: skip
        self._shape = lead
        return chunk

    def push(self, chunk: Any) -> Any:
        """Feed ``chunk`` (the input's shape, any time length); return the outputs final now.
        With a fast path (:meth:`build_fast`), a push of ``chunk_size`` samples past the
        stream's start runs it (``push_path`` says which path ran)."""
        return self._push(chunk)

    def _push(self, chunk: Any, fast: bool = True) -> Any:
        path = self._fast
        if fast and path is not None and path.entered is not None and isinstance(chunk, torch.Tensor) and \
                chunk.shape == path.shape and chunk.dtype == path.dtype and not chunk.requires_grad and path.fresh():  # fmt: skip
            # (a stream on the fast path: its chunks have the recorded shape and dtype, the
            # checks below passed for the push that took it — skipped: a tenth of a push)
            return self._fast_push(path, chunk)
        x = self._checked(chunk)
        if path is not None:
            if fast and int(x.shape[self.time_dim]) == path.length and not x.requires_grad:
                if path.entered is not None and not path.fresh():
                    leave_fast(self, path)
                    self._fast, self.fast_reason = None, "a parameter of the model changed after the build"
                elif path.entered is not None or enter_fast(self, path):
                    return self._fast_push(path, x)
            else:
                leave_fast(self, path)
        self.push_path = "python"
        with torch.no_grad():
            y, tl = self._runner.run(x, Timeline(self._pushed, 0, self.time_dim))
        self._pushed += int(x.shape[self.time_dim])
        return self._emit(y, tl)

    def _fast_push(self, path: FastPush, x: Any) -> Any:
        with torch.no_grad():
            y = path.push(self, x)
        self.fast_pushes += 1
        self.push_path = path.backend
        return y

    def push_calls(self, chunk: Any) -> tuple[Any, list[tuple[PlanOp, Any, int]]]:
        """:meth:`push`, and what each replaced call gave out in it, for diagnosis: its
        plan (:attr:`calls`), its output chunk (time last) and the index of that chunk's
        first sample in the call's offline output (indices below 0 are not in it).

        >>> import torch
        >>> sm = streamify(torch.nn.Conv1d(1, 1, 3, padding=1), (1, 1, 8))
        >>> y, calls = sm.push_calls(torch.ones(1, 1, 4))
        >>> [(c.op, out.shape[-1], first) for c, out, first in calls]
        [('conv1d', 4, -1)]
        """
        self._runner.trace = []
        try:
            y = self._push(chunk, fast=False)
            return y, self._runner.trace
        finally:
            self._runner.trace = None

    def _emit(self, y: Any, tl: Timeline) -> Any:
        length = int(y.shape[tl.dim])
        if tl.fill is not None and tl.start > self._emitted:  # a left pad at the output
            shape = list(y.shape)
            shape[tl.dim] = tl.start - self._emitted
            y = torch.cat((y.new_full(shape, tl.fill), y), tl.dim)
            length, tl = int(y.shape[tl.dim]), Timeline(self._emitted, 0, tl.dim)
        drop = min(length, max(0, -tl.start))
        if drop or tl.fill is not None:
            transient()
        if length > drop and tl.start + drop != self._emitted:
            raise ConvtraceError("output", tl.start + drop, f"streamify lost its place: output {self._emitted} was next",
                                 call="push")  # fmt: skip
        self._emitted += length - drop
        return y.narrow(tl.dim, drop, length - drop)

    def flush(self) -> Any:
        """The outputs that wait for the end (right pads, the transposed tails, crops set
        from the length); then the stream is reset. PyTorch's error where the whole input
        is too short for the model."""
        try:
            if self._fast is not None:
                leave_fast(self, self._fast)
            if self._shape is None:
                raise ConvtraceError("stream", 0, "nothing was pushed: there is no output to flush", call="flush")
            shape = list(self._shape)
            shape.insert(self.time_dim, self._pushed)
            try:
                plan, out_length = self._flush_plan(tuple(shape))
            except ConvtraceError:
                raise
            except Exception as exc:  # PyTorch's error on the whole input
                raise ConvtraceError("length", self._pushed, f"the model raises on the whole input: "
                                     f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
                                     call="flush") from None  # fmt: skip
            self._runner.flush_plan = plan
            self._runner.mode = "flush"
            shape[self.time_dim] = 0
            x = torch.zeros(shape, dtype=self._dtype())
            with torch.no_grad():
                y, tl = self._runner.run(x, Timeline(self._pushed, 0, self.time_dim))
            y = self._emit(y, tl)
            if self._emitted != out_length:
                raise ConvtraceError("output", self._emitted, f"streamify gave {self._emitted} outputs, the model "
                                     f"gives {out_length}", call="flush")  # fmt: skip
            return y
        finally:
            self.reset()

    def _flush_plan(self, shape: tuple[int, ...]) -> tuple[list[PlanOp], int]:
        """The forward planned on the whole input (kept for the last few lengths: planning
        runs the model's forward on the meta device, a few tens of ms for a vocoder)."""
        found = self._flush_plans.get(shape)
        if found is None:
            found = plan_forward(self.model, shape, self.time_dim)
            if len(self._flush_plans) >= FLUSH_PLANS:
                del self._flush_plans[next(iter(self._flush_plans))]
            self._flush_plans[shape] = found
        return found

    # ------------------------------------------------------------------ explicit state
    def _template(self, batch: int) -> list[tuple[bool, int, OpState]]:
        """The states of a new stream of chunks of ``chunk_size`` (time calls, then joins)."""
        if batch not in self._templates:
            runner, tl = self._dry_run(batch, self.chunk_size)
            found = [(False, i, runner.states[i]) for i in sorted(runner.states)]
            found += [(True, i, runner.joins[i]) for i in sorted(runner.joins)]
            self._templates[batch] = found
            self._offset = tl.start
        return self._templates[batch]

    def state_spec(self, batch_size: int = 1) -> tuple[StateEntry, ...]:
        """Every state tensor of :meth:`step`, in order: name, shape for ``batch_size``,
        dtype, initial value and bytes; the last is ``steps``, the samples so far."""
        out = []
        for _, _, state in self._template(batch_size):
            for name, t in zip(state.tensor_names, state.tensors()):
                if t.numel():
                    out.append(StateEntry(f"{state.name}.{name}", tuple(int(v) for v in t.shape),
                                          str(t.dtype).replace("torch.", ""), float(t.flatten()[0]),
                                          t.numel() * t.element_size()))  # fmt: skip
        out.append(StateEntry("steps", (), "int64", 0.0, 8))
        return tuple(out)

    def initial_state(self, batch_size: int = 1) -> tuple[Any, ...]:
        """The state of a new stream, as :meth:`step` takes it (see :meth:`state_spec`)."""
        tensors = [t.clone() for _, _, s in self._template(batch_size) for t in s.tensors() if t.numel()]
        return (*tensors, torch.zeros((), dtype=torch.int64))

    def step(self, chunk: Any, *state: Any) -> tuple[Any, ...]:
        """One chunk of ``chunk_size`` samples with the state given (no state kept here):
        ``(out, *new_state)``."""
        if not isinstance(chunk, torch.Tensor) or chunk.dim() != len(self.input_shape) or \
                int(chunk.shape[self.time_dim]) != self.chunk_size:  # fmt: skip
            shape = tuple(chunk.shape) if isinstance(chunk, torch.Tensor) else type(chunk).__name__
            raise ConvtraceError("chunk", shape, f"a step takes chunks of exactly {self.chunk_size} samples (a multiple "
                                 f"of {self.base_chunk}: every strided layer takes whole strides)", call="step",
                                 hint="streamify(..., chunk_size=...) sets it; push() takes any length")  # fmt: skip
        template = self._template(int(chunk.shape[0]) if chunk.dim() >= 3 else 1)
        count = sum(1 for _, _, s in template for t in s.tensors() if t.numel())
        if len(state) != count + 1:
            raise ConvtraceError("state", len(state), f"step takes {count + 1} state tensors (see state_spec())",
                                 call="step")  # fmt: skip
        runner = Runner(self.model, self._plans)
        runner.mode = "push"
        runner.step_chunk = self.chunk_size
        given = iter(state[:-1])
        states = []
        for join, index, kept in template:
            s = kept.copy()
            s.load([next(given) if t.numel() else t for t in kept.tensors()])
            (runner.joins if join else runner.states)[index] = s
            states.append(s)
        steps = state[-1]
        y, tl = runner.run(chunk, Timeline(0, steps, self.time_dim))
        new = [t for s in states for t in s.tensors() if t.numel()]
        y = from_last(mask_before(to_last(y, tl.dim), tl, 0.0), tl.dim)
        return (y, *new, steps + self.chunk_size)

    def _apply(self, fn: Any, recurse: bool = True) -> Any:
        """``.to()``, ``.double()``, ...: the states start again in the new dtype or device."""
        out = super()._apply(fn, recurse)  # type: ignore[no-untyped-call]
        self._templates.clear()
        self._flush_plans.clear()
        self._fast = None
        self.reset()
        if self._fast_asked is not None:  # built again for the new dtype or device
            self.build_fast(self._fast_asked)
        return out

    def forward(self, chunk: Any, *state: Any) -> tuple[Any, ...]:
        """:meth:`step` (what :func:`torch.onnx.export` traces)."""
        return self.step(chunk, *state)

    def __repr__(self) -> str:
        return (f"StreamedModel({type(self.model).__name__}, input_shape={self.input_shape}, chunk_size="
                f"{self.chunk_size}, receptive_field={self.receptive_field}, hop={self.hop}, "
                f"lookahead={self.lookahead})")  # fmt: skip
