"""``convtrace shape | solve | stack``: text, ``--json``, and clear errors (exit 2)."""

from __future__ import annotations

import json
import unicodedata

import pytest
import torch
import torch.nn.functional as F
from plan_torch import torch_lengths
from torch import nn

from convtrace.cli import main
from convtrace.plan.stack import parse_stack
from convtrace.render.plan_text import STACK_HEADERS, STACK_HEADERS_ZH

NEEDS_TORCH = True


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict:  # type: ignore[type-arg]
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_shape_json_matches_torch(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json(capsys, ["shape", "conv", "--kernel-size", "10", "--stride", "5", "--length", "16003",
                         "--want", "100", "--json"])  # fmt: skip
    assert doc["out_length"] == torch_lengths(parse_stack("conv k=10 s=5"), 16003)[0] == 3199
    assert doc["dropped_tail"] == 3 and doc["warnings"][0]["code"] == "W101" and doc["warnings"][0]["message"]
    lo, hi = doc["inverse"][0]
    assert all(torch_lengths(parse_stack("conv k=10 s=5"), n)[0] == 100 for n in (lo, hi))
    assert torch_lengths(parse_stack("conv k=10 s=5"), hi + 1)[0] == 101


def test_shape_text_has_formula(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["shape", "convT k=16 s=8 p=4", "--length", "200"]) == 0
    out = capsys.readouterr().out
    assert "(200 - 1)*8 - 2*4 + 1*(16 - 1) + 0 + 1 = 1600" in out and "1600..1607" in out


def test_solve_json_snippets_run(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json(capsys, ["solve", "up", "--stride", "4", "--kernel-sizes", "1..12", "--json"])
    assert doc["solutions"]
    for sol in doc["solutions"]:
        scope: dict[str, object] = {"torch": torch, "nn": nn, "F": F}
        exec(sol["snippet"], scope)
        assert scope["layer"](torch.zeros(1, 1, 13)).shape[-1] == 52  # type: ignore[operator]


def test_stack_json_fields(capsys: pytest.CaptureFixture[str]) -> None:
    text = "conv k=7 p=3; 4x(conv k=4 s=2 p=1); convT k=8 s=4 p=2; maxpool k=2"
    doc = _json(capsys, ["stack", text, "--length", "16000", "--json"])
    for key in ("receptive_field", "hop", "offset", "lookahead", "causal", "macs", "warnings", "layers"):
        assert key in doc
    assert [layer["out_length"] for layer in doc["layers"]] == torch_lengths(parse_stack(text), 16000)
    assert doc["layers"][5]["upsampling"] == 4 and doc["layers"][5]["hop"] == 0.25


def _display_width(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize(
    "argv",
    [
        ["stack", "conv k=7 p=3; conv k=4 s=2 p=1 c=64; conv k=4 s=2 p=1 c=128; convT k=4 s=2 p=1", "--length",
         "16000"],
        ["shape", "convT k=16 s=8 p=4", "--length", "200"],
        ["shape", "conv k=10 s=5", "--length", "16003", "--want", "100"],
        ["solve", "same", "--kernel-sizes", "3..7"],
    ],
)  # fmt: skip
def test_text_fits_the_terminal(argv: list[str], lang: str, capsys: pytest.CaptureFixture[str],
                                monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``COLUMNS=80`` every line fits 80 display columns (Chinese counts 2): a wide
    table continues in blocks of columns, each starting with the row number, and prose and
    formulas wrap; nothing is lost (every header and the last column's values are there)."""
    monkeypatch.setenv("COLUMNS", "80")
    assert main([*argv, "--lang", lang]) == 0
    out = capsys.readouterr().out
    assert max(map(_display_width, out.splitlines())) <= 80, out
    if argv[0] == "stack":
        headers = STACK_HEADERS_ZH if lang == "zh" else STACK_HEADERS
        assert all(head.split()[0] in out for head in headers)
        assert "262,144,000" in out and out.count("┃ # ┃") == 2  # two blocks, each with the row number
    monkeypatch.setenv("COLUMNS", "200")
    assert main([*argv, "--lang", lang]) == 0
    wide = capsys.readouterr().out
    if argv[0] == "stack":
        assert wide.count("┃ # ┃") == 1  # room for the whole table: one block


def test_stack_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stack", "conv k=4 s=2 p=1; conv k=4 s=2 p=1", "--length", "100"]) == 0
    assert "output t depends on input [4t - 3, 4t + 6]" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        ["stack", "conv k=3; conv k=50", "--length", "20", "--json"],
        ["stack", "conv q=3", "--length", "20"],
        ["shape", "conv k=3", "--length", "x"],
        ["shape", "conv k=3; conv k=3", "--length", "10"],
        ["solve", "same", "--kernel-sizes", "a..b"],
        ["solve", "undo"],
        ["stack", "@/nonexistent/file", "--length", "3"],
    ],
)
def test_errors_exit_2_without_traceback(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code = main(argv)
    err = capsys.readouterr().err
    if argv[1].startswith("conv k=3; conv k=50"):
        assert code == 0  # a stack that fails part-way is a report with the error in it
        return
    assert code == 2 and "Traceback" not in err and "error" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["shape", "conv k=10 s=5", "--length", "16003", "--want", "100"],
        ["solve", "undo", "--conv", "conv k=4 s=2 p=1"],
        ["stack", "conv k=4 s=2 p=1; convT k=3 s=2", "--length", "101"],
    ],
)
def test_chinese_text_and_json_messages(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*argv, "--lang", "zh"]) == 0
    text = capsys.readouterr().out
    assert any("\u4e00" <= ch <= "\u9fff" for ch in text)
    doc = _json(capsys, [*argv, "--lang", "zh", "--json"])
    messages = [w["message"] for w in doc.get("warnings", [])]
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in m) for m in messages)


def test_every_code_has_english_and_chinese() -> None:
    import re
    from pathlib import Path

    from convtrace.render import plan_text

    table = Path(plan_text.__file__).parent.parent / "plan" / "report.py"
    codes = set(re.findall(r"^([WS]\d{3}) ", table.read_text(encoding="utf-8"), re.M))
    assert codes == set(plan_text._MESSAGES) == set(plan_text._MESSAGES_ZH)
    assert set(plan_text._TEXT["en"]) == set(plan_text._TEXT["zh"])
