"""Tiles with remainders, over the batch and over the length, and the scratch memory bound.

The fast paths cut large problems into tiles (``fast_layout.tile_shape``): whole batch
items while they fit the scratch budget, else runs of positions. These tests shrink the
budget so that small problems are cut into tiles whose last one is partial along the batch
(e.g. 5 items in tiles of 2) or along the length, check first that the plan really has
such a partial tile (so the test cannot pass by not tiling), then hold every tiled
algorithm to the loop reference. A tile that ignored the clamp on its last, partial tile
would read past the batch or the length and fail here.
"""

from __future__ import annotations

import platform
import sys
import tracemalloc
from collections.abc import Callable, Iterator

import numpy as np
import pytest

from convtrace.engine import fast, fast_layout, reference

# (N, C_in, C_out, L, K, stride, pad_left, out_len, dilation, groups)
Problem = tuple[int, int, int, int, int, int, int, int, int, int]


def _out_len(length: int, k: int, stride: int, pad: int, dilation: int) -> int:
    return (length + 2 * pad - dilation * (k - 1) - 1) // stride + 1


def _problem(n: int, c_in: int, c_out: int, length: int, k: int, stride: int = 1, pad: int = 0,
             dilation: int = 1, groups: int = 1) -> Problem:
    return (n, c_in, c_out, length, k, stride, pad, _out_len(length, k, stride, pad, dilation), dilation, groups)


PROBLEMS = [
    _problem(5, 4, 6, 23, 3, pad=1),  # dense, 'same'
    _problem(5, 6, 6, 30, 3, pad=2, dilation=2, groups=3),  # grouped, dilated, padded
    _problem(7, 4, 4, 31, 4, stride=2, pad=3),  # strided, K a multiple of the stride
    _problem(5, 3, 4, 41, 5, stride=3, pad=2, dilation=2),  # strided and dilated, partial phases
    _problem(3, 2, 2, 37, 9, pad=4),  # few channels, long kernel
    _problem(5, 4, 4, 26, 3, pad=1, groups=4),  # depthwise, short kernel
    _problem(3, 4, 4, 70, 7, pad=3, groups=4),  # depthwise, long kernel (Toeplitz, 3 blocks)
    _problem(5, 3, 3, 150, 5, pad=6, dilation=3, groups=3),  # depthwise, dilated (Toeplitz, 5 blocks)
    _problem(5, 1, 8, 29, 3, stride=2, pad=1),  # receptive field narrower than C_out (gy @ colsᵀ)
    _problem(5, 4, 16, 33, 2, pad=1, groups=2),  # grouped, the same
]

#: (primitive, algorithm) pairs that tile; each is forced on every problem. (The stride-1
#: input gradient "flip" runs a forward algorithm, whichever the dispatcher picks.)
TILED = [
    ("forward", "im2col"),
    ("forward", "im2col_mt"),
    ("forward", "taps"),
    ("input", "col2im"),
    ("weight", "im2col"),
    ("weight", "im2col_mt"),
    ("forward", "toeplitz"),  # depthwise, stride 1 only: tiles of (items, blocks)
    ("weight", "toeplitz"),
]


def _applies(algo: str, p: Problem) -> bool:
    _, c_in, c_out, _, _, stride, _, _, _, groups = p
    return algo != "toeplitz" or (c_in == c_out == groups and stride == 1)


def _arrays(p: Problem, dtype: type, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n, c_in, c_out, length, k, _, _, out_len, _, groups = p
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c_in, length)).astype(dtype)
    w = rng.standard_normal((c_out, c_in // groups, k)).astype(dtype)
    gy = rng.standard_normal((n, c_out, out_len)).astype(dtype)
    return x, w, gy


def _run(primitive: str, algo: str | None, p: Problem, x: np.ndarray, w: np.ndarray, gy: np.ndarray,
         engine: object = fast) -> np.ndarray:
    _, _, _, length, k, stride, pad, out_len, dilation, groups = p
    kw = {} if algo is None else {"_algo": algo}
    if primitive == "forward":
        return engine.conv1d_forward(x, w, stride, pad, out_len, dilation, groups, **kw)  # type: ignore[attr-defined,no-any-return]
    if primitive == "input":
        return engine.conv1d_input_grad(gy, w, length, stride, pad, dilation, groups, **kw)  # type: ignore[attr-defined,no-any-return]
    return engine.conv1d_weight_grad(x, gy, k, stride, pad, dilation, groups, **kw)  # type: ignore[attr-defined,no-any-return]


def _tile_budget(monkeypatch: pytest.MonkeyPatch, budget: int, min_positions: int = 1) -> None:
    monkeypatch.setattr(fast_layout, "TILE_BYTES", budget)
    monkeypatch.setattr(fast_layout, "NARROW_TILE_BYTES", budget)
    monkeypatch.setattr(fast_layout, "MIN_TILE_POSITIONS", min_positions)


def test_tile_plan_has_partial_tiles(monkeypatch: pytest.MonkeyPatch) -> None:
    """The plan itself: the last tile along the batch and along the length is clamped."""
    assert fast_layout.tile_shape(1, 1000, 10**6, budget=1) == (1, fast_layout.MIN_TILE_POSITIONS)
    assert fast_layout.tile_shape(1, 10, 10**6, budget=1) == (1, 10)
    monkeypatch.setattr(fast_layout, "MIN_TILE_POSITIONS", 1)
    assert fast_layout.tile_shape(5, 10, 4, budget=2 * 10 * 4) == (2, 10)
    plan = fast_layout.tiles(5, 10, 2, 10)
    assert plan[-1] == (4, 1, 0, 10)
    assert sum(items * positions for _, items, _, positions in plan) == 5 * 10
    assert fast_layout.tile_shape(3, 10, 4, budget=4 * 4) == (1, 4)
    plan = fast_layout.tiles(3, 10, 1, 4)
    assert [t for t in plan if t[0] == 0] == [(0, 1, 0, 4), (0, 1, 4, 4), (0, 1, 8, 2)]
    assert sum(items * positions for _, items, _, positions in plan) == 3 * 10


@pytest.mark.parametrize("rows", [1, 4, 5, 16])
def test_narrow_gemms_get_the_narrow_tile_budget(monkeypatch: pytest.MonkeyPatch, rows: int) -> None:
    """im2col's forward and weight gradient plan their tiles within ``NARROW_TILE_BYTES`` when
    the GEMM has at most ``NARROW_ROWS`` rows (output channels per group), else within
    ``TILE_BYTES``; the results do not depend on it."""
    from convtrace.engine import fast_gemm

    budgets: list[int | None] = []
    real = fast_gemm.tile_shape

    def plan(n: int, out_len: int, per_position: int, budget: int | None = None) -> tuple[int, int]:
        budgets.append(budget)
        return real(n, out_len, per_position, budget)

    monkeypatch.setattr(fast_gemm, "tile_shape", plan)
    p = _problem(2, 6, 2 * rows, 40, 3, pad=1, groups=2)
    want = fast_layout.NARROW_TILE_BYTES if rows <= fast_layout.NARROW_ROWS else fast_layout.TILE_BYTES
    assert fast_layout.NARROW_TILE_BYTES < fast_layout.TILE_BYTES
    x, w, gy = _arrays(p, np.float64, 3)
    for primitive in ("forward", "weight"):
        budgets.clear()
        got = _run(primitive, "im2col", p, x, w, gy)
        assert budgets == [want], (primitive, budgets)
        np.testing.assert_allclose(got, _run(primitive, None, p, x, w, gy, engine=reference), rtol=1e-12, atol=1e-12)


def _force_plan(monkeypatch: pytest.MonkeyPatch, tiling: str) -> list[tuple[int, int]]:
    """Make every algorithm tile as asked: two items per tile, or runs of 4 positions.

    Returns the list of (batch, length) problems the algorithms planned, to check they did.
    """
    from convtrace.engine import fast_gemm, fast_threads, fast_toeplitz

    planned: list[tuple[int, int]] = []

    def plan(n: int, out_len: int, per_position: int, budget: int | None = None) -> tuple[int, int]:
        planned.append((n, out_len))
        return (2, out_len) if tiling == "batch" else (1, 4)

    def block_plan(n: int, blocks: int, per_block: int, budget: int | None = None) -> tuple[int, int]:
        planned.append((n, blocks))
        return (2, blocks) if tiling == "batch" else (1, 2)

    monkeypatch.setattr(fast_gemm, "tile_shape", plan)
    monkeypatch.setattr(fast_threads, "tile_shape", plan)
    monkeypatch.setattr(fast_threads, "_chunk_plan", lambda n, out_len, per_position, positions: plan(n, out_len, 0))
    monkeypatch.setattr(fast_toeplitz, "tile_shape", block_plan)
    return planned


def _check_partial_tiles(monkeypatch: pytest.MonkeyPatch, tiling: str, dtype: type) -> None:
    """Every tiled algorithm, forced, with a plan whose last tile is partial: = reference."""
    planned = _force_plan(monkeypatch, tiling)
    for i, p in enumerate(PROBLEMS):
        n, out_len = p[0], p[7]
        assert (n % 2 if tiling == "batch" else out_len % 4) != 0, p  # the last tile is partial
        x, w, gy = _arrays(p, dtype, i)
        x64, w64, gy64 = (a.astype(np.float64) for a in (x, w, gy))
        for primitive, algo in TILED:
            if not _applies(algo, p):
                continue
            planned.clear()
            got = _run(primitive, algo, p, x, w, gy)
            assert planned, (primitive, algo)  # the algorithm did tile
            want = _run(primitive, None, p, x64, w64, gy64, engine=reference)
            bound = _run(primitive, None, p, np.abs(x64), np.abs(w64), np.abs(gy64), engine=reference)
            rel = 1e-13 if dtype == np.float64 else 1e-5
            assert got.dtype == dtype and got.shape == want.shape, (primitive, algo)
            assert np.all(np.abs(got - want) <= rel * bound + 1e-300), (primitive, algo, p, tiling)


@pytest.mark.parametrize("workers", ["1", "3"])
@pytest.mark.parametrize("tiling", ["batch", "length"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_partial_tiles_match_reference(
    monkeypatch: pytest.MonkeyPatch, tiling: str, dtype: type, workers: str
) -> None:
    """(With one and with three worker threads for the ``*_mt`` algorithms.)"""
    monkeypatch.setenv("CONVTRACE_NUM_THREADS", workers)
    _check_partial_tiles(monkeypatch, tiling, dtype)


@pytest.mark.parametrize("field_first", [True, False])
@pytest.mark.parametrize("tiling", ["batch", "length"])
def test_weight_gradient_in_both_orientations(monkeypatch: pytest.MonkeyPatch, tiling: str,
                                              field_first: bool) -> None:
    """The weight gradient's GEMMs, receptive field first (``cols @ gyᵀ``, then a transpose)
    or output channels first, each forced on every problem that allows it, tiled."""
    from convtrace.engine import fast_gemm

    monkeypatch.setattr(fast_gemm, "FIELD_MAJOR_POSITIONS", 0 if field_first else 10**12)
    _force_plan(monkeypatch, tiling)
    for i, p in enumerate(PROBLEMS):
        _, c_in, c_out, _, k, _, _, _, _, groups = p
        if field_first and (c_in // groups) * k < c_out // groups:
            continue  # the field is the shorter side: never field first
        x, w, gy = _arrays(p, np.float64, 40 + i)
        for algo in ("im2col", "im2col_mt"):
            got = _run("weight", algo, p, x, w, gy)
            want = _run("weight", None, p, x, w, gy, engine=reference)
            bound = _run("weight", None, p, np.abs(x), np.abs(w), np.abs(gy), engine=reference)
            assert np.all(np.abs(got - want) <= 1e-13 * bound + 1e-300), (algo, p)


@pytest.mark.parametrize("tiling", ["batch", "length"])
def test_dropped_clamp_is_caught(monkeypatch: pytest.MonkeyPatch, tiling: str) -> None:
    """The check above has teeth: tiles that forget to clamp their last tile fail it."""
    from convtrace.engine import fast_gemm, fast_threads, fast_toeplitz

    def unclamped(n: int, out_len: int, step_n: int, step_l: int) -> list[tuple[int, int, int, int]]:
        if tiling == "batch":
            return [(n0, step_n, l0, min(step_l, out_len - l0))
                    for n0 in range(0, n, step_n) for l0 in range(0, out_len, step_l)]
        return [(n0, min(step_n, n - n0), l0, step_l)
                for n0 in range(0, n, step_n) for l0 in range(0, out_len, step_l)]

    monkeypatch.setattr(fast_gemm, "tiles", unclamped)
    monkeypatch.setattr(fast_threads, "tiles", unclamped)
    monkeypatch.setattr(fast_toeplitz, "tiles", unclamped)
    with pytest.raises((AssertionError, ValueError, IndexError)):
        _check_partial_tiles(monkeypatch, tiling, np.float64)


def _peak_extra(f: Callable[[], np.ndarray]) -> int:
    """Peak bytes tracemalloc sees during ``f()`` above the start, beyond the result (the
    engine's kept scratch dropped first, so that it is counted)."""
    from convtrace.engine import fast_threads

    fast_threads.release_kept_buffers()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        result = f()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - before - result.nbytes


def test_scratch_memory_is_bounded_on_a_long_signal(monkeypatch: pytest.MonkeyPatch) -> None:
    """A long few-channel signal: scratch stays near the tile budget, far below the input or
    output size (no input-sized padded copy, no K-times-output column buffer)."""
    budget = 64 << 10
    _tile_budget(monkeypatch, budget, min_positions=64)
    n, c, length, k, pad = 1, 4, 200_000, 9, 4
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, length), dtype=np.float32)
    w = rng.standard_normal((c, c, k), dtype=np.float32)
    gy = rng.standard_normal((n, c, length), dtype=np.float32)
    size = x.nbytes  # = the output's size here (3.2 MB)
    calls = {
        "forward": lambda: fast.conv1d_forward(x, w, 1, pad, length, 1, 1),
        "input": lambda: fast.conv1d_input_grad(gy, w, length, 1, pad, 1, 1),
        "weight": lambda: fast.conv1d_weight_grad(x, gy, k, 1, pad, 1, 1),
        "forward/taps": lambda: fast.conv1d_forward(x, w, 1, pad, length, 1, 1, _algo="taps"),
        "input/col2im": lambda: fast.conv1d_input_grad(gy, w, length, 1, pad, 1, 1, _algo="col2im"),
        "weight/im2col": lambda: fast.conv1d_weight_grad(x, gy, k, 1, pad, 1, 1, _algo="im2col"),
        "strided/taps": lambda: fast.conv1d_forward(x, w[:, :, :8], 4, 2, length // 4, 1, 1, _algo="taps"),
        "depthwise/toeplitz": lambda: fast.conv1d_forward(x, w[:, :1], 1, pad, length, 1, c),
        "depthwise/weight/toeplitz": lambda: fast.conv1d_weight_grad(x, gy, k, 1, pad, 1, c),
        "grouped/im2col_mt": lambda: fast.conv1d_forward(x, w[:, :2], 1, pad, length, 1, 2, _algo="im2col_mt"),
    }
    from convtrace.engine import fast_threads

    # each worker thread holds its own column tile: the bound follows the worker count
    # (CONVTRACE_NUM_THREADS, else the CPUs), still far below the signal's size
    bound = max(4, 2 + fast_threads.workers()) * budget + (64 << 10)
    assert bound < size
    for label, call in calls.items():
        call()  # the worker pool and its threads exist before measuring (order-independent)
        extra = _peak_extra(call)
        assert extra <= bound, (label, extra, size, fast_threads.workers())


@pytest.mark.parametrize("workers", ["1", "2"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_threaded_chunks_with_partial_small_gemm_tiles(monkeypatch: pytest.MonkeyPatch, dtype: type,
                                                       workers: str) -> None:
    """im2col_mt cuts each chunk into small-GEMM tiles: a tile reading inside ``x`` copies
    from a view of ``x``, a tile reading padding from a padded copy of its own span
    (``window_tile``). With tiles of 3 positions every run ends in a partial tile, chunks
    split the batch unevenly, and tiles reach past either edge (and, on the short signal,
    past both); forward and weight gradient still equal the loop reference."""
    from convtrace.engine import fast_threads

    monkeypatch.setenv("CONVTRACE_NUM_THREADS", workers)
    monkeypatch.setattr(fast_threads, "MIN_POSITIONS", 3)
    monkeypatch.setattr(fast_threads, "SMALL_GEMM", 1)
    monkeypatch.setattr(fast_threads, "WEIGHT_GRAD_POSITIONS", 1)
    tiles_seen: list[tuple[int, int]] = []
    edges_seen: list[int] = []
    real_tiles, real_window_tile = fast_threads._column_tiles, fast_threads.window_tile

    def column_tiles(*args: object) -> Iterator[tuple[int, int, int, np.ndarray]]:
        for item, at, count, col2 in real_tiles(*args):  # type: ignore[arg-type]
            tiles_seen.append((at, count))
            yield item, at, count, col2

    def window_tile(x: np.ndarray, n0: int, items: int, l0: int, *rest: object) -> np.ndarray:
        edges_seen.append(l0)
        return real_window_tile(x, n0, items, l0, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(fast_threads, "_column_tiles", column_tiles)
    monkeypatch.setattr(fast_threads, "window_tile", window_tile)
    for i, p in enumerate([_problem(5, 6, 6, 30, 3, pad=2, dilation=2, groups=3),
                           _problem(3, 8, 4, 41, 5, stride=3, pad=4, dilation=2, groups=2),
                           _problem(1, 4, 4, 100, 3, pad=1, groups=2),
                           _problem(2, 4, 4, 4, 3, pad=3, dilation=2, groups=2)]):
        x, w, gy = _arrays(p, dtype, 20 + i)
        x64, w64, gy64 = (a.astype(np.float64) for a in (x, w, gy))
        for primitive in ("forward", "weight"):
            tiles_seen.clear()
            edges_seen.clear()
            got = _run(primitive, "im2col_mt", p, x, w, gy)
            want = _run(primitive, None, p, x64, w64, gy64, engine=reference)
            bound = _run(primitive, None, p, np.abs(x64), np.abs(w64), np.abs(gy64), engine=reference)
            rel = 1e-13 if dtype == np.float64 else 1e-5
            assert np.all(np.abs(got - want) <= rel * bound + 1e-300), (primitive, p)
            if p[7] % 3:  # the output length leaves a partial small-GEMM tile
                assert any(count < 3 for _, count in tiles_seen), tiles_seen
            assert 0 in edges_seen, edges_seen  # the left edge from a padded copy
            if p[3] > 10:
                assert len(edges_seen) < len(tiles_seen), (edges_seen, tiles_seen)  # inside tiles: one copy


def test_threaded_weight_gradient_is_deterministic(monkeypatch: pytest.MonkeyPatch) -> None:
    """im2col_mt's weight gradient sums a fixed assignment of tiles per worker: the same bits
    on every call (and, with the dealt tiles, the loop reference's value to rounding)."""
    monkeypatch.setenv("CONVTRACE_NUM_THREADS", "3")
    _force_plan(monkeypatch, "length")
    p = PROBLEMS[1]
    x, w, gy = _arrays(p, np.float32, 5)
    results = [_run("weight", "im2col_mt", p, x, w, gy) for _ in range(5)]
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])
    want = _run("weight", None, p, *(a.astype(np.float64) for a in (x, w, gy)), engine=reference)
    np.testing.assert_allclose(results[0], want, rtol=1e-4, atol=1e-4)


def test_worker_count_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """CONVTRACE_NUM_THREADS, then OPENBLAS_NUM_THREADS, then OMP_NUM_THREADS, else the CPUs;
    non-numbers and zero are skipped; at most MAX_WORKERS."""
    from convtrace.engine import fast_threads

    for key in ("CONVTRACE_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        monkeypatch.delenv(key, raising=False)
    assert 1 <= fast_threads.workers() <= fast_threads.MAX_WORKERS
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert fast_threads.workers() == 3
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    assert fast_threads.workers() == 2
    monkeypatch.setenv("CONVTRACE_NUM_THREADS", "0")  # not positive: skipped
    assert fast_threads.workers() == 2
    monkeypatch.setenv("CONVTRACE_NUM_THREADS", "many")
    assert fast_threads.workers() == 2
    monkeypatch.setenv("CONVTRACE_NUM_THREADS", "1000")
    assert fast_threads.workers() == fast_threads.MAX_WORKERS
    # the small-GEMM tile: og * field * positions within SMALL_GEMM, a power of two
    p = fast_threads.positions_per_gemm(32, 160)
    assert 32 * 160 * p <= fast_threads.SMALL_GEMM < 32 * 160 * 2 * p


def test_kept_buffers_are_reused_per_thread_and_bounded() -> None:
    """Worker scratch survives between calls (no fresh megabytes, no page faults), per role,
    dtype and thread; above KEPT_SCRATCH nothing is kept."""
    import threading

    from convtrace.engine import fast_threads

    f32 = np.dtype(np.float32)
    a = fast_threads.kept_buffer("test-cols", 1000, f32)
    b = fast_threads.kept_buffer("test-cols", 500, f32)
    assert np.shares_memory(a, b) and b.size == 500
    c = fast_threads.kept_buffer("test-other", 500, f32)
    assert not np.shares_memory(a, c)
    grown = fast_threads.kept_buffer("test-cols", 2000, f32)
    assert grown.size == 2000 and np.shares_memory(grown, fast_threads.kept_buffer("test-cols", 10, f32))
    elsewhere: list[np.ndarray] = []
    worker = threading.Thread(target=lambda: elsewhere.append(fast_threads.kept_buffer("test-cols", 10, f32)))
    worker.start()
    worker.join()
    assert not np.shares_memory(elsewhere[0], grown)  # each thread its own
    huge = fast_threads.KEPT_SCRATCH // 4 + 1
    first, second = (fast_threads.kept_buffer("test-huge", huge, f32) for _ in range(2))
    assert not np.shares_memory(first, second)  # too large to keep
    fast_threads.release_kept_buffers()
    assert not np.shares_memory(fast_threads.kept_buffer("test-cols", 10, f32), grown)  # dropped


def test_blas_is_single_threaded_only_while_workers_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """im2col_mt's workers run with BLAS on one thread each (the calling thread sets it, the
    workers see it); nested uses restore only at the outermost exit, to what it was."""
    import threading

    from threadpoolctl import threadpool_info, threadpool_limits

    from convtrace.engine import fast_threads

    def blas_threads() -> list[int]:
        return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]

    if not blas_threads():
        pytest.skip("no BLAS library that threadpoolctl controls")
    monkeypatch.setenv("CONVTRACE_NUM_THREADS", "2")
    with threadpool_limits(limits=2, user_api="blas"):
        before = blas_threads()
        seen: list[list[int]] = []
        with fast_threads.single_threaded_blas():
            worker = threading.Thread(target=lambda: seen.append(blas_threads()))
            worker.start()
            worker.join()
            with fast_threads.single_threaded_blas():
                seen.append(blas_threads())
            seen.append(blas_threads())  # the outer use still runs: still limited
        assert seen == [[1] * len(before)] * 3
        assert blas_threads() == before == [2] * len(before)
        seen.clear()
        real = fast_threads._run

        def watched(jobs: list[Callable[[], object]]) -> list[object]:
            seen.append(blas_threads())
            return real([lambda job=job: (seen.append(blas_threads()), job())[1] for job in jobs])

        monkeypatch.setattr(fast_threads, "_run", watched)
        p = PROBLEMS[1]
        x, w, gy = _arrays(p, np.float64, 7)
        got = _run("weight", "im2col_mt", p, x, w, gy)
        want = _run("weight", None, p, x, w, gy, engine=reference)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
        assert seen[0] == before and all(s == [1] * len(before) for s in seen[1:]) and len(seen) == 3
        assert blas_threads() == before


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="counts glibc's page faults (its allocator hands freed megabytes back to the system)",
)
def test_grouped_gradients_do_not_page_fault_per_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """Alternating the grouped input and weight gradients (a training step) reuses the
    workers' scratch: before the kept buffers, each pair of calls took ~1,600 page faults
    (its scratch handed back to the system and faulted in again), +4 ms."""
    import resource

    monkeypatch.setenv("CONVTRACE_NUM_THREADS", "2")
    n, c, length, k, pad, groups = 4, 256, 1024, 5, 2, 8
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, length), dtype=np.float32)
    w = rng.standard_normal((c, c // groups, k), dtype=np.float32)
    gy = rng.standard_normal((n, c, length), dtype=np.float32)
    assert fast.weight_grad_algorithm(n, c, c, k, length, 1, 1, groups) == "im2col_mt"

    def step() -> None:
        fast.conv1d_input_grad(gy, w, length, 1, pad, 1, groups)
        fast.conv1d_weight_grad(x, gy, k, 1, pad, 1, groups)

    for _ in range(3):
        step()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(10):
        step()
    per_step = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 10
    assert per_step < 200, per_step
