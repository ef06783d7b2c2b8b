"""Accept/reject and PyTorch's words, call by call, for each path a pool call can take (and
the planner's ``shapes.pool1d_output_length``, which shares the resolver's rules)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pool_torch import check_call

from convtrace import ConvtraceError, ConvtraceTypeError, shapes
from convtrace.params import check_pool1d
from strategies import examples

X = np.arange(6.0).reshape(1, 1, 6)

# (op, args, kwargs, the start of PyTorch's message); each is also run against PyTorch
CASES: list[tuple[str, tuple[Any, ...], dict[str, Any], str]] = [
    # max_pool1d without indices: its own checks
    ("max_pool1d", (X, 0), {}, "max_pool1d() kernel_size must be greater than zero, but got 0"),
    ("max_pool1d", (X, 2, 0), {}, "max_pool1d() stride must be greater than zero, but got 0"),
    ("max_pool1d", (X, 2, 1, -1), {}, "max_pool1d() padding must be non-negative, but got -1"),
    ("max_pool1d", (X, 3, 1, 2), {}, "max_pool1d() padding should be at most half of kernel size"),
    ("max_pool1d", (X, 2, 1, 0, 0), {}, "max_pool1d() dilation must be greater than zero, but got 0"),
    ("max_pool1d", (X, 2, 1, 5, 0), {}, "max_pool1d() padding should be at most half"),  # padding before dilation
    ("max_pool1d", (X, 7), {}, "max_pool1d() Invalid computed output size: 0"),
    ("max_pool1d", (X, (2, 2)), {}, "max_pool1d() kernel_size must be an int, list of ints or tuple of ints of size 1"),
    ("max_pool1d", (X, 2, (1, 1)), {}, "max_pool1d() stride must be None, an int"),
    ("max_pool1d", (X, 2.0), {}, "max_pool1d(): argument 'kernel_size' (position 2) must be tuple of ints, not float"),
    ("max_pool1d", (X, True), {}, "max_pool1d(): argument 'kernel_size' (position 2) must be tuple of ints, not bool"),
    ("max_pool1d", (X, 2), {"ceil_mode": 1}, "max_pool1d(): argument 'ceil_mode' (position 6) must be bool, not int"),
    ("max_pool1d", (np.arange(6.0), 2), {}, "max_pool1d: Expected 2D or 3D (batch mode) tensor"),
    ("max_pool1d", (np.ones((1, 0, 4)), 2), {}, "max_pool1d: Expected 2D or 3D (batch mode) tensor"),
    ("max_pool1d", (np.ones((1, 1, 0)), 1), {}, "max_pool1d: Expected 2D or 3D (batch mode) tensor"),
    ("max_pool1d", (np.ones((1, 1, 4), np.int64), 2), {}, "\"max_pool1d_impl\" not implemented for 'Long'"),
    # max_pool1d with indices: the 2-D path
    ("max_pool1d", (X, 0), {"return_indices": True}, "stride should not be zero"),
    ("max_pool1d", (X, 0, 1), {"return_indices": True}, "kernel size should be greater than zero, but got kH: 1 kW: 0"),
    ("max_pool1d", (X, -3, 1), {"return_indices": True}, "pad should be at most half of effective kernel size"),
    ("max_pool1d", (X, 2, -1), {"return_indices": True}, "stride should be greater than zero, but got dH: 1 dW: -1"),
    ("max_pool1d", (X, 2, 1, -1), {"return_indices": True}, "pad must be non-negative, but got pad: -1"),
    ("max_pool1d", (X, 3, 1, 2), {"return_indices": True}, "pad should be at most half of effective kernel size"),
    ("max_pool1d", (X, 3, 1, 2, 3), {"return_indices": True}, "pad should be smaller than or equal to half of kernel size"),
    ("max_pool1d", (X, 2, 1, 1, 0), {"return_indices": True}, "pad should be at most half of effective kernel size, but got pad=1, kernel_size=2 and dilation=0"),
    ("max_pool1d", (X, 2, 1, 0, 0), {"return_indices": True}, "dilation should be greater than zero"),
    ("max_pool1d", (X, 7), {"return_indices": True}, "Given input size: (1x1x6). Calculated output size: (1x1x0)"),
    ("max_pool1d", (X, (2, 2)), {"return_indices": True}, "max_pool1d() argument 'kernel_size' should contain one int (got 2)"),
    ("max_pool1d", (np.arange(6.0), 2), {"return_indices": True}, "Expected 2 to 3 dimensions, but got 1-dimensional tensor"),
    ("max_pool1d", (np.ones((1, 1, 0)), 7), {"return_indices": True}, "Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but got:[1, 1, 1, 0]"),
    ("max_pool1d", (np.ones((1, 1, 4), bool), 2), {"return_indices": True}, "\"max_pool2d\" not implemented for 'Bool'"),
    ("max_pool1d", (X, 2.0), {"return_indices": True}, "max_pool1d_with_indices(): argument 'kernel_size' (position 2)"),
    # avg_pool1d
    ("avg_pool1d", (X, 0), {}, "stride should not be zero"),
    ("avg_pool1d", (X, -1), {}, "kernel size should be greater than zero, but got kH: 1 kW: -1"),
    ("avg_pool1d", (X, 3, 1, 2), {}, "pad should be at most half of effective kernel size, but got pad=2, kernel_size=3 and dilation=1"),
    ("avg_pool1d", (X, 7), {}, "Given input size: (1x1x6). Calculated output size: (1x1x0). Output size is too small"),
    ("avg_pool1d", (X, 2), {"count_include_pad": None}, "avg_pool1d(): argument 'count_include_pad' must be bool, not NoneType"),
    ("avg_pool1d", (np.ones((1, 1, 4), np.int32), 2), {}, "\"avg_pool2d\" not implemented for 'Int'"),
    ("avg_pool1d", (np.ones((1, 1, 4), np.complex64), 2), {}, "\"avg_pool2d\" not implemented for 'ComplexFloat'"),
    # lp_pool1d: avg_pool1d of x**p (max_pool1d of |x| for inf), then its own
    ("lp_pool1d", (X, 2, 0), {}, "stride should not be zero"),
    ("lp_pool1d", (X, float("inf"), 0), {}, "max_pool1d() kernel_size must be greater than zero, but got 0"),
    ("lp_pool1d", (X, 0, 2), {}, "float division by zero"),
    ("lp_pool1d", (X, 2, (2,)), {}, "mul(): argument 'other' (position 1) must be Tensor, not tuple"),
    ("lp_pool1d", (X, "a", 2), {}, "pow() received an invalid combination of arguments - got (str),"),
    ("lp_pool1d", (np.ones((1, 1, 4), np.int64), -1, 2), {}, "Integers to negative integer powers are not allowed."),
    ("lp_pool1d", (np.ones((1, 1, 4), np.int32), 2, 2), {}, "\"avg_pool2d\" not implemented for 'Int'"),
    ("lp_pool1d", (X, 2, 2, 2), {"ceil_mode": 1}, "avg_pool1d(): argument 'ceil_mode' (position 5) must be bool, not int"),
    # adaptive pools
    ("adaptive_avg_pool1d", (X, -1), {}, "adaptive_avg_pool2d: elements of output_size must be greater than or equal to 0 but received {1, -1}"),
    ("adaptive_avg_pool1d", (X, (3, 3)), {}, "adaptive_avg_pool1d() argument 'output_size' should contain one int (got 2)"),
    ("adaptive_avg_pool1d", (X, None), {}, "adaptive_avg_pool1d(): argument 'output_size' (position 2) must be tuple of ints, not NoneType"),
    ("adaptive_avg_pool1d", (np.ones((1, 1, 0)), 2), {}, "adaptive_avg_pool2d(): Expected input to have non-zero size for non-batch dimensions, but input has sizes [1, 1, 1, 0] with dimension 3 being empty"),
    ("adaptive_avg_pool1d", (np.ones((1, 1, 4), np.int64), 1), {}, "mean(): could not infer output dtype"),
    ("adaptive_avg_pool1d", (np.ones((1, 1, 4), np.int64), 2), {}, "\"adaptive_avg_pool2d\" not implemented for 'Long'"),
    ("adaptive_max_pool1d", (X, -1), {}, "Trying to create tensor with negative dimension -1: [1, 1, 1, -1]"),
    ("adaptive_max_pool1d", (np.ones((1, 0, 4)), 2), {}, "adaptive_max_pool1d(): Expected input to have non-zero size for non-batch dimensions, but input has sizes [1, 0, 4] with dimension 1 being empty"),
    ("adaptive_max_pool1d", (np.ones((1, 1, 4), np.int64), 2), {"return_indices": True}, "\"adaptive_max_pool2d\" not implemented for 'Long'"),
    # max_unpool1d
    ("max_unpool1d", (X, np.zeros((1, 1, 6), np.int32), 2), {}, "elements in indices should be type int64 but got: Int"),
    ("max_unpool1d", (X, np.zeros((1, 1, 5), np.int64), 2), {}, "Expected shape of indices to be same as that of the input tensor ([1, 1, 6, 1]) but got indices tensor with shape: [1, 1, 5, 1]"),
    ("max_unpool1d", (X, np.array([[[0, 1, 2, 3, 4, 12]]]), 2), {}, "Found an invalid max index: 12 (output volumes are of size 12x1)"),
    ("max_unpool1d", (X, np.array([[[0, 1, -1, 3, 4, 5]]]), 2), {}, "Found an invalid max index: -1 (output volumes are of size 12x1)"),
    # several bad indices: PyTorch (on one thread) reports the last
    ("max_unpool1d", (np.ones((1, 2, 3)), np.array([[[0, 13, 2], [3, 12, 5]]]), 2), {}, "Found an invalid max index: 12 (output volumes are of size 6x1)"),
    ("max_unpool1d", (X, np.zeros((1, 1, 6), np.int64), 2), {"output_size": 7}, "object of type 'int' has no len()"),
    ("max_unpool1d", (X, np.zeros((1, 1, 6), np.int64), 2), {"output_size": (14,)}, 'invalid output_size "(14,)" (dim 0 must be between 10 and 14)'),
    ("max_unpool1d", (X, np.zeros((1, 1, 6), np.int64), 2), {"output_size": (1, 7)}, "output_size should be a sequence containing 1 or 3 elements, but it has a length of '2'"),
    ("max_unpool1d", (X, np.zeros((1, 1, 6), np.int64), 1, 1, 4), {}, "max_unpooling: output_size must contain non-negative spatial dimensions, but got output_size[0]=-2"),
    ("max_unpool1d", (X, np.zeros((1, 1, 6), np.int64), 2.0), {}, "max_unpool2d(): argument 'output_size' (position 3) must be tuple of ints, but found element of type float at pos 0"),
    ("max_unpool1d", (X[0, 0], np.zeros(6, np.int64), 2), {}, "Input to max_unpooling2d should be a 3d or 4d Tensor, but got a tensor with 2 dimensions."),
    ("max_unpool1d", (np.ones((1, 0, 3)), np.zeros((1, 0, 3), np.int64), 2), {}, "max_unpooling2d_forward_out_cpu(): Expected input to have non-zero size for non-batch dimensions, but got [1, 0, 3, 1] with dimension 1 being empty."),
    ("max_unpool1d", (np.ones((1, 1, 3), np.int64), np.zeros((1, 1, 3), np.int64), 2), {}, "\"max_unpool2d\" not implemented for 'Long'"),
]


@pytest.mark.torch
@pytest.mark.parametrize(("op", "args", "kwargs", "words"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_rejections_in_pytorchs_words(op: str, args: tuple[Any, ...], kwargs: dict[str, Any], words: str) -> None:
    pytest.importorskip("torch")
    import convtrace.functional as cf

    with pytest.raises(ConvtraceError) as err:
        getattr(cf, op)(*args, **kwargs)
    assert err.value.rule.startswith(words), err.value.rule
    assert f"{err.value.param}=" in str(err.value)
    assert check_call(op, *args, **kwargs).startswith("both reject")


def test_type_errors_are_type_errors() -> None:
    import convtrace.functional as cf

    for call in (lambda: cf.max_pool1d(X, 2.0), lambda: cf.avg_pool1d(X, 2, ceil_mode=None),
                 lambda: cf.lp_pool1d(X, None, 2), lambda: cf.adaptive_max_pool1d(X, None)):
        with pytest.raises(ConvtraceTypeError):
            call()


def test_check_pool1d_dispatches_and_refuses_unknown_ops() -> None:
    x3, spec = check_pool1d("max_pool1d", X[0], kernel_size=2, return_indices=True)
    assert x3.shape == (1, 1, 6) and not spec.batched and spec.return_indices and spec.out_length == 3
    with pytest.raises(ConvtraceError, match="op must be one of max_pool1d"):
        check_pool1d("min_pool1d", X, kernel_size=2)


@examples(300)
@given(length=st.integers(1, 12), k=st.integers(-1, 5), s=st.none() | st.integers(-1, 4), p=st.integers(-1, 3),
       d=st.integers(0, 3), ceil=st.booleans(), kind=st.sampled_from(["max", "avg"]))
def test_planner_lengths_share_the_resolvers_rules(
    length: int, k: int, s: int | None, p: int, d: int, ceil: bool, kind: str
) -> None:
    """``shapes.pool1d_output_length`` (planning) and the resolver: one rule, one message."""
    import convtrace.functional as cf

    x = np.zeros((1, 1, length))
    if kind == "avg":
        d = 1
        call = lambda: cf.avg_pool1d(x, k, s, p, ceil)  # noqa: E731
    else:
        call = lambda: cf.max_pool1d(x, k, s, p, d, ceil)  # noqa: E731
    try:
        expected: Any = call().shape[-1]
    except ConvtraceError as exc:
        expected = exc.rule
    try:
        got: Any = shapes.pool1d_output_length(length, k, s, p, d, ceil, kind=kind)
    except ConvtraceError as exc:
        got = exc.rule
    assert got == expected
