"""Every figure kind, over a sweep of configurations, read back from its SVG: no text runs
outside the canvas and no two texts overlap.

A text's box comes from the SVG alone (x, y, font-size, text-anchor, weight, font) and the
width estimate the layout itself uses (:func:`convtrace.draw.layout.text_width`: CJK glyphs
count double), which a test below holds to be conservative: at least the real advance of the
fonts the figures name (DejaVu Sans, WenQuanYi Micro Hei), when those fonts are installed.
"""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import convtrace
from convtrace import ConvtraceError
from convtrace.draw import build_animation, frame_count, render_svg
from convtrace.draw.layout import text_width
from convtrace.draw.svg import figure_to_svg

NS = "{http://www.w3.org/2000/svg}"
Box = tuple[float, float, float, float]


def text_boxes(svg: str) -> tuple[float, float, list[tuple[str, Box]]]:
    """(width, height, [(text, (left, top, right, bottom)), ...]) of an SVG document."""
    root = ET.fromstring(svg)
    out = []
    for el in root.iter(f"{NS}text"):
        text = "".join(el.itertext())  # tspans included
        if not text:
            continue
        x, y, size = float(el.get("x", 0)), float(el.get("y", 0)), float(el.get("font-size", 14))
        width = text_width(text, size, bold=el.get("font-weight") == "bold", mono=el.get("font-family") is not None)
        anchor = el.get("text-anchor", "start")
        left = x - (width / 2 if anchor == "middle" else width if anchor == "end" else 0.0)
        out.append((text, (left, y - 0.8 * size, left + width, y + 0.25 * size)))
    return float(root.get("width", 0)), float(root.get("height", 0)), out


def layout_problems(svg: str) -> list[str]:
    """Texts outside the canvas, and pairs of texts that overlap (by more than half a pixel)."""
    width, height, boxes = text_boxes(svg)
    problems = [f"{text!r} {tuple(round(v) for v in box)} outside {width:g}x{height:g}"
                for text, box in boxes if box[0] < 0 or box[1] < 0 or box[2] > width or box[3] > height]
    order = sorted(range(len(boxes)), key=lambda i: boxes[i][1][0])
    for a_pos, i in enumerate(order):  # sweep along x: compare with the boxes that start before i ends
        ta, a = boxes[i]
        for j in order[a_pos + 1:]:
            tb, b = boxes[j]
            if b[0] >= a[2] - 0.5:
                break
            if min(a[3], b[3]) - max(a[1], b[1]) > 0.5:
                problems.append(f"{ta!r} {tuple(round(v) for v in a)} overlaps {tb!r} {tuple(round(v) for v in b)}")
    return problems


def _x(shape: tuple[int, int, int], floats: bool, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if floats:
        return np.round(rng.standard_normal(shape), 6)
    return rng.integers(-9, 10, shape).astype(float)


def _configs() -> list[tuple[str, dict[str, Any]]]:
    """A fixed grid: groups 1/2/4, lengths 1…64, dilation, every padding mode, transposed with
    output_padding, integer and float values."""
    out: list[tuple[str, dict[str, Any]]] = []
    for n, (groups, length) in enumerate(itertools.product((1, 2, 4), (1, 5, 13, 40, 64))):
        floats = n % 2 == 1
        seed = groups * 100 + length
        x = _x((1, groups * (2 if groups < 4 else 1), length), floats, seed)
        out.append((f"conv g{groups} L{length} {'float' if floats else 'int'}",
                    dict(input=x, out_channels=2 * groups, kernel_size=min(3, length), groups=groups,
                         padding=1 if length > 1 else 0, weight_fill="randn" if floats else "randint", seed=seed)))
    for mode, dilation, stride in itertools.product(("zeros", "reflect", "replicate", "circular"), (1, 3), (1, 2)):
        out.append((f"conv {mode} d{dilation} s{stride}",
                    dict(input=_x((1, 1, 17), False, dilation), kernel_size=3, padding=2, dilation=dilation,
                         stride=stride, padding_mode=mode, bias=True)))
    out.append(("conv same k5", dict(input=_x((1, 1, 30), True, 3), kernel_size=5, padding="same", weight_fill="randn",
                                     seed=3)))
    out.append(("conv big dilation", dict(input=_x((1, 1, 64), False, 4), kernel_size=3, dilation=20)))
    out.append(("conv batch 2", dict(input=_x((2, 3, 9), False, 5), out_channels=2, kernel_size=2, stride=2)))
    for length, stride, op, dilation, floats in ((1, 1, 0, 1, False), (4, 2, 1, 1, False), (7, 3, 2, 2, True),
                                                 (20, 2, 1, 1, False), (40, 4, 3, 1, True), (64, 2, 0, 1, False)):
        out.append((f"transposed L{length} s{stride} op{op} d{dilation}",
                    dict(input=_x((1, 2, length), floats, length), out_channels=2, kernel_size=3, stride=stride,
                         padding=1 if length > 1 else 0, output_padding=op, dilation=dilation, transposed=True,
                         weight_fill="randn" if floats else "ones", seed=length)))
    out.append(("transposed groups 2", dict(input=_x((1, 4, 6), False, 8), out_channels=4, kernel_size=4, stride=2,
                                            padding=1, groups=2, transposed=True)))
    return out


CONFIGS = _configs()


def _svgs(config: dict[str, Any], lang: str) -> list[tuple[str, str]]:
    """The overview, every step (of a long trace: the first two, the middle one and the last)
    and the GIF's frames (the same steps on the animation's canvas), as SVG."""
    trace = convtrace.explain(**config, verify=False)
    count = frame_count(trace)
    steps = list(range(count)) if count <= 12 else [0, 1, count // 2, count - 1]
    out = [("overview", render_svg(trace, lang=lang))]
    out += [(f"step {i}", render_svg(trace, step=i, lang=lang)) for i in steps]
    if count <= 12:  # a GIF frame is a step's figure on the animation's (larger) canvas
        frames = build_animation(trace, lang).frames
        out += [(f"gif frame {i}", figure_to_svg(frames[i])) for i in {0, count - 1}]
    return out


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_text_outside_the_canvas_and_no_overlap(lang: str) -> None:
    failures = []
    for name, config in CONFIGS:
        try:
            svgs = _svgs(config, lang)
        except ConvtraceError as err:  # pragma: no cover - the grid holds valid configurations only
            raise AssertionError(f"{name}: {err}") from None
        for kind, svg in svgs:
            failures += [f"{name}, {kind}: {p}" for p in layout_problems(svg)[:3]]
    assert not failures, "\n".join(failures[:40])


def test_the_checker_sees_a_clipped_label_and_an_overlap() -> None:
    """The check itself: a label past the right edge and two labels on one spot fail."""
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="100" height="50">'
           '<text x="90" y="20" font-size="12" text-anchor="start">y[1][6] = -1.7795</text></svg>')
    assert "outside" in layout_problems(svg)[0]
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="300" height="50">'
           '<text x="10" y="20" font-size="12" text-anchor="start">abc</text>'
           '<text x="20" y="22" font-size="12" text-anchor="start">输出</text></svg>')
    assert len(layout_problems(svg)) == 1 and "overlaps" in layout_problems(svg)[0]
    svg = svg.replace('x="20"', 'x="40"')
    assert layout_problems(svg) == []


FONTS = {
    ("en", False): "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    ("en", True): "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    ("zh", False): "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_width_estimate_is_conservative(lang: str) -> None:
    """The layout's estimate is at least what the fonts that the figures name really take."""
    image_font = pytest.importorskip("PIL.ImageFont")
    fonts = {bold: Path(FONTS.get((lang, bold), FONTS[(lang, False)])) for bold in (False, True)}
    if not all(p.exists() for p in fonts.values()):
        pytest.skip("the figures' fonts are not installed")
    faces = {bold: image_font.truetype(str(p), 100) for bold, p in fonts.items()}
    texts: set[tuple[str, bool]] = set()
    for _, config in CONFIGS[::3]:
        for _, svg in _svgs(config, lang)[:2]:
            for el in ET.fromstring(svg).iter(f"{NS}text"):
                if el.text and el.get("font-family") is None and not list(el):
                    texts.add((el.text, el.get("font-weight") == "bold"))
    assert len(texts) > 100
    too_narrow = [(t, bold) for t, bold in sorted(texts)
                  if text_width(t, 100, bold=bold) < faces[bold].getlength(t) - 0.5]
    assert not too_narrow, too_narrow[:10]
