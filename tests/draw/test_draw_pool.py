"""The pooling figures (issue 17) against PyTorch: every number a figure shows, the max's
winner at PyTorch's index, the mean's divisor and why, the ceil_mode overhang shaded apart
from the padding, adaptive windows of varying length, max_unpool1d's landings and
collisions; frames and GIFs; goldens; layout (no clipped or overlapping text)."""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_figures_fit import layout_problems

import convtrace
from backends import onednn
from convtrace import shapes
from convtrace.draw import build_animation, build_figure, frame_count, render_svg, save
from convtrace.draw.model import Figure, Group, Rect, Text
from convtrace.render.numfmt import fmt

torch = pytest.importorskip("torch")
F = torch.nn.functional

AVG_CEIL: dict[str, Any] = dict(op="avg_pool1d", input=[1, 2, 3, 4, 5, 6], kernel_size=3, stride=2, padding=1,
                                ceil_mode=True)
MAX_CEIL: dict[str, Any] = dict(op="max_pool1d", input=[1, 3, 3, 5, 4], kernel_size=2, padding=1, ceil_mode=True)
LP_CEIL: dict[str, Any] = dict(op="lp_pool1d", input=[1, 1, 1, 1, 1], norm_type=2, kernel_size=2, ceil_mode=True)
ADAPTIVE: dict[str, Any] = dict(op="adaptive_avg_pool1d", input=[1, 2, 3, 4, 5], output_size=3)
ADAPTIVE_MAX: dict[str, Any] = dict(op="adaptive_max_pool1d", input=[2, 9, 4, 9, 1], output_size=3)
UNPOOL: dict[str, Any] = dict(op="max_unpool1d", input=[5, 7, 9], indices=[1, 1, 4], kernel_size=2, output_size=[6])


def _explain(config: dict[str, Any]) -> Any:
    return convtrace.explain(**config, verify=False)


def _cells(fig: Figure, *roles: str) -> list[str]:
    """Texts of the value cells with one of ``roles``, in drawing order."""
    return [g.label for g in fig.walk() if isinstance(g, Group) and g.role in roles]


def _texts(fig: Figure, role: str) -> list[str]:
    return [t.text for t in fig.walk() if isinstance(t, Text) and t.role == role]


def _cell_x(fig: Figure, role: str) -> list[float]:
    return [g.items[0].x for g in fig.walk() if isinstance(g, Group) and g.role == role and isinstance(g.items[0], Rect)]


def _torch(config: dict[str, Any]) -> tuple[np.ndarray, np.ndarray | None]:
    """PyTorch's output (and indices, for the max pools) of a one-channel configuration,
    with oneDNN on and off (the two must agree)."""
    answers = []
    for enabled in (True, False):
        with onednn(enabled):
            answers.append(_torch_once(config))
    (a, ia), (b, ib) = answers
    np.testing.assert_array_equal(a, b)
    if ia is not None:
        np.testing.assert_array_equal(ia, ib)
    return a, ia


def _torch_once(config: dict[str, Any]) -> tuple[np.ndarray, np.ndarray | None]:
    x = torch.tensor(np.asarray(config["input"], dtype=np.float64)).reshape(1, 1, -1)
    kw = {k: v for k, v in config.items() if k not in ("op", "input", "indices")}
    op = config["op"]
    if op in ("max_pool1d", "adaptive_max_pool1d"):
        y, idx = getattr(F, op)(x, **kw, return_indices=True)
        return y.numpy()[0, 0], idx.numpy()[0, 0]
    if op == "max_unpool1d":
        size = kw.pop("output_size", None)
        idx = torch.tensor(config["indices"]).reshape(1, 1, -1)
        return F.max_unpool1d(x, idx, **kw, output_size=size).numpy()[0, 0], None
    return getattr(F, op)(x, **kw).numpy()[0, 0], None


# ----------------------------------------------------------------------------- numbers


@pytest.mark.parametrize("config", [AVG_CEIL, MAX_CEIL, LP_CEIL, ADAPTIVE, ADAPTIVE_MAX, UNPOOL],
                         ids=lambda c: c["op"])
def test_overview_output_is_pytorchs(config: dict[str, Any]) -> None:
    want, _ = _torch(config)
    fig = build_figure(_explain(config))
    assert _cells(fig, "output", "collision", "untouched") == [fmt(float(v)) for v in want]


@pytest.mark.parametrize("config", [MAX_CEIL, ADAPTIVE_MAX, dict(MAX_CEIL, input=[4, 4, 4, 4, 4]),
                                    dict(op="max_pool1d", input=[0, 5, 1, 5, 2, 7, 3], kernel_size=3, stride=2,
                                         dilation=2, padding=1)],
                         ids=["ceil", "adaptive", "ties", "dilation"])
def test_every_frame_marks_pytorchs_winner(config: dict[str, Any]) -> None:
    want, indices = _torch(config)
    assert indices is not None
    trace = _explain(config)
    assert frame_count(trace) == len(want)
    for t in range(len(want)):
        fig = build_figure(trace, t)
        current = _cells(fig, "current")
        assert current == [fmt(float(want[t]))], (t, current)
        assert _cells(fig, "winner") == [fmt(float(config["input"][indices[t]]))]
        # the winner sits in the column of PyTorch's index (the input cell drawn above it)
        winner_x = _cell_x(fig, "winner")
        input_x = [g.items[0].x for g in fig.walk() if isinstance(g, Group) and g.role == "input"]
        column = next(i for i, x in enumerate(input_x) if x == winner_x[0])
        assert column == indices[t], (t, column, indices[t])  # the input cells are the samples, in order
        line = _texts(fig, "pool-winner")[0]
        assert line.startswith(f"x{indices[t] + 1} wins (index {indices[t]})"), line
        if len(set(config["input"])) == 1:  # every sample equal: a tie wherever two samples are read
            real = shapes.pool_window(t, 5, 2, 2, 1).real_positions
            assert ("first of the ties" in line) is (len(real) > 1), (t, real, line)


def test_avg_divisor_counts_padding_never_the_overhang() -> None:
    # L=6, k=3, s=2, p=1, ceil_mode: the last window reads x6, one padding cell and one
    # overhang cell: (6 + 0) / 2 = 3 (the example)
    want, _ = _torch(AVG_CEIL)
    fig = build_figure(_explain(AVG_CEIL), 3)
    assert _texts(fig, "pool-sum") == ["mean = (6 + 0) / 2 = 3"] and fmt(float(want[3])) == "3"
    assert _texts(fig, "pool-divisor") == [
        "divisor 2 = 1 sample(s) + 1 padding cell(s): count_include_pad counts the padding"]
    assert _texts(fig, "pool-overhang") == ["1 overhang cell(s) past the padded input (ceil_mode): never counted"]
    assert _cells(fig, "read") == ["6", "0"] and _cells(fig, "excluded") == [""]
    # without count_include_pad only the sample counts
    config = dict(AVG_CEIL, count_include_pad=False)
    want, _ = _torch(config)
    fig = build_figure(_explain(config), 3)
    assert _texts(fig, "pool-sum") == [f"mean = (6) / 1 = {fmt(float(want[3]))}"]
    assert _texts(fig, "pool-divisor")[0].startswith("divisor 1 = 1 sample(s): count_include_pad=False")
    assert _cells(fig, "excluded") == ["0", ""]


def test_overhang_is_shaded_apart_from_padding() -> None:
    fig = build_figure(_explain(AVG_CEIL), 3)
    overhang = [s for s in fig.walk() if isinstance(s, Rect) and s.role == "overhang"]
    padding = [s for s in fig.walk() if isinstance(s, Rect) and s.role == "zero"]
    assert len(overhang) == 1 and len(padding) == 2  # one overhang column, padding on each side
    assert {(r.fill, r.stroke, r.dash) for r in overhang}.isdisjoint({(r.fill, r.stroke, r.dash) for r in padding})
    assert _texts(fig, "sample-overhang") == ["ceil"] and _texts(fig, "sample-pad") == ["pad", "pad"]
    assert "ceil_mode overhang (never counted)" in fig.texts()
    # the max pads with -inf (its own style); without ceil_mode there is no overhang at all
    fig = build_figure(_explain(MAX_CEIL), 0)
    assert _cells(fig, "pad_inf") == ["−∞", "−∞"]
    fig = build_figure(_explain(dict(AVG_CEIL, ceil_mode=False)), 0)
    assert not [s for s in fig.walk() if isinstance(s, Rect) and s.role == "overhang"]


def test_lp_pool_partial_window_is_scaled_as_pytorch_does() -> None:
    want, _ = _torch(LP_CEIL)  # the example: 1.4142 for a last window whose L2 norm is 1
    fig = build_figure(_explain(LP_CEIL), 2)
    assert _cells(fig, "current") == [fmt(float(want[2]))] == ["1.41421"]
    assert _texts(fig, "pool-sum") == ["(1^2) · 2/1 = 2, ^(1/2) = 1.41421"]
    assert _texts(fig, "pool-divisor") == [
        "ceil_mode: the window holds 1 of 2 taps; PyTorch scales its sum by kernel_size/1"]
    full = build_figure(_explain(LP_CEIL), 0)
    assert _texts(full, "pool-sum") == ["(1^2 + 1^2)^(1/2) = 1.41421"] and not _texts(full, "pool-divisor")
    signed = dict(LP_CEIL, input=[1, -3, 2, 2], norm_type=1, ceil_mode=False)
    want, _ = _torch(signed)
    fig = build_figure(_explain(signed), 0)
    assert _cells(fig, "current") == [fmt(float(want[0]))] == ["-2"]
    assert _texts(fig, "pool-note") == ["no abs: p=1 gives a signed sum"]


@pytest.mark.parametrize(("length", "size"), [(5, 3), (2, 3), (7, 4)])
def test_adaptive_windows_vary_in_length(length: int, size: int) -> None:
    config = dict(op="adaptive_avg_pool1d", input=list(range(1, length + 1)), output_size=size)
    want, _ = _torch(config)
    trace = _explain(config)
    starts = [(i * length) // size for i in range(size)]
    ends = [-((-(i + 1) * length) // size) for i in range(size)]
    for t in range(size):
        fig = build_figure(trace, t)
        assert _cells(fig, "read") == [str(v) for v in range(starts[t] + 1, ends[t] + 1)]
        bounds = (f"[floor({t}·{length}/{size}), ceil({t + 1}·{length}/{size})) = [{starts[t]}, {ends[t]}): "
                  f"{ends[t] - starts[t]} sample(s)")
        assert _texts(fig, "pool-bounds") == [bounds]
        assert _cells(fig, "current") == [fmt(float(want[t]))]
    if (length, size) == (5, 3):
        assert [e - s for s, e in zip(starts, ends)] == [2, 3, 2]


def test_unpool_landings_and_collisions() -> None:
    want, _ = _torch(UNPOOL)  # x1 and x2 both land on index 1: PyTorch keeps the last, 7
    trace = _explain(UNPOOL)
    assert frame_count(trace) == 3
    second = build_figure(trace, 1)
    assert _texts(second, "pool-sum") == ["x2 = 7 → index 1 = y2"]
    assert _texts(second, "pool-collision") == ["collision: x1 wrote y2 before; x2 stays (the last write; PyTorch does not promise which)"]
    assert _texts(second, "collision-count") == ["×2"]
    assert _cells(second, "current") == ["7"]
    first = build_figure(trace, 0)
    assert _cells(first, "current") == ["5"] and not _texts(first, "pool-collision")
    overview = build_figure(trace)
    assert _cells(overview, "collision") == [fmt(float(want[1]))] == ["7"]
    assert _cells(overview, "untouched") == ["0"] * 4
    assert len([s for s in overview.walk() if s.role == "landing"]) == 3


# ----------------------------------------------------------------------------- frames, GIF, PNG


def _image(data: bytes) -> Any:
    from PIL import Image

    return Image.open(io.BytesIO(data))


@pytest.mark.parametrize(("config", "frames"), [(AVG_CEIL, 4), (MAX_CEIL, 3), (LP_CEIL, 3), (ADAPTIVE, 3),
                                                (UNPOOL, 3)], ids=lambda c: c["op"] if isinstance(c, dict) else str(c))
def test_gif_has_one_frame_per_window(config: dict[str, Any], frames: int, tmp_path: Path) -> None:
    pytest.importorskip("cairosvg")
    from convtrace.draw.raster import GIF_SCALE, SCALE

    trace = _explain(config)
    save(trace, tmp_path / "a.gif")
    gif = _image((tmp_path / "a.gif").read_bytes())
    anim = build_animation(trace)
    assert gif.n_frames == frame_count(trace) == len(anim.frames) == frames
    assert gif.size == (round(anim.width * GIF_SCALE), round(anim.height * GIF_SCALE))
    assert len({(f.width, f.height) for f in anim.frames}) == 1
    save(trace, tmp_path / "a.png", step=0)
    fig = build_figure(trace, 0)
    assert _image((tmp_path / "a.png").read_bytes()).size == (round(fig.width * SCALE), round(fig.height * SCALE))


def test_window_slides_from_frame_to_frame() -> None:
    anim = build_animation(_explain(AVG_CEIL))
    lefts = [next(s.x for s in f.walk() if isinstance(s, Rect) and s.role == "window") for f in anim.frames]
    pitch = lefts[1] - lefts[0]
    assert pitch > 0 and np.allclose(np.diff(lefts), pitch)  # stride 2: the same step each frame


# ----------------------------------------------------------------------------- goldens, layout

GOLDEN: dict[str, tuple[dict[str, Any], int | None, str]] = {
    "pool_avg_ceil_step4.svg": (AVG_CEIL, 3, "en"),
    "pool_avg_ceil_overview.svg": (AVG_CEIL, None, "en"),
    "pool_max_ceil_step2.svg": (MAX_CEIL, 1, "en"),
    "pool_lp_ceil_step3_zh.svg": (LP_CEIL, 2, "zh"),
    "pool_adaptive_overview.svg": (ADAPTIVE, None, "en"),
    "pool_unpool_step2.svg": (UNPOOL, 1, "en"),
    "pool_unpool_overview_zh.svg": (UNPOOL, None, "zh"),
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_pool_svg(name: str, golden: Callable[[str, str], None]) -> None:
    config, step, lang = GOLDEN[name]
    trace = _explain(config)
    svg = render_svg(trace, step=step, lang=lang)
    assert svg == render_svg(trace, step=step, lang=lang)
    golden(name, svg)


SWEEP = [
    *(dict(op="max_pool1d", input=list(range(n)), kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=c)
      for n, k, s, p, d, c in itertools.product((5, 40), (2, 3), (1, 2), (0, 1), (1, 2), (False, True))
      if p <= k // 2 and n + 2 * p >= d * (k - 1) + 1),
    *(dict(op="avg_pool1d", input=[0.125 * i for i in range(n)], kernel_size=k, stride=s, padding=p, ceil_mode=c,
           count_include_pad=i)
      for n, k, s, p, c, i in itertools.product((6, 33), (3,), (2,), (0, 1), (False, True), (False, True))),
    dict(op="lp_pool1d", input=[-1.5, 2, 3, -4, 5], norm_type=3, kernel_size=2, ceil_mode=True),
    dict(op="adaptive_max_pool1d", input=list(range(50)), output_size=7),
    dict(op="adaptive_avg_pool1d", input=[1, 2], output_size=5),
    dict(op="max_unpool1d", input=list(range(1, 31)), indices=[2 * i + (i % 2) for i in range(30)], kernel_size=2),
    dict(op="max_pool1d", input=[i % 7 for i in range(300)], kernel_size=2),  # only some outputs explained
    dict(op="avg_pool1d", input=[i % 5 for i in range(200)], kernel_size=3, at=(0, 0, 30)),
    UNPOOL,
    dict(op="max_unpool1d", input=[[1, 2, 3], [4, 5, 6]], indices=[[0, 0, 0], [1, 3, 1]], kernel_size=2),
    dict(op="max_pool1d", input=[[1, 2, 3, 4], [5, 6, 7, 8]], kernel_size=2),
    dict(op="avg_pool1d", input=[[[1, 2, 3, 4]], [[5, 6, 7, 8]]], kernel_size=3, padding=1),
]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_pool_figures_fit(lang: str) -> None:
    problems: list[str] = []
    for config in SWEEP:
        trace = _explain(config)
        for step in [None, *range(min(frame_count(trace), 3)), frame_count(trace) - 1]:
            for problem in layout_problems(render_svg(trace, step=step, lang=lang)):
                problems.append(f"{config} step {step}: {problem}")
    assert problems == []


def test_convtrace_draw_command_draws_pools(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from convtrace.cli import main

    out = tmp_path / "avg.svg"
    flags = ["--op", "avg_pool1d", "--input", "1,2,3,4,5,6", "--kernel-size", "3", "--stride", "2", "--padding", "1",
             "--ceil-mode", "--no-verify"]
    assert main(["draw", *flags, "--step", "4", "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == render_svg(_explain(AVG_CEIL), step=3)
    # an invalid setting: the resolver's words, no file
    bad = tmp_path / "bad.svg"
    assert main(["draw", "--op", "avg_pool1d", "--input", "1,2,3", "--kernel-size", "2", "--padding", "2", "-o",
                 str(bad)]) == 2
    assert "pad should be at most half of effective kernel size" in capsys.readouterr().err
    assert not bad.exists()


def test_nan_wins_the_max_at_pytorchs_index() -> None:
    config = dict(op="max_pool1d", input=[1.0, float("nan"), 3.0, float("-inf"), 2.0], kernel_size=2, stride=1,
                  padding=1)
    want, indices = _torch(config)
    assert indices is not None
    trace = _explain(config)
    for t in range(len(want)):
        fig = build_figure(trace, t)
        assert _cells(fig, "current") == [fmt(float(want[t]))]
        line = _texts(fig, "pool-winner")[0]
        if np.isnan(want[t]):
            assert line == f"x{indices[t] + 1} is NaN: NaN wins (index {indices[t]})", line
        else:
            assert line.startswith(f"x{indices[t] + 1} wins (index {indices[t]})"), line
    assert _texts(build_figure(trace, 1), "pool-sum") == ["max(1, nan) = nan"]
