"""Real architectures nobody here wrote, built from ``transformers`` configs (random
weights, nothing downloaded): EnCodec (encoder and decoder), the wav2vec2 feature encoder
and the SpeechT5 HiFi-GAN vocoder. For each, convtrace's predicted per-layer and final
lengths must equal those of the model's real forward pass over a range of input lengths,
including awkward ones (0, 1, one short of a multiple of the hop)."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch import nn

from convtrace.inspect import explain_layer, inspect_model, length_map
from convtrace.plan.stack import analyse_stack

NEEDS_TORCH = True
transformers = pytest.importorskip("transformers")

KINDS = (nn.Conv1d, nn.ConvTranspose1d, nn.MaxPool1d, nn.AvgPool1d)


def _real_forward(model: nn.Module, x: torch.Tensor) -> tuple[list[tuple[str, int, int]], Any]:
    """Module calls (name, in length, out length) by plain forward hooks, and the output
    (or the exception PyTorch raised)."""
    seen: list[tuple[str, int, int]] = []
    handles = [
        module.register_forward_hook(lambda m, a, o, n=name: seen.append((n, a[0].shape[-1], o.shape[-1])))
        for name, module in model.named_modules() if isinstance(module, KINDS)
    ]  # fmt: skip
    try:
        model.eval()
        with torch.no_grad():
            out: Any = model(x)
    except (RuntimeError, ValueError, IndexError) as exc:
        out = exc
    finally:
        for h in handles:
            h.remove()
    return seen, out


def _check(model: nn.Module, shape: tuple[int, ...], time_dim: int, output_of: Any) -> None:
    report = inspect_model(model, shape, time_dim=time_dim, raise_on_error=False)
    seen, out = _real_forward(model, torch.zeros(shape))
    if isinstance(out, Exception):
        assert report.error is not None and report.output_length is None, shape
        return
    assert report.error is None, report.error
    module_calls = [(c.name, c.in_length, c.out_length) for c in report.calls if c.name == c.module]
    assert module_calls == seen
    for call in report.calls:  # convtrace's arithmetic predicts every recorded length
        assert call.predicted_out_length == call.out_length, call
    modules = dict(model.named_modules())
    for call in report.calls:  # and the parameters are the module's own
        if call.name == call.module:
            module = modules[call.name]
            for key in ("kernel_size", "stride", "dilation", "groups", "out_channels", "output_padding"):
                if key in call.parameters and hasattr(module, key):
                    value = getattr(module, key)
                    assert call.parameters[key] == (value[0] if isinstance(value, tuple) else value), (call.name, key)
    assert report.output_length == output_of(out)


@pytest.fixture(scope="module")
def encodec() -> nn.Module:
    torch.manual_seed(0)
    return transformers.EncodecModel(transformers.EncodecConfig()).eval()


@pytest.fixture(scope="module")
def wav2vec2() -> nn.Module:
    torch.manual_seed(0)
    return transformers.Wav2Vec2Model(transformers.Wav2Vec2Config(num_hidden_layers=2)).eval()


@pytest.fixture(scope="module")
def hifigan() -> nn.Module:
    torch.manual_seed(0)
    return transformers.SpeechT5HifiGan(transformers.SpeechT5HifiGanConfig()).eval()


@pytest.mark.slow
@pytest.mark.parametrize("length", [0, 1, 2, 319, 320, 321, 639, 640, 1001])
def test_encodec_encoder_and_decoder_lengths(encodec: nn.Module, length: int) -> None:
    _check(encodec, (1, 1, length), -1, lambda out: out.audio_values.shape[-1])


def test_encodec_figures(encodec: nn.Module) -> None:
    report = inspect_model(encodec, (1, 1, 960))
    # EnCodec computes its padding from scalar buffers (stride, kernel size) and calls .item():
    # those keep their values on the meta device, so no real run is needed
    assert report.output_length == 960 and report.device == "meta"
    assert "W201" not in [w.code for w in report.warnings]
    encoder_out = next(c for c in report.calls if c.name == "encoder.layers.15.conv")
    assert encoder_out.hop == 320 and encoder_out.out_length == 3
    assert "W107" in [w.code for w in report.warnings]  # the LSTMs


@pytest.mark.parametrize("length", [0, 1, 399, 400, 401, 639, 640, 3199, 3200, 16000])
def test_wav2vec2_feature_encoder_lengths(wav2vec2: nn.Module, length: int) -> None:
    _check(wav2vec2, (1, length), -1, lambda out: out.last_hidden_state.shape[1])


def test_wav2vec2_chain_predicts_other_lengths(wav2vec2: nn.Module) -> None:
    report = inspect_model(wav2vec2, (1, 16000))
    assert report.device == "meta"
    convs = [c.layer for c in report.calls if c.name.startswith("feature_extractor")]
    feature = next(c for c in report.calls if c.name == "feature_extractor.conv_layers.6.conv")
    assert (feature.receptive_field, feature.hop, feature.offset) == (400, 320, 0)
    for length in (400, 401, 719, 720, 16000, 16319, 16320, 48000 - 1):
        predicted = analyse_stack(convs, length).out_length
        with torch.no_grad():
            real = wav2vec2(torch.zeros(1, length)).extract_features.shape[1]
        assert predicted == real, length
    codes = [w.code for w in report.warnings]
    assert "W101" in codes and "W107" in codes  # a dropped sample; group norm and attention over time


@pytest.mark.parametrize("frames", [1, 2, 3, 7, 50])
def test_hifigan_vocoder_lengths(hifigan: nn.Module, frames: int) -> None:
    _check(hifigan, (1, frames, 80), 1, lambda out: out.shape[-1])


def test_hifigan_upsampling_and_explain(hifigan: nn.Module) -> None:
    report = inspect_model(hifigan, (1, 20, 80), time_dim=1)
    assert report.output_length == 20 * 256 and report.hop == pytest.approx(1 / 256)
    assert all(c.predicted_out_length == c.out_length for c in report.calls)
    result = explain_layer(hifigan, "upsampler.1", (0, 5, 17), example_input=torch.randn(1, 20, 80))
    assert result.match


def test_encodec_explain_weight_norm_layer(encodec: nn.Module) -> None:
    result = explain_layer(encodec, "encoder.layers.3.conv", (0, 7, 11), (1, 1, 640))
    assert result.match and result.type == "ParametrizedConv1d"


@pytest.mark.slow
def test_wav2vec2_length_map_flags_the_dropped_frame(wav2vec2: nn.Module) -> None:
    result = length_map(wav2vec2, (1, 16000), range(15990, 16011))
    for entry in result.entries:
        with torch.no_grad():
            assert entry.output_length == wav2vec2(torch.zeros(1, entry.length)).last_hidden_state.shape[1]
    assert 16000 in result.off_promise  # 49 frames for one second, not 50


@pytest.mark.slow
def test_encodec_encoder_length_map_by_arithmetic(encodec: nn.Module) -> None:
    """EnCodec pads each strided conv from the length (``extra_padding``): the map learns
    that rule from its confirmation runs; every length equals a real run's, in about half
    a second after the first recording (the bound is generous for a loaded machine)."""
    import time

    length_map(encodec.encoder, (1, 1, 1050), [1050])
    start = time.perf_counter()
    result = length_map(encodec.encoder, (1, 1, 24000), range(1000, 1101))
    elapsed = time.perf_counter() - start
    assert result.method == "arithmetic", result.reason
    for entry in result.entries:
        with torch.no_grad():
            assert entry.output_length == encodec.encoder(torch.zeros(1, 1, entry.length)).shape[-1], entry
    assert elapsed < 10.0, elapsed
