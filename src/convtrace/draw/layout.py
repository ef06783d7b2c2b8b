"""Shared pieces of the figures: palette, sizes, a compressible position axis, cells,
legend and text measurement.

>>> axis = Axis.build(range(0, 40), focus=(20, 22), budget=12)
>>> axis.columns[:3], None in axis.columns
((0, 1, None), True)
>>> axis.x(0) == axis.left, axis.x(25) is None
(True, True)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .model import Group, Rect, Shape, Text

__all__ = [
    "PALETTE", "PITCH", "CELL", "CELL_H", "MARGIN", "LABEL_W", "Axis", "cell", "text_width",
    "legend", "MAX_CHANNELS", "MAX_COLUMNS", "MAX_ROWS", "cell_width",
]  # fmt: skip

#: colours by role: (fill, stroke)
PALETTE: dict[str, tuple[str, str]] = {
    "input": ("#e3eefc", "#3b6fb6"),
    "zero": ("#f1f3f5", "#9aa5b1"),
    "reflect": ("#fff1db", "#d9822b"),
    "replicate": ("#fff1db", "#d9822b"),
    "circular": ("#fff1db", "#d9822b"),
    "kernel": ("#fde2ea", "#c2255c"),
    "product": ("#fff9db", "#d9a400"),
    "output": ("#e6f6ea", "#2f9e44"),
    "current": ("#b2f2bb", "#2b8a3e"),
    "empty": ("#ffffff", "#ced4da"),
    "cropped": ("#f8f9fa", "#adb5bd"),
    "output_padding": ("#f3f0ff", "#7048e8"),
    "window": ("none", "#c2255c"),
    "gap": ("#ffffff", "#e9a5bd"),
}
INK = "#1f2933"
MUTED = "#6b7785"
ACCENT = "#c2255c"

CELL = 44.0  # cell width
CELL_H = 34.0  # cell height
PITCH = 48.0  # distance between neighbouring cells
MARGIN = 24.0
LABEL_W = 150.0  # the row-label column
ROW_GAP = 12.0
#: most channels drawn in full; more are summarised
MAX_CHANNELS = 8
#: most positions drawn along one row; longer rows are shown around the current step
MAX_COLUMNS = 26
#: most stacked rows (windows, stamps) drawn
MAX_ROWS = 8


def text_width(text: str, size: float) -> float:
    """Estimated width of ``text`` in pixels (wide CJK glyphs count double).

    >>> text_width("ab", 10), text_width("输出", 10)
    (12.0, 20.0)
    """
    return float(sum(size if ord(ch) >= 0x2E80 else 0.6 * size for ch in text))


@dataclass(frozen=True)
class Axis:
    """Columns along a row: each a position, or None for an ellipsis (positions left out)."""

    columns: tuple[int | None, ...]
    left: float = MARGIN + LABEL_W
    cell: float = CELL  # width of a cell (wider for long numbers)

    @property
    def pitch(self) -> float:
        """Distance between neighbouring cells."""
        return self.cell + PITCH - CELL

    @classmethod
    def build(cls, positions: Iterable[int], focus: tuple[int, int] | None = None,
              budget: int = MAX_COLUMNS, left: float = MARGIN + LABEL_W, cell: float = CELL) -> Axis:
        """All ``positions`` (consecutive), or when more than ``budget``: the two at each end
        and a run around ``focus`` (first, last), with ellipses between."""
        pos = list(positions)
        if len(pos) <= budget:
            return cls(tuple(pos), left, cell)
        lo, hi = focus if focus is not None else (pos[0], pos[0])
        keep = set(pos[:2]) | set(pos[-2:])
        run = max(budget - 6, hi - lo + 1)
        start = max(pos[0], min(lo - (run - (hi - lo + 1)) // 2, pos[-1] - run + 1))
        keep |= set(range(start, start + run))
        cols: list[int | None] = []
        for p in pos:
            if p in keep:
                if cols and cols[-1] is not None and cols[-1] != p - 1:
                    cols.append(None)
                cols.append(p)
        return cls(tuple(cols), left, cell)

    @property
    def width(self) -> float:
        return len(self.columns) * self.pitch

    def x(self, position: float) -> float | None:
        """Left edge of the cell at ``position`` (fractional: between two visible cells)."""
        base = math.floor(position)
        frac = position - base
        try:
            col = self.columns.index(base)
        except ValueError:
            return None
        if frac and (col + 1 >= len(self.columns) or self.columns[col + 1] != base + 1):
            return None
        return self.left + (col + frac) * self.pitch

    def indices(self, step: float, offset: float, count: int) -> list[int]:
        """The ``t`` in ``[0, count)`` whose position ``t*step + offset`` can be drawn
        (found from the visible columns, so long rows cost nothing).

        >>> Axis.build(range(100), (50, 52), 12).indices(2, 0.5, 50)[:3]
        [0, 25, 26]
        """
        found: set[int] = set()
        for p in self.columns:
            if p is None:
                continue
            t = math.ceil((p - offset) / step)
            while t * step + offset < p + 1:
                if 0 <= t < count and self.x(t * step + offset) is not None:
                    found.add(t)
                t += 1
        return sorted(found)

    def ellipses(self) -> list[float]:
        """Left edges of the ellipsis columns."""
        return [self.left + i * self.pitch for i, p in enumerate(self.columns) if p is None]

    def visible(self, position: int) -> bool:
        return position in self.columns


def cell(x: float, y: float, text: str, role: str, *, highlight: bool = False, dash: str = "",
         width: float = CELL, opacity: float = 1.0, size: float = 16.0) -> Group:
    """A value cell in the colours of ``role`` (see :data:`PALETTE`)."""
    fill, stroke = PALETTE[role]
    box = Rect(x, y, width, CELL_H, fill=fill, stroke=stroke, stroke_width=3.0 if highlight else 1.5,
               dash=dash, radius=4.0, opacity=opacity, role=role)
    size = min(size, 0.92 * width / max(1.0, (0.66 if highlight else 0.6) * len(text)) if text else size)
    ink = MUTED if role in ("zero", "cropped", "empty") else INK
    label = Text(x + width / 2, y + CELL_H / 2 + size * 0.36, text, size=size, fill=ink,
                 weight="bold" if highlight else "normal", role=f"{role}-value")
    return Group((box, label), label=text, role=role)


def ellipsis_marks(axis: Axis, y: float) -> list[Shape]:
    """"…" in each ellipsis column of a row."""
    return [Text(x + axis.cell / 2, y + CELL_H / 2 + 6, "…", size=18, fill=MUTED, role="ellipsis")
            for x in axis.ellipses()]


def cell_width(texts: Iterable[str]) -> float:
    """A cell wide enough for the longest of ``texts`` at a readable size (44 to 96 pixels).

    >>> cell_width(["1", "2.5"]), cell_width(["-0.132105"])
    (44.0, 93.0)
    """
    longest = max((len(t) for t in texts), default=1)
    return float(min(96, max(CELL, round(0.6 * 15 * longest + 12))))


def legend(entries: Sequence[tuple[str, str]], x: float, y: float) -> tuple[Group, float]:
    """Swatches with words, on one line: ((role, words), ...) -> (group, width)."""
    items: list[Shape] = []
    cx = x
    for role, words in entries:
        fill, stroke = PALETTE[role]
        dash = "4 3" if role in ("zero", "cropped", "output_padding", "reflect", "replicate", "circular") else ""
        items.append(Rect(cx, y - 12, 18, 14, fill=fill, stroke=stroke, stroke_width=2 if role == "window" else 1.5,
                          dash=dash, radius=3, role=f"legend-{role}"))
        items.append(Text(cx + 24, y, words, size=12, fill=MUTED, anchor="start", role="legend"))
        cx += 24 + text_width(words, 12) + 18
    return Group(tuple(items), label="legend", role="legend"), cx - x
