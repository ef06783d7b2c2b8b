"""The validated-spec cache in :mod:`convtrace.params` must never change a decision.

A repeated call of one configuration skips validation; these tests show the skip returns
the same spec, that rejected calls are rejected every time (nothing invalid is remembered),
and that calls the cache cannot key (lists, tuples, a bias of another dtype) still validate.
"""

from __future__ import annotations

import numpy as np
import pytest

from convtrace import ConvtraceError, params
from convtrace import functional as F


def test_repeated_call_reuses_the_same_spec() -> None:
    x = np.ones((2, 3, 9))
    w = np.ones((4, 3, 3))
    first = params.check_conv1d(x, w, None, 2, 1, 1, 1)[3]
    second = params.check_conv1d(x + 1, w, None, 2, 1, 1, 1)[3]
    assert first is second
    assert (first.out_length, first.pad_left) == (5, 1)


def test_rejected_call_is_rejected_every_time() -> None:
    x = np.ones((1, 1, 5))
    w = np.ones((1, 1, 7))
    for _ in range(3):
        with pytest.raises(ConvtraceError, match="Kernel size can't be greater"):
            F.conv1d(x, w)
    # the same shapes with enough padding are fine, and an invalid neighbour still fails
    assert F.conv1d(x, w, padding=1).shape == (1, 1, 1)
    with pytest.raises(ConvtraceError, match="non-positive stride"):
        F.conv1d(x, w, padding=1, stride=0)


def test_unkeyable_calls_still_validate() -> None:
    w = np.ones((1, 1, 3))
    assert F.conv1d([[1.0, 2.0, 3.0]], w, stride=(1,)).tolist() == [[6.0]]
    with pytest.raises(ConvtraceError, match="single integer value"):
        F.conv1d(np.ones((1, 1, 5)), w, stride=(1, 1))
    # a float32 bias on float64 input: conv1d rejects it, cached or not
    x = np.ones((1, 1, 5))
    F.conv1d(x, w, np.ones(1))
    with pytest.raises(ConvtraceError, match="bias type"):
        F.conv1d(x, w, np.ones(1, dtype=np.float32))


def test_unbatched_and_batched_keys_differ() -> None:
    w = np.ones((2, 1, 2))
    assert F.conv1d(np.ones((1, 4)), w).shape == (2, 3)
    assert F.conv1d(np.ones((1, 1, 4)), w).shape == (1, 2, 3)


def test_gradient_spec_cache_never_changes_a_decision() -> None:
    from convtrace import grad

    w, gy = np.ones((2, 1, 3)), np.ones((1, 2, 4))
    first = grad.conv1d_input((1, 1, 6), w, gy, 1, 0)
    again = grad.conv1d_input((1, 1, 6), w, gy * 2, 1, 0)  # the same signature: a cached spec
    np.testing.assert_array_equal(again, 2 * first)
    # a failing call is validated in full and names the user's own arrays, cached or not
    for _ in range(2):
        with pytest.raises(ConvtraceError, match=r"Expected grad_output of size \[1, 2, 4\]") as info:
            grad.conv1d_input((1, 1, 6), w, np.ones((1, 2, 5)), 1, 0)
        assert info.value.param == "grad_output" and info.value.value.shape == (1, 2, 5)
    x = np.ones((1, 1, 6))
    np.testing.assert_array_equal(grad.conv1d_weight(x, (2, 1, 3), gy, 1, 0), grad.conv1d_weight(x, [2, 1, 3], gy, 1, 0))
    with pytest.raises(ConvtraceError):
        grad.conv1d_weight(x, (2, 1, 3), np.ones((1, 2, 4), np.float32), 1, 0)  # dtype differs: not cached away
