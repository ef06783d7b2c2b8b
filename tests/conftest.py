"""Test configuration: seeded Hypothesis profiles and the ``torch`` marker.

Profiles (select with ``HYPOTHESIS_PROFILE=<name>``): ``default`` runs a few hundred
derandomized examples per sweep (the numbers are set per test with ``examples(n)``),
``quick`` a tenth of that, ``thorough`` ten times as many. These are derandomized, so a
run is reproducible and CI is not flaky. ``explore`` is ``thorough`` with fresh random
draws on every run, for hunting new failures locally.

PyTorch's CPU answer can depend on whether its oneDNN backend takes a call (CPU features,
dtype, shape). ``--onednn=off`` switches oneDNN off for the whole process; ``make test``
runs the suite both ways (the parity sweeps also ask PyTorch both ways themselves:
``backends.py``). The terminal width is pinned to 80 columns: rendered text must not depend
on the terminal the suite runs in (tests of the width set ``COLUMNS`` themselves).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

sys.path.insert(0, str(Path(__file__).parent))  # `import strategies` from any test module
os.environ["COLUMNS"] = "80"  # also for the CLI subprocesses the tests start
os.environ.pop("LINES", None)

_COMMON = dict(
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
settings.register_profile("default", **_COMMON)
settings.register_profile("quick", **_COMMON)
settings.register_profile("thorough", **_COMMON)
settings.register_profile("explore", **{**_COMMON, "derandomize": False})
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Every test in a module that needs the oracle carries the `torch` marker, so
    # `-m "not torch"` selects the NumPy-only part of the suite.
    for item in items:
        module = getattr(item, "module", None)
        if module is not None and getattr(module, "NEEDS_TORCH", False):
            item.add_marker(pytest.mark.torch)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--onednn",
        choices=("auto", "off"),
        default="auto",
        help="off: switch PyTorch's oneDNN (mkldnn) backend off for the whole run (default: PyTorch's choice)",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--onednn") == "off":
        import torch

        torch.backends.mkldnn.enabled = False
        assert not torch._C._get_mkldnn_enabled()


def pytest_report_header(config: pytest.Config) -> str:
    return f"oneDNN: {config.getoption('--onednn')}"


@pytest.fixture
def client() -> Any:
    """The explorer's app in-process (FastAPI's TestClient): the page's tests (tests/web) and
    the widget's (tests/notebook: its answers are the API's)."""
    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    from fastapi.testclient import TestClient

    from convtrace.web.app import create_app

    with TestClient(create_app()) as c:
        yield c
