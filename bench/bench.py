"""convtrace against torch.nn.functional (and the ONNX reference evaluator), shape by shape.

Usage::

    python bench/bench.py [--quick] [--only CASE,...] [--threads N] [--clock {wall,cpu}]
                          [--openblas-env {auto,unset,keep}] [--rounds R] [--onnx-cap SECONDS]
                          [--no-onnx]

For each shape of a fixed suite (text CNNs, strided encoders, grouped ResNeXt-style and
dilated TCN / WaveNet blocks, a depthwise Conformer block, long few-channel signals,
transposed upsamplers, two float64 shapes and the seed's tiny example) it times the forward
(``convtrace.functional`` against ``torch.nn.functional``) and the backward
(``convtrace.grad``'s input and weight gradients against
``torch.ops.aten.convolution_backward`` with both masks), side by side in one run, and
prints the median time ratio convtrace / torch with its min-max over rounds, their
geometric means and PASS/FAIL against the targets, the algorithms the engine chose, the
peak extra memory per call against its budget, the first-call / warm-call time on the long
signals, and the ONNX reference evaluator's forward time.

Timing: rounds of two adjacent blocks, one per library (order swapped every round), each
a warm-up call then enough calls for ~50 ms, separated by a pause so that one library's
idle spinning worker threads (OpenBLAS spins ~0.1 s after a call) do not steal the cores
from the other. Reported: the median per-call time of each, and the median (and range)
over rounds of the per-round ratio, which cancels slow drifts of a shared machine.
``--clock cpu`` times the process's CPU time instead (meant for ``--threads 1``).

Memory: tracemalloc's peak during one call (NumPy reports its buffers to it) minus the
traced memory before and minus the returned array(s): the call's scratch at its worst
moment, against ``max(64 MiB, the size of the output(s))`` (see :func:`budgets`).

First call: on the long signals, a fresh process times the first call on the case (after
the same call on one small item, which pays the process's one-time costs) against the
median of three warm calls; target: at most twice as long.

The work runs in a child process whose environment fixes the thread counts (NumPy's
OpenBLAS and convtrace's worker threads through ``OPENBLAS_NUM_THREADS``, also limited and
reported with threadpoolctl when installed; torch through ``torch.set_num_threads``).
``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE`` are dropped together in the child only if
a GEMM probe shows NumPy faster without them (``--openblas-env auto``, the default;
``keep`` / ``unset`` force it); the probe's numbers and the kernel in use (threadpoolctl)
are printed in every run. Exit code 0 whatever the results.
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
TARGET_FWD_GEOMEAN = 0.8
TARGET_FWD_MAX = 1.3
TARGET_BWD_GEOMEAN = 1.0
TARGET_BWD_MAX = 1.5
BLOCK_SECONDS = 0.05
PAUSE_SECONDS = 0.15
#: Warm-up calls before each timed block (see :func:`_warm`).
WARM_SECONDS = 0.05
MEMORY_FLOOR = 64 << 20  # bytes: scratch always allowed to a call (see budgets())
FIRST_CALL_MAX = 2.0  # a first call (fresh process) at most this many warm calls, on long signals
SEED = 0


@dataclass(frozen=True)
class Case:
    """One benchmark shape: a Conv1d (or, if ``transposed``, a ConvTranspose1d), float32 by default."""

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
    dtype: str = "float32"
    long: bool = False  # also measured for a first-call cliff, in a fresh process

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
        dtype = "" if self.dtype == "float32" else f" {self.dtype}"
        return f"{kind} N={self.n} {self.c_in}->{self.c_out} L={self.length} k={self.k}{extra}{dtype}"


SUITE: tuple[Case, ...] = (
    # text CNNs over 300-d embeddings (Kim-style), k = 3, 4, 5
    Case("textcnn_k3", 32, 300, 100, 256, 3),
    Case("textcnn_k4", 32, 300, 100, 256, 4),
    Case("textcnn_k5", 32, 300, 100, 256, 5),
    # strided encoders (wav2vec 2.0 feature encoder)
    Case("wav2vec2_l0", 4, 1, 512, 16000, 10, stride=5),
    Case("wav2vec2_l1", 4, 512, 512, 3199, 3, stride=2),
    # grouped, several channels per group (ResNeXt-style, stride 1, 'same' padding)
    Case("resnext_g2", 8, 64, 64, 2048, 3, padding=1, groups=2),
    Case("resnext_g4", 8, 128, 128, 1024, 3, padding=1, groups=4),
    Case("resnext_g8", 4, 256, 256, 1024, 5, padding=2, groups=8),
    # dilated with padding (TCN / WaveNet blocks)
    Case("tcn_d8", 8, 64, 64, 4096, 3, padding=16, dilation=8),
    Case("tcn_d2", 8, 128, 128, 2048, 3, padding=2, dilation=2),
    Case("wavenet_d16", 4, 64, 64, 8000, 3, padding=16, dilation=16),
    # depthwise
    Case("conformer_dw", 4, 256, 256, 2048, 31, padding=15, groups=256),
    # long signals with few channels
    Case("long_8ch", 1, 8, 8, 4_000_000, 9, padding=4, long=True),
    Case("long_4ch_d3", 2, 4, 4, 1_000_000, 5, padding=6, dilation=3, long=True),
    # transposed upsamplers (HiFi-GAN; inference batch of one, and a training batch)
    Case("hifigan_up1", 1, 512, 256, 200, 16, stride=8, padding=4, transposed=True),
    Case("hifigan_up2", 1, 256, 128, 1600, 16, stride=8, padding=4, transposed=True),
    Case("hifigan_up3_b4", 4, 128, 64, 3200, 4, stride=2, padding=1, transposed=True),
    # float64
    Case("textcnn_k3_f64", 32, 300, 100, 256, 3, dtype="float64"),
    Case("resnext_g4_f64", 8, 128, 128, 1024, 3, padding=1, groups=4, dtype="float64"),
    # the seed's tiny example: per-call overhead
    Case("tiny", 1, 1, 1, 4, 3, padding=1),
)


# --------------------------------------------------------------------------- calls


def make_arrays(case: Case) -> dict[str, Any]:
    """Seeded float32 input, weight and output gradient for a case."""
    import numpy as np

    rng = np.random.default_rng(SEED)
    dtype = np.dtype(case.dtype)
    x = rng.standard_normal((case.n, case.c_in, case.length), dtype=dtype)
    w = rng.standard_normal(case.weight_shape, dtype=dtype)
    w *= dtype.type(1.0 / math.sqrt(case.weight_shape[1] * case.k))
    gy = rng.standard_normal((case.n, case.c_out, case.out_length()), dtype=dtype)
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
        fwd = fast.describe_input_grad(n, co, ci, k, lo, s, d, g)
        bwd_in = fast.forward_algorithm(n, ci, co, k, case.length, s, d, g)
        bwd_w = fast.weight_grad_algorithm(n, co, ci, k, case.length, s, d, g)
    else:
        fwd = fast.forward_algorithm(n, ci, co, k, lo, s, d, g)
        bwd_in = fast.describe_input_grad(n, ci, co, k, case.length, s, d, g)
        bwd_w = fast.weight_grad_algorithm(n, ci, co, k, lo, s, d, g)
    return fwd, f"{bwd_in} + {bwd_w}"


# --------------------------------------------------------------------------- measurements


@dataclass(frozen=True)
class Timing:
    """Side-by-side timing: median seconds per call of each, and the per-round ratios."""

    ours: float
    theirs: float
    ratio: float  # median over rounds of (our block / their adjacent block)
    ratio_lo: float
    ratio_hi: float


#: The clock of :func:`time_pair`: wall time (``--clock wall``, the default) or the process's
#: CPU time (``--clock cpu``: all its threads; meant for ``--threads 1``, where it measures
#: the work done and not the waits for a core on a busy machine).
CLOCK: list[Callable[[], float]] = [time.perf_counter]


def _warm(f: Callable[[], Any]) -> None:
    """Calls for ``WARM_SECONDS`` (at least one): after the pause the cores need tens of ms
    to come back to speed (measured on this VM: a 1.4 ms call takes 2.3-2.5 ms for ~50 ms
    after a 0.15 s idle), so each block is timed in its library's steady state."""
    end = time.perf_counter() + WARM_SECONDS
    f()
    while time.perf_counter() < end:
        f()


def time_blocks(calls: dict[str, Callable[[], Any]], rounds: int) -> dict[str, list[float]]:
    """Per-call time of each callable in each round: one block per callable and round, in an
    order rotated every round (two callables: swapped), each block after a pause of
    ``PAUSE_SECONDS`` and ``WARM_SECONDS`` of warm-up calls, timed with ``CLOCK``."""
    clock = CLOCK[0]
    names = list(calls)
    reps = {}
    for name, f in calls.items():
        f()
        t0 = time.perf_counter()
        f()
        reps[name] = max(1, min(1000, int(BLOCK_SECONDS / max(time.perf_counter() - t0, 1e-7))))
    samples: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            f = calls[name]
            time.sleep(PAUSE_SECONDS)
            _warm(f)
            t0 = clock()
            for _ in range(reps[name]):
                f()
            samples[name].append(max(clock() - t0, 1e-9) / reps[name])
    return samples


def time_pair(ours: Callable[[], Any], theirs: Callable[[], Any], rounds: int) -> Timing:
    """Time two callables in alternating paused blocks (:func:`time_blocks`)."""
    samples = time_blocks({"ours": ours, "theirs": theirs}, rounds)
    ratios = [a / b for a, b in zip(samples["ours"], samples["theirs"])]
    return Timing(_median(samples["ours"]), _median(samples["theirs"]), _median(ratios), min(ratios), max(ratios))


def _median(values: list[float]) -> float:
    v = sorted(values)
    mid = len(v) // 2
    return v[mid] if len(v) % 2 else 0.5 * (v[mid - 1] + v[mid])


def _nbytes(result: Any) -> int:
    """Bytes of a returned array or tuple of arrays."""
    return sum(r.nbytes for r in result) if isinstance(result, tuple) else int(result.nbytes)


def peak_extra_bytes(f: Callable[[], Any]) -> int:
    """Peak bytes allocated (as tracemalloc sees NumPy) during ``f()``, above the start and
    beyond the returned array(s): the call's scratch memory at its worst moment. The scratch
    the engine's threads keep between calls is dropped first, so it is counted as a first
    call allocates it."""
    from convtrace.engine import fast_threads

    release = getattr(fast_threads, "release_kept_buffers", None)  # absent in older engines
    if release is not None:
        release()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        result = f()
        _, peak = tracemalloc.get_traced_memory()
        returned = _nbytes(result)
        del result
    finally:
        tracemalloc.stop()
    return max(0, peak - before - returned)


def budgets(case: Case, a: dict[str, Any]) -> tuple[int, int]:
    """Scratch-memory budgets (forward, backward): ``max(MEMORY_FLOOR, size of the output(s))``.

    The forward's output is ``y`` (the size of ``gy``); the backward's are ``gx`` and ``gw``
    (the sizes of ``x`` and ``w``).
    """
    fwd = a["gy"].nbytes
    bwd = a["x"].nbytes + a["w"].nbytes
    return max(MEMORY_FLOOR, fwd), max(MEMORY_FLOOR, bwd)


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
    elem = TensorProto.DOUBLE if case.dtype == "float64" else TensorProto.FLOAT
    op = "ConvTranspose" if case.transposed else "Conv"
    node = helper.make_node(
        op, ["x", "w"], ["y"], kernel_shape=[case.k], strides=[case.stride],
        pads=[case.padding, case.padding], dilations=[case.dilation], group=case.groups,
    )
    graph = helper.make_graph(
        [node], "bench",
        [helper.make_tensor_value_info(key, elem, list(a[key].shape)) for key in ("x", "w")],
        [helper.make_tensor_value_info("y", elem, None)],
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


# --------------------------------------------------------------------------- first call


def first_call_child(name: str, which: str, threads: int) -> None:
    """Child mode: in a fresh process, time convtrace's first call (``fwd`` or ``bwd``) on
    the case and the median of three warm calls after it; print ``{"first": s, "warm": s}``.

    One-time process costs that have nothing to do with the shape (imports, starting
    OpenBLAS's threads, first use of the code paths) are paid first, by the same calls on
    the case's configuration with one item of 64 samples.
    """
    blas_pools(limit=threads)
    case = next(c for c in SUITE if c.name == name)
    warmup = Case("warmup", 1, case.c_in, case.c_out, 64, case.k, case.stride, case.padding,
                  case.dilation, case.groups, case.transposed, case.dtype)
    for call in convtrace_calls(warmup, make_arrays(warmup)):
        call()
    a = make_arrays(case)
    if which == "alloc":  # the operating system's share: fresh memory of the output's size
        import numpy as np

        nbytes = a["gy"].nbytes

        def f() -> Any:
            return np.empty(nbytes, dtype=np.uint8).fill(1)
    else:
        f = convtrace_calls(case, a)[0 if which == "fwd" else 1]
    t0 = time.perf_counter()
    f()
    first = time.perf_counter() - t0
    warm = []
    for _ in range(3):
        t0 = time.perf_counter()
        f()
        warm.append(time.perf_counter() - t0)
    print(json.dumps({"first": first, "warm": _median(warm)}))


FIRST_CALL_PROCESSES = 5


def first_call_ratios(case: Case, threads: int) -> tuple[Timing, Timing, Timing]:
    """(forward, backward, allocation) first-call time over the warm time, each measured in
    ``FIRST_CALL_PROCESSES`` fresh subprocesses: median first and warm times, and the median
    and range of the per-process ratios (the operating system's cost of handing out fresh
    memory varies from process to process). "allocation" is a plain ``np.empty(...).fill``
    of the forward output's size: the first touch of fresh memory that any call returning
    that output pays."""
    out: list[Timing] = []
    for which in ("fwd", "bwd", "alloc"):
        firsts, warms = [], []
        for _ in range(FIRST_CALL_PROCESSES):
            proc = subprocess.run(
                [sys.executable, __file__, "--first-call", case.name, which, "--threads", str(threads)],
                capture_output=True, text=True, check=True,
            )
            res = json.loads(proc.stdout.strip().splitlines()[-1])
            firsts.append(res["first"])
            warms.append(res["warm"])
        ratios = [f / w for f, w in zip(firsts, warms)]
        out.append(Timing(_median(firsts), _median(warms), _median(ratios), min(ratios), max(ratios)))
    return out[0], out[1], out[2]


# --------------------------------------------------------------------------- report


def geomean(values: list[float]) -> float:
    """Geometric mean."""
    return math.exp(sum(math.log(v) for v in values) / len(values))


def blas_pools(limit: int | None = None) -> list[dict[str, Any]]:
    """NumPy's BLAS thread pools as threadpoolctl reports them (limited to ``limit`` threads).

    threadpoolctl is optional: without it the thread count rests on ``OPENBLAS_NUM_THREADS``
    (set before NumPy loads, see :func:`child_env`) and the kernel is reported as unknown.
    """
    try:
        import threadpoolctl
    except ImportError:
        return []
    if limit is not None:
        threadpoolctl.threadpool_limits(limit, user_api="blas")
    return [i for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"]


def machine_notes(threads: int) -> list[str]:
    """Thread settings, OpenBLAS kernel and versions, as seen by this process."""
    import numpy as np
    import torch

    blas = [
        f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')} threads={i.get('num_threads')}"
        for i in blas_pools()
    ] or [f"threadpoolctl not installed; OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}"]
    env = ", ".join(f"{k}={os.environ.get(k, '<unset>')}" for k in BLAS_OVERRIDES)
    return [
        f"python {sys.version.split()[0]}, numpy {np.__version__}, torch {torch.__version__}",
        f"threads: torch={torch.get_num_threads()} (requested {threads}); numpy BLAS: {'; '.join(blas)}",
        f"env: {env}; cpu count {os.cpu_count()}; load average {os.getloadavg()[0]:.2f}",
    ]


@dataclass
class Row:
    """Everything measured for one case."""

    case: Case
    algorithms: tuple[str, str]
    error: float
    fwd: Timing
    bwd: Timing
    memory: tuple[int, int, int, int]  # forward peak, budget, backward peak, budget (bytes)
    onnx: float | None
    onnx_note: str
    first_call: tuple[Timing, Timing, Timing] | None  # first / warm (fwd, bwd, allocation), long cases


def measure(case: Case, args: argparse.Namespace, rounds: int) -> Row:
    """Time, check and size one case."""
    a = make_arrays(case)
    ct_fwd, ct_bwd = convtrace_calls(case, a)
    th_fwd, th_bwd = torch_calls(case, a)
    error = max(max_rel_error(ct_fwd(), th_fwd()), max_rel_error(ct_bwd(), th_bwd()))
    fwd = time_pair(ct_fwd, th_fwd, rounds)
    bwd = time_pair(ct_bwd, th_bwd, rounds)
    budget_fwd, budget_bwd = budgets(case, a)
    memory = (peak_extra_bytes(ct_fwd), budget_fwd, peak_extra_bytes(ct_bwd), budget_bwd)
    if args.no_onnx:
        onnx, note = None, "not run"
    elif case.long:
        onnx, note = None, "not run (long signal)"
    else:
        onnx, note = onnx_time(case, min(args.onnx_cap, 2.0) if args.quick else args.onnx_cap)
    first = first_call_ratios(case, args.threads) if case.long else None
    return Row(case, algorithms(case), error, fwd, bwd, memory, onnx, note, first)


def selected_suite(only: str | None, suite: tuple[Any, ...] = ()) -> tuple[Any, ...]:
    """The suite (this one unless ``suite`` is given), or its cases named in the
    comma-separated ``only``."""
    suite = suite or SUITE
    if not only:
        return suite
    names = only.split(",")
    unknown = sorted(set(names) - {c.name for c in suite})
    if unknown:
        raise SystemExit(f"unknown case(s): {', '.join(unknown)}")
    return tuple(c for c in suite if c.name in names)


def run(args: argparse.Namespace) -> None:
    """Child mode: the benchmark proper."""
    import torch

    torch.set_num_threads(args.threads)
    blas_pools(limit=args.threads)
    if args.clock == "cpu":
        CLOCK[0] = time.process_time
    rounds = args.rounds or (3 if args.quick else 9)
    print(f"convtrace benchmark: ratio = convtrace / torch (median over {rounds} rounds of "
          f"alternating blocks; min-max over rounds in brackets); clock: {args.clock} time")
    for line in machine_notes(args.threads):
        print("  " + line)
    print()
    rows = []
    for case in selected_suite(args.only):
        rows.append(measure(case, args, rounds))
        print(f"  measured {case.name}", file=sys.stderr, flush=True)
    print_report(rows)


def _ratio(t: Timing) -> str:
    return f"{t.ratio:.2f} ({t.ratio_lo:.2f}-{t.ratio_hi:.2f})"


def _mib(n: int) -> str:
    return f"{n / float(1 << 20):.1f}"


def print_tables(rows: list[Row]) -> None:
    """The per-shape timing / memory table and the configuration / algorithm table."""
    print("| shape | fwd ct ms | fwd torch ms | fwd ratio (min-max) | bwd ct ms | bwd torch ms "
          "| bwd ratio (min-max) | fwd extra / budget MiB | bwd extra / budget MiB "
          "| first/warm call: fwd / bwd / output-sized np.empty+fill (min-max) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        mf, bf, mbk, bb = r.memory
        first = " / ".join(_ratio(t) for t in r.first_call) if r.first_call else "-"
        print(f"| {r.case.name} | {r.fwd.ours * 1e3:.3f} | {r.fwd.theirs * 1e3:.3f} | {_ratio(r.fwd)} "
              f"| {r.bwd.ours * 1e3:.3f} | {r.bwd.theirs * 1e3:.3f} | {_ratio(r.bwd)} "
              f"| {_mib(mf)} / {_mib(bf)} | {_mib(mbk)} / {_mib(bb)} | {first} |")
    print()
    print("| shape | configuration | fwd algorithm | bwd algorithms (input + weight) "
          "| max rel err vs torch | onnx fwd ms | ct/onnx | onnx |")
    print("|---|---|---|---|---:|---:|---:|---|")
    for r in rows:
        onnx_cols = f"{r.onnx * 1e3:.1f} | {r.fwd.ours / r.onnx:.4f}" if r.onnx else "- | -"
        print(f"| {r.case.name} | {r.case.describe()} | {r.algorithms[0]} | {r.algorithms[1]} "
              f"| {r.error:.1e} | {onnx_cols} | {r.onnx_note} |")


def print_report(rows: list[Row]) -> None:
    """The tables, the geometric means and PASS/FAIL lines."""
    print_tables(rows)
    fwd = [r.fwd.ratio for r in rows]
    bwd = [r.bwd.ratio for r in rows]
    onnx = [r.fwd.ours / r.onnx for r in rows if r.onnx]  # convtrace / onnx, per shape
    mem_ok = all(r.memory[0] <= r.memory[1] and r.memory[2] <= r.memory[3] for r in rows)
    firsts = [max(r.first_call[0].ratio, r.first_call[1].ratio) for r in rows if r.first_call]
    worst_fwd = max(rows, key=lambda r: r.fwd.ratio).case.name
    worst_bwd = max(rows, key=lambda r: r.bwd.ratio).case.name
    checks = [
        (f"forward geometric-mean ratio {geomean(fwd):.3f} <= {TARGET_FWD_GEOMEAN}",
         geomean(fwd) <= TARGET_FWD_GEOMEAN),
        (f"forward worst ratio {max(fwd):.3f} ({worst_fwd}) <= {TARGET_FWD_MAX}", max(fwd) <= TARGET_FWD_MAX),
        (f"backward geometric-mean ratio {geomean(bwd):.3f} <= {TARGET_BWD_GEOMEAN}",
         geomean(bwd) <= TARGET_BWD_GEOMEAN),
        (f"backward worst ratio {max(bwd):.3f} ({worst_bwd}) <= {TARGET_BWD_MAX}", max(bwd) <= TARGET_BWD_MAX),
        (f"peak extra memory <= max({MEMORY_FLOOR >> 20} MiB, output size) on every shape", mem_ok),
    ]
    if firsts:
        text = (f"first call / warm call {max(firsts):.2f} (median of {FIRST_CALL_PROCESSES} fresh "
                f"processes) <= {FIRST_CALL_MAX} on the long signals")
        checks.append((text, max(firsts) <= FIRST_CALL_MAX))
    print()
    print(f"{len(rows)} shapes; "
          + (f"convtrace/onnx forward geometric mean {geomean(onnx):.4f} over {len(onnx)} shapes"
             if onnx else "onnx not timed"))
    for text, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}: {text}")


# --------------------------------------------------------------------------- entry point


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    p.add_argument("--quick", action="store_true", help="short smoke run (3 rounds, ONNX capped at 2 s)")
    p.add_argument("--only", help="comma-separated case names (default: the whole suite)")
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="wall time (default) or the process's CPU time (use with --threads 1)")
    p.add_argument("--threads", type=int, default=2, help="threads for torch and NumPy's BLAS (default 2)")
    p.add_argument("--rounds", type=int, default=0, help="timing rounds (default 9, or 3 with --quick)")
    p.add_argument("--openblas-env", choices=("auto", "unset", "keep"), default="auto",
                   help="drop OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE in the child, keep them, or (auto, "
                        "the default) drop them only if a GEMM probe shows NumPy faster without them")
    p.add_argument("--onnx-cap", type=float, default=20.0, help="skip an ONNX shape slower than this (s)")
    p.add_argument("--no-onnx", action="store_true", help="do not time the ONNX reference evaluator")
    p.add_argument("--onnx-case", help=argparse.SUPPRESS)
    p.add_argument("--blas-probe", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--first-call", nargs=2, metavar=("CASE", "WHICH"), help=argparse.SUPPRESS)
    return p.parse_args(argv)


def child_env(threads: int, openblas_env: str) -> dict[str, str]:
    """The child's environment: thread counts fixed before NumPy loads; BLAS overrides kept or dropped."""
    env = dict(os.environ)
    for key in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[key] = str(threads)
    if openblas_env == "unset":
        for key in BLAS_OVERRIDES:
            env.pop(key, None)
    env[CHILD_FLAG] = "1"
    return env


def blas_probe() -> None:
    """Probe mode: print OpenBLAS's kernel and NumPy's float32 GEMM rate (GFLOP/s) as JSON."""
    import numpy as np

    size = 768
    a = np.random.default_rng(SEED).standard_normal((size, size), dtype=np.float32)
    a @ a
    rates = []
    for _ in range(15):
        t0 = time.perf_counter()
        a @ a
        rates.append(2 * size**3 / (time.perf_counter() - t0) / 1e9)
    arch = [i.get("architecture", "?") for i in blas_pools()]
    print(json.dumps({"architecture": arch[0] if arch else "?", "gflops": max(rates)}))


def choose_openblas_env(threads: int) -> str:
    """Probe NumPy's GEMM with the OpenBLAS overrides kept and dropped, alternately; pick the faster.

    Dropping them must win by at least 5% (best of two probes each); prints the evidence.
    """
    best: dict[str, float] = {"keep": 0.0, "unset": 0.0}
    arch: dict[str, str] = {}
    for _ in range(2):
        for mode in best:
            out = subprocess.run(
                [sys.executable, __file__, "--blas-probe"], env=child_env(threads, mode),
                capture_output=True, text=True, check=True,
            )
            res = json.loads(out.stdout.strip().splitlines()[-1])
            best[mode], arch[mode] = max(best[mode], res["gflops"]), res["architecture"]
    choice = "unset" if best["unset"] > 1.05 * best["keep"] else "keep"
    print(f"OpenBLAS probe (768^3 float32 GEMM, {threads} threads): overrides kept -> {arch['keep']} "
          f"{best['keep']:.0f} GFLOP/s; dropped -> {arch['unset']} {best['unset']:.0f} GFLOP/s; "
          f"using: {choice}", flush=True)
    return choice


def main(argv: list[str]) -> int:
    """Re-launch in a configured child, which runs the benchmark; always exit 0."""
    args = parse_args(argv)
    if args.onnx_case:
        onnx_child(args.onnx_case)
    elif args.first_call:
        first_call_child(args.first_call[0], args.first_call[1], args.threads)
    elif args.blas_probe:
        blas_probe()
    elif os.environ.get(CHILD_FLAG):
        run(args)
    else:
        mode = choose_openblas_env(args.threads) if args.openblas_env == "auto" else args.openblas_env
        subprocess.run([sys.executable, __file__, *argv], env=child_env(args.threads, mode), check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
