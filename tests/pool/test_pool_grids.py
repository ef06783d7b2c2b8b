"""Every grid of issue 17, pinned: the number PyTorch gives, checked against PyTorch too
(oneDNN on and off), so neither a hard-coded number nor convtrace can drift alone."""

from __future__ import annotations

import numpy as np
import pytest
from pool_torch import check_call

import convtrace.functional as cf
from convtrace import ConvtraceError, shapes

pytest.importorskip("torch")
pytestmark = pytest.mark.torch


def test_ceil_mode_last_window_must_start_inside() -> None:
    # L=2, k=2, s=3, p=1: MaxPool1d's docstring formula gives 2; PyTorch gives 1
    x = np.array([[[1.0, 2.0]]])
    assert cf.max_pool1d(x, 2, 3, 1, ceil_mode=True).shape == (1, 1, 1)
    assert shapes.pool1d_output_length(2, 2, 3, 1, ceil_mode=True) == 1
    for op, args in (("max_pool1d", (2, 3, 1, 1, True)), ("max_pool1d", (2, 3, 1, 1, True, True)),
                     ("avg_pool1d", (2, 3, 1, True))):
        check_call(op, x, *args)


@pytest.mark.parametrize("return_indices", [False, True])
def test_stride_defaults_to_the_kernel_size(return_indices: bool) -> None:
    x = np.arange(6.0)[None]
    for stride in (None, ()):
        assert cf.max_pool1d(x, 2, stride, return_indices=return_indices)[0 if return_indices else ...].shape == (1, 3)
        check_call("max_pool1d", x, 2, stride, 0, 1, False, return_indices)
    assert cf.avg_pool1d(x, 2).shape == (1, 3)
    check_call("avg_pool1d", x, 2, ())


def test_count_include_pad_never_counts_the_overhang() -> None:
    # L=6, k=3, s=2, p=1, ceil_mode: the last window averages (6 + 0) / 2 = 3.0
    x = np.arange(1.0, 7.0)[None, None]
    assert cf.avg_pool1d(x, 3, 2, 1, ceil_mode=True, count_include_pad=True).tolist() == [[[1.0, 3.0, 5.0, 3.0]]]
    assert cf.avg_pool1d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False).tolist() == [[[1.5, 3.0, 5.0, 6.0]]]
    for cip in (True, False):
        check_call("avg_pool1d", x, 3, 2, 1, True, cip)


@pytest.mark.parametrize(("length", "out"), [(5, 3), (2, 3), (7, 7), (3, 8), (10, 4)])
def test_adaptive_windows(length: int, out: int) -> None:
    x = np.random.default_rng(length * out).standard_normal((2, 3, length))
    for op in ("adaptive_avg_pool1d", "adaptive_max_pool1d"):
        check_call(op, x, out)
    check_call("adaptive_max_pool1d", x, out, True)


def test_adaptive_window_lengths_5_to_3() -> None:
    # L=5, O=3: windows [0, 2), [1, 4), [3, 5): lengths 2, 3, 2
    assert [len(shapes.adaptive_window(i, 5, 3).positions) for i in range(3)] == [2, 3, 2]
    assert cf.adaptive_avg_pool1d(np.arange(5.0)[None], 3).tolist() == [[0.5, 2.0, 3.5]]


def test_lp_pool_scales_a_partial_window_by_the_kernel_size() -> None:
    # lp_pool1d(ones(5), 2, 2, 2, ceil_mode=True): the last window's L2 norm is 1, PyTorch gives sqrt(2)
    y = cf.lp_pool1d(np.ones((1, 5)), 2, 2, 2, ceil_mode=True)
    assert y[0, -1] == pytest.approx(np.sqrt(2.0), rel=1e-15)
    check_call("lp_pool1d", np.ones((1, 5)), 2, 2, 2, True, exact=False)


def test_lp_pool_signed_sum_and_nan() -> None:
    x = np.array([[[-1.0, -2.0, 3.0, -4.0]]])
    assert cf.lp_pool1d(x, 1, 2).tolist() == [[[-3.0, -1.0]]]  # p=1: a signed sum, no abs
    assert np.isnan(cf.lp_pool1d(x, 3, 2)).all()  # odd p on a negative mean: NaN
    for p in (1, 3, 2):
        check_call("lp_pool1d", x, p, 2, exact=False)


@pytest.mark.parametrize("return_indices", [False, True])
def test_max_pool_padding_check_ignores_dilation(return_indices: bool) -> None:
    # k=3, d=3: the effective kernel is 7, yet p=2 > 3 // 2 is refused (PyTorch's rule)
    x = np.ones((1, 1, 10))
    with pytest.raises(ConvtraceError, match="half of kernel size") as err:
        cf.max_pool1d(x, 3, 1, 2, 3, return_indices=return_indices)
    assert err.value.param == "padding"
    check_call("max_pool1d", x, 3, 1, 2, 3, False, return_indices)
    check_call("max_pool1d", x, 3, 1, 1, 3, False, return_indices)  # p=1 <= 3 // 2 passes


def test_the_two_max_pool_paths_use_different_words() -> None:
    x = np.ones((1, 1, 6))
    words = set()
    for return_indices in (False, True):
        with pytest.raises(ConvtraceError) as err:
            cf.max_pool1d(x, 0, return_indices=return_indices)
        words.add(err.value.rule)
        check_call("max_pool1d", x, 0, None, 0, 1, False, return_indices)
    assert words == {"max_pool1d() kernel_size must be greater than zero, but got 0", "stride should not be zero"}


def test_avg_pool_zero_kernel_says_stride_should_not_be_zero() -> None:
    x = np.ones((1, 1, 6))
    with pytest.raises(ConvtraceError, match=r"stride=0: stride should not be zero$"):
        cf.avg_pool1d(x, 0)
    check_call("avg_pool1d", x, 0)


def test_nan_wins_and_is_the_last_nan() -> None:
    x = np.array([[[1.0, np.nan, 3.0, np.nan, 0.0]]])
    values, indices = cf.max_pool1d(x, 5, return_indices=True)
    assert np.isnan(values[0, 0, 0]) and indices.tolist() == [[[3]]]
    _, adaptive = cf.adaptive_max_pool1d(x, 1, return_indices=True)
    assert adaptive.tolist() == [[[3]]]
    # more windows than taps (the tap-by-tap path): windows [0, 2), [1, 3), [2, 4), [3, 5)
    assert cf.adaptive_max_pool1d(x, 4, return_indices=True)[1].tolist() == [[[1, 1, 3, 3]]]
    check_call("adaptive_max_pool1d", x, 4, True)
    for ri in (False, True):
        check_call("max_pool1d", x, 5, None, 0, 1, False, ri)
        check_call("max_pool1d", x, 2, 1, 1, 2, True, ri)
    check_call("adaptive_max_pool1d", x, 2, True)


def test_ties_give_the_first_index() -> None:
    x = np.array([[[1.0, 3.0, 3.0, 2.0, 3.0]]])
    assert cf.max_pool1d(x, 5, return_indices=True)[1].tolist() == [[[1]]]
    check_call("max_pool1d", x, 3, 1, 1, 1, False, True)
    check_call("adaptive_max_pool1d", x, 2, True)


def test_minus_infinity_padding() -> None:
    x = np.full((1, 1, 3), -np.inf)
    values, indices = cf.max_pool1d(x, 2, 1, 1, return_indices=True)
    assert values.tolist() == [[[-np.inf] * 4]] and indices.tolist() == [[[0, 0, 1, 2]]]
    check_call("max_pool1d", x, 2, 1, 1, 1, False, True)


def test_a_window_of_padding_only() -> None:
    # L=1, k=2, p=1, d=2: output 0 reads positions -1 and 1, both padding: -inf, and
    # PyTorch's index is the first tap at or after 0 (here 1, outside the input)
    x = np.array([[[5.0]]])
    values, indices = cf.max_pool1d(x, 2, 1, 1, 2, return_indices=True)
    assert values.tolist() == [[[-np.inf]]] and indices.tolist() == [[[1]]]
    for ri in (False, True):
        check_call("max_pool1d", x, 2, 1, 1, 2, False, ri)
    check_call("max_pool1d", np.array([[[5.0, 6.0]]]), 2, 3, 1, 3, True, True)


def test_integer_input() -> None:
    x = np.array([[[-1, -2, -5, 2, 7, 4]]])  # int64
    assert cf.avg_pool1d(x, 2).tolist() == [[[-1, -1, 5]]]  # C++ division: toward zero
    assert cf.max_pool1d(x, 2, return_indices=True)[0].tolist() == [[[-1, 2, 7]]]
    with pytest.raises(ConvtraceError, match="max_pool1d_impl"):
        cf.max_pool1d(x, 2)
    for dtype in (np.int64, np.int32, np.uint8, np.int8):
        xd = x.astype(dtype)
        check_call("avg_pool1d", xd, 2)
        check_call("avg_pool1d", xd, 3, 2, 1, True, False)
        for ri in (False, True):
            check_call("max_pool1d", xd, 2, None, 0, 1, False, ri)
        check_call("lp_pool1d", xd, 2, 2, exact=False)
        check_call("lp_pool1d", xd, 2.0, 2, exact=False)


def test_max_unpool_collisions_the_last_wins() -> None:
    x = np.array([[[1.0, 2.0, 3.0, 4.0]]])
    indices = np.array([[[0, 2, 2, 0]]])
    assert cf.max_unpool1d(x, indices, 2).tolist() == [[[4.0, 0.0, 3.0, 0.0, 0.0, 0.0, 0.0, 0.0]]]
    check_call("max_unpool1d", x, indices, 2)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_float_dtypes(dtype: type) -> None:
    x = np.random.default_rng(3).standard_normal((2, 3, 11)).astype(dtype)
    check_call("avg_pool1d", x, 3, 2, 1, True, False)
    check_call("max_pool1d", x, 3, 2, 1, 2, True, True)
    check_call("adaptive_avg_pool1d", x, 4)
    check_call("lp_pool1d", np.abs(x), 2.5, 3, 2, True, exact=False)
