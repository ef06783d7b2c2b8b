"""The chunk loop drawn (issue 19, item 4): one frame per push, then the flush, from the
streamer's own state and outputs (:func:`convtrace.stream.learner.stream_chunks`).

Conv1d: the padded row with each cell marked — in the window's cache before the push, made
now from the padding's cache, new, no longer needed, not arrived — the cache before the push
framed above the row and the cache kept for the next push framed below it, a bracket per
window emitted, and the outputs: final earlier, final now, still waiting.
ConvTranspose1d: the input, the carried tail before the push (partial sums, no bias), the
taps of the new samples, the outputs that leave now (with the bias, once) and the tail
carried to the next push.

>>> from convtrace import explain
>>> t = explain([1, 1, 1, 1], [1, 1, 1], padding=1, stream_chunk=2, verify=False)
>>> frames = stream_frames(t, "en")
>>> [f.title for f in frames]
['Conv1d streamed — push 1 of 2 (stream_chunk=2)', 'Conv1d streamed — push 2 of 2 (stream_chunk=2)', 'Conv1d streamed — flush()']
>>> sorted({s.role for s in frames[1].walk() if s.role in ("cache", "new", "dropped", "pending")})
['cache', 'dropped', 'new', 'pending']
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..engine.padding import apply_pad
from ..render.numfmt import fmt
from ..render.stream_chunk_text import cell_marks, stream_note_text
from ..render.textwidth import display_wrap
from ..trace.model import Source, StreamChunk, StreamOrigin, Trace
from .common import header_of
from .layout import (
    CELL_H,
    INK,
    MARGIN,
    MUTED,
    Axis,
    cell,
    cell_width,
    extent,
    legend,
    text_width,
)
from .model import Figure, Line, Rect, Shape, Text

__all__ = ["stream_frames", "stream_frame_count", "STREAM_LABELS", "MAX_PUSH_FRAMES"]

#: most pushes drawn (then the flush)
MAX_PUSH_FRAMES = 40

#: key -> (English, Chinese): the words of the streaming figure (this feature's own table)
STREAM_LABELS: dict[str, tuple[str, str]] = {
    "title_push": ("{op} streamed — push {n} of {total} (stream_chunk={chunk})", "{op} 流式运行 — 第 {n} 次 push（共 {total} 次，stream_chunk={chunk}）"),
    "title_flush": ("{op} streamed — flush()", "{op} 流式运行 — flush()"),
    "input": ("input x", "输入 x"),
    "padded": ("padded row", "填充后的行"),
    "windows": ("windows now", "本次的窗口"),
    "output": ("output y", "输出 y"),
    "cache_before": ("cache before the push (state)", "push 之前的缓存（状态）"),
    "cache_after": ("kept for the next push", "留给下一次 push"),
    "cache_at_flush": ("cache at flush() (state)", "flush() 时的缓存（状态）"),
    "tail_before": ("tail carried in (no bias)", "携带进来的尾部（不含偏置）"),
    "adds": ("new taps", "新的贡献"),
    "tail_after": ("tail carried on (no bias)", "继续携带的尾部（不含偏置）"),
    "output_bias": ("output y (+ bias, once)", "输出 y（+ 偏置，仅一次）"),
    "caption_push": ("new: {new}   ·   final now: {outs}", "新到：{new}   ·   现已确定：{outs}"),
    "caption_flush": ("the end is known: {outs}", "结束已知：{outs}"),
    "none": ("none", "无"),
    "legend_cache": ("from the cache (state)", "来自缓存（状态）"),
    "legend_pad_cache": ("from the padding's cache", "来自填充的缓存"),
    "legend_new": ("new in this push", "本次新到"),
    "legend_dropped": ("no longer needed", "不再需要"),
    "legend_pending": ("not arrived / not final yet", "尚未到达 / 尚未确定"),
    "legend_output": ("final earlier", "早先已确定"),
    "legend_current": ("final now", "现已确定"),
    "legend_cropped": ("cropped (padding)", "被裁掉（padding）"),
    "legend_tail": ("carried tail (partial sum, no bias)", "携带的尾部（部分和，不含偏置）"),
}

_ROW = CELL_H + 26.0
_ORDER = ("cache", "pad_cache", "new", "dropped", "pending", "tail", "output", "current", "cropped")


def _w(lang: str, key: str, **values: Any) -> str:
    return STREAM_LABELS[key][0 if lang == "en" else 1].format(**values)


def stream_frame_count(trace: Trace) -> int:
    """Frames of the chunk loop: every push (at most :data:`MAX_PUSH_FRAMES`), then the flush."""
    assert trace.stream is not None
    return min(trace.stream.pushes, MAX_PUSH_FRAMES) + 1


@dataclass(frozen=True)
class _Loop:
    """The pushes explained, the outputs so far, the figure's words."""

    trace: Trace
    chunks: tuple[StreamChunk, ...]
    lang: str
    width: float

    @property
    def op(self) -> str:
        return "ConvTranspose1d" if self.trace.spec.transposed else "Conv1d"

    def emitted(self, upto: int) -> list[Any]:
        """The streamer's outputs (batch item 0, channel 0) of pushes 1..``upto``."""
        return [v for s in self.chunks[:upto] for v in s.output[0, 0].tolist()]


def stream_frames(trace: Trace, lang: str = "en") -> tuple[Figure, ...]:
    """Every frame of the chunk loop of ``trace`` (which has ``trace.stream``), one canvas size."""
    from ..stream.learner import stream_chunks

    assert trace.stream is not None
    chunks = stream_chunks(trace, trace.stream.chunk, limit=MAX_PUSH_FRAMES)
    texts = [fmt(v) for s in chunks for v in s.output[0, 0].tolist()] + [fmt(v) for v in np.asarray(trace.input).reshape(-1)[:64].tolist()]
    texts += [fmt(v) for s in chunks for e in s.state_after for v in e.values]
    if trace.spec.transposed:  # the new taps' names, e.g. x3w3+x4w1
        overlap = -(-trace.spec.kernel_size * trace.spec.dilation // trace.spec.stride)
        texts.append("+".join(["x9w9"] * min(overlap, 3)))
    loop = _Loop(trace, chunks, lang, cell_width(texts))
    frames = [_frame(loop, i) for i in range(len(chunks))] + [_frame(loop, None)]
    width = max(f.width for f in frames)
    height = max(f.height for f in frames)
    return tuple(replace(f, width=width, height=height) for f in frames)


def _frame(loop: _Loop, index: int | None) -> Figure:
    """Push ``index`` (0-based) of the loop, or the flush (None)."""
    spec = loop.trace.spec
    s = loop.chunks[-1] if index is None else loop.chunks[index]
    if index is None:
        title = _w(loop.lang, "title_flush", op=loop.op)
    else:
        title = _w(loop.lang, "title_push", op=loop.op, n=s.push, total=s.pushes, chunk=repr(s.chunk_given))
    params = f"kernel_size={spec.kernel_size}, stride={spec.stride}, padding={spec.padding}, dilation={spec.dilation}"
    params += f", output_padding={spec.output_padding}" if spec.transposed else f", padding_mode={spec.padding_mode.value}"
    if spec.has_bias:
        params += ", bias=True"
    items, y, width = header_of(_Words(loop.lang), title, params, None)
    body = _transposed(loop, s, index is None, y + 12) if spec.transposed else _conv(loop, s, index is None, y + 12)
    items += body
    _, bottom = extent(items)
    items += _caption(loop, s, index is None, bottom + 26)
    roles = [r for r in _ORDER if any(getattr(x, "role", "") == r for x in _leaves(items))]
    right, bottom = extent(items)
    width = max(width, right + MARGIN)
    group, _ = legend([(r, _w(loop.lang, f"legend_{r}")) for r in roles], MARGIN, bottom + 28, width - 2 * MARGIN)
    items.append(group)
    right, bottom = extent(items)
    return Figure(width=round(max(width, right + MARGIN)), height=round(bottom + MARGIN), items=tuple(items), title=title)


class _Words:
    def __init__(self, lang: str) -> None:
        self.lang = lang

    def t(self, key: str, **values: Any) -> str:  # pragma: no cover - no length formula is drawn
        return key


def _leaves(items: list[Shape]) -> list[Shape]:
    out: list[Shape] = []
    for item in items:
        out.append(item)
        out += _leaves(list(getattr(item, "items", ())))
    return out


def _label(text: str, y: float) -> Text:
    return Text(MARGIN, y + CELL_H / 2 + 5, text, size=13, fill=INK, anchor="start", weight="bold", role="row-label")


def _left(lang: str, *keys: str) -> float:
    return MARGIN + max(text_width(_w(lang, k), 13, bold=True) for k in keys) + 16


# ---------------------------------------------------------------------- Conv1d


def _conv(loop: _Loop, s: StreamChunk, flush: bool, top: float) -> list[Shape]:
    trace, spec, lang = loop.trace, loop.trace.spec, loop.lang
    total = spec.length + spec.pad_left + spec.pad_right
    mode = "constant" if spec.padding_mode.value == "zeros" else spec.padding_mode.value
    row = apply_pad(np.asarray(trace.input, dtype=np.float64).reshape(spec.batch, spec.in_channels, spec.length)[:1, :1],
                    spec.pad_left, spec.pad_right, mode)[0, 0].tolist()  # fmt: skip
    window, after = s.state("window"), s.state("window", after=True)
    assert window is not None and after is not None
    before_box: tuple[int, ...]
    after_box: tuple[int, ...]
    if flush:
        marks = ["C" if p in after.positions else "-" if p < after.samples_in else "N" for p in range(total)]
        before_box, after_box = after.positions, ()
    else:
        marks = cell_marks(s, total)
        before_box, after_box = window.positions, after.positions
    new_cells = [p for p, m in enumerate(marks) if m in "NP"] or [0]
    left = _left(lang, "input", "padded", "windows", "output", "output_bias")
    axis = Axis.build(range(total), focus=(min(new_cells), max(new_cells)), left=left, cell=loop.width,
                      keep=list(before_box) + list(after_box))  # fmt: skip
    items: list[Shape] = []
    y_names, y_row = top - 8, top + 62
    items.append(_label(_w(lang, "padded"), y_row))
    cells = _pad_sources(trace, total)
    cached = dict(zip(window.positions, window.values)) if not flush else dict(zip(after.positions, after.values))
    for p in range(total):
        x = axis.x(p)
        if x is None:
            continue
        source, index = cells[p]
        name = "0" if source is Source.ZERO or index is None else f"x{index + 1}"
        items.append(Text(x + axis.cell / 2, y_names + 30, name, size=12, fill=MUTED if source is not Source.INPUT else INK,
                          italic=source is not Source.INPUT, role="cell-name"))  # fmt: skip
        role = {"C": "cache", "P": "pad_cache", "N": "new", "-": "dropped", ".": "pending"}[marks[p]]
        value = cached.get(p, row[p])
        items.append(cell(x, y_row, "" if role == "pending" else fmt(value), role, width=axis.cell,
                          dash="4 3" if role in ("pending", "dropped") or source is not Source.INPUT else "",
                          highlight=role == "new"))  # fmt: skip
    items += _box(axis, before_box, y_row - 8, CELL_H + 16, "#1c7ed6", _w(lang, "cache_at_flush" if flush else "cache_before"),
                  above=True)  # fmt: skip
    y = y_row + _ROW
    outputs = [(o.out_index, o.value) for o in s.outputs] if not flush else []
    if flush and s.flush is not None:
        first = spec.out_length - s.flush_outputs
        outputs = [(first + k, v) for k, v in enumerate(s.flush[0, 0].tolist())]
    if after_box:
        items += _box(axis, after_box, y_row - 2, CELL_H + 4, "#e8590c", _w(lang, "cache_after"), above=False)
        y += 14
    if outputs:
        items.append(_label(_w(lang, "windows"), y))
        for k, (t, _) in enumerate(outputs[:6]):
            start = t * spec.stride
            x0, x1 = axis.x(start), axis.x(start + (spec.kernel_size - 1) * spec.dilation)
            if x0 is None or x1 is None:
                continue
            yy = y + 6 + k * 10
            items.append(Line(x0 + 4, yy, x1 + axis.cell - 4, yy, stroke="#c2255c", stroke_width=2.0, role="window"))
            items.append(Text(x1 + axis.cell, yy + 4, f"y{t + 1}", size=11, fill="#c2255c", anchor="start", role="window-label"))
            for j in range(spec.kernel_size):
                xt = axis.x(start + j * spec.dilation)
                if xt is not None:
                    items.append(Rect(xt + axis.cell / 2 - 3, yy - 3, 6, 6, fill="#c2255c", role="tap"))
        y += 22 + 10 * min(len(outputs), 6)
    items += _output_row(loop, s, flush, axis, y, outputs, lambda t: t * spec.stride)
    return items


def _pad_sources(trace: Trace, total: int) -> list[tuple[Source, int | None]]:
    from ..trace.build import pad_cells_at

    return [(c.source, c.input_index) for c in pad_cells_at(trace.spec, list(range(total)))]


def _box(axis: Axis, positions: tuple[int, ...], y: float, height: float, stroke: str, words: str, *,
         above: bool) -> list[Shape]:  # fmt: skip
    xs = [x for x in (axis.x(p) for p in positions) if x is not None]
    if not xs:
        return []
    x0, x1 = min(xs) - 4, max(xs) + axis.cell + 4
    role = "cache-box" if above else "cache-after-box"
    ty = y - 6 if above else y + height + 14
    return [Rect(x0, y, x1 - x0, height, stroke=stroke, stroke_width=2.5, dash="" if above else "6 4", radius=6, role=role),
            Text(x0, ty, words, size=12, fill=stroke, anchor="start", weight="bold", role=f"{role}-label")]


def _output_row(loop: _Loop, s: StreamChunk, flush: bool, axis: Axis, y: float, outputs: list[tuple[int, Any]],
                column: Any) -> list[Shape]:  # fmt: skip
    spec, lang = loop.trace.spec, loop.lang
    earlier = loop.emitted(s.push - 1 if not flush else s.push)
    now = dict(outputs)
    items: list[Shape] = [_label(_w(lang, "output_bias" if spec.transposed and spec.has_bias else "output"), y)]
    for t in range(spec.out_length):
        x = axis.x(column(t))
        if x is None:
            continue
        if t in now:
            role, text = "current", fmt(now[t])
        elif t < len(earlier):
            role, text = "output", fmt(earlier[t])
        else:
            role, text = "pending", "?"
        items.append(cell(x, y, text, role, width=axis.cell, highlight=role == "current",
                          dash="4 3" if role == "pending" else ""))  # fmt: skip
        items.append(Text(x + axis.cell / 2, y + CELL_H + 14, f"y{t + 1}", size=11, fill=MUTED, role="cell-name"))
    return items


def _caption(loop: _Loop, s: StreamChunk, flush: bool, y: float) -> list[Shape]:
    lang = loop.lang
    none = _w(lang, "none")
    if flush:
        first = loop.trace.spec.out_length - s.flush_outputs
        outs = ", ".join(f"y{first + k + 1} = {fmt(v)}" for k, v in enumerate(s.flush[0, 0].tolist())) if s.flush is not None else ""
        lines = [_w(lang, "caption_flush", outs=outs or none)]
        notes = [n for n in s.notes if n.code in ("stream_flush", "stream_tail_cropped")]
    else:
        new = ", ".join(f"x{i + 1}" for i in range(s.before, s.before + s.arrived)) or none
        outs = ", ".join(f"y{o.out_index + 1} = {fmt(o.value)}" for o in s.outputs) or none
        lines = [_w(lang, "caption_push", new=new, outs=outs)]
        notes = [n for n in s.notes if n.code in ("stream_warmup", "stream_pad_wait", "stream_waiting", "stream_bias_tail")]
    for note in notes:
        lines += display_wrap(stream_note_text(note, lang), 96)
    return [Text(MARGIN, y + 18 * k, line, size=13 if k == 0 else 12, fill=INK if k == 0 else MUTED, anchor="start",
                 weight="bold" if k == 0 else "normal", role="caption") for k, line in enumerate(lines)]  # fmt: skip


# ---------------------------------------------------------------------- ConvTranspose1d


def _transposed(loop: _Loop, s: StreamChunk, flush: bool, top: float) -> list[Shape]:
    trace, spec, lang = loop.trace, loop.trace.spec, loop.lang
    full = (spec.length - 1) * spec.stride + (spec.kernel_size - 1) * spec.dilation + 1 + spec.output_padding
    x = np.asarray(trace.input, dtype=np.float64).reshape(spec.batch, spec.in_channels, spec.length)[0, 0].tolist()
    tail, after = s.state("tail"), s.state("tail", after=True)
    assert tail is not None and after is not None
    arrived = s.before + s.arrived
    new_positions = [r.position for o in s.outputs for r in o.reads if r.origin is StreamOrigin.NEW] or [s.before * spec.stride]
    left = _left(lang, "input", "tail_before", "adds", "output_bias", "tail_after")
    axis = Axis.build(range(full), focus=(min(new_positions), max(new_positions)), left=left, cell=loop.width,
                      keep=list(tail.positions) + list(after.positions))  # fmt: skip
    items: list[Shape] = []
    y = top + 10
    items.append(_label(_w(lang, "input"), y))
    for i in range(spec.length):
        xi = axis.x(i * spec.stride)
        if xi is None:
            continue
        arrived_before = i < s.before or flush
        role = "new" if (not flush and s.before <= i < arrived) else "output" if arrived_before else "pending"
        role = "dropped" if role == "output" else role
        items.append(cell(xi, y, fmt(x[i]) if role != "pending" else "", role, width=axis.cell, highlight=role == "new",
                          dash="4 3" if role in ("pending", "dropped") else ""))  # fmt: skip
        items.append(Text(xi + axis.cell / 2, y - 6, f"x{i + 1}", size=11, fill=MUTED, role="cell-name"))
    y += _ROW
    rows: list[tuple[str, tuple[int, ...], tuple[Any, ...], str]] = []
    if not flush:
        rows.append(("tail_before", tail.positions, tail.values, "cache"))
        taps: dict[int, list[str]] = {}
        for i in range(s.before, arrived):
            for k in range(spec.kernel_size):
                taps.setdefault(i * spec.stride + k * spec.dilation, []).append(f"x{i + 1}w{k + 1}")
        rows.append(("adds", tuple(sorted(taps)), tuple("+".join(taps[p]) for p in sorted(taps)), "new"))
    for key, positions, values, role in rows:
        items.append(_label(_w(lang, key), y))
        for p, v in zip(positions, values):
            xp = axis.x(p)
            if xp is not None:
                items.append(cell(xp, y, v if isinstance(v, str) else fmt(v), role, width=axis.cell, size=13))
        if key == "tail_before" and not positions:
            items.append(Text(left, y + CELL_H / 2 + 5, _w(lang, "none"), size=12, fill=MUTED, anchor="start", role="empty-row"))
        y += _ROW
    outputs = [(o.out_index, o.value) for o in s.outputs]
    if flush and s.flush is not None:
        first = spec.out_length - s.flush_outputs
        outputs = [(first + k, v) for k, v in enumerate(s.flush[0, 0].tolist())]
    items += _output_row(loop, s, flush, axis, y, outputs, lambda t: t + spec.pad_left)
    for p in list(range(min(spec.pad_left, full))) + list(range(spec.pad_left + spec.out_length, full)):
        xp = axis.x(p)
        if xp is not None:
            items.append(cell(xp, y, "", "cropped", width=axis.cell, dash="4 3"))
    y += _ROW + 6
    items.append(_label(_w(lang, "tail_after"), y))
    shown_after = () if flush else after.positions
    for p, v in zip(shown_after, after.values):
        xp = axis.x(p)
        if xp is not None:
            items.append(cell(xp, y, fmt(v), "tail", width=axis.cell))
    if not shown_after:
        items.append(Text(left, y + CELL_H / 2 + 5, _w(lang, "none"), size=12, fill=MUTED, anchor="start", role="empty-row"))
    return items
