"""The text forms of data, shared by the command line (``--input``, ``--weight``, ``--bias``,
``--input-shape``) and the explorer's form.

* ``1,1,1,1`` — one channel; ``1,2:3,4`` — channels separated by ``:`` (or ``;``, quoted
  in a shell); ``1,2:3,4::5,6:7,8`` — batch items separated by ``::`` (or ``|``, quoted);
* a JSON array, e.g. ``[[1, 2], [3, 4]]`` (strings inside are parsed too: ``["1/3", 1]``);
* ``@path/to/file.npy`` — memory-mapped, never loaded whole.

Values keep their exactness: ``2`` and ``0.5`` and ``1/3`` become Fractions.

>>> d = parse_values("1,2;3,1/2")
>>> d.shape, d.exact_values.tolist()
((2, 2), [[Fraction(1, 1), Fraction(2, 1)], [Fraction(3, 1), Fraction(1, 2)]])
>>> parse_values("1,1|2,2").shape, parse_values("1,2:3,4::5,6:7,8").shape
((2, 1, 2), (2, 2, 2))
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from ..errors import ConvtraceError
from .data import Values, as_values

__all__ = ["parse_values", "parse_shape", "as_weight"]


def parse_values(text: str, name: str = "input", *, mmap: bool = True) -> Values:
    """Parse the CLI's text form of an operand (see the module docstring).

    ``@file.npy`` is opened with ``np.load(path, mmap_mode='r')`` (never read whole);
    ``@file.json``/``@file.txt`` are read and parsed as text.

    >>> parse_values("[[1, 2, 3]]").shape
    (1, 3)
    >>> parse_values("0.5, -1").exact_values.tolist()
    [Fraction(1, 2), Fraction(-1, 1)]
    """
    s = text.strip()
    if not s:
        raise ConvtraceError(name, text, f"--{name}: no values given (e.g. --{name} 1,1,1,1)")
    if s.startswith("@"):
        path = os.path.expanduser(s[1:])
        if not os.path.exists(path):
            raise ConvtraceError(name, text, f"--{name}: no such file: {path}")
        if path.endswith(".npy"):
            try:
                arr = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
            except (ValueError, OSError) as exc:
                raise ConvtraceError(name, text, f"--{name}: cannot read {path} as .npy ({exc})") from None
            v = as_values(name, arr)
            v.source = f"@{path}" + (" (memory-mapped)" if mmap else "")
            return v
        with open(path, encoding="utf-8") as fh:
            return parse_values(fh.read(), name, mmap=mmap)
    if s[0] == "[":
        try:
            data = json.loads(s, parse_float=str, parse_int=int)
        except json.JSONDecodeError as exc:
            raise ConvtraceError(name, text, f"--{name}: invalid JSON array ({exc.msg})") from None
        return as_values(name, data)
    # ':' and '::' separate channels and batch items unquoted ('; ' and '|' need quotes)
    s = s.replace("::", "|").replace(":", ";")
    batches = list(s.split("|"))
    parsed = []
    for b in batches:
        chans = list(b.split(";"))
        rows = []
        for c in chans:
            items = [t for t in c.replace(" ", ",").split(",") if t.strip()]
            if not items:
                raise ConvtraceError(name, text, f"--{name}: an empty channel in {text!r}")
            rows.append(items)
        parsed.append(rows)
    lengths = {len(r) for rows in parsed for r in rows}
    if len(lengths) != 1 or len({len(rows) for rows in parsed}) != 1:
        raise ConvtraceError(
            name, text, f"--{name}: every channel must have the same length and every batch item the "
            "same number of channels"
        )
    nested: Any = parsed
    if len(parsed) == 1:
        nested = parsed[0][0] if len(parsed[0]) == 1 else parsed[0]
    return as_values(name, nested)


def as_weight(values: Values) -> Values:
    """A weight read from text: rows ``a;b`` are one kernel each along the first weight axis
    (output channels of Conv1d, input channels of ConvTranspose1d); one kernel or a JSON
    array of three levels stays as it is.

    >>> as_weight(parse_values("1,1;2,2", "weight")).shape, as_weight(parse_values("1,2,3", "weight")).shape
    ((2, 1, 2), (3,))
    """
    return values.reshape((values.shape[0], 1, values.shape[1])) if values.ndim == 2 else values


def parse_shape(text: str | tuple[int, ...] | list[int], name: str = "input-shape") -> tuple[int, ...]:
    """``2,3,10`` (or ``2x3x10``) as a tuple of positive ints.

    >>> parse_shape("2,3,10"), parse_shape("1x4")
    ((2, 3, 10), (1, 4))
    """
    if isinstance(text, (tuple, list)):
        parts: list[Any] = list(text)
    else:
        parts = [p for p in text.replace("x", ",").replace(" ", ",").split(",") if p.strip()]
    try:
        shape = tuple(int(p) for p in parts)
    except (TypeError, ValueError):
        raise ConvtraceError(name, text, f"--{name} must be integers like 2,3,10") from None
    if not 1 <= len(shape) <= 3 or any(v < 1 for v in shape):
        raise ConvtraceError(
            name, text, f"--{name} must be 1 to 3 positive integers ((L), (C, L) or (N, C, L))"
        )
    return shape
