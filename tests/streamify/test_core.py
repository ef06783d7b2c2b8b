"""convtrace.streamify on hand-written models: streamed equals offline, exactly (float64),
for random uneven chunk schedules (empty chunks, single samples, non-multiples of strides)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from streamify_check import assert_streams, nonzero_biases, schedule, stream
from torch import nn

import convtrace


def _x(channels: int, length: int, seed: int = 0, batch: int = 1) -> torch.Tensor:
    return torch.randn(batch, channels, length, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _model(module: nn.Module, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    for p in module.parameters():
        p.data = torch.randn_like(p) * 0.5
    return nonzero_biases(module.double().eval(), seed)


class CausalChain(nn.Module):
    """An EnCodec-like causal encoder: F.pad on the left, strided convs, ELU."""

    def __init__(self) -> None:
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv1d(1, 4, 7), nn.Conv1d(4, 6, 4, stride=2), nn.Conv1d(6, 8, 5, stride=3)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv in self.convs:
            k, s = conv.kernel_size[0], conv.stride[0]
            x = F.elu(conv(F.pad(x, (k - s, 0))))
        return x


class Residual(nn.Module):
    """A dilated residual block: the branch is non-causal (padding), so it lags the skip."""

    def __init__(self, in_place: bool, dilation: int = 3) -> None:
        super().__init__()
        self.in_place = in_place
        self.a = nn.Conv1d(3, 3, 3, dilation=dilation, padding=dilation)
        self.b = nn.Conv1d(3, 3, 1)
        self.pre = nn.Conv1d(1, 3, 5, stride=2, padding=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pre(x)
        if self.in_place:
            x += self.b(F.leaky_relu(self.a(x), 0.1))
            return x
        return x + self.b(F.leaky_relu(self.a(x), 0.1)) * 0.5


class CatChannels(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.left = nn.Conv1d(2, 3, 5, padding=4)
        self.right = nn.Conv1d(2, 2, 3, padding=1)
        self.out = nn.Conv1d(5, 1, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(torch.cat([self.left(x)[..., 2:-2], torch.tanh(self.right(x))], dim=1))


class Upsampler(nn.Module):
    """A HiFi-GAN-like upsampler: ConvTranspose1d with overlap, then a residual conv."""

    def __init__(self) -> None:
        super().__init__()
        self.up1 = nn.ConvTranspose1d(2, 3, 8, stride=4, padding=2)
        self.up2 = nn.ConvTranspose1d(3, 2, 3, stride=2, padding=1, output_padding=1)
        self.conv = nn.Conv1d(2, 2, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.up2(F.leaky_relu(self.up1(x), 0.1))
        return x + self.conv(torch.sin(x) ** 2)


@pytest.mark.parametrize("batch", [1, 2])
def test_conv_chain_streams_exactly(batch: int) -> None:
    model = _model(CausalChain())
    assert_streams(model, _x(1, 97, batch=batch))


def test_conv_options_stream_exactly() -> None:
    model = _model(nn.Sequential(nn.Conv1d(2, 4, 3, padding="same", dilation=2), nn.GELU(),
                                 nn.Conv1d(4, 4, 4, stride=3, padding=5, groups=2), nn.Conv1d(4, 2, 1),
                                 nn.Conv1d(2, 2, 2, padding="same"), nn.Conv1d(2, 1, 1, stride=2)))  # fmt: skip
    assert_streams(model, _x(2, 61))


@pytest.mark.parametrize("in_place", [True, False])
def test_residual_block_streams_exactly(in_place: bool) -> None:
    model = _model(Residual(in_place))
    assert_streams(model, _x(1, 80))


def test_cat_on_channels_and_crops_stream_exactly() -> None:
    assert_streams(_model(CatChannels()), _x(2, 50))


def test_transposed_upsampler_streams_exactly() -> None:
    assert_streams(_model(Upsampler()), _x(2, 30))


@pytest.mark.parametrize(("kernel", "stride", "padding", "output_padding", "dilation"), [
    (4, 2, 1, 0, 1), (1, 3, 0, 0, 1), (2, 5, 0, 2, 1), (3, 2, 4, 1, 1), (3, 1, 2, 0, 2), (5, 3, 7, 2, 1)])  # fmt: skip
def test_conv_transpose_settings_stream_exactly(kernel: int, stride: int, padding: int, output_padding: int,
                                                 dilation: int) -> None:  # fmt: skip
    model = _model(nn.ConvTranspose1d(2, 3, kernel, stride, padding, output_padding, dilation=dilation))
    assert_streams(model, _x(2, 23))


def test_push_emits_nothing_early_and_reset_repeats_the_stream() -> None:
    model = _model(Residual(True))
    sm = convtrace.streamify(model, (1, 1, 40))
    x = _x(1, 40)
    first, counts1 = stream(sm, x, schedule(40, 3))
    sm.push(_x(1, 9, seed=5))  # a stream left half-way ...
    sm.reset()  # ... then reset: every buffer back to its start (moshi #407)
    second, counts2 = stream(sm, x, schedule(40, 3))
    assert torch.equal(first, second) and counts1 == counts2


@pytest.mark.parametrize("batch", [1, 3])
def test_step_form_equals_push(batch: int) -> None:
    model = _model(Residual(False))
    sm = convtrace.streamify(model, (1, 1, 40), chunk_size=4)
    x = _x(1, 48, batch=batch)
    state = sm.initial_state(batch)
    outs = []
    for k in range(12):
        out, *state = sm.step(x[..., 4 * k : 4 * k + 4], *state)
        outs.append(out)
    stepped = torch.cat(outs, -1)
    pushed = torch.cat([sm.push(x[..., 4 * k : 4 * k + 4]) for k in range(12)], -1)
    skip = -sm.step_offset
    assert skip >= 0 and torch.equal(stepped[..., :skip], torch.zeros_like(stepped[..., :skip]))
    assert torch.allclose(stepped[..., skip:], pushed[..., : stepped.shape[-1] - skip], rtol=0, atol=1e-12)
    assert [e.shape for e in sm.state_spec(batch)] == [tuple(t.shape) for t in state]


class MirrorPads(nn.Module):
    """Reflect and replicate pads on the left (they wait for the first samples) and right."""

    def __init__(self, mode: str, left: int, right: int) -> None:
        super().__init__()
        self.mode, self.left, self.right = mode, left, right
        self.conv = nn.Conv1d(2, 2, 3, stride=2)
        self.conv2 = nn.Conv1d(2, 1, 4, padding=2, padding_mode="zeros" if mode == "constant" else mode)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(F.pad(x, (self.left, self.right), mode=self.mode))
        return self.conv2(torch.relu(x))


@pytest.mark.parametrize(("mode", "left", "right"), [("reflect", 3, 1), ("replicate", 4, 2), ("reflect", 1, 0),
                                             ("replicate", 1, 5), ("constant", 6, 3)])  # fmt: skip
def test_mirror_pads_stream_exactly(mode: str, left: int, right: int) -> None:
    assert_streams(_model(MirrorPads(mode, left, right)), _x(2, 41))


def test_weight_norm_parametrization_streams_exactly() -> None:
    from torch.nn.utils.parametrizations import weight_norm

    model = _model(nn.Sequential(weight_norm(nn.Conv1d(1, 3, 5, padding=2)), nn.SiLU(),
                                 weight_norm(nn.ConvTranspose1d(3, 1, 4, stride=2, padding=1))))  # fmt: skip
    assert_streams(model, _x(1, 33))


class Crops(nn.Module):
    """Crops by slicing, fixed on both sides; a pad and a crop at the end set from the
    input length (EnCodec's extra padding)."""

    def __init__(self) -> None:
        super().__init__()
        self.up = nn.ConvTranspose1d(1, 2, 5, stride=3)
        self.conv = nn.Conv1d(2, 1, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.up(x)[..., 2:-3]
        y = self.conv(y)
        y = F.pad(y, (0, (-x.shape[-1]) % 4))
        return y[..., : y.shape[-1] - x.shape[-1] % 3]


def test_slice_crops_stream_exactly() -> None:
    model = _model(Crops())
    sm = assert_streams(model, _x(1, 30))
    assert_streams(model, _x(1, 37, seed=1), sm=sm)  # another length: the crop at the end follows it


@pytest.mark.parametrize("pool", [nn.MaxPool1d(3, 2, padding=1), nn.MaxPool1d(4, dilation=2, ceil_mode=True),
                                  nn.AvgPool1d(4, 3, padding=2), nn.LPPool1d(2, 3, 2), nn.AvgPool1d(2)])  # fmt: skip
def test_pools_stream_exactly(pool: nn.Module) -> None:
    model = _model(nn.Sequential(nn.Conv1d(2, 3, 3, padding=1), pool, nn.Conv1d(3, 1, 2)))
    assert_streams(model, _x(2, 35))


class Chomp(nn.Module):
    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :, : -self.size]


class TemporalBlock(nn.Module):
    """Bai et al.'s TCN block: padded convs chomped on the right, a residual 1x1 conv."""

    def __init__(self, cin: int, cout: int, dilation: int, k: int = 3) -> None:
        super().__init__()
        pad = (k - 1) * dilation
        self.net = nn.Sequential(nn.Conv1d(cin, cout, k, padding=pad, dilation=dilation), Chomp(pad), nn.ReLU(),
                                 nn.Conv1d(cout, cout, k, padding=pad, dilation=dilation), Chomp(pad), nn.ReLU())  # fmt: skip
        self.down = nn.Conv1d(cin, cout, 1) if cin != cout else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        res = x if self.down is None else self.down(x)
        return torch.relu(self.net(x) + res)


def test_causal_tcn_streams_exactly_and_at_once() -> None:
    """A crop at the end that the padding's outputs at the end will fill holds nothing back:
    a causal TCN gives out each output with the input sample that completes it."""
    model = _model(nn.Sequential(TemporalBlock(1, 3, 1), TemporalBlock(3, 3, 2), TemporalBlock(3, 2, 4)))
    sm = assert_streams(model, _x(1, 45))
    x = _x(1, 45, seed=2)
    _, counts = stream(sm, x, schedule(45, 7))
    assert counts[:-1] == schedule(45, 7) and counts[-1] == 0


class FramesFirst(nn.Module):
    """A vocoder's layout: (N, T, C) in, normalised per channel, transposed, upsampled,
    a waveform (N, T') out."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("mean", torch.randn(3))
        self.pre = nn.Conv1d(3, 4, 3, padding=1)
        self.up = nn.ConvTranspose1d(4, 1, 4, stride=2, padding=1)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        h = self.pre((frames - self.mean).transpose(2, 1))
        h = h + torch.tanh(h)
        return self.up(h).squeeze(1)


class RawWave(nn.Module):
    """wav2vec2's feature encoder layout: (N, T) in, ``x[:, None]``, a layer norm over
    channels between transposes."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(1, 4, 5, stride=3)
        self.norm = nn.LayerNorm(4)
        self.conv2 = nn.Conv1d(4, 4, 2, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv(x[:, None])
        h = F.gelu(self.norm(h.transpose(-2, -1)).transpose(-2, -1))
        return self.conv2(h)


class ShortChunkPad(nn.Module):
    """transformers' EnCodec ``_pad1d``: reflect needs more samples than the pad, so a
    short input is padded with zeros first and cropped after; extra right padding from the
    length (applied at the end)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(2, 3, 4, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        length = x.shape[-1]
        extra = (-(length - 2)) % 2
        left, right = 2, extra
        max_pad = max(left, right)
        short = 0
        if length <= max_pad:
            short = max_pad - length + 1
            x = F.pad(x, (0, short))
        padded = F.pad(x, (left, right), "reflect")
        return self.conv(padded[..., : padded.shape[-1] - short])


def test_time_on_another_dimension_streams_exactly() -> None:
    model = _model(FramesFirst())
    x = torch.randn(2, 21, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    sm = convtrace.streamify(model, (2, 21, 3), time_dim=1)
    with torch.no_grad():
        expected = model(x)
    for seed in range(2):
        sizes = schedule(21, seed)
        parts, at = [], 0
        for n in sizes:
            parts.append(sm.push(x[:, at : at + n]))
            at += n
        y = torch.cat([*parts, sm.flush()], -1)
        assert y.shape == expected.shape and float((y - expected).abs().max()) < 1e-12


def test_raw_waveform_input_streams_exactly() -> None:
    model = _model(RawWave())
    x = torch.randn(1, 50, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert_streams(model, x)


def test_a_pad_only_short_chunks_get_is_nothing() -> None:
    assert_streams(_model(ShortChunkPad()), _x(2, 31))


def test_a_crop_longer_than_the_tail_holds_back_the_rest() -> None:
    """A conv padded 1 on the right gives 1 sample at the end: a crop of 3 after it holds
    back 2; a conv of stride 2 padded 1 gives (0 + 1) // 2 = 0: a crop of 1 holds back 1."""
    model = _model(nn.Sequential(nn.Conv1d(1, 2, 3, padding=1), Chomp(3), nn.Conv1d(2, 2, 2, stride=2, padding=1),
                                 Chomp(1)))  # fmt: skip
    sm = assert_streams(model, _x(1, 30))
    assert [e.shape[-1] for e in sm.state_spec() if "crop" in e.name] == [2, 1]


class Gated(nn.Module):
    """A gate ``a(x) * sigmoid(b(x))`` whose two convs lag differently (padding 3 and 0)."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv1d(2, 3, 7, padding=3)
        self.b = nn.Conv1d(2, 3, 2, stride=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.a(x)[..., 1:] * torch.sigmoid(self.b(x))


def test_product_of_branches_with_different_delays_streams_exactly() -> None:
    assert_streams(_model(Gated()), _x(2, 33))


def test_push_calls_gives_each_call_its_offline_samples() -> None:
    """What each replaced call gives out, put together over the pushes, is that call's
    offline output so far (indices below 0 are not part of it)."""
    model = _model(CausalChain())
    x = _x(1, 60)
    seen: dict[str, torch.Tensor] = {}
    hooks = [conv.register_forward_hook(lambda m, a, out, n=n: seen.__setitem__(n, out))
             for n, conv in model.named_modules() if isinstance(conv, nn.Conv1d)]  # fmt: skip
    with torch.no_grad():
        model(x)
    for hook in hooks:
        hook.remove()
    sm = convtrace.streamify(model, (1, 1, 60))
    got: dict[str, list[torch.Tensor]] = {}
    at = 0
    for n in schedule(60, 4):
        _, calls = sm.push_calls(x[..., at : at + n])
        at += n
        for call, out, first in calls:
            if call.op == "conv1d":
                got.setdefault(call.module, []).append(out[..., max(0, -first) :])
    assert sorted(got) == sorted(seen)
    for name, parts in got.items():
        streamed = torch.cat(parts, -1)
        assert streamed.shape[-1] > 0
        assert torch.allclose(streamed, seen[name][..., : streamed.shape[-1]], rtol=1e-12, atol=1e-12)


def test_a_streamed_model_converted_to_float32_starts_again() -> None:
    model = _model(Residual(True))
    sm = convtrace.streamify(model, (1, 1, 30), chunk_size=2)
    sm.initial_state(1)
    sm.push(_x(1, 5))
    sm.float()
    x = _x(1, 30).float()
    state = sm.initial_state(1)
    assert all(t.dtype in (torch.float32, torch.int64) for t in state)
    y = torch.cat([sm.push(x[..., :13]), sm.push(x[..., 13:]), sm.flush()], -1)
    with torch.no_grad():
        assert torch.allclose(y, model(x), rtol=1e-5, atol=1e-5)
