"""The system Chromium the browser tests launch (never a downloaded browser) and a free port
on 127.0.0.1: shared by the explorer page's tests (tests/web) and the notebook widget's
(tests/notebook)."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("CONVTRACE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def launch_args() -> dict[str, Any]:
    """pytest-playwright's launch arguments: the system Chromium (skip cleanly without it)."""
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium); CI installs it")
    return {"executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}
