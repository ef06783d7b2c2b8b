"""The streaming contract over random chains and random chunk schedules (seeded Hypothesis):
the pushes and the flush concatenated are the offline output (float64, within 1e-12 of its
scale), and after every push exactly the outputs that the input so far determines have
left — judged by brute force on the offline chain (``stream_check.earliest``), and equal
to the streaming arithmetic (``timing.chain_ready``)."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies_stream import chains, schedules
from stream_check import earliest, offline, run_stream, try_offline

from convtrace.stream import Streamer
from convtrace.stream.timing import chain_ready
from strategies import examples


def reach_of(s: Streamer) -> int:
    hop, pads = 1.0, 0.0
    for layer in s.layers:
        pads += (abs(layer.pads[0]) + abs(layer.pads[1]) + layer.span) * max(hop, 1.0)
        hop *= float(layer.hop)
    return int(2 * float(s.receptive_field) + 2 * pads) + 32


def check_contract(layers: list[Any], x: np.ndarray, sizes: list[int]) -> None:
    want = offline(layers, x)
    s = Streamer(layers)
    parts, counts = run_stream(s, x, sizes)
    got = np.concatenate(parts, axis=-1)
    assert got.shape == want.shape, (got.shape, want.shape)
    scale = max(1.0, float(np.max(np.abs(want)))) if want.size else 1.0
    assert float(np.max(np.abs(got - want), initial=0.0)) <= 1e-12 * scale
    emitted = list(np.cumsum([p.shape[-1] for p in parts[:-1]]))
    judged = [earliest(layers, x, n, reach_of(s)) for n in counts]
    assert emitted == judged, (emitted, judged, counts)
    assert emitted == [chain_ready(s.layers, n) for n in counts]


@examples(80)
@given(chains(), schedules(), st.integers(1, 48), st.integers(1, 2), st.integers(0, 1000))
def test_streamed_equals_offline_and_leaves_as_early_as_possible(
    chain: tuple[list[Any], int], sizes: list[int], length: int, batch: int, seed: int
) -> None:
    layers, channels = chain
    x = np.random.default_rng(seed).standard_normal((batch, channels, length))
    assume(try_offline(layers, x) is not None)
    check_contract(layers, x, sizes)


@examples(30)
@given(chains(max_layers=3), st.integers(1, 40), st.integers(0, 1000))
def test_one_sample_at_a_time(chain: tuple[list[Any], int], length: int, seed: int) -> None:
    layers, channels = chain
    x = np.random.default_rng(seed).standard_normal((1, channels, length))
    assume(try_offline(layers, x) is not None)
    check_contract(layers, x, [1] * length)
