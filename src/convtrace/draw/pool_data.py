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
from ..trace.model import LengthFormula

__all__ = ["PoolTap", "PoolOutput", "Landing", "PoolPicture", "OP_TITLES", "REDUCTIONS"]

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
            size = f", output_size={s.output_size}" if s.output_size is not None else ""
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
