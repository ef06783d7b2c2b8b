"""``convtrace.stream.report`` on PyTorch models recorded by the inspector: small models with
branches and a k_eff - 1 causal pad (the latency and lookahead against PyTorch's gradients,
oneDNN on and off), and the inspect test models built from ``transformers`` configs
(EnCodec, wav2vec2, SpeechT5 HiFi-GAN): what each can and cannot stream, and why."""

from __future__ import annotations

import math
import os
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).parents[1]))
from backends import each_backend
from convtrace.inspect import inspect_model
from convtrace.render.stream_text import render_stream
from convtrace.render.textwidth import display_width
from convtrace.stream.report import report

NEEDS_TORCH = True
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"


class CausalCodec(nn.Module):
    """A causal encoder with a residual block: F.pad(k_eff - 1 or k_eff - s) + strided conv;
    the residual conv causal (or centred: its lookahead hides what the padding saves)."""

    def __init__(self, left: int = 7, channels: int = 4, causal: bool = True) -> None:
        super().__init__()
        self.left, self.causal = left, causal
        self.inp = nn.Conv1d(1, channels, 3)
        self.down = nn.Conv1d(channels, channels, 8, stride=4)
        self.res = nn.Conv1d(channels, channels, 3, padding=0 if causal else 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.inp(F.pad(x, (2, 0)))
        x = self.down(F.pad(x, (self.left, 0)))
        return x + self.res(F.pad(x, (2, 0)) if self.causal else x)


def positive(model: nn.Module) -> nn.Module:
    """All-positive weights: with a positive input no dependence cancels."""
    torch.manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.uniform_(0.05, 0.1)
    return model.double().eval()


def torch_latency(model: nn.Module, length: int, hop: int, first: int, stop: int) -> tuple[Fraction, Fraction]:
    """(lookahead, latency) by their definitions from PyTorch's gradients, oneDNN on and
    off: output ``t`` depends on the inputs where d y[t] / d x is nonzero; fed chunks of
    ``hop`` samples, input ``i`` waits until the first output reading it has all its inputs."""
    answers = []
    for _ in each_backend():
        with torch.no_grad():
            count = model(torch.ones(1, 1, length, dtype=torch.float64)).shape[-1]
        # one batch row per output: row t's gradient is d y[t] / d x (one backward pass)
        x = torch.ones(count, 1, length, dtype=torch.float64, requires_grad=True)
        picked = model(x)[torch.arange(count), 0, torch.arange(count)].sum()
        (grad,) = torch.autograd.grad(picked, x)
        answers.append(grad[:, 0, :] != 0)
    dep = answers[0]
    assert torch.equal(dep, answers[1])
    last = [int(torch.nonzero(row).flatten()[-1]) for row in dep]
    look, wait = None, 0
    for i in range(first, stop):
        readers = torch.nonzero(dep[:, i]).flatten().tolist()
        end = last[readers[0]]
        assert end < length - 1
        wait = max(wait, math.ceil((end + 1) / hop) * hop - 1 - i)
        for t in readers:
            look = last[t] - t * hop if look is None else max(look, last[t] - t * hop)
    assert look is not None
    return Fraction(look), max(Fraction(look), Fraction(wait))


def test_a_causal_codec_with_a_residual_against_pytorch() -> None:
    model = positive(CausalCodec(left=7))
    recorded = inspect_model(model, (1, 1, 400))
    r = report(recorded, sample_rate=16000)
    assert r.source == "model" and r.streams
    assert r.hop == 4 and r.min_chunk == 4
    look, latency = torch_latency(model, 200, 4, 60, 64)
    assert (r.lookahead, r.latency) == (look, latency)
    advice = [f for f in r.findings if f.code == "R105"]
    assert [f.layer for f in advice] == ["down"]
    values = advice[0].values
    assert (values["left"], values["better"], values["saved"]) == (7, 4, 3)
    better_look, better_latency = torch_latency(positive(CausalCodec(left=4)), 200, 4, 60, 64)
    assert values["latency"] == latency == 6 and look == 0  # causal, but 3 of every 4 samples wait a chunk
    assert values["latency_better"] == better_latency == 3 == better_look
    assert report(inspect_model(CausalCodec(left=4), (1, 1, 400))).latency == better_latency
    # a centred residual conv looks one frame ahead: padding k_eff - s would not lower the latency
    centred = positive(CausalCodec(left=7, causal=False))
    r = report(inspect_model(centred, (1, 1, 400)))
    assert (r.lookahead, r.latency) == torch_latency(centred, 200, 4, 60, 64) == (4, 6)
    assert torch_latency(positive(CausalCodec(left=4, causal=False)), 200, 4, 60, 64)[1] == 7
    assert "R105" not in {f.code for f in r.findings}
    # cache: each layer's own (pads: constant, nothing kept; convs span - 1 samples of their input channels)
    caches = {row.name: (row.cache, row.in_channels) for row in report(recorded).layers}
    assert caches["inp"] == (2, 1) and caches["down"] == (7, 4) and caches["res"] == (2, 4)
    assert report(recorded).cache_bytes == 4 * (2 * 1 + 7 * 4 + 2 * 4)
    assert report(recorded).first_output == recorded.dependence(0)[1] + 1


class Global(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(1, 4, 3, padding=1, padding_mode="circular")
        self.norm = nn.GroupNorm(1, 4)
        self.pool = nn.AdaptiveAvgPool1d(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.norm(self.conv(x)))


def test_what_a_model_cannot_stream_is_named() -> None:
    r = report(inspect_model(Global(), (1, 1, 64)))
    assert not r.streams and r.latency is None and r.cache_bytes is None
    found = {(f.code, f.layer, f.values.get("refusal") or f.values.get("kind")) for f in r.findings}
    # PyTorch pads circularly with F.pad inside the conv: the pad call is refused
    assert ("R101", "conv (pad)", "circular") in found and ("R101", "pool", "adaptive") in found
    assert any(code == "R102" and "norm" in layer for code, layer, _ in found)
    for lang in ("en", "zh"):
        text = render_stream(r, lang=lang, width=80)
        assert max(display_width(line) for line in text.splitlines()) <= 80
    assert "cannot stream" in str(r) and "circular padding needs the end of the signal" in str(r)


transformers = pytest.importorskip("transformers")


def text_of(r: Any) -> str:
    return " ".join(str(r).split())


def _both(model: nn.Module, shape: tuple[int, ...], time_dim: int = -1) -> tuple[Any, Any]:
    longer = list(shape)
    longer[time_dim] += 1
    return (inspect_model(model, shape, time_dim=time_dim),
            inspect_model(model, tuple(longer), time_dim=time_dim, raise_on_error=False))  # fmt: skip


@pytest.mark.slow
def test_encodec_cannot_stream_its_lstm_and_its_length_set_padding() -> None:
    torch.manual_seed(0)
    model = transformers.EncodecModel(transformers.EncodecConfig()).eval()
    first, second = _both(model, (1, 1, 960))
    r = report(first, also=second, sample_rate=24000)
    assert not r.streams
    codes = {f.code for f in r.findings}
    assert {"R102", "R103", "R106"} <= codes
    lstm = [f for f in r.findings if f.code == "R102"]
    assert {f.layer for f in lstm} == {"encoder.layers.13", "decoder.layers.1"}
    assert all(f.values["kind"] == "EncodecLSTM" and f.values["family"] == "recurrence" for f in lstm)
    assert "carry the recurrent state (h, c) from chunk to chunk" in text_of(r)
    padded = {f.layer: f.values for f in r.findings if f.code == "R103"}
    # the stride-2 conv's extra right padding: ideal length - length (0 for 960, 1 for 961)
    assert padded["encoder.layers.3 (pad)"] == {"left_a": 2, "right_a": 0, "length_a": 960, "left_b": 2,
                                                "right_b": 1, "length_b": 961}  # fmt: skip
    # causal EnCodec pads k - s on the left already: no k_eff - 1 advice
    assert "R105" not in codes
    text = str(r)
    assert "EncodecLSTM over time" in text and "a padding set from the input length" in text


def test_wav2vec2_cannot_stream_group_norm_and_attention() -> None:
    torch.manual_seed(0)
    model = transformers.Wav2Vec2Model(transformers.Wav2Vec2Config(num_hidden_layers=2)).eval()
    first, second = _both(model, (1, 16000))
    r = report(first, also=second, sample_rate=16000)
    assert not r.streams
    kinds = {(f.values["kind"], f.values["family"]) for f in r.findings if f.code == "R102"}
    assert kinds == {("Wav2Vec2GroupNormConvLayer", "norm"), ("Wav2Vec2Attention", "attention")}
    text = text_of(r)
    assert "normalise per frame (over channels)" in text and "key/value cache between chunks" in text
    assert "R103" not in {f.code for f in r.findings}  # its convs pad nothing from the length
    first_conv = r.layers[0]  # conv k=10 s=5, one input channel: 9 samples kept
    assert (first_conv.cache, first_conv.in_channels, first_conv.hop) == (9, 1, 5)
    assert "Wav2Vec2Attention over time" in r.render("en", width=80)
    assert "Wav2Vec2Attention 作用于整个时间轴" in r.render("zh", width=80)


def test_speecht5_hifigan_streams_with_its_lookahead() -> None:
    torch.manual_seed(0)
    model = transformers.SpeechT5HifiGan(transformers.SpeechT5HifiGanConfig()).eval()
    first, second = _both(model, (1, 50, 80), time_dim=1)
    r = report(first, also=second)
    assert r.streams and not r.chain and not [f for f in r.findings if f.code != "R106"]
    assert r.hop == Fraction(1, 256) and r.lookahead == first.lookahead == Fraction(6041, 256)
    assert r.latency == r.lookahead and r.min_chunk == 1
    assert r.cache_bytes == sum(row.cache_bytes for row in r.layers) > 0
    upsampler = next(row for row in r.layers if row.name == "upsampler.0")
    assert (upsampler.cache_out, upsampler.out_channels) == (4, 256)  # the overlap-add tail k - s
    assert "every recorded layer can stream" in str(r)
