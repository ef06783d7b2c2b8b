"""``convtrace draw --stream``: the chunk loop as frames of the one drawing model (SVG, PNG,
GIF), each cell drawn from the streamer's state."""

from __future__ import annotations

import io

import pytest

import convtrace
from convtrace.draw import build_animation, build_figure, frame_count, render_svg
from convtrace.draw.model import Group, Text


def _seed(**kw):
    return convtrace.explain([1, 1, 1, 1], [1, 1, 1], padding=1, stream_chunk=2, verify=False, **kw)


def _cells(fig, role):
    return [s.label for s in fig.walk() if isinstance(s, Group) and s.role == role]


def test_one_frame_per_push_then_the_flush():
    t = _seed()
    assert frame_count(t) == 3
    anim = build_animation(t)
    assert [f.title for f in anim.frames][-1] == "Conv1d streamed — flush()"
    assert len({(f.width, f.height) for f in anim.frames}) == 1


def test_cache_cells_are_the_streamers_state_and_outputs_its_outputs():
    t = _seed()
    fig = build_figure(t)  # the explained push: 2
    window = t.stream.state("window")
    assert _cells(fig, "cache") == [str(int(v)) for v in window.values]
    assert _cells(fig, "new") == ["1", "1"]
    assert _cells(fig, "current") == ["3", "3"]  # y2, y3 final now
    assert _cells(fig, "output") == ["2"]  # y1, final at push 1
    assert _cells(fig, "pending")[-1] == "?"  # y4 waits for the flush
    labels = [s.text for s in fig.walk() if isinstance(s, Text) and s.role == "cache-box-label"]
    assert labels == ["cache before the push (state)"]


def test_transposed_frames_show_the_tail_without_the_bias():
    t = convtrace.explain([1, 1, 1, 1], [1, 1, 1], bias=[0.5], stride=2, padding=1, transposed=True, stream_chunk=2,
                          verify=False)
    first, second, flush = build_animation(t).frames
    assert _cells(first, "tail") == ["1"]  # x2·w3 carried on, no 0.5
    assert _cells(second, "cache") == ["1"]  # ... and carried in
    assert _cells(second, "current") == ["2.5", "1.5", "2.5", "1.5"]
    assert "Why the bias is not in the tail" in " ".join(first.texts())
    assert _cells(flush, "current") == []  # the last tail position is cropped: flush() gives nothing


def test_svg_png_gif_of_one_model(tmp_path):
    pytest.importorskip("PIL")
    pytest.importorskip("cairosvg")
    from PIL import Image

    t = _seed(stream_push=1)
    svg = render_svg(t, lang="zh")
    assert svg.startswith("<svg") and "第 1 次 push" in svg
    t.save(str(tmp_path / "a.png"))
    t.save(str(tmp_path / "a.gif"))
    gif = Image.open(tmp_path / "a.gif")
    assert gif.n_frames == 3
    png = Image.open(io.BytesIO((tmp_path / "a.png").read_bytes()))
    assert png.size == (2 * round(build_figure(t).width), 2 * round(build_figure(t).height))  # drawn at 2x


def test_draw_cli_stream_gif(tmp_path):
    pytest.importorskip("PIL")
    from convtrace.cli import main

    out = tmp_path / "s.gif"
    assert main(["draw", "--input", "1,1,1,1", "--kernel-size", "3", "--padding", "1", "--stream", "--chunk", "2",
                 "--no-verify", "-o", str(out)]) == 0
    assert out.read_bytes()[:6] == b"GIF89a"


def _layout_problems():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "draw" / "test_figures_fit.py"
    spec = importlib.util.spec_from_file_location("figures_fit", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.layout_problems


SWEEP = [
    dict(input=[1, 1, 1, 1], weight=[1, 1, 1], padding=1, stream_chunk=2),
    dict(input=[1, 2, 3, 4, 5, 6], weight=[1, 10, 100], padding=2, padding_mode="reflect", stream_chunk=2),
    dict(input=list(range(1, 12)), kernel_size=3, dilation=2, stride=2, padding=3, padding_mode="replicate", stream_chunk=3),
    dict(input=[1, 1, 1, 1], weight=[1, 1, 1], bias=[0.5], stride=2, padding=1, transposed=True, stream_chunk=2),
    dict(input=[1, 2, 3, 4, 5], kernel_size=4, stride=3, padding=2, output_padding=1, transposed=True, stream_chunk=1),
    dict(input=[0.25, -1.5, 2, 3.125, 4, 5, 6, 7], weight=[0.5, -1, 2], padding="same", stream_chunk="hop"),
]


@pytest.mark.parametrize("case", range(len(SWEEP)))
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_stream_frames_fit_and_do_not_overlap(case, lang):
    from convtrace.draw.svg import figure_to_svg

    problems = _layout_problems()
    t = convtrace.explain(**SWEEP[case], verify=False)
    for frame in build_animation(t, lang).frames:
        assert problems(figure_to_svg(frame)) == [], frame.title
