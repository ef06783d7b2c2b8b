"""A :class:`~convtrace.trace.model.PoolTrace` written out as the convolutions are: the
parameters, the input, the length formula with its numbers (the ceil_mode rule where it drops
a window), the padded row with every cell's kind, then each output's window (taps tagged
real, left pad, right pad, overhang) and its reduction with the numbers — the max and the
index that won, the sum, the divisor and why, the p-norm with PyTorch's scale, the adaptive
window's floor/ceil, where unpooled values land — then PyTorch's verdict. Every sentence
comes from :mod:`convtrace.render.i18n`.

>>> from convtrace.trace.build import Request, explain_request
>>> t = explain_request(Request(op="avg_pool1d", input=[1, 2, 3, 4, 5, 6], kernel_size=3, stride=2,
...                             padding=1, ceil_mode=True))
>>> text = render_pool_text(t)
>>> [line.strip() for line in text.splitlines() if line.strip().startswith("y4 =")]
['y4 = 6 / 2 = 3']
"""

from __future__ import annotations

import math
from typing import Any

from ..shapes import TapKind
from ..trace.build import POOL_MODULES
from ..trace.elements import mean_of
from ..trace.model import PoolTrace, Reduction, Step, Term, TorchCheck
from .i18n import translator
from .names import Names
from .notes import note_text
from .writer import Writer, short_nested, table
from .writer import cols as columns

__all__ = ["PoolTextRenderer", "render_pool_text", "pool_names"]

_MAX_TERMS = 12  # taps written out in a sum line

#: notes this renderer shows in its own sections
_SHOWN_NOTES = frozenset({"summary", "ceil_dropped_window", "adaptive_windows", "lp_ceil_scale", "lp_signed"})


def pool_names(trace: PoolTrace) -> Names:
    """The naming scheme of a pool's trace: short names (x1, y1) for one channel of one item.

    >>> from convtrace.trace.build import Request, explain_request
    >>> pool_names(explain_request(Request(op="max_pool1d", input=[[1, 2], [3, 4]], kernel_size=2)))
    Names(multi=True, batched=False)
    """
    spec = trace.spec
    return Names(multi=spec.batch > 1 or spec.channels > 1, batched=spec.batch > 1)


def render_pool_text(trace: PoolTrace, lang: str = "en", *, numbering: bool = True) -> str:
    """The whole explanation of a pool as plain text (no trailing newline)."""
    renderer = PoolTextRenderer(trace, translator(lang), False)
    renderer.numbering = numbering
    return "\n".join(renderer.render())


class PoolTextRenderer(Writer):
    """The text of one :class:`PoolTrace` (see the module docstring)."""

    tr: PoolTrace

    def __init__(self, trace: PoolTrace, t: Any, symbolic: bool, width: int | None = None) -> None:
        super().__init__(trace, t, symbolic, width)
        self.spec = trace.spec
        self.names = pool_names(trace)
        self.reduction = trace.steps[0].reduction if trace.steps else Reduction.MAX

    def render(self) -> list[str]:
        self.header()
        self.data()
        self.length()
        self.padded_row()
        self.steps()
        self.output()
        self.notes()
        self.check()
        return self.out

    # -- header, data, length ------------------------------------------------------------

    def header(self) -> None:
        s = self.spec
        self.line(self.t("title_pool", module=POOL_MODULES[s.op], op=s.op))
        if self.numbering:
            self.line(self.t("pool_numbering"))
        self.line(self.t("parameters", params=", ".join(f"{k}={v!r}" for k, v in self.parameters())))

    def parameters(self) -> list[tuple[str, Any]]:
        s = self.spec
        if s.adaptive:
            params: list[tuple[str, Any]] = [("output_size", s.out_length)]
        else:
            params = [("kernel_size", s.kernel_size), ("stride", s.stride)]
            if s.op != "lp_pool1d":
                params.append(("padding", s.padding))
            if s.op == "max_pool1d":
                params.append(("dilation", s.dilation))
            if s.op != "max_unpool1d":
                params.append(("ceil_mode", s.ceil_mode))
            if s.op == "avg_pool1d":
                params.append(("count_include_pad", s.count_include_pad))
            if s.op == "lp_pool1d":
                params.insert(0, ("norm_type", s.norm_type))
            if s.op == "max_unpool1d" and s.output_size is not None:
                params.append(("output_size", s.output_size))
        if s.op in ("max_pool1d", "adaptive_max_pool1d"):
            params.append(("return_indices", s.return_indices))
        return params

    def data(self) -> None:
        s, nm = self.spec, self.names
        layout = "layout_batched" if s.batched else "layout_unbatched"
        self.line(self.t("input_shape", shape=tuple(self.tr.input.shape), layout=self.t(layout)))
        x = self.x3()
        rows = [(n, c) for n in range(s.batch) for c in range(s.channels)]
        for n, c in rows[:6]:
            self.vector(nm.x(n, c, 0), nm.x(n, c, s.length - 1), x[n, c], s.length)
        self.more_rows(len(rows))
        if s.channels > 1:
            self.line(self.t("pool_channels", c=s.channels), 1)
        if s.op == "max_unpool1d" and self.tr.indices is not None:
            self.line(self.t("pool_indices_given"))
            idx = self.tr.indices if self.tr.indices.ndim == 3 else self.tr.indices[None]
            for n, c in rows[:6]:
                self.line(", ".join(str(int(v)) for v in idx[n, c][:24]) + (", …" if s.length > 24 else ""), 1)

    def length(self) -> None:
        f, s = self.tr.length, self.spec
        self.heading("length_heading")
        if f.formula == "output_size":
            self.line(f"L_out = output_size = {f.result}", 1)
        else:
            self.line(f"L_out = {f.formula}", 1)
            self.line(f"      = {f.substituted}", 1)
            self.line(f"      = {f.result}", 1)
        data = {note.code: note.values for note in self.tr.notes}
        if s.sliding and s.ceil_mode:
            self.line(self.t("pool_ceil_rule", limit=s.length + s.padding), 1)
        dropped = data.get("ceil_dropped_window")
        if dropped is not None:
            self.line(self.t("pool_ceil_dropped", docs=dropped["docs_length"], index=dropped["index"],
                             start=dropped["start"], limit=dropped["limit"], out=dropped["out_length"]), 1)
        adaptive = data.get("adaptive_windows")
        if adaptive is not None:
            lengths = ", ".join(str(n) for n in adaptive["lengths"])
            self.line(self.t("pool_adaptive_rule", length=adaptive["length"], size=adaptive["output_size"],
                             lengths=lengths), 1)
            if adaptive["overlap"]:
                self.line(self.t("pool_adaptive_overlap"), 1)
        if s.op == "max_pool1d" and s.dilation > 1:
            span = s.dilation * (s.kernel_size - 1) + 1
            self.line(self.t("dilation_line", d=s.dilation, k=s.kernel_size, span=span, gap=s.dilation - 1), 1)

    # -- the padded row --------------------------------------------------------------------

    def padded_row(self) -> None:
        """Every padded position the windows read, with its sample and kind (sliding pools)."""
        s = self.spec
        if not s.sliding:
            return
        last_read = max(((st.pool.end if st.pool else 0) for st in self.tr.steps), default=s.length)
        right = max(s.length + s.padding, last_read)
        positions = list(range(-s.padding, right))
        if s.padding:
            fill = self.t("pool_fill_max" if self.reduction is Reduction.MAX else "pool_fill_avg")
            self.heading("pool_row_heading", p=s.padding, fill=fill)
        else:
            self.heading("pool_row_no_padding")
        idx = columns(len(positions))
        x = self.x3()
        chosen = [positions[i] if i is not None else None for i in idx]
        rows: list[tuple[str, list[str]]] = [
            (self.t("row_position"), [str(p + s.padding) if p is not None else "…" for p in chosen]),
            (self.t("row_sample"), [self.cell_label(p) if p is not None else "…" for p in chosen]),
        ]
        if s.batch * s.channels == 1:
            rows.append((self.t("row_value"), [self.cell_value(x[0, 0], p) if p is not None else "…" for p in chosen]))
        rows.append((self.t("pool_row_kind"), [self.kind_short(p) if p is not None else "…" for p in chosen]))
        self.out.extend(table(rows, limit=self.width))

    def kind_of(self, position: int) -> TapKind:
        s = self.spec
        if position < 0:
            return TapKind.LEFT_PAD
        if position < s.length:
            return TapKind.REAL
        return TapKind.RIGHT_PAD if position < s.length + s.padding else TapKind.OVERHANG

    def kind_short(self, position: int) -> str:
        return self.t(f"tap_{self.kind_of(position).value}_short")

    def cell_label(self, position: int) -> str:
        kind = self.kind_of(position)
        if kind is TapKind.REAL:
            return self.names.sample(position)
        if kind is TapKind.OVERHANG:
            return "·"
        return "-inf" if self.reduction is Reduction.MAX else "0"

    def cell_value(self, row: Any, position: int) -> str:
        if self.kind_of(position) is TapKind.REAL:
            return self.value(row[position])
        return self.cell_label(position)

    # -- steps -----------------------------------------------------------------------------

    def steps(self) -> None:
        s, steps = self.spec, self.tr.steps
        if self.tr.at is None and not self.tr.complete:
            total = s.batch * s.channels * s.out_length
            shown = ", ".join(f"[{st.batch}, {st.out_channel}, {st.out_index}]" for st in steps)
            self.heading("summary", n=total, shape=s.output_shape, shown=shown)
            self.line(self.t("summary_at"), 1)
        if s.op == "max_unpool1d":
            self.scatter()
        for number, step in enumerate(steps, 1):
            self.step(number, step)

    def y(self, step: Step) -> str:
        return self.names.y(step.batch, step.out_channel, step.out_index)

    def step(self, number: int, step: Step) -> None:
        self.blank()
        y = self.y(step)
        if self.names.multi or self.tr.at is not None or not self.tr.complete:
            parts = (step.batch, step.out_channel, step.out_index) if self.spec.batched else (
                step.out_channel, step.out_index)
            index = "[" + ", ".join(str(v) for v in parts) + "]"
            self.line(self.t("step_title_indexed", n=number, y=y, index=index))
        else:
            self.line(self.t("step_title", n=number, y=y))
        if step.reduction is Reduction.SCATTER:
            self.unpool_step(step)
            return
        self.window(step)
        if step.reduction is Reduction.MAX:
            self.max_step(step)
        elif step.reduction is Reduction.MEAN:
            self.mean_step(step)
        else:
            self.pnorm_step(step)

    def tap_name(self, step: Step, term: Term) -> str:
        if term.input_index is None:
            return "·" if term.tap is TapKind.OVERHANG else ("-inf" if step.reduction is Reduction.MAX else "0")
        return self.names.x(step.batch, step.out_channel, term.input_index)

    def tap_text(self, step: Step, term: Term) -> str:
        kind = self.t(f"tap_{term.tap.value if term.tap else 'real'}")
        if term.tap is TapKind.REAL:
            return self.t("pool_tap_value", name=self.tap_name(step, term), value=self.value(term.x), kind=kind)
        if term.tap is TapKind.OVERHANG:
            return self.t("pool_tap_overhang", kind=kind)
        return self.t("pool_tap_pad_max" if step.reduction is Reduction.MAX else "pool_tap_pad", kind=kind)

    def window(self, step: Step) -> None:
        d, s = step.pool, self.spec
        assert d is not None
        sep = self.t("pool_tap_sep")
        taps = sep.join(self.tap_text(step, term) for term in step.terms[:_MAX_TERMS])
        if len(step.terms) > _MAX_TERMS:
            taps += sep + "…"
        if s.adaptive:
            i = step.out_index
            self.line(self.t("pool_window_adaptive", i=i, j=i + 1, L=s.length, O=s.out_length, start=d.start,
                             end=d.end, last=d.end - 1, n=d.end - d.start), 1)
            self.line(taps, 2)
            return
        first = d.padded_start
        last = first + (step.terms[-1].kernel_index * s.dilation if step.terms else 0)
        self.line(self.t("pool_window_line", first=first, last=last, start=d.start,
                         end=last - s.padding), 1)
        self.line(taps, 2)

    def max_step(self, step: Step) -> None:
        d = step.pool
        assert d is not None
        y = self.y(step)
        if d.winner is None:
            self.line(self.t("pool_result", y=y, value=self.value(step.value)), 1)
            return
        win = step.terms[d.winner]
        name = self.tap_name(step, win)
        self.line(self.t("pool_max", value=self.value(step.value), name=name, index=d.winner_index), 1)
        if d.ties:
            names = ", ".join([name, *(self.tap_name(step, step.terms[i]) for i in d.ties)])
            self.line(self.t("pool_max_ties", names=names, value=self.value(step.value), index=d.winner_index), 1)
        if d.nan:
            self.line(self.t("pool_max_nan", index=d.winner_index), 1)
        self.line(self.t("pool_result", y=y, value=self.value(step.value)), 1)

    def sum_terms(self, step: Step) -> str:
        """``1 + 2 + 3 = `` (empty for a single term: its value is the total)."""
        counted = [t for t in step.terms if t.tap is not TapKind.OVERHANG]
        if step.reduction is Reduction.PNORM:
            counted = [t for t in counted if t.tap is TapKind.REAL]
        if len(counted) <= 1:
            return ""
        if len(counted) > _MAX_TERMS:
            return "… = "
        return " + ".join(_paren(self.value(t.product)) for t in counted) + " = "

    def mean_step(self, step: Step) -> None:
        d, s = step.pool, self.spec
        assert d is not None and d.divisor is not None
        total = self.value(step.total)
        self.line(self.t("pool_sum", terms=self.sum_terms(step), total=total), 1)
        if s.adaptive:
            self.line(self.t("pool_divisor_adaptive", d=d.divisor), 1)
        elif d.real == len(step.terms):
            self.line(self.t("pool_divisor_full", d=d.divisor), 1)
        else:
            key = "pool_divisor_include" if d.count_include_pad else "pool_divisor_exclude"
            why = self.t(key, d=d.divisor, real=d.real, pad=d.left_pad + d.right_pad)
            if d.overhang:
                why += self.t("pool_divisor_overhang", n=d.overhang)
            self.line(why, 1)
        if d.truncated:
            self.line(self.t("pool_truncated", total=total, d=d.divisor, value=self.value(step.value)), 1)
            self.line(f"{self.y(step)} = trunc({total} / {d.divisor}) = {self.value(step.value)}", 1)
            return
        self.line(self.t("pool_mean", y=self.y(step), total=total, d=d.divisor, value=self.value(step.value)), 1)

    def pnorm_step(self, step: Step) -> None:
        d = step.pool
        assert d is not None and d.norm_type is not None
        if math.isinf(d.norm_type):
            key = "pool_pnorm_inf" if d.norm_type > 0 else "pool_pnorm_neg_inf"
            won = step.terms[d.winner] if d.winner is not None else None
            name = self.tap_name(step, won) if won is not None else "—"
            self.line(self.t(key, y=self.y(step), value=self.value(step.value), name=name, index=d.winner_index), 1)
            return
        assert d.divisor is not None
        p = _norm(d.norm_type)
        for term in step.terms:
            if term.tap is TapKind.REAL:
                self.line(self.t("pool_power", name=self.tap_name(step, term), p=p, value=self.value(term.product)), 1)
        total = self.value(step.total)
        self.line(self.t("pool_power_sum", terms=self.sum_terms(step), total=total), 1)
        y = self.y(step)
        if d.truncated:
            mean = mean_of(step.total, d.divisor, True)
            self.line(self.t("pool_truncated", total=total, d=d.divisor, value=self.value(mean)), 1)
            self.line(f"{y} = (trunc({total} / {d.divisor}) · {self.spec.kernel_size})^(1/{p}) = "
                      f"({self.value(d.scaled)})^(1/{p}) = {self.value(step.value)}", 1)
        elif d.overhang:
            self.line(self.t("pool_pnorm_scaled", n=d.overhang, d=d.divisor, k=self.spec.kernel_size,
                             scale=self.value(d.scale)), 1)
            self.line(self.t("pool_pnorm_partial", y=y, total=total, scale=self.value(d.scale), p=p,
                             scaled=self.value(d.scaled), value=self.value(step.value)), 1)
        else:
            self.line(self.t("pool_pnorm_full", y=y, total=total, p=p, value=self.value(step.value)), 1)

    def unpool_step(self, step: Step) -> None:
        d = step.pool
        assert d is not None
        y, t = self.y(step), step.out_index
        if not step.terms:
            self.line(self.t("pool_unpool_none", y=y), 1)
            return
        names = [self.names.x(step.batch, step.out_channel, term.input_index or 0) for term in step.terms]
        kept = step.terms[d.winner if d.winner is not None else -1]
        if len(step.terms) == 1:
            self.line(self.t("pool_unpool_one", name=names[0], value=self.value(kept.x), t=t, y=y), 1)
            return
        self.line(self.t("pool_unpool_collision", names=", ".join(names), t=t,
                         name=names[d.winner if d.winner is not None else -1], value=self.value(kept.x)), 1)
        self.line(self.t("pool_result", y=y, value=self.value(step.value)), 1)

    def scatter(self) -> None:
        placements = [p for p in self.tr.placements if p.batch == 0 and p.channel == 0]
        if not placements:
            return
        self.heading("pool_scatter_heading")
        for p in placements[:24]:
            key = "pool_scatter_item" if p.kept else "pool_scatter_lost"
            self.line(self.t(key, name=self.names.x(0, 0, p.input_index), value=self.value(p.x), t=p.index,
                             t1=p.index + 1), 1)
        self.more_rows(len(placements) + 6 - 24 if len(placements) > 24 else 0)

    # -- PyTorch's check ------------------------------------------------------------------

    check_data_key = "pool_check_data"

    def check_details(self, c: TorchCheck) -> None:
        """PyTorch's indices (max pools), held to the winners of the steps."""
        indices = c.extra.get("indices")
        if indices is not None:
            verdict = self.t("pool_indices_agree" if c.extra.get("indices_agree") else "pool_indices_differ")
            self.line(self.t("pool_check_indices", indices=short_nested(indices), verdict=verdict), 1)

    # -- output, notes ---------------------------------------------------------------------

    def output(self) -> None:
        s, y = self.spec, self.tr.output
        self.heading("output_heading", shape=s.output_shape)
        rows = [(n, c) for n in range(s.batch) for c in range(s.channels)]
        for n, c in rows[:6]:
            first, last = self.names.y(n, c, 0), self.names.y(n, c, s.out_length - 1)
            label = first if s.out_length == 1 else f"{first}..{last}"
            if y is not None:
                y3 = y if y.ndim == 3 else y[None]
                values = [self.value(y3[n, c, i]) if i is not None else "…" for i in columns(s.out_length)]
            else:
                by_key = {(st.batch, st.out_channel, st.out_index): st.value for st in self.tr.steps}
                values = [self.value(by_key[(n, c, i)]) if i is not None and (n, c, i) in by_key else "…"
                          for i in columns(s.out_length)]
            self.line(f"{label} = {', '.join(values)}", 1)
        self.more_rows(len(rows))
        if self.tr.indices is not None and s.op != "max_unpool1d":
            self.line(self.t("pool_indices_heading"))
            idx = self.tr.indices if self.tr.indices.ndim == 3 else self.tr.indices[None]
            for n, c in rows[:6]:
                self.line(", ".join(str(int(v)) if i is not None else "…"
                                    for i, v in ((i, idx[n, c, i] if i is not None else 0)
                                                 for i in columns(s.out_length))), 1)

    def notes(self) -> None:
        for note in self.tr.notes:
            if note.code in _SHOWN_NOTES:
                continue
            self.blank()
            self.line(note_text(self.tr, note, self.t.lang))
        if any(n.code == "lp_signed" for n in self.tr.notes):
            self.blank()
            self.line(self.t("pool_pnorm_signed"))


def _paren(s: str) -> str:
    return f"({s})" if s.startswith("-") else s


def _norm(p: Any) -> str:
    f = float(p)
    return str(int(f)) if f.is_integer() else repr(f)
