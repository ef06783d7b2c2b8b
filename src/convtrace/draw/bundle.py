"""Jupyter's display bundle of a figure with its text and HTML: the one mimebundle that shows
in every notebook host (``_repr_mimebundle_`` of a trace and of a report with a figure).

Every bundle carries ``text/plain`` (the explanation or report as text), ``text/html`` and,
with a figure, ``image/svg+xml`` and — when the ``viz`` extra (cairosvg, Pillow) loads —
``image/png``; without it the PNG is left out, never an error. Why all of them:

- JupyterLab draws an SVG output as an ``<img>``, and its HTML sanitizer (an untrusted
  notebook's HTML) removes an inline ``<svg>``: the figure inside the HTML is therefore an
  ``<img>`` too, PNG when it can be made (an untrusted notebook never renders an SVG output,
  but shows a PNG), else the SVG as a ``data:`` URI;
- nbconvert's HTML export shows the HTML, and skips an SVG that sits beside a widget;
  a LaTeX/PDF export takes the PNG.

>>> from convtrace import explain
>>> data, meta = mime_bundle(explain([1, 1, 1, 1], [1, 1, 1], padding=1, verify=False))
>>> sorted(data) == sorted(MIME_TYPES) or sorted(data) == sorted(set(MIME_TYPES) - {PNG})
True
>>> data[SVG].startswith("<svg") and "<img" in data[HTML] and "<svg" not in data[HTML]
True
>>> sorted(mime_bundle(explain([1, 2], [1], verify=False), include=[TEXT])[0])
['text/plain']
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ConvtraceError
from ..plan.report import mime_wanted as wanted
from .build import build_figure, check_step
from .model import Figure
from .svg import figure_to_svg

if TYPE_CHECKING:  # pragma: no cover
    from ..trace.model import AnyTrace

__all__ = ["mime_bundle", "Display", "figure_bundle", "figure_html", "png_or_none", "MIME_TYPES", "SVG", "PNG", "HTML", "TEXT"]

SVG = "image/svg+xml"
PNG = "image/png"
HTML = "text/html"
TEXT = "text/plain"
#: every type a bundle can carry, the richest first
MIME_TYPES = (HTML, SVG, PNG, TEXT)


def png_or_none(figure: Figure) -> bytes | None:
    """The figure as PNG bytes, or None when the ``viz`` extra (cairosvg, Pillow) cannot be
    loaded: a notebook shows the SVG then, never an error.

    >>> from convtrace.draw.model import Figure, Rect
    >>> png = png_or_none(Figure(20, 10, (Rect(1, 1, 5, 5, fill="#ff0000"),)))
    >>> png is None or png.startswith(b"\\x89PNG")
    True
    """
    from . import raster

    try:
        raster.check_available()
    except ConvtraceError:
        return None
    return raster.png_bytes(figure)


def _img(figure: Figure, svg: str, png: bytes | None) -> str:
    """The figure as one ``<img>`` (sanitizer-proof): the PNG, else the SVG as a data URI."""
    if png is not None:
        source = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    else:
        source = "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
    alt = figure.title.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    return (f'<img src="{source}" width="{round(figure.width)}" height="{round(figure.height)}" alt="{alt}" '
            'style="max-width:100%;height:auto">')


def figure_html(markup: str) -> str:
    """A figure's ``<img>`` alone, in the block the HTML view gives it.

    >>> figure_html('<img src="data:image/png;base64,AA==">')
    '<div class="convtrace-figure"><img src="data:image/png;base64,AA=="></div>'
    """
    return f'<div class="convtrace-figure">{markup}</div>'


def figure_bundle(
    figure: Figure | None,
    text: Callable[[], str],
    html: Callable[[str], str],
    include: Collection[str] | None = None,
    exclude: Collection[str] | None = None,
) -> tuple[dict[str, str], dict[str, Any]]:
    """The bundle ``(data, metadata)`` of a figure (or None: text and HTML only) with its text
    (``text()``) and its HTML (``html(figure_markup)``: the figure's ``<img>``, or ``""``;
    :func:`figure_html` wraps it alone).
    Only the wanted types are made; the PNG is base64 text, sized by its metadata to the
    figure's own size (it is drawn at twice that, for sharp screens).

    >>> from convtrace.draw.model import Figure, Text
    >>> data, meta = figure_bundle(Figure(80, 20, (Text(5, 15, "a"),)), lambda: "a", figure_html, exclude=[PNG])
    >>> sorted(data), data[TEXT], meta
    (['image/svg+xml', 'text/html', 'text/plain'], 'a', {})
    """
    data: dict[str, str] = {}
    meta: dict[str, Any] = {}
    if wanted(TEXT, include, exclude):
        data[TEXT] = text()
    svg = figure_to_svg(figure) if figure is not None else ""
    need_png = figure is not None and (wanted(PNG, include, exclude) or wanted(HTML, include, exclude))
    png = png_or_none(figure) if figure is not None and need_png else None
    if figure is not None and wanted(SVG, include, exclude):
        data[SVG] = svg
    if figure is not None and png is not None and wanted(PNG, include, exclude):
        data[PNG] = base64.b64encode(png).decode("ascii")
        meta[PNG] = {"width": round(figure.width), "height": round(figure.height)}
    if wanted(HTML, include, exclude):
        data[HTML] = html(_img(figure, svg, png) if figure is not None else "")
    return data, meta


def mime_bundle(
    trace: AnyTrace,
    include: Collection[str] | None = None,
    exclude: Collection[str] | None = None,
    *,
    lang: str = "en",
    step: int | None = None,
) -> tuple[dict[str, str], dict[str, Any]]:
    """A trace's bundle in ``lang``: its overview figure, the text of ``print(trace)`` and
    the HTML tables of :func:`convtrace.render.html.render_html` under the figure; with a
    ``step`` (0-based) that frame alone, its title as the text."""
    from ..render.html import render_html
    from ..render.text import render_text

    check_step(trace, step)
    figure = build_figure(trace, step, lang)
    if step is not None:
        return figure_bundle(figure, lambda: figure.title, figure_html, include, exclude)
    return figure_bundle(
        figure,
        lambda: render_text(trace, lang),
        lambda markup: render_html(trace, lang, figure=markup),
        include,
        exclude,
    )


@dataclass(frozen=True)
class Display:
    """A trace as a notebook shows it, in ``lang`` ('en' or 'zh'), whole or at one frame
    (``step``, 0-based): the last expression of a cell, it displays as :func:`mime_bundle`.

    >>> from convtrace import explain
    >>> shown = explain([1, 1, 1, 1], [1, 1, 1], padding=1, verify=False).show("zh", step=0)
    >>> data, _ = shown._repr_mimebundle_()
    >>> data["text/plain"], "<img" in data["text/html"]
    ('Conv1d — 第 1 步（共 4 步）：y1', True)
    """

    trace: AnyTrace
    lang: str = "en"
    step: int | None = None

    def __repr__(self) -> str:
        return f"<Display of {self.trace!r} lang={self.lang!r} step={self.step!r}>"

    def _repr_mimebundle_(
        self, include: Collection[str] | None = None, exclude: Collection[str] | None = None
    ) -> tuple[dict[str, str], dict[str, Any]]:
        return mime_bundle(self.trace, include, exclude, lang=self.lang, step=self.step)
