"""What ``convtrace inspect`` and the Python reports say: labelled totals, the lookahead
of the convolution path beside attention, one line per warning kind, the unit of the
input's steps, grouped length maps; ``print``, ``repr`` and Jupyter's view of every report."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import convtrace
from convtrace import plan
from convtrace.cli import main
from convtrace.inspect import explain_layer, inspect_model, length_map
from convtrace.render.plan_text import render_inspect, render_length_map, render_stack

NEEDS_TORCH = True


class ConvAttention(nn.Module):
    """Two convs, then self-attention over time: the convs' lookahead is not the model's."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(4, 8, 5, padding=2)
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True)
        self.out = nn.Conv1d(8, 4, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv(x).transpose(1, 2)
        h = self.attn(h, h, h)[0].transpose(1, 2)
        return self.out(h)


def test_totals_are_labelled_and_the_lookahead_is_the_convolution_paths() -> None:
    model = ConvAttention()
    report = inspect_model(model, (1, 4, 50))
    conv_macs = sum(c.macs for c in report.calls)
    assert report.macs == conv_macs and report.parameter_count == sum(p.numel() for p in model.parameters())
    text = render_inspect(report)
    assert f"multiply-adds of the recorded convolutions: {conv_macs:,}" in text
    assert f"parameters of the whole model: {report.parameter_count:,}" in text
    look = next(line for line in text.splitlines() if "lookahead" in line)
    assert "convolution path only" in look and "MultiheadAttention" in look
    assert "W107" in text
    zh = render_inspect(report, lang="zh")
    assert "已记录卷积的乘加次数" in zh and "整个模型的参数" in zh and "只计卷积路径" in zh
    quiet = render_inspect(inspect_model(nn.Conv1d(1, 1, 3), (1, 1, 20)))
    assert "convolution path only" not in quiet  # no attention, no caveat


def test_a_repeated_warning_is_one_line_listing_its_layers() -> None:
    blocks = [nn.Sequential(nn.Conv1d(4, 4, 3, padding=1), nn.GroupNorm(1, 4)) for _ in range(13)]
    model = nn.Sequential(nn.Conv1d(1, 4, 3), *blocks)
    report = inspect_model(model, (1, 1, 40))
    assert [w.code for w in report.warnings].count("W107") == 13
    text = render_inspect(report)
    lines = [line for line in text.splitlines() if "W107" in line]
    assert len(lines) == 1 and "13 layers: 1.1, 2.1, 3.1, 4.1, 5.1, 6.1 and 7 more" in lines[0], lines
    assert "13 层" in render_inspect(report, lang="zh")


def test_lengths_are_in_input_steps_or_the_users_unit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    report = inspect_model(nn.Conv1d(80, 8, 5, padding=2), (1, 80, 50))
    text = render_inspect(report)
    assert "lookahead 2 input steps" in text and "receptive field 5 input steps" in text and "samples" not in text
    assert "lookahead 2 frames" in render_inspect(report, unit="frames")
    assert "前瞻 2 个输入步" in render_inspect(report, lang="zh")
    (tmp_path / "mel.py").write_text("from torch import nn\ndef make():\n    return nn.Conv1d(80, 8, 5, padding=2)\n")
    monkeypatch.chdir(tmp_path)
    assert main(["inspect", "mel:make", "--input-shape", "1,80,50", "--unit", "frames"]) == 0
    assert "lookahead 2 frames" in capsys.readouterr().out


def test_length_map_groups_runs_of_lengths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    (tmp_path / "frames.py").write_text("from torch import nn\ndef make():\n    return nn.Conv1d(1, 1, 400, stride=320)\n")
    monkeypatch.chdir(tmp_path)
    assert main(["inspect", "frames:make", "--input-shape", "1,1,16000", "--lengths", "16000..16400"]) == 0
    out = capsys.readouterr().out
    for line in ("16000..16079 -> 49   <- strides promise 50..50.2", "16080..16319 -> 50\n",
                 "16320..16399 -> 50   <- strides promise 51..51.2", "16400 -> 51\n"):  # fmt: skip
        assert line in out, out
    assert len(out.splitlines()) < 12


def test_every_report_prints_as_the_cli_and_reprs_in_one_short_line() -> None:
    stack = plan.analyse_stack("conv k=7 p=3; 4x(conv k=4 s=2 p=1); convT k=8 s=4 p=2", 16000)
    assert str(stack) == render_stack(stack) and "receptive field" in str(stack)
    assert stack.render("zh") == render_stack(stack, lang="zh")
    assert repr(stack).startswith("<StackReport 6 layers, 16000 -> 4000 samples") and len(repr(stack)) < 200
    assert stack._repr_html_().startswith("<pre") and "receptive field" in stack._repr_html_()

    model = nn.Sequential(nn.Conv1d(1, 2, 10, stride=5), nn.ReLU(), nn.Conv1d(2, 1, 3, stride=2))
    report = convtrace.inspect(model, (1, 1, 100))
    assert str(report) == render_inspect(report) and report.render("zh", unit="帧") == render_inspect(
        report, lang="zh", unit="帧")
    assert repr(report).startswith("<InspectReport Sequential on 1x1x100: 2 calls") and len(repr(report)) < 200
    assert "rf so far" in report._repr_html_()
    lengths = length_map(model, (1, 1, 100), range(20, 40))
    assert str(lengths) == render_length_map(lengths) and repr(lengths).startswith("<LengthMap Sequential: 20")
    explained = explain_layer(model, "0", (0, 1, 3), (1, 1, 100))
    assert "PyTorch" in str(explained) and repr(explained).startswith("<LayerExplanation 0 (Conv1d) y[0, 1, 3]")


def test_a_big_models_repr_stays_short() -> None:
    from test_inspect_graph import HifiGanLike

    report = inspect_model(HifiGanLike(), (1, 4, 20))
    assert len(report.calls) > 30 and len(repr(report)) < 200
    assert "\n" in str(report) and max(len(line) for line in report.render(width=100).splitlines()) <= 100


def test_a_causal_model_is_causal_at_lookahead_zero() -> None:
    class Causal(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv1d(1, 1, 5)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.conv(F.pad(x, (4, 0)))

    report = inspect_model(Causal(), (1, 1, 30))
    assert report.lookahead == 0 and report.causal is True
    assert "causal: lookahead 0" in render_inspect(report) and "not causal" not in render_inspect(report)
    late = inspect_model(nn.Conv1d(1, 1, 5, padding=2), (1, 1, 30))
    assert late.lookahead == 2 and late.causal is False
