"""``convtrace serve`` itself: ``--port 0`` picks a free port, says which, and serves on it;
a port that a stopped server's connections still hold (TIME_WAIT) is taken at once."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request

import pytest


def test_port_0_picks_a_free_port_and_says_which() -> None:
    pytest.importorskip("fastapi")
    pytest.importorskip("uvicorn")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.Popen([sys.executable, "-m", "convtrace", "serve", "--port", "0"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()  # printed before the server starts
        found = re.fullmatch(r"convtrace explorer on http://127\.0\.0\.1:(\d+)/ \(Ctrl-C stops it\)\n", line)
        assert found, (line, proc.poll())
        port = int(found.group(1))
        assert 0 < port < 65536
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/torch", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "the server did not answer on its port"
                time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_port_in_time_wait_is_taken_at_once() -> None:
    """The port of a server that just stopped (its side of a connection in TIME_WAIT) is
    reused, as uvicorn itself would; a port something listens on is still refused."""
    from convtrace.cli.serve import listening_socket

    with listening_socket("127.0.0.1", 0) as server:
        port = server.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        conn, _ = server.accept()
        conn.close()  # the server closes first: its end waits in TIME_WAIT
        client.close()
    with listening_socket("127.0.0.1", port) as again:
        assert again.getsockname()[1] == port
        with pytest.raises(OSError, match="in use"):
            listening_socket("127.0.0.1", port)
