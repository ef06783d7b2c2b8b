"""Text of the streaming report (``convtrace stream``), in English or Chinese: a table per
layer, the totals in words, and each note (a code with numbers, see
:mod:`convtrace.stream.report`) as a sentence with its fix; JSON with each note's message.

>>> from convtrace.stream.report import report
>>> print(render_stream(report("conv k=3 p=causal", sample_rate=1000), width=80))
... # doctest: +ELLIPSIS
Streaming 1 layer (1 channel in, float32, batch 1) at 1000 Hz
...
algorithmic latency: 0 samples (0 ms) (the lookahead, or where longer: fed
...
lookahead: 0 samples (output t is final once input t*hop + 0 has arrived)
...
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from ..plan.report import TEXT_VIEWS, Finding
from .plan_text import _fitted, fraction_text, table

__all__ = ["message", "fix", "render_stream", "render_check", "to_json", "check_json", "HEADERS", "HEADERS_ZH"]

#: the reason of each refusal (R101) in Chinese; the English is the engine's (``timing.REFUSALS``)
_REFUSALS_ZH = {
    "circular": ("circular 填充在第一个输出之前就需要信号的末尾",
                 "改用 padding_mode='zeros'、'replicate' 或 'reflect'（或在流式运行前先填充整个信号）"),
    "adaptive": ("自适应池化的窗口取决于整个输入长度",
                 "改用固定池化（带 kernel_size 和 stride 的 MaxPool1d/AvgPool1d），或在结束时对流式输出运行它"),
    "unpool": ("MaxUnpool1d 需要它的 MaxPool1d 给出的下标（第二个输入）：不是单链中的层", None),
    "negative_mode_pad": ("负的（裁剪的）填充只在 constant 模式下能流式运行",
                          "用 constant 模式的填充层裁剪（负数的 ConstantPad1d）"),
    "padding_mode": ("ConvTranspose1d 只支持 padding_mode='zeros'", None),
}
_MESSAGES = {
    "R102": "{kind} over time: every output depends on the whole input, or on a state convtrace does not "
    "model",
    "R103": "a padding set from the input length: ({left_a}, {right_a}) for {length_a} steps, "
    "({left_b}, {right_b}) for {length_b}",
    "R104": "{op}: could not place it on the time axis, so whether it streams is unknown",
    "R105": "strided causal conv (k_eff={kernel}, stride={stride}) padded {left} on the left: {better} gives "
    "the same causality with {saved_samples} less latency in its own input; the net's latency {latency} -> "
    "{latency_better} input samples{ms}",
    "R106": "reflect padding of {left} on the left mirrors samples after the edge: the first output waits "
    "for sample {left}",
    "R105_alone": "strided causal conv (k_eff={kernel}, stride={stride}) padded {left} on the left: {better} gives "
    "the same causality with {saved_samples} less latency in its own input",
}
_MESSAGES_ZH = {
    "R102": "{kind} 作用于整个时间轴：每个输出都依赖全部输入，或依赖 convtrace 不建模的状态",
    "R103": "填充量由输入长度决定：{length_a} 步时为 ({left_a}, {right_a})，{length_b} 步时为 ({left_b}, {right_b})",
    "R104": "{op}：无法确定它在时间轴上的位置，因此不知道它能否流式运行",
    "R105": "带步长的因果卷积（k_eff={kernel}，stride={stride}）左边填充 {left}：改为 {better}，因果性不变，"
    "在它自己的输入上延迟少 {saved} 个样本；整个网络的延迟 {latency} -> {latency_better} 个输入样本{ms}",
    "R106": "左边 {left} 的 reflect 填充会镜像边缘之后的样本：第一个输出要等到第 {left} 个样本",
    "R105_alone": "带步长的因果卷积（k_eff={kernel}，stride={stride}）左边填充 {left}：改为 {better}，因果性不变，"
    "在它自己的输入上延迟少 {saved} 个样本",
}
_FIXES = {
    "R102": "normalise per frame (over channels) or with running (causal) statistics",
    "R102_attention": "attend causally over a bounded past, keeping a key/value cache between chunks",
    "R102_recurrence": "carry the recurrent state (h, c) from chunk to chunk: streamable, but outside what "
    "convtrace models",
    "R102_other": "make it causal, or run it on the streamed output at the end",
    "R103": "pad the right end once, when the stream ends (flush), not from the length seen so far",
    "R104": "write the op as a layer convtrace records, or check it by hand",
    "R105": "pad {better} on the left instead of {left}",
}
_FIXES_ZH = {
    "R102": "按帧（沿通道）归一化，或用滑动（因果）统计量",
    "R102_attention": "只对有限的过去做因果注意力，在块之间保留键值缓存",
    "R102_recurrence": "在块之间传递循环状态（h、c）：可以流式运行，但超出 convtrace 的建模范围",
    "R102_other": "改成因果的，或在结束时对流式输出运行它",
    "R103": "只在流结束时（flush）填充一次右端，而不是按目前看到的长度填充",
    "R104": "把这个操作写成 convtrace 能记录的层，或手工检查",
    "R105": "左边填充 {better} 而不是 {left}",
}
_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "head": "Streaming {count} {layers} ({c} {channels} in, {dtype}, batch {batch}){rate}",
        "head_model": "Streaming {net}: {count} recorded {layers} ({dtype}, batch {batch}){rate}",
        "steps": "(a model's \"samples\" are its input's time steps: audio samples, or frames of a mel input)",
        "layer": "layer", "layers": "layers", "channel": "channel", "channels": "channels",
        "at_rate": " at {rate} Hz",
        "streams": "streams: chunk by chunk, with exactly the offline result",
        "streams_model": "every recorded layer can stream chunk by chunk (the figures below; "
        "convtrace.streamify(model, input_shape) runs the model itself so)",
        "cannot": "cannot stream: {count} {layers} below ({names})",
        "latency": "algorithmic latency: {latency} samples{ms} (the lookahead, or where longer: fed chunks of one "
        "hop, {chunk} {samples}, the longest an input sample waits for the first output that reads it)",
        "advised": "with every k_eff - s advice below taken: {latency} samples{ms}",
        "lookahead": "lookahead: {look} samples (output t is final once input t*hop + {look} has arrived)",
        "hop": "hop {hop} {hop_samples}{ms}; minimum chunk {chunk} {samples} (any chunk size works, even 0 or 1)",
        "up_hop": "upsampling x{up}: {up} output samples per input sample; minimum chunk {chunk} {samples}",
        "first": "first output after {first} input samples{ms}",
        "first_one": "first output after the first input sample",
        "cache": "cache: {bytes} bytes in all ({dtype}, batch {batch}): each layer's left context, samples x "
        "channels",
        "rf": "receptive field {rf} samples",
        "graph": "branches joined: lookahead and latency through every path; each layer's cache is its own",
        "notes": "notes", "fix": "fix", "sample": "sample", "samples": "samples",
        "ms": " ({ms} ms)",
        "check_ok": "check: streamed in {trials} random chunk schedules of {length} samples ({dtype}), the "
        "output equals the offline one: largest difference {diff} (relative {rel}){torch}",
        "check_fail": "check FAILED: {trials} random chunk schedules of {length} samples ({dtype}): largest "
        "difference {diff} (relative {rel}){torch}",
        "check_torch": "; PyTorch's offline forward within {diff}",
        "check_torch_off": "; PyTorch's offline forward DIFFERS by {diff}",
        "check_early": "every output emitted by the first push after which all its inputs had arrived",
        "check_late": "emission: {late} pushes emitted fewer outputs than possible, {early} more",
        "check_wrong": "first wrong sample: layer {layer} ({name}), output {sample}, channel {channel}: streamed "
        "{streamed}, offline {offline}; likely cause: {cause} (push {push} of schedule {chunks})",
        "cause_cache": "the cache (samples kept between pushes)",
        "cause_transposed_tail": "the ConvTranspose1d overlap-add tail",
        "cause_bias_twice": "the bias counted twice",
        "cause_misalignment": "misalignment (outputs shifted or of the wrong length)",
    },
    "zh": {
        "head": "流式运行 {count} 层（输入 {c} 个通道，{dtype}，批大小 {batch}）{rate}",
        "head_model": "流式运行 {net}：记录到 {count} 层（{dtype}，批大小 {batch}）{rate}",
        "steps": "（模型的“样本”指其输入的时间步：音频样本，或梅尔输入的帧）",
        "layer": "层", "layers": "层", "channel": "通道", "channels": "通道",
        "at_rate": "，采样率 {rate} Hz",
        "streams": "可以流式运行：逐块处理，结果与离线完全相同",
        "streams_model": "记录到的每一层都能逐块流式运行（数据见下；用 convtrace.streamify(model, input_shape) 即可流式运行模型本身）",
        "cannot": "不能流式运行：下面 {count} 层（{names}）",
        "latency": "算法延迟：{latency} 个样本{ms}（即前瞻；若更长，则取以一个跳步 {chunk} 个样本为一块输入时，"
        "一个输入样本等到第一个读到它的输出的最长时间）",
        "advised": "采纳下面所有 k_eff - s 建议后：{latency} 个样本{ms}",
        "lookahead": "前瞻：{look} 个样本（输入 t*hop + {look} 到达后，输出 t 才确定）",
        "hop": "跳步 {hop} 个{hop_samples}{ms}；最小块 {chunk} 个{samples}（任意块长都可以，0 或 1 也行）",
        "up_hop": "上采样 x{up}：每个输入样本对应 {up} 个输出样本；最小块 {chunk} 个{samples}",
        "first": "第一个输出在 {first} 个输入样本之后{ms}",
        "first_one": "第一个输出在第一个输入样本之后",
        "cache": "缓存：共 {bytes} 字节（{dtype}，批大小 {batch}）：每层的左侧上下文，样本数 x 通道数",
        "rf": "感受野 {rf} 个样本",
        "graph": "多分支汇合：前瞻和延迟覆盖所有路径；每层的缓存只计它自己的",
        "notes": "说明", "fix": "改法", "sample": "样本", "samples": "样本",
        "ms": "（{ms} 毫秒）",
        "check_ok": "校验：{length} 个样本按 {trials} 个随机分块方案流式运行（{dtype}），输出等于离线结果："
        "最大差 {diff}（相对 {rel}）{torch}",
        "check_fail": "校验失败：{length} 个样本、{trials} 个随机分块方案（{dtype}）：最大差 {diff}（相对 {rel}）{torch}",
        "check_torch": "；PyTorch 的离线前向相差不超过 {diff}",
        "check_torch_off": "；PyTorch 的离线前向相差 {diff}（不一致）",
        "check_early": "每个输出都在它的全部输入到达后的第一次 push 给出",
        "check_late": "输出时机：{late} 次 push 给出的输出少于可能的数量，{early} 次多于",
        "check_wrong": "第一个错误样本：第 {layer} 层（{name}），输出 {sample}，通道 {channel}：流式 {streamed}，"
        "离线 {offline}；可能原因：{cause}（方案 {chunks} 的第 {push} 次 push）",
        "cause_cache": "缓存（块之间保留的样本）",
        "cause_transposed_tail": "ConvTranspose1d 的重叠相加尾部",
        "cause_bias_twice": "偏置被加了两次",
        "cause_misalignment": "错位（输出偏移或长度不对）",
    },
}  # fmt: skip

HEADERS = ("#", "layer", "ch", "cache", "bytes", "look", "hop", "chunk", "look so far", "1st out")
HEADERS_ZH = ("#", "层", "通道", "缓存", "字节", "前瞻", "跳步", "最小块", "累计前瞻", "首个输出")


def _t(lang: str, key: str, **values: Any) -> str:
    catalog = _TEXT.get(lang, _TEXT["en"])
    return catalog.get(key, _TEXT["en"][key]).format(**values)


def message(finding: Finding, lang: str = "en", sample_rate: int | None = None) -> str:
    """The sentence of a streaming note (``lang`` 'en' or 'zh').

    >>> message(Finding("R106", "0", {"left": 3}))
    'reflect padding of 3 on the left mirrors samples after the edge: the first output waits for sample 3'
    >>> message(Finding("R105", "1", {"kernel": 2, "stride": 2, "left": 1, "better": 0, "saved": 1}))
    'strided causal conv (k_eff=2, stride=2) padded 1 on the left: 0 gives the same causality with 1 sample less latency in its own input'
    >>> message(Finding("R101", "2", {"refusal": "adaptive", "param": "kind", "value": "AdaptiveAvgPool1d"}), "zh")
    'AdaptiveAvgPool1d 不能流式运行：自适应池化的窗口取决于整个输入长度'
    """
    if finding.code == "R101":
        return _refusal(finding, lang)[0]
    code = finding.code
    if code == "R105" and finding.values.get("latency") is None:  # the net's latency is not known (it cannot stream)
        code = "R105_alone"
    template = (_MESSAGES_ZH if lang == "zh" else _MESSAGES).get(code)
    if template is None:
        return f"{finding.code}: {finding.values}"
    values = {key: _plain(value) for key, value in finding.values.items()}
    if finding.code == "R105":
        values["ms"] = _ms_pair(finding.values, sample_rate, lang)
        saved = values.get("saved")
        values["saved_samples"] = f"{saved} sample" + ("" if str(saved) == "1" else "s")
    try:
        return template.format(**values)
    except (KeyError, IndexError):
        return f"{finding.code}: {finding.values}"


def fix(finding: Finding, lang: str = "en") -> str:
    """The fix for a note ('' where there is none)."""
    if finding.code == "R101":
        return _refusal(finding, lang)[1]
    code = finding.code
    if code == "R102" and finding.values.get("family") in ("attention", "recurrence", "other"):
        code = f"R102_{finding.values['family']}"
    template = (_FIXES_ZH if lang == "zh" else _FIXES).get(code, "")
    try:
        return template.format(**finding.values)
    except (KeyError, IndexError):
        return template


def _refusal(finding: Finding, lang: str) -> tuple[str, str]:
    """(sentence, fix) of an R101: the engine's reason (its English), or its Chinese here."""
    from ..stream.timing import REFUSALS

    key = str(finding.values.get("refusal", ""))
    reason, remedy = (_REFUSALS_ZH if lang == "zh" else REFUSALS).get(key, (key, None))
    value = finding.values.get("value")
    what = value if finding.values.get("param") == "kind" else f"{finding.values.get('param')}={value!r}"
    head = f"{what} 不能流式运行：" if lang == "zh" else f"{what} cannot stream: "
    return head + reason, remedy or ""


def _plain(value: Any) -> Any:
    return fraction_text(value) if isinstance(value, Fraction) else value


def _ms_pair(values: dict[str, Any], rate: int | None, lang: str) -> str:
    if rate is None or values.get("latency") is None or values.get("latency_better") is None:
        return ""
    a, b = (_ms_text(Fraction(values[key]), rate) for key in ("latency", "latency_better"))
    return f"，{a} -> {b} 毫秒" if lang == "zh" else f", {a} -> {b} ms"


def _ms_text(samples: Fraction | None, rate: int | None) -> str:
    """Milliseconds, to 3 significant decimals.

    >>> _ms_text(Fraction(319), 24000)
    '13.29'
    """
    if samples is None or rate is None:
        return "-"
    value = float(samples) * 1000 / rate
    return f"{value:.4g}" if abs(value) < 1000 else f"{value:.0f}"


def _ms(lang: str, samples: Fraction | None, rate: int | None) -> str:
    return "" if rate is None or samples is None else _t(lang, "ms", ms=_ms_text(samples, rate))


def rows(layers: Sequence[Any]) -> list[list[Any]]:
    """One table row per layer."""
    out = []
    for r in layers:
        label = r.spec if r.name in ("", str(r.index)) else f"{r.name}: {r.spec}"
        channels = f"{r.in_channels}" if r.in_channels == r.out_channels else f"{r.in_channels}->{r.out_channels}"
        cache = "-"
        if r.cache is not None:
            parts = [f"{r.cache}x{r.in_channels}"] if r.cache or not r.cache_out else []
            cache = " + ".join(parts + ([f"{r.cache_out}x{r.out_channels}"] if r.cache_out else []))
        out.append([
            r.index, label, channels, cache, "-" if r.cache_bytes is None else f"{r.cache_bytes:,}",
            fraction_text(r.lookahead), fraction_text(r.hop), "-" if r.min_chunk is None else r.min_chunk,
            fraction_text(r.lookahead_so_far), "-" if r.first_output is None else r.first_output,
        ])  # fmt: skip
    return out


def render_stream(report: Any, *, lang: str = "en", width: int | None = None, color: bool = False) -> str:
    """``convtrace stream``: the table per layer, the totals, then the notes with their fixes."""
    rate = _t(lang, "at_rate", rate=report.sample_rate) if report.sample_rate else ""
    count = len(report.layers)
    layers = _t(lang, "layer" if count == 1 else "layers")
    if report.source == "model":
        lines = [_t(lang, "head_model", net=report.net, count=count, layers=layers, dtype=report.dtype,
                    batch=report.batch, rate=rate)]  # fmt: skip
    else:
        channels = _t(lang, "channel" if report.in_channels == 1 else "channels")
        lines = [_t(lang, "head", count=count, layers=layers, c=report.in_channels, channels=channels,
                    dtype=report.dtype, batch=report.batch, rate=rate)]  # fmt: skip
    lines.append(table(HEADERS_ZH if lang == "zh" else HEADERS, rows(report.layers), color=color, width=width))
    lines += _totals(report, lang)
    lines += _notes(report.findings, lang, report.sample_rate)
    return _fitted(lines, width)


def _totals(report: Any, lang: str) -> list[str]:
    rate = report.sample_rate
    lines: list[str] = []
    if report.streams:
        lines.append(_t(lang, "streams_model" if report.source == "model" else "streams"))
    else:
        names = list(dict.fromkeys(f.layer for f in report.findings if f.code in _blocking() and f.layer))
        shown = ", ".join(names[:6]) + (" ..." if len(names) > 6 else "")
        lines.append(_t(lang, "cannot", count=len(names), layers=_t(lang, "layer" if len(names) == 1 else "layers"),
                        names=shown))  # fmt: skip
    if report.latency is not None:
        lines.append(_t(lang, "latency", latency=fraction_text(report.latency), ms=_ms(lang, report.latency, rate),
                        chunk=report.min_chunk, samples=_t(lang, "sample" if report.min_chunk == 1 else "samples")))  # fmt: skip
    if report.latency_advised is not None:
        advised = report.latency_advised
        lines.append("  " + _t(lang, "advised", latency=fraction_text(advised), ms=_ms(lang, advised, rate)))
    if report.lookahead is not None:
        lines.append(_t(lang, "lookahead", look=fraction_text(report.lookahead)))
    if report.hop is not None:
        samples = _t(lang, "sample" if report.min_chunk == 1 else "samples")
        chunk = "-" if report.min_chunk is None else report.min_chunk
        if report.hop >= 1:
            lines.append(_t(lang, "hop", hop=fraction_text(report.hop), ms=_ms(lang, report.hop, rate), chunk=chunk,
                            samples=samples, hop_samples=_t(lang, "sample" if report.hop == 1 else "samples")))  # fmt: skip
        else:
            lines.append(_t(lang, "up_hop", up=fraction_text(1 / report.hop), chunk=chunk, samples=samples))
    if report.first_output == 1:
        lines.append(_t(lang, "first_one"))
    elif report.first_output is not None:
        lines.append(_t(lang, "first", first=report.first_output, ms=_ms(lang, Fraction(report.first_output), rate)))
    if report.receptive_field is not None:
        lines.append(_t(lang, "rf", rf=fraction_text(report.receptive_field)))
    if report.cache_bytes is not None:
        lines.append(_t(lang, "cache", bytes=f"{report.cache_bytes:,}", dtype=report.dtype, batch=report.batch))
    if not report.chain:
        lines.append(_t(lang, "graph"))
    if report.source == "model":
        lines.append(_t(lang, "steps"))
    return lines


def _blocking() -> tuple[str, ...]:
    from ..stream.report import BLOCKING

    return BLOCKING


def _notes(findings: Sequence[Finding], lang: str, rate: int | None) -> list[str]:
    """One line per note kind and numbers, listing its layers, and the fix below it."""
    if not findings:
        return []
    groups: dict[tuple[str, str], list[Finding]] = {}
    for finding in findings:
        groups.setdefault((finding.code, repr(sorted(finding.values.items()))), []).append(finding)
    lines = [_t(lang, "notes") + ":"]
    for group in groups.values():
        first = group[0]
        names = list(dict.fromkeys(f.layer for f in group if f.layer))
        where = f" [{', '.join(names[:6])}{' ...' if len(names) > 6 else ''}]" if names else ""
        lines.append(f"  {first.code}{where}: {message(first, lang, rate)}")
        remedy = fix(first, lang)
        if remedy:
            lines.append(f"    {_t(lang, 'fix')}: {remedy}")
    return lines


def to_json(report: Any, lang: str = "en") -> dict[str, Any]:
    """The report as a JSON-ready dict, every note with its ``message`` and ``fix``."""
    doc: dict[str, Any] = report.to_dict()
    for item, finding in zip(doc["findings"], report.findings):
        item["message"] = message(finding, lang, report.sample_rate)
        item["fix"] = fix(finding, lang)
    return doc


def check_json(result: Any) -> dict[str, Any]:
    """The verifier's result, JSON-ready."""
    to_dict = getattr(result, "to_dict", None)
    if callable(to_dict):
        value: dict[str, Any] = to_dict()
        return value
    from ..plan.report import to_jsonable

    plain: dict[str, Any] = to_jsonable(result)
    return plain


def render_check(result: Any, *, lang: str = "en", width: int | None = None) -> str:
    """The verifier's result (:class:`convtrace.stream.VerifyResult`) in words."""
    torch = ""
    if result.torch_difference is not None:
        torch = _t(lang, "check_torch" if result.torch_ok else "check_torch_off", diff=f"{result.torch_difference:.3g}")
    values = dict(trials=result.trials, length=result.length, dtype=result.dtype, diff=f"{result.max_difference:.3g}",
                  rel=f"{result.max_relative:.3g}", torch=torch)  # fmt: skip
    lines = [_t(lang, "check_ok" if result.ok else "check_fail", **values)]
    if result.late or result.early:
        lines.append(_t(lang, "check_late", late=result.late, early=result.early))
    elif result.ok:
        lines.append(_t(lang, "check_early"))
    wrong = result.first_wrong
    if wrong is not None:
        lines.append(_t(lang, "check_wrong", layer=wrong.layer, name=wrong.layer_name, sample=wrong.sample,
                        channel=wrong.channel, streamed=f"{wrong.streamed:.9g}", offline=f"{wrong.offline:.9g}",
                        cause=_t(lang, f"cause_{wrong.cause}"), push=wrong.push, chunks=_chunks(wrong.chunks)))  # fmt: skip
    return _fitted(lines, width)


def _chunks(sizes: Sequence[int], shown: int = 12) -> str:
    """``[3, 0, 1, ...]`` (the first ``shown`` sizes).

    >>> _chunks(list(range(20)), 3)
    '[0, 1, 2, ... 17 more]'
    """
    head = ", ".join(str(v) for v in sizes[:shown])
    return f"[{head}, ... {len(sizes) - shown} more]" if len(sizes) > shown else f"[{head}]"


def _register_views() -> None:
    TEXT_VIEWS["StreamReport"] = lambda r, lang="en", width=None, **o: render_stream(r, lang=lang, width=width, **o)


_register_views()
