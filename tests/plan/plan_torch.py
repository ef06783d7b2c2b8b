"""Build planner layers in PyTorch and measure what they do: lengths (or the error),
which input indices each output depends on (impulse responses with all-ones weights, or
gradients). Every pool is built: MaxUnpool1d gets indices that put input ``i`` at tap
``tap`` of its pooling window (kept inside the window and the output), so that the union
over the taps is every place an input can land."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from backends import each_backend
from convtrace.plan.layers import Layer


def on_both_backends(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` with PyTorch's oneDNN on and off: the two answers must be equal."""
    answers = [fn(*args) for _ in each_backend()]
    first, second = answers
    assert torch.equal(first, second) if isinstance(first, torch.Tensor) else first == second
    return first


class Pad(nn.Module):
    def __init__(self, left: int, right: int, mode: str) -> None:
        super().__init__()
        self.left, self.right = left, right
        self.mode = "constant" if mode in ("zeros", "constant") else mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x, (self.left, self.right), mode=self.mode)


class Unpool(nn.Module):
    """MaxUnpool1d whose indices put input ``i`` at ``i*stride - padding + tap``, moved into
    its window's part inside the output."""

    def __init__(self, layer: Layer, tap: int = 0) -> None:
        super().__init__()
        self.layer, self.tap = layer, tap
        self.unpool = nn.MaxUnpool1d(layer.kernel_size, layer.stride, int(layer.padding))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k, s, p = self.layer.kernel_size, self.layer.stride, int(self.layer.padding)
        n = x.shape[-1]
        out = (n - 1) * s - 2 * p + k if self.layer.output_size is None else self.layer.output_size
        starts = torch.arange(n) * s - p
        low, high = starts.clamp(min=0), (starts + k - 1).clamp(max=max(out - 1, 0))
        index = torch.minimum(torch.maximum(starts + self.tap, low), high).clamp(min=0)
        index = index.expand(*x.shape).contiguous()
        size = None if self.layer.output_size is None else [self.layer.output_size]
        return self.unpool(x, index, output_size=size)


def torch_layer(layer: Layer, channels: int = 1, tap: int = 0) -> nn.Module:
    """The same layer in PyTorch, weights all ones, no bias (so impulses stay positive);
    MaxUnpool1d with the indices of :class:`Unpool` (``tap``)."""
    out_c = layer.channels_out(channels)
    if layer.kind == "pad":
        return Pad(layer.pad_left, layer.pad_right, layer.padding_mode)
    if layer.kind == "conv":
        conv = nn.Conv1d(channels, out_c, layer.kernel_size, layer.stride, layer.padding, layer.dilation,
                         layer.groups, bias=False, padding_mode=layer.padding_mode, dtype=torch.float64)
        nn.init.ones_(conv.weight)
        if layer.pad_left or layer.pad_right:
            return nn.Sequential(Pad(layer.pad_left, layer.pad_right, "constant"), conv)
        return conv
    if layer.kind == "convT":
        conv_t = nn.ConvTranspose1d(channels, out_c, layer.kernel_size, layer.stride, int(layer.padding),
                                    layer.output_padding, layer.groups, bias=False, dilation=layer.dilation,
                                    dtype=torch.float64)
        nn.init.ones_(conv_t.weight)
        return conv_t
    if layer.kind == "maxpool":
        return nn.MaxPool1d(layer.kernel_size, layer.stride, int(layer.padding), layer.dilation,
                            ceil_mode=layer.ceil_mode)
    if layer.kind == "lppool":
        return nn.LPPool1d(layer.norm_type, layer.kernel_size, layer.stride, layer.ceil_mode)
    if layer.kind == "adaptiveavgpool":
        return nn.AdaptiveAvgPool1d(layer.output_size)
    if layer.kind == "adaptivemaxpool":
        return nn.AdaptiveMaxPool1d(layer.output_size)
    if layer.kind == "maxunpool":
        return Unpool(layer, tap)
    return nn.AvgPool1d(layer.kernel_size, layer.stride, int(layer.padding), layer.ceil_mode,
                        layer.count_include_pad)


def inside_everywhere(chain: Sequence[Layer], t: int, lengths: Sequence[int]) -> bool:
    """Output t's dependence stays inside every intermediate signal (never in padding);
    ``lengths``: each layer's input length (adaptive pools' windows need it)."""
    lo, hi = t, t
    for index in range(len(chain) - 1, -1, -1):
        window = chain[index].window_of_range(lo, hi, lengths[index])
        if window is None:
            return True
        lo, hi = window
        if lo < 0 or hi >= lengths[index]:
            return False
    return True


def torch_lengths(layers: Sequence[Layer], length: int, channels: int = 1) -> list[int | None]:
    """Output length after each layer; None from the layer PyTorch rejects on."""
    x = torch.zeros(1, channels, length, dtype=torch.float64)
    out: list[int | None] = []
    failed = False
    for layer in layers:
        if failed:
            out.append(None)
            continue
        try:
            x = torch_layer(layer, x.shape[1])(x)
            out.append(int(x.shape[-1]))
        except (RuntimeError, ValueError):
            failed = True
            out.append(None)
    return out


def impulse_dependence(layers: Sequence[Layer], length: int) -> torch.Tensor:
    """``dep[t, i]``: output t (channel 0) depends on input sample i. One impulse per batch
    row; all-ones weights, zero padding and max pooling of non-negative values keep every
    path positive, so a dependence can never cancel. (Not for MaxUnpool1d: inputs whose
    windows overlap may land on one output, and the last one written wins.)"""
    assert all(layer.kind != "maxunpool" for layer in layers), "use gradient_dependence"
    model = nn.Sequential(*[torch_layer(layer) for layer in layers])
    with torch.no_grad():
        x = torch.eye(length, dtype=torch.float64).reshape(length, 1, length)
        y = model(x)[:, 0, :]
        base = model(torch.zeros(1, 1, length, dtype=torch.float64))[:, 0, :]
    return (y != base).T


def gradient_dependence(layers: Sequence[Layer], length: int) -> torch.Tensor:
    """``dep[t, i]``: d y[t] / d x[i] is nonzero (channel 0), by autograd. With all-ones
    weights and a positive input no path cancels; max pooling routes the gradient to one
    sample per window only, so use this for chains without MaxPool1d / AdaptiveMaxPool1d.
    MaxUnpool1d's gradient follows its indices (collisions do not hide an input): the
    union over every tap of the window is every place its inputs can land."""
    taps = max([layer.kernel_size for layer in layers if layer.kind == "maxunpool"], default=1)
    found = _gradient_dependence(layers, length, 0)
    for tap in range(1, taps):
        found |= _gradient_dependence(layers, length, tap)
    return found


def _gradient_dependence(layers: Sequence[Layer], length: int, tap: int) -> torch.Tensor:
    model = nn.Sequential(*[torch_layer(layer, tap=tap) for layer in layers])
    with torch.no_grad():
        out_length = model(torch.ones(1, 1, length, dtype=torch.float64)).shape[-1]
    # one batch row per output index: row t's gradient is d y[t] / d x (one backward pass)
    x = torch.ones(out_length, 1, length, dtype=torch.float64, requires_grad=True)
    y = model(x)[:, 0, :]
    picked = y[torch.arange(out_length), torch.arange(out_length)].sum()
    (grad,) = torch.autograd.grad(picked, x)
    return grad[:, 0, :] != 0
