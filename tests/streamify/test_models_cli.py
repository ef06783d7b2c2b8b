"""``convtrace stream pkg.mod:factory --input-shape ... [--check]`` on the zoo (issue 19):
the streamify summary (figures, state tensors and bytes, or the refusal by module, op,
reason and fix), the proof, JSON, Chinese, 80 columns, and clear errors with exit 2."""

from __future__ import annotations

import json

import pytest
from models import one_thread

from convtrace.cli import main
from convtrace.render.textwidth import display_width

NEEDS_TORCH = True
__all__ = ["one_thread"]  # the fixture, autouse
TCN = ["stream", "models:tcn", "--kwargs", '{"levels": 2}', "--input-shape", "1,1,60"]


def test_the_report_names_the_state_and_the_proof(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    assert main([*TCN, "--check", "--trials", "2"]) == 0
    out = capsys.readouterr().out
    assert "streamify: streams" in out and "blocks.1.conv2.conv1d8.buffer" in out and "(1, 8, 4)" in out
    assert "check: streamed in 2 random chunk schedules of 60 samples (float64)" in out
    assert "earliest possible" in out
    assert max(display_width(line) for line in out.splitlines()) <= 80


def test_json_carries_the_state_and_the_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*TCN, "--check", "--trials", "1", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    state = doc["streamify"]["state"]
    assert doc["streamify"]["streams"] and state[-1]["name"] == "steps"
    assert doc["streamify"]["state_bytes"] == sum(e["bytes"] for e in state)
    assert doc["check"]["ok"] and doc["check"]["max_relative"] <= 1e-10 and doc["check"]["trials"] == 1


def test_a_refusal_in_chinese(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("transformers")
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["stream", "models:wav2vec2_group", "--input-shape", "1,2000", "--check", "--lang", "zh"]) == 1
    out = capsys.readouterr().out
    assert "streamify：拒绝，模块 conv_layers.0.layer_norm（运算 GroupNorm" in out and "改法" in out
    assert max(display_width(line) for line in out.splitlines()) <= 80


@pytest.mark.parametrize(("argv", "words"), [
    (["stream", "models:absent", "--input-shape", "1,1,20"], "has no attribute 'absent'"),
    (["stream", "models:tcn", "--input-shape", "1,x,20"], "--input-shape must be whole numbers"),
    (["stream", "models:tcn", "--input-shape", "1,1,0"], "PyTorch raised RuntimeError"),
    ([*TCN, "--check", "--length", "50"], "time axis of its --input-shape"),
    ([*TCN, "--check", "--trials", "0"], "trials must be a positive integer"),
    ([*TCN, "--check", "--dtype", "float16"], "float64 or float32"),
])  # fmt: skip
def test_bad_input_is_a_clear_error(argv: list[str], words: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert words in captured.err and "Traceback" not in captured.err and captured.out == ""
