"""Forward values of conv1d / conv_transpose1d against PyTorch, plus pinned cases whose
expected arrays are worked out by hand (in the comments) and also checked against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

import convtrace  # noqa: E402
import convtrace.functional as F  # noqa: E402
import convtrace.nn as cnn  # noqa: E402
from backends import each_backend  # noqa: E402
from strategies import (  # noqa: E402
    COMPLEX_DTYPES,
    ConvCase,
    any_conv_cases,
    assert_close,
    conv1d_cases,
    examples,
    torch_forward,
    torch_magnitude,
    tt,
)

NEEDS_TORCH = True
TF = torch.nn.functional
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")


def _forward(case: ConvCase, x, w, b):
    op = F.conv_transpose1d if case.transposed else F.conv1d
    return op(x, w, b, **case.kwargs())


def check_forward(case: ConvCase, dtype) -> None:
    x, w, b = case.arrays(dtype)
    actual = _forward(case, x, w, b)
    # the shape formula is independent of both implementations
    assert actual.shape == case.output_shape
    magnitude = torch_magnitude(case, x, w, b)
    for _ in each_backend():  # PyTorch with oneDNN on, then off
        assert_close(actual, torch_forward(case, x, w, b, **case.kwargs()), magnitude)


# --------------------------------------------------------------------------- sweeps


@examples(400)
@given(case=any_conv_cases())
def test_forward_float64_matches_torch(case: ConvCase) -> None:
    check_forward(case, np.float64)


@examples(300)
@given(case=any_conv_cases())
def test_forward_float32_matches_torch(case: ConvCase) -> None:
    check_forward(case, np.float32)


@examples(150)
@given(case=any_conv_cases(max_channels=2, max_extra_length=6))
def test_forward_float16_spot_sweep(case: ConvCase) -> None:
    # Documented divergence: PyTorch's CPU ConvTranspose1d in float16 rounds each kernel
    # tap's partial sum to float16 (col2im); convtrace accumulates in float32 and rounds
    # once, so the transposed op agrees to a few float16 ulps of the magnitude, not bitwise.
    check_forward(case, np.float16)


@examples(150)
@given(case=any_conv_cases(max_channels=2), dtype=st.sampled_from(COMPLEX_DTYPES))
def test_forward_complex_spot_sweep(case: ConvCase, dtype) -> None:
    check_forward(case, dtype)


@examples(50)
@given(case=any_conv_cases(max_channels=2, zero_batch=False))
def test_unbatched_equals_batch_of_one(case: ConvCase) -> None:
    # an unbatched input is computed as a batch of one: bit for bit the same
    case = case.batched()
    x, w, b = case.arrays()
    batched = _forward(case, x[:1], w, b)
    unbatched = _forward(case, x[0], w, b)
    assert unbatched.shape == batched.shape[1:]
    np.testing.assert_array_equal(unbatched, batched[0])


@examples(40)
@given(case=conv1d_cases(string_padding=False, max_channels=2))
def test_padding_spellings_are_equivalent(case: ConvCase) -> None:
    x, w, b = case.arrays()
    p = case.pad_int
    results = [F.conv1d(x, w, b, case.stride, form, case.dilation, case.groups) for form in (p, (p,), [p])]
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])
    if p == 0:
        np.testing.assert_array_equal(F.conv1d(x, w, b, case.stride, "valid", case.dilation, case.groups), results[0])


def test_positional_argument_order_matches_torch() -> None:
    # conv_transpose1d takes dilation *last*: (input, weight, bias, stride, padding,
    # output_padding, groups, dilation); conv1d: (input, weight, bias, stride, padding,
    # dilation, groups). Distinct values make any swap visible.
    x = np.arange(2 * 4 * 6, dtype=np.float64).reshape(2, 4, 6)
    wt = np.arange(4 * 3 * 3, dtype=np.float64).reshape(4, 3, 3) / 7
    bt = np.array([1.0, -2.0, 3.0, 0.5, 0.25, -1.0])
    args = (2, 1, 1, 2, 3)  # stride, padding, output_padding, groups, dilation
    expected = TF.conv_transpose1d(tt(x), tt(wt), tt(bt), *args).numpy()
    mag = TF.conv_transpose1d(tt(x), tt(wt), tt(np.abs(bt)), *args).numpy()  # x, w >= 0
    assert_close(F.conv_transpose1d(x, wt, bt, *args), expected, mag)
    w = np.arange(6 * 2 * 3, dtype=np.float64).reshape(6, 2, 3) / 5
    args1 = (1, 2, 2, 2)  # stride, padding, dilation, groups
    mag = TF.conv1d(tt(x), tt(w), tt(np.abs(bt)), *args1).numpy()
    assert_close(F.conv1d(x, w, bt, *args1), TF.conv1d(tt(x), tt(w), tt(bt), *args1).numpy(), mag)


# --------------------------------------------------------------------------- SEED.md


SEED_CASES = [
    # [1,1,1,1] with a ones kernel k=3; each output is written out in SEED.md
    (dict(stride=1, padding=0), [3.0, 3.0]),  # x1+x2+x3, x2+x3+x4
    (dict(stride=1, padding=1), [2.0, 3.0, 3.0, 2.0]),  # 0+x1+x2, ..., x3+x4+0
    (dict(stride=2, padding=1), [2.0, 3.0]),  # 0+x1+x2, x2+x3+x4
]


@pytest.mark.parametrize(("kw", "expected"), SEED_CASES)
def test_seed_examples_functional(kw, expected) -> None:
    y = F.conv1d(np.ones((1, 1, 4)), np.ones((1, 1, 3)), **kw)
    assert y.tolist() == [[expected]]
    assert TF.conv1d(torch.ones(1, 1, 4), torch.ones(1, 1, 3), **kw).tolist() == [[expected]]


@pytest.mark.parametrize(("kw", "expected"), SEED_CASES)
def test_seed_examples_module(kw, expected) -> None:
    m = cnn.Conv1d(in_channels=1, out_channels=1, kernel_size=3, bias=False, **kw)
    m.weight = np.ones((1, 1, 3), dtype=np.float32)
    y = m(np.ones((1, 1, 4), dtype=np.float32))
    assert y.dtype == np.float32
    assert y.tolist() == [[expected]]
    tm = torch.nn.Conv1d(in_channels=1, out_channels=1, kernel_size=3, bias=False, **kw)
    with torch.no_grad():
        tm.weight.fill_(1.0)
    assert tm(torch.ones(1, 1, 4)).tolist() == [[expected]]


# --------------------------------------------------------------------------- pinned cases


def _both(op: str, x, w, b=None, **kw) -> np.ndarray:
    """convtrace's result, after asserting it equals PyTorch's exactly (integer-valued data)."""
    ours = getattr(F, op)(x, w, b, **kw)
    theirs = getattr(TF, op)(tt(x), tt(w), tt(b), **kw).numpy()
    np.testing.assert_array_equal(ours, theirs)
    return ours


def test_groups_with_several_out_channels_per_group() -> None:
    # 4 input channels of constant value 1, 2, 3, 4; groups=2 (2 in / 3 out per group);
    # w[o, c, 0] = (o+1) * 10**c. Group 0 (outputs 0..2) reads channels 0, 1:
    # (o+1) * (1 + 10*2) = 21, 42, 63. Group 1 (outputs 3..5) reads channels 2, 3:
    # (o+1) * (3 + 10*4) = 172, 215, 258. No output sees the other group's channels.
    x = np.array([[[1.0] * 3, [2.0] * 3, [3.0] * 3, [4.0] * 3]])
    w = np.array([[[(o + 1) * 10.0**c] for c in range(2)] for o in range(6)])
    y = _both("conv1d", x, w, groups=2)
    expected = [21.0, 42.0, 63.0, 172.0, 215.0, 258.0]
    assert y.tolist() == [[[v] * 3 for v in expected]]


def test_transposed_groups_with_several_out_channels_per_group() -> None:
    # ConvTranspose1d weight is (in, out/groups, k): w[ci, co, 0] = (co+1) * 10**(ci % 2).
    # Output co of group g = sum over its two input channels: (co+1)*(x_a + 10*x_b).
    x = np.array([[[1.0] * 3, [2.0] * 3, [3.0] * 3, [4.0] * 3]])
    w = np.array([[[(co + 1) * 10.0 ** (ci % 2)] for co in range(3)] for ci in range(4)])
    y = _both("conv_transpose1d", x, w, groups=2)
    expected = [21.0, 42.0, 63.0, 43.0, 86.0, 129.0]
    assert y.tolist() == [[[v] * 3 for v in expected]]


def test_dilation_with_stride() -> None:
    # y[i] = x[2i] + 10*x[2i+3] (stride 2, taps 3 apart), x = 0..9, 4 windows fit.
    y = _both("conv1d", np.arange(10.0)[None, None], np.array([[[1.0, 10.0]]]), stride=2, dilation=3)
    assert y.tolist() == [[[30.0, 52.0, 74.0, 96.0]]]


def test_transposed_padding_larger_than_dilated_kernel() -> None:
    # Uncropped output of x=[1..5], ones k=3, stride 2 (length 11):
    #   [1, 1, 3, 2, 5, 3, 7, 4, 9, 5, 5]
    # padding=3 (> dilation*(k-1) = 2) crops 3 samples from each end; output_padding=1
    # gives back one more sample on the right.
    x = np.arange(1.0, 6.0)[None, None]
    w = np.ones((1, 1, 3))
    assert _both("conv_transpose1d", x, w, stride=2, padding=3).tolist() == [[[2.0, 5.0, 3.0, 7.0, 4.0]]]
    y = _both("conv_transpose1d", x, w, stride=2, padding=3, output_padding=1)
    assert y.tolist() == [[[2.0, 5.0, 3.0, 7.0, 4.0, 9.0]]]
    # padding 5 leaves a single sample: full[5]
    assert _both("conv_transpose1d", x, w, stride=2, padding=5).tolist() == [[[3.0]]]


@pytest.mark.parametrize(
    ("w", "dilation", "expected"),
    [
        # even k=4: total padding 3 -> 1 left, 2 right; digits show which x each tap reads:
        # y[0] = 0*1 + 1*10 + 2*100 + 3*1000
        ([1.0, 10.0, 100.0, 1000.0], 1, [3210.0, 4321.0, 5432.0, 543.0, 54.0]),
        # k=2, dilation 2: total 2 -> 1 left, 1 right; y[i] = p[i] + 10*p[i+2]
        ([1.0, 10.0], 2, [20.0, 31.0, 42.0, 53.0, 4.0]),
        # k=2, dilation 3: total 3 -> 1 left, 2 right (odd extra on the right)
        ([1.0, 10.0], 3, [30.0, 41.0, 52.0, 3.0, 4.0]),
        # odd k=3, dilation 2: total 4 -> 2 and 2; y[i] = p[i] + 10 p[i+2] + 100 p[i+4]
        ([1.0, 10.0, 100.0], 2, [310.0, 420.0, 531.0, 42.0, 53.0]),
    ],
)
def test_same_padding_even_kernels_and_dilation(w, dilation, expected) -> None:
    x = np.arange(1.0, 6.0)[None, None]
    y = _both("conv1d", x, np.array([[w]]), padding="same", dilation=dilation)
    assert y.tolist() == [[expected]]


def test_unbatched_input_keeps_unbatched_shape() -> None:
    y = _both("conv1d", np.ones((1, 4)), np.ones((2, 1, 3)), padding=1)
    assert y.shape == (2, 4)
    assert y.tolist() == [[2.0, 3.0, 3.0, 2.0]] * 2
    yt = _both("conv_transpose1d", np.ones((1, 2)), np.ones((1, 2, 3)), stride=2)
    assert yt.tolist() == [[1.0, 1.0, 2.0, 1.0, 1.0]] * 2


def _impulse(length: int, at: int) -> np.ndarray:
    x = np.zeros((1, 1, length))
    x[0, 0, at] = 1.0
    return x


def test_impulse_through_conv1d_gives_flipped_kernel() -> None:
    w = np.array([[[1.0, 2.0, 3.0]]])
    # y[i] = w[j - i]: the kernel reversed, ending at the impulse
    assert _both("conv1d", _impulse(7, 3), w).tolist() == [[[0.0, 3.0, 2.0, 1.0, 0.0]]]
    # dilation 2, padding 2: taps reach the impulse from i = 5, 3, 1 with w[0], w[1], w[2]
    y = _both("conv1d", _impulse(7, 3), w, padding=2, dilation=2)
    assert y.tolist() == [[[0.0, 3.0, 0.0, 2.0, 0.0, 1.0, 0.0]]]


def test_impulse_through_conv_transpose1d_places_kernel() -> None:
    w = np.array([[[1.0, 2.0, 3.0]]])
    # impulse at i=2, stride 3, padding 1: kernel starts at 2*3 - 1 = 5 (length 10)
    y = _both("conv_transpose1d", _impulse(4, 2), w, stride=3, padding=1)
    assert y.tolist() == [[[0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 0.0, 0.0]]]
    # impulse at i=1, stride 2, dilation 2: taps at 2, 4, 6 (length 9)
    y = _both("conv_transpose1d", _impulse(3, 1), w, stride=2, dilation=2)
    assert y.tolist() == [[[0.0, 0.0, 1.0, 0.0, 2.0, 0.0, 3.0, 0.0, 0.0]]]


@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("padding", [0, 1, 3])
@pytest.mark.parametrize("dilation", [1, 2])
def test_impulse_placement_rule(stride, padding, dilation) -> None:
    """conv_transpose1d of an impulse at i is the kernel placed at i*stride - padding."""
    w = np.array([[[1.0, 2.0, 3.0]]])
    length = 5
    for i in range(length):
        x = _impulse(length, i)
        y = _both("conv_transpose1d", x, w, stride=stride, padding=padding, dilation=dilation)[0, 0]
        expected = np.zeros_like(y)
        for k, wk in enumerate([1.0, 2.0, 3.0]):
            j = i * stride - padding + k * dilation
            if 0 <= j < expected.size:
                expected[j] = wk
        np.testing.assert_array_equal(y, expected)


def test_bias_is_added_per_output_channel() -> None:
    x = np.zeros((2, 1, 5))
    b = np.array([1.5, -2.0, 7.0])
    assert _both("conv1d", x, np.ones((3, 1, 2)), b).tolist() == [[[v] * 4 for v in b]] * 2
    assert _both("conv_transpose1d", x, np.ones((1, 3, 2)), b).tolist() == [[[v] * 6 for v in b]] * 2


def test_transposed_bias_of_another_real_dtype_raises() -> None:
    """PyTorch casts it on some backends and raises on others (rules.BACKEND_RULES): convtrace
    raises on every machine, and the portable call (the bias cast first) gives PyTorch's values."""
    x = np.ones((1, 1, 3), dtype=np.float32)
    w = np.ones((1, 2, 2), dtype=np.float32)
    b = np.array([0.1, 0.2], dtype=np.float64)
    with pytest.raises(convtrace.ConvtraceError) as info:
        F.conv_transpose1d(x, w, b)
    assert info.value.code == "transposed-bias-dtype"
    y = F.conv_transpose1d(x, w, b.astype(np.float32))
    assert y.dtype == np.float32
    for _ in each_backend():
        np.testing.assert_array_equal(y, TF.conv_transpose1d(tt(x), tt(w), tt(b.astype(np.float32))).numpy())


def test_float16_conv1d_bias_rounds_once() -> None:
    """convtrace adds the bias before the single rounding to float16 (rounding the convolution
    first and adding the bias in float16 differs by an ulp on many elements): its result is
    the float64 sum rounded once where that sum is exact, and PyTorch's (oneDNN on and off)
    lies within a float16 kernel's own rounding error of it."""
    rng = np.random.default_rng(0)
    # values on coarse grids: every float64 sum below is exact
    x = (rng.integers(-64, 65, (4, 3, 64)) / 64).astype(np.float16)
    w = (rng.integers(-32, 33, (5, 3, 5)) / 16).astype(np.float16)
    b = (rng.integers(-64, 65, 5) / 64).astype(np.float16)
    y = F.conv1d(x, w, b, padding=2)
    exact = F.conv1d(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), padding=2)
    assert y.dtype == np.float16
    np.testing.assert_array_equal(y, exact.astype(np.float16))
    twice = (F.conv1d(x, w, padding=2).astype(np.float32) + b[:, None]).astype(np.float16)  # rounded twice
    assert np.any(twice != y)
    magnitude = F.conv1d(np.abs(x.astype(np.float64)), np.abs(w.astype(np.float64)), np.abs(b.astype(np.float64)),
                         padding=2)  # fmt: skip
    for _ in each_backend():
        theirs = TF.conv1d(tt(x), tt(w), tt(b), padding=2).numpy().astype(np.float64)
        assert np.all(np.abs(theirs - y) <= (3 * 5 + 2) * 2.0**-11 * magnitude + 2.0**-24)


def test_python_lists_are_read_as_float64() -> None:
    y = F.conv1d([[[1, 1, 1, 1]]], [[[1, 1, 1]]], padding=1)
    assert y.dtype == np.float64
    assert y.tolist() == [[[2.0, 3.0, 3.0, 2.0]]]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_zero_batch_output_shapes(dtype) -> None:
    x = np.zeros((0, 2, 5), dtype=dtype)
    assert F.conv1d(x, np.ones((3, 2, 3), dtype=dtype)).shape == (0, 3, 3)
    assert F.conv_transpose1d(x, np.ones((2, 3, 3), dtype=dtype), stride=2).shape == (0, 3, 11)


@pytest.mark.parametrize("groups", [1, 2])
def test_conv_transpose1d_zero_batch_zero_length(groups) -> None:
    # PyTorch accepts a (0, C, 0) input (zero batch); the output has length
    # (0-1)*stride + dilation*(k-1) + output_padding + 1 = -2 + 3 + 1 + 1 = 3.
    # (Fails in engine/fast.py: conv1d_input_grad with an empty grad length.)
    x = np.zeros((0, 2, 0))
    w = np.ones((2, 3, 4))
    y = F.conv_transpose1d(x, w, stride=2, output_padding=1, groups=groups)
    expected = TF.conv_transpose1d(tt(x), tt(w), stride=2, output_padding=1, groups=groups).numpy()
    assert y.shape == expected.shape == (0, 3 * groups, 3)


def test_zero_batch_zero_length_conv1d_with_padding() -> None:
    x = np.zeros((0, 1, 0))
    w = np.ones((2, 1, 3))
    assert _both("conv1d", x, w, padding=2).shape == (0, 2, 2)
