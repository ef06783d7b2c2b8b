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
    return sorted({0, 1, 2, 3, 5, 8, reach // 2, reach, 2 * reach + 16})


def earliest(layers: list[Any], x: np.ndarray, n: int, reach: int, seed: int = 0) -> int:
    """Leading outputs determined by ``x[..., :n]`` (see the module docstring). ``reach``:
    a bound on how far ahead an output can look (input samples)."""
    rng = np.random.default_rng(seed + 7919 * n)
    outs = []
    for m in continuation_lengths(reach):
        for scale in (1.0, 100.0, -100.0) if m else (1.0,):
            tail = scale * np.abs(rng.standard_normal(x.shape[:-1] + (m,))) if scale != 1.0 else rng.standard_normal(x.shape[:-1] + (m,))
            y = try_offline(layers, np.concatenate((x[..., :n], tail.astype(x.dtype)), axis=-1))
            if y is not None:
                outs.append(y)
    if not outs:
        return 0
    common = min(y.shape[-1] for y in outs)
    if common == 0:
        return 0
    ref = outs[0][..., :common]
    scale = max(1.0, float(np.max(np.abs(ref)))) if ref.size else 1.0
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
