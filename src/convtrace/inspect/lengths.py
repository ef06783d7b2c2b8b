"""``convtrace.length_map(model, input_shape, lengths)``: the output length for each input
length (or the error PyTorch raises), and the lengths whose output is not what the strides
promise: ``L / hop`` when that is whole, else ``floor`` or ``ceil`` of it (W108).

The model is recorded once (at the middle of the lengths asked for, or on ``input_shape``);
every length is then computed by convtrace's arithmetic through the recorded graph of calls
— each call's :meth:`~convtrace.plan.layers.Layer.out_length`, branches required to meet
with equal lengths — and a sample of the lengths (the first, the last, both sides of every
change between an output and an error, the first length off the promise, a few between) is
confirmed by real runs, which must also record the same calls. A pad set from the length so
that the next strided layer's last window is complete (EnCodec's ``extra_padding``) is learnt
from the runs that differ in it (:class:`PadRule`) and replayed as such. Where a run still
disagrees (the model crops to a fixed length, or takes other branches at other lengths), or
where the recording cannot be replayed (a length changed by an op convtrace does not record,
a concatenation over time), every length is run instead; ``method`` says which,
``confirmed`` which lengths ran.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise
from typing import Any

from ..errors import ConvtraceError
from ..plan.layers import SLIDING_POOLS
from ..plan.report import Finding, Shown, to_jsonable
from .graph import INPUT

__all__ = ["LengthEntry", "LengthMap", "PadRule", "length_map", "predict_lengths", "MAX_LENGTHS", "CONFIRM"]

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
    lists the lengths not as promised (none after an adaptive pool: ``length_dependent``,
    ``hop`` None, as its hop is ``L/O``). ``method``: ``"arithmetic"`` (through the recorded
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
    length_dependent: bool = False

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = to_jsonable(self)
        return doc

    def __repr__(self) -> str:
        return (f"<LengthMap {self.model}: {len(self.entries)} lengths by {self.method}, hop {self.hop}, "
                f"{len(self.off_promise)} not as promised, {len(self.errors)} errors>")  # fmt: skip


def length_map(model: Any, input_shape: Sequence[int], lengths: Iterable[int], *, time_dim: int = -1,
               confirm: int = CONFIRM, dtype: Any = None) -> LengthMap:  # fmt: skip
    """The output length of ``model`` at each length in ``lengths`` (the time dimension of
    ``input_shape`` replaced): recorded once on ``input_shape``, computed by arithmetic,
    ``confirm`` lengths confirmed by real runs (every length run where the arithmetic does
    not describe the model). ``dtype``: the input's (default: the model's; token ids:
    ``torch.long``)."""
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
    middle = list(shape)  # recorded where the map looks (models take other branches on short inputs)
    middle[td] = sorted(todo)[len(todo) // 2] if todo else shape[td]
    base = inspect_model(model, tuple(middle), time_dim=td, dtype=dtype, raise_on_error=False)
    if base.error is not None and middle != shape:
        base = inspect_model(model, tuple(shape), time_dim=td, dtype=dtype, raise_on_error=False)
    hop = None if base.length_dependent else base.hop  # an adaptive pool promises no L/hop
    rules: dict[int, PadRule] = {}
    predicted = {n: predict_lengths(base, n) for n in todo}
    results: dict[int, tuple[int | None, str | None]] = {}
    confirmed: list[int] = []
    reason: str | None = "the recording cannot be replayed at other lengths"
    method = "runs"
    if todo and all(p is not None for p in predicted.values()):
        method, reason = "arithmetic", None
        seen: list[tuple[int, tuple[int | None, str | None], Any]] = []
        for n in _sample(todo, predicted, hop, confirm):
            real, recording = _run(model, shape, td, n, base.device, dtype)
            confirmed.append(n)
            seen.append((n, real, recording))
            reason = _disagreement(base, rules, n, real, recording)
            if reason is not None and _learn(base, rules, [(m, rec) for m, r, rec in seen if r[1] is None]):
                predicted = {m: predict_lengths(base, m, rules) for m in todo}  # pads set from the length
                reason = next((found for found in (_disagreement(base, rules, m, r, rec) for m, r, rec in seen)
                               if found is not None), None)  # fmt: skip
            if reason is not None:
                method = "runs"
                break
    if method == "runs":
        for n in todo:
            if n not in results:
                results[n] = _run(model, shape, td, n, base.device, dtype)[0]
        confirmed = list(todo)
    else:
        for n in todo:
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
                     method, tuple(sorted(confirmed)), reason, base.length_dependent)  # fmt: skip


@dataclass(frozen=True)
class PadRule:
    """A pad whose right amount is set from its input length ``n`` so that the next
    layer's last window is complete (EnCodec's ``extra_padding``): ``right(n) = fixed +
    (-(n + left + fixed + rest)) mod stride``, where ``rest`` is that layer's own padding
    minus its dilated kernel.

    >>> rule = PadRule(fixed=2, left=2, stride=4, rest=-8)   # F.pad(2, 2 + extra), conv k=8 s=4
    >>> [rule.right(n) for n in (100, 101, 102, 103)]
    [2, 5, 4, 3]
    """

    fixed: int
    left: int
    stride: int
    rest: int

    def right(self, n: int) -> int:
        return self.fixed + (-(n + self.left + self.fixed + self.rest)) % self.stride


def predict_lengths(report: Any, length: int, rules: dict[int, PadRule] | None = None,
                    layers: list[Any] | None = None) -> tuple[int | None, str | None] | None:  # fmt: skip
    """(output length, error) of the recorded model at input ``length``, by convtrace's
    arithmetic through the recorded calls (the pads in ``rules`` set from their input
    length; each call's layer appended to ``layers``); None where the recording cannot tell
    (PyTorch raised on it, an op convtrace does not record changed a length, a part was
    placed at an offset that depends on other lengths)."""
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
    seen: dict[int, int] = {}  # each call's input length at ``length``
    sizes = unpool_sizes(report)
    for call in report.calls:
        found = _joined(call.name, [now[src] for src in call.sources])
        if isinstance(found, str):
            return None, found
        seen[call.index] = found
        layer = call.layer
        rule = (rules or {}).get(call.index)
        try:
            if rule is not None:
                layer = dataclasses.replace(layer, pad_right=rule.right(found))
            if call.index in sizes:  # MaxUnpool1d(output_size=x.size()): its pool's input length
                source = sizes[call.index]
                layer = dataclasses.replace(layer, output_size=length if source == INPUT else seen[source])
            if layers is not None:
                layers.append(layer)
            now[call.index] = layer.out_length(found)
        except ConvtraceError as exc:
            return None, f"at {call.name}: {exc.rule}"
    final = _joined("the output", [now[src] for src in report.output_sources])
    return (None, final) if isinstance(final, str) else (final, None)


def unpool_sizes(report: Any) -> dict[int, int]:
    """MaxUnpool1d calls given an ``output_size``, each mapped to the call whose input length
    that size is (the last sliding pool before it that received that length; :data:`INPUT`
    for the model's input): ``unpool(y, i, output_size=x.size())`` restores the pool's input
    at every length. The confirmations check this reading.

    >>> from types import SimpleNamespace as N
    >>> from convtrace.plan.layers import Layer
    >>> pool = N(index=0, layer=Layer("maxpool", kernel_size=2), in_length=11)
    >>> unpool = N(index=1, layer=Layer("maxunpool", kernel_size=2, output_size=11), in_length=5)
    >>> unpool_sizes(N(calls=[pool, unpool], input_shape=(1, 1, 11), time_dim=2))
    {1: 0}
    """
    found: dict[int, int] = {}
    for call in report.calls:
        size = call.layer.output_size if call.layer.kind == "maxunpool" else None
        if size is None:
            continue
        pools = [c.index for c in report.calls[: call.index] if c.layer.kind in SLIDING_POOLS and c.in_length == size]
        if pools:
            found[call.index] = pools[-1]
        elif report.input_shape[report.time_dim] == size:
            found[call.index] = INPUT
    return found


def _disagreement(report: Any, rules: dict[int, PadRule], n: int, real: tuple[int | None, str | None],
                  recording: Any) -> str | None:  # fmt: skip
    """Why a run at ``n`` is not what the arithmetic says (its length or error, or the
    layers it recorded: a pad or crop set from the length), or None."""
    layers: list[Any] = []
    want = predict_lengths(report, n, rules, layers)
    if want is None:
        return f"at {n} the recording cannot be replayed"
    if real[0] != want[0] or (real[1] is None) != (want[1] is None):
        return f"at {n} the arithmetic gives {_outcome(want)}, PyTorch {_outcome(real)}"
    if real[1] is not None:
        return None
    calls = recording.calls
    if len(calls) != len(report.calls):
        return f"at {n} the model made {len(calls)} time-axis calls, not {len(report.calls)}"
    for layer, call in zip(layers, calls):
        if call.layer != layer:
            return f"at {n} {call.name} is {call.layer.describe()}, not {layer.describe()}: set from the length"
    return None


def _learn(report: Any, rules: dict[int, PadRule], runs: list[tuple[int, Any]]) -> bool:
    """Fit a :class:`PadRule` to every pad whose right amount differs between the first
    recording and the ``runs`` (their recordings, of the same calls but for those amounts);
    False where some pad cannot be described so (then every length must run)."""
    calls = report.calls
    for _, recording in runs:
        if len(recording.calls) != len(calls):
            return False
        for call, seen in zip(calls, recording.calls):
            if call.layer != seen.layer and (call.layer.kind != "pad" or
                                             dataclasses.replace(seen.layer, pad_right=call.layer.pad_right) != call.layer):
                return False  # fmt: skip
    for call in calls:
        observed = [(call.in_length, call.layer.pad_right)] + [
            (rec.calls[call.index].in_length, rec.calls[call.index].layer.pad_right) for _, rec in runs]
        if len({right for _, right in observed}) == 1 and call.index not in rules:
            continue
        rule = _fit(report, call, observed)
        if rule is None:
            return False
        rules[call.index] = rule
    return True


def _fit(report: Any, pad: Any, observed: list[tuple[int, int]]) -> PadRule | None:
    """The :class:`PadRule` of ``pad`` (whose right amount was ``observed`` at its input
    lengths), given the strided layer it alone feeds; where several fit, the one whose
    fixed padding totals the kernel minus the stride (EnCodec's) — the confirmations check."""
    users = [c for c in report.calls if pad.index in c.sources]
    if len(users) != 1 or users[0].sources != (pad.index,) or pad.index in report.output_sources:
        return None
    layer = users[0].layer
    if layer.kind not in ("conv",) + SLIDING_POOLS or layer.stride < 2:
        return None
    rest = layer.pads[0] + layer.pads[1] - layer.span
    left, stride = pad.layer.pad_left, layer.stride
    first = pad.layer.pad_right
    fitting = [PadRule(fixed, left, stride, rest) for fixed in range(first - stride + 1, first + 1)]
    fitting = [rule for rule in fitting if all(rule.right(n) == right for n, right in observed)]
    if not fitting:
        return None
    return next((rule for rule in fitting if left + rule.fixed + layer.pads[0] + layer.pads[1] == layer.span - stride),
                fitting[-1])  # fmt: skip


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


def _run(model: Any, shape: list[int], time_dim: int, n: int, device: str,
         dtype: Any = None) -> tuple[tuple[int | None, str | None], Any]:  # fmt: skip
    """A recorded run at length ``n`` (straight on real tensors where the recording needed
    them): ((output length, PyTorch's error), the recording)."""
    from .model import model_dtype, run_on_meta_or_real, run_real

    at = list(shape)
    at[time_dim] = n
    if device == "meta":
        recording, error, _ = run_on_meta_or_real(model, tuple(at), time_dim, dtype or model_dtype(model), None, [])
    else:
        recording, error, _ = run_real(model, tuple(at), time_dim, dtype or model_dtype(model), None, [], "")
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
