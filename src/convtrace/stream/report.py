"""The streaming report: can a net run live, chunk by chunk, with exactly the offline result,
and what does it cost in latency and memory?

:func:`report` takes a stack (the planner's syntax, or its layers) or a model recorded by
the inspector (``convtrace.inspect(model, shape)``: this package cannot import the inspector,
which runs torch, so the caller hands the recording over). Every number comes from the
streaming arithmetic (:mod:`convtrace.stream.timing`: cache, lookahead, hop, minimum chunk,
first output, refusals), the planner's stack arithmetic (:func:`convtrace.plan.stack.dependence`)
and, for a model, the inspector's graph (each recorded call's exact dependence through every
branch, :meth:`InspectReport.dependence`).

The *algorithmic latency* is the larger of two waits: the lookahead (output ``t`` waits for
input up to ``t*hop + lookahead``) and, when the net is fed chunks of one hop (its minimum
chunk, as a frame-based system runs it), the longest an input sample waits until the first
output that reads it is final (:func:`hop_latency`). The second is what padding decides: a
strided causal conv padded ``k_eff - 1`` on the left is causal (lookahead 0) but holds
``s - 1`` samples of every chunk back for the next one; ``k_eff - s`` does not.

Notes are codes with numbers (the words are in :mod:`convtrace.render.stream_text`):

====== ==============================================================================
R101   a layer that cannot stream (``refusal``: a key of ``timing.REFUSALS``: circular, adaptive, ...)
R102   normalisation, attention or recurrence over time: stateful in ways convtrace does not model
R103   a padding whose size depends on the input length (EnCodec's extra right padding)
R104   an op the inspector could not place on the time axis: whether it streams is unknown
R105   a strided causal conv padded k_eff-1 on the left: k_eff-s, the same causality, less latency
R106   reflect padding on the left: the first output waits for samples after the edge
====== ==============================================================================

R101 to R104 stop the net from streaming; R105 and R106 are advice.

>>> r = report("conv k=4 s=2 p=causal", sample_rate=16000)
>>> r.streams, [f.code for f in r.findings], r.latency
(True, ['R105'], Fraction(2, 1))
"""

from __future__ import annotations

import dataclasses
import importlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from ..errors import ConvtraceError
from ..params import parse_int_param, resolve_dtype
from ..plan.layers import Layer
from ..plan.report import TEXT_VIEWS, Finding, Shown, to_jsonable
from ..plan.stack import dependence_ranges, parse_stack
from .build import chain_groups, chain_of
from .schedule import coincidence_possible, first_fixed_each
from .timing import REFUSALS, LayerTiming, chain_timing, layer_timing, refusal

__all__ = ["report", "StreamReport", "StreamLayer", "BLOCKING", "hop_latency", "causal_advice", "layer_findings"]

#: the codes that stop a net from streaming
BLOCKING = ("R101", "R102", "R103", "R104")
#: the text of a :class:`StreamReport` (imported by name: render/ is above stream/)
VIEWS_MODULE = "convtrace.render.stream_text"
#: the most layers whose so-far figures (each a prefix of the chain) are computed
MAX_PREFIXES = 200
#: the most input samples one latency period may have (beyond it the latency is not computed)
MAX_PERIOD = 1 << 16


@dataclass(frozen=True)
class StreamLayer:
    """One layer's streaming figures. Its own, in its input samples: ``cache`` samples per
    input channel of left context kept between chunks (``cache_out`` per output channel: a
    ConvTranspose1d's overlap-add tail), ``cache_bytes`` for all channels, the batch and the
    dtype, ``lookahead``, ``hop`` and ``min_chunk``. So far, in the net's input samples:
    ``lookahead_so_far``, ``hop_so_far`` and ``first_output`` (its first output is final
    after that many input samples). None where it cannot stream (or after such a layer)."""

    index: int
    name: str
    type: str
    spec: str
    in_channels: int
    out_channels: int
    streams: bool
    cache: int | None
    cache_out: int | None
    cache_bytes: int | None
    lookahead: Fraction | None
    hop: Fraction | None
    min_chunk: int | None
    lookahead_so_far: Fraction | None
    hop_so_far: Fraction | None
    first_output: int | None


@dataclass(frozen=True, repr=False)
class StreamReport(Shown):
    """The streaming report of a net (see the module docstring). ``print(report)`` gives
    ``convtrace stream``'s text; ``report.render("zh", width=80)`` the same in Chinese.

    Totals in the net's input samples: ``receptive_field``, ``hop``, ``lookahead`` (an
    output waits for input up to ``t*hop + lookahead``), ``latency`` (see the module
    docstring; ``latency_ms`` at ``sample_rate``), ``min_chunk``, ``first_output`` and
    ``cache_bytes`` (every layer's cache); ``latency_advised``: a stack's latency with every
    R105 advice taken (None without advice). ``source`` is "stack" or "model"; ``chain``
    False where branches join (a model)."""

    net: str
    source: str
    sample_rate: int | None
    dtype: str
    batch: int
    in_channels: int
    layers: tuple[StreamLayer, ...]
    streams: bool
    chain: bool
    receptive_field: Fraction | None
    hop: Fraction | None
    lookahead: Fraction | None
    latency: Fraction | None
    latency_ms: float | None
    min_chunk: int | None
    first_output: int | None
    cache_bytes: int | None
    findings: tuple[Finding, ...]
    latency_advised: Fraction | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        doc: dict[str, Any] = to_jsonable(self)
        return doc

    def render(self, lang: str = "en", width: int | None = None, **options: Any) -> str:
        """The report as text (``lang`` 'en' or 'zh'; ``width`` display columns)."""
        if type(self).__name__ not in TEXT_VIEWS:
            importlib.import_module(VIEWS_MODULE)  # registers the view (render/ is above stream/)
        return super().render(lang, width, **options)

    def __repr__(self) -> str:
        if not self.streams:
            return f"<StreamReport {len(self.layers)} layers: cannot stream ({len(self.findings)} notes)>"
        return (f"<StreamReport {len(self.layers)} layers: latency {self.latency}, lookahead {self.lookahead}, "
                f"hop {self.hop}, cache {self.cache_bytes} bytes>")  # fmt: skip


# ---------------------------------------------------------------------- notes

def layer_findings(layer: Layer, name: str) -> list[Finding]:
    """One layer's notes on its own: R101 (it cannot stream: the key of the refusal in
    :data:`convtrace.stream.timing.REFUSALS`), R105 (the k_eff - s advice, without the
    latencies: :func:`report` adds them) and R106 (reflect padding on the left).

    >>> [f.values["refusal"] for f in layer_findings(Layer("conv", kernel_size=3, padding=1, padding_mode="circular"), "c")]
    ['circular']
    >>> layer_findings(Layer("conv", kernel_size=4, stride=2, pad_left=3), "c")[0].values["better"]
    2
    """
    found: list[Finding] = []
    refused = refusal(layer)
    if refused is not None:
        key = next(k for k, (reason, _) in REFUSALS.items() if reason == refused.reason)
        found.append(Finding("R101", name, {"refusal": key, "param": refused.param, "value": refused.value}))
        return found
    advice = causal_advice(layer)
    if advice is not None:
        found.append(Finding("R105", name, advice))
    if layer.padding_mode == "reflect" and layer.kind in ("conv", "pad"):
        left = layer.pad_left if layer.kind == "pad" else layer.pads[0] - layer.pad_left
        if left > 0:
            found.append(Finding("R106", name, {"left": left}))
    return found


def causal_advice(layer: Layer, before: int = 0) -> dict[str, Any] | None:
    """For a strided conv padded ``k_eff - 1`` on the left (``before`` of it by a pad layer
    just before) and nothing on the right: the numbers of the advice to pad ``k_eff - s``.

    >>> causal_advice(Layer("conv", kernel_size=16, stride=8, pad_left=15))
    {'kernel': 16, 'stride': 8, 'left': 15, 'better': 8, 'saved': 7}
    >>> causal_advice(Layer("conv", kernel_size=16, stride=8, pad_left=8)) is None
    True
    """
    if layer.kind != "conv" or layer.stride < 2 or layer.span < layer.stride:
        return None
    left, right = layer.pads
    if right != 0 or left + before != layer.span - 1:
        return None
    return {"kernel": layer.span, "stride": layer.stride, "left": layer.span - 1,
            "better": layer.span - layer.stride, "saved": layer.stride - 1}  # fmt: skip


def _better(layer: Layer, before: Layer | None = None) -> tuple[Layer, Layer | None]:
    """The layer (and the pad layer before it) padded ``k_eff - s`` instead of ``k_eff - 1``
    on the left: ``s - 1`` samples fewer, taken from the conv's explicit pad, then the pad's."""
    cut = layer.stride - 1
    own = min(cut, layer.pad_left)
    layer = dataclasses.replace(layer, pad_left=layer.pad_left - own)
    if before is not None and cut > own:
        before = dataclasses.replace(before, pad_left=before.pad_left - (cut - own))
    return layer, before


# ---------------------------------------------------------------------- latency

def hop_latency(reads: Callable[[int], list[tuple[int, int]]], hop: Fraction, lookahead: Fraction,
                receptive_field: Fraction, chunk: int) -> Fraction | None:  # fmt: skip
    """The algorithmic latency: fed chunks of ``chunk`` input samples, the longest an input
    sample waits until the first output that reads it is final. ``reads(t)``: the input
    index ranges output ``t`` depends on (sorted; empty: none); output ``t`` is final once
    its last one has arrived (the streaming contract), that is at the end of that chunk.
    Samples no output reads do not count. The pattern repeats every ``lcm(hop numerator,
    chunk)`` input samples; one period away from the start is examined (None if the period
    exceeds :data:`MAX_PERIOD`).

    >>> k_minus_1 = [Layer("conv", kernel_size=4, stride=2, pad_left=3)]   # output t reads 2t-3 .. 2t
    >>> hop_latency(lambda t: dependence_ranges(k_minus_1, t), Fraction(2), Fraction(0), Fraction(4), 2)
    Fraction(2, 1)
    >>> k_minus_s = [Layer("conv", kernel_size=4, stride=2, pad_left=2)]   # output t reads 2t-2 .. 2t+1
    >>> hop_latency(lambda t: dependence_ranges(k_minus_s, t), Fraction(2), Fraction(1), Fraction(4), 2)
    Fraction(1, 1)
    """
    period = math.lcm(hop.numerator, chunk)
    if period > MAX_PERIOD:
        return None
    margin = abs(lookahead) + receptive_field + 2 * period + 2
    start = period * math.ceil(margin / period)
    t = max(0, math.floor((start - lookahead) / hop) - 2)
    worst: int | None = None
    for sample in range(start, start + period):
        while not (spans := reads(t)) or spans[-1][1] < sample:  # the first output whose window reaches it
            t += 1
        end = _first_reader(reads, t, sample)
        if end is None:
            continue  # no output reads this sample
        arrived = -(-(end + 1) // chunk) * chunk  # samples in when the chunk holding `end` is complete
        wait = arrived - 1 - sample
        worst = wait if worst is None else max(worst, wait)
    return None if worst is None else Fraction(worst)


def _first_reader(reads: Callable[[int], list[tuple[int, int]]], t: int, sample: int) -> int | None:
    """From output ``t`` on (the first whose window reaches ``sample``), the last input index
    of the first output that reads ``sample``; None if none does (windows only move forward:
    past the one that starts after ``sample``, none will)."""
    while True:
        spans = reads(t)
        if spans:
            if spans[0][0] > sample:
                return None
            if any(a <= sample <= b for a, b in spans):
                return spans[-1][1]
        t += 1


# ---------------------------------------------------------------------- the report

def report(net: Any, *, sample_rate: int | None = None, in_channels: int | None = 1, dtype: Any = "float32",
           batch: int | None = 1, also: Any = None) -> StreamReport:
    """The streaming report of ``net``: a stack (the planner's syntax, or its layers) or an
    inspector's recording (``convtrace.inspect(model, shape)``; ``also``: the same model
    recorded at another length, which shows paddings set from the length). ``sample_rate``
    (Hz) adds milliseconds; ``dtype`` and ``batch`` size the cache in bytes.

    >>> r = report("conv k=3 p=causal; conv k=4 s=2 p=2,0", sample_rate=1000)
    >>> r.hop, r.lookahead, r.latency, r.cache_bytes, r.streams
    (Fraction(2, 1), Fraction(1, 1), Fraction(1, 1), 20, True)
    """
    rate = _positive("sample_rate", sample_rate)
    item = resolve_dtype(dtype, "convtrace.stream.report")
    batch_size = _positive("batch", 1 if batch is None else batch) or 1
    if hasattr(net, "calls") and hasattr(net, "dependence"):
        return _model_report(net, also, rate, item, batch_size)
    if isinstance(net, Layer):
        net = (net,)
    chain = parse_stack(net) if isinstance(net, str) else tuple(net) if isinstance(net, (list, tuple)) else ()
    if not chain or not all(isinstance(layer, Layer) for layer in chain):
        raise ConvtraceError("net", type(net).__name__, "give a stack (text or plan layers) or an inspector's "
                             "recording (convtrace.inspect(model, input_shape))")  # fmt: skip
    channels = _positive("in_channels", 1 if in_channels is None else in_channels) or 1
    text = " ".join(net.split()) if isinstance(net, str) else "; ".join(layer.describe() for layer in chain)
    return _stack_report(chain, text, rate, item, batch_size, channels)


def _positive(name: str, value: Any) -> int | None:
    if value is None:
        return None
    v = parse_int_param(name, value)
    if not 1 <= v <= 1 << 30:
        raise ConvtraceError(name, v, f"{name} must be between 1 and {1 << 30}")
    return v


def _bytes(own: LayerTiming | None, in_channels: int, out_channels: int, item: np.dtype[Any], batch: int) -> int | None:
    if own is None:
        return None
    return (own.cache * in_channels + own.cache_out * out_channels) * item.itemsize * batch


def _row(index: int, name: str, layer: Layer, in_channels: int, own: LayerTiming | None, item: np.dtype[Any],
         batch: int, so_far: Any) -> StreamLayer:  # fmt: skip
    out_channels = layer.channels_out(in_channels)
    return StreamLayer(
        index, name, layer.kind, layer.describe(), in_channels, out_channels, own is not None,
        None if own is None else own.cache, None if own is None else own.cache_out,
        _bytes(own, in_channels, out_channels, item, batch), None if own is None else own.lookahead,
        None if own is None else own.hop, None if own is None else own.min_chunk,
        None if so_far is None else so_far[0], None if so_far is None else so_far[1],
        None if so_far is None else so_far[2],
    )  # fmt: skip


def _stack_report(chain: tuple[Layer, ...], text: str, rate: int | None, item: np.dtype[Any], batch: int,
                  channels: int) -> StreamReport:  # fmt: skip
    rows: list[StreamLayer] = []
    findings: list[Finding] = []
    in_channels = channels
    streams = True
    pending: list[tuple[int, str, Layer, int, LayerTiming | None, Any]] = []
    for index, layer in enumerate(chain):
        layer.check_channels(in_channels)
        name = layer.name or str(index)
        notes = layer_findings(layer, name)
        findings += notes
        own = None if any(f.code == "R101" for f in notes) else layer_timing(layer)
        streams = streams and own is not None
        so_far = None
        if streams and len(chain) <= MAX_PREFIXES:
            prefix = chain_timing(chain[: index + 1])
            so_far = (prefix.lookahead, prefix.hop, prefix.first_output)
        pending.append((index, name, layer, in_channels, own, so_far))
        in_channels = layer.channels_out(in_channels)
    firsts = _first_outputs(chain, [None if p[5] is None else p[5][2] for p in pending], channels) if streams else []
    for (index, name, layer, layer_channels, own, so_far), first in zip(pending, firsts or [None] * len(pending), strict=True):
        so_far = None if so_far is None else (so_far[0], so_far[1], first)
        rows.append(_row(index, name, layer, layer_channels, own, item, batch, so_far))
    if not streams:
        return StreamReport(text, "stack", rate, str(item), batch, channels, tuple(rows), False, True, None, None,
                            None, None, None, None, None, None, tuple(findings))  # fmt: skip
    whole = chain_timing(chain)
    latency = _latency(whole.lookahead, _chain_wait(chain, whole.hop, whole.lookahead, whole.receptive_field,
                                                 whole.min_chunk))  # fmt: skip
    findings = [found for f in findings if (found := _with_latencies(f, chain, whole.min_chunk, latency)) is not None]
    cache = sum(r.cache_bytes or 0 for r in rows)
    return StreamReport(
        text, "stack", rate, str(item), batch, channels, tuple(rows), True, True, whole.receptive_field, whole.hop,
        whole.lookahead, latency, _ms(latency, rate), whole.min_chunk, _whole_first(chain, whole.first_output, rows, channels),
        cache, tuple(findings),
        _advised(chain, findings, whole.min_chunk),
    )  # fmt: skip


def _first_outputs(chain: tuple[Layer, ...], arithmetic: Sequence[int | None], channels: int) -> list[int | None]:
    """Each leading part's first output: the arithmetic's, or where two values can coincide
    for every end (:func:`~convtrace.stream.schedule.coincidence_possible`) the streamer's
    schedule by evaluation (all parts in one pass)."""
    if not coincidence_possible(chain) or all(first is None for first in arithmetic):
        return list(arithmetic)
    return first_fixed_each(chain_groups(chain, channels=channels), chain, arithmetic)


def _whole_first(chain: tuple[Layer, ...], arithmetic: int | None, rows: list[StreamLayer], channels: int) -> int | None:
    """The chain's first output: its last row's where the rows show it, else as they do."""
    if rows and rows[-1].first_output is not None:
        return rows[-1].first_output
    known: list[int | None] = [None] * (len(chain) - 1)
    return _first_outputs(chain, [*known, arithmetic], channels)[-1]


def _advised(chain: tuple[Layer, ...], findings: list[Finding], chunk: int) -> Fraction | None:
    """The latency with every R105 advice taken (None without advice)."""
    advised = {f.layer for f in findings if f.code == "R105"}
    if not advised:
        return None
    changed = tuple(_better(layer)[0] if (layer.name or str(i)) in advised else layer for i, layer in enumerate(chain))
    whole = chain_timing(changed)
    return _latency(whole.lookahead, _chain_wait(changed, whole.hop, whole.lookahead, whole.receptive_field, chunk))


def _latency(lookahead: Fraction, wait: Fraction | None) -> Fraction | None:
    """The algorithmic latency: the lookahead, or the chunk wait where it is longer."""
    return None if wait is None else max(lookahead, wait)


def _chain_wait(chain: Sequence[Layer], hop: Fraction, lookahead: Fraction, field: Fraction,
                chunk: int) -> Fraction | None:  # fmt: skip
    layers = list(chain)
    return hop_latency(lambda t: dependence_ranges(layers, t), hop, lookahead, field, chunk)


def _with_latencies(finding: Finding, chain: tuple[Layer, ...], chunk: int, latency: Fraction | None) -> Finding | None:
    """R105 with the net's latency as it is and with this one layer padded k_eff - s; None
    (no advice) where that is not less (a later lookahead hides what the padding saves)."""
    if finding.code != "R105":
        return finding
    index = next(i for i, layer in enumerate(chain) if (layer.name or str(i)) == finding.layer)
    changed = chain[:index] + (_better(chain[index])[0],) + chain[index + 1 :]
    whole = chain_timing(changed)
    lower = _latency(whole.lookahead, _chain_wait(changed, whole.hop, whole.lookahead, whole.receptive_field, chunk))
    return _advice(finding, latency, lower)


def _advice(finding: Finding, latency: Fraction | None, better: Fraction | None) -> Finding | None:
    """R105 with both latencies, if padding k_eff - s lowers it (or it is not known)."""
    if latency is not None and better is not None and better >= latency:
        return None
    return Finding("R105", finding.layer, dict(finding.values, latency=latency, latency_better=better))


def _ms(samples: Fraction | None, rate: int | None) -> float | None:
    return None if samples is None or rate is None else round(float(samples) * 1000 / rate, 6)


# ---------------------------------------------------------------------- a recorded model

def _model_report(recorded: Any, also: Any, rate: int | None, item: np.dtype[Any], batch: int) -> StreamReport:
    """A model recorded by the inspector: each call's own figures from the timing, so-far
    figures from the recorded graph (every branch), the notes of the recording (W107: over
    time; W202: not placed) and of the second recording (paddings set from the length)."""
    calls = tuple(recorded.calls)
    findings: list[Finding] = []
    rows: list[StreamLayer] = []
    consumers: dict[int, list[int]] = {}
    for call in calls:
        for src in call.sources:
            consumers.setdefault(src, []).append(call.index)
    for call in calls:
        notes = layer_findings(call.layer, _where(call))
        notes = [f for f in notes if f.code != "R105"] + _model_advice(calls, call, consumers)
        findings += notes
        own = None if any(f.code == "R101" for f in notes) else layer_timing(call.layer)
        so_far = None
        if call.receptive_field is not None and call.offset is not None and call.hop is not None:
            window = recorded.dependence(0, call.index)
            first = None if window is None else max(window[1] + 1, 1)
            so_far = (call.receptive_field - 1 - call.offset, call.hop, first)
        in_channels = call.in_shape[-2] if len(call.in_shape) >= 2 else 1
        rows.append(_row(call.index, _where(call), call.layer, in_channels, own, item, batch, so_far))
    for warning in recorded.warnings:
        if warning.code == "W107":
            kind = str(warning.values.get("kind", ""))
            findings.append(Finding("R102", warning.layer, {"kind": kind, "family": over_time_family(kind)}))
        elif warning.code == "W202":
            findings.append(Finding("R104", warning.layer, {"op": warning.values.get("op", "")}))
    findings += _length_dependent(recorded, also)
    streams = not any(f.code in BLOCKING for f in findings)
    shape = "x".join(map(str, recorded.input_shape))
    net = f"{recorded.model} on {shape}"
    channels = recorded.input_shape[-2] if len(recorded.input_shape) >= 2 else 1
    cache = sum(r.cache_bytes or 0 for r in rows) if streams else None
    hop, look, field = recorded.hop, recorded.lookahead, recorded.receptive_field
    latency = chunk = first = None
    if streams and hop is not None and look is not None and field is not None and calls:
        chunk = max(1, math.ceil(hop))
        latency = _latency(look, _model_wait(recorded, hop, look, field, chunk))
        window = recorded.dependence(0)
        first = None if window is None else max(window[1] + 1, 1)
        findings = [found for f in findings
                    if (found := _model_latencies(f, recorded, calls, consumers, hop, chunk, latency)) is not None]
    return StreamReport(
        net, "model", rate, str(item), batch, channels, tuple(rows), streams, bool(recorded.chain),
        field if streams else None, hop if streams else None, look if streams else None, latency, _ms(latency, rate),
        chunk, first, cache, tuple(findings),
    )  # fmt: skip


def over_time_family(kind: str) -> str:
    """What an op over time is, from its module's or function's name: "norm", "attention",
    "recurrence" or "other" (each has its own fix).

    >>> [over_time_family(k) for k in ("Wav2Vec2GroupNormConvLayer", "EncodecLSTM", "scaled_dot_product_attention")]
    ['norm', 'recurrence', 'attention']
    """
    name = kind.lower()
    for family, marks in (("attention", ("attention", "attn")), ("norm", ("norm",)),
                          ("recurrence", ("lstm", "gru", "rnn", "recurren"))):  # fmt: skip
        if any(mark in name for mark in marks):
            return family
    return "other"


def _model_wait(recorded: Any, hop: Fraction, look: Fraction, field: Fraction, chunk: int) -> Fraction | None:
    def reads(t: int) -> list[tuple[int, int]]:  # first and last only: a model's holes are not known
        window = recorded.dependence(t)
        return [] if window is None else [(int(window[0]), int(window[1]))]

    return hop_latency(reads, hop, look, field, chunk)


def _model_advice(calls: tuple[Any, ...], call: Any, consumers: dict[int, list[int]]) -> list[Finding]:
    """R105 for a recorded conv, counting a constant pad call that feeds only it."""
    pad = _pad_before(calls, call, consumers)
    advice = causal_advice(call.layer, 0 if pad is None else pad.layer.pad_left)
    return [] if advice is None else [Finding("R105", _where(call), advice)]


def _pad_before(calls: tuple[Any, ...], call: Any, consumers: dict[int, list[int]]) -> Any:
    """The constant pad call (nothing on the right) whose only consumer is ``call``, if any."""
    if len(call.sources) != 1 or call.sources[0] < 0:
        return None
    before = calls[call.sources[0]]
    layer = before.layer
    constant = layer.kind == "pad" and layer.padding_mode in ("zeros", "constant")
    if constant and layer.pad_left > 0 and layer.pad_right == 0 and consumers.get(before.index) == [call.index]:
        return before
    return None


def _model_latencies(finding: Finding, recorded: Any, calls: tuple[Any, ...], consumers: dict[int, list[int]],
                     hop: Fraction, chunk: int, latency: Fraction | None) -> Finding | None:  # fmt: skip
    """R105 of a model with its latency as it is and with this conv (and its pad) padded
    k_eff - s (None where that is not less)."""
    if finding.code != "R105":
        return finding
    call = next(c for c in calls if _where(c) == finding.layer)
    pad = _pad_before(calls, call, consumers)
    layer, pad_layer = _better(call.layer, None if pad is None else pad.layer)
    changed = list(calls)
    changed[call.index] = dataclasses.replace(call, layer=layer)
    if pad is not None and pad_layer is not None:
        changed[pad.index] = dataclasses.replace(pad, layer=pad_layer)
    other = dataclasses.replace(recorded, calls=tuple(changed))
    look = _lookahead(other, hop)
    better = None
    if look is not None and recorded.receptive_field is not None:
        better = _latency(look, _model_wait(other, hop, look, recorded.receptive_field, chunk))
    return _advice(finding, latency, better)


def _lookahead(recorded: Any, hop: Fraction) -> Fraction | None:
    """The largest ``last(t) - t*hop`` over one period of outputs, away from the start."""
    period = hop.denominator * 4
    start = period * (1 + math.ceil(2 * float(recorded.receptive_field or 0) / max(float(hop), 1e-9) / period))
    found = [w[1] - t * hop for t in range(start, start + period) if (w := recorded.dependence(t)) is not None]
    return max(found) if found else None


def _where(call: Any) -> str:
    """A recorded call's name in the notes: a module's own call by its name, a functional
    call (``pad``, ``crop``, ``conv1d``) with the module making it."""
    if call.name == call.module or not call.module:
        return str(call.name)
    return f"{call.module} ({call.name})"


def _length_dependent(recorded: Any, also: Any) -> list[Finding]:
    """R103: pad calls whose amounts differ between the recording and ``also`` (the same
    model on another length); the recordings must line up call by call."""
    if also is None or not hasattr(also, "calls"):
        return []
    length_a, length_b = recorded.input_shape[recorded.time_dim], also.input_shape[also.time_dim]
    found: list[Finding] = []
    for a, b in zip(recorded.calls, also.calls):
        if a.name != b.name or a.layer.kind != b.layer.kind:
            break
        if a.layer.kind == "pad" and (a.layer.pad_left, a.layer.pad_right) != (b.layer.pad_left, b.layer.pad_right):
            where = _where(a)
            found.append(Finding("R103", where, {
                "left_a": a.layer.pad_left, "right_a": a.layer.pad_right, "length_a": length_a,
                "left_b": b.layer.pad_left, "right_b": b.layer.pad_right, "length_b": length_b}))  # fmt: skip
    return found


# ---------------------------------------------------------------------- checking a stack

def check_stack(net: str | Sequence[Layer], *, in_channels: int = 1, length: int | None = None,
                trials: int | None = None, seed: int = 0, dtype: Any = None) -> Any:
    """:func:`convtrace.stream.verify` on a stack (random weights, ``seed``): random chunk
    schedules against the offline result. ``length`` defaults to three receptive fields
    and two hops (at least 64, at most 20000 samples); ``dtype`` to float64."""
    from .verify import verify

    chain = parse_stack(net) if isinstance(net, str) else tuple(net)
    timing = chain_timing(chain)  # what cannot stream raises here, naming the layer, the reason and the fix
    n = length if length is not None else min(20_000, max(64, int(3 * timing.receptive_field + 2 * timing.hop)))
    n = _positive("length", n) or 64
    count = _positive("trials", 5 if trials is None else trials) or 5
    item = resolve_dtype(np.float64 if dtype is None else dtype, "convtrace stream --check")
    return verify(chain_of(chain, in_channels, item, seed), length=n, seed=seed, dtype=item, trials=count)
