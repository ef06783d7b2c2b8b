"""Jupyter's view of a planner's, inspector's or streaming report (issue 20): its text's lines,
escaped, and each table an HTML ``<table>`` whose headers and cells are the text table's,
numbers right-aligned as in the text, in English and in Chinese; the text itself unchanged."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest

from convtrace import plan
from convtrace.render.plan_text import TABLE_MARK, table, tables_collected
from convtrace.render.report_html import lines_html, table_html, text_html
from convtrace.stream.report import report as stream_report


class _Page(HTMLParser):
    """The parts of a report's HTML, in order: ("pre", text) and ("table", headers, rows,
    header alignments, row alignments); ``loose`` collects text outside both."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[tuple[Any, ...]] = []
        self.loose: list[str] = []
        self._pre: list[str] | None = None
        self._table: dict[str, Any] | None = None
        self._cell: list[str] | None = None
        self._section = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        style = dict(attrs).get("style") or ""
        if tag == "pre":
            self._pre = []
        elif tag == "table":
            self._table = {"head": [], "rows": [], "head_align": [], "row_align": [], "misplaced": False}
        elif tag in ("thead", "tbody"):
            self._section = tag
        elif tag == "tr" and self._table is not None and self._section == "tbody":
            self._table["rows"].append([])
            self._table["row_align"].append([])
        elif tag in ("th", "td") and self._table is not None:
            self._cell = []
            align = "right" if "text-align:right" in style else "left"
            if tag == "th" and self._section == "thead":
                self._table["head_align"].append(align)
            elif tag == "td" and self._section == "tbody":
                self._table["row_align"][-1].append(align)
            else:  # a header cell outside <thead>, a data cell outside <tbody>
                self._table["misplaced"] = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre" and self._pre is not None:
            self.parts.append(("pre", "".join(self._pre)))
            self._pre = None
        elif tag in ("th", "td") and self._table is not None and self._cell is not None:
            text = "".join(self._cell)
            if not self._table["misplaced"]:
                (self._table["head"] if tag == "th" else self._table["rows"][-1]).append(text)
            self._cell = None
        elif tag == "table" and self._table is not None:
            t = self._table
            if t["misplaced"]:
                self.parts.append(("other table",))
            else:
                self.parts.append(("table", t["head"], t["rows"], t["head_align"], t["row_align"]))
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        elif self._pre is not None:
            self._pre.append(data)
        elif data.strip():
            self.loose.append(data)


def parse(page: str) -> _Page:
    parsed = _Page()
    parsed.feed(page)
    parsed.close()
    assert parsed.loose == [] and parsed._pre is None and parsed._table is None
    return parsed


def text_parts(text: str) -> list[tuple[Any, ...]]:
    """The text of a report cut as its HTML should be: runs of prose lines, and each rich
    table as (headers, rows, header alignments, row alignments) read off its box drawing."""
    parts: list[tuple[Any, ...]] = []
    prose: list[str] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.startswith("┏"):
            prose.append(line)
            i += 1
            continue
        if prose:
            parts.append(("pre", "\n".join(prose)))
            prose = []
        head_line = lines[i + 1]
        headers = [cell.strip() for cell in head_line.strip("┃").split("┃")]
        head_align = [_alignment(cell) for cell in head_line.strip("┃").split("┃")]
        assert lines[i + 2].startswith("┡")
        i += 3
        rows, row_align = [], []
        while not lines[i].startswith("└"):
            raw = lines[i].strip("│").split("│")
            rows.append([cell.strip() for cell in raw])
            row_align.append([_alignment(cell) for cell in raw])
            i += 1
        parts.append(("table", headers, rows, head_align, row_align))
        i += 1
    if prose:
        parts.append(("pre", "\n".join(prose)))
    return parts


def _alignment(cell: str) -> str | None:
    """'left' / 'right' where a padded cell shows it (a full cell says nothing)."""
    inner = cell[1:-1]
    if inner.strip() in ("", inner):
        return None
    return "right" if inner.startswith(" ") else "left"


def assert_html_is_the_text(report: Any, lang: str = "en", tables: int = 1) -> list[tuple[Any, ...]]:
    """The report's HTML holds its text: the same prose, the same tables (cell by cell, and
    aligned as the text is), in the same order."""
    text = report.render(lang)
    html_parts = parse(report.to_html(lang)).parts
    expected = text_parts(text)
    assert [p[0] for p in html_parts] == [p[0] for p in expected]
    assert sum(p[0] == "table" for p in html_parts) == tables
    for got, want in zip(html_parts, expected):
        if got[0] == "pre":
            assert got == want
            continue
        _, headers, rows, head_align, row_align = got
        assert (headers, rows) == (want[1], want[2])
        assert all(rows) and all(len(row) == len(headers) for row in rows)
        for shown, drawn in zip([head_align, *row_align], [want[3], *want[4]]):
            assert [a for a, b in zip(shown, drawn) if b is not None] == [b for b in drawn if b is not None]
    return html_parts


def _stack() -> Any:
    return plan.analyse_stack("conv k=4 s=2 p=1 name=a<b&c; conv k=3 d=2; convT k=4 s=2 p=1", 100)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_stack_reports_html_is_its_text_with_an_html_table(lang: str) -> None:
    report = _stack()
    parts = assert_html_is_the_text(report, lang)
    table_part = parts[1]
    assert table_part[1][:3] == (["#", "name", "layer"] if lang == "en" else ["#", "名称", "层"])
    assert len(table_part[2]) == 3 and table_part[2][0][1] == "a<b&c"  # the name, as written
    assert table_part[3] == ["left"] * 3 + ["right"] * 10  # words left, numbers right, as the text
    page = report.to_html(lang)
    assert "a&lt;b&amp;c" in page and "a<b" not in page  # escaped, in the table and in the warning below it
    assert report._repr_html_() == report.to_html("en")
    assert report._repr_mimebundle_()[0]["text/html"] == report.to_html("en")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_stream_reports_html_is_its_text_with_an_html_table(lang: str) -> None:
    report = stream_report("conv k=4 s=2 p=causal name=x<y; convT k=4 s=2 p=1", sample_rate=16000)
    parts = assert_html_is_the_text(report, lang)
    assert parts[1][2][0][1] == "x<y: conv k=4 s=2 p=3,0"
    if lang == "zh":
        assert parts[1][1][1] == "层" and "流式运行" in parts[0][1]
    assert "x&lt;y" in report.to_html(lang)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_reports_without_a_table_are_their_text_escaped(lang: str) -> None:
    layer = plan.parse_stack("conv k=10 s=5")[0]
    for report in (plan.shape(layer, 16000), plan.solve("same", kernel_sizes=range(3, 6))):
        parts = assert_html_is_the_text(report, lang, tables=0)
        assert parts == [("pre", report.render(lang))]
        assert report.to_html(lang).startswith('<pre class="convtrace"')


def test_the_text_is_unchanged_and_the_tables_are_drawn_again_after_an_html_view() -> None:
    report = _stack()
    before = report.render()
    report.to_html()
    assert report.render() == before and "┏" in before and TABLE_MARK.format(0) not in before
    with tables_collected() as tables:
        inside = report.render()
    assert TABLE_MARK.format(0) in inside.split("\n") and len(tables) == 1 and "┏" not in inside
    assert report.render() == before


def test_table_html_cells_are_the_given_ones() -> None:
    page = table_html(["#", "name", "layer", "in"], [["0", "<x>", "conv", "10"], ["1", "", "pool", "-"]])
    (_, headers, rows, head_align, row_align), = parse(page).parts
    assert headers == ["#", "name", "layer", "in"] and rows == [["0", "<x>", "conv", "10"], ["1", "", "pool", "-"]]
    assert head_align == row_align[0] == ["left", "left", "left", "right"]
    with tables_collected() as tables:
        mark = table(["#", "a"], [[0, None], [1, "b"]])
    assert parse(text_html("top\n" + mark + "\nbottom", tables)).parts == [
        ("pre", "top"), ("table", ["#", "a"], [["0", "-"], ["1", "b"]], ["left", "left"], [["left", "left"]] * 2),
        ("pre", "bottom"),
    ]  # fmt: skip


@pytest.mark.torch
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_inspect_reports_html_is_their_text_with_an_html_table(lang: str) -> None:
    torch = pytest.importorskip("torch")
    import convtrace
    from convtrace.inspect import length_map

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv1d(1, 2, 3, stride=2), torch.nn.MaxPool1d(2), torch.nn.Conv1d(2, 1, 2))
    report = convtrace.inspect(model, (1, 1, 40))
    parts = assert_html_is_the_text(report, lang)
    assert [row[0] for row in parts[1][2]] == ["0", "1", "2"]
    assert parts[1][1][:3] == (["#", "name", "type"] if lang == "en" else ["#", "名称", "类型"])
    lengths = length_map(model, (1, 1, 40), lengths=range(30, 45))
    assert_html_is_the_text(lengths, lang, tables=0)


@pytest.mark.torch
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_an_explained_layers_html_shows_its_steps_as_tables(lang: str) -> None:
    torch = pytest.importorskip("torch")
    from convtrace.inspect import explain_layer
    from convtrace.render.html import render_html
    from convtrace.render.plan_text import layer_explanation_ends

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv1d(1, 2, 3, stride=2), torch.nn.MaxPool1d(2))
    explained = explain_layer(model, "0", (0, 1, 3), (1, 1, 40))
    page = explained.to_html(lang)
    head, foot = layer_explanation_ends(explained, lang)
    assert head in explained.render(lang) and foot in explained.render(lang)
    assert render_html(explained.trace, lang) in page and page.count("<table") >= 1
    assert page.startswith(lines_html([head])) and page.endswith(lines_html([foot]))
    assert page == lines_html([head]) + render_html(explained.trace, lang) + lines_html([foot])
    assert ("第 1 步" if lang == "zh" else "step 1") in page.lower()


def test_show_gives_a_reports_bundle_in_chinese() -> None:
    report = _stack()
    shown = report.show("zh")
    data, meta = shown._repr_mimebundle_()
    assert data == {"text/plain": report.render("zh"), "text/html": report.to_html("zh")} and meta == {}
    assert "感受野" in data["text/html"] and "<table" in data["text/html"]
    assert report._repr_mimebundle_()[0]["text/plain"] == str(report)  # the notebook's default stays English
    assert set(shown._repr_mimebundle_(include=["text/html"])[0]) == {"text/html"}


@pytest.mark.torch
def test_show_gives_an_explained_layers_figure_and_tables_in_chinese() -> None:
    torch = pytest.importorskip("torch")
    from convtrace.draw import build_figure
    from convtrace.draw.svg import figure_to_svg
    from convtrace.inspect import explain_layer

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv1d(1, 2, 3, stride=2))
    explained = explain_layer(model, "0", (0, 1, 3), (1, 1, 40))
    data, _ = explained.show("zh")._repr_mimebundle_(exclude=["image/png"])
    assert data["text/plain"] == explained.render("zh") and data["text/html"].endswith(explained.to_html("zh"))
    assert data["image/svg+xml"] == figure_to_svg(build_figure(explained.trace, None, "zh"))
    assert "第 1 步" in data["text/html"]
