"""The page's layout in Chromium at a phone's size (390 x 844) and a laptop's (1280 x 800):
no sideways scrolling of the page, in Conv1d and ConvTranspose1d mode, with the planner's
stack table shown; the figure fits the width and comes into view; below ~900 px the form
and the view stack. Screenshots of each go to tests/web/artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("playwright")
from playwright.sync_api import Page, expect

SIZES = {"phone": (390, 844), "laptop": (1280, 800)}


def _no_sideways_scroll(page: Page) -> None:
    wide, visible = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert wide <= visible, f"the page is {wide} px wide in a {visible} px window"


def _figure_fits(page: Page, width: int) -> None:
    figure = page.get_by_test_id("figure")
    figure.scroll_into_view_if_needed()
    expect(figure).to_be_in_viewport()
    drawn = figure.locator("svg")
    # the figure is redrawn when a step's answer arrives: wait for the drawing in place (a box
    # read while the svg is being replaced is None)
    svg = None
    for _ in range(50):
        expect(drawn).to_be_visible()
        svg = drawn.bounding_box()
        if svg is not None:
            break
        page.wait_for_timeout(100)
    assert svg is not None and svg["width"] > 0.5 * min(width, 700), svg  # drawn, not shrunk to nothing
    assert svg["x"] >= 0 and svg["x"] + svg["width"] <= width + 0.5, (svg, width)


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("mode", ["conv", "transposed"])
def test_no_sideways_scroll_and_figure_in_view(explorer: Page, artifacts: Path, size: str, mode: str) -> None:
    page = explorer
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    if mode == "transposed":
        page.get_by_test_id("op-transposed").check()
        page.get_by_test_id("stride").fill("2")
        expect(page.get_by_test_id("step-label")).to_have_text("scatter 1 of 4")
    expect(page.get_by_test_id("snippet")).to_contain_text("import torch")
    page.get_by_test_id("stack-run").click()
    expect(page.get_by_test_id("stack-report")).to_contain_text("receptive field 52")
    _no_sideways_scroll(page)
    _figure_fits(page, width)
    report = page.get_by_test_id("stack-report").bounding_box()
    assert report is not None and report["x"] + report["width"] <= width + 0.5, report
    page.screenshot(path=str(artifacts / f"layout_{size}_{mode}.png"), full_page=True)


def test_form_and_view_stack_below_900_px(explorer: Page) -> None:
    page = explorer
    for width, stacked in ((390, True), (880, True), (920, False), (1280, False)):
        page.set_viewport_size({"width": width, "height": 800})
        form = page.get_by_test_id("controls").bounding_box()
        view = page.get_by_test_id("formula").bounding_box()
        assert form is not None and view is not None
        assert (view["y"] >= form["y"] + form["height"]) is stacked, (width, form, view)
        assert (view["x"] >= form["x"] + form["width"]) is not stacked, (width, form, view)
        _no_sideways_scroll(page)
