"""The notebook widget answers a streamed configuration with the explain document too (its
front end loads the streaming switch, web/static/stream.js, as the page does)."""

from __future__ import annotations

import pytest

import convtrace


def test_widget_answers_the_stream_document():
    pytest.importorskip("anywidget")
    from convtrace.notebook.widget import answer
    from convtrace.web.assets import module_text

    config = {"input": [1, 1, 1, 1], "weight": [1, 1, 1], "padding": 1, "verify": False, "stream_chunk": 2, "stream_push": 1}
    got = answer("explain", config)
    assert got["ok"] and got["data"] == convtrace.explain(**config).to_json()
    assert 'name: "stream"' in module_text("widget.js") and 'import "./stream.js"' not in module_text("app.js")
