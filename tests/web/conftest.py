"""Fixtures of the explorer's tests: the FastAPI app in-process, a real server (uvicorn on
127.0.0.1, a free port) and Playwright's Chromium at /usr/bin/chromium (never a downloaded
browser). Screenshots go to tests/web/artifacts/ (git-ignored; CI keeps them)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browsers import free_port as _free_port
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


@pytest.fixture(scope="session")
def server() -> Iterator[str]:
    """``convtrace serve`` on 127.0.0.1 and a free port, in a child process; its base URL."""
    yield from _serve([])


@pytest.fixture(scope="session")
def server_without_torch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The same, in a process that cannot find torch (a sitecustomize puts a finder first that
    says there is no such module): the page must say PyTorch is missing."""
    blocker = tmp_path_factory.mktemp("no_torch")
    (blocker / "sitecustomize.py").write_text(NO_TORCH)
    yield from _serve([str(blocker)])


NO_TORCH = """\
import sys


class _NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError("No module named 'torch' (hidden for this test)", name="torch")
        return None


sys.meta_path.insert(0, _NoTorch())
"""


def _serve(first_on_path: list[str]) -> Iterator[str]:
    pytest.importorskip("fastapi")
    pytest.importorskip("uvicorn")
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(first_on_path + [p for p in sys.path if p]))
    proc = subprocess.Popen([sys.executable, "-m", "convtrace", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                with urllib.request.urlopen(url + "/api/torch", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    err = proc.stderr.read().decode() if proc.stderr else ""
                    pytest.fail(f"convtrace serve did not start: {err[-2000:]}")
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def explorer(page: Any, server: str) -> Iterator[Any]:
    """The page (1400 x 1000), loaded and rendered; fails the test on any console error."""
    pytest.importorskip("playwright")
    from playwright.sync_api import expect

    errors: list[str] = []
    expected = "the server responded with a status of 422"  # Chromium logs the API's designed answer
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and expected not in m.text else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(server + "/")
    expect(page.get_by_test_id("step-label")).to_have_text("step 1 of 4")
    yield page
    assert errors == [], errors


@pytest.fixture
def client() -> Any:
    """The app in-process (FastAPI's TestClient)."""
    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    from fastapi.testclient import TestClient

    from convtrace.web.app import create_app

    with TestClient(create_app()) as c:
        yield c
