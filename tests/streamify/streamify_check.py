"""Helpers of the streamify tests: random uneven chunk schedules, streamed against offline."""

from __future__ import annotations

import random
import warnings
from typing import Any

import torch

#: float64: streamed equals offline within this, relative to the output's largest value
RTOL = 1e-10


def schedule(length: int, seed: int, sizes: tuple[int, ...] = (0, 1, 1, 2, 3, 5, 7, 11)) -> list[int]:
    """Chunk lengths summing to ``length``: empty chunks, single samples, odd sizes."""
    rng = random.Random(seed)
    out: list[int] = []
    while sum(out) < length:
        out.append(min(rng.choice(sizes), length - sum(out)))
    return out


def stream(sm: Any, x: torch.Tensor, sizes: list[int]) -> tuple[torch.Tensor, list[int]]:
    """Push ``x`` in chunks of ``sizes``, then flush: the output and the outputs per push."""
    parts, at = [], 0
    for n in sizes:
        parts.append(sm.push(x[..., at : at + n]))
        at += n
    parts.append(sm.flush())
    return torch.cat(parts, -1), [int(p.shape[-1]) for p in parts]


def offline(model: Any, x: torch.Tensor) -> list[torch.Tensor]:
    """The model's output with oneDNN on and off."""
    out = []
    for enabled in (True, False):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # oneDNN's TF32 note
            with torch.backends.mkldnn.flags(enabled=enabled), torch.no_grad():
                out.append(model(x))
    return out


def assert_streams(model: Any, x: torch.Tensor, seeds: range = range(4), sm: Any = None) -> Any:
    """Streamed with several random schedules equals ``model(x)`` (float64, 1e-10 relative)."""
    import convtrace

    sm = sm if sm is not None else convtrace.streamify(model, tuple(x.shape))
    for expected in offline(model, x):
        scale = float(expected.abs().max()) or 1.0
        for seed in seeds:
            y, _ = stream(sm, x, schedule(int(x.shape[-1]), seed))
            assert y.shape == expected.shape, (seed, y.shape, expected.shape)
            err = float((y - expected).abs().max()) / scale
            assert err <= RTOL, (seed, err)
    return sm


def nonzero_biases(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Every bias random and non-zero (a bias counted twice or missed shows)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.copy_(torch.rand(p.shape, generator=g, dtype=p.dtype) + 0.5)
    return model
