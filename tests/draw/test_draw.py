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
from backends import onednn
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
    from convtrace.draw.layout import BAND_TINTS, PALETTE
    from convtrace.draw.raster import GIF_SCALE, SCALE, png_bytes

    fills = {f for f, _ in PALETTE.values() if f != "none"} | set(BAND_TINTS) | {"#ffffff"}
    flat = [np.array([int(c[i:i + 2], 16) for i in (1, 3, 5)], dtype=float) for c in sorted(fills)]

    groups: dict[str, Any] = dict(input=[[1, 2, 3, 4], [0, 1, 0, 1]], out_channels=2, kernel_size=2, groups=2)
    for config in (DEMO, TRANSPOSED, groups):
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
        # each frame of the GIF (drawn in layers) is the PNG of its figure (one drawing model,
        # every format): close everywhere (palette rounding), and nowhere far off
        pngs = [np.asarray(_image(png_bytes(f, GIF_SCALE)).convert("RGB"), dtype=float) for f in anim.frames]
        for i, want in enumerate(pngs):
            gif.seek(i)
            got = np.asarray(gif.convert("RGB"), dtype=float)
            assert got.shape == want.shape
            diff = np.abs(got - want).max(axis=2)
            assert diff.mean() < 2.0 and np.percentile(diff, 99.99) < 60, (i, diff.mean(), np.percentile(diff, 99.99))
            if i:
                assert np.abs(got - pngs[i - 1]).max(axis=2).mean() > diff.mean()
            for colour in flat:  # every flat colour (cells, bands, white) stays itself, however pale
                mask = (want == colour).all(axis=2)
                assert not mask.any() or diff[mask].max() <= 6, (i, colour, diff[mask].max())


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
    code, _, err = run_cli("draw", *flags, "--step", "3", "--lang", "zh", "-o", str(tmp_path / "d2.svg"))
    assert code == 0 and (tmp_path / "d2.svg").read_text(encoding="utf-8") == render_svg(trace, step=2, lang="zh")
    pytest.importorskip("cairosvg")
    pytest.importorskip("PIL")
    for suffix in ("png", "gif"):
        code, _, err = run_cli("draw", *flags, "--transposed", "--stride", "2", "-o", str(tmp_path / f"t.{suffix}"))
        assert code == 0, err
        assert (tmp_path / f"t.{suffix}").stat().st_size > 1000


def test_cli_draw_one_element(tmp_path: Path, run_cli: Callable[..., tuple[int, str, str]]) -> None:
    code, _, err = run_cli("draw", "--input", "1,2,3,4,5", "--kernel-size", "3", "--at", "0,0,1", "--no-verify",
                           "--step", "1", "-o", str(tmp_path / "at.svg"))
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


# ------------------------------------------------------------------ issue 16


def _texts(fig: Figure, role: str) -> list[Text]:
    return [t for t in fig.walk() if isinstance(t, Text) and t.role == role]


def _torch_conv(x: np.ndarray, w: np.ndarray, groups: int) -> np.ndarray:
    """PyTorch's answer, the same whichever CPU backend it picks."""
    answers = []
    for enabled in (True, False):
        with onednn(enabled):
            answers.append(np.asarray(torch.nn.functional.conv1d(torch.tensor(x), torch.tensor(w), groups=groups).numpy()))
    np.testing.assert_allclose(answers[0], answers[1], rtol=1e-12)
    return answers[0]


def test_groups_overview_shows_bands_every_kernel_and_every_output() -> None:
    x = np.round(np.random.default_rng(1).standard_normal((1, 4, 8)), 4)
    trace = convtrace.explain(input=x, out_channels=4, groups=2, kernel_size=3, weight_fill="randint", seed=1,
                              verify=False)
    fig = build_figure(trace)
    # which input channels feed which output channel: each kernel row names its group's inputs
    sources = [t.text for t in _texts(fig, "kernel-source")]
    assert sources == ["x[1]", "x[2]"] * 2 + ["x[3]", "x[4]"] * 2
    # every kernel value, in weight order (o, c, k)
    panel = next(g for g in fig.walk() if isinstance(g, Group) and g.role == "kernel")  # first kernel cell
    assert panel.label == fmt(trace.weight[0, 0, 0])
    kernel_cells = _cells(fig, ("kernel",))
    assert kernel_cells == [fmt(v) for v in np.asarray(trace.weight).reshape(-1)]
    # bands: input rows, kernel rows and output rows of each group
    assert [t.text for t in _texts(fig, "group-label")] == ["group 1", "group 2"] * 3
    # every output channel, with PyTorch's values
    out = _torch_conv(np.asarray(trace.input), np.asarray(trace.weight), 2)[0]
    assert _cells(fig, ("output",)) == [fmt(v) for v in out.reshape(-1)]
    labels = [t.text for t in _texts(fig, "row-label") if t.text.startswith("y[")]
    assert labels == ["y[1]", "y[2]", "y[3]", "y[4]"]
    # the label of the last window is inside the canvas (it was cut at the right edge)
    last = _texts(fig, "window-label")[-1]
    assert last.x + len(last.text) * 0.64 * last.size <= fig.width


def test_groups_step_names_its_group() -> None:
    trace = convtrace.explain(input_shape=(1, 4, 8), out_channels=4, groups=2, kernel_size=3, verify=False)
    step = next(i for i, s in enumerate(trace.steps) if s.out_channel == 3)
    fig = build_figure(trace, step)
    assert [t.text for t in _texts(fig, "group-note")] == ["group 2: x[3]–x[4] feed y[3]–y[4]"]
    assert [t.text for t in _texts(fig, "group-label")] == ["group 2", "group 1", "group 2"]


def test_long_input_overview_draws_whole_windows_and_their_outputs() -> None:
    x = list(range(1, 41))
    trace = convtrace.explain(input=x, kernel_size=5, stride=3, verify=False)
    fig = build_figure(trace)
    rows = [g for g in fig.walk() if isinstance(g, Group) and g.role == "kernel"]
    labels = [t.text for t in _texts(fig, "window-label")]
    assert len(rows) == 5 * len(labels)  # every drawn window shows all of its 5 taps
    out = _torch_output(dict(input=x, weight=[1] * 5, stride=3))
    shown = {name.split(" = ")[0]: name.split(" = ")[1] for name in labels}
    assert "y7" in shown and shown["y12"] == fmt(out[11])
    cells = _cells(fig, ("output",))
    names = [t.text for t in _texts(fig, "y-name")]
    assert dict(zip(names, cells)) == {n: fmt(out[int(n[1:]) - 1]) for n in names}
    assert set(shown) <= set(names)  # each window drawn has its output cell
    assert any(t.role == "ellipsis" for t in fig.walk() if isinstance(t, Text))  # the middle is elided, marked
    assert _texts(fig, "steps-note")


def test_huge_dilation_keeps_every_tap_and_the_output() -> None:
    trace = convtrace.explain(input=list(range(64)), kernel_size=3, dilation=20, verify=False)
    for step in (None, 0, 23):
        fig = build_figure(trace, step)
        assert len(_cells(fig, ("kernel",))) % 3 == 0 and _cells(fig, ("kernel",))
        assert fig.width < 2500
    fig = build_figure(trace, 23)
    assert _cells(fig, ("current",)) == [fmt(trace.steps[23].value)]


def test_sum_writes_negative_terms_as_subtraction() -> None:
    trace = convtrace.explain(input=[1, 0, -5], weight=[1, 1, 1], verify=False)
    assert [t.text for t in _texts(build_figure(trace, 0), "sum")] == ["sum = 1 + 0 − 5 = -4"]


def test_chinese_matrix_title_uses_c_transposed() -> None:
    fig = build_figure(convtrace.explain(**TRANSPOSED, verify=False), lang="zh")
    assert any("y = Cᵀ x" in t.text for t in _texts(fig, "matrix-title"))
    assert not any("C^T" in t for t in fig.texts())


LEGEND_CASES: list[dict[str, Any]] = [
    DEMO, TRANSPOSED, dict(input=[1, 2, 3, 4, 5], weight=[1, 0, -1], padding=2, padding_mode="reflect"),
    dict(input=[1, 2, 3, 4, 5, 6], weight=[1, 2, 3], padding=2, dilation=2, padding_mode="circular"),
    dict(input_shape=(1, 4, 6), out_channels=4, groups=2, kernel_size=2),
]


@pytest.mark.parametrize("config", LEGEND_CASES)
def test_legend_covers_every_cell_style(config: dict[str, Any]) -> None:
    from convtrace.draw.layout import legend_roles

    trace = convtrace.explain(**config, verify=False)
    for fig in [build_figure(trace), *build_animation(trace).frames]:
        drawn = legend_roles([s for s in fig.items if getattr(s, "role", "") != "legend"])
        legend = next(g for g in fig.items if isinstance(g, Group) and g.role == "legend")
        swatches = {s.role.removeprefix("legend-") for s in legend.items if s.role.startswith("legend-")}
        assert set(drawn) <= swatches, (fig.title, set(drawn) - swatches)
    frame = build_figure(trace, 0)
    assert {"product", "current"} <= {s.role.removeprefix("legend-") for s in frame.walk()}


def test_window_frame_stays_off_the_neighbouring_cells() -> None:
    from convtrace.draw.layout import shape_box
    from convtrace.draw.model import Rect

    trace = convtrace.explain(input=[1, 2, 3, 4, 5, 6], weight=[1, 2, 3], padding=1, verify=False)
    for fig in build_animation(trace).frames:
        frame = next(s for s in fig.walk() if isinstance(s, Rect) and s.role == "window")
        inner = (frame.x + frame.stroke_width / 2, frame.y + frame.stroke_width / 2,
                 frame.x + frame.width - frame.stroke_width / 2, frame.y + frame.height - frame.stroke_width / 2)
        outer = shape_box(frame)
        cells = [s for s in fig.walk() if isinstance(s, Rect) and s.role in ("input", "zero")]
        for c in cells:
            box = shape_box(c)
            inside = inner[0] <= box[0] and box[2] <= inner[2]
            apart = box[2] <= outer[0] or box[0] >= outer[2]
            assert inside or apart, (fig.title, box, outer)  # the frame's stroke touches no cell


def test_zero_insertion_row_has_the_real_samples_at_multiples_of_stride() -> None:
    x, w, stride = [3, -1, 4, 1, 5], [1, 2, 3, 4], 3
    trace = convtrace.explain(input=x, weight=w, stride=stride, transposed=True, verify=False)
    zi = next(g for g in build_figure(trace).walk() if isinstance(g, Group) and g.role == "zero-insertion")
    row = [g for g in zi.items if isinstance(g, Group) and g.role in ("input", "zero")]
    pad = len(w) - 1  # dilation·(k − 1) − padding zeros on each side, then stride − 1 between samples
    length = (len(x) - 1) * stride + 1 + 2 * pad
    assert len(row) == length
    real = {pad + i * stride: v for i, v in enumerate(x)}
    assert [(g.role, g.label) for g in row] == [("input", fmt(real[q])) if q in real else ("zero", "0")
                                                 for q in range(length)]


# ------------------------------------------------------------------ files and flags


def test_failed_draw_leaves_no_file(tmp_path: Path, run_cli: Callable[..., tuple[int, str, str]],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "cairosvg", None)  # as without the viz extra
    for name in ("x.png", "x.gif"):
        code, _, err = run_cli("draw", "--input", "1,2,3", "--kernel-size", "2", "--no-verify",
                               "-o", str(tmp_path / name))
        assert code == 2 and "viz" in err and "Traceback" not in err
    trace = convtrace.explain(**DEMO, verify=False)
    with pytest.raises(ConvtraceError, match="viz"):
        save(trace, tmp_path / "y.png")
    assert list(tmp_path.iterdir()) == []


def test_a_write_that_fails_midway_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import convtrace.draw as draw

    def broken(path: Any, data: bytes) -> None:
        raise OSError("disk full")

    trace = convtrace.explain(**DEMO, verify=False)
    monkeypatch.setattr(draw.os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        save(trace, tmp_path / "x.svg")
    assert list(tmp_path.iterdir()) == []


def test_bad_extension_is_rejected_before_any_work(tmp_path: Path, run_cli: Callable[..., tuple[int, str, str]],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import convtrace.explainer

    def never(**kwargs: Any) -> None:
        raise AssertionError("explain ran")

    monkeypatch.setattr(convtrace.explainer, "explain", never)
    code, _, err = run_cli("draw", "--input-shape", "1,1,100000", "--kernel-size", "3", "-o", str(tmp_path / "x.jpg"))
    assert code == 2
    assert "output=" in err and "x.jpg" in err and all(s in err for s in (".svg", ".png", ".gif"))
    assert list(tmp_path.iterdir()) == []


def test_step_does_not_apply_to_a_gif(tmp_path: Path, run_cli: Callable[..., tuple[int, str, str]]) -> None:
    code, _, err = run_cli("draw", "--input", "1,2,3", "--kernel-size", "2", "--no-verify", "--step", "1",
                           "-o", str(tmp_path / "x.gif"))
    assert code == 2 and "step=1" in err and "does not apply to a GIF" in err and "nearest valid" in err
    trace = convtrace.explain(**DEMO, verify=False)
    with pytest.raises(ConvtraceError, match="does not apply to a GIF"):
        save(trace, tmp_path / "x.gif", step=0)
    assert list(tmp_path.iterdir()) == []


def test_step_counts_as_the_titles(tmp_path: Path, run_cli: Callable[..., tuple[int, str, str]]) -> None:
    flags = ["--input", "1,1,1,1", "--kernel-size", "3", "--padding", "1", "--no-verify"]
    for n in (1, 4):
        code, _, err = run_cli("draw", *flags, "--step", str(n), "-o", str(tmp_path / f"s{n}.svg"))
        assert code == 0, err
        assert f"step {n} of 4" in (tmp_path / f"s{n}.svg").read_text(encoding="utf-8")
    for n in (0, 5):
        code, _, err = run_cli("draw", *flags, "--step", str(n), "-o", str(tmp_path / "bad.svg"))
        assert code == 2 and "[1, 4]" in err
    assert not (tmp_path / "bad.svg").exists()
    code, out, _ = run_cli("draw", "--help")
    assert "counted from 1" in " ".join(out.split())


def test_long_transposed_figures_draw_whole_stamp_rows() -> None:
    trace = convtrace.explain(input=list(range(1, 41)), kernel_size=5, stride=3, padding=2, output_padding=1,
                              transposed=True, verify=False)
    for step in (None, 19, 39):
        fig = build_figure(trace, step)
        rows = [t.text for t in _texts(fig, "row-label") if t.text.endswith("·w")]
        stamps = [g for g in fig.walk() if isinstance(g, Group) and g.role in ("product", "cropped")
                  and g.label and any(isinstance(s, Text) and s.role.endswith("-value") for s in g.items)]
        assert len(rows) == 8 and len(stamps) == 5 * len(rows), (step, rows, len(stamps))
        assert any(t.role == "ellipsis" for t in fig.walk() if isinstance(t, Text))
