"""Fixtures of the notebook widget's tests: the system Chromium (as tests/web) and the
screenshots' folder tests/notebook/artifacts/ (git-ignored; CI keeps them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from browsers import launch_args

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    """pytest-playwright's launch arguments: the system Chromium (skip cleanly without it)."""
    return launch_args()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
