"""The page's front end as separate ES modules (``index.html`` as shipped, not inlined: its
adapter app.js imports the shared explorer.js from /static) renders as the inlined page does."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("playwright")

from playwright.sync_api import expect


def test_uninlined_page_loads_the_shared_module(page: Any, server: str) -> None:
    loaded: list[str] = []
    page.on("request", lambda r: loaded.append(r.url.split("/", 3)[-1]))
    page.goto(server + "/static/index.html")
    expect(page.get_by_test_id("step-label")).to_have_text("step 1 of 4")  # asked from the API: nothing embedded
    expect(page.get_by_test_id("step-detail")).to_contain_text("y1 = 2")
    assert {"static/app.js", "static/explorer.js", "static/style.css"} <= set(loaded)
    assert "api/explain" in loaded
