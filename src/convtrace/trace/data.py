"""Data for the explainer: user values in (lists, strings, Fractions, arrays, memory maps),
numbers out — a numeric array for the engine and, where the values allow, exact Fractions.
(The text forms of the command line and the explorer are read by :mod:`convtrace.trace.text_values`.)

>>> as_values("input", ["1/2", 3]).exact_values.tolist()
[Fraction(1, 2), Fraction(3, 1)]
>>> generate((1, 2, 3), "arange").tolist()
[[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]]
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from ..errors import ConvtraceError, ConvtraceTypeError
from ..rules import check_dtype, check_element_count
from .exact import is_integral_array, parse_scalar, to_exact

__all__ = ["Values", "as_values", "generate", "FILLS"]

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


def generate(
    shape: tuple[int, ...], fill: str = "ones", seed: int | None = 0, dtype: Any = None
) -> np.ndarray:
    """Data of a shape: ``ones``, ``arange`` (0, 1, 2, ...), ``randint`` (integers in
    [-4, 4]) — all exact — or ``randn`` (standard normal floats). Seeded with
    ``numpy.random.default_rng(seed)``.

    >>> generate((4,), "randint", seed=1).tolist() == generate((4,), "randint", seed=1).tolist()
    True
    >>> generate((1, 3), "ones").tolist()
    [[1.0, 1.0, 1.0]]
    """
    shp = tuple(int(v) for v in shape)
    check_element_count("input_shape", shp)
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
