"""The pools in the page (issue 17), in Chromium: the op selector shows each pool's fields
only; an avg pool with the ceil_mode overhang steps through its windows with PyTorch's
badge, the overhang shaded and the divisor worded; an invalid setting shows the resolver's
words and clears every panel; Chinese; the phone and laptop layouts. Screenshots go to
tests/web/artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("playwright")
from playwright.sync_api import Page, expect

import convtrace
from convtrace import ConvtraceError

PANELS = ("formula", "figure", "overview", "step-detail", "step-label", "snippet")
SIZES = {"phone": (390, 844), "laptop": (1280, 800)}


def _avg_pool_with_overhang(page: Page) -> None:
    """AvgPool1d on 1..6, k=3, s=2, p=1, ceil_mode: four windows, the last one over x6, a
    padding cell and the overhang."""
    page.get_by_test_id("op-avg_pool1d").check()
    page.get_by_test_id("input").fill("1,2,3,4,5,6")
    page.get_by_test_id("kernel_size").fill("3")
    page.get_by_test_id("stride").fill("2")
    page.get_by_test_id("padding").fill("1")
    page.get_by_test_id("ceil_mode").check()
    expect(page.get_by_test_id("step-label")).to_have_text("step 1 of 4")
    expect(page.get_by_test_id("formula")).to_contain_text("= 4")


def test_op_selector_shows_each_pools_fields(explorer: Page) -> None:
    page = explorer
    fields = ("weight", "bias", "groups", "padding_mode", "dilation", "ceil_mode", "count_include_pad", "norm_type",
              "output_size", "indices", "kernel_size", "padding", "at_t")
    shown = {
        "conv": {"weight", "bias", "groups", "padding_mode", "dilation", "kernel_size", "padding", "at_t"},
        "max_pool1d": {"dilation", "ceil_mode", "kernel_size", "padding", "at_t"},
        "avg_pool1d": {"ceil_mode", "count_include_pad", "kernel_size", "padding", "at_t"},
        "lp_pool1d": {"ceil_mode", "norm_type", "kernel_size", "at_t"},
        "adaptive_avg_pool1d": {"output_size", "at_t"},
        "adaptive_max_pool1d": {"output_size", "at_t"},
        "max_unpool1d": {"kernel_size", "padding", "output_size", "indices", "at_t"},
    }
    for op in ("max_pool1d", "avg_pool1d", "lp_pool1d", "adaptive_avg_pool1d", "adaptive_max_pool1d", "max_unpool1d",
               "conv"):
        page.get_by_test_id(f"op-{op}").check()
        for name in fields:
            field = page.get_by_test_id(name)
            if name in shown[op]:
                expect(field).to_be_visible()
                expect(field).to_be_enabled()
            else:
                expect(field).to_be_hidden()
                expect(field).to_be_disabled()
        if op != "conv":
            expect(page.get_by_test_id("step-label")).to_contain_text("of")
            expect(page.get_by_test_id("figure").locator("svg")).to_contain_text(
                {"max_pool1d": "MaxPool1d", "avg_pool1d": "AvgPool1d", "lp_pool1d": "LPPool1d",
                 "adaptive_avg_pool1d": "AdaptiveAvgPool1d", "adaptive_max_pool1d": "AdaptiveMaxPool1d",
                 "max_unpool1d": "MaxUnpool1d"}[op])
            expect(page.get_by_test_id("error")).to_be_hidden()
    expect(page.get_by_test_id("step-label")).to_have_text("step 1 of 4")  # back to the Conv1d demo


def test_avg_pool_with_ceil_overhang(explorer: Page, artifacts: Path) -> None:
    page = explorer
    _avg_pool_with_overhang(page)
    expect(page.get_by_test_id("badge")).to_contain_text("PyTorch agrees", timeout=30000)
    for _ in range(3):
        page.get_by_test_id("next").click()
    expect(page.get_by_test_id("step-label")).to_have_text("step 4 of 4")
    figure = page.get_by_test_id("figure")
    expect(figure.locator("[data-role=pool-sum]")).to_have_text("mean = (6 + 0) / 2 = 3")
    expect(figure.locator("rect[data-role=overhang]")).to_have_count(1)
    expect(figure.locator("[data-role=sample-overhang]")).to_have_text("ceil")
    detail = page.get_by_test_id("step-detail")
    expect(detail).to_contain_text("divisor = 2")
    expect(detail).to_contain_text("y4 = 6 / 2 = 3")
    expect(page.get_by_test_id("overview").locator("[data-role=window-label]")).to_have_count(4)
    expect(page.get_by_test_id("snippet")).to_contain_text("torch.nn.AvgPool1d(kernel_size=3, stride=2, padding=1, "
                                                           "ceil_mode=True)")
    page.screenshot(path=str(artifacts / "pool_avg_ceil.png"), full_page=True)

    page.get_by_test_id("lang").click()  # the same picture, in Chinese
    expect(page.get_by_test_id("figure").locator("[data-role=pool-sum]")).to_have_text("平均 = (6 + 0) / 2 = 3")
    expect(page.get_by_test_id("step-detail")).to_contain_text("除数")
    expect(page.get_by_test_id("badge")).to_contain_text("PyTorch 结果一致")
    page.screenshot(path=str(artifacts / "pool_avg_ceil_zh.png"), full_page=True)


def test_invalid_pool_setting_clears_every_panel(explorer: Page, artifacts: Path) -> None:
    page = explorer
    _avg_pool_with_overhang(page)
    with pytest.raises(ConvtraceError) as info:
        convtrace.explain(op="avg_pool1d", input=[1, 2, 3, 4, 5, 6], kernel_size=3, stride=2, padding=2,
                          ceil_mode=True, verify=False)
    page.get_by_test_id("padding").fill("2")  # more than half the kernel
    error = page.get_by_test_id("error")
    expect(error).to_contain_text("padding = 2")
    expect(error).to_contain_text(info.value.rule)  # the resolver's words, as Python raises them
    expect(error).to_contain_text("nearest valid: padding=1")
    for panel in PANELS:
        shown = page.get_by_test_id(panel)
        expect(shown).to_have_attribute("data-stale", "true")
        assert shown.locator("svg").count() == 0, panel
        assert "mean" not in shown.inner_text() and "of 4" not in shown.inner_text(), panel
    for control in ("prev", "next", "play", "step", "copy"):
        expect(page.get_by_test_id(control)).to_be_disabled()
    page.screenshot(path=str(artifacts / "pool_invalid.png"), full_page=True)
    page.get_by_test_id("padding").fill("1")  # valid again
    expect(error).to_be_hidden()
    expect(page.get_by_test_id("step-label")).to_have_text("step 1 of 4")
    expect(page.get_by_test_id("figure").locator("svg")).to_have_count(1)


def test_a_long_pool_explains_any_output_asked_for(explorer: Page) -> None:
    page = explorer
    page.get_by_test_id("op-max_pool1d").check()
    page.get_by_test_id("input").fill(",".join(str(i % 7) for i in range(300)))
    page.get_by_test_id("kernel_size").fill("2")
    page.get_by_test_id("padding").fill("0")
    note = page.get_by_test_id("outputs-note")
    expect(note).to_contain_text("The output has 150 elements")
    page.get_by_test_id("at_t").fill("100")
    expect(note).to_contain_text("Explaining y101 only")
    expect(page.get_by_test_id("figure").locator("[data-role=title]")).to_contain_text("y101")
    expect(page.get_by_test_id("step-detail")).to_contain_text("y101 = 5")  # max(x201, x202) = max(200 % 7, 201 % 7)


def test_max_unpool_lands_and_says_collisions(explorer: Page) -> None:
    page = explorer
    page.get_by_test_id("op-max_unpool1d").check()
    page.get_by_test_id("input").fill("5,7,9")
    page.get_by_test_id("indices").fill("1,1,4")
    page.get_by_test_id("kernel_size").fill("2")
    page.get_by_test_id("padding").fill("0")
    page.get_by_test_id("output_size").fill("6")
    expect(page.get_by_test_id("step-label")).to_have_text("landing 1 of 3")
    page.get_by_test_id("next").click()
    expect(page.get_by_test_id("step-label")).to_have_text("landing 2 of 3")
    expect(page.get_by_test_id("figure").locator("[data-role=pool-collision]")).to_have_text(
        "collision: x1 wrote y2 before; x2 stays (the last write; PyTorch does not promise which)")
    expect(page.get_by_test_id("overview").locator("rect[data-role=collision]")).to_have_count(1)


@pytest.mark.parametrize("size", list(SIZES))
def test_pool_page_fits_phone_and_laptop(explorer: Page, artifacts: Path, size: str) -> None:
    page = explorer
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    _avg_pool_with_overhang(page)
    wide, visible = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert wide <= visible, f"the page is {wide} px wide in a {visible} px window"
    figure = page.get_by_test_id("figure")
    figure.scroll_into_view_if_needed()
    box = None
    for _ in range(50):
        box = figure.locator("svg").bounding_box()
        if box is not None:
            break
        page.wait_for_timeout(100)
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, box
    page.screenshot(path=str(artifacts / f"pool_layout_{size}.png"), full_page=True)
