"""A :class:`~convtrace.trace.model.Trace` as self-contained HTML (Jupyter's ``_repr_html_``).

One ``<div class="convtrace">`` with its own ``<style>``: the parameters, the length
formula, the padded input row (padding cells styled), a table per step (one row per
product, then the sum, the bias and the output), ConvTranspose1d's views and PyTorch's
verdict. Every text is escaped.

>>> from convtrace.trace.build import explain
>>> page = render_html(explain([1, 1, 1, 1], [1, 1, 1], padding=1))
>>> page.startswith('<div class="convtrace">'), 'class="pad"' in page
(True, True)
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any

from ..trace.model import PoolTrace, Source, Step, Trace
from .i18n import Translator, translator
from .names import Names
from .numfmt import fmt

__all__ = ["render_html"]

# Colours that read on a light and on a dark page alike (Jupyter's dark themes included): the
# text keeps the page's colour, backgrounds are translucent tints, marks are mid-tones.
_STYLE = """
.convtrace{font-family:system-ui,sans-serif;font-size:13px;line-height:1.4;color:inherit}
.convtrace table{border-collapse:collapse;margin:4px 0 10px 0;color:inherit}
.convtrace td,.convtrace th{border:1px solid rgba(127,127,127,.45);padding:2px 6px;text-align:right;font-family:monospace;color:inherit}
.convtrace th{background:rgba(127,127,127,.16)}
.convtrace .pad{background:rgba(255,160,0,.22)}
.convtrace .tap{background:rgba(64,156,255,.24)}
.convtrace .ok{color:#2e9e44;font-weight:bold}
.convtrace .bad{color:#e0455f;font-weight:bold}
.convtrace .warn{color:#c98a00}
.convtrace code,.convtrace pre{background:rgba(127,127,127,.14);color:inherit;padding:2px 4px}
"""

_MAX_COLS = 40

#: a pool's winner (outlined) and its overhang (grey, apart from the padding's tint)
_POOL_STYLE = """.convtrace .win{font-weight:bold;outline:2px solid #2e9e44}
.convtrace .over{background:rgba(127,127,127,.28)}
.convtrace pre{white-space:pre-wrap}
"""


def render_html(trace: Trace | PoolTrace, lang: str = "en", *, figure: str = "") -> str:
    """The explanation of ``trace`` as one HTML fragment (escaped, no external resources);
    ``figure`` (an SVG of :mod:`convtrace.draw`, trusted markup) goes first.

    >>> from convtrace.trace.build import explain
    >>> "第 1 步" in render_html(explain([1, 2], [1]), lang="zh")
    True
    """
    if isinstance(trace, PoolTrace):
        page = pool_html(trace, lang)
    else:
        page = _HtmlRenderer(trace, translator(lang)).render()
    if figure:
        page = page.replace("</style>", "</style>" + f'<div class="convtrace-figure">{figure}</div>', 1)
    return page


def pool_html(trace: PoolTrace, lang: str = "en") -> str:
    """A pool's explanation as HTML: one table per step (each tap with its kind, padding and
    overhang styled apart, the winner marked), under the text's own lines.

    >>> from convtrace.trace.build import Request, explain_request
    >>> page = pool_html(explain_request(Request(op="max_pool1d", input=[1, 3, 2], kernel_size=2, padding=1)))
    >>> 'class="win"' in page and 'class="pad"' in page
    True
    """
    from .pool_text import PoolTextRenderer

    t = translator(lang)
    text = PoolTextRenderer(trace, t, False)
    text.header()
    text.data()
    text.length()
    style = _STYLE + _POOL_STYLE
    parts = [f'<div class="convtrace"><style>{style}</style>', "<pre>" + _e("\n".join(text.out)) + "</pre>"]
    for number, step in enumerate(trace.steps, 1):
        lines = PoolTextRenderer(trace, t, False)
        lines.step(number, step)
        title, *rest = [line for line in lines.out if line]
        win = step.pool.winner if step.pool is not None else None
        cells = []
        for j, term in enumerate(step.terms):
            kind = term.tap.value if term.tap is not None else "real"
            css = "win" if j == win else {"real": "", "overhang": "over"}.get(kind, "pad")
            shown = "·" if kind == "overhang" else fmt(term.x)
            cells.append(f'<td class="{css}" title="{_e(t("tap_" + kind))}">{_e(shown)}</td>')
        parts.append(f"<p><b>{_e(title)}</b></p><table><tr>{''.join(cells)}</tr></table>"
                      "<pre>" + _e("\n".join(line.strip() for line in rest)) + "</pre>")
    tail = PoolTextRenderer(trace, t, False)
    tail.output()
    tail.notes()
    tail.check()
    parts.append("<pre>" + _e("\n".join(tail.out)) + "</pre></div>")
    return "".join(parts)


def _e(v: Any) -> str:
    return escape(str(v), quote=True)


def _row(cells: Iterable[str], tag: str = "td", classes: Iterable[str] | None = None) -> str:
    cls = list(classes) if classes is not None else None
    parts = []
    for i, c in enumerate(cells):
        attr = f' class="{cls[i]}"' if cls and cls[i] else ""
        parts.append(f"<{tag}{attr}>{_e(c)}</{tag}>")
    return "<tr>" + "".join(parts) + "</tr>"


class _HtmlRenderer:
    def __init__(self, trace: Trace, t: Translator) -> None:
        self.tr = trace
        self.spec = trace.spec
        self.t = t
        self.names = Names.for_spec(trace.spec)
        self.out: list[str] = []

    def p(self, text: str, cls: str = "") -> None:
        attr = f' class="{cls}"' if cls else ""
        self.out.append(f"<p{attr}>{_e(text)}</p>")

    def render(self) -> str:
        s = self.spec
        self.out.append(f"<h3>{_e(self.t('title_transposed' if s.transposed else 'title_conv'))}</h3>")
        params = f"in_channels={s.in_channels}, out_channels={s.out_channels}, kernel_size={s.kernel_size}, "
        params += f"stride={s.stride}, padding={s.padding!r}, dilation={s.dilation}, groups={s.groups}, "
        params += f"bias={s.has_bias}"
        if s.transposed:
            params += f", output_padding={s.output_padding}"
        else:
            params += f", padding_mode={str(self.tr.padding_mode)!r}"
        self.p(self.t("parameters", params=params))
        f = self.tr.length
        self.p(self.t("length_heading"))
        self.out.append(f"<pre>L_out = {_e(f.formula)}\n      = {_e(f.substituted)}\n      = {f.result}</pre>")
        if not s.transposed:
            self.padded_row()
        self.steps()
        self.views()
        if self.tr.stream is not None:  # one streamed push (issue 19), as the text writes it
            from .stream_chunk_text import stream_lines

            self.out.append(f'<pre class="stream">{_e(chr(10).join(stream_lines(self.tr, self.t.lang)))}</pre>')
        self.check()
        return f'<div class="convtrace"><style>{_STYLE}</style>' + "".join(self.out) + "</div>"

    def padded_row(self) -> None:
        cells = self.tr.pad_cells
        if not cells or not self.tr.pad_row_complete or len(cells) > _MAX_COLS:
            return
        x = self.tr.input if self.tr.input.ndim == 3 else self.tr.input[None]
        labels, values, classes = [], [], []
        for c in cells:
            if c.source is Source.ZERO or c.input_index is None:
                labels.append("0")
                values.append("0")
            else:
                labels.append(self.names.sample(c.input_index))
                values.append(fmt(x[0, 0, c.input_index]))
            classes.append("" if c.source is Source.INPUT else "pad")
        self.p(self.t("row_padded", left=self.spec.pad_left, right=self.spec.pad_right, mode=self.tr.padding_mode))
        head = _row([self.t("row_position"), *[str(c.position + 1) for c in cells]], "th")
        body = _row([self.t("row_sample"), *labels], classes=["", *classes])
        body += _row([self.t("row_value"), *values], classes=["", *classes])
        self.out.append(f"<table>{head}{body}</table>")

    def steps(self) -> None:
        steps = self.tr.steps
        if self.tr.at is None and not self.tr.complete:
            shown = ", ".join(f"[{s.batch}, {s.out_channel}, {s.out_index}]" for s in steps)
            total = 1
            for d in self.spec.output_shape:
                total *= d
            self.p(self.t("summary", n=total, shape=self.spec.output_shape, shown=shown))
        for number, step in enumerate(steps, 1):
            self.step(number, step)

    def step(self, number: int, step: Step) -> None:
        nm, s = self.names, self.spec
        y = nm.y(step.batch, step.out_channel, step.out_index)
        rows = [_row([self.t(key) for key in ("col_input", "col_weight", "col_x", "col_w", "col_product")], "th")]
        for term in step.terms:
            if s.transposed:
                wname = nm.w(term.in_channel, step.out_channel - step.group * s.out_per_group, term.kernel_index)
            else:
                wname = nm.w(step.out_channel, term.in_channel - step.group * s.in_per_group, term.kernel_index)
            if term.source is Source.ZERO or term.input_index is None:
                xname = "0"
            else:
                xname = nm.x(step.batch, term.in_channel, term.input_index)
            cls = "pad" if term.is_padding else ""
            rows.append(
                _row([xname, wname, fmt(term.x), fmt(term.w), fmt(term.product)], classes=[cls] * 5)
            )
        rows.append(_row([self.t("sum_word"), "", "", "", fmt(step.total)], "th"))
        if step.bias is not None:
            rows.append(_row([nm.b(step.out_channel), "", "", "", fmt(step.bias)], "th"))
        rows.append(_row([y, "", "", "", fmt(step.value)], "th"))
        self.out.append(f"<p><b>{_e(self.t('step_title', n=number, y=y))}</b></p><table>{''.join(rows)}</table>")

    def mark(self, equal: bool | None, label: str) -> None:
        if equal is None:
            self.p(f"{label}: {self.t('mark_unknown')}")
        else:
            self.p(f"{label}: {self.t('mark_equal' if equal else 'mark_differ')}", "ok" if equal else "bad")

    def views(self) -> None:
        v = self.tr.views
        if v is None:
            return
        s = self.spec
        self.mark(v.scatter.equal, self.t("view_scatter", s=s.stride, p=s.padding_int))
        self.p(self.t("overlap_line", counts=" ".join(str(c) for c in v.scatter.overlap[:_MAX_COLS])))
        if v.scatter.uneven:
            self.p(self.t("overlap_uneven", s=s.stride, k=s.kernel_size), "warn")
        self.mark(v.zero_insertion.equal, self.t("view_zero_insertion"))
        self.out.append(f"<pre>{_e(v.zero_insertion.torch_call)}</pre>")
        self.mark(v.matrix.equal, self.t("view_matrix", rows=v.matrix.rows, cols=v.matrix.cols))
        self.mark(v.gradient.equal, self.t("view_gradient"))

    def check(self) -> None:
        c = self.tr.check
        self.out.append(f"<p><b>{_e(self.t('check_heading'))}</b></p>")
        if c is None:
            self.p(self.t("check_skipped"))
            return
        self.out.append(f"<pre>{_e(c.extra.get('code', c.call))}</pre>")
        if not c.available:
            self.p(self.t("check_no_torch"))
            return
        diff = "—" if c.max_abs_diff is None else fmt(c.max_abs_diff)
        self.p(self.t("check_agree" if c.agree else "check_disagree", diff=diff), "ok" if c.agree else "bad")
