"""Streaming speed (``convtrace.stream.Streamer``) on a causal EnCodec-like encoder at 24 kHz:
channels 1 -> 32 -> 64 -> 128 -> 256 -> 512 -> 512, strides 2, 4, 5, 8 (hop 320), kernels
2 x stride padded k - s on the left (the README's stack, with channels), float32.

Each round, on the same random 10 s signal, times:

- the offline convtrace forward of the whole signal (each module in turn);
- streaming it in chunks of one hop (320 samples), then the flush: the ratio to offline
  (target <= 2) and the real-time factor (processing time / audio time);
- streaming 1 s of it in chunks of 1 sample (reported; its real-time factor);
- pushes of an empty chunk: the overhead per push and per layer (target <= 20 us per layer).

The ratios are taken within a round (offline and streamed back to back) and shown as the
median with the min-max over rounds. The state memory is checked against ``state_spec()``
and the streaming report's cache bytes, and the memory a long stream allocates (tracemalloc)
against a short one's: no allocation may grow with the stream.

    PYTHONPATH=src python bench/bench_stream.py [--rounds 5] [--seconds 10] [--clock cpu]
        [--baseline-stages OLD_STAGES.py]

``--clock cpu`` times the process's CPU time instead of wall time (steadier on a loaded host;
the engine runs its GEMMs on up to 2 threads, so CPU time can exceed wall time).
``--baseline-stages`` also streams, in each round before or after the engine under test (in
turn), with the Conv1d stage (``WindowStage``) of another ``stages.py`` (e.g. an older commit's:
``git show a5d4294:src/convtrace/stream/stages.py > /tmp/old_stages.py``), everything else
the same: old and new interleaved on the same host load.

Each round also counts the CPU time other processes used meanwhile (``/proc/stat``, in
cores); rounds where it stays under ``QUIET`` are summarised apart: on a shared host a
neighbour's burst decides the wall-clock ratio more than the code does.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time
import tracemalloc
from typing import Any

import numpy as np

RATE = 24_000
HOP = 320
#: A round is quiet when other processes used less than this many cores during it.
QUIET = 0.05
STACK = ("conv k=7 p=causal c=32; conv k=4 s=2 p=2,0 c=64; conv k=8 s=4 p=4,0 c=128; conv k=10 s=5 p=5,0 c=256; "
         "conv k=16 s=8 p=8,0 c=512; conv k=7 p=causal c=512")  # fmt: skip


def offline(modules: list[Any], x: np.ndarray) -> np.ndarray:
    for m in modules:
        x = m(x)
    return x


def streamed(s: Any, x: np.ndarray, chunk: int) -> np.ndarray:
    parts = [s.push(x[..., at : at + chunk]) for at in range(0, x.shape[-1], chunk)]
    parts.append(s.flush())
    return np.concatenate(parts, axis=-1)


def span(values: list[float], digits: int = 2) -> str:
    """``median (min-max)``."""
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--empty-pushes", type=int, default=2000)
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    parser.add_argument("--baseline-stages", metavar="PATH", help="a stages.py whose WindowStage streams too, interleaved")
    args = parser.parse_args()
    clock = time.perf_counter if args.clock == "wall" else time.process_time

    from convtrace.plan.stack import parse_stack
    from convtrace.stream import Streamer
    from convtrace.stream.build import chain_of
    from convtrace.stream.report import report

    chain = parse_stack(STACK)
    modules = chain_of(chain, 1, dtype=np.float32, seed=0)
    length = int(args.seconds * RATE)
    x = np.random.default_rng(0).standard_normal((1, 1, length)).astype(np.float32)
    one_second = x[..., :RATE]
    layers = len(modules)
    baseline = None if args.baseline_stages is None else _baseline_window_stage(args.baseline_stages)
    load = [os.getloadavg()[0]]

    # correctness first: the streamed output is the offline one
    want = offline(modules, x)
    got = streamed(Streamer(modules), x, HOP)
    assert got.shape == want.shape, (got.shape, want.shape)
    difference = float(np.max(np.abs(got - want)) / np.max(np.abs(want)))

    offline_s: list[float] = []
    hop_s: list[float] = []
    ratio: list[float] = []
    one_s: list[float] = []
    empty_us: list[float] = []
    base_s: list[float] = []
    base_ratio: list[float] = []
    foreign: list[float | None] = []  # other processes' CPU during each round's timings, in cores
    for round_ in range(args.rounds):
        busy, own, wall = _busy_seconds(), time.process_time(), time.perf_counter()
        start = clock()
        offline(modules, x)
        offline_s.append(clock() - start)
        # the engine under test and the baseline in turn, first one then the other
        for which in ("new", "baseline")[:: 1 if round_ % 2 == 0 else -1]:
            if which == "baseline" and baseline is None:
                continue
            s = Streamer(modules) if which == "new" else _with_window_stage(baseline, lambda: Streamer(modules))
            start = clock()
            streamed(s, x, HOP)
            (hop_s if which == "new" else base_s).append(clock() - start)
        ratio.append(hop_s[-1] / offline_s[-1])
        if baseline is not None:
            base_ratio.append(base_s[-1] / offline_s[-1])
        busy_after = _busy_seconds()
        foreign.append(None if busy is None or busy_after is None else
                       max(0.0, (busy_after - busy) - (time.process_time() - own)) / (time.perf_counter() - wall))  # fmt: skip
        s = Streamer(modules)
        start = clock()
        streamed(s, one_second, 1)
        one_s.append(clock() - start)
        s = Streamer(modules)
        s.push(x[..., :HOP])
        empty = np.zeros((1, 1, 0), dtype=np.float32)
        start = clock()
        for _ in range(args.empty_pushes):
            s.push(empty)
        empty_us.append((clock() - start) / args.empty_pushes * 1e6)

    # state memory: state_spec, the live arrays, and the streaming report's cache
    s = Streamer(modules)
    spec = s.state_spec()
    spec_bytes = sum(e.bytes for e in spec)
    buffer_bytes = sum(e.bytes for e in spec if e.name.endswith(".buffer"))
    live_bytes = sum(a.nbytes for a in s.state.values())
    cache_bytes = report(chain, dtype="float32").cache_bytes
    streamed(s, x[..., : 10 * HOP], HOP)  # a stream's state stays the same size
    after = sum(a.nbytes for a in s.state.values())
    # the Conv1d stages' workspace (not state: refilled by every push, sized by the largest chunk)
    workspace = sum(getattr(st, name).nbytes for u in s.units for st in u.stages for name in ("_scratch", "_columns")
                    if hasattr(st, name))  # fmt: skip

    # allocations: a stream ten times longer keeps no more memory (tracemalloc, after a warm-up)
    def kept(pushes: int) -> int:
        s = Streamer(modules)
        for at in range(0, 4 * HOP, HOP):
            s.push(x[..., at : at + HOP])
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        for i in range(pushes):
            at = (i % (length // HOP - 1)) * HOP
            s.push(x[..., at : at + HOP])
        now = tracemalloc.get_traced_memory()[0] - base
        tracemalloc.stop()
        return now

    kept_bytes = {pushes: kept(pushes) for pushes in (50, 500, 5000)}
    load.append(os.getloadavg()[0])

    audio = length / RATE
    print(f"chain: {STACK}")
    print(f"{layers} modules (pads included), {args.seconds:g} s at {RATE} Hz = {length} samples, float32, "
          f"{args.rounds} rounds (median, min-max), {args.clock} clock; load average {load[0]:.2f} -> {load[1]:.2f}")
    print(f"streamed (chunks of {HOP}) == offline: relative difference {difference:.3g}")
    print(f"offline forward: {span([v * 1e3 for v in offline_s], 1)} ms; real-time factor "
          f"{span([v / audio for v in offline_s], 4)}")
    print(f"chunks of {HOP}: {span([v * 1e3 for v in hop_s], 1)} ms; ratio to offline {span(ratio)} (target <= 2); "
          f"real-time factor {span([v / audio for v in hop_s], 4)}")
    if baseline is not None:
        print(f"baseline stages ({args.baseline_stages}), chunks of {HOP}: {span([v * 1e3 for v in base_s], 1)} ms; "
              f"ratio to offline {span(base_ratio)}; new / baseline {span([h / b for h, b in zip(hop_s, base_s)])}")
    if foreign and all(f is not None for f in foreign):
        quiet = [i for i, f in enumerate(foreign) if f is not None and f < QUIET]
        print(f"other processes' CPU during each round (cores): {' '.join(f'{f:.2f}' for f in foreign if f is not None)}; "
              f"{len(quiet)} of {len(foreign)} rounds quiet (< {QUIET})")  # fmt: skip
        if quiet:
            print(f"  quiet rounds: offline {span([offline_s[i] * 1e3 for i in quiet], 1)} ms; chunks of {HOP} "
                  f"{span([hop_s[i] * 1e3 for i in quiet], 1)} ms; ratio {span([ratio[i] for i in quiet])}"
                  + (f"; baseline ratio {span([base_ratio[i] for i in quiet])}" if baseline is not None else ""))  # fmt: skip
    print(f"chunks of 1 sample, 1 s of audio: {span(one_s, 2)} s; real-time factor {span(one_s, 2)} "
          f"({span([v / RATE * 1e6 for v in one_s], 1)} us per push)")
    print(f"empty push: {span(empty_us, 1)} us, per layer {span([v / layers for v in empty_us], 2)} us (target <= 20)")
    print(f"state: state_spec {spec_bytes} bytes (buffers {buffer_bytes}, the report's cache {cache_bytes}); live "
          f"arrays {live_bytes} bytes, after 10 hops {after} bytes; workspace (chunks of {HOP}) {workspace} bytes")
    print("memory kept by " + "; ".join(f"{pushes} pushes: {b} bytes" for pushes, b in kept_bytes.items())
          + " (the stages' counters and timings are Python objects replaced in place: a few hundred bytes at most)")  # fmt: skip


def _busy_seconds() -> float | None:
    """CPU seconds all processes spent so far (Linux ``/proc/stat``; None elsewhere)."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # all but idle and iowait


def _baseline_window_stage(path: str) -> Any:
    """The ``WindowStage`` class of another ``stages.py`` (loaded as a sibling module of
    ``convtrace.stream.stages``, so its relative imports resolve to this tree)."""
    spec = importlib.util.spec_from_file_location("convtrace.stream._baseline_stages", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"--baseline-stages: cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.WindowStage


def _with_window_stage(window_stage: Any, build: Any) -> Any:
    """``build()`` with the streamer's Conv1d stage class swapped for ``window_stage``."""
    from convtrace.stream import streamer

    mine = streamer.WindowStage
    streamer.WindowStage = window_stage
    try:
        return build()
    finally:
        streamer.WindowStage = mine


if __name__ == "__main__":
    main()
