"""PNG (cairosvg) and animated GIF (Pillow) from the drawing model, through its SVG, so a
raster shows exactly what the SVG shows. Both libraries are in the ``viz`` extra and are
imported only here, when a raster is asked for.
"""

from __future__ import annotations

import io
import os
from typing import Any

from .model import Animation, Figure
from .svg import figure_to_svg

__all__ = ["png_bytes", "write_png", "write_gif", "SCALE", "GIF_SCALE"]

#: PNG pixels per figure pixel (crisp on slides and high-density screens)
SCALE = 2.0
#: GIF pixels per figure pixel
GIF_SCALE = 1.5


def _need(module: str) -> Any:
    import importlib

    from ..errors import ConvtraceError

    try:
        return importlib.import_module(module)
    except (ImportError, OSError) as exc:  # OSError: cairosvg without the cairo library
        raise ConvtraceError(
            "format", module, f"PNG and GIF need the viz extra: pip install 'convtrace[viz]' ({exc})"
        ) from None


def png_bytes(figure: Figure, scale: float = SCALE) -> bytes:
    """The figure as PNG bytes, ``scale`` pixels per figure pixel."""
    cairosvg = _need("cairosvg")
    data: bytes = cairosvg.svg2png(bytestring=figure_to_svg(figure).encode("utf-8"), scale=scale)
    return data


def write_png(figure: Figure, path: str | os.PathLike[str], scale: float = SCALE) -> None:
    """Write the figure as a PNG file."""
    with open(path, "wb") as f:
        f.write(png_bytes(figure, scale))


def write_gif(animation: Animation, path: str | os.PathLike[str], scale: float = GIF_SCALE) -> None:
    """Write every frame as one looping animated GIF (frames share one palette size)."""
    image_mod = _need("PIL.Image")
    frames = []
    for figure in animation.frames:
        img = image_mod.open(io.BytesIO(png_bytes(figure, scale))).convert("RGB")
        frames.append(img.quantize(colors=128, method=image_mod.Quantize.MEDIANCUT, dither=image_mod.Dither.NONE))
    durations = [animation.delay_ms] * len(frames)
    durations[-1] = animation.last_delay_ms
    frames[0].save(path, format="GIF", save_all=True, append_images=frames[1:], duration=durations,
                   loop=0, optimize=False, disposal=1)
