"""The system Chromium the browser tests launch (never a downloaded browser), a free port on
127.0.0.1 and a local server's start and stop: shared by the explorer page's tests
(tests/web) and the notebook widget's (tests/notebook), whose conftests import the fixture."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("CONVTRACE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def artifacts_folder(folder: Path) -> Path:
    """``folder`` for the tests' screenshots, made if missing (git-ignored; CI keeps it)."""
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    """pytest-playwright's launch arguments: the system Chromium (skip cleanly without it)."""
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium); CI installs it")
    return {"executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


def wait_until_up(url: str, proc: subprocess.Popen[Any], what: str, log: Callable[[], str], timeout: float = 60) -> None:
    """Poll ``url`` until it answers 200; fail the test with the end of ``log()`` if the
    server ``proc`` exits or ``timeout`` seconds pass first."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{what} did not start: {log()[-3000:]}")
            time.sleep(0.2)


def stop(proc: subprocess.Popen[Any]) -> None:
    """End the server ``proc`` (terminate; kill after 20 s)."""
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
