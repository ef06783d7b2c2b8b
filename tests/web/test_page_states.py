"""The page in Chromium (issue 16): nothing shows stale numbers after an invalid setting;
long inputs say which outputs are explained and let the learner pick any (as ``--at``);
the form reads values as the command line does and names channels as it does; every error
is worded alike, in the page's language (Chinese too, planner included)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("playwright")
from playwright.sync_api import Page, expect

from convtrace.render.numfmt import fmt

#: what the page shows from a valid state's numbers (the last valid state must vanish from all)
PANELS = ("formula", "figure", "overview", "step-detail", "step-label", "snippet")


def _torch_conv(x: list[list[float]], w: list[list[list[float]]], transposed: bool = False, **kw: Any) -> np.ndarray:
    torch = pytest.importorskip("torch")
    xt, wt = torch.tensor(x, dtype=torch.float64), torch.tensor(w, dtype=torch.float64)
    f = torch.nn.functional.conv_transpose1d if transposed else torch.nn.functional.conv1d
    return np.asarray(f(xt[None], wt, **kw)[0].numpy())


def _cli_step(args: list[str], number: int) -> list[str]:
    """Step ``number`` of ``convtrace explain ARGS`` (its lines, as the command line prints them)."""
    out = subprocess.run([sys.executable, "-m", "convtrace", "explain", *args, "--no-verify"], capture_output=True,
                         text=True, check=True, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin",
                                                     "PYTHONPATH": ":".join(p for p in sys.path if p)}).stdout
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"Step {number}:"))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].strip()), len(lines))
    return lines[start:end]


def test_invalid_setting_leaves_no_stale_numbers(explorer: Page, artifacts: Path) -> None:
    page = explorer
    page.get_by_test_id("padding").fill("0")
    expect(page.get_by_test_id("step-label")).to_have_text("step 1 of 2")
    page.get_by_test_id("next").click()
    expect(page.get_by_test_id("step-label")).to_have_text("step 2 of 2")
    expect(page.get_by_test_id("formula")).to_contain_text("= 2")
    expect(page.get_by_test_id("snippet")).to_contain_text("kernel_size=3")
    expect(page.get_by_test_id("step-detail")).to_contain_text("y2 = 3")
    for panel in PANELS:
        expect(page.get_by_test_id(panel)).to_have_attribute("data-stale", "false")

    page.get_by_test_id("kernel_size").fill("9")
    expect(page.get_by_test_id("error")).to_contain_text("Kernel size can't be greater than actual input size")
    for panel in PANELS:
        shown = page.get_by_test_id(panel)
        expect(shown).to_have_attribute("data-stale", "true")
        text = shown.inner_text()
        assert "= 2" not in text and "kernel_size=3" not in text and "of 2" not in text and "y2" not in text, (panel, text)
        assert shown.locator("svg").count() == 0, panel
    expect(page.get_by_test_id("formula")).to_have_text("(waiting for a valid setting)")
    for control in ("prev", "next", "play", "step", "copy"):
        expect(page.get_by_test_id(control)).to_be_disabled()
    page.screenshot(path=str(artifacts / "stale_cleared.png"), full_page=True)

    page.get_by_test_id("kernel_size").fill("2")  # valid again: every panel is back, with the new numbers
    expect(page.get_by_test_id("error")).to_be_hidden()
    expect(page.get_by_test_id("step-label")).to_have_text("step 2 of 3")
    expect(page.get_by_test_id("formula")).to_contain_text("= 3")
    expect(page.get_by_test_id("snippet")).to_contain_text("kernel_size=2")
    expect(page.get_by_test_id("step-detail")).to_contain_text("y2 = 2")
    for panel in PANELS:
        expect(page.get_by_test_id(panel)).to_have_attribute("data-stale", "false")
    assert page.get_by_test_id("figure").locator("svg").count() == 1
    expect(page.get_by_test_id("next")).to_be_enabled()


def test_long_input_says_which_outputs_and_explains_any(explorer: Page, artifacts: Path) -> None:
    page = explorer
    x = [float(i) for i in range(1, 201)]
    want = _torch_conv([x], [[[1.0, 1.0, 1.0]]], padding=1)[0]
    page.get_by_test_id("input").fill(",".join(str(int(v)) for v in x))
    note = page.get_by_test_id("outputs-note")
    expect(note).to_contain_text("The output has 200 elements")
    expect(note).to_contain_text("y1, y2, y199, y200")
    expect(page.get_by_test_id("step-label")).to_have_text("step 1 of 4")
    page.get_by_test_id("step").fill("2")
    expect(page.get_by_test_id("step-detail")).to_contain_text("Step 3: y199 (PyTorch index [0, 198])")
    expect(page.get_by_test_id("step-detail")).to_contain_text(f"y199 = {fmt(want[198])}")

    page.get_by_test_id("at_t").fill("56")  # any output, as --at 0,0,56
    expect(note).to_contain_text("Explaining y57 only (at = 0, 0, 56)")
    expect(page.get_by_test_id("step-label")).to_have_text("step 1 of 1")
    expect(page.get_by_test_id("step-detail")).to_contain_text(f"y57 = {fmt(want[56])}")
    assert fmt(want[56]) == "171"
    page.screenshot(path=str(artifacts / "long_input_at.png"), full_page=True)

    page.get_by_test_id("at_t").fill("500")  # beyond the output: the explainer's own error
    expect(page.get_by_test_id("error")).to_contain_text("at")
    expect(page.get_by_test_id("outputs-note")).to_have_text("")
    page.get_by_test_id("at_t").fill("")
    expect(note).to_contain_text("y1, y2, y199, y200")
    expect(page.get_by_test_id("step-label")).to_have_text("step 1 of 4")


def test_channels_typed_and_named_as_the_command_line(explorer: Page) -> None:
    page = explorer
    page.get_by_test_id("input").fill("1,2,3:4,5,6")
    page.get_by_test_id("weight").fill("[[[1, 2], [3, 4]], [[5, 6], [7, 8]]]")
    page.get_by_test_id("padding").fill("0")
    page.get_by_test_id("kernel_size").fill("2")
    want = _torch_conv([[1, 2, 3], [4, 5, 6]], [[[1, 2], [3, 4]], [[5, 6], [7, 8]]])
    expect(page.get_by_test_id("badge")).to_contain_text("PyTorch agrees")
    expect(page.get_by_test_id("step-label")).to_have_text("step 1 of 4")
    cli = _cli_step(["--input", "1,2,3:4,5,6", "--weight", "[[[1, 2], [3, 4]], [[5, 6], [7, 8]]]", "--kernel-size", "2"], 1)
    expect(page.get_by_test_id("step-detail")).to_have_text("\n".join(cli))
    assert "    x[1][1] × w[1][1][1] = 1 × 1 = 1" in cli and f"  y[1][1] = {fmt(want[0][0])}" in cli
    page.get_by_test_id("step").fill("3")
    expect(page.get_by_test_id("step-detail")).to_contain_text("x[2][2] × w[2][2][1] = 5 × 7 = 35")
    expect(page.get_by_test_id("step-detail")).to_contain_text(f"y[2][2] = {fmt(want[1][1])}")

    page.get_by_test_id("op-transposed").check()  # ConvTranspose1d's weight is (in, out, k)
    page.get_by_test_id("weight").fill("[[[1, 2]], [[3, 4]]]")
    want_t = _torch_conv([[1, 2, 3], [4, 5, 6]], [[[1, 2]], [[3, 4]]], transposed=True)
    page.get_by_test_id("step").fill("3")  # x[2][1] stamps into y[1][1], y[1][2]
    expect(page.get_by_test_id("step-label")).to_have_text("scatter 4 of 6")
    expect(page.get_by_test_id("step-detail")).to_contain_text("x[2][1] × w[2][1][1] = 4 × 3 = 12  → y[1][1]")
    expect(page.get_by_test_id("step-detail")).to_contain_text("x[2][1] × w[2][1][2] = 4 × 4 = 16  → y[1][2]")
    expect(page.get_by_test_id("badge")).to_contain_text("PyTorch agrees")
    cells = page.get_by_test_id("overview").locator("g[data-role=output]")
    assert [cells.nth(i).get_attribute("data-label") for i in range(cells.count())] == [fmt(v) for v in want_t[0]]


def test_every_error_worded_alike_in_the_page_language(explorer: Page, artifacts: Path) -> None:
    page = explorer
    error = page.get_by_test_id("error")
    page.get_by_test_id("input").fill(",".join(["1"] * 5000))  # beyond the 4096 samples the server explains
    expect(error).to_contain_text("Too large")
    expect(error).to_contain_text("input elements = 5000: at most 4096 on this server")
    assert "should" not in error.inner_text() and "List" not in error.inner_text()  # no pydantic text

    page.get_by_test_id("lang").click()
    expect(error).to_contain_text("太大")
    expect(error).to_contain_text("输入元素个数 = 5000：本服务器最多 4096")
    page.get_by_test_id("input").fill("1,1,1,1")
    page.get_by_test_id("kernel_size").fill("9")
    expect(error).to_contain_text("配置无效")
    expect(error).to_contain_text("padding = 1")
    expect(error).to_contain_text("规则：卷积核（含空洞）必须放得进补齐后的输入")
    expect(error).to_contain_text("最接近的有效设置：输入长度 >= 7")
    expect(error).to_contain_text("最接近的有效设置：kernel_size <= 6")
    page.get_by_test_id("stack-run").click()
    expect(page.get_by_test_id("stack-report")).to_contain_text("层栈作用于 16000 个样本")
    expect(page.get_by_test_id("stack-report")).to_contain_text("感受野 52")
    page.get_by_test_id("solve-run").click()
    expect(page.get_by_test_id("solve-report")).to_contain_text("求解 down")
    page.get_by_test_id("stack").fill("conv k=0")
    page.get_by_test_id("stack-run").click()
    expect(page.get_by_test_id("stack-report")).to_contain_text("配置无效")
    expect(page.get_by_test_id("stack-report")).to_contain_text("kernel_size = 0")
    expect(page.get_by_test_id("stack-report")).to_contain_text("规则：kernel_size 必须 >= 1")
    page.screenshot(path=str(artifacts / "chinese_errors.png"), full_page=True)
    page.get_by_test_id("lang").click()  # back in English, the planner's reports follow
    expect(page.get_by_test_id("stack-report")).to_contain_text("Invalid configuration")
    expect(page.get_by_test_id("solve-report")).to_contain_text("solve down")
