"""Explanations of 1-D convolutions: :func:`explain` builds a :class:`Trace` (the data model
in :mod:`.model`), which renderers turn into text, JSON or HTML.

>>> from convtrace.trace import explain
>>> [str(s.value) for s in explain([1, 1, 1, 1], [1, 1, 1], padding=1, verify=False)]
['2', '3', '3', '2']
"""

from __future__ import annotations

from .build import explain, explain_transposed
from .model import SCHEMA_VERSION, Source, Step, Term, Trace

__all__ = ["explain", "explain_transposed", "Trace", "Step", "Term", "Source", "SCHEMA_VERSION"]
