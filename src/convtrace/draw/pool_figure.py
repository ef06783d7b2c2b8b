"""Pooling pictures: the window sliding along the padded input (one frame per output), the
ceil_mode overhang shaded apart from the padding, the values the window reads, the max's
winner, the mean's divisor and why, the p-norm; adaptive windows of varying length with
their floor/ceil bounds; max_unpool1d's values landing on their indices, collisions marked.
The overview shows every window as a staircase (every landing, for max_unpool1d).

Everything is read from a :class:`~convtrace.draw.pool_data.PoolPicture`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from ..render.names import Names
from ..shapes import TapKind
from .common import finish, header_of
from .labels import fmt, label, signed_sum
from .layout import (
    ACCENT,
    CELL_H,
    INK,
    LABEL_W,
    MARGIN,
    MAX_COLUMNS,
    MAX_ROWS,
    MUTED,
    Axis,
    cell,
    cell_width,
    ellipsis_marks,
    fill_gaps,
)  # fmt: skip
from .model import Arrow, Figure, Line, Rect, Shape, Text
from .pool_data import Landing, PoolOutput, PoolPicture

__all__ = ["PoolContext", "pool_frame", "pool_overview", "unpool_frame", "unpool_overview", "pool_frame_count"]

ROW = CELL_H + 8.0
OUT_INK = "#2b8a3e"
MINUS_INF = "−∞"
#: the cell style of each kind of tap on the input row (max pooling pads with -inf)
_PAD_ROLE = {"max": "pad_inf", "mean": "zero", "pnorm": "zero"}


@dataclass(frozen=True)
class PoolContext:
    """One pooling picture, one language."""

    picture: PoolPicture
    lang: str

    def t(self, key: str, **values: Any) -> str:
        return label(self.lang, key, **values)

    @cached_property
    def names(self) -> Names:
        return Names(multi=self.picture.multi, batched=self.picture.spec.batch > 1)

    @cached_property
    def cell_width(self) -> float:
        """One cell width for every frame: wide enough for every number shown."""
        pic = self.picture
        values = [*pic.input.reshape(-1)[:256], *pic.output.reshape(-1)[:256]]
        texts = [fmt(v) for v in values if v is not None]  # None: an output not computed (only some explained)
        if pic.indices is not None:
            texts += [str(int(v)) for v in pic.indices.reshape(-1)[:256]]
        return cell_width(texts)

    def x_text(self, n: int, c: int, i: int) -> str:
        return fmt(self.picture.input[n, c, i])

    def y_text(self, n: int, c: int, t: int) -> str:
        value = self.picture.output[n, c, t]
        return "" if value is None else fmt(value)


def pool_frame_count(picture: PoolPicture) -> int:
    """Frames of the animation: one per explained output (per landing for max_unpool1d)."""
    return len(picture.landings) if picture.op == "max_unpool1d" else len(picture.outputs)


# ----------------------------------------------------------------------------- shared


def _row_label(text: str, y: float, ink: str = INK) -> Text:
    return Text(MARGIN + LABEL_W - 14, y + CELL_H / 2 + 5, text, size=14, fill=ink, anchor="end", role="row-label")


def _where(ctx: PoolContext, n: int, c: int, y: float) -> tuple[list[Shape], float]:
    """"batch item n, channel c" above the rows, when there are several."""
    spec = ctx.picture.spec
    parts = []
    if spec.batch > 1:
        parts.append(ctx.t("batch", n=n + 1))
    if spec.channels > 1:
        parts.append(ctx.t("channel", c=c + 1))
    if not parts:
        return [], y
    return [Text(MARGIN, y + 6, ", ".join(parts), size=14, fill=INK, anchor="start", weight="bold", role="batch")], y + 24


def _span(ctx: PoolContext) -> int:
    s = ctx.picture.spec
    return s.dilation * (s.kernel_size - 1) + 1


def _start(ctx: PoolContext, t: int) -> int:
    """First input position output ``t`` reads (negative in the left padding)."""
    s = ctx.picture.spec
    if s.adaptive:
        return (t * s.length) // s.out_length
    return t * s.stride - s.padding


def _end(ctx: PoolContext, t: int) -> int:
    """One past the last position output ``t``'s window covers."""
    s = ctx.picture.spec
    if s.adaptive:
        return -((-(t + 1) * s.length) // s.out_length)
    return _start(ctx, t) + _span(ctx)


def _positions(ctx: PoolContext) -> range:
    """The input row's columns: the padded input and, with ceil_mode, the overhang its last
    window reaches."""
    s = ctx.picture.spec
    if s.adaptive:
        return range(s.length)
    pad = s.padding
    last = _end(ctx, s.out_length - 1) if s.out_length else 0
    return range(-pad, max(s.length + pad, last))


def _axis(ctx: PoolContext, outputs: Sequence[int]) -> Axis:
    """The input row's columns: all when they fit, else the windows of ``outputs`` with
    context and ellipses between."""
    keep: set[int] = set()
    for t in outputs:
        keep |= set(range(_start(ctx, t), _end(ctx, t)))
    keep = fill_gaps(keep)
    lo = min(keep) if keep else 0
    return Axis.build(_positions(ctx), (lo, lo), MAX_COLUMNS, cell=ctx.cell_width, keep=keep)


def _kind(ctx: PoolContext, p: int) -> TapKind:
    from ..shapes import tap_kind

    s = ctx.picture.spec
    return TapKind.REAL if s.adaptive else tap_kind(p, s.length, s.padding)


def _columns(ctx: PoolContext, axis: Axis) -> Iterator[tuple[int, float, TapKind]]:
    """The drawn columns of the input row: (position, left edge, kind)."""
    for p in axis.columns:
        x = axis.x(p) if p is not None else None
        if x is not None and p is not None:
            yield p, x, _kind(ctx, p)


def _sample_labels(ctx: PoolContext, axis: Axis, y: float) -> list[Shape]:
    """Above each column: the sample's name, "pad" or, in the overhang, "ceil"."""
    out: list[Shape] = []
    for p, x, kind in _columns(ctx, axis):
        if kind is TapKind.REAL:
            text, ink, role = ctx.names.sample(p), INK, "sample-input"
        elif kind is TapKind.OVERHANG:
            text, ink, role = ctx.t("pool_overhang_mark"), "#e8590c", "sample-overhang"
        else:
            text, ink, role = ctx.t("pool_pad"), MUTED, "sample-pad"
        out.append(Text(x + axis.cell / 2, y, text, size=12, fill=ink, role=role))
    return out


def _input_row(ctx: PoolContext, axis: Axis, y: float, n: int, c: int, taps: set[int]) -> list[Shape]:
    """The padded input: samples, padding (0, or −∞ for the max) and the overhang (empty)."""
    pad_role = _PAD_ROLE.get(ctx.picture.reduction, "zero")
    items: list[Shape] = []
    for p, x, kind in _columns(ctx, axis):
        if kind is TapKind.REAL:
            items.append(cell(x, y, ctx.x_text(n, c, p), "input", highlight=p in taps, width=axis.cell))
        elif kind is TapKind.OVERHANG:
            items.append(cell(x, y, "", "overhang", dash="2 3", width=axis.cell))
        else:
            text = MINUS_INF if pad_role == "pad_inf" else "0"
            items.append(cell(x, y, text, pad_role, dash="5 3", width=axis.cell))
    return items + ellipsis_marks(axis, y)


def _input_name(ctx: PoolContext) -> str:
    s = ctx.picture.spec
    return ctx.t("pool_padded_input" if s.padding and s.sliding else "pool_input")


def _tap_role(out: PoolOutput, position: int, counted: bool) -> str:
    if out.winner is not None and position == out.winner:
        return "winner"
    return "read" if counted else "excluded"


def _tap_text(ctx: PoolContext, value: Any, kind: TapKind) -> str:
    if kind is TapKind.OVERHANG or value is None:
        return ""
    if isinstance(value, float) and value == float("-inf"):
        return MINUS_INF
    return fmt(value)


def _window(axis: Axis, start: int, end: int, y: float, height: float, role: str = "window") -> list[Shape]:
    xs = [x for x in (axis.x(p) for p in range(start, end)) if x is not None]
    if not xs:
        return []
    gap = axis.pitch - axis.cell
    left, right = min(xs) - gap / 2, max(xs) + axis.cell + gap / 2
    return [Rect(left, y - 4, right - left, height + 8, stroke=ACCENT, stroke_width=2.0, radius=6, role=role)]


def _reads_row(ctx: PoolContext, axis: Axis, out: PoolOutput, y: float, size: float = 16.0) -> list[Shape]:
    """The values the window of ``out`` reads, under their columns: the winner marked, the
    taps the reduction does not count dashed; dilation gaps as bars."""
    items: list[Shape] = []
    for tap in out.taps:
        x = axis.x(tap.position)
        if x is None:
            continue
        role = _tap_role(out, tap.position, tap.counted)
        dash = "2 3" if tap.kind is TapKind.OVERHANG else "" if tap.kind is TapKind.REAL else "5 3"
        items.append(cell(x, y, _tap_text(ctx, tap.value, tap.kind), role, highlight=role == "winner", dash=dash,
                          width=axis.cell, size=size))
    spec = ctx.picture.spec
    if spec.dilation > 1:
        for a, b in zip(out.taps, out.taps[1:]):
            for g in range(a.position + 1, b.position):
                gx = axis.x(g)
                if gx is not None:
                    items.append(Rect(gx + 6, y + CELL_H / 2 - 1, axis.cell - 12, 2, fill="#e9a5bd", role="dilation-gap"))
    return items


def _values_text(ctx: PoolContext, out: PoolOutput) -> str:
    return ", ".join(_tap_text(ctx, tap.value, tap.kind) for tap in out.taps if tap.kind is not TapKind.OVERHANG)


def _power(value: Any, p: float) -> str:
    v = fmt(value)
    exponent = fmt(int(p)) if float(p).is_integer() else fmt(p)
    return f"({v})^{exponent}" if v.startswith("-") else f"{v}^{exponent}"


def reduction_lines(ctx: PoolContext, out: PoolOutput) -> list[tuple[str, str]]:
    """The arithmetic of one output, as (role, words) lines: the floor/ceil bounds of an
    adaptive window; the max and its winner; the mean and why its divisor; the p-norm and
    PyTorch's ceil_mode scaling."""
    pic, s = ctx.picture, ctx.picture.spec
    lines: list[tuple[str, str]] = []
    if s.adaptive:
        a, b = _start(ctx, out.index), _end(ctx, out.index)
        lines.append(("bounds", ctx.t("pool_adaptive_bounds", i=out.index, j=out.index + 1, L=s.length, O=s.out_length,
                                      a=a, b=b, n=b - a)))
    value = fmt(out.value)
    if pic.reduction == "max":
        lines.append(("sum", ctx.t("pool_max", values=_values_text(ctx, out), value=value)))
        if out.winner is not None:
            name = ctx.names.x(out.batch, out.channel, out.winner)
            key = "pool_winner_nan" if out.nan else "pool_winner_tie" if out.tie else "pool_winner"
            lines.append(("winner", ctx.t(key, x=name, i=out.winner)))
    elif pic.reduction == "mean":
        counted = [fmt(tap.value) for tap in out.taps if tap.counted]
        lines.append(("sum", ctx.t("pool_mean", terms=signed_sum(counted), d=out.divisor, value=value)))
        if not s.adaptive:
            real = sum(1 for tap in out.taps if tap.kind is TapKind.REAL)
            pads = sum(1 for tap in out.taps if tap.kind in (TapKind.LEFT_PAD, TapKind.RIGHT_PAD))
            key = "pool_divisor_pad" if s.count_include_pad else "pool_divisor_real"
            lines.append(("divisor", ctx.t(key, d=out.divisor, real=real, pad=pads)))
    else:
        p = float(s.norm_type or 1.0)
        terms = " + ".join(_power(tap.value, p) for tap in out.taps if tap.counted)
        exponent = fmt(int(p)) if p.is_integer() else fmt(p)
        if out.scaled is not None and out.divisor is not None and out.divisor != s.kernel_size:
            lines.append(("sum", ctx.t("pool_lp_scaled", terms=terms, k=s.kernel_size, d=out.divisor,
                                       scaled=fmt(out.scaled), p=exponent, value=value)))
            lines.append(("divisor", ctx.t("pool_lp_scale_note", k=s.kernel_size, d=out.divisor)))
        else:
            lines.append(("sum", ctx.t("pool_lp", terms=terms, p=exponent, value=value)))
        if p == 1.0:
            lines.append(("note", ctx.t("pool_lp_signed")))
    overhang = sum(1 for tap in out.taps if tap.kind is TapKind.OVERHANG)
    if overhang:
        lines.append(("overhang", ctx.t("pool_overhang_note", n=overhang)))
    return lines


def _out_position(ctx: PoolContext, t: int) -> float:
    """Where output ``t`` sits under the input row: below its window's centre."""
    return _start(ctx, t) + (_span(ctx) - 1) / 2


def _output_axis(ctx: PoolContext, focus: int) -> Axis:
    """An adaptive pool's outputs on their own row (windows overlap and vary in length)."""
    return Axis.build(range(ctx.picture.spec.out_length), (focus, focus), MAX_COLUMNS, cell=ctx.cell_width)


def _output_row(ctx: PoolContext, axis: Axis, y: float, n: int, c: int, done: set[int] | None,
                current: int | None) -> tuple[list[Shape], list[tuple[int, float]]]:
    """The output row (outputs under their windows, or on ``axis`` for adaptive pools):
    computed ones filled, ``current`` highlighted, the rest empty; and where each cell is."""
    s = ctx.picture.spec
    items: list[Shape] = [_row_label(ctx.t("output"), y, OUT_INK)]
    where: list[tuple[int, float]] = []
    if s.adaptive:
        indices = [t for t in axis.columns if t is not None]
    else:
        indices = axis.indices(s.stride, -s.padding + (_span(ctx) - 1) / 2, s.out_length)
    for t in indices:
        x = axis.x(t if s.adaptive else _out_position(ctx, t))
        if x is None:
            continue
        where.append((t, x))
        if t == current:
            items.append(cell(x, y, ctx.y_text(n, c, t), "current", highlight=True, width=axis.cell))
        elif (done is None or t in done) and ctx.y_text(n, c, t):  # "": not computed (only some explained)
            items.append(cell(x, y, ctx.y_text(n, c, t), "output", width=axis.cell))
            if not ctx.names.multi:
                items.append(Text(x + axis.cell / 2, y + CELL_H + 13, ctx.names.y(n, c, t), size=11, fill=MUTED,
                                  role="y-name"))
        else:
            items.append(cell(x, y, "", "empty", dash="4 3", width=axis.cell))
    return items + ellipsis_marks(axis, y), where


def _frame_roles(ctx: PoolContext) -> tuple[str, ...]:
    """Cell styles some frame of the animation draws: the legend of every frame names them all."""
    pic = ctx.picture
    roles = {"window", "read", "current"}
    if pic.reduction == "max":
        roles.add("winner")
    for out in pic.outputs:
        if any(not tap.counted for tap in out.taps):
            roles.add("excluded")
    if pic.spec.out_length * pic.spec.channels * pic.spec.batch > 1:
        roles |= {"output", "empty"}
    return tuple(sorted(roles))


# ----------------------------------------------------------------------------- windowed pools


def pool_frame(ctx: PoolContext, index: int) -> Figure:
    """The picture of output ``index`` (in the order of the picture's outputs)."""
    pic = ctx.picture
    out = pic.outputs[index]
    s = pic.spec
    title = ctx.t("pool_step_title", op=pic.title, n=index + 1, total=len(pic.outputs),
                  y=ctx.names.y(out.batch, out.channel, out.index))
    items, y, width = header_of(ctx, title, pic.params_line(), pic.length)
    where, y = _where(ctx, out.batch, out.channel, y)
    items += where
    axis = _axis(ctx, [out.index])
    items += _sample_labels(ctx, axis, y + 4)
    y += 14
    taps = {tap.position for tap in out.taps if tap.kind is TapKind.REAL}
    items += [_row_label(_input_name(ctx), y), *_input_row(ctx, axis, y, out.batch, out.channel, taps)]
    items += _window(axis, _start(ctx, out.index), _end(ctx, out.index), y, 2 * ROW - 8)
    ry = y + ROW
    items += [_row_label(ctx.t("pool_reads"), ry, ACCENT), *_reads_row(ctx, axis, out, ry)]
    y = ry + ROW + 6
    for role, words in reduction_lines(ctx, out):
        bold = role == "sum"
        items.append(Text(axis.left, y + 16, words, size=16 if bold else 13, fill=INK if bold else MUTED,
                          anchor="start", weight="bold" if bold else "normal", role=f"pool-{role}"))
        y += 22 if bold else 19
    arrow_top = y + 4
    y += 34
    done = {o.index for o in pic.outputs[:index] if (o.batch, o.channel) == (out.batch, out.channel)}
    done |= set(range(s.out_length)) - {o.index for o in pic.outputs if (o.batch, o.channel) == (out.batch, out.channel)}
    out_axis = _output_axis(ctx, out.index) if s.adaptive else axis
    row, cells = _output_row(ctx, out_axis, y, out.batch, out.channel, done, out.index)
    items += row
    for t, x in cells:
        if t == out.index:
            items.append(Arrow(axis.left + 40, arrow_top, x + axis.cell / 2, y - 3, stroke=ACCENT, role="to-output"))
    y += ROW + 10
    width = max(width, axis.left + axis.width + MARGIN, out_axis.left + out_axis.width + MARGIN)
    return finish(ctx, items, y, width, title, _frame_roles(ctx))


def _overview_outputs(ctx: PoolContext, outputs: Sequence[PoolOutput]) -> tuple[list[PoolOutput], int]:
    """The windows the overview draws: the first few and the last: (outputs, left out)."""
    if len(outputs) <= MAX_ROWS:
        return list(outputs), 0
    shown = list(outputs[: MAX_ROWS - 1]) + [outputs[-1]]
    return shown, len(outputs) - len(shown)


def _stair_label(ctx: PoolContext, out: PoolOutput) -> str:
    text = ctx.t("window_label", y=ctx.names.y(out.batch, out.channel, out.index), value=fmt(out.value))
    if ctx.picture.reduction == "mean" and out.divisor is not None:
        text += f"  (÷{out.divisor})"
    return text


def pool_overview(ctx: PoolContext) -> Figure:
    """The input row, every window (the first few and the last) as a staircase with the
    values it reads, and the whole output (of the first batch item and channel)."""
    pic = ctx.picture
    title = ctx.t("pool_overview", op=pic.title)
    items, y, width = header_of(ctx, title, pic.params_line(), pic.length)
    first = [o for o in pic.outputs if (o.batch, o.channel) == (0, 0)] or list(pic.outputs[:1])
    n, c = (first[0].batch, first[0].channel) if first else (0, 0)
    shown, hidden = _overview_outputs(ctx, first)
    where, y = _where(ctx, n, c, y)
    items += where
    axis = _axis(ctx, [o.index for o in shown])
    items += _sample_labels(ctx, axis, y + 4)
    y += 14
    items += [_row_label(_input_name(ctx), y), *_input_row(ctx, axis, y, n, c, set())]
    y += ROW + 6
    for i, out in enumerate(shown):
        if hidden and i == len(shown) - 1:
            items.append(Text(axis.left, y + 12, ctx.t("more_windows", n=hidden), size=13, fill=MUTED, anchor="start",
                              role="steps-note"))
            y += 22
        row = _reads_row(ctx, axis, out, y, size=14)
        xs = [x for x in (axis.x(p) for p in range(_start(ctx, out.index), _end(ctx, out.index))) if x is not None]
        if xs:
            left, right = min(xs), max(xs) + axis.cell
            items.append(Line(left, y + CELL_H / 2, right, y + CELL_H / 2, stroke="#e9a5bd", stroke_width=3,
                              role="window-bar"))
            items += row
            items.append(Text(right + 10, y + CELL_H / 2 + 5, _stair_label(ctx, out), size=14, fill=OUT_INK,
                              anchor="start", weight="bold", role="window-label"))
        y += ROW - 4
    y += 14
    out_axis = _output_axis(ctx, 0) if pic.spec.adaptive else axis
    row, _ = _output_row(ctx, out_axis, y, n, c, None, None)
    items += row
    y += ROW + 10
    width = max(width, axis.left + axis.width + MARGIN, out_axis.left + out_axis.width + MARGIN)
    return finish(ctx, items, y, width, title)


# ----------------------------------------------------------------------------- max_unpool1d


def _unpool_axes(ctx: PoolContext, landing: Landing | None) -> tuple[Axis, Axis]:
    s = ctx.picture.spec
    src = landing.source if landing is not None else 0
    dst = landing.target if landing is not None else 0
    inputs = Axis.build(range(s.length), (src, src), MAX_COLUMNS, cell=ctx.cell_width)
    outputs = Axis.build(range(s.out_length), (dst, dst), MAX_COLUMNS, cell=ctx.cell_width)
    return inputs, outputs


def _unpool_rows(ctx: PoolContext, inputs: Axis, n: int, c: int, y: float, current: int | None) -> list[Shape]:
    """The pooled values and their indices (``current`` highlighted)."""
    pic = ctx.picture
    assert pic.indices is not None
    items: list[Shape] = [_row_label(ctx.t("pool_input"), y), _row_label(ctx.t("pool_indices"), y + ROW, "#7048e8")]
    for i in inputs.columns:
        x = inputs.x(i) if i is not None else None
        if x is None or i is None:
            continue
        hot = i == current
        items.append(cell(x, y, ctx.x_text(n, c, i), "input", highlight=hot, width=inputs.cell))
        items.append(cell(x, y + ROW, str(int(pic.indices[n, c, i])), "index", highlight=hot, width=inputs.cell))
    return items + ellipsis_marks(inputs, y) + ellipsis_marks(inputs, y + ROW)


def _unpooled_row(ctx: PoolContext, outputs: Axis, y: float, landed: Sequence[Landing], current: Landing | None,
                  n: int, c: int) -> list[Shape]:
    """The output: what has landed so far (the last write showing), collisions marked,
    untouched cells 0."""
    written: dict[int, list[Landing]] = {}
    for land in landed:
        written.setdefault(land.target, []).append(land)
    final = current is None
    items: list[Shape] = [_row_label(ctx.t("pool_unpooled" if final else "pool_unpooled_so_far"), y, OUT_INK)]
    for j in outputs.columns:
        x = outputs.x(j) if j is not None else None
        if x is None or j is None:
            continue
        lands = written.get(j, [])
        if not lands:
            items.append(cell(x, y, "0", "untouched", dash="4 3", width=outputs.cell))
            continue
        text = ctx.y_text(n, c, j) if final else fmt(lands[-1].value)
        if current is not None and j == current.target:
            role = "current"
        else:
            role = "collision" if len(lands) > 1 else "output"
        items.append(cell(x, y, text, role, highlight=role == "current", width=outputs.cell))
        if len(lands) > 1:
            items.append(Text(x + outputs.cell / 2, y + CELL_H + 13, f"×{len(lands)}", size=11, fill="#c92a2a",
                              role="collision-count"))
    return items + ellipsis_marks(outputs, y)


def _landing_arrow(inputs: Axis, outputs: Axis, land: Landing, top: float, bottom: float, hot: bool) -> list[Shape]:
    x1, x2 = inputs.x(land.source), outputs.x(land.target)
    if x1 is None or x2 is None:
        return []
    colour = ACCENT if hot else "#c5a3b4"
    return [Arrow(x1 + inputs.cell / 2, top, x2 + outputs.cell / 2, bottom - 3, stroke=colour,
                  stroke_width=2.0 if hot else 1.2, head=7.0 if hot else 5.0, role="landing")]


def unpool_frame(ctx: PoolContext, index: int) -> Figure:
    """The picture of landing ``index``: one pooled value written to its index."""
    pic = ctx.picture
    land = pic.landings[index]
    n, c = land.batch, land.channel
    x_name = ctx.names.x(n, c, land.source)
    y_name = ctx.names.y(n, c, land.target)
    title = ctx.t("unpool_title", op=pic.title, n=index + 1, total=len(pic.landings), x=x_name, y=y_name)
    items, y, width = header_of(ctx, title, pic.params_line(), pic.length)
    where, y = _where(ctx, n, c, y)
    items += where
    inputs, outputs = _unpool_axes(ctx, land)
    items += _unpool_rows(ctx, inputs, n, c, y, land.source)
    y += 2 * ROW + 4
    items.append(Text(inputs.left, y + 16, ctx.t("unpool_lands", x=x_name, v=fmt(land.value), i=land.target, y=y_name),
                      size=16, fill=INK, anchor="start", weight="bold", role="pool-sum"))
    y += 22
    if land.earlier:
        kept = ctx.names.x(n, c, land.source) if land.kept else ctx.names.x(n, c, land.earlier[-1])
        before = ", ".join(ctx.names.x(n, c, i) for i in land.earlier)
        items.append(Text(inputs.left, y + 16, ctx.t("unpool_collision", y=y_name, before=before, kept=kept), size=13,
                          fill="#c92a2a", anchor="start", role="pool-collision"))
        y += 19
    top = y + 4
    y += 44
    done = [other for other in pic.landings[: index + 1] if (other.batch, other.channel) == (n, c)]
    items += _landing_arrow(inputs, outputs, land, top, y, True)
    items += _unpooled_row(ctx, outputs, y, done, land, n, c)
    y += ROW + 10
    width = max(width, inputs.left + inputs.width + MARGIN, outputs.left + outputs.width + MARGIN)
    roles = ("index", "current", "output", "untouched") + (("collision",) if any(x.earlier for x in pic.landings) else ())
    return finish(ctx, items, y, width, title, roles)


def unpool_overview(ctx: PoolContext) -> Figure:
    """Every landing of the first batch item and channel, and the finished output."""
    pic = ctx.picture
    title = ctx.t("unpool_overview", op=pic.title)
    items, y, width = header_of(ctx, title, pic.params_line(), pic.length)
    where, y = _where(ctx, 0, 0, y)
    items += where
    inputs, outputs = _unpool_axes(ctx, None)
    items += _unpool_rows(ctx, inputs, 0, 0, y, None)
    y += 2 * ROW + 4
    top = y
    y += 54
    mine = [land for land in pic.landings if (land.batch, land.channel) == (0, 0)]
    for land in mine:
        items += _landing_arrow(inputs, outputs, land, top, y, False)
    items += _unpooled_row(ctx, outputs, y, mine, None, 0, 0)
    y += ROW + 10
    width = max(width, inputs.left + inputs.width + MARGIN, outputs.left + outputs.width + MARGIN)
    return finish(ctx, items, y, width, title)
