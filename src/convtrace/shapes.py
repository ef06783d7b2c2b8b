"""Length arithmetic of Conv1d and ConvTranspose1d, exactly as PyTorch computes it.

Every length, range and padding split in convtrace is computed here and nowhere else: the
resolver (:mod:`convtrace.params`), the explainer, planning and the renderers call these.
The ``*_of`` functions take validated ints; the others validate their arguments first.

>>> conv1d_output_length(16000, kernel_size=10, stride=5)
3199
>>> conv_transpose1d_output_length(200, kernel_size=16, stride=8, padding=4)
1600
>>> conv_transpose1d_output_size_range(200, kernel_size=16, stride=8, padding=4)
(1600, 1607)
>>> same_padding(4)
(1, 2)
>>> unread_samples(10, kernel_size=3, stride=4).unread
(3, 7, 8, 9)
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import ConvtraceError, ConvtraceTypeError
from .rules import (
    BACKEND_RULES,
    backend_dependent_error,
    check_max_pool1d_output,
    check_max_pool1d_values,
    check_output_padding,
    check_padding_mode,
    check_pool2d_output,
    check_pool2d_shape,
    check_pooling_output_shape,
    check_positive,
    is_int,
    parse_int_param,
    parse_padding,
)

__all__ = [
    "conv1d_output_length",
    "conv_transpose1d_output_length",
    "conv_transpose1d_output_size_range",
    "same_padding",
    "padding_pair",
    "UnreadSamples",
    "unread_samples",
    "unread_samples_of",
    "cropped_samples",
    "UNREAD_LIST_LIMIT",
    "pad_source_at",
    "receptive_field",
    "dilated_kernel",
    "conv1d_length_of",
    "conv_transpose1d_length_of",
    "check_kernel_fits",
    "check_transposed_length",
    "output_padding_for_size",
    "transposed_unreached",
    "overlap_counts",
    "conv1d_formula",
    "conv_transpose1d_formula",
    "uneven_overlap",
    "even_overlap_settings",
    "TapKind",
    "PoolWindow",
    "tap_kind",
    "pool_window",
    "pool_window_positions",
    "adaptive_bounds",
    "adaptive_window",
    "avg_pool_divisors",
    "pool1d_length_of",
    "lp_pool1d_length_of",
    "max_unpool1d_length_of",
    "max_pool1d_length",
    "pool2d_length",
]


# --------------------------------------------------------------------------- the formulas


def dilated_kernel(kernel_size: int, dilation: int = 1) -> int:
    """The span of a dilated kernel: ``dilation*(kernel_size-1) + 1`` (validated ints).

    >>> dilated_kernel(3, 2)
    5
    """
    return dilation * (kernel_size - 1) + 1


def same_padding(kernel_size: int, dilation: int = 1) -> tuple[int, int]:
    """The (left, right) split PyTorch uses for ``padding='same'``: odd extra on the right.

    >>> same_padding(4)
    (1, 2)
    >>> same_padding(3, dilation=2)
    (2, 2)
    """
    total = dilation * (kernel_size - 1) if kernel_size > 0 else 0
    left = total // 2
    return left, total - left


def conv1d_length_of(length: int, pad_left: int, pad_right: int, kernel_size: int, stride: int, dilation: int) -> int:
    """Conv1d's output length ``floor((L + pl + pr - dilation*(k-1) - 1) / stride) + 1``
    for validated ints (the kernel fits the padded input).

    >>> conv1d_length_of(4, 1, 1, 3, 2, 1)
    2
    """
    return (length + pad_left + pad_right - dilated_kernel(kernel_size, dilation)) // stride + 1


def conv_transpose1d_length_of(
    length: int, kernel_size: int, stride: int, padding: int, output_padding: int, dilation: int
) -> int:
    """ConvTranspose1d's output length
    ``(L - 1)*stride - 2*padding + dilation*(k-1) + output_padding + 1`` for validated ints.

    >>> conv_transpose1d_length_of(5, 3, 2, 0, 1, 1)
    12
    """
    return (length - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1


def conv1d_formula(
    length: int, pad_left: int, pad_right: int, kernel_size: int, stride: int, dilation: int
) -> tuple[str, str, dict[str, int]]:
    """Conv1d's length formula: (symbolic, with the numbers substituted, the numbers).

    >>> conv1d_formula(4, 1, 1, 3, 2, 1)[1]
    'floor((4 + 1 + 1 - 1*(3 - 1) - 1) / 2) + 1'
    """
    return (
        "floor((L + pad_left + pad_right - dilation*(kernel_size - 1) - 1) / stride) + 1",
        f"floor(({length} + {pad_left} + {pad_right} - {dilation}*({kernel_size} - 1) - 1) / {stride}) + 1",
        {"L": length, "pad_left": pad_left, "pad_right": pad_right, "dilation": dilation,
         "kernel_size": kernel_size, "stride": stride},
    )


def conv_transpose1d_formula(
    length: int, kernel_size: int, stride: int, padding: int, output_padding: int, dilation: int
) -> tuple[str, str, dict[str, int]]:
    """ConvTranspose1d's length formula: (symbolic, with the numbers substituted, the numbers).

    >>> conv_transpose1d_formula(5, 3, 2, 0, 1, 1)[1]
    '(5 - 1)*2 - 2*0 + 1*(3 - 1) + 1 + 1'
    """
    return (
        "(L - 1)*stride - 2*padding + dilation*(kernel_size - 1) + output_padding + 1",
        f"({length} - 1)*{stride} - 2*{padding} + {dilation}*({kernel_size} - 1) + {output_padding} + 1",
        {"L": length, "stride": stride, "padding": padding, "dilation": dilation, "kernel_size": kernel_size,
         "output_padding": output_padding},
    )


# --------------------------------------------------------------------------- length rules


def check_kernel_fits(
    length: int,
    pad_left: int,
    pad_right: int,
    kernel_size: int,
    dilation: int,
    padding: int | str,
    *,
    value: Any = None,
    call: object = None,
    length_name: str = "input",
) -> None:
    """Conv1d's rule: the dilated kernel must fit in the padded input (PyTorch's words).

    >>> check_kernel_fits(4, 0, 0, 6, 1, 0, value=4, length_name="length")
    Traceback (most recent call last):
    ...
    convtrace.errors.ConvtraceError: length=4: Calculated padded input size per channel: (4). Kernel size: (6). Kernel size can't be greater than actual input size (hint: the smallest valid input length here is 6, or padding >= 1, or kernel_size <= 4)
    """
    padded = length + pad_left + pad_right
    span = dilated_kernel(kernel_size, dilation)
    if padded >= span:
        return
    blame_padding = isinstance(padding, int) and pad_left > 0
    raise ConvtraceError(
        "padding" if blame_padding else length_name,
        padding if blame_padding else value,
        f"Calculated padded input size per channel: ({padded}). Kernel size: ({span}). "
        "Kernel size can't be greater than actual input size",
        call=call,
        hint=_short_input_hint(length, pad_left + pad_right, kernel_size, dilation, padding),
    )


def _short_input_hint(length: int, total_pad: int, kernel_size: int, dilation: int, padding: int | str) -> str:
    span = dilated_kernel(kernel_size, dilation)
    parts = [f"the smallest valid input length here is {span - total_pad}"]
    if isinstance(padding, int):
        parts.append(f"or padding >= {-(-(span - length) // 2)}")
    if length >= 1 and kernel_size > 1:
        parts.append(f"or kernel_size <= {(length + total_pad - 1) // dilation + 1}")
    return ", ".join(parts)


def check_transposed_length(
    length: int, kernel_size: int, stride: int, padding: int, output_padding: int, dilation: int,
    *, call: object = None,
) -> int:
    """ConvTranspose1d's rule: the output must have at least one sample; returns its length.
    An output of exactly 0 samples is a backend-dependent rule (oneDNN returns an empty tensor).

    >>> check_transposed_length(1, 1, 1, 1, 0, 1)
    Traceback (most recent call last):
    ...
    convtrace.errors.ConvtraceError: padding=1: Given input size per channel: (1). Calculated output size per channel: (-1). Output size is too small (hint: padding <= 0, or an input of at least 3 samples, gives an output of at least one sample)
    """
    out = conv_transpose1d_length_of(length, kernel_size, stride, padding, output_padding, dilation)
    if out >= 1:
        return out
    full = conv_transpose1d_length_of(length, kernel_size, stride, 0, output_padding, dilation)
    shortfall = 2 * padding - dilation * (kernel_size - 1) - output_padding  # needs (L - 1) * stride >= this
    shortest = max(1, 1 - (-shortfall // stride))
    message = (
        f"Given input size per channel: ({length}). Calculated output size per channel: ({out}). "
        "Output size is too small"
    )
    hint = (
        f"padding <= {(full - 1) // 2}, or an input of at least {shortest} samples, "
        "gives an output of at least one sample"
    )
    if out == 0:
        raise backend_dependent_error(
            BACKEND_RULES["transposed-empty-output"], "padding", padding, message, call=call, hint=hint
        )
    raise ConvtraceError("padding", padding, message, call=call, hint=hint)


def output_padding_for_size(
    output_size: Any,
    input_ndim: int,
    length: int,
    kernel_size: int,
    stride: int,
    padding: int,
    dilation: int,
    *,
    call: object = None,
    allow_int: bool = False,
) -> tuple[int, int]:
    """ConvTranspose1d's ``output_size`` → ``(output_size, output_padding)``, as PyTorch's
    ``_output_padding``: a sequence of 1 (or ``input_ndim``) ints within the valid range.

    >>> output_padding_for_size([12], 3, 5, 3, 2, 0, 1)
    (12, 1)
    """
    size = _size_list(output_size, call, allow_int)
    non_spatial = input_ndim - 1
    if len(size) == non_spatial + 1:
        size = size[non_spatial:]
    if len(size) != 1:
        raise ConvtraceError(
            "output_size",
            output_size,
            f"ConvTranspose1D: for {input_ndim}D input, output_size must have 1 or {non_spatial + 1} "
            f"elements (got {len(size)})",
            call=call,
        )
    lo = conv_transpose1d_length_of(length, kernel_size, stride, padding, 0, dilation)
    hi = lo + stride - 1
    if not lo <= size[0] <= hi:
        raise ConvtraceError(
            "output_size",
            output_size,
            f"requested an output size of {size}, but valid sizes range from [{lo}] to [{hi}] "
            f"(for an input of [{length}])",
            call=call,
            hint=f"output_size between {max(lo, 1)} and {hi}" if hi >= 1 else "a smaller padding",
        )
    return size[0], size[0] - lo


def _size_list(output_size: Any, call: object, allow_int: bool) -> list[int]:
    if allow_int and is_int(output_size):
        return [int(output_size)]
    if isinstance(output_size, (str, bytes)) or not hasattr(output_size, "__iter__"):
        raise ConvtraceTypeError("output_size", output_size, "output_size must be a sequence of ints", call=call)
    size = list(output_size)
    if not all(is_int(v) for v in size):  # PyTorch takes no floats here
        raise ConvtraceTypeError("output_size", output_size, "output_size must be a sequence of ints", call=call)
    return [int(v) for v in size]


# --------------------------------------------------------------------------- public, validated


def _pos(name: str, value: Any, call: str, *, minimum: int = 1) -> int:
    v = parse_int_param(name, value, call)
    if v < minimum:
        raise ConvtraceError(name, v, f"{name} must be >= {minimum}", call=call)
    return v


def padding_pair(padding: Any, kernel_size: int, dilation: int = 1, stride: int = 1) -> tuple[int, int]:
    """(left, right) zero padding for Conv1d's ``padding`` argument (int, 'same' or 'valid').

    >>> padding_pair("same", 5, dilation=2)
    (4, 4)
    >>> padding_pair(2, 3)
    (2, 2)
    """
    call = f"padding_pair(padding={padding!r}, kernel_size={kernel_size!r}, dilation={dilation!r})"
    p = parse_padding(padding, call)
    if p == "same":
        if stride != 1:
            raise ConvtraceError(
                "padding", p, "padding='same' is not supported for strided convolutions", call=call,
                hint="use stride=1, or an explicit int padding",
            )
        return same_padding(kernel_size, dilation)
    if p == "valid":
        return (0, 0)
    assert isinstance(p, int)
    check_positive(call, ("padding", p))
    return (p, p)


def conv1d_output_length(
    length: int, kernel_size: int, stride: int = 1, padding: Any = 0, dilation: int = 1
) -> int:
    """Output length of Conv1d: ``(L + pl + pr - dilation*(k-1) - 1) // stride + 1``.

    Raises :class:`~convtrace.errors.ConvtraceError` where PyTorch would (kernel wider than
    the padded input).

    >>> conv1d_output_length(4, 3, stride=2, padding=1)
    2
    """
    call = (
        f"conv1d_output_length(length={length!r}, kernel_size={kernel_size!r}, stride={stride!r}, "
        f"padding={padding!r}, dilation={dilation!r})"
    )
    n = _pos("length", length, call)
    k = _pos("kernel_size", kernel_size, call)
    s = _pos("stride", stride, call)
    d = _pos("dilation", dilation, call)
    pl, pr = padding_pair(padding, k, d, s)
    check_kernel_fits(n, pl, pr, k, d, 0, value=n, call=call, length_name="length")
    return conv1d_length_of(n, pl, pr, k, s, d)


def conv_transpose1d_output_length(
    length: int,
    kernel_size: int,
    stride: int = 1,
    padding: int = 0,
    output_padding: int = 0,
    dilation: int = 1,
) -> int:
    """Output length of ConvTranspose1d:
    ``(L - 1)*stride - 2*padding + dilation*(k-1) + output_padding + 1``.

    >>> conv_transpose1d_output_length(5, 3, stride=2, output_padding=1)
    12
    """
    call = (
        f"conv_transpose1d_output_length(length={length!r}, kernel_size={kernel_size!r}, "
        f"stride={stride!r}, padding={padding!r}, output_padding={output_padding!r}, "
        f"dilation={dilation!r})"
    )
    n = _pos("length", length, call)
    k = _pos("kernel_size", kernel_size, call)
    s = _pos("stride", stride, call)
    d = _pos("dilation", dilation, call)
    p = _pos("padding", padding, call, minimum=0)
    op = _pos("output_padding", output_padding, call, minimum=0)
    check_output_padding(op, s, d, call)
    return check_transposed_length(n, k, s, p, op, d, call=call)


def conv_transpose1d_output_size_range(
    length: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> tuple[int, int]:
    """The ``output_size`` values ConvTranspose1d accepts: ``(min, max)`` inclusive.

    As in PyTorch's ``_output_padding``: min has output_padding 0, max adds ``stride - 1``.

    >>> conv_transpose1d_output_size_range(5, 3, stride=2)
    (11, 12)
    >>> conv_transpose1d_output_size_range(2, 1, stride=3, padding=2)  # output_padding 0 gives 0
    (1, 2)
    """
    call = (
        f"conv_transpose1d_output_size_range(length={length!r}, kernel_size={kernel_size!r}, "
        f"stride={stride!r}, padding={padding!r}, dilation={dilation!r})"
    )
    n, k = _pos("length", length, call), _pos("kernel_size", kernel_size, call)
    s, d = _pos("stride", stride, call), _pos("dilation", dilation, call)
    p = _pos("padding", padding, call, minimum=0)
    lo = conv_transpose1d_length_of(n, k, s, p, 0, d)
    hi = lo + s - 1
    if hi < 1:  # no output_padding gives a sample: PyTorch's message for the largest one
        check_transposed_length(n, k, s, p, s - 1, d, call=call)
    return max(lo, 1), hi


#: padded inputs longer than this get no list of gaps (the tail is still exact)
UNREAD_LIST_LIMIT = 1 << 22


@dataclass(frozen=True)
class UnreadSamples:
    """The input samples of a Conv1d (or a pool) that no output depends on, in two kinds.

    A sample is *read* if some output depends on it: a kernel tap of some window lands on it,
    directly or on a reflect/replicate/circular padding cell that copies it (zero padding
    copies nothing). The unread samples split by position at the last read one,
    ``last_read`` (-1 if none is read):

    - the **tail**: the ``tail`` samples after it (``tail_indices``), the end of the input
      that PyTorch drops silently;
    - the **gaps**: the unread samples before it (``gaps``), each one lying
      ``between_taps`` of a dilated window (inside a window's span, missed by its taps),
      ``between_windows`` (the stride is longer than a window's span), or
      ``after_windows`` (past the last window, while a later sample is read through the
      padding: reflect or circular), or — an ``F.pad`` with a negative left pad —
      ``cropped`` (see :func:`cropped_samples`).

    The gaps never include the tail. ``gaps`` is None (the three counts 0) when the padded
    input is longer than :data:`UNREAD_LIST_LIMIT`; ``last_read`` and ``tail`` stay exact.
    """

    length: int
    last_read: int
    gaps: tuple[int, ...] | None
    between_taps: int = 0
    between_windows: int = 0
    after_windows: int = 0
    cropped: int = 0

    @property
    def tail(self) -> int:
        """How many samples at the end no output reads."""
        return self.length - 1 - self.last_read

    @property
    def tail_indices(self) -> range:
        """The tail's indices: ``last_read + 1 .. length - 1``."""
        return range(self.last_read + 1, self.length)

    @property
    def unread(self) -> tuple[int, ...] | None:
        """Every unread sample, gaps then tail (None where the gaps are not listed)."""
        return None if self.gaps is None else self.gaps + tuple(self.tail_indices)


def pad_source_at(positions: Any, length: int, pad_left: int, mode: str) -> np.ndarray:
    """Source index of the given padded positions (non-negative pads; circular wraps any
    distance); ``mode`` is ``pad``'s or ``padding_mode``'s name ('zeros' = 'constant');
    -1 for a zero.

    >>> pad_source_at([0, 5, 7], 4, 2, "reflect").tolist()
    [2, 3, 1]
    """
    t = np.asarray(positions, dtype=np.int64) - pad_left
    if mode in ("constant", "zeros"):
        return np.where((t >= 0) & (t < length), t, -1)
    if mode == "reflect":
        t = np.abs(t)
        return np.where(t >= length, 2 * (length - 1) - t, t)
    if mode == "replicate":
        return np.clip(t, 0, length - 1)
    if mode == "circular":
        return np.mod(t, length)
    raise AssertionError(mode)  # the spec was validated


def _taps_in(lo: int, hi: int, kernel_size: int, stride: int, dilation: int, out_length: int) -> np.ndarray:
    """Which padded positions ``lo..hi-1`` some kernel tap lands on (window t, tap j at
    ``t*stride + j*dilation``): per tap one run of stride-spaced positions, summed as a
    difference array along each residue class mod stride. O(hi - lo + kernel_size)."""
    size = hi - lo
    if size <= 0 or out_length < 1:
        return np.zeros(max(size, 0), dtype=bool)
    rows = -(-size // stride) + 1
    diff = np.zeros(rows * stride, dtype=np.int64)
    offset = np.arange(kernel_size, dtype=np.int64) * dilation
    first = np.maximum(0, -((offset - lo) // stride))  # first window with a tap at >= lo
    last = np.minimum(out_length - 1, (hi - 1 - offset) // stride)
    live = first <= last
    start = first[live] * stride + offset[live] - lo
    stop = last[live] * stride + offset[live] - lo + stride
    np.add.at(diff, start, 1)
    np.add.at(diff, stop, -1)
    counts = np.cumsum(diff.reshape(rows, stride), axis=0).ravel()
    return counts[:size] > 0


def unread_samples_of(
    length: int,
    pad_left: int,
    pad_right: int,
    kernel_size: int,
    stride: int,
    dilation: int,
    out_length: int,
    padding_mode: str = "zeros",
    zeros: tuple[int, int] = (0, 0),
) -> UnreadSamples:
    """:class:`UnreadSamples` for validated ints: ``out_length`` windows over the input
    padded by (``pad_left``, ``pad_right``) in ``padding_mode``; ``zeros`` is an explicit
    zero padding applied before that (an ``F.pad`` ahead of the layer). Windows may run past
    the padded end (a pool's ceil_mode): those taps read nothing.

    >>> u = unread_samples_of(2, 2, 2, 1, 2, 1, 3)  # windows at -2, 0, 2: sample 1 is the tail
    >>> u.last_read, u.gaps, u.tail
    (0, (), 1)
    >>> u = unread_samples_of(6, 2, 2, 3, 2, 2, 3, "reflect")  # taps hit 0, 2, 4 only
    >>> u.gaps, u.between_taps, tuple(u.tail_indices)
    ((1, 3), 2, (5,))
    """
    zl, zr = zeros
    inner = zl + length + zr  # the signal the mode padding pads
    total = pad_left + inner + pad_right
    k, s, d, out = kernel_size, stride, dilation, out_length
    x0 = pad_left + zl  # padded position of sample 0

    def sources(positions: np.ndarray) -> np.ndarray:
        found = pad_source_at(positions, inner, pad_left, padding_mode) - zl
        return found[(found >= 0) & (found < length)]

    if total > UNREAD_LIST_LIMIT:  # exact tail only: the last tap of each kernel position
        offset = np.arange(k, dtype=np.int64) * d
        t = np.minimum(out - 1, (x0 + length - 1 - offset) // s)
        q = t * s + offset
        q = q[(t >= 0) & (q >= x0)]
        last = int(q.max()) - x0 if q.size else -1
        if padding_mode not in ("zeros", "constant"):
            for lo, hi in ((0, pad_left), (pad_left + inner, total)):
                hit = np.flatnonzero(_taps_in(lo, hi, k, s, d, out)) + lo
                found = sources(hit)
                if found.size:
                    last = max(last, int(found.max()))
        return UnreadSamples(length, last, None)
    hit = np.flatnonzero(_taps_in(0, total, k, s, d, out))
    read = np.zeros(length, dtype=bool)
    read[sources(hit)] = True
    indices = np.flatnonzero(read)
    last = int(indices[-1]) if indices.size else -1
    gaps = np.flatnonzero(~read[: max(last, 0)])
    q = gaps + x0
    span = d * (k - 1) + 1
    window = np.minimum(out - 1, q // s)  # the last window starting at or before q
    inside = window * s + span - 1 >= q
    after = q > (out - 1) * s + span - 1
    return UnreadSamples(
        length, last, tuple(int(i) for i in gaps), between_taps=int(inside.sum()),
        between_windows=int((~inside & ~after).sum()), after_windows=int(after.sum()),
    )  # fmt: skip


def cropped_samples(length: int, left: int, right: int) -> UnreadSamples:
    """:class:`UnreadSamples` of an ``F.pad`` by (``left``, ``right``) (validated ints):
    negative pads crop, so the left crop is a gap (``cropped``) and the right crop the tail.

    >>> u = cropped_samples(6, -2, -1)
    >>> u.gaps, u.cropped, tuple(u.tail_indices)
    ((0, 1), 2, (5,))
    """
    lo, hi = max(0, -left), length - max(0, -right)
    if hi <= lo:
        return UnreadSamples(length, -1, ())
    return UnreadSamples(length, hi - 1, tuple(range(lo)), cropped=lo)


def unread_samples(
    length: int, kernel_size: int, stride: int = 1, padding: Any = 0, dilation: int = 1, padding_mode: str = "zeros"
) -> UnreadSamples:
    """The input samples no output of Conv1d reads: the gaps and the dropped tail (see
    :class:`UnreadSamples`). Raises where PyTorch would (kernel wider than the padded input).

    >>> u = unread_samples(10, kernel_size=3, stride=4)  # windows 0..2 and 4..6
    >>> u.gaps, u.tail, tuple(u.tail_indices)
    ((3,), 3, (7, 8, 9))
    >>> unread_samples(6, 3, stride=2, padding=2, dilation=2, padding_mode="reflect").between_taps
    2
    """
    out = conv1d_output_length(length, kernel_size, stride, padding, dilation)
    call = f"unread_samples(padding_mode={padding_mode!r})"
    mode = check_padding_mode(padding_mode, transposed=False, call=call).value
    k, s, d = int(kernel_size), int(stride), int(dilation)
    pl, pr = padding_pair(padding, k, d, s)
    return unread_samples_of(int(length), pl, pr, k, s, d, out, mode)


def receptive_field(kernel_size: int, dilation: int = 1) -> int:
    """Input span of one output sample of one layer: ``dilation*(kernel_size-1) + 1``.

    >>> receptive_field(3, dilation=8)
    17
    """
    call = f"receptive_field(kernel_size={kernel_size!r}, dilation={dilation!r})"
    k = _pos("kernel_size", kernel_size, call)
    d = _pos("dilation", dilation, call)
    return dilated_kernel(k, d)


# --------------------------------------------------------------------------- transposed taps


def _transposed_landing(length: int, kernel_size: int, stride: int, padding: int, dilation: int) -> np.ndarray:
    """Output position of every (input sample, kernel tap): ``i*stride - padding + k*dilation``."""
    return np.arange(length)[:, None] * stride - padding + np.arange(kernel_size)[None, :] * dilation


def transposed_unreached(
    length: int, kernel_size: int, stride: int, padding: int, dilation: int, out_length: int
) -> tuple[int, ...]:
    """ConvTranspose1d: input samples every tap of which lands in the cropped edges.

    >>> transposed_unreached(3, 1, 1, 1, 1, 1)
    (0, 2)
    """
    j = _transposed_landing(length, kernel_size, stride, padding, dilation)
    hit = ((j >= 0) & (j < out_length)).any(axis=1)
    return tuple(int(v) for v in np.flatnonzero(~hit))


def overlap_counts(
    length: int, kernel_size: int, stride: int, padding: int, dilation: int, out_length: int
) -> tuple[int, ...]:
    """ConvTranspose1d: how many kernel taps land on each output position (one channel pair).

    >>> overlap_counts(4, 3, 2, 1, 1, 7)
    (1, 2, 1, 2, 1, 2, 1)
    """
    j = _transposed_landing(length, kernel_size, stride, padding, dilation).ravel()
    j = j[(j >= 0) & (j < out_length)]
    return tuple(int(c) for c in np.bincount(j, minlength=out_length))


def pool1d_output_length(
    length: int,
    kernel_size: int,
    stride: int | None = None,
    padding: int = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
    kind: str = "max",
) -> int:
    """Output length of MaxPool1d (``kind='max'``) or AvgPool1d (``kind='avg'``, no dilation).

    PyTorch's ``pooling_output_shape``: ``floor_or_ceil((L + 2p - d*(k-1) - 1) / s) + 1``;
    with ``ceil_mode`` the last window must start inside the input or the left padding.
    ``stride`` defaults to ``kernel_size``; padding is at most ``kernel_size // 2``.

    >>> pool1d_output_length(5, 2, ceil_mode=True)
    3
    >>> pool1d_output_length(4, 2, stride=2, padding=1, ceil_mode=True)
    3
    """
    op = "max_pool1d" if kind == "max" else "avg_pool1d"
    call = (
        f"{op}(length={length!r}, kernel_size={kernel_size!r}, stride={stride!r}, padding={padding!r}, "
        f"dilation={dilation!r}, ceil_mode={ceil_mode!r})"
    )
    n = _pos("length", length, call)
    k = parse_int_param("kernel_size", kernel_size, call)
    s = k if stride is None else parse_int_param("stride", stride, call)
    p = parse_int_param("padding", padding, call)
    d = parse_int_param("dilation", dilation, call)
    if kind == "max":
        return max_pool1d_length(n, k, s, p, d, ceil_mode, value=n, call=call, param="length")
    if d != 1:
        raise ConvtraceError("dilation", d, "AvgPool1d has no dilation", call=call)
    return pool2d_length((1, 1, 1, n), k, s, p, d, ceil_mode, value=n, call=call, param="length")


def uneven_overlap(length: int, kernel_size: int, stride: int, padding: int, dilation: int, out_length: int) -> bool:
    """ConvTranspose1d: do the tap counts differ among interior output positions (those every
    kernel tap can reach)? Then the output shows checkerboard artefacts.

    >>> uneven_overlap(4, 3, 2, 1, 1, 7), uneven_overlap(4, 4, 2, 1, 1, 8)
    (True, False)
    """
    counts = overlap_counts(length, kernel_size, stride, padding, dilation, out_length)
    lo = max(dilation * (kernel_size - 1) - padding, 0)
    hi = min((length - 1) * stride - padding, len(counts) - 1)  # inclusive
    return len(set(counts[lo : hi + 1])) > 1


def even_overlap_settings(
    length: int, kernel_size: int, stride: int, padding: int, output_padding: int, dilation: int, *, most: int = 2
) -> list[dict[str, int]]:
    """ConvTranspose1d settings with a kernel size that is a multiple of the stride, the same
    output length and an even overlap (each checked), nearest kernel size first.

    >>> even_overlap_settings(4, 3, 2, 1, 1, 1)
    [{'kernel_size': 4, 'padding': 1, 'output_padding': 0, 'out_length': 8}, {'kernel_size': 2, 'padding': 0, 'output_padding': 0, 'out_length': 8}]
    """
    out = conv_transpose1d_length_of(length, kernel_size, stride, padding, output_padding, dilation)
    found: list[dict[str, int]] = []
    candidates = sorted(range(stride, 2 * kernel_size + stride + 1, stride), key=lambda k: (abs(k - kernel_size), -k))
    for k in candidates:
        # (L-1)*s - 2p + d*(k-1) + op + 1 = out  =>  2p - op = D
        need = conv_transpose1d_length_of(length, k, stride, 0, 0, dilation) - out
        p = -(-need // 2)
        op = 2 * p - need
        if p < 0 or not (op < stride or op < dilation):
            continue
        if conv_transpose1d_length_of(length, k, stride, p, op, dilation) != out:
            continue
        if uneven_overlap(length, k, stride, p, dilation, out):
            continue
        found.append({"kernel_size": k, "padding": p, "output_padding": op, "out_length": out})
        if len(found) == most:
            break
    return found


# --------------------------------------------------------------------------- pooling windows
#
# The one window model of the pools. A sliding pool (max, avg, lp) reads, for output ``i``,
# the input positions ``i*stride - padding + j*dilation`` (``j < kernel_size``); a position
# below 0 is left padding, one in ``[L, L + padding)`` right padding, one at ``L + padding`` or
# beyond the ceil_mode overhang (past the padded input: never counted, not even by
# ``count_include_pad``). An adaptive pool reads ``[floor(i*L/O), ceil((i+1)*L/O))``.


class TapKind(str, enum.Enum):
    """Where a pooling window's tap falls."""

    REAL = "real"
    LEFT_PAD = "left_pad"
    RIGHT_PAD = "right_pad"
    OVERHANG = "overhang"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class PoolWindow:
    """The input positions output ``index`` of a pool reads, each with its :class:`TapKind`
    (positions are input coordinates: negative in the left padding)."""

    index: int
    positions: tuple[int, ...]
    kinds: tuple[TapKind, ...]

    @property
    def real_positions(self) -> tuple[int, ...]:
        return tuple(p for p, kind in zip(self.positions, self.kinds) if kind is TapKind.REAL)

    def count(self, *kinds: TapKind) -> int:
        """How many taps are of one of ``kinds``."""
        return sum(1 for kind in self.kinds if kind in kinds)


def tap_kind(position: int, length: int, padding: int) -> TapKind:
    """The kind of input position ``position`` for a pool with ``padding`` on each side.

    >>> [str(tap_kind(p, 4, 1)) for p in (-1, 0, 3, 4, 5)]
    ['left_pad', 'real', 'real', 'right_pad', 'overhang']
    """
    if position < 0:
        return TapKind.LEFT_PAD
    if position < length:
        return TapKind.REAL
    if position < length + padding:
        return TapKind.RIGHT_PAD
    return TapKind.OVERHANG


def pool_window_positions(out_length: int, kernel_size: int, stride: int, padding: int, dilation: int = 1) -> np.ndarray:
    """``(out_length, kernel_size)`` int64 table of the input positions each output reads.

    >>> pool_window_positions(3, 3, 2, 1).tolist()
    [[-1, 0, 1], [1, 2, 3], [3, 4, 5]]
    """
    starts = np.arange(out_length, dtype=np.int64)[:, None] * stride - padding
    return starts + np.arange(kernel_size, dtype=np.int64)[None, :] * dilation


def pool_window(index: int, length: int, kernel_size: int, stride: int, padding: int, dilation: int = 1) -> PoolWindow:
    """The window of output ``index`` of a sliding pool (max, avg or lp) on ``length`` samples.

    L=6, k=3, s=2, p=1 with ceil_mode has 4 outputs; the last one reads sample 5, the right
    padding and one overhang cell:

    >>> w = pool_window(3, 6, 3, 2, 1)
    >>> w.positions, [str(kind) for kind in w.kinds]
    ((5, 6, 7), ['real', 'right_pad', 'overhang'])
    """
    positions = tuple(index * stride - padding + j * dilation for j in range(kernel_size))
    return PoolWindow(index, positions, tuple(tap_kind(p, length, padding) for p in positions))


def adaptive_bounds(length: int, output_size: int, first: int = 0, count: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Start (inclusive) and end (exclusive) of every adaptive pooling window:
    ``[floor(i*L/O), ceil((i+1)*L/O))``. Windows overlap and differ in length; ``O > L`` works.

    >>> [s.tolist() for s in adaptive_bounds(5, 3)]
    [[0, 1, 3], [2, 4, 5]]
    >>> [s.tolist() for s in adaptive_bounds(2, 3)]
    [[0, 0, 1], [1, 2, 2]]

    ``first`` and ``count`` select outputs ``first`` to ``first + count - 1`` (a tile's).
    """
    i = np.arange(first, output_size if count is None else first + count, dtype=np.int64)
    starts = (i * length) // output_size
    ends = -((-(i + 1) * length) // output_size)
    return starts, ends


def adaptive_window(index: int, length: int, output_size: int) -> PoolWindow:
    """The window of output ``index`` of an adaptive pool (every tap real).

    >>> adaptive_window(1, 5, 3).positions
    (1, 2, 3)
    """
    start = (index * length) // output_size
    end = -((-(index + 1) * length) // output_size)
    positions = tuple(range(start, end))
    return PoolWindow(index, positions, (TapKind.REAL,) * len(positions))


def avg_pool_divisors(
    length: int, kernel_size: int, stride: int, padding: int, out_length: int, count_include_pad: bool,
    first: int = 0,
) -> np.ndarray:
    """The divisor of every avg_pool1d output (PyTorch's rule): the taps inside the *padded*
    input with ``count_include_pad`` (padding counts, the ceil_mode overhang never does), else
    the real taps.

    L=6, k=3, s=2, p=1, ceil_mode (4 outputs): the last window holds sample 5, one padding
    cell and one overhang cell, so it divides by 2 (or by 1 without count_include_pad).

    >>> avg_pool_divisors(6, 3, 2, 1, 4, True).tolist(), avg_pool_divisors(6, 3, 2, 1, 4, False).tolist()
    ([3, 3, 3, 2], [2, 3, 3, 1])

    ``first`` starts at output ``first`` (``out_length`` outputs from there: a tile's).
    """
    starts = np.arange(first, first + out_length, dtype=np.int64) * stride - padding
    ends = np.minimum(starts + kernel_size, length + padding)
    if count_include_pad:
        return ends - starts
    return np.minimum(ends, length) - np.maximum(starts, 0)


def lp_pool1d_length_of(length: int, kernel_size: int, stride: int, ceil_mode: bool) -> int:
    """LPPool1d's output length: avg_pool1d's with no padding (LPPool1d is built on it).

    >>> lp_pool1d_length_of(5, 2, 2, True), lp_pool1d_length_of(5, 2, 2, False)
    (3, 2)
    """
    return pool1d_length_of(length, kernel_size, stride, 0, 1, ceil_mode)


def pool1d_length_of(length: int, kernel_size: int, stride: int, padding: int, dilation: int, ceil_mode: bool) -> int:
    """PyTorch's ``pooling_output_shape`` for validated ints (may be < 1: the caller rejects).

    With ``ceil_mode`` the last window must *start* inside the input or the left padding
    (L=2, k=2, s=3, p=1: MaxPool1d's docstring formula gives 2, PyTorch gives 1):

    >>> pool1d_length_of(2, 2, 3, 1, 1, True)
    1
    """
    out = (length + 2 * padding - dilation * (kernel_size - 1) - 1 + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= length + padding:
        out -= 1
    return out


def max_pool1d_length(
    length: int, kernel_size: int, stride: int, padding: int, dilation: int, ceil_mode: bool,
    *, value: Any = None, call: object = None, param: str = "input",
) -> int:
    """``max_pool1d``'s output length on its path without indices, by its own rules (its
    padding rule ignores the dilation: ``padding <= kernel_size // 2``).

    >>> max_pool1d_length(6, 2, 1, 1, 3, False)
    5
    >>> max_pool1d_length(6, 7, 7, 0, 1, False)
    Traceback (most recent call last):
    ...
    convtrace.errors.ConvtraceError: input=None: max_pool1d() Invalid computed output size: 0
    """
    check_max_pool1d_values(kernel_size, stride, padding, dilation, call)
    out = pool1d_length_of(length, kernel_size, stride, padding, dilation, ceil_mode)
    check_max_pool1d_output(out, value, call, param=param)
    return out


def pool2d_length(
    sizes: tuple[int, ...], kernel_size: int, stride: int, padding: int, dilation: int, ceil_mode: bool,
    *, value: Any = None, call: object = None, param: str = "input",
) -> int:
    """The output length on PyTorch's 2-D pooling path (``max_pool1d`` with indices,
    ``avg_pool1d``, ``lp_pool1d``), whose checks see the input with a height of 1: ``sizes``
    is (C, 1, L) or (N, C, 1, L). ``pooling_output_shape``'s rules come first (padding at most
    half of the *effective* kernel), then ``pool2d_shape_check``'s (padding at most half of the
    kernel, dilation ignored), then the output size.

    >>> pool2d_length((1, 1, 1, 6), 3, 2, 1, 1, True)
    4
    >>> pool2d_length((1, 1, 1, 6), 0, 0, 0, 1, False)
    Traceback (most recent call last):
    ...
    convtrace.errors.ConvtraceError: stride=0: stride should not be zero
    """
    check_pooling_output_shape(kernel_size, stride, padding, dilation, call)
    out = pool1d_length_of(sizes[-1], kernel_size, stride, padding, dilation, ceil_mode)
    check_pool2d_shape(kernel_size, stride, padding, dilation, sizes, value, call)
    check_pool2d_output(sizes[-3], sizes[-1], out, value, call, param=param)
    return out


def max_unpool1d_length_of(length: int, kernel_size: int, stride: int, padding: int) -> int:
    """MaxUnpool1d's default output length ``(L - 1)*stride - 2*padding + kernel_size``.

    >>> max_unpool1d_length_of(2, 2, 2, 0)
    4
    """
    return (length - 1) * stride - 2 * padding + kernel_size
