"""The real-model zoo for issue 19: architectures people stream, built offline with seeded
random weights and small channel counts (the geometry — kernels, strides, dilations,
paddings — is the real one; only the widths are cut so that the tests stay fast).

Each factory takes keyword arguments only and returns a ``torch.nn.Module`` in eval mode,
float32; ``convtrace stream tests.streamify.models:tcn --input-shape 1,1,2000`` loads them
from the command line. :data:`ZOO` lists, per model, its input shape, its time axis and what
``streamify`` must do with it: stream, or refuse naming the module and the op.

- :func:`tcn` / :func:`tcn_inplace`: a causal TCN, residual blocks with dilations 1...64
  (``x = x + block(x)`` and ``x += block(x)``);
- :func:`encodec_encoder` / :func:`encodec_decoder`: EnCodec (``transformers``) with
  ``use_causal_conv=True``; its LSTM (recurrence over time) is refused by name, so
  :func:`encodec_encoder_conv` / :func:`encodec_decoder_conv` are the same nets with the LSTM
  taken out (an ``Identity``) and zero padding: weight-normed convs, the extra right padding
  set from the length, ConvTranspose1d with a right crop. With EnCodec's default reflect
  padding (:func:`encodec_encoder_reflect`) it streams too on inputs long enough; on short
  ones ``_pad1d`` takes another branch (the length at most the pad): refused, naming the
  module and the pad;
- :func:`seanet_encoder`: a SEANet-style NON-causal encoder (reflect padding on both sides,
  residual units, ELU, strided convs): lookahead > 0;
- :func:`hifigan`: the SpeechT5 HiFi-GAN vocoder (``transformers``), input (batch, frames, mels):
  time on dimension 1;
- :func:`wav2vec2_group` (group norm over time: refused, by name) and :func:`wav2vec2_layer`
  (conv + LayerNorm over channels: streams): the wav2vec2 feature encoder, input (batch, samples).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import nn

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

__all__ = ["ZOO", "ZooModel", "tcn", "tcn_inplace", "encodec_encoder", "encodec_decoder", "encodec_encoder_conv",
           "encodec_decoder_conv", "encodec_encoder_reflect", "encodec_decoder_reflect", "seanet_encoder", "hifigan",
           "wav2vec2_group", "wav2vec2_layer", "seeded", "one_thread"]  # fmt: skip


@pytest.fixture(autouse=True)
def one_thread() -> Any:
    """PyTorch on one thread while a test runs (import it into a test module): the models
    are tiny and, on a loaded machine, two threads make each op ten times slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def seeded(model: nn.Module, seed: int = 0) -> nn.Module:
    """Re-draw every parameter from a seeded generator (uniform, scaled by fan-in) so that
    the nets neither die nor blow up at any depth, and put the model in eval mode."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if "original0" in name:  # a weight norm's magnitude
                p.copy_(1 + 0.1 * torch.rand(p.shape, generator=generator))
            elif p.dim() >= 2:
                fan_in = max(1, p[0].numel())
                bound = (3.0 / fan_in) ** 0.5
                p.copy_((torch.rand(p.shape, generator=generator) * 2 - 1) * bound)
            elif name.endswith("weight"):  # norms' scales
                p.copy_(1 + 0.1 * torch.rand(p.shape, generator=generator))
            else:
                p.copy_(0.1 * (torch.rand(p.shape, generator=generator) * 2 - 1))
    return model.eval()


# ---------------------------------------------------------------------- a causal TCN


class CausalBlock(nn.Module):
    """Two causal dilated convs (left padding ``(k - 1) * d`` by ``F.pad``) with a ReLU."""

    def __init__(self, channels: int, kernel_size: int, dilation: int) -> None:
        super().__init__()
        self.left = (kernel_size - 1) * dilation
        self.conv1 = nn.Conv1d(channels, channels, kernel_size, dilation=dilation)
        self.conv2 = nn.Conv1d(channels, channels, kernel_size, dilation=dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.conv1(F.pad(x, (self.left, 0))))
        return torch.tanh(self.conv2(F.pad(y, (self.left, 0))))


class TCN(nn.Module):
    """A causal TCN: an input conv, residual blocks with dilations 1, 2, ..., 64, a 1x1 head.
    ``inplace``: the residual join written ``x += block(x)`` instead of ``x = x + block(x)``."""

    def __init__(self, channels: int = 8, kernel_size: int = 3, levels: int = 7, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace
        self.inp = nn.Conv1d(1, channels, 1)
        self.blocks = nn.ModuleList([CausalBlock(channels, kernel_size, 2**i) for i in range(levels)])
        self.head = nn.Conv1d(channels, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.inp(x)
        for block in self.blocks:
            if self.inplace:
                x += block(x)
            else:
                x = x + block(x)
        return self.head(x)


def tcn(channels: int = 8, levels: int = 7, seed: int = 0) -> nn.Module:
    """The causal TCN (dilations 1...2**(levels-1)), ``x = x + block(x)``."""
    return seeded(TCN(channels, levels=levels), seed)


def tcn_inplace(channels: int = 8, levels: int = 7, seed: int = 0) -> nn.Module:
    """The causal TCN with in-place residual joins, ``x += block(x)``."""
    return seeded(TCN(channels, levels=levels, inplace=True), seed)


# ---------------------------------------------------------------------- EnCodec (transformers)


def _encodec_config(**overrides: Any) -> Any:
    import transformers

    values: dict[str, Any] = dict(num_filters=4, hidden_size=8, use_causal_conv=True, num_lstm_layers=1)
    values.update(overrides)
    return transformers.EncodecConfig(**values)


def _without_lstm(model: nn.Module) -> nn.Module:
    layers = model.layers  # type: ignore[union-attr]
    for i, layer in enumerate(layers):
        if type(layer).__name__ == "EncodecLSTM":
            layers[i] = nn.Identity()
    return model


def encodec_encoder(seed: int = 0, **config: Any) -> nn.Module:
    """EnCodec's causal encoder (``use_causal_conv=True``, strides 2, 4, 5, 8: hop 320), with
    its LSTM."""
    from transformers.models.encodec.modeling_encodec import EncodecEncoder

    return seeded(EncodecEncoder(_encodec_config(**config)), seed)


def encodec_decoder(seed: int = 0, **config: Any) -> nn.Module:
    """EnCodec's causal decoder (ConvTranspose1d, crop on the right), with its LSTM."""
    from transformers.models.encodec.modeling_encodec import EncodecDecoder

    return seeded(EncodecDecoder(_encodec_config(**config)), seed)


def encodec_encoder_conv(seed: int = 0, **config: Any) -> nn.Module:
    """EnCodec's causal encoder without its LSTM, zero padding (``pad_mode="constant"``):
    convolutions only, and the extra right padding set from the length."""
    return _without_lstm(encodec_encoder(seed, **{"pad_mode": "constant", **config}))


def encodec_decoder_conv(seed: int = 0, **config: Any) -> nn.Module:
    """EnCodec's causal decoder without its LSTM, zero padding: convolutions only."""
    return _without_lstm(encodec_decoder(seed, **{"pad_mode": "constant", **config}))


def encodec_encoder_reflect(seed: int = 0, **config: Any) -> nn.Module:
    """EnCodec's causal encoder without its LSTM, with its default reflect padding: its
    ``_pad1d`` takes another branch on inputs shorter than the padding (a chunk)."""
    return _without_lstm(encodec_encoder(seed, **config))


def encodec_decoder_reflect(seed: int = 0, **config: Any) -> nn.Module:
    """EnCodec's causal decoder without its LSTM, with its default reflect padding."""
    return _without_lstm(encodec_decoder(seed, **config))


# ---------------------------------------------------------------------- a SEANet-style non-causal encoder


class ReflectConv(nn.Module):
    """A conv padded ``(k_eff - s)`` in total, split as in SEANet (more on the left), by
    reflection on both sides."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int, stride: int = 1, dilation: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv1d(c_in, c_out, kernel_size, stride=stride, dilation=dilation)
        total = (kernel_size - 1) * dilation + 1 - stride
        self.pads = (total - total // 2, total // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.pad(x, self.pads, mode="reflect"))


class ResidualUnit(nn.Module):
    """ELU, a dilated k=3 conv, ELU, a 1x1 conv; added to the input."""

    def __init__(self, channels: int, dilation: int) -> None:
        super().__init__()
        self.conv1 = ReflectConv(channels, channels // 2, 3, dilation=dilation)
        self.conv2 = ReflectConv(channels // 2, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.elu(self.conv1(F.elu(x))))


class SEANetEncoder(nn.Module):
    """Input conv (k=7), per ratio a residual unit and a strided conv (k = 2 * ratio), a
    last conv (k=3): non-causal, reflect padding on both sides."""

    def __init__(self, channels: int = 4, ratios: tuple[int, ...] = (2, 4), dimension: int = 8) -> None:
        super().__init__()
        self.inp = ReflectConv(1, channels, 7)
        stages: list[nn.Module] = []
        c = channels
        for ratio in ratios:
            stages += [ResidualUnit(c, 1), nn.ELU(), ReflectConv(c, 2 * c, 2 * ratio, stride=ratio)]
            c *= 2
        self.stages = nn.Sequential(*stages)
        self.out = ReflectConv(c, dimension, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(F.elu(self.stages(self.inp(x))))


def seanet_encoder(channels: int = 4, seed: int = 0) -> nn.Module:
    """The SEANet-style non-causal encoder (strides 2, 4: hop 8)."""
    return seeded(SEANetEncoder(channels), seed)


# ---------------------------------------------------------------------- SpeechT5 HiFi-GAN, wav2vec2 (transformers)


def hifigan(channels: int = 32, seed: int = 0, **config: Any) -> nn.Module:
    """The SpeechT5 HiFi-GAN vocoder (upsample 4, 4, 4, 4: 256 samples per mel frame) with
    ``upsample_initial_channel=channels``; input (batch, frames, 80): time on dimension 1."""
    import transformers

    values: dict[str, Any] = dict(upsample_initial_channel=channels)
    values.update(config)
    return seeded(transformers.SpeechT5HifiGan(transformers.SpeechT5HifiGanConfig(**values)), seed)


def _wav2vec2(norm: str, channels: int, seed: int) -> nn.Module:
    import transformers
    from transformers.models.wav2vec2.modeling_wav2vec2 import Wav2Vec2FeatureEncoder

    config = transformers.Wav2Vec2Config(feat_extract_norm=norm, conv_dim=(channels,) * 7, conv_bias=True)
    return seeded(Wav2Vec2FeatureEncoder(config), seed)


def wav2vec2_group(channels: int = 8, seed: int = 0) -> nn.Module:
    """The wav2vec2 feature encoder as in wav2vec2-base: a GroupNorm over time after the first
    conv (must be refused by name); input (batch, samples)."""
    return _wav2vec2("group", channels, seed)


def wav2vec2_layer(channels: int = 8, seed: int = 0) -> nn.Module:
    """The wav2vec2 feature encoder's "layer" variant (as in wav2vec2-large-lv60): each conv
    followed by a LayerNorm over channels and GELU; streams."""
    return _wav2vec2("layer", channels, seed)


# ---------------------------------------------------------------------- the zoo


@dataclass(frozen=True)
class ZooModel:
    """A model of the zoo: its factory's name, the input shape it is proven on, either
    ``refused_module=None`` (it streams) or the dotted module name streamify's refusal must
    name and a word its op must contain, and the input's time axis."""

    name: str
    input_shape: tuple[int, ...]
    refused_module: str | None = None
    refused_op: str | None = None
    time_dim: int = -1
    tag: str = ""

    @property
    def id(self) -> str:
        """The test id: the name, and the tag where one factory appears twice."""
        return self.name + self.tag

    def build(self) -> nn.Module:
        """A fresh model."""
        factory: Any = globals()[self.name]
        model: nn.Module = factory()
        return model


ZOO: tuple[ZooModel, ...] = (
    ZooModel("tcn", (1, 1, 400)),
    ZooModel("tcn_inplace", (1, 1, 400)),
    ZooModel("encodec_encoder_conv", (1, 1, 1500)),
    ZooModel("encodec_decoder_conv", (1, 8, 6)),
    ZooModel("seanet_encoder", (1, 1, 300)),
    ZooModel("hifigan", (1, 6, 80), time_dim=1),
    ZooModel("wav2vec2_layer", (1, 2000)),
    ZooModel("encodec_encoder", (1, 1, 1500), "layers.13.lstm", "LSTM"),
    ZooModel("encodec_decoder", (1, 8, 6), "layers.1.lstm", "LSTM"),
    ZooModel("encodec_encoder_reflect", (1, 1, 4000)),
    ZooModel("encodec_decoder_reflect", (1, 8, 12)),
    # on short inputs EnCodec's _pad1d takes another branch (length <= the pad): refused
    ZooModel("encodec_encoder_reflect", (1, 1, 1500), "layers.15", "pad", tag="_short"),
    ZooModel("encodec_decoder_reflect", (1, 8, 6), "layers.0", "pad", tag="_short"),
    ZooModel("wav2vec2_group", (1, 2000), "conv_layers.0.layer_norm", "GroupNorm"),
)
