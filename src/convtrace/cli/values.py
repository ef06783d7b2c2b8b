"""The command line's text forms of data: :mod:`convtrace.trace.text_values` (one parser, that
the explorer's API uses too).

>>> parse_values("1,2:3,4").shape
(2, 2)
"""

from __future__ import annotations

from ..trace.text_values import parse_shape, parse_values

__all__ = ["parse_values", "parse_shape"]
