"""Wall time of the ``convtrace`` command, interpreter start-up included (``make bench``).

1. Without the check (medians of several runs in a fresh subprocess):

   * ``convtrace explain`` on the demo configuration (input 1,1,1,1, kernel of ones, stride 1,
     padding 1) with ``--no-verify`` — target < 0.3 s;
   * ``convtrace explain --at`` on a (4, 256, 200_000) float32 ``.npy`` input (memory-mapped)
     with ``--no-verify`` — target < 0.5 s.

2. With PyTorch's check, as a learner runs them — ``explain`` and ``demo`` (text) and ``draw``
   (an SVG): the time to the first line of output (read from the subprocess's stdout as it
   comes) and the total (until the process has exited), each as min–max over ``--rounds``,
   measured side by side in one run: the rounds interleave the commands (and the source trees,
   with ``--baseline``), with their medians. Target: the first line in < 0.3 s (median).

``--baseline DIR`` also runs the ``src`` directory DIR (e.g. an older commit exported with
``git archive <commit> src | tar -x -C /tmp/old``) in the same rounds, for a before/after.

Usage: ``python bench/bench_cli.py [--runs 7] [--rounds 5] [--baseline /tmp/old/src]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TARGETS = {"explain, demo configuration, --no-verify": 0.3, "explain --at on (4, 256, 200000) .npy": 0.5}
#: the first line of output must come within this many seconds, check or not
FIRST_LINE_TARGET = 0.3
SOURCE = Path(__file__).resolve().parents[1] / "src"

_DEMO_CONFIG = ["--input", "1,1,1,1", "--kernel-size", "3", "--padding", "1"]
_GIF_CONV = ["--input", ",".join(["1"] * 12), "--kernel-size", "3", "--padding", "1"]
_GIF_TRANSPOSED = [*_GIF_CONV[:4], "--stride", "2", "--padding", "1", "--output-padding", "1", "--transposed"]
#: the commands of part 2 (with the check), by name; ``{out}`` is a scratch directory
CHECKED = {
    "explain (demo configuration)": ["explain", *_DEMO_CONFIG],
    "demo": ["demo"],
    "draw (SVG)": ["draw", *_DEMO_CONFIG, "-o", "{out}/demo.svg"],
    "explain --no-verify (for reference)": ["explain", *_DEMO_CONFIG, "--no-verify"],
    # 12-frame animations: the total is what counts (the first line is the path, once written)
    "draw GIF, Conv1d": ["draw", *_GIF_CONV, "-o", "{out}/t.gif"],
    "draw GIF, Conv1d, --no-verify": ["draw", *_GIF_CONV, "--no-verify", "-o", "{out}/t.gif"],
    "draw GIF, ConvTranspose1d": ["draw", *_GIF_TRANSPOSED, "-o", "{out}/tt.gif"],
    "draw GIF, ConvTranspose1d, --no-verify": ["draw", *_GIF_TRANSPOSED, "--no-verify", "-o", "{out}/tt.gif"],
}


def _env(source: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(source), "COLUMNS": "80"}


def _time(cmd: list[str], runs: int, source: Path) -> float:
    subprocess.run(cmd, check=True, capture_output=True, env=_env(source))  # warm the file cache
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, env=_env(source))
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def first_line_and_total(cmd: list[str], source: Path) -> tuple[float, float]:
    """Seconds from the start of ``cmd`` to its first line on stdout, and to its exit."""
    t0 = time.perf_counter()
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=_env(source)) as proc:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        t1 = time.perf_counter()
        proc.stdout.read()
        code = proc.wait()
    t2 = time.perf_counter()
    if code != 0 or not first:
        raise RuntimeError(f"{' '.join(cmd)} failed (exit code {code})")
    return t1 - t0, t2 - t0


def _load() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:  # pragma: no cover - not on every system
        return "?"


def _no_verify_part(runs: int) -> bool:
    base = [sys.executable, "-m", "convtrace", "explain", "--no-verify"]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.npy"
        x = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(4, 256, 200_000))
        x[:] = np.float32(0.5)
        x.flush()
        del x
        cmds = [
            base + _DEMO_CONFIG,
            base + ["--input", f"@{path}", "--out-channels", "8", "--kernel-size", "5", "--at", "3,7,123456"],
        ]
        results = {name: _time(cmd, runs, SOURCE) for name, cmd in zip(TARGETS, cmds)}
    ok = True
    for name, seconds in results.items():
        target = TARGETS[name]
        verdict = "ok" if seconds < target else "SLOW"
        ok &= seconds < target
        print(f"{name:45s} median {seconds * 1000:7.1f} ms   target < {target * 1000:.0f} ms   {verdict}")
    return ok


def _checked_part(rounds: int, baseline: Path | None, only: str | None = None) -> bool:
    sources = {"now": SOURCE, **({"baseline": baseline} if baseline is not None else {})}
    commands = {name: argv for name, argv in CHECKED.items() if only is None or only in name}
    times: dict[tuple[str, str], list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as out:
        for rnd in range(rounds + 1):  # round 0 warms the file cache and is not counted
            for name, argv in commands.items():
                for label, source in sources.items():
                    cmd = [sys.executable, "-m", "convtrace", *(a.format(out=out) for a in argv)]
                    result = first_line_and_total(cmd, source)
                    if rnd:
                        times.setdefault((name, label), []).append(result)
    print(f"\nwith the check: first line and total, min–max over {rounds} rounds (load average at the end {_load()})")
    print(f"{'command':38s} {'source':9s} {'first line: min–max (median)':>28s} {'total: min–max (median)':>26s}")
    ok = True
    for (name, label), values in times.items():
        first = [f for f, _ in values]
        total = [t for _, t in values]
        if label == "now" and not name.startswith("draw GIF"):
            ok &= statistics.median(first) < FIRST_LINE_TARGET
        print(f"{name:38s} {label:9s} {_spread(first):>28s} {_spread(total):>26s}")
    print(f"target: the first line in < {FIRST_LINE_TARGET} s, median (source 'now'): {'ok' if ok else 'SLOW'}")
    return ok


def _spread(seconds: list[float]) -> str:
    return f"{min(seconds):.2f}–{max(seconds):.2f} s ({statistics.median(seconds):.2f})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default=None, help="part 2: only the commands whose name contains this text")
    ap.add_argument("--runs", type=int, default=7, help="runs per median of part 1")
    ap.add_argument("--rounds", type=int, default=5, help="rounds of part 2")
    ap.add_argument("--baseline", type=Path, default=None, help="another src directory, measured alongside")
    ap.add_argument("--only-checked", action="store_true", help="part 2 only")
    args = ap.parse_args()
    print(f"convtrace from {SOURCE}; load average at the start {_load()}")
    ok = True
    if not args.only_checked:
        ok &= _no_verify_part(args.runs)
    ok &= _checked_part(args.rounds, args.baseline, args.only)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
