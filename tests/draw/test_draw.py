"""The drawing model against PyTorch (every number a figure shows), frames, PNG and GIF
sizes, one model for every format, errors and the ``convtrace draw`` command."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import convtrace
from convtrace import ConvtraceError
from convtrace.draw import build_animation, build_figure, frame_count, render_svg, save
from convtrace.draw.model import Figure, Group, Text
from convtrace.render.numfmt import fmt

torch = pytest.importorskip("torch")

DEMO: dict[str, Any] = dict(input=[1, 1, 1, 1], weight=[1, 1, 1], padding=1)
TRANSPOSED: dict[str, Any] = dict(input=[1, 1, 1, 1], weight=[1, 1, 1], stride=2, padding=1, output_padding=1,
                                  transposed=True)


def _cells(fig: Figure, roles: tuple[str, ...]) -> list[str]:
    """Texts of the value cells with one of ``roles``, in drawing order."""
    return [g.label for g in fig.walk() if isinstance(g, Group) and g.role in roles]


def _torch_output(config: dict[str, Any]) -> np.ndarray:
    x = torch.tensor(np.array(config["input"], dtype=np.float64)).reshape(1, 1, -1)
    w = torch.tensor(np.array(config["weight"], dtype=np.float64)).reshape(1, 1, -1)
    keys = ("stride", "padding", "dilation")
    kw = {k: config[k] for k in keys if k in config}
    if config.get("transposed"):
        m = torch.nn.ConvTranspose1d(1, 1, w.shape[-1], bias=False, output_padding=config.get("output_padding", 0),
                                     dtype=torch.float64, **kw)
        with torch.no_grad():
            m.weight.copy_(w)
    else:
        m = torch.nn.Conv1d(1, 1, w.shape[-1], bias=False, padding_mode=config.get("padding_mode", "zeros"),
                            dtype=torch.float64, **kw)
        with torch.no_grad():
            m.weight.copy_(w)
    with torch.no_grad():
        return np.asarray(m(x).numpy()[0, 0])


def test_demo_overview_shows_pytorchs_output() -> None:
    fig = build_figure(convtrace.explain(**DEMO, verify=False))
    assert _cells(fig, ("output",)) == [fmt(v) for v in _torch_output(DEMO)] == ["2", "3", "3", "2"]
    assert [t.text for t in fig.walk() if isinstance(t, Text) and t.role == "window-label"] == [
        "y1 = 2", "y2 = 3", "y3 = 3", "y4 = 2"]
    assert _cells(fig, ("zero",)) == ["0", "0"]  # the two padding cells, in their own style


def test_transposed_overview_shows_pytorchs_output_and_overlap() -> None:
    fig = build_figure(convtrace.explain(**TRANSPOSED, verify=False))
    out = _torch_output(TRANSPOSED)
    assert _cells(fig, ("output",)) == [fmt(v) for v in out] == ["1", "2", "1", "2", "1", "2", "1", "1"]
    counts = [t.text for t in fig.walk() if isinstance(t, Text) and t.role == "overlap-count"]
    assert counts == ["1", "2", "1", "2", "1", "2", "1", "1"]
    roles = {s.role for s in fig.walk()}
    assert {"zero-insertion", "matrix", "heat", "crop-mark", "output-padding-mark", "gradient-equal"} <= roles


@settings(max_examples=25, derandomize=True, deadline=None)
@given(
    data=st.lists(st.integers(-5, 5), min_size=3, max_size=9),
    kernel=st.lists(st.integers(-3, 3), min_size=1, max_size=3),
    stride=st.integers(1, 3),
    padding=st.integers(0, 2),
    dilation=st.integers(1, 2),
    mode=st.sampled_from(["zeros", "reflect", "replicate", "circular"]),
)
def test_every_frame_sum_is_pytorchs_value(data: list[int], kernel: list[int], stride: int, padding: int,
                                           dilation: int, mode: str) -> None:
    config: dict[str, Any] = dict(input=data, weight=kernel, stride=stride, padding=padding, dilation=dilation,
                                  padding_mode=mode)
    try:
        trace = convtrace.explain(**config, verify=False)
    except ConvtraceError:
        return  # invalid configurations are the explainer's business (tested there)
    out = _torch_output(config)
    assert frame_count(trace) == len(out)
    for i in range(frame_count(trace)):
        fig = build_figure(trace, i)
        sums = [t.text for t in fig.walk() if isinstance(t, Text) and t.role == "sum"]
        assert len(sums) == 1 and sums[0].endswith(f"= {fmt(out[i])}"), (sums, out[i])
        assert _cells(fig, ("current",)) == [fmt(out[i])]
        products = _cells(fig, ("product",))
        assert products == [fmt(t.product) for t in trace.steps[i].terms if dilation * t.kernel_index >= 0]


@settings(max_examples=20, derandomize=True, deadline=None)
@given(
    data=st.lists(st.integers(-4, 4), min_size=1, max_size=6),
    kernel=st.lists(st.integers(-3, 3), min_size=1, max_size=4),
    stride=st.integers(1, 3),
    padding=st.integers(0, 2),
    output_padding=st.integers(0, 2),
    dilation=st.integers(1, 2),
)
def test_transposed_last_frame_accumulates_to_pytorch(data: list[int], kernel: list[int], stride: int, padding: int,
                                                      output_padding: int, dilation: int) -> None:
    config: dict[str, Any] = dict(input=data, weight=kernel, stride=stride, padding=padding,
                                  output_padding=output_padding, dilation=dilation, transposed=True)
    try:
        trace = convtrace.explain(**config, verify=False)
    except ConvtraceError:
        return
    out = _torch_output(config)
    assert frame_count(trace) == len(data)
    last = build_figure(trace, frame_count(trace) - 1)
    shown = [g for g in last.walk() if isinstance(g, Group) and g.role in ("output", "current", "empty", "output_padding")]
    assert len(shown) == len(out)
    for g, v in zip(shown, out):  # an empty cell is an output no tap reaches: 0
        assert (g.label or "0") == fmt(v), (g.label, v)


def test_frames_share_one_size_and_count() -> None:
    for config in (DEMO, TRANSPOSED, dict(input=list(range(40)), weight=[1, 2], stride=1)):
        trace = convtrace.explain(**config, verify=False)
        anim = build_animation(trace)
        assert len(anim.frames) == frame_count(trace) > 0
        assert len({(f.width, f.height) for f in anim.frames}) == 1


def test_many_channels_are_summarised_not_crammed() -> None:
    trace = convtrace.explain(input_shape=(1, 12, 6), out_channels=12, kernel_size=3, verify=False)
    fig = build_figure(trace, 0)
    assert any(t.role == "channels-summary" for t in fig.walk() if isinstance(t, Text))
    assert len([g for g in fig.walk() if isinstance(g, Group) and g.role == "channel"]) == 7
    labels = [t.text for t in fig.walk() if isinstance(t, Text) and t.role == "row-label" and t.text.startswith("y[")]
    assert len(labels) == 8
    assert fig.width < 1600 and fig.height < 3000


def test_long_rows_are_elided_around_the_step() -> None:
    trace = convtrace.explain(input=list(range(200)), weight=[1, 1, 1], verify=False)
    fig = build_figure(trace, trace.steps.index(trace.step_at(0, 0, 197)))
    assert any(t.role == "ellipsis" for t in fig.walk() if isinstance(t, Text))
    assert fig.width < 1800


def test_huge_inputs_draw_only_what_is_visible() -> None:
    trace = convtrace.explain(input=np.ones((1, 64, 100_000)), out_channels=64, kernel_size=5, verify=False)
    for step in (None, 3):
        fig = build_figure(trace, step)
        assert sum(1 for _ in fig.walk()) < 3000 and fig.width < 2000
    tt = convtrace.explain(input=np.ones((1, 4, 100_000)), kernel_size=3, stride=2, out_channels=2, transposed=True,
                           verify=False)
    fig = build_figure(tt)
    assert sum(1 for _ in fig.walk()) < 3000 and fig.width < 2500


def test_chinese_labels_and_cjk_font() -> None:
    svg = render_svg(convtrace.explain(**DEMO, verify=False), step=0, lang="zh")
    assert "求和 = 0 + 1 + 1 = 2" in svg and "输出 y" in svg
    assert "font-family=\"'WenQuanYi Micro Hei'" in svg


def test_bad_step_lang_and_suffix(tmp_path: Path) -> None:
    trace = convtrace.explain(**DEMO, verify=False)
    with pytest.raises(ConvtraceError, match="step"):
        render_svg(trace, step=4)
    with pytest.raises(ConvtraceError, match="step"):
        render_svg(trace, step=-1)
    with pytest.raises(ConvtraceError, match="lang"):
        render_svg(trace, lang="fr")
    with pytest.raises(ConvtraceError, match=r"suffix|end in"):
        save(trace, tmp_path / "x.jpg")


# ------------------------------------------------------------------ PNG and GIF


def _image(data: bytes) -> Any:
    image = pytest.importorskip("PIL.Image")
    return image.open(io.BytesIO(data))


def test_png_size_and_gif_frames(tmp_path: Path) -> None:
    pytest.importorskip("cairosvg")
    from convtrace.draw.raster import GIF_SCALE, SCALE, png_bytes

    for config in (DEMO, TRANSPOSED):
        trace = convtrace.explain(**config, verify=False)
        save(trace, tmp_path / "a.png", step=0)
        fig = build_figure(trace, 0)
        png = _image((tmp_path / "a.png").read_bytes())
        assert png.size == (round(fig.width * SCALE), round(fig.height * SCALE))
        save(trace, tmp_path / "a.gif")
        gif = _image((tmp_path / "a.gif").read_bytes())
        anim = build_animation(trace)
        assert gif.n_frames == frame_count(trace) == len(anim.frames)
        assert gif.size == (round(anim.width * GIF_SCALE), round(anim.height * GIF_SCALE))
        # frame 1 of the GIF is the PNG of figure 1 (one drawing model, every format)
        gif.seek(1)
        got = np.asarray(gif.convert("RGB"), dtype=float)
        want = np.asarray(_image(png_bytes(anim.frames[1], GIF_SCALE)).convert("RGB"), dtype=float)
        assert got.shape == want.shape and np.abs(got - want).mean() < 3.0
        other = np.asarray(_image(png_bytes(anim.frames[0], GIF_SCALE)).convert("RGB"), dtype=float)
        assert np.abs(got - other).mean() > np.abs(got - want).mean()


# ------------------------------------------------------------------ the command


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    from convtrace.cli import main

    def run(*argv: str) -> tuple[int, str, str]:
        try:
            code = main(list(argv))
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_cli_draw_writes_each_format(tmp_path: Path, run_cli: Callable[..., tuple[int, str, str]]) -> None:
    flags = ["--input", "1,1,1,1", "--kernel-size", "3", "--padding", "1", "--no-verify"]
    code, _, err = run_cli("draw", *flags, "-o", str(tmp_path / "d.svg"))
    assert code == 0, err
    trace = convtrace.explain(**DEMO, verify=False)
    assert (tmp_path / "d.svg").read_text(encoding="utf-8") == render_svg(trace)
    code, _, err = run_cli("draw", *flags, "--step", "2", "--lang", "zh", "-o", str(tmp_path / "d2.svg"))
    assert code == 0 and (tmp_path / "d2.svg").read_text(encoding="utf-8") == render_svg(trace, step=2, lang="zh")
    pytest.importorskip("cairosvg")
    pytest.importorskip("PIL")
    for suffix in ("png", "gif"):
        code, _, err = run_cli("draw", *flags, "--transposed", "--stride", "2", "-o", str(tmp_path / f"t.{suffix}"))
        assert code == 0, err
        assert (tmp_path / f"t.{suffix}").stat().st_size > 1000


def test_cli_draw_one_element(tmp_path: Path, run_cli: Callable[..., tuple[int, str, str]]) -> None:
    code, _, err = run_cli("draw", "--input", "1,2,3,4,5", "--kernel-size", "3", "--at", "0,0,1", "--no-verify",
                           "--step", "0", "-o", str(tmp_path / "at.svg"))
    assert code == 0, err
    svg = (tmp_path / "at.svg").read_text(encoding="utf-8")
    assert "step 1 of 1: y2" in svg and "sum = 2 + 3 + 4 = 9" in svg


def test_cli_draw_errors(tmp_path: Path, run_cli: Callable[..., tuple[int, str, str]]) -> None:
    code, _, err = run_cli("draw", "--input", "1,2", "--kernel-size", "5", "-o", str(tmp_path / "x.svg"))
    assert code == 2 and "nearest valid" in err and "Traceback" not in err
    code, _, err = run_cli("draw", "--input", "1,2,3", "--kernel-size", "2", "--step", "9", "--no-verify",
                           "-o", str(tmp_path / "x.svg"))
    assert code == 2 and "step" in err
    code, _, err = run_cli("draw", "--input", "1,2,3", "--no-verify", "-o", str(tmp_path / "x.bmp"))
    assert code == 2 and ".svg" in err
    code, _, err = run_cli("draw", "--input", "1,2,3", "--no-verify", "-o", str(tmp_path / "no" / "dir" / "x.svg"))
    assert code == 2 and "cannot write" in err
    assert not (tmp_path / "x.svg").exists()


@settings(max_examples=60, derandomize=True, deadline=None)
@given(
    batch=st.integers(1, 2), groups=st.integers(1, 2), cin_per=st.integers(1, 2), cout_per=st.integers(1, 2),
    length=st.integers(1, 9), k=st.integers(1, 4), stride=st.integers(1, 3), padding=st.integers(0, 3),
    dilation=st.integers(1, 2), output_padding=st.integers(0, 2), transposed=st.booleans(),
    mode=st.sampled_from(["zeros", "reflect", "replicate", "circular"]), bias=st.booleans(),
    lang=st.sampled_from(["en", "zh"]),
)
def test_any_configuration_draws_well_formed_svg(batch: int, groups: int, cin_per: int, cout_per: int, length: int,
                                                 k: int, stride: int, padding: int, dilation: int,
                                                 output_padding: int, transposed: bool, mode: str, bias: bool,
                                                 lang: str) -> None:
    import xml.etree.ElementTree as ET

    rng = np.random.default_rng(length * 7 + k)
    x = rng.integers(-3, 4, (batch, groups * cin_per, length)).astype(float)
    config: dict[str, Any] = dict(input=x, kernel_size=k, stride=stride, padding=padding, dilation=dilation,
                                  groups=groups, out_channels=groups * cout_per, bias=bias or None,
                                  transposed=transposed)
    if transposed:
        config["output_padding"] = output_padding
    else:
        config["padding_mode"] = mode
    try:
        trace = convtrace.explain(**config, verify=False)
    except ConvtraceError:
        return
    steps = [None, *range(frame_count(trace))]
    for step in steps[:6]:
        svg = render_svg(trace, step=step, lang=lang)
        root = ET.fromstring(svg)
        assert root.tag.endswith("svg") and float(root.get("width", 0)) > 0
