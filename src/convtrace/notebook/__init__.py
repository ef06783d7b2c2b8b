"""convtrace in the notebook: :class:`Explorer`, the explorer page's front end as an
anywidget (the ``notebook`` extra: ``pip install 'convtrace[notebook]'``).

``import convtrace`` does not load this room; ``convtrace.Explorer`` does, and says which
extra to install when anywidget is missing.

>>> from convtrace.notebook import NOTEBOOK_EXTRA
>>> NOTEBOOK_EXTRA
"pip install 'convtrace[notebook]'"
"""

from __future__ import annotations

from typing import Any

__all__ = ["Explorer", "NOTEBOOK_EXTRA", "answer"]

#: what to install for the widget
NOTEBOOK_EXTRA = "pip install 'convtrace[notebook]'"
#: the packages the widget needs (anywidget brings ipywidgets and traitlets)
_NEEDS = ("anywidget", "ipywidgets", "traitlets", "comm")


def __getattr__(name: str) -> Any:
    """``Explorer`` and ``answer``, loaded on first use (they import anywidget)."""
    if name in ("Explorer", "answer"):
        try:
            from . import widget
        except ModuleNotFoundError as exc:
            if (exc.name or "").split(".")[0] not in _NEEDS:
                raise
            raise ImportError(f"convtrace.Explorer needs anywidget (the notebook extra): {NOTEBOOK_EXTRA}"
                              f" (missing: {exc.name})") from exc
        return getattr(widget, name)
    raise AttributeError(f"module 'convtrace.notebook' has no attribute {name!r}")
