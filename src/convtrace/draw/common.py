"""What the conv and transposed figures share: the data lookups (values, names, the
length formula) and the header (title, parameters, formula).

>>> from convtrace import explain
>>> t = explain([1, 2, 3, 4], [1, 1, 1], padding=1, verify=False)
>>> ctx = Context.of(t, "en")
>>> ctx.x_text(0, 0, 2), ctx.params_line()
('3', 'in_channels=1, out_channels=1, kernel_size=3, stride=1, padding=1, dilation=1, groups=1, padding_mode=zeros')
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

import numpy as np

from ..trace.model import LengthFormula, Step, Trace
from .labels import Names, fmt, label
from .layout import INK, LEGEND_ROLES, MARGIN, MUTED, cell_width, extent, legend, legend_roles, text_width
from .model import Figure, Shape, Text

__all__ = ["Context", "Words", "header", "header_of", "finish"]


def _pick(exact: np.ndarray | None, plain: np.ndarray | None) -> np.ndarray | None:
    return exact if exact is not None else plain


@dataclass(frozen=True)
class Context:
    """One trace, one language: lookups the figure builders need."""

    trace: Trace
    lang: str
    names: Names

    @classmethod
    def of(cls, trace: Trace, lang: str) -> Context:
        return cls(trace, lang, Names.for_spec(trace.spec))

    @cached_property
    def cell_width(self) -> float:
        """One cell width for every frame: wide enough for the numbers the steps show."""
        texts: list[str] = []
        for s in self.trace.steps[:64]:
            texts += [fmt(s.value), fmt(s.total)] + [fmt(v) for t in s.terms for v in (t.x, t.w, t.product)]
        if self.trace.views is not None:
            for p in self.trace.views.scatter.placements[:64]:
                texts += [fmt(p.x)] + [fmt(tap.product) for tap in p.taps]
        out = _pick(self.trace.exact_output, self.trace.output)
        if out is not None:
            texts += [fmt(v) for v in np.asarray(out).reshape(-1)[:256]]
        return cell_width(texts)

    def t(self, key: str, **values: Any) -> str:
        return label(self.lang, key, **values)

    @property
    def op(self) -> str:
        return "ConvTranspose1d" if self.trace.spec.transposed else "Conv1d"

    def _value(self, name: str, n: int, c: int, i: int) -> Any:
        tr = self.trace
        arr = _pick(tr.exact_data.get(name), getattr(tr, name))
        if arr is None:
            return None
        if arr.ndim == 1:
            return arr[i]
        return arr[c, i] if arr.ndim == 2 else arr[n, c, i]

    def x_text(self, n: int, c: int, i: int) -> str:
        """Input sample ``x[n, c, i]`` as written."""
        return fmt(self._value("input", n, c, i))

    def y_value(self, n: int, o: int, t: int) -> Any:
        """The output ``y[n, o, t]`` (exact when the trace is), or None if not computed."""
        tr = self.trace
        arr = _pick(tr.exact_output, tr.output)
        if arr is None:
            step = self.step_of(n, o, t)
            return None if step is None else step.value
        return arr[o, t] if arr.ndim == 2 else arr[n, o, t]

    def step_of(self, n: int, o: int, t: int) -> Step | None:
        for s in self.trace.steps:
            if (s.batch, s.out_channel, s.out_index) == (n, o, t):
                return s
        return None

    def weight_text(self, a: int, b: int, k: int) -> str:
        tr = self.trace
        arr = _pick(tr.exact_data.get("weight"), tr.weight)
        return "" if arr is None else fmt(arr[a, b, k])

    def params_line(self) -> str:
        s = self.trace.spec
        parts = [f"in_channels={s.in_channels}", f"out_channels={s.out_channels}",
                 f"kernel_size={s.kernel_size}", f"stride={s.stride}", f"padding={s.padding}"]
        if s.transposed:
            parts.append(f"output_padding={s.output_padding}")
        parts += [f"dilation={s.dilation}", f"groups={s.groups}"]
        if s.has_bias:
            parts.append("bias=True")
        if not s.transposed:
            parts.append(f"padding_mode={self.trace.padding_mode.value}")
        return ", ".join(parts)


def header(ctx: Context, title: str) -> tuple[list[Shape], float, float]:
    """Title, parameters and the length formula: (shapes, bottom y, width needed)."""
    return header_of(ctx, title, ctx.params_line(), ctx.trace.length)


class Words(Protocol):
    """What the shared pieces need of a figure's context: its words in its language."""

    def t(self, key: str, **values: Any) -> str: ...


def header_of(ctx: Words, title: str, params: str, length: LengthFormula | None) -> tuple[list[Shape], float, float]:
    """Title, ``params`` and ``length`` (the length formula with its numbers, if any):
    (shapes, bottom y, width needed)."""
    x = MARGIN
    items: list[Shape] = [
        Text(x, MARGIN + 20, title, size=21, fill=INK, anchor="start", weight="bold", role="title"),
        Text(x, MARGIN + 44, params, size=13, fill=MUTED, anchor="start", role="params"),
    ]
    width = max(text_width(title, 21), text_width(params, 13))
    if length is None:
        return items, MARGIN + 64, MARGIN + width + MARGIN
    formula = ctx.t("length", formula=length.formula)
    values = ctx.t("length_values", substituted=length.substituted, result=length.result)
    items += [
        Text(x, MARGIN + 68, formula, size=13, fill=INK, anchor="start", mono=True, role="formula"),
        Text(x + 52, MARGIN + 86, values, size=13, fill=INK, anchor="start", mono=True, role="formula-values"),
    ]
    width = max(width, text_width(formula, 13) * 1.05, 52 + text_width(values, 13) * 1.05)
    return items, MARGIN + 108, MARGIN + width + MARGIN


def finish(ctx: Words, items: list[Shape], y: float, width: float, title: str,
           always: tuple[str, ...] = ()) -> Figure:
    """The figure: ``items``, then a legend naming every cell style drawn (and the styles in
    ``always``, which the other frames of an animation draw), on a canvas that holds
    every shape."""
    roles = set(legend_roles(items)) | set(always)
    entries = [(role, ctx.t(f"legend_{role}")) for role in LEGEND_ROLES if role in roles]
    right, bottom = extent(items)
    width = max(width, right + MARGIN)
    group, _ = legend(entries, MARGIN, max(y, bottom) + 24, width - 2 * MARGIN)
    items.append(group)
    right, bottom = extent(items)
    return Figure(width=round(max(width, right + MARGIN)), height=round(bottom + MARGIN / 2 + 4),
                  items=tuple(items), title=title)
