"""Fixtures of the explorer's tests: the FastAPI app in-process, a real server (uvicorn on
127.0.0.1, a free port) and Playwright's Chromium at /usr/bin/chromium (never a downloaded
browser). Screenshots go to tests/web/artifacts/ (git-ignored; CI keeps them)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browsers import artifacts_folder, browser_type_launch_args, free_port, stop, wait_until_up
from hidden import hiding

__all__ = ["browser_type_launch_args"]  # the fixture, shared with tests/notebook

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


@pytest.fixture(scope="session")
def artifacts() -> Path:
    return artifacts_folder(ARTIFACTS)


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


NO_TORCH = hiding("torch")


def _serve(first_on_path: list[str]) -> Iterator[str]:
    pytest.importorskip("fastapi")
    pytest.importorskip("uvicorn")
    port = free_port()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(first_on_path + [p for p in sys.path if p]))
    proc = subprocess.Popen([sys.executable, "-m", "convtrace", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url + "/api/torch", proc, "convtrace serve",
                      lambda: proc.stderr.read().decode() if proc.stderr else "")
        yield url
    finally:
        stop(proc)


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
