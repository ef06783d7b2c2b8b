"""Renderers of a :class:`~convtrace.trace.model.Trace`: plain text (terminal, English or
Chinese) and HTML (Jupyter). They read the trace; they compute nothing.

>>> from convtrace.render import render_text, render_html
>>> callable(render_text) and callable(render_html)
True
"""

from __future__ import annotations

from .html import render_html
from .text import render_text

__all__ = ["render_text", "render_html"]
