"""A model PyTorch cannot run on the given input: ``convtrace inspect`` exits non-zero with
PyTorch's error and, where another layout runs, a hint; ``convtrace.inspect`` raises a
``ConvtraceError`` that carries the partial report (``raise_on_error=False`` returns it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn

import convtrace
from convtrace.cli import main
from convtrace.errors import ConvtraceError
from convtrace.inspect import ModelRaisedError, inspect_model

NEEDS_TORCH = True


class FramesFirst(nn.Module):
    """Takes (batch, frames, mels), as HiFi-GAN vocoders do."""

    def __init__(self, mels: int = 4) -> None:
        super().__init__()
        self.pre = nn.Conv1d(mels, 8, 7, padding=3)
        self.up = nn.ConvTranspose1d(8, 1, 4, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.up(self.pre(x.transpose(1, 2)))


def test_time_on_the_wrong_axis_raises_with_the_partial_report_and_a_hint() -> None:
    with pytest.raises(ConvtraceError) as caught:
        convtrace.inspect(FramesFirst(), (1, 4, 50))
    err = caught.value
    assert isinstance(err, ModelRaisedError) and err.report is not None
    assert "PyTorch raised RuntimeError" in str(err) and err.report.error is not None
    assert err.hint is not None and "--time-dim 1: its length 50" in err.hint and "1,50,4" in err.hint
    assert err.report.hint == err.hint
    with pytest.raises(RuntimeError):  # PyTorch agrees it cannot run, and runs the hinted layout
        FramesFirst()(torch.zeros(1, 4, 50))
    assert FramesFirst()(torch.zeros(1, 50, 4)).shape[-1] == 100
    assert inspect_model(FramesFirst(), (1, 50, 4), time_dim=1).output_length == 100


def test_raise_on_error_false_returns_the_report() -> None:
    report = inspect_model(FramesFirst(), (1, 4, 50), raise_on_error=False)
    assert report.error is not None and report.output_length is None and report.hint is None


class Stops(nn.Module):
    """Two convs run, then the model refuses the length (as Whisper refuses 1000 frames)."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv1d(1, 2, 3)
        self.b = nn.Conv1d(2, 2, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.b(self.a(x))
        if y.shape[-1] != 10:
            raise ValueError(f"expects 10 frames, got {y.shape[-1]}")
        return y


def test_the_partial_report_keeps_what_ran_before_the_error() -> None:
    with pytest.raises(ModelRaisedError) as caught:
        inspect_model(Stops(), (1, 1, 30))
    report = caught.value.report
    assert report is not None and [c.name for c in report.calls] == ["a", "b"]
    assert "ValueError: expects 10 frames, got 13" in str(caught.value) and caught.value.hint is None


def _module(folder: Path) -> None:
    (folder / "failing.py").write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from test_inspect_errors import FramesFirst, Stops\n"
    )


def test_cli_exits_non_zero_with_the_hint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    _module(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["inspect", "failing:FramesFirst", "--input-shape", "1,4,50"]) == 2
    captured = capsys.readouterr()
    assert "PyTorch raised RuntimeError" in captured.err and "--time-dim 1: its length 50" in captured.err
    assert "Traceback" not in captured.err
    assert main(["inspect", "failing:Stops", "--input-shape", "1,1,30", "--json"]) == 2
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc["error"].startswith("ValueError") and [c["name"] for c in doc["calls"]] == ["a", "b"]
    assert "expects 10 frames" in captured.err
    assert main(["inspect", "failing:FramesFirst", "--input-shape", "1,50,4", "--time-dim", "1"]) == 0
    capsys.readouterr()


def test_whisper_with_1000_frames_exits_non_zero(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    pytest.importorskip("transformers")
    (tmp_path / "whisper_small.py").write_text(
        "import torch, transformers\n"
        "def make():\n"
        "    torch.manual_seed(0)\n"
        "    config = transformers.WhisperConfig(d_model=16, encoder_layers=1, decoder_layers=1,\n"
        "        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=16, decoder_ffn_dim=16)\n"
        "    return transformers.WhisperModel(config).encoder\n"
    )
    monkeypatch.chdir(tmp_path)
    assert main(["inspect", "whisper_small:make", "--input-shape", "1,80,1000"]) == 2
    err = capsys.readouterr().err
    assert "PyTorch raised" in err and "3000" in err
    assert main(["inspect", "whisper_small:make", "--input-shape", "1,80,3000"]) == 0
    assert "W107" in capsys.readouterr().out  # attention over time
