"""``convtrace shape``: one layer's output length, with the formula and the user's values
substituted; ConvTranspose1d's valid ``output_size`` values; the input samples no window
reaches (the dropped tail); and the inverse — which input lengths give a wanted output length.

>>> r = shape(Layer("conv", kernel_size=10, stride=5), 16003)
>>> r.out_length, r.substituted
(3199, '(16003 + 0 + 0 - 1*(10 - 1) - 1) // 5 + 1 = 3199')
>>> r.dropped_tail, r.unreached
(3, (16000, 16001, 16002))
>>> shape(Layer("conv", kernel_size=10, stride=5), 16000, want=100).inverse
((505, 509),)
>>> shape(Layer("convT", kernel_size=16, stride=8, padding=4), 200).output_size_range
(1600, 1607)

Pools: ceil_mode's rule (the last window must start inside the input or the left padding)
with the numbers, an adaptive pool's windows, MaxUnpool1d's ``output_size`` range:

>>> shape(Layer("maxpool", kernel_size=2, stride=3, padding=1, ceil_mode=True), 2).ceil_rule
CeilRule(window=1, start=2, length=2, padding=1, dropped=True)
>>> shape(Layer("adaptiveavgpool", output_size=3), 5).windows
((0, 2), (1, 4), (3, 5))
>>> shape(Layer("maxunpool", kernel_size=2), 5).output_size_range
(9, 11)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import shapes
from ..errors import ConvtraceError
from .layers import SLIDING_POOLS, Layer
from .report import Finding, Shown, to_jsonable

__all__ = ["ShapeReport", "CeilRule", "shape", "input_lengths_for", "MAX_LENGTH", "WINDOWS_SHOWN"]

#: longest input length accepted (lengths are plain integers: no arrays are made)
MAX_LENGTH = 1 << 40
#: inputs longer than this get no list of unread samples (the dropped tail is still exact)
UNREACHED_LIMIT = 1 << 20
#: an adaptive pool's windows listed (the first ones and the last one)
WINDOWS_SHOWN = 8


@dataclass(frozen=True)
class CeilRule:
    """ceil_mode's last window (a sliding pool): ceil adds window ``window`` (counting from
    0), which starts at input index ``start`` (``window*stride - padding``); it is kept only
    if it starts inside the input or the left padding (``start < length``), else
    ``dropped``."""

    window: int
    start: int
    length: int
    padding: int
    dropped: bool


@dataclass(frozen=True)
class ShapeReport(Shown):
    """One layer applied to one length (``print`` it for the command line's text).

    ``formula`` is the general rule, ``substituted`` the same with the numbers filled in.
    ``output_size_range`` (ConvTranspose1d only) is the inclusive range of ``output_size``
    values PyTorch accepts. ``dropped_tail`` counts trailing input samples no window reads,
    ``unreached`` all unread samples (at most 64 listed). ``inverse`` lists inclusive
    input-length ranges giving ``want`` (for ConvTranspose1d also the lengths reaching it
    only through ``output_size``: ``inverse_with_output_size``).
    """

    layer: Layer
    in_length: int
    out_length: int
    formula: str
    substituted: str
    output_size_range: tuple[int, int] | None
    dropped_tail: int
    unreached: tuple[int, ...]
    unreached_count: int | None
    want: int | None
    inverse: tuple[tuple[int, int], ...]
    inverse_with_output_size: tuple[tuple[int, int], ...]
    warnings: tuple[Finding, ...]
    ceil_rule: CeilRule | None = None
    windows: tuple[tuple[int, int], ...] = ()
    window_count: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (``layer`` as its fields)."""
        doc: dict[str, Any] = to_jsonable(self)
        return doc

    def __repr__(self) -> str:
        return f"<ShapeReport {self.layer.describe()}: {self.in_length} -> {self.out_length} samples>"


def check_length(length: Any, name: str = "length") -> int:
    """A whole number of samples, 0 .. :data:`MAX_LENGTH`."""
    from ..params import parse_int_param

    n = parse_int_param(name, length)
    if not 0 <= n <= MAX_LENGTH:
        raise ConvtraceError(name, n, f"{name} must be between 0 and {MAX_LENGTH}")
    return n


def shape(layer: Layer, length: int, want: int | None = None) -> ShapeReport:
    """Apply ``layer`` to ``length`` samples (raises PyTorch's error where PyTorch would)."""
    n = check_length(length)
    out = layer.out_length(n)
    formula, substituted = formula_of(layer, n, out)
    size_range = None
    if layer.kind == "convT":
        size_range = shapes.conv_transpose1d_output_size_range(
            n, layer.kernel_size, layer.stride, int(layer.padding), layer.dilation
        )
    elif layer.kind == "maxunpool":  # PyTorch accepts output_size strictly within stride of the default
        default = shapes.max_unpool1d_length_of(n, layer.kernel_size, layer.stride, int(layer.padding))
        size_range = (max(0, default - layer.stride + 1), default + layer.stride - 1)
    found = unread(layer, n, out)
    wanted = None if want is None else check_length(want, "want")
    inverse: tuple[tuple[int, int], ...] = ()
    with_size: tuple[tuple[int, int], ...] = ()
    if wanted is not None and layer.kind == "maxunpool" and layer.output_size is not None:
        inverse = _unpool_lengths(layer, wanted)
    elif wanted is not None:
        inverse = input_lengths_for(layer, wanted)
        if layer.kind == "convT":
            with_size = _convT_sizes(layer, wanted)
    listed = found.unread
    return ShapeReport(
        layer, n, out, formula, substituted, size_range, found.tail, (listed or ())[:64],
        None if listed is None else len(listed), wanted, inverse,
        with_size, unread_findings(layer, layer.name, n, found) + _findings(layer, n),
        ceil_rule_of(layer, n), *_windows(layer, n, out),
    )  # fmt: skip


def ceil_rule_of(layer: Layer, n: int) -> CeilRule | None:
    """ceil_mode's last window of a sliding pool on ``n`` samples: None without ceil_mode or
    where ceil adds no window (the floor length is the ceil length before the rule).

    >>> ceil_rule_of(Layer("avgpool", kernel_size=3, stride=2, padding=1, ceil_mode=True), 6)
    CeilRule(window=3, start=5, length=6, padding=1, dropped=False)
    """
    if layer.kind not in SLIDING_POOLS or not layer.ceil_mode:
        return None
    left = layer.pads[0]
    floor = shapes.pool1d_length_of(n, layer.kernel_size, layer.stride, left, layer.dilation, False)
    raw = (n + 2 * left - layer.dilation * (layer.kernel_size - 1) - 1 + layer.stride - 1) // layer.stride + 1
    if raw == floor or raw < 1:
        return None
    start = (raw - 1) * layer.stride - left
    return CeilRule(raw - 1, start, n, left, start >= n)


def _windows(layer: Layer, n: int, out: int) -> tuple[tuple[tuple[int, int], ...], int]:
    """An adaptive pool's windows ``[start, end)`` (the first :data:`WINDOWS_SHOWN` - 1 and
    the last) and how many there are."""
    if not layer.length_dependent or out < 1 or n < 1:
        return (), 0
    shown = list(range(min(out, WINDOWS_SHOWN - 1))) + ([out - 1] if out >= WINDOWS_SHOWN else [])
    return tuple((w.positions[0], w.positions[-1] + 1) for w in (shapes.adaptive_window(i, n, out) for i in shown)), out


def _unpool_lengths(layer: Layer, want: int) -> tuple[tuple[int, int], ...]:
    """Input lengths for which MaxUnpool1d with a fixed ``output_size`` gives ``want``
    (its output_size must be within stride of the default length: at most two lengths)."""
    if want != layer.output_size:
        return ()
    k, s, p = layer.kernel_size, layer.stride, int(layer.padding)
    near = max(1, (want + 2 * p - k) // s + 1)
    found = [m for m in range(max(1, near - 2), near + 3) if layer.try_out_length(m) == want]
    return ((found[0], found[-1]),) if found else ()


def formula_of(layer: Layer, n: int, out: int) -> tuple[str, str]:
    """(general formula, the same with the values substituted ``= out``)."""
    k, s, d = layer.kernel_size, layer.stride, layer.dilation
    if layer.kind == "pad":
        return "L_out = L_in + left + right", f"{n} + {layer.pad_left} + {layer.pad_right} = {out}"
    if layer.length_dependent:
        return "L_out = output_size", f"{layer.output_size} = {out}"
    if layer.kind == "maxunpool":
        p = int(layer.padding)
        default = shapes.max_unpool1d_length_of(n, k, s, p)
        text = f"({n} - 1)*{s} - 2*{p} + {k} = {default}"
        general = "L_out = (L_in - 1)*stride - 2*padding + kernel_size"
        if layer.output_size is not None:  # the default, then the output_size given (within stride of it)
            return general, f"{text}; output_size {out}"
        return general, text
    left, right = layer.pads
    if layer.kind == "convT":
        p, op = int(layer.padding), layer.output_padding
        return (
            "L_out = (L_in - 1)*stride - 2*padding + dilation*(kernel_size - 1) + output_padding + 1",
            f"({n} - 1)*{s} - 2*{p} + {d}*({k} - 1) + {op} + 1 = {out}",
        )
    body = f"{n} + {left} + {right} - {d}*({k} - 1) - 1"
    if layer.kind == "conv":
        return (
            "L_out = (L_in + pad_left + pad_right - dilation*(kernel_size - 1) - 1) // stride + 1",
            f"({body}) // {s} + 1 = {out}",
        )
    if not layer.ceil_mode:
        return (
            "L_out = (L_in + 2*padding - dilation*(kernel_size - 1) - 1) // stride + 1",
            f"({body}) // {s} + 1 = {out}",
        )
    raw = (n + left + right - d * (k - 1) - 1 + s - 1) // s + 1
    general = "L_out = ceil((L_in + 2*padding - dilation*(kernel_size - 1) - 1) / stride) + 1"  # the rule: ceil_rule
    text = f"ceil(({body}) / {s}) + 1 = {raw}"
    if raw != out:
        text += f"; ({raw} - 1)*{s} >= {n} + {left}, so {out}"
    return general, text


def unread(layer: Layer, n: int, out: int) -> shapes.UnreadSamples:
    """The input samples no output of ``layer`` reads, as gaps and a dropped tail (see
    :class:`convtrace.shapes.UnreadSamples`; pads: the cropped samples; transposed layers
    read every sample, as far as this goes). The gaps are listed up to
    :data:`UNREACHED_LIMIT` samples; the tail is exact at any length.

    >>> u = unread(Layer("conv", kernel_size=10, stride=5), 16003, 3199)
    >>> u.gaps, u.tail
    ((), 3)
    """
    if layer.kind == "pad":
        return shapes.cropped_samples(n, layer.pad_left, layer.pad_right)
    if layer.scatters or layer.length_dependent or out < 1:  # every sample is scattered / in a window
        return shapes.UnreadSamples(n, n - 1 if out >= 1 or layer.scatters else -1, ())
    left, right = layer.pads
    zeros = (0, 0)
    mode = layer.padding_mode if layer.kind == "conv" else "zeros"  # a pool's padding reads nothing
    if mode not in ("zeros", "constant"):  # the explicit F.pad (zeros) comes first, then the mode's
        zeros = (layer.pad_left, layer.pad_right)
        left, right = left - layer.pad_left, right - layer.pad_right
    found = shapes.unread_samples_of(n, left, right, layer.kernel_size, layer.stride, layer.dilation, out, mode, zeros)
    if n > UNREACHED_LIMIT and found.gaps is not None:
        return shapes.UnreadSamples(n, found.last_read, None)
    return found


def input_lengths_for(layer: Layer, want: int) -> tuple[tuple[int, int], ...]:
    """Inclusive ranges of input lengths whose output length is ``want`` (output lengths
    never decrease with the input length, so this is one range or none).

    >>> input_lengths_for(Layer("conv", kernel_size=4, stride=2, padding=1), 8)
    ((16, 17),)
    >>> input_lengths_for(Layer("convT", kernel_size=4, stride=2, padding=1), 9)
    ()
    """
    target = check_length(want, "want")
    first = _first_at_least(layer.try_out_length, target)
    if first is None or layer.try_out_length(first) != target:
        return ()
    after = _first_at_least(layer.try_out_length, target + 1)
    last = (after - 1) if after is not None else MAX_LENGTH
    return ((first, last),)


def _first_at_least(f: Callable[[int], int | None], target: int) -> int | None:
    """Smallest n in [0, MAX_LENGTH] with f(n) >= target (f non-decreasing; None = error,
    which only happens for short inputs)."""
    lo, hi = 0, MAX_LENGTH
    top = f(hi)
    if top is None or top < target:
        return None
    while lo < hi:
        mid = (lo + hi) // 2
        value = f(mid)
        if value is not None and value >= target:
            hi = mid
        else:
            lo = mid + 1
    return lo


def _convT_sizes(layer: Layer, want: int) -> tuple[tuple[int, int], ...]:
    """Input lengths for which ``want`` is a valid ``output_size`` of a ConvTranspose1d."""
    base = Layer("convT", layer.kernel_size, layer.stride, layer.padding, layer.dilation, layer.groups)

    def top(n: int) -> int | None:
        low = base.try_out_length(n)
        return None if low is None else low + layer.stride - 1

    first = _first_at_least(top, want)
    if first is None:
        return ()
    low = base.try_out_length(first)
    if low is None or low > want:
        return ()
    return ((first, first),)


def unread_findings(layer: Layer, name: str, n: int, found: shapes.UnreadSamples) -> tuple[Finding, ...]:
    """W101 (a dropped tail) and W102 (gaps, counted by where they lie) for a conv or pool."""
    if layer.kind not in ("conv",) + SLIDING_POOLS:
        return ()
    out: list[Finding] = []
    if found.tail:
        out.append(Finding("W101", name, {"samples": found.tail, "length": n, "last_read": found.last_read}))
    if found.gaps:
        out.append(Finding("W102", name, {
            "samples": len(found.gaps), "between_taps": found.between_taps, "between_windows": found.between_windows,
            "after_windows": found.after_windows, "stride": layer.stride, "dilation": layer.dilation, "span": layer.span,
        }))  # fmt: skip
    return tuple(out)


def _findings(layer: Layer, n: int) -> tuple[Finding, ...]:
    out: list[Finding] = []
    if layer.kind == "convT" and layer.kernel_size % layer.stride:
        out.append(Finding("W103", layer.name, {"kernel_size": layer.kernel_size, "stride": layer.stride}))
    if layer.kind == "conv" and layer.padding == "same" and (layer.dilation * (layer.kernel_size - 1)) % 2:
        left, right = layer.pads
        out.append(Finding("W105", layer.name, {"kernel_size": layer.kernel_size, "left": left, "right": right}))
    near = layer.reflect_near_limit(n)
    if near is not None:
        out.append(Finding("W106", layer.name, {"padding": near, "length": n}))
    return tuple(out)
