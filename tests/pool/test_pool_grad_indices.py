"""``grad.max_pool1d_input(..., indices=)`` and ``grad.adaptive_max_pool1d_input(..., indices=)``:
the gradient from the forward's saved indices (a scatter-add, no winner search) equals the
gradient without them and PyTorch's autograd (oneDNN on and off), with convtrace's indices or
torch's; bad indices are rejected as PyTorch's backward kernels reject them (shape, dtype),
and an index outside the input (which PyTorch's backward writes out of bounds) is refused.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

torch = pytest.importorskip("torch")
F = torch.nn.functional

from test_pool_grad_parity import (  # noqa: E402
    DTYPES,
    Sliding,
    _out_length,
    assert_same_grad,
    check,
    sliding_cases,
)

import convtrace  # noqa: E402
import convtrace.functional as CF  # noqa: E402
import convtrace.grad as G  # noqa: E402
from backends import each_backend  # noqa: E402
from convtrace.engine import pool, pool_backward  # noqa: E402
from strategies import assert_convtrace_error, examples, tn, tt  # noqa: E402

NEEDS_TORCH = True


def _max_kw(case: Sliding) -> dict[str, Any]:
    return dict(kernel_size=case.kernel_size, stride=case.stride, padding=case.padding, dilation=case.dilation,
                ceil_mode=case.ceil_mode)


def check_max_with_indices(case: Sliding, dtype: Any) -> None:
    x = case.input(dtype)
    gy = case.grad_output(_out_length(case, "max_pool1d"), dtype)
    kw = _max_kw(case)
    _, ours_idx = CF.max_pool1d(x, **kw, return_indices=True)
    _, torch_idx = F.max_pool1d(tt(x), **kw, return_indices=True)
    without = G.max_pool1d_input(x, gy, **kw)
    with_ours = G.max_pool1d_input(x, gy, **kw, indices=ours_idx)
    with_torch = G.max_pool1d_input(x, gy, **kw, indices=tn(torch_idx))
    assert with_ours.dtype == without.dtype and with_ours.shape == without.shape
    np.testing.assert_array_equal(with_ours, with_torch)
    assert_same_grad(with_ours, without)
    check(with_ours, lambda t: F.max_pool1d(t, **kw), x, gy)


@examples(200)
@given(case=sliding_cases(), dtype=st.sampled_from(DTYPES))
def test_max_pool1d_input_with_indices_matches_without_and_autograd(case: Sliding, dtype: Any) -> None:
    check_max_with_indices(case, dtype)


@examples(150)
@given(case=sliding_cases(), output_size=st.integers(1, 30), dtype=st.sampled_from(DTYPES))
def test_adaptive_max_pool1d_input_with_indices_matches_without_and_autograd(
    case: Sliding, output_size: int, dtype: Any
) -> None:
    x = case.input(dtype)
    gy = case.grad_output(output_size, dtype)
    _, ours_idx = CF.adaptive_max_pool1d(x, output_size, return_indices=True)
    _, torch_idx = F.adaptive_max_pool1d(tt(x), output_size, return_indices=True)
    without = G.adaptive_max_pool1d_input(x, gy)
    with_ours = G.adaptive_max_pool1d_input(x, gy, indices=ours_idx)
    np.testing.assert_array_equal(with_ours, G.adaptive_max_pool1d_input(x, gy, indices=tn(torch_idx)))
    assert_same_grad(with_ours, without)
    check(with_ours, lambda t: F.adaptive_max_pool1d(t, output_size), x, gy)


# --------------------------------------------------------------------------- the scatter, pinned


def test_overlapping_windows_add_their_gradients_at_a_shared_winner() -> None:
    # k=3, s=1: the 5.0 wins all three windows; its gradient is their sum (in window order)
    x = np.array([[[1.0, 2.0, 5.0, 0.0, -1.0]]])
    gy = np.array([[[1.0, 10.0, 100.0]]])
    _, idx = CF.max_pool1d(x, 3, 1, return_indices=True)
    assert idx.tolist() == [[[2, 2, 2]]]
    ours = G.max_pool1d_input(x, gy, 3, 1, indices=idx)
    assert ours.tolist() == [[[0.0, 0.0, 111.0, 0.0, 0.0]]]
    check(ours, lambda t: F.max_pool1d(t, 3, 1), x, gy)


def test_disjoint_windows_write_each_row_at_its_own_offset() -> None:
    # two rows of three; each row's gradient lands in its own row
    x = np.array([[[1.0, 9.0, 2.0, 3.0, 4.0, 0.0], [7.0, 0.0, 0.0, 8.0, 1.0, 2.0]]])
    gy = np.array([[[1.0, 2.0], [3.0, 4.0]]])
    _, idx = CF.max_pool1d(x, 3, return_indices=True)
    ours = G.max_pool1d_input(x, gy, 3, indices=idx)
    assert ours.tolist() == [[[0.0, 1.0, 0.0, 0.0, 2.0, 0.0], [3.0, 0.0, 0.0, 4.0, 0.0, 0.0]]]
    check(ours, lambda t: F.max_pool1d(t, 3), x, gy)


def test_repeated_indices_in_disjoint_windows_are_summed_as_pytorch_does() -> None:
    # indices a user made (not a forward's): PyTorch adds, whatever the windows
    x = np.zeros((1, 1, 4))
    gy = np.array([[[1.0, 2.0]]])
    idx = np.array([[[1, 1]]])
    ours = G.max_pool1d_input(x, gy, 2, indices=idx)
    theirs = _torch_max_backward(x, gy, idx)
    assert ours.tolist() == tn(theirs)[..., 0, :].tolist() == [[[0.0, 3.0, 0.0, 0.0]]]


@pytest.mark.parametrize("dtype", DTYPES)
def test_many_rows_and_a_long_row_in_tiles(dtype: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(17)
    x = rng.integers(-3, 4, (3, 4, 700)).astype(dtype)  # ties
    for k, s in ((4, 4), (5, 2), (3, 1)):
        gy = rng.standard_normal((3, 4, (700 - k) // s + 1)).astype(dtype)
        _, idx = CF.max_pool1d(x, k, s, return_indices=True)
        whole = G.max_pool1d_input(x, gy, k, s, indices=idx)
        check(whole, lambda t, k=k, s=s: F.max_pool1d(t, k, s), x, gy)
        # tiles of 3 rows, then one row at a time in runs of outputs
        for budget in (3 * (700 * 16 + 700 * 8), 600):
            monkeypatch.setattr(pool_backward, "POOL_TILE_BYTES", budget)
            monkeypatch.setattr(pool_backward, "MIN_BLOCK_OUTPUTS", 64)
            np.testing.assert_array_equal(G.max_pool1d_input(x, gy, k, s, indices=idx), whole)
            monkeypatch.undo()


def test_unbatched_and_empty() -> None:
    x = np.array([[1.0, 3.0, 2.0, 5.0]])
    gy = np.array([[1.0, 2.0]])
    _, idx = CF.max_pool1d(x, 2, return_indices=True)
    assert G.max_pool1d_input(x, gy, 2, indices=idx).tolist() == [[0.0, 1.0, 0.0, 2.0]]
    _, aidx = CF.adaptive_max_pool1d(x, 2, return_indices=True)
    assert G.adaptive_max_pool1d_input(x, gy, indices=aidx).tolist() == [[0.0, 1.0, 0.0, 2.0]]
    empty = np.zeros((0, 2, 4))
    gye = np.zeros((0, 2, 2))
    out = G.max_pool1d_input(empty, gye, 2, indices=np.zeros((0, 2, 2), dtype=np.int64))
    assert out.shape == (0, 2, 4)


def test_the_scatter_is_not_a_winner_search() -> None:
    # the gradient goes where the indices say, whatever the input holds (as PyTorch's backward)
    x = np.array([[[9.0, 0.0, 0.0, 0.0]]])
    gy = np.array([[[5.0, 6.0]]])
    idx = np.array([[[1, 3]]])
    ours = G.max_pool1d_input(x, gy, 2, indices=idx)
    theirs = _torch_max_backward(x, gy, idx)
    assert ours.tolist() == tn(theirs)[..., 0, :].tolist() == [[[0.0, 5.0, 0.0, 6.0]]]


# --------------------------------------------------------------------------- bad indices


def _torch_max_backward(x: np.ndarray, gy: np.ndarray, idx: np.ndarray) -> Any:
    return torch.ops.aten.max_pool2d_with_indices_backward(
        tt(gy)[..., None, :], tt(x)[..., None, :], [1, 2], [1, 2], [0, 0], [1, 1], False,
        torch.from_numpy(np.ascontiguousarray(idx))[..., None, :])


def _torch_adaptive_backward(x: np.ndarray, gy: np.ndarray, idx: np.ndarray) -> Any:
    return torch.ops.aten.adaptive_max_pool2d_backward(
        tt(gy)[..., None, :], tt(x)[..., None, :], torch.from_numpy(np.ascontiguousarray(idx))[..., None, :])


def _gradient(op: str, x: np.ndarray, gy: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """max_pool1d's (kernel 2) or adaptive_max_pool1d's input gradient from ``idx``."""
    if op == "max":
        return G.max_pool1d_input(x, gy, 2, indices=idx)
    return G.adaptive_max_pool1d_input(x, gy, indices=idx)


GOOD = np.array([[[1, 2], [0, 3]]], dtype=np.int64)
BAD_SHAPE_OR_DTYPE = [
    pytest.param(GOOD[..., :1], "Mismatch in shape", id="short"),
    pytest.param(np.concatenate([GOOD, GOOD], axis=0), "Mismatch in shape", id="batch"),
    pytest.param(GOOD[:, :1], "Mismatch in shape", id="channels"),
    pytest.param(GOOD.astype(np.int32), "expected scalar type Long but found Int", id="int32"),
    pytest.param(GOOD.astype(np.float64), "expected scalar type Long but found Double", id="float64"),
    pytest.param(GOOD.astype(np.uint8), "expected scalar type Long but found Byte", id="uint8"),
    pytest.param(GOOD.astype(bool), "expected scalar type Long but found Bool", id="bool"),
]


@pytest.mark.parametrize(("idx", "words"), BAD_SHAPE_OR_DTYPE)
@pytest.mark.parametrize("op", ["max", "adaptive"])
def test_indices_of_the_wrong_shape_or_dtype_are_rejected_as_pytorch_rejects_them(
    idx: np.ndarray, words: str, op: str
) -> None:
    x = np.arange(8.0).reshape(1, 2, 4)
    gy = np.ones((1, 2, 2))
    with pytest.raises(RuntimeError) as theirs:
        (_torch_max_backward if op == "max" else _torch_adaptive_backward)(x, gy, idx)
    if "scalar type" in words:
        assert words in str(theirs.value)
    with pytest.raises(convtrace.ConvtraceError, match=words) as info:
        _gradient(op, x, gy, idx)
    assert_convtrace_error(info.value, {"indices"})


@pytest.mark.parametrize("bad", [4, 5, 1000, -1, -4])
@pytest.mark.parametrize("op", ["max", "adaptive"])
def test_an_index_outside_the_input_is_refused(bad: int, op: str) -> None:
    # PyTorch's backward does not check it (it writes out of bounds: a wrong answer or a crash)
    x = np.arange(8.0).reshape(1, 2, 4)
    gy = np.ones((1, 2, 2))
    idx = GOOD.copy()
    idx[0, 1, 1] = bad
    with pytest.raises(convtrace.ConvtraceError, match=f"Found an invalid max index: {bad} ") as info:
        _gradient(op, x, gy, idx)
    assert_convtrace_error(info.value, {"indices"})
    assert "[0, 4)" in str(info.value)


def test_the_edge_indices_are_accepted() -> None:
    x = np.arange(8.0).reshape(1, 2, 4)
    gy = np.ones((1, 2, 2))
    idx = np.array([[[0, 3], [3, 0]]])
    ours = G.max_pool1d_input(x, gy, 2, indices=idx)
    assert ours.tolist() == tn(_torch_max_backward(x, gy, idx))[..., 0, :].tolist()
    assert G.adaptive_max_pool1d_input(x, gy, indices=idx).tolist() == ours.tolist()


def test_indices_as_a_list_are_taken() -> None:
    x = np.arange(4.0).reshape(1, 1, 4)
    gy = np.ones((1, 1, 2))
    assert G.max_pool1d_input(x, gy, 2, indices=[[[1, 3]]]).tolist() == [[[0.0, 1.0, 0.0, 1.0]]]


def test_pool_tile_bytes_is_the_engines_budget() -> None:
    assert pool_backward.POOL_TILE_BYTES == pool.POOL_TILE_BYTES


def test_float32_shared_winners_are_summed_in_window_order_in_float32_as_pytorch() -> None:
    # overlapping windows (k=3, s=1): a sample winning several windows gets their sum, added
    # in window order in float32 -> the same bits as PyTorch's backward
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 8, 300)).astype(np.float32)
    gy = (rng.standard_normal((4, 8, 300)) * 1e3).astype(np.float32)
    _, idx = CF.max_pool1d(x, 3, 1, 1, return_indices=True)
    assert (idx[..., 1:] == idx[..., :-1]).sum() > 1000  # many shared winners
    ours = G.max_pool1d_input(x, gy, 3, 1, 1, indices=idx)
    xt = tt(x, requires_grad=True)
    (theirs,) = torch.autograd.grad(F.max_pool1d(xt, 3, 1, 1), xt, tt(gy))
    np.testing.assert_array_equal(ours, tn(theirs))


def test_an_index_shared_by_more_outputs_than_the_passes_is_summed() -> None:
    # 20 outputs all at index 5, each row apart
    x = np.zeros((1, 2, 20))
    gy = np.arange(40.0).reshape(1, 2, 20)
    idx = np.full((1, 2, 20), 5)
    ours = G.max_pool1d_input(x, gy, 1, indices=idx)
    theirs = torch.ops.aten.max_pool2d_with_indices_backward(
        tt(gy)[..., None, :], tt(x)[..., None, :], [1, 1], [1, 1], [0, 0], [1, 1], False, tt(idx)[..., None, :])
    assert ours.tolist() == tn(theirs)[..., 0, :].tolist()
    assert ours[0, 0, 5] == sum(range(20)) and ours[0, 1, 5] == sum(range(20, 40))


# --------------------------------------------------------------------------- pool-fast: the write-or-add choice


@pytest.mark.parametrize(("budget", "repeat"), [(None, 150), (600, 64)])
def test_indices_increasing_then_repeated_are_added_not_written(
    budget: int | None, repeat: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scatter writes only when every flat index of a tile strictly increases; it checks
    the first 65 apart: a repeat after them (or across two runs of one long row, each
    increasing on its own) must still be added, as PyTorch's backward adds."""
    if budget is not None:  # one row in runs of 64 outputs: a repeat across the runs' border
        monkeypatch.setattr(pool_backward, "POOL_TILE_BYTES", budget)
        monkeypatch.setattr(pool_backward, "MIN_BLOCK_OUTPUTS", 64)
    rng = np.random.default_rng(5)
    width = 200
    row = np.arange(width, dtype=np.int64)
    row[repeat:] -= 1  # past the first 65, or the last of the first run and the first of the second
    x = np.zeros((2, 3, width), dtype=np.float32)
    idx = np.broadcast_to(row, (2, 3, width)).copy()
    gy = rng.standard_normal((2, 3, width)).astype(np.float32)
    ours = G.max_pool1d_input(x, gy, 1, indices=idx)
    want = np.zeros_like(x)
    np.add.at(want, (slice(None), slice(None), idx[0, 0]), gy)
    np.testing.assert_array_equal(ours, want)
    assert ours[0, 0, repeat - 1] == np.float32(gy[0, 0, repeat - 1] + gy[0, 0, repeat])
    theirs = torch.ops.aten.max_pool2d_with_indices_backward(
        tt(gy)[..., None, :], tt(x)[..., None, :], [1, 1], [1, 1], [0, 0], [1, 1], False,
        torch.from_numpy(idx)[..., None, :])
    np.testing.assert_array_equal(ours, tn(theirs)[..., 0, :])


# --------------------------------------------------------------------------- pool-bwd: "same" pools by shifts


def _scattered(monkeypatch: pytest.MonkeyPatch, *args: Any, **kwargs: Any) -> np.ndarray:
    """``G.max_pool1d_input`` with the shift path off (every call scatters)."""
    with monkeypatch.context() as patch:
        patch.setattr(pool_backward, "MAX_INDEX_SHIFTS", 0)
        return G.max_pool1d_input(*args, **kwargs)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("k", "p", "d", "length"), [(3, 1, 1, 50), (3, 1, 1, 300), (2, 1, 2, 40), (1, 0, 1, 9)])
@pytest.mark.parametrize("values", ["normal", "ints"])
def test_same_length_pools_by_shifts_equal_pytorch_bit_for_bit(
    dtype: Any, k: int, p: int, d: int, length: int, values: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pool with as many outputs as samples (k=3 s=1 p=1, ...) takes the shift path (spied):
    the same bits as PyTorch's backward (oneDNN on and off) and as the scatter."""
    rng = np.random.default_rng(length + k + d)
    shape = (3, 5, length)
    x = (rng.integers(-2, 3, shape) if values == "ints" else rng.standard_normal(shape)).astype(dtype)  # ints: ties
    gy = (rng.standard_normal(shape) * 1e3).astype(dtype)
    _, idx = CF.max_pool1d(x, k, 1, p, d, return_indices=True)
    assert idx.shape == shape
    taken: list[bool] = []
    real = pool_backward._same_length_grad

    def spy(indices: np.ndarray, grads: np.ndarray) -> np.ndarray | None:
        answer = real(indices, grads)
        taken.append(answer is not None)
        return answer

    monkeypatch.setattr(pool_backward, "_same_length_grad", spy)
    ours = G.max_pool1d_input(x, gy, k, 1, p, d, indices=idx)
    assert taken == [True]
    np.testing.assert_array_equal(ours.view(f"u{ours.itemsize}"),
                                  _scattered(monkeypatch, x, gy, k, 1, p, d, indices=idx).view(f"u{ours.itemsize}"))
    xt = tt(x, requires_grad=True)
    for _ in each_backend():
        (theirs,) = torch.autograd.grad(F.max_pool1d(xt, k, 1, p, d), xt, tt(gy))
        if dtype != np.float16:  # PyTorch rounds half sums after each add, convtrace once
            np.testing.assert_array_equal(ours, tn(theirs))
    check(ours, lambda t: F.max_pool1d(t, k, 1, p, d), x, gy)


def test_user_indices_by_shifts_are_added_in_output_order() -> None:
    # indices a user made: shifts -1..+2 (outputs 0,1,2 to sample 2, output 3 to sample 5),
    # one output at its own sample: every one added where it points, in output order
    x = np.zeros((1, 2, 6), dtype=np.float32)
    idx = np.array([[[2, 2, 2, 5, 4, 4], [0, 2, 3, 3, 3, 5]]])
    gy = np.array([[[1e8, 1.0, -1e8, 3.0, 5.0, 7.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]]], dtype=np.float32)
    assert pool_backward._same_length_grad(idx[0], gy[0]) is not None
    ours = G.max_pool1d_input(x, gy, 1, indices=idx)
    want = np.zeros_like(x)
    for r in range(2):
        for t in range(6):
            want[0, r, idx[0, r, t]] += gy[0, r, t]  # float32, in output order: (1e8 + 1) - 1e8 = 0
    assert ours[0, 0, 2] == 0.0
    np.testing.assert_array_equal(ours, want)
    theirs = torch.ops.aten.max_pool2d_with_indices_backward(
        tt(gy)[..., None, :], tt(x)[..., None, :], [1, 1], [1, 1], [0, 0], [1, 1], False,
        torch.from_numpy(idx)[..., None, :])
    np.testing.assert_array_equal(ours, tn(theirs)[..., 0, :])


@pytest.mark.parametrize("special", [np.nan, np.inf, -np.inf])
def test_same_length_pools_with_non_finite_grads_scatter(special: float) -> None:
    # inf * 0 is NaN: a gradient with NaN or an infinity goes to the scatter (NaN / inf only
    # at the winner, as PyTorch)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 20)).astype(np.float32)
    gy = rng.standard_normal((2, 3, 20)).astype(np.float32)
    gy[1, 2, 7] = special
    _, idx = CF.max_pool1d(x, 3, 1, 1, return_indices=True)
    assert pool_backward._same_length_grad(idx.reshape(6, 20), gy.reshape(6, 20)) is None
    ours = G.max_pool1d_input(x, gy, 3, 1, 1, indices=idx)
    assert np.isnan(ours).sum() + np.isinf(ours).sum() <= 1
    check(ours, lambda t: F.max_pool1d(t, 3, 1, 1), x, gy)


def test_same_length_indices_spanning_many_shifts_scatter() -> None:
    x = np.zeros((1, 1, 8))
    idx = np.array([[[7, 0, 1, 2, 3, 4, 5, 6]]])  # shifts 7 and -1: more than MAX_INDEX_SHIFTS apart
    gy = np.arange(1.0, 9.0).reshape(1, 1, 8)
    assert pool_backward._same_length_grad(idx[0], gy[0]) is None
    assert G.max_pool1d_input(x, gy, 1, indices=idx).tolist() == [[[2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 1.0]]]
