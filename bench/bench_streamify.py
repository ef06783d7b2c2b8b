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
fast path run on ``--threads`` threads (default 1: the host is shared). The streamed output
is checked against the offline one.

    PYTHONPATH=src python bench/bench_streamify.py [--rounds 3] [--seconds 2] [--threads 1] [--fast auto]
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


def measure(name: str, make: Callable[[float], tuple[Any, Any, int, int, int]], seconds: float, rounds: int,
            fast: str) -> None:
    import torch

    import convtrace

    model, x, dim, chunk, rate = make(seconds)
    start = time.perf_counter()
    sm = convtrace.streamify(model, tuple(x.shape), time_dim=dim, chunk_size=chunk)
    built = time.perf_counter() - start
    start = time.perf_counter()
    if fast != "off":
        sm.build_fast(fast)
    fast_built = time.perf_counter() - start
    audio = x.shape[dim] * (256 if name.startswith("HiFi") else 1) / rate
    hops = -(-int(x.shape[dim]) // chunk)
    rows: dict[str, list[float]] = {k: [] for k in ("offline", "stream", "ratio", "cpu", "rtf", "steady", "start",
                                                      "flush", "steady_ratio")}  # fmt: skip
    with torch.no_grad():
        want = model(x)
        got, _, _ = stream(sm, x, dim, chunk)
        rel = float((got - want).abs().max() / want.abs().max())
        for _ in range(rounds):
            c0, t0 = time.process_time(), time.perf_counter()
            model(x)
            c1, t1 = time.process_time(), time.perf_counter()
            _, pushes, flushed = stream(sm, x, dim, chunk)
            c2, t2 = time.process_time(), time.perf_counter()
            steady = [t for path, t in pushes if path != "python"][-max(1, hops // 2) :]  # the last half: steady
            offline = t1 - t0
            rows["offline"].append(offline * 1e3)
            rows["stream"].append((t2 - t1) * 1e3)
            rows["ratio"].append((t2 - t1) / offline)
            rows["cpu"].append((c2 - c1) / (c1 - c0))
            rows["rtf"].append((t2 - t1) / audio)
            rows["steady"].append(statistics.mean(steady) * 1e3 if steady else math.nan)
            rows["steady_ratio"].append(statistics.mean(steady) / (offline / hops) if steady else math.nan)
            rows["start"].append(sum(t for _, t in pushes[: len(pushes) - len(steady)]) * 1e3)
            rows["flush"].append(flushed * 1e3)
    paths = [path for path, _ in pushes]
    how = f"fast path {sm.fast_path} (built in {fast_built:.1f} s)" if sm.fast_path else \
        f"general path only ({sm.fast_reason or 'no fast path asked for'})"  # fmt: skip
    print(f"{name}: {audio:.2f} s of audio, chunk {chunk} ({hops} pushes + flush), streamify built in {built:.1f} s")
    print(f"  {how}; the pushes of a stream: " + ", ".join(f"{paths.count(p)} {p}" for p in dict.fromkeys(paths)))
    print(f"  streamed vs offline: largest difference {rel:.2g} of the output's scale (float32)")
    print(f"  offline forward        {span(rows['offline'], 1)} ms  = {span([v / hops for v in rows['offline']], 2)} ms per hop")
    print(f"  whole stream           {span(rows['stream'], 1)} ms  (pushes and flush)")
    print(f"  streamed / offline     {span(rows['ratio'])}  (target <= 2); in CPU time {span(rows['cpu'])}")
    print(f"  steady push (fast)     {span(rows['steady'], 2)} ms = {span(rows['steady_ratio'])} x the offline time per hop "
          f"(the last {max(1, hops // 2)} pushes)")
    print(f"  the first {hops - max(1, hops // 2)} pushes     {span(rows['start'], 1)} ms in all (with the stream's start); the flush "
          f"{span(rows['flush'], 1)} ms")
    print(f"  real-time factor       {span(rows['rtf'], 3)}  (streaming time / audio time)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--fast", default="auto", choices=("auto", "onnxruntime", "torch", "off"),
                        help="the fast path of the pushes (off: the general path, Python)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    try:
        import onnxruntime

        ort = f"onnxruntime {onnxruntime.__version__}"
    except ImportError:
        ort = "no onnxruntime"
    print(time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime()))
    print(f"torch {torch.__version__}, {ort}, {args.threads} thread(s) for both (torch and the fast path), "
          f"load average {os.getloadavg()[0]:.1f}")
    measure("HiFi-GAN (SpeechT5)", hifigan, args.seconds, args.rounds, args.fast)
    measure("EnCodec causal encoder", encodec, args.seconds, args.rounds, args.fast)
    print(time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime()), f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
