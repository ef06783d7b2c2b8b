"""The streaming contract over random chains and random chunk schedules (seeded Hypothesis):
the pushes and the flush concatenated are the offline output (float64, within 1e-12 of its
scale), and after every push exactly the outputs that the input so far determines have
left — judged by brute force on the offline chain (``stream_check.earliest``), and equal
to the streaming arithmetic (``timing.chain_ready``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies_stream import chains, has_holes, schedules
from stream_check import close, earliest, finite_scale, offline, run_stream, try_offline

from convtrace.plan.layers import Layer, merge_ranges
from convtrace.stream import Pointwise, Streamer, layer_of
from convtrace.stream.timing import chain_ready
from strategies import examples


def reach_of(s: Streamer) -> int:
    hop, pads = 1.0, 0.0
    for layer in s.layers:
        pads += (abs(layer.pads[0]) + abs(layer.pads[1]) + layer.span) * max(hop, 1.0)
        hop *= float(layer.hop)
    return int(2 * float(s.receptive_field) + 2 * pads) + 32


def leaves_gaps(layer: Layer, period: int = 24) -> bool:
    """Whether the first outputs of ``layer`` together skip an input sample before the
    last one they read (``Layer.sources``: a dilated or strided window, a crop, a
    ConvTranspose1d's padding), or its reflected left pad reads ahead."""
    if layer.padding_mode == "reflect" and layer.pads[0] > 0:
        return True
    read: list[tuple[int, int]] = []
    for t in range(period):
        read = merge_ranges(read + [(max(a, 0), b) for a, b in layer.sources([(t, t)]) if b >= 0])
        if read and (read[0][0] > 0 or len(read) > 1):
            return True
    return False


def skips_after_holes(layers: list[Any]) -> bool:
    """A ConvTranspose1d with holes (positions no tap reaches: they depend on no input) or a
    dilation (a position can depend only on earlier inputs than the one before it), or a
    reflected left pad (its first sample copies sample ``left``), makes some of its samples
    final before earlier ones; if a later layer's first outputs skip one of those earlier
    samples (:func:`leaves_gaps`), an output is fixed while that sample is not, and a stream
    that keeps each layer's output in order holds it until the sample is final. The one
    corner where the engine can be later than the contract's "no later": there the sweep
    checks exactness and that nothing leaves early (and it is reported)."""
    out_of_order = False
    for m in layers:
        layer = layer_of(m) if not isinstance(m, Pointwise) else None
        if layer is None:
            continue
        if out_of_order and leaves_gaps(layer):
            return True
        out_of_order = out_of_order or (layer.kind == "convT" and (
            layer.dilation > 1 or has_holes(layer.stride, layer.dilation, layer.kernel_size)))  # fmt: skip
        out_of_order = out_of_order or (layer.padding_mode == "reflect" and layer.pads[0] > 0)
    return False


def check_contract(layers: list[Any], x: np.ndarray, sizes: list[int], corner: bool = False) -> None:
    """Exact, never early, and as early as possible (in the corner of
    :func:`skips_after_holes`: never early)."""
    want = offline(layers, x)
    s = Streamer(layers)
    parts, counts = run_stream(s, x, sizes)
    got = np.concatenate(parts, axis=-1)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert close(got, want, 1e-12 * finite_scale(want)).all()
    emitted = list(np.cumsum([p.shape[-1] for p in parts[:-1]]))
    judged = [earliest(layers, x, n, reach_of(s)) for n in counts]
    assert all(e <= j for e, j in zip(emitted, judged)), (emitted, judged, counts)
    assert corner or emitted == judged, (emitted, judged, counts, layers)
    assert emitted == [chain_ready(s.layers, n) for n in counts]


@pytest.mark.slow
@examples(80)
@given(chains(), schedules(), st.integers(1, 48), st.integers(1, 2), st.integers(0, 1000))
def test_streamed_equals_offline_and_leaves_as_early_as_possible(
    chain: tuple[list[Any], int], sizes: list[int], length: int, batch: int, seed: int
) -> None:
    layers, channels = chain
    x = np.random.default_rng(seed).standard_normal((batch, channels, length))
    assume(try_offline(layers, x) is not None)
    check_contract(layers, x, sizes, corner=skips_after_holes(layers))


@examples(30)
@given(chains(max_layers=3), st.integers(1, 40), st.integers(0, 1000))
def test_one_sample_at_a_time(chain: tuple[list[Any], int], length: int, seed: int) -> None:
    layers, channels = chain
    x = np.random.default_rng(seed).standard_normal((1, channels, length))
    assume(try_offline(layers, x) is not None)
    check_contract(layers, x, [1] * length, corner=skips_after_holes(layers))
