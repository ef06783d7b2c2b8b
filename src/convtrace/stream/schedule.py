"""The emission schedule by evaluation, for the chains where the streaming arithmetic can
hold an output back.

The arithmetic (:mod:`convtrace.stream.timing`) tracks where each value comes from, not
the values. After a ConvTranspose1d with holes (positions that hold its bias alone: equal
values), a layer that reads positions near the end whatever the end — a max pool, a pad
layer, a conv padded by copying (replicate, reflect) — can make an output the same for
every end only because two values are equal: the arithmetic then lets it leave late
(never early). :func:`coincidence_possible` tells such chains.

For them the streamer evaluates once, when built, how many leading outputs the first
``n`` input samples fix, for every ``n`` up to a few periods of the chain, and repeats the
last period (:class:`Schedule`). Output ``o`` is fixed by ``n`` samples when, for every
length ``N >= n`` the stream can still end with (up to a reach past which an end changes
nothing near ``o``), it exists, reads no sample from ``n`` on (where its taps reach, layer
by layer: :func:`latest_inputs`), and has the same value (two random inputs through the
chain's geometry with few channels, random weights, max pools as the mean of their taps:
:func:`narrow`). A chain too long for that keeps the arithmetic's schedule.

>>> from convtrace import nn
>>> from convtrace.stream import Pointwise, layer_of
>>> chain = [nn.ConvTranspose1d(1, 1, 1, stride=3, rng=0), Pointwise(np.tanh),
...          nn.MaxPool1d(2, 1, padding=1, dilation=2), nn.MaxPool1d(2, 1, padding=1, dilation=2)]
>>> coincidence_possible([layer_of(m) for m in chain])
True
>>> s = exact_schedule(chain, [layer_of(m) for m in chain])
>>> [s.ready(n) for n in range(6)], s.period, s.per_period   # after 2 samples, 4 outputs (the arithmetic: 3)
([0, 0, 4, 7, 10, 13], 1, 3)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from .. import nn
from ..engine.padding import apply_pad
from ..errors import ConvtraceError
from ..plan.layers import Layer
from ..plan.stack import figures
from .timing import PadStep, steps_of

__all__ = [
    "Schedule",
    "coincidence_possible",
    "has_holes",
    "reach",
    "exact_schedule",
    "latest_inputs",
    "narrow",
    "TapMean",
    "LIMIT",
]

#: the longest input the evaluation runs (samples: the table plus the reach); longer chains
#: keep the arithmetic's schedule
LIMIT = 1200


def coincidence_possible(layers: Sequence[Layer | None]) -> bool:
    """Whether the arithmetic's schedule can be late for the chain of ``layers`` (planner
    layers; None: a pointwise function): a ConvTranspose1d with holes (some position no tap
    reaches), and after it a max pool, a pad layer or a conv padded by copying (or after an
    explicit pad).

    >>> coincidence_possible([Layer("convT", kernel_size=1, stride=3), None, Layer("pad", pad_left=1, padding_mode="replicate")])
    True
    >>> coincidence_possible([Layer("convT", kernel_size=3, stride=2), Layer("maxpool", kernel_size=2)])   # no holes
    False
    """
    chain = [layer for layer in layers if layer is not None]
    holes = [i for i, layer in enumerate(chain) if layer.kind == "convT"
             and has_holes(layer.stride, layer.dilation, layer.kernel_size)]  # fmt: skip
    return bool(holes) and any(
        layer.kind in ("maxpool", "pad")
        or (
            layer.kind == "conv"
            and (layer.padding_mode in ("replicate", "reflect") or bool(layer.pad_left or layer.pad_right))
        )
        for layer in chain[holes[0] + 1 :]
    )


def has_holes(stride: int, dilation: int, kernel_size: int) -> bool:
    """Whether some full position of a ConvTranspose1d is reached by no tap (``j*dilation``
    covers not every remainder modulo ``stride``): those hold its bias alone.

    >>> has_holes(2, 2, 2), has_holes(2, 1, 2), has_holes(3, 1, 2)
    (True, False, True)
    """
    return len({(j * dilation) % stride for j in range(kernel_size)}) < stride


@dataclass(frozen=True)
class Schedule:
    """Leading outputs fixed after ``n`` input samples: ``table[n]``, then every
    ``period`` samples ``per_period`` more.

    >>> Schedule((0, 0, 1, 2), 2, 1).ready(7)
    4
    """

    table: tuple[int, ...]
    period: int
    per_period: int

    def ready(self, n: int) -> int:
        """Outputs fixed by the first ``n`` samples."""
        if n < len(self.table):
            return self.table[n]
        periods = (n - len(self.table)) // self.period + 1
        return self.table[n - periods * self.period] + periods * self.per_period


def _period(layers: Sequence[Layer]) -> tuple[int, int]:
    """The fewest input samples that shift every layer's output by whole samples, and the
    outputs they add.

    >>> _period([Layer("conv", kernel_size=2, stride=2), Layer("convT", kernel_size=3, stride=3)])
    (2, 3)
    """
    rate, period = Fraction(1), 1
    for layer in layers:
        rate /= layer.hop
        period = math.lcm(period, rate.denominator)
    return period, int(period * rate)


def reach(layers: Sequence[Layer]) -> int:
    """A bound on how far an end can change outputs back from it (input samples).

    >>> reach([Layer("conv", kernel_size=3, padding=1)])
    48
    """
    hop, pads = Fraction(1), Fraction(0)
    for layer in layers:
        pads += (abs(layer.pads[0]) + abs(layer.pads[1]) + layer.span) * max(hop, Fraction(1))
        hop *= layer.hop
    found = figures(list(layers))
    assert found is not None  # (a chain that streams)
    return int(2 * found.receptive_field + 2 * pads) + 32


def latest_inputs(layers: Sequence[Layer | None], length: int) -> np.ndarray:
    """For each output of the chain of ``layers`` (None: a pointwise function) on
    ``length`` input samples, the last input sample its taps reach, layer by layer (-1:
    none: padding, a hole, a constant), as float.

    >>> latest_inputs([Layer("conv", kernel_size=3, padding=1), Layer("convT", kernel_size=1, stride=2)], 3).tolist()
    [1.0, -1.0, 2.0, -1.0, 2.0]
    """
    found = _latest_each(layers, length)[-1] if layers else np.arange(length, dtype=np.float64)
    assert found is not None, "the chain refuses that length"
    return found


def _latest_each(layers: Sequence[Layer | None], length: int) -> list[np.ndarray | None]:
    """:func:`latest_inputs` after each layer (None from a layer that refuses its input on)."""
    reads: np.ndarray | None = np.arange(length, dtype=np.float64)
    out: list[np.ndarray | None] = []
    for layer in layers:
        if reads is not None and layer is not None:
            try:
                reads = _latest_after(layer, reads)
            except ConvtraceError:
                reads = None
        out.append(reads)
    return out


def _latest_after(layer: Layer, reads: np.ndarray) -> np.ndarray:
    if layer.try_out_length(reads.shape[-1]) is None:
        raise ConvtraceError("length", reads.shape[-1], "the layer refuses its input")
    if layer.kind == "convT":
        return _scattered(reads, layer)
    if layer.kind in ("maxpool", "avgpool", "lppool"):
        dilation = layer.dilation if layer.kind == "maxpool" else 1
        padding = 0 if layer.kind == "lppool" else int(layer.padding)
        pool = nn.MaxPool1d(layer.kernel_size, layer.stride, padding, dilation, ceil_mode=layer.ceil_mode)
        return np.asarray(np.maximum(pool(reads[None, None])[0, 0], -1.0))  # a window of padding only: -inf
    for step in steps_of(layer):  # a pad layer, a conv: its pads, then its window
        if isinstance(step, PadStep):
            reads = apply_pad(reads[None], step.left, step.right, step.mode, -1.0)[0]
    return _windowed(reads, layer) if layer.kind == "conv" else reads


def _windowed(reads: np.ndarray, layer: Layer) -> np.ndarray:
    count = (reads.shape[-1] - layer.span) // layer.stride + 1
    if count <= 0:
        return reads[:0]
    taps = [reads[j * layer.dilation : j * layer.dilation + (count - 1) * layer.stride + 1 : layer.stride]
            for j in range(layer.kernel_size)]  # fmt: skip
    return np.asarray(np.max(np.stack(taps), axis=0))


def _scattered(reads: np.ndarray, layer: Layer) -> np.ndarray:
    n = reads.shape[-1]
    if n == 0:
        return reads
    full = np.full((n - 1) * layer.stride + layer.span + layer.output_padding, -1.0)
    for j in range(layer.kernel_size):
        at = slice(j * layer.dilation, j * layer.dilation + (n - 1) * layer.stride + 1, layer.stride)
        full[at] = np.maximum(full[at], reads)
    crop = int(layer.padding)
    return full[crop : full.shape[-1] - crop]


def exact_schedule(modules: Sequence[Any], layers: Sequence[Layer | None], *, limit: int | None = None,
                   seed: int = 0) -> Schedule | None:  # fmt: skip
    """The chain's emission schedule by evaluation (see the module docstring); None if the
    table and its reach exceed ``limit`` samples (default :data:`LIMIT`), or the evaluation
    does not repeat with the chain's period (the arithmetic's schedule is then used). The
    streamer emits the larger of this and the arithmetic's. ``layers``: each module's planner layer (None for a pointwise
    function)."""
    chain = [layer for layer in layers if layer is not None]
    if not chain:
        return None
    period, per_period = _period(chain)
    far = reach(chain)
    start = far + period  # the left edge's effects are over by then
    size = start + 3 * period
    if size + far > (LIMIT if limit is None else limit):
        return None
    table = _table(modules, layers, size, far, seed)
    if any(table[n + period] - table[n] != per_period for n in range(start, size - period)):
        return None
    return Schedule(tuple(table), period, per_period)


def first_fixed_each(groups: Sequence[Sequence[Any]], layers: Sequence[Layer | None],
                     arithmetic: Sequence[int | None], *, seed: int = 0) -> list[int | None]:  # fmt: skip
    """The fewest input samples that fix an output, for every leading part of a chain in
    one pass (the streaming report's rows), by evaluation as :func:`exact_schedule` (the
    same answer as its table) below the arithmetic's: ``groups``: each layer's modules
    (``layers``: None for a pointwise function); ``arithmetic``: each part's first output
    by the arithmetic (None: not asked). A part that cannot coincide, or whose evaluation
    would run past :data:`LIMIT` samples, keeps the arithmetic's.

    >>> from convtrace.stream import layer_of
    >>> chain = [nn.ConvTranspose1d(1, 1, 1, stride=3), nn.MaxPool1d(2, 1, padding=1, dilation=2)]
    >>> first_fixed_each([[m] for m in chain], [layer_of(m) for m in chain], [1, 2])   # (the arithmetic's too)
    [1, 2]
    """
    out = list(arithmetic)
    cuts: list[tuple[int, int, int, int]] = []
    parts: list[int] = []
    for index, first in enumerate(arithmetic):
        part = layers[: index + 1]
        if first is None or not coincidence_possible(part):
            continue
        far = reach([layer for layer in part if layer is not None])
        if first + far <= LIMIT:
            cuts.append((sum(len(g) for g in groups[: index + 1]), index + 1, first, far))
            parts.append(index)
    if cuts:
        modules = [m for group in groups for m in group]
        for index, table in zip(parts, _tables(modules, layers, cuts, seed), strict=True):
            fixed = next((n for n, count in enumerate(table) if count), None)
            if fixed is not None and (out[index] is None or fixed < out[index]):  # type: ignore[operator]
                out[index] = fixed
    return out


def _table(modules: Sequence[Any], layers: Sequence[Layer | None], size: int, far: int, seed: int) -> list[int]:
    """Outputs fixed after ``n`` samples for ``n < size`` (ends up to ``far`` samples past)."""
    return _tables(modules, layers, [(len(modules), len(layers), size, far)], seed)[0]


def _tables(modules: Sequence[Any], layers: Sequence[Layer | None], cuts: Sequence[tuple[int, int, int, int]],
            seed: int) -> list[list[int]]:  # fmt: skip
    """:func:`_table` of each leading part of the chain in one pass: a cut is (modules,
    layers, size, far): the chain of the first so many modules, which are the first so
    many ``layers``."""
    rng = np.random.default_rng(seed)
    probe, channels = narrow(list(modules), rng)
    x = rng.standard_normal((2, channels, LIMIT))  # the same samples however far the table goes
    found: list[tuple[list[np.ndarray | None], list[np.ndarray | None], list[float]]] = [([], [], []) for _ in cuts]
    for total in range(max(size + far for _, _, size, far in cuts)):
        outs = _outputs_each(probe, x[..., :total])
        reads = _latest_each(layers, total)
        for (last_module, last_layer, size, far), (values, where, scales) in zip(cuts, found, strict=True):
            if total >= size + far:
                continue
            y = outs[last_module - 1] if last_module else x[..., :total]
            values.append(None if y is None else y.reshape(y.shape[0] * y.shape[1], y.shape[-1]))
            where.append(None if y is None else reads[last_layer - 1] if last_layer else np.arange(total, dtype=np.float64))
            scales.append(1.0 if y is None else _finite_scale(y))
    tables: list[list[int]] = []
    for (_, _, size, far), (values, where, scales) in zip(cuts, found, strict=True):
        table: list[int] = []
        for n in range(size):  # more samples fix at least as much: from the last count on
            ends = slice(n, n + far)
            table.append(_fixed(values[ends], where[ends], n, table[-1] if table else 0, max(scales[ends], default=1.0)))
        tables.append(table)
    return tables


def _outputs_each(probe: list[Any], x: np.ndarray) -> list[np.ndarray | None]:
    """Each module's output in turn (None from a module that refuses its input on)."""
    out: list[np.ndarray | None] = []
    y: np.ndarray | None = x
    for m in probe:
        if y is not None:
            try:
                y = m(y)
            except ConvtraceError:
                y = None
        out.append(y)
    return out


def _fixed(
    values: list[np.ndarray | None], reads: list[np.ndarray | None], n: int, start: int, scale: float
) -> int:
    """Leading outputs the same (present, reading no sample from ``n`` on, equal within
    1e-9 of ``scale``) in every end the chain accepts among ``values`` (ends ``n``,
    ``n + 1``, ...); the first ``start`` are known to be."""
    ends = [(y, r) for y, r in zip(values, reads, strict=True) if y is not None and r is not None]
    if not ends:
        return start
    common = min(y.shape[-1] for y, _ in ends)
    at, block = start, 32
    while at < common:
        stop = min(common, at + block)
        stacked = np.stack([y[:, at:stop] for y, _ in ends])  # ends x rows x outputs
        late = np.stack([r[at:stop] for _, r in ends]).max(axis=0) >= n
        with np.errstate(invalid="ignore"):
            spread = (stacked.max(axis=0) - stacked.min(axis=0)).max(axis=0, initial=0.0)
            same = spread <= 1e-9 * scale  # NaN: not the same
        bad = np.flatnonzero(late | ~same)
        if bad.size:
            return at + int(bad[0])
        at, block = stop, 2 * block
    return int(max(start, common))


# ---------------------------------------------------------------------- the narrow copy


class TapMean:
    """A MaxPool1d judged by the mean of each window's taps (the padding not counted): the
    same outputs depend on the same samples, but a mean cannot hide one (a max of samples
    can, by chance, for a random input), and a window of one constant is that constant in
    both (a max's -inf padding changes nothing).

    >>> TapMean(nn.MaxPool1d(2, 2, 1, dilation=2))(np.arange(6.0)[None, None]).tolist()
    [[[1.0, 2.0, 4.0]]]
    """

    def __init__(self, pool: Any) -> None:
        self.pool = pool

    def __call__(self, x: np.ndarray) -> np.ndarray:
        from ..params import check_max_pool1d

        m = self.pool
        y = m(x)  # the length, and PyTorch's checks
        _, spec = check_max_pool1d(x, m.kernel_size, m.stride, m.padding, m.dilation, m.ceil_mode)
        size = x.shape[-1]
        taps = (
            np.arange(y.shape[-1])[:, None] * spec.stride
            - spec.padding
            + np.arange(spec.kernel_size)[None, :] * spec.dilation
        )
        valid = (taps >= 0) & (taps < size)
        values = (
            x[..., np.clip(taps, 0, max(size - 1, 0))]
            if size
            else np.zeros(x.shape[:-1] + taps.shape, dtype=x.dtype)
        )
        return np.asarray((values * valid).sum(axis=-1) / np.maximum(valid.sum(axis=-1), 1))


def narrow(layers: list[Any], rng: np.random.Generator) -> tuple[list[Any], int]:
    """The same geometry with few channels (each conv's output: the least both its groups
    and the next conv's divide), float64, random weights, max pools as the mean of their
    windows' taps (:class:`TapMean`: a max can hide a sample): the judge of the
    earliest emission (which depends on the geometry only). Also its input channels.

    >>> from convtrace import nn
    >>> narrow([nn.Conv1d(4, 6, 3, groups=2), nn.ConvTranspose1d(6, 3, 2, groups=3)], np.random.default_rng(0))[1]
    2
    """
    groups = [m.groups for m in layers if isinstance(m, (nn.Conv1d, nn.ConvTranspose1d))] + [1]
    out: list[Any] = []
    c, index = groups[0], 0
    for m in layers:
        if isinstance(m, (nn.Conv1d, nn.ConvTranspose1d)):
            g, c_out = groups[index], math.lcm(groups[index], groups[index + 1])
            index += 1
            kwargs: dict[str, Any] = dict(kernel_size=m.kernel_size[0], stride=m.stride[0], dilation=m.dilation[0], groups=g,
                                          bias=m.bias is not None, padding_mode=m.padding_mode, dtype=np.float64,
                                          rng=int(rng.integers(1 << 30)))  # fmt: skip
            padding = m.padding if isinstance(m.padding, str) else m.padding[0]
            if isinstance(m, nn.ConvTranspose1d):
                out.append(
                    nn.ConvTranspose1d(
                        c, c_out, padding=padding, output_padding=m.output_padding[0], **kwargs
                    )
                )
            else:
                out.append(nn.Conv1d(c, c_out, padding=padding, **kwargs))
            c = c_out
        elif isinstance(m, nn.MaxPool1d) and not m.return_indices:
            out.append(TapMean(m))
        else:
            out.append(m)
    return out, groups[0]


def _offline_layers(layers: list[Any], x: np.ndarray) -> list[np.ndarray]:
    outs = []
    for m in layers:
        x = m(x)
        outs.append(x)
    return outs


def _try_offline(layers: list[Any], x: np.ndarray) -> np.ndarray | None:
    try:
        return _offline_layers(layers, x)[-1] if layers else x
    except ConvtraceError:
        return None


def _finite_scale(a: np.ndarray) -> float:
    """The largest finite magnitude (at least 1): a max pool's window of padding only is -inf."""
    finite = np.abs(a[np.isfinite(a)])
    return max(1.0, float(finite.max())) if finite.size else 1.0


def _close(a: np.ndarray, b: np.ndarray, tol: float) -> np.ndarray:
    """Elementwise: equal (infinities too), both NaN (a max pool's window of padding only is
    -inf; weights of both signs then add -inf and +inf), or within ``tol``."""
    with np.errstate(invalid="ignore"):
        return np.asarray((a == b) | (np.abs(a - b) <= tol) | (np.isnan(a) & np.isnan(b)))
