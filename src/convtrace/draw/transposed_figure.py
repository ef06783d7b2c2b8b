"""ConvTranspose1d pictures: the scatter view animated (each input sample stamping the
scaled kernel into the output, overlaps accumulating, cropped edges and ``output_padding``
marked), the overlap-count bar, and in the overview the zero-insertion view and the matrix
as a heat map.

>>> from convtrace import explain
>>> t = explain([1, 1, 1, 1], [1, 1, 1], stride=2, padding=1, output_padding=1, transposed=True, verify=False)
>>> fig = scatter_frame(Context.of(t, "en"), 3)
>>> [s.text for s in fig.walk() if getattr(s, "role", "") == "overlap-count"]
['1', '2', '1', '2', '1', '2', '1', '1']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..trace.model import Placement, ScatterTap, ScatterView, Trace
from .common import Context, finish, header
from .labels import fmt
from .layout import (
    ACCENT,
    CELL_H,
    INK,
    LABEL_W,
    MARGIN,
    MAX_CHANNELS,
    MAX_COLUMNS,
    MAX_ROWS,
    MUTED,
    Axis,
    cell,
    ellipsis_marks,
    fill_gaps,
    text_width,
)  # fmt: skip
from .model import Figure, Group, Line, Rect, Shape, Text

__all__ = ["placements", "scatter_frame", "transposed_overview"]

ROW = CELL_H + 8.0
HEAT = 24.0  # matrix cell size
MAX_HEAT = (24, 40)  # most matrix rows, columns drawn


def placements(trace: Trace) -> tuple[Placement, ...]:
    """The scatter placements that get a frame (none when the views were not built)."""
    return () if trace.views is None else trace.views.scatter.placements


@dataclass(frozen=True)
class _Stamp:
    """One row of the scatter: a placement's taps into one output channel."""

    placement: Placement
    out_channel: int
    taps: tuple[ScatterTap, ...]


def _stamps(ctx: Context, items: Sequence[Placement]) -> list[_Stamp]:
    out = []
    for p in items:
        by: dict[int, list[ScatterTap]] = {}
        for tap in p.taps:
            by.setdefault(tap.out_channel, []).append(tap)
        out += [_Stamp(p, o, tuple(ts)) for o, ts in sorted(by.items())]
    return out


def _axis(ctx: Context, focus: tuple[int, int], stamps: Sequence[_Stamp] = ()) -> Axis:
    """The output positions (cropped ones included): all when they fit, else every tap of
    ``stamps`` and a run around ``focus``, with ellipses between."""
    s = ctx.trace.spec
    p = s.padding_int
    full = (s.length - 1) * s.stride + s.dilation * (s.kernel_size - 1) + 1
    keep = fill_gaps({tap.out_index for st in stamps for tap in st.taps})
    return Axis.build(range(-p, max(full - p, s.out_length)), focus, MAX_COLUMNS, cell=ctx.cell_width, keep=keep)


def _fitting(stamps: Sequence[_Stamp], newest: bool) -> list[_Stamp]:
    """The stamp rows to draw whole: at most :data:`MAX_ROWS`, the newest (or the first), and
    no more than two screens of columns hold."""
    shown = list(stamps[-MAX_ROWS:] if newest else stamps[:MAX_ROWS])
    while len(shown) > 1 and len(fill_gaps({t.out_index for st in shown for t in st.taps})) > 2 * MAX_COLUMNS:
        shown = shown[1:] if newest else shown[:-1]
    return shown


def _row_label(text: str, y: float, ink: str = INK) -> Text:
    return Text(MARGIN + LABEL_W - 14, y + CELL_H / 2 + 5, text, size=14, fill=ink, anchor="end", role="row-label")


def _input_rows(ctx: Context, axis: Axis, y: float, current: Placement | None, batch: int) -> tuple[list[Shape], float]:
    """Each input sample centred over the stamp it makes."""
    s = ctx.trace.spec
    half = s.dilation * (s.kernel_size - 1) / 2
    items: list[Shape] = []
    for c in range(min(s.in_channels, MAX_CHANNELS)):
        items.append(_row_label(ctx.t("input") if s.in_channels == 1 else f"x[{c + 1}]", y))
        for i in axis.indices(s.stride, half - s.padding_int, s.length):
            x = axis.x(i * s.stride - s.padding_int + half)
            if x is None:
                continue
            hot = current is not None and (current.in_channel, current.input_index) == (c, i)
            items.append(cell(x, y, ctx.x_text(batch, c, i), "input", highlight=hot, width=axis.cell))
            items.append(Text(x + axis.cell / 2, y - 4, ctx.names.x(batch, c, i), size=11, fill=MUTED, role="x-name"))
        items += ellipsis_marks(axis, y)
        y += ROW + 8
    return items, y


def _stamp_row(ctx: Context, axis: Axis, stamp: _Stamp, y: float, current: bool) -> list[Shape]:
    p = stamp.placement
    name = ctx.names.x(p.batch, p.in_channel, p.input_index) + "·w"
    if ctx.trace.spec.out_channels > 1:
        name += f" → y[{stamp.out_channel + 1}]"
    items: list[Shape] = [_row_label(name, y, ACCENT if current else MUTED)]
    for tap in stamp.taps:
        x = axis.x(tap.out_index)
        if x is None:
            continue
        role = "cropped" if tap.cropped else "product"
        items.append(cell(x, y, fmt(tap.product), role, highlight=current and not tap.cropped,
                          dash="4 3" if tap.cropped else "", opacity=1.0 if current else 0.5, width=axis.cell))
    return items


def _partial(ctx: Context, done: Sequence[Placement], batch: int) -> dict[tuple[int, int], Any]:
    sums: dict[tuple[int, int], Any] = {}
    for p in done:
        if p.batch != batch:
            continue
        for tap in p.taps:
            if not tap.cropped:
                key = (tap.out_channel, tap.out_index)
                sums[key] = sums[key] + tap.product if key in sums else tap.product
    return sums


def _crossed(axis: Axis, x: float, y: float) -> Group:
    """A cropped output cell: empty and struck through."""
    box = cell(x, y, "", "cropped", dash="4 3", width=axis.cell)
    cross = Line(x + 8, y + CELL_H - 8, x + axis.cell - 8, y + 8, stroke="#adb5bd", stroke_width=1.5, role="crop-mark")
    return Group((box, cross), label="cropped", role="cropped")


def _output_rows(ctx: Context, axis: Axis, y: float, done: Sequence[Placement], current: Placement | None,
                 batch: int, final: bool) -> tuple[list[Shape], float]:
    s = ctx.trace.spec
    sums = _partial(ctx, done, batch)
    hot = {(t.out_channel, t.out_index) for t in current.taps} if current is not None else set()
    full = (s.length - 1) * s.stride + s.dilation * (s.kernel_size - 1) + 1
    items: list[Shape] = []
    for o in range(min(s.out_channels, MAX_CHANNELS)):
        name = ctx.t("output" if final else "partial_output") if s.out_channels == 1 else f"y[{o + 1}]"
        items.append(_row_label(name, y, "#2b8a3e"))
        for j in (c for c in axis.columns if c is not None):
            x = axis.x(j)
            assert x is not None
            if not 0 <= j < s.out_length:
                items.append(_crossed(axis, x, y))
            elif j >= full - s.padding_int and not final:  # no tap ever lands here: output_padding's zero
                items.append(cell(x, y, "0", "output_padding", dash="4 3", width=axis.cell))
            elif final:
                value = ctx.y_value(batch, o, j)
                items.append(cell(x, y, "" if value is None else fmt(value), "output", width=axis.cell))
            elif (o, j) in sums:
                items.append(cell(x, y, fmt(sums[(o, j)]), "current" if (o, j) in hot else "output", highlight=(o, j) in hot, width=axis.cell))
            else:
                items.append(cell(x, y, "", "empty", dash="4 3", width=axis.cell))
        items += ellipsis_marks(axis, y)
        y += ROW
    return items, y


def _edge_notes(ctx: Context, axis: Axis, y: float) -> tuple[list[Shape], float]:
    """Labels under the output row: the cropped cells and the output_padding cells."""
    s = ctx.trace.spec
    items: list[Shape] = []
    for j in (c for c in axis.columns if c is not None):
        x = axis.x(j)
        assert x is not None
        if not 0 <= j < s.out_length:
            if j in (-1, s.out_length):  # one word per cropped edge, next to the output
                anchor = "end" if j < 0 else "start"
                items.append(Text(x + (axis.cell if j < 0 else 0), y + 6, ctx.t("cropped"), size=11, fill=MUTED,
                                  anchor=anchor, role="crop-label"))
        elif j >= s.out_length - s.output_padding:
            items.append(Rect(x - 3, y - ROW - 3, axis.cell + 6, CELL_H + 6, stroke="#7048e8", stroke_width=2, dash="4 3",
                              radius=6, role="output-padding-mark"))
            items.append(Text(x + axis.cell / 2, y + 6, "op", size=11, fill="#7048e8", role="output-padding-label"))
    return items, y + 14 if items else y


def _overlap_bar(ctx: Context, axis: Axis, view: ScatterView, y: float) -> tuple[list[Shape], float]:
    s = ctx.trace.spec
    top = max(view.overlap) if view.overlap else 1
    items: list[Shape] = [_row_label(ctx.t("overlap"), y, MUTED)]
    base = y + 40
    for j in axis.indices(1, 0, len(view.overlap)):
        count = view.overlap[j]
        x = axis.x(j)
        if x is None:
            continue
        h = 36 * count / max(top, 1)
        shade = "#5c7cfa" if count == top else "#bac8ff"
        items.append(Rect(x + 4, base - h, axis.cell - 8, h, fill=shade, role="overlap-bar"))
        items.append(Text(x + axis.cell / 2, base + 14, str(count), size=12, fill=INK, role="overlap-count"))
    note = ctx.t("overlap_uneven", s=s.stride, k=s.kernel_size) if view.uneven else ctx.t("overlap_even")
    items.append(Text(axis.left, base + 34, note, size=13, fill=ACCENT if view.uneven else MUTED, anchor="start", role="overlap-note"))
    return items, base + 46


def _frame_roles(ctx: Context) -> tuple[str, ...]:
    """Cell styles some frame of the scatter animation draws (every frame's legend names
    them, so that it does not change from frame to frame)."""
    s = ctx.trace.spec
    roles = ("input", "product", "current", "output", "empty")
    return roles + (("cropped",) if s.padding_int else ()) + (("output_padding",) if s.output_padding else ())


def _stamp_block(ctx: Context, axis: Axis, shown: list[_Stamp], hidden: int, reserve: int,
                 current: Placement | None, y: float, newest: bool) -> tuple[list[Shape], float]:
    """The stacked stamp rows ``shown`` (the newest, or the first for the overview), in
    ``reserve`` slots, after a note on the ``hidden`` ones."""
    items: list[Shape] = []
    if hidden > 0:
        key = "more_rows" if newest else "more_steps"
        items.append(Text(axis.left, y + 10, ctx.t(key, n=hidden), size=12, fill=MUTED, anchor="start", role="rows-note"))
    y += 16
    for st in shown:
        items += _stamp_row(ctx, axis, st, y, current is not None and st.placement == current)
        y += ROW
    # every row has a slot, so all frames share one height
    y += ROW * (reserve - len(shown))
    return items, y


def scatter_frame(ctx: Context, index: int) -> Figure:
    """Frame ``index`` of the scatter animation: placements 0..index stamped so far."""
    trace = ctx.trace
    assert trace.views is not None
    allp = placements(trace)
    current = allp[index]
    same = [p for p in allp if p.batch == current.batch]
    done = [p for p in allp[: index + 1] if p.batch == current.batch]
    x = ctx.names.x(current.batch, current.in_channel, current.input_index)
    title = ctx.t("scatter_title", op=ctx.op, n=index + 1, total=min(len(allp), 64), x=x)
    items, y, width = header(ctx, title)
    focus = (current.offset, current.offset + trace.spec.dilation * (trace.spec.kernel_size - 1))
    made = _stamps(ctx, done)
    shown = _fitting(made, newest=True)
    axis = _axis(ctx, focus, shown)
    rows, y = _input_rows(ctx, axis, y + 8, current, current.batch)
    items += rows
    reserve = min(len(_stamps(ctx, same)), MAX_ROWS)
    block, y = _stamp_block(ctx, axis, shown, len(made) - len(shown), reserve, current, y, newest=True)
    items += block
    out, y = _output_rows(ctx, axis, y + 6, done, current, current.batch, final=False)
    notes, y = _edge_notes(ctx, axis, y)
    bar, y = _overlap_bar(ctx, axis, trace.views.scatter, y + 6)
    items += out + notes + bar
    width = max(width, axis.left + axis.width + MARGIN, axis.left + text_width(ctx.t("overlap_uneven", s=9, k=9), 13) + MARGIN)
    return finish(ctx, items, y, width, title, _frame_roles(ctx))


def _zero_insertion(ctx: Context, y: float) -> tuple[list[Shape], float, float]:
    trace = ctx.trace
    assert trace.views is not None
    zi = trace.views.zero_insertion
    s = trace.spec
    items: list[Shape] = [Text(MARGIN, y + 14, ctx.t("zero_insertion", z=zi.inserted), size=15, fill=INK, anchor="start", weight="bold", role="zero-insertion-title")]
    y += 26
    row = zi.upsampled[0, 0]
    real = {zi.pad_each_side + i * s.stride for i in range(s.length)}
    axis = Axis.build(range(len(row)), (0, 0), MAX_COLUMNS, cell=ctx.cell_width)
    items.append(_row_label("x↑", y))
    for q in (c for c in axis.columns if c is not None):
        x = axis.x(q)
        assert x is not None
        is_real = q in real
        items.append(cell(x, y, fmt(row[q]) if is_real else "0", "input" if is_real else "zero", dash="" if is_real else "4 3", width=axis.cell))
    items += ellipsis_marks(axis, y)
    y += ROW
    kernel = zi.weight[0, 0]
    items.append(_row_label("flip(w)", y, ACCENT))
    for k, v in enumerate(kernel[: MAX_COLUMNS]):
        items.append(cell(axis.left + k * axis.pitch, y, fmt(v), "kernel", width=axis.cell))
    y += ROW + 4
    call = zi.torch_call.split(" #")[0]
    items.append(Text(axis.left, y + 10, call, size=12, fill=MUTED, anchor="start", mono=True, role="torch-call"))
    width = axis.left + max(axis.width, text_width(call, 12) * 1.05) + MARGIN
    return [Group(tuple(items), label="zero insertion", role="zero-insertion")], y + 22, width


def _heat_colour(v: float, top: float) -> str:
    if top == 0 or v == 0:
        return "#ffffff"
    a = min(1.0, abs(v) / top)
    base = (59, 111, 182) if v > 0 else (194, 37, 92)
    r, g, b = (round(255 + (c - 255) * (0.15 + 0.85 * a)) for c in base)
    return f"#{r:02x}{g:02x}{b:02x}"


def _matrix(ctx: Context, y: float) -> tuple[list[Shape], float, float]:
    views = ctx.trace.views
    assert views is not None
    mv = views.matrix
    if mv.matrix is None:
        text = ctx.t("matrix_missing", reason=mv.reason)
        return [Text(MARGIN, y + 14, text, size=14, fill=MUTED, anchor="start", role="matrix-title")], y + 26, MARGIN + text_width(text, 14)
    title = ctx.t("matrix", r=mv.rows, c=mv.cols)
    items: list[Shape] = [Text(MARGIN, y + 14, title, size=15, fill=INK, anchor="start", weight="bold", role="matrix-title")]
    y += 30
    m = np.real(np.asarray(mv.matrix, dtype=complex)) if np.iscomplexobj(mv.matrix) else np.asarray(mv.matrix, dtype=float)
    rows, cols = min(m.shape[0], MAX_HEAT[0]), min(m.shape[1], MAX_HEAT[1])
    top = float(np.max(np.abs(m))) if m.size else 0.0
    left = MARGIN + LABEL_W
    items.append(Text(left - 14, y + rows * HEAT / 2 + 5, "C", size=18, fill=INK, anchor="end", weight="bold", italic=True))
    for r in range(rows):
        for c in range(cols):
            v = float(m[r, c])
            items.append(Rect(left + c * HEAT, y + r * HEAT, HEAT, HEAT, fill=_heat_colour(v, top), stroke="#dee2e6", stroke_width=0.75, role="heat"))
            if v != 0:
                text = fmt(v)
                ink = "#ffffff" if top and abs(v) / top > 0.6 else INK
                items.append(Text(left + c * HEAT + HEAT / 2, y + r * HEAT + HEAT / 2 + 4, text, size=min(11.0, 1.6 * HEAT / max(len(text), 1)), fill=ink, role="heat-value"))
    if (rows, cols) != m.shape:
        items.append(Text(left, y + rows * HEAT + 16, f"({rows}×{cols} of {m.shape[0]}×{m.shape[1]})", size=12, fill=MUTED, anchor="start"))
    width = max(left + cols * HEAT, MARGIN + text_width(title, 15)) + MARGIN
    return [Group(tuple(items), label="matrix", role="matrix")], y + rows * HEAT + 26, width


def _gradient(ctx: Context, y: float) -> tuple[list[Shape], float, float]:
    """View 4: the ``convtrace.grad.conv1d_input`` call that gives the same output."""
    views = ctx.trace.views
    assert views is not None
    title = ctx.t("gradient")
    call = views.gradient.call
    items: list[Shape] = [
        Text(MARGIN, y + 14, title, size=15, fill=INK, anchor="start", weight="bold", role="gradient-title"),
        Text(MARGIN + LABEL_W, y + 38, call, size=12, fill=MUTED, anchor="start", mono=True, role="gradient-call"),
    ]
    if views.gradient.equal:
        items.append(Text(MARGIN + LABEL_W, y + 58, ctx.t("equal"), size=13, fill="#2b8a3e", anchor="start",
                          role="gradient-equal"))
    width = MARGIN + max(text_width(title, 15), LABEL_W + text_width(call, 12) * 1.05) + MARGIN
    return [Group(tuple(items), label="gradient", role="gradient")], y + 66, width


def transposed_overview(ctx: Context) -> Figure:
    """The finished scatter, the output, the overlap bar, zero insertion and the matrix."""
    trace = ctx.trace
    title = ctx.t("overview_transposed", op=ctx.op)
    items, y, width = header(ctx, title)
    if trace.views is None:
        items.append(Text(MARGIN, y + 14, ctx.t("no_steps"), size=14, fill=MUTED, anchor="start"))
        return Figure(round(width), round(y + 40), tuple(items), title)
    allp = [p for p in placements(trace) if p.batch == 0]
    stamps = _stamps(ctx, allp)
    shown = _fitting(stamps, newest=False)
    axis = _axis(ctx, (-trace.spec.padding_int, 0), shown)
    items.append(Text(MARGIN, y + 12, ctx.t("scatter"), size=15, fill=INK, anchor="start", weight="bold", role="scatter-title"))
    rows, y = _input_rows(ctx, axis, y + 34, None, 0)
    items += rows
    block, y = _stamp_block(ctx, axis, shown, len(stamps) - len(shown), len(shown), None, y, newest=False)
    items += block
    out, y = _output_rows(ctx, axis, y + 6, allp, None, 0, final=True)
    notes, y = _edge_notes(ctx, axis, y)
    bar, y = _overlap_bar(ctx, axis, trace.views.scatter, y + 6)
    items += out + notes + bar
    zi, y, zw = _zero_insertion(ctx, y + 10)
    mx, y, mw = _matrix(ctx, y + 10)
    gr, y, gw = _gradient(ctx, y + 4)
    items += zi + mx + gr
    width = max(width, axis.left + axis.width + MARGIN, zw, mw, gw)
    return finish(ctx, items, y, width, title)
