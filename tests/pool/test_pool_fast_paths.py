"""The pool engine's fast paths against PyTorch (oneDNN on and off), on shapes large enough
to run on two worker threads: stride-1 max on flattened rows, adaptive pools as sliding
classes, global max / avg, max gradients from counted equalities (ties and NaN falling back
to PyTorch's rule), non-overlapping windows writing their gradient, unpooling by planes.
Each also runs on one thread: the answers must not depend on the thread count."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

import convtrace.functional as cf  # noqa: E402
import convtrace.grad as G  # noqa: E402
from backends import each_backend  # noqa: E402
from convtrace.engine import pool, pool_backward  # noqa: E402
from strategies import tn, tt  # noqa: E402

NEEDS_TORCH = True
SHAPE = (6, 40, 301)  # 72,240 outputs at stride 1: above the lowered PARALLEL_OUTPUTS below
#: Small enough that this file's shapes run on the worker threads (the engine's own threshold
#: keeps text-sized calls in one thread).
TEST_PARALLEL_OUTPUTS = 1 << 16


def _parallel_from(monkeypatch: pytest.MonkeyPatch, outputs: int) -> None:
    """Calls of at least ``outputs`` outputs run on the worker threads (both engine modules)."""
    monkeypatch.setattr(pool, "PARALLEL_OUTPUTS", outputs)
    monkeypatch.setattr(pool_backward, "PARALLEL_OUTPUTS", outputs)


@pytest.fixture(params=["1", "2"], ids=["one thread", "two threads"])
def threads(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CONVTRACE_NUM_THREADS", request.param)
    _parallel_from(monkeypatch, TEST_PARALLEL_OUTPUTS)
    return str(request.param)


def _input(kind: str, shape: tuple[int, ...] = SHAPE, seed: int = 0) -> np.ndarray:
    """'ties': small integers (every window has ties), 'normal': no ties, 'specials': normals
    with NaN, +-inf and runs of -inf."""
    rng = np.random.default_rng(seed)
    if kind == "ties":
        return rng.integers(-2, 3, shape).astype(np.float32)
    x = rng.standard_normal(shape).astype(np.float32)
    if kind == "specials":
        flat = x.reshape(-1)
        for value, count in ((np.nan, 40), (np.inf, 20), (-np.inf, 60)):
            flat[rng.integers(0, flat.size, count)] = value
        x[1, 3, 10:30] = -np.inf
        x[2, 5, :] = -np.inf
    return x


def _same(ours: Any, theirs: Any) -> None:
    ours = ours if isinstance(ours, tuple) else (ours,)
    theirs = theirs if isinstance(theirs, tuple) else (theirs,)
    for a, b in zip(ours, theirs, strict=True):
        b = tn(b)
        assert a.dtype == b.dtype and a.shape == b.shape
        assert np.array_equal(a, b, equal_nan=True), np.argwhere(~((a == b) | (np.isnan(a) & np.isnan(b))))[:5]


def _close(ours: np.ndarray, theirs: Any) -> None:
    """Gradients: NaN and infinities where PyTorch has them, finite values to float32's
    rounding (where windows overlap, a sample's gradients add in another order)."""
    want = tn(theirs)
    assert ours.dtype == want.dtype and ours.shape == want.shape
    finite = np.isfinite(want)
    assert np.array_equal(ours[~finite], want[~finite], equal_nan=True)
    np.testing.assert_allclose(ours[finite], want[finite], rtol=2e-6, atol=2e-6)


def _torch(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> list[Any]:
    answers = []
    for _ in each_backend():
        answers.append(fn(*(tt(a) if isinstance(a, np.ndarray) else a for a in args), **kwargs))
    return answers


@pytest.mark.parametrize("kind", ["ties", "normal", "specials"])
@pytest.mark.parametrize(("k", "p", "d"), [(3, 1, 1), (3, 0, 1), (2, 1, 1), (5, 2, 2), (4, 1, 3)])
def test_stride_one_max_on_flat_rows(threads: str, kind: str, k: int, p: int, d: int) -> None:
    x = _input(kind)
    for theirs in _torch(F.max_pool1d, x, k, 1, p, d):
        _same(cf.max_pool1d(x, k, 1, p, d), theirs)


@pytest.mark.parametrize("kind", ["ties", "specials"])
@pytest.mark.parametrize("output_size", [300, 1000, 43, 1])
def test_adaptive_pools_as_classes_and_global(threads: str, kind: str, output_size: int) -> None:
    x = _input(kind, (6, 40, 1600))
    for theirs in _torch(F.adaptive_max_pool1d, x, output_size, return_indices=True):
        _same(cf.adaptive_max_pool1d(x, output_size, return_indices=True), theirs)
    for theirs in _torch(F.adaptive_max_pool1d, x, output_size):
        _same(cf.adaptive_max_pool1d(x, output_size), theirs)
    for theirs in _torch(F.adaptive_avg_pool1d, x, output_size):
        ours, want = cf.adaptive_avg_pool1d(x, output_size), tn(theirs)
        assert np.array_equal(np.isnan(ours), np.isnan(want))
        finite = np.isfinite(want)
        assert np.array_equal(ours[~finite], want[~finite], equal_nan=True)
        np.testing.assert_allclose(ours[finite], want[finite], rtol=2e-6, atol=2e-6)


def test_global_average_of_a_short_input_is_one_product(threads: str) -> None:
    x = _input("normal", (64, 128, 50)).astype(np.float64)
    for theirs in _torch(F.adaptive_avg_pool1d, x, 1):
        np.testing.assert_allclose(cf.adaptive_avg_pool1d(x, 1), tn(theirs), rtol=1e-13, atol=1e-15)


def _max_grad_cases() -> list[tuple[int, int, int, int]]:
    return [(3, 1, 1, 1), (4, 4, 0, 1), (3, 2, 1, 1), (2, 3, 0, 1), (3, 2, 1, 2)]


@pytest.mark.parametrize("kind", ["ties", "normal", "specials"])
@pytest.mark.parametrize(("k", "s", "p", "d"), _max_grad_cases())
def test_max_gradient_winners(threads: str, kind: str, k: int, s: int, p: int, d: int) -> None:
    x = _input(kind)
    out = cf.max_pool1d(x, k, s, p, d).shape[-1]
    gy = np.random.default_rng(1).standard_normal((*SHAPE[:2], out)).astype(np.float32)
    if kind == "specials":
        gy[0, 0, :5] = [np.nan, np.inf, -np.inf, 0.0, 1.0]
    ours = G.max_pool1d_input(x, gy, k, s, p, d)
    for _ in each_backend():
        xt = tt(x, requires_grad=True)
        (want,) = torch.autograd.grad(F.max_pool1d(xt, k, s, p, d), xt, tt(gy))
        _close(ours, want)


@pytest.mark.parametrize("kind", ["ties", "normal", "specials"])
def test_adaptive_and_global_max_gradients(threads: str, kind: str) -> None:
    x = _input(kind, (6, 40, 1600))
    for output_size in (300, 1):
        gy = np.random.default_rng(2).standard_normal((6, 40, output_size)).astype(np.float32)
        gy[0, :3, 0] = [np.nan, np.inf, -np.inf]  # a gradient's NaN reaches the winner only
        ours = G.adaptive_max_pool1d_input(x, gy)
        for _ in each_backend():
            xt = tt(x, requires_grad=True)
            (want,) = torch.autograd.grad(F.adaptive_max_pool1d(xt, output_size), xt, tt(gy))
            _close(ours, want)


@pytest.mark.parametrize("collide", [False, True])
def test_unpool_by_planes(threads: str, collide: bool) -> None:
    x = _input("normal", (6, 40, 1600))
    values, indices = cf.max_pool1d(x, 4, 4, return_indices=True)
    if collide:  # the last of colliding values wins, as PyTorch on one thread
        indices = indices.copy()
        indices[:, :, 1::2] = indices[:, :, ::2][..., : indices[:, :, 1::2].shape[-1]]
    kept = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        want = F.max_unpool1d(tt(values), tt(indices), 4, output_size=[1600])
    finally:
        torch.set_num_threads(kept)
    _same(cf.max_unpool1d(values, indices, 4, output_size=[1600]), want)
    gy = np.random.default_rng(3).standard_normal((6, 40, 1600)).astype(np.float32)
    expected = np.take_along_axis(gy, indices, axis=-1)
    _same(G.max_unpool1d_input(indices, gy), torch.from_numpy(expected))


def test_tiles_share_the_budget_between_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """With two workers, each tile stays within half of ``POOL_TILE_BYTES`` and a batch that
    fits one tile is still cut in at least two tiles per worker."""
    monkeypatch.setenv("CONVTRACE_NUM_THREADS", "2")
    _parallel_from(monkeypatch, TEST_PARALLEL_OUTPUTS)
    plan = pool._tiles(64, 128, 50, 12)
    assert len(plan) >= 4 and all((n1 - n0) * 128 * 50 * 12 <= pool.POOL_TILE_BYTES // 2 for n0, n1, _, _ in plan)
    long_plan = pool._tiles(1, 32, 2_000_000, 12)
    assert all(32 * (o1 - o0) * 12 <= pool.POOL_TILE_BYTES // 2 for _, _, o0, o1 in long_plan)
    assert pool._tiles(2, 3, 9, 12) == [(0, 2, 0, 9)]  # small calls stay on one thread, one tile


def test_text_sized_calls_stay_in_the_calling_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """A text-CNN-sized pool (409,600 outputs) never hands off to the workers (a hand-off
    costs more than the whole call), however many workers there are."""
    monkeypatch.setenv("CONVTRACE_NUM_THREADS", "2")
    seen: list[int] = []
    monkeypatch.setattr(pool.fast_threads, "_run", lambda jobs, **_: seen.append(len(jobs)) or [j() for j in jobs])
    x = _input("normal", (64, 128, 50))
    cf.max_pool1d(x, 3, 1, 1)
    cf.avg_pool1d(x, 3, 1, 1)
    assert len(pool._tiles(64, 128, 50, 18)) > 1  # several tiles (with indices), still one thread
    _, idx = cf.max_pool1d(x, 3, 1, 1, return_indices=True)
    assert seen == []
    cf.max_pool1d(_input("normal", (8, 64, 16000)), 4, 4)  # 2,048,000 outputs: on the workers
    assert seen == [2]
    # the gradient's scatter from the indices too (measured: no faster on two workers)
    G.max_pool1d_input(x, np.ones(idx.shape, dtype=np.float32), 3, 1, 1, indices=idx)
    assert seen == [2]


def test_an_adaptive_pools_classes_take_the_threads_of_the_whole_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """An adaptive pool run as sliding pools, one per class of outputs (3000 of 16000: three
    classes of 1000): each class is a part of one call of 1,536,000 outputs, so its tiles go
    to the workers, though a class alone (512,000) is under ``PARALLEL_OUTPUTS``."""
    monkeypatch.setenv("CONVTRACE_NUM_THREADS", "2")
    seen: list[int] = []
    monkeypatch.setattr(pool.fast_threads, "_run", lambda jobs, **_: seen.append(len(jobs)) or [j() for j in jobs])
    x = _input("normal", (8, 64, 16000))
    assert len(pool._by_classes(x, 3000) or ()) == 3 and pool.PARALLEL_OUTPUTS > 8 * 64 * 1000
    cf.adaptive_avg_pool1d(x, 3000)
    assert seen == [2, 2, 2]
    cf.adaptive_max_pool1d(x, 3000)
    cf.adaptive_max_pool1d(x, 3000, return_indices=True)
    assert seen == [2] * 9


@pytest.mark.parametrize(("shape", "budget"), [((3, 10, 160), 2000), ((2, 3, 2400), 300)])
def test_unpool_tiles_of_channels_and_runs_of_a_plane(
    shape: tuple[int, int, int], budget: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tiles smaller than an item (runs of channels: each plane's offset from its channel,
    not the item's first) and runs of one long plane, colliding values included (the last
    wins), against PyTorch on one thread; the gradient's gather in row tiles too."""
    x = _input("normal", shape, seed=4)
    values, indices = cf.max_pool1d(x, 4, 4, return_indices=True)
    indices = indices.copy()
    indices[:, :, 1::3] = indices[:, :, ::3][..., : indices[:, :, 1::3].shape[-1]]  # collisions
    kept = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        want = F.max_unpool1d(tt(values), tt(indices), 4, output_size=[shape[-1]])
    finally:
        torch.set_num_threads(kept)
    gy = np.random.default_rng(6).standard_normal(shape).astype(np.float32)
    monkeypatch.setattr(pool, "POOL_TILE_BYTES", budget)
    monkeypatch.setattr(pool_backward, "BLOCK_OUTPUTS", 64)
    _same(cf.max_unpool1d(values, indices, 4, output_size=[shape[-1]]), want)
    _same(G.max_unpool1d_input(indices, gy), torch.from_numpy(np.take_along_axis(gy, indices, axis=-1)))
