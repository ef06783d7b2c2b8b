"""The explorer's "streaming" switch (issue 19, item 4), end to end in headless Chromium:
switched on, the figure's frames are the chunk loop and the split panel shows, for the push
of the scrubber's frame, which inputs come from the cache and which are new; it follows the
scrubber, the language and the transposed layer's carried tail."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("playwright")
from playwright.sync_api import Page, expect


def _origins(page: Page, out: int) -> list[str]:
    row = page.get_by_test_id("stream-split").locator(f"[data-testid=stream-output][data-out='{out}'] [data-origin]")
    return [row.nth(i).get_attribute("data-origin") or "" for i in range(row.count())]


def _switch_on(page: Page, chunk: int = 2) -> None:
    page.get_by_test_id("stream-chunk").fill(str(chunk))
    page.get_by_test_id("stream-toggle").check()


def test_streaming_switch_shows_cache_and_new_in_step_with_the_scrubber(explorer: Page, artifacts: Path) -> None:
    page = explorer
    split = page.get_by_test_id("stream-split")
    expect(split).to_be_hidden()
    _switch_on(page)
    # the frames are the chunk loop: two pushes and the flush, and the scrubber's label says so
    expect(page.get_by_test_id("step-label")).to_have_text("push 1 of 2")
    expect(page.get_by_test_id("figure")).to_contain_text("push 1 of 2")
    expect(split).to_have_attribute("data-push", "1")
    assert _origins(page, 0) == ["new", "new", "new"]  # warm-up: the left pad and x1, x2 arrive now
    expect(page.get_by_test_id("step-detail")).to_contain_text("Push 1 of 2")
    page.get_by_test_id("next").click()
    expect(page.get_by_test_id("figure")).to_contain_text("push 2 of 2")
    expect(page.get_by_test_id("step-label")).to_have_text("push 2 of 2")
    expect(split).to_have_attribute("data-push", "2")
    expect(split.get_by_test_id("stream-cache")).to_contain_text("[1] 1")
    assert _origins(page, 1) == ["cache", "cache", "new"]
    assert _origins(page, 2) == ["cache", "new", "new"]
    expect(page.get_by_test_id("step-detail")).to_contain_text("y2 = 3: reads x1 (cache), x2 (cache), x3 (new)")
    page.screenshot(path=str(artifacts / "stream_push2.png"), full_page=True)
    page.get_by_test_id("next").click()
    expect(split).to_have_attribute("data-push", "flush")
    expect(page.get_by_test_id("step-label")).to_have_text("flush(): the end is known")
    expect(split).to_contain_text("y4 = 2")
    page.get_by_test_id("prev").click()
    expect(split).to_have_attribute("data-push", "2")
    # Chinese: the panel's words follow
    page.get_by_test_id("lang").click()
    expect(split).to_contain_text("缓存")
    expect(page.get_by_test_id("step-detail")).to_contain_text("读取 x1（缓存）")
    page.get_by_test_id("lang").click()
    # off: the frames are the windows again
    page.get_by_test_id("stream-toggle").uncheck()
    expect(page.get_by_test_id("step-label")).to_have_text("step 2 of 4")
    expect(split).to_be_hidden()


def test_streaming_transposed_shows_the_carried_tail(explorer: Page, artifacts: Path) -> None:
    page = explorer
    page.get_by_test_id("op-transposed").check()
    page.get_by_test_id("stride").fill("2")
    page.get_by_test_id("bias").fill("0.5")
    _switch_on(page)
    expect(page.get_by_test_id("figure")).to_contain_text("push 1 of 2")
    page.get_by_test_id("next").click()
    split = page.get_by_test_id("stream-split")
    expect(split).to_have_attribute("data-push", "2")
    expect(page.get_by_test_id("step-label")).to_have_text("push 2 of 2")  # the pushes, not the scatters
    expect(split.get_by_test_id("stream-cache")).to_contain_text("[4] 1")  # x2·w3, no 0.5 in it
    expect(split).to_contain_text("y4 = 2.5")
    assert _origins(page, 3)[:2] == ["carried", "new"]
    expect(split.get_by_test_id("stream-tail")).to_contain_text("[8] 1")
    page.screenshot(path=str(artifacts / "stream_transposed.png"), full_page=True)


def test_a_bad_chunk_is_the_rules_error(explorer: Page) -> None:
    page = explorer
    _switch_on(page, chunk=0)
    expect(page.get_by_test_id("error")).to_contain_text("stream_chunk")
    expect(page.get_by_test_id("error")).to_contain_text("whole number of input samples >= 1")
