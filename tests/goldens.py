"""Golden files of rendered output (text, JSON, SVG): compare, or rewrite them when
``CONVTRACE_REGEN_GOLDEN=1`` (then review the diff, and look at the figures, before committing)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

GOLDEN_ROOT = Path(__file__).resolve().parent / "golden"
REGEN = os.environ.get("CONVTRACE_REGEN_GOLDEN") == "1"


def golden_checker(folder: str) -> Callable[[str, str], None]:
    """``check(name, text)`` against ``tests/golden/<folder>/<name>`` (or rewrite it)."""
    directory = GOLDEN_ROOT / folder

    def check(name: str, text: str) -> None:
        path = directory / name
        if REGEN:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return
        assert path.exists(), f"missing golden file {path}: run with CONVTRACE_REGEN_GOLDEN=1"
        expected = path.read_text(encoding="utf-8")
        assert text == expected, f"{name} differs from its golden file (CONVTRACE_REGEN_GOLDEN=1 rewrites it)"

    return check
