"""``convtrace.length_map(model, input_shape, lengths)``: the output length for each input
length (or the error PyTorch raises), and the lengths whose output is not what the strides
promise: ``L / hop`` when that is whole, else ``floor`` or ``ceil`` of it (W108).

The model is recorded once (on ``input_shape``); every length is then computed by
convtrace's arithmetic through the recorded graph of calls — each call's
:meth:`~convtrace.plan.layers.Layer.out_length`, branches required to meet with equal
lengths — and a sample of the lengths (the first, the last, both sides of every change
between an output and an error, the first length off the promise, a few between) is
confirmed by real runs. Where a run disagrees (the model computes its padding from the
length, as EnCodec does; or crops to a fixed length), or where the recording cannot be
replayed (a length changed by an op convtrace does not record, a concatenation over time),
every length is run instead; ``method`` says which, ``confirmed`` which lengths ran.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise
from typing import Any

from ..errors import ConvtraceError
from ..plan.report import Finding, Shown, to_jsonable
from .graph import INPUT

__all__ = ["LengthEntry", "LengthMap", "length_map", "predict_lengths", "MAX_LENGTHS", "CONFIRM"]

#: the most input lengths one map may try
MAX_LENGTHS = 10_000
#: how many lengths a map computed by arithmetic confirms by real runs
CONFIRM = 6


@dataclass(frozen=True)
class LengthEntry:
    """One input length: the output length, or the error; ``promised`` is ``L / hop``."""

    length: int
    output_length: int | None
    error: str | None
    promised: Fraction | None
    as_promised: bool | None


@dataclass(frozen=True, repr=False)
class LengthMap(Shown):
    """Output length per input length; ``hop`` from the recorded strides; ``off_promise``
    lists the lengths not as promised. ``method``: ``"arithmetic"`` (through the recorded
    graph; ``confirmed`` lists the lengths real runs agreed on) or ``"runs"`` (every
    length run; ``reason`` says why)."""

    model: str
    input_shape: tuple[int, ...]
    time_dim: int
    hop: Fraction | None
    entries: tuple[LengthEntry, ...]
    off_promise: tuple[int, ...]
    errors: tuple[int, ...]
    warnings: tuple[Finding, ...]
    method: str = "runs"
    confirmed: tuple[int, ...] = ()
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = to_jsonable(self)
        return doc

    def __repr__(self) -> str:
        return (f"<LengthMap {self.model}: {len(self.entries)} lengths by {self.method}, hop {self.hop}, "
                f"{len(self.off_promise)} not as promised, {len(self.errors)} errors>")  # fmt: skip


def length_map(model: Any, input_shape: Sequence[int], lengths: Iterable[int], *, time_dim: int = -1,
               confirm: int = CONFIRM) -> LengthMap:  # fmt: skip
    """The output length of ``model`` at each length in ``lengths`` (the time dimension of
    ``input_shape`` replaced): recorded once on ``input_shape``, computed by arithmetic,
    ``confirm`` lengths confirmed by real runs (every length run where the arithmetic does
    not describe the model)."""
    from .model import inspect_model

    shape = [int(v) for v in input_shape]
    if not -len(shape) <= time_dim < len(shape):
        raise ConvtraceError("time_dim", time_dim, "time_dim must index a dimension of input_shape")
    td = time_dim % len(shape)
    todo = [int(n) for n in lengths]
    if len(todo) > MAX_LENGTHS:
        raise ConvtraceError("lengths", len(todo), f"at most {MAX_LENGTHS} lengths per map")
    for n in todo:
        if n < 0:
            raise ConvtraceError("lengths", n, "lengths must be >= 0")
    base = inspect_model(model, tuple(shape), time_dim=td, raise_on_error=False)
    hop = base.hop
    predicted = {n: predict_lengths(base, n) for n in todo}
    results: dict[int, tuple[int | None, str | None]] = {}
    confirmed: list[int] = []
    reason: str | None = "the recording cannot be replayed at other lengths"
    method = "runs"
    if todo and all(p is not None for p in predicted.values()):
        method, reason = "arithmetic", None
        layers = [call.layer for call in base.calls]
        for n in _sample(todo, predicted, hop, confirm):
            real, recording = _run(model, shape, td, n, base.device)
            confirmed.append(n)
            want = predicted[n]
            assert want is not None
            changed = _changed_layer(layers, recording.calls) if real[1] is None else None
            if real[0] != want[0] or (real[1] is None) != (want[1] is None) or changed is not None:
                method = "runs"
                reason = changed or f"at {n} the arithmetic gives {_outcome(want)}, PyTorch {_outcome(real)}"
                reason = reason.replace("{n}", str(n))
                break
    if method == "runs":
        for n in todo:
            if n not in results:
                results[n] = _run(model, shape, td, n, base.device)[0]
        confirmed = list(todo)
    else:
        for n in todo:
            if n not in results:
                found = predicted[n]
                assert found is not None
                results[n] = found
    entries = tuple(_entry(n, *results[n], hop) for n in todo)
    off = tuple(e.length for e in entries if e.as_promised is False)
    errors = tuple(e.length for e in entries if e.error is not None)
    warnings: tuple[Finding, ...] = ()
    if off:
        first = next(e for e in entries if e.as_promised is False)
        warnings = (Finding("W108", "", {"count": len(off), "example": first.length, "got": first.output_length,
                                         "expected": _promise_text(first.promised)}),)  # fmt: skip
    return LengthMap(type(model).__name__, tuple(int(v) for v in input_shape), td, hop, entries, off, errors, warnings,
                     method, tuple(sorted(confirmed)), reason)  # fmt: skip


def predict_lengths(report: Any, length: int) -> tuple[int | None, str | None] | None:
    """(output length, error) of the recorded model at input ``length``, by convtrace's
    arithmetic through the recorded calls; None where the recording cannot tell (PyTorch
    raised on it, an op convtrace does not record changed a length, a part was placed at
    an offset that depends on other lengths)."""
    if report.error is not None or report.output_length is None or not report.output_sources:
        return None
    base_lengths = {INPUT: report.input_shape[report.time_dim]}
    for call in report.calls:
        base_lengths[call.index] = call.out_length
    if any(call.type == "place" for call in report.calls):
        return None
    for call in report.calls:  # replayable: every call reads what its sources made, length for length
        if any(base_lengths[src] != call.in_length for src in call.sources):
            return None
    if any(base_lengths[src] != report.output_length for src in report.output_sources):
        return None
    now: dict[int, int] = {INPUT: length}
    for call in report.calls:
        found = _joined(call.name, [now[src] for src in call.sources])
        if isinstance(found, str):
            return None, found
        try:
            now[call.index] = call.layer.out_length(found)
        except ConvtraceError as exc:
            return None, f"at {call.name}: {exc.rule}"
    final = _joined("the output", [now[src] for src in report.output_sources])
    return (None, final) if isinstance(final, str) else (final, None)


def _joined(name: str, lengths: list[int]) -> int | str:
    """The one length branches meet with, or the error of their meeting."""
    if len(set(lengths)) == 1:
        return lengths[0]
    return f"at {name}: branches of lengths {', '.join(map(str, sorted(set(lengths))))} do not match"


def _sample(todo: list[int], predicted: dict[int, Any], hop: Fraction | None, count: int) -> list[int]:
    """The lengths to confirm: the first and last, both sides of each change between an
    output and an error, the first length off the promise, then spread ones — each moved
    on by its rank, so that they differ modulo small numbers (a model that pads to a
    multiple of its stride shows at an odd length, not at 1000, 1020, 1040, ...).

    >>> _sample(list(range(1000, 1101)), {n: (n // 2, None) for n in range(1000, 1101)}, None, 6)
    [1000, 1100, 1021, 1042, 1063, 1084]
    """
    picked = [todo[0], todo[-1]]
    for a, b in pairwise(todo):
        if (predicted[a][1] is None) != (predicted[b][1] is None):
            picked += [a, b]
    off = [n for n in todo if _entry(n, predicted[n][0], predicted[n][1], hop).as_promised is False]
    picked += off[:1]
    spread = [min(len(todo) - 1, i * (len(todo) - 1) // max(1, count - 1) + i) for i in range(1, count)]
    picked += [todo[i] for i in spread]
    return list(dict.fromkeys(picked))[: max(count, 2)]


def _changed_layer(layers: list[Any], calls: list[Any]) -> str | None:
    """Where a run at another length recorded other layers than the first recording (a
    padding or crop computed from the length): the reason the arithmetic cannot replay it."""
    if len(calls) != len(layers):
        return f"at {{n}} the model made {len(calls)} time-axis calls, not {len(layers)}"
    for layer, call in zip(layers, calls):
        if call.layer != layer:
            return f"at {{n}} {call.name} is {call.layer.describe()}, not {layer.describe()}: set from the length"
    return None


def _run(model: Any, shape: list[int], time_dim: int, n: int, device: str) -> tuple[tuple[int | None, str | None], Any]:
    """A recorded run at length ``n`` (straight on real tensors where the recording needed
    them): ((output length, PyTorch's error), the recording)."""
    from .model import model_dtype, run_on_meta_or_real, run_real

    at = list(shape)
    at[time_dim] = n
    if device == "meta":
        recording, error, _ = run_on_meta_or_real(model, tuple(at), time_dim, model_dtype(model), None, [])
    else:
        recording, error, _ = run_real(model, tuple(at), time_dim, model_dtype(model), None, [], "")
    return ((recording.output_length if error is None else None), error), recording


def _outcome(found: tuple[int | None, str | None]) -> str:
    return f"{found[0]} samples" if found[1] is None else f"an error ({found[1]})"


def _entry(n: int, out: int | None, err: str | None, hop: Fraction | None) -> LengthEntry:
    if hop is None or out is None:
        return LengthEntry(n, out, err, None, None)
    promised = Fraction(n) / hop
    if promised.denominator == 1:
        ok = out == promised
    else:
        ok = out in (promised.numerator // promised.denominator, -(-promised.numerator // promised.denominator))
    return LengthEntry(n, out, err, promised, ok)


def _promise_text(value: Fraction | None) -> str:
    if value is None:
        return "-"
    return str(value.numerator) if value.denominator == 1 else f"{float(value):.2f} (floor or ceil)"
