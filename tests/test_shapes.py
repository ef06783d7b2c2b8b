"""convtrace.shapes against PyTorch's output shapes and a brute-force reachability probe."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

import convtrace  # noqa: E402
from backends import onednn  # noqa: E402
from convtrace import shapes  # noqa: E402
from strategies import examples, run, tt  # noqa: E402

NEEDS_TORCH = True
TF = torch.nn.functional
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")

paddings = st.one_of(st.integers(0, 5), st.sampled_from(["same", "valid"]))


def _torch_out_len(length, k, stride, padding, dilation):
    x = torch.zeros(1, 1, length, dtype=torch.float64)
    w = torch.zeros(1, 1, k, dtype=torch.float64)
    return run(TF.conv1d, x, w, stride=stride, padding=padding, dilation=dilation)


@examples(300)
@given(length=st.integers(1, 30), k=st.integers(1, 8), stride=st.integers(1, 4), padding=paddings,
       dilation=st.integers(1, 4))
def test_conv1d_output_length_matches_torch(length, k, stride, padding, dilation) -> None:
    theirs = _torch_out_len(length, k, stride, padding, dilation)
    ours = run(shapes.conv1d_output_length, length, k, stride, padding, dilation)
    assert theirs.ok == ours.ok, (theirs.error, ours.error)
    if ours.ok:
        assert ours.value == theirs.value.shape[-1]
        assert isinstance(ours.value, int)
    else:
        assert isinstance(ours.error, convtrace.ConvtraceError)
        assert ours.error.param in {"length", "padding"}


@examples(300)
@given(length=st.integers(1, 20), k=st.integers(1, 6), stride=st.integers(1, 4), padding=st.integers(0, 8),
       output_padding=st.integers(0, 4), dilation=st.integers(1, 3))
def test_conv_transpose1d_output_length_matches_torch(length, k, stride, padding, output_padding, dilation) -> None:
    x = torch.zeros(1, 1, length, dtype=torch.float64)
    w = torch.zeros(1, 1, k, dtype=torch.float64)
    theirs = run(TF.conv_transpose1d, x, w, stride=stride, padding=padding, output_padding=output_padding,
                 dilation=dilation)
    ours = run(shapes.conv_transpose1d_output_length, length, k, stride, padding, output_padding, dilation)
    assert theirs.ok == ours.ok, (theirs.error, ours.error)
    if ours.ok:
        assert ours.value == theirs.value.shape[-1]
    else:
        assert isinstance(ours.error, convtrace.ConvtraceError)
        assert ours.error.param in {"padding", "output_padding"}


@examples(150)
@given(length=st.integers(1, 12), k=st.integers(1, 5), stride=st.integers(1, 4), padding=st.integers(0, 4),
       dilation=st.integers(1, 3))
def test_output_size_range_is_what_torch_accepts(length, k, stride, padding, dilation) -> None:
    r = run(shapes.conv_transpose1d_output_size_range, length, k, stride, padding, dilation)
    t = torch.nn.ConvTranspose1d(1, 1, k, stride=stride, padding=padding, dilation=dilation, dtype=torch.float64)
    x = torch.zeros(1, 1, length, dtype=torch.float64)
    if not r.ok:
        assert not run(t, x).ok
        return
    lo, hi = r.value
    accepted = [size for size in range(max(lo - 3, 0), hi + 4) if run(t, x, output_size=[size]).ok]
    assert accepted == list(range(lo, hi + 1))


@examples(100)
@given(k=st.integers(1, 9), dilation=st.integers(1, 4))
def test_same_padding_split_matches_torch(k, dilation) -> None:
    """'same' equals explicit zero padding (left, right) then a 'valid' convolution."""
    left, right = shapes.same_padding(k, dilation)
    assert left + right == dilation * (k - 1) and right - left in (0, 1)
    assert shapes.padding_pair("same", k, dilation) == (left, right)
    x = torch.arange(1.0, 12.0, dtype=torch.float64)[None, None]
    w = torch.arange(1.0, k + 1.0, dtype=torch.float64)[None, None] ** 2
    same = TF.conv1d(x, w, padding="same", dilation=dilation)
    explicit = TF.conv1d(TF.pad(x, (left, right)), w, dilation=dilation)
    assert torch.equal(same, explicit)


def test_padding_pair_errors() -> None:
    assert shapes.padding_pair("valid", 5) == (0, 0)
    assert shapes.padding_pair((3,), 5) == (3, 3)
    for bad, param in ((-1, "padding"), ("full", "padding")):
        with pytest.raises(convtrace.ConvtraceError) as info:
            shapes.padding_pair(bad, 3)
        assert info.value.param == param
    with pytest.raises(convtrace.ConvtraceError, match="strided"):
        shapes.padding_pair("same", 3, stride=2)


@pytest.mark.parametrize(
    ("fn", "kwargs", "param"),
    [
        (shapes.conv1d_output_length, {"length": 0, "kernel_size": 1}, "length"),
        (shapes.conv1d_output_length, {"length": 5, "kernel_size": 0}, "kernel_size"),
        (shapes.conv1d_output_length, {"length": 5, "kernel_size": 3, "stride": 0}, "stride"),
        (shapes.conv1d_output_length, {"length": 5, "kernel_size": 3, "dilation": -1}, "dilation"),
        (shapes.conv1d_output_length, {"length": 5, "kernel_size": 7}, "length"),
        (shapes.conv_transpose1d_output_length, {"length": 5, "kernel_size": 3, "padding": -1}, "padding"),
        (shapes.conv_transpose1d_output_length, {"length": 5, "kernel_size": 3, "output_padding": 1}, "output_padding"),
        (shapes.conv_transpose1d_output_length, {"length": 1, "kernel_size": 1, "padding": 1}, "padding"),
        (shapes.receptive_field, {"kernel_size": 0}, "kernel_size"),
        (shapes.receptive_field, {"kernel_size": 3, "dilation": 1.5}, "dilation"),
    ],
)
def test_shape_function_errors(fn, kwargs, param) -> None:
    with pytest.raises(convtrace.ConvtraceError) as info:
        fn(**kwargs)
    assert info.value.param == param
    assert f"{param}=" in str(info.value)


# --------------------------------------------------------------------------- reachability


MODES = ("zeros", "reflect", "replicate", "circular")


def _support(length, k, stride, padding, dilation, mode, span=None):
    """Which input samples the output depends on, by PyTorch: a Conv1d in ``mode`` with an
    all-ones kernel (an indicator: every path adds +1, so a zero cannot be accidental), run,
    and the gradient of the output's sum w.r.t. the input taken. ``span``: a dense all-ones
    kernel of that size instead (dilation 1), to see which samples some window *spans*.
    Checked with oneDNN on and off. None where PyTorch rejects the configuration."""
    found = []
    for mkldnn in (True, False):
        with onednn(mkldnn):
            size, d = (k, dilation) if span is None else (span, 1)
            conv = torch.nn.Conv1d(1, 1, size, stride, padding, d, bias=False, padding_mode=mode, dtype=torch.float64)
            torch.nn.init.ones_(conv.weight)
            x = torch.ones(1, 1, length, dtype=torch.float64, requires_grad=True)
            try:
                y = conv(x)
            except (RuntimeError, ValueError):
                return None
            (g,) = torch.autograd.grad(y.sum(), x)
            found.append(g[0, 0].numpy() != 0)
    assert (found[0] == found[1]).all()
    return found[0]


@examples(150)
@given(length=st.integers(1, 24), k=st.integers(1, 6), stride=st.integers(1, 6), padding=paddings,
       dilation=st.integers(1, 4), mode=st.sampled_from(MODES))
def test_unread_samples_are_what_torch_never_reads(length, k, stride, padding, dilation, mode) -> None:
    """The unread samples are exactly the zero-gradient ones (through any padding mode); the
    tail is what comes after the last sample with a gradient, the gaps the zeros before it;
    each gap lies between the taps of a window, between windows or after the last window,
    as a dense kernel of the window's span shows."""
    if padding == "same" and stride != 1:
        padding = "valid"
    read = _support(length, k, stride, padding, dilation, mode)
    if read is None:
        if mode == "zeros":
            with pytest.raises(convtrace.ConvtraceError):
                shapes.unread_samples(length, k, stride, padding, dilation, mode)
        return
    found = shapes.unread_samples(length, k, stride, padding, dilation, mode)
    assert found.unread == tuple(int(i) for i in np.flatnonzero(~read))
    last = int(np.flatnonzero(read).max()) if read.any() else -1
    assert found.last_read == last
    assert tuple(found.tail_indices) == tuple(range(last + 1, length))
    assert found.gaps == tuple(int(i) for i in np.flatnonzero(~read[: max(last, 0)]))
    # where each gap lies: spanned by a window (a dense zero-padded probe of the same span)
    pl, pr = shapes.padding_pair(padding, k, dilation, stride)
    span = dilation * (k - 1) + 1
    probe = _support(pl + length + pr, span, stride, 0, 1, "zeros", span=span)
    assert probe is not None
    spanned = probe[pl : pl + length]
    last_spanned = int(np.flatnonzero(probe).max()) - pl
    gaps = list(found.gaps)
    assert found.between_taps == sum(bool(spanned[i]) for i in gaps)
    assert found.after_windows == sum(i > last_spanned for i in gaps)
    assert found.between_windows == len(gaps) - found.between_taps - found.after_windows
    if found.between_windows:
        assert stride > span  # the claim the words make
    if found.after_windows:
        assert mode in ("reflect", "circular")  # a later sample read through the padding


@examples(300)
@given(length=st.integers(1, 40), k=st.integers(1, 6), stride=st.integers(1, 7), padding=st.integers(0, 5),
       dilation=st.integers(1, 4), mode=st.sampled_from(MODES))
def test_gaps_never_include_the_dropped_tail(length, k, stride, padding, dilation, mode) -> None:
    """Every gap comes before the last read sample, every tail sample after it: the two
    kinds never share a sample, and together they are all the unread samples."""
    if (mode == "reflect" and padding >= length) or (mode == "circular" and padding > length):
        return
    pl = pr = padding
    total = length + pl + pr
    span = dilation * (k - 1) + 1
    if total < span:
        return
    found = shapes.unread_samples_of(length, pl, pr, k, stride, dilation, (total - span) // stride + 1, mode)
    assert found.gaps is not None
    assert not set(found.gaps) & set(found.tail_indices)
    assert all(i < found.last_read for i in found.gaps)
    assert found.tail == length - 1 - found.last_read == len(found.tail_indices)
    assert found.between_taps + found.between_windows + found.after_windows + found.cropped == len(found.gaps)


@examples(200)
@given(length=st.integers(1, 40), k=st.integers(1, 6), stride=st.integers(1, 7), padding=st.integers(0, 5),
       dilation=st.integers(1, 4), mode=st.sampled_from(MODES))
def test_unread_tail_is_exact_without_the_list(length, k, stride, padding, dilation, mode) -> None:
    """Past the listing limit only the tail is computed (arithmetically): the same tail."""
    if (mode == "reflect" and padding >= length) or (mode == "circular" and padding > length):
        return
    total = length + 2 * padding
    span = dilation * (k - 1) + 1
    if total < span:
        return
    args = (length, padding, padding, k, stride, dilation, (total - span) // stride + 1, mode)
    listed = shapes.unread_samples_of(*args)
    saved = shapes.UNREAD_LIST_LIMIT
    shapes.UNREAD_LIST_LIMIT = 0
    try:
        bare = shapes.unread_samples_of(*args)
    finally:
        shapes.UNREAD_LIST_LIMIT = saved
    assert bare.gaps is None and bare.unread is None
    assert bare.last_read == listed.last_read and bare.tail == listed.tail


def test_unread_tail_of_a_huge_input_is_instant() -> None:
    # 2**40 + 3 samples, k=10, s=5: the last window t ends at 5*t + 9, the last sample read
    n = (1 << 40) + 3
    out = shapes.conv1d_output_length(n, 10, stride=5)
    found = shapes.unread_samples_of(n, 0, 0, 10, 5, 1, out)
    assert found.gaps is None
    assert found.last_read == (out - 1) * 5 + 9 and found.tail == n - 1 - found.last_read


@pytest.mark.parametrize(
    ("args", "gaps", "tail"),
    [
        ((10, 3, 4), (3,), 3),  # windows [0,3) and [4,7): a gap at 3, the tail 7..9
        ((5, 2, 2), (), 1),
        ((7, 3, 1), (), 0),
        ((6, 2, 3, 0, 2), (1, 4), 0),  # taps at 0, 2 and 3, 5: 1 and 4 lie between taps
        ((1, 1, 5, 2), (), 1),  # the only window lies in the left padding: nothing is read
        ((4, 1, 3, 2), (0,), 2),  # windows at -2, 1, 4: only 1 is read, 2 and 3 are the tail
        ((2, 1, 2, 2), (), 1),  # issue 15: windows at -2, 0, 2: sample 1 comes after the last read one
    ],
)
def test_unread_pinned(args, gaps, tail) -> None:
    found = shapes.unread_samples(*args)
    assert found.gaps == gaps and found.tail == tail


def test_unread_through_the_padding_pinned() -> None:
    # issue 16's case: reflect padding 2, taps 2 apart, stride 2: the taps land on even
    # padded positions only, so x2 and x4 are never read, not even through the padding
    found = shapes.unread_samples(6, 3, stride=2, padding=2, dilation=2, padding_mode="reflect")
    assert (found.gaps, found.between_taps, found.between_windows, found.tail) == ((1, 3), 2, 0, 1)
    # circular padding reads the last sample through the left padding: no tail at all
    found = shapes.unread_samples(10, 1, stride=4, padding=1, padding_mode="circular")
    assert found.tail == 0 and found.gaps == (0, 1, 2, 4, 5, 6, 8) and found.after_windows == 1
    # zero padding copies nothing: the same layer with zeros drops sample 9
    assert shapes.unread_samples(10, 1, stride=4, padding=1).tail_indices == range(8, 10)


def test_cropped_samples() -> None:
    found = shapes.cropped_samples(6, -2, -1)
    assert (found.gaps, found.cropped, found.tail) == ((0, 1), 2, 1)
    assert shapes.cropped_samples(3, -2, -1).last_read == -1 and shapes.cropped_samples(3, 2, 2).unread == ()


@examples(50)
@given(k=st.integers(1, 6), dilation=st.integers(1, 4))
def test_receptive_field_by_brute_force(k, dilation) -> None:
    """The input samples one output sample depends on span d*(k-1)+1."""
    n = dilation * (k - 1) + 10
    x = tt(np.zeros((1, 1, n)), requires_grad=True)
    w = tt(np.ones((1, 1, k)))
    y = TF.conv1d(x, w, dilation=dilation)
    (g,) = torch.autograd.grad(y[0, 0, 3], x)
    hit = np.flatnonzero(g[0, 0].numpy())
    assert shapes.receptive_field(k, dilation) == hit.max() - hit.min() + 1


@examples(60)
@given(length=st.integers(1, 16), k=st.integers(1, 4), stride=st.integers(1, 5), padding=st.integers(0, 3),
       dilation=st.integers(1, 3), mode=st.sampled_from(MODES))
def test_explainer_and_planner_say_the_same_unread_samples(length, k, stride, padding, dilation, mode) -> None:
    """One meaning everywhere: the explainer's trace, the planner's report and shapes."""
    from convtrace.plan.layers import Layer
    from convtrace.plan.shape import shape
    from convtrace.trace.build import explain

    try:
        trace = explain([1.0] * length, [1.0] * k, stride=stride, padding=padding, dilation=dilation, padding_mode=mode)
    except convtrace.ConvtraceError:
        return
    found = shapes.unread_samples(length, k, stride, padding, dilation, mode)
    report = shape(Layer("conv", k, stride, padding, dilation, padding_mode=mode), length)
    assert trace.unreached == found.unread == report.unreached
    assert trace.dropped_tail == found.tail == report.dropped_tail
    notes = {n.code: n.values for n in trace.notes}
    warnings = {f.code: f.values for f in report.warnings}
    assert notes.get("dropped_tail", {}).get("count", 0) == warnings.get("W101", {}).get("samples", 0) == found.tail
    for key in ("between_taps", "between_windows", "after_windows"):
        assert notes.get("unreached", {}).get(key, 0) == warnings.get("W102", {}).get(key, 0) == getattr(found, key)
