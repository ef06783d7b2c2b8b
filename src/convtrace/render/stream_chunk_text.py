"""One streamed push in words (issue 19, item 4), in English and Chinese, and as JSON: the
section ``convtrace explain --stream`` adds, from the data of
:class:`~convtrace.trace.model.StreamChunk` (codes and numbers; the words are here only).

Names count from 1 as in the rest of the text: ``x1`` is the first input sample, ``y1`` the
first output; a padded cell is written as the sample it copies (``x2``) or ``0``.

>>> from convtrace import explain
>>> t = explain([1, 1, 1, 1], [1, 1, 1], padding=1, stream_chunk=2, verify=False)
>>> print("\\n".join(stream_lines(t, "en")[:3]))
Streaming, one push explained (stream_chunk=2): 4 samples arrive in 2 pushes of 2, then flush()
Push 2 of 2: new samples x3, x4 (before it: x1, x2 arrived; y1 emitted)
  The window's cache before the push (layer1.conv.buffer): x1, x2 (padded positions 1..2)
"""

from __future__ import annotations

from typing import Any

from ..trace.model import Note, Source, StreamChunk, StreamOrigin, StreamOutput, StreamState, Trace
from .numfmt import fmt, fmt_list
from .textwidth import display_width
from .writer import ljust

__all__ = ["stream_lines", "stream_note_text", "cell_marks", "frame_text", "STREAM_TEXT"]

#: key -> (English, Chinese): the words of a streamed push (this feature's own table)
STREAM_TEXT: dict[str, tuple[str, str]] = {
    "heading": (
        "Streaming, one push explained (stream_chunk={chunk}): {length} samples arrive in {pushes} pushes of {size}, then flush()",
        "流式运行，讲解其中一次 push（stream_chunk={chunk}）：{length} 个样本分 {pushes} 次 push 到达，每次 {size} 个，然后 flush()",
    ),
    "heading_one": (
        "Streaming, one push explained (stream_chunk={chunk}): {length} samples arrive in 1 push, then flush()",
        "流式运行，讲解其中一次 push（stream_chunk={chunk}）：{length} 个样本在 1 次 push 中到达，然后 flush()",
    ),
    "hop_chunk": (
        "  (stream_chunk='hop': one hop of the layer, {size} samples)",
        "  （stream_chunk='hop'：层的一个 hop，{size} 个样本）",
    ),
    "push": (
        "Push {push} of {pushes}: new samples {new} (before it: {old} arrived; {emitted} emitted)",
        "第 {push} 次 push（共 {pushes} 次）：新样本 {new}（此前：{old} 已到达；已输出 {emitted}）",
    ),
    "push_first": (
        "Push {push} of {pushes}: new samples {new} (the first push: nothing arrived before it)",
        "第 {push} 次 push（共 {pushes} 次）：新样本 {new}（第一次 push：此前没有任何样本）",
    ),
    "nothing": (
        "nothing",
        "无",
    ),
    "no_output_yet": (
        "no output",
        "尚无输出",
    ),
    "cache_window": (
        "  The window's cache before the push ({name}): {cells} (padded positions {first}..{last})",
        "  push 之前窗口的缓存（{name}）：{cells}（填充后位置 {first}..{last}）",
    ),
    "cache_window_empty": (
        "  The window's cache before the push ({name}): empty",
        "  push 之前窗口的缓存（{name}）：空",
    ),
    "cache_pad": (
        "  The padding's cache before the push ({name}): {cells} (input samples kept for the padding it still makes)",
        "  push 之前填充的缓存（{name}）：{cells}（为尚未生成的填充保留的输入样本）",
    ),
    "row_label": (
        "  padded row",
        "  填充后的行",
    ),
    "row_marks": (
        "  this push",
        "  本次 push",
    ),
    "legend": (
        "  C = from the window's cache, P = from the padding's cache (samples it kept until it could pad), N = new in this push, - = no longer needed, . = not arrived yet",
        "  C = 来自窗口的缓存，P = 来自填充的缓存（它保留到能生成填充为止的样本），N = 本次 push 新到，- = 不再需要，. = 尚未到达",
    ),
    "reads": (
        "  {y} = {value}: reads {reads}",
        "  {y} = {value}：读取 {reads}",
    ),
    "origin_cache": (
        "{name} (cache)",
        "{name}（缓存）",
    ),
    "origin_pad_cache": (
        "{name} (the padding's cache)",
        "{name}（填充的缓存）",
    ),
    "origin_new": (
        "{name} (new)",
        "{name}（新）",
    ),
    "no_output": (
        "  This push emits no output.",
        "  本次 push 没有输出。",
    ),
    "outputs": (
        "  Outputs of this push (the streamer's, final now): {names} = {values}",
        "  本次 push 的输出（流式引擎给出的，现已确定）：{names} = {values}",
    ),
    "cache_after_window": (
        "  The window's cache after the push, for the next push or the flush: {cells}",
        "  push 之后窗口的缓存（留给下一次 push 或 flush）：{cells}",
    ),
    "cache_after_pad": (
        "  The padding's cache after the push: {cells}",
        "  push 之后填充的缓存：{cells}",
    ),
    "empty": (
        "empty",
        "空",
    ),
    # ConvTranspose1d
    "tail_before": (
        "  The carried tail before the push ({name}: partial sums, no bias): {cells}",
        "  push 之前携带的尾部（{name}：部分和，不含偏置）：{cells}",
    ),
    "tail_cell": (
        "full position {p}: {value} ({terms})",
        "完整位置 {p}：{value}（{terms}）",
    ),
    "tail_empty": (
        "  The carried tail before the push ({name}): empty",
        "  push 之前携带的尾部（{name}）：空",
    ),
    "convt_output": (
        "  {y} (full position {p}) = carried {carried}{old} + new {new}{bias} = {value}",
        "  {y}（完整位置 {p}）= 携带 {carried}{old} + 新 {new}{bias} = {value}",
    ),
    "convt_output_cropped": (
        "  full positions {first}..{last} are cropped (padding={padding}): they leave no output",
        "  完整位置 {first}..{last} 被裁掉（padding={padding}）：不产生输出",
    ),
    "with_bias": (
        " + bias {bias}",
        " + 偏置 {bias}",
    ),
    "none_new": (
        "nothing",
        "无",
    ),
    "tail_after": (
        "  The tail carried to the next push or the flush (no bias): {cells}",
        "  携带到下一次 push 或 flush 的尾部（不含偏置）：{cells}",
    ),
    # notes
    "stream_warmup_conv": (
        "Warm-up (push 1): the cache starts empty. The padding makes the {left} left cells ({mode}) with the first samples; they enter the window like new samples and stay in the cache while later windows read them.",
        "预热（第 1 次 push）：缓存起初是空的。填充随第一批样本生成左边 {left} 个格（{mode}）；它们像新样本一样进入窗口，并在后面的窗口还要读取时留在缓存里。",
    ),
    "stream_warmup_conv_none": (
        "Warm-up (push 1): the cache starts empty; the first window needs {span} samples.",
        "预热（第 1 次 push）：缓存起初是空的；第一个窗口需要 {span} 个样本。",
    ),
    "stream_warmup_convT": (
        "Warm-up (push 1): the carried tail starts empty (all zeros).",
        "预热（第 1 次 push）：携带的尾部起初为空（全为零）。",
    ),
    "stream_pad_wait": (
        "{mode} padding of {left} on the left copies samples after the edge: it waits for {need} samples (this push brings the total to {have}).",
        "左边 {left} 的 {mode} 填充要复制边缘之后的样本：它要等到 {need} 个样本（本次 push 后共有 {have} 个）。",
    ),
    "stream_pad_keep": (
        "The {mode} padding keeps the last {kept} sample(s) in its own cache: the {right} right cells are made from them at the end (flush).",
        "{mode} 填充在自己的缓存里保留最后 {kept} 个样本：右边 {right} 个格在结束时（flush）由它们生成。",
    ),
    "stream_waiting_input": (
        "{count} output(s) still wait: {y} needs input sample {x}, which has not arrived.",
        "还有 {count} 个输出在等待：{y} 需要输入样本 {x}，它还没到。",
    ),
    "stream_waiting_end": (
        "{count} output(s) still wait: {y} reads past the last sample, so it waits for the end.",
        "还有 {count} 个输出在等待：{y} 读到最后一个样本之后，所以要等到结束。",
    ),
    "stream_flush_conv": (
        "flush() gives the last {count} output(s): they read the right padding ({right} cell(s)), known only at the end.",
        "flush() 给出最后 {count} 个输出：它们读取右边的填充（{right} 个格），只有在结束时才知道。",
    ),
    "stream_flush_convT": (
        "flush() gives the last {count} output(s): the tail that no later input will add to{op}.",
        "flush() 给出最后 {count} 个输出：不会再有输入加到其上的尾部{op}。",
    ),
    "flush_output_padding": (
        ", and output_padding={n}",
        "，以及 output_padding={n}",
    ),
    "stream_bias_tail": (
        "Why the bias is not in the tail: a tail position is a partial sum that the next push adds to. The bias ({bias}) is added once, when the output becomes final and leaves; were it added to the partial sums, an output that takes taps from two pushes would get it twice.",
        "为什么尾部不含偏置：尾部的位置是部分和，下一次 push 还会往上加。偏置（{bias}）只在输出确定并离开时加一次；若把它加进部分和，从两次 push 获得贡献的输出就会加两次偏置。",
    ),
    "stream_tail_cropped": (
        "The tail's full positions {positions} fall in the right crop (padding={padding}, output_padding={output_padding}): the flush drops them.",
        "尾部的完整位置 {positions} 落在右边的裁剪里（padding={padding}，output_padding={output_padding}）：flush 会丢弃它们。",
    ),
    "flush_heading": (
        "flush(): the end is known ({pushes} pushes of {size} arrived)",
        "flush()：结束已知（{pushes} 次 push，每次 {size} 个样本，均已到达）",
    ),
    "flush_outputs": (
        "  Outputs of flush() (the streamer's): {names} = {values}",
        "  flush() 的输出（流式引擎给出的）：{names} = {values}",
    ),
    "stream_item0": (
        "Shown for batch item 1, output channel 1 ({batch} item(s), {channels} channel(s)); --json has every one.",
        "这里只显示第 1 个批量元素、第 1 个输出通道（共 {batch} 个元素、{channels} 个通道）；--json 含全部。",
    ),
}


def _t(lang: str, key: str, **values: Any) -> str:
    return STREAM_TEXT[key][0 if lang == "en" else 1].format(**values)


def _x(i: int | None) -> str:
    return "0" if i is None else f"x{i + 1}"


def _cell(trace: Trace, position: int) -> str:
    """A padded cell's name: the sample it copies, or 0."""
    from ..trace.build import pad_cells_at

    cell = pad_cells_at(trace.spec, [position])[0]
    return "0" if cell.source is Source.ZERO else _x(cell.input_index)


def _names(first: int, count: int, letter: str) -> str:
    return ", ".join(f"{letter}{i + 1}" for i in range(first, first + count))


def stream_lines(trace: Trace, lang: str = "en") -> list[str]:
    """The streamed push of ``trace`` (``trace.stream``) as lines of text."""
    s = trace.stream
    assert s is not None
    spec = trace.spec
    head = "heading" if s.pushes > 1 else "heading_one"
    lines = [_t(lang, head, chunk=repr(s.chunk_given), length=spec.length, pushes=s.pushes, size=s.chunk)]
    if s.chunk_given != s.chunk:
        lines.append(_t(lang, "hop_chunk", size=s.chunk))
    new = _names(s.before, s.arrived, "x") or _t(lang, "nothing")
    if s.push == 1:
        lines.append(_t(lang, "push_first", push=s.push, pushes=s.pushes, new=new))
    else:
        emitted = _names(0, s.emitted_before, "y") if s.emitted_before else _t(lang, "no_output_yet")
        lines.append(_t(lang, "push", push=s.push, pushes=s.pushes, new=new, old=_names(0, s.before, "x"), emitted=emitted))
    lines += _transposed_lines(trace, s, lang) if spec.transposed else _conv_lines(trace, s, lang)
    lines += ["  " + stream_note_text(note, lang) for note in s.notes]
    return lines


def _held(trace: Trace, state: StreamState) -> str:
    if state.role == "pad":
        return ", ".join(f"{_x(p)} = {fmt(v)}" for p, v in zip(state.positions, state.values))
    return ", ".join(_cell(trace, p) for p in state.positions)


def _conv_lines(trace: Trace, s: StreamChunk, lang: str) -> list[str]:
    lines: list[str] = []
    window = s.state("window")
    pad = s.state("pad")
    assert window is not None
    if pad is not None and pad.positions:
        lines.append(_t(lang, "cache_pad", name=pad.name, cells=_held(trace, pad)))
    if window.positions:
        lines.append(_t(lang, "cache_window", name=window.name, cells=_held(trace, window),
                        first=window.positions[0], last=window.positions[-1]))  # fmt: skip
    else:
        lines.append(_t(lang, "cache_window_empty", name=window.name))
    lines += _row(trace, s, lang)
    if not s.outputs:
        lines.append(_t(lang, "no_output"))
    for out in s.outputs:
        reads = ", ".join(_t(lang, f"origin_{r.origin.value}", name=_cell(trace, r.position)) for r in out.reads)
        lines.append(_t(lang, "reads", y=f"y{out.out_index + 1}", value=fmt(out.value), reads=reads))
    lines += _outputs(s, lang)
    after = s.state("window", after=True)
    pad_after = s.state("pad", after=True)
    assert after is not None
    lines.append(_t(lang, "cache_after_window", cells=_held(trace, after) or _t(lang, "empty")))
    if pad_after is not None and pad_after.array.shape[-1]:
        lines.append(_t(lang, "cache_after_pad", cells=_held(trace, pad_after) or _t(lang, "empty")))
    return lines


def cell_marks(s: StreamChunk, total: int) -> list[str]:
    """One mark per padded cell for this push: C (cache), P (padding's cache), N (new),
    - (no longer needed), . (not arrived yet).

    >>> from convtrace import explain
    >>> t = explain([1, 1, 1, 1], [1, 1, 1], padding=1, stream_chunk=2, verify=False)
    >>> "".join(cell_marks(t.stream, 6))
    '-CCNN.'
    """
    window = s.state("window")
    after = s.state("window", after=True)
    assert window is not None and after is not None
    origins = {r.position: r.origin for out in s.outputs for r in out.reads}
    marks = []
    for p in range(total):
        if p in window.positions:
            marks.append("C")
        elif p < window.samples_in:
            marks.append("-")
        elif p < after.samples_in:
            marks.append("P" if origins.get(p) is StreamOrigin.PAD_CACHE else "N")
        else:
            marks.append(".")
    return marks


def _row(trace: Trace, s: StreamChunk, lang: str) -> list[str]:
    spec = trace.spec
    total = spec.length + spec.pad_left + spec.pad_right
    if total > 64:
        return []
    names = [_cell(trace, p) for p in range(total)]
    marks = cell_marks(s, total)
    width = max(len(n) for n in names) + 1
    pad = max(display_width(_t(lang, "row_label")), display_width(_t(lang, "row_marks"))) + 1
    return [
        ljust(_t(lang, "row_label"), pad) + "".join(n.rjust(width) for n in names),
        ljust(_t(lang, "row_marks"), pad) + "".join(m.rjust(width) for m in marks),
        _t(lang, "legend"),
    ]


def _outputs(s: StreamChunk, lang: str) -> list[str]:
    if not s.emitted:
        return []
    names = _names(s.emitted_before, s.emitted, "y")
    return [_t(lang, "outputs", names=names, values=fmt_list(s.output[0, 0].tolist()))]


def _tail_cells(trace: Trace, s: StreamChunk, state: StreamState, lang: str) -> str:
    arrived = s.before + (s.arrived if state is s.state("tail", after=True) else 0)
    return "; ".join(_t(lang, "tail_cell", p=p, value=fmt(v), terms=_tail_terms(trace, p, arrived))
                     for p, v in zip(state.positions, state.values))  # fmt: skip


def _tail_terms(trace: Trace, position: int, arrived: int) -> str:
    """The taps summed in a tail position: x_i·w_k of the ``arrived`` inputs landing there."""
    spec = trace.spec
    terms = []
    for k in range(spec.kernel_size):
        reach = position - k * spec.dilation
        if reach % spec.stride == 0 and 0 <= reach // spec.stride < arrived:
            terms.append(f"x{reach // spec.stride + 1}·w{k + 1}")
    return " + ".join(terms)


def _transposed_lines(trace: Trace, s: StreamChunk, lang: str) -> list[str]:
    spec = trace.spec
    lines: list[str] = []
    tail = s.state("tail")
    assert tail is not None
    if tail.positions:
        lines.append(_t(lang, "tail_before", name=tail.name, cells=_tail_cells(trace, s, tail, lang)))
    else:
        lines.append(_t(lang, "tail_empty", name=tail.name))
    done_before = tail.done
    first_out = s.outputs[0].out_index + spec.pad_left if s.outputs else None
    if spec.pad_left and done_before < spec.pad_left and (first_out is None or first_out > done_before):
        last = min(spec.pad_left, first_out if first_out is not None else spec.pad_left) - 1
        after = s.state("tail", after=True)
        assert after is not None
        last = min(last, after.done - 1)
        if last >= done_before:
            lines.append(_t(lang, "convt_output_cropped", first=done_before, last=last, padding=spec.pad_left))
    if not s.outputs:
        lines.append(_t(lang, "no_output"))
    for out in s.outputs:
        lines.append(_convt_output(out, spec.pad_left, lang))
    lines += _outputs(s, lang)
    after = s.state("tail", after=True)
    assert after is not None
    lines.append(_t(lang, "tail_after", cells=_tail_cells(trace, s, after, lang) or _t(lang, "empty")))
    return lines


def _convt_output(out: StreamOutput, padding: int, lang: str) -> str:
    old = [f"x{r.input_index + 1}·w{r.kernel_index + 1}" for r in out.reads
           if r.origin is StreamOrigin.CARRIED and r.input_index is not None]  # fmt: skip
    new = [f"x{r.input_index + 1}·w{r.kernel_index + 1}" for r in out.reads
           if r.origin is StreamOrigin.NEW and r.input_index is not None]  # fmt: skip
    bias = "" if out.bias is None else _t(lang, "with_bias", bias=fmt(out.bias))
    return _t(lang, "convt_output", y=f"y{out.out_index + 1}", p=out.out_index + padding, carried=fmt(out.carried),
              old=f" ({' + '.join(old)})" if old else "", new=" + ".join(new) or _t(lang, "none_new"), bias=bias,
              value=fmt(out.value))  # fmt: skip


def stream_note_text(note: Note, lang: str = "en") -> str:
    """One note of a streamed push in words.

    >>> stream_note_text(Note("stream_waiting", {"count": 1, "next": 3, "needs": -1, "later": 0, "flush": 1}))
    '1 output(s) still wait: y4 reads past the last sample, so it waits for the end.'
    """
    v = note.values
    code = note.code
    if code == "stream_warmup":
        if v["kind"] == "convT":
            return _t(lang, "stream_warmup_convT")
        key = "stream_warmup_conv" if v["left"] else "stream_warmup_conv_none"
        return _t(lang, key, left=v["left"], mode=v["mode"], span=v.get("span", ""))
    if code == "stream_waiting":
        y = f"y{v['next'] + 1}"
        text = (_t(lang, "stream_waiting_end", count=v["count"], y=y) if v["needs"] < 0
                else _t(lang, "stream_waiting_input", count=v["count"], y=y, x=f"x{v['needs'] + 1}"))  # fmt: skip
        return text
    if code == "stream_flush":
        if v["kind"] == "convT":
            extra = _t(lang, "flush_output_padding", n=v["output_padding"]) if v["output_padding"] else ""
            return _t(lang, "stream_flush_convT", count=v["count"], op=extra)
        return _t(lang, "stream_flush_conv", count=v["count"], right=v["right"])
    if code == "stream_bias_tail":
        return _t(lang, code, bias=fmt(v["bias"]))
    if code == "stream_tail_cropped":
        return _t(lang, code, positions=", ".join(str(p) for p in v["positions"]), padding=v["padding"],
                  output_padding=v["output_padding"])
    return _t(lang, code, **v)


def frame_text(trace: Trace, frame: int, lang: str = "en") -> str:
    """Frame ``frame`` (0-based) of the chunk loop in words: push ``frame + 1``, or the
    flush after the last push (the figure's frames, :mod:`convtrace.draw.stream_figure`).

    >>> from convtrace import explain
    >>> t = explain([1, 1, 1, 1], [1, 1, 1], padding=1, stream_chunk=2, verify=False)
    >>> frame_text(t, 0).splitlines()[1]
    'Push 1 of 2: new samples x1, x2 (the first push: nothing arrived before it)'
    >>> print(frame_text(t, 2))
    flush(): the end is known (2 pushes of 2 arrived)
      Outputs of flush() (the streamer's): y4 = 2
      flush() gives the last 1 output(s): they read the right padding (1 cell(s)), known only at the end.
    """
    from dataclasses import replace

    from ..stream.learner import stream_chunk

    s = trace.stream
    assert s is not None
    push = min(frame + 1, s.pushes)
    shown = trace if push == s.push else replace(trace, stream=stream_chunk(trace, s.chunk_given, push))
    if frame < s.pushes:
        return "\n".join(stream_lines(shown, lang))
    last = shown.stream
    assert last is not None
    lines = [_t(lang, "flush_heading", pushes=last.pushes, size=last.chunk)]
    if last.flush is not None and last.flush.shape[-1]:
        first = trace.spec.out_length - last.flush_outputs
        lines.append(_t(lang, "flush_outputs", names=_names(first, last.flush_outputs, "y"),
                        values=fmt_list(last.flush[0, 0].tolist())))  # fmt: skip
    lines += ["  " + stream_note_text(n, lang) for n in last.notes if n.code in ("stream_flush", "stream_tail_cropped")]
    return "\n".join(lines)
