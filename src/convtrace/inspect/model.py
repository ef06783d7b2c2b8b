"""``convtrace.inspect(model, input_shape)``: one forward pass of a real PyTorch model on
the meta device (no weights allocated), every time-axis call recorded, each length
predicted by convtrace's arithmetic and compared, the receptive field, hop and offset so far
for each call, and warnings (codes in :mod:`convtrace.plan.report`).

On the meta device the parameters and buffers are meta tensors, except 0-dimensional
buffers, which keep their values (models compute lengths and paddings from them, and may
call ``.item()``). The meta run falls back to a real run (on the model's own device, zeros as input) when the
meta device cannot run the model, or when a length it produced is one that convtrace's
rules (PyTorch's own checks) reject — a check the meta kernels skip. Model state (training
flags, hooks, function modes) is restored in ``finally``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..errors import ConvtraceError
from ..plan.layers import SLIDING_POOLS, Layer
from ..plan.report import Finding, Shown, to_jsonable
from ..plan.shape import unread, unread_findings
from ..plan.stack import adaptive_finding
from .graph import INPUT, Dependence, dependence_at, dependences, is_chain, join
from .record import Call, Recording, record_forward

__all__ = ["InspectCall", "InspectReport", "ModelRaisedError", "inspect_model", "layout_hint", "MAX_INPUT_ELEMENTS"]

#: the largest input (elements) a real fallback run may allocate
MAX_INPUT_ELEMENTS = 1 << 28
#: the dependence of the model's input on itself
INPUT_DEPENDENCE = Dependence(Fraction(1), 1, 1, ((0, 0),))


@dataclass(frozen=True)
class InspectCall:
    """One recorded call. ``receptive_field``, ``hop`` and ``offset`` are so far, in model
    input steps, through every branch (see :mod:`convtrace.inspect.graph`): output ``t``
    depends on input within ``[t*hop - offset, t*hop - offset + receptive_field - 1]`` —
    exactly where the windows are evenly spaced, a bound where transposed layers make them
    vary with ``t`` (:meth:`InspectReport.dependence` gives each ``t``'s exact range). A
    ``type`` of ``"place"`` is a part written into a longer tensor at an offset
    (``torch.cat`` over time, ``x[..., a:b] = y``), as a pad.
    ``predicted_out_length`` is convtrace's arithmetic on ``in_length`` (None: PyTorch's
    rules reject it). ``length_dependent``: the call is an adaptive pool or comes after one,
    so its figures hold at this input length only (the windows ``[floor(i*L/O),
    ceil((i+1)*L/O))`` move with ``L``)."""

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
    length_dependent: bool = False


@dataclass(frozen=True, repr=False)
class InspectReport(Shown):
    """A model inspected on one input shape. ``print(report)`` gives ``convtrace
    inspect``'s text; ``report.render("zh", width=80, unit="frames")`` the same in Chinese,
    fitted, lengths in frames (see :class:`~convtrace.plan.report.Shown`). With an adaptive
    pool on the way to the output, ``length_dependent`` is True: the figures are those at
    this input length (W109 names the pool and its windows)."""

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
    output_sources: tuple[int, ...] = ()
    hint: str | None = None
    length_dependent: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        doc: dict[str, Any] = to_jsonable(self)
        for call in doc["calls"]:
            call.pop("layer", None)
        return doc

    def __repr__(self) -> str:
        shape = "x".join(map(str, self.input_shape))
        out = f"error {self.error!r}" if self.error is not None else f"output length {self.output_length}"
        return (f"<InspectReport {self.model} on {shape}: {len(self.calls)} calls, {out}, receptive field "
                f"{self.receptive_field}, hop {self.hop}, {len(self.warnings)} warnings>")  # fmt: skip

    def dependence(self, t: int, call: int | None = None) -> tuple[int, int] | None:
        """First and last model-input index that output ``t`` of the model (or of the call
        numbered ``call``) depends on, through every branch; None if on none (or unknown).
        Away from the edges this is the first and last nonzero of PyTorch's gradient."""
        outputs = self.output_sources if call is None else (call,)
        if not any(i != INPUT for i in outputs):
            return None
        return dependence_at(self.calls, outputs, t)


class ModelRaisedError(ConvtraceError):
    """PyTorch raised while the model ran on the given input; ``report`` is the inspection
    of what ran before (its ``error`` set), ``hint`` another layout that runs, if any."""

    def __init__(self, param: str, value: Any, rule: str, *, call: object | None = None, hint: str | None = None,
                 report: InspectReport | None = None) -> None:  # fmt: skip
        super().__init__(param, value, rule, call=call, hint=hint)
        self.report = report


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
                  time_dim: int = -1, dtype: Any = None, raise_on_error: bool = True) -> InspectReport:  # fmt: skip
    """Inspect ``model`` on an input of ``input_shape`` (time on ``time_dim``), or on
    ``example_input`` (its shape; a real fallback run uses its values).

    Where PyTorch raises, :class:`ModelRaisedError` (a :class:`ConvtraceError`) is raised,
    with the report of what ran before the failure as ``.report`` and, where another
    layout runs, a hint; with ``raise_on_error=False`` that report is returned instead, its
    ``error`` set."""
    import torch

    if not isinstance(model, torch.nn.Module):
        raise ConvtraceError("model", type(model).__name__, "the model must be a torch.nn.Module")
    shape = _shape(input_shape, example_input)
    if not -len(shape) <= time_dim < len(shape):
        raise ConvtraceError("time_dim", time_dim, f"time_dim must index a dimension of the {len(shape)}-D input")
    time_dim %= len(shape)
    dtype = dtype or (example_input.dtype if example_input is not None else model_dtype(model))
    notes: list[Finding] = []
    recording, error, device = run_on_meta_or_real(model, shape, time_dim, dtype, example_input, notes)
    report = _report(model, shape, time_dim, device, recording, error, notes)
    if error is not None and raise_on_error:
        report = dataclasses.replace(report, hint=layout_hint(model, shape, time_dim, dtype))
        raise ModelRaisedError("model", report.model, f"PyTorch raised {error}", hint=report.hint, report=report)
    return report


def model_dtype(model: Any) -> Any:
    import torch

    for p in model.parameters():
        if p.is_floating_point():
            return p.dtype
    return torch.float32


def run_on_meta_or_real(model: Any, shape: tuple[int, ...], time_dim: int, dtype: Any, example: Any,
                  notes: list[Finding]) -> tuple[Recording, str | None, str]:  # fmt: skip
    """A run on meta, else a real one: (the recording — up to the failure if PyTorch
    raised —, PyTorch's error, the device)."""
    all_meta = all(t.is_meta for t in _state(model))
    partial = Recording()
    try:
        recording = _run(model, shape, time_dim, dtype, "meta", None, partial)
    except Exception as exc:
        if all_meta:  # nothing real to run: PyTorch's error stands
            return partial, _error_text(exc), "meta"
        return run_real(model, shape, time_dim, dtype, example, notes, _error_text(exc))
    skipped = _skipped_check(recording)
    if skipped is not None and not all_meta:
        return run_real(model, shape, time_dim, dtype, example, notes, skipped)
    return recording, None, "meta"


def _error_text(exc: BaseException) -> str:
    """``Type: first line of the message``."""
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def run_real(model: Any, shape: tuple[int, ...], time_dim: int, dtype: Any, example: Any, notes: list[Finding],
             reason: str) -> tuple[Recording, str | None, str]:  # fmt: skip
    """A real run (on the model's device, zeros or ``example`` as input), recorded, after
    the meta device could not (``reason``, noted as W201)."""
    import math

    if math.prod(shape) > MAX_INPUT_ELEMENTS:
        raise ConvtraceError("input_shape", shape, f"a real run is limited to {MAX_INPUT_ELEMENTS} input elements")
    device = next((str(t.device) for t in _state(model) if not t.is_meta), "cpu")
    partial = Recording()
    try:
        recording = _run(model, shape, time_dim, dtype, device, example, partial)
    except Exception as exc:
        message = _error_text(exc)
        if reason.split(":")[0] != message.split(":")[0] or "meta" in message:
            notes.append(Finding("W201", "", {"reason": reason}))
        return partial, message, device
    notes.append(Finding("W201", "", {"reason": reason}))
    return recording, None, device


def _state(model: Any) -> list[Any]:
    return list(model.parameters()) + list(model.buffers())


def _run(model: Any, shape: tuple[int, ...], time_dim: int, dtype: Any, device: str, example: Any,
         into: Recording | None = None) -> Recording:  # fmt: skip
    """One forward pass in eval mode without gradients, recorded (into ``into``); training
    flags restored after."""
    import torch

    flags = [(m, m.training) for m in model.modules()]
    try:
        model.eval()
        with torch.no_grad():
            if device == "meta":
                x = torch.empty(shape, dtype=dtype, device="meta")
                if all(t.is_meta for t in _state(model)):
                    return _record(model, lambda mark: model(mark(x)), time_dim, into)
                meta_state = {name: torch.empty_like(t, device="meta") for name, t in model.named_parameters()}
                for name, t in model.named_buffers():  # scalar buffers (a stride, a scale) keep their value
                    meta_state[name] = t if t.dim() == 0 else torch.empty_like(t, device="meta")

                def call(mark: Callable[[Any], Any]) -> Any:
                    return torch.func.functional_call(model, meta_state, (mark(x),), strict=False)

                return _record(model, call, time_dim, into)
            x = example.to(device) if example is not None else torch.zeros(shape, dtype=dtype, device=device)
            return _record(model, lambda mark: model(mark(x)), time_dim, into)
    finally:
        for module, flag in flags:
            module.training = flag


def _record(model: Any, call: Callable[[Callable[[Any], Any]], Any], time_dim: int,
            into: Recording | None = None) -> Recording:  # fmt: skip
    """Record ``call(mark)``; ``mark`` tags the model input (time on ``time_dim``)."""
    return record_forward(model, lambda mark: call(lambda tensor: mark(tensor, time_dim)), into)


def layout_hint(model: Any, shape: tuple[int, ...], time_dim: int, dtype: Any) -> str | None:
    """Where PyTorch raised on ``shape``: the first layout with time on another axis (two
    dimensions swapped, the batch kept) on which the model runs and convolves over time,
    as a hint; None if there is none."""
    for dim in range(1 if len(shape) > 2 else 0, len(shape)):
        if dim == time_dim:
            continue
        swapped = list(shape)
        swapped[dim], swapped[time_dim] = swapped[time_dim], swapped[dim]
        try:
            recording, error, _ = run_on_meta_or_real(model, tuple(swapped), dim, dtype, None, [])
        except ConvtraceError:
            continue
        if error is None and recording.calls:
            text = ",".join(map(str, swapped))
            return (f"the time axis may be --time-dim {dim}: its length {shape[time_dim]} on dim {dim}, the model "
                    f"runs on input shape {text} (time_dim={dim})")  # fmt: skip
    return None


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
    deps = dependences(calls)
    after_adaptive = _after_adaptive(calls)
    rows = []
    for call, dep in zip(calls, deps):
        rf, hop, offset, _ = _figures(dep)
        predicted = call.layer.try_out_length(call.in_length)
        in_channels = call.in_shape[-2] if len(call.in_shape) >= 2 else 1
        batch = call.in_shape[0] if len(call.in_shape) == 3 else 1
        macs = call.layer.macs(call.in_length, call.out_length, in_channels, batch)
        rows.append(InspectCall(
            call.index, call.name, call.type, call.op, call.module, call_parameters(call), call.layer,
            call.in_shape, call.out_shape, call.in_length, call.out_length, predicted, rf, hop, offset,
            tuple(sorted(call.sources)), macs, after_adaptive[call.index],
        ))  # fmt: skip
    final = sorted(recording.output_sources)
    rf = hop = offset = look = None
    causal = None
    if any(i != INPUT for i in final):
        rf, hop, offset, look = _figures(join([INPUT_DEPENDENCE if i == INPUT else deps[i] for i in final]))
        causal = None if look is None else look <= 0
    warnings = notes + _warnings(calls, recording)
    params = sum(int(p.numel()) for p in model.parameters())
    return InspectReport(
        type(model).__name__, shape, time_dim, device, tuple(rows), recording.output_length, recording.output_shape,
        error, is_chain(calls), rf, hop, offset, look, causal, sum(r.macs for r in rows), params, tuple(warnings),
        tuple(final), length_dependent=any(after_adaptive[i] for i in final if i != INPUT),
    )  # fmt: skip


def _after_adaptive(calls: list[Call]) -> dict[int, bool]:
    """Per call: it is an adaptive pool or descends from one."""
    found: dict[int, bool] = {}
    for call in calls:
        found[call.index] = call.layer.length_dependent or any(found.get(src, False) for src in call.sources)
    return found


def _figures(dep: Dependence | None) -> tuple[Fraction | None, Fraction | None, Fraction | None, Fraction | None]:
    found = None if dep is None else dep.figures()
    if found is None:
        return None, (None if dep is None else dep.hop), None, None
    return found


_KEYS = {
    "conv": ("kernel_size", "stride", "padding", "dilation", "groups", "out_channels", "bias"),
    "convT": ("kernel_size", "stride", "padding", "output_padding", "dilation", "groups", "out_channels", "bias"),
    "maxpool": ("kernel_size", "stride", "padding", "dilation", "ceil_mode"),
    "avgpool": ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"),
    "lppool": ("norm_type", "kernel_size", "stride", "ceil_mode"),
    "adaptiveavgpool": ("output_size",),
    "adaptivemaxpool": ("output_size",),
    "maxunpool": ("kernel_size", "stride", "padding", "output_size"),
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
        if layer.length_dependent:
            found.append(adaptive_finding(layer, call.name, call.in_length))
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
    """W104: a strided ConvTranspose1d or MaxUnpool1d (with the pads/crops right after it)
    whose length is not the length its mirror Conv1d or pool (with the pads right before
    it) received."""
    open_convs: list[Call] = []
    found: list[Finding] = []
    for call in calls:
        if call.layer.kind in ("conv",) + SLIDING_POOLS and call.layer.stride > 1:
            open_convs.append(call)
        elif call.layer.scatters and call.layer.stride > 1 and open_convs:
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
