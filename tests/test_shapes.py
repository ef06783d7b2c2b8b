"""convtrace.shapes against PyTorch's output shapes and a brute-force reachability probe."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

import convtrace  # noqa: E402
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


def _reached_by_gradient(length, k, stride, padding, dilation) -> np.ndarray:
    """Which input samples get a nonzero gradient from an all-ones grad_output."""
    rng = np.random.default_rng(length * 1000 + k)
    x = tt(np.zeros((1, 1, length)), requires_grad=True)
    w = tt(rng.uniform(0.5, 1.5, (1, 1, k)))  # positive: no cancellation
    y = TF.conv1d(x, w, stride=stride, padding=padding, dilation=dilation)
    (g,) = torch.autograd.grad(y, x, torch.ones_like(y))
    return g[0, 0].numpy() != 0


@examples(300)
@given(length=st.integers(1, 30), k=st.integers(1, 6), stride=st.integers(1, 6), padding=paddings,
       dilation=st.integers(1, 4))
def test_unreached_samples_and_dropped_tail_by_brute_force(length, k, stride, padding, dilation) -> None:
    if padding == "same" and stride != 1:
        padding = "valid"
    if not _torch_out_len(length, k, stride, padding, dilation).ok:
        with pytest.raises(convtrace.ConvtraceError):
            shapes.unreached_samples(length, k, stride, padding, dilation)
        return
    reached = _reached_by_gradient(length, k, stride, padding, dilation)
    assert shapes.unreached_samples(length, k, stride, padding, dilation) == tuple(
        int(i) for i in np.flatnonzero(~reached)
    )
    # The dropped tail lies beyond the last window's *span*: probe the explicitly padded
    # signal with a dense kernel of the same span (dilation 1, size d*(k-1)+1); the last
    # padded position it reaches is where the last window ends.
    pl, pr = shapes.padding_pair(padding, k, dilation, stride)  # == PyTorch's split, see above
    span = dilation * (k - 1) + 1
    xp = tt(np.zeros((1, 1, pl + length + pr)), requires_grad=True)
    y = TF.conv1d(xp, torch.ones(1, 1, span, dtype=torch.float64), stride=stride)
    (g,) = torch.autograd.grad(y, xp, torch.ones_like(y))
    last_end = int(np.flatnonzero(g[0, 0].numpy()).max()) - pl  # in input coordinates
    tail = len([t for t in range(length) if t > last_end])
    assert shapes.dropped_tail(length, k, stride, padding, dilation) == tail
    assert set(range(length - tail, length)) <= set(shapes.unreached_samples(length, k, stride, padding, dilation))


@pytest.mark.parametrize(
    ("args", "unreached", "tail"),
    [
        ((10, 3, 4), (3, 7, 8, 9), 3),  # windows [0,3) and [4,7): gaps at 3, tail 7..9
        ((5, 2, 2), (4,), 1),
        ((7, 3, 1), (), 0),
        ((6, 2, 3, 0, 2), (1, 4), 0),  # windows at 0 and 3 tap 0, 2 and 3, 5: gaps, no tail
        ((1, 1, 5, 2), (0,), 1),  # the only window lies in the left padding
        ((4, 1, 3, 2), (0, 2, 3), 0),  # windows at -2, 1, 4: 2 and 3 are a gap, not a tail
    ],
)
def test_unreached_pinned(args, unreached, tail) -> None:
    assert shapes.unreached_samples(*args) == unreached
    assert shapes.dropped_tail(*args) == tail


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
