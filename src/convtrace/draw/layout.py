"""Shared pieces of the figures: palette, sizes, a compressible position axis, cells,
legend and text measurement.

>>> axis = Axis.build(range(0, 40), focus=(20, 22), budget=12)
>>> axis.columns[:3], None in axis.columns
((0, 1, None), True)
>>> axis.x(0) == axis.left, axis.x(25) is None
(True, True)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from .model import Group, Rect, Shape, Text

__all__ = [
    "PALETTE", "PITCH", "CELL", "CELL_H", "MARGIN", "LABEL_W", "Axis", "cell", "text_width",
    "legend", "MAX_CHANNELS", "MAX_COLUMNS", "MAX_ROWS", "cell_width", "char_width", "text_box", "shape_box",
    "extent", "legend_roles", "LEGEND_ROLES", "group_band", "fill_gaps", "DASHED",
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
    # pools (issue 17)
    "pad_inf": ("#f1f3f5", "#9aa5b1"),  # max pooling's padding: -inf, never wins
    "overhang": ("#fff4e6", "#e8590c"),  # ceil_mode's overhang: past the padded input, never counted
    "read": ("#fff9db", "#d9a400"),  # a value a pooling window reads
    "winner": ("#ffd43b", "#e67700"),  # the max of a window
    "excluded": ("#ffffff", "#adb5bd"),  # read but not counted (not in the divisor)
    "index": ("#f3f0ff", "#7048e8"),  # max_unpool1d's indices
    "collision": ("#ffe3e3", "#c92a2a"),  # two values unpooled to one place
    "untouched": ("#f8f9fa", "#ced4da"),  # an unpooled output nothing lands on: 0
    # one streamed push (issue 19)
    "cache": ("#d0ebff", "#1c7ed6"),  # in the cache (the streamer's state) before the push
    "pad_cache": ("#ffe8cc", "#e8590c"),  # made now by the padding from samples it kept
    "new": ("#b2f2bb", "#2b8a3e"),  # arrived with this push
    "dropped": ("#f8f9fa", "#ced4da"),  # no longer needed: left the cache
    "pending": ("#ffffff", "#adb5bd"),  # not arrived, or not final yet
    "tail": ("#f3d9fa", "#ae3ec9"),  # ConvTranspose1d's carried partial sums (no bias)
}
INK = "#1f2933"
MUTED = "#6b7785"
ACCENT = "#c2255c"

CELL = 44.0  # cell width
CELL_H = 34.0  # cell height
PITCH = 50.0  # distance between neighbouring cells (a gap of 6 pixels: room for a window frame)
MARGIN = 24.0
LABEL_W = 150.0  # the row-label column
ROW_GAP = 12.0
#: most channels drawn in full; more are summarised
MAX_CHANNELS = 8
#: most positions drawn along one row; longer rows are shown around the current step
MAX_COLUMNS = 26
#: most stacked rows (windows, stamps) drawn
MAX_ROWS = 8


#: widths in em of the sans-serif face (DejaVu Sans), rounded up: narrow, wide and the rest
_NARROW = set(" .,:;'|!()[]{}ijlfrtI-")
_WIDE = set("mwMW@%…→↔↻↑−×✓Σᵀ")
_MID = set("=+<>~#")


@lru_cache(maxsize=1024)
def char_width(ch: str, *, bold: bool = False, mono: bool = False) -> float:
    """Estimated advance of one character, in em: a little more than DejaVu Sans (and
    WenQuanYi Micro Hei, for Chinese) really take, so that layouts leave room.

    >>> char_width("1"), char_width("输"), char_width("m")
    (0.64, 1.0, 1.0)
    """
    if ord(ch) >= 0x2E80:  # CJK and fullwidth forms: one em (twice a Latin letter)
        return 1.0
    if mono:
        return 0.61
    if ch in _WIDE:
        base = 1.0
    elif ch in _MID:
        base = 0.86
    elif ch in _NARROW:
        base = 0.42
    elif ch.isupper():
        base = 0.8
    elif ch.isdigit():
        base = 0.64
    else:
        base = 0.64
    return base * 1.1 if bold else base


@lru_cache(maxsize=8192)
def text_width(text: str, size: float, *, bold: bool = False, mono: bool = False) -> float:
    """Estimated width of ``text`` in pixels (wide CJK glyphs count double): the one
    measure the layout and the tests use.

    >>> text_width("12", 10), text_width("输出", 10)
    (12.8, 20.0)
    """
    return round(size * sum(char_width(ch, bold=bold, mono=mono) for ch in text), 2)


def text_box(t: Text) -> tuple[float, float, float, float]:
    """The box (left, top, right, bottom) that the text ``t`` covers, from its anchor."""
    width = text_width(t.text, t.size, bold=t.weight == "bold", mono=t.mono)
    left = t.x - (width / 2 if t.anchor == "middle" else width if t.anchor == "end" else 0.0)
    return left, t.y - 0.8 * t.size, left + width, t.y + 0.25 * t.size


def shape_box(shape: Shape) -> tuple[float, float, float, float]:
    """The box (left, top, right, bottom) a leaf shape covers (strokes included)."""
    if isinstance(shape, Text):
        return text_box(shape)
    if isinstance(shape, Rect):
        half = shape.stroke_width / 2 if shape.stroke != "none" else 0.0
        return shape.x - half, shape.y - half, shape.x + shape.width + half, shape.y + shape.height + half
    if isinstance(shape, Group):
        boxes = [shape_box(s) for s in shape.items]
        if not boxes:
            return 0.0, 0.0, 0.0, 0.0
        return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))
    half = max(shape.stroke_width, getattr(shape, "head", 0.0)) / 2
    return (min(shape.x1, shape.x2) - half, min(shape.y1, shape.y2) - half,
            max(shape.x1, shape.x2) + half, max(shape.y1, shape.y2) + half)


def extent(items: Iterable[Shape]) -> tuple[float, float]:
    """The right and bottom edges of what ``items`` cover (0 when empty).

    >>> extent([Rect(10, 10, 20, 5), Text(0, 50, "ab", size=10, anchor="start")])
    (30.0, 52.5)
    """
    right = bottom = 0.0
    for shape in items:
        box = shape_box(shape)
        right, bottom = max(right, box[2]), max(bottom, box[3])
    return right, bottom


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
              budget: int = MAX_COLUMNS, left: float = MARGIN + LABEL_W, cell: float = CELL,
              keep: Iterable[int] = ()) -> Axis:
        """All ``positions`` (consecutive), or when more than ``budget``: the two at each end,
        a run around ``focus`` (first, last) and the positions in ``keep``, with ellipses
        between.

        >>> Axis.build(range(30), (0, 2), 10, keep=[20, 21]).columns
        (0, 1, 2, None, 20, 21, None, 28, 29)
        """
        pos = list(positions)
        if len(pos) <= budget:
            return cls(tuple(pos), left, cell)
        lo, hi = focus if focus is not None else (pos[0], pos[0])
        extra = set(keep)
        run = max(budget - 6 - len(extra), hi - lo + 1)
        start = max(pos[0], min(lo - (run - (hi - lo + 1)) // 2, pos[-1] - run + 1))
        keep_set = set(pos[:2]) | set(pos[-2:]) | extra | set(range(start, start + run))
        cols: list[int | None] = []
        for p in pos:
            if p in keep_set:
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
    if text:
        size = min(size, 0.9 * width / max(1.0, text_width(text, 1.0, bold=highlight)))
    ink = MUTED if role in ("zero", "cropped", "empty", "pad_inf", "excluded", "untouched") else INK
    label = Text(x + width / 2, y + CELL_H / 2 + size * 0.36, text, size=size, fill=ink,
                 weight="bold" if highlight else "normal", role=f"{role}-value")
    return Group((box, label), label=text, role=role)


def fill_gaps(positions: set[int], gap: int = 2) -> set[int]:
    """``positions`` with runs of at most ``gap`` missing positions between them filled in
    (an ellipsis column is as wide as a cell: hiding one or two cells saves nothing).

    >>> sorted(fill_gaps({0, 2, 9}))
    [0, 1, 2, 9]
    """
    ordered = sorted(positions)
    out = set(ordered)
    for a, b in itertools.pairwise(ordered):
        if 1 < b - a <= gap + 1:
            out |= set(range(a + 1, b))
    return out


#: light tints of the group bands, one per group (cycling)
BAND_TINTS = ("#f3f0ff", "#e6f4ea", "#fff4e0", "#e5f0fb")


def group_band(group: int, top: float, bottom: float, right: float, words: str) -> list[Shape]:
    """A tinted band behind the rows of one group (``group`` counts from 0), named at its
    top left.

    >>> [s.role for s in group_band(1, 10, 50, 300, "group 2")]
    ['group-band', 'group-label']
    """
    tint = BAND_TINTS[group % len(BAND_TINTS)]
    return [Rect(MARGIN - 8, top, right - MARGIN + 16, bottom - top, fill=tint, radius=8, role="group-band"),
            Text(MARGIN - 2, top + 13, words, size=11, fill=MUTED, anchor="start", weight="bold", role="group-label")]


def ellipsis_marks(axis: Axis, y: float) -> list[Shape]:
    """"…" in each ellipsis column of a row."""
    return [Text(x + axis.cell / 2, y + CELL_H / 2 + 6, "…", size=18, fill=MUTED, role="ellipsis")
            for x in axis.ellipses()]


def cell_width(texts: Iterable[str]) -> float:
    """A cell wide enough for the longest of ``texts`` at a readable size (44 to 96 pixels).

    >>> cell_width(["1", "2.5"]), cell_width(["-0.132105"])
    (44.0, 92.0)
    """
    longest = max((text_width(t, 15.0) for t in texts), default=0.0)
    return float(min(96, max(CELL, round(longest + 12))))


#: the cell styles a legend can name, in the order it names them
LEGEND_ROLES = ("input", "zero", "pad_inf", "reflect", "replicate", "circular", "overhang", "window", "kernel",
                "product", "read", "winner", "excluded", "index", "current", "output", "empty", "cropped",
                "output_padding", "collision", "untouched")


def legend_roles(items: Iterable[Shape]) -> list[str]:
    """The cell styles drawn in ``items`` (value cells and the window frame), in legend order.

    >>> legend_roles([cell(0, 0, "1", "product"), cell(0, 0, "2", "input")])
    ['input', 'product']
    """
    found: set[str] = set()

    def visit(shapes: Iterable[Shape]) -> None:
        for s in shapes:
            if isinstance(s, Group):
                found.add(s.role)
                visit(s.items)
            elif isinstance(s, Rect):
                found.add(s.role)

    visit(items)
    return [role for role in LEGEND_ROLES if role in found]


#: the cell styles drawn with a dashed border (not real samples)
DASHED = ("zero", "cropped", "output_padding", "reflect", "replicate", "circular", "empty", "pad_inf", "overhang",
          "excluded", "untouched")


def legend(entries: Sequence[tuple[str, str]], x: float, y: float,
           max_width: float = math.inf) -> tuple[Group, float]:
    """Swatches with words, on as many lines as ``max_width`` needs: ((role, words), ...) ->
    (group, width)."""
    items: list[Shape] = []
    cx, cy, widest = x, y, 0.0
    for role, words in entries:
        step = 24 + text_width(words, 12) + 18
        if cx > x and cx - x + step - 18 > max_width:
            cx, cy = x, cy + 22
        fill, stroke = PALETTE[role]
        dash = "4 3" if role in DASHED else ""
        items.append(Rect(cx, cy - 12, 18, 14, fill=fill, stroke=stroke, stroke_width=2 if role in ("window", "current") else 1.5,
                          dash=dash, radius=3, role=f"legend-{role}"))
        items.append(Text(cx + 24, cy, words, size=12, fill=MUTED, anchor="start", role="legend"))
        cx += step
        widest = max(widest, cx - 18 - x)
    return Group(tuple(items), label="legend", role="legend"), widest
