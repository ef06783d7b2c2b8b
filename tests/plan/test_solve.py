"""``convtrace.plan.solve``: every snippet is run in PyTorch and must reach its goal; the
enumeration is complete (compared with a brute force checked by PyTorch); the 'undo'
proof and per-length rule hold in PyTorch; and it answers within a second."""

from __future__ import annotations

import time

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from plan_torch import torch_lengths
from torch import nn

from backends import onednn
from convtrace.errors import ConvtraceError
from convtrace.plan.layers import Layer
from convtrace.plan.solve import solve

NEEDS_TORCH = True
LENGTHS = range(1, 41)


def _layer_of(snippet: str) -> object:
    scope: dict[str, object] = {"torch": torch, "nn": nn, "F": F}
    exec(snippet, scope)
    return scope["layer"]


def _out(layer: object, n: int, channels: int = 1) -> int | None:
    try:
        with torch.no_grad():
            return int(layer(torch.zeros(1, channels, n)).shape[-1])  # type: ignore[operator]
    except RuntimeError:
        return None


@settings(max_examples=40)
@given(s=st.integers(1, 4), ks=st.integers(1, 9), d=st.integers(1, 3), causal=st.booleans())
def test_same_snippets_keep_the_length(s: int, ks: int, d: int, causal: bool) -> None:
    report = solve("same", stride=s, kernel_sizes=range(1, ks + 1), dilations=[d], causal=causal, limit=100)
    assert report.count == ks
    for sol in report.solutions:
        layer = _layer_of(sol.snippet)
        for n in LENGTHS:
            assert _out(layer, n) == -(-n // s), (sol.snippet, n)
        if causal:
            assert sol.layer.pads[1] == 0
    if s > 1:
        assert [w.code for w in report.warnings] == ["S202"]


@settings(max_examples=15)
@given(s=st.integers(1, 5), ks=st.integers(1, 8), d=st.integers(1, 2), causal=st.booleans())
def test_down_snippets_divide_exactly_and_others_as_said(s: int, ks: int, d: int, causal: bool) -> None:
    report = solve("down", stride=s, kernel_sizes=range(1, ks + 1), dilations=[d], causal=causal, limit=1000)
    for sol in report.solutions:
        layer = _layer_of(sol.snippet)
        for n in LENGTHS:
            got = _out(layer, n)
            if n % s == 0:
                assert got == n // s
            elif sol.other_lengths == "floor":
                assert got == (n // s or None)
            elif sol.other_lengths == "ceil":
                assert got == -(-n // s)
    # complete: every (k, total padding) within the bounds that PyTorch confirms is listed
    brute = set()
    for k in range(1, ks + 1):
        for total in range(d * (k - 1) + s + 2):
            left, right = (total, 0) if causal else (total // 2, total - total // 2)
            layer = Layer("conv", k, s, 0, d, pad_left=left, pad_right=right)
            if all(torch_lengths([layer], n)[0] == n // s for n in range(s, 8 * s + 1, s)):
                brute.add((k, total))
    assert {(sol.layer.kernel_size, sum(sol.layer.pads)) for sol in report.solutions} == brute


@settings(max_examples=40)
@given(s=st.integers(1, 6), ks=st.integers(1, 12), d=st.integers(1, 2))
def test_up_snippets_multiply_exactly_and_are_complete(s: int, ks: int, d: int) -> None:
    report = solve("up", stride=s, kernel_sizes=range(1, ks + 1), dilations=[d], limit=1000)
    for sol in report.solutions:
        layer = _layer_of(sol.snippet)
        assert all(_out(layer, n) == n * s for n in LENGTHS)
    brute = set()
    for k in range(1, ks + 1):
        for p in range(k * d + 1):
            for op in range(max(s, d)):
                layer = Layer("convT", k, s, p, d, output_padding=op)
                if all(torch_lengths([layer], n)[0] == n * s for n in range(1, 12)):
                    brute.add((k, p, op))
    assert {(x.layer.kernel_size, x.layer.padding, x.layer.output_padding) for x in report.solutions} == brute
    ranks = [x.rank for x in report.solutions]
    assert ranks == sorted(ranks)
    if report.solutions:  # best first: no output_padding when any solution avoids it
        assert report.solutions[0].layer.output_padding == min(x.layer.output_padding for x in report.solutions)


@pytest.mark.parametrize("conv", ["conv k=4 s=2 p=1", "conv k=10 s=5", "conv k=3 s=3 p=1 d=2", "conv k=7 p=3",
                                  "conv k=16 s=8 p=4"])
def test_undo_rule_restores_every_length_and_fixed_layers_their_class(conv: str) -> None:
    from convtrace.plan.stack import parse_stack

    spec = parse_stack(conv)[0]
    report = solve("undo", conv=spec, kernel_sizes=range(1, 17), limit=50)
    torch_conv = nn.Conv1d(1, 1, spec.kernel_size, spec.stride, int(spec.padding), spec.dilation)
    valid = [n for n in range(1, 60) if torch_lengths([spec], n)[0] is not None]
    for sol in report.solutions:
        layer = _layer_of(sol.snippet)
        for n in valid:
            with torch.no_grad():
                y = torch_conv(torch.zeros(1, 1, n))
                got = int(layer(y, n).shape[-1]) if sol.restores.startswith("output_padding") else _out(layer, y.shape[-1])
            if sol.restores == "all" or sol.restores.startswith("output_padding"):
                assert got == n
            else:
                lhs, r = sol.restores.split(" == ")
                in_class = eval(lhs.replace("L", str(n))) == int(r)
                assert (got == n) == in_class, (sol.snippet, n)
    if spec.stride > 1:
        proof = next(w for w in report.warnings if w.code == "S201")
        a, b = proof.values["length_a"], proof.values["length_b"]
        assert torch_lengths([spec], a) == torch_lengths([spec], b) == [proof.values["conv_out"]]
    else:
        assert not report.warnings and report.solutions[0].restores == "all"


@settings(max_examples=40)
@given(n=st.integers(1, 60), m=st.integers(1, 60), s=st.integers(1, 4))
def test_length_goal_snippets_reach_the_target(n: int, m: int, s: int) -> None:
    report = solve("length", length=n, target=m, stride=s, kernel_sizes=range(1, 9), limit=20)
    for sol in report.solutions:
        assert _out(_layer_of(sol.snippet), n) == m, sol.snippet
    if report.solutions and n > m:
        assert report.solutions[0].layer.kind == "conv" or all(x.layer.kind == "convT" for x in report.solutions)


def test_snippets_use_the_channel_count() -> None:
    sol = solve("down", stride=2, kernel_sizes=[4], channels=8).solutions[0]
    assert _out(_layer_of(sol.snippet), 16, channels=8) == 8


@pytest.mark.parametrize("goal", ["same", "down", "up", "undo", "length"])
def test_solve_answers_within_a_second_for_kernels_to_64_and_strides_to_16(goal: str) -> None:
    start = time.perf_counter()
    for s in (1, 7, 16):
        kwargs: dict[str, object] = {"stride": s, "kernel_sizes": range(1, 65), "dilations": range(1, 5)}
        if goal == "undo":
            kwargs = {"conv": Layer("conv", 64, 16, 8), "kernel_sizes": range(1, 65), "dilations": range(1, 5)}
        if goal == "length":
            kwargs.update(length=16000, target=1000)
        assert solve(goal, **kwargs).count > 0  # type: ignore[arg-type]
    assert time.perf_counter() - start < 3.0  # three solves


def test_bad_goals_and_bounds_are_clear_errors() -> None:
    with pytest.raises(ConvtraceError, match="goal"):
        solve("sideways")
    with pytest.raises(ConvtraceError, match="kernel_sizes"):
        solve("same", kernel_sizes=[0, 3])
    with pytest.raises(ConvtraceError, match="needs the Conv1d"):
        solve("undo")
    with pytest.raises(ConvtraceError, match="target"):
        solve("length", length=10)


@settings(max_examples=12)
@given(ks=st.integers(2, 9), d=st.integers(1, 3), n=st.integers(1, 30), m=st.integers(1, 30))
def test_an_odd_total_padding_puts_the_extra_sample_on_the_right(ks: int, d: int, n: int, m: int) -> None:
    """The solver splits an odd total padding as PyTorch's padding='same' does: the right side
    gets the extra sample (left = total // 2). Checked directly, and in PyTorch: the layer
    gives the wanted length, and for 'same' the very output of Conv1d(padding='same') with
    the same weights (a length alone cannot tell the split apart)."""
    torch.manual_seed(ks * 100 + d)
    same = solve("same", kernel_sizes=range(1, ks + 1), dilations=[d], limit=100).solutions
    to_length = solve("length", length=n, target=m, kernel_sizes=range(1, ks + 1), dilations=[d], limit=100).solutions
    odd = [sol for sol in (*same, *to_length) if sol.layer.kind == "conv" and sum(sol.layer.pads) % 2]
    for sol in odd:
        left, right = sol.layer.pads
        assert (left, right) == ((left + right) // 2, (left + right) // 2 + 1), sol.snippet
        assert [f.values for f in sol.notes if f.code == "S102"] == [{"left": left, "right": right}]
        layer = _layer_of(sol.snippet)
        length = n if sol.goal == "length" else m
        assert _out(layer, length) == (m if sol.goal == "length" else length), sol.snippet
    for sol in (s for s in same if sum(s.layer.pads) % 2):
        layer = _layer_of(sol.snippet)
        mine = next(v for v in layer.__globals__.values() if isinstance(v, nn.Conv1d))  # type: ignore[attr-defined]
        theirs = nn.Conv1d(1, 1, sol.layer.kernel_size, padding="same", dilation=sol.layer.dilation)
        with torch.no_grad():
            theirs.weight.copy_(mine.weight)
            theirs.bias.copy_(mine.bias)
            x = torch.randn(1, 1, m + sol.layer.span)
            for mkldnn in (True, False):
                with onednn(mkldnn):
                    assert torch.equal(layer(x), theirs(x)), sol.snippet  # type: ignore[operator]
    assert any(sum(s.layer.pads) % 2 for s in same) == any((d * (k - 1)) % 2 for k in range(1, ks + 1))
