"""How a number is written: exact values exactly, floats with a sensible number of digits.

Fractions whose denominator divides a power of ten print as decimals (``3/10`` as
``0.3``), other fractions as ``p/q``; integers without a decimal point; floats with six
significant digits and no float noise; complex numbers as ``a+bj``.

>>> from fractions import Fraction
>>> fmt(Fraction(1, 3)), fmt(Fraction(3, 10)), fmt(Fraction(-4, 2)), fmt(2.0), fmt(0.1 + 0.2)
('1/3', '0.3', '-2', '2', '0.3')
>>> fmt(complex(1, -0.5)), fmt(float("nan"))
('1-0.5j', 'nan')
>>> fmt_list([1.0, 2.5, Fraction(1, 3)])
'1, 2.5, 1/3'
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from typing import Any

import numpy as np

__all__ = ["fmt", "fmt_list", "fmt_nested", "as_typed"]

#: Significant digits for floats (float32 carries about seven).
DIGITS = 6


def _terminating(q: Fraction) -> bool:
    d = q.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    return d == 1


def _fraction(q: Fraction) -> str:
    if q.denominator == 1:
        return str(q.numerator)
    if _terminating(q):
        # exact decimal: scale to the smallest power of ten that clears the denominator
        places = 0
        while (q * 10**places).denominator != 1:
            places += 1
        sign = "-" if q < 0 else ""
        digits = str(abs(q.numerator * 10**places // q.denominator)).rjust(places + 1, "0")
        return f"{sign}{digits[:-places]}.{digits[-places:]}"
    return f"{q.numerator}/{q.denominator}"


def _real(v: float) -> str:
    if v != v or v in (float("inf"), float("-inf")):
        return str(v)
    s = f"{v:.{DIGITS}g}"
    return "0" if s == "-0" else s


def fmt(v: Any) -> str:
    """One number as text (see the module docstring)."""
    if isinstance(v, Fraction):
        return _fraction(v)
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (complex, np.complexfloating)):
        re, im = _real(float(v.real)), _real(float(v.imag))
        if im.startswith("-"):
            return f"{re}-{im[1:]}j"
        return f"{re}+{im}j"
    return _real(float(v))


def fmt_list(values: Iterable[Any], sep: str = ", ") -> str:
    """Numbers joined by ``sep``."""
    return sep.join(fmt(v) for v in values)


def fmt_nested(a: Any) -> str:
    """An array (any depth) as a nested bracketed list.

    >>> import numpy as np
    >>> fmt_nested(np.array([[[2.0, 3.0]], [[1.0, 0.5]]]))
    '[[[2, 3]], [[1, 0.5]]]'
    """
    if isinstance(a, np.ndarray) and a.ndim == 0:
        return fmt(a.item())
    if isinstance(a, (np.ndarray, list, tuple)):
        return "[" + ", ".join(fmt_nested(v) for v in a) + "]"
    return fmt(a)



def as_typed(v: Any) -> Any:
    """The simplest fraction that a float stands for (``0.1`` -> ``1/10``), if it is one.

    Exact data are stored in float arrays for the engine; this recovers what was typed so
    that the array and the step's exact products print alike. Other values are returned
    unchanged.

    >>> as_typed(1 / 3), as_typed(0.1), as_typed(2.0), as_typed(0.1 + 0.2)
    (Fraction(1, 3), Fraction(1, 10), Fraction(2, 1), 0.30000000000000004)
    """
    if isinstance(v, (Fraction, complex, np.complexfloating)):
        return v
    if isinstance(v, (int, np.integer)):
        return Fraction(int(v))
    f = float(v)
    if f != f or f in (float("inf"), float("-inf")):
        return v
    q = Fraction(f).limit_denominator(10**6)
    return q if float(q) == f else v
