"""Explanations of 1-D convolutions and pools as data: :func:`explain` builds a :class:`Trace` (the
data model in :mod:`.model`) that renderers turn into text, JSON, HTML or pictures. This
package neither imports torch nor renders; :func:`convtrace.explain` adds PyTorch's check
and the ways to show a trace.

>>> from convtrace.trace import explain
>>> [str(s.value) for s in explain([1, 1, 1, 1], [1, 1, 1], padding=1)]
['2', '3', '3', '2']
"""

from __future__ import annotations

from .build import explain
from .model import SCHEMA_VERSION, Note, PoolDetail, PoolTrace, Reduction, Source, Step, Term, Trace

__all__ = ["explain", "Trace", "PoolTrace", "Step", "Term", "Source", "Reduction", "PoolDetail", "Note", "SCHEMA_VERSION"]
