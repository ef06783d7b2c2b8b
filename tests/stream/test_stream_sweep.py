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
from strategies_stream import chains, finality_out_of_order, schedules
from stream_check import close, earliest, finite_scale, offline, run_stream, try_offline

from convtrace import nn
from convtrace.plan.layers import Layer, merge_ranges
from convtrace.stream import Pointwise, Streamer, layer_of, verify
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
    """The one corner where the engine can be later than the contract's "no later".

    A ConvTranspose1d whose positions become final out of order
    (:func:`~strategies_stream.finality_out_of_order`: holes, no tap reaches them, so they
    depend on no input; or a dilation with a stride, e.g. taps 0 and 3 with stride 2 make
    position ``2n + 1`` final before ``2n``), or a reflected left pad (its first sample
    copies sample ``left``, the next ones earlier samples), makes some of its samples final
    before earlier ones. If a later layer's first outputs skip one of those earlier samples
    (:func:`leaves_gaps`), an output is fixed while that sample is not; the engine's stages
    pass each layer's outputs on in order (a final prefix: the state is the held samples and
    two counters), so it holds that output until the sample is final. Emitting it earlier
    would need samples passed between stages out of order, with a finality mask per sample
    through every stage: not done. Here the sweep checks exactness and that nothing leaves
    early, and ``verify`` reports the late pushes. A dilated ConvTranspose1d whose positions
    stay in order (stride 1, or taps that cover every residue in order) is not a corner: the
    sweep asserts "as early as possible" there."""
    out_of_order = False
    for m in layers:
        layer = layer_of(m) if not isinstance(m, Pointwise) else None
        if layer is None:
            continue
        if out_of_order and leaves_gaps(layer):
            return True
        out_of_order = out_of_order or (layer.kind == "convT" and finality_out_of_order(
            layer.stride, layer.dilation, layer.kernel_size))  # fmt: skip
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


F64 = {"dtype": np.float64}


def test_a_dilated_transposed_conv_in_order_leaves_as_early_as_possible() -> None:
    """Taps 0 and 2 with stride 1: each position is final once its input has arrived, in
    order, so a dilated conv after it (reading positions t and t + 3) is not a corner."""
    layers = [nn.ConvTranspose1d(1, 2, 2, stride=1, dilation=2, rng=0, **F64), nn.Conv1d(2, 1, 2, dilation=3, rng=1, **F64)]
    assert not finality_out_of_order(1, 2, 2) and not skips_after_holes(layers)
    x = np.random.default_rng(0).standard_normal((1, 1, 9))
    check_contract(layers, x, [1] * 9)


def test_the_remaining_corner_is_late_by_what_the_prefix_holds_back() -> None:
    """Taps 0, 2, 4 with stride 2 leave odd positions as holes (final at once): the dilated
    conv's output 0 reads positions 0 and 3, final after one input, but the stage passes
    positions on in order and position 2 waits for input 1. Exact and never early; late."""
    layers = [nn.ConvTranspose1d(1, 1, 3, stride=2, dilation=2, rng=0, **F64), nn.Conv1d(1, 1, 2, dilation=3, rng=1, **F64)]
    assert skips_after_holes(layers)
    x = np.random.default_rng(0).standard_normal((1, 1, 8))
    check_contract(layers, x, [1] * 8, corner=True)
    s = Streamer(layers)
    parts, _counts = run_stream(s, x, [1] * 8)
    assert [p.shape[-1] for p in parts[:2]] == [0, 1]  # the judge: [1, 0]
    assert earliest(layers, x, 1, reach_of(Streamer(layers))) == 1
    r = verify(layers, length=8, chunks=[1] * 8, trials=1, torch=False)
    # verify says so: exact, nothing early, and the late push makes it fail the contract
    assert not r.ok and r.late >= 1 and r.early == 0 and r.first_wrong is None and r.max_relative <= 1e-12
