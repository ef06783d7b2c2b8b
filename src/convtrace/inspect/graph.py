"""Dependence through the graph of recorded calls (torch-free).

Each node is a recorded call: a planner :class:`~convtrace.plan.layers.Layer` and the ids of
the nodes its input descends from (its *sources*; :data:`INPUT` is the model's input).
Branches join where a tensor descends from several nodes (a residual ``x + f(x)``,
``x += f(x)``, a concatenation over channels): an output then depends on the union of what
each branch depends on, index for index.

For every node, :func:`dependences` computes, exactly, the first and last model-input index
that each of its output indices depends on. The pattern repeats: output ``t = q*period + r``
depends on ``[first[r] + q*shift, last[r] + q*shift]`` where ``shift = hop*period`` — so one
period of outputs describes them all. It is built forward, node by node, once: each output
index's sources in the layer (exact, holes included) and, per source node, the first source
index that depends on anything (the windows never move backwards as the index grows, so the
first such index has the smallest first index and the last one the largest last index).
This is the first and last nonzero of PyTorch's gradient (no cancellation assumed, outputs
away from the edges, where padding cuts the windows).

>>> from convtrace.plan.layers import Layer
>>> class Node:
...     def __init__(self, layer, sources): self.layer, self.sources, self.in_shape = layer, frozenset(sources), (1, 1, 40)
>>> conv = Node(Layer("conv", kernel_size=9, padding=4), {INPUT})   # x -> conv (same length)
>>> residual = Node(Layer("conv", kernel_size=9, padding=4), {0, INPUT})  # conv(x + conv(x))
>>> deps = dependences([conv, residual])
>>> deps[1].window(20), deps[1].figures()
((12, 28), (Fraction(17, 1), Fraction(1, 1), Fraction(8, 1), Fraction(8, 1)))

An adaptive pool is periodic on a given input length: to 8 outputs from 40 samples, hop 5
(its figures hold at this length only: the call is marked length-dependent).

>>> deps = dependences([conv, Node(Layer("adaptiveavgpool", output_size=8), {0})])
>>> deps[1].window(2), deps[1].hop
((6, 18), Fraction(5, 1))
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

from ..plan.layers import Layer, merge_ranges
from ..plan.stack import MAX_RANGES

__all__ = ["INPUT", "MAX_PERIOD", "Dependence", "Node", "dependences", "dependence_at", "join", "is_chain"]

#: the source id of the model's input
INPUT = -1
#: the longest period of output indices a node may have (then its dependence is not given)
MAX_PERIOD = 4096

Window = tuple[int, int]


class Node(Protocol):
    """A recorded call as the graph sees it."""

    @property
    def layer(self) -> Layer: ...

    @property
    def sources(self) -> Iterable[int]: ...

    @property
    def type(self) -> str: ...

    @property
    def in_shape(self) -> tuple[int, ...]: ...

    @property
    def out_shape(self) -> tuple[int, ...]: ...


@dataclass(frozen=True)
class Dependence:
    """Which model-input indices the outputs of one node depend on: output
    ``t = q*period + r`` depends on ``windows[r]`` shifted by ``q*shift`` (None: on nothing).

    >>> d = Dependence(Fraction(1, 2), 2, 1, ((0, 1), None))
    >>> d.window(4), d.window(5)
    ((2, 3), None)
    """

    hop: Fraction
    period: int
    shift: int
    windows: tuple[Window | None, ...]

    def window(self, t: int) -> Window | None:
        """First and last model-input index output ``t`` depends on (None: none)."""
        q, r = divmod(t, self.period)
        w = self.windows[r]
        return None if w is None else (w[0] + q * self.shift, w[1] + q * self.shift)

    def figures(self) -> tuple[Fraction, Fraction, Fraction, Fraction] | None:
        """(receptive field, hop, offset, lookahead): output t depends on input within
        ``[t*hop - offset, t*hop - offset + receptive_field - 1]`` (exact for every ``t``
        when the windows are evenly spaced; a bound otherwise), and on nothing after
        ``t*hop + lookahead``. None if no output depends on the input."""
        seen = [(r, w) for r, w in enumerate(self.windows) if w is not None]
        if not seen:
            return None
        offset = max(r * self.hop - w[0] for r, w in seen)
        field = max(w[1] - (r * self.hop - offset) for r, w in seen) + 1
        look = max(w[1] - r * self.hop for r, w in seen)
        return Fraction(field), self.hop, Fraction(offset), Fraction(look)


_IDENTITY = Dependence(Fraction(1), 1, 1, ((0, 0),))


def dependences(nodes: Sequence[Node]) -> list[Dependence | None]:
    """The dependence of every node (None where the branches' hops differ or the period
    exceeds :data:`MAX_PERIOD`). Sources come before the nodes that use them."""
    found: list[Dependence | None] = []
    for node in nodes:
        parts = [_IDENTITY if src == INPUT else found[src] for src in sorted(node.sources)]
        found.append(_through(node.layer, parts, node.in_shape[-1]))
    return found


def join(parts: Sequence[Dependence | None]) -> Dependence | None:
    """The dependence of a tensor that several nodes' outputs meet in, index for index.

    >>> a = Dependence(Fraction(1), 1, 1, ((-2, 2),))
    >>> b = Dependence(Fraction(1), 1, 1, ((0, 5),))
    >>> join([a, b]).windows
    ((-2, 5),)
    """
    return _through(None, list(parts))


def _through(layer: Layer | None, parts: list[Dependence | None], in_length: int = 0) -> Dependence | None:
    """A node's dependence: ``layer`` (None: the identity) applied to the join of ``parts``
    (an adaptive pool's windows on its input length ``in_length``: its hop is ``L/O``, its
    windows repeat every ``O/gcd(L, O)`` outputs)."""
    if not parts or any(p is None for p in parts):
        return None
    sources = [p for p in parts if p is not None]
    hops = {p.hop for p in sources}
    if len(hops) != 1:
        return None
    up = 1 if layer is None else layer.up
    hop = next(iter(hops)) * (1 if layer is None else layer.hop_at(in_length))
    period = math.lcm(*(p.period for p in sources)) * up
    period *= (hop * period).denominator
    if period > MAX_PERIOD:
        return None
    windows: list[Window | None] = []
    for r in range(period):
        spans = [(r, r)] if layer is None else layer.sources([(r, r)], in_length)
        firsts = [f for f in (_first(p, spans) for p in sources) if f is not None]
        lasts = [f for f in (_last(p, spans) for p in sources) if f is not None]
        windows.append((min(firsts), max(lasts)) if firsts and lasts else None)
    return Dependence(hop, period, int(hop * period), tuple(windows))


def _first(dep: Dependence, spans: list[Window]) -> int | None:
    """The first model-input index any source index in ``spans`` depends on."""
    for a, b in spans:
        for u in range(a, min(b, a + dep.period - 1) + 1):
            w = dep.window(u)
            if w is not None:
                return w[0]
    return None


def _last(dep: Dependence, spans: list[Window]) -> int | None:
    """The last model-input index any source index in ``spans`` depends on."""
    for a, b in reversed(spans):
        for u in range(b, max(a, b - dep.period + 1) - 1, -1):
            w = dep.window(u)
            if w is not None:
                return w[1]
    return None


def dependence_at(nodes: Sequence[Node], outputs: Iterable[int], t: int) -> Window | None:
    """First and last model-input index that index ``t`` of the tensor the nodes ``outputs``
    meet in depends on, traced back through every branch for this one ``t`` (a part placed
    into a longer tensor — ``torch.cat`` over time, ``x[..., a:b] = y`` — counts only for
    the indices it covers).

    >>> from convtrace.plan.layers import Layer
    >>> class Place:
    ...     layer, sources, type, in_shape, out_shape = Layer("pad", pad_left=10), {INPUT}, "place", (1, 1, 10), (1, 1, 20)
    >>> dependence_at([Place()], [0], 12), dependence_at([Place()], [0], 5)
    ((2, 2), None)
    """
    pending: dict[int, list[Window]] = {}
    for src in outputs:
        pending.setdefault(src, []).append((t, t))
    for index in range(len(nodes) - 1, -1, -1):
        spans = merge_ranges(pending.pop(index, []))
        node = nodes[index]
        if spans and node.type == "place":  # outside the indices it was written to, the part is absent
            first, last = node.layer.pad_left, node.out_shape[-1] - 1 - node.layer.pad_right
            spans = [(max(a, first), min(b, last)) for a, b in spans if b >= first and a <= last]
        if not spans:
            continue
        found = node.layer.sources(spans, node.in_shape[-1])
        if len(found) > MAX_RANGES:  # close the holes: a hull keeps the first and last index
            found = [(found[0][0], found[-1][1])]
        for src in node.sources:
            pending.setdefault(src, []).extend(found)
    spans = merge_ranges(pending.get(INPUT, []))
    return (spans[0][0], spans[-1][1]) if spans else None


def is_chain(nodes: Sequence[Node]) -> bool:
    """Every node has one source and no node feeds two."""
    used: dict[int, int] = {}
    for node in nodes:
        sources = list(node.sources)
        if len(sources) != 1:
            return False
        used[sources[0]] = used.get(sources[0], 0) + 1
    return all(count == 1 for count in used.values())
