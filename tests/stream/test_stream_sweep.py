"""The streaming contract over random chains and random chunk schedules (seeded Hypothesis):
the pushes and the flush concatenated are the offline output (float64, within 1e-12 of its
scale), and after every push exactly the outputs that the input so far determines have
left — judged by brute force on the offline chain (``stream_check.earliest``), and equal
to the streaming arithmetic (``timing.chain_ready``)."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies_stream import chains, finality_out_of_order, schedules
from stream_check import close, earliest, finite_scale, offline, run_stream, try_offline

from convtrace import nn
from convtrace.stream import Pointwise, Streamer, layer_of, verify
from convtrace.stream import schedule as schedule_module
from convtrace.stream.schedule import coincidence_possible, exact_schedule
from convtrace.stream.timing import ScatterStep, chain_ready, chain_window, makes_out_of_order, try_lengths
from strategies import examples


def reach_of(s: Streamer) -> int:
    hop, pads = 1.0, 0.0
    for layer in s.layers:
        pads += (abs(layer.pads[0]) + abs(layer.pads[1]) + layer.span) * max(hop, 1.0)
        hop *= float(layer.hop)
    return int(2 * float(s.receptive_field) + 2 * pads) + 32


def check_contract(layers: list[Any], x: np.ndarray, sizes: list[int]) -> None:
    """Exact, and after every push exactly the outputs the input so far determines (never
    early, never late), as the streamer's schedule (``Streamer.ready``) says."""
    want = offline(layers, x)
    s = Streamer(layers)
    parts, counts = run_stream(s, x, sizes)
    got = np.concatenate(parts, axis=-1)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert close(got, want, 1e-12 * finite_scale(want)).all()
    emitted = list(np.cumsum([p.shape[-1] for p in parts[:-1]]))
    judged = [earliest(layers, x, n, reach_of(s)) for n in counts]
    assert emitted == judged, ("early" if any(e > j for e, j in zip(emitted, judged, strict=True)) else "late",
                               emitted, judged, counts, layers)  # fmt: skip
    assert emitted == [s.ready(n) for n in counts]


@pytest.mark.slow
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


F64 = {"dtype": np.float64}


def test_a_dilated_transposed_conv_in_order_leaves_as_early_as_possible() -> None:
    """Taps 0 and 2 with stride 1: each position is final once its input has arrived, in
    order (no out-of-order window: the chain keeps no ``ahead`` counter)."""
    layers = [nn.ConvTranspose1d(1, 2, 2, stride=1, dilation=2, rng=0, **F64), nn.Conv1d(2, 1, 2, dilation=3, rng=1, **F64)]
    assert not finality_out_of_order(1, 2, 2)
    assert "chain.ahead" not in Streamer(layers).state
    x = np.random.default_rng(0).standard_normal((1, 1, 9))
    check_contract(layers, x, [1] * 9)


def _emitted(layers: list[Any], x: np.ndarray, sizes: list[int]) -> list[int]:
    parts, _ = run_stream(Streamer(layers), x, sizes)
    return [int(v) for v in np.cumsum([p.shape[-1] for p in parts[:-1]])]


#: each kind of out-of-order corner, followed by a layer whose first outputs skip a
#: not-yet-final sample (so an in-order prefix of each stage would hold an output back)
CORNERS: dict[str, list[Any]] = {
    # taps 0, 2, 4 with stride 2: odd positions are holes (the bias only: final at once);
    # the dilated conv's output t reads t and t + 3
    "convT holes": [nn.ConvTranspose1d(1, 1, 3, stride=2, dilation=2, rng=0, **F64), nn.Conv1d(1, 1, 2, dilation=3, rng=1, **F64)],
    # taps 0 and 3 with stride 2: position 2n + 1 is final before 2n; the stride-2 conv reads 1, 3, 5, ...
    "dilation and stride": [nn.ConvTranspose1d(1, 2, 2, stride=2, dilation=3, rng=2, **F64),
                            nn.ConstantPad1d((-1, 0), 0.0), nn.Conv1d(2, 1, 1, stride=2, rng=3, **F64)],
    # taps 0, 2 with stride 3 (holes) and a crop after the left padding: the first kept positions skip 3
    "convT crop": [nn.ConvTranspose1d(1, 2, 3, stride=3, padding=3, dilation=2, bias=True, rng=0, **F64),
                   nn.ConvTranspose1d(2, 1, 1, padding=1, rng=1, **F64)],
    # the reflected head copies samples 3, 2, 1; the crop drops its first two
    "reflect left pad": [nn.ReflectionPad1d((3, 0)), nn.ConstantPad1d((-2, 0), 0.0)],
    # reflect as a conv's own padding, then a conv reading every third sample from the second
    "reflect conv padding": [nn.Conv1d(1, 1, 1, padding=2, padding_mode="reflect", rng=4, **F64),
                             nn.ConstantPad1d((-1, 0), 0.0), nn.MaxPool1d(1, 3)],
}


@pytest.mark.parametrize("name", sorted(CORNERS))
@pytest.mark.parametrize("sizes", [[1] * 10, [2, 0, 3, 1, 1, 5], [4, 4, 4]])
def test_each_corner_leaves_as_early_as_possible(name: str, sizes: list[int]) -> None:
    layers = CORNERS[name]
    s = Streamer(layers)
    assert "chain.ahead" in s.state  # the chain has an out-of-order stage
    # a real corner: the stages' in-order prefixes alone (chain_window's prefix) are late somewhere
    assert any(chain_window(s.layers, n)[0] < chain_ready(s.layers, n) for n in range(1, 13))
    x = np.random.default_rng(5).standard_normal((2, s.channels or 1, 12))
    check_contract(layers, x, sizes)


def test_holes_leave_one_push_earlier_than_the_in_order_prefix() -> None:
    """Taps 0, 2, 4 with stride 2: the dilated conv's output 0 reads positions 0 and 3,
    final after one input (3 is a hole) while position 2 waits for input 1: it leaves with
    the first push now (the in-order prefix gave it with the second); verify agrees."""
    layers = CORNERS["convT holes"]
    x = np.random.default_rng(0).standard_normal((1, 1, 8))
    judged = [1, 1, 3, 5, 7, 9, 11, 13]
    got = _emitted(layers, x, [1] * 8)
    assert got == judged
    s = Streamer(layers)
    assert [chain_window(s.layers, n)[0] for n in range(1, 9)] == [0, 1, 3, 5, 7, 9, 11, 13]  # the in-order prefix
    assert [earliest(layers, x, n, reach_of(Streamer(layers))) for n in range(1, 9)] == judged
    r = verify(layers, length=8, chunks=[1] * 8, trials=1, torch=False)
    assert r.ok and r.late == 0 and r.early == 0 and r.first_wrong is None and r.max_relative <= 1e-12
    assert "as early as possible" in repr(r)




#: outputs fixed by the same constant wherever the stream ends (a hole is the bias only)
END_CONSTANTS: dict[str, list[Any]] = {
    # ending now, the reflected right pad copies the hole before the last sample; going on,
    # the same position is the next hole: the bias either way
    "reflect right pad of holes": [nn.ConvTranspose1d(1, 1, 1, stride=2, rng=0, **F64), nn.ReflectionPad1d((0, 1))],
    # LPPool1d(ceil_mode) windows of holes only: the last window, cut short at the end or
    # whole, is the pool of one constant; and a ConvTranspose1d of those constants
    "pools of one constant": [nn.Conv1d(1, 1, 2, padding="same", dilation=3, rng=1, **F64),
                              nn.ConvTranspose1d(1, 2, 4, stride=3, padding=1, dilation=3, output_padding=2, rng=2, **F64),
                              nn.LPPool1d(2, 2, 3, ceil_mode=True),
                              nn.ConvTranspose1d(2, 1, 3, stride=3, dilation=2, output_padding=1, rng=3, **F64)],
    # the last window reads a hole that exists only if the stream goes on, and a sample:
    # not final (it may not exist)
    "a window past the end": [nn.ConvTranspose1d(3, 2, 1, stride=2, padding=4, dilation=3, output_padding=2, rng=1, **F64),
                              nn.ConvTranspose1d(2, 2, 1, stride=2, padding=4, dilation=3, output_padding=2, rng=2, **F64),
                              nn.Conv1d(2, 2, 2, stride=3, dilation=3, rng=3, **F64)],
    # the second ConvTranspose1d's position 2 exists only with input 2 (a hole): a constant
    # wherever it exists, so the replicated right pad's first sample is fixed
    "a transposed conv of holes": [nn.ConvTranspose1d(2, 1, 1, stride=3, output_padding=1, rng=11, **F64),
                                   nn.ConvTranspose1d(1, 1, 1, bias=False, rng=12, **F64),
                                   nn.Conv1d(1, 1, 1, padding=1, bias=False, padding_mode="replicate", rng=13, **F64)],
    # the reflected right pad's input has 4n - 1 samples: ends of 4n samples (their mirror
    # is another constant) cannot be, so the pad's first right sample is fixed
    "ends that cannot be": [nn.ConvTranspose1d(2, 2, 1, stride=4, padding=2, rng=14, **F64),
                            nn.ConvTranspose1d(2, 2, 1, stride=4, output_padding=2, rng=15, **F64), Pointwise(np.tanh),
                            nn.Conv1d(2, 1, 1, padding=2, bias=False, padding_mode="reflect", rng=16, **F64)],
    # a max pool's -inf padding leaves a window of one constant that constant (also cut
    # short by ceil_mode at the end)
    "max pool of holes": [nn.ConvTranspose1d(1, 1, 1, stride=4, dilation=2, rng=4, **F64),
                          nn.MaxPool1d(3, 2, 1, dilation=2, ceil_mode=True)],
    # the reflected left pad copies a pooled hole that exists whatever the end (every stage
    # needs its floor: what surely exists)
    "reflect head of pooled holes": [Pointwise(np.tanh), nn.ConvTranspose1d(1, 2, 1, stride=4, dilation=3, rng=5, **F64),
                                     nn.AvgPool1d(2, 3),
                                     nn.Conv1d(2, 4, 2, stride=3, padding=3, dilation=3, groups=2, bias=False,
                                               padding_mode="reflect", rng=6, **F64)],
}


@pytest.mark.parametrize("name", sorted(END_CONSTANTS))
@pytest.mark.parametrize("sizes", [[1] * 10, [0, 2, 1, 4], [5, 5], [11, 0, 1, 1, 7, 1, 12, 1, 0, 0, 12, 1], [0, 5, 1, 4]])
def test_outputs_fixed_by_a_constant_at_the_end_leave_at_once(name: str, sizes: list[int]) -> None:
    layers = END_CONSTANTS[name]
    s = Streamer(layers)
    x = np.random.default_rng(6).standard_normal((1, s.channels or 1, sum(sizes)))
    check_contract(layers, x, sizes)


def test_a_reflected_right_pad_of_holes_leaves_the_last_sample_too() -> None:
    """ConvTranspose1d(k=1, stride=2): positions 2i are the inputs, 2i + 1 holes; after n
    inputs the reflected right pad's first sample (position 2n - 1) is the bias whether the
    stream ends (a copy of hole 2n - 3) or not (hole 2n - 1): 2n outputs, not 2n - 1."""
    layers = END_CONSTANTS["reflect right pad of holes"]
    x = np.random.default_rng(0).standard_normal((1, 1, 6))
    assert _emitted(layers, x, [1] * 6) == [2, 4, 6, 8, 10, 12]
    s = Streamer(layers)
    assert [chain_window(s.layers, n)[0] for n in range(1, 7)] == [2, 3, 5, 7, 9, 11]  # the prefix alone


#: where two values coincide for every end (``schedule.coincidence_possible``): the
#: streaming arithmetic, which tracks where values come from, would hold these outputs back;
#: the schedule by evaluation lets them leave on time. First kind: a value equal across ends
#: only through an intermediate position whose own value depends on the end.
#: ConvTranspose1d(k=2, s=4) then Conv1d(k=1, s=3, replicate padding): the conv's output 1 is a
#: hole's copy when the input ends after one sample and an input-dependent sample after two,
#: yet the next strided conv reads only the last of them, a hole either way; so the first 18
#: outputs are fixed after one sample (the arithmetic: 14).
LEFT_OVER = [nn.ConvTranspose1d(1, 1, 2, stride=4, padding=2, dilation=2, output_padding=3, rng=7, **F64),
             nn.Conv1d(1, 1, 1, stride=3, padding=1, bias=False, padding_mode="replicate", rng=8, **F64),
             nn.Conv1d(1, 1, 1, stride=3, padding=1, bias=False, padding_mode="replicate", rng=9, **F64),
             nn.ReplicationPad1d((3, 3)),
             nn.ConvTranspose1d(1, 1, 2, stride=4, padding=2, dilation=2, output_padding=3, rng=10, **F64)]  # fmt: skip

#: second kind: an exact zero. A bias-free layer's output over zero padding is 0, which adds
#: nothing downstream, so a ConvTranspose1d position reached only by it equals a hole (the bias).
ZERO_LEFT_OVER = [nn.Conv1d(1, 1, 1, stride=2, bias=False, rng=17, **F64),
                  nn.Conv1d(1, 1, 1, padding=1, dilation=2, bias=False, rng=18, **F64),
                  nn.ConvTranspose1d(1, 1, 1, stride=2, rng=19, **F64), nn.ConstantPad1d((3, -2), -1.0), Pointwise(np.tanh),
                  nn.ReflectionPad1d((2, 3))]  # fmt: skip

#: third kind (found by the sweep): two max pools after a ConvTranspose1d's holes. After two
#: samples the first pool's output 4 exists only if the stream goes on, and is then
#: max(x1, hole) = its output 2; so the second pool's output 3 is that value wherever the
#: stream ends, fixed by two samples.
MAX_LEFT_OVER = [nn.ConvTranspose1d(1, 1, 1, stride=3, rng=0, **F64), Pointwise(np.tanh),
                 nn.MaxPool1d(2, 1, padding=1, dilation=2), nn.MaxPool1d(2, 1, padding=1, dilation=2)]  # fmt: skip

#: each kind: (chain, input length, chunk sizes, emitted after each push, the arithmetic's)
COINCIDENCES: dict[str, tuple[list[Any], int, list[int], list[int], list[int]]] = {
    "end-dependent copy": (LEFT_OVER, 1, [1], [18], [14]),
    "exact zero": (ZERO_LEFT_OVER, 3, [1, 1, 1], [9, 9, 11], [8, 8, 10]),
    "max of the same values": (MAX_LEFT_OVER, 3, [0, 2, 1], [0, 4, 7], [0, 3, 6]),
}


@pytest.mark.parametrize("name", sorted(COINCIDENCES))
def test_outputs_fixed_by_a_coincidence_of_values_leave_on_time(name: str) -> None:
    layers, length, sizes, want, arithmetic = COINCIDENCES[name]
    x = np.random.default_rng(0).standard_normal((2, 1, length))
    s = Streamer(layers)
    assert coincidence_possible([layer_of(m) for m in layers])
    assert _emitted(layers, x, sizes) == want
    counts = list(np.cumsum(sizes))
    assert [earliest(layers, x, n, reach_of(s)) for n in counts] == want  # the judge
    assert [chain_ready(s.layers, n) for n in counts] == arithmetic  # the arithmetic alone: late
    check_contract(layers, x, sizes)


@pytest.mark.parametrize("name", sorted(COINCIDENCES))
def test_the_schedule_by_evaluation_agrees_with_the_judge_past_its_table(name: str) -> None:
    """The table, then its period repeated, against the brute-force judge (on another
    input and far past the table), and never below the arithmetic."""
    layers = COINCIDENCES[name][0]
    s = Streamer(layers)
    schedule = exact_schedule(layers, [layer_of(m) for m in layers])
    assert schedule is not None
    far = len(schedule.table) + 3 * schedule.period + 1
    x = np.random.default_rng(3).standard_normal((1, 1, far + 2))
    for n in [*range(12), len(schedule.table) - 1, len(schedule.table), far - schedule.period, far]:
        assert schedule.ready(n) == earliest(layers, x, n, reach_of(s)), n
        assert schedule.ready(n) >= chain_ready(s.layers, n)


def test_values_fixed_by_a_coincidence_come_from_the_stream_ended_as_soon_as_it_can() -> None:
    """``_as_if_ended``: the outputs after the emitted ones, were the stream to end now, or
    (here: the reflect pad needs more samples than one input gives) after the fewest
    zeros the layers accept; the state is untouched."""
    layers = [*LEFT_OVER, nn.ReflectionPad1d((0, 30))]
    s = Streamer(layers)
    x = np.random.default_rng(2).standard_normal((1, 1, 1))
    first = s.push(x)
    zeros = next(m for m in range(1, 40) if try_lengths(s.layers, 1 + m) is not None)
    assert try_lengths(s.layers, 1) is None
    before = {k: v.copy() for k, v in s.state.items()}
    ended = s._as_if_ended(1)
    want = offline(layers, np.concatenate((x, np.zeros((1, 1, zeros))), axis=-1))
    assert close(np.concatenate((first, ended), axis=-1), want, 1e-12 * finite_scale(want)).all()
    assert all(np.array_equal(before[k], v) for k, v in s.state.items())
    short = Streamer(MAX_LEFT_OVER)
    x = np.random.default_rng(2).standard_normal((1, 1, 2))
    first = short.push(x)
    want = offline(MAX_LEFT_OVER, x)
    assert close(
        np.concatenate((first, short._as_if_ended(2)), axis=-1), want, 1e-12 * finite_scale(want)
    ).all()


def test_only_chains_that_can_coincide_are_evaluated(monkeypatch: pytest.MonkeyPatch) -> None:
    """The class: holes, then a max pool, a pad or a copying conv pad; the corners the
    arithmetic gets right and chains without holes are not evaluated; a chain too long
    for the evaluation keeps the arithmetic (late, never early)."""
    layer = layer_of
    assert all(coincidence_possible([layer(m) for m in c[0]]) for c in COINCIDENCES.values())
    assert not coincidence_possible(
        [layer(m) for m in CORNERS["convT holes"]]
    )  # a plain conv after the holes
    assert not coincidence_possible(
        [layer(m) for m in [nn.ConvTranspose1d(1, 1, 2, stride=2), nn.MaxPool1d(2)]]
    )  # no holes
    assert not coincidence_possible(
        [layer(m) for m in [nn.MaxPool1d(2), nn.ConvTranspose1d(1, 1, 1, stride=3)]]
    )  # the pool before
    assert coincidence_possible(
        [
            layer(m)
            for m in [
                nn.ConvTranspose1d(1, 1, 1, stride=3),
                nn.Conv1d(1, 1, 3, padding=1, padding_mode="reflect"),
            ]
        ]
    )
    assert Streamer(CORNERS["convT holes"])._schedule is None
    assert Streamer(MAX_LEFT_OVER)._schedule is not None
    assert exact_schedule(MAX_LEFT_OVER, [layer(m) for m in MAX_LEFT_OVER], limit=20) is None
    monkeypatch.setattr(schedule_module, "LIMIT", 20)
    s = Streamer(MAX_LEFT_OVER)
    assert s._schedule is None and s.ready(2) == chain_ready(s.layers, 2) == 3  # late by one, not early
    x = np.random.default_rng(0).standard_normal((1, 1, 3))
    assert _emitted(MAX_LEFT_OVER, x, [0, 2]) == [0, 3, 6]


def test_the_contract_check_fails_early_and_late(monkeypatch: pytest.MonkeyPatch) -> None:
    x = np.random.default_rng(0).standard_normal((1, 1, 3))
    monkeypatch.setattr(
        sys.modules[__name__], "earliest", lambda *args: 0
    )  # a judge that sees everything early
    with pytest.raises(AssertionError, match="early"):
        check_contract(MAX_LEFT_OVER, x, [0, 2])
    monkeypatch.setattr(
        sys.modules[__name__], "earliest", lambda *args: 99
    )  # a judge that sees everything late
    with pytest.raises(AssertionError, match="late"):
        check_contract(MAX_LEFT_OVER, x, [0, 2])


def test_replicate_left_pad_is_in_order() -> None:
    """Replicate's head copies sample 0 only: final with the first sample, in order (not
    a corner: no window, and as early as possible)."""
    layers = [nn.ReplicationPad1d((3, 0)), nn.ConstantPad1d((-2, 0), 0.0), nn.AvgPool1d(1, 2)]
    assert "chain.ahead" not in Streamer(layers).state
    check_contract(layers, np.random.default_rng(1).standard_normal((1, 1, 9)), [1] * 9)


@pytest.mark.parametrize("stride", [1, 2, 3, 4])
@pytest.mark.parametrize("dilation", [1, 2, 3])
@pytest.mark.parametrize("kernel_size", [1, 2, 3, 5])
def test_out_of_order_finality_agrees_with_the_brute_force(stride: int, dilation: int, kernel_size: int) -> None:
    """``timing.makes_out_of_order`` (which stages open a window) against the sweep's own
    count of the last input reaching each position."""
    step = ScatterStep((kernel_size - 1) * dilation + 1, stride, 0, 0, dilation)
    assert makes_out_of_order(step) == finality_out_of_order(stride, dilation, kernel_size)


def test_a_max_pools_window_of_padding_and_a_hole_that_may_not_exist_waits() -> None:
    """Holes (the bias, through tanh) read by a max pool with padding and dilation: output 0
    reads the left pad and position 1, a hole only if the input has 2 samples; with 1 the
    window reads padding alone (-inf). So it is not final until the second sample arrives
    (a CI sweep found it leaving at once, -0.43 instead of -inf)."""
    layers = [nn.ConvTranspose1d(1, 1, 1, stride=2, rng=0, **F64), Pointwise(np.tanh), nn.MaxPool1d(1, 1),
              nn.MaxPool1d(2, 1, 1, dilation=2)]  # fmt: skip
    for length, sizes in ((1, [0]), (1, []), (2, [0]), (2, [1]), (3, [1, 1])):
        check_contract(layers, np.random.default_rng(0).standard_normal((1, 1, length)), sizes)
    assert chain_ready(Streamer(layers).layers, 1) == 0
