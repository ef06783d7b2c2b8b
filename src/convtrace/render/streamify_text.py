"""Text of a streamed PyTorch model (issue 19, ``convtrace stream pkg.mod:factory
--input-shape ... [--check]``), in English or Chinese: what ``convtrace.streamify`` makes of
the model — its figures and its state tensors (the initial cache shapes of an exported
``step``), or the refusal with the module, the op, the reason and the fix — and the proof
(:func:`convtrace.stream.verify` on the model) with the module a failure names.

>>> from convtrace.inspect.stream_model import Refused, StreamifySummary
>>> s = StreamifySummary((1, 1, 100), -1, "float32", 1, False, None, None, None, None, (), 0,
...                      Refused("rnn", "LSTM", "recurrence over time", None, "rnn=LSTM: recurrence over time"))
>>> print(render_streamify(s, width=80))
streamify: REFUSED at module rnn (op LSTM): recurrence over time
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .plan_text import _fitted, fraction_text, table
from .stream_text import check_json, render_check

__all__ = ["render_streamify", "render_model_check", "streamify_json", "STATE_HEADERS", "STATE_HEADERS_ZH"]

# ---- streamify (issue 19): the words of a streamed model, English and Chinese
_TEXT = {
    "en": {
        "streams": "streamify: streams: the model's own forward, chunk by chunk ({dtype}, batch {batch})",
        "figures": "  latency {latency} input samples, lookahead {look}, hop {hop}, receptive field {rf}",
        "state": "  state: {count} tensors, {bytes} bytes: sm.initial_state({batch}) returns them in this order "
        "(the inputs and outputs of an exported sm.step: the initial cache shapes)",
        "stateless": "  state: none (every output reads its own chunk only)",
        "refused": "streamify: REFUSED at module {module} (op {op}): {reason}",
        "fix": "  fix: {fix}",
        "wrong": "first wrong sample: module {name} (call {layer} in the order calls finish), output {sample}, "
        "channel {channel}: streamed {streamed}, offline {offline}; likely cause: {cause} (push {push})",
        "emission": "emitted after each push (trial 1): {emitted}; earliest possible: {earliest}",
    },
    "zh": {
        "streams": "streamify：可以流式运行：逐块运行模型自己的 forward（{dtype}，批大小 {batch}）",
        "figures": "  延迟 {latency} 个输入样本，前瞻 {look}，跳步 {hop}，感受野 {rf}",
        "state": "  状态：{count} 个张量，共 {bytes} 字节：sm.initial_state({batch}) 按此顺序返回"
        "（导出的 sm.step 的输入和输出：初始缓存的形状）",
        "stateless": "  状态：无（每个输出只读它自己的块）",
        "refused": "streamify：拒绝，模块 {module}（运算 {op}）：{reason}",
        "fix": "  改法：{fix}",
        "wrong": "第一个错误样本：模块 {name}（按调用结束顺序的第 {layer} 个调用），输出 {sample}，通道 {channel}："
        "流式 {streamed}，离线 {offline}；可能原因：{cause}（第 {push} 次 push）",
        "emission": "每次 push 后给出的输出（第 1 次试验）：{emitted}；最早可能：{earliest}",
    },
}  # fmt: skip
_CAUSES_ZH = {
    "cache": "缓存（块之间保留的样本）",
    "transposed_tail": "ConvTranspose1d 的重叠相加尾部",
    "bias_twice": "偏置被加了两次",
    "misalignment": "错位（输出偏移或长度不对）",
}
_CAUSES = {
    "cache": "the cache (samples kept between pushes)",
    "transposed_tail": "the ConvTranspose1d overlap-add tail",
    "bias_twice": "the bias counted twice",
    "misalignment": "misalignment (outputs shifted or of the wrong length)",
}
STATE_HEADERS = ("#", "state", "shape", "dtype", "bytes")
STATE_HEADERS_ZH = ("#", "状态", "形状", "类型", "字节")


def _t(lang: str, key: str, **values: Any) -> str:
    catalog = _TEXT.get(lang, _TEXT["en"])
    return catalog.get(key, _TEXT["en"][key]).format(**values)


def _number(value: Any) -> str:
    return "-" if value is None else fraction_text(value)


def render_streamify(summary: Any, *, lang: str = "en", width: int | None = None, color: bool = False) -> str:
    """What streamify made of the model (:class:`convtrace.inspect.stream_model.StreamifySummary`)."""
    refused = summary.refused
    if refused is not None:
        lines = [_t(lang, "refused", module=refused.module, op=refused.op, reason=refused.reason)]
        if refused.fix:
            lines.append(_t(lang, "fix", fix=refused.fix))
        return _fitted(lines, width)
    lines = [_t(lang, "streams", dtype=summary.dtype, batch=summary.batch),
             _t(lang, "figures", latency=_number(summary.latency), look=_number(summary.lookahead),
                hop=_number(summary.hop), rf=_number(summary.receptive_field))]  # fmt: skip
    if not summary.state:
        lines.append(_t(lang, "stateless"))
        return _fitted(lines, width)
    lines.append(_t(lang, "state", count=len(summary.state), bytes=f"{summary.state_bytes:,}", batch=summary.batch))
    rows = [[i + 1, e.name, "(" + ", ".join(str(v) for v in e.shape) + ")", e.dtype, f"{e.bytes:,}"]
            for i, e in enumerate(summary.state)]  # fmt: skip
    text = _fitted(lines, width)
    return text + "\n" + table(STATE_HEADERS_ZH if lang == "zh" else STATE_HEADERS, rows, color=color, width=width).rstrip("\n")


def render_model_check(result: Any, *, lang: str = "en", width: int | None = None) -> str:
    """The proof on a model (a :class:`convtrace.stream.VerifyResult`): part 1's verdict and
    emission lines, the first trial's emission against the earliest possible, and a failure
    named by its module."""
    lines = [render_check(dataclasses.replace(result, first_wrong=None), lang=lang, width=width)]
    if result.emitted:
        shown = [(e, w) for e, w in zip(result.emitted[0], result.earliest[0]) if w >= 0][:12]
        lines.append(_fitted([_t(lang, "emission", emitted=[e for e, _ in shown], earliest=[w for _, w in shown])], width))
    wrong = result.first_wrong
    if wrong is not None:
        cause = (_CAUSES_ZH if lang == "zh" else _CAUSES)[wrong.cause]
        lines.append(_fitted([_t(lang, "wrong", name=wrong.layer_name, layer=wrong.layer, sample=wrong.sample,
                                 channel=wrong.channel, streamed=f"{wrong.streamed:.9g}", offline=f"{wrong.offline:.9g}",
                                 cause=cause, push=wrong.push)], width))  # fmt: skip
    return "\n".join(lines)


def streamify_json(summary: Any, check: Any = None) -> dict[str, Any]:
    """The streamify summary (and the proof, when run) as JSON-ready dicts."""
    doc: dict[str, Any] = {"streamify": summary.to_dict()}
    if check is not None:
        doc["check"] = check_json(check)
    return doc
