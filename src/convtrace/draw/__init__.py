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

from .build import build_animation, build_figure, check_step, frame_count
from .svg import figure_to_svg

if TYPE_CHECKING:  # pragma: no cover
    from ..trace.model import AnyTrace

__all__ = ["render_svg", "save", "build_figure", "build_animation", "frame_count", "check_step", "check_output",
           "FORMATS"]

#: file suffixes :func:`save` writes
FORMATS = (".svg", ".png", ".gif")


def render_svg(trace: AnyTrace, *, step: int | None = None, lang: str = "en") -> str:
    """The SVG of frame ``step`` (0-based), or of the overview when ``step`` is None."""
    return figure_to_svg(build_figure(trace, step, lang))


def check_output(path: str | os.PathLike[str], *, step: int | None = None, param: str = "path") -> str:
    """The format of ``path`` (its suffix), checked before any work: a known suffix, the
    libraries it needs, and no ``step`` for a GIF (which shows every frame).

    >>> check_output("a.SVG")
    '.svg'
    >>> check_output("a.jpg", param="output")
    Traceback (most recent call last):
    ...
    convtrace.errors.ConvtraceError: output='a.jpg': the format comes from the file name, which must end in .svg, .png or .gif
    """
    from ..errors import ConvtraceError

    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix not in FORMATS:
        raise ConvtraceError(param, os.fspath(path), "the format comes from the file name, which must end in "
                             f"{', '.join(FORMATS[:-1])} or {FORMATS[-1]}")
    if suffix == ".gif" and step is not None:
        raise ConvtraceError("step", step, "step draws one frame: it does not apply to a GIF, which shows every frame",
                             hint="drop the step, or write .svg or .png")
    if suffix != ".svg":
        from . import raster

        raster.check_available()
    return suffix


def _write_atomically(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to a temporary file next to ``path``, then rename it: a failure
    leaves no file (and no half-written one)."""
    import tempfile

    target = os.fspath(path)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target) or ".", prefix=".convtrace-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise


def save(trace: AnyTrace, path: str | os.PathLike[str], *, step: int | None = None, lang: str = "en") -> None:
    """Write ``trace`` to ``path``: .svg or .png (frame ``step``, 0-based, or the overview)
    or .gif (every frame; a ``step`` is an error). The format comes from the suffix; the file
    appears only once it is complete."""
    suffix = check_output(path, step=step)
    if suffix == ".svg":
        data = render_svg(trace, step=step, lang=lang).encode("utf-8")
    else:
        from . import raster

        if suffix == ".png":
            data = raster.png_bytes(build_figure(trace, step, lang))
        else:
            data = raster.gif_bytes(build_animation(trace, lang))
    _write_atomically(path, data)
