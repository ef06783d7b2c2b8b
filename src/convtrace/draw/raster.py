"""PNG (cairosvg) and animated GIF (cairosvg and Pillow) from the drawing model, through its
SVG, so a raster shows exactly what the SVG shows. Both libraries are in the ``viz`` extra
and are imported only here, when a raster is asked for.

A GIF is drawn in layers: the shapes that every frame shares are rasterised once, and each
frame rasterises only its own shapes (plus the shared ones drawn above them where they
overlap, so the stacking order is the figure's) on a transparent canvas laid over that
background. Most of a frame (header, labels, cells that do not change, legend) is thus drawn
once, not once per frame.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from .layout import shape_box
from .model import Animation, Figure, Group, Rect, Shape, Text
from .svg import figure_to_svg

__all__ = ["png_bytes", "gif_bytes", "check_available", "frame_layers", "SCALE", "GIF_SCALE"]

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


def check_available() -> None:
    """A clear error unless the libraries of PNG and GIF (cairosvg, Pillow) can be loaded."""
    _need("cairosvg")
    _need("PIL.Image")


def png_bytes(figure: Figure, scale: float = SCALE) -> bytes:
    """The figure as PNG bytes, ``scale`` pixels per figure pixel."""
    cairosvg = _need("cairosvg")
    data: bytes = cairosvg.svg2png(bytestring=figure_to_svg(figure).encode("utf-8"), scale=scale)
    return data


def _rgba(figure: Figure, scale: float) -> Any:
    """The figure rasterised by cairosvg straight into a Pillow RGBA image (no PNG between)."""
    _need("cairosvg")
    image_mod = _need("PIL.Image")
    from cairosvg.parser import Tree
    from cairosvg.surface import PNGSurface

    surface = PNGSurface(Tree(bytestring=figure_to_svg(figure).encode("utf-8")), None, 96, scale=scale)
    cairo = surface.cairo
    cairo.flush()
    size = (cairo.get_width(), cairo.get_height())
    # cairo's ARGB32 is premultiplied, native-endian: B, G, R, A in memory on little-endian machines
    raw = "BGRa" if sys.byteorder == "little" else "aRGB"
    return image_mod.frombuffer("RGBA", size, bytes(cairo.get_data()), "raw", raw, cairo.get_stride(), 1)


def _leaves(shapes: Sequence[Shape]) -> list[Shape]:
    """The shapes that draw something, in drawing order (groups opened, empty texts left out)."""
    out: list[Shape] = []
    for s in shapes:
        if isinstance(s, Group):
            out += _leaves(s.items)
        elif not (isinstance(s, Text) and not s.text):
            out.append(s)
    return out


Box = tuple[float, float, float, float]


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _inside(a: Box, b: Box) -> bool:
    return b[0] <= a[0] and b[1] <= a[1] and a[2] <= b[2] and a[3] <= b[3]


def _opaque(s: Shape) -> bool:
    return isinstance(s, Rect) and s.fill != "none" and s.opacity == 1


def frame_layers(animation: Animation) -> tuple[Figure, list[Figure]]:
    """The animation as one background and, per frame, the layer drawn over it.

    The background holds the shapes of the first frame that at least half of the frames
    draw, provided that every frame without one of them hides it under an opaque shape of
    its own (a cell that changes colour covers the old cell). A frame's layer holds its own
    shapes and, in drawing order, the background shapes drawn above one of them.

    >>> from convtrace import explain
    >>> from convtrace.draw import build_animation
    >>> background, layers = frame_layers(build_animation(explain([1, 2, 3, 4], [1, 1], verify=False)))
    >>> len(layers), len(list(background.walk())) > len(list(layers[0].walk()))
    (3, True)
    """
    frames = animation.frames
    leaves = [_leaves(f.items) for f in frames]
    sets = [set(items) for items in leaves]
    boxes: dict[int, Box] = {}  # by identity: equal shapes of two frames are measured twice at most

    def box(s: Shape) -> Box:
        found = boxes.get(id(s))
        if found is None:
            found = boxes[id(s)] = shape_box(s)
        return found

    # what can hide a missing background shape: the frame's opaque shapes that the first frame
    # lacks (so they are not in the background, and are drawn over it)
    covers = [[box(s) for s in items if _opaque(s) and s not in sets[0]] for items in leaves]
    base: set[Shape] = set()
    for s in leaves[0]:
        missing = [i for i, found in enumerate(sets) if s not in found]
        if 2 * len(missing) > len(frames):
            continue
        if all(any(_inside(box(s), c) for c in covers[i]) for i in missing):
            base.add(s)
    first = frames[0]
    background = Figure(first.width, first.height, tuple(s for s in leaves[0] if s in base), first.title,
                        first.background)
    layers = []
    for frame, items in zip(frames, leaves):
        own: list[Shape] = []
        above: list[Box] = []
        for s in items:
            if s not in base:
                own.append(s)
                above.append(box(s))
            elif above and any(_overlaps(box(s), b) for b in above):
                own.append(s)  # a background shape above one of the frame's own: drawn again, in order
                above.append(box(s))  # (and so is what lies above it in turn)
        layers.append(Figure(frame.width, frame.height, tuple(own), frame.title, background="none"))
    return background, layers


def _palette(images: list[Any], background: str) -> Any:
    """One palette for every frame: median cut over the first and the last frame (at half size,
    every other pixel: their colours, not their detail), the background colour exact. Returned as a small palette image for ``quantize``."""
    image_mod = _need("PIL.Image")
    small = [im.resize((max(1, im.width // 2), max(1, im.height // 2)), image_mod.Resampling.NEAREST)
             for im in (images[0], images[-1])]
    sheet = image_mod.new("RGB", (sum(im.width for im in small), max(im.height for im in small)), background)
    sheet.paste(small[0], (0, 0))
    sheet.paste(small[1], (small[0].width, 0))
    quantised = sheet.quantize(colors=255, method=image_mod.Quantize.MEDIANCUT, dither=image_mod.Dither.NONE)
    # Pillow maps a pixel to the entry nearest the low corner of its cell (6 bits a channel):
    # the entries within 5 of the background's corner would win its pixels, so they become the
    # background colour (any other entry is then farther from that corner than the background)
    colour = [int(background[i: i + 2], 16) for i in (1, 3, 5)]
    corner = [v & ~3 for v in colour]
    palette = quantised.getpalette()
    for i in range(0, len(palette), 3):
        if max(abs(v - c) for v, c in zip(palette[i: i + 3], corner)) <= 5:
            palette[i: i + 3] = colour
    quantised.putpalette(palette)
    return quantised


def gif_bytes(animation: Animation, scale: float = GIF_SCALE) -> bytes:
    """Every frame as one looping animated GIF (one palette: the writer then stores only what
    changed from frame to frame)."""
    import io

    image_mod = _need("PIL.Image")
    background, layers = frame_layers(animation)
    base = _rgba(background, scale)
    images = [image_mod.alpha_composite(base, _rgba(layer, scale)).convert("RGB") for layer in layers]
    palette = _palette(images, background.background)
    frames = [img.quantize(palette=palette, dither=image_mod.Dither.NONE) for img in images]
    durations = [animation.delay_ms] * len(frames)
    durations[-1] = animation.last_delay_ms
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=durations,
                   loop=0, optimize=False, disposal=1)
    return out.getvalue()
