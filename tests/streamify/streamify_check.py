"""Helpers of the streamify tests: random uneven chunk schedules, streamed against offline."""

from __future__ import annotations

import contextlib
import random
import warnings
from collections.abc import Iterator
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


@contextlib.contextmanager
def onednn(enabled: bool) -> Iterator[None]:
    """PyTorch's oneDNN backend on or off (both must give the same answers)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # oneDNN's TF32 note
        with torch.backends.mkldnn.flags(enabled=enabled):
            yield


def assert_streams(model: Any, x: torch.Tensor, seeds: int = 2, sm: Any = None) -> Any:
    """Streamed with random schedules equals ``model(x)`` (float64, 1e-10 relative), with
    oneDNN on and off (``seeds`` schedules each)."""
    import convtrace

    sm = sm if sm is not None else convtrace.streamify(model, tuple(x.shape))
    for enabled in (True, False):
        with onednn(enabled), torch.no_grad():
            expected = model(x)
            scale = float(expected.abs().max()) or 1.0
            for seed in range(seeds):
                y, _ = stream(sm, x, schedule(int(x.shape[-1]), seed + 10 * enabled))
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
