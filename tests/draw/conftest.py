"""Fixtures of the drawing tests.

Golden SVG files live in ``tests/golden/draw``. Regenerate them after an intended change
with ``CONVTRACE_REGEN_GOLDEN=1 pytest tests/draw``, look at them (render to PNG), and review
the diff before committing.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from goldens import GOLDEN_ROOT, golden_checker

GOLDEN_DIR = GOLDEN_ROOT / "draw"


@pytest.fixture
def golden() -> Callable[[str, str], None]:
    """``golden(name, text)``: compare with ``tests/golden/draw/<name>`` (or rewrite it)."""
    return golden_checker("draw")
