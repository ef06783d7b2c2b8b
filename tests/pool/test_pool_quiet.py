"""Non-finite input gives PyTorch's NaN and inf silently: no pool, forward or gradient, lets
a NumPy RuntimeWarning reach the user (PyTorch says nothing)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import convtrace.functional as F
from convtrace import grad

X = np.array([[[np.inf, -np.inf, 0.0, np.nan, 1e308, 1e308, -2.0, 0.0, np.inf]]])
GY3 = np.ones((1, 1, 3))


@pytest.mark.parametrize(
    "call",
    [
        lambda: F.max_pool1d(X, 3, return_indices=True),
        lambda: F.avg_pool1d(X, 3),
        lambda: F.lp_pool1d(X, 2.0, 3),
        lambda: F.lp_pool1d(X, 3.0, 3),
        lambda: F.adaptive_avg_pool1d(X, 3),
        lambda: F.adaptive_max_pool1d(X, 3),
        lambda: grad.max_pool1d_input(X, GY3, 3),
        lambda: grad.avg_pool1d_input(X.shape, GY3 * np.inf, 3),
        lambda: grad.lp_pool1d_input(X, GY3, 2.0, 3),
        lambda: grad.lp_pool1d_input(X, GY3, 3.0, 3),
        lambda: grad.adaptive_avg_pool1d_input(X.shape, GY3 * np.inf),
        lambda: grad.adaptive_max_pool1d_input(X, GY3),
    ],
)
def test_non_finite_input_raises_no_numpy_warning(call: object) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = call()  # type: ignore[operator]
    first = out[0] if isinstance(out, tuple) else out
    assert first.size > 0
