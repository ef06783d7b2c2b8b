"""The emission schedule by evaluation (``convtrace.stream.schedule``), checked against
independent judges: which input samples an output depends on by perturbing each sample
of the offline chain, and the earliest emission by brute force (``stream_check.earliest``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies_stream import chains, conv, pad, pool
from stream_check import earliest, try_offline

from convtrace import nn
from convtrace.plan.layers import Layer
from convtrace.stream import Pointwise, Streamer, layer_of, report
from convtrace.stream.schedule import (
    _period,
    coincidence_possible,
    exact_schedule,
    first_fixed_each,
    latest_inputs,
    narrow,
    reach,
)
from convtrace.stream.timing import chain_ready
from strategies import examples


def perturbed_latest(modules: list[Any], channels: int, length: int, seed: int) -> np.ndarray:
    """For each output, the last input sample whose change changes it (any channel): each
    sample in turn moved by 1 on a narrow copy (max pools as the mean of their taps, which
    cannot hide a sample); an output that reads no sample: -1."""
    probe, c = narrow(modules, np.random.default_rng(seed))
    x = np.random.default_rng(seed + 1).standard_normal((1, c, length))
    base = try_offline(probe, x)
    assert base is not None
    latest = np.full(base.shape[-1], -1.0)
    for t in range(length):
        moved = x.copy()
        moved[..., t] += 1.0
        y = try_offline(probe, moved)
        assert y is not None
        changed = np.any(y != base, axis=(0, 1))
        latest[changed] = t
    return latest


@examples(60)
@given(chains(max_layers=4), st.integers(1, 40), st.integers(0, 1000))
def test_latest_inputs_are_the_last_samples_each_output_depends_on(
    chain: tuple[list[Any], int], length: int, seed: int
) -> None:
    modules, channels = chain
    assume(try_offline(modules, np.zeros((1, channels, length))) is not None)
    layers = [layer_of(m) for m in modules]
    reads = latest_inputs(layers, length)
    assert reads.tolist() == perturbed_latest(modules, channels, length, seed).tolist()


@st.composite
def coinciding_chains(draw: Any) -> list[Any]:
    """A ConvTranspose1d with holes (a bias), then one to three layers of which one is a
    max pool, a pad layer or a conv padded by copying (the class the schedule is for)."""
    k = draw(st.integers(1, 3))
    stride = draw(st.integers(k + 1, 4))
    holes = nn.ConvTranspose1d(1, 1, k, stride, draw(st.integers(0, 2)), draw(st.integers(0, stride - 1)),
                               dtype=np.float64, rng=draw(st.integers(0, 99)))  # fmt: skip
    after: list[Any] = []
    for i in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["conv", "pool", "pad", "pointwise"]))
        if kind == "conv":
            after.append(draw(conv(1, 5 + i)))
        elif kind == "pool":
            after.append(draw(pool()))
        elif kind == "pad":
            after.append(draw(pad()))
        else:
            after.append(Pointwise(np.tanh))
    after.insert(draw(st.integers(0, len(after))), draw(st.sampled_from([
        nn.MaxPool1d(2, 1, padding=1, dilation=2), nn.ReplicationPad1d((1, 2)), nn.ReflectionPad1d((0, 2)),
        nn.Conv1d(1, 1, 1, stride=3, padding=1, padding_mode="replicate", dtype=np.float64, rng=3)])))  # fmt: skip
    return [holes, *after]


@examples(25)
@given(coinciding_chains(), st.integers(0, 1000))
def test_the_schedule_is_the_earliest_emission_past_its_table(modules: list[Any], seed: int) -> None:
    layers = [layer_of(m) for m in modules]
    channels = 1
    assume(all(getattr(m, "groups", 1) == 1 and getattr(m, "out_channels", 1) == 1 for m in modules))
    assert coincidence_possible(layers)
    schedule = exact_schedule(modules, layers)
    assume(schedule is not None)
    assert schedule is not None
    s = Streamer(modules)
    far = len(schedule.table) + 2 * schedule.period + 3
    x = np.random.default_rng(seed).standard_normal((1, channels, far + 1))
    judge_reach = reach(s.layers)
    for n in sorted({*range(8), len(schedule.table) - 1, len(schedule.table), far}):
        assert schedule.ready(n) == earliest(modules, x, n, judge_reach), n
        assert schedule.ready(n) >= chain_ready(s.layers, n)
    arithmetic = [None] * (len(modules) - 1) + [s.timing.first_output]
    assert first_fixed_each([[m] for m in modules], layers, arithmetic)[-1] == s.first_output  # the report's


def test_the_period_shifts_every_layer_by_whole_samples() -> None:
    assert _period([Layer("conv", kernel_size=2, stride=2), Layer("convT", kernel_size=3, stride=3)]) == (
        2,
        3,
    )
    assert _period([Layer("convT", kernel_size=1, stride=3), Layer("conv", kernel_size=1, stride=2)]) == (
        2,
        3,
    )
    assert _period([Layer("conv", kernel_size=1, stride=4), Layer("maxpool", kernel_size=2, stride=2)]) == (
        8,
        1,
    )
    three = [
        Layer("conv", kernel_size=1, stride=2),
        Layer("convT", kernel_size=2, stride=2),
        Layer("conv", kernel_size=1, stride=3),
    ]
    assert _period(three) == (6, 2)


@pytest.mark.parametrize("length", [1, 2, 5])
def test_latest_inputs_pinned(length: int) -> None:
    """ConvTranspose1d(k=1, s=3): input i at 3i, holes between; a replicate pad copies the last."""
    chain = [nn.ConvTranspose1d(1, 1, 1, stride=3), nn.ReplicationPad1d((1, 2))]
    reads = latest_inputs([layer_of(m) for m in chain], length).tolist()
    full = [float(p // 3) if p % 3 == 0 else -1.0 for p in range(3 * (length - 1) + 1)]
    assert reads == [full[0], *full, full[-1], full[-1]]


#: found by a random search: the window's schedule gives the first output after 5 samples,
#: the evaluation (and the judge) after 3
EARLY_FIRST = [nn.ConvTranspose1d(1, 1, 1, stride=4, padding=2, dtype=np.float64, rng=1), nn.AvgPool1d(4, 1),
               nn.Conv1d(1, 1, 5, stride=2, padding=4, dilation=2, bias=False, padding_mode="reflect", dtype=np.float64, rng=2),
               nn.MaxPool1d(2, 1, padding=1, dilation=2)]  # fmt: skip


def test_the_report_gives_the_streamers_first_output() -> None:
    layers = [layer_of(m) for m in EARLY_FIRST]
    s = Streamer(EARLY_FIRST)
    x = np.random.default_rng(4).standard_normal((1, 1, 16))
    assert [earliest(EARLY_FIRST, x, n, reach(s.layers)) for n in range(5)] == [s.ready(n) for n in range(5)]
    assert s.timing.first_output == 5 and s.first_output == 3
    r = report(layers)
    assert r.first_output == 3 and r.layers[-1].first_output == 3
    assert (
        report(layers[:2]).first_output == r.layers[1].first_output == Streamer(EARLY_FIRST[:2]).first_output
    )
