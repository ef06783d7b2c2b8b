"""Explorer latency on the demo configuration (a benchmark, not a test): the page's first
render and each parameter change, target < 100 ms each.

Starts ``convtrace serve`` on 127.0.0.1 (a free port) and measures
1. the HTTP requests one render makes (explain, overview, snippet, step figure), over a
   keep-alive connection, and
2. in headless Chromium (when /usr/bin/chromium exists), the page's own timings: from the
   moment an update starts (after the 120 ms typing debounce) until the DOM shows it, and for
   the first render (the answers come inside the page) also from the navigation's start.

Run: .venv/bin/python bench/bench_web.py
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

DEMO: dict[str, Any] = {"input": [1, 1, 1, 1], "kernel_size": 3, "padding": 1, "stride": 1, "dilation": 1,
                        "groups": 1, "transposed": False, "padding_mode": "zeros"}
CHANGES: list[dict[str, Any]] = [
    {"stride": 2}, {"padding": 0}, {"kernel_size": 2}, {"dilation": 2, "kernel_size": 2}, {"padding_mode": "reflect"},
    {"transposed": True, "stride": 2, "output_padding": 1, "padding_mode": None}, {"input": [1, 2, 3, 4]},
]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-m", "convtrace", "serve", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/torch")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("convtrace serve did not start")


def _post(conn: http.client.HTTPConnection, path: str, body: dict[str, Any]) -> None:
    conn.request("POST", path, json.dumps(body), {"content-type": "application/json"})
    r = conn.getresponse()
    r.read()
    if r.status not in (200, 422):
        raise SystemExit(f"{path}: HTTP {r.status}")


def _render(conn: http.client.HTTPConnection, cfg: dict[str, Any]) -> float:
    """One page update's requests, in the page's order; milliseconds."""
    cfg = {k: v for k, v in cfg.items() if v is not None}
    t0 = time.perf_counter()
    _post(conn, "/api/explain", cfg)
    _post(conn, "/api/draw", {**cfg, "step": None})
    _post(conn, "/api/snippet", cfg)
    _post(conn, "/api/draw", {**cfg, "step": 0})
    return (time.perf_counter() - t0) * 1000


def http_timings(port: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    first = _render(conn, DEMO)
    changes = []
    for _ in range(5):  # fresh configurations each round (the server caches 32 answers)
        for i, change in enumerate(CHANGES):
            changes.append(_render(conn, {**DEMO, **change, "input": [1, 1, 1, 1, 1 + len(changes) + i]}))
    print("HTTP, one page render (explain + overview + snippet + step figure), demo configuration:")
    print(f"  first render      {first:7.1f} ms")
    print(f"  parameter change  median {statistics.median(changes):6.1f} ms, max {max(changes):6.1f} ms "
          f"over {len(changes)} changes")


def browser_timings(port: int) -> None:
    if not Path(CHROMIUM).exists():
        print("browser: skipped (no /usr/bin/chromium)")
        return
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        t0 = time.perf_counter()
        page.goto(f"http://127.0.0.1:{port}/")
        page.wait_for_selector("body[data-ready]")
        load = (time.perf_counter() - t0) * 1000
        for i, (field, value) in enumerate([("stride", "2"), ("padding", "0"), ("kernel_size", "2"), ("dilation", "2"),
                                            ("input", "1,2,3,4,5"), ("stride", "1"), ("padding", "1")] * 3):
            page.get_by_test_id(field).fill(value)
            page.wait_for_function(f"window.convtraceTimings.filter(t => t.kind === 'update').length >= {i + 2}")
        for _ in range(6):
            page.get_by_test_id("next").click()
            page.wait_for_timeout(60)
        timings = page.evaluate("window.convtraceTimings")
        paint = page.evaluate("performance.getEntriesByType('paint').map(e => [e.name, e.startTime])")
        browser.close()
    updates = [t["ms"] for t in timings if t["kind"] == "update"]
    steps = [t["ms"] for t in timings if t["kind"] == "step"]
    print("Chromium, the page's own timings (update start -> DOM shows it):")
    print(f"  page load to first figure  {load:7.1f} ms (navigation, assets, first render)")
    first = timings[0]
    how = "from the answers inside the page" if first.get("embedded") else "through the API"
    print(f"  first render               {updates[0]:7.1f} ms ({how})")
    print(f"  navigation start to first figure in the DOM {first['at']:7.1f} ms; paints: "
          + ", ".join(f"{name} {ms:.1f} ms" for name, ms in paint))
    print(f"  parameter change           median {statistics.median(updates[1:]):6.1f} ms, "
          f"max {max(updates[1:]):6.1f} ms over {len(updates) - 1} changes")
    print(f"  step change                median {statistics.median(steps):6.1f} ms, max {max(steps):6.1f} ms")


def main() -> int:
    port = _free_port()
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    proc = _start(port)
    try:
        http_timings(port)
        browser_timings(port)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
