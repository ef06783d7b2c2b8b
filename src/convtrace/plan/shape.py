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
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import shapes
from ..errors import ConvtraceError
from .layers import Layer
from .report import Finding, to_jsonable

__all__ = ["ShapeReport", "shape", "input_lengths_for", "MAX_LENGTH"]

#: longest input length accepted (lengths are plain integers: no arrays are made)
MAX_LENGTH = 1 << 40
#: inputs longer than this get no list of unread samples (the dropped tail is still exact)
UNREACHED_LIMIT = 1 << 20


@dataclass(frozen=True)
class ShapeReport:
    """One layer applied to one length.

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

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (``layer`` as its fields)."""
        doc: dict[str, Any] = to_jsonable(self)
        return doc


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
    unread = unreached(layer, n, out) if n <= UNREACHED_LIMIT else None
    tail = dropped_tail(layer, n, out)
    wanted = None if want is None else check_length(want, "want")
    inverse: tuple[tuple[int, int], ...] = ()
    with_size: tuple[tuple[int, int], ...] = ()
    if wanted is not None:
        inverse = input_lengths_for(layer, wanted)
        if layer.kind == "convT":
            with_size = _convT_sizes(layer, wanted)
    findings = _findings(layer, n, tail, unread)
    return ShapeReport(
        layer, n, out, formula, substituted, size_range, tail, (unread or ())[:64],
        None if unread is None else len(unread), wanted, inverse,
        with_size, findings,
    )  # fmt: skip


def formula_of(layer: Layer, n: int, out: int) -> tuple[str, str]:
    """(general formula, the same with the values substituted ``= out``)."""
    k, s, d = layer.kernel_size, layer.stride, layer.dilation
    if layer.kind == "pad":
        return "L_out = L_in + left + right", f"{n} + {layer.pad_left} + {layer.pad_right} = {out}"
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
    general = (
        "L_out = ceil((L_in + 2*padding - dilation*(kernel_size - 1) - 1) / stride) + 1, minus 1 if the "
        "last window would start past L_in + padding"
    )
    text = f"ceil(({body}) / {s}) + 1 = {raw}"
    if raw != out:
        text += f"; ({raw} - 1)*{s} >= {n} + {left}, so {out}"
    return general, text


def unreached(layer: Layer, n: int, out: int) -> tuple[int, ...]:
    """Input indices no output reads (pads: the cropped samples)."""
    if layer.kind == "pad":
        lo, hi = max(0, -layer.pad_left), n - max(0, -layer.pad_right)
        return tuple(i for i in range(n) if not lo <= i < hi)
    if layer.kind == "convT":
        return ()  # every input sample of a transposed conv meets every tap
    if layer.kind == "conv":
        left, right = layer.pads
        unread = shapes.unreached_samples(n + left + right, layer.kernel_size, layer.stride, 0, layer.dilation)
        return tuple(i - left for i in unread if left <= i < left + n)
    left = layer.pads[0]
    reached = [False] * n
    for t in range(out):
        for j in range(layer.kernel_size):
            i = t * layer.stride - left + j * layer.dilation
            if 0 <= i < n:
                reached[i] = True
    return tuple(i for i in range(n) if not reached[i])


def dropped_tail(layer: Layer, n: int, out: int) -> int:
    """Trailing input samples no window reads (pads: the samples a negative right pad
    crops; transposed layers drop nothing). Scans back from the last window only."""
    if layer.kind == "pad":
        return min(n, max(0, -layer.pad_right))
    if layer.kind == "convT" or out < 1:
        return 0
    left, s, d = layer.pads[0], layer.stride, layer.dilation
    last_read = -1
    t = out - 1
    while t >= 0 and t * s - left + layer.span - 1 > last_read:
        start = t * s - left
        # the last tap of window t inside the input
        j = min(layer.kernel_size - 1, (n - 1 - start) // d) if n - 1 >= start else -1
        if j >= 0 and start + j * d >= 0:
            last_read = max(last_read, start + j * d)
        t -= 1
    return n - 1 - last_read


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


def _findings(layer: Layer, n: int, tail: int, unread: tuple[int, ...] | None) -> tuple[Finding, ...]:
    out: list[Finding] = []
    if tail and layer.kind != "pad":
        out.append(Finding("W101", layer.name, {"samples": tail, "length": n}))
    if unread is not None and len(unread) > tail and layer.kind != "pad":
        out.append(Finding("W102", layer.name, {"samples": len(unread) - tail, "stride": layer.stride, "span": layer.span}))
    if layer.kind == "convT" and layer.kernel_size % layer.stride:
        out.append(Finding("W103", layer.name, {"kernel_size": layer.kernel_size, "stride": layer.stride}))
    if layer.kind == "conv" and layer.padding == "same" and (layer.dilation * (layer.kernel_size - 1)) % 2:
        left, right = layer.pads
        out.append(Finding("W105", layer.name, {"kernel_size": layer.kernel_size, "left": left, "right": right}))
    near = layer.reflect_near_limit(n)
    if near is not None:
        out.append(Finding("W106", layer.name, {"padding": near, "length": n}))
    return tuple(out)
