"""``explain(op=<pool>)``: every step of every pool held to PyTorch (values, the winners'
indices), the window model's tap kinds, the divisor and its reasons, the p-norm's scale, the
adaptive windows, the unpool scatter, and the ceil_mode "must start inside" rule."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import convtrace
from backends import onednn
from convtrace.shapes import TapKind
from convtrace.trace.build import Request, explain_request
from convtrace.trace.model import PoolTrace, Reduction
from convtrace.trace.verify import verify_trace

torch = pytest.importorskip("torch")
F = torch.nn.functional


def pool(**kw: Any) -> PoolTrace:
    trace = explain_request(Request(**kw))
    assert isinstance(trace, PoolTrace)
    return trace


def torch_pool(trace: PoolTrace) -> tuple[np.ndarray, np.ndarray | None]:
    """PyTorch's output (float64) and max pooling's indices, computed here (not by the check)."""
    s = trace.spec
    x = torch.tensor(np.asarray(trace.input, dtype=np.float64))
    if s.op == "max_unpool1d":
        idx = torch.tensor(np.asarray(trace.indices, dtype=np.int64))
        size = None if s.output_size is None else [s.output_size]
        return F.max_unpool1d(x, idx, s.kernel_size, s.stride, s.padding, size).numpy(), None
    if s.op == "max_pool1d":
        y, i = F.max_pool1d(x, s.kernel_size, s.stride, s.padding, s.dilation, s.ceil_mode, return_indices=True)
        return y.numpy(), i.numpy()
    if s.op == "adaptive_max_pool1d":
        y, i = F.adaptive_max_pool1d(x, s.out_length, return_indices=True)
        return y.numpy(), i.numpy()
    if s.op == "avg_pool1d":
        return F.avg_pool1d(x, s.kernel_size, s.stride, s.padding, s.ceil_mode, s.count_include_pad).numpy(), None
    if s.op == "lp_pool1d":
        return F.lp_pool1d(x, s.norm_type, s.kernel_size, s.stride, s.ceil_mode).numpy(), None
    return F.adaptive_avg_pool1d(x, s.out_length).numpy(), None


def assert_steps_match_torch(trace: PoolTrace) -> None:
    for enabled in (True, False):
        with onednn(enabled):
            y, indices = torch_pool(trace)
        y3 = y if y.ndim == 3 else y[None]
        i3 = None if indices is None else (indices if indices.ndim == 3 else indices[None])
        assert len(trace.steps) == y3.size  # every output has its step
        for step in trace.steps:
            want = y3[step.batch, step.out_channel, step.out_index]
            got = float(step.value)
            assert (math.isnan(want) and math.isnan(got)) or math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-12), (
                step, want)
            if i3 is not None:
                assert step.pool is not None and step.pool.winner_index == i3[step.batch, step.out_channel, step.out_index]


# --------------------------------------------------------------------------- the sweep

values = st.one_of(st.integers(-9, 9), st.sampled_from([0.5, -2.5, float("nan"), float("-inf")]))


@st.composite
def pool_calls(draw: st.DrawFn) -> dict[str, Any]:
    op = draw(st.sampled_from(["max_pool1d", "avg_pool1d", "lp_pool1d", "adaptive_avg_pool1d", "adaptive_max_pool1d"]))
    length = draw(st.integers(1, 9))
    channels = draw(st.integers(1, 2))
    data = [[draw(values) if op.endswith("max_pool1d") else draw(st.integers(-9, 9)) for _ in range(length)]
            for _ in range(channels)]
    if op.startswith("adaptive"):
        return dict(op=op, input=data, output_size=draw(st.integers(1, 12)))
    k = draw(st.integers(1, min(length, 5)))
    call: dict[str, Any] = dict(op=op, input=data, kernel_size=k, stride=draw(st.integers(1, 4)),
                                ceil_mode=draw(st.booleans()))
    if op == "lp_pool1d":
        call["norm_type"] = draw(st.sampled_from([1, 2, 3, 1.5]))
        return call
    call["padding"] = draw(st.integers(0, k // 2))
    if op == "max_pool1d":
        call["dilation"] = draw(st.integers(1, 3))
        if (length + 2 * call["padding"] - call["dilation"] * (k - 1) - 1) < 0:
            call["dilation"] = 1
    else:
        call["count_include_pad"] = draw(st.booleans())
    return call


@given(pool_calls())
def test_every_step_is_pytorchs_value_and_index(call: dict[str, Any]) -> None:
    trace = pool(**call)
    assert verify_trace(trace)
    assert_steps_match_torch(trace)


@given(st.integers(1, 8), st.integers(1, 3), st.integers(0, 1), st.data())
def test_unpool_steps_are_pytorchs(length: int, k: int, padding: int, data: st.DataObject) -> None:
    """max_unpool1d of max_pool1d's own indices (no collisions): PyTorch's output."""
    padding = min(padding, k // 2)
    x = torch.tensor([[data.draw(st.lists(st.integers(-9, 9), min_size=length, max_size=length))]], dtype=torch.float64)
    if length + 2 * padding < k:
        return
    y, idx = F.max_pool1d(x, k, k, padding, return_indices=True)
    if int(idx.max()) >= (y.shape[-1] - 1) * k - 2 * padding + k:  # outside the default output: rejected
        return
    trace = pool(op="max_unpool1d", input=y.numpy()[0], indices=idx.numpy()[0], kernel_size=k, padding=padding)
    assert_steps_match_torch(trace)


# --------------------------------------------------------------------------- the rules, with numbers


def test_the_issues_average_divisor_two_and_why() -> None:
    """L=6, k=3, s=2, p=1, ceil_mode: the last window is x6, the right padding, one overhang
    cell: count_include_pad counts the padding (divisor 2), never the overhang."""
    t = pool(op="avg_pool1d", input=[1, 2, 3, 4, 5, 6], kernel_size=3, stride=2, padding=1, ceil_mode=True)
    last = t.steps[-1]
    assert [term.tap for term in last.terms] == [TapKind.REAL, TapKind.RIGHT_PAD, TapKind.OVERHANG]
    assert last.pool is not None
    assert (last.pool.real, last.pool.right_pad, last.pool.overhang, last.pool.divisor) == (1, 1, 1, 2)
    assert last.total == 6 and last.value == 3 and last.reduction is Reduction.MEAN
    assert [term.padded_index for term in last.terms] == [6, 7, 8]
    first = t.steps[0]
    assert [term.tap for term in first.terms] == [TapKind.LEFT_PAD, TapKind.REAL, TapKind.REAL]
    without = pool(op="avg_pool1d", input=[1, 2, 3, 4, 5, 6], kernel_size=3, stride=2, padding=1, ceil_mode=True,
                   count_include_pad=False)
    assert [s.pool.divisor for s in without.steps if s.pool] == [2, 3, 3, 1]
    assert [s.value for s in without.steps] == [Fraction(3, 2), 3, 5, 6]


def test_ceil_mode_must_start_inside_drops_a_window() -> None:
    """L=2, k=2, s=3, p=1: the docstring's formula says 2, PyTorch 1."""
    t = pool(op="max_pool1d", input=[1, 2], kernel_size=2, stride=3, padding=1, ceil_mode=True)
    assert t.spec.out_length == t.length.result == 1 == F.max_pool1d(torch.ones(1, 1, 2), 2, 3, 1, ceil_mode=True).shape[-1]
    (note,) = [n for n in t.notes if n.code == "ceil_dropped_window"]
    assert note.values["docs_length"] == 2 and note.values["start"] == 3 and note.values["limit"] == 3
    assert t.length.substituted.endswith("+ 1 - 1")
    kept = pool(op="max_pool1d", input=[1, 2, 3], kernel_size=2, stride=3, padding=1, ceil_mode=True)
    assert not [n for n in kept.notes if n.code == "ceil_dropped_window"] and kept.spec.out_length == 2


def test_max_ties_go_to_the_first_index_and_nan_wins() -> None:
    t = pool(op="max_pool1d", input=[3, 1, 3, 3], kernel_size=4)
    (step,) = t.steps
    assert step.pool is not None and step.pool.winner_index == 0 and step.pool.ties == (2, 3)
    t = pool(op="max_pool1d", input=[1.0, float("nan"), 2.0, float("nan")], kernel_size=4)
    (step,) = t.steps
    assert step.pool is not None and step.pool.nan and math.isnan(step.value)
    assert step.pool.winner_index == int(F.max_pool1d(torch.tensor([[[1.0, math.nan, 2.0, math.nan]]]), 4,
                                                      return_indices=True)[1])


def test_max_padding_is_minus_infinity_and_never_wins() -> None:
    t = pool(op="max_pool1d", input=[-5, -7], kernel_size=2, padding=1)
    assert [term.x for term in t.steps[0].terms] == [float("-inf"), -5]
    assert [str(term.source) for term in t.steps[0].terms] == ["neg_inf", "input"]
    assert [s.value for s in t.steps] == [-5, -7]
    assert_steps_match_torch(t)


def test_lp_pool_scales_the_partial_window_and_keeps_the_sign() -> None:
    t = pool(op="lp_pool1d", input=[1, 1, 1, 1, 1], norm_type=2, kernel_size=2, ceil_mode=True)
    last = t.steps[-1]
    assert last.pool is not None and last.pool.scale == 2 and last.pool.divisor == 1 and last.total == 1
    assert math.isclose(last.value, math.sqrt(2)) and last.pool.overhang == 1
    signed = pool(op="lp_pool1d", input=[1, -2, 3, 1], norm_type=1, kernel_size=2)
    assert [s.value for s in signed.steps] == [-1, 4]  # a signed sum, no abs
    odd = pool(op="lp_pool1d", input=[1, -2], norm_type=3, kernel_size=2)
    assert math.isnan(odd.steps[0].value) and odd.steps[0].total == -7
    for t in (signed, odd):
        assert_steps_match_torch(t)


def test_adaptive_windows_floor_and_ceil() -> None:
    t = pool(op="adaptive_avg_pool1d", input=[1, 2, 3, 4, 5], output_size=3)
    assert [(s.pool.start, s.pool.end) for s in t.steps if s.pool] == [(0, 2), (1, 4), (3, 5)]
    assert [s.pool.divisor for s in t.steps if s.pool] == [2, 3, 2]
    assert [s.value for s in t.steps] == [Fraction(3, 2), 3, Fraction(9, 2)]
    wide = pool(op="adaptive_max_pool1d", input=[1, 2], output_size=3)  # O > L
    assert [(s.pool.start, s.pool.end) for s in wide.steps if s.pool] == [(0, 1), (0, 2), (1, 2)]
    assert_steps_match_torch(wide)


def test_unpool_shows_where_values_land_and_the_collisions() -> None:
    t = pool(op="max_unpool1d", input=[5, 7, 1], indices=[1, 1, 4], kernel_size=2)
    assert [(p.input_index, p.index) for p in t.placements] == [(0, 1), (1, 1), (2, 4)]
    assert t.steps[1].pool is not None and t.steps[1].pool.sources == (0, 1) and t.steps[1].pool.collision
    assert [s.value for s in t.steps] == [0, 7, 0, 0, 1, 0]
    (note,) = [n for n in t.notes if n.code == "unpool_collision"]
    assert note.values == {"positions": [1], "count": 1}
    check = convtrace.explain(op="max_unpool1d", input=[5, 7, 1], indices=[1, 1, 4], kernel_size=2).check
    assert check is not None and check.agree  # PyTorch keeps one of 5 and 7


def test_the_check_confirms_every_value_and_index() -> None:
    t = convtrace.explain(op="max_pool1d", input=[1, 3, 2, 5, 4], kernel_size=2, ceil_mode=True)
    assert t.check is not None and t.check.agree and t.check.extra["indices_agree"]
    assert t.check.extra["indices"].tolist() == [[1, 3, 4]]
    assert t.verify(torch=True)


def test_a_wrong_step_is_caught() -> None:
    """verify() re-derives each reduction: a step whose winner or divisor is wrong fails."""
    from dataclasses import replace

    t = pool(op="max_pool1d", input=[1, 3, 2], kernel_size=3)
    step = t.steps[0]
    assert step.pool is not None
    bad = replace(t, steps=(replace(step, pool=replace(step.pool, winner_index=0)),))
    with pytest.raises(AssertionError, match="index"):
        verify_trace(bad)
    t = pool(op="avg_pool1d", input=[1, 3, 2], kernel_size=3)
    step = t.steps[0]
    assert step.pool is not None
    bad = replace(t, steps=(replace(step, pool=replace(step.pool, divisor=2)),))
    with pytest.raises(AssertionError, match="value"):
        verify_trace(bad)


def test_channels_and_batches_are_pooled_apart() -> None:
    x = np.arange(12.0).reshape(2, 2, 3)
    t = pool(op="max_pool1d", input=x, kernel_size=2, stride=1)
    assert t.spec.batched and len(t.steps) == 8
    assert t.step_at(1, 1, 1).value == 11
    assert_steps_match_torch(t)


def test_large_outputs_get_a_summary_and_at_works() -> None:
    t = pool(op="avg_pool1d", input=list(range(200)), kernel_size=2)
    assert not t.complete and [s.out_index for s in t.steps] == [0, 1, 98, 99]
    one = pool(op="avg_pool1d", input=list(range(200)), kernel_size=2, at=(0, 50))
    assert [s.value for s in one.steps] == [Fraction(201, 2)]


def test_integer_input_truncates_like_pytorch() -> None:
    t = convtrace.explain(op="avg_pool1d", input=np.array([1, 2, -3, -2, 7]), kernel_size=2)
    assert [s.value for s in t.steps] == [1, -2]  # 3/2 -> 1, -5/2 -> -2: toward zero
    assert all(s.pool is not None and s.pool.truncated for s in t.steps)
    assert t.check is not None and t.check.agree and "int64" in t.check.extra["code"]
    assert "trunc(-5 / 2) = -2" in t.render()
    lp = convtrace.explain(op="lp_pool1d", norm_type=2, input=np.array([1, 2, 3, 2]), kernel_size=2)
    assert lp.steps[1].pool is not None and lp.steps[1].pool.scaled == 12  # trunc(13/2)·2
    assert lp.check is not None and lp.check.agree


def test_unread_samples_of_a_pool_are_noted() -> None:
    t = pool(op="max_pool1d", input=list(range(1, 11)), kernel_size=2, stride=4)
    (note,) = t.notes
    assert note.code == "unreached" and note.values["indices"] == [2, 3, 6, 7]
    tail = pool(op="avg_pool1d", input=list(range(1, 8)), kernel_size=2, stride=3)
    assert [n.values["indices"] for n in tail.notes if n.code == "dropped_tail"] == [[5, 6]]  # windows 0-1, 3-4
    assert [n.values["indices"] for n in tail.notes if n.code == "unreached"] == [[2]]


def test_the_check_catches_a_wrong_winner_or_value() -> None:
    """PyTorch's check holds every step: a wrong winner index or a wrong value disagrees."""
    from dataclasses import replace

    from convtrace.interop.check import check_trace

    t = pool(op="max_pool1d", input=[1, 3, 3, 2], kernel_size=4)
    (step,) = t.steps
    assert step.pool is not None and check_trace(t).agree
    wrong_index = replace(t, steps=(replace(step, pool=replace(step.pool, winner_index=2)),))
    assert check_trace(wrong_index).agree is False
    wrong_value = replace(t, steps=(replace(step, value=Fraction(2)),))
    assert check_trace(wrong_value).agree is False


@pytest.mark.parametrize("p", [math.inf, -math.inf])
def test_lp_pool_of_infinite_norm_is_a_max_of_abs(p: float) -> None:
    """PyTorch: norm_type inf is max_pool1d(|x|), -inf is -max_pool1d(-|x|) (the smallest |x|)."""
    t = convtrace.explain(op="lp_pool1d", input=[1, -3, 2, -1, 5], norm_type=p, kernel_size=2, ceil_mode=True)
    assert [float(s.value) for s in t.steps] == ([3, 2, 5] if p > 0 else [1, 1, 5])
    assert [s.pool.winner_index for s in t.steps if s.pool] == ([1, 2, 4] if p > 0 else [0, 3, 4])
    assert t.check is not None and t.check.agree and "float(" in t.check.call
    assert t.verify(torch=True)
    assert_steps_match_torch(t)
