"""Text for planning and model inspection, in English or Chinese (``lang='en'`` or
``'zh'``): warnings from their codes, the ``shape`` / ``solve`` / ``stack`` / ``inspect``
reports as text with tables (drawn by ``rich``, imported lazily), and JSON documents with
each warning's message filled in.

>>> from convtrace.plan.report import Finding
>>> message(Finding("W101", "conv1", {"samples": 3, "length": 10}))
'3 trailing input samples of 10 are never read (dropped tail)'
>>> from convtrace.plan.stack import analyse_stack
>>> print(render_stack(analyse_stack("conv k=4 s=2 p=1; conv k=4 s=2 p=1", 100), color=False))
... # doctest: +ELLIPSIS
Stack on 100 samples (1 channel) -> 25 samples
...
receptive field 10, hop 4, offset 3: output t depends on input [4t - 3, 4t + 6]
...
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from fractions import Fraction
from typing import Any

from ..plan.report import TEXT_VIEWS, Finding, to_jsonable
from .i18n import translator
from .notes import gap_reasons

__all__ = ["message", "to_json", "render_shape", "render_solve", "render_stack", "render_inspect",
           "render_length_map", "render_layer_explanation", "layer_explanation_ends", "table", "fraction_text",
           "tables_collected", "TABLE_MARK", "TableCells", "right_aligned"]

_MESSAGES = {
    "W101": "{samples} trailing input samples of {length} are never read (dropped tail)",
    "W102": "{samples} input samples before the last read one are never read (gaps): {why}",
    "W103": "kernel_size {kernel_size} is not divisible by stride {stride}: uneven overlap of the "
    "transposed kernel (checkerboard risk)",
    "W104": "does not restore the length of its mirror {mirror}: {got} samples instead of {expected}",
    "W105": "padding='same' with an even kernel ({kernel_size}) is asymmetric: {left} left, {right} right",
    "W106": "reflect padding {padding} is near its limit for a {length}-sample input (PyTorch requires it "
    "below the input length: a shorter input fails)",
    "W107": "{kind} over time: every output depends on the whole input; the receptive field and lookahead "
    "count the convolution path only",
    "W108": "{count} input lengths give an output other than the strides promise (e.g. {example} -> {got}, "
    "expected {expected})",
    "W109": "adaptive pool to O={output_size} samples: window i reads [floor(i*L/O), ceil((i+1)*L/O)), so its "
    "receptive field and hop depend on the input length L{here}",
    "W201": "ran on real tensors (meta device could not: {reason})",
    "W202": "{op}: could not place it on the time axis; the chain figures skip it",
    "S101": "the dilated kernel is shorter than the stride: {skipped} of every {stride} samples are skipped",
    "S102": "odd total padding: {left} left, {right} right, applied with F.pad (for stride 1 the same as "
    "padding='same')",
    "S103": "needs output_padding={output_padding}",
    "S104": "restores any length L when called as layer(y, L) (default L={length})",
    "S201": "no fixed output_padding can undo this Conv1d for every length: inputs of {length_a} and "
    "{length_b} samples both give {conv_out} samples, and one ConvTranspose1d maps {conv_out} to one length; "
    "pass output_size=[L] (the rule below)",
    "S202": "PyTorch rejects padding='same' for stride {stride}: pad dilation*(kernel_size-1) in total instead, "
    "which gives ceil(L/{stride})",
    "S203": "nothing within the bounds reaches the goal '{goal}'; widen the kernel sizes or dilations",
    "S204": "the Conv1d pads asymmetrically ({left} left, {right} right): no output_size rule restores every length",
}


_MESSAGES_ZH = {
    "W101": "输入末尾有 {samples} 个样本（共 {length} 个）从未被读取（尾部被丢弃）",
    "W102": "最后一个被读到的样本之前有 {samples} 个输入样本从未被读取（空隙）：{why}",
    "W103": "kernel_size {kernel_size} 不能被步长 {stride} 整除：转置卷积核重叠不均匀（有棋盘格伪影的风险）",
    "W104": "没有恢复对应 {mirror} 的长度：得到 {got} 个样本，而不是 {expected} 个",
    "W105": "偶数卷积核（{kernel_size}）的 padding='same' 不对称：左边 {left}，右边 {right}",
    "W106": "reflect 填充 {padding} 对 {length} 个样本的输入已接近上限（PyTorch 要求它小于输入长度：更短的输入会报错）",
    "W107": "{kind} 作用于整个时间轴：每个输出都依赖全部输入；感受野和前瞻只计算了卷积路径",
    "W108": "有 {count} 个输入长度的输出不符合步长的预期（例如 {example} -> {got}，预期 {expected}）",
    "W109": "自适应池化到 O={output_size} 个样本：窗口 i 读取 [floor(i*L/O), ceil((i+1)*L/O))，所以它的感受野和跳步取决于输入长度 L{here}",
    "W201": "在真实张量上运行（meta 设备无法运行：{reason}）",
    "W202": "{op}：无法确定它在时间轴上的位置；链路数据略过了它",
    "S101": "膨胀后的卷积核短于步长：每 {stride} 个样本中有 {skipped} 个被跳过",
    "S102": "总填充为奇数：左边 {left}，右边 {right}，用 F.pad 实现（步长为 1 时等同于 padding='same'）",
    "S103": "需要 output_padding={output_padding}",
    "S104": "以 layer(y, L) 调用时可恢复任意长度 L（默认 L={length}）",
    "S201": "没有任何固定的 output_padding 能对所有长度撤销这个 Conv1d：{length_a} 和 {length_b} 个样本的输入都得到 "
    "{conv_out} 个样本，而一个 ConvTranspose1d 只能把 {conv_out} 映射到一个长度；请传入 output_size=[L]（见下面的规则）",
    "S202": "步长为 {stride} 时 PyTorch 不接受 padding='same'：改为总共填充 dilation*(kernel_size-1)，得到 ceil(L/{stride})",
    "S203": "在给定范围内没有配置能达到目标 '{goal}'；请放宽卷积核大小或膨胀率",
    "S204": "这个 Conv1d 的填充不对称（左边 {left}，右边 {right}）：没有 output_size 规则能恢复所有长度",
}

_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "warnings": "warnings", "note": "note",
        "shape_head": "{torch_name} ({spec}) on {n} samples -> {out}",
        "size_range": "output_size may be {lo}..{hi} (output_padding 0..{extra}, passed as output_size=[n])",
        "tail": "dropped tail: {samples} samples (indices {first}..{last}) are never read",
        "no_tail": "dropped tail: none (an output reads the last sample)",
        "unread": "unread samples in all: {count} ({gaps} of them before the last read sample)",
        "inverse": "inputs giving {want} samples: {span}",
        "no_inverse": "no input length gives exactly {want} samples",
        "by_size": "; with output_size=[{want}] an input of {n} samples does",
        "solve_head": "solve {goal} ({params}): output length {rule}",
        "solve_count": "{count} configurations reach it; the best {shown}:",
        "other": "other lengths: {value}", "restores": "restores: {value}",
        "stack_head": "Stack on {n} samples ({c} {channels}) -> {out}",
        "channel": "channel", "channels": "channels", "an_error": "an error", "samples": "{n} samples",
        "error_at": "error at layer {index}: {error}",
        "figures": "receptive field {rf}, hop {hop}, offset {offset}: output t depends on input {range}",
        "bound": " (a bound; at most {span} samples for any one t)",
        "upsampling": "upsampling factor {factor}",
        "causal": "causal: no output depends on input after t*hop (lookahead {look})",
        "not_causal": "not causal: lookahead {look} samples (an output needs input up to t*hop + {look})",
        "macs": "multiply-adds: {macs} (batch {batch}); parameters: {params}",
        "feeds": "layer {index} ({spec}): upsamples x{s}; output n is fed by input frames "
        "ceil((n {a})/{s}) .. floor((n {b})/{s})",
        "inspect_head": "{model} on input {shape} (time on dim {dim}), run {where}",
        "on_meta": "on the meta device (no weights allocated)", "on_device": "on {device}",
        "raised": "PyTorch raised: {error}",
        "output": "output length: {length} (output shape {shape})",
        "chain": "a chain", "branches": "branches joined (the range covers every path)",
        "model_figures": "receptive field {rf} {unit}, hop {hop}, offset {offset} ({kind}): output t depends on "
        "input {range}",
        "model_causal": "causal: lookahead {look} {unit}", "model_not_causal": "not causal: lookahead {look} {unit}",
        "conv_path": " on the convolution path only (with {kinds}, every output depends on the whole input)",
        "conv_only": "; the convolution path only",
        "model_macs": "multiply-adds of the recorded convolutions: {macs}; parameters of the whole model: {params}",
        "input_steps": "input steps", "no_calls": "no time-axis layer ran",
        "in_layers": "{count} layers: {names}", "and_more": "{names} and {more} more",
        "map_head": "{model}: output length per input length (hop {hop})",
        "map_error": "error: {error}", "promise": "   <- strides promise {value}",
        "off": "not as the strides promise: {count} lengths",
        "by_arithmetic": "computed by convtrace's arithmetic through the recorded graph; confirmed by real runs at "
        "{confirmed}",
        "by_runs": "every length run by PyTorch ({reason})",
        "explain_head": "{layer} ({type}) of the model, its own weights and actual input; y[{n}, {c}, {t}]:",
        "equal": "equal", "different": "DIFFERENT",
        # pools (issue 17)
        "ceil_dropped": "ceil_mode: the last window must start inside the input or the left padding; window {w} "
        "would start at {w}*{s} - {p} = {start} >= L_in = {length}, so it is dropped: L_out = {out}",
        "ceil_kept": "ceil_mode: window {w} starts at {w}*{s} - {p} = {start} < L_in = {length}, inside the input, so "
        "it is kept although it runs past the end (its taps past the padding are the overhang, never counted)",
        "lp_length": "LPPool1d's length is avg_pool1d's with padding 0 and dilation 1 (it is built on avg_pool1d)",
        "adaptive_windows": "window i reads [floor(i*L_in/O), ceil((i+1)*L_in/O)), L_in={n}, O={o}: {windows} (window "
        "0: [floor(0*{n}/{o}), ceil(1*{n}/{o})) = [{a}, {b})); hop L_in/O = {hop}: the windows, receptive field and "
        "hop depend on the input length",
        "adaptive_formula": "window i reads [floor(i*L_in/O), ceil((i+1)*L_in/O)) (an empty input: no windows)",
        "unpool_range": "output_size may be {lo}..{hi} (strictly within stride {s} of the default; passed to "
        "forward as output_size=[n])",
        "at_this_length": "* at this input length ({length}) only: after an adaptive pool, whose windows "
        "[floor(i*L/O), ceil((i+1)*L/O)) move with the length (W109)",
        "only_here": "; at this input length ({length}) only: an adaptive pool's windows depend on it",
        "no_hop": "none fixed: an adaptive pool's is L/O",
        "adaptive_here": " (here L={length}: hop L/O is {hop}, windows of {shortest} to {longest} samples)",
        "layer_n": "layer {index}",
        "explain_head_pool": "{layer} ({type}) of the model, on its actual input; y[{n}, {c}, {t}]:",
        "length_dependent": "receptive field, hop, offset, lookahead: they depend on the input length (after "
        "{names}: an adaptive pool's windows are [floor(i*L/O), ceil((i+1)*L/O)), see W109)",
    },
    "zh": {
        "warnings": "警告", "note": "说明",
        "shape_head": "{torch_name}（{spec}）作用于 {n} 个样本 -> {out}",
        "size_range": "output_size 可取 {lo}..{hi}（output_padding 0..{extra}，以 output_size=[n] 传入）",
        "tail": "尾部丢弃：{samples} 个样本（下标 {first}..{last}）从未被读取",
        "no_tail": "尾部丢弃：无（有输出读到最后一个样本）",
        "unread": "未被读取的样本共 {count} 个（其中 {gaps} 个在最后一个被读到的样本之前）",
        "inverse": "得到 {want} 个样本的输入长度：{span}",
        "no_inverse": "没有输入长度恰好得到 {want} 个样本",
        "by_size": "；用 output_size=[{want}] 时，{n} 个样本的输入可以",
        "solve_head": "求解 {goal}（{params}）：输出长度 {rule}",
        "solve_count": "共有 {count} 种配置达到目标；最好的 {shown} 种：",
        "other": "其他长度：{value}", "restores": "可恢复：{value}",
        "stack_head": "层栈作用于 {n} 个样本（{c} 个{channels}）-> {out}",
        "channel": "通道", "channels": "通道", "an_error": "报错", "samples": "{n} 个样本",
        "error_at": "第 {index} 层报错：{error}",
        "figures": "感受野 {rf}，跳步 {hop}，偏移 {offset}：输出 t 依赖输入 {range}",
        "bound": "（上界；任一 t 最多依赖 {span} 个样本）",
        "upsampling": "上采样倍数 {factor}",
        "causal": "因果：没有输出依赖 t*hop 之后的输入（前瞻 {look}）",
        "not_causal": "非因果：前瞻 {look} 个样本（输出需要直到 t*hop + {look} 的输入）",
        "macs": "乘加次数：{macs}（批大小 {batch}）；参数：{params}",
        "feeds": "第 {index} 层（{spec}）：上采样 x{s}；输出 n 来自输入帧 ceil((n {a})/{s}) .. floor((n {b})/{s})",
        "inspect_head": "{model}，输入 {shape}（时间轴为第 {dim} 维），运行于{where}",
        "on_meta": " meta 设备（不分配权重）", "on_device": " {device}",
        "raised": "PyTorch 报错：{error}",
        "output": "输出长度：{length}（输出形状 {shape}）",
        "chain": "单链", "branches": "多分支汇合（范围覆盖所有路径）",
        "model_figures": "感受野 {rf} {unit}，跳步 {hop}，偏移 {offset}（{kind}）：输出 t 依赖输入 {range}",
        "model_causal": "因果：前瞻 {look} {unit}", "model_not_causal": "非因果：前瞻 {look} {unit}",
        "conv_path": "，只计卷积路径（有 {kinds} 时，每个输出都依赖全部输入）",
        "conv_only": "；只计卷积路径",
        "model_macs": "已记录卷积的乘加次数：{macs}；整个模型的参数：{params}",
        "input_steps": "个输入步", "no_calls": "没有运行任何时间轴上的层",
        "in_layers": "{count} 层：{names}", "and_more": "{names} 等另外 {more} 层",
        "map_head": "{model}：每个输入长度对应的输出长度（跳步 {hop}）",
        "map_error": "报错：{error}", "promise": "   <- 按步长应为 {value}",
        "off": "不符合步长预期的长度：{count} 个",
        "by_arithmetic": "由 convtrace 的长度算术沿记录的计算图得出；在 {confirmed} 处由真实运行确认",
        "by_runs": "每个长度都由 PyTorch 实际运行（{reason}）",
        "explain_head": "模型中的 {layer}（{type}），使用它自己的权重和实际输入；y[{n}, {c}, {t}]：",
        "equal": "相等", "different": "不相等",
        # pools (issue 17)
        "ceil_dropped": "ceil_mode：最后一个窗口必须从输入或左填充内开始；窗口 {w} 将从 {w}*{s} - {p} = {start} >= L_in = {length} "
        "开始，所以被丢弃：L_out = {out}",
        "ceil_kept": "ceil_mode：窗口 {w} 从 {w}*{s} - {p} = {start} < L_in = {length} 开始，在输入之内，所以保留，尽管它越过了末尾"
        "（越过填充的部分是悬出部分，从不计入）",
        "lp_length": "LPPool1d 的长度就是 padding 为 0、dilation 为 1 的 avg_pool1d 的长度（它基于 avg_pool1d 实现）",
        "adaptive_windows": "窗口 i 读取 [floor(i*L_in/O), ceil((i+1)*L_in/O))，L_in={n}，O={o}：{windows}（窗口 0："
        "[floor(0*{n}/{o}), ceil(1*{n}/{o})) = [{a}, {b})）；跳步 L_in/O = {hop}：窗口、感受野和跳步都取决于输入长度",
        "adaptive_formula": "窗口 i 读取 [floor(i*L_in/O), ceil((i+1)*L_in/O))（输入为空：没有窗口）",
        "unpool_range": "output_size 可取 {lo}..{hi}（与默认长度相差必须小于步长 {s}；以 output_size=[n] 传给 forward）",
        "at_this_length": "* 只在这个输入长度（{length}）下成立：位于自适应池化之后，它的窗口 [floor(i*L/O), ceil((i+1)*L/O)) "
        "随长度变化（W109）",
        "only_here": "；只在这个输入长度（{length}）下成立：自适应池化的窗口取决于它",
        "no_hop": "不固定：自适应池化的跳步是 L/O",
        "adaptive_here": "（此处 L={length}：跳步 L/O 为 {hop}，窗口长 {shortest} 到 {longest} 个样本）",
        "layer_n": "第 {index} 层",
        "explain_head_pool": "模型中的 {layer}（{type}），使用它实际的输入；y[{n}, {c}, {t}]：",
        "length_dependent": "感受野、跳步、偏移、前瞻：取决于输入长度（在{names}之后：自适应池化的窗口为 "
        "[floor(i*L/O), ceil((i+1)*L/O))，见 W109）",
    },
}  # fmt: skip

STACK_HEADERS_ZH = ("#", "名称", "层", "输入", "输出", "通道", "感受野", "跳步", "偏移", "累计感受野", "累计跳步",
                    "累计偏移", "乘加")  # fmt: skip
INSPECT_HEADERS_ZH = ("#", "名称", "类型", "参数", "输入", "输出", "预测", "累计感受野", "累计跳步", "累计偏移", "乘加")


def _t(lang: str, key: str, **values: Any) -> str:
    catalog = _TEXT.get(lang, _TEXT["en"])
    return catalog.get(key, _TEXT["en"][key]).format(**values)


def message(finding: Finding, lang: str = "en") -> str:
    """The sentence of a warning or note (``lang`` 'en' or 'zh')."""
    template = (_MESSAGES_ZH if lang == "zh" else _MESSAGES).get(finding.code)
    if template is None:
        return f"{finding.code}: {finding.values}"
    values = dict(finding.values)
    if finding.code == "W102" and "between_taps" in values:  # where the gaps lie, from the numbers
        t = translator(lang)
        values["why"] = t("gaps_join").join(gap_reasons(t, values))
    if finding.code == "W109":  # the numbers at this length, when it is known
        here = values.get("hop") is not None and values.get("length") is not None
        values["here"] = _t(lang, "adaptive_here", length=values["length"], hop=fraction_text(values.get("hop")),
                            shortest=values.get("shortest"), longest=values.get("longest")) if here else ""
    try:
        return template.format(**values)
    except (KeyError, IndexError):
        return f"{finding.code}: {finding.values}"


def to_json(report: Any, lang: str = "en") -> dict[str, Any]:
    """A report as a JSON-ready dict, every warning/note with its ``message``."""
    doc = report.to_dict() if hasattr(report, "to_dict") else to_jsonable(report)
    with_messages: dict[str, Any] = _add_messages(doc, lang)
    return with_messages


def _add_messages(value: Any, lang: str) -> Any:
    if isinstance(value, dict):
        out = {k: _add_messages(v, lang) for k, v in value.items()}
        if set(value) >= {"code", "layer", "values"} and isinstance(value.get("code"), str):
            out["message"] = message(Finding(value["code"], value["layer"], value["values"]), lang)
        return out
    if isinstance(value, list):
        return [_add_messages(v, lang) for v in value]
    return value


def fraction_text(value: Fraction | int | None) -> str:
    """``3``, ``1/4`` or ``-``.

    >>> fraction_text(Fraction(5, 2))
    '5/2'
    """
    if value is None:
        return "-"
    value = Fraction(value)
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, color: bool = False, title: str = "",
          width: int | None = None) -> str:
    """A table as text, drawn by rich (colour only when ``color``). Wider than ``width``
    display columns, it continues in blocks of columns below, each repeating the first
    column (the row number); see :func:`column_blocks`.

    >>> print(table(["#", "a", "b"], [[0, "xx", "yy"]], width=12))
    ┏━━━┳━━━━┓
    ┃ # ┃ a  ┃
    ┡━━━╇━━━━┩
    │ 0 │ xx │
    └───┴────┘
    <BLANKLINE>
    ┏━━━┳━━━━┓
    ┃ # ┃ b  ┃
    ┡━━━╇━━━━┩
    │ 0 │ yy │
    └───┴────┘
    """
    cells = [["-" if cell is None else str(cell) for cell in row] for row in rows]
    collected = _COLLECTED.get()
    if collected is not None:  # an HTML view is being made: it draws the table (tables_collected)
        collected.append((tuple(headers), cells))
        return TABLE_MARK.format(len(collected) - 1)
    blocks = [list(range(len(headers)))] if width is None else column_blocks(headers, cells, width)
    return "\n\n".join(
        _rich_table([headers[i] for i in block], [[row[i] for i in block] for row in cells], block, color,
                    title if n == 0 else "", width or 200)
        for n, block in enumerate(blocks)
    )  # fmt: skip


#: a table as :func:`table` was given it: its headers, and its cells as the text shows them
TableCells = tuple[tuple[str, ...], list[list[str]]]
#: the line :func:`table` returns for the n-th table while :func:`tables_collected` collects them
TABLE_MARK = "\x00convtrace-table {}\x00"
_COLLECTED: ContextVar[list[TableCells] | None] = ContextVar("convtrace_collected_tables", default=None)


@contextmanager
def tables_collected() -> Iterator[list[TableCells]]:
    """Within it :func:`table` draws nothing: it appends its headers and cells to the list
    this yields and returns the line ``TABLE_MARK.format(n)`` of the n-th table, where an
    HTML view puts the table (see :mod:`convtrace.render.report_html`). The text around the
    tables is the text's own.

    >>> with tables_collected() as tables:
    ...     text = "head\\n" + table(["#", "a"], [[0, None]])
    >>> text == "head\\n" + TABLE_MARK.format(0), tables
    (True, [(('#', 'a'), [['0', '-']])])
    """
    tables: list[TableCells] = []
    token = _COLLECTED.set(tables)
    try:
        yield tables
    finally:
        _COLLECTED.reset(token)


def right_aligned(column: int) -> bool:
    """Whether a report table's ``column`` (0-based) is right-aligned: the first three
    (number, name, layer) hold words, the others numbers.

    >>> [right_aligned(i) for i in range(4)]
    [False, False, False, True]
    """
    return column >= 3


def column_blocks(headers: Sequence[str], cells: Sequence[Sequence[str]], width: int) -> list[list[int]]:
    """The columns in blocks that each fit ``width`` display columns when drawn (a column
    takes its widest entry plus 3), every block starting with column 0; a column too wide
    for any block gets one of its own (rich folds it).

    >>> column_blocks(["#", "a", "b", "c"], [["0", "xxxx", "yyyy", "zz"]], 20)
    [[0, 1, 2], [0, 3]]
    """
    from .textwidth import display_width

    need = [max([display_width(head)] + [display_width(row[i]) for row in cells]) + 3
            for i, head in enumerate(headers)]
    start = 1 + need[0]
    blocks: list[list[int]] = []
    current, used = [0], start
    for i in range(1, len(headers)):
        if len(current) > 1 and used + need[i] > width:
            blocks.append(current)
            current, used = [0], start
        current.append(i)
        used += need[i]
    blocks.append(current)
    return blocks


def _rich_table(headers: Sequence[str], rows: Sequence[Sequence[str]], columns: Sequence[int], color: bool,
                title: str, width: int) -> str:
    from rich.console import Console
    from rich.table import Table

    grid = Table(title=title or None, show_lines=False, header_style="bold" if color else "")
    for head, index in zip(headers, columns):
        grid.add_column(head, justify="right" if right_aligned(index) else "left", overflow="fold")
    for row in rows:
        grid.add_row(*row)
    buffer = io.StringIO()
    # force_jupyter=False: in a notebook kernel rich would display the table itself, not write it here
    console = Console(file=buffer, width=width, color_system="standard" if color else None, force_terminal=color,
                      legacy_windows=False, force_jupyter=False)  # fmt: skip
    console.print(grid)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines())


class _Verbatim(str):
    """A line printed as it is, however wide (code)."""


class _Prose(str):
    """A line of words, wrapped at spaces even where it holds a `` = `` (not a formula)."""


def _fitted(lines: Sequence[str], width: int | None) -> str:
    """The report's lines joined, each line of prose wrapped at spaces to ``width`` display
    columns with its continuation indented two more, a formula as the explainer breaks its
    sums (tables, several lines each, are fitted already; code is kept as written).

    >>> print(_fitted(["  depends on input [2t - 10, 2t + 11]"], 24))
      depends on input
        [2t - 10, 2t + 11]
    >>> print(_fitted(["  L = 1 + 2 + 3 + 4", _Verbatim("  y = f(1 + 2 + 3 + 4)")], 14))
      L = 1 + 2
        + 3 + 4
      y = f(1 + 2 + 3 + 4)
    """
    if width is None:
        return "\n".join(lines)
    from .text import wrap_lines
    from .textwidth import display_wrap

    out: list[str] = []
    for line in lines:
        if "\n" in line or isinstance(line, _Verbatim):
            out.append(line)
            continue
        if " = " in line and not isinstance(line, _Prose):  # a formula: broken before a + (or -), aligned after its =
            out += wrap_lines([line], width)
            continue
        indent = " " * (len(line) - len(line.lstrip(" ")))
        text = line.strip().replace(" - ", _KEEP_MINUS).replace(" + ", _KEEP_PLUS)  # 2t - 10 stays whole
        text = _INTERVAL.sub(lambda m: m.group(0).replace(", ", _KEEP_COMMA), text)  # so does [1, 4)
        first = display_wrap(text, width - len(indent))[0]
        parts = [indent + first]
        rest = text[len(first) :].strip()
        if rest:
            parts += [indent + "  " + part for part in display_wrap(rest, width - len(indent) - 2)]
        out += [part.replace(_KEEP_MINUS, " - ").replace(_KEEP_PLUS, " + ").replace(_KEEP_COMMA, ", ") for part in parts]
    return "\n".join(out)


# " - " and " + " while wrapping: word joiners around the sign (no break there, same width)
_KEEP_MINUS, _KEEP_PLUS = "\u2060-\u2060", "\u2060+\u2060"
# ", " inside an interval [a, b) while wrapping
_KEEP_COMMA = ",\u2060"
_INTERVAL = re.compile(r"\[-?\d+, -?\d+\)")


def _warnings(findings: Sequence[Finding], lang: str = "en", head: str = "warnings") -> list[str]:
    """One line per warning kind (code and numbers), listing the layers it concerns."""
    if not findings:
        return []
    groups: dict[tuple[str, str], list[Finding]] = {}
    for finding in findings:
        groups.setdefault((finding.code, repr(sorted(finding.values.items()))), []).append(finding)
    lines = [_t(lang, head) + ":"]
    for group in groups.values():
        finding = group[0]
        names = list(dict.fromkeys(f.layer for f in group if f.layer))
        where = f" [{_layer_list(names, lang)}]" if names else ""
        lines.append(f"  {finding.code}{where}: {message(finding, lang)}")
    return lines


def _layer_list(names: list[str], lang: str, shown: int = 6) -> str:
    """``a``, ``a, b`` or ``13 layers: a, b, ... and 7 more``.

    >>> _layer_list(["a", "b"], "en"), _layer_list([str(i) for i in range(9)], "en", 3)
    ('a, b', '9 layers: 0, 1, 2 and 6 more')
    """
    if len(names) <= 2:
        return ", ".join(names)
    text = ", ".join(names[:shown])
    if len(names) > shown:
        text = _t(lang, "and_more", names=text, more=len(names) - shown)
    return _t(lang, "in_layers", count=len(names), names=text)


# ---------------------------------------------------------------------- shape

def render_shape(report: Any, lang: str = "en", width: int | None = None) -> str:
    """``convtrace shape``: the length with its formula, the output_size range, the dropped
    tail and the inverse (fitted to ``width`` display columns when given)."""
    from ..plan.layers import TORCH_NAMES

    layer = report.layer
    lines = [
        _t(lang, "shape_head", torch_name=TORCH_NAMES[layer.kind], spec=layer.describe(), n=report.in_length,
           out=report.out_length),
        f"  {report.formula}",
        f"  {report.substituted}",
    ]  # fmt: skip
    lines += _pool_lines(report, lang)
    if report.output_size_range is not None and layer.kind == "convT":
        lo, hi = report.output_size_range
        lines.append(_t(lang, "size_range", lo=lo, hi=hi, extra=hi - lo))
    if not layer.scatters:
        count = report.unreached_count
        if report.dropped_tail:
            first = report.in_length - report.dropped_tail
            lines.append(_t(lang, "tail", samples=report.dropped_tail, first=first, last=report.in_length - 1))
        else:
            lines.append(_t(lang, "no_tail"))
        if count is not None and count > report.dropped_tail:
            lines.append(_t(lang, "unread", count=count, gaps=count - report.dropped_tail))
    if report.want is not None:
        lines.append(_inverse_line(report, lang))
    return _fitted(lines + _warnings(report.warnings, lang), width)


def _pool_lines(report: Any, lang: str) -> list[str]:
    """A pool's rules with the numbers: ceil_mode's last window, LPPool1d's padding 0, an
    adaptive pool's windows, MaxUnpool1d's output_size range."""
    layer = report.layer
    lines: list[str] = []
    rule = report.ceil_rule
    if rule is not None:
        values = {"w": rule.window, "s": layer.stride, "p": rule.padding, "start": rule.start, "length": rule.length,
                  "out": report.out_length}  # fmt: skip
        lines.append(_Prose(_t(lang, "ceil_dropped" if rule.dropped else "ceil_kept", **values)))
    if layer.kind == "lppool":
        lines.append(_Prose(_t(lang, "lp_length")))
    if report.windows:
        n, o = report.in_length, report.out_length
        shown = [f"[{a}, {b})" for a, b in report.windows]
        if report.window_count > len(report.windows):
            shown.insert(-1, "…")
        first = report.windows[0]
        lines.append(_Prose(_t(lang, "adaptive_windows", n=n, o=o, windows=", ".join(shown),
                               hop=fraction_text(Fraction(n, o)), a=first[0], b=first[1])))  # fmt: skip
    elif layer.length_dependent:
        lines.append(_Prose(_t(lang, "adaptive_formula")))
    if layer.kind == "maxunpool" and report.output_size_range is not None:
        lo, hi = report.output_size_range
        lines.append(_Prose(_t(lang, "unpool_range", lo=lo, hi=hi, s=layer.stride)))
    return lines


def _inverse_line(report: Any, lang: str) -> str:
    if report.inverse:
        lo, hi = report.inverse[0]
        return _t(lang, "inverse", want=report.want, span=f"{lo}" if lo == hi else f"{lo}..{hi}")
    text = _t(lang, "no_inverse", want=report.want)
    if report.inverse_with_output_size:
        text += _t(lang, "by_size", want=report.want, n=report.inverse_with_output_size[0][0])
    return text


# ---------------------------------------------------------------------- solve

def render_solve(report: Any, lang: str = "en", width: int | None = None) -> str:
    """``convtrace solve``: the goal, then each solution best first with its snippet."""
    params = ", ".join(f"{k}={v}" for k, v in report.parameters.items() if v not in (None, False))
    lines = [_t(lang, "solve_head", goal=report.goal, params=params, rule=report.rule),
             _t(lang, "solve_count", count=report.count, shown=len(report.solutions))]  # fmt: skip
    lines += ["  " + line for line in _warnings(report.warnings, lang, "note")]
    for index, sol in enumerate(report.solutions, 1):
        extra = []
        if sol.other_lengths:
            extra.append(_t(lang, "other", value=sol.other_lengths))
        if sol.restores and sol.restores != "all":
            extra.append(_t(lang, "restores", value=sol.restores))
        lines.append(f"{index}. {sol.layer.describe()}" + (f"   ({'; '.join(extra)})" if extra else ""))
        lines += [f"   {finding.code}: {message(finding, lang)}" for finding in sol.notes]
        lines += [_Verbatim("     " + code) for code in sol.snippet.rstrip().splitlines()]
    return _fitted(lines, width)


# ---------------------------------------------------------------------- stack

def _depends_text(hop: Fraction, offset: Fraction, field: Fraction) -> str:
    first = _affine(hop, -offset)
    last = _affine(hop, field - 1 - offset)
    return f"[{first}, {last}]"


def _affine(hop: Fraction, constant: Fraction) -> str:
    if hop == 1:
        slope = "t"
    elif hop.denominator == 1:
        slope = f"{hop.numerator}t"
    elif hop.numerator == 1:
        slope = f"t/{hop.denominator}"
    else:
        slope = f"t*{fraction_text(hop)}"
    if constant == 0:
        return slope
    sign = "+" if constant > 0 else "-"
    return f"{slope} {sign} {fraction_text(abs(constant))}"


def stack_rows(layers: Sequence[Any]) -> list[list[Any]]:
    """One table row per layer report."""
    rows = []
    for r in layers:
        rows.append([
            r.index, r.name if r.name != str(r.index) else "", r.spec, r.in_length, r.out_length,
            r.out_channels, r.receptive_field, fraction_text(r.hop), fraction_text(r.offset),
            fraction_text(r.receptive_field_so_far), fraction_text(r.hop_so_far), fraction_text(r.offset_so_far),
            f"{r.macs:,}",
        ])  # fmt: skip
    return rows


STACK_HEADERS = ("#", "name", "layer", "in", "out", "ch", "rf", "hop", "offset", "rf so far", "hop so far",
                 "offset so far", "MACs")  # fmt: skip


def render_stack(report: Any, *, color: bool = False, lang: str = "en", width: int | None = None) -> str:
    """The stack report: the table, then the stack's figures in words (fitted to ``width``
    display columns when given)."""
    channels = _t(lang, "channel" if report.in_channels == 1 else "channels")
    out = _t(lang, "an_error") if report.out_length is None else _t(lang, "samples", n=report.out_length)
    lines = [_t(lang, "stack_head", n=report.in_length, c=report.in_channels, channels=channels, out=out)]
    headers = STACK_HEADERS_ZH if lang == "zh" else STACK_HEADERS
    lines.append(table(headers, stack_rows(report.layers), color=color, width=width))
    if report.error is not None:
        lines.append(_t(lang, "error_at", index=report.error_layer, error=report.error))
    lines += _figure_lines(report, lang)
    lines.append(_t(lang, "macs", macs=f"{report.macs:,}", batch=report.batch, params=f"{report.parameters:,}"))
    for r in report.layers:
        if r.feeds is not None:
            a, b = r.feeds
            lines.append(_t(lang, "feeds", index=r.index, spec=r.spec, s=r.upsampling, a=_signed(a), b=_signed(b)))
    return _fitted(lines + _warnings(report.warnings, lang), width)


def _signed(value: int) -> str:
    return f"+ {value}" if value >= 0 else f"- {-value}"


def _figure_lines(report: Any, lang: str) -> list[str]:
    rf, hop, offset = report.receptive_field, report.hop, report.offset
    if rf is None or hop is None or offset is None:  # after an adaptive pool
        names = [_t(lang, "layer_n", index=r.index) if r.name == str(r.index) else r.name
                 for r in report.layers if r.layer.length_dependent]
        return [_t(lang, "length_dependent", names=_layer_list(names, lang))]
    line = _t(lang, "figures", rf=fraction_text(rf), hop=fraction_text(hop), offset=fraction_text(offset),
              range=_depends_text(hop, offset, rf))  # fmt: skip
    lines = [line + ("" if report.exact else _t(lang, "bound", span=report.max_span))]
    if hop < 1:
        lines.append(_t(lang, "upsampling", factor=fraction_text(report.upsampling)))
    look = fraction_text(report.lookahead)
    lines.append(_t(lang, "causal" if report.causal else "not_causal", look=look))
    return lines


# ---------------------------------------------------------------------- inspect

INSPECT_HEADERS = ("#", "name", "type", "parameters", "in", "out", "predicted", "rf so far", "hop so far",
                   "offset so far", "MACs")  # fmt: skip


def render_inspect(report: Any, *, color: bool = False, lang: str = "en", width: int | None = None,
                   unit: str | None = None) -> str:  # fmt: skip
    """``convtrace inspect``: every recorded call, then the model's figures and warnings
    (fitted to ``width`` display columns when given). Lengths are counted in ``unit`` (by
    default "input steps": samples, frames or tokens, whatever the input's time axis holds)."""
    def here(c: Any, value: Any) -> str:  # "*": at this input length only (after an adaptive pool)
        return fraction_text(value) + ("*" if c.length_dependent and value is not None else "")

    rows = [
        [c.index, c.name if c.name == c.module or not c.module else f"{c.name} ({c.module})", c.type, c.layer.describe(),
         "x".join(map(str, c.in_shape)), "x".join(map(str, c.out_shape)),
         "-" if c.predicted_out_length is None else c.predicted_out_length, here(c, c.receptive_field),
         here(c, c.hop), here(c, c.offset), f"{c.macs:,}"]
        for c in report.calls
    ]  # fmt: skip
    unit = unit or _t(lang, "input_steps")
    shape = "x".join(map(str, report.input_shape))
    where = _t(lang, "on_meta") if report.device == "meta" else _t(lang, "on_device", device=report.device)
    lines = [_t(lang, "inspect_head", model=report.model, shape=shape, dim=report.time_dim, where=where)]
    if rows:
        lines.append(table(INSPECT_HEADERS_ZH if lang == "zh" else INSPECT_HEADERS, rows, color=color, width=width))
        if any(c.length_dependent for c in report.calls):
            lines.append(_t(lang, "at_this_length", length=report.input_shape[report.time_dim]))
    else:
        lines.append(_t(lang, "no_calls"))
    if report.error is not None:
        lines.append(_t(lang, "raised", error=report.error))
    else:
        lines.append(_t(lang, "output", length=report.output_length, shape=report.output_shape))
    global_kinds = list(dict.fromkeys(str(w.values.get("kind", "")) for w in report.warnings if w.code == "W107"))
    path = _t(lang, "conv_path", kinds=", ".join(global_kinds)) if global_kinds else ""
    if report.receptive_field is not None and report.hop is not None and report.offset is not None:
        kind = _t(lang, "chain" if report.chain else "branches") + (_t(lang, "conv_only") if global_kinds else "")
        if report.length_dependent:
            kind += _t(lang, "only_here", length=report.input_shape[report.time_dim])
        lines.append(_t(lang, "model_figures", rf=fraction_text(report.receptive_field), hop=fraction_text(report.hop),
                        offset=fraction_text(report.offset), kind=kind, unit=unit,
                        range=_depends_text(report.hop, report.offset, report.receptive_field)))  # fmt: skip
        look = fraction_text(report.lookahead)
        lines.append(_t(lang, "model_causal" if report.causal else "model_not_causal", look=look, unit=unit) + path)
    lines.append(_t(lang, "model_macs", macs=f"{report.macs:,}", params=f"{report.parameter_count:,}"))
    return _fitted(lines + _warnings(report.warnings, lang), width)


def render_length_map(result: Any, lang: str = "en", width: int | None = None) -> str:
    """``inspect --lengths``: one line per run of consecutive input lengths with the same
    outcome (``16000..16079 -> 49``), then how the lengths were found."""
    hop = _t(lang, "no_hop") if getattr(result, "length_dependent", False) else fraction_text(result.hop)
    lines = [_t(lang, "map_head", model=result.model, hop=hop)]
    for group in _runs(result.entries):
        first, last = group[0], group[-1]
        span = f"{first.length}" if len(group) == 1 else f"{first.length}..{last.length}"
        if first.error is not None:
            lines.append(f"  {span:>13} -> " + _t(lang, "map_error", error=first.error))
            continue
        mark = ""
        if first.as_promised is False:
            promised = _decimal(first.promised)
            if len(group) > 1:
                promised += f"..{_decimal(last.promised)}"
            mark = _t(lang, "promise", value=promised)
        lines.append(f"  {span:>13} -> {first.output_length}{mark}")
    if result.off_promise:
        lines.append(_t(lang, "off", count=len(result.off_promise)))
    if result.method == "arithmetic":
        lines.append(_t(lang, "by_arithmetic", confirmed=_spans(result.confirmed)))
    else:
        lines.append(_t(lang, "by_runs", reason=result.reason or "-"))
    return _fitted(lines + _warnings(result.warnings, lang), width)


def _decimal(value: Fraction | None) -> str:
    """``2``, ``2.9``, ``3.33``."""
    if value is None:
        return "-"
    return str(value.numerator) if value.denominator == 1 else f"{float(value):.3g}"


def _runs(entries: Sequence[Any]) -> list[list[Any]]:
    """Consecutive input lengths with the same output and promise status, or the same
    error (its numbers aside: the first one's is shown)."""

    def key(entry: Any) -> tuple[Any, ...]:
        error = None if entry.error is None else re.sub(r"\d+", "#", entry.error)
        return (entry.output_length, error, entry.as_promised)

    groups: list[list[Any]] = []
    for entry in entries:
        if groups:
            prev = groups[-1][-1]
            if key(entry) == key(prev) and entry.length == prev.length + 1:
                groups[-1].append(entry)
                continue
        groups.append([entry])
    return groups


def _spans(values: Sequence[int]) -> str:
    """``1000, 1050..1052``: sorted integers, consecutive ones as a range.

    >>> _spans([1000, 1050, 1051, 1052])
    '1000, 1050..1052'
    """
    parts: list[list[int]] = []
    for v in sorted(values):
        if parts and v == parts[-1][-1] + 1:
            parts[-1].append(v)
        else:
            parts.append([v])
    return ", ".join(str(p[0]) if len(p) == 1 else f"{p[0]}..{p[-1]}" for p in parts)


def render_layer_explanation(result: Any, lang: str = "en") -> str:
    """``inspect --explain``: convtrace's steps, then PyTorch's value beside convtrace's."""
    from .text import render_text

    head, foot = layer_explanation_ends(result, lang)
    return "\n".join([head, render_text(result.trace, lang), foot])


def layer_explanation_ends(result: Any, lang: str = "en") -> tuple[str, str]:
    """The line above an explained layer's steps (which layer, which element) and the line
    below them (convtrace's value beside PyTorch's)."""
    n, c, t = result.at
    verdict = _t(lang, "equal" if result.match else "different")
    key = "explain_head" if result.type in ("Conv1d", "ConvTranspose1d") else "explain_head_pool"
    head = _t(lang, key, layer=result.layer, type=result.type, n=n, c=c, t=t)
    return head, f"convtrace: {result.value:.9g}   PyTorch: {result.torch_value:.9g}   ({verdict})"


def _register_views() -> None:
    """``print(report)`` and ``report.render(lang)`` of the planner's and the inspector's
    reports (see :class:`convtrace.plan.report.Shown`)."""
    TEXT_VIEWS["ShapeReport"] = lambda r, lang="en", width=None, **o: render_shape(r, lang, width)
    TEXT_VIEWS["SolveReport"] = lambda r, lang="en", width=None, **o: render_solve(r, lang, width)
    TEXT_VIEWS["StackReport"] = lambda r, lang="en", width=None, **o: render_stack(r, lang=lang, width=width, **o)
    TEXT_VIEWS["InspectReport"] = lambda r, lang="en", width=None, **o: render_inspect(r, lang=lang, width=width, **o)
    TEXT_VIEWS["LengthMap"] = lambda r, lang="en", width=None, **o: render_length_map(r, lang, width)
    TEXT_VIEWS["LayerExplanation"] = lambda r, lang="en", width=None, **o: render_layer_explanation(r, lang)


_register_views()
