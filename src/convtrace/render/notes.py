"""The words of a trace's notes: each :class:`~convtrace.trace.model.Note` is a code with
numbers; this module says it in English or Chinese.

>>> from convtrace.trace.build import explain
>>> t = explain([1, 2, 3, 4, 5], [1, 1], stride=2)
>>> [note_text(t, n) for n in t.notes]
['the last input sample (index 4) is read by no output: the last sample any window reads is index 3 (PyTorch drops it silently)']
>>> [note_text(t, n, "zh") for n in t.notes]
['最后 1 个输入样本（下标 4）没有被任何输出读到：任何窗口读到的最后一个样本是下标 3（PyTorch 会悄悄丢弃这段尾巴）']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..trace.model import Note, PoolTrace, Trace
from .i18n import translator

__all__ = ["note_text", "note_texts", "gap_reasons"]

_Words = Callable[[Trace, dict[str, Any]], str]
_AnyTrace = Trace | PoolTrace


def _indices(values: list[int], count: int) -> str:
    return ", ".join(str(i) for i in values[:8]) + (", ..." if count > 8 else "")


def _summary(trace: Trace, v: dict[str, Any], zh: bool) -> str:
    positions = ", ".join(str(k[2]) for k in v["shown"])
    if zh:
        return (f"输出共有 {v['elements']} 个元素：只展示第 0 个样本、第 0 个输出通道在位置 {positions} 的步骤；"
                "用 at=(n, c, t) 解释其他任意元素")
    return (f"the output has {v['elements']} elements: steps are shown for output channel 0 of batch "
            f"item 0 at positions {positions}; pass at=(n, c, t) to explain any other element")


def _not_computed(trace: Trace, v: dict[str, Any], zh: bool) -> str:
    spec = trace.spec
    elements = spec.batch * spec.out_channels * spec.out_length
    if zh:
        return f"没有计算整个输出（{elements} 个元素，{v['multiply_adds']} 次乘加）：每个被解释的元素单独计算"
    return (f"the whole output ({elements} elements, {v['multiply_adds']} multiply-adds) was not computed: "
            "each explained element was computed on its own")


def _same_split(trace: Trace, v: dict[str, Any], zh: bool) -> str:
    left, right = v["left"], v["right"]
    if zh:
        return f"padding='same' 需要补 {left + right} 个样本：左边 {left} 个，右边 {right} 个（多出的一个在右边，与 PyTorch 相同）"
    return (f"padding='same' needs {left + right} padded samples: {left} on the left, {right} on the right "
            "(the odd one on the right, as PyTorch)")


def _dropped_tail(trace: Trace, v: dict[str, Any], zh: bool) -> str:
    count, first, last, read = v["count"], v["indices"][0], v["indices"][-1], v["last_read"]
    where = f"{first}..{last}" if count > 1 else f"{first}"
    if read < 0:
        if zh:
            return f"{count} 个输入样本（下标 {where}）全都没有被任何输出读到：每个窗口的每个抽头都落在补的 0 上"
        return (f"none of the {count} input samples (index {where}) is read by any output: every tap of every "
                "window lands on zero padding")
    if zh:
        return (f"最后 {count} 个输入样本（下标 {where}）没有被任何输出读到：任何窗口读到的最后一个样本是下标 {read}"
                "（PyTorch 会悄悄丢弃这段尾巴）")
    if count > 1:
        return (f"the last {count} input samples (index {where}) are read by no output: the last sample any "
                f"window reads is index {read} (PyTorch drops this tail silently)")
    return (f"the last input sample (index {where}) is read by no output: the last sample any window reads is "
            f"index {read} (PyTorch drops it silently)")


def gap_reasons(t: Callable[..., str], gaps: Mapping[str, Any]) -> list[str]:
    """Where the gaps of an ``unreached`` note lie, one phrase per kind present, from its
    numbers (``t`` looks a sentence of :data:`~convtrace.render.i18n.CATALOG` up).

    >>> from convtrace.render.i18n import translator
    >>> gap_reasons(translator("en"), {"between_taps": 0, "between_windows": 2, "after_windows": 0,
    ...                                "stride": 4, "span": 3, "dilation": 1})
    ["2 between windows (stride=4 is larger than a window's span of 3)"]
    """
    reasons = []
    if gaps["between_taps"]:
        reasons.append(t("gaps_taps", n=gaps["between_taps"], dilation=gaps["dilation"], span=gaps["span"]))
    if gaps["between_windows"]:
        reasons.append(t("gaps_windows", n=gaps["between_windows"], stride=gaps["stride"], span=gaps["span"]))
    if gaps["after_windows"]:
        reasons.append(t("gaps_after", n=gaps["after_windows"]))
    return reasons


def _unreached(trace: Trace, v: dict[str, Any], zh: bool) -> str:
    count = v["count"]
    t = translator("zh" if zh else "en")
    why = t("gaps_join").join(gap_reasons(t, v))
    if zh:
        return f"{count} 个输入样本（下标 {_indices(v['indices'], count)}）没有被任何输出读到：{why}"
    if count > 1:
        return f"{count} input samples (index {_indices(v['indices'], count)}) are read by no output: {why}"
    return f"1 input sample (index {v['indices'][0]}) is read by no output: {why}"


def _unreached_transposed(trace: Trace, v: dict[str, Any], zh: bool) -> str:
    count = v["count"]
    if zh:
        return f"{count} 个输入样本（下标 {_indices(v['indices'], count)}）不影响任何输出：它们散射出的乘积全都落在被裁掉的位置上"
    return (f"{count} input sample{'s' if count > 1 else ''} (index {_indices(v['indices'], count)}) affect"
            f"{'' if count > 1 else 's'} no output: every product scattered from {'them' if count > 1 else 'it'} "
            "lands on a cropped position")


def _views_skipped(trace: Trace, v: dict[str, Any], zh: bool) -> str:
    if zh:
        return "ConvTranspose1d 的四个视角需要整个输出：换一个较小的输入（或去掉 at=）即可看到"
    return ("the four ConvTranspose1d views need the whole output: explain a smaller input "
            "(or without at=) to see them")


def _uneven(trace: Trace, v: dict[str, Any], zh: bool) -> str:
    counts = ", ".join(str(c) for c in sorted(set(v["overlap"])))
    if zh:
        return (f"卷积核抽头的重叠不均匀（内部每个输出位置 {counts} 个）：这就是棋盘格伪影的来源"
                "（kernel_size 能被 stride 整除即可避免）")
    return (f"the kernel taps overlap unevenly ({counts} per output position in the interior): the source "
            "of checkerboard artefacts (kernel_size divisible by stride avoids it)")


def _length_change(trace: Trace, v: dict[str, Any], zh: bool) -> str:
    left, right = v["same_split"]
    spec = trace.spec
    split = f"{left} + {right}" if left == right else f"{left} on the left + {right} on the right"
    if zh:
        split = f"左 {left} + 右 {right}"
        return (f"输出有 {v['out_length']} 个样本，输入有 {v['length']} 个：要保持长度，用 padding='same'"
                f"（kernel_size={spec.kernel_size}、dilation={spec.dilation} 时 PyTorch 补 {split}）")
    return (f"the output has {v['out_length']} samples, the input {v['length']}: to keep the length use "
            f"padding='same' (for kernel_size={spec.kernel_size}, dilation={spec.dilation} PyTorch pads {split})")


def _placements(trace: Trace, v: dict[str, Any], zh: bool) -> str:
    if zh:
        return f"散射相加的摆放未列出：超过 {v['limit']} 个抽头"
    return f"the scatter-add placements are not listed: more than {v['limit']} taps"


# -- pools (issue 17)


def _ceil_dropped(trace: _AnyTrace, v: dict[str, Any], zh: bool) -> str:
    if zh:
        return (f"ceil_mode：向上取整得到 {v['docs_length']} 个窗口（MaxPool1d 文档的公式），但第 {v['index']} 个窗口"
                f"会从填充位置 {v['start']} 开始，{v['start']} >= L + padding = {v['limit']}：窗口必须从输入或左填充内部开始，"
                f"PyTorch 丢弃它，输出长度 {v['out_length']}")
    return (f"ceil_mode: rounding up gives {v['docs_length']} windows (the MaxPool1d docstring's formula), but "
            f"window {v['index']} would start at padded position {v['start']} >= L + padding = {v['limit']}: a window "
            f"must start inside the input or the left padding, so PyTorch drops it and the output has "
            f"{v['out_length']}")


def _max_padding_dilation(trace: _AnyTrace, v: dict[str, Any], zh: bool) -> str:
    if zh:
        return (f"最大池化的填充检查忽略 dilation：padding={v['padding']} 只需 <= kernel_size/2 = {v['kernel_size']}/2，"
                f"尽管 dilation={v['dilation']} 时窗口跨 {v['span']} 个位置（PyTorch 的规则，照样复现）")
    return (f"max pooling's padding check ignores dilation: padding={v['padding']} need only be <= kernel_size/2 = "
            f"{v['kernel_size']}/2, though with dilation={v['dilation']} a window spans {v['span']} positions "
            "(PyTorch's rule, reproduced as is)")


def _lp_signed(trace: _AnyTrace, v: dict[str, Any], zh: bool) -> str:
    p = float(v["norm_type"])
    p = int(p) if p.is_integer() else p
    if zh:
        return (f"输入有负数：LPPool1d 计算 x^{p} 时不取绝对值（PyTorch 的规则）：p = 1 得到带符号的和，奇数 p 的负和得到 NaN")
    return (f"the input has negative values: LPPool1d raises x to the power {p} without abs (PyTorch's rule): p = 1 "
            "gives a signed sum, an odd p with a negative sum gives NaN")


def _lp_ceil_scale(trace: _AnyTrace, v: dict[str, Any], zh: bool) -> str:
    k, d = v["kernel_size"], v["divisor"]
    if zh:
        return (f"ceil_mode 的部分窗口（输出 {v['index']}）：PyTorch 把 Σx^p 除以 {d} 个计入的抽头再乘以 kernel_size = {k}，"
                f"即放大 {k}/{d} 倍（PyTorch 的规则，照样复现）")
    return (f"the ceil_mode partial window (output {v['index']}): PyTorch divides Σx^p by its {d} counted tap(s) and "
            f"multiplies by kernel_size = {k}, scaling it by {k}/{d} (PyTorch's rule, reproduced as is)")


def _adaptive(trace: _AnyTrace, v: dict[str, Any], zh: bool) -> str:
    lengths = ", ".join(str(n) for n in v["lengths"])
    if zh:
        return (f"自适应窗口 [floor(i·{v['length']}/{v['output_size']}), ceil((i+1)·{v['length']}/{v['output_size']}))："
                f"长度 {lengths}" + ("，相互重叠" if v["overlap"] else ""))
    return (f"adaptive windows [floor(i·{v['length']}/{v['output_size']}), ceil((i+1)·{v['length']}/{v['output_size']})): "
            f"lengths {lengths}" + (", overlapping" if v["overlap"] else ""))


def _unpool_collision(trace: _AnyTrace, v: dict[str, Any], zh: bool) -> str:
    where = _indices(v["positions"], v["count"])
    if zh:
        return f"冲突：{v['count']} 个输出位置（{where}）收到多个值：PyTorch 没有规定保留哪一个"
    return (f"collisions: {v['count']} output position(s) ({where}) receive more than one value: PyTorch does not "
            "specify which one stays")


_WORDS: dict[str, Callable[..., str]] = {
    "summary": _summary,
    "output_not_computed": _not_computed,
    "same_split": _same_split,
    "dropped_tail": _dropped_tail,
    "unreached": _unreached,
    "unreached_transposed": _unreached_transposed,
    "views_skipped": _views_skipped,
    "uneven_overlap": _uneven,
    "placements_skipped": _placements,
    "length_change": _length_change,
    "ceil_dropped_window": _ceil_dropped,
    "max_padding_dilation": _max_padding_dilation,
    "lp_signed": _lp_signed,
    "lp_ceil_scale": _lp_ceil_scale,
    "adaptive_windows": _adaptive,
    "unpool_collision": _unpool_collision,
}


def note_text(trace: _AnyTrace, note: Note, lang: str = "en") -> str:
    """One note in words (``lang`` 'en' or 'zh'); an unknown code is shown as its data."""
    words = _WORDS.get(note.code)
    if words is None:
        return f"{note.code}: {note.values}"
    return words(trace, dict(note.values), lang == "zh")


def note_texts(trace: _AnyTrace, lang: str = "en") -> list[str]:
    """Every note of ``trace`` in words."""
    return [note_text(trace, n, lang) for n in trace.notes]
