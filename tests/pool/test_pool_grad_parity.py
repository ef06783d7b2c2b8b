"""The pools' input gradients (``convtrace.grad.*_pool1d_input``, ``max_unpool1d_input``)
against PyTorch's autograd, with oneDNN on and off: seeded sweeps, the edge rules pinned one
by one, and the accept/reject of ``grad_output`` and ``indices``.

Inputs are small integers (ties are common, sums exact) with NaN and ±inf sprinkled in, or
standard normals; a NaN or an infinity must sit where PyTorch's sits, the finite values
agree to the dtype's rounding.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

torch = pytest.importorskip("torch")
F = torch.nn.functional

import convtrace  # noqa: E402
import convtrace.grad as G  # noqa: E402
from backends import each_backend  # noqa: E402
from convtrace import shapes  # noqa: E402
from convtrace.engine import pool_backward  # noqa: E402
from strategies import assert_convtrace_error, examples, tn, tt  # noqa: E402

NEEDS_TORCH = True

# (rtol, atol as a fraction of the largest |value| of the two): float32 sums a few terms in
# another order than PyTorch (and lp_pool1d's pow rounds once more or less).
TOLERANCE = {
    np.dtype(np.float64): (1e-11, 1e-13),
    np.dtype(np.float32): (2e-5, 2e-6),
    np.dtype(np.float16): (4e-3, 4e-3),  # PyTorch rounds to half after each step, convtrace once
}
DTYPES = (np.float64, np.float32, np.float16)


def assert_same_grad(actual: np.ndarray, expected: np.ndarray) -> None:
    """Dtype, shape, NaN and infinity where PyTorch has them, finite values close."""
    assert isinstance(actual, np.ndarray), type(actual)
    assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    nan_a, nan_e = np.isnan(actual), np.isnan(expected)
    assert (nan_a == nan_e).all(), f"NaN at {np.argwhere(nan_a != nan_e)[:5].tolist()}: {actual} vs {expected}"
    inf_a, inf_e = np.isinf(actual), np.isinf(expected)
    assert (inf_a == inf_e).all() and (actual[inf_a] == expected[inf_e]).all(), f"inf: {actual} vs {expected}"
    finite = ~(nan_e | inf_e)
    a, e = actual[finite].astype(np.float64), expected[finite].astype(np.float64)
    if not a.size:
        return
    rtol, atol = TOLERANCE[actual.dtype]
    scale = max(float(np.abs(e).max()), float(np.abs(a).max()), 1e-300)
    bad = np.abs(a - e) > rtol * np.abs(e) + atol * scale
    assert not bad.any(), f"{int(bad.sum())} values differ: {actual} vs {expected}"


def torch_input_grad(fn: Any, x: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """PyTorch's autograd: d(sum(fn(x) * gy))/dx."""
    xt = tt(x, requires_grad=True)
    y = fn(xt)
    (gx,) = torch.autograd.grad(y, xt, tt(gy))
    return tn(gx)


def both_backends(fn: Any, x: np.ndarray, gy: np.ndarray) -> list[np.ndarray]:
    """PyTorch's input gradient with oneDNN on, then off."""
    return [torch_input_grad(fn, x, gy) for _ in each_backend()]


def check(ours: np.ndarray, fn: Any, x: np.ndarray, gy: np.ndarray) -> None:
    for theirs in both_backends(fn, x, gy):
        assert_same_grad(ours, theirs)


# --------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Sliding:
    """One valid sliding-window pool call (max, avg or lp) and its operands' seed."""

    batch: int | None
    channels: int
    length: int
    kernel_size: int
    stride: int | None
    padding: int
    dilation: int
    ceil_mode: bool
    count_include_pad: bool
    values: str  # "ints" (ties, exact sums), "specials" (ints with NaN and ±inf), "normal"
    seed: int

    @property
    def step(self) -> int:
        return self.kernel_size if self.stride is None else self.stride

    def input(self, dtype: Any) -> np.ndarray:
        rng = np.random.default_rng(self.seed)
        shape = (self.channels, self.length) if self.batch is None else (self.batch, self.channels, self.length)
        if self.values == "normal":
            return rng.standard_normal(shape).astype(dtype)
        x = rng.integers(-3, 4, shape).astype(dtype)
        if self.values == "specials":
            x[rng.random(shape) < 0.15] = np.nan
            x[rng.random(shape) < 0.1] = np.inf
            x[rng.random(shape) < 0.15] = -np.inf
        return x

    def grad_output(self, out_length: int, dtype: Any) -> np.ndarray:
        rng = np.random.default_rng(self.seed + 1)
        lead = (self.channels,) if self.batch is None else (self.batch, self.channels)
        return rng.standard_normal((*lead, out_length)).astype(dtype)


@st.composite
def sliding_cases(draw: Any, *, dilation: bool = True, padding: bool = True) -> Sliding:
    k = draw(st.integers(1, 5))
    d = draw(st.integers(1, 3)) if dilation else 1
    p = draw(st.integers(0, k // 2)) if padding else 0
    s = draw(st.none() | st.integers(1, 5))
    ceil = draw(st.booleans())
    step = k if s is None else s
    low = max(1, d * (k - 1) + 1 - 2 * p)
    length = draw(st.integers(low, low + 12))
    while not every_window_reads_a_sample(length, k, step, p, d, ceil):
        length += 1  # (PyTorch's backward writes such a window's gradient out of bounds)
    return Sliding(
        batch=draw(st.none() | st.integers(1, 2)), channels=draw(st.integers(1, 3)), length=length,
        kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=ceil,
        count_include_pad=draw(st.booleans()), values=draw(st.sampled_from(("ints", "specials", "normal"))),
        seed=draw(st.integers(0, 2**16)),
    )


def every_window_reads_a_sample(length: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> bool:
    """Whether every window holds a real sample (with dilation, a window may hold none)."""
    out = shapes.pool1d_length_of(length, k, s, p, d, ceil_mode)
    positions = shapes.pool_window_positions(out, k, s, p, d)
    return bool(((positions >= 0) & (positions < length)).any(axis=1).all())


def _out_length(case: Sliding, op: str) -> int:
    if op == "lp_pool1d":
        return shapes.lp_pool1d_length_of(case.length, case.kernel_size, case.step, case.ceil_mode)
    return shapes.pool1d_length_of(case.length, case.kernel_size, case.step, case.padding, case.dilation,
                                   case.ceil_mode)


# --------------------------------------------------------------------------- sweeps


def check_max(case: Sliding, dtype: Any) -> None:
    x = case.input(dtype)
    gy = case.grad_output(_out_length(case, "max_pool1d"), dtype)
    kw = dict(kernel_size=case.kernel_size, stride=case.stride, padding=case.padding, dilation=case.dilation,
              ceil_mode=case.ceil_mode)
    check(G.max_pool1d_input(x, gy, **kw), lambda t: F.max_pool1d(t, **kw), x, gy)


@examples(200)
@given(case=sliding_cases(), dtype=st.sampled_from(DTYPES))
def test_max_pool1d_input_matches_autograd(case: Sliding, dtype: Any) -> None:
    check_max(case, dtype)


def check_avg(case: Sliding, dtype: Any) -> None:
    x = case.input(dtype)
    gy = case.grad_output(_out_length(case, "avg_pool1d"), dtype)
    kw = dict(kernel_size=case.kernel_size, stride=case.stride, padding=case.padding, ceil_mode=case.ceil_mode,
              count_include_pad=case.count_include_pad)
    check(G.avg_pool1d_input(x.shape, gy, **kw), lambda t: F.avg_pool1d(t, **kw), x, gy)


@examples(200)
@given(case=sliding_cases(dilation=False), dtype=st.sampled_from(DTYPES))
def test_avg_pool1d_input_matches_autograd(case: Sliding, dtype: Any) -> None:
    check_avg(case, dtype)


NORM_TYPES = (1, 2, 3, 1.5, 0.5, 4.0, float("inf"), float("-inf"))


def check_lp(case: Sliding, norm_type: float, dtype: Any) -> None:
    x = case.input(dtype)
    gy = case.grad_output(_out_length(case, "lp_pool1d"), dtype)
    kw = dict(kernel_size=case.kernel_size, stride=case.stride, ceil_mode=case.ceil_mode)
    check(G.lp_pool1d_input(x, gy, norm_type, **kw), lambda t: F.lp_pool1d(t, norm_type, **kw), x, gy)


@examples(250)
@given(case=sliding_cases(dilation=False, padding=False), norm_type=st.sampled_from(NORM_TYPES),
       dtype=st.sampled_from((np.float64, np.float32)))
def test_lp_pool1d_input_matches_autograd(case: Sliding, norm_type: float, dtype: Any) -> None:
    check_lp(case, norm_type, dtype)


@examples(200)
@given(case=sliding_cases(), output_size=st.integers(1, 30), dtype=st.sampled_from(DTYPES))
def test_adaptive_pools_input_match_autograd(case: Sliding, output_size: int, dtype: Any) -> None:
    x = case.input(dtype)
    gy = case.grad_output(output_size, dtype)
    expected_avg = both_backends(lambda t: F.adaptive_avg_pool1d(t, output_size), x, gy)
    expected_max = both_backends(lambda t: F.adaptive_max_pool1d(t, output_size), x, gy)
    # both algorithms: the outputs as a few sliding pools, and tap by tap by index
    for classes in (pool_backward.MAX_ADAPTIVE_CLASSES, 0):
        with most_adaptive_classes(classes):
            avg = G.adaptive_avg_pool1d_input(x.shape, gy)
            top = G.adaptive_max_pool1d_input(x, gy)
        for theirs in expected_avg:
            assert_same_grad(avg, theirs)
        for theirs in expected_max:
            assert_same_grad(top, theirs)


@contextlib.contextmanager
def most_adaptive_classes(limit: int) -> Iterator[None]:
    """Adaptive pools with at most ``limit`` classes of outputs run as sliding pools."""
    kept = pool_backward.MAX_ADAPTIVE_CLASSES
    pool_backward.MAX_ADAPTIVE_CLASSES = limit
    try:
        yield
    finally:
        pool_backward.MAX_ADAPTIVE_CLASSES = kept


@examples(150)
@given(case=sliding_cases(dilation=False), collide=st.booleans(), dtype=st.sampled_from((np.float64, np.float32)))
def test_max_unpool1d_input_matches_autograd(case: Sliding, collide: bool, dtype: Any) -> None:
    # indices from max_pool1d (overlapping windows share winners), or drawn at random with
    # collisions; the gradient reaches every pooled value, collided or not
    k, s, p = case.kernel_size, case.step, case.padding
    pooled = case.input(dtype)
    _, idx = F.max_pool1d(tt(pooled), k, s, p, ceil_mode=case.ceil_mode, return_indices=True)
    indices = tn(idx)
    out_length = shapes.max_unpool1d_length_of(indices.shape[-1], k, s, p)
    if out_length < 1 or indices.max() >= out_length:
        out_length = int(indices.max()) + 1
    if collide:
        indices = np.random.default_rng(case.seed).integers(0, out_length, indices.shape).astype(np.int64)
    values = case.grad_output(indices.shape[-1], dtype)
    gy = case.grad_output(out_length, dtype) * 3
    ours = G.max_unpool1d_input(indices, gy)

    def unpool(t: Any) -> Any:
        batched = t if t.dim() == 3 else t[None]
        idx3 = tt(indices if indices.ndim == 3 else indices[None])
        y = F.max_unpool1d(batched, idx3, k, s, p, output_size=[out_length])
        return y if t.dim() == 3 else y[0]

    check(ours, unpool, values, gy)


# --------------------------------------------------------------------------- pinned rules


def test_max_ties_go_to_the_first_index_nan_to_the_last_nan() -> None:
    x = np.array([[[np.nan, 1.0, np.nan, 2.0, 2.0, -np.inf, -np.inf, -np.inf]]])
    gy = np.arange(1.0, 7.0).reshape(1, 1, 6)
    # windows of 3: [nan 1 nan] -> index 2 (the last NaN); [1 nan 2] and [nan 2 2] -> index 2 and 2;
    # [2 2 -inf] -> index 3 (the first 2); [2 -inf -inf] -> 4; [-inf -inf -inf] -> 5 (the first)
    ours = G.max_pool1d_input(x, gy, 3, 1)
    assert ours.tolist() == [[[0.0, 0.0, 6.0, 4.0, 5.0, 6.0, 0.0, 0.0]]]
    check(ours, lambda t: F.max_pool1d(t, 3, 1), x, gy)


def test_max_all_minus_inf_window_picks_its_first_real_sample_not_the_padding() -> None:
    x = np.array([[[-np.inf, -np.inf, 1.0]]])
    gy = np.array([[[5.0, 7.0]]])
    ours = G.max_pool1d_input(x, gy, 2, 2, 1)  # windows [pad, -inf], [-inf, 1]
    assert ours.tolist() == [[[5.0, 0.0, 7.0]]]
    check(ours, lambda t: F.max_pool1d(t, 2, 2, 1), x, gy)


def test_max_dilation_and_ceil_overhang() -> None:
    x = np.array([[[4.0, 9.0, 1.0, 9.0, 3.0, 8.0, 2.0, 7.0]]])
    # k=3, d=2, s=2, p=1, ceil: windows {-1,1,3} {1,3,5} {3,5,7} {5,7,9 (overhang)}; the ties
    # 9/9 go to index 1 twice, then 3; the last window: 8 at index 5
    gy = np.array([[[1.0, 10.0, 100.0, 1000.0]]])
    ours = G.max_pool1d_input(x, gy, 3, 2, 1, 2, ceil_mode=True)
    assert ours.tolist() == [[[0.0, 11.0, 0.0, 100.0, 0.0, 1000.0, 0.0, 0.0]]]
    check(ours, lambda t: F.max_pool1d(t, 3, 2, 1, 2, ceil_mode=True), x, gy)


def test_max_window_without_a_real_sample_gets_no_gradient() -> None:
    # L=1, k=2, s=2, p=1, d=2, ceil_mode: the one window reads {-1, 1}, no real sample. Its
    # forward is -inf with index 1 (outside the input); PyTorch's backward adds the gradient
    # at that index out of bounds (with 3 channels: "double free or corruption", an abort).
    # convtrace drops it. Only the single-plane case is asked of PyTorch (it survives that).
    x = np.array([[[5.0]]])
    ours = G.max_pool1d_input(x, np.array([[[3.0]]]), 2, 2, 1, 2, ceil_mode=True)
    assert ours.tolist() == [[[0.0]]]
    assert torch_input_grad(lambda t: F.max_pool1d(t, 2, 2, 1, 2, ceil_mode=True), x, np.array([[[3.0]]])).tolist() == [[[0.0]]]
    three = G.max_pool1d_input(np.ones((1, 3, 1)), np.ones((1, 3, 1)), 2, 2, 1, 2, ceil_mode=True)
    assert three.tolist() == [[[0.0], [0.0], [0.0]]]


@pytest.mark.parametrize(("count_include_pad", "expected"), [(True, [1 / 3, 2 / 3, 1 / 3, 2 / 3, 1 / 3, 1 / 3 + 1 / 2]),
                                                         (False, [1 / 2, 1 / 2 + 1 / 3, 1 / 3, 2 / 3, 1 / 3, 1 / 3 + 1.0])])
def test_avg_ceil_overhang_is_never_counted(count_include_pad: bool, expected: list[float]) -> None:
    # L=6, k=3, s=2, p=1, ceil_mode: the last window holds sample 5, one padding cell and one
    # overhang cell: divisor 2 with count_include_pad, 1 without (the overhang never counts)
    ours = G.avg_pool1d_input((1, 1, 6), np.ones((1, 1, 4)), 3, 2, 1, ceil_mode=True,
                              count_include_pad=count_include_pad)
    np.testing.assert_allclose(ours[0, 0], expected, rtol=1e-15)
    check(ours, lambda t: F.avg_pool1d(t, 3, 2, 1, ceil_mode=True, count_include_pad=count_include_pad),
          np.zeros((1, 1, 6)), np.ones((1, 1, 4)))


def test_lp_signed_sums_odd_powers_and_zeros() -> None:
    x = np.array([[[1.0, -2.0, 0.0, 0.0, 2.0, -2.0, -1.0, -1.0]]])
    gy = np.ones((1, 1, 4))
    # p=1: a signed sum, gradient 1 through every tap, also for the negative sums -1, 0 and -2
    p1 = G.lp_pool1d_input(x, gy, 1, 2)
    assert p1.tolist() == [[[1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0]]]  # sums 0 give 0 (relu at 0)
    # p=3: a negative sum has no real cube root: NaN, through both taps
    p3 = G.lp_pool1d_input(x, gy, 3, 2)
    assert np.isnan(p3[0, 0, [0, 1, 6, 7]]).all() and (p3[0, 0, 2:6] == 0).all()
    for ours, p in ((p1, 1), (p3, 3)):
        check(ours, lambda t, p=p: F.lp_pool1d(t, p, 2), x, gy)


def test_lp_ceil_mode_scales_a_partial_window_by_k() -> None:
    # lp_pool1d(ones(5), 2, 2, 2, ceil_mode=True): the last window (one sample) is sqrt(2 * 1)
    x = np.ones((1, 1, 5))
    gy = np.ones((1, 1, 3))
    ours = G.lp_pool1d_input(x, gy, 2, 2, 2, ceil_mode=True)
    np.testing.assert_allclose(ours[0, 0], [0.5**0.5] * 4 + [2**0.5], rtol=1e-15)
    check(ours, lambda t: F.lp_pool1d(t, 2, 2, 2, ceil_mode=True), x, gy)


def test_adaptive_windows_overlap_and_more_outputs_than_samples() -> None:
    # L=5, O=3: windows [0,2) [1,4) [3,5), lengths 2, 3, 2
    ours = G.adaptive_avg_pool1d_input((1, 1, 5), np.ones((1, 1, 3)))
    np.testing.assert_allclose(ours[0, 0], [1 / 2, 1 / 2 + 1 / 3, 1 / 3, 1 / 3 + 1 / 2, 1 / 2], rtol=1e-15)
    # L=2, O=5: windows [0,1) [0,1) [0,2) [1,2) [1,2); the max of [0,2) is sample 1
    x = np.array([[[3.0, 7.0]]])
    gy = np.array([[[1.0, 2.0, 4.0, 8.0, 16.0]]])
    assert G.adaptive_avg_pool1d_input((1, 1, 2), gy).tolist() == [[[3.0 + 2.0, 2.0 + 24.0]]]
    assert G.adaptive_max_pool1d_input(x, gy).tolist() == [[[3.0, 28.0]]]
    check(G.adaptive_max_pool1d_input(x, gy), lambda t: F.adaptive_max_pool1d(t, 5), x, gy)
    check(G.adaptive_avg_pool1d_input(x.shape, gy), lambda t: F.adaptive_avg_pool1d(t, 5), x, gy)


def test_global_max_over_time_with_nan_rows() -> None:
    x = np.array([[[1.0, 5.0, 5.0], [np.nan, 2.0, np.nan], [-np.inf, -np.inf, -np.inf]]])
    gy = np.array([[[1.0], [2.0], [3.0]]])
    ours = G.adaptive_max_pool1d_input(x, gy)
    assert ours.tolist() == [[[0.0, 1.0, 0.0], [0.0, 0.0, 2.0], [3.0, 0.0, 0.0]]]
    check(ours, lambda t: F.adaptive_max_pool1d(t, 1), x, gy)


def test_unpool_collisions_each_read_the_same_cell() -> None:
    indices = np.array([[[1, 1, 3]]])
    gy = np.array([[[0.0, 10.0, 20.0, 30.0, 40.0]]])
    assert G.max_unpool1d_input(indices, gy).tolist() == [[[10.0, 10.0, 30.0]]]


def test_unbatched_input() -> None:
    x = np.array([[1.0, 3.0, 2.0, 5.0]])
    gy = np.array([[1.0, 2.0]])
    assert G.max_pool1d_input(x, gy, 2).tolist() == [[0.0, 1.0, 0.0, 2.0]]
    assert G.avg_pool1d_input((1, 4), gy, 2).tolist() == [[0.5, 0.5, 1.0, 1.0]]
    assert G.adaptive_max_pool1d_input(x, gy).tolist() == [[0.0, 1.0, 0.0, 2.0]]


def test_long_signal_blocks_agree_with_autograd() -> None:
    # long enough to be cut into runs of outputs (blocks meet inside overlapping windows)
    rng = np.random.default_rng(7)
    x = rng.integers(-3, 4, (1, 2, 200_003)).astype(np.float32)
    for k, s, p in ((3, 1, 1), (4, 4, 0), (5, 2, 2)):
        kw = dict(kernel_size=k, stride=s, padding=p)
        out = shapes.pool1d_length_of(x.shape[-1], k, s, p, 1, True)
        gy = rng.standard_normal((1, 2, out)).astype(np.float32)
        check(G.max_pool1d_input(x, gy, ceil_mode=True, **kw),
              lambda t, kw=kw: F.max_pool1d(t, ceil_mode=True, **kw), x, gy)
        check(G.avg_pool1d_input(x.shape, gy, ceil_mode=True, **kw),
              lambda t, kw=kw: F.avg_pool1d(t, ceil_mode=True, **kw), x, gy)


# --------------------------------------------------------------------------- grad_output


def _torch_accepts(gy: np.ndarray) -> bool:
    x = tt(np.ones((1, 2, 6)), requires_grad=True)
    y = F.max_pool1d(x, 2)
    try:
        torch.autograd.grad(y, x, tt(gy))
    except RuntimeError:
        return False
    return True


@pytest.mark.parametrize("gy", [np.ones((1, 2, 4)), np.ones((2, 3)), np.ones((1, 2, 3), np.complex128)],
                         ids=["longer", "unbatched", "complex"])
def test_bad_grad_output_is_rejected_as_autograd_does(gy: np.ndarray) -> None:
    assert not _torch_accepts(gy)
    x = np.ones((1, 2, 6))
    for call in (
        lambda: G.max_pool1d_input(x, gy, 2),
        lambda: G.avg_pool1d_input(x.shape, gy, 2),
        lambda: G.lp_pool1d_input(x, gy, 2, 2),
    ):
        with pytest.raises(convtrace.ConvtraceError) as info:
            call()
        assert_convtrace_error(info.value, {"grad_output"})
    if gy.dtype.kind != "c":
        with pytest.raises(convtrace.ConvtraceError, match="Mismatch in shape: grad_output has a shape of"):
            G.max_pool1d_input(x, gy, 2)


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.float16])
def test_real_grad_output_of_another_dtype_is_cast_as_autograd_casts(dtype: Any) -> None:
    x = np.array([[[1.0, 3.0, 2.0, 5.0, 4.0, 0.0]]])
    gy = np.array([[[1, 2, 3]]], dtype=dtype)
    assert _torch_accepts(np.ones((1, 2, 3), dtype))
    ours = G.max_pool1d_input(x, gy, 2)
    assert ours.dtype == np.float64
    check(ours, lambda t: F.max_pool1d(t, 2), x, gy.astype(np.float64))


def test_bad_indices_are_rejected() -> None:
    gy = np.ones((1, 1, 4))
    with pytest.raises(convtrace.ConvtraceError, match="int64") as info:
        G.max_unpool1d_input(np.array([[[0, 1]]], dtype=np.int32), gy)
    assert_convtrace_error(info.value, {"indices"})
    with pytest.raises(convtrace.ConvtraceError, match="Found an invalid max index: 4") as info:
        G.max_unpool1d_input(np.array([[[0, 4]]]), gy)
    assert_convtrace_error(info.value, {"indices"})
    with pytest.raises(convtrace.ConvtraceError) as info:
        G.max_unpool1d_input(np.array([[[0, 1]], [[0, 1]]]), gy)
    assert_convtrace_error(info.value, {"grad_output"})
    # PyTorch's forward rejects the out-of-range index in the same words
    with pytest.raises(RuntimeError, match="Found an invalid max index: 4"):
        F.max_unpool1d(torch.ones(1, 1, 2), torch.tensor([[[0, 4]]]), 2, output_size=[4])


# --------------------------------------------------------------------------- the pool's own arguments

BAD_CALLS = [
    ("max_pool1d", dict(kernel_size=0)),
    ("max_pool1d", dict(kernel_size=3, padding=2)),
    ("max_pool1d", dict(kernel_size=2, stride=0)),
    ("max_pool1d", dict(kernel_size=2, dilation=0)),
    ("max_pool1d", dict(kernel_size=9)),
    ("avg_pool1d", dict(kernel_size=0)),
    ("avg_pool1d", dict(kernel_size=3, padding=2)),
    ("avg_pool1d", dict(kernel_size=9)),
    ("lp_pool1d", dict(norm_type=2, kernel_size=9)),
    ("lp_pool1d", dict(norm_type=2, kernel_size=2, stride=0)),
]


def _gradient_call(op: str, x: np.ndarray, gy: np.ndarray, kw: dict[str, Any]) -> Any:
    if op == "max_pool1d":
        return lambda: G.max_pool1d_input(x, gy, **kw)
    if op == "avg_pool1d":
        return lambda: G.avg_pool1d_input(x.shape, gy, **kw)
    return lambda: G.lp_pool1d_input(x, gy, **kw)


@pytest.mark.parametrize("op", ["adaptive_avg_pool1d", "adaptive_max_pool1d"])
@pytest.mark.parametrize("shape", [(1, 2, 5), (0, 2, 5), (2, 5)])
def test_adaptive_output_size_zero_passes_the_forward_but_not_the_backward(op: str, shape: tuple[int, ...]) -> None:
    x = np.ones(shape)
    gy = np.ones((*shape[:-1], 0))
    getattr(convtrace.functional, op)(x, 0)  # the forward accepts it, as PyTorch's does
    with pytest.raises(RuntimeError, match="Expected grad_output to have non-zero size") as theirs:
        torch_input_grad(lambda t: getattr(F, op)(t, 0), x, gy)
    call = (lambda: G.adaptive_avg_pool1d_input(shape, gy)) if op == "adaptive_avg_pool1d" else (
        lambda: G.adaptive_max_pool1d_input(x, gy))
    with pytest.raises(convtrace.ConvtraceError) as ours:
        call()
    assert_convtrace_error(ours.value, {"grad_output"})
    assert ours.value.rule == str(theirs.value).splitlines()[0]


@pytest.mark.parametrize(("op", "kw"), BAD_CALLS)
def test_the_pools_arguments_are_rejected_in_the_forwards_words(op: str, kw: dict[str, Any]) -> None:
    x = np.ones((1, 2, 5))
    gy = np.ones((1, 2, 2))
    with pytest.raises(RuntimeError):  # PyTorch's forward rejects the call
        getattr(F, op)(tt(x, requires_grad=True), **kw)
    with pytest.raises(convtrace.ConvtraceError) as ours:
        _gradient_call(op, x, gy, kw)()
    with pytest.raises(convtrace.ConvtraceError) as forward:
        getattr(convtrace.functional, op)(x, **kw)
    assert (ours.value.param, ours.value.rule) == (forward.value.param, forward.value.rule)
    assert str(ours.value).startswith(f"{op}_input(")


def test_an_integer_input_has_no_gradient() -> None:
    x = np.arange(6).reshape(1, 1, 6)
    with pytest.raises(RuntimeError, match="only Tensors of floating point"):
        tt(x, requires_grad=True)
    # max_pool1d's forward already rejects integers ("max_pool1d_impl" not implemented for 'Long')
    with pytest.raises(convtrace.ConvtraceError) as info:
        G.max_pool1d_input(x, np.ones((1, 1, 3)), 2)
    assert_convtrace_error(info.value, {"input"})
    # lp_pool1d's forward takes them (x ** 2 stays integer); its gradient does not exist
    with pytest.raises(convtrace.ConvtraceError, match="only Tensors of floating point") as info:
        G.lp_pool1d_input(x, np.ones((1, 1, 3)), 2, 2)
    assert_convtrace_error(info.value, {"input"})
    with pytest.raises(convtrace.ConvtraceError, match="only Tensors of floating point") as info:
        G.avg_pool1d_input((1, 1, 6), np.ones((1, 1, 3), np.int64), 2)
    assert_convtrace_error(info.value, {"grad_output"})


@pytest.mark.parametrize("shape", [(0, 2, 6), (2, 0, 6)])
def test_empty_batch_or_channels(shape: tuple[int, ...]) -> None:
    # accepted where PyTorch's forward and backward accept, else rejected
    x = np.ones(shape)
    gy = np.ones((*shape[:2], 3))
    for ours, fn in (
        (lambda: G.max_pool1d_input(x, gy, 2), lambda t: F.max_pool1d(t, 2)),
        (lambda: G.avg_pool1d_input(shape, gy, 2), lambda t: F.avg_pool1d(t, 2)),
        (lambda: G.lp_pool1d_input(x, gy, 2, 2), lambda t: F.lp_pool1d(t, 2, 2)),
        (lambda: G.adaptive_avg_pool1d_input(shape, gy), lambda t: F.adaptive_avg_pool1d(t, 3)),
        (lambda: G.adaptive_max_pool1d_input(x, gy), lambda t: F.adaptive_max_pool1d(t, 3)),
    ):
        try:
            expected = torch_input_grad(fn, x, gy)
        except RuntimeError:
            with pytest.raises(convtrace.ConvtraceError) as info:
                ours()
            assert_convtrace_error(info.value, {"input", "input_size", "grad_output"})
            continue
        assert_same_grad(ours(), expected)


def test_non_finite_grad_output_reaches_only_the_winner() -> None:
    # a NaN or inf output gradient must not leak to the other taps (NaN * 0 is NaN)
    x = np.array([[[1.0, 3.0, 2.0, 5.0, 4.0, 0.0]]])
    gy = np.array([[[np.nan, np.inf, -np.inf]]])
    ours = G.max_pool1d_input(x, gy, 2)
    assert np.array_equal(ours, [[[0.0, np.nan, 0.0, np.inf, -np.inf, 0.0]]], equal_nan=True)
    check(ours, lambda t: F.max_pool1d(t, 2), x, gy)
    windows = G.adaptive_max_pool1d_input(x, gy)
    check(windows, lambda t: F.adaptive_max_pool1d(t, 3), x, gy)
