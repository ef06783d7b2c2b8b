"""What a pooling figure shows, read once from a pool trace: the geometry from the window
model (:class:`~convtrace.params.PoolSpec`, :mod:`convtrace.shapes`), the numbers from the
trace's steps. The figure builders (:mod:`convtrace.draw.pool_figure`) read only this.

>>> import numpy as np
>>> from convtrace.params import PoolSpec
>>> spec = PoolSpec("avg_pool1d", False, 1, 1, 6, 3, 2, 1, 1, True, True, None, None, False, np.dtype("float64"), 4)
>>> [str(kind) for kind in spec.window(3).kinds]
['real', 'right_pad', 'overhang']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..params import PoolSpec
from ..shapes import TapKind
from ..trace.model import LengthFormula, PoolTrace, Step

__all__ = ["PoolTap", "PoolOutput", "Landing", "PoolPicture", "OP_TITLES", "REDUCTIONS", "picture_of"]

#: the module name of each pool, as PyTorch's ``torch.nn`` spells it (the figures' titles)
OP_TITLES: dict[str, str] = {
    "max_pool1d": "MaxPool1d", "avg_pool1d": "AvgPool1d", "lp_pool1d": "LPPool1d",
    "adaptive_avg_pool1d": "AdaptiveAvgPool1d", "adaptive_max_pool1d": "AdaptiveMaxPool1d",
    "max_unpool1d": "MaxUnpool1d",
}  # fmt: skip

#: the reduction of each windowed pool
REDUCTIONS: dict[str, str] = {
    "max_pool1d": "max", "adaptive_max_pool1d": "max", "avg_pool1d": "mean", "adaptive_avg_pool1d": "mean",
    "lp_pool1d": "pnorm",
}  # fmt: skip


@dataclass(frozen=True)
class PoolTap:
    """One tap of a window: its input position (negative in the left padding), its kind, the
    value it reads (None in the ceil_mode overhang: nothing is there) and whether the
    reduction counts it (the max never picks padding; the mean's divisor)."""

    position: int
    kind: TapKind
    value: Any
    counted: bool


@dataclass(frozen=True)
class PoolOutput:
    """One output of a windowed pool and how it came about."""

    batch: int
    channel: int
    index: int
    taps: tuple[PoolTap, ...]
    value: Any
    winner: int | None = None  # max: the input position that won
    tie: bool = False  # max: another tap holds the same value (the first one wins)
    nan: bool = False  # max: a NaN was read (NaN wins)
    divisor: int | None = None  # mean (and lp_pool1d's scaling): the number divided by
    scaled: Any = None  # lp_pool1d with a partial ceil_mode window: sum · kernel_size/divisor
    total: Any = None  # mean: the sum; lp: the sum of powers


@dataclass(frozen=True)
class Landing:
    """max_unpool1d: input sample ``source`` (value ``value``) written to output ``target``;
    ``earlier`` values were written there before it; ``kept`` whether it is the one that stays."""

    batch: int
    channel: int
    source: int
    value: Any
    target: int
    earlier: tuple[int, ...] = ()
    kept: bool = True


@dataclass(frozen=True)
class PoolPicture:
    """Everything a pooling figure draws."""

    spec: PoolSpec
    input: np.ndarray  # (N, C, L): the values as written by :func:`convtrace.render.numfmt.fmt`
    output: np.ndarray  # (N, C, L_out)
    outputs: tuple[PoolOutput, ...]  # the explained outputs (one frame each); () for max_unpool1d
    landings: tuple[Landing, ...] = ()  # max_unpool1d: one frame each
    indices: np.ndarray | None = None  # max_unpool1d: (N, C, L)
    length: LengthFormula | None = None

    @property
    def op(self) -> str:
        return self.spec.op

    @property
    def title(self) -> str:
        return OP_TITLES[self.spec.op]

    @property
    def reduction(self) -> str:
        """max, mean or pnorm (scatter for max_unpool1d)."""
        return REDUCTIONS.get(self.spec.op, "scatter")

    @property
    def multi(self) -> bool:
        """Several channels or batch items: the names carry their indices."""
        return self.spec.batch > 1 or self.spec.channels > 1

    def params_line(self) -> str:
        """The pool's arguments as PyTorch names them.

        >>> spec = PoolSpec("max_pool1d", False, 1, 1, 5, 2, 2, 0, 1, True, True, None, None, False,
        ...                 np.dtype("float64"), 3)
        >>> PoolPicture(spec, np.zeros((1, 1, 5)), np.zeros((1, 1, 3)), ()).params_line()
        'kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=True'
        """
        s = self.spec
        if s.adaptive:
            return f"output_size={s.out_length}"
        if s.op == "max_unpool1d":
            size = f", output_size=[{s.output_size}]" if s.output_size is not None else ""  # a sequence, as PyTorch takes it
            return f"kernel_size={s.kernel_size}, stride={s.stride}, padding={s.padding}{size}"
        parts = [f"kernel_size={s.kernel_size}", f"stride={s.stride}"]
        if s.op == "lp_pool1d":
            parts.insert(0, f"norm_type={s.norm_type:g}" if s.norm_type is not None else "norm_type=?")
        else:
            parts.append(f"padding={s.padding}")
        if s.op == "max_pool1d":
            parts.append(f"dilation={s.dilation}")
        parts.append(f"ceil_mode={s.ceil_mode}")
        if s.op == "avg_pool1d":
            parts.append(f"count_include_pad={s.count_include_pad}")
        return ", ".join(parts)


def _as_3d(array: np.ndarray, spec: PoolSpec) -> np.ndarray:
    return np.asarray(array).reshape(spec.batch, spec.channels, -1)


def _outputs_array(trace: PoolTrace) -> np.ndarray:
    """The output (N, C, L_out): the exact one, the engine's, or (when only some elements were
    computed) the explained steps' values, None elsewhere."""
    spec = trace.spec
    given = trace.exact_output if trace.exact_output is not None else trace.output
    if given is not None:
        return _as_3d(given, spec)
    out = np.full((spec.batch, spec.channels, spec.out_length), None, dtype=object)
    for step in trace.steps:
        out[step.batch, step.out_channel, step.out_index] = step.value
    return out


def _counted(op: str, kind: TapKind, count_include_pad: bool) -> bool:
    """Whether the reduction counts a tap: the max only real samples, the mean real samples
    (and the padding with count_include_pad), lp_pool1d all but the overhang."""
    if kind is TapKind.OVERHANG:
        return False
    if kind is TapKind.REAL:
        return True
    return REDUCTIONS[op] != "max" and (count_include_pad or op == "lp_pool1d")


def _pool_output(trace: PoolTrace, step: Step) -> PoolOutput:
    spec, detail = trace.spec, step.pool
    assert detail is not None
    pitch = spec.dilation if spec.sliding else 1
    taps = []
    for term in step.terms:
        kind = term.tap or TapKind.REAL
        value = None if kind is TapKind.OVERHANG else term.x
        taps.append(PoolTap(detail.start + term.kernel_index * pitch, kind, value,
                            _counted(spec.op, kind, spec.count_include_pad)))
    winner = taps[detail.winner].position if detail.winner is not None else None
    scaled = detail.scaled if detail.scale is not None and detail.scale != 1 else None
    return PoolOutput(step.batch, step.out_channel, step.out_index, tuple(taps), step.value, winner, bool(detail.ties),
                      detail.nan, detail.divisor, scaled, step.total)


def _landings(trace: PoolTrace) -> tuple[Landing, ...]:
    seen: dict[tuple[int, int, int], list[int]] = {}
    out = []
    for place in trace.placements:
        key = (place.batch, place.channel, place.index)
        earlier = tuple(seen.get(key, ()))
        seen.setdefault(key, []).append(place.input_index)
        out.append(Landing(place.batch, place.channel, place.input_index, place.x, place.index, earlier, place.kept))
    return tuple(out)


def picture_of(trace: PoolTrace) -> PoolPicture:
    """What the figures of ``trace`` show.

    >>> from convtrace import explain
    >>> t = explain(op="avg_pool1d", input=[1, 2, 3, 4, 5, 6], kernel_size=3, stride=2, padding=1, ceil_mode=True,
    ...             verify=False)
    >>> last = picture_of(t).outputs[-1]
    >>> [(tap.position, str(tap.kind), tap.counted) for tap in last.taps], last.divisor
    ([(5, 'real', True), (6, 'right_pad', True), (7, 'overhang', False)], 2)
    """
    spec = trace.spec
    data = trace.exact_data.get("input", trace.input)
    unpool = spec.op == "max_unpool1d"
    outputs = () if unpool else tuple(_pool_output(trace, step) for step in trace.steps if step.pool is not None)
    indices = _as_3d(trace.indices, spec) if unpool and trace.indices is not None else None
    return PoolPicture(spec, _as_3d(data, spec), _outputs_array(trace), outputs,
                       _landings(trace) if unpool else (), indices, trace.length)
