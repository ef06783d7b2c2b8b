"""``convtrace.stream.report`` on stacks: every number against the planner's ``stack``, the
streaming arithmetic and PyTorch — the latency and lookahead from PyTorch's gradients (which
input samples each output depends on), with oneDNN on and off."""

from __future__ import annotations

import json
import math
import sys
from fractions import Fraction
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parents[1] / "plan"))
from plan_torch import gradient_dependence, impulse_dependence, on_both_backends
from strategies_plan import layers

from convtrace.errors import ConvtraceError
from convtrace.plan.layers import Layer
from convtrace.plan.stack import analyse_stack, parse_stack
from convtrace.render.stream_text import fix, message, render_stream, to_json
from convtrace.render.textwidth import display_width
from convtrace.stream.report import hop_latency, report
from convtrace.stream.timing import chain_timing, layer_timing, refusal

NEEDS_TORCH = True

#: the README's EnCodec-style encoder: kernel = 2 x stride, padding k - s on the left
ENCODEC = ("conv k=7 p=causal; conv k=4 s=2 p=2,0; conv k=8 s=4 p=4,0; conv k=10 s=5 p=5,0; "
           "conv k=16 s=8 p=8,0; conv k=7 p=causal")  # fmt: skip
#: the same with every strided conv padded k - 1 on the left
ENCODEC_K_MINUS_1 = ("conv k=7 p=causal; conv k=4 s=2 p=causal; conv k=8 s=4 p=causal; conv k=10 s=5 p=causal; "
                     "conv k=16 s=8 p=causal; conv k=7 p=causal")  # fmt: skip


def torch_latency(chain: tuple[Layer, ...] | list[Layer], length: int, chunk: int, first: int, stop: int) -> Fraction:
    """The latency by its definition, from PyTorch's answer: the larger of the lookahead
    (the largest ``last(t) - t*hop`` of the outputs ``t`` reading inputs ``first..stop-1``)
    and, fed chunks of ``chunk`` samples, the longest an input ``i`` there waits until the
    first output that depends on it has all its inputs (at the end of their chunk); inputs
    no output depends on do not count. Dependence by PyTorch's gradients (impulses where a
    max pool picks one sample), oneDNN on and off."""
    max_pools = any(layer.kind in ("maxpool", "adaptivemaxpool") for layer in chain)  # gradients pick one sample
    dep = on_both_backends(impulse_dependence if max_pools else gradient_dependence, list(chain), length)
    hop = analyse_stack(chain, length).hop
    last = [(hit[-1] if (hit := torch.nonzero(row).flatten().tolist()) else None) for row in dep]
    worst = Fraction(0)
    look: Fraction | None = None
    for i in range(first, stop):
        readers = torch.nonzero(dep[:, i]).flatten().tolist()
        if not readers:
            continue
        end = last[readers[0]]
        assert end is not None and end < length - 1, "the test signal is too short"
        worst = max(worst, Fraction(math.ceil((end + 1) / chunk) * chunk - 1 - i))
        for t in readers:
            far = last[t]
            assert far is not None
            look = far - t * hop if look is None else max(look, far - t * hop)
    assert look is not None
    return max(worst, look)


def test_the_readme_encoder_agrees_with_stack_timing_and_pytorch() -> None:
    r = report(ENCODEC, sample_rate=24000)
    planned = analyse_stack(ENCODEC, 24000)
    timing = chain_timing(parse_stack(ENCODEC))
    assert (r.receptive_field, r.hop, r.lookahead) == (planned.receptive_field, planned.hop, planned.lookahead)
    assert (r.receptive_field, r.hop, r.lookahead) == (2616, 320, 319)
    assert r.min_chunk == timing.min_chunk == 320 and r.first_output == timing.first_output == 320
    assert r.streams and r.findings == ()  # k - s already: no advice
    # the cache: each layer's span - 1 samples of its one channel, in float32
    assert [row.cache for row in r.layers] == [6, 3, 7, 9, 15, 6]
    assert r.cache_bytes == 4 * (6 + 3 + 7 + 9 + 15 + 6)
    assert [row.lookahead_so_far for row in r.layers] == [0, 1, 7, 39, 319, 319]
    # the latency: 319 samples (13.29 ms), as PyTorch's dependence says
    assert r.latency == 319 and r.latency_ms == pytest.approx(319 / 24)
    assert torch_latency(parse_stack(ENCODEC), 5200, 320, 2700, 3340) == 319


def test_k_eff_minus_1_is_flagged_with_both_latencies_checked_by_pytorch() -> None:
    r = report(ENCODEC_K_MINUS_1, sample_rate=24000)
    chain = parse_stack(ENCODEC_K_MINUS_1)
    assert r.lookahead == 0 and r.latency == 638  # causal, yet every chunk holds s-1 samples back
    assert torch_latency(chain, 5200, 320, 2700, 3340) == 638
    advice = [f for f in r.findings if f.code == "R105"]
    assert [f.layer for f in advice] == ["1", "2", "3", "4"]
    last = advice[-1].values
    assert (last["kernel"], last["stride"], last["left"], last["better"], last["saved"]) == (16, 8, 15, 8, 7)
    assert last["latency"] == 638 and last["latency_better"] == 358
    better = list(chain)
    better[4] = Layer("conv", kernel_size=16, stride=8, pad_left=8)
    assert report(better).latency == 358 == torch_latency(better, 5200, 320, 2700, 3340)
    # every advice taken: the README's encoder
    assert r.latency_advised == report(ENCODEC).latency == 319
    assert report(ENCODEC).latency_advised is None
    text = render_stream(r, width=80)
    assert "638 -> 358 input samples, 26.58 -> 14.92 ms" in " ".join(text.split())
    assert "pad 8 on the left instead of 15" in text
    assert "with every k_eff - s advice below taken: 319 samples (13.29 ms)" in text


@pytest.mark.parametrize(("stack", "latency"), [
    ("conv k=4 s=2 p=causal", 2), ("conv k=4 s=2 p=2,0", 1), ("conv k=3 s=3 p=causal", 4),
    ("conv k=3 s=3", 2), ("conv k=5 p=2; conv k=4 s=2 p=1", 4), ("conv k=2 s=4", 3), ("conv k=2 d=3 s=2", 3),
    ("conv k=3 p=1", 1), ("conv k=7 p=causal", 0), ("conv k=3 d=3 s=2 p=causal", 4), ("conv k=3 d=3 s=2 p=5,0", 3),
    ("conv k=3 d=2 s=2 p=causal", 1), ("conv k=3 d=2 s=2 p=3,0", 1), ("convT k=8 s=4 p=2", Fraction(1, 2)),
])  # fmt: skip
def test_one_layer_latencies(stack: str, latency: Fraction) -> None:
    r = report(stack)
    assert r.latency == latency
    assert torch_latency(parse_stack(stack), 80, r.min_chunk or 1, 20, 40) == latency


streaming_layers = layers().filter(lambda layer: refusal(layer) is None and layer.kind != "pad")


@settings(max_examples=30)
@given(chain=st.lists(streaming_layers, min_size=1, max_size=3))
def test_random_stacks_match_the_planner_and_pytorch(chain: list[Layer]) -> None:
    try:
        r = report(chain)
    except ConvtraceError:
        return  # groups that do not divide the channels: the planner's error
    planned = analyse_stack(chain, 400)
    assert r.hop == planned.hop and r.lookahead == planned.lookahead
    assert r.receptive_field == planned.receptive_field
    assert r.cache_bytes == sum(4 * ((row.cache or 0) * row.in_channels + (row.cache_out or 0) * row.out_channels)
                                for row in r.layers)  # fmt: skip
    if r.latency is None or r.hop is None or r.hop < Fraction(1, 8) or r.hop > 8 or r.receptive_field > 40:
        return
    chunk = r.min_chunk or 1
    first = int(r.receptive_field) + 2 * chunk
    length = first + 3 * math.lcm(r.hop.numerator, chunk) + int(r.receptive_field) + 4 * chunk + 40
    if any(v is None for v in analyse_stack(chain, length).layers[-1:] and [analyse_stack(chain, length).out_length]):
        return
    assert r.latency == torch_latency(chain, length, chunk, first, first + math.lcm(r.hop.numerator, chunk))


def test_what_cannot_stream_is_named_with_the_reason_and_the_fix() -> None:
    r = report("conv k=3 p=1 mode=circular; conv k=3 p=1 mode=reflect; avgpool k=2")
    assert not r.streams and r.latency is None and r.cache_bytes is None
    codes = [(f.code, f.layer) for f in r.findings]
    assert codes == [("R101", "0"), ("R106", "1")]
    refused = r.findings[0]
    assert refused.values == {"refusal": "circular", "param": "padding_mode", "value": "circular"}
    assert "circular padding needs the end of the signal" in message(refused)
    assert "padding_mode='zeros'" in fix(refused) and "zeros" in fix(refused, "zh")
    # the reflect pad keeps padding+1 samples (the mirror), the window span-1: the streaming arithmetic's
    assert r.layers[0].cache is None and r.layers[1].cache == 2 + 2 == layer_timing(parse_stack("conv k=3 p=1 mode=reflect")[0]).cache
    adaptive = report([Layer("conv", kernel_size=3), Layer("adaptiveavgpool", output_size=1)])
    assert [f.values["refusal"] for f in adaptive.findings] == ["adaptive"] and not adaptive.streams
    text = render_stream(adaptive, lang="zh", width=80)
    assert "不能流式运行" in text and "自适应池化" in text


def test_the_advice_only_where_it_applies() -> None:
    assert report("conv k=4 s=2 p=causal").findings[0].code == "R105"
    for stack in ("conv k=4 s=2 p=2,0", "conv k=3 p=causal", "conv k=4 s=2 p=1", "conv k=2 s=4 p=1,0",
                  "conv k=4 s=2 p=3,1"):  # fmt: skip
        assert [f.code for f in report(stack).findings if f.code == "R105"] == [], stack
    dilated = report("conv k=3 d=3 s=2 p=causal").findings[0].values  # k_eff = 7
    assert (dilated["left"], dilated["better"], dilated["latency"], dilated["latency_better"]) == (6, 5, 4, 3)
    # taps 2 apart with stride 2 read only even (or only odd) samples: k_eff - s would not lower the latency
    assert report("conv k=3 d=2 s=2 p=causal").findings == ()


def test_the_advice_counts_its_samples_in_words() -> None:
    one, seven = report("conv k=4 s=2 p=causal").findings[0], report("conv k=16 s=8 p=causal").findings[0]
    assert (one.values["saved"], seven.values["saved"]) == (1, 7)
    assert "with 1 sample less latency" in message(one) and "1 samples" not in message(one)
    assert "with 7 samples less latency" in message(seven)
    assert "少 1 个样本" in message(one, "zh") and "少 7 个样本" in message(seven, "zh")


def test_text_fits_80_columns_in_both_languages_and_json_has_every_message() -> None:
    r = report(ENCODEC_K_MINUS_1 + "; conv k=3 p=1 mode=reflect", sample_rate=24000, in_channels=32, dtype="float64")
    for lang in ("en", "zh"):
        text = r.render(lang, width=80)
        assert max(display_width(line) for line in text.splitlines()) <= 80
    assert "algorithmic latency: 638 samples (26.58 ms)" in str(r) and "算法延迟：638 个样本" in r.render("zh")
    assert "cache:" in str(r) and "lookahead:" in str(r) and r._repr_html_().startswith("<pre")
    doc = json.loads(json.dumps(to_json(r, "zh")))
    assert {f["code"] for f in doc["findings"]} == {"R105", "R106"}
    assert all(f["message"] and "fix" in f for f in doc["findings"])
    assert doc["latency"] == 638 and doc["cache_bytes"] == r.cache_bytes
    assert r.layers[1].cache_bytes == 3 * 32 * 8
    assert repr(r).startswith("<StreamReport 7 layers: latency 638")


def test_bad_input_gets_a_clear_error() -> None:
    for kwargs, param in (({"sample_rate": 0}, "sample_rate"), ({"dtype": "int8"}, "dtype"),
                          ({"batch": -1}, "batch"), ({"in_channels": "x"}, "in_channels")):  # fmt: skip
        with pytest.raises(ConvtraceError) as info:
            report("conv k=3", **kwargs)  # type: ignore[arg-type]
        assert info.value.param == param
    with pytest.raises(ConvtraceError, match="give a stack"):
        report(42)
    with pytest.raises(ConvtraceError, match="unknown layer kind"):
        report("cnv k=3")


def test_hop_latency_examines_one_period() -> None:
    """The chunk wait alone (the report's latency is the larger of it and the lookahead)."""
    # output t reads 4t .. 4t + 5 (k=6, s=4), chunks of 4: sample 4t+2 is first read by output t, final once
    # 4t+5 is in, at the end of the chunk 4t+4 .. 4t+7: it waits 5 (4t and 4t+1 are read by output t-1)
    def reads(t: int) -> list[tuple[int, int]]:
        return [(4 * t, 4 * t + 5)]

    assert hop_latency(reads, Fraction(4), Fraction(5), Fraction(6), 4) == 5
    assert hop_latency(reads, Fraction(4), Fraction(5), Fraction(6), 1 << 17) is None


@pytest.mark.parametrize("stack", [
    ENCODEC.replace("p=causal;", "p=causal c=4;", 1), ENCODEC_K_MINUS_1,
    "conv k=3 p=1 mode=reflect c=3; convT k=8 s=4 p=2 c=2; maxpool k=3 s=2 p=1; conv k=5 p=2 mode=replicate",
])  # fmt: skip
def test_the_cache_is_the_streamers_state(stack: str) -> None:
    """The report's cache bytes are the buffers the engine keeps (its state_spec), for the
    dtype and batch asked."""
    from convtrace.stream import Streamer
    from convtrace.stream.build import chain_of

    chain = parse_stack(stack)
    for dtype, batch in (("float32", 1), ("float64", 3)):
        s = Streamer(chain_of(chain, 2, dtype=dtype), batch_size=batch)
        buffers = sum(e.bytes for e in s.state_spec() if e.name.endswith(".buffer"))
        assert report(chain, in_channels=2, dtype=dtype, batch=batch).cache_bytes == buffers
