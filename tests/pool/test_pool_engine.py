"""The pool engine's own promises: bounded scratch on long signals (tiles), inputs never
written, results never views of the input."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import convtrace.functional as cf
from convtrace.engine import pool

LONG = np.random.default_rng(0).standard_normal((1, 2, 1 << 21)).astype(np.float32)  # 16 MiB

CALLS: list[tuple[str, Callable[[np.ndarray], Any]]] = [
    ("max", lambda x: cf.max_pool1d(x, 3, 2, 1)),
    ("max indices", lambda x: cf.max_pool1d(x, 3, 2, 1, return_indices=True)),
    ("avg", lambda x: cf.avg_pool1d(x, 4, 3, 2, ceil_mode=True)),
    ("lp", lambda x: cf.lp_pool1d(x, 2, 4, 3)),
    ("adaptive avg", lambda x: cf.adaptive_avg_pool1d(x, 1000)),
    ("adaptive max", lambda x: cf.adaptive_max_pool1d(x, 1 << 20, return_indices=True)),
]


def _outputs_nbytes(result: Any) -> int:
    return sum(a.nbytes for a in (result if isinstance(result, tuple) else (result,)))


@pytest.mark.parametrize(("name", "call"), CALLS, ids=[c[0] for c in CALLS])
def test_scratch_stays_bounded_on_a_long_signal(name: str, call: Callable[[np.ndarray], Any]) -> None:
    """Peak memory beyond the outputs themselves: a few tiles, not an input-sized copy."""
    tracemalloc.start()
    try:
        result = call(LONG)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    extra = peak - _outputs_nbytes(result)
    assert extra <= 4 * pool.POOL_TILE_BYTES, f"{name}: {extra / 2**20:.1f} MiB of scratch"


def test_max_unpool_scratch_is_bounded() -> None:
    values, indices = cf.max_pool1d(LONG, 2, return_indices=True)
    tracemalloc.start()
    try:
        result = cf.max_unpool1d(values, indices, 2)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak - result.nbytes <= 4 * pool.POOL_TILE_BYTES + values.size  # + the index check's mask


def test_inputs_are_not_written_and_outputs_are_new() -> None:
    x = np.random.default_rng(1).standard_normal((2, 3, 9))
    x[0, 0, 4] = np.nan
    before = x.copy()
    outputs = [
        cf.max_pool1d(x, 1), cf.max_pool1d(x, 1, return_indices=True)[0], cf.avg_pool1d(x, 1),
        cf.lp_pool1d(x, 1, 1), cf.adaptive_avg_pool1d(x, 9), cf.adaptive_max_pool1d(x, 9),
    ]
    np.testing.assert_array_equal(x, before)
    for y in outputs:
        assert not np.shares_memory(x, y)


def test_views_and_orders_give_the_same_answers() -> None:
    base = np.random.default_rng(2).standard_normal((3, 4, 40))
    views = [base[:, :, ::2], np.asfortranarray(base), base[::-1, 1:, 3:], base.transpose(1, 0, 2)]
    for x in views:
        same = np.ascontiguousarray(x)
        for call in (lambda a: cf.max_pool1d(a, 3, 2, 1, 2, True, True), lambda a: cf.avg_pool1d(a, 4, 3, 2, True),
                     lambda a: cf.lp_pool1d(a, 2, 3, 2), lambda a: cf.adaptive_max_pool1d(a, 7, True),
                     lambda a: cf.adaptive_avg_pool1d(a, 30)):
            got, want = call(x), call(same)
            for g, w in zip(got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
                np.testing.assert_array_equal(g, w)
        values, indices = cf.max_pool1d(same, 2, return_indices=True)
        np.testing.assert_array_equal(
            cf.max_unpool1d(values[:, :, ::-1], indices[:, :, ::-1], 2),
            cf.max_unpool1d(np.ascontiguousarray(values[:, :, ::-1]), np.ascontiguousarray(indices[:, :, ::-1]), 2),
        )
