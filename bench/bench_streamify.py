"""Streaming a real PyTorch model with ``convtrace.streamify`` (issue 19 item 5), float32:

- the SpeechT5 HiFi-GAN vocoder (``transformers``, its default config: 512 channels,
  upsampling 4 x 4 x 4 x 4 = 256 samples per mel frame, 16 kHz), fed one mel frame (its hop)
  per push;
- EnCodec's causal encoder (``transformers``, its default 24 kHz config: 32 filters, strides
  2, 4, 5, 8 = hop 320, reflect padding, weight norm), its LSTM replaced by an ``Identity``
  (streamify refuses recurrence), fed 320 samples (its hop) per push.

Each round, on the same random input, times the model's offline forward on the whole signal
and the stream of it (every push, then the flush), back to back; the ratio streamed /
offline (target <= 2) and the real-time factor (streaming time / audio time) are shown as
the median with the min-max over rounds. Both run with PyTorch on ``--threads`` threads
(default 1: the host is shared). The streamed output is checked against the offline one.

    PYTHONPATH=src python bench/bench_streamify.py [--rounds 3] [--seconds 2] [--threads 1]
"""

from __future__ import annotations

import argparse
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


def stream(sm: Any, x: Any, dim: int, chunk: int) -> Any:
    import torch

    length = int(x.shape[dim])
    parts = [sm.push(x.narrow(dim, at, min(chunk, length - at))) for at in range(0, length, chunk)]
    parts.append(sm.flush())
    return torch.cat(parts, -1)


def measure(name: str, make: Callable[[float], tuple[Any, Any, int, int, int]], seconds: float, rounds: int) -> None:
    import torch

    import convtrace

    model, x, dim, chunk, rate = make(seconds)
    start = time.perf_counter()
    sm = convtrace.streamify(model, tuple(x.shape), time_dim=dim)
    built = time.perf_counter() - start
    audio = x.shape[dim] * (256 if name.startswith("HiFi") else 1) / rate
    ratios, rtfs, offline_ms, push_ms = [], [], [], []
    with torch.no_grad():
        want = model(x)
        got = stream(sm, x, dim, chunk)
        rel = float((got - want).abs().max() / want.abs().max())
        for _ in range(rounds):
            t0 = time.perf_counter()
            model(x)
            t1 = time.perf_counter()
            stream(sm, x, dim, chunk)
            t2 = time.perf_counter()
            pushes = -(-int(x.shape[dim]) // chunk)
            ratios.append((t2 - t1) / (t1 - t0))
            rtfs.append((t2 - t1) / audio)
            offline_ms.append((t1 - t0) * 1e3)
            push_ms.append((t2 - t1) / pushes * 1e3)
    print(f"{name}: {audio:.2f} s of audio, chunk {chunk} ({pushes} pushes + flush), streamify built in {built:.1f} s")
    print(f"  streamed vs offline: largest difference {rel:.2g} of the output's scale (float32)")
    print(f"  offline forward      {span(offline_ms, 1)} ms")
    print(f"  per push             {span(push_ms, 2)} ms")
    print(f"  streamed / offline   {span(ratios)}  (target <= 2)")
    print(f"  real-time factor     {span(rtfs, 3)}  (streaming time / audio time)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s), load average {os.getloadavg()[0]:.1f}")
    measure("HiFi-GAN (SpeechT5)", hifigan, args.seconds, args.rounds)
    measure("EnCodec causal encoder", encodec, args.seconds, args.rounds)


if __name__ == "__main__":
    main()
