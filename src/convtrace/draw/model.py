"""The neutral drawing model: frozen shapes that every output format reads.

:mod:`convtrace.draw.build` turns a :class:`~convtrace.trace.model.Trace` into a
:class:`Figure` (one picture) or an :class:`Animation` (a list of figures of one size);
:mod:`convtrace.draw.svg` writes SVG from it, :mod:`convtrace.draw.raster` PNG and GIF, and
the web explorer shows the same SVG. Coordinates are pixels, origin top left. Colours are
``#rrggbb`` strings; ``role`` names what a shape stands for (``"pad"``, ``"window"``, ...)
so that tests and the web page can find shapes without reading coordinates.

>>> fig = Figure(width=100, height=40, items=(Rect(0, 0, 10, 10, fill="#ffffff", role="cell"),))
>>> [shape.role for shape in fig.walk()]
['cell']
>>> fig.to_dict()["items"][0]["kind"]
'rect'
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from typing import Any, Union

__all__ = ["Rect", "Text", "Line", "Arrow", "Group", "Shape", "Figure", "Animation"]


@dataclass(frozen=True)
class Rect:
    """A rectangle (a cell, a bar, a frame)."""

    x: float
    y: float
    width: float
    height: float
    fill: str = "none"
    stroke: str = "none"
    stroke_width: float = 1.0
    dash: str = ""  # SVG stroke-dasharray, e.g. "4 3"
    radius: float = 0.0
    opacity: float = 1.0
    role: str = ""
    kind: str = field(default="rect", init=False)


@dataclass(frozen=True)
class Text:
    """One line of text; ``anchor`` is start, middle or end; ``y`` is the baseline."""

    x: float
    y: float
    text: str
    size: float = 14.0
    fill: str = "#222222"
    anchor: str = "middle"
    weight: str = "normal"
    italic: bool = False
    mono: bool = False
    role: str = ""
    kind: str = field(default="text", init=False)


@dataclass(frozen=True)
class Line:
    """A straight line."""

    x1: float
    y1: float
    x2: float
    y2: float
    stroke: str = "#222222"
    stroke_width: float = 1.0
    dash: str = ""
    role: str = ""
    kind: str = field(default="line", init=False)


@dataclass(frozen=True)
class Arrow:
    """A line with a filled head at ``(x2, y2)``."""

    x1: float
    y1: float
    x2: float
    y2: float
    stroke: str = "#222222"
    stroke_width: float = 1.5
    head: float = 7.0
    role: str = ""
    kind: str = field(default="arrow", init=False)


@dataclass(frozen=True)
class Group:
    """Shapes kept together (a row, a panel); ``label`` is for people and tests."""

    items: tuple[Shape, ...]
    label: str = ""
    role: str = ""
    kind: str = field(default="group", init=False)


Shape = Union[Rect, Text, Line, Arrow, Group]  # noqa: UP007 (a runtime alias)


def _walk(items: tuple[Shape, ...]) -> Iterator[Shape]:
    for item in items:
        yield item
        if isinstance(item, Group):
            yield from _walk(item.items)


def _as_dict(obj: Any) -> Any:
    if isinstance(obj, tuple):
        return [_as_dict(v) for v in obj]
    if hasattr(obj, "__dataclass_fields__"):
        return {f.name: _as_dict(getattr(obj, f.name)) for f in fields(obj)}
    return obj


@dataclass(frozen=True)
class Figure:
    """One picture: a canvas of ``width`` × ``height`` and its shapes, drawn in order."""

    width: float
    height: float
    items: tuple[Shape, ...]
    title: str = ""
    background: str = "#ffffff"

    def walk(self) -> Iterator[Shape]:
        """Every shape, groups before their contents."""
        return _walk(self.items)

    def texts(self) -> list[str]:
        """The text of every :class:`Text`, in drawing order."""
        return [s.text for s in self.walk() if isinstance(s, Text)]

    def to_dict(self) -> dict[str, Any]:
        """The figure as plain JSON-ready data (what the web API sends)."""
        out: dict[str, Any] = _as_dict(self)
        return out


@dataclass(frozen=True)
class Animation:
    """Frames of one size, shown ``delay_ms`` each (the last ``last_delay_ms``)."""

    frames: tuple[Figure, ...]
    delay_ms: int = 900
    last_delay_ms: int = 2500

    @property
    def width(self) -> float:
        return self.frames[0].width if self.frames else 0.0

    @property
    def height(self) -> float:
        return self.frames[0].height if self.frames else 0.0
