"""``convtrace solve``: the inverse problem — every layer within the user's bounds that
reaches a length goal, best first (no gaps, symmetric padding, no ``F.pad``, no
``output_padding``, smallest kernel), each with a PyTorch snippet.

Goals:

* ``same`` — output length = input length for every length (``causal``: left-only padding,
  as ``F.pad`` + ``Conv1d``); with ``stride > 1`` PyTorch rejects ``padding='same'``: the
  answer then is ``ceil(L/stride)`` (total padding ``dilation*(k-1)``, as TensorFlow's 'SAME');
* ``down`` — output = L/s for every L divisible by s (and what the others get);
* ``up`` — ConvTranspose1d with output = L*s for every L;
* ``undo`` — a ConvTranspose1d restoring the input length of a given Conv1d for every
  length, or the proof that no fixed ``output_padding`` can, with the per-length rule;
* ``length`` — a single layer turning one given length into a target length.

Each :class:`Solution` has ``snippet``: code that, run with ``torch``, ``nn`` and ``F`` in
scope, defines ``layer``, a callable taking the input tensor.

>>> best = solve("down", stride=2, kernel_sizes=range(1, 6)).solutions[0]
>>> best.layer.describe(), best.other_lengths
('conv k=2 s=2', 'floor')
>>> [s.layer.describe() for s in solve("up", stride=4, kernel_sizes=range(1, 9)).solutions[:2]]
['convT k=4 s=4', 'convT k=8 s=4 p=2']
>>> solve("same", kernel_sizes=[4]).solutions[0].layer.describe()
'conv k=4 p=1,2'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..errors import ConvtraceError
from .layers import Layer
from .report import Finding, Shown, to_jsonable
from .shape import check_length

__all__ = ["Solution", "SolveReport", "solve", "parse_range", "GOALS", "MAX_CANDIDATES"]

GOALS = ("same", "down", "up", "undo", "length")
#: bounds on what the enumeration may visit
MAX_KERNEL = 4096
MAX_CANDIDATES = 2_000_000


@dataclass(frozen=True)
class Solution:
    """One layer reaching the goal. ``rank`` orders solutions (smaller is better);
    ``notes`` are codes (S1xx) with numbers; ``other_lengths`` says what lengths off the
    goal's grid get ('floor', 'ceil', or '' where every length reaches the goal);
    ``restores`` (undo) is the residue class of lengths it restores, or 'all'."""

    goal: str
    layer: Layer
    rank: tuple[int, ...]
    snippet: str
    other_lengths: str
    restores: str
    notes: tuple[Finding, ...]

    def to_dict(self) -> dict[str, Any]:
        return {**to_jsonable(self), "layer": self.layer.to_dict(), "spec": self.layer.describe()}


@dataclass(frozen=True)
class SolveReport(Shown):
    """The goal, its parameters, the solutions best first (``count`` found in all, at most
    ``limit`` listed) and findings about the goal itself (e.g. S201: no fixed layer can);
    ``print`` it for the command line's text."""

    goal: str
    parameters: dict[str, Any]
    solutions: tuple[Solution, ...]
    count: int
    warnings: tuple[Finding, ...]
    rule: str

    def to_dict(self) -> dict[str, Any]:
        return {**to_jsonable(self), "solutions": [s.to_dict() for s in self.solutions]}

    def __repr__(self) -> str:
        best = f", best {self.solutions[0].layer.describe()}" if self.solutions else ""
        return f"<SolveReport {self.goal}: {self.count} solutions{best}>"


def solve(
    goal: str,
    *,
    stride: int = 1,
    kernel_sizes: Iterable[int] = range(1, 17),
    dilations: Iterable[int] = (1,),
    causal: bool = False,
    length: int | None = None,
    target: int | None = None,
    conv: Layer | None = None,
    channels: int = 1,
    limit: int = 10,
) -> SolveReport:
    """Solve one goal (see the module docstring); ``limit`` caps the solutions listed."""
    if goal not in GOALS:
        raise ConvtraceError("goal", goal, f"the goal must be one of {', '.join(GOALS)}")
    if not isinstance(channels, int) or not 1 <= channels <= 1 << 20:
        raise ConvtraceError("channels", channels, f"channels must be a whole number between 1 and {1 << 20}")
    ks = _bounded("kernel_sizes", kernel_sizes)
    ds = _bounded("dilations", dilations)
    s = _bounded("stride", [stride])[0]
    params: dict[str, Any] = {"stride": s, "kernel_sizes": _span(ks), "dilations": _span(ds), "causal": causal}
    if goal == "same":
        found, rule = _same(s, ks, ds, causal), ("L" if s == 1 else f"ceil(L/{s})")
    elif goal == "down":
        found, rule = _down(s, ks, ds, causal), f"L/{s}"
    elif goal == "up":
        found, rule = _up(s, ks, ds), f"L*{s}"
    elif goal == "length":
        if length is None or target is None:
            raise ConvtraceError("length", length, "the 'length' goal needs a length and a target")
        n, m = check_length(length), check_length(target, "target")
        params.update(length=n, target=m)
        thunks = _to_length(n, m, ks, ds, range(1, s + 1) if s > 1 else [1])
        thunks.sort(key=lambda item: item[0])
        found, rule = [build() for _, build in thunks[: max(1, limit)]], str(m)
    else:
        if conv is None or conv.kind != "conv":
            raise ConvtraceError("conv", conv, "the 'undo' goal needs the Conv1d to undo")
        params.update(conv=conv.describe(), stride=conv.stride, length=length)
        return _undo(conv, ks, ds, length, channels, limit, params)
    ordered = sorted(found, key=lambda sol: sol.rank)
    if goal != "length":
        thunks = []
    findings: list[Finding] = []
    if goal == "same" and s > 1:
        findings.append(Finding("S202", "", {"stride": s}))
    if not ordered:
        findings.append(Finding("S203", "", {"goal": goal}))
    final = tuple(_with_snippet(sol, channels) for sol in ordered[: max(1, limit)])
    count = len(thunks) if goal == "length" else len(ordered)
    return SolveReport(goal, params, final, count, tuple(findings), rule)


def parse_range(text: str, name: str) -> list[int]:
    """``1..16`` (inclusive), ``3,5,7`` or ``4``.

    >>> parse_range("3..5", "kernel-sizes"), parse_range("2,8", "dilations")
    ([3, 4, 5], [2, 8])
    """
    try:
        if ".." in text:
            lo, hi = (int(v) for v in text.split("..", 1))
            if hi - lo > 100_000:
                raise ConvtraceError(name, text, f"--{name}: a range of at most 100000 values")
            return list(range(lo, hi + 1))
        return [int(v) for v in text.split(",")]
    except ValueError:
        raise ConvtraceError(name, text, f"--{name} must be a range like 1..16 or a list like 3,5,7") from None


def _bounded(name: str, values: Iterable[int]) -> list[int]:
    from ..params import parse_int_param

    out = sorted({parse_int_param(name, v) for v in values})
    if not out:
        raise ConvtraceError(name, out, f"{name} must not be empty")
    if out[0] < 1 or out[-1] > MAX_KERNEL:
        raise ConvtraceError(name, out[0] if out[0] < 1 else out[-1], f"{name} must be between 1 and {MAX_KERNEL}")
    return out


def _span(values: list[int]) -> str:
    return f"{values[0]}..{values[-1]}" if len(values) > 1 and values == list(range(values[0], values[-1] + 1)) else ",".join(map(str, values))


def _guard(count: int) -> None:
    if count > MAX_CANDIDATES:
        raise ConvtraceError("bounds", count, f"the search would visit {count} candidates; narrow the bounds (at most {MAX_CANDIDATES})")


def _conv_solution(goal: str, k: int, s: int, d: int, total: int, causal: bool, other: str) -> Solution:
    """A Conv1d with ``total`` padding split symmetrically if it can, else left-heavy
    ('same' style right-heavy for non-causal), or all left when causal."""
    if causal:
        left, right = total, 0
    else:
        left, right = total // 2, total - total // 2
    span = d * (k - 1) + 1
    if left == right:
        layer = Layer("conv", k, s, left, d)
    else:
        layer = Layer("conv", k, s, 0, d, pad_left=left, pad_right=right)
    notes: list[Finding] = []
    if span < s:
        notes.append(Finding("S101", "", {"skipped": s - span, "stride": s}))
    if left != right and not causal:
        notes.append(Finding("S102", "", {"left": left, "right": right}))
    rank = (int(span < s), int(left != right and not causal), k, d, total)
    return Solution(goal, layer, rank, "", other, "all", tuple(notes))


def _same(s: int, ks: list[int], ds: list[int], causal: bool) -> list[Solution]:
    _guard(len(ks) * len(ds))
    return [_conv_solution("same", k, s, d, d * (k - 1), causal, "") for k in ks for d in ds]


def _down(s: int, ks: list[int], ds: list[int], causal: bool) -> list[Solution]:
    """floor((L + P - D)/s) + 1 = L/s for L = m*s  <=>  D - s <= P <= D - 1."""
    _guard(len(ks) * len(ds) * s)
    found = []
    for k in ks:
        for d in ds:
            span = d * (k - 1) + 1
            for total in range(max(0, span - s), span):
                # others: floor((L + total - span)/s) + 1; total = span - s gives floor(L/s), span - 1 ceil(L/s)
                other = "floor" if total == span - s else ("ceil" if total == span - 1 else f"(L + {total - span}) // {s} + 1")
                found.append(_conv_solution("down", k, s, d, total, causal, other))
    return found


def _up(s: int, ks: list[int], ds: list[int]) -> list[Solution]:
    """(L-1)*s - 2p + d*(k-1) + op + 1 = L*s  <=>  d*(k-1) + 1 + op - 2p = s."""
    _guard(len(ks) * len(ds) * max(s, ds[-1]))
    found = []
    for k in ks:
        for d in ds:
            for op in range(max(s, d)):
                twice = d * (k - 1) + 1 + op - s
                if twice < 0 or twice % 2:
                    continue
                found.append(_convT_solution("up", Layer("convT", k, s, twice // 2, d, output_padding=op), "", "all"))
    return found


def _convT_solution(goal: str, layer: Layer, other: str, restores: str) -> Solution:
    notes = []
    if layer.kernel_size % layer.stride:
        notes.append(Finding("W103", "", {"kernel_size": layer.kernel_size, "stride": layer.stride}))
    if layer.output_padding:
        notes.append(Finding("S103", "", {"output_padding": layer.output_padding}))
    rank = (layer.output_padding, int(layer.kernel_size % layer.stride != 0), layer.kernel_size,
            layer.dilation, int(layer.padding))  # fmt: skip
    return Solution(goal, layer, rank, "", other, restores, tuple(notes))


Thunk = tuple[tuple[int, ...], Callable[[], Solution]]


def _to_length(n: int, m: int, ks: list[int], ds: list[int], strides: Iterable[int]) -> list[Thunk]:
    """Ranked candidates; a Solution is built only for those listed."""
    found: list[Thunk] = []
    strides = list(strides)
    _guard(len(ks) * len(ds) * len(strides) * (max(strides) + max(ds)))
    if n < 1 or m < 1:
        return found
    for s in strides:
        for k in ks:
            for d in ds:
                found += _to_length_conv(n, m, k, s, d) + _to_length_convT(n, m, k, s, d)
    return found


def _to_length_conv(n: int, m: int, k: int, s: int, d: int) -> list[Thunk]:
    """floor((n + P - D)/s) + 1 = m  <=>  (m-1)*s + D - n <= P <= (m-1)*s + D - n + s - 1."""
    span = d * (k - 1) + 1
    low = max(0, (m - 1) * s + span - n)
    high = (m - 1) * s + span - n + s - 1
    out: list[Thunk] = []
    for total in range(low, min(high, low + 1) + 1):  # the smallest total padding, and its odd/even neighbour
        rank = _length_rank(n < m, total > span, span < s, total % 2 == 1, False, s, k, d, total)

        def build(k: int = k, s: int = s, d: int = d, total: int = total, rank: tuple[int, ...] = rank) -> Solution:
            sol = _conv_solution("length", k, s, d, total, False, "")
            return Solution(sol.goal, sol.layer, rank, "", "", "", sol.notes)

        out.append((rank, build))
    return out


def _to_length_convT(n: int, m: int, k: int, s: int, d: int) -> list[Thunk]:
    out: list[Thunk] = []
    for op in range(max(s, d)):
        twice = (n - 1) * s + d * (k - 1) + op + 1 - m
        if twice < 0 or twice % 2:
            continue
        p = twice // 2
        rank = _length_rank(n > m, p > d * (k - 1) + 1, False, op > 0, k % s != 0, s, k, d, p)

        def build(k: int = k, s: int = s, d: int = d, p: int = p, op: int = op, rank: tuple[int, ...] = rank) -> Solution:
            layer = Layer("convT", k, s, p, d, output_padding=op)
            sol = _convT_solution("length", layer, "", "")
            return Solution(sol.goal, layer, rank, "", "", "", sol.notes)

        out.append((rank, build))
    return out


def left_right_differ(layer: Layer) -> bool:
    return layer.pads[0] != layer.pads[1]


def _length_rank(wrong_way: bool, crops: bool, gaps: bool, extra: bool, uneven: bool, s: int, k: int, d: int,
                 pad: int) -> tuple[int, ...]:  # fmt: skip
    """Best first: conv to shorten and convT to lengthen, padding within the kernel, no gaps, no
    F.pad or output_padding, even overlap, then the smallest kernel."""
    return (int(wrong_way), int(crops), int(gaps), int(extra), int(uneven), k, d, s, pad)


def _undo(conv: Layer, ks: list[int], ds: list[int], length: int | None, channels: int, limit: int,
          params: dict[str, Any]) -> SolveReport:  # fmt: skip
    """ConvTranspose1d(k', s, p', op', d') after Conv1d(k, s, P, d) restores L iff
    ``D' + op' - 2p' = D - P + r`` where ``r = (L + P - D) mod s``: one residue class per
    fixed layer, so for ``s > 1`` no fixed layer restores every length."""
    s = conv.stride
    total = sum(conv.pads)
    span = conv.span
    # rank first, build the few solutions listed only (the enumeration may be large)
    candidates: list[tuple[tuple[int, int, int, int, int, int], int, int, int, int, int]] = []
    _guard(len(ks) * len(ds) * max(s, ds[-1]))
    for k in ks:
        for d in ds:
            for op in range(max(s, d)):
                for r in range(s):
                    twice = d * (k - 1) + 1 + op - (span - total + r)
                    if twice < 0 or twice % 2:
                        continue
                    candidates.append(((r, op, int(k % s != 0), k, d, twice // 2), k, d, op, r, twice // 2))
    candidates.sort()
    found: list[Solution] = []
    for rank, k, d, op, r, p in candidates[: max(1, limit)]:
        layer = Layer("convT", k, s, p, d, output_padding=op)
        restores = "all" if s == 1 else f"(L {_signed(total - span)}) % {s} == {r}"
        sol = _convT_solution("undo", layer, "", restores)
        found.append(Solution("undo", layer, rank, "", "", restores, sol.notes))
    findings: list[Finding] = []
    if s > 1:
        first = max(1, span - total)  # the shortest valid input
        findings.append(Finding("S201", conv.name, {"length_a": first, "length_b": first + 1, "stride": s,
                                                     "conv_out": conv.out_length(first)}))  # fmt: skip
    final = [_with_snippet(sol, channels) for sol in found]
    if s > 1 and conv.pads[0] == conv.pads[1]:
        final.insert(0, _per_length_rule(conv, length, channels))
    elif s > 1:
        findings.append(Finding("S204", conv.name, {"left": conv.pads[0], "right": conv.pads[1]}))
    rule = "output_size=L" if s > 1 else "all"
    return SolveReport("undo", params, tuple(final), len(candidates) + (1 if s > 1 else 0), tuple(findings), rule)


def _per_length_rule(conv: Layer, length: int | None, channels: int) -> Solution:
    """The mirror ConvTranspose1d (same k, s, d, padding) called with ``output_size=[L]``:
    its valid output sizes are exactly the lengths the Conv1d maps to one length."""
    p = conv.pads[0]
    layer = Layer("convT", conv.kernel_size, conv.stride, p, conv.dilation)
    default = 16000 if length is None else check_length(length)
    c = channels
    snippet = (
        f"up = nn.ConvTranspose1d({c}, {c}, {conv.kernel_size}, stride={conv.stride}, padding={p}"
        f"{_dil(conv.dilation)})\n"
        f"def layer(y, length={default}):  # length: the input length of the Conv1d being undone\n"
        "    return up(y, output_size=[length])\n"
    )
    rule = f"output_padding = (L {_signed(sum(conv.pads) - conv.span)}) % {conv.stride}"
    return Solution("undo", layer, (-1,), snippet, "", rule, (Finding("S104", "", {"length": default}),))


def _signed(value: int) -> str:
    return f"+ {value}" if value >= 0 else f"- {-value}"


def _dil(d: int) -> str:
    return f", dilation={d}" if d != 1 else ""


def _with_snippet(sol: Solution, channels: int) -> Solution:
    return Solution(sol.goal, sol.layer, sol.rank, snippet_for(sol.layer, channels), sol.other_lengths,
                    sol.restores, sol.notes)  # fmt: skip


def snippet_for(layer: Layer, channels: int = 1) -> str:
    """PyTorch code defining ``layer`` (``torch``, ``nn``, ``F`` in scope).

    >>> print(snippet_for(Layer("conv", 3, pad_left=2)), end="")
    conv = nn.Conv1d(1, 1, 3)
    def layer(x):
        return conv(F.pad(x, (2, 0)))
    """
    c = channels
    if layer.kind == "convT":
        args = f"{c}, {c}, {layer.kernel_size}, stride={layer.stride}, padding={layer.padding}"
        if layer.output_padding:
            args += f", output_padding={layer.output_padding}"
        return f"layer = nn.ConvTranspose1d({args}{_dil(layer.dilation)})\n"
    args = f"{c}, {c}, {layer.kernel_size}"
    if layer.stride != 1:
        args += f", stride={layer.stride}"
    if layer.padding not in (0, "valid"):
        args += f", padding={layer.padding!r}"
    args += _dil(layer.dilation)
    if layer.pad_left or layer.pad_right:
        return (
            f"conv = nn.Conv1d({args})\n"
            "def layer(x):\n"
            f"    return conv(F.pad(x, ({layer.pad_left}, {layer.pad_right})))\n"
        )
    return f"layer = nn.Conv1d({args})\n"
