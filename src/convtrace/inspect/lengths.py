"""``convtrace.length_map(model, input_shape, lengths)``: the output length for each input
length (or the error PyTorch raises), and the lengths whose output is not what the strides
promise: ``L / hop`` when that is whole, else ``floor`` or ``ceil`` of it (W108).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..errors import ConvtraceError
from ..plan.report import Finding, to_jsonable

__all__ = ["LengthEntry", "LengthMap", "length_map", "MAX_LENGTHS"]

#: the most input lengths one map may try
MAX_LENGTHS = 10_000


@dataclass(frozen=True)
class LengthEntry:
    """One input length: the output length, or PyTorch's error; ``promised`` is ``L / hop``."""

    length: int
    output_length: int | None
    error: str | None
    promised: Fraction | None
    as_promised: bool | None


@dataclass(frozen=True)
class LengthMap:
    """Output length per input length; ``hop`` from the recorded strides; ``off_promise``
    lists the lengths not as promised."""

    model: str
    input_shape: tuple[int, ...]
    time_dim: int
    hop: Fraction | None
    entries: tuple[LengthEntry, ...]
    off_promise: tuple[int, ...]
    errors: tuple[int, ...]
    warnings: tuple[Finding, ...]

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = to_jsonable(self)
        return doc


def length_map(model: Any, input_shape: Sequence[int], lengths: Iterable[int], *, time_dim: int = -1) -> LengthMap:
    """Run ``model`` (meta device, falling back to real runs) at each length in ``lengths``
    (the time dimension of ``input_shape`` replaced)."""
    from .model import inspect_model

    shape = [int(v) for v in input_shape]
    if not -len(shape) <= time_dim < len(shape):
        raise ConvtraceError("time_dim", time_dim, "time_dim must index a dimension of input_shape")
    td = time_dim % len(shape)
    todo = [int(n) for n in lengths]
    if len(todo) > MAX_LENGTHS:
        raise ConvtraceError("lengths", len(todo), f"at most {MAX_LENGTHS} lengths per map")
    hop: Fraction | None = None
    results: list[tuple[int, int | None, str | None]] = []
    for n in todo:
        if n < 0:
            raise ConvtraceError("lengths", n, "lengths must be >= 0")
        shape[td] = n
        report = inspect_model(model, tuple(shape), time_dim=td, raise_on_error=False)
        if hop is None and report.hop is not None:
            hop = report.hop
        results.append((n, report.output_length if report.error is None else None, report.error))
    entries = tuple(_entry(n, out, err, hop) for n, out, err in results)
    off = tuple(e.length for e in entries if e.as_promised is False)
    errors = tuple(e.length for e in entries if e.error is not None)
    warnings: tuple[Finding, ...] = ()
    if off:
        first = next(e for e in entries if e.as_promised is False)
        warnings = (Finding("W108", "", {"count": len(off), "example": first.length, "got": first.output_length,
                                         "expected": _promise_text(first.promised)}),)  # fmt: skip
    return LengthMap(type(model).__name__, tuple(int(v) for v in input_shape), td, hop, entries, off, errors, warnings)


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
