"""Planning and inspection timings (``make bench``): not a test, figures for BENCHMARKS.md.

1. ``convtrace.plan.solve``: every goal with kernel sizes 1..64, dilations 1..4 and each
   stride 1..16 (for ``undo``: a Conv1d with kernel 64 and each stride; for ``length``:
   16000 → 1000 samples) — the worst time per goal; target < 1 s.
2. ``convtrace.inspect`` of a model with a billion parameters, built on PyTorch's meta
   device (nothing allocated), in a fresh process: wall time and peak resident memory of
   that process (its ``ru_maxrss``), beside the same process doing nothing but import
   torch, convtrace and build the model; target: seconds, no weights allocated (4 GB).
3. ``convtrace.inspect`` of the three transformers models the tests use (random weights,
   offline), if transformers is installed.

Usage: ``python bench/bench_plan.py [--runs 3]``; prints a Markdown section.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

GOALS = ("same", "down", "up", "undo", "length")

CHILD = """
import json, resource, sys, time
t0 = time.perf_counter()
import torch
from torch import nn
import convtrace
import convtrace.inspect  # the callable package (also reachable lazily as convtrace.inspect)
with torch.device("meta"):
    model = nn.Sequential(
        nn.Conv1d(1, 512, 10, stride=5), nn.GELU(),
        nn.Conv1d(512, 8192, 8, stride=4), nn.GELU(),
        nn.Conv1d(8192, 8192, 15, padding=7), nn.GELU(),
        nn.ConvTranspose1d(8192, 64, 8, stride=4, padding=2),
    )
params = sum(p.numel() for p in model.parameters())
built = time.perf_counter() - t0
rss_built = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t1 = time.perf_counter()
report = convtrace.inspect(model, (1, 1, 16000)) if sys.argv[1] == "inspect" else None
took = time.perf_counter() - t1
print(json.dumps({"params": params, "build_s": built, "inspect_s": took,
                  "rss_built_mb": rss_built / 1024,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "output_length": None if report is None else report.output_length,
                  "device": None if report is None else report.device}))
"""


def bench_solve(runs: int) -> dict[str, tuple[float, int]]:
    """Worst (over strides 1..16) median time per goal, and the solutions counted there."""
    from convtrace.plan.layers import Layer
    from convtrace.plan.solve import solve

    out: dict[str, tuple[float, int]] = {}
    for goal in GOALS:
        worst, count = 0.0, 0
        for s in range(1, 17):
            kwargs: dict[str, object] = {"stride": s, "kernel_sizes": range(1, 65), "dilations": range(1, 5)}
            if goal == "undo":
                kwargs = {"conv": Layer("conv", 64, s, 32), "kernel_sizes": range(1, 65), "dilations": range(1, 5)}
            if goal == "length":
                kwargs.update(length=16000, target=1000)
            times = []
            for _ in range(runs):
                t0 = time.perf_counter()
                report = solve(goal, **kwargs)  # type: ignore[arg-type]
                times.append(time.perf_counter() - t0)
            t = statistics.median(times)
            if t > worst:
                worst, count = t, report.count
        out[goal] = (worst, count)
    return out


def bench_billion() -> tuple[dict[str, object], dict[str, object]]:
    env = {**os.environ, "OMP_NUM_THREADS": "2"}
    results = []
    for mode in ("build-only", "inspect"):
        done = subprocess.run([sys.executable, "-c", CHILD, mode], capture_output=True, text=True, check=True,
                              env=env, timeout=600)  # fmt: skip
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return results[0], results[1]


def bench_transformers(runs: int) -> list[tuple[str, float, str, int | None]]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import torch
        import transformers
    except ImportError:
        return []
    import convtrace.inspect

    torch.manual_seed(0)
    cases = [
        ("EncodecModel(EncodecConfig()), 1 s at 24 kHz", transformers.EncodecModel(transformers.EncodecConfig()),
         (1, 1, 24000), -1),
        ("Wav2Vec2Model(num_hidden_layers=2), 1 s at 16 kHz",
         transformers.Wav2Vec2Model(transformers.Wav2Vec2Config(num_hidden_layers=2)), (1, 16000), -1),
        ("SpeechT5HifiGan(), 100 mel frames", transformers.SpeechT5HifiGan(transformers.SpeechT5HifiGanConfig()),
         (1, 100, 80), 1),
    ]  # fmt: skip
    rows = []
    for name, model, shape, td in cases:
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            report = convtrace.inspect(model, shape, time_dim=td)
            times.append(time.perf_counter() - t0)
        rows.append((name, statistics.median(times), report.device, report.output_length))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    solve_rows = bench_solve(args.runs)
    base, billion = bench_billion()
    models = bench_transformers(args.runs)
    print("## Planning and inspection\n")
    print(f"`python bench/bench_plan.py --runs {args.runs}` (median of {args.runs} runs; Python "
          f"{sys.version.split()[0]}).\n")  # fmt: skip
    print("| solve goal (kernel sizes 1..64, dilations 1..4, strides 1..16) | worst time | solutions there | target |")
    print("|---|---|---|---|")
    for goal, (t, count) in solve_rows.items():
        print(f"| `{goal}` | {t * 1000:.1f} ms | {count} | < 1 s: {'met' if t < 1 else 'NOT met'} |")
    print()
    print(f"Inspecting a model with {billion['params']:,} parameters built on the meta device "
          f"(`convtrace.inspect(model, (1, 1, 16000))`, fresh process): **{billion['inspect_s']:.2f} s**, "
          f"output length {billion['output_length']} ({billion['device']} device). Peak resident memory of the "
          f"process: {billion['peak_rss_mb']:.0f} MB, against {base['peak_rss_mb']:.0f} MB for the same process "
          f"that only imports torch and convtrace and builds the model — the weights alone would take "
          f"{billion['params'] * 4 / 2**30:.1f} GiB in float32.\n")  # fmt: skip
    if models:
        print("| transformers model (random weights, offline) | inspect | device | output length |")
        print("|---|---|---|---|")
        for name, t, device, length in models:
            print(f"| {name} | {t:.2f} s | {device} | {length} |")
        print("\nEnCodec runs on the CPU: its forward calls `.item()`, which meta tensors cannot "
              "answer, so inspect falls back to a real run (warning W201).")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
