"""``convtrace.inspect(model, input_shape)``: one forward pass of a real PyTorch model on
the meta device (no weights allocated), every time-axis call recorded, each length
predicted by convtrace's arithmetic and compared, the receptive field, hop and offset so far
for each call, and warnings (codes in :mod:`convtrace.plan.report`).

The meta run falls back to a real run (on the model's own device, zeros as input) when the
meta device cannot run the model, or when a length it produced is one that convtrace's
rules (PyTorch's own checks) reject — a check the meta kernels skip. Model state (training
flags, hooks, function modes) is restored in ``finally``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..errors import ConvtraceError
from ..plan.layers import Layer
from ..plan.report import Finding, to_jsonable
from ..plan.shape import unread, unread_findings
from ..plan.stack import MAX_PERIOD
from .record import INPUT, Call, Recording, record_forward

__all__ = ["InspectCall", "InspectReport", "inspect_model", "MAX_INPUT_ELEMENTS"]

#: the largest input (elements) a real fallback run may allocate
MAX_INPUT_ELEMENTS = 1 << 28
#: wall time for the receptive-field figures of all calls (then the rest are left out)
GRAPH_SECONDS = 5.0


@dataclass(frozen=True)
class InspectCall:
    """One recorded call. ``receptive_field``, ``hop`` and ``offset`` are so far, in model
    input samples (through every path: a bound over branches, exact on a chain).
    ``predicted_out_length`` is convtrace's arithmetic on ``in_length`` (None: PyTorch's
    rules reject it)."""

    index: int
    name: str
    type: str
    op: str
    module: str
    parameters: dict[str, Any]
    layer: Layer
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    in_length: int
    out_length: int
    predicted_out_length: int | None
    receptive_field: Fraction | None
    hop: Fraction | None
    offset: Fraction | None
    sources: tuple[int, ...]
    macs: int


@dataclass(frozen=True)
class InspectReport:
    """A model inspected on one input shape."""

    model: str
    input_shape: tuple[int, ...]
    time_dim: int
    device: str
    calls: tuple[InspectCall, ...]
    output_length: int | None
    output_shape: tuple[int, ...] | None
    error: str | None
    chain: bool
    receptive_field: Fraction | None
    hop: Fraction | None
    offset: Fraction | None
    lookahead: Fraction | None
    causal: bool | None
    macs: int
    parameter_count: int
    warnings: tuple[Finding, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        doc: dict[str, Any] = to_jsonable(self)
        for call in doc["calls"]:
            call.pop("layer", None)
        return doc


def _shape(input_shape: Any, example_input: Any) -> tuple[int, ...]:
    if example_input is not None:
        return tuple(int(v) for v in example_input.shape)
    if input_shape is None:
        raise ConvtraceError("input_shape", None, "give input_shape (e.g. (1, 1, 16000)) or example_input")
    try:
        shape = tuple(int(v) for v in input_shape)
    except (TypeError, ValueError):
        raise ConvtraceError("input_shape", input_shape, "input_shape must be a sequence of whole numbers") from None
    if not shape or any(v < 0 for v in shape):
        raise ConvtraceError("input_shape", input_shape, "input_shape must be non-empty and non-negative")
    return shape


def inspect_model(model: Any, input_shape: Sequence[int] | None = None, example_input: Any = None, *,
                  time_dim: int = -1, dtype: Any = None) -> InspectReport:  # fmt: skip
    """Inspect ``model`` on an input of ``input_shape`` (time on ``time_dim``), or on
    ``example_input`` (its shape; a real fallback run uses its values)."""
    import torch

    if not isinstance(model, torch.nn.Module):
        raise ConvtraceError("model", type(model).__name__, "the model must be a torch.nn.Module")
    shape = _shape(input_shape, example_input)
    if not -len(shape) <= time_dim < len(shape):
        raise ConvtraceError("time_dim", time_dim, f"time_dim must index a dimension of the {len(shape)}-D input")
    time_dim %= len(shape)
    dtype = dtype or (example_input.dtype if example_input is not None else _model_dtype(model))
    notes: list[Finding] = []
    recording, error, device = _meta_or_real(model, shape, time_dim, dtype, example_input, notes)
    return _report(model, shape, time_dim, device, recording, error, notes)


def _model_dtype(model: Any) -> Any:
    import torch

    for p in model.parameters():
        if p.is_floating_point():
            return p.dtype
    return torch.float32


def _meta_or_real(model: Any, shape: tuple[int, ...], time_dim: int, dtype: Any, example: Any,
                  notes: list[Finding]) -> tuple[Recording, str | None, str]:  # fmt: skip
    all_meta = all(t.is_meta for t in _state(model))
    try:
        recording = _run(model, shape, time_dim, dtype, "meta", None)
    except Exception as exc:
        meta_error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        if all_meta:  # nothing real to run: PyTorch's error stands
            return Recording(), meta_error, "meta"
        return _real(model, shape, time_dim, dtype, example, notes, meta_error)
    skipped = _skipped_check(recording)
    if skipped is not None and not all_meta:
        return _real(model, shape, time_dim, dtype, example, notes, skipped)
    return recording, None, "meta"


def _real(model: Any, shape: tuple[int, ...], time_dim: int, dtype: Any, example: Any, notes: list[Finding],
          reason: str) -> tuple[Recording, str | None, str]:  # fmt: skip
    import math

    if math.prod(shape) > MAX_INPUT_ELEMENTS:
        raise ConvtraceError("input_shape", shape, f"a real run is limited to {MAX_INPUT_ELEMENTS} input elements")
    device = next((str(t.device) for t in _state(model) if not t.is_meta), "cpu")
    try:
        recording = _run(model, shape, time_dim, dtype, device, example)
    except Exception as exc:
        message = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        if reason.split(":")[0] == message.split(":")[0] and "meta" not in message:
            return Recording(), message, device
        notes.append(Finding("W201", "", {"reason": reason}))
        return Recording(), message, device
    notes.append(Finding("W201", "", {"reason": reason}))
    return recording, None, device


def _state(model: Any) -> list[Any]:
    return list(model.parameters()) + list(model.buffers())


def _run(model: Any, shape: tuple[int, ...], time_dim: int, dtype: Any, device: str, example: Any) -> Recording:
    """One forward pass in eval mode without gradients; training flags restored after."""
    import torch

    flags = [(m, m.training) for m in model.modules()]
    try:
        model.eval()
        with torch.no_grad():
            if device == "meta":
                x = torch.empty(shape, dtype=dtype, device="meta")
                if all(t.is_meta for t in _state(model)):
                    return _record(model, lambda mark: model(mark(x)), time_dim)
                meta_state = {name: torch.empty_like(t, device="meta") for name, t in
                              list(model.named_parameters()) + list(model.named_buffers())}  # fmt: skip

                def call(mark: Callable[[Any], Any]) -> Any:
                    return torch.func.functional_call(model, meta_state, (mark(x),), strict=False)

                return _record(model, call, time_dim)
            x = example.to(device) if example is not None else torch.zeros(shape, dtype=dtype, device=device)
            return _record(model, lambda mark: model(mark(x)), time_dim)
    finally:
        for module, flag in flags:
            module.training = flag


def _record(model: Any, call: Callable[[Callable[[Any], Any]], Any], time_dim: int) -> Recording:
    """Record ``call(mark)``; ``mark`` tags the model input (time on ``time_dim``)."""
    return record_forward(model, lambda mark: call(lambda tensor: mark(tensor, time_dim)))


def _skipped_check(recording: Recording) -> str | None:
    """A recorded length that PyTorch's rules reject: the meta kernels skipped a check."""
    if recording.rejected:
        return recording.rejected[0]
    for call in recording.calls:
        try:
            if len(call.in_shape) >= 2:
                call.layer.check_channels(call.in_shape[-2])
            call.layer.out_length(call.in_length)
        except ConvtraceError as exc:
            return f"{call.name}: {exc.rule}"
    return None


# ---------------------------------------------------------------------- the report

def _report(model: Any, shape: tuple[int, ...], time_dim: int, device: str, recording: Recording,
            error: str | None, notes: list[Finding]) -> InspectReport:  # fmt: skip
    calls = recording.calls
    graph = _Graph(calls)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 4 * len(calls) + 1000))  # the graph is walked recursively
    try:
        return _rows_and_report(model, shape, time_dim, device, recording, error, notes, graph)
    finally:
        sys.setrecursionlimit(limit)


def _rows_and_report(model: Any, shape: tuple[int, ...], time_dim: int, device: str, recording: Recording,
                     error: str | None, notes: list[Finding], graph: _Graph) -> InspectReport:  # fmt: skip
    calls = recording.calls
    rows = []
    for call in calls:
        rf, hop, offset, _ = graph.figures(call.index)
        predicted = call.layer.try_out_length(call.in_length)
        in_channels = call.in_shape[-2] if len(call.in_shape) >= 2 else 1
        batch = call.in_shape[0] if len(call.in_shape) == 3 else 1
        macs = call.layer.macs(call.in_length, call.out_length, in_channels, batch)
        rows.append(InspectCall(
            call.index, call.name, call.type, call.op, call.module, call_parameters(call), call.layer,
            call.in_shape, call.out_shape, call.in_length, call.out_length, predicted, rf, hop, offset,
            tuple(sorted(call.sources)), macs,
        ))  # fmt: skip
    final = sorted(i for i in recording.output_sources if i != INPUT)
    rf = hop = offset = look = None
    causal = None
    if final:
        sources = frozenset(recording.output_sources)
        if len(sources) == 1:
            rf, hop, offset, look = graph.figures(next(iter(sources)))
        else:
            rf, hop, offset, look = graph.figures_of(sources)
        causal = None if look is None else look <= 0
    warnings = notes + _warnings(calls, recording)
    params = sum(int(p.numel()) for p in model.parameters())
    return InspectReport(
        type(model).__name__, shape, time_dim, device, tuple(rows), recording.output_length, recording.output_shape,
        error, graph.is_chain(), rf, hop, offset, look, causal, sum(r.macs for r in rows), params, tuple(warnings),
    )  # fmt: skip


_KEYS = {
    "conv": ("kernel_size", "stride", "padding", "dilation", "groups", "out_channels", "bias"),
    "convT": ("kernel_size", "stride", "padding", "output_padding", "dilation", "groups", "out_channels", "bias"),
    "maxpool": ("kernel_size", "stride", "padding", "dilation", "ceil_mode"),
    "avgpool": ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"),
}


def call_parameters(call: Call) -> dict[str, Any]:
    """The call's parameters under PyTorch's names (``pad``/crop: ``pad`` and ``mode``).

    >>> from convtrace.plan.layers import Layer
    >>> call = Call(0, "crop", "crop", "__getitem__", "", Layer("pad", pad_left=0, pad_right=-2), (1, 1, 9),
    ...             (1, 1, 7), frozenset({-1}))
    >>> call_parameters(call)
    {'pad': [0, -2], 'mode': 'constant'}
    """
    layer = call.layer
    if layer.kind == "pad":
        mode = "constant" if layer.padding_mode == "zeros" else layer.padding_mode
        return {"pad": [layer.pad_left, layer.pad_right], "mode": mode}
    found = {key: getattr(layer, key) for key in _KEYS[layer.kind]}
    if len(call.in_shape) >= 2:
        found = {"in_channels": call.in_shape[-2], **found}
    return found


class _Graph:
    """Dependence through the graph of recorded calls (branches joined by their hull)."""

    def __init__(self, calls: list[Call]) -> None:
        self.calls = calls
        self.memo: dict[tuple[int, int, int], tuple[int, int] | None] = {}
        self.hops: dict[int, Fraction | None] = {}
        self.closed_memo: dict[int, tuple[Fraction, Fraction, Fraction] | None] = {}
        self.deadline = time.perf_counter() + GRAPH_SECONDS

    def is_chain(self) -> bool:
        used: dict[int, int] = {}
        for call in self.calls:
            if len(call.sources) != 1:
                return False
            (src,) = call.sources
            used[src] = used.get(src, 0) + 1
        return all(count == 1 for count in used.values())

    def hop(self, index: int) -> Fraction | None:
        if index == INPUT:
            return Fraction(1)
        if index not in self.hops:
            call = self.calls[index]
            hops = {self.hop(src) for src in call.sources}
            base = next(iter(hops)) if len(hops) == 1 else None
            self.hops[index] = None if base is None else base * call.layer.hop
        return self.hops[index]

    def window(self, index: int, a: int, b: int) -> tuple[int, int] | None:
        """Model-input indices that outputs a..b of call ``index`` depend on (hull)."""
        if index == INPUT:
            return (a, b)
        key = (index, a, b)
        if key not in self.memo:
            call = self.calls[index]
            inner = call.layer.window_of_range(a, b)
            found = None if inner is None else self._join(call.sources, *inner)
            self.memo[key] = found
        return self.memo[key]

    def _join(self, sources: frozenset[int], a: int, b: int) -> tuple[int, int] | None:
        parts = [w for w in (self.window(src, a, b) for src in sources) if w is not None]
        if not parts:
            return None
        return (min(p[0] for p in parts), max(p[1] for p in parts))

    def _period(self, index: int) -> int:
        period = 1
        seen = {index}
        todo = [index]
        while todo:
            current = todo.pop()
            if current == INPUT:
                continue
            period *= self.calls[current].layer.up
            for src in self.calls[current].sources:
                if src not in seen:
                    seen.add(src)
                    todo.append(src)
        return min(period, MAX_PERIOD)

    def closed(self, index: int) -> tuple[Fraction, Fraction, Fraction] | None:
        """(receptive field, hop, offset) composed in closed form along a chain without
        transposed layers or joins (calls come in execution order: sources first)."""
        if index == INPUT:
            return (Fraction(1), Fraction(1), Fraction(0))
        if index not in self.closed_memo:
            call = self.calls[index]
            found = None
            if call.layer.kind != "convT" and len(call.sources) == 1:
                base = self.closed_memo.get(next(iter(call.sources))) if INPUT not in call.sources else self.closed(INPUT)
                if base is not None:
                    field, hop, offset = base
                    found = (field + (call.layer.span - 1) * hop, hop * call.layer.down, offset + call.layer.pads[0] * hop)
            self.closed_memo[index] = found
        return self.closed_memo[index]

    def figures(self, index: int) -> tuple[Fraction | None, Fraction | None, Fraction | None, Fraction | None]:
        closed = self.closed(index)
        if closed is not None:
            field, hop, offset = closed
            return field, hop, offset, field - 1 - offset
        return self.figures_of(frozenset({index}))

    def figures_of(self, sources: frozenset[int]) -> tuple[Fraction | None, Fraction | None, Fraction | None, Fraction | None]:
        if time.perf_counter() > self.deadline:  # a huge graph: figures for the calls done so far only
            return None, None, None, None
        hops = {self.hop(s) for s in sources}
        if len(hops) != 1 or None in hops:
            return None, None, None, None
        hop = next(iter(hops))
        assert hop is not None
        period = max(self._period(s) for s in sources)
        seen = []
        for t in range(period):
            w = self._join(sources, t, t)
            if w is not None:
                seen.append((t, w))
        if not seen:
            return None, hop, None, None
        offset = max(t * hop - w[0] for t, w in seen)
        field = max(w[1] - (t * hop - offset) for t, w in seen) + 1
        look = max(w[1] - t * hop for t, w in seen)
        return Fraction(field), hop, Fraction(offset), Fraction(look)


def _warnings(calls: list[Call], recording: Recording) -> list[Finding]:
    found: list[Finding] = []
    for call in calls:
        layer = call.layer
        if call.out_length > 0:
            found += unread_findings(layer, call.name, call.in_length, unread(layer, call.in_length, call.out_length))
        if layer.kind == "convT" and layer.kernel_size % layer.stride:
            found.append(Finding("W103", call.name, {"kernel_size": layer.kernel_size, "stride": layer.stride}))
        if layer.kind == "conv" and layer.padding == "same" and (layer.dilation * (layer.kernel_size - 1)) % 2:
            left, right = layer.pads
            found.append(Finding("W105", call.name, {"kernel_size": layer.kernel_size, "left": left, "right": right}))
        near = layer.reflect_near_limit(call.in_length)
        if near is not None:
            where = call.module or call.name if call.name == "pad" else call.name
            found.append(Finding("W106", where, {"padding": near, "length": call.in_length}))
    found += _mirror_warnings(calls)
    reported: list[str] = []
    for kind, module in recording.global_ops:  # once per outermost module
        if not any(module == done or module.startswith(done + ".") for done in reported):
            reported.append(module)
            found.append(Finding("W107", module, {"kind": kind}))
    for op, module in dict.fromkeys(recording.unplaced):
        found.append(Finding("W202", module, {"op": op}))
    return found


def _mirror_warnings(calls: list[Call]) -> list[Finding]:
    """W104: a strided ConvTranspose1d (with the pads/crops right after it) whose length is
    not the length its mirror Conv1d (with the pads right before it) received."""
    open_convs: list[Call] = []
    found: list[Finding] = []
    for call in calls:
        if call.layer.kind in ("conv", "maxpool", "avgpool") and call.layer.stride > 1:
            open_convs.append(call)
        elif call.layer.kind == "convT" and call.layer.stride > 1 and open_convs:
            mirror = open_convs.pop()
            if mirror.layer.stride != call.layer.stride:
                continue
            want = _length_before_pads(calls, mirror)
            got = _length_after_crops(calls, call)
            if want != got:
                found.append(Finding("W104", call.name, {"mirror": mirror.name, "expected": want, "got": got}))
    return found


def _length_before_pads(calls: list[Call], call: Call) -> int:
    while len(call.sources) == 1:
        (src,) = call.sources
        if src == INPUT or calls[src].layer.kind != "pad":
            break
        call = calls[src]
    return call.in_length


def _length_after_crops(calls: list[Call], call: Call) -> int:
    current = call
    for later in calls[call.index + 1 :]:
        crop = later.layer.kind == "pad" and later.layer.pad_left <= 0 and later.layer.pad_right <= 0
        if crop and later.sources == frozenset({current.index}):
            current = later
    return current.out_length
