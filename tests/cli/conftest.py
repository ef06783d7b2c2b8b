"""Fixtures of the command-line and renderer tests.

Golden files live in ``tests/golden/cli``. Regenerate them after an intended change with
``CONVTRACE_REGEN_GOLDEN=1 pytest tests/cli`` and review the diff before committing.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from goldens import GOLDEN_ROOT, golden_checker

GOLDEN_DIR = GOLDEN_ROOT / "cli"


@pytest.fixture
def golden() -> Callable[[str, str], None]:
    """``golden(name, text)``: compare with ``tests/golden/cli/<name>`` (or rewrite it)."""
    return golden_checker("cli")


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
