"""The verifier: proof, by random chunk schedules, that streaming equals offline.

:func:`verify` streams random inputs through a copy of the chain (random non-zero biases,
the dtype asked) in random chunk schedules — sizes from 0 to several hops, 1 sample, sizes
that are no multiple of any stride — and compares:

- the streamed output with the offline convtrace chain (float64: equal within 1e-12 of the
  output's scale), layer by layer, so that a failure names the first wrong sample, the layer
  and the likely cause: ``cache`` (samples kept between pushes), ``transposed_tail`` (a
  ConvTranspose1d's overlap-add tail), ``bias_twice`` (the bias added to the tail and again),
  ``misalignment`` (outputs shifted or of the wrong length);
- the outputs emitted after each push with the earliest possible, found by brute force on
  the offline chain (a narrow copy: one channel per group): the leading outputs that no
  continuation of the input — the end now, random samples of many lengths — changes;
- the offline chain with PyTorch's forward, oneDNN on and off, when PyTorch is installed.

>>> from convtrace import nn
>>> r = verify([nn.Conv1d(1, 2, 4, stride=2, padding=1, rng=0), nn.ConvTranspose1d(2, 1, 4, stride=2, padding=1, rng=1)],
...            length=40, trials=3, torch=False)
>>> r.ok, r.max_relative < 1e-12, r.late, r.early
(True, True, 0, 0)
>>> r
<VerifyResult ok: 3 trials of 40 samples (float64), largest difference ... as early as possible>
"""

from __future__ import annotations

import copy
import importlib
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .. import nn
from ..oracle import tolerance as torch_tolerance
from ..oracle import torch_available
from .schedule import TapMean, _close, _finite_scale, _offline_layers, _try_offline
from .schedule import narrow as _narrow
from .streamer import Streamer

__all__ = ["verify", "VerifyResult", "Mismatch", "CAUSES", "TORCH_MODULE", "TapMean", "determined_prefix", "random_schedule"]

#: the likely causes a failure names
CAUSES = ("cache", "transposed_tail", "bias_twice", "misalignment")
#: PyTorch's offline forward of a chain (interop/ is above stream/: imported by name)
TORCH_MODULE = "convtrace.interop.stream"
#: the proof for a PyTorch model streamed by streamify (issue 19; inspect/ runs torch: by name)
MODEL_MODULE = "convtrace.inspect.stream_verify"


def _is_torch_module(obj: Any) -> bool:
    """A ``torch.nn.Module`` (told without importing torch)."""
    return any(f"{c.__module__}.{c.__qualname__}" == "torch.nn.modules.module.Module" for c in type(obj).__mro__)


@dataclass(frozen=True)
class Mismatch:
    """The first wrong sample: ``trial``, ``layer`` (1-based: the first layer whose streamed
    output differs), ``sample`` (its output index in that layer), ``channel``, the two values,
    ``cause`` (one of :data:`CAUSES`), ``push`` (0-based; the flush is the last) and ``chunks``
    (the trial's schedule)."""

    trial: int
    layer: int
    layer_name: str
    sample: int
    channel: int
    streamed: float
    offline: float
    cause: str
    push: int
    chunks: tuple[int, ...]


@dataclass(frozen=True)
class VerifyResult:
    """What :func:`verify` found. ``max_difference`` (absolute) and ``max_relative`` (to the
    output's largest magnitude) over all trials; ``emitted`` and ``earliest``: outputs out
    after each push, per trial; ``late``/``early``: pushes that emitted fewer/more than the
    earliest possible; ``torch_difference``: convtrace's offline chain against PyTorch's
    (the larger of oneDNN on and off; None without PyTorch)."""

    ok: bool
    trials: int
    length: int
    dtype: str
    tolerance: float
    max_difference: float
    max_relative: float
    out_length: int
    schedules: tuple[tuple[int, ...], ...]
    emitted: tuple[tuple[int, ...], ...]
    earliest: tuple[tuple[int, ...], ...]
    late: int
    early: int
    first_wrong: Mismatch | None
    torch_difference: float | None
    torch_ok: bool | None

    def to_dict(self) -> dict[str, Any]:
        """The result, JSON-ready."""
        return asdict(self)

    def __repr__(self) -> str:
        verdict = "ok" if self.ok else "FAILED"
        when = "as early as possible" if not (self.late or self.early) else f"{self.late} late, {self.early} early pushes"
        torch = "" if self.torch_difference is None else f", PyTorch within {self.torch_difference:.3g}"
        wrong = "" if self.first_wrong is None else (
            f", first wrong: layer {self.first_wrong.layer} sample {self.first_wrong.sample} ({self.first_wrong.cause})"
        )
        return (f"<VerifyResult {verdict}: {self.trials} trials of {self.length} samples ({self.dtype}), largest "
                f"difference {self.max_difference:.3g} (relative {self.max_relative:.3g}){torch}; {when}{wrong}>")  # fmt: skip


# ---------------------------------------------------------------------- the chain copies


def _modules(layers: Any) -> list[Any]:
    return list(layers) if isinstance(layers, (list, tuple)) else [layers]


def _prepared(layers: list[Any], dtype: np.dtype[Any], rng: np.random.Generator) -> list[Any]:
    """A copy in ``dtype`` with random non-zero biases (a bias counted twice must show)."""
    out = copy.deepcopy(layers)
    for m in out:
        if isinstance(m, (nn.Conv1d, nn.ConvTranspose1d)):
            m.to(dtype)
            if m.bias is not None:
                size = m.bias.shape[0]
                m.bias = (rng.uniform(0.5, 1.5, size) * rng.choice([-1.0, 1.0], size)).astype(dtype)
    return out


# ---------------------------------------------------------------------- the earliest emission


def determined_prefix(layers: list[Any], x: np.ndarray, n: int, reach: int, rng: np.random.Generator) -> int:
    """How many leading outputs of the offline chain the first ``n`` samples of ``x`` fix:
    equal in every continuation tried (the end now, and random continuations of lengths up
    to ``reach + 16``, some of large magnitude so that a max cannot hide a dependence).

    >>> from convtrace import nn
    >>> conv = nn.Conv1d(1, 1, 3, padding=1, dtype=np.float64, rng=0)
    >>> x = np.zeros((1, 1, 10))
    >>> [determined_prefix([conv], x, n, 8, np.random.default_rng(0)) for n in range(4)]  # t needs x[t + 1]
    [0, 0, 1, 2]
    """
    outs = []
    for m in sorted(set(range(9)) | {reach // 2, reach + 16, _shortest_tail(layers, x, n, reach + 16)}):
        shape = x.shape[:-1] + (m,)
        tails = [rng.standard_normal(shape)]
        if m:  # large values of both signs: a max (even after a saturating function) must not hide a dependence
            tails += [100 * np.abs(rng.standard_normal(shape)), -100 * np.abs(rng.standard_normal(shape)),
                      100 * rng.standard_normal(shape)]  # fmt: skip
        for tail in tails:
            y = _try_offline(layers, np.concatenate((x[..., :n], tail.astype(x.dtype)), axis=-1))
            if y is not None:
                outs.append(y)
    if not outs:
        return 0
    common = min(y.shape[-1] for y in outs)
    if common == 0:
        return 0
    ref = outs[0][..., :common]
    scale = _finite_scale(ref)
    same = np.ones(common, dtype=bool)
    for y in outs[1:]:
        same &= _close(y[..., :common], ref, 1e-9 * scale).reshape(-1, common).all(axis=0)
    bad = np.flatnonzero(~same)
    return int(bad[0]) if bad.size else common


def _shortest_tail(layers: list[Any], x: np.ndarray, n: int, most: int) -> int:
    """The shortest continuation (at most ``most``) the chain accepts after ``x[..., :n]``:
    the stream may end there, so its shorter output bounds what the first ``n`` samples fix
    (an output that exists only in longer streams is not determined yet)."""
    for m in range(most + 1):
        tail = np.zeros(x.shape[:-1] + (m,), dtype=x.dtype)
        if _try_offline(layers, np.concatenate((x[..., :n], tail), axis=-1)) is not None:
            return m
    return most


def _reach(s: Streamer) -> int:
    """A bound on how far beyond a sample an output can reach (input samples)."""
    hop, pads = 1.0, 0.0
    for layer in s.layers:
        pads += (abs(layer.pads[0]) + abs(layer.pads[1]) + layer.span) * max(hop, 1.0)
        hop *= float(layer.hop)
    return int(float(s.receptive_field) + pads) + 16


# ---------------------------------------------------------------------- schedules


def random_schedule(length: int, hops: list[int], rng: np.random.Generator) -> tuple[int, ...]:
    """Chunk sizes adding up to ``length``: an empty chunk, one sample, a size that is no
    multiple of any stride, each hop (and stride) -1, +0, +1, and random sizes up to three
    times the largest, in a random order.

    >>> random_schedule(20, [4], np.random.default_rng(0))
    (6, 1, 5, 0, 8)
    """
    top = max([1] + hops)
    odd = next(n for n in range(top + 1, 4 * top + 3) if all(n % h for h in hops if h > 1))
    pool = sorted({0, 1, 2} | {h + d for h in hops for d in (-1, 0, 1) if h + d >= 0})
    sizes = [0, 1, odd]
    while sum(sizes) < length:
        sizes.append(int(rng.choice(pool)) if rng.random() < 0.5 else int(rng.integers(0, 3 * top + 1)))
    out: list[int] = []
    for i in rng.permutation(len(sizes)):
        take = min(sizes[i], length - sum(out))
        if take or sizes[i] == 0:
            out.append(take)
    if 1 not in out and length > 1:  # cut off at the end: take it from the largest chunk
        big = int(np.argmax(out))
        out[big] -= 1
        out.insert(int(rng.integers(0, len(out) + 1)), 1)
    if 0 not in out:
        out.insert(int(rng.integers(0, len(out) + 1)), 0)
    return tuple(out)


def _hops(s: Streamer) -> list[int]:
    """Every layer's stride and every prefix's hop (whole samples), for the schedules."""
    found, hop = set(), 1.0
    for layer in s.layers:
        found.add(int(layer.stride))
        hop *= float(layer.hop)
        found.add(max(1, math.ceil(hop)))
    return sorted(found)


# ---------------------------------------------------------------------- diagnosis


def _cause(layer: Any, streamed: np.ndarray, offline: np.ndarray, first: int) -> str:
    """The likely cause of a wrong layer output from the first wrong sample ``first``."""
    if streamed.shape != offline.shape:
        return "misalignment"
    for shift in range(1, 9):  # the right values, in the wrong places
        for moved in (shift, -shift):
            a = first
            b = min(first + 64, streamed.shape[-1], offline.shape[-1] - moved)
            if a + moved < 0 or b <= a:
                continue
            if np.allclose(streamed[..., a:b], offline[..., a + moved : b + moved], rtol=1e-9, atol=1e-9):
                return "misalignment"
    bias = getattr(layer, "bias", None)
    if bias is not None:
        diff = (streamed - offline)[..., first]
        if np.allclose(diff[np.abs(diff) > 0], np.broadcast_to(bias[None, :], diff.shape)[np.abs(diff) > 0], rtol=1e-6, atol=1e-9):
            return "bias_twice"
    if isinstance(layer, nn.ConvTranspose1d):
        return "transposed_tail"
    return "cache"


def _first_wrong(modules: list[Any], streamed: list[np.ndarray], offline: list[np.ndarray], tol: float,
                 trial: int, pushes: list[list[int]], chunks: tuple[int, ...]) -> Mismatch | None:  # fmt: skip
    for index, (m, got, want) in enumerate(zip(modules, streamed, offline)):
        if got.shape == want.shape:
            bad = np.argwhere(~_close(got, want, tol * _finite_scale(want)))
            if not bad.size:
                continue
            order = np.argsort(bad[:, -1], kind="stable")
            n_i, c, t = (int(v) for v in bad[order[0]])
        else:
            t = int(min(got.shape[-1], want.shape[-1]))
            n_i, c = 0, 0
        counts = np.cumsum(pushes[index])
        push = int(np.searchsorted(counts, t, side="right"))
        value = float(got[n_i, c, t]) if t < got.shape[-1] else float("nan")
        expected = float(want[n_i, c, t]) if t < want.shape[-1] else float("nan")
        return Mismatch(trial, index + 1, type(m).__name__, t, c, value, expected, _cause(m, got, want, t), push, chunks)
    return None


# ---------------------------------------------------------------------- verify


def _tolerance(dtype: np.dtype[Any]) -> float:
    return 1e-12 if dtype == np.float64 else 1e-5 if dtype == np.float32 else 1e-2


def verify(
    layers: Any,
    length: int = 256,
    chunks: Any = "random",
    seed: int = 0,
    dtype: Any = np.float64,
    trials: int = 10,
    *,
    batch: int = 1,
    torch: bool | None = None,
    tolerance: float | None = None,
    emission_checks: int = 48,
    input_shape: Any = None,
    time_dim: int = -1,
) -> VerifyResult:
    """Stream ``trials`` random inputs of ``length`` samples through ``layers`` in chunk
    schedules (``"random"``, or a list of sizes used for every trial) and compare with the
    offline chain (see the module docstring). ``torch`` None: compare with PyTorch when it
    is installed. ``tolerance``: relative, default 1e-12 for float64 (1e-5 float32).
    ``emission_checks``: how many distinct push boundaries the brute-force judge of the
    earliest emission examines at most (the first ones of each trial; -1 in ``earliest``
    where it did not look). A ``torch.nn.Module`` is streamed by ``convtrace.streamify`` on
    ``input_shape`` (time at ``time_dim``) and compared with its own forward
    (:func:`convtrace.inspect.stream_verify.verify_model`; ``length``, ``batch`` and ``torch``
    do not apply)."""
    if _is_torch_module(layers):
        return importlib.import_module(MODEL_MODULE).verify_model(  # type: ignore[no-any-return]
            layers, input_shape, chunks, seed, dtype, trials, time_dim=time_dim, tolerance=tolerance,
            emission_checks=emission_checks)  # fmt: skip
    modules = _modules(layers)
    dt = np.dtype(dtype)
    tol = _tolerance(dt) if tolerance is None else float(tolerance)
    rng = np.random.default_rng(seed)
    chain = _prepared(modules, dt, rng)
    s = Streamer(chain, batch_size=batch, dtype=dt)
    channels = s.channels or 1
    probe, probe_channels = _narrow(chain, rng)
    probe_xs = [rng.standard_normal((1, probe_channels, length)) for _ in range(2)]  # two: a max may hide a dependence by chance
    reach = _reach(s)
    earliest_cache: dict[int, int] = {}
    schedules, emitted_all, earliest_all = [], [], []
    max_abs, max_rel, late, early = 0.0, 0.0, 0, 0
    first: Mismatch | None = None
    out_length = 0
    torch_x: np.ndarray | None = None
    for trial in range(trials):
        x = rng.standard_normal((batch, channels, length)).astype(dt)
        torch_x = x if torch_x is None else torch_x
        sizes = random_schedule(length, _hops(s), rng) if isinstance(chunks, str) else tuple(int(c) for c in chunks)
        offline = _offline_layers(chain, x)
        per_layer: list[list[np.ndarray]] = [[] for _ in chain]
        counts: list[list[int]] = [[] for _ in chain]
        at, cumulative = 0, []
        for size in sizes:
            outs = s.push_layers(x[..., at : at + size])
            at = min(at + size, length)
            cumulative.append(at)
            for i, y in enumerate(outs):
                per_layer[i].append(y)
                counts[i].append(y.shape[-1])
        if at < length:
            outs = s.push_layers(x[..., at:])
            cumulative.append(length)
            sizes = sizes + (length - at,)
            for i, y in enumerate(outs):
                per_layer[i].append(y)
                counts[i].append(y.shape[-1])
        for i, y in enumerate(s.flush_layers()):
            per_layer[i].append(y)
            counts[i].append(y.shape[-1])
        streamed = [np.concatenate(parts, axis=-1) for parts in per_layer]
        final, want = streamed[-1], offline[-1]
        out_length = want.shape[-1]
        if final.shape == want.shape and want.size:
            same = _close(final, want, 0.0)
            diff = float(np.max(np.where(same, 0.0, np.abs(final.astype(np.float64) - want))))
            max_abs = max(max_abs, diff)
            max_rel = max(max_rel, diff / _finite_scale(want))
        elif final.shape != want.shape:
            max_abs = max_rel = math.inf
        if first is None:
            first = _first_wrong(chain, streamed, offline, tol, trial, counts, sizes)
        emitted = tuple(int(v) for v in np.cumsum(counts[-1][:-1]))
        budget = max(1, emission_checks // max(trials, 1))
        for n in cumulative[:budget]:
            if n not in earliest_cache:
                earliest_cache[n] = min(determined_prefix(probe, px, n, reach, np.random.default_rng(seed + n)) for px in probe_xs)
        earliest = tuple(earliest_cache.get(n, -1) if i < budget else -1 for i, n in enumerate(cumulative))
        late += sum(1 for e, w in zip(emitted, earliest) if w >= 0 and e < w)
        early += sum(1 for e, w in zip(emitted, earliest) if w >= 0 and e > w)
        schedules.append(sizes)
        emitted_all.append(emitted)
        earliest_all.append(earliest)
    torch_diff, torch_ok = None, None
    if torch_x is not None and (torch if torch is not None else torch_available()):
        answers = importlib.import_module(TORCH_MODULE).torch_offline(chain, torch_x)
        want = _offline_layers(chain, torch_x)[-1]
        torch_diff = max(float(np.max(np.where(_close(a, want, 0.0), 0.0, np.abs(a - want)))) if a.size else 0.0
                         for a in answers)  # fmt: skip
        scale = _finite_scale(want)
        torch_ok = torch_diff <= torch_tolerance(dt) * scale * max(1, len(chain))
    ok = first is None and max_rel <= tol and not late and not early and torch_ok is not False
    return VerifyResult(ok, trials, length, dt.name, tol, max_abs, max_rel, out_length, tuple(schedules),
                        tuple(emitted_all), tuple(earliest_all), late, early, first, torch_diff, torch_ok)  # fmt: skip

