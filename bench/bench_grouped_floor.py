"""How fast can a NumPy engine run a grouped convolution on two threads? (A diagnostic, not a test.)

For the grouped shapes of ``bench.py`` (ResNeXt-style, 32 channels per group) it times, side
by side in one run, torch's forward and, as fractions of it:

* ``convtrace``: ``convtrace.functional.conv1d`` (the ``im2col_mt`` algorithm);
* ``copy + GEMM``: the same small-GEMM tiles in the leanest loop NumPy allows (one column
  copy from a pre-padded input and one batched GEMM per tile, nothing else), on the same
  two worker threads, BLAS on one thread each;
* ``GEMM only``: the same GEMMs alone, their columns copied once beforehand;
* ``fork/join``: handing two empty jobs to the worker threads and collecting them.

The GEMMs are OpenBLAS's (NumPy's) on the same tiles convtrace runs, so ``GEMM only`` is a
floor for any NumPy engine that multiplies these small per-group matrices; the gap between
it and torch's whole convolution is what such an engine has left for copying the columns,
its Python loop and waking its threads.

Run: .venv/bin/python bench/bench_grouped_floor.py [--rounds R]
(2 threads; like ``bench.py`` it drops ``OPENBLAS_CORETYPE`` / ``OPENBLAS_L2_SIZE`` for its
own process when a GEMM probe shows NumPy faster without them. It also sets glibc's
``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_`` to 1 GiB in that process, so that
freed buffers stay with the process: in some process histories every torch call otherwise
page-faults its output afresh and takes 3-6x its best time, see BENCHMARKS.md, "Noise".
The comparison is against torch at its best.)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench  # the suite, the timing rules and the BLAS set-up

THREADS = 2
CASES = ("resnext_g2", "resnext_g4", "resnext_g8")
STEADY_MALLOC = 1 << 30  # glibc's mmap and trim thresholds in the measuring process


def _lean_loops(case: bench.Case, a: dict[str, Any]) -> dict[str, Callable[[], Any]]:
    """The lean two-worker loops over convtrace's own tiles of ``case``'s forward."""
    import numpy as np

    from convtrace.engine import fast_threads

    x, w = a["x"], a["w"]
    n, c_in, length = x.shape
    c_out, cg, k_size = w.shape
    groups, og, pad = case.groups, c_out // case.groups, case.padding
    field = cg * k_size
    positions = fast_threads._tile_positions(og, field, c_in, k_size, x.dtype.itemsize)
    out_len = case.out_length()
    w2 = np.ascontiguousarray(w.reshape(groups, og, field))
    xp = np.zeros((n, c_in, length + 2 * pad), dtype=x.dtype)
    xp[:, :, pad : pad + length] = x
    sn, sc, sl = xp.strides
    windows = np.lib.stride_tricks.as_strided(
        xp, (n, groups, cg, k_size, out_len), (sn, cg * sc, sc, sl, sl), writeable=False)
    y = np.empty((n, c_out, out_len), dtype=x.dtype)
    starts = list(range(0, out_len - positions + 1, positions))  # whole tiles only
    items = [list(range(i, n, THREADS)) for i in range(THREADS)]
    columns = np.empty((THREADS, groups, cg, k_size, positions), dtype=x.dtype)
    for i in range(THREADS):
        columns[i] = windows[0, ..., :positions]

    def worker(index: int, copy: bool) -> Callable[[], None]:
        col = columns[index]
        col2 = col.reshape(groups, field, positions)

        def run() -> None:
            for item in items[index]:
                out = y[item].reshape(groups, og, out_len)
                for p0 in starts:
                    if copy:
                        np.copyto(col, windows[item, ..., p0 : p0 + positions])
                    np.matmul(w2, col2, out=out[:, :, p0 : p0 + positions])

        return run

    def nothing() -> None:
        return None

    return {
        "copy + GEMM": lambda: fast_threads._run([worker(i, True) for i in range(THREADS)]),
        "GEMM only": lambda: fast_threads._run([worker(i, False) for i in range(THREADS)]),
        "fork/join": lambda: fast_threads._run([nothing] * THREADS),
    }


def run(rounds: int) -> None:
    import numpy as np
    import torch

    torch.set_num_threads(THREADS)
    print("grouped forward on 2 threads; each row: median ms, and the median (min-max) over "
          f"{rounds} rounds of its time / torch's")
    for note in bench.machine_notes(THREADS):
        print(" ", note)
    print(f"  MALLOC_MMAP_THRESHOLD_={os.environ.get('MALLOC_MMAP_THRESHOLD_')}, "
          f"MALLOC_TRIM_THRESHOLD_={os.environ.get('MALLOC_TRIM_THRESHOLD_')}")
    for name in CASES:
        case = next(c for c in bench.SUITE if c.name == name)
        a = bench.make_arrays(case)
        calls = {"torch": bench.torch_calls(case, a)[0], "convtrace": bench.convtrace_calls(case, a)[0]}
        calls.update(_lean_loops(case, a))
        want = calls["torch"]().numpy()
        assert np.allclose(calls["convtrace"](), want, rtol=1e-4, atol=1e-4)
        samples = bench.time_blocks(calls, rounds)
        print(f"\n{name}: {case.describe()}")
        for label, times in samples.items():
            ratios = sorted(t / b for t, b in zip(times, samples["torch"]))
            print(f"  {label:12s} {bench._median(times) * 1e3:7.3f} ms  "
                  f"{bench._median(ratios):.2f} ({ratios[0]:.2f}-{ratios[-1]:.2f})")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args(argv)
    if os.environ.get(bench.CHILD_FLAG):
        run(args.rounds)
        return 0
    mode = bench.choose_openblas_env(THREADS)
    env = bench.child_env(THREADS, mode)
    env.update(MALLOC_MMAP_THRESHOLD_=str(STEADY_MALLOC), MALLOC_TRIM_THRESHOLD_=str(STEADY_MALLOC))
    return subprocess.run([sys.executable, __file__, *argv], env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
