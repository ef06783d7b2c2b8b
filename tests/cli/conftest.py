"""Fixtures of the command-line and renderer tests.

Golden files live in ``tests/golden/cli``. Regenerate them after an intended change with
``CONVTRACE_REGEN_GOLDEN=1 pytest tests/cli`` and review the diff before committing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

GOLDEN_DIR = Path(__file__).resolve().parent.parent / "golden" / "cli"
REGEN = os.environ.get("CONVTRACE_REGEN_GOLDEN") == "1"


@pytest.fixture
def golden() -> Callable[[str, str], None]:
    """``golden(name, text)``: compare with ``tests/golden/cli/<name>`` (or rewrite it)."""

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


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """``run_cli(*argv)`` -> (exit code, stdout, stderr), in this process."""
    from convtrace.cli import main

    def run(*argv: str) -> tuple[int, str, str]:
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse (--help, --version, usage errors)
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return run
