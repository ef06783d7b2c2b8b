"""Wall time of the ``convtrace`` command, interpreter start-up included (``make bench``).

Two measurements, each the median of several runs in a fresh subprocess:

1. ``convtrace explain`` on the demo configuration (input 1,1,1,1, kernel of ones, stride 1,
   padding 1) with ``--no-verify`` — target < 0.3 s;
2. ``convtrace explain --at`` on a (4, 256, 200_000) float32 ``.npy`` input (memory-mapped)
   with ``--no-verify`` — target < 0.5 s.

Usage: ``python bench/bench_cli.py [--runs 7]``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TARGETS = {"explain, demo configuration, --no-verify": 0.3, "explain --at on (4, 256, 200000) .npy": 0.5}


def _time(cmd: list[str], runs: int) -> float:
    subprocess.run(cmd, check=True, capture_output=True)  # warm the file cache
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    runs = ap.parse_args().runs
    base = [sys.executable, "-m", "convtrace", "explain", "--no-verify"]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.npy"
        x = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(4, 256, 200_000))
        x[:] = np.float32(0.5)
        x.flush()
        del x
        cmds = [
            base + ["--input", "1,1,1,1", "--kernel-size", "3", "--padding", "1"],
            base + ["--input", f"@{path}", "--out-channels", "8", "--kernel-size", "5", "--at", "3,7,123456"],
        ]
        results = {name: _time(cmd, runs) for name, cmd in zip(TARGETS, cmds)}
    ok = True
    for name, seconds in results.items():
        target = TARGETS[name]
        verdict = "ok" if seconds < target else "SLOW"
        ok &= seconds < target
        print(f"{name:45s} median {seconds * 1000:7.1f} ms   target < {target * 1000:.0f} ms   {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
