"""A planner's, inspector's or streaming report as HTML (Jupyter's view of a
:class:`convtrace.plan.report.Shown`): the report's own text, line by line and escaped, with
each of its tables an HTML ``<table>`` made from the headers and cells the text's table is
drawn from (:func:`convtrace.render.plan_text.tables_collected`), numbers right-aligned as
in the text. An explained layer shows its steps as the trace's HTML tables.

>>> from convtrace.plan import analyse_stack
>>> page = report_html(analyse_stack("conv k=3", 10), "zh")
>>> page.startswith('<pre class="convtrace"'), page.count("<table"), "<th" in page and "感受野" in page
(True, 1, True)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape
from typing import Any

from .plan_text import TABLE_MARK, TableCells, layer_explanation_ends, right_aligned, tables_collected

__all__ = ["report_html", "text_html", "table_html", "lines_html"]

_PRE_STYLE = "font-family:monospace;line-height:1.25;margin:0 0 4px 0;white-space:pre-wrap"
_TABLE_STYLE = "border-collapse:collapse;margin:2px 0 8px 0;font-family:monospace"
_CELL_STYLE = "padding:1px 8px;white-space:nowrap;text-align:{align}"
_HEAD_STYLE = _CELL_STYLE + ";border-bottom:1px solid rgba(127,127,127,.6)"


def report_html(report: Any, lang: str = "en", **options: Any) -> str:
    """``report`` (a :class:`~convtrace.plan.report.Shown`) as HTML in ``lang`` ('en' or
    'zh'); ``options`` are its text's (e.g. an inspect report's ``unit``), but no width: a
    table is not cut into blocks of columns, prose is not wrapped."""
    view = _VIEWS.get(type(report).__name__)
    if view is not None:
        return view(report, lang)
    with tables_collected() as tables:
        text = report.render(lang, None, **options)
    return text_html(text, tables)


def text_html(text: str, tables: Sequence[TableCells]) -> str:
    """A report's text with its table marks (``TABLE_MARK``) as HTML: each run of other lines
    one ``<pre>`` (escaped), each mark its table.

    >>> text_html("a < b\\n" + TABLE_MARK.format(0) + "\\nend", [(("#", "x"), [["0", "1"]])]).count("<pre")
    2
    """
    marks = {TABLE_MARK.format(index): cells for index, cells in enumerate(tables)}
    parts: list[str] = []
    prose: list[str] = []
    for line in text.split("\n"):
        if line in marks:
            if prose:
                parts.append(lines_html(prose))
                prose = []
            headers, rows = marks[line]
            parts.append(table_html(headers, rows))
        else:
            prose.append(line)
    if prose:
        parts.append(lines_html(prose))
    return "".join(parts)


def lines_html(lines: Sequence[str]) -> str:
    """Lines of text as one preformatted block, escaped (they keep their columns).

    >>> lines_html(["x < 1", "  y"])
    '<pre class="convtrace" style="font-family:monospace;line-height:1.25;margin:0 0 4px 0;white-space:pre-wrap">x &lt; 1\\n  y</pre>'
    """
    return f'<pre class="convtrace" style="{_PRE_STYLE}">{escape(chr(10).join(lines))}</pre>'


def table_html(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A report table as an HTML ``<table>``: the headers in ``<thead>``, a ``<tr>`` per row
    in ``<tbody>``, every text escaped, a column right-aligned where the text's is
    (:func:`convtrace.render.plan_text.right_aligned`).

    >>> table_html(["#", "name", "layer", "in"], [["0", "a<b", "conv", "10"]]).count("text-align:right")
    2
    """

    def row(cells: Sequence[str], tag: str) -> str:
        style = _HEAD_STYLE if tag == "th" else _CELL_STYLE
        return "<tr>" + "".join(
            f'<{tag} style="{style.format(align="right" if right_aligned(i) else "left")}">{escape(cell)}</{tag}>'
            for i, cell in enumerate(cells)
        ) + "</tr>"  # fmt: skip

    body = "".join(row(cells, "td") for cells in rows)
    return (f'<table class="convtrace-table" style="{_TABLE_STYLE}"><thead>{row(headers, "th")}</thead>'
            f"<tbody>{body}</tbody></table>")  # fmt: skip


def _layer_explanation_html(result: Any, lang: str) -> str:
    """An explained layer: which element, the trace's steps as its HTML tables, PyTorch's value."""
    from .html import render_html

    head, foot = layer_explanation_ends(result, lang)
    return lines_html([head]) + render_html(result.trace, lang) + lines_html([foot])


#: the reports whose HTML is not their text's (by class name)
_VIEWS: dict[str, Callable[[Any, str], str]] = {"LayerExplanation": _layer_explanation_html}
