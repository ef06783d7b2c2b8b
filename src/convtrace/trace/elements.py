"""One output element at a time: the values it reads, its step, and what it reaches.

:func:`gather` collects the input samples and weights that output element ``y[n, o, t]``
reads (Conv1d: the padded window, sources from :func:`convtrace.engine.padding.pad_source_at`;
ConvTranspose1d: the gather form ``j = i*stride - padding + k*dilation``); :func:`make_step`
writes them out as products and a sum; :func:`element_slice` gives the minimal input slice
that PyTorch needs to compute the same element on its own.

>>> from convtrace.params import check_conv1d
>>> x3, w, b, spec = check_conv1d(np.arange(1.0, 5.0)[None, None], np.ones((1, 1, 3)), None, 1, 1, 1, 1)
>>> g = gather(x3, w, b, spec, (0, 0, 0), (None, None, None))
>>> g.input_index.tolist(), g.x.tolist()
([-1, 0, 1], [[0.0, 1.0, 2.0]])
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

import numpy as np

from .. import shapes
from ..engine.padding import pad_source, pad_source_at
from ..functional import conv1d, conv_transpose1d
from ..params import ConvSpec, PaddingMode, PoolSpec
from ..shapes import TapKind
from .exact import to_exact
from .model import PoolDetail, Reduction, Source, Step, Term

__all__ = [
    "Gathered", "gather", "make_step", "reach", "element_slice", "ElementSlice",
    "pool_step", "pool_reduction", "max_winner", "pnorm_root", "mean_of",
]

#: beyond this many (input sample, tap) pairs the reach of a transposed input is not computed
REACH_LIMIT = 20_000_000


@dataclass(frozen=True)
class Gathered:
    """The values one output element reads (numeric, and exact where given exactly)."""

    key: tuple[int, int, int]
    channels: tuple[int, int]  # [first, last) input channel of the element's group
    kernel_index: np.ndarray  # kernel index of each column
    input_index: np.ndarray  # input index of each column (-1: zero padding)
    padded_index: np.ndarray | None  # padded position of each column (Conv1d)
    xn: np.ndarray  # (in_per_group, columns) numeric input values (0 for zero padding)
    xe: np.ndarray | None  # the same as exact values, else None
    wn: np.ndarray
    we: np.ndarray | None
    bn: np.ndarray | None  # bias[o:o+1]
    be: np.ndarray | None

    @property
    def x(self) -> np.ndarray:
        return self.xn


def _rows(a: np.ndarray | None, n: int, c0: int, c1: int, columns: np.ndarray) -> np.ndarray | None:
    return None if a is None else np.array(a[n, c0:c1][:, columns])


def gather(
    x3: np.ndarray, w: np.ndarray, b: np.ndarray | None, spec: ConvSpec, key: tuple[int, int, int],
    exact_operands: tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None],
) -> Gathered:
    """The input values and weights that output element ``key = (n, o, t)`` reads."""
    n, o, t = key
    group = o // spec.out_per_group
    c0, c1 = group * spec.in_per_group, (group + 1) * spec.in_per_group
    x_exact, w_exact, b_exact = exact_operands
    bias = (None if b is None else b[o : o + 1], None if b_exact is None else b_exact[o : o + 1])
    if spec.transposed:
        return _gather_transposed(x3, w, spec, key, (c0, c1), (x_exact, w_exact), bias)
    kernel_index = np.arange(spec.kernel_size)
    padded = t * spec.stride + kernel_index * spec.dilation
    sources = pad_source_at(padded, spec.length, spec.pad_left, spec.padding_mode)
    safe = np.where(sources >= 0, sources, 0)
    xn = _rows(x3, n, c0, c1, safe)
    xe = _rows(x_exact, n, c0, c1, safe)
    assert xn is not None
    xn[:, sources < 0] = 0
    if xe is not None:
        xe[:, sources < 0] = Fraction(0)
    return Gathered(
        key=key, channels=(c0, c1), kernel_index=kernel_index, input_index=sources, padded_index=padded,
        xn=xn, xe=xe, wn=w[o], we=None if w_exact is None else w_exact[o], bn=bias[0], be=bias[1],
    )


def _gather_transposed(
    x3: np.ndarray, w: np.ndarray, spec: ConvSpec, key: tuple[int, int, int], channels: tuple[int, int],
    exact: tuple[np.ndarray | None, np.ndarray | None], bias: tuple[np.ndarray | None, np.ndarray | None],
) -> Gathered:
    n, o, t = key
    c0, c1 = channels
    local = o % spec.out_per_group
    numerator = t + spec.padding_int - np.arange(spec.kernel_size) * spec.dilation
    ok = (numerator % spec.stride == 0) & (numerator >= 0) & (numerator // spec.stride < spec.length)
    kernel_index = np.arange(spec.kernel_size)[ok][::-1]  # input index ascending
    input_index = (numerator[ok] // spec.stride)[::-1]
    xn = _rows(x3, n, c0, c1, input_index)
    assert xn is not None
    x_exact, w_exact = exact
    return Gathered(
        key=key, channels=channels, kernel_index=kernel_index, input_index=input_index, padded_index=None,
        xn=xn, xe=_rows(x_exact, n, c0, c1, input_index), wn=w[c0:c1, local][:, kernel_index],
        we=None if w_exact is None else w_exact[c0:c1, local][:, kernel_index], bn=bias[0], be=bias[1],
    )


# --------------------------------------------------------------------------- numbers


def _number(v: Any, exact: bool) -> Any:
    if exact:
        return v if isinstance(v, Fraction) else to_exact(v)
    if isinstance(v, Fraction):
        return float(v)
    if isinstance(v, (complex, np.complexfloating)):
        return complex(v)
    return float(v)


def _sum(values: list[Any], exact: bool) -> Any:
    if exact:
        return sum(values, Fraction(0))
    if any(isinstance(v, complex) for v in values):
        return sum(values, 0j)
    return math.fsum(values) if values else 0.0


def _zero(exact: bool, complex_data: bool) -> Any:
    return Fraction(0) if exact else (0j if complex_data else 0.0)


def _pick(exact: bool, exact_values: np.ndarray | None, numeric: np.ndarray, index: tuple[int, ...]) -> Any:
    return _number(exact_values[index] if (exact and exact_values is not None) else numeric[index], exact)


# --------------------------------------------------------------------------- steps


def _term(spec: ConvSpec, g: Gathered, channel: int, column: int, exact: bool, complex_data: bool) -> Term:
    x = _pick(exact, g.xe, g.xn, (channel, column))
    w = _pick(exact, g.we, g.wn, (channel, column))
    source = int(g.input_index[column])
    if g.padded_index is None:  # ConvTranspose1d
        return Term(in_channel=g.channels[0] + channel, kernel_index=int(g.kernel_index[column]),
                    input_index=source, padded_index=None, source=Source.INPUT, x=x, w=w, product=x * w)
    position = int(g.padded_index[column])
    inside = 0 <= position - spec.pad_left < spec.length
    padding_source = Source.ZERO if spec.padding_mode is PaddingMode.ZEROS else Source(spec.padding_mode)
    if source < 0:
        x = _zero(exact, complex_data and not exact)
    return Term(in_channel=g.channels[0] + channel, kernel_index=int(g.kernel_index[column]),
                input_index=None if source < 0 else source, padded_index=position,
                source=Source.INPUT if inside else padding_source, x=x, w=w, product=x * w)


def make_step(
    spec: ConvSpec, g: Gathered, exact: bool, y: np.ndarray | None, operands: tuple[np.ndarray, np.ndarray]
) -> Step:
    """The products, sum, bias and value of one output element, beside the engine's value
    (from the whole output ``y``, or computed for this element alone from ``operands``,
    the (N, C, L) input and the weight)."""
    complex_data = any(a.dtype.kind == "c" for a in operands)
    n, o, t = g.key
    c0, c1 = g.channels
    terms = [_term(spec, g, ci, m, exact, complex_data) for ci in range(c1 - c0) for m in range(len(g.kernel_index))]
    total = _sum([term.product for term in terms], exact) if terms else _zero(exact, complex_data)
    bias = None if g.bn is None else _pick(exact, g.be, g.bn, (0,))
    engine = (y if y.ndim == 3 else y[None])[n, o, t] if y is not None else engine_element(spec, g, *operands)
    return Step(
        batch=n, out_channel=o, out_index=t, group=o // spec.out_per_group, in_channels=tuple(range(c0, c1)),
        window_start=t if spec.transposed else t * spec.stride, terms=tuple(terms), total=total, bias=bias,
        value=total + bias if bias is not None else total, engine_value=_number(engine, False),
    )


def engine_element(spec: ConvSpec, g: Gathered, x3: np.ndarray, w: np.ndarray) -> Any:
    """One output element by the engine, from the values it reads only."""
    if not spec.transposed:
        # the padded window (already gathered: dilation's gaps removed), stride 1, padding 0
        return conv1d(g.xn[None].astype(w.dtype, copy=False), w[g.key[1] : g.key[1] + 1], g.bn)[0, 0, 0]
    n, o, t = g.key
    if len(g.input_index) == 0:
        return np.zeros((), dtype=w.dtype) + (g.bn[0] if g.bn is not None else 0)
    lo, hi = int(g.input_index.min()), int(g.input_index.max()) + 1
    c0, c1 = g.channels
    local = o % spec.out_per_group
    window = np.array(x3[n : n + 1, c0:c1, lo:hi])
    y = conv_transpose1d(window, w[c0:c1, local : local + 1], g.bn, spec.stride, 0, 0, 1, spec.dilation)
    return y[0, 0, t + spec.padding_int - lo * spec.stride]


# --------------------------------------------------------------------------- reach


def reach(spec: ConvSpec) -> tuple[tuple[int, ...], shapes.UnreadSamples | None]:
    """(unreached input samples, their split into gaps and dropped tail): the samples no
    output depends on (read through a reflect/replicate/circular padding counts as read; see
    :class:`convtrace.shapes.UnreadSamples`). ConvTranspose1d: the samples all of whose taps
    land on cropped positions, and no split. Too long an input: ``((), None)``."""
    if spec.transposed:
        if spec.length * spec.kernel_size > REACH_LIMIT:
            return (), None
        return shapes.transposed_unreached(
            spec.length, spec.kernel_size, spec.stride, spec.padding_int, spec.dilation, spec.out_length
        ), None
    split = shapes.unread_samples_of(
        spec.length, spec.pad_left, spec.pad_right, spec.kernel_size, spec.stride, spec.dilation,
        spec.out_length, spec.padding_mode.value,
    )  # fmt: skip
    if split.unread is None:
        return (), None
    return split.unread, split


# --------------------------------------------------------------------------- PyTorch's slice


@dataclass(frozen=True)
class ElementSlice:
    """The minimal input slice ``x[n, c0:c1, lo:hi]`` from which PyTorch computes one output
    element: Conv1d pads it by ``pad`` in ``mode`` (``mode`` None: no slice plus ``F.pad``
    rebuilds the window, so the gathered window is used); ConvTranspose1d's element is the
    slice output at ``local_index``."""

    lo: int
    hi: int
    pad: tuple[int, int] = (0, 0)
    mode: str | None = None
    local_index: int = 0


def element_slice(spec: ConvSpec, step: Step) -> ElementSlice | None:
    """The slice for ``step`` (None: a transposed element no tap reaches, the bias alone)."""
    if spec.transposed:
        indices = [t.input_index for t in step.terms if t.input_index is not None]
        if not indices:
            return None
        lo, hi = min(indices), max(indices) + 1
        return ElementSlice(lo=lo, hi=hi, local_index=step.out_index + spec.padding_int - lo * spec.stride)
    return _conv_slice(spec, step)


def _conv_slice(spec: ConvSpec, step: Step) -> ElementSlice:
    terms = [t for t in step.terms if t.in_channel == step.in_channels[0]]
    positions = np.array([t.padded_index for t in terms], dtype=np.int64)
    sources = np.array([-1 if t.input_index is None else t.input_index for t in terms], dtype=np.int64)
    first, last = int(positions[0]), int(positions[-1])
    real = sources[sources >= 0]
    lo = min(int(real.min()) if real.size else 0, max(0, first - spec.pad_left))
    hi = max(int(real.max()) + 1 if real.size else 1, min(spec.length, last - spec.pad_left + 1))
    a = max(0, lo - (first - spec.pad_left))
    b = max(0, (last - spec.pad_left) - (hi - 1))
    offset = first - spec.pad_left - (lo - a)
    mode = "constant" if spec.padding_mode is PaddingMode.ZEROS else spec.padding_mode.value
    width = hi - lo
    gathered = ElementSlice(lo=lo, hi=hi)
    if offset != 0 or (mode == "reflect" and (a >= width or b >= width)) or (mode == "circular" and (a > width or b > width)):
        return gathered
    rebuilt = pad_source(width, a, b, mode)
    got = np.where(rebuilt >= 0, rebuilt + lo, -1)[positions - first]
    if not np.array_equal(got, sources):
        return gathered
    return ElementSlice(lo=lo, hi=hi, pad=(a, b), mode=mode)


# --------------------------------------------------------------------------- pools
#
# The same window model: a pool's step reads the taps of :meth:`PoolSpec.window` (each with
# its TapKind) and reduces them by max, mean or p-norm; max_unpool1d's step gathers the input
# values whose index lands on its output (a scatter, read backwards).


def _neutral(reduction: Reduction, exact: bool) -> Any:
    """What a padding or overhang tap contributes: -inf to a max, 0 to a sum."""
    if reduction is Reduction.MAX:
        return float("-inf")
    return Fraction(0) if exact else 0.0


def _pool_term(
    spec: PoolSpec, position: int, kind: TapKind, value: Any, reduction: Reduction, exact: bool, j: int
) -> Term:
    """One tap of a pooling window: the value read and its contribution to the reduction."""
    real = kind is TapKind.REAL
    x = value if real else _neutral(reduction, exact)
    if reduction is Reduction.PNORM and spec.norm_type is not None and math.isinf(spec.norm_type):
        contribution = abs(x) if real else _neutral(reduction, exact)  # max_pool1d(|x|)
    elif reduction is Reduction.PNORM:
        contribution = _power(x, spec.norm_type, exact) if real else _neutral(reduction, exact)
    else:
        contribution = x
    if real:
        source = Source.INPUT
    elif kind is TapKind.OVERHANG:
        source = Source.NONE
    else:
        source = Source.NEG_INF if reduction is Reduction.MAX else Source.ZERO
    padded = position + (0 if spec.adaptive else spec.padding)
    return Term(in_channel=0, kernel_index=j, input_index=position if real else None, padded_index=padded,
                source=source, x=x, w=Fraction(1) if exact else 1.0, product=contribution, tap=kind)


def _power(x: Any, p: float | None, exact: bool) -> Any:
    """``x ** p`` as PyTorch's ``pow`` (no abs: a negative x with a non-integral p is NaN)."""
    assert p is not None
    if exact and isinstance(x, Fraction) and float(p).is_integer() and (x != 0 or p > 0):
        return x ** int(p)
    base, exponent = float(x), float(p)
    if base < 0 and not exponent.is_integer():
        return float("nan")
    try:
        return base**exponent
    except ZeroDivisionError:
        return float("inf")
    except OverflowError:
        return float("inf")


def pnorm_root(scaled: Any, p: float) -> Any:
    """PyTorch's last step of lp_pool1d: ``scaled ** (1/p)`` (NaN for a negative ``scaled``
    unless ``1/p`` is an integer: p=1 keeps the signed sum).

    >>> pnorm_root(Fraction(-3), 1), pnorm_root(4.0, 2), pnorm_root(-8.0, 3)
    (Fraction(-3, 1), 2.0, nan)
    """
    exponent = 1.0 / float(p)
    if exponent.is_integer():
        e = int(exponent)
        if isinstance(scaled, Fraction) and (scaled != 0 or e > 0):
            return scaled**e
        return _power(scaled, e, False)
    return _power(scaled, exponent, False)


def max_winner(values: list[Any]) -> int | None:
    """The term PyTorch's max loop keeps: ``val > best or isnan(val)`` from -inf, starting at
    the first value (ties: the first index; a NaN wins, and a later NaN replaces it).

    >>> max_winner([1.0, 3.0, 3.0]), max_winner([1.0, float("nan"), 5.0]), max_winner([])
    (1, 1, None)
    """
    if not values:
        return None
    best: Any = float("-inf")
    winner = 0
    for i, v in enumerate(values):
        if _is_nan(v) or v > best:
            best, winner = v, i
    return winner


def _is_nan(v: Any) -> bool:
    return isinstance(v, float) and math.isnan(v)


def mean_of(total: Any, divisor: int, truncated: bool) -> Any:
    """``total / divisor``; ``truncated`` (integer input): PyTorch's integer division, toward zero.

    >>> mean_of(Fraction(-5), 2, True), mean_of(Fraction(-5), 2, False)
    (Fraction(-2, 1), Fraction(-5, 2))
    """
    if truncated:
        return Fraction(int(Fraction(total) / divisor))
    return total / divisor


def pool_reduction(op: str) -> Reduction:
    """The reduction of a pooling op.

    >>> [str(pool_reduction(op)) for op in ("max_pool1d", "adaptive_avg_pool1d", "lp_pool1d", "max_unpool1d")]
    ['max', 'mean', 'pnorm', 'scatter']
    """
    if op in ("max_pool1d", "adaptive_max_pool1d"):
        return Reduction.MAX
    if op in ("avg_pool1d", "adaptive_avg_pool1d"):
        return Reduction.MEAN
    if op == "lp_pool1d":
        return Reduction.PNORM
    return Reduction.SCATTER


def _row(x3: np.ndarray, x_exact: np.ndarray | None, n: int, c: int, exact: bool, positions: list[int]) -> list[Any]:
    source = x_exact if (exact and x_exact is not None) else x3
    return [_number(source[n, c, p], exact) for p in positions]


def pool_step(
    spec: PoolSpec, key: tuple[int, int, int], data: tuple[np.ndarray, np.ndarray | None],
    exact: bool, engine: Any, indices: np.ndarray | None = None,
) -> Step:
    """The step of pool output ``key = (n, c, t)``: its window's taps (each with its
    :class:`TapKind`), the reduction with its numbers (:class:`PoolDetail`) and the engine's
    value ``engine`` beside it. ``data`` is the (N, C, L) input and its exact values (or
    None); ``indices`` is max_unpool1d's (N, C, L) indices."""
    n, c, t = key
    x3, x_exact = data
    reduction = pool_reduction(spec.op)
    if reduction is Reduction.SCATTER:
        assert indices is not None
        return _unpool_step(spec, key, data, exact, engine, indices)
    window = spec.window(t)
    real = [p for p, kind in zip(window.positions, window.kinds) if kind is TapKind.REAL]
    values = dict(zip(real, _row(x3, x_exact, n, c, exact, real)))
    terms = tuple(
        _pool_term(spec, p, kind, values.get(p), reduction, exact, j)
        for j, (p, kind) in enumerate(zip(window.positions, window.kinds))
    )
    counts = {kind: window.count(kind) for kind in TapKind}
    start = window.positions[0] if window.positions else 0
    end = window.positions[-1] + 1 if window.positions else start
    base = PoolDetail(
        padded_start=start + (0 if spec.adaptive else spec.padding), start=start, end=end,
        real=counts[TapKind.REAL], left_pad=counts[TapKind.LEFT_PAD], right_pad=counts[TapKind.RIGHT_PAD],
        overhang=counts[TapKind.OVERHANG],
        length=spec.length if spec.adaptive else None, output_size=spec.out_length if spec.adaptive else None,
    )
    if reduction is Reduction.MAX:
        total, detail = _max_detail(terms, base)
        value = total
    elif reduction is Reduction.PNORM and spec.norm_type is not None and math.isinf(spec.norm_type):
        total, detail = _infinite_norm(terms, base, spec.norm_type)
        value = total
    else:
        total = _sum([term.product for term in terms], exact)
        divisor = len(window.positions) if spec.adaptive else int(spec.divisors()[t])
        truncated = spec.dtype.kind in "iu"  # PyTorch's integer division: toward zero
        base = replace(base, divisor=divisor, truncated=truncated)
        if reduction is Reduction.MEAN:
            detail = replace(base, count_include_pad=None if spec.adaptive else spec.count_include_pad)
            value = mean_of(total, divisor, truncated)
        else:
            assert spec.norm_type is not None
            scale = Fraction(spec.kernel_size, divisor)
            if truncated:
                scaled: Any = mean_of(total, divisor, True) * spec.kernel_size
            else:
                scaled = total * scale if exact and isinstance(total, Fraction) else float(total) * float(scale)
            detail = replace(base, norm_type=spec.norm_type, scale=scale if exact else float(scale), scaled=scaled)
            value = pnorm_root(scaled, spec.norm_type)
    return Step(
        batch=n, out_channel=c, out_index=t, group=c, in_channels=(c,), window_start=base.padded_start,
        terms=terms, total=total, bias=None, value=value, engine_value=None if engine is None else _number(engine, False),
        reduction=reduction, pool=detail,
    )


def _max_detail(terms: tuple[Term, ...], base: PoolDetail) -> tuple[Any, PoolDetail]:
    real = [i for i, term in enumerate(terms) if term.tap is TapKind.REAL]
    values = [terms[i].x for i in real]
    won = max_winner(values)
    if won is None:
        return float("-inf"), base
    best = values[won]
    nan = any(_is_nan(v) for v in values)
    ties = () if nan else tuple(real[i] for i, v in enumerate(values) if i != won and v == best)
    winner = real[won]
    return best, replace(base, winner=winner, winner_index=terms[winner].input_index, ties=ties, nan=nan)


def _kept(values: list[Any], engine: Any) -> int | None:
    """Which of the values scattered to one position stays: the engine's (the last one it
    finds equal to its output), else the last written."""
    if not values:
        return None
    if engine is not None:
        equal = [i for i, v in enumerate(values) if v == engine or (_is_nan(float(v)) and _is_nan(float(engine)))]
        if equal:
            return equal[-1]
    return len(values) - 1


def _magnitude(x: Any) -> Any:
    """|x| (a Fraction stays exact)."""
    return abs(x)


def _infinite_norm(terms: tuple[Term, ...], base: PoolDetail, p: float) -> tuple[Any, PoolDetail]:
    """lp_pool1d with norm_type ±inf is PyTorch's ``max_pool1d(|x|)`` (−inf: ``−max_pool1d(−|x|)``,
    the smallest |x|): the winner among the real taps' |x| (stored as their contributions)."""
    real = [i for i, term in enumerate(terms) if term.tap is TapKind.REAL]
    sign = 1 if p > 0 else -1
    won = max_winner([sign * _magnitude(terms[i].x) for i in real])
    if won is None:
        return float("nan"), replace(base, norm_type=p)
    winner = real[won]
    value = abs(terms[winner].x)
    return value, replace(base, norm_type=p, winner=winner, winner_index=terms[winner].input_index,
                          nan=_is_nan(float(value)))


def _unpool_step(
    spec: PoolSpec, key: tuple[int, int, int], data: tuple[np.ndarray, np.ndarray | None], exact: bool,
    engine: Any, indices: np.ndarray,
) -> Step:
    """max_unpool1d's output ``key``: the input values whose index is ``t`` (the last one
    written stays), else 0."""
    n, c, t = key
    x3, x_exact = data
    sources = [int(i) for i in np.flatnonzero(np.asarray(indices[n, c]) == t)]
    values = _row(x3, x_exact, n, c, exact, sources)
    terms = tuple(
        Term(in_channel=c, kernel_index=j, input_index=i, padded_index=None, source=Source.INPUT, x=v,
             w=Fraction(1) if exact else 1.0, product=v, tap=TapKind.REAL)
        for j, (i, v) in enumerate(zip(sources, values))
    )
    kept = _kept(values, engine)
    value = values[kept] if kept is not None else (Fraction(0) if exact else 0.0)
    detail = PoolDetail(
        padded_start=t, start=t, end=t + 1, real=len(sources), left_pad=0, right_pad=0, overhang=0,
        winner=kept, winner_index=None if kept is None else sources[kept], sources=tuple(sources),
    )
    return Step(
        batch=n, out_channel=c, out_index=t, group=c, in_channels=(c,), window_start=t, terms=terms, total=value,
        bias=None, value=value, engine_value=None if engine is None else _number(engine, False),
        reduction=Reduction.SCATTER, pool=detail,
    )
