"""Data for the explainer: user values in (lists, strings, Fractions, arrays, ``.npy`` files),
numbers out — a numeric array for the engine and, where the values allow, exact Fractions.

Text forms (the CLI's ``--input``, ``--weight``, ``--bias``):

* ``1,1,1,1`` — one channel; ``1,2;3,4`` — channels separated by ``;``;
  ``1,2;3,4|5,6;7,8`` — batch items separated by ``|``;
* a JSON array, e.g. ``[[1, 2], [3, 4]]`` (strings inside are parsed too: ``["1/3", 1]``);
* ``@path/to/file.npy`` — memory-mapped, never loaded whole.

Values keep their exactness: ``2`` and ``0.5`` and ``1/3`` become Fractions.

>>> d = parse_values("1,2;3,1/2")
>>> d.shape, d.exact_values.tolist()
((2, 2), [[Fraction(1, 1), Fraction(2, 1)], [Fraction(3, 1), Fraction(1, 2)]])
>>> parse_values("1,1|2,2").shape
(2, 1, 2)
>>> generate((1, 2, 3), "arange").tolist()
[[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]]
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from ..errors import ConvtraceError, ConvtraceTypeError
from ..params import check_dtype
from .exact import is_integral_array, parse_scalar, to_exact

__all__ = ["Values", "as_values", "parse_values", "parse_shape", "generate", "FILLS"]

#: fills accepted by :func:`generate` (and the CLI's ``--fill``)
FILLS = ("ones", "arange", "randint", "randn")

#: arrays larger than this are never scanned as a whole to decide exactness
SCAN_LIMIT = 4_000_000


@dataclass
class Values:
    """One operand: ``numeric`` for the engine; ``exact_values`` (object array of Fractions)
    when every value was given exactly (lists, strings, Fractions, ints), else None.

    ``from_array`` says the values came as a NumPy array (or memory map): their exactness is
    then decided from the values actually used (all integers: exact).
    """

    numeric: np.ndarray
    exact_values: np.ndarray | None
    from_array: bool
    source: str = ""  # e.g. "@x.npy (memory-mapped)"

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.numeric.shape)

    @property
    def ndim(self) -> int:
        return self.numeric.ndim

    def astype(self, dtype: np.dtype) -> Values:
        """The same values with the numeric array in ``dtype`` (lists and defaults only)."""
        if self.numeric.dtype == dtype:
            return self
        return Values(self.numeric.astype(dtype), self.exact_values, self.from_array, self.source)

    def reshape(self, shape: tuple[int, ...]) -> Values:
        ex = None if self.exact_values is None else self.exact_values.reshape(shape)
        return Values(self.numeric.reshape(shape), ex, self.from_array, self.source)

    def broadcast(self, shape: tuple[int, ...]) -> Values:
        ex = None if self.exact_values is None else np.broadcast_to(self.exact_values, shape).copy()
        return Values(np.broadcast_to(self.numeric, shape).copy(), ex, self.from_array, self.source)

    def all_exact(self) -> bool:
        """Are all values exact? (Scans arrays only up to :data:`SCAN_LIMIT` elements.)"""
        if self.exact_values is not None:
            return True
        if not self.from_array or self.numeric.size > SCAN_LIMIT:
            return False
        return is_integral_array(self.numeric)

    def exact_array(self) -> np.ndarray:
        """All values as an object array of Fractions (call only when :meth:`all_exact`)."""
        if self.exact_values is not None:
            return self.exact_values
        a = self.numeric.real if self.numeric.dtype.kind == "c" else self.numeric
        out = np.empty(a.shape, dtype=object)
        flat = out.reshape(-1)
        for i, v in enumerate(a.reshape(-1).tolist()):
            flat[i] = to_exact(v)
        return out


def _numeric_dtype(values: list[Any]) -> np.dtype:
    if any(isinstance(v, complex) for v in values):
        return np.dtype(np.complex128)
    return np.dtype(np.float64)


def as_values(name: str, value: Any, *, exact: bool | None = None) -> Values:
    """Normalise one operand given to :func:`convtrace.explain`.

    NumPy arrays (and memory maps) are kept as they are (integer arrays become float64);
    anything else (scalars, nested lists, strings, Fractions, object arrays) is parsed
    element by element. ``exact=True`` converts floats by their exact binary value.

    >>> v = as_values("input", [1, "1/3", 0.5])
    >>> v.numeric.dtype, v.exact_values is None
    (dtype('float64'), True)
    >>> as_values("input", ["1/3", 2]).exact_values.tolist()
    [Fraction(1, 3), Fraction(2, 1)]
    >>> as_values("input", [1.0, 2.5], exact=True).exact_values.tolist()
    [Fraction(1, 1), Fraction(5, 2)]
    """
    if isinstance(value, Values):
        return value
    if isinstance(value, np.ndarray) and value.dtype != object:
        arr = value
        if arr.dtype.kind in "iub":
            arr = arr.astype(np.float64)
        check_dtype(name, value, arr.dtype)
        src = "memory-mapped" if isinstance(value, np.memmap) else ""
        return Values(arr, None, True, src)
    if isinstance(value, (dict, set, bytes)):
        raise ConvtraceTypeError(name, value, f"{name} must be an array or a list of numbers")
    try:
        obj = np.array(value, dtype=object)
    except ValueError as exc:
        raise ConvtraceError(name, value, f"{name} could not be read as an array ({exc})") from None
    if obj.ndim and any(isinstance(v, (list, tuple)) for v in obj.reshape(-1)):
        raise ConvtraceError(
            name, value, f"{name} is ragged: every channel (and batch item) must have the same length"
        )
    flat = [parse_scalar(v, name) for v in obj.reshape(-1).tolist()]
    dtype = _numeric_dtype(flat)
    if exact is True:
        if any(isinstance(v, complex) for v in flat):
            raise ConvtraceError("exact", True, "complex data cannot be computed exactly: use exact=None")
        flat = [v if isinstance(v, Fraction) else Fraction(float(v)) for v in flat]  # type: ignore[arg-type]
    all_exact = all(isinstance(v, Fraction) for v in flat)
    numeric = np.array([complex(v) if dtype.kind == "c" else float(v) for v in flat], dtype=dtype)  # type: ignore[arg-type]
    numeric = numeric.reshape(obj.shape)
    exact_arr = None
    if all_exact and exact is not False:
        exact_arr = np.empty(obj.shape, dtype=object)
        ef = exact_arr.reshape(-1)
        for i, v in enumerate(flat):
            ef[i] = v
    return Values(numeric, exact_arr, False)


# --------------------------------------------------------------------------- text forms


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
    batches = [b for b in s.split("|")]
    parsed = []
    for b in batches:
        chans = [c for c in b.split(";")]
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


#: The most values :func:`generate` makes (about 0.8 GB of float64).
MAX_GENERATED = 100_000_000


def generate(
    shape: tuple[int, ...] | str, fill: str = "ones", seed: int | None = 0, dtype: Any = None
) -> np.ndarray:
    """Data of a shape: ``ones``, ``arange`` (0, 1, 2, ...), ``randint`` (integers in
    [-4, 4]) — all exact — or ``randn`` (standard normal floats). Seeded with
    ``numpy.random.default_rng(seed)``.

    >>> generate((4,), "randint", seed=1).tolist() == generate((4,), "randint", seed=1).tolist()
    True
    >>> generate((1, 3), "ones").tolist()
    [[1.0, 1.0, 1.0]]
    """
    shp = parse_shape(shape) if isinstance(shape, str) else tuple(int(v) for v in shape)
    size = int(np.prod(shp, dtype=object))
    if size > MAX_GENERATED:
        raise ConvtraceError(
            "input-shape", shp,
            f"generating {size:,} values is more than the {MAX_GENERATED:,} convtrace makes up: "
            "give a large input as --input @file.npy (memory-mapped, never loaded whole)",
        )
    dt = np.dtype(np.float64 if dtype is None else dtype)
    if fill == "ones":
        return np.ones(shp, dtype=dt)
    if fill == "arange":
        return np.arange(int(np.prod(shp)), dtype=dt).reshape(shp)
    rng = np.random.default_rng(seed)
    if fill == "randint":
        return rng.integers(-4, 5, size=shp).astype(dt)
    if fill == "randn":
        return rng.standard_normal(shp).astype(dt)
    raise ConvtraceError("fill", fill, "fill must be one of " + ", ".join(FILLS))
