"""Numbers of a trace: exact ``Fraction`` where the data allow it, ``float``/``complex`` otherwise.

Integers, fractions (``Fraction``, ``"1/3"``), decimal strings (``"0.5"``) and floats whose
values are integers are exact: the explainer then computes every product and sum with
:class:`fractions.Fraction`, so no float noise ever reaches a learner.

>>> parse_scalar("1/3"), parse_scalar("0.5"), parse_scalar("2")
(Fraction(1, 3), Fraction(1, 2), Fraction(2, 1))
>>> fmt_number(Fraction(1, 3)), fmt_number(Fraction(4)), fmt_number(0.25)
('1/3', '4', '0.25')
>>> to_json_number(Fraction(1, 3)), to_json_number(Fraction(-2)), to_json_number(1.5 + 2j)
('1/3', -2, {'re': 1.5, 'im': 2.0})
>>> from_json_number("1/3")
Fraction(1, 3)
"""

from __future__ import annotations

import math
import numbers
import re
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np

from ..errors import ConvtraceError, ConvtraceTypeError
from ..rules import MAX_EXPONENT

__all__ = [
    "parse_scalar",
    "to_exact",
    "to_float",
    "is_integral_array",
    "fmt_number",
    "to_json_number",
    "from_json_number",
    "number_abs",
]

_FRACTION_RE = re.compile(r"^[+-]?\d+/\d+$")


def parse_scalar(value: Any, name: str = "value") -> Fraction | float | complex:
    """One scalar as the user wrote it: exact (``Fraction``) when it can be, else float/complex.

    Accepts ints, ``Fraction``, ``Decimal``, floats, complex numbers and strings such as
    ``"3"``, ``"-0.25"``, ``"1/3"``, ``"1e-3"``, ``"1+2j"``, ``"nan"``.

    >>> parse_scalar(3), parse_scalar(2.0), parse_scalar(0.1), parse_scalar("-1/4")
    (Fraction(3, 1), Fraction(2, 1), 0.1, Fraction(-1, 4))
    """
    if isinstance(value, (bool, np.bool_)):
        raise ConvtraceTypeError(name, value, f"{name} must be a number, not bool")
    if isinstance(value, Fraction):
        return value
    if isinstance(value, (int, np.integer)):
        return Fraction(int(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            return float(value)
        return Fraction(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return Fraction(int(f)) if f.is_integer() else f
    if isinstance(value, (complex, np.complexfloating)):
        c = complex(value)
        if c.imag == 0:
            return parse_scalar(c.real, name)
        return c
    if isinstance(value, str):
        return _parse_text(value, name)
    if isinstance(value, numbers.Number):
        return parse_scalar(complex(value), name)  # type: ignore[call-overload]
    raise ConvtraceTypeError(name, value, f"{name} must be a number, not {type(value).__name__}")


def _parse_text(value: str, name: str) -> Fraction | float | complex:
    """A number typed as text: exact unless it is nan/inf or complex."""
    s = value.strip().replace(" ", "")
    if not s:
        raise ConvtraceError(name, value, f"{name}: an empty value is not a number")
    try:
        if _FRACTION_RE.match(s):
            if int(s.split("/")[1]) == 0:
                raise ConvtraceError(name, value, f"{name}: division by zero in {value!r}")
            return Fraction(s)
        low = s.lower()
        if low in ("nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "-infinity"):
            return float(low)
        if "j" in low:
            return parse_scalar(complex(low), name)
        number = Decimal(s)
        if number.is_finite() and number != 0 and abs(number.adjusted()) > MAX_EXPONENT:
            raise ConvtraceError(
                name, value,
                f"{name}: {value!r} has a decimal exponent beyond ±{MAX_EXPONENT} (float64 holds "
                "about 1e-308 to 1.8e308)",
            )
        frac = Fraction(number)
        if abs(frac) > _FLOAT_MAX:
            raise ConvtraceError(
                name, value, f"{name}: {value!r} is beyond the float64 range (|x| <= 1.8e308)"
            )
        return frac
    except ConvtraceError:
        raise
    except (ValueError, ArithmeticError):
        raise ConvtraceError(
            name, value, f"{name}: {value!r} is not a number (use e.g. 2, -0.5, 1/3 or 1e-3)"
        ) from None


_FLOAT_MAX = Fraction(float.fromhex('0x1.fffffffffffffp+1023'))


def to_exact(value: Any) -> Fraction:
    """The exact value of a finite real number (floats by their binary value).

    >>> to_exact(0.5), to_exact(np.float32(3))
    (Fraction(1, 2), Fraction(3, 1))
    """
    if isinstance(value, Fraction):
        return value
    if isinstance(value, (int, np.integer)):
        return Fraction(int(value))
    return Fraction(float(value))


def to_float(value: Any) -> float | complex:
    """A Python ``float`` (or ``complex``) for a number of any kind.

    >>> to_float(Fraction(1, 4)), to_float(np.complex64(1j))
    (0.25, 1j)
    """
    if isinstance(value, (complex, np.complexfloating)):
        return complex(value)
    return float(value)


def is_integral_array(a: np.ndarray) -> bool:
    """True if every value of a numeric array is a finite integer (so exact arithmetic applies).

    >>> is_integral_array(np.array([1.0, -2.0])), is_integral_array(np.array([0.5]))
    (True, False)
    """
    if a.dtype.kind in "iub":
        return True
    if a.dtype.kind == "c":
        if a.size and np.any(a.imag != 0):
            return False
        a = a.real
    if a.dtype.kind != "f":
        return False
    if a.size == 0:
        return True
    with np.errstate(invalid="ignore"):
        return bool(np.all(np.isfinite(a)) and np.all(a == np.floor(a)))


def fmt_number(value: Any) -> str:
    """Short text for a number: ``1/3``, ``2``, ``0.25``, ``(1+2j)``.

    >>> fmt_number(Fraction(-7, 2)), fmt_number(3.0), fmt_number(np.float32(0.1))
    ('-7/2', '3', '0.1')
    """
    if isinstance(value, Fraction):
        return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, np.floating):
        value = float(np.format_float_positional(value, unique=True, trim="-")) if np.isfinite(value) else float(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    if isinstance(value, (complex, np.complexfloating)):
        return repr(complex(value))
    return str(value)


def to_json_number(value: Any) -> Any:
    """The JSON form of a number (see docs/trace-schema.md, "Numbers").

    Integers (exact or integral floats from exact data) are JSON integers, non-integral
    fractions are strings ``"p/q"``, floats are JSON numbers (``"nan"``, ``"inf"``,
    ``"-inf"`` as strings), complex numbers are ``{"re": .., "im": ..}``.

    >>> to_json_number(Fraction(6, 3)), to_json_number(0.5), to_json_number(float("inf"))
    (2, 0.5, 'inf')
    """
    if value is None:
        return None
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return int(value.numerator)
        return f"{value.numerator}/{value.denominator}"
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (complex, np.complexfloating)):
        c = complex(value)
        return {"re": _json_float(c.real), "im": _json_float(c.imag)}
    return _json_float(float(value))


def _json_float(f: float) -> Any:
    if math.isnan(f):
        return "nan"
    if math.isinf(f):
        return "inf" if f > 0 else "-inf"
    return f


def from_json_number(value: Any) -> Fraction | float | complex:
    """Inverse of :func:`to_json_number` (ints and "p/q" come back as ``Fraction``).

    >>> from_json_number(2), from_json_number({"re": 1.0, "im": -1.0}), from_json_number("nan")
    (Fraction(2, 1), (1-1j), nan)
    """
    if isinstance(value, dict):
        re_, im_ = from_json_number(value["re"]), from_json_number(value["im"])
        assert not isinstance(re_, complex) and not isinstance(im_, complex)
        return complex(float(re_), float(im_))
    if isinstance(value, bool):
        raise ConvtraceTypeError("value", value, "a JSON number, not a boolean")
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, str):
        if value in ("nan", "inf", "-inf"):
            return float(value)
        return Fraction(value)
    return float(value)


def number_abs(value: Any) -> float:
    """``abs(value)`` as a float (for tolerances).

    >>> number_abs(Fraction(-1, 2))
    0.5
    """
    return float(abs(value))
