"""End to end in headless Chromium (pytest-playwright, /usr/bin/chromium): change
parameters, step through, read the right numbers (PyTorch's), see the invalid-configuration
message and the PyTorch badge, switch to Chinese; no console errors; screenshots are kept
in tests/web/artifacts/."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("playwright")
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from convtrace.render.numfmt import fmt


def _torch(x: list[float], w: list[float], transposed: bool = False, **kw: Any) -> list[str]:
    torch = pytest.importorskip("torch")
    cls = torch.nn.ConvTranspose1d if transposed else torch.nn.Conv1d
    m = cls(1, 1, len(w), bias=False, dtype=torch.float64, **kw)
    with torch.no_grad():
        m.weight.copy_(torch.tensor([[w]], dtype=torch.float64))
        y = m(torch.tensor([x], dtype=torch.float64)).numpy()[0]
    return [fmt(v) for v in np.asarray(y)]


def _current(page: Page, where: str = "figure") -> str:
    return page.get_by_test_id(where).locator("g[data-role=current]").first.get_attribute("data-label") or ""


def _outputs(page: Page, want: list[str]) -> list[str]:
    """The overview's output cells, once they show ``want`` (or after 10 s, whatever they show)."""
    script = ("(want) => JSON.stringify([...document.querySelectorAll('[data-testid=overview] g[data-role=output]')]"
              ".map((g) => g.dataset.label)) === JSON.stringify(want)")
    with contextlib.suppress(PlaywrightTimeout):  # the caller's assertion reports what the page shows
        page.wait_for_function(script, arg=want, timeout=10_000)
    cells = page.get_by_test_id("overview").locator("g[data-role=output]")
    return [cells.nth(i).get_attribute("data-label") or "" for i in range(cells.count())]


def test_demo_steps_and_badge(explorer: Page, artifacts: Path) -> None:
    page = explorer
    want = _torch([1, 1, 1, 1], [1, 1, 1], padding=1)
    expect(page.get_by_test_id("formula")).to_contain_text("floor((4 + 1 + 1 - 1*(3 - 1) - 1) / 1) + 1")
    expect(page.get_by_test_id("badge")).to_contain_text("PyTorch agrees")
    expect(page.get_by_test_id("torch-status")).to_contain_text("PyTorch")
    assert _outputs(page, want) == want == ["2", "3", "3", "2"]
    expect(page.get_by_test_id("step-detail")).to_contain_text("sum = 0 + 1 + 1 = 2")
    assert _current(page) == want[0]
    # the page shows the drawing model's picture: the same labelled shapes, in the same order
    from convtrace import explain
    from convtrace.draw import build_figure
    from convtrace.draw.model import Group

    model = [g.label for g in build_figure(explain([1, 1, 1, 1], [1, 1, 1], padding=1, verify=False), 0).walk()
             if isinstance(g, Group) and g.label]
    shown = page.get_by_test_id("figure").locator("g[data-label]")
    assert [shown.nth(i).get_attribute("data-label") for i in range(shown.count())] == model
    page.screenshot(path=str(artifacts / "demo_step1.png"), full_page=True)
    for n in range(1, 4):
        page.get_by_test_id("next").click()
        expect(page.get_by_test_id("step-label")).to_have_text(f"step {n + 1} of 4")
        expect(page.get_by_test_id("step-detail")).to_contain_text(f"y{n + 1} = {want[n]}")
        assert _current(page) == want[n]
    page.get_by_test_id("next").click()  # stays on the last step
    expect(page.get_by_test_id("step-label")).to_have_text("step 4 of 4")
    page.get_by_test_id("prev").click()
    expect(page.get_by_test_id("step-label")).to_have_text("step 3 of 4")
    expect(page.get_by_test_id("figure")).to_contain_text("sum = 1 + 1 + 1 = 3")
    page.screenshot(path=str(artifacts / "demo_step3.png"), full_page=True)


def test_first_render_comes_from_the_page_and_matches_the_api(page: Page, server: str) -> None:
    """The form's defaults are the configuration whose answers the page carries, so loading
    asks the API nothing; rendering the same configuration through the API shows the same."""
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url.split("/", 3)[-1]) if "/api/" in r.url else None)
    page.goto(server + "/")
    expect(page.get_by_test_id("step-label")).to_have_text("step 1 of 4")
    first = page.evaluate("window.convtraceTimings[0]")
    assert first["kind"] == "update" and first.get("embedded") is True
    assert asked == ["api/torch"]
    shown = {k: page.get_by_test_id(k).inner_html() for k in ("figure", "overview", "formula", "snippet", "badge")}
    page.get_by_test_id("padding").fill("0")
    expect(page.get_by_test_id("step-label")).to_have_text("step 1 of 2")
    page.get_by_test_id("padding").fill("1")
    expect(page.get_by_test_id("step-label")).to_have_text("step 1 of 4")
    page.wait_for_function("window.convtraceTimings.filter((t) => t.kind === 'update').length >= 3")
    assert "api/explain" in asked
    assert {k: page.get_by_test_id(k).inner_html() for k in shown} == shown


def test_change_parameters_reads_pytorchs_numbers(explorer: Page, artifacts: Path) -> None:
    page = explorer
    page.get_by_test_id("input").fill("1,2,3,4,5,6,7")
    page.get_by_test_id("weight").fill("1,0,-1")
    page.get_by_test_id("stride").fill("2")
    page.get_by_test_id("padding_mode").select_option("reflect")
    want = _torch([1, 2, 3, 4, 5, 6, 7], [1, 0, -1], stride=2, padding=1, padding_mode="reflect")
    expect(page.get_by_test_id("formula")).to_contain_text(f"= {len(want)}")
    expect(page.get_by_test_id("step-label")).to_have_text(f"step 1 of {len(want)}")
    expect(page.get_by_test_id("badge")).to_contain_text("PyTorch agrees")
    assert _outputs(page, want) == want
    page.get_by_test_id("step").fill("2")
    expect(page.get_by_test_id("step-label")).to_have_text(f"step 3 of {len(want)}")
    assert _current(page) == want[2]
    page.screenshot(path=str(artifacts / "reflect_stride2.png"), full_page=True)


def test_transposed_views_and_scrubber(explorer: Page, artifacts: Path) -> None:
    page = explorer
    page.get_by_test_id("op-transposed").check()
    page.get_by_test_id("stride").fill("2")
    page.get_by_test_id("output_padding").fill("1")
    want = _torch([1, 1, 1, 1], [1, 1, 1], transposed=True, stride=2, padding=1, output_padding=1)
    expect(page.get_by_test_id("formula")).to_contain_text("= 8")
    expect(page.get_by_test_id("step-label")).to_have_text("scatter 1 of 4")
    expect(page.get_by_test_id("badge")).to_contain_text("PyTorch agrees")
    assert _outputs(page, want) == want == ["1", "2", "1", "2", "1", "2", "1", "1"]
    overview = page.get_by_test_id("overview")
    for role in ("zero-insertion", "matrix", "overlap-bar", "crop-mark", "output-padding-mark"):
        assert overview.locator(f"[data-role={role}]").count() > 0, role
    page.get_by_test_id("step").fill("3")
    expect(page.get_by_test_id("step-label")).to_have_text("scatter 4 of 4")
    expect(page.get_by_test_id("step-detail")).to_contain_text("x4 × w3 = 1 × 1 = 1  → y8")
    page.screenshot(path=str(artifacts / "transposed.png"), full_page=True)
    code = page.get_by_test_id("snippet").inner_text()
    assert "torch.nn.ConvTranspose1d(" in code and "output_padding=1" in code


def test_invalid_configuration_explained_inline(explorer: Page, artifacts: Path) -> None:
    page = explorer
    page.get_by_test_id("kernel_size").fill("9")
    error = page.get_by_test_id("error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("Kernel size can't be greater than actual input size")
    expect(error).to_contain_text("nearest valid: kernel_size <= 6")
    page.screenshot(path=str(artifacts / "invalid.png"))
    page.get_by_test_id("kernel_size").fill("3")
    expect(error).to_be_hidden()
    page.get_by_test_id("input").fill("[1, 2")
    expect(error).to_contain_text("input = '[1, 2'")  # read by the command line's parser, worded as it words it
    expect(error).to_contain_text("invalid JSON array")
    page.get_by_test_id("input").fill("1,2,3,4")
    page.get_by_test_id("padding").fill("same")
    expect(error).to_be_hidden()
    expect(page.get_by_test_id("formula")).to_contain_text("= 4")
    page.get_by_test_id("input").fill(",".join(["1"] * 3000))
    page.get_by_test_id("out_channels").fill("64")
    expect(error).to_contain_text("Too large")


def test_chinese_and_play(explorer: Page, artifacts: Path) -> None:
    page = explorer
    page.get_by_test_id("lang").click()
    expect(page.get_by_test_id("figure")).to_contain_text("求和 = 0 + 1 + 1 = 2")
    expect(page.get_by_test_id("badge")).to_contain_text("PyTorch 结果一致")
    expect(page.get_by_test_id("step-label")).to_have_text("第 1 步（共 4 步）")
    page.screenshot(path=str(artifacts / "chinese.png"), full_page=True)
    page.get_by_test_id("play").click()
    expect(page.get_by_test_id("step-label")).to_have_text("第 2 步（共 4 步）", timeout=5000)
    page.get_by_test_id("play").click()
    code = page.get_by_test_id("snippet").inner_text()
    assert code.startswith("import torch") and "torch.nn.Conv1d(" in code
    page.get_by_test_id("copy").click()
    expect(page.get_by_test_id("copy")).to_have_text("已复制")


def test_planning_panel(explorer: Page, artifacts: Path) -> None:
    page = explorer
    page.get_by_test_id("stack-run").click()
    expect(page.get_by_test_id("stack-report")).to_contain_text("receptive field 52, hop 16, offset 18")
    page.get_by_test_id("goal").select_option("up")
    page.get_by_test_id("solve-kernels").fill("1..8")
    page.get_by_test_id("solve-run").click()
    expect(page.get_by_test_id("solve-report")).to_contain_text("convT k=4 s=4")
    page.get_by_test_id("stack").fill("conv k=0")
    page.get_by_test_id("stack-run").click()
    expect(page.get_by_test_id("stack-report")).to_contain_text("Invalid configuration")
    page.get_by_test_id("stack-report").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "planning.png"), full_page=True)


def test_badge_says_when_pytorch_is_missing(page: Page, server_without_torch: str, artifacts: Path) -> None:
    page.goto(server_without_torch + "/")
    expect(page.get_by_test_id("step-label")).to_have_text("step 1 of 4")
    expect(page.get_by_test_id("badge")).to_have_text("PyTorch is not installed on the server: numbers not confirmed")
    expect(page.get_by_test_id("torch-status")).to_have_text("no PyTorch on the server")
    expect(page.get_by_test_id("figure")).to_contain_text("sum = 0 + 1 + 1 = 2")  # the explanation still works
    page.screenshot(path=str(artifacts / "no_torch.png"))
