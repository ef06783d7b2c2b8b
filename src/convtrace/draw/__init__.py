"""Pictures of a trace: SVG (hand-written, deterministic), PNG and animated GIF.

One neutral drawing model (:mod:`convtrace.draw.model`) is built from a
:class:`~convtrace.trace.model.Trace` (:mod:`convtrace.draw.build`) and written by every
format; the web explorer shows the same SVG. PNG and GIF need the ``viz`` extra (cairosvg,
Pillow), imported only when those formats are asked for.

>>> from convtrace import explain
>>> t = explain([1, 1, 1, 1], [1, 1, 1], padding=1, verify=False)
>>> svg = render_svg(t, step=0)
>>> svg.startswith("<svg") and "sum = 0 + 1 + 1 = 2" in svg
True
>>> "WenQuanYi Micro Hei" in render_svg(t, lang="zh")
True
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from .build import build_animation, build_figure, frame_count
from .svg import figure_to_svg

if TYPE_CHECKING:  # pragma: no cover
    from ..trace.model import Trace

__all__ = ["render_svg", "save", "build_figure", "build_animation", "frame_count", "FORMATS"]

#: file suffixes :func:`save` writes
FORMATS = (".svg", ".png", ".gif")


def render_svg(trace: Trace, *, step: int | None = None, lang: str = "en") -> str:
    """The SVG of frame ``step`` (0-based), or of the overview when ``step`` is None."""
    return figure_to_svg(build_figure(trace, step, lang))


def save(trace: Trace, path: str | os.PathLike[str], *, step: int | None = None, lang: str = "en") -> None:
    """Write ``trace`` to ``path``: .svg or .png (frame ``step`` or the overview) or .gif
    (every frame; ``step`` is ignored). The format comes from the suffix."""
    from ..errors import ConvtraceError

    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix not in FORMATS:
        raise ConvtraceError("path", os.fspath(path), f"the file name must end in {', '.join(FORMATS)}")
    if suffix == ".svg":
        text = render_svg(trace, step=step, lang=lang)  # before opening: an error leaves no file
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return
    from . import raster

    if suffix == ".png":
        raster.write_png(build_figure(trace, step, lang), path)
    else:
        raster.write_gif(build_animation(trace, lang), path)
