"""Independent judges of the streaming contract, by brute force on the offline chain.

``earliest(layers, x, n)``: how many leading outputs are *determined* by the first ``n``
input samples — equal (and present) in the offline output for every continuation tried:
the stream ending now, and random continuations of many lengths (some with large values,
so that a max pool cannot hide a dependence). It uses only the offline forward, never the
streaming arithmetic.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from convtrace import nn
from convtrace.errors import ConvtraceError
from convtrace.stream import Streamer


def offline(layers: list[Any], x: np.ndarray) -> np.ndarray:
    """The chain's offline output (each module's forward in turn)."""
    for m in layers:
        x = m(x)
    return x


def try_offline(layers: list[Any], x: np.ndarray) -> np.ndarray | None:
    try:
        return offline(layers, x)
    except ConvtraceError:
        return None


def continuation_lengths(reach: int) -> list[int]:
    return sorted({0, 1, 2, 3, 5, 8, reach // 2, reach})


def earliest(layers: list[Any], x: np.ndarray, n: int, reach: int, seed: int = 0) -> int:
    """Leading outputs determined by the first ``n`` samples (see the module docstring),
    for ``x`` and for another random input alike: which outputs may leave depends on the
    arrangement, not on the values (a max may hide a dependence for one input by chance,
    e.g. when a later sample is a constant — a ConvTranspose1d's bias between its taps)."""
    other = np.random.default_rng(seed + 1).standard_normal(x.shape).astype(x.dtype)
    layers = [_averaging(m) for m in layers]
    return min(_determined(layers, x, n, reach, seed), _determined(layers, other, n, reach, seed + 2))


def _averaging(m: Any) -> Any:
    """A MaxPool1d (dilation 1) as the AvgPool1d of its windows: the same outputs depend on
    the same samples, but a sum cannot hide one (a max of a constant and a sample can)."""
    if isinstance(m, nn.MaxPool1d) and m.dilation == 1 and not m.return_indices:
        return nn.AvgPool1d(m.kernel_size, m.stride, m.padding, m.ceil_mode, True)
    return m


def _determined(layers: list[Any], x: np.ndarray, n: int, reach: int, seed: int) -> int:
    rng = np.random.default_rng(seed + 7919 * n)
    outs = []
    for m in continuation_lengths(reach):
        shape = x.shape[:-1] + (m,)
        # large values of both signs (all positive, all negative, random signs per channel):
        # a max must not hide a dependence, even after a saturating tanh
        tails = [rng.standard_normal(shape)] + ([100 * np.abs(rng.standard_normal(shape)), -100 * np.abs(rng.standard_normal(shape))]
                                                + [100 * rng.standard_normal(shape) for _ in range(2)] if m else [])  # fmt: skip
        for tail in tails:
            y = try_offline(layers, np.concatenate((x[..., :n], tail.astype(x.dtype)), axis=-1))
            if y is not None:
                outs.append(y)
    if not outs:
        return 0
    common = min(y.shape[-1] for y in outs)
    if common == 0:
        return 0
    ref = outs[0][..., :common]
    scale = max(1.0, float(np.max(np.abs(ref))))
    same = np.ones(common, dtype=bool)
    for y in outs[1:]:
        diff = np.abs(y[..., :common] - ref) > 1e-9 * scale
        same &= ~diff.reshape(-1, common).any(axis=0)
    bad = np.flatnonzero(~same)
    return int(bad[0]) if bad.size else common


def run_stream(s: Streamer, x: np.ndarray, sizes: list[int]) -> tuple[list[np.ndarray], list[int]]:
    """Push ``x`` in chunks of ``sizes`` (the rest in the last push), then flush: the parts
    and the input count after each push."""
    parts, counts, at = [], [], 0
    for size in sizes:
        parts.append(s.push(x[..., at : at + size]))
        at = min(at + size, x.shape[-1])
        counts.append(at)
    if at < x.shape[-1]:
        parts.append(s.push(x[..., at:]))
        counts.append(x.shape[-1])
    parts.append(s.flush())
    return parts, counts
