"""convtrace against torch.nn.functional (and the ONNX reference evaluator), shape by shape.

Usage::

    python bench/bench.py [--quick] [--threads N] [--openblas-env {unset,keep}]
                          [--rounds R] [--onnx-cap SECONDS] [--no-onnx]

For each shape of a fixed float32 suite it times the forward (``convtrace.functional``
against ``torch.nn.functional``) and the backward (``convtrace.grad``'s input and weight
gradients against ``torch.ops.aten.convolution_backward`` with both masks), side by side
in one run, and prints the median time ratio convtrace / torch, their geometric means and
PASS/FAIL against the targets, the algorithm the engine chose, the peak extra memory
(tracemalloc) against its budget, and the ONNX reference evaluator's forward time.

Timing: alternating blocks (torch, convtrace, torch, ... order swapped every round), each
a warm-up call then enough calls for ~50 ms, separated by a pause so that one library's
idle spinning worker threads (OpenBLAS spins ~0.1 s after a call) do not steal the cores
from the other. The median over rounds of the per-call time is reported.

The work runs in a child process whose environment fixes the thread counts (NumPy's
OpenBLAS through ``OPENBLAS_NUM_THREADS``, checked with threadpoolctl; torch through
``torch.set_num_threads``) and, with ``--openblas-env unset`` (the default), drops
``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE`` together so that OpenBLAS picks its kernel
for the actual CPU. The exit code is 0 whatever the results: this is a benchmark.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

CHILD_FLAG = "CONVTRACE_BENCH_CHILD"
BLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
TARGET_FWD_GEOMEAN = 1.0
TARGET_FWD_MAX = 1.5
TARGET_BWD_GEOMEAN = 1.25
BLOCK_SECONDS = 0.05
PAUSE_SECONDS = 0.15
MEMORY_SLACK = 64 << 10  # bytes: fixed per-call allocations (array headers, small temporaries)
SEED = 0


@dataclass(frozen=True)
class Case:
    """One benchmark shape: a Conv1d (or, if ``transposed``, a ConvTranspose1d) in float32."""

    name: str
    n: int
    c_in: int
    c_out: int
    length: int
    k: int
    stride: int = 1
    padding: int = 0
    dilation: int = 1
    groups: int = 1
    transposed: bool = False

    @property
    def weight_shape(self) -> tuple[int, int, int]:
        """PyTorch's weight layout: (C_out, C_in/g, K), or (C_in, C_out/g, K) if transposed."""
        if self.transposed:
            return (self.c_in, self.c_out // self.groups, self.k)
        return (self.c_out, self.c_in // self.groups, self.k)

    def out_length(self) -> int:
        """The output length of the convolution (PyTorch's formula)."""
        span = self.dilation * (self.k - 1)
        if self.transposed:
            return (self.length - 1) * self.stride - 2 * self.padding + span + 1
        return (self.length + 2 * self.padding - span - 1) // self.stride + 1

    def describe(self) -> str:
        """A compact description for the table."""
        kind = "ConvT" if self.transposed else "Conv"
        extra = "".join(
            f" {key}={val}"
            for key, val, default in (
                ("s", self.stride, 1), ("p", self.padding, 0), ("d", self.dilation, 1), ("g", self.groups, 1)
            )
            if val != default
        )
        return f"{kind} N={self.n} {self.c_in}->{self.c_out} L={self.length} k={self.k}{extra}"


SUITE: tuple[Case, ...] = (
    Case("textcnn_k3", 32, 300, 100, 256, 3),
    Case("textcnn_k4", 32, 300, 100, 256, 4),
    Case("textcnn_k5", 32, 300, 100, 256, 5),
    Case("wav2vec2_l0", 4, 1, 512, 16000, 10, stride=5),
    Case("wav2vec2_l1", 4, 512, 512, 3199, 3, stride=2),
    Case("tcn_d8", 8, 64, 64, 4096, 3, padding=16, dilation=8),
    Case("conformer_dw", 4, 256, 256, 2048, 31, padding=15, groups=256),
    Case("hifigan_up1", 1, 512, 256, 200, 16, stride=8, padding=4, transposed=True),
    Case("hifigan_up2", 1, 256, 128, 1600, 16, stride=8, padding=4, transposed=True),
    Case("tiny", 1, 1, 1, 4, 3, padding=1),
)


# --------------------------------------------------------------------------- calls


def make_arrays(case: Case) -> dict[str, Any]:
    """Seeded float32 input, weight and output gradient for a case."""
    import numpy as np

    rng = np.random.default_rng(SEED)
    x = rng.standard_normal((case.n, case.c_in, case.length), dtype=np.float32)
    w = rng.standard_normal(case.weight_shape, dtype=np.float32)
    w *= np.float32(1.0 / math.sqrt(case.weight_shape[1] * case.k))
    gy = rng.standard_normal((case.n, case.c_out, case.out_length()), dtype=np.float32)
    return {"x": x, "w": w, "gy": gy}


def convtrace_calls(case: Case, a: dict[str, Any]) -> tuple[Callable[[], Any], Callable[[], Any]]:
    """(forward, backward) through convtrace's public API."""
    from convtrace import functional, grad

    x, w, gy = a["x"], a["w"], a["gy"]
    if case.transposed:
        kw = {"stride": case.stride, "padding": case.padding, "groups": case.groups, "dilation": case.dilation}
        return (
            lambda: functional.conv_transpose1d(x, w, **kw),
            lambda: (
                grad.conv_transpose1d_input(x.shape, w, gy, **kw),
                grad.conv_transpose1d_weight(x, w.shape, gy, **kw),
            ),
        )
    kw = {"stride": case.stride, "padding": case.padding, "dilation": case.dilation, "groups": case.groups}
    return (
        lambda: functional.conv1d(x, w, **kw),
        lambda: (grad.conv1d_input(x.shape, w, gy, **kw), grad.conv1d_weight(x, w.shape, gy, **kw)),
    )


def torch_calls(case: Case, a: dict[str, Any]) -> tuple[Callable[[], Any], Callable[[], Any]]:
    """(forward, backward) through torch.nn.functional and aten.convolution_backward."""
    import torch

    x, w, gy = (torch.from_numpy(a[key]) for key in ("x", "w", "gy"))
    s, p, d, g = case.stride, case.padding, case.dilation, case.groups
    if case.transposed:
        def fwd() -> Any:
            return torch.nn.functional.conv_transpose1d(x, w, stride=s, padding=p, groups=g, dilation=d)
    else:
        def fwd() -> Any:
            return torch.nn.functional.conv1d(x, w, stride=s, padding=p, dilation=d, groups=g)

    def bwd() -> Any:
        return torch.ops.aten.convolution_backward(
            gy, x, w, None, [s], [p], [d], case.transposed, [0], g, [True, True, False]
        )

    return fwd, bwd


def algorithms(case: Case) -> tuple[str, str]:
    """The engine's choices: (forward, backward as input-gradient + weight-gradient)."""
    from convtrace.engine import fast

    n, ci, co, k, s, d, g = case.n, case.c_in, case.c_out, case.k, case.stride, case.dilation, case.groups
    lo = case.out_length()
    if case.transposed:
        # ConvTranspose1d(x) is conv1d's input gradient with the roles of C_in and C_out swapped.
        fwd = fast.describe_input_grad(n, co, ci, k, lo, case.length, s, case.padding, d, g)
        bwd_in = fast.forward_algorithm(n, ci, co, k, case.length, s, d, g)
        bwd_w = fast.weight_grad_algorithm(n, co, ci, k, case.length, s, d, g)
    else:
        fwd = fast.forward_algorithm(n, ci, co, k, lo, s, d, g)
        bwd_in = fast.describe_input_grad(n, ci, co, k, case.length, lo, s, case.padding, d, g)
        bwd_w = fast.weight_grad_algorithm(n, ci, co, k, lo, s, d, g)
    return fwd, f"{bwd_in} + {bwd_w}"


# --------------------------------------------------------------------------- measurements


def time_pair(ours: Callable[[], Any], theirs: Callable[[], Any], rounds: int) -> tuple[float, float]:
    """Median seconds per call of two callables, timed in alternating paused blocks."""
    reps = []
    for f in (ours, theirs):
        f()
        t0 = time.perf_counter()
        f()
        reps.append(max(1, min(1000, int(BLOCK_SECONDS / max(time.perf_counter() - t0, 1e-7)))))
    samples: list[list[float]] = [[], []]
    for r in range(rounds):
        order = (0, 1) if r % 2 == 0 else (1, 0)
        for i in order:
            f = (ours, theirs)[i]
            time.sleep(PAUSE_SECONDS)
            f()
            t0 = time.perf_counter()
            for _ in range(reps[i]):
                f()
            samples[i].append((time.perf_counter() - t0) / reps[i])
    return _median(samples[0]), _median(samples[1])


def _median(values: list[float]) -> float:
    v = sorted(values)
    mid = len(v) // 2
    return v[mid] if len(v) % 2 else 0.5 * (v[mid - 1] + v[mid])


def peak_extra_bytes(f: Callable[[], Any]) -> int:
    """Peak bytes allocated (as tracemalloc sees NumPy) during ``f()``, above the start."""
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        result = f()
        _, peak = tracemalloc.get_traced_memory()
        del result
    finally:
        tracemalloc.stop()
    return peak - before


def budgets(case: Case, a: dict[str, Any]) -> tuple[int, int]:
    """Memory budgets: 3x the outputs plus one input-sized buffer (forward, backward).

    Forward: ``3*|y| + |x|``. Backward (both gradients, held together):
    ``3*(|gx| + |gw|) + max(|x|, |gy|)``. Both plus ``MEMORY_SLACK`` for fixed overheads.
    """
    x, w, gy = a["x"], a["w"], a["gy"]
    fwd = 3 * gy.nbytes + x.nbytes
    bwd = 3 * (x.nbytes + w.nbytes) + max(x.nbytes, gy.nbytes)
    return fwd + MEMORY_SLACK, bwd + MEMORY_SLACK


def max_rel_error(ours: Any, theirs: Any) -> float:
    """max |ours - theirs| / max |theirs| over the (tuple of) outputs."""
    import numpy as np

    pairs = zip(ours, theirs) if isinstance(ours, tuple) else [(ours, theirs)]
    worst = 0.0
    for o, t in pairs:
        t = t.numpy() if hasattr(t, "numpy") else t
        worst = max(worst, float(np.abs(o - t).max() / max(np.abs(t).max(), 1e-30)))
    return worst


# --------------------------------------------------------------------------- onnx


def onnx_forward(case: Case) -> Callable[[], Any]:
    """The forward as a one-node Conv / ConvTranspose model in ``onnx.reference``."""
    from onnx import TensorProto, helper
    from onnx.reference import ReferenceEvaluator

    a = make_arrays(case)
    op = "ConvTranspose" if case.transposed else "Conv"
    node = helper.make_node(
        op, ["x", "w"], ["y"], kernel_shape=[case.k], strides=[case.stride],
        pads=[case.padding, case.padding], dilations=[case.dilation], group=case.groups,
    )
    graph = helper.make_graph(
        [node], "bench",
        [helper.make_tensor_value_info(key, TensorProto.FLOAT, list(a[key].shape)) for key in ("x", "w")],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
    )
    evaluator = ReferenceEvaluator(helper.make_model(graph))
    feeds = {"x": a["x"], "w": a["w"]}

    def forward() -> Any:
        outputs: Any = evaluator.run(None, feeds)
        return outputs[0]

    return forward


def onnx_child(name: str) -> None:
    """Child mode: time one ONNX forward call and print ``{"seconds": .., "error": ..}``."""
    case = next(c for c in SUITE if c.name == name)
    f = onnx_forward(case)
    t0 = time.perf_counter()
    y = f()
    seconds = time.perf_counter() - t0
    ref = torch_calls(case, make_arrays(case))[0]()
    print(json.dumps({"seconds": seconds, "error": max_rel_error(y, ref)}))


def onnx_time(case: Case, cap: float) -> tuple[float | None, str]:
    """One ONNX forward call in a subprocess killed after ``cap`` seconds: (seconds, note)."""
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--onnx-case", case.name],
            capture_output=True, text=True, timeout=cap + 30, check=True,
        )
    except subprocess.TimeoutExpired:
        return None, f"skipped: > {cap:.0f} s"
    except subprocess.CalledProcessError as e:
        return None, "failed: " + (e.stderr.strip().splitlines() or ["?"])[-1][:60]
    res = json.loads(out.stdout.strip().splitlines()[-1])
    if res["seconds"] > cap:
        return None, f"skipped: {res['seconds']:.0f} s > {cap:.0f} s"
    return res["seconds"], f"err {res['error']:.1e}"


# --------------------------------------------------------------------------- report


def geomean(values: list[float]) -> float:
    """Geometric mean."""
    return math.exp(sum(math.log(v) for v in values) / len(values))


def machine_notes(threads: int) -> list[str]:
    """Thread settings, OpenBLAS kernel and versions, as seen by this process."""
    import numpy as np
    import threadpoolctl
    import torch

    blas = [
        f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')} threads={i.get('num_threads')}"
        for i in threadpoolctl.threadpool_info()
        if i.get("user_api") == "blas"
    ]
    env = ", ".join(f"{k}={os.environ.get(k, '<unset>')}" for k in BLAS_OVERRIDES)
    return [
        f"python {sys.version.split()[0]}, numpy {np.__version__}, torch {torch.__version__}",
        f"threads: torch={torch.get_num_threads()} (requested {threads}); numpy BLAS: {'; '.join(blas)}",
        f"env: {env}; cpu count {os.cpu_count()}; load average {os.getloadavg()[0]:.2f}",
    ]


def run(args: argparse.Namespace) -> None:
    """Child mode: the benchmark proper."""
    import threadpoolctl
    import torch

    torch.set_num_threads(args.threads)
    threadpoolctl.threadpool_limits(args.threads)
    rounds = args.rounds or (2 if args.quick else 7)
    print("convtrace benchmark (float32; ratio = convtrace / torch; median of "
          f"{rounds} alternating rounds)")
    for line in machine_notes(args.threads):
        print("  " + line)
    print()
    rows = []
    for case in SUITE:
        a = make_arrays(case)
        ct_fwd, ct_bwd = convtrace_calls(case, a)
        th_fwd, th_bwd = torch_calls(case, a)
        err = max(max_rel_error(ct_fwd(), th_fwd()), max_rel_error(ct_bwd(), th_bwd()))
        f_ours, f_theirs = time_pair(ct_fwd, th_fwd, rounds)
        b_ours, b_theirs = time_pair(ct_bwd, th_bwd, rounds)
        mem_f, mem_b = peak_extra_bytes(ct_fwd), peak_extra_bytes(ct_bwd)
        bud_f, bud_b = budgets(case, a)
        onnx_s, onnx_note = (None, "not run") if args.no_onnx else onnx_time(
            case, args.onnx_cap if not args.quick else min(args.onnx_cap, 2.0)
        )
        rows.append({
            "case": case, "algo": algorithms(case), "err": err,
            "fwd": (f_ours, f_theirs), "bwd": (b_ours, b_theirs),
            "mem": (mem_f, bud_f, mem_b, bud_b), "onnx": (onnx_s, onnx_note),
        })
        print(f"  done {case.name}", file=sys.stderr, flush=True)
    print_report(rows)


def print_report(rows: list[dict[str, Any]]) -> None:
    """The results table, the algorithm choices, the geometric means and PASS/FAIL lines."""
    mb = 1 << 20
    print("| shape | fwd ct ms | fwd torch ms | fwd ratio | bwd ct ms | bwd torch ms | bwd ratio "
          "| onnx fwd ms | ct/onnx | fwd peak MB / budget | bwd peak MB / budget |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    mem_ok = True
    for r in rows:
        (fo, ft), (bo, bt) = r["fwd"], r["bwd"]
        mf, bf, mbk, bb = r["mem"]
        mem_ok &= mf <= bf and mbk <= bb
        onnx_s, _ = r["onnx"]
        onnx_cols = (f"{onnx_s * 1e3:.1f} | {fo / onnx_s:.4f}" if onnx_s else "- | -")
        print(f"| {r['case'].name} | {fo * 1e3:.3f} | {ft * 1e3:.3f} | {fo / ft:.2f} "
              f"| {bo * 1e3:.3f} | {bt * 1e3:.3f} | {bo / bt:.2f} | {onnx_cols} "
              f"| {mf / mb:.1f} / {bf / mb:.1f} | {mbk / mb:.1f} / {bb / mb:.1f} |")
    print()
    print("| shape | configuration | fwd algorithm | bwd algorithms (input + weight) | max rel err vs torch "
          "| onnx |")
    print("|---|---|---|---|---:|---|")
    for r in rows:
        print(f"| {r['case'].name} | {r['case'].describe()} | {r['algo'][0]} | {r['algo'][1]} "
              f"| {r['err']:.1e} | {r['onnx'][1]} |")
    fwd = [r["fwd"][0] / r["fwd"][1] for r in rows]
    bwd = [r["bwd"][0] / r["bwd"][1] for r in rows]
    onnx = [r["fwd"][0] / r["onnx"][0] for r in rows if r["onnx"][0]]
    checks = [
        (f"forward geometric-mean ratio {geomean(fwd):.3f} <= {TARGET_FWD_GEOMEAN}",
         geomean(fwd) <= TARGET_FWD_GEOMEAN),
        (f"forward worst ratio {max(fwd):.3f} <= {TARGET_FWD_MAX}", max(fwd) <= TARGET_FWD_MAX),
        (f"backward geometric-mean ratio {geomean(bwd):.3f} <= {TARGET_BWD_GEOMEAN}",
         geomean(bwd) <= TARGET_BWD_GEOMEAN),
        ("peak extra memory within budget on every shape", mem_ok),
    ]
    print()
    print(f"backward worst ratio {max(bwd):.3f}; "
          + (f"convtrace/onnx forward geometric mean {geomean(onnx):.4f} over {len(onnx)} shapes"
             if onnx else "onnx not timed"))
    for text, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}: {text}")


# --------------------------------------------------------------------------- entry point


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="short smoke run (2 rounds, ONNX capped at 2 s)")
    p.add_argument("--threads", type=int, default=2, help="threads for torch and NumPy's BLAS (default 2)")
    p.add_argument("--rounds", type=int, default=0, help="timing rounds (default 7, or 2 with --quick)")
    p.add_argument("--openblas-env", choices=("unset", "keep"), default="unset",
                   help="drop OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE in the child (default) or keep them")
    p.add_argument("--onnx-cap", type=float, default=20.0, help="skip an ONNX shape slower than this (s)")
    p.add_argument("--no-onnx", action="store_true", help="do not time the ONNX reference evaluator")
    p.add_argument("--onnx-case", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def child_env(args: argparse.Namespace) -> dict[str, str]:
    """The child's environment: thread counts fixed before NumPy loads, BLAS overrides per flag."""
    env = dict(os.environ)
    for key in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[key] = str(args.threads)
    if args.openblas_env == "unset":
        for key in BLAS_OVERRIDES:
            env.pop(key, None)
    env[CHILD_FLAG] = "1"
    return env


def main(argv: list[str]) -> int:
    """Re-launch in a configured child, which runs the benchmark; always exit 0."""
    args = parse_args(argv)
    if args.onnx_case:
        onnx_child(args.onnx_case)
        return 0
    if os.environ.get(CHILD_FLAG):
        run(args)
        return 0
    subprocess.run([sys.executable, __file__, *argv], env=child_env(args), check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
