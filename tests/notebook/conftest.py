"""Fixtures of the notebook widget's tests: the system Chromium (as tests/web) and the
screenshots' folder tests/notebook/artifacts/ (git-ignored; CI keeps them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from browsers import artifacts_folder, browser_type_launch_args

__all__ = ["browser_type_launch_args"]  # the fixture, shared with tests/web

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


@pytest.fixture(scope="session")
def artifacts() -> Path:
    return artifacts_folder(ARTIFACTS)
