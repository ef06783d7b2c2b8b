"""Seeded Hypothesis sweeps of the six pools against PyTorch (oneDNN on and off): the same
accept/reject, PyTorch's words for the path the call took, and the same values and indices
(exact, but for lp_pool1d's powers and long adaptive windows: ``pool_torch.LOOSE``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from pool_torch import check_call, with_values

from strategies import examples

pytest.importorskip("torch")
pytestmark = pytest.mark.torch

DTYPES = st.sampled_from(
    [np.float64, np.float32] * 4 + [np.float16, np.float16, np.int64, np.int64, np.int32, np.uint8, np.bool_, np.complex64]
)


@st.composite
def int_arg(draw: Any, low: int, high: int, valid: int | None = None) -> Any:
    """An int argument in one of the forms PyTorch takes (an int, a tuple or list of one), in
    ``[valid, high]`` nine times in ten, else anywhere in ``[low, high]`` or in a form PyTorch
    refuses (two ints, a float, a bool)."""
    rare = draw(st.integers(0, 9)) == 0
    value = draw(st.integers(low if rare or valid is None else valid, high))
    forms = ["pair", "float", "bool"] if rare and draw(st.booleans()) else ["int", "int", "tuple", "list"]
    form = draw(st.sampled_from(forms))
    if form == "tuple":
        return (value,)
    if form == "list":
        return [value]
    if form == "pair":
        return (value, value)
    if form == "float":
        return float(value)
    if form == "bool":
        return bool(value % 2)
    return value


@st.composite
def inputs(draw: Any, dtypes: Any = DTYPES) -> np.ndarray:
    ndim = draw(st.sampled_from([3, 3, 3, 3, 2, 2, 2, 1, 4]))
    length = draw(st.integers(0, 12) if draw(st.integers(0, 9)) == 0 else st.integers(1, 12))
    shape = (draw(st.integers(0, 2) if draw(st.integers(0, 9)) == 0 else st.integers(1, 2)), draw(st.integers(1, 3)), length)
    shape = {3: shape, 2: shape[1:], 1: shape[2:], 4: (1, *shape)}[ndim]
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    return with_values(rng, shape, draw(dtypes), ties=draw(st.booleans()), nan=draw(st.booleans()))


def _label(label: str) -> None:
    event(label)


@examples(400)
@given(x=inputs(), kernel=int_arg(-1, 5, 1), stride=st.none() | int_arg(-1, 4, 1), padding=int_arg(-1, 3, 0),
       dilation=int_arg(0, 3, 1), ceil=st.booleans(), return_indices=st.booleans())
def test_max_pool1d(x: np.ndarray, kernel: Any, stride: Any, padding: Any, dilation: Any, ceil: bool,
                    return_indices: bool) -> None:
    _label(check_call("max_pool1d", x, kernel, stride, padding, dilation, ceil, return_indices))


@examples(400)
@given(x=inputs(), kernel=int_arg(-1, 5, 1), stride=st.none() | int_arg(-1, 4, 1), padding=int_arg(-1, 3, 0),
       ceil=st.booleans(), count_include_pad=st.booleans())
def test_avg_pool1d(x: np.ndarray, kernel: Any, stride: Any, padding: Any, ceil: bool, count_include_pad: bool) -> None:
    _label(check_call("avg_pool1d", x, kernel, stride, padding, ceil, count_include_pad))


@examples(300)
@given(x=inputs(), norm=st.sampled_from([1, 2, 3, 1.0, 2.0, 2.5, -1, 0.5, float("inf"), float("-inf"), 0]),
       kernel=st.integers(1, 5) | int_arg(-1, 5, 1), stride=st.none() | int_arg(-1, 4, 1), ceil=st.booleans())
def test_lp_pool1d(x: np.ndarray, norm: Any, kernel: Any, stride: Any, ceil: bool) -> None:
    if isinstance(norm, float) and not norm.is_integer() and x.dtype.kind == "f":
        x = np.abs(x)  # a fractional power of a negative is NaN in both: keep some numbers
    _label(check_call("lp_pool1d", x, norm, kernel, stride, ceil, exact=False))


@examples(200)
@given(x=inputs(), output_size=int_arg(-1, 14, 0))
def test_adaptive_avg_pool1d(x: np.ndarray, output_size: Any) -> None:
    _label(check_call("adaptive_avg_pool1d", x, output_size, exact=False))


@examples(200)
@given(x=inputs(), output_size=int_arg(-1, 14, 0), return_indices=st.booleans())
def test_adaptive_max_pool1d(x: np.ndarray, output_size: Any, return_indices: bool) -> None:
    _label(check_call("adaptive_max_pool1d", x, output_size, return_indices))


@examples(200)
@given(x=inputs(st.sampled_from([np.float64, np.float32, np.float16, np.int64])), kernel=st.integers(-1, 4),
       stride=st.none() | st.integers(-1, 4), padding=st.integers(-1, 2), shift=st.none() | st.integers(-3, 3),
       spread=st.integers(0, 3), indices_dtype=st.sampled_from([np.int64, np.int64, np.int64, np.int32]))
def test_max_unpool1d(x: np.ndarray, kernel: int, stride: int | None, padding: int, shift: int | None,
                      spread: int, indices_dtype: Any) -> None:
    rng = np.random.default_rng(x.size + spread)
    default = (x.shape[-1] - 1) * (kernel if stride is None else stride) + kernel - 2 * padding if x.ndim else 0
    output_size = None if shift is None else (default + shift,)
    length = default if shift is None else default + shift
    # mostly valid indices (collisions included), sometimes one past the end or negative
    indices = rng.integers(-1 if spread == 3 else 0, max(length, 1) + (1 if spread == 2 else 0), size=x.shape)
    _label(check_call("max_unpool1d", x, indices.astype(indices_dtype), kernel, stride, padding, output_size))
