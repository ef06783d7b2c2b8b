"""Hand-written SVG from the drawing model: deterministic (same figure, same bytes), self
contained (no external fonts, images or scripts), with a CJK font fallback list so that
Chinese labels render.

>>> from convtrace.draw.model import Figure, Rect, Text
>>> svg = figure_to_svg(Figure(60, 20, (Rect(1, 2, 3, 4, fill="#ff0000"), Text(5, 6, "a<b"))))
>>> svg.splitlines()[0][:40]
'<svg xmlns="http://www.w3.org/2000/svg" '
>>> "a&lt;b" in svg and 'x="1" y="2" width="3" height="4"' in svg
True
"""

from __future__ import annotations

import math
import re
from xml.sax.saxutils import escape, quoteattr

from .model import Arrow, Figure, Group, Line, Rect, Shape, Text

__all__ = ["figure_to_svg", "FONT_FAMILY", "CJK_FONT_FAMILY", "MONO_FAMILY"]

#: sans-serif faces tried in order; the CJK ones render the Chinese labels
FONT_FAMILY = ("'DejaVu Sans', 'Noto Sans CJK SC', 'WenQuanYi Micro Hei', 'Source Han Sans SC', "
               "'Microsoft YaHei', 'PingFang SC', 'Heiti SC', sans-serif")
#: the same faces, a CJK one first: for figures with Chinese text (cairosvg uses only the
#: first face of the list, and the CJK faces carry Latin letters too)
CJK_FONT_FAMILY = ("'WenQuanYi Micro Hei', 'Noto Sans CJK SC', 'Source Han Sans SC', 'Microsoft YaHei', "
                   "'PingFang SC', 'Heiti SC', 'DejaVu Sans', sans-serif")
MONO_FAMILY = ("'DejaVu Sans Mono', 'Noto Sans Mono CJK SC', 'WenQuanYi Micro Hei Mono', "
               "'WenQuanYi Micro Hei', monospace")


def _n(v: float) -> str:
    """A coordinate: at most two decimals, no trailing zeros, no ``-0``."""
    s = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _stroke(color: str, width: float, dash: str) -> str:
    if color == "none":
        return ' stroke="none"'
    out = f' stroke="{color}" stroke-width="{_n(width)}"'
    return out + (f' stroke-dasharray="{dash}"' if dash else "")


def _role(role: str) -> str:
    return f' data-role="{role}"' if role else ""


def _rect(r: Rect) -> str:
    radius = f' rx="{_n(r.radius)}"' if r.radius else ""
    opacity = f' opacity="{_n(r.opacity)}"' if r.opacity != 1 else ""
    return (f'<rect x="{_n(r.x)}" y="{_n(r.y)}" width="{_n(r.width)}" height="{_n(r.height)}"{radius}'
            f' fill="{r.fill}"{_stroke(r.stroke, r.stroke_width, r.dash)}{opacity}{_role(r.role)}/>')


#: characters the CJK faces lack (WenQuanYi Micro Hei draws a box for ᵀ): in a figure with
#: Chinese text they are set in the Latin faces
LATIN_ONLY = "ᵀ"
LATIN_FAMILY = "'DejaVu Sans', sans-serif"


def _content(text: str, cjk: bool) -> str:
    """The escaped text, runs of :data:`LATIN_ONLY` characters in a Latin-face ``tspan`` when
    the figure's face is a CJK one.

    >>> print(_content("y = Cᵀ x", True))
    y = C<tspan font-family="'DejaVu Sans', sans-serif">ᵀ</tspan> x
    """
    if not cjk:
        return escape(text)
    return re.sub(f"[{LATIN_ONLY}]+", lambda m: f"<tspan font-family={quoteattr(LATIN_FAMILY)}>{m.group()}</tspan>",
                  escape(text))


def _text(t: Text, cjk: bool = False) -> str:
    style = ""
    if t.mono:
        style += f" font-family={quoteattr(MONO_FAMILY)}"
    if t.weight != "normal":
        style += f' font-weight="{t.weight}"'
    if t.italic:
        style += ' font-style="italic"'
    return (f'<text x="{_n(t.x)}" y="{_n(t.y)}" font-size="{_n(t.size)}" fill="{t.fill}"'
            f' text-anchor="{t.anchor}"{style}{_role(t.role)}>{_content(t.text, cjk)}</text>')


def _line(ln: Line) -> str:
    return (f'<line x1="{_n(ln.x1)}" y1="{_n(ln.y1)}" x2="{_n(ln.x2)}" y2="{_n(ln.y2)}"'
            f'{_stroke(ln.stroke, ln.stroke_width, ln.dash)}{_role(ln.role)}/>')


def _arrow(a: Arrow) -> str:
    angle = math.atan2(a.y2 - a.y1, a.x2 - a.x1)
    back_x, back_y = a.x2 - a.head * math.cos(angle), a.y2 - a.head * math.sin(angle)
    spread = a.head * 0.55
    left = (back_x + spread * math.sin(angle), back_y - spread * math.cos(angle))
    right = (back_x - spread * math.sin(angle), back_y + spread * math.cos(angle))
    points = " ".join(f"{_n(px)},{_n(py)}" for px, py in ((a.x2, a.y2), left, right))
    return (f'<g{_role(a.role)}><line x1="{_n(a.x1)}" y1="{_n(a.y1)}" x2="{_n(back_x)}" y2="{_n(back_y)}"'
            f'{_stroke(a.stroke, a.stroke_width, "")}/><polygon points="{points}" fill="{a.stroke}"/></g>')


def _shape(shape: Shape, out: list[str], depth: int, cjk: bool = False) -> None:
    pad = "  " * depth
    if isinstance(shape, Group):
        label = f" data-label={quoteattr(shape.label)}" if shape.label else ""
        out.append(f"{pad}<g{_role(shape.role)}{label}>")
        for item in shape.items:
            _shape(item, out, depth + 1, cjk)
        out.append(f"{pad}</g>")
    elif isinstance(shape, Rect):
        out.append(pad + _rect(shape))
    elif isinstance(shape, Text):
        out.append(pad + _text(shape, cjk))
    elif isinstance(shape, Line):
        out.append(pad + _line(shape))
    else:
        out.append(pad + _arrow(shape))


def figure_to_svg(figure: Figure) -> str:
    """The figure as a standalone SVG document (text, ending in a newline)."""
    w, h = _n(figure.width), _n(figure.height)
    cjk = any(ord(ch) >= 0x2E80 for text in figure.texts() for ch in text)
    family = CJK_FONT_FAMILY if cjk else FONT_FAMILY
    out = [
        (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}"'
         f" role=\"img\" aria-label={quoteattr(figure.title)} font-family={quoteattr(family)}>"),
        f"  <title>{escape(figure.title)}</title>",
        f'  <rect x="0" y="0" width="{w}" height="{h}" fill="{figure.background}"/>',
    ]
    for shape in figure.items:
        _shape(shape, out, 1, cjk)
    out.append("</svg>")
    return "\n".join(out) + "\n"
