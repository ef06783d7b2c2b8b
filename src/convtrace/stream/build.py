"""A chain of ``convtrace.nn`` modules from a stack (the planner's syntax or its Layers),
with seeded random weights: what the streaming engine and the verifier run for a stack.

>>> chain = chain_of("conv k=4 s=2 p=3,0 c=8; convT k=4 s=2; crop r=2", channels=1, seed=0)
>>> [type(m).__name__ for m in chain]
['ZeroPad1d', 'Conv1d', 'ConvTranspose1d', 'ZeroPad1d']
>>> chain[1].out_channels, chain[2].out_channels
(8, 8)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import nn
from ..errors import ConvtraceError
from ..plan.layers import TORCH_NAMES, Layer
from ..plan.stack import parse_stack

__all__ = ["chain_of", "chain_groups"]


def chain_of(stack: str | list[Layer] | tuple[Layer, ...], channels: int = 1, dtype: Any = np.float64,
             seed: int = 0) -> list[Any]:  # fmt: skip
    """The modules of ``stack`` for an input of ``channels`` channels: a conv's explicit
    ``p=L,R`` becomes a ZeroPad1d before it, a ``pad``/``crop`` the pad module of its mode."""
    return [m for group in chain_groups(stack, channels, dtype, seed) for m in group]


def chain_groups(stack: str | list[Layer] | tuple[Layer, ...], channels: int = 1, dtype: Any = np.float64,
                 seed: int = 0) -> list[list[Any]]:  # fmt: skip
    """:func:`chain_of`, each layer's modules apart.

    >>> [len(g) for g in chain_groups("conv k=4 s=2 p=3,0; convT k=4 s=2")]
    [2, 1]
    """
    layers = parse_stack(stack) if isinstance(stack, str) else tuple(stack)
    rng = np.random.default_rng(seed)
    out: list[list[Any]] = []
    c = int(channels)
    for layer in layers:
        module, c = _module(layer, c, np.dtype(dtype), int(rng.integers(1 << 30)))
        out.append(module)
    return out


def _module(layer: Layer, c: int, dtype: np.dtype[Any], seed: int) -> tuple[list[Any], int]:
    if layer.kind == "pad":
        return [_pad(layer.pad_left, layer.pad_right, layer.padding_mode)], c
    if layer.kind in ("conv", "convT"):
        c_out = layer.out_channels or c
        common: dict[str, Any] = dict(kernel_size=layer.kernel_size, stride=layer.stride, dilation=layer.dilation, groups=layer.groups,
                      bias=layer.bias, dtype=dtype, rng=seed)  # fmt: skip
        if layer.kind == "convT":
            return [nn.ConvTranspose1d(c, c_out, padding=int(layer.padding), output_padding=layer.output_padding, **common)], c_out
        before = [_pad(layer.pad_left, layer.pad_right, "constant")] if (layer.pad_left or layer.pad_right) else []
        return before + [nn.Conv1d(c, c_out, padding=layer.padding, padding_mode=layer.padding_mode, **common)], c_out
    if layer.kind == "maxpool":
        return [nn.MaxPool1d(layer.kernel_size, layer.stride, int(layer.padding), layer.dilation, ceil_mode=layer.ceil_mode)], c
    if layer.kind == "avgpool":
        return [nn.AvgPool1d(layer.kernel_size, layer.stride, int(layer.padding), layer.ceil_mode, layer.count_include_pad)], c
    if layer.kind == "lppool":
        return [nn.LPPool1d(layer.norm_type, layer.kernel_size, layer.stride, layer.ceil_mode)], c
    if layer.kind in ("adaptiveavgpool", "adaptivemaxpool"):
        cls = nn.AdaptiveAvgPool1d if layer.kind == "adaptiveavgpool" else nn.AdaptiveMaxPool1d
        return [cls(layer.output_size)], c
    raise ConvtraceError("kind", TORCH_NAMES.get(layer.kind, layer.kind), "has no module in a streamed chain")


def _pad(left: int, right: int, mode: str) -> Any:
    if mode in ("zeros", "constant"):
        return nn.ZeroPad1d((left, right))
    if mode == "reflect":
        return nn.ReflectionPad1d((left, right))
    if mode == "replicate":
        return nn.ReplicationPad1d((left, right))
    return nn.CircularPad1d((left, right))
