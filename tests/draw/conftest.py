"""Fixtures of the drawing tests.

Golden SVG files live in ``tests/golden/draw``. Regenerate them after an intended change
with ``CONVTRACE_REGEN_GOLDEN=1 pytest tests/draw``, look at them (render to PNG), and review
the diff before committing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

GOLDEN_DIR = Path(__file__).resolve().parent.parent / "golden" / "draw"
REGEN = os.environ.get("CONVTRACE_REGEN_GOLDEN") == "1"


@pytest.fixture
def golden() -> Callable[[str, str], None]:
    """``golden(name, text)``: compare with ``tests/golden/draw/<name>`` (or rewrite it)."""

    def check(name: str, text: str) -> None:
        path = GOLDEN_DIR / name
        if REGEN:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return
        assert path.exists(), f"missing golden file {path}: run with CONVTRACE_REGEN_GOLDEN=1"
        expected = path.read_text(encoding="utf-8")
        assert text == expected, f"{name} differs from its golden file (CONVTRACE_REGEN_GOLDEN=1 rewrites it)"

    return check
