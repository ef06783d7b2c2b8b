"""convtrace's pools against torch.nn.functional (CPU), forward and input gradient, shape by shape.

Usage::

    python bench/bench_pool.py [--quick] [--only CASE,...] [--threads N] [--clock {wall,cpu}] [--rounds R]

The suite: every pool on text-CNN feature maps (N=64, 128 channels, 50 steps: max over a
window of 3 with 'same' padding, avg, LP, global max / avg over time, unpooling), on audio
(N=8, 64 channels, 16,000 samples: k=4 s=4, k=3 s=2 p=1, ceil_mode without the padding
counted, LP, adaptive pools with overlapping windows, unpooling) and on a long signal (one
item, 32 channels, 2,000,000 samples). float32.

* **Forward**: ``convtrace.functional.<op>`` against ``torch.nn.functional.<op>`` (no grad).
* **Backward**: ``convtrace.grad.<op>_input`` (from the input, or its size, and the output
  gradient) against PyTorch's backward of a graph recorded once (``torch.autograd.grad(y, x,
  gy, retain_graph=True)``: its kernels with what they saved, e.g. max pooling's indices, plus
  autograd's few microseconds). convtrace's max and adaptive-max gradients take the indices
  of a forward made once (``convtrace.functional.<op>(..., return_indices=True)``, outside the
  timing), as PyTorch's autograd saved them: ``grad.<op>_input(..., indices=...)``. The cost
  of recomputing the winners from the input (``grad.<op>_input`` without ``indices``) is
  timed too and printed in its own column, "bwd recompute ratio", which is NOT in the target
  geomean. convtrace's LP gradient recomputes the forward's sums inside the call, PyTorch's
  backward reads them from its saved tensors.
* **Timing**: ``bench.time_pair`` (rounds of alternating paused and warmed blocks, the
  median over rounds of the per-round ratio, with its min-max), as the convolution suite.
* **Memory**: ``bench.peak_extra_bytes`` against ``max(64 MiB, output size)``.

The thread count (``--threads``, 2 by default) is torch's (``torch.set_num_threads``) and
convtrace's: the environment's thread variables are set as for the convolution suite, and
the pool engine runs its tiles on that many worker threads (``engine.fast_threads.workers``;
BLAS only for a short global average's matrix-vector product). Target (issue 17): the geometric mean of the ratios convtrace / torch over
the forward and backward of every case at most 1.0. Exit code 0 whatever the results.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
import bench  # the timing rules, the memory probe and the thread set-up

TARGET_GEOMEAN = 1.0
#: The pools whose backward reads the indices their forward saved (PyTorch's and, in this
#: benchmark, convtrace's).
SAVES_INDICES = ("max_pool1d", "adaptive_max_pool1d")
SEED = 0


@dataclass(frozen=True)
class PoolCase:
    """One benchmarked pooling call."""

    name: str
    op: str
    shape: tuple[int, int, int]
    params: dict[str, Any] = field(default_factory=dict)
    long: bool = False

    def describe(self) -> str:
        n, c, length = self.shape
        args = " ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.op} N={n} C={c} L={length} {args}".strip()


TEXT = (64, 128, 50)
AUDIO = (8, 64, 16_000)
LONG = (1, 32, 2_000_000)

SUITE = (
    PoolCase("text_max_k3", "max_pool1d", TEXT, dict(kernel_size=3, stride=1, padding=1)),
    PoolCase("text_avg_k3", "avg_pool1d", TEXT, dict(kernel_size=3, stride=1, padding=1)),
    PoolCase("text_lp2_k3", "lp_pool1d", TEXT, dict(norm_type=2.0, kernel_size=3, stride=1)),
    PoolCase("text_global_max", "adaptive_max_pool1d", TEXT, dict(output_size=1)),
    PoolCase("text_global_avg", "adaptive_avg_pool1d", TEXT, dict(output_size=1)),
    PoolCase("text_unpool_k2", "max_unpool1d", TEXT, dict(kernel_size=2, stride=2)),
    PoolCase("audio_max_k4s4", "max_pool1d", AUDIO, dict(kernel_size=4, stride=4)),
    PoolCase("audio_max_k3s2p1", "max_pool1d", AUDIO, dict(kernel_size=3, stride=2, padding=1)),
    PoolCase("audio_avg_k4s4", "avg_pool1d", AUDIO, dict(kernel_size=4, stride=4)),
    PoolCase("audio_avg_k3s2p1_ceil", "avg_pool1d", AUDIO,
             dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
    PoolCase("audio_lp2_k4s4", "lp_pool1d", AUDIO, dict(norm_type=2.0, kernel_size=4, stride=4)),
    PoolCase("audio_adaptive_avg_3000", "adaptive_avg_pool1d", AUDIO, dict(output_size=3000)),
    PoolCase("audio_adaptive_max_3000", "adaptive_max_pool1d", AUDIO, dict(output_size=3000)),
    PoolCase("audio_unpool_k4s4", "max_unpool1d", AUDIO, dict(kernel_size=4, stride=4)),
    PoolCase("long_max_k4s4", "max_pool1d", LONG, dict(kernel_size=4, stride=4), long=True),
    PoolCase("long_max_k3s2p1", "max_pool1d", LONG, dict(kernel_size=3, stride=2, padding=1), long=True),
    PoolCase("long_avg_k4s4", "avg_pool1d", LONG, dict(kernel_size=4, stride=4), long=True),
    PoolCase("long_lp2_k4s4", "lp_pool1d", LONG, dict(norm_type=2.0, kernel_size=4, stride=4), long=True),
)


# --------------------------------------------------------------------------- the calls


def make_arrays(case: PoolCase) -> dict[str, Any]:
    """The input (for unpooling: the pooled values and their indices, from max_pool1d on the
    case's shape), torch's forward output and a fixed output gradient."""
    import numpy as np
    import torch

    F = torch.nn.functional
    rng = np.random.default_rng(SEED)
    x = rng.standard_normal(case.shape).astype(np.float32)
    a: dict[str, Any] = {"x": x}
    if case.op == "max_unpool1d":
        k, s = case.params["kernel_size"], case.params["stride"]
        pooled, indices = F.max_pool1d(torch.from_numpy(x), k, s, return_indices=True)
        a["x"] = pooled.numpy()
        a["indices"] = indices.numpy()
        y = F.max_unpool1d(pooled, indices, k, s, output_size=[case.shape[-1]])
    else:
        y = getattr(F, case.op)(torch.from_numpy(x), **case.params)
    a["gy"] = rng.standard_normal(tuple(y.shape)).astype(np.float32)
    if case.op in SAVES_INDICES:  # the forward made once, its indices saved (as autograd saves them)
        import convtrace.functional as CF

        a["saved_indices"] = getattr(CF, case.op)(x, **case.params, return_indices=True)[1]
    return a


def _torch_forward(case: PoolCase, xt: Any, a: dict[str, Any]) -> Any:
    import torch

    F = torch.nn.functional
    if case.op == "max_unpool1d":
        p = case.params
        return F.max_unpool1d(xt, torch.from_numpy(a["indices"]), p["kernel_size"], p["stride"],
                              output_size=[case.shape[-1]])
    return getattr(F, case.op)(xt, **case.params)


def torch_calls(case: PoolCase, a: dict[str, Any]) -> tuple[Callable[[], Any], Callable[[], Any]]:
    """PyTorch's forward (no grad) and its backward of a graph recorded once."""
    import torch

    x = torch.from_numpy(a["x"])
    xr = x.clone().requires_grad_(True)
    y = _torch_forward(case, xr, a)
    gy = torch.from_numpy(a["gy"])

    def forward() -> Any:
        with torch.no_grad():
            return _torch_forward(case, x, a)

    def backward() -> Any:
        return torch.autograd.grad(y, xr, gy, retain_graph=True)[0]

    return forward, backward


def convtrace_calls(
    case: PoolCase, a: dict[str, Any], *, recompute: bool = False
) -> tuple[Callable[[], Any] | None, Callable[[], Any]]:
    """convtrace's forward (None where ``convtrace.functional`` has no such op yet) and its
    input gradient (max pools: from the saved indices, or with ``recompute`` from the input)."""
    import convtrace.functional as CF
    import convtrace.grad as G

    x, gy, p = a["x"], a["gy"], case.params
    forward_fn = getattr(CF, case.op, None)
    forward: Callable[[], Any] | None = None
    if forward_fn is not None:
        if case.op == "max_unpool1d":
            indices = a["indices"]

            def forward() -> Any:
                return forward_fn(x, indices, p["kernel_size"], p["stride"], output_size=[case.shape[-1]])
        else:

            def forward() -> Any:
                return forward_fn(x, **p)

    backward: Callable[[], Any]
    saved = None if recompute else a.get("saved_indices")
    if case.op == "max_pool1d":
        backward = lambda: G.max_pool1d_input(x, gy, **p, indices=saved)  # noqa: E731
    elif case.op == "avg_pool1d":
        backward = lambda: G.avg_pool1d_input(x.shape, gy, **p)  # noqa: E731
    elif case.op == "lp_pool1d":
        backward = lambda: G.lp_pool1d_input(x, gy, **p)  # noqa: E731
    elif case.op == "adaptive_avg_pool1d":
        backward = lambda: G.adaptive_avg_pool1d_input(x.shape, gy)  # noqa: E731
    elif case.op == "adaptive_max_pool1d":
        backward = lambda: G.adaptive_max_pool1d_input(x, gy, indices=saved)  # noqa: E731
    else:
        indices = a["indices"]
        backward = lambda: G.max_unpool1d_input(indices, gy)  # noqa: E731
    return forward, backward


# --------------------------------------------------------------------------- measuring


@dataclass
class Row:
    case: PoolCase
    fwd: bench.Timing | None
    bwd: bench.Timing
    bwd_recompute: bench.Timing | None  # max pools: convtrace's gradient without the saved indices
    error: tuple[float | None, float]  # max relative error vs torch: forward, backward
    memory: tuple[int | None, int, int]  # forward peak, backward peak, budget (bytes)


def measure(case: PoolCase, rounds: int) -> Row:
    """Check, time and size one case."""
    import numpy as np

    a = make_arrays(case)
    ct_fwd, ct_bwd = convtrace_calls(case, a)
    th_fwd, th_bwd = torch_calls(case, a)
    fwd_error = None if ct_fwd is None else bench.max_rel_error(_values(ct_fwd()), th_fwd())
    bwd_error = bench.max_rel_error(ct_bwd(), th_bwd())
    fwd = None if ct_fwd is None else bench.time_pair(ct_fwd, th_fwd, rounds)
    bwd = bench.time_pair(ct_bwd, th_bwd, rounds)
    bwd_recompute = None
    if case.op in SAVES_INDICES:
        _, ct_recompute = convtrace_calls(case, a, recompute=True)
        bwd_error = max(bwd_error, bench.max_rel_error(ct_recompute(), th_bwd()))
        bwd_recompute = bench.time_pair(ct_recompute, th_bwd, rounds)
    budget = max(bench.MEMORY_FLOOR, int(np.prod(case.shape)) * 4)
    memory = (None if ct_fwd is None else bench.peak_extra_bytes(ct_fwd), bench.peak_extra_bytes(ct_bwd), budget)
    return Row(case, fwd, bwd, bwd_recompute, (fwd_error, bwd_error), memory)


def _values(result: Any) -> Any:
    """A forward's values (the first of a (values, indices) pair)."""
    return result[0] if isinstance(result, tuple) else result


def _ms(t: bench.Timing | None, which: str) -> str:
    return "-" if t is None else f"{getattr(t, which) * 1e3:.3f}"


def _ratio(t: bench.Timing | None) -> str:
    return "-" if t is None else f"{t.ratio:.2f} ({t.ratio_lo:.2f}-{t.ratio_hi:.2f})"


def _mib(n: int | None) -> str:
    return "-" if n is None else f"{n / float(1 << 20):.1f}"


def _err(e: float | None) -> str:
    return "-" if e is None else f"{e:.1e}"


def print_report(rows: list[Row]) -> None:
    print("| case | configuration | fwd ct ms | fwd torch ms | fwd ratio (min-max) | bwd ct ms | bwd torch ms "
          "| bwd ratio (min-max) | bwd recompute ratio, not in the target (min-max) "
          "| extra MiB fwd / bwd / budget | max rel err fwd / bwd |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r.case.name} | {r.case.describe()} | {_ms(r.fwd, 'ours')} | {_ms(r.fwd, 'theirs')} "
              f"| {_ratio(r.fwd)} | {_ms(r.bwd, 'ours')} | {_ms(r.bwd, 'theirs')} | {_ratio(r.bwd)} "
              f"| {_ratio(r.bwd_recompute)} | {_mib(r.memory[0])} / {_mib(r.memory[1])} / {_mib(r.memory[2])} "
              f"| {_err(r.error[0])} / {_err(r.error[1])} |")
    fwd = [r.fwd.ratio for r in rows if r.fwd is not None]
    bwd = [r.bwd.ratio for r in rows]
    both = fwd + bwd
    print()
    print(f"{len(rows)} cases; forward timed on {len(fwd)} (convtrace.functional has the op)")
    if fwd:
        worst = max((r for r in rows if r.fwd is not None), key=lambda r: r.fwd.ratio if r.fwd else 0.0)
        print(f"forward geometric mean {bench.geomean(fwd):.3f}; worst {max(fwd):.2f} ({worst.case.name})")
    worst_b = max(rows, key=lambda r: r.bwd.ratio)
    print(f"backward geometric mean {bench.geomean(bwd):.3f}; worst {max(bwd):.2f} ({worst_b.case.name}); "
          "max pools from the saved indices")
    recompute = [r.bwd_recompute.ratio if r.bwd_recompute else r.bwd.ratio for r in rows]
    print(f"(not in the target: the backward geometric mean with the max pools' winners recomputed from the "
          f"input: {bench.geomean(recompute):.3f})")
    mem_ok = all((r.memory[0] or 0) <= r.memory[2] and r.memory[1] <= r.memory[2] for r in rows)
    checks = [
        (f"forward and backward geometric-mean ratio {bench.geomean(both):.3f} <= {TARGET_GEOMEAN}"
         + ("" if len(fwd) == len(rows) else f" (forward missing on {len(rows) - len(fwd)} cases)"),
         bench.geomean(both) <= TARGET_GEOMEAN),
        (f"peak extra memory <= max({bench.MEMORY_FLOOR >> 20} MiB, output size) on every case", mem_ok),
    ]
    for text, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}: {text}")


def run(args: argparse.Namespace) -> None:
    import time

    import torch

    torch.set_num_threads(args.threads)
    bench.blas_pools(limit=args.threads)
    if args.clock == "cpu":
        bench.CLOCK[0] = time.process_time
    rounds = args.rounds or (3 if args.quick else 9)
    print(f"convtrace pooling benchmark: ratio = convtrace / torch (median over {rounds} rounds of "
          f"alternating blocks; min-max over rounds in brackets); clock: {args.clock} time; float32")
    for line in bench.machine_notes(args.threads):
        print("  " + line)
    print()
    rows = []
    for case in bench.selected_suite(args.only, SUITE):
        rows.append(measure(case, rounds))
        print(f"  measured {case.name}", file=sys.stderr, flush=True)
    print_report(rows)


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    p.add_argument("--quick", action="store_true", help="short smoke run (3 rounds)")
    p.add_argument("--only", help="comma-separated case names (default: the whole suite)")
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="wall time (default) or the process's CPU time (use with --threads 1)")
    p.add_argument("--threads", type=int, default=2, help="threads for torch (default 2)")
    p.add_argument("--rounds", type=int, default=0, help="timing rounds (default 9, or 3 with --quick)")
    return p.parse_args(argv)


def main(argv: list[str]) -> int:
    """Re-launch in a child whose thread variables are fixed, which runs the benchmark."""
    args = parse_args(argv)
    if os.environ.get(bench.CHILD_FLAG):
        run(args)
        return 0
    env = bench.child_env(args.threads, "keep")
    subprocess.run([sys.executable, __file__, *argv], env=env, check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
