"""A :class:`~convtrace.trace.model.Trace` written out as a teacher writes it by hand.

The rhythm of the teaching post: the parameters, the length formula with its numbers, the
padded input row (every padding cell and where its value comes from), then each output
step with one line per product, the sum, the bias and the output; then PyTorch's verdict.
ConvTranspose1d adds its four equivalent views and the overlap count. Every sentence comes
from :mod:`convtrace.render.i18n` (``lang='en'`` or ``'zh'``).

>>> from convtrace.trace.build import explain
>>> print(render_text(explain([1, 1, 1, 1], [1, 1, 1], padding=1)).splitlines()[0])
Conv1d, step by step
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..trace.model import PadCell, PoolTrace, Source, Step, Term, Trace, TransposedViews
from .i18n import CATALOG, Translator, translator
from .names import Names
from .notes import gap_reasons, note_text
from .numfmt import fmt_list
from .textwidth import display_width
from .writer import IND as _IND
from .writer import MAX_COLS as _MAX_COLS
from .writer import Writer as _Writer
from .writer import cols as _cols
from .writer import ljust as _ljust
from .writer import table as _table

__all__ = ["render_text", "step_text", "wrap_lines"]

_MAX_ROWS = 6  # channel rows printed per table
_MAX_SUM_TERMS = 10  # products written out in a sum line
_MAX_FORMULA_TERMS = 12  # products written out in a symbolic formula
_MAX_TERM_CHANNELS = 4  # input channels whose products are written out one per line
_MATRIX_MAX = (16, 24)  # largest matrix printed cell by cell (rows, cols)
_SCATTER_MAX_ROWS = 12

#: notes of the builder that have their own section here
_SHOWN_NOTES = frozenset({"summary", "same_split", "dropped_tail", "unreached", "unreached_transposed", "uneven_overlap"})

_PAD_NOTE = {
    Source.ZERO: "pad_zero",
    Source.REFLECT: "pad_reflect",
    Source.REPLICATE: "pad_replicate",
    Source.CIRCULAR: "pad_circular",
}


def render_text(
    trace: Trace | PoolTrace, lang: str = "en", symbolic: bool = False, width: int | None = None, *,
    numbering: bool = True,
) -> str:
    """The whole explanation of ``trace`` as plain text (no trailing newline).

    ``symbolic`` writes names (``x1``, ``w2``, ``b``) instead of numbers, so every output
    prints as a formula. Every step the trace holds is written out; when it holds only some
    (a large output), a summary says so and points to ``--at``. ``width`` wraps the lines to
    that many display columns; ``numbering`` says at the top how names and indices count.

    >>> from convtrace.trace.build import explain
    >>> text = render_text(explain([1, 1, 1, 1], [1, 1, 1], padding=1), symbolic=True)
    >>> [line.strip() for line in text.splitlines() if line.strip().startswith("y1 =")]
    ['y1 = 0·w1 + x1·w2 + x2·w3']
    """
    renderer: _TextRenderer | _Writer
    if isinstance(trace, PoolTrace):
        from .pool_text import PoolTextRenderer

        renderer = PoolTextRenderer(trace, translator(lang), symbolic, width)
    else:
        renderer = _TextRenderer(trace, translator(lang), symbolic, width)
    renderer.numbering = numbering
    lines = renderer.render()
    return "\n".join(wrap_lines(lines, width) if width else lines)


def step_text(trace: Trace | PoolTrace, index: int, lang: str = "en") -> str:
    """Step ``index`` (0-based) of ``trace`` as :func:`render_text` writes it (the explorer's
    step panel shows the command line's words and names).

    >>> from convtrace.trace.build import explain
    >>> print(step_text(explain([[1, 2], [3, 4]], [[[1], [2]]]), 1))
    Step 2: y[1][2] (PyTorch index [0, 1])
        sample x1 x2
        window     ^
      input channel 1:
        x[1][2] × w[1][1][1] = 2 × 1 = 2
      input channel 2:
        x[2][2] × w[1][2][1] = 4 × 2 = 8
      sum = 2 + 8 = 10
      y[1][2] = 10
    """
    if isinstance(trace, PoolTrace):
        from .pool_text import PoolTextRenderer

        pool = PoolTextRenderer(trace, translator(lang), False)
        pool.step(index + 1, trace.steps[index])
        return "\n".join(line for line in pool.out if line)
    renderer = _TextRenderer(trace, translator(lang), False)
    renderer.step(index + 1, trace.steps[index])
    return "\n".join(line for line in renderer.out if line)


def wrap_lines(lines: Sequence[str], width: int) -> list[str]:
    """Lines longer than ``width`` display columns broken: sums at `` + ``, lists at ``, ``,
    else at spaces; the continuation aligned after the line's first ``= `` (or indented).

    >>> wrap_lines(["  y1 = 1·2 + 3·4 + 5·6 = 44"], 16)
    ['  y1 = 1·2 + 3·4', '     + 5·6 = 44']
    >>> wrap_lines(["  x1..x9 = 1, 2, 3, 4, 5, 6, 7, 8, 9"], 24)
    ['  x1..x9 = 1, 2, 3, 4,', '           5, 6, 7, 8, 9']
    """
    out: list[str] = []
    for line in lines:
        out += _wrap_line(line, width) if display_width(line) > width else [line]
    return out


def _wrap_line(line: str, width: int) -> list[str]:
    indent = len(line) - len(line.lstrip(" "))
    equals = line.find("= ", indent)
    hang = equals + 2 if 0 < equals < width // 2 else indent + 4
    parts: list[str] = []
    rest = line
    while display_width(rest) > width:
        cut = _break_at(rest, width, hang if parts else indent)
        if cut is None:
            break
        parts.append(rest[:cut].rstrip())
        tail = rest[cut:].strip()
        rest = " " * (hang - 2 if tail.startswith("+ ") else hang) + tail
    return parts + [rest]


def _break_at(text: str, width: int, minimum: int) -> int | None:
    """Where to break ``text`` to fit ``width``: before the last `` + ``, after the last
    ``, ``, or at the last space that fits; None when nothing fits."""
    fit, used = 0, 0
    for ch in text:
        used += display_width(ch)
        if used > width:
            break
        fit += 1
    # (pattern, where the head ends relative to it, how far past ``fit`` it may start); a sum
    # breaks before a " + " in its second half, a list after a ", " near the end, else a space
    cuts = {}
    for pattern, offset, reach in ((" + ", 0, 3), (", ", 2, 1), (" ", 1, 1)):
        cut = text.rfind(pattern, minimum + 1, fit + reach)
        if cut > minimum:
            cuts[pattern] = cut + offset
    if " + " in cuts and cuts[" + "] - minimum >= (fit - minimum) // 2:
        return cuts[" + "]
    if ", " in cuts and cuts[", "] >= cuts.get(" ", 0) - 12:
        return cuts[", "]
    if " " in cuts:
        return cuts[" "]
    for cut in range(min(fit, len(text) - 1), minimum, -1):  # Chinese: between wide characters
        if display_width(text[cut - 1]) == 2 or display_width(text[cut]) == 2:
            return cut
    return None


def _elide(values: Sequence[str], limit: int = 12) -> list[str]:
    if len(values) <= limit:
        return list(values)
    return [*values[: limit - 4], "…", *values[-3:]]


def _paren(s: str) -> str:
    return f"({s})" if s.startswith("-") else s


class _TextRenderer(_Writer):
    tr: Trace

    def __init__(self, trace: Trace, t: Translator, symbolic: bool, width: int | None = None) -> None:
        super().__init__(trace, t, symbolic, width)
        self.spec = trace.spec
        self.names = Names.for_spec(trace.spec)

    # -- sections ----------------------------------------------------------------------

    def render(self) -> list[str]:
        self.header()
        self.data()
        self.length()
        if not self.spec.transposed:
            self.padded_row()
        self.steps()
        self.tail()
        self.output()
        if self.tr.views is not None:
            self.views(self.tr.views)
        self.notes()
        if self.tr.stream is not None:  # one streamed push (issue 19)
            from .stream_chunk_text import stream_lines

            self.out += ["", *stream_lines(self.tr, self.t.lang)]
        self.check()
        return self.out

    def header(self) -> None:
        s = self.spec
        self.line(self.t("title_transposed" if s.transposed else "title_conv"))
        if self.numbering:
            self.line(self.t("numbering"))
        params: list[tuple[str, Any]] = [
            ("in_channels", s.in_channels),
            ("out_channels", s.out_channels),
            ("kernel_size", s.kernel_size),
            ("stride", s.stride),
            ("padding", s.padding),
        ]
        if s.transposed:
            params.append(("output_padding", s.output_padding))
        params += [("dilation", s.dilation), ("groups", s.groups), ("bias", s.has_bias)]
        if not s.transposed:
            params.append(("padding_mode", str(self.tr.padding_mode)))
        if self.tr.output_size is not None:
            params.append(("output_size", self.tr.output_size))
        self.line(self.t("parameters", params=", ".join(f"{k}={v!r}" for k, v in params)))

    def data(self) -> None:
        s, nm = self.spec, self.names
        layout = "layout_batched" if s.batched else "layout_unbatched"
        self.line(self.t("input_shape", shape=tuple(self.tr.input.shape), layout=self.t(layout)))
        x = self.x3()
        rows = [(n, c) for n in range(s.batch) for c in range(s.in_channels)]
        for n, c in rows[:_MAX_ROWS]:
            self.vector(nm.x(n, c, 0), nm.x(n, c, s.length - 1), x[n, c], s.length)
        self.more_rows(len(rows))
        wkey = "weight_shape_transposed" if s.transposed else "weight_shape_conv"
        self.line(self.t(wkey, shape=tuple(self.tr.weight.shape)))
        w = self.tr.weight
        rows = [(a, b) for a in range(w.shape[0]) for b in range(w.shape[1])]
        for a, b in rows[:_MAX_ROWS]:
            self.vector(nm.w(a, b, 0), nm.w(a, b, w.shape[2] - 1), w[a, b], w.shape[2])
        self.more_rows(len(rows))
        if self.tr.bias is None:
            self.line(self.t("no_bias"))
        else:
            self.line(self.t("bias_heading"))
            self.vector(nm.b(0), nm.b(s.out_channels - 1), self.tr.bias, s.out_channels)

    def length(self) -> None:
        f = self.tr.length
        self.heading("length_heading")
        self.line(f"L_out = {f.formula}", 1)
        self.line(f"      = {f.substituted}", 1)
        self.line(f"      = {f.result}", 1)
        s = self.spec
        if self.tr.output_size is not None:
            self.line(
                self.t(
                    "output_size_line",
                    size=self.tr.output_size,
                    lmin=s.out_length - s.output_padding,
                    op=s.output_padding,
                ),
                1,
            )
        if s.dilation > 1:
            span = s.dilation * (s.kernel_size - 1) + 1
            self.line(self.t("dilation_line", d=s.dilation, k=s.kernel_size, span=span, gap=s.dilation - 1), 1)

    # -- the padded row (Conv1d) ------------------------------------------------------

    def cell_label(self, cell: PadCell) -> str:
        if cell.source is Source.ZERO or cell.input_index is None:
            return "0"
        return self.names.sample(cell.input_index)

    def unlisted(self, position: int) -> str:
        """The label of a padded position the trace did not list (only the taps are listed)."""
        i = position - self.spec.pad_left
        return self.names.sample(i) if 0 <= i < self.spec.length else "·"

    def cell_value(self, cell: PadCell, n: int, c: int) -> str:
        if cell.source is Source.ZERO or cell.input_index is None:
            return "0"
        return self.value(self.x3()[n, c, cell.input_index])

    def pad_source(self, cell: PadCell) -> str:
        return self.t(_PAD_NOTE[cell.source] + "_cell", x=self.cell_label(cell))

    def padded_row(self) -> None:
        s, cells = self.spec, self.tr.pad_cells
        if not cells or not self.tr.pad_row_complete:
            return
        if s.pad_left == s.pad_right == 0:
            self.heading("row_no_padding")
        else:
            self.heading("row_padded", left=s.pad_left, right=s.pad_right, mode=str(self.tr.padding_mode))
        if self.tr.same_split is not None:
            left, right = self.tr.same_split
            total = left + right
            key = "same_split_odd" if total % 2 else "same_split_even"
            self.line(self.t(key, d=s.dilation, k=s.kernel_size, total=total, left=left, right=right), 1)
        idx = _cols(len(cells))
        rows: list[tuple[str, list[str]]] = [
            (self.t("row_position"), [str(i + 1) if i is not None else "…" for i in idx]),
            (self.t("row_sample"), [self.cell_label(cells[i]) if i is not None else "…" for i in idx]),
        ]
        if not self.symbolic:
            chans = [(n, c) for n in range(s.batch) for c in range(s.in_channels)]
            for n, c in chans[:_MAX_ROWS]:
                label = self.t("row_value") if len(chans) == 1 else self.names.x(n, c, 0).rsplit("[", 1)[0]
                rows.append((label, [self.cell_value(cells[i], n, c) if i is not None else "…" for i in idx]))
        self.out.extend(_table(rows, limit=self.width))
        if not self.symbolic:
            self.more_rows(s.batch * s.in_channels)
        padded = [c for c in cells if c.source is not Source.INPUT]
        if padded:
            shown = [self.t("pad_legend_item", p=c.position + 1, src=self.pad_source(c)) for c in padded[:8]]
            more = "; …" if len(padded) > 8 else ""
            self.line(self.t("pad_legend", cells="; ".join(shown) + more), 1)

    def window_lines(self, step: Step) -> list[str]:
        """The padded row around the window, with ``^`` under every tap read."""
        s = self.spec
        cells = {c.position: c for c in self.tr.pad_cells}
        size = s.length + s.pad_left + s.pad_right
        start = step.window_start
        taps = {start + k * s.dilation for k in range(s.kernel_size)}
        end = start + s.dilation * (s.kernel_size - 1)
        lo, hi = 0, size
        if hi > _MAX_COLS:
            lo, hi = max(0, start - 2), min(size, end + 3)
            if hi - lo > _MAX_COLS:  # a very dilated window: its taps only
                lo, hi = start, end + 1
        positions = [p for p in range(lo, hi) if hi - lo <= _MAX_COLS or p in taps]
        labels = [self.cell_label(cells[p]) if p in cells else self.unlisted(p) for p in positions]
        marks = ["^" if p in taps else ("-" if start < p < end else "") for p in positions]
        if lo > 0:
            labels, marks = ["…", *labels], ["", *marks]
        if hi < size:
            labels, marks = [*labels, "…"], [*marks, ""]
        return _table([(self.t("row_sample"), labels), (self.t("row_window"), marks)], indent=_IND * 2, limit=self.width)

    # -- steps ------------------------------------------------------------------------

    def steps(self) -> None:
        s, steps = self.spec, self.tr.steps
        if self.tr.at is None and not self.tr.complete:
            total = int(np.prod(s.output_shape))
            shown = ", ".join(f"[{st.batch}, {st.out_channel}, {st.out_index}]" for st in steps)
            self.heading("summary", n=total, shape=s.output_shape, shown=shown)
            self.line(self.t("summary_at"), 1)
        if s.transposed and steps:
            self.heading("gather_rule")
        for number, step in enumerate(steps, 1):
            self.step(number, step)

    def step_title(self, number: int, step: Step) -> str:
        y = self.names.y(step.batch, step.out_channel, step.out_index)
        if self.names.multi or self.tr.at is not None or not self.tr.complete:
            parts = (step.batch, step.out_channel, step.out_index) if self.spec.batched else (step.out_channel, step.out_index)
            index = "[" + ", ".join(str(v) for v in parts) + "]"
            return self.t("step_title_indexed", n=number, y=y, index=index)
        return self.t("step_title", n=number, y=y)

    def step(self, number: int, step: Step) -> None:
        s = self.spec
        self.blank()
        self.line(self.step_title(number, step))
        if s.groups > 1:
            chans = step.in_channels
            self.line(
                self.t(
                    "group_line",
                    o=step.out_channel + 1,
                    g=step.group + 1,
                    per=s.out_per_group,
                    first=chans[0] + 1,
                    last=chans[-1] + 1,
                    cin=s.in_per_group,
                ),
                1,
            )
        if not s.transposed and self.tr.pad_cells:
            self.out.extend(self.window_lines(step))
        by_channel = step.terms_by_channel()
        grouped = s.in_channels > 1
        lines: list[tuple[int, str, str]] = []  # (level, left, right)
        channels = list(by_channel.items())
        for c, terms in channels[:_MAX_TERM_CHANNELS]:
            if grouped:
                lines.append((1, self.t("in_channel", c=c + 1), ""))
            for term in terms:
                lines.append((2 if grouped else 1, *self.term(step, term)))
        rest = [t for _, terms in channels[_MAX_TERM_CHANNELS:] for t in terms]
        if rest:
            first, last = channels[_MAX_TERM_CHANNELS][0] + 1, channels[-1][0] + 1
            subtotal = "" if self.symbolic else self.value(sum(t.product for t in rest))
            key = "more_channels_symbolic" if self.symbolic else "more_channels"
            lines.append((1, self.t(key, first=first, last=last, n=len(rest), total=subtotal), ""))
        width = max((display_width(left) for lvl, left, right in lines if right), default=0)
        for level, left, right in lines:
            self.line(f"{_ljust(left, width)}{right}" if right else left, level)
        self.result(step)

    def term(self, step: Step, term: Term) -> tuple[str, str]:
        """One product: ``('0 × w1 (padding)', ' = 0 × 1 = 0')``."""
        nm, s = self.names, self.spec
        if s.transposed:
            o_local = step.out_channel - step.group * s.out_per_group
            wname = nm.w(term.in_channel, o_local, term.kernel_index)
        else:
            c_local = term.in_channel - step.group * s.in_per_group
            wname = nm.w(step.out_channel, c_local, term.kernel_index)
        xname = self.term_x(step, term)
        note = "" if not term.is_padding else " " + self.t(_PAD_NOTE[term.source] + "_term")
        if self.symbolic:
            return f"{xname}·{wname}{note}", ""
        right = f" = {_paren(self.value(term.x))} × {_paren(self.value(term.w))} = {self.value(term.product)}"
        if s.transposed:
            i, k = term.input_index or 0, term.kernel_index
            right += f"   ({i}·{s.stride} − {s.padding_int} + {k}·{s.dilation} = {step.out_index})"
        return f"{xname} × {wname}{note}", right

    def term_x(self, step: Step, term: Term) -> str:
        if term.source is Source.ZERO or term.input_index is None:
            return "0"
        return self.names.x(step.batch, term.in_channel, term.input_index)

    def result(self, step: Step) -> None:
        y = self.names.y(step.batch, step.out_channel, step.out_index)
        if self.symbolic:
            parts = [self.term(step, t)[0].split(" ")[0] for t in step.terms[:_MAX_FORMULA_TERMS]] or ["0"]
            if len(step.terms) > _MAX_FORMULA_TERMS:
                parts.append(self.t("formula_more", n=len(step.terms) - _MAX_FORMULA_TERMS))
            if step.bias is not None:
                parts.append(self.names.b(step.out_channel))
            self.line(f"{y} = " + " + ".join(parts), 1)
            return
        total = self.value(step.total)
        if len(step.terms) <= 1:
            self.line(self.t("sum_single", total=total), 1)
        elif len(step.terms) <= _MAX_SUM_TERMS:
            summed = " + ".join(_paren(self.value(t.product)) for t in step.terms)
            self.line(self.t("sum_line", terms=summed, total=total), 1)
        else:
            self.line(self.t("sum_short", n=len(step.terms), total=total), 1)
        if step.bias is not None:
            b = self.names.b(step.out_channel)
            self.line(
                f"{y} = {total} + {b} = {total} + {_paren(self.value(step.bias))} = "
                f"{self.value(step.value)}",
                1,
            )
        else:
            self.line(f"{y} = {self.value(step.value)}", 1)

    # -- warnings, output -------------------------------------------------------------

    def tail(self) -> None:
        s, unreached = self.spec, self.tr.unreached
        data = {note.code: note.values for note in self.tr.notes}
        if "unreached_transposed" in data:
            names = ", ".join(_elide([self.names.sample(i) for i in unreached]))
            self.heading("unreached_transposed", n=data["unreached_transposed"]["count"], names=names)
        tail = data.get("dropped_tail")
        if tail is not None:
            names = ", ".join(_elide([self.names.sample(i) for i in tail["indices"]]))
            if tail["last_read"] < 0:
                self.heading("dropped_tail_all", n=tail["count"], names=names)
            else:
                last = self.names.sample(tail["last_read"])
                self.heading("dropped_tail", n=tail["count"], names=names, last=last)
        gaps = data.get("unreached")
        if gaps is not None:
            first_tail = tail["indices"][0] if tail is not None else s.length
            names = ", ".join(_elide([self.names.sample(i) for i in unreached if i < first_tail]))
            self.heading("gaps", n=gaps["count"], names=names, why=self.t("gaps_join").join(gap_reasons(self.t, gaps)))

    def output(self) -> None:
        s, y = self.spec, self.tr.output
        self.heading("output_heading", shape=s.output_shape)
        if y is None:
            self.line(self.t("output_not_computed"), 1)
            return
        y3 = y if y.ndim == 3 else y[None]
        rows = [(n, o) for n in range(s.batch) for o in range(s.out_channels)]
        for n, o in rows[:_MAX_ROWS]:
            nm = self.names
            first, last = nm.y(n, o, 0), nm.y(n, o, s.out_length - 1)
            label = first if s.out_length == 1 else f"{first}..{last}"
            idx = _cols(s.out_length) if s.out_length > 12 else list(range(s.out_length))
            vals = [self.value(y3[n, o, i]) if i is not None else "…" for i in idx]
            self.line(f"{label} = {', '.join(vals)}", 1)
        self.more_rows(len(rows))

    def notes(self) -> None:
        """The builder's notes that the sections above do not already show."""
        for note in self.tr.notes:
            if note.code in _SHOWN_NOTES:
                continue
            key = f"note_{note.code}"
            self.blank()
            self.line(self.t(key, **note.values) if key in CATALOG else note_text(self.tr, note, self.t.lang))

    # -- ConvTranspose1d's views ------------------------------------------------------

    def mark(self, equal: bool | None) -> str:
        if equal is None:
            return self.t("mark_unknown")
        return self.t("mark_equal" if equal else "mark_differ")

    def views(self, v: TransposedViews) -> None:
        self.scatter(v)
        self.zero_insertion(v)
        self.matrix(v)
        self.heading("view_gradient")
        self.line(v.gradient.call, 1)
        self.line(self.mark(v.gradient.equal), 1)

    def scatter(self, v: TransposedViews) -> None:
        sc, s, nm = v.scatter, self.spec, self.names
        self.heading("view_scatter", s=s.stride, p=s.padding_int)
        ncols = max(sc.full_length, sc.crop_left + s.out_length)
        placements = [p for p in sc.placements if p.batch == 0]
        if ncols <= _MAX_COLS and s.out_channels == 1 and len(placements) <= _SCATTER_MAX_ROWS:
            self.scatter_grid(v, ncols)
        else:
            for p in placements[:_MAX_ROWS]:
                span = [t.out_index for t in p.taps]
                self.line(
                    self.t(
                        "scatter_place",
                        x=nm.x(p.batch, p.in_channel, p.input_index),
                        v=self.value(p.x),
                        lo=min(span),
                        hi=max(span),
                    ),
                    1,
                )
            self.more_rows(len(placements))
        if sc.crop_left:
            self.line(self.t("crop_left", n=sc.crop_left), 1)
        if sc.crop_right > 0:
            self.line(self.t("crop_right", n=sc.crop_right, p=s.padding_int, op=sc.output_padding), 1)
        elif sc.crop_right < 0:
            self.line(self.t("extend_right", n=-sc.crop_right, op=sc.output_padding, p=s.padding_int), 1)
        self.line(self.mark(sc.equal), 1)
        self.overlap(v)

    def scatter_grid(self, v: TransposedViews, ncols: int) -> None:
        sc, s, nm = v.scatter, self.spec, self.names
        crop = sc.crop_left
        head = [
            nm.y(0, 0, j - crop) if 0 <= j - crop < s.out_length else "✂" for j in range(ncols)
        ]
        rows: list[tuple[str, list[str]]] = [(self.t("scatter_full_pos"), [str(j - crop) for j in range(ncols)])]
        rows.append((self.t("scatter_out_pos"), head))
        for p in sc.placements:
            if p.batch != 0:
                continue
            cells = [""] * ncols
            for tap in p.taps:
                j = tap.out_index + crop
                if 0 <= j < ncols:
                    if self.symbolic:
                        cells[j] = f"{nm.x(0, p.in_channel, p.input_index)}·{nm.w(p.in_channel, 0, tap.kernel_index)}"
                    else:
                        cells[j] = self.value(tap.product)
            rows.append((f"{nm.x(0, p.in_channel, p.input_index)}·w", cells))
        self.out.extend(_table(rows, limit=self.width))

    def overlap(self, v: TransposedViews) -> None:
        sc = v.scatter
        self.line(self.t("overlap_line", counts=" ".join(str(c) for c in _elide([str(c) for c in sc.overlap], 24))), 1)
        if sc.uneven:
            self.line(self.t("overlap_uneven", s=self.spec.stride, k=self.spec.kernel_size), 1)
            self.checkerboard_fixes()
        else:
            self.line(self.t("overlap_even"), 1)

    def checkerboard_fixes(self) -> None:
        """The fixes the ``uneven_overlap`` note carries, each already checked."""
        note = next((n for n in self.tr.notes if n.code == "uneven_overlap"), None)
        if note is None:
            return
        s = self.spec
        for fix in note.values.get("fixes", []):
            self.line(self.t("overlap_fix", k=fix["kernel_size"], p=fix["padding"], op=fix["output_padding"],
                             s=s.stride, n=fix["out_length"]), 1)
        resize = note.values.get("resize")
        if resize:
            diff = resize["length"] - s.out_length
            extra = self.t("overlap_resize_diff", out=s.out_length, d=abs(diff)) if diff else ""
            self.line(self.t("overlap_resize", s=resize["factor"], n=resize["length"], k=resize["kernel_size"],
                             diff=extra), 1)

    def zero_insertion(self, v: TransposedViews) -> None:
        z, s = v.zero_insertion, self.spec
        self.heading("view_zero_insertion")
        self.line(self.t("zi_inserted", n=z.inserted, s=s.stride), 1)
        span = s.dilation * (s.kernel_size - 1)
        key = "zi_pad" if z.pad_each_side >= 0 else "zi_crop"
        self.line(
            self.t(key, n=abs(z.pad_each_side), d=s.dilation, k=s.kernel_size, span=span, p=s.padding_int), 1
        )
        if z.extra_right:
            self.line(self.t("zi_extra", n=z.extra_right), 1)
        up = z.upsampled
        if not self.symbolic:
            idx = _cols(up.shape[-1])
            self.line(
                self.t("zi_upsampled") + " " + " ".join(self.value(up[0, 0, i]) if i is not None else "…" for i in idx),
                1,
            )
            w = z.weight
            self.line(
                self.t("zi_weight", shape=tuple(w.shape)) + " " + fmt_list(w[0, 0][: min(w.shape[2], 12)]),
                1,
            )
        self.line(self.t("zi_torch"), 1)
        self.line(z.torch_call.split("  # ")[0], 2)
        self.line(self.mark(z.equal), 1)

    def matrix(self, v: TransposedViews) -> None:
        m = v.matrix
        self.heading("view_matrix", rows=m.rows, cols=m.cols)
        if m.matrix is None:
            self.line(self.t("matrix_too_large", reason=m.reason), 1)
            return
        if m.rows <= _MATRIX_MAX[0] and m.cols <= _MATRIX_MAX[1]:
            cells = [[self.value(c) for c in row] for row in m.matrix]
            self.out.extend(_table([("C" if r == 0 else "", row) for r, row in enumerate(cells)], indent=_IND * 2, limit=self.width))
        else:
            self.line(self.t("matrix_not_printed"), 1)
        self.line(self.mark(m.equal), 1)

