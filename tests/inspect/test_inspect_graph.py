"""The inspector's graph: branches joined in place (``x += f(y)``, ``add_``, ``copy_``,
slice assignment, ``torch.cat(out=)``) count as much as branches joined by ``a + b``, and the
dependence the report gives for an output is the first and last nonzero of PyTorch's gradient
(positive weights, float64: nothing cancels)."""

from __future__ import annotations

from typing import Any

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from convtrace.inspect import inspect_model

NEEDS_TORCH = True


def positive(module: nn.Module, seed: int = 0, scale: float = 1.0) -> nn.Module:
    """float64, every weight in ``scale`` * [0.1, 1.1) (small enough that tanh does not
    saturate to a zero gradient), no gradients for the weights (so that in-place
    writes on a layer's input stay legal for autograd), eval mode."""
    generator = torch.Generator().manual_seed(seed)
    module = module.double().eval()
    with torch.no_grad():
        for p in module.parameters():
            p.copy_((torch.rand(p.shape, generator=generator, dtype=torch.float64) + 0.1) * scale)
            p.requires_grad_(False)
    return module


def gradient_window(model: nn.Module, shape: tuple[int, ...], t: int, time_dim: int = -1) -> tuple[int, int] | None:
    """First and last input time index with a nonzero gradient of output time ``t`` (summed
    over the output's other dimensions; time last in the output)."""
    generator = torch.Generator().manual_seed(1)
    x = (torch.rand(shape, generator=generator, dtype=torch.float64) + 0.5).requires_grad_(True)
    y = model(x)
    (grad,) = torch.autograd.grad(y[..., t].sum(), x)
    support = grad.abs().movedim(time_dim, -1).reshape(-1, shape[time_dim]).sum(0)
    hit = torch.nonzero(support).flatten().tolist()
    return (hit[0], hit[-1]) if hit else None


def impulse_window(model: nn.Module, shape: tuple[int, ...], t: int) -> tuple[int, int] | None:
    """The same by impulses, for models autograd cannot differentiate (``out=``): the input
    time indices whose change (one at a time) changes output ``t``. The models here are
    linear with positive weights, so this is the gradient's support."""
    x = torch.ones(shape, dtype=torch.float64)
    with torch.no_grad():
        base = model(x)[..., t]
        hit = []
        for i in range(shape[-1]):
            bumped = x.clone()
            bumped[..., i] += 1
            if not torch.equal(model(bumped)[..., t], base):
                hit.append(i)
    return (hit[0], hit[-1]) if hit else None


class Residual(nn.Module):
    """``conv_b(conv_a(x) + x)``, the join written seven ways (``x += branch`` lost the
    branch: a receptive field of 9)."""

    def __init__(self, join: str) -> None:
        super().__init__()
        self.a = nn.Conv1d(1, 1, 9, padding=4, bias=False)
        self.b = nn.Conv1d(1, 1, 9, padding=4, bias=False)
        self.join = join

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.join in ("x_iadd", "x_add_"):
            z = x * 1.0  # a copy autograd does not keep (x itself feeds conv a's backward)
            if self.join == "x_iadd":
                z += self.a(x)
            else:
                z.add_(self.a(x))
            return self.b(z)
        y = self.a(x)
        if self.join == "plus":
            y = y + x
        elif self.join == "iadd":
            y += x
        elif self.join == "add_":
            y.add_(x)
        elif self.join == "copy_":
            z = torch.empty_like(y)
            z.copy_(x)
            z += y
            y = z
        elif self.join == "cat_out":
            z = torch.empty(x.shape[0], 2, x.shape[-1], dtype=x.dtype, device=x.device)
            torch.cat([y, x], dim=1, out=z)
            y = z.sum(1, keepdim=True)
        return self.b(y)


@pytest.mark.parametrize("join", ["plus", "x_iadd", "x_add_", "iadd", "add_", "copy_", "cat_out"])
def test_a_branch_joined_in_place_counts(join: str) -> None:
    model = positive(Residual(join))
    report = inspect_model(model, (1, 1, 100))
    assert (report.receptive_field, report.offset, report.lookahead) == (17, 8, 8)
    assert not report.chain and report.causal is False
    oracle = impulse_window if join == "cat_out" else gradient_window  # autograd rejects out=
    assert report.dependence(50) == oracle(model, (1, 1, 100), 50) == (42, 58)


class SliceWrites(nn.Module):
    """A branch written into a slice: ``x[..., a:b] = y``, ``x[..., a:b] += y`` and
    ``x[..., a:b].add_(y)`` on a view."""

    def __init__(self, how: str) -> None:
        super().__init__()
        self.a = nn.Conv1d(1, 1, 5, bias=False)  # valid: 4 samples shorter
        self.b = nn.Conv1d(1, 1, 3, padding=1, bias=False)
        self.how = how

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.a(x)
        n = y.shape[-1]
        if self.how == "assign":
            z = torch.zeros_like(x)
            z[..., 3 : 3 + n] = y
        elif self.how == "iadd_slice":
            z = self.b(x)
            z[..., 3 : 3 + n] += y
        else:
            z = self.b(x)
            z[..., 3 : 3 + n].add_(y)
        return self.b(z)


@pytest.mark.parametrize("how", ["assign", "iadd_slice", "add_view"])
def test_a_branch_written_into_a_slice_lands_at_its_offset(how: str) -> None:
    model = positive(SliceWrites(how))
    report = inspect_model(model, (1, 1, 60))
    for t in (20, 30, 41):
        assert report.dependence(t) == gradient_window(model, (1, 1, 60), t), t
    assert report.dependence(30) == (26, 32)  # y[t-3] reads x[t-3..t+1]; the last conv widens it by 1


class TimeConcat(nn.Module):
    def __init__(self, out: bool) -> None:
        super().__init__()
        self.a = nn.Conv1d(1, 1, 5, padding=2, bias=False)
        self.b = nn.Conv1d(1, 1, 3, padding=1, bias=False)
        self.out = out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        parts = [self.b(x), self.a(x)]
        if self.out:
            z = torch.empty(x.shape[0], 1, 2 * x.shape[-1], dtype=x.dtype, device=x.device)
            torch.cat(parts, dim=-1, out=z)
        else:
            z = torch.cat(parts, dim=-1)
        return self.b(z)


@pytest.mark.parametrize("out", [False, True])
def test_concatenation_over_time_places_each_part(out: bool) -> None:
    model = positive(TimeConcat(out))
    report = inspect_model(model, (1, 1, 40))
    assert report.output_length == 80
    for t in (10, 20, 55, 70):
        assert report.dependence(t) == (impulse_window if out else gradient_window)(model, (1, 1, 40), t), t
    assert report.dependence(55) == (12, 18)  # output 55 is 15 of the second part: conv a around 14, 15, 16


class ResBlock(nn.Module):
    """HiFi-GAN's resblock: dilations 1, 3, 5, ``x = c2(lrelu(c1(lrelu(x)))) + x``."""

    def __init__(self, channels: int, kernel: int, weight_norm: bool) -> None:
        super().__init__()

        def conv(d: int) -> nn.Module:
            c = nn.Conv1d(channels, channels, kernel, dilation=d, padding=d * (kernel - 1) // 2)
            return nn.utils.parametrizations.weight_norm(c) if weight_norm else c

        self.convs1 = nn.ModuleList([conv(d) for d in (1, 3, 5)])
        self.convs2 = nn.ModuleList([conv(1) for _ in (1, 3, 5)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for c1, c2 in zip(self.convs1, self.convs2):
            xt = c1(F.leaky_relu(x, 0.1))
            xt = c2(F.leaky_relu(xt, 0.1))
            x = xt + x
        return x


class HifiGanLike(nn.Module):
    """conv_pre, ConvTranspose1d upsamplers each followed by a multi-receptive-field fusion
    (``xs += resblock(x)``; ``xs / num_kernels``), conv_post."""

    def __init__(self, mels: int = 4, channels: int = 16, rates: tuple[int, ...] = (4, 4), weight_norm: bool = False,
                 kernels: tuple[int, ...] = (3, 7, 11)) -> None:  # fmt: skip
        super().__init__()
        self.conv_pre = nn.Conv1d(mels, channels, 7, padding=3)
        self.ups = nn.ModuleList()
        self.resblocks = nn.ModuleList()
        self.num_kernels = len(kernels)
        for i, rate in enumerate(rates):
            c_in, c_out = channels // 2**i, channels // 2 ** (i + 1)
            self.ups.append(nn.ConvTranspose1d(c_in, c_out, 2 * rate, rate, padding=rate // 2))
            self.resblocks.extend(ResBlock(c_out, k, weight_norm) for k in kernels)
        self.conv_post = nn.Conv1d(channels // 2 ** len(rates), 1, 7, padding=3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv_pre(x)
        for i, up in enumerate(self.ups):
            x = up(F.leaky_relu(x, 0.1))
            xs: Any = None
            for j in range(self.num_kernels):
                if xs is None:
                    xs = self.resblocks[i * self.num_kernels + j](x)
                else:
                    xs += self.resblocks[i * self.num_kernels + j](x)
            x = xs / self.num_kernels
        return torch.tanh(self.conv_post(F.leaky_relu(x)))


@pytest.mark.parametrize("weight_norm", [False, True])
def test_a_hifigan_like_generator_depends_on_what_its_gradient_says(weight_norm: bool) -> None:
    model = positive(HifiGanLike(weight_norm=weight_norm), scale=0.005)
    shape = (1, 4, 120)
    report = inspect_model(model, shape)
    assert report.output_length == 1920 and report.hop == pytest.approx(1 / 16)
    for t in (950, 957, 966):
        assert report.dependence(t) == gradient_window(model, shape, t), t
    first, last = report.dependence(957)  # type: ignore[misc]
    assert last - first + 1 > 20  # the 11-tap resblocks count (the first resblock alone gives fewer)


def test_speecht5_hifigan_frames_per_sample_match_the_gradient() -> None:
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    config = transformers.SpeechT5HifiGanConfig(model_in_dim=4, upsample_initial_channel=16)
    model = positive(transformers.SpeechT5HifiGan(config), scale=0.005)
    shape = (1, 120, 4)
    report = inspect_model(model, shape, time_dim=1)
    middle = 60 * 256
    for t in (middle, middle + 37, middle + 255):
        assert report.dependence(t) == gradient_window(model, shape, t, time_dim=1), t
    first, last = report.dependence(middle)  # type: ignore[misc]
    assert last - first + 1 == 48  # mel frames per output sample (17 when in-place joins were lost)


# ---------------------------------------------------------------------- random graphs

_OPS = st.one_of(
    st.tuples(st.just("conv"), st.sampled_from([1, 2, 3, 5]), st.sampled_from([1, 2]), st.sampled_from([1, 2]),
              st.integers(0, 2)),
    st.tuples(st.just("convT"), st.sampled_from([2, 3, 4]), st.sampled_from([1, 2]), st.integers(0, 1)),
    st.tuples(st.just("res"), st.sampled_from([3, 5]), st.sampled_from([1, 2]),
              st.sampled_from(["plus", "iadd", "add_"])),
    st.tuples(st.just("res_crop"), st.sampled_from([3, 4, 5]), st.integers(0, 4)),
    st.tuples(st.just("cat"), st.sampled_from([3, 5])),
    st.tuples(st.just("pad"), st.integers(0, 3), st.integers(0, 3)),
    st.tuples(st.just("crop"), st.integers(0, 3), st.integers(0, 3)),
    st.tuples(st.just("assign"), st.integers(0, 3), st.integers(0, 3)),
    st.tuples(st.just("copy"), st.sampled_from([1, 3])),
)  # fmt: skip


class Program(nn.Module):
    """A small random graph of time-axis ops on 2 channels."""

    def __init__(self, ops: list[tuple[Any, ...]]) -> None:
        super().__init__()
        self.ops = ops
        self.layers = nn.ModuleList()
        for op in ops:
            kind = op[0]
            if kind == "conv":
                _, k, s, d, p = op
                self.layers.append(nn.Conv1d(2, 2, k, s, p, d, bias=False))
            elif kind == "convT":
                _, k, s, p = op
                self.layers.append(nn.ConvTranspose1d(2, 2, k, s, min(p, k - 1), bias=False))
            elif kind == "res":
                _, k, d, _join = op
                self.layers.append(nn.Conv1d(2, 2, k, padding=d * (k - 1) // 2, dilation=d, bias=False))
            elif kind == "res_crop":
                self.layers.append(nn.Conv1d(2, 2, op[1], bias=False))
            elif kind == "cat":
                self.layers.append(nn.Sequential(nn.Conv1d(2, 2, op[1], padding=op[1] // 2, bias=False),
                                                 nn.Conv1d(4, 2, 1, bias=False)))  # fmt: skip
            elif kind == "copy":
                self.layers.append(nn.Conv1d(2, 2, op[1], padding=op[1] // 2, bias=False))
            else:
                self.layers.append(nn.Identity())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for op, layer in zip(self.ops, self.layers):
            kind = op[0]
            if kind in ("conv", "convT"):
                x = layer(x)
            elif kind == "res":
                y = layer(x)
                if op[3] == "plus":
                    y = y + x
                elif op[3] == "iadd":
                    y += x
                else:
                    y.add_(x)
                x = y
            elif kind == "res_crop":
                y = layer(x)
                x = x[..., op[2] : op[2] + y.shape[-1]] + y if op[2] + y.shape[-1] <= x.shape[-1] else y
            elif kind == "cat":
                x = layer[1](torch.cat([x, layer[0](x)], dim=1))
            elif kind == "pad":
                x = F.pad(x, (op[1], op[2]))
            elif kind == "crop":
                x = x[..., op[1] : x.shape[-1] - op[2]]
            elif kind == "assign":
                z = torch.zeros(x.shape[0], 2, x.shape[-1] + op[1] + op[2], dtype=x.dtype, device=x.device)
                z[..., op[1] : op[1] + x.shape[-1]] = x
                x = z
            else:
                z = torch.empty_like(x)
                z.copy_(layer(x))
                x = z
        return x


@settings(max_examples=40, deadline=None)
@given(ops=st.lists(_OPS, min_size=1, max_size=5))
def test_random_graphs_depend_on_what_the_gradient_says(ops: list[tuple[Any, ...]]) -> None:
    model = positive(Program([("conv", 3, 1, 1, 1), *ops]))  # the input is never written in place
    shape = (1, 2, 160)
    try:
        with torch.no_grad():
            out_length = int(model(torch.zeros(shape, dtype=torch.float64)).shape[-1])
    except RuntimeError:
        return
    if out_length < 3:
        return
    report = inspect_model(model, shape)
    assert report.error is None and report.output_length == out_length
    t = out_length // 2
    window = report.dependence(t)
    assert window == gradient_window(model, shape, t), (t, window)
    if all(op[0] != "convT" for op in ops) and window is not None:  # evenly spaced: the figures are exact
        assert report.hop is not None and report.offset is not None and report.receptive_field is not None
        first = t * report.hop - report.offset
        assert window == (first, first + report.receptive_field - 1)
