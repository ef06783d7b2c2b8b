"""One layer of a 1-D conv net as plain numbers: its output length, the input indices each
output index depends on, its multiply-adds and parameters.

A :class:`Layer` is one of ``conv`` (Conv1d), ``convT`` (ConvTranspose1d), a pool —
``maxpool`` (MaxPool1d), ``avgpool`` (AvgPool1d), ``lppool`` (LPPool1d), ``adaptiveavgpool``
(AdaptiveAvgPool1d), ``adaptivemaxpool`` (AdaptiveMaxPool1d), ``maxunpool`` (MaxUnpool1d) — or
``pad`` (``F.pad`` on the time axis; negative amounts crop, as in PyTorch). A conv may carry
extra explicit padding (``pad_left``, ``pad_right``): an ``F.pad`` applied just before it,
e.g. causal padding.

All length arithmetic goes through :mod:`convtrace.shapes`, so errors are PyTorch's.

>>> conv = Layer("conv", kernel_size=4, stride=2, padding=1)
>>> conv.out_length(16), conv.window(3)
(8, (5, 8))
>>> up = Layer("convT", kernel_size=4, stride=2, padding=1)
>>> up.out_length(8), up.window(5)
(16, (2, 3))
>>> Layer("maxpool", kernel_size=2, ceil_mode=True).out_length(5)
3

An adaptive pool's windows ``[floor(i*L/O), ceil((i+1)*L/O))`` depend on the input length
``L``: it has no fixed receptive field or hop (:attr:`Layer.length_dependent`), and its
dependence needs ``L``. MaxUnpool1d scatters each input sample into its pooling window
(where its index points): an output may depend on the inputs whose window covers it.

>>> adaptive = Layer("adaptiveavgpool", output_size=3)
>>> adaptive.out_length(5), adaptive.window(1, in_length=5), adaptive.receptive_field()
(3, (1, 3), None)
>>> unpool = Layer("maxunpool", kernel_size=2)
>>> unpool.out_length(5), unpool.window(7), unpool.hop
(10, (3, 3), Fraction(1, 2))
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Any

from .. import shapes
from ..errors import ConvtraceError, ConvtraceTypeError
from ..params import parse_int_param, parse_padding, same_padding

__all__ = ["Layer", "KINDS", "TORCH_NAMES", "MAX_SIZE", "merge_ranges", "POOLS", "SLIDING_POOLS", "ADAPTIVE_POOLS",
           "SCATTERING", "POOL_OPS"]

#: the layer kinds, and PyTorch's class (or function) for each
TORCH_NAMES = {
    "conv": "Conv1d",
    "convT": "ConvTranspose1d",
    "maxpool": "MaxPool1d",
    "avgpool": "AvgPool1d",
    "lppool": "LPPool1d",
    "adaptiveavgpool": "AdaptiveAvgPool1d",
    "adaptivemaxpool": "AdaptiveMaxPool1d",
    "maxunpool": "MaxUnpool1d",
    "pad": "F.pad",
}
KINDS = tuple(TORCH_NAMES)
#: the pools: a fixed window sliding by ``stride`` (max, avg, lp)
SLIDING_POOLS = ("maxpool", "avgpool", "lppool")
#: the pools whose windows depend on the input length
ADAPTIVE_POOLS = ("adaptiveavgpool", "adaptivemaxpool")
#: every pool (MaxUnpool1d included)
POOLS = SLIDING_POOLS + ADAPTIVE_POOLS + ("maxunpool",)
#: layers that scatter each input sample into several outputs (upsampling by ``stride``)
SCATTERING = ("convT", "maxunpool")
#: the functional name of each pool kind (``params.POOL_OPS``)
POOL_OPS = {"maxpool": "max_pool1d", "avgpool": "avg_pool1d", "lppool": "lp_pool1d",
            "adaptiveavgpool": "adaptive_avg_pool1d", "adaptivemaxpool": "adaptive_max_pool1d",
            "maxunpool": "max_unpool1d"}  # fmt: skip
PAD_MODES = ("zeros", "reflect", "replicate", "circular", "constant")
#: no size parameter may exceed this (lengths are limited separately)
MAX_SIZE = 1 << 20


@dataclass(frozen=True)
class Layer:
    """One layer. ``padding`` is an int, or for ``conv`` also 'same' / 'valid'. ``stride``
    0 means PyTorch's default: ``kernel_size`` for pools, else 1. ``norm_type`` is LPPool1d's
    ``p``; ``output_size`` an adaptive pool's ``O`` (required) or MaxUnpool1d's
    ``output_size`` (optional: the default length otherwise).

    ``out_channels`` None keeps the channel count. ``padding_mode`` is Conv1d's (zeros,
    reflect, replicate, circular) or, for ``pad``, F.pad's mode ('constant' = 'zeros').
    """

    kind: str
    kernel_size: int = 1
    stride: int = 0
    padding: int | str = 0
    dilation: int = 1
    groups: int = 1
    output_padding: int = 0
    out_channels: int | None = None
    ceil_mode: bool = False
    count_include_pad: bool = True
    padding_mode: str = "zeros"
    pad_left: int = 0
    pad_right: int = 0
    bias: bool = True
    name: str = ""
    norm_type: float | None = None
    output_size: int | None = None

    def __post_init__(self) -> None:
        _validate(self)

    # ------------------------------------------------------------------ geometry
    @property
    def span(self) -> int:
        """The dilated kernel: ``dilation*(kernel_size-1) + 1`` (1 for ``pad`` and adaptive pools)."""
        return self.dilation * (self.kernel_size - 1) + 1 if self.kind not in ("pad",) + ADAPTIVE_POOLS else 1

    @property
    def transposed(self) -> bool:
        return self.kind == "convT"

    @property
    def scatters(self) -> bool:
        """ConvTranspose1d or MaxUnpool1d: each input sample goes to several outputs."""
        return self.kind in SCATTERING

    @property
    def length_dependent(self) -> bool:
        """An adaptive pool: its windows, receptive field and hop depend on the input length."""
        return self.kind in ADAPTIVE_POOLS

    @property
    def pads(self) -> tuple[int, int]:
        """(left, right) padding the window sees: explicit F.pad plus the layer's own
        (for ``convT``: the padding cropped from each side of the full output)."""
        if self.kind == "pad":
            return (self.pad_left, self.pad_right)
        if self.kind in ("lppool",) + ADAPTIVE_POOLS:
            return (0, 0)
        if self.padding == "same":
            left, right = same_padding(self.kernel_size, self.dilation)
        elif self.padding == "valid":
            left, right = 0, 0
        else:
            left = right = int(self.padding)
        return (left + self.pad_left, right + self.pad_right)

    @property
    def down(self) -> int:
        """Input samples per output sample (1 for transposed layers, unpooling and pads; an
        adaptive pool has none: see :attr:`length_dependent`)."""
        return 1 if self.kind in SCATTERING + ("pad",) + ADAPTIVE_POOLS else self.stride

    @property
    def up(self) -> int:
        """Output samples per input sample (the upsampling factor; 1 unless transposed or unpooling)."""
        return self.stride if self.kind in SCATTERING else 1

    @property
    def hop(self) -> Fraction:
        """Input samples per output step: ``stride``, or ``1/stride`` for ConvTranspose1d and
        MaxUnpool1d (an adaptive pool's, ``L/O``, depends on the input length: it raises)."""
        if self.length_dependent:
            raise ConvtraceError("kind", self.kind, "an adaptive pool has no fixed hop: it is L/O for an input of L samples")
        return Fraction(self.down, self.up)

    def hop_at(self, in_length: int) -> Fraction:
        """:attr:`hop` on an input of ``in_length`` samples: an adaptive pool's is ``L/O``
        (1 where it has no windows).

        >>> Layer("adaptiveavgpool", output_size=4).hop_at(10)
        Fraction(5, 2)
        """
        if self.length_dependent:
            size = self.output_size or 0
            return Fraction(in_length, size) if in_length > 0 and size > 0 else Fraction(1)
        return self.hop

    # ------------------------------------------------------------------ lengths
    def out_length(self, length: int) -> int:
        """The output length for an input of ``length`` samples (PyTorch's errors)."""
        n = int(length)
        if self.kind == "pad":
            return _pad_length(n, self.pad_left, self.pad_right, self.padding_mode)
        if self.kind == "conv":
            n = _explicit_pad(n, self)
            mode_pad = self.pads[0] - self.pad_left
            if self.padding_mode != "zeros" and mode_pad > 0:
                _pad_length(n, mode_pad, self.pads[1] - self.pad_right, self.padding_mode)
            pad: Any = self.padding if self.padding in ("same", "valid") else int(self.padding)
            return shapes.conv1d_output_length(n, self.kernel_size, self.stride, pad, self.dilation)
        if self.kind == "convT":
            return shapes.conv_transpose1d_output_length(
                n, self.kernel_size, self.stride, int(self.padding), self.output_padding, self.dilation
            )
        if self.kind in ("maxpool", "avgpool"):
            return shapes.pool1d_output_length(
                n, self.kernel_size, self.stride, int(self.padding), self.dilation, self.ceil_mode,
                kind="max" if self.kind == "maxpool" else "avg",
            )  # fmt: skip
        return _pool_length(self, n)

    def try_out_length(self, length: int) -> int | None:
        """:meth:`out_length`, or None where PyTorch raises."""
        try:
            return self.out_length(length)
        except ConvtraceError:
            return None

    # ------------------------------------------------------------------ dependence
    def window(self, t: int, in_length: int | None = None) -> tuple[int, int] | None:
        """First and last input index output ``t`` depends on (an infinite input; indices
        may fall in the padding). None if it depends on no input (a transposed layer whose
        kernel misses that output). An adaptive pool needs ``in_length``."""
        return self.window_of_range(t, t, in_length)

    def window_of_range(self, a: int, b: int, in_length: int | None = None) -> tuple[int, int] | None:
        """First and last input index that outputs ``a..b`` together depend on."""
        spans = self.sources([(a, b)], in_length)
        return (spans[0][0], spans[-1][1]) if spans else None

    def sources(self, outputs: list[tuple[int, int]], in_length: int | None = None) -> list[tuple[int, int]]:
        """The input indices that the output index ranges ``outputs`` depend on, exactly, as
        sorted disjoint inclusive ranges (dilation and transposed strides leave holes).

        An adaptive pool's windows need the input length ``in_length`` (``L``): output ``i``
        reads ``[floor(i*L/O), ceil((i+1)*L/O))``. MaxUnpool1d writes input ``i`` where its
        index points, inside its pooling window ``[i*stride - padding, i*stride - padding +
        kernel_size)`` (indices from the MaxPool1d it undoes): an output depends on the
        inputs whose window covers it (the exact one depends on the indices)."""
        found: list[tuple[int, int]] = []
        if self.kind == "pad":
            found = [(a - self.pad_left, b - self.pad_left) for a, b in outputs]
        elif self.length_dependent:
            if in_length is None or self.output_size is None:
                raise ConvtraceError("in_length", in_length, f"{TORCH_NAMES[self.kind]}'s windows depend on the input length: give it")
            o = self.output_size
            for a, b in outputs:  # the windows of a..b touch: one range
                if o > 0 and in_length > 0:
                    found.append(((a * in_length) // o, -((-(b + 1) * in_length) // o) - 1))
        elif not self.scatters:
            left, s, d = self.pads[0], self.stride, self.dilation
            for a, b in outputs:
                if (b - a) * s >= d - 1:  # the taps' ranges touch: one range
                    found.append((a * s - left, b * s - left + self.span - 1))
                else:
                    found += [(a * s - left + j * d, b * s - left + j * d) for j in range(self.kernel_size)]
        else:
            p, s, d = int(self.padding), self.stride, self.dilation  # MaxUnpool1d: dilation 1
            for a, b in outputs:
                if b - a + 1 >= s + d:  # every tap reaches, and neighbouring taps' inputs touch
                    found.append((-((-(a + p - d * (self.kernel_size - 1))) // s), (b + p) // s))
                    continue
                for j in range(self.kernel_size):
                    lo = -((-(a + p - j * d)) // s)  # inputs i with a <= i*s - p + j*d <= b
                    hi = (b + p - j * d) // s
                    if lo <= hi:
                        found.append((lo, hi))
        return merge_ranges(found)

    def receptive_field(self) -> int | None:
        """Input samples (frames, for ConvTranspose1d and MaxUnpool1d) one output sample can
        depend on (None for an adaptive pool: it depends on the input length)."""
        if self.length_dependent:
            return None
        if not self.scatters:
            return self.span
        best = 0
        for t in range(self.stride):
            w = self.window(t)
            if w is not None:
                best = max(best, w[1] - w[0] + 1)
        return best

    # ------------------------------------------------------------------ cost
    def channels_out(self, in_channels: int) -> int:
        """Output channels, given the input's."""
        if self.kind in ("conv", "convT") and self.out_channels is not None:
            return self.out_channels
        return in_channels

    def check_channels(self, in_channels: int) -> None:
        """PyTorch's groups rule: in and out channels divisible by groups."""
        out = self.channels_out(in_channels)
        if self.kind in ("conv", "convT"):
            if in_channels % self.groups:
                raise ConvtraceError("groups", self.groups, "in_channels must be divisible by groups")
            if out % self.groups:
                raise ConvtraceError("groups", self.groups, "out_channels must be divisible by groups")

    def macs(self, in_length: int, out_length: int, in_channels: int, batch: int = 1) -> int:
        """Multiply-adds PyTorch performs: Conv1d ``N*C_out*L_out*(C_in/g)*k``;
        ConvTranspose1d ``N*C_in*L_in*(C_out/g)*k`` (every input sample meets every tap;
        counting by the output length is the usual mistake); pools and pads 0."""
        out_c = self.channels_out(in_channels)
        if self.kind == "conv":
            return batch * out_c * out_length * (in_channels // self.groups) * self.kernel_size
        if self.kind == "convT":
            return batch * in_channels * in_length * (out_c // self.groups) * self.kernel_size
        return 0

    def parameters(self, in_channels: int) -> int:
        """Weights and biases."""
        out_c = self.channels_out(in_channels)
        if self.kind not in ("conv", "convT"):
            return 0
        weights = out_c * (in_channels // self.groups) * self.kernel_size
        return weights + (out_c if self.bias else 0)

    def reflect_near_limit(self, length: int) -> int | None:
        """The reflect padding if it is at least half of ``length`` (PyTorch requires it below
        ``length``: a shorter input fails), else None."""
        reflect = self.padding_mode == "reflect" and self.kind in ("conv", "pad")
        pad = max(self.pads) if self.kind == "pad" else max(self.pads[0] - self.pad_left, self.pads[1] - self.pad_right)
        return pad if reflect and pad > 0 and 2 * pad >= length else None

    # ------------------------------------------------------------------ text
    def describe(self) -> str:
        """The layer in the stack syntax (see :mod:`convtrace.plan.stack`)."""
        parts = [self.kind]
        if self.kind == "pad":
            parts += [f"l={self.pad_left}", f"r={self.pad_right}"]
            if self.padding_mode not in ("zeros", "constant"):
                parts.append(f"mode={self.padding_mode}")
            return " ".join(parts)
        if self.length_dependent:
            return " ".join(parts + [f"o={self.output_size}"])
        if self.kind == "lppool":
            parts.append(f"norm={_number(self.norm_type)}")
        parts.append(f"k={self.kernel_size}")
        default_stride = self.kernel_size if self.kind in POOLS else 1
        for key, value, default in (
            ("s", self.stride, default_stride), ("d", self.dilation, 1), ("g", self.groups, 1),
            ("op", self.output_padding, 0),
        ):  # fmt: skip
            if value != default:
                parts.append(f"{key}={value}")
        if self.pad_left or self.pad_right:
            parts.append(f"p={self.pads[0]},{self.pads[1]}")
        elif self.padding != 0:
            parts.append(f"p={self.padding}")
        if self.out_channels is not None:
            parts.append(f"c={self.out_channels}")
        if self.kind == "maxunpool" and self.output_size is not None:
            parts.append(f"o={self.output_size}")
        if self.ceil_mode:
            parts.append("ceil=1")
        if not self.count_include_pad:
            parts.append("cip=0")
        if self.padding_mode != "zeros":
            parts.append(f"mode={self.padding_mode}")
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """The fields, JSON-ready."""
        return asdict(self)


def _number(value: float | None) -> str:
    """``2`` for 2.0, ``1.5``."""
    if value is None:
        return "-"
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def merge_ranges(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, disjoint, non-adjacent ranges covering the same integers.

    >>> merge_ranges([(5, 6), (0, 2), (3, 3)])
    [(0, 3), (5, 6)]
    """
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            if hi > out[-1][1]:
                out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


# ---------------------------------------------------------------------- validation

def _validate(layer: Layer) -> None:
    call = f"Layer({layer.kind!r}, ...)"
    if layer.kind not in KINDS:
        raise ConvtraceError("kind", layer.kind, f"the layer kind must be one of {', '.join(KINDS)}", call=call)
    if isinstance(layer.stride, int) and not isinstance(layer.stride, bool) and layer.stride == 0:
        object.__setattr__(layer, "stride", layer.kernel_size if layer.kind in POOLS else 1)
    for name in ("kernel_size", "stride", "dilation", "groups", "output_padding", "pad_left", "pad_right"):
        value = parse_int_param(name, getattr(layer, name), call)
        object.__setattr__(layer, name, value)
        if abs(value) > MAX_SIZE:
            raise ConvtraceError(name, value, f"{name} must be at most {MAX_SIZE} in size", call=call)
    for name in ("kernel_size", "stride", "dilation", "groups"):
        if getattr(layer, name) < 1:
            raise ConvtraceError(name, getattr(layer, name), f"{name} must be >= 1", call=call)
    if layer.output_padding < 0:
        raise ConvtraceError("output_padding", layer.output_padding, "output_padding must be >= 0", call=call)
    padding = parse_padding(layer.padding, call, allow_string=layer.kind == "conv")
    object.__setattr__(layer, "padding", padding)
    if isinstance(padding, int) and not 0 <= padding <= MAX_SIZE:
        raise ConvtraceError("padding", padding, "negative padding is not supported", call=call)
    if layer.padding == "same" and layer.stride != 1:
        raise ConvtraceError("padding", "same", "padding='same' is not supported for strided convolutions", call=call)
    if layer.out_channels is not None:
        oc = parse_int_param("out_channels", layer.out_channels, call)
        if not 1 <= oc <= MAX_SIZE:
            raise ConvtraceError("out_channels", oc, f"out_channels must be between 1 and {MAX_SIZE}", call=call)
    if layer.padding_mode not in PAD_MODES:
        raise ConvtraceError("padding_mode", layer.padding_mode, f"padding_mode must be one of {PAD_MODES}", call=call)
    _validate_kind(layer, call)


def _validate_kind(layer: Layer, call: str) -> None:
    if not isinstance(layer.ceil_mode, bool) or not isinstance(layer.count_include_pad, bool):
        raise ConvtraceTypeError("ceil_mode", layer.ceil_mode, "ceil_mode and count_include_pad must be bools", call=call)
    if layer.kind == "convT":
        s, d, op = layer.stride, layer.dilation, layer.output_padding
        if not (op < s or op < d):
            raise ConvtraceError(
                "output_padding", op,
                f"output padding must be smaller than either stride or dilation, but got output_padding={op} "
                f"stride={s} dilation={d}", call=call,
            )  # fmt: skip
    elif layer.output_padding:
        raise ConvtraceError("output_padding", layer.output_padding, "only ConvTranspose1d has output_padding", call=call)
    if layer.kind in POOLS + ("pad",) and (layer.groups != 1 or layer.out_channels):
        raise ConvtraceError("groups", layer.groups, f"{TORCH_NAMES[layer.kind]} has no groups or channels", call=call)
    if layer.kind in ("avgpool", "lppool", "maxunpool") + ADAPTIVE_POOLS and layer.dilation != 1:
        raise ConvtraceError("dilation", layer.dilation, f"{TORCH_NAMES[layer.kind]} has no dilation", call=call)
    _validate_pool(layer, call)
    if layer.kind != "conv" and layer.kind != "pad" and (layer.pad_left or layer.pad_right):
        raise ConvtraceError("padding", (layer.pad_left, layer.pad_right), "only conv layers take explicit (left, right) padding", call=call)
    if layer.kind == "conv" and (layer.pad_left < 0 or layer.pad_right < 0):
        raise ConvtraceError("padding", (layer.pad_left, layer.pad_right), "negative padding is not supported", call=call)


def _validate_pool(layer: Layer, call: str) -> None:
    """The pool-only fields: ``norm_type`` (LPPool1d), ``output_size`` (adaptive pools,
    MaxUnpool1d), and no padding where PyTorch's pool has none."""
    if layer.kind == "lppool":
        if isinstance(layer.norm_type, bool) or not isinstance(layer.norm_type, (int, float)):
            raise ConvtraceTypeError("norm_type", layer.norm_type, "LPPool1d needs norm_type, a number (norm=2)", call=call)
    elif layer.norm_type is not None:
        raise ConvtraceError("norm_type", layer.norm_type, "only LPPool1d has norm_type", call=call)
    if layer.kind in ADAPTIVE_POOLS or (layer.kind == "maxunpool" and layer.output_size is not None):
        if layer.output_size is None:
            raise ConvtraceError("output_size", None, f"{TORCH_NAMES[layer.kind]} needs output_size (o=)", call=call)
        size = parse_int_param("output_size", layer.output_size, call)
        object.__setattr__(layer, "output_size", size)
        if abs(size) > MAX_SIZE:
            raise ConvtraceError("output_size", size, f"output_size must be at most {MAX_SIZE} in size", call=call)
    elif layer.output_size is not None:
        raise ConvtraceError("output_size", layer.output_size, "only adaptive pools and MaxUnpool1d have output_size",
                             call=call)  # fmt: skip
    if layer.kind in ("lppool",) + ADAPTIVE_POOLS and layer.padding != 0:
        raise ConvtraceError("padding", layer.padding, f"{TORCH_NAMES[layer.kind]} has no padding", call=call)


# ---------------------------------------------------------------------- pool lengths
# The lengths of LPPool1d, the adaptive pools and MaxUnpool1d with PyTorch's checks and
# words: the pool resolver's (params / rules), on an input of the length that takes no memory.

def _pool_length(layer: Layer, n: int) -> int:
    """The output length of an lp, adaptive or unpooling layer on ``n`` samples (one batch
    item, one channel: the planner's lengths do not depend on them).

    >>> _pool_length(Layer("lppool", 2, norm_type=2, ceil_mode=True), 5)
    3
    >>> _pool_length(Layer("maxunpool", 2, output_size=12), 5)
    Traceback (most recent call last):
    ...
    convtrace.errors.ConvtraceError: MaxUnpool1d(kernel_size=2, stride=2, padding=0)(length=5, output_size=[12]): output_size=[12]: invalid output_size "[12]" (dim 0 must be between 8 and 12)
    """
    import numpy as np

    from .. import params, rules

    x = np.broadcast_to(np.zeros((), np.float32), (1, 1, n))  # no memory, whatever the length
    if layer.kind == "lppool":
        return params.check_lp_pool1d(x, layer.norm_type, layer.kernel_size, layer.stride, layer.ceil_mode)[1].out_length
    if layer.kind == "adaptiveavgpool":
        return params.check_adaptive_avg_pool1d(x, layer.output_size)[1].out_length
    if layer.kind == "adaptivemaxpool":
        return params.check_adaptive_max_pool1d(x, layer.output_size)[1].out_length
    # max_unpool1d's checks in the resolver's order, but for its indices (the planner's come
    # from the MaxPool1d it undoes: inside the output by construction)
    k, s, p = layer.kernel_size, layer.stride, int(layer.padding)
    size = "" if layer.output_size is None else f", output_size=[{layer.output_size}]"
    call = f"MaxUnpool1d(kernel_size={k}, stride={s}, padding={p})(length={n}{size})"
    length = shapes.max_unpool1d_length_of(n, k, s, p)
    if layer.output_size is not None:
        rules.check_unpool_output_size_range([layer.output_size], length, s, call)
        length = layer.output_size
    rules.check_unpool_output_length(length, call)
    rules.check_unpool_arrays(x.shape, x.shape, np.dtype(np.int64), f"<input of length {n}>", None, call)
    return length


def _explicit_pad(n: int, layer: Layer) -> int:
    if layer.pad_left or layer.pad_right:
        return _pad_length(n, layer.pad_left, layer.pad_right, "constant")
    return n


def _pad_length(n: int, left: int, right: int, mode: str) -> int:
    """F.pad's output length, with its errors."""
    call = f"F.pad(length={n}, pad=({left}, {right}), mode={mode!r})"
    if mode in ("zeros", "constant"):
        kept = n + min(left, 0) + min(right, 0)  # PyTorch crops first (narrow), then pads
        if kept < 0:
            raise ConvtraceError(
                "pad", (left, right), f"narrow(): length must be non-negative (cropping {-min(left, 0)} + "
                f"{-min(right, 0)} samples from {n})", call=call,
            )  # fmt: skip
        return kept + max(left, 0) + max(right, 0)
    if n < 1:
        raise ConvtraceError(
            "length", n, "Expected 2D or 3D (batch mode) tensor with possibly 0 batch size and other "
            "non-zero dimensions for input", call=call,
        )  # fmt: skip
    if mode == "reflect" and (left >= n or right >= n):
        raise ConvtraceError(
            "pad", (left, right),
            "Padding size should be less than the corresponding input dimension, "
            f"but got: padding ({left}, {right}) at dimension 2 of input length {n}", call=call,
        )  # fmt: skip
    if mode == "circular" and (left > n or right > n):
        raise ConvtraceError("pad", (left, right), "Padding value causes wrapping around more than once.", call=call)
    return n + left + right
