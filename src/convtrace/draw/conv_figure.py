"""Conv1d pictures: the padded input row(s), the window with its kernel and products, the
sum and the output cell filling in (one frame per step); and an overview with every
window as a staircase.

>>> from convtrace import explain
>>> t = explain([1, 1, 1, 1], [1, 1, 1], padding=1, verify=False)
>>> fig = conv_frame(Context.of(t, "en"), 0)
>>> [s.text for s in fig.walk() if getattr(s, "role", "") == "sum"]
['sum = 0 + 1 + 1 = 2']
"""

from __future__ import annotations

from collections.abc import Sequence

from ..trace.model import Source, Step
from .common import Context, finish, header
from .labels import fmt, signed_sum
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
    group_band,
)  # fmt: skip
from .model import Arrow, Figure, Group, Line, Rect, Shape, Text

__all__ = ["conv_frame", "conv_overview", "frame_steps"]

_SIGN = {Source.REFLECT: "↔", Source.REPLICATE: "=", Source.CIRCULAR: "↻"}
ROW = CELL_H + 8.0


def frame_steps(ctx: Context) -> list[Step]:
    """The steps that get a frame: all of them (a trace holds at most ``max_steps``)."""
    return list(ctx.trace.steps)


def _padded_positions(ctx: Context) -> range:
    s = ctx.trace.spec
    return range(s.pad_left + s.length + s.pad_right)


def _source(ctx: Context, p: int) -> tuple[Source, int | None] | None:
    """Where padded position ``p`` comes from (None: not known, the row was cut)."""
    cells = ctx.trace.pad_cells
    if ctx.trace.pad_row_complete and p < len(cells) and cells[p].position == p:
        return cells[p].source, cells[p].input_index
    for c in cells:
        if c.position == p:
            return c.source, c.input_index
    i = p - ctx.trace.spec.pad_left
    return (Source.INPUT, i) if 0 <= i < ctx.trace.spec.length else None


def _span(ctx: Context) -> int:
    s = ctx.trace.spec
    return s.dilation * (s.kernel_size - 1) + 1


def _taps(ctx: Context, t: int) -> list[int]:
    """Padded positions read by the window of output ``t``, and its centre (where the
    output cell sits)."""
    s = ctx.trace.spec
    start = t * s.stride
    centre = start + (_span(ctx) - 1) / 2
    return [start + k * s.dilation for k in range(s.kernel_size)] + [int(centre), int(centre + 0.5)]


def _axis(ctx: Context, windows: Sequence[int]) -> Axis:
    """The padded input's columns: all of them when they fit, else every tap of the windows
    of ``windows`` (output indices) and their centres, with context, and ellipses between."""
    keep: set[int] = set()
    for t in windows:
        keep |= set(_taps(ctx, t))
    keep = fill_gaps(keep)
    lo = min(keep) if keep else 0
    return Axis.build(_padded_positions(ctx), (lo, lo), MAX_COLUMNS, cell=ctx.cell_width, keep=keep)


def _overview_windows(ctx: Context, count: int) -> tuple[list[int], bool]:
    """The outputs whose windows the overview draws in full: the first few (as many as fit
    in two screens of columns) and, when some are left out, the last: (indices, elided)."""
    if count == 0:
        return [], False
    if len(_padded_positions(ctx)) <= MAX_COLUMNS:
        return list(range(min(count, MAX_ROWS))), count > MAX_ROWS
    shown = list(range(min(count, MAX_ROWS)))
    while len(shown) > 1:
        keep: set[int] = set()
        for t in [*shown, count - 1]:
            keep |= set(_taps(ctx, t))
        if len(fill_gaps(keep)) <= 2 * MAX_COLUMNS:
            break
        shown.pop()
    return shown + ([count - 1] if shown[-1] != count - 1 else []), len(shown) < count


def _sample_labels(ctx: Context, axis: Axis, y: float) -> list[Shape]:
    """Above each column: the sample's name, or the padding's source."""
    out: list[Shape] = []
    for p in axis.columns:
        x = axis.x(p) if p is not None else None
        src = _source(ctx, p) if p is not None else None
        if x is None or src is None:
            continue
        source, i = src
        if source is Source.ZERO:
            text, ink = "0", MUTED
        elif source is Source.INPUT:
            text, ink = ctx.names.sample(int(i or 0)), INK
        else:
            text, ink = _SIGN[source] + ctx.names.sample(int(i or 0)), "#d9822b"
        out.append(Text(x + axis.cell / 2, y, text, size=12, fill=ink, role=f"sample-{source.value}"))
    return out


def _input_row(ctx: Context, axis: Axis, y: float, n: int, c: int, taps: set[int]) -> list[Shape]:
    items: list[Shape] = []
    for p in axis.columns:
        x = axis.x(p) if p is not None else None
        src = _source(ctx, p) if p is not None else None
        if x is None or p is None or src is None:
            continue
        source, i = src
        text = "0" if source is Source.ZERO else ctx.x_text(n, c, int(i or 0))
        dash = "" if source is Source.INPUT else "5 3"
        items.append(cell(x, y, text, source.value, highlight=p in taps, dash=dash, width=axis.cell))
    return items + ellipsis_marks(axis, y)


def _row_label(text: str, y: float, ink: str = INK) -> Text:
    return Text(MARGIN + LABEL_W - 14, y + CELL_H / 2 + 5, text, size=14, fill=ink, anchor="end", role="row-label")


def _window(axis: Axis, start: int, span: int, y: float, height: float) -> list[Shape]:
    xs = [x for x in (axis.x(p) for p in range(start, start + span)) if x is not None]
    if not xs:
        return []
    gap = axis.pitch - axis.cell  # the frame runs in the middle of the gaps beside the window
    left, right = min(xs) - gap / 2, max(xs) + axis.cell + gap / 2
    return [Rect(left, y - 4, right - left, height + 8, stroke=ACCENT, stroke_width=2.0, radius=6, role="window")]


def _channel_block(ctx: Context, axis: Axis, step: Step, c: int, y: float) -> tuple[list[Shape], float]:
    """One input channel of a step: x row with the window, kernel row, products row."""
    spec = ctx.trace.spec
    terms = step.terms_by_channel().get(c, ())
    taps = {step.window_start + t.kernel_index * spec.dilation for t in terms}
    xname = f"x[{c + 1}]" if spec.in_channels > 1 else ctx.t("padded_input" if spec.pad_left or spec.pad_right else "input")
    items: list[Shape] = [_row_label(xname, y)]
    items += _input_row(ctx, axis, y, step.batch, c, taps)
    items += _window(axis, step.window_start, _span(ctx), y, 3 * ROW - 8)
    wy, py = y + ROW, y + 2 * ROW
    c_rel = c - step.group * spec.in_per_group
    wname = ctx.t("kernel") if spec.in_channels == 1 and spec.out_channels == 1 else f"w[{step.out_channel + 1}][{c_rel + 1}]"
    items += [_row_label(wname, wy, ACCENT), _row_label(ctx.t("products"), py, "#8a6d00")]
    for k in range(1, spec.kernel_size):  # dilation gaps between taps
        for g in range(1, spec.dilation):
            gx = axis.x(step.window_start + (k - 1) * spec.dilation + g)
            if gx is not None:
                items.append(Rect(gx + 6, wy + CELL_H / 2 - 1, axis.cell - 12, 2, fill="#e9a5bd", role="dilation-gap"))
    for t in terms:
        x = axis.x(step.window_start + t.kernel_index * spec.dilation)
        if x is None:
            continue
        items.append(cell(x, wy, fmt(t.w), "kernel", width=axis.cell))
        items.append(cell(x, py, fmt(t.product), "product", width=axis.cell))
    return items, y + 3 * ROW + 6


def _sum_text(ctx: Context, step: Step) -> list[str]:
    products = [fmt(t.product) for t in step.terms]
    if len(products) <= 12:
        lines = [ctx.t("sum", terms=signed_sum(products), total=fmt(step.total))]
    else:
        lines = [ctx.t("sum_many", n=len(products), total=fmt(step.total))]
    if step.bias is not None:
        lines.append(ctx.t("sum_bias", total=fmt(step.total), b=fmt(step.bias), value=fmt(step.value)))
    return lines


def _out_x(ctx: Context, axis: Axis, t: int) -> float | None:
    s = ctx.trace.spec
    return axis.x(t * s.stride + (_span(ctx) - 1) / 2)


def _bands(ctx: Context, rows: Sequence[tuple[int, float, float]], right: float) -> list[Shape]:
    """Group bands behind rows given as (group, top, bottom), one per run of a group (none
    when there is one group)."""
    if ctx.trace.spec.groups == 1 or not rows:
        return []
    out: list[Shape] = []
    run = [rows[0]]
    for row in [*rows[1:], (-1, 0.0, 0.0)]:
        if row[0] == run[0][0]:
            run.append(row)
            continue
        g = run[0][0]
        out += group_band(g, run[0][1] - 3, run[-1][2] + 3, right, ctx.t("group", g=g + 1))
        run = [row]
    return out


def _output_rows(ctx: Context, axis: Axis, y: float, n: int, channels: Sequence[int],
                 done: _Done, current: Step | None) -> tuple[list[Shape], float]:
    spec = ctx.trace.spec
    items: list[Shape] = []
    rows: list[tuple[int, float, float]] = []
    for o in channels:
        name = ctx.t("output") if spec.out_channels == 1 else f"y[{o + 1}]"
        items.append(_row_label(name, y, "#2b8a3e"))
        for t in axis.indices(spec.stride, (_span(ctx) - 1) / 2, spec.out_length):
            x = _out_x(ctx, axis, t)
            if x is None:
                continue
            is_current = current is not None and (current.out_channel, current.out_index) == (o, t)
            if is_current or (o, t) in done:
                value = ctx.y_value(n, o, t)
                text = "" if value is None else fmt(value)
                items.append(cell(x, y, text, "current" if is_current else "output", highlight=is_current, width=axis.cell))
                if not is_current and not ctx.names.multi:  # indexed names would crowd the row
                    items.append(Text(x + axis.cell / 2, y + CELL_H + 13, ctx.names.y(n, o, t), size=11, fill=MUTED, role="y-name"))
            else:
                items.append(cell(x, y, "", "empty", dash="4 3", width=axis.cell))
        items += ellipsis_marks(axis, y)
        rows.append((o // spec.out_per_group, y, y + CELL_H))
        y += ROW + 10
    return _bands(ctx, rows, axis.left + axis.width) + items, y


def _out_channels(ctx: Context, focus: int) -> list[int]:
    count = ctx.trace.spec.out_channels
    if count <= MAX_CHANNELS:
        return list(range(count))
    lo = max(0, min(focus - MAX_CHANNELS // 2, count - MAX_CHANNELS))
    return list(range(lo, lo + MAX_CHANNELS))


class _Done:
    """Whether output ``(channel, position)`` is already computed before step ``index``:
    outputs without a step (summaries) always are; explained ones once their step is past."""

    def __init__(self, ctx: Context, index: int | None) -> None:
        steps = ctx.trace.steps
        batch = steps[index].batch if index is not None and steps else 0
        self.all = index is None
        self.explained = {(s.out_channel, s.out_index) for s in steps if s.batch == batch}
        self.before = {(s.out_channel, s.out_index) for s in steps[: index or 0] if s.batch == batch}

    def __contains__(self, key: tuple[int, int]) -> bool:
        return self.all or key not in self.explained or key in self.before


def _done(ctx: Context, index: int | None) -> _Done:
    return _Done(ctx, index)


def _frame_roles(ctx: Context) -> tuple[str, ...]:
    """Cell styles some frame of the animation draws (the legend of every frame names them,
    so that it does not change from frame to frame)."""
    spec = ctx.trace.spec
    many = spec.out_length * spec.out_channels > 1
    return ("window", "kernel", "product", "current") + (("output", "empty") if many else ())


def _group_channels(ctx: Context, step: Step) -> tuple[list[int], list[int]]:
    """(drawn, summarised) input channels of a step's group."""
    chans = list(step.in_channels)
    if len(chans) <= MAX_CHANNELS:
        return chans, []
    return chans[: MAX_CHANNELS - 1], chans[MAX_CHANNELS - 1:]


def _group_note(ctx: Context, group: int) -> str:
    """``group 1: x[1]–x[2] → y[1]–y[2]``: which input channels feed which outputs."""
    spec = ctx.trace.spec
    ci, co = spec.in_per_group, spec.out_per_group
    xs = f"x[{group * ci + 1}]" + (f"–x[{group * ci + ci}]" if ci > 1 else "")
    ys = f"y[{group * co + 1}]" + (f"–y[{group * co + co}]" if co > 1 else "")
    return ctx.t("group_feeds", g=group + 1, x=xs, y=ys)


def conv_frame(ctx: Context, index: int) -> Figure:
    """The picture of step ``index`` of a Conv1d trace."""
    step = ctx.trace.steps[index]
    spec = ctx.trace.spec
    title = ctx.t("step_title", op=ctx.op, n=index + 1, total=len(ctx.trace.steps), y=ctx.names.y(step.batch, step.out_channel, step.out_index))
    items, y, width = header(ctx, title)
    axis = _axis(ctx, [step.out_index])
    if spec.batch > 1:
        items.append(Text(MARGIN, y + 6, ctx.t("batch", n=step.batch + 1), size=14, fill=INK, anchor="start",
                          weight="bold", role="batch"))
        y += 24
    if spec.groups > 1:
        items.append(Text(MARGIN, y + 6, _group_note(ctx, step.group), size=14, fill=INK, anchor="start",
                          weight="bold", role="group-note"))
        y += 24
    items += _sample_labels(ctx, axis, y + 4)
    y += 14
    drawn, rest = _group_channels(ctx, step)
    top = y
    blocks: list[Shape] = []
    for c in drawn:
        block, y = _channel_block(ctx, axis, step, c, y)
        blocks.append(Group(tuple(block), label=f"channel {c}", role="channel"))
    items += _bands(ctx, [(step.group, top, y - 10)], axis.left + axis.width) + blocks
    if rest:
        part = [t.product for t in step.terms if t.in_channel in rest]
        total = sum(part[1:], part[0]) if part else 0
        items.append(Text(axis.left, y + 12, ctx.t("channels_summary", first=rest[0] + 1, last=rest[-1] + 1, n=len(part), total=fmt(total)), size=13, fill=MUTED, anchor="start", role="channels-summary"))
        y += 22
    lines = _sum_text(ctx, step)
    for i, line in enumerate(lines):
        items.append(Text(axis.left, y + 16 + 20 * i, line, size=16, fill=INK, anchor="start", weight="bold", role="sum" if i == 0 else "bias"))
    sum_y = y + 22 + 20 * (len(lines) - 1)
    y = sum_y + 30
    ox = _out_x(ctx, axis, step.out_index)
    if ox is not None:
        items.append(Arrow(axis.left + 40, sum_y + 2, ox + axis.cell / 2, y - 3, stroke=ACCENT, role="to-output"))
    rows, y = _output_rows(ctx, axis, y, step.batch, _out_channels(ctx, step.out_channel), _done(ctx, index), step)
    items += rows
    width = max(width, axis.left + axis.width + MARGIN)
    return finish(ctx, items, y, width, title, _frame_roles(ctx))


def _stair_row(ctx: Context, axis: Axis, step: Step, y: float) -> list[Shape]:
    """One window of the overview: the kernel under the cells it reads (its values when the
    window reads one input channel, else the window's cells), then ``y = v``."""
    spec = ctx.trace.spec
    first = min(step.in_channels) if step.in_channels else 0
    terms = step.terms_by_channel().get(first, ())
    one = spec.in_per_group == 1
    items: list[Shape] = []
    xs: list[float] = []
    for t in terms:
        x = axis.x(step.window_start + t.kernel_index * spec.dilation)
        if x is None:
            continue
        xs.append(x)
        items.append(cell(x, y, fmt(t.w) if one else "", "kernel" if one else "window", size=14, width=axis.cell))
    if xs:
        left, right = min(xs), max(xs) + axis.cell
        if one:  # the bar joins the kernel's cells (window cells are see-through)
            items.insert(0, Line(left, y + CELL_H / 2, right, y + CELL_H / 2, stroke="#e9a5bd", stroke_width=3, role="window-bar"))
        name = ctx.names.y(step.batch, step.out_channel, step.out_index)
        items.append(Text(right + 10, y + CELL_H / 2 + 5, ctx.t("window_label", y=name, value=fmt(step.value)), size=14, fill="#2b8a3e", anchor="start", weight="bold", role="window-label"))
    return items


def _kernel_panel(ctx: Context, axis: Axis, y: float, channels: Sequence[int]) -> tuple[list[Shape], float]:
    """Every kernel drawn: one row per output channel, its taps for each input channel of
    its group (named above), so the figure shows which input channels feed which output."""
    spec = ctx.trace.spec
    k, per = spec.kernel_size, spec.in_per_group
    items: list[Shape] = [Text(MARGIN, y + 14, ctx.t("kernels_title"), size=14, fill=INK, anchor="start", weight="bold",
                               role="kernels-title")]
    y += 26
    fit = max(1, int((max(axis.width, 900.0) + 12) // (k * axis.pitch + 12)))  # input channels drawn per row
    rows: list[tuple[int, float, float]] = []
    for o in channels:
        g = o // spec.out_per_group
        items.append(_row_label(f"w[{o + 1}]", y + 14, ACCENT))
        x = axis.left
        for j in range(min(per, fit)):
            items.append(Text(x, y + 10, f"x[{g * per + j + 1}]", size=11, fill=MUTED, anchor="start", role="kernel-source"))
            for tap in range(k):
                items.append(cell(x + tap * axis.pitch, y + 14, ctx.weight_text(o, j, tap), "kernel", size=14, width=axis.cell))
            x += k * axis.pitch + 12
        if per > fit:
            items.append(Text(x + 4, y + 14 + CELL_H / 2 + 5, ctx.t("more_channels", n=per - fit), size=12, fill=MUTED,
                              anchor="start", role="kernel-more"))
        rows.append((g, y, y + 14 + CELL_H))
        y += CELL_H + 22
    right = axis.left + min(per, fit) * (k * axis.pitch + 12)
    return _bands(ctx, rows, max(right, axis.left + axis.width)) + items, y + 6


def conv_overview(ctx: Context) -> Figure:
    """The input rows, every kernel (with several channels), the first windows (and the last)
    of the first output channel as a staircase, and the whole output, group by group."""
    title = ctx.t("overview_conv", op=ctx.op)
    items, y, width = header(ctx, title)
    spec = ctx.trace.spec
    steps = ctx.trace.steps
    first = [s for s in steps if (s.batch, s.out_channel) == (steps[0].batch, steps[0].out_channel)] if steps else []
    by_t = {s.out_index: s for s in first}
    windows, _ = _overview_windows(ctx, spec.out_length)
    windows = [t for t in windows if t in by_t] or sorted(by_t)[:1]
    axis = _axis(ctx, windows)
    items += _sample_labels(ctx, axis, y + 4)
    y += 14
    chans = list(range(min(spec.in_channels, MAX_CHANNELS)))
    rows: list[tuple[int, float, float]] = []
    body: list[Shape] = []
    for c in chans:
        name = f"x[{c + 1}]" if spec.in_channels > 1 else ctx.t("padded_input" if spec.pad_left or spec.pad_right else "input")
        body += [_row_label(name, y), *_input_row(ctx, axis, y, 0, c, set())]
        rows.append((c // spec.in_per_group, y, y + CELL_H))
        y += ROW
    items += _bands(ctx, rows, axis.left + axis.width) + body
    if spec.in_channels > len(chans):
        items.append(Text(axis.left, y + 10, ctx.t("more_channels", n=spec.in_channels - len(chans)), size=13, fill=MUTED, anchor="start"))
        y += 20
    outs = _out_channels(ctx, 0)
    if spec.in_channels > 1 or spec.out_channels > 1:
        panel, y = _kernel_panel(ctx, axis, y + 6, outs)
        items += panel
    if steps and spec.out_channels > 1:
        name = f"y[{steps[0].out_channel + 1}]"
        items.append(Text(MARGIN, y + 16, ctx.t("windows_of", y=name), size=14, fill=INK, anchor="start", weight="bold",
                          role="windows-title"))
        y += 24
    shown = [by_t[t] for t in windows if t in by_t]
    hidden = len(steps) - len(shown) if spec.out_channels == 1 and spec.batch == 1 else len(first) - len(shown)
    y += 6
    for i, step in enumerate(shown):
        if hidden and i == len(shown) - 1 and len(shown) > 1 and step.out_index != shown[-2].out_index + 1:
            items.append(Text(axis.left, y + 12, ctx.t("more_steps", n=hidden), size=13, fill=MUTED, anchor="start", role="steps-note"))
            y += 22
            hidden = 0
        items += _stair_row(ctx, axis, step, y)
        y += ROW - 4
    if hidden:
        items.append(Text(axis.left, y + 12, ctx.t("more_steps", n=hidden), size=13, fill=MUTED, anchor="start", role="steps-note"))
        y += 22
    y += 14
    rows_out, y = _output_rows(ctx, axis, y, 0, outs, _done(ctx, None), None)
    items += rows_out
    width = max(width, axis.left + axis.width + MARGIN)
    return finish(ctx, items, y, width, title)
