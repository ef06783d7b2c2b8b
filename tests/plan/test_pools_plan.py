"""Every pool in the planner (issue 17), checked against PyTorch with its oneDNN backend on
and off: lengths and errors, the input indices each output depends on (impulses, and
gradients: MaxUnpool1d's follow its indices), the figures of a stack, ceil_mode's last
window, an adaptive pool's windows and MaxUnpool1d's output_size range."""

from __future__ import annotations

import json

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from plan_torch import (
    gradient_dependence,
    impulse_dependence,
    inside_everywhere,
    on_both_backends,
    torch_layer,
    torch_lengths,
)
from strategies_plan import WITH_POOLS, layers, try_out

from backends import each_backend
from convtrace.errors import ConvtraceError
from convtrace.plan.layers import Layer
from convtrace.plan.shape import shape
from convtrace.plan.stack import analyse_stack, dependence, parse_stack

NEEDS_TORCH = True


def _chain_ok(chain: list[Layer]) -> bool:
    """At most one MaxUnpool1d (its indices' taps are tried one at a time) and no
    max pooling with it (max pooling needs impulses, which unpooling collisions hide)."""
    unpools = sum(layer.kind == "maxunpool" for layer in chain)
    maxes = any(layer.kind in ("maxpool", "adaptivemaxpool") for layer in chain)
    return unpools <= 1 and not (unpools and maxes)


def _dependence_matrix(chain: list[Layer], n: int) -> torch.Tensor:
    if any(layer.kind == "maxunpool" for layer in chain):
        return on_both_backends(gradient_dependence, chain, n)
    return on_both_backends(impulse_dependence, chain, n)


@settings(max_examples=120, deadline=None)
@given(chain=st.lists(layers(WITH_POOLS), min_size=1, max_size=4), n=st.integers(0, 50))
def test_stacks_with_pools_lengths_match_torch(chain: list[Layer], n: int) -> None:
    report = analyse_stack(chain, n)
    expected = on_both_backends(torch_lengths, chain, n)
    assert [r.out_length for r in report.layers] == expected
    assert (report.error is None) == (expected[-1] is not None)


@settings(max_examples=70, deadline=None)
@given(chain=st.lists(layers(WITH_POOLS), min_size=1, max_size=3), n=st.integers(6, 40))
def test_dependence_through_pools_matches_torch(chain: list[Layer], n: int) -> None:
    """Each output's first and last input index (and, where no adaptive pool makes them
    depend on the length, the stack's figures bound them; equal when exact)."""
    if not _chain_ok(chain):
        return
    lengths = on_both_backends(torch_lengths, chain, n)
    if lengths[-1] is None or lengths[-1] == 0:
        return
    ins = [n] + [int(v) for v in lengths[:-1]]  # type: ignore[arg-type]
    dep = _dependence_matrix(chain, n)
    report = analyse_stack(chain, n)
    adaptive = any(layer.length_dependent for layer in chain)
    assert (report.receptive_field is None) == adaptive
    for t in range(lengths[-1]):
        if not inside_everywhere(chain, t, ins):
            continue
        hit = torch.nonzero(dep[t]).flatten().tolist()
        window = dependence(chain, t, in_lengths=ins)
        assert ((hit[0], hit[-1]) if hit else None) == window, (t, [layer.describe() for layer in chain])
        if adaptive or window is None:
            continue
        assert report.hop is not None and report.offset is not None and report.receptive_field is not None
        first = t * report.hop - report.offset
        last = first + report.receptive_field - 1
        assert first <= hit[0] and hit[-1] <= last
        if report.exact:
            assert (first, last) == (hit[0], hit[-1])


@settings(max_examples=80, deadline=None)
@given(size=st.integers(1, 14), n=st.integers(1, 30), kind=st.sampled_from(["adaptiveavgpool", "adaptivemaxpool"]))
def test_adaptive_windows_are_torch_windows(size: int, n: int, kind: str) -> None:
    """The windows ``convtrace shape`` lists and W109's numbers are the inputs each output's
    gradient (avg) or impulse response (max) reaches; the stack says the figures depend
    on the length."""
    layer = Layer(kind, output_size=size)
    dep = on_both_backends(gradient_dependence if kind == "adaptiveavgpool" else impulse_dependence, [layer], n)
    spans = []
    for t in range(size):
        hit = torch.nonzero(dep[t]).flatten().tolist()
        assert hit == list(range(hit[0], hit[-1] + 1))
        spans.append((hit[0], hit[-1] + 1))
    report = shape(layer, n)
    listed = list(range(min(size, 7))) + ([size - 1] if size >= 8 else [])
    assert report.windows == tuple(spans[i] for i in listed) and report.window_count == size
    stack = analyse_stack([layer], n)
    (note,) = [w for w in stack.warnings if w.code == "W109"]
    widths = [b - a for a, b in spans]
    assert (note.values["shortest"], note.values["longest"]) == (min(widths), max(widths))
    assert note.values["hop"] * size == n
    assert stack.receptive_field is None and stack.hop is None and stack.layers[0].receptive_field is None


@settings(max_examples=150, deadline=None)
@given(k=st.integers(1, 6), s=st.integers(1, 5), data=st.data(), n=st.integers(1, 25),
       kind=st.sampled_from(["maxpool", "avgpool", "lppool"]))  # fmt: skip
def test_ceil_mode_rule_drops_the_window_torch_drops(k: int, s: int, data: st.DataObject, n: int, kind: str) -> None:
    """ceil_mode's rule, with the numbers ``convtrace shape`` prints: the window ceil adds
    is kept when it starts inside the input (PyTorch's last output then reads from that
    start), and dropped when it would start past it (PyTorch's length is one less)."""
    p = 0 if kind == "lppool" else data.draw(st.integers(0, k // 2))
    layer = Layer(kind, k, s, p, ceil_mode=True, norm_type=2 if kind == "lppool" else None)
    floor = Layer(kind, k, s, p, ceil_mode=False, norm_type=2 if kind == "lppool" else None)
    lengths = on_both_backends(torch_lengths, [layer], n)[0], on_both_backends(torch_lengths, [floor], n)[0]
    if lengths[0] is None:
        return
    report = shape(layer, n)
    rule = report.ceil_rule
    if rule is None:
        assert lengths[0] == lengths[1]
        return
    if rule.dropped:
        assert lengths[0] == rule.window and rule.start >= n
        assert "it is dropped" in str(report) and f"= {rule.start} >= L_in = {n}" in str(report)
    else:
        assert lengths[0] == rule.window + 1 and rule.start < n
        dep = on_both_backends(impulse_dependence, [layer], n)
        assert torch.nonzero(dep[rule.window]).flatten().tolist()[0] == max(rule.start, 0)
        assert f"= {rule.start} < L_in = {n}" in str(report)


@settings(max_examples=40, deadline=None)
@given(k=st.integers(1, 5), s=st.integers(1, 4), data=st.data(), n=st.integers(1, 12))
def test_unpool_output_size_range_is_what_torch_accepts(k: int, s: int, data: st.DataObject, n: int) -> None:
    p = data.draw(st.integers(0, k // 2))
    report = shape(Layer("maxunpool", k, s, p), n)
    lo, hi = report.output_size_range  # type: ignore[misc]
    for size in range(max(0, lo - 3), hi + 4):
        layer = Layer("maxunpool", k, s, p, output_size=size)
        accepted = on_both_backends(torch_lengths, [layer], n)[0] is not None
        assert accepted == (lo <= size <= hi), size
        assert (try_out(layer, n) is not None) == accepted


def test_max_unpool_after_max_pool_with_its_indices() -> None:
    """The real use: MaxPool1d's indices into MaxUnpool1d. Each value lands inside the range
    the planner gives its output; W104 warns where the default length does not restore the
    input's, and there PyTorch fails when the last sample wins its window (output_size
    restores it)."""
    generator = torch.Generator().manual_seed(0)
    for n in (9, 10):
        x = torch.rand(1, 1, n, generator=generator, dtype=torch.float64)
        x[0, 0, -1] = 2.0  # the last sample wins its window
        default = analyse_stack("maxpool k=3 s=2 p=1; maxunpool k=3 s=2 p=1", n)
        restored = analyse_stack(f"maxpool k=3 s=2 p=1; maxunpool k=3 s=2 p=1 o={n}", n)
        assert restored.out_length == n and not [w for w in restored.warnings if w.code == "W104"]
        assert bool([w for w in default.warnings if w.code == "W104"]) == (default.out_length != n) == (n == 10)
        chain = parse_stack(f"maxpool k=3 s=2 p=1; maxunpool k=3 s=2 p=1 o={n}")
        for _ in each_backend():
            pooled, index = torch.nn.functional.max_pool1d(x, 3, 2, 1, return_indices=True)
            y = torch.nn.functional.max_unpool1d(pooled, index, 3, 2, 1, output_size=[n])
            assert y.shape[-1] == n
            for j in torch.nonzero(y[0, 0]).flatten().tolist():  # y[j] = x[j]: inside j's planned range
                lo, hi = dependence(chain, j)  # type: ignore[misc]
                assert lo <= j <= hi and y[0, 0, j] == x[0, 0, j]
            if n == 10:
                with pytest.raises(RuntimeError, match="invalid max index"):
                    torch.nn.functional.max_unpool1d(pooled, index, 3, 2, 1)


def test_text_cnn_stack_with_max_over_time() -> None:
    report = analyse_stack("conv k=3 p=1 c=8; adaptivemaxpool o=1", 50)
    assert report.out_length == 1 and report.receptive_field is None
    text = str(report)
    assert "depend on the input length" in text and "[floor(i*L/O), ceil((i+1)*L/O))" in text
    assert "here L=50: hop L/O is 50, windows of 50 to 50 samples" in text and "(after layer 1:" in text
    zh = report.render("zh")
    assert "取决于输入长度" in zh and "L=50" in zh
    model = torch.nn.Sequential(torch_layer(parse_stack("conv k=3 p=1")[0]), torch.nn.AdaptiveMaxPool1d(1))
    assert model(torch.zeros(1, 1, 50, dtype=torch.float64)).shape[-1] == 1


def test_pool_syntax_forms() -> None:
    assert parse_stack("lppool p=3 k=2")[0] == parse_stack("LPPool1d norm_type=3 kernel_size=2 stride=2")[0]
    assert parse_stack("lppool norm=1.5 k=2")[0].norm_type == 1.5
    assert parse_stack("unpool k=2 o=9")[0] == parse_stack("maxunpool1d k=2 s=2 output_size=9")[0]
    assert parse_stack("AdaptiveAvgPool1d o=4")[0].output_size == 4
    for text in ("lppool norm=2 k=3 s=2 ceil=1", "adaptivemaxpool o=1", "maxunpool k=4 s=2 p=1 o=9"):
        (layer,) = parse_stack(text)
        assert layer.describe() == text and parse_stack(layer.describe())[0] == layer


def _cli(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str]:
    from convtrace.cli import main

    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_shape_cli_prints_the_pool_rules_with_the_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    """The issue's grids: ceil_mode drops a window (L=2, k=2, s=3, p=1: 1, not the docs' 2),
    keeps one that starts inside (L=6, k=3, s=2, p=1), LPPool1d's padding 0, adaptive windows
    (L=5, O=3: lengths 2, 3, 2), MaxUnpool1d's formula and range — each number PyTorch's."""
    code, out, _ = _cli(capsys, ["shape", "maxpool k=2 s=3 p=1 ceil=1", "--length", "2"])
    assert code == 0 and torch.nn.functional.max_pool1d(torch.zeros(1, 1, 2), 2, 3, 1, ceil_mode=True).shape[-1] == 1
    assert "ceil((2 + 1 + 1 - 1*(2 - 1) - 1) / 3) + 1 = 2; (2 - 1)*3 >= 2 + 1, so 1" in out
    assert "window 1 would start at 1*3 - 1 = 2 >= L_in = 2, so it is dropped: L_out = 1" in " ".join(out.split())
    code, out, _ = _cli(capsys, ["shape", "avgpool k=3 s=2 p=1 ceil=1", "--length", "6", "--lang", "zh"])
    assert code == 0 and "窗口 3 从 3*2 - 1 = 5 < L_in = 6 开始" in out.replace("\n", "")
    code, out, _ = _cli(capsys, ["shape", "lppool", "--norm-type", "2", "--kernel-size", "2", "--ceil-mode",
                                 "--length", "5"])  # fmt: skip
    assert code == 0 and "-> 3" in out and "avg_pool1d's with padding 0" in " ".join(out.split())
    assert torch.nn.functional.lp_pool1d(torch.ones(1, 1, 5), 2, 2, ceil_mode=True).shape[-1] == 3
    code, out, _ = _cli(capsys, ["shape", "adaptiveavgpool", "--output-size", "3", "--length", "5"])
    assert code == 0 and "[0, 2), [1, 4), [3, 5)" in " ".join(out.split()) and "5/3" in out
    code, out, _ = _cli(capsys, ["shape", "maxunpool k=2", "--length", "5", "--json"])
    doc = json.loads(out)
    assert doc["substituted"] == "(5 - 1)*2 - 2*0 + 2 = 10" and doc["output_size_range"] == [9, 11]
    code, out, _ = _cli(capsys, ["shape", "maxpool k=2 s=3 p=1 ceil=1", "--length", "2", "--json"])
    assert json.loads(out)["ceil_rule"] == {"window": 1, "start": 2, "length": 2, "padding": 1, "dropped": True}


def test_stack_cli_json_says_length_dependent(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _cli(capsys, ["stack", "conv k=3 p=1 c=8; adaptivemaxpool o=1; conv k=1", "--length", "50",
                                 "--json"])  # fmt: skip
    doc = json.loads(out)
    assert code == 0 and doc["receptive_field"] is None and doc["hop"] is None and doc["lookahead"] is None
    assert [r["receptive_field_so_far"] for r in doc["layers"]] == [3, None, None]
    assert [r["receptive_field"] for r in doc["layers"]] == [3, None, 1]
    (note,) = doc["warnings"]
    assert note["code"] == "W109" and note["values"]["hop"] == 50 and "floor(i*L/O)" in note["message"]


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["shape", "adaptiveavgpool o=-1", "--length", "5"], "output_size"),
        (["shape", "maxunpool k=2 o=13", "--length", "5"], "invalid output_size"),
        (["shape", "adaptivemaxpool o=3", "--length", "0"], "non-zero size"),
        (["shape", "lppool norm=2 k=6", "--length", "5"], "Output size is too small"),
        (["stack", "lppool p=x k=2", "--length", "5"], "norm_type must be a number"),
    ],
)
def test_bad_pool_arguments_are_clear_errors(capsys: pytest.CaptureFixture[str], argv: list[str], words: str) -> None:
    code, out, err = _cli(capsys, argv)
    assert code == 2 and not out and words in err and "Traceback" not in err


@settings(max_examples=150, deadline=None)
@given(layer=layers(("lppool", "adaptiveavgpool", "adaptivemaxpool", "maxunpool")), n=st.integers(0, 12),
       size=st.one_of(st.none(), st.integers(-2, 30)))  # fmt: skip
def test_pool_errors_are_pytorchs_words(layer: Layer, n: int, size: int | None) -> None:
    """Where PyTorch rejects a pool on a length, the planner's error carries PyTorch's words
    (the pool resolver's), with oneDNN on and off."""
    import dataclasses

    if layer.kind == "maxunpool" or (layer.length_dependent and size is not None):
        layer = dataclasses.replace(layer, output_size=size if layer.kind == "maxunpool" else size or 0)
    module = torch_layer(layer)
    words = set()
    for _ in each_backend():
        try:
            module(torch.zeros(1, 1, n))
        except (RuntimeError, ValueError) as exc:
            words.add(str(exc).splitlines()[0])
    if not words:
        assert try_out(layer, n) is not None
        return
    (message,) = words
    with pytest.raises(ConvtraceError) as caught:
        layer.out_length(n)
    assert message in str(caught.value) or (layer.kind == "maxunpool" and "invalid max index" in message), (
        message, str(caught.value))


@pytest.mark.parametrize(("k", "s", "p"), [(2, 2, 0), (3, 2, 1), (4, 3, 2), (5, 2, 1)])
def test_unpool_feeds_is_where_inputs_land(k: int, s: int, p: int) -> None:
    """MaxUnpool1d's inverse view, as for ConvTranspose1d: output n is fed by input frames
    ceil((n + a)/stride) .. floor((n + b)/stride) — every index its pooling window allows,
    by PyTorch's gradients (each tap of the window tried)."""
    n_in = 9
    report = analyse_stack([Layer("maxunpool", k, s, p)], n_in)
    layer = report.layers[0]
    assert layer.upsampling == s and report.hop is not None and report.hop * s == 1
    a, b = layer.feeds  # type: ignore[misc]
    dep = on_both_backends(gradient_dependence, [Layer("maxunpool", k, s, p)], n_in)
    for n_out in range(int(report.out_length or 0)):
        hit = torch.nonzero(dep[n_out]).flatten().tolist()
        first, last = max(0, -((-(n_out + a)) // s)), min(n_in - 1, (n_out + b) // s)
        assert hit == list(range(first, last + 1)), n_out


@settings(max_examples=30, deadline=None)
@given(layer=layers(("maxpool", "avgpool", "lppool", "adaptiveavgpool", "adaptivemaxpool", "maxunpool")),
       want=st.integers(0, 12), size=st.one_of(st.none(), st.integers(0, 14)))  # fmt: skip
def test_pool_inverse_is_the_lengths_torch_maps_to_want(layer: Layer, want: int, size: int | None) -> None:
    """``--want``: the input lengths that give ``want`` samples, for every pool (MaxUnpool1d
    also with a fixed output_size), against PyTorch's lengths for inputs of 0..30."""
    import dataclasses

    from convtrace.plan.shape import MAX_LENGTH, input_lengths_for
    from convtrace.plan.shape import _unpool_lengths as unpool_lengths

    if layer.kind == "maxunpool" and size is not None:
        layer = dataclasses.replace(layer, output_size=size)
    found = unpool_lengths(layer, want) if layer.output_size is not None and layer.kind == "maxunpool" else (
        input_lengths_for(layer, want))
    torch_ok = [n for n in range(25) if on_both_backends(torch_lengths, [layer], n)[0] == want]
    ours = [n for lo, hi in found for n in range(lo, min(hi, 24) + 1)]
    assert ours == torch_ok, (layer.describe(), want, found)
    assert all(hi <= MAX_LENGTH for _, hi in found)
