"""``convtrace.plan.shape``: every number checked against PyTorch."""

from __future__ import annotations

import re
from typing import Any

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from plan_torch import impulse_dependence, on_both_backends, torch_layer, torch_lengths
from strategies_plan import WITH_POOLS, layers, try_out

from backends import onednn
from convtrace import shapes
from convtrace.errors import ConvtraceError
from convtrace.plan.layers import Layer
from convtrace.plan.shape import input_lengths_for, shape

NEEDS_TORCH = True


def _eval_substituted(text: str) -> int:
    lhs = text.split(" = ")[0].split(";")[0]
    if lhs.startswith("ceil("):
        inner, plus = lhs[len("ceil(") :].rsplit(") + ", 1)
        num, den = inner.rsplit(" / ", 1)
        return -(-eval(num) // int(den)) + int(plus)
    return int(eval(lhs))


@settings(max_examples=400)
@given(layer=layers(WITH_POOLS), n=st.integers(0, 40))
def test_length_and_errors_match_torch(layer: Layer, n: int) -> None:
    """Every layer kind, every pool: the length or the error, with oneDNN on and off."""
    expected = on_both_backends(torch_lengths, [layer], n)[0]
    assert try_out(layer, n) == expected, layer.describe()
    if expected is None:
        with pytest.raises(ConvtraceError):
            shape(layer, n)
        return
    report = shape(layer, n)
    assert report.out_length == expected
    # the substituted formula, evaluated, is the same number (before ceil_mode's correction)
    value = _eval_substituted(report.substituted)
    assert value == expected or (layer.ceil_mode and value == expected + 1 and "so" in report.substituted) or (
        layer.kind == "maxunpool" and layer.output_size == expected)
    assert report.substituted.endswith((f"= {expected}", f"so {expected}", f"output_size {expected}"))
    assert f"-> {expected}" in str(report).splitlines()[0]


@settings(max_examples=100)
def assert_unread_matches_impulses(layer: Layer, n: int) -> tuple[Any, tuple[int, ...], int]:
    """The planner's unread samples and dropped tail of ``layer`` on ``n`` samples equal those
    of PyTorch's impulse responses; returns (report, unread samples, tail)."""
    report = shape(layer, n)
    reached = impulse_dependence([layer], n).any(dim=0)
    unread = tuple(int(i) for i in torch.nonzero(~reached).flatten())
    assert report.unreached == unread[:64] and report.unreached_count == len(unread)
    tail = 0
    while tail < n and not bool(reached[n - 1 - tail]):
        tail += 1
    assert report.dropped_tail == tail
    return report, unread, tail


@given(layer=layers(("conv", "maxpool", "avgpool", "pad")), n=st.integers(1, 30))
def test_unreached_and_dropped_tail_match_impulses(layer: Layer, n: int) -> None:
    if torch_lengths([layer], n)[0] is None:
        return
    assert_unread_matches_impulses(layer, n)


@settings(max_examples=80)
@given(k=st.integers(1, 5), s=st.integers(1, 6), p=st.integers(1, 4), d=st.integers(1, 3),
       mode=st.sampled_from(["reflect", "replicate", "circular"]), left=st.integers(0, 3), right=st.integers(0, 3),
       n=st.integers(1, 24))
def test_unread_through_a_padding_mode_matches_impulses(
    k: int, s: int, p: int, d: int, mode: str, left: int, right: int, n: int
) -> None:
    """A conv whose padding copies samples (reflect, replicate, circular; after an explicit
    zero F.pad): a sample read only through that padding is read. The unread samples, the
    tail and the W101/W102 numbers agree with PyTorch's impulse responses."""
    layer = Layer("conv", k, s, p, d, padding_mode=mode, pad_left=left, pad_right=right)
    if torch_lengths([layer], n)[0] is None:
        return
    report, unread, tail = assert_unread_matches_impulses(layer, n)
    codes = {f.code: f.values for f in report.warnings}
    assert codes.get("W101", {}).get("samples", 0) == tail
    assert codes.get("W102", {}).get("samples", 0) == len(unread) - tail


def test_gap_warning_names_the_cause() -> None:
    """W102 says why samples are skipped from its numbers: the stride only when windows
    leave room between them (issue 16), the dilation when taps skip samples in a window."""
    from convtrace.render.plan_text import message

    dilated = shape(Layer("conv", 3, 2, 2, 2, padding_mode="reflect"), 6)
    (gap,) = [f for f in dilated.warnings if f.code == "W102"]
    assert gap.values["between_taps"] == 2 and gap.values["between_windows"] == 0
    for lang in ("en", "zh"):
        words = message(gap, lang)
        assert "dilation=2" in words and "stride" not in words
    strided = shape(Layer("conv", 3, 4), 10)
    (gap,) = [f for f in strided.warnings if f.code == "W102"]
    assert gap.values["between_windows"] == 1 and gap.values["between_taps"] == 0
    for lang in ("en", "zh"):
        words = message(gap, lang)
        assert "stride=4" in words and ("span of 3" in words or "跨度 3" in words)
        assert "dilation" not in words


@settings(max_examples=200)
@given(k=st.integers(1, 8), s=st.integers(1, 6), p=st.integers(0, 4), d=st.integers(1, 3), n=st.integers(1, 30))
def test_output_size_range_is_what_torch_accepts(k: int, s: int, p: int, d: int, n: int) -> None:
    layer = Layer("convT", k, s, p, d)
    if torch_lengths([layer], n)[0] is None:
        return
    lo, hi = shape(layer, n).output_size_range  # type: ignore[misc]
    module = torch_layer(layer)
    x = torch.zeros(1, 1, n, dtype=torch.float64)
    for size in range(max(1, lo - 2), hi + 3):
        try:
            got: int | None = int(module(x, output_size=[size]).shape[-1])
        except (RuntimeError, ValueError):
            got = None
        assert (got == size) == (lo <= size <= hi), size


@settings(max_examples=60)
@given(layer=layers(), want=st.integers(1, 25))
def test_inverse_lengths_give_the_wanted_length_in_torch(layer: Layer, want: int) -> None:
    ranges = input_lengths_for(layer, want)
    found = {n for n in range(60) if torch_lengths([layer], n)[0] == want}
    listed = {n for lo, hi in ranges for n in range(lo, min(hi, 59) + 1)}
    assert listed == found


@pytest.mark.parametrize(
    ("layer", "n", "out"),
    [
        (Layer("maxpool", 2, 2, 1, ceil_mode=True), 4, 3),  # last window starts in the input: kept
        (Layer("maxpool", 2, 2, 0, ceil_mode=True), 5, 3),
        (Layer("avgpool", 3, 2, 1, ceil_mode=True), 1, 1),
        (Layer("avgpool", 1, 3, 0, ceil_mode=True), 4, 2),
        (Layer("maxpool", 3, 1, 1, 3), 5, 1),  # dilation widens the window
        (Layer("maxpool", 3, 3, 0, 4), 5, None),  # dilated window wider than the input
        (Layer("maxpool", 5, 5, 3), 5, None),  # padding more than half the kernel
        (Layer("conv", 4, padding="same"), 7, 7),
        (Layer("convT", 1, 1, 1), 1, None),  # output size too small
    ],
)
def test_pinned_pool_and_edge_cases(layer: Layer, n: int, out: int | None) -> None:
    assert torch_lengths([layer], n)[0] == out
    assert try_out(layer, n) == out


def test_pool_errors_use_pytorchs_words() -> None:
    with pytest.raises(ConvtraceError, match="padding should be at most half of kernel size"):
        Layer("maxpool", 5, padding=3).out_length(10)
    with pytest.raises(ConvtraceError, match=re.escape("Invalid computed output size: 0")):
        Layer("maxpool", 7).out_length(5)
    with pytest.raises(ConvtraceError, match="Output size is too small"):
        Layer("avgpool", 7).out_length(5)


def test_zero_length_is_an_error_like_torch() -> None:
    for layer in (Layer("conv", 1, padding=1), Layer("convT", 3), Layer("maxpool", 2), Layer("avgpool", 2)):
        assert torch_lengths([layer], 0)[0] is None
        assert try_out(layer, 0) is None
    assert try_out(Layer("pad", pad_left=1, pad_right=1), 0) == torch_lengths([Layer("pad", pad_left=1, pad_right=1)], 0)[0] == 2


def test_convT_want_reachable_only_by_output_size() -> None:
    report = shape(Layer("convT", 16, 8, 4), 200, want=1603)
    assert report.inverse == () and report.inverse_with_output_size == ((200, 200),)
    y = torch_layer(Layer("convT", 16, 8, 4))(torch.zeros(1, 1, 200, dtype=torch.float64), output_size=[1603])
    assert y.shape[-1] == 1603


def _torch_accepts_output_size(layer: Layer, n: int, size: int) -> bool:
    """Does PyTorch's ConvTranspose1d take ``output_size=[size]`` for an ``n``-sample input
    (with oneDNN on and off, the same answer)?"""
    answers = []
    for mkldnn in (True, False):
        with onednn(mkldnn):
            try:
                y = torch_layer(layer)(torch.zeros(1, 1, n, dtype=torch.float64), output_size=[size])
                answers.append(int(y.shape[-1]) == size)
            except (RuntimeError, ValueError):
                answers.append(False)
    assert answers[0] == answers[1]
    return answers[0]


@settings(max_examples=60)
@given(k=st.integers(1, 8), s=st.integers(1, 6), p=st.integers(0, 4), d=st.integers(1, 3), n=st.integers(1, 25))
def test_convT_inverse_by_output_size_reaches_the_top_of_the_range(k: int, s: int, p: int, d: int, n: int) -> None:
    """The inverse's output_size answer (``inverse_with_output_size``) at the edges of the
    valid range: the top value, lowest + stride - 1, is one PyTorch accepts for the input
    length the inverse names; top + 1 is rejected, and the inverse names no input for it."""
    layer = Layer("convT", k, s, p, d)
    if torch_lengths([layer], n)[0] is None:
        return
    lo, top = shape(layer, n).output_size_range  # type: ignore[misc]
    assert top == shapes.conv_transpose1d_length_of(n, k, s, p, 0, d) + s - 1
    assert _torch_accepts_output_size(layer, n, top)
    assert not _torch_accepts_output_size(layer, n, top + 1)
    assert shape(layer, n, want=top).inverse_with_output_size == ((n, n),)
    assert shape(layer, n, want=lo).inverse_with_output_size == ((n, n),)
    assert n not in {v for a, b in shape(layer, n, want=top + 1).inverse_with_output_size for v in range(a, b + 1)}
    # and the inverse agrees with PyTorch for the inputs around n
    for want in (top, top + 1):
        listed = {v for a, b in shape(layer, n, want=want).inverse_with_output_size for v in range(a, b + 1)}
        assert listed == {m for m in range(max(1, n - 2), n + 3) if _torch_accepts_output_size(layer, m, want)}


def test_invalid_layers_are_clear_errors() -> None:
    with pytest.raises(ConvtraceError, match="output padding must be smaller"):
        Layer("convT", 3, 2, output_padding=2)
    with pytest.raises(ConvtraceError, match="strided"):
        Layer("conv", 3, 2, "same")
    with pytest.raises(ConvtraceError, match="length"):
        shape(Layer("conv", 3), -1)
