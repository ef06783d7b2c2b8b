"""Length arithmetic of Conv1d and ConvTranspose1d, exactly as PyTorch computes it.

>>> conv1d_output_length(16000, kernel_size=10, stride=5)
3199
>>> conv_transpose1d_output_length(200, kernel_size=16, stride=8, padding=4)
1600
>>> conv_transpose1d_output_size_range(200, kernel_size=16, stride=8, padding=4)
(1600, 1607)
>>> same_padding(4)
(1, 2)
>>> unreached_samples(10, kernel_size=3, stride=4)
(3, 7, 8, 9)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import ConvtraceError
from .params import parse_int_param, parse_padding, same_padding

__all__ = [
    "conv1d_output_length",
    "conv_transpose1d_output_length",
    "conv_transpose1d_output_size_range",
    "same_padding",
    "padding_pair",
    "unreached_samples",
    "dropped_tail",
    "receptive_field",
]


def _pos(name: str, value: Any, call: str, *, minimum: int = 1) -> int:
    v = parse_int_param(name, value, call)
    if v < minimum:
        rule = f"{name} must be >= {minimum}"
        raise ConvtraceError(name, v, rule, call=call)
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
                "padding", p, "padding='same' is not supported for strided convolutions", call=call
            )
        return same_padding(kernel_size, dilation)
    if p == "valid":
        return (0, 0)
    assert isinstance(p, int)
    if p < 0:
        raise ConvtraceError("padding", p, "negative padding is not supported", call=call)
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
    padded = n + pl + pr
    dk = d * (k - 1) + 1
    if padded < dk:
        raise ConvtraceError(
            "length",
            n,
            f"Calculated padded input size per channel: ({padded}). Kernel size: ({dk}). "
            "Kernel size can't be greater than actual input size",
            call=call,
            hint=f"the smallest valid input length here is {dk - pl - pr}",
        )
    return (padded - dk) // s + 1


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
    if not (op < s or op < d):
        raise ConvtraceError(
            "output_padding",
            op,
            "output padding must be smaller than either stride or dilation, but got "
            f"output_padding={op} stride={s} dilation={d}",
            call=call,
        )
    out = (n - 1) * s - 2 * p + d * (k - 1) + op + 1
    if out < 1:
        raise ConvtraceError(
            "padding",
            p,
            f"Given input size per channel: ({n}). Calculated output size per channel: ({out}). "
            "Output size is too small",
            call=call,
        )
    return out


def conv_transpose1d_output_size_range(
    length: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> tuple[int, int]:
    """The ``output_size`` values ConvTranspose1d accepts: ``(min, max)`` inclusive.

    As in PyTorch's ``_output_padding``: min has output_padding 0, max adds ``stride - 1``.

    >>> conv_transpose1d_output_size_range(5, 3, stride=2)
    (11, 12)
    """
    lo = conv_transpose1d_output_length(length, kernel_size, stride, padding, 0, dilation)
    return lo, lo + int(stride) - 1


def unreached_samples(
    length: int, kernel_size: int, stride: int = 1, padding: Any = 0, dilation: int = 1
) -> tuple[int, ...]:
    """0-based indices of input samples that no kernel tap of any window reads.

    These are samples the output does not depend on at all: a dropped tail (the last window
    ends before the input does) or gaps (stride larger than the dilated kernel).

    >>> unreached_samples(5, 2, stride=2)
    (4,)
    """
    out = conv1d_output_length(length, kernel_size, stride, padding, dilation)
    k, s, d = int(kernel_size), int(stride), int(dilation)
    pl, _ = padding_pair(padding, k, d, s)
    n = int(length)
    reached = np.zeros(n, dtype=bool)
    starts = np.arange(out) * s - pl
    for j in range(k):
        t = starts + j * d
        reached[t[(t >= 0) & (t < n)]] = True
    return tuple(int(t) for t in np.flatnonzero(~reached))


def dropped_tail(
    length: int, kernel_size: int, stride: int = 1, padding: Any = 0, dilation: int = 1
) -> int:
    """How many input samples at the end lie beyond the last window (PyTorch drops them).

    >>> dropped_tail(10, 3, stride=4)
    3
    """
    out = conv1d_output_length(length, kernel_size, stride, padding, dilation)
    k, s, d = int(kernel_size), int(stride), int(dilation)
    pl, _ = padding_pair(padding, k, d, s)
    last = (out - 1) * s - pl + d * (k - 1)
    return min(int(length), max(0, int(length) - 1 - last))  # all of it if every window ends left of it


def receptive_field(kernel_size: int, dilation: int = 1) -> int:
    """Input span of one output sample of one layer: ``dilation*(kernel_size-1) + 1``.

    >>> receptive_field(3, dilation=8)
    17
    """
    call = f"receptive_field(kernel_size={kernel_size!r}, dilation={dilation!r})"
    k = _pos("kernel_size", kernel_size, call)
    d = _pos("dilation", dilation, call)
    return d * (k - 1) + 1
