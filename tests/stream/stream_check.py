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
from convtrace.stream.verify import TapMean, determined_prefix


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


def earliest(layers: list[Any], x: np.ndarray, n: int, reach: int, seed: int = 0) -> int:
    """Leading outputs determined by the first ``n`` samples (see the module docstring),
    for ``x`` and for another random input alike: which outputs may leave depends on the
    arrangement, not on the values (a max may hide a dependence for one input by chance,
    e.g. when a later sample is a constant — a ConvTranspose1d's bias between its taps —
    so max pools are judged as the mean of their windows' taps)."""
    other = np.random.default_rng(seed + 1).standard_normal(x.shape).astype(x.dtype)
    layers = [_averaging(m) for m in layers]
    return min(determined_prefix(layers, v, n, reach, np.random.default_rng(seed + 7919 * n)) for v in (x, other))


def _averaging(m: Any) -> Any:
    """A MaxPool1d as the mean of its windows' taps (``verify.TapMean``): the same outputs
    depend on the same samples, but a mean cannot hide one (a max of a constant and a
    sample, or of two samples, can), and a window of one constant is that constant."""
    if isinstance(m, nn.MaxPool1d) and not m.return_indices:
        return TapMean(m)
    return m


def finite_scale(a: np.ndarray) -> float:
    """The largest finite magnitude of ``a`` (at least 1): a max pool's window of padding
    only gives -inf."""
    finite = np.abs(a[np.isfinite(a)])
    return max(1.0, float(finite.max())) if finite.size else 1.0


def close(a: np.ndarray, b: np.ndarray, tol: float) -> np.ndarray:
    """Elementwise: equal (infinities too), both NaN (a max pool's window of padding only
    gives -inf, and weights of both signs then add -inf and +inf), or within ``tol``."""
    with np.errstate(invalid="ignore"):
        return (a == b) | (np.abs(a - b) <= tol) | (np.isnan(a) & np.isnan(b))


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
