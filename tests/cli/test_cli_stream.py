"""``convtrace stream``: the streaming report of a stack or a recorded PyTorch model, in
English, Chinese and JSON; ``--check`` (the verifier); clear errors; no torch where it
need not verify."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from convtrace.cli import main
from convtrace.render.stream_text import render_check
from convtrace.render.textwidth import display_width
from convtrace.stream.verify import Mismatch, VerifyResult

README_STACK = ("conv k=7 p=causal; conv k=4 s=2 p=2,0; conv k=8 s=4 p=4,0; conv k=10 s=5 p=5,0; "
                "conv k=16 s=8 p=8,0; conv k=7 p=causal")  # fmt: skip
K_MINUS_1 = "conv k=7 p=causal; 4x(conv k=4 s=2 p=causal)"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr; ``flat`` of them checks phrases however lines wrap."""
    code = main(["stream", *args])
    out, err = capsys.readouterr()
    return code, out, err


def flat(text: str) -> str:
    """The text with its lines joined (wrapping moves words to the next line)."""
    return " ".join(text.split())


def test_the_readme_stack_prints_latency_lookahead_and_cache(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, README_STACK, "--sample-rate", "24000")
    assert code == 0
    text = flat(out)
    assert "algorithmic latency: 319 samples (13.29 ms)" in text
    assert "lookahead: 319 samples" in text and "hop 320 samples (13.33 ms); minimum chunk 320" in text
    assert "cache: 184 bytes in all (float32, batch 1)" in text and "first output after 320 input samples" in text
    assert max(display_width(line) for line in out.splitlines()) <= 80


def test_the_k_eff_minus_1_advice_with_both_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, K_MINUS_1, "--sample-rate", "16000")
    assert code == 0
    assert "R105 [4]: strided causal conv (k_eff=4, stride=2) padded 3 on the left: 2" in flat(out)
    assert "pad 2 on the left instead of 3" in flat(out)
    doc = json.loads(run(capsys, K_MINUS_1, "--json")[1])
    advice = [f for f in doc["findings"] if f["code"] == "R105"]
    assert advice and all(f["values"]["latency_better"] < f["values"]["latency"] for f in advice)
    assert all("instead of" in f["fix"] and f["message"] for f in advice)


def test_chinese_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, README_STACK, "--sample-rate", "24000", "--lang", "zh")
    assert code == 0 and "算法延迟：319 个样本（13.29 毫秒）" in flat(out) and "缓存：共 184 字节" in flat(out)
    assert max(display_width(line) for line in out.splitlines()) <= 80
    code, out, _ = run(capsys, README_STACK, "--json", "--in-channels", "2", "--dtype", "float64", "--batch", "3")
    doc = json.loads(out)
    assert code == 0 and doc["latency"] == 319 and doc["lookahead"] == 319 and doc["hop"] == 320
    assert doc["cache_bytes"] == 184 // 4 * 2 * 8 * 3 and doc["dtype"] == "float64"
    assert [row["cache"] for row in doc["layers"]] == [6, 3, 7, 9, 15, 6]


def test_what_cannot_stream_exits_0_with_the_reason_and_fix(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "conv k=3 p=1 mode=circular; avgpool k=2")
    assert code == 0
    assert "cannot stream: 1 layer below (0)" in out
    assert "circular padding needs the end of the signal" in flat(out) and "fix: use padding_mode='zeros'" in out


@pytest.mark.parametrize(("args", "words"), [
    (["conv k=3", "--sample-rate", "0"], "sample_rate=0"),
    (["conv k=3", "--sample-rate", "x"], "--sample-rate must be a whole number"),
    (["conv k=3", "--dtype", "int8"], "dtype int8 is not supported"),
    (["cnv k=3"], "unknown layer kind"),
    (["mymodels:make"], "give its --input-shape"),
    (["@/nonexistent/stack.txt"], "cannot read the file"),
    (["conv k=3 p=1 mode=circular", "--check"], "cannot stream: circular padding"),
    (["conv k=3", "--check", "--length", "0"], "length=0"),
])  # fmt: skip
def test_bad_input_is_a_clear_error(capsys: pytest.CaptureFixture[str], args: list[str], words: str) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2 and out == "" and words in err and err.startswith("convtrace stream: error:")


def test_check_streams_the_stack_and_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "conv k=4 s=2 p=2,0; convT k=4 s=2 p=1 op=1", "--check", "--trials", "3")
    assert code == 0
    assert "check: streamed in 3 random chunk schedules of" in flat(out) and "(float64), the output equals" in flat(out)
    assert "every output emitted by the first push after which all its inputs had arrived" in flat(out)
    doc = json.loads(run(capsys, "conv k=3 p=1", "--check", "--trials", "2", "--json", "--dtype", "float32")[1])
    assert doc["check"]["ok"] is True and doc["check"]["dtype"] == "float32" and doc["check"]["trials"] == 2


def test_a_failed_check_names_the_sample_the_layer_and_the_cause() -> None:
    wrong = Mismatch(0, 2, "ConvTranspose1d", 17, 0, 1.5, 1.25, "bias_twice", 3, (5, 0, 1, 7))
    result = VerifyResult(False, 1, 40, "float64", 1e-12, 0.25, 0.1, 80, ((5, 0, 1, 7),), ((2, 2, 3, 6),),
                          ((2, 2, 3, 6),), 0, 0, wrong, None, None)  # fmt: skip
    text = flat(render_check(result, width=80))
    assert text.startswith("check FAILED: 1 random chunk schedules of 40 samples (float64)")
    assert "layer 2 (ConvTranspose1d), output 17" in text and "likely cause: the bias counted twice" in text
    assert "偏置被加了两次" in render_check(result, lang="zh")


def test_a_recorded_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("torch")
    (tmp_path / "codec.py").write_text(
        "import torch.nn.functional as F\nfrom torch import nn\n"
        "class Codec(nn.Module):\n"
        "    def __init__(self, channels=4):\n"
        "        super().__init__()\n"
        "        self.down = nn.Conv1d(1, channels, 8, stride=4)\n"
        "        self.norm = nn.GroupNorm(1, channels)\n"
        "    def forward(self, x):\n"
        "        return self.norm(self.down(F.pad(x, (7, 0))))\n"
    )  # fmt: skip
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "codec:Codec:channels=2", "--input-shape", "1,1,400", "--sample-rate", "16000")
    assert code == 0
    assert "Streaming Codec on 1x1x400" in flat(out) and "cannot stream" in out and "GroupNorm over time" in flat(out)
    assert "R105 [down]" in out and "None" not in out  # the advice without the net latency it cannot have
    doc = json.loads(run(capsys, "codec:Codec", "--input-shape", "1,1,400", "--json", "--lang", "zh")[1])
    assert doc["source"] == "model" and doc["streams"] is False and doc["latency"] is None
    norm = next(f for f in doc["findings"] if f["code"] == "R102")
    assert norm["values"] == {"kind": "GroupNorm", "family": "norm"} and "归一化" in norm["fix"]
    code, out, err = run(capsys, "codec:Codec", "--input-shape", "1,1,400", "--check")  # issue 19: streamify
    assert code == 1 and "streamify: REFUSED at module norm (op GroupNorm" in flat(out) and err == ""


def test_no_torch_and_fast_where_it_need_not_verify() -> None:
    code = ("import sys, time; t = time.perf_counter(); from convtrace.cli import main; "
            f"main(['stream', {README_STACK!r}, '--sample-rate', '24000']); "
            "print('torch' in sys.modules, file=sys.stderr)")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stderr.strip().endswith("False")
    assert "algorithmic latency: 319 samples" in done.stdout
