"""Streaming a real PyTorch model with ``convtrace.streamify`` (issue 19 item 5), float32:

- the SpeechT5 HiFi-GAN vocoder (``transformers``, its default config: 512 channels,
  upsampling 4 x 4 x 4 x 4 = 256 samples per mel frame, 16 kHz), fed one mel frame (its hop)
  per push;
- EnCodec's causal encoder (``transformers``, its default 24 kHz config: 32 filters, strides
  2, 4, 5, 8 = hop 320, reflect padding, weight norm), its LSTM replaced by an ``Identity``
  (streamify refuses recurrence), fed 320 samples (its hop) per push.

Each round, on the same random input, times the model's offline forward on the whole signal
and the stream of it (every push, then the flush), back to back; the ratio streamed /
offline (target <= 2; also in CPU time, steadier on a loaded host), the steady push (the
last half of the pushes, on the fast path) against the offline time per hop, the start and
the flush, and the real-time factor (streaming time / audio time) are shown as the median
with the min-max over rounds. The stream runs on the fast path (``--fast``, default auto:
ONNX Runtime for float32; off: the general path), built before the rounds. PyTorch and the
fast path run on ``--threads`` threads, each set-up in turn (default ``1,default``: one
thread, then PyTorch's default — the set-up a user gets — with the fast path's ONNX Runtime
on as many). ``--ab graph``: also the fast path with its ONNX graph as exported (A) against the
graph optimised (B, the default: :mod:`convtrace.inspect.streamify_graph`), interleaved in
each round (``--ab spinning``: ONNX Runtime's pool threads spinning between pushes, A, or
not, B: the default). The streamed output is checked against the offline one.

    PYTHONPATH=src python bench/bench_streamify.py [--rounds 3] [--seconds 2] [--threads 1,default] [--fast auto]
        [--ab graph|spinning]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def span(values: list[float], digits: int = 2) -> str:
    """``median (min-max)``."""
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def hifigan(seconds: float) -> tuple[Any, Any, int, int, int]:
    """The vocoder, a mel input (batch, frames, 80) of ``seconds``, its time axis, the chunk
    (one frame) and the sample rate."""
    import torch
    import transformers

    torch.manual_seed(0)
    model = transformers.SpeechT5HifiGan(transformers.SpeechT5HifiGanConfig()).eval()
    frames = int(seconds * 16_000 / 256)
    return model, torch.randn(1, frames, 80), 1, 1, 16_000


def encodec(seconds: float) -> tuple[Any, Any, int, int, int]:
    """EnCodec's causal encoder without its LSTM, ``seconds`` of 24 kHz audio, one hop."""
    import torch
    import transformers
    from transformers.models.encodec.modeling_encodec import EncodecEncoder

    torch.manual_seed(0)
    model = EncodecEncoder(transformers.EncodecConfig()).eval()
    for i, layer in enumerate(model.layers):
        if type(layer).__name__ == "EncodecLSTM":
            model.layers[i] = torch.nn.Identity()
    return model, torch.randn(1, 1, int(seconds * 24_000)), -1, 320, 24_000


def stream(sm: Any, x: Any, dim: int, chunk: int) -> tuple[Any, list[tuple[str, float]], float]:
    """Push ``x`` in chunks, then flush: the output, each push's path and wall time, the
    flush's wall time."""
    import torch

    length = int(x.shape[dim])
    parts, pushes = [], []
    for at in range(0, length, chunk):
        t0 = time.perf_counter()
        parts.append(sm.push(x.narrow(dim, at, min(chunk, length - at))))
        pushes.append((sm.push_path, time.perf_counter() - t0))
    t0 = time.perf_counter()
    parts.append(sm.flush())
    flushed = time.perf_counter() - t0
    return torch.cat(parts, -1), pushes, flushed


def build(model: Any, x: Any, dim: int, chunk: int, fast: str, optimise: bool = True,
          spinning: bool = False) -> tuple[Any, float, float]:  # fmt: skip
    """The streamed model with its fast path (the ONNX graph passes on or off, ONNX
    Runtime's threads spinning or not): it, the seconds to streamify and to build the fast
    path."""
    import convtrace
    from convtrace.inspect import streamify_fast

    start = time.perf_counter()
    sm = convtrace.streamify(model, tuple(x.shape), time_dim=dim, chunk_size=chunk)
    built = time.perf_counter() - start
    start = time.perf_counter()
    streamify_fast.OPTIMISE, streamify_fast.SPINNING = optimise, spinning
    try:
        if fast != "off":
            sm.build_fast(fast)
    finally:
        streamify_fast.OPTIMISE, streamify_fast.SPINNING = True, False
    return sm, built, time.perf_counter() - start


def measure(name: str, make: Callable[[float], tuple[Any, Any, int, int, int]], seconds: float, rounds: int,
            fast: str, ab: str | None) -> None:
    """Time the offline forward and the stream(s), interleaved round by round (``ab``
    "graph": the fast path's graph as exported, A, against optimised, B; "spinning": ONNX
    Runtime's threads spinning, A, or not, B)."""
    import torch

    model, x, dim, chunk, rate = make(seconds)
    variants = {"": build(model, x, dim, chunk, fast)}
    if ab == "graph":
        variants = {"A (graph as exported)": build(model, x, dim, chunk, fast, optimise=False),
                    "B (graph optimised)": variants[""]}  # fmt: skip
    elif ab == "spinning":
        variants = {"A (threads spinning)": build(model, x, dim, chunk, fast, spinning=True),
                    "B (no spinning)": variants[""]}  # fmt: skip
    audio = x.shape[dim] * (256 if name.startswith("HiFi") else 1) / rate
    hops = -(-int(x.shape[dim]) // chunk)
    keys = ("stream", "ratio", "cpu", "rtf", "steady", "start", "flush", "steady_ratio")
    rows: dict[str, dict[str, list[float]]] = {v: {k: [] for k in keys} for v in variants}
    offline_ms: list[float] = []
    paths: dict[str, list[str]] = {}
    with torch.no_grad():
        want = model(x)
        rel = {}
        for v, (sm, _, _) in variants.items():
            got, _, _ = stream(sm, x, dim, chunk)
            rel[v] = float((got - want).abs().max() / want.abs().max())
        for _ in range(rounds):
            c0, t0 = time.process_time(), time.perf_counter()
            model(x)
            c1, t1 = time.process_time(), time.perf_counter()
            offline, offline_cpu = t1 - t0, c1 - c0
            offline_ms.append(offline * 1e3)
            for v, (sm, _, _) in variants.items():
                c1, t1 = time.process_time(), time.perf_counter()
                _, pushes, flushed = stream(sm, x, dim, chunk)
                c2, t2 = time.process_time(), time.perf_counter()
                steady = [t for path, t in pushes if path != "python"][-max(1, hops // 2) :]  # the last half: steady
                r = rows[v]
                r["stream"].append((t2 - t1) * 1e3)
                r["ratio"].append((t2 - t1) / offline)
                r["cpu"].append((c2 - c1) / offline_cpu if offline_cpu > 0 else math.nan)
                r["rtf"].append((t2 - t1) / audio)
                r["steady"].append(statistics.mean(steady) * 1e3 if steady else math.nan)
                r["steady_ratio"].append(statistics.mean(steady) / (offline / hops) if steady else math.nan)
                r["start"].append(sum(t for _, t in pushes[: len(pushes) - len(steady)]) * 1e3)
                r["flush"].append(flushed * 1e3)
                paths[v] = [path for path, _ in pushes]
    built = next(iter(variants.values()))[1]
    print(f"{name}: {audio:.2f} s of audio, chunk {chunk} ({hops} pushes + flush), streamify built in {built:.1f} s")
    print(f"  offline forward        {span(offline_ms, 1)} ms  = {span([v / hops for v in offline_ms], 2)} ms per hop")
    for v, (sm, _, fast_built) in variants.items():
        r = rows[v]
        engine = getattr(sm._fast, "engine", None) if sm._fast is not None else None
        changes = getattr(engine, "changes", None)
        how = f"fast path {sm.fast_path} (built in {fast_built:.1f} s" + (f"; graph: {changes}" if changes else "") + ")" \
            if sm.fast_path else f"general path only ({sm.fast_reason or 'no fast path asked for'})"  # fmt: skip
        pad = "  " if v else ""
        if v:
            print(f"  {v}:")
        print(f"{pad}  {how}; the pushes of a stream: " + ", ".join(f"{paths[v].count(p)} {p}" for p in dict.fromkeys(paths[v])))
        print(f"{pad}  streamed vs offline: largest difference {rel[v]:.2g} of the output's scale (float32)")
        print(f"{pad}  whole stream           {span(r['stream'], 1)} ms  (pushes and flush)")
        print(f"{pad}  streamed / offline     {span(r['ratio'])}  (target <= 2); in CPU time {span(r['cpu'])}")
        print(f"{pad}  steady push (fast)     {span(r['steady'], 2)} ms = {span(r['steady_ratio'])} x the offline time per "
              f"hop (the last {max(1, hops // 2)} pushes)")
        print(f"{pad}  the first {hops - max(1, hops // 2)} pushes     {span(r['start'], 1)} ms in all (with the stream's "
              f"start); the flush {span(r['flush'], 1)} ms")
        print(f"{pad}  real-time factor       {span(r['rtf'], 3)}  (streaming time / audio time)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--threads", default="1,default",
                        help="the thread set-ups, comma-separated: a count for both PyTorch and the fast path, or "
                             "'default' (PyTorch's default, the fast path on as many)")  # fmt: skip
    parser.add_argument("--fast", default="auto", choices=("auto", "onnxruntime", "torch", "off"),
                        help="the fast path of the pushes (off: the general path, Python)")
    parser.add_argument("--ab", choices=("graph", "spinning"), default=None,
                        help="two fast paths interleaved: graph: its ONNX graph as exported (A) against optimised (B); "
                             "spinning: ONNX Runtime's threads spinning (A) or not (B, the default)")  # fmt: skip
    parser.add_argument("--models", default="hifigan,encodec", help="which models, comma-separated")
    args = parser.parse_args()
    import torch

    default = torch.get_num_threads()
    try:
        import onnxruntime

        ort = f"onnxruntime {onnxruntime.__version__}"
    except ImportError:
        ort = "no onnxruntime"
    print(time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime()))
    models = {"hifigan": ("HiFi-GAN (SpeechT5)", hifigan), "encodec": ("EnCodec causal encoder", encodec)}
    for setup in args.threads.split(","):
        threads = default if setup == "default" else int(setup)
        torch.set_num_threads(threads)
        print(f"torch {torch.__version__}, {ort}, {threads} thread(s) for both (torch and the fast path)"
              f"{' (the default set-up)' if setup == 'default' else ''}, load average {os.getloadavg()[0]:.1f}")
        for key in args.models.split(","):
            measure(*models[key], args.seconds, args.rounds, args.fast, args.ab)
    print(time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime()), f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
