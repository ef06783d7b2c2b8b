"""The HTML renderer: well-formed, escaped, self-contained."""

from __future__ import annotations

import dataclasses
from html.parser import HTMLParser

import pytest

from convtrace.explainer import explain, explain_transposed
from convtrace.render.html import render_html
from convtrace.trace.model import TorchCheck

_VOID = {"br", "hr", "img", "meta", "link", "input", "col", "wbr"}


class _Balanced(HTMLParser):
    """Fails on a closing tag that does not match the innermost open one."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag not in _VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (tag, self.stack)
        self.stack.pop()


def _parse(page: str) -> _Balanced:
    p = _Balanced()
    p.feed(page)
    p.close()
    assert p.stack == []
    return p


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_html_parses(lang):
    traces = [
        explain([1, 1, 1, 1], [1, 1, 1], padding=1, verify=False),
        explain(input_shape=(1, 2, 300), in_channels=2, padding=1, padding_mode="reflect", verify=False),
        explain_transposed([1, 2, 3], [1, 1, 1], stride=2, output_padding=1, verify=False),
    ]
    for trace in traces:
        tags = _parse(render_html(trace, lang)).tags
        assert "script" not in tags and "link" not in tags and "img" not in tags
        assert "table" in tags


def test_html_escapes():
    trace = explain([1, 2, 3], [1, 1], verify=False)
    trace = dataclasses.replace(trace, check=TorchCheck(available=True, call="<script>alert('x')</script>", output=None,
                             max_abs_diff=0.0, agree=True))
    page = render_html(trace)
    assert "<script>" not in page and "&lt;script&gt;" in page
    _parse(page)


def test_html_marks_padding_and_check():
    trace = explain([1, 1, 1, 1], [1, 1, 1], padding=1, verify=False)
    page = render_html(trace)
    assert page.count('class="pad"') >= 4  # two padding cells in two rows, plus padded terms
    trace = dataclasses.replace(trace, check=TorchCheck(available=False, call="torch.nn.Conv1d(...)"))
    assert "pip install" in render_html(trace)


def test_repr_html_is_the_renderer():
    trace = explain([1, 2, 3], [1, 1], verify=False)
    # issue 9: Jupyter shows the figure (SVG) first, then the renderer's tables
    assert trace._repr_html_() == render_html(trace, figure=trace.to_svg())
    assert trace._repr_html_().count("<svg") == 1 and render_html(trace) in trace._repr_html_().replace(
        f'<div class="convtrace-figure">{trace.to_svg()}</div>', ""
    )
