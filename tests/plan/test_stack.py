"""``convtrace.plan.stack``: the syntax, and every figure checked against PyTorch —
lengths by running the layers, dependence ranges by impulse responses, multiply-adds by
PyTorch's FLOP counter, parameters by counting."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from plan_torch import gradient_dependence, impulse_dependence, inside_everywhere, torch_layer, torch_lengths
from strategies_plan import layers
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from convtrace.errors import ConvtraceError
from convtrace.plan.layers import Layer
from convtrace.plan.stack import analyse_stack, dependence, parse_stack

NEEDS_TORCH = True


@settings(max_examples=150)
@given(chain=st.lists(layers(), min_size=1, max_size=4), n=st.integers(0, 60))
def test_stack_lengths_match_torch(chain: list[Layer], n: int) -> None:
    report = analyse_stack(chain, n)
    expected = torch_lengths(chain, n)
    assert [r.out_length for r in report.layers] == expected
    assert report.out_length == expected[-1]
    assert (report.error is None) == (expected[-1] is not None)


@settings(max_examples=100)
@given(chain=st.lists(layers(), min_size=1, max_size=4), n=st.integers(8, 50))
def test_dependence_ranges_match_impulse_responses(chain: list[Layer], n: int) -> None:
    lengths = torch_lengths(chain, n)
    if lengths[-1] is None or lengths[-1] == 0:
        return
    dep = impulse_dependence(chain, n)
    report = analyse_stack(chain, n)
    ins = [n] + [int(v) for v in lengths[:-1]]  # type: ignore[arg-type]
    checked = 0
    for t in range(lengths[-1]):
        if not inside_everywhere(chain, t, ins):
            continue
        hit = torch.nonzero(dep[t]).flatten().tolist()
        window = dependence(chain, t)
        if window is None:
            assert hit == []
            continue
        assert (hit[0], hit[-1]) == window, t
        # the stack's figures bound (and, when exact, equal) the range
        first = t * report.hop - report.offset
        last = first + report.receptive_field - 1
        assert first <= hit[0] and hit[-1] <= last
        assert hit[-1] - hit[0] + 1 <= report.max_span
        assert hit[-1] - t * report.hop <= report.lookahead
        if report.exact:
            assert (first, last) == (hit[0], hit[-1])
        checked += 1
    if report.exact and all(r.layer.kind != "pad" for r in report.layers):
        assert report.receptive_field == report.max_span


@settings(max_examples=60)
@given(chain=st.lists(layers(("conv", "convT", "avgpool", "pad")), min_size=1, max_size=3), n=st.integers(8, 40))
def test_dependence_ranges_match_gradients(chain: list[Layer], n: int) -> None:
    """The same ranges by autograd (no max pooling: its gradient picks one sample per window)."""
    lengths = torch_lengths(chain, n)
    if lengths[-1] is None or lengths[-1] == 0:
        return
    dep = gradient_dependence(chain, n)
    assert torch.equal(dep, impulse_dependence(chain, n))
    ins = [n] + [int(v) for v in lengths[:-1]]  # type: ignore[arg-type]
    for t in range(lengths[-1]):
        if inside_everywhere(chain, t, ins):
            hit = torch.nonzero(dep[t]).flatten().tolist()
            window = dependence(chain, t)
            assert (hit[0], hit[-1]) == window if window is not None else hit == []


@settings(max_examples=100)
@given(
    chain=st.lists(layers(("conv", "convT")), min_size=1, max_size=3),
    n=st.integers(1, 40),
    groups=st.sampled_from([1, 2, 4]),
    batch=st.integers(1, 3),
)
def test_macs_and_parameters_match_torch(chain: list[Layer], n: int, groups: int, batch: int) -> None:
    grouped = [Layer(l.kind, l.kernel_size, l.stride, l.padding, l.dilation, groups, l.output_padding,
                     out_channels=4 * groups, pad_left=l.pad_left, pad_right=l.pad_right) for l in chain]  # noqa: E741
    report = analyse_stack(grouped, n, in_channels=4 * groups, batch=batch)
    if report.error is not None:
        return
    model = nn.Sequential(*[_with_bias(layer, 4 * groups) for layer in grouped])
    with FlopCounterMode(display=False) as counter:
        model(torch.zeros(batch, 4 * groups, n, dtype=torch.float64))
    assert 2 * report.macs == counter.get_total_flops()
    assert report.parameters == sum(p.numel() for p in model.parameters())


def _with_bias(layer: Layer, channels: int) -> nn.Module:
    module = torch_layer(layer, channels)
    conv = module[-1] if isinstance(module, nn.Sequential) else module
    conv.bias = nn.Parameter(torch.zeros(conv.out_channels, dtype=torch.float64))  # type: ignore[union-attr]
    return module


def test_encodec_like_encoder_figures() -> None:
    text = "conv k=7 p=3; conv k=4 s=2 p=1; conv k=8 s=4 p=2; conv k=10 s=5 p=3; conv k=16 s=8 p=4; conv k=7 p=3"
    report = analyse_stack(text, 24000)
    assert report.hop == 320
    assert report.out_length == torch_lengths(parse_stack(text), 24000)[-1] == 75
    assert report.exact and not report.causal


def test_causal_stack_has_no_lookahead() -> None:
    report = analyse_stack("conv k=3 p=causal; conv k=3 d=2 p=causal; conv k=3 d=4 p=causal", 100)
    assert report.causal and report.lookahead == 0
    assert report.receptive_field == 15 and report.offset == 14
    dep = impulse_dependence(parse_stack("conv k=3 p=causal; conv k=3 d=2 p=causal; conv k=3 d=4 p=causal"), 100)
    assert torch.nonzero(dep[50]).flatten().tolist()[-1] == 50


def test_transposed_inverse_view_and_upsampling() -> None:
    report = analyse_stack("convT k=16 s=8 p=4", 10)
    layer = report.layers[0]
    assert layer.upsampling == 8 and report.upsampling == 8 and report.hop == Fraction(1, 8)
    a, b = layer.feeds  # type: ignore[misc]
    dep = impulse_dependence(parse_stack("convT k=16 s=8 p=4"), 10)
    for n_out in range(80):
        hit = torch.nonzero(dep[n_out]).flatten().tolist()
        first, last = max(0, math.ceil((n_out + a) / 8)), min(9, (n_out + b) // 8)
        assert hit == list(range(first, last + 1))


def test_mirror_warning_for_a_convT_that_does_not_restore() -> None:
    report = analyse_stack("conv k=4 s=2 p=1; convT k=4 s=2 p=1", 101)
    assert [w.code for w in report.warnings if w.code == "W104"] == ["W104"]
    assert report.out_length == torch_lengths(parse_stack("conv k=4 s=2 p=1; convT k=4 s=2 p=1"), 101)[-1] == 100
    assert not [w for w in analyse_stack("conv k=4 s=2 p=1; convT k=4 s=2 p=1", 100).warnings if w.code == "W104"]


def test_syntax_forms() -> None:
    assert len(parse_stack("conv k=7 p=3; 4x(conv k=4 s=2 p=1); convT k=8 s=4 p=2; maxpool k=2")) == 7
    assert parse_stack("2x(conv k=3; 2x conv k=1)\n# comment\nmaxpool k=2") == parse_stack(
        "conv k=3; conv k=1; conv k=1; conv k=3; conv k=1; conv k=1; maxpool k=2 s=2")
    assert parse_stack("Conv1d kernel_size=3 padding=same")[0].padding == "same"
    assert parse_stack("conv k=3 p=2,1")[0].pads == (2, 1)
    assert parse_stack("crop l=2 r=3")[0].pads == (-2, -3)
    assert parse_stack("deconv k=4 s=2 op=1")[0].output_padding == 1
    assert parse_stack("maxpool k=3")[0].stride == 3 and parse_stack("conv k=3")[0].stride == 1


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("conv", "kernel size"),
        ("conv k=3 q=1", "unknown key"),
        ("blah k=3", "unknown layer kind"),
        ("2x(conv k=3", "never closed"),
        ("conv k=3)", "without its"),
        ("conv k=x", "whole number"),
        ("conv k=3 k=4", "twice"),
        ("", "no layers"),
        ("conv k=3 s=0", "non-positive stride"),
        ("conv k=3 s=2 p=same", "strided"),
        ("100000x(conv k=1)", "at most"),
        ("adaptiveavgpool", "output size"),
        ("adaptivemaxpool k=3", "takes o="),
        ("lppool k=3", "needs a norm"),
        ("lppool norm=x k=3", "norm_type must be a number"),
        ("maxunpool o=3", "kernel size"),
        ("avgpool k=3 d=2", "not a parameter"),
        ("maxpool k=3 o=2", "not a parameter"),
        ("lppool norm=2 k=3 cip=0", "not a parameter"),
    ],
)
def test_syntax_errors_are_clear(text: str, words: str) -> None:
    with pytest.raises(ConvtraceError, match=words):
        parse_stack(text)


def test_stack_error_reports_the_layer() -> None:
    report = analyse_stack("conv k=3; conv k=50", 20)
    assert report.out_length is None and report.error_layer == 1 and "Kernel size" in (report.error or "")
    assert torch_lengths(parse_stack("conv k=3; conv k=50"), 20) == [18, None]


_PIECES = st.sampled_from(["conv", "convT", "maxpool", "avgpool", "pad", "crop", "k=3", "s=2", "p=1", "p=same",
                           "p=causal", "p=2,1", "d=2", "g=2", "op=1", "c=4", "ceil=1", "mode=reflect", "l=2",
                           "r=-1", ";", "\n", "(", ")", "3x", "2x(", "#", "=", "k=", "k=-1", "s=0", "x", "1e9"])


@settings(max_examples=300)
@given(pieces=st.lists(_PIECES, max_size=12), n=st.integers(0, 50))
def test_any_text_is_a_stack_or_a_clear_error(pieces: list[str], n: int) -> None:
    text = " ".join(pieces)
    try:
        chain = parse_stack(text)
    except ConvtraceError:
        return
    report = analyse_stack(chain, n, in_channels=4)
    assert len(report.layers) == len(chain)


def test_shape_and_solve_reports_print_as_the_cli() -> None:
    """Every planning report shows itself as the command line does (str, render, HTML) with a
    short repr: the shape and solve reports too."""
    from convtrace import plan
    from convtrace.render.plan_text import render_shape, render_solve

    shaped = plan.shape(plan.parse_stack("conv k=10 s=5")[0], 16001)
    assert str(shaped) == render_shape(shaped) and "W101" in str(shaped)
    assert shaped.render("zh") == render_shape(shaped, "zh") != str(shaped)
    assert repr(shaped) == "<ShapeReport conv k=10 s=5: 16001 -> 3199 samples>"
    assert shaped._repr_html_().startswith("<pre") and "3199" in shaped._repr_html_()
    solved = plan.solve("up", stride=8, kernel_sizes=range(8, 17))
    assert str(solved) == render_solve(solved) and "nn.ConvTranspose1d(1, 1, 8, stride=8" in str(solved)
    assert repr(solved) == f"<SolveReport up: {solved.count} solutions, best convT k=8 s=8>"
    assert "\n" not in repr(solved) and len(repr(solved)) < 200
