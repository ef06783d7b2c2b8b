"""Independent views of the same numbers must agree.

* The engine's three primitives: the loop reference vs the fast path vs PyTorch.
* ConvTranspose1d four ways: scatter (reference), zero-insertion + flipped-kernel conv1d,
  the transpose of the matching Conv1d's dense matrix, and conv1d's input gradient.
* The adjoint identity <conv1d(x, w), y> = <x, conv_transpose1d(y, w)>.

Only the PyTorch comparisons need torch; the rest run without it.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import convtrace.functional as F
import convtrace.grad as G
from convtrace.engine import fast, reference
from strategies import (
    ConvCase,
    assert_close,
    conv1d_cases,
    conv_transpose1d_cases,
    examples,
    rand,
)

small = dict(max_channels=2, max_kernel=4, max_extra_length=6)


needs_torch = pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs PyTorch")


# --------------------------------------------------------------------------- primitives


@st.composite
def primitive_args(draw):
    """Raw primitive arguments: any pad_left >= 0 and any output length >= 1, including
    ones no single symmetric padding produces (the engine reads zeros out of range)."""
    groups = draw(st.integers(1, 3))
    cin_g, cout_g = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    k, stride, dilation = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    length = draw(st.integers(1, 10))
    pad_left = draw(st.integers(0, 4))
    out_len = draw(st.integers(1, 8))
    n = draw(st.integers(1, 2))
    dtype = draw(st.sampled_from([np.float64, np.complex128]))
    seed = draw(st.integers(0, 2**31))
    x = rand((n, cin_g * groups, length), dtype, seed)
    w = rand((cout_g * groups, cin_g, k), dtype, seed + 1)
    gy = rand((n, cout_g * groups, out_len), dtype, seed + 2)
    return x, w, gy, stride, pad_left, dilation, groups


@examples(300)
@given(args=primitive_args())
def test_fast_matches_loop_reference(args) -> None:
    x, w, gy, stride, pad_left, dilation, groups = args
    out_len, length, k = gy.shape[-1], x.shape[-1], w.shape[-1]
    hyper = (stride, pad_left, dilation, groups)
    ax, aw, agy = np.abs(x), np.abs(w), np.abs(gy)  # magnitudes: the same sums of |terms|

    def forward(x, w):
        return reference.conv1d_forward(x, w, stride, pad_left, out_len, dilation, groups)

    assert_close(fast.conv1d_forward(x, w, stride, pad_left, out_len, dilation, groups), forward(x, w), forward(ax, aw))
    assert_close(
        fast.conv1d_input_grad(gy, w, length, *hyper),
        reference.conv1d_input_grad(gy, w, length, *hyper),
        reference.conv1d_input_grad(agy, aw, length, *hyper),
    )
    assert_close(
        fast.conv1d_weight_grad(x, gy, k, *hyper),
        reference.conv1d_weight_grad(x, gy, k, *hyper),
        reference.conv1d_weight_grad(ax, agy, k, *hyper),
    )


@needs_torch
@pytest.mark.torch
@examples(200)
@given(case=conv1d_cases(unbatched=False, string_padding=False, zero_batch=False, **small))
def test_reference_fast_and_torch_agree(case: ConvCase) -> None:
    import torch

    from backends import each_backend
    from strategies import torch_grad_magnitudes, torch_grads, torch_magnitude, tt

    x, w, _ = case.arrays()
    gy = case.grad_output()
    s, p, d, g, k = case.stride, case.pad_int, case.dilation, case.groups, case.kernel_size
    out_len, length = case.out_length, case.length
    mag = torch_magnitude(case, x, w, None)
    mx, mw = torch_grad_magnitudes(case, x, w, None, gy)
    for _ in each_backend():  # PyTorch with oneDNN on, then off
        y_t = torch.nn.functional.conv1d(tt(x), tt(w), None, s, p, d, g).numpy()
        assert_close(reference.conv1d_forward(x, w, s, p, out_len, d, g), y_t, mag)
        assert_close(fast.conv1d_forward(x, w, s, p, out_len, d, g), y_t, mag)
        gx_t, gw_t = torch_grads(case, x, w, None, gy)
        assert_close(reference.conv1d_input_grad(gy, w, length, s, p, d, g), gx_t, mx)
        assert_close(fast.conv1d_input_grad(gy, w, length, s, p, d, g), gx_t, mx)
        assert_close(reference.conv1d_weight_grad(x, gy, k, s, p, d, g), gw_t, mw)
        assert_close(fast.conv1d_weight_grad(x, gy, k, s, p, d, g), gw_t, mw)


# --------------------------------------------------------------------------- transposed views


def by_zero_insertion(x, w, stride, padding, output_padding, dilation, groups):
    """Insert stride-1 zeros, pad dilation*(k-1)-padding each side (crop if negative) plus
    output_padding on the right, then a stride-1 conv1d with the flipped kernel, in/out
    swapped per group."""
    n, cin, length = x.shape
    _, cout_g, k = w.shape
    cin_g = cin // groups
    up = np.zeros((n, cin, (length - 1) * stride + 1), dtype=x.dtype)
    up[:, :, ::stride] = x
    edge = dilation * (k - 1) - padding
    left, right = edge, edge + output_padding
    up = np.concatenate([np.zeros((n, cin, max(left, 0)), x.dtype), up,
                         np.zeros((n, cin, max(right, 0)), x.dtype)], axis=-1)
    up = up[:, :, max(-left, 0): up.shape[-1] - max(-right, 0)]
    flipped = np.empty((cout_g * groups, cin_g, k), dtype=w.dtype)
    for gi in range(groups):
        for co in range(cout_g):
            for ci in range(cin_g):
                flipped[gi * cout_g + co, ci] = w[gi * cin_g + ci, co, ::-1]
    out_len = up.shape[-1] - dilation * (k - 1)
    return reference.conv1d_forward(up, flipped, 1, 0, out_len, dilation, groups)


def by_matrix_transpose(x, w, stride, padding, output_padding, dilation, groups):
    """C^T x, where column j of C is the matching Conv1d applied to the j-th unit vector."""
    n, _cin, length = x.shape
    _, cout_g, k = w.shape
    out_len = (length - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1
    cout = cout_g * groups
    columns = []
    for j in range(cout * out_len):
        e = np.zeros(cout * out_len, dtype=w.dtype)
        e[j] = 1.0
        # the matching Conv1d: Cout -> Cin channels, weight w as-is, same hyper-parameters;
        # keep the first `length` outputs (output_padding may make it produce more)
        col = F.conv1d(e.reshape(1, cout, out_len), w, None, stride, padding, dilation, groups)
        columns.append(col[0, :, :length].ravel())
    c = np.stack(columns, axis=1)  # (cin*length, cout*out_len)
    return (c.T @ x.reshape(n, -1).T).T.reshape(n, cout, out_len)


def by_input_gradient(x, w, stride, padding, output_padding, dilation, groups):
    """conv1d's input gradient for an input of the transposed output's size; the matching
    Conv1d may produce more than `length` outputs (output_padding >= stride), which get a
    zero gradient."""
    n, cin, length = x.shape
    _, cout_g, k = w.shape
    out_len = (length - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1
    conv_len = (out_len + 2 * padding - dilation * (k - 1) - 1) // stride + 1
    gy = np.concatenate([x, np.zeros((n, cin, conv_len - length), x.dtype)], axis=-1)
    return G.conv1d_input((n, cout_g * groups, out_len), w, gy, stride, padding, dilation, groups)


@examples(200)
@given(case=conv_transpose1d_cases(unbatched=False, zero_batch=False, **small),
       dtype=st.sampled_from([np.float64, np.complex128]))
def test_transposed_views_agree(case: ConvCase, dtype) -> None:
    x, w, _ = case.arrays(dtype)
    args = (case.stride, case.pad_int, case.output_padding, case.dilation, case.groups)
    scatter = reference.conv_transpose1d_scatter(x, w, *args)
    assert scatter.shape == case.output_shape
    mag = reference.conv_transpose1d_scatter(np.abs(x), np.abs(w), *args)
    ours = F.conv_transpose1d(
        x, w, None, case.stride, case.pad_int, case.output_padding, case.groups, case.dilation
    )
    assert_close(ours, scatter, mag)
    assert_close(by_zero_insertion(x, w, *args), scatter, mag)
    assert_close(by_matrix_transpose(x, w, *args), scatter, mag)
    if dtype == np.float64:  # the gradient conjugates the weight for complex dtypes
        assert_close(by_input_gradient(x, w, *args), scatter, mag)


def test_zero_insertion_view_by_hand() -> None:
    # x = [1, 2], w = [1, 10, 100], stride 2, padding 1:
    # zero-inserted [1, 0, 2]; pad 2-1 = 1 each side -> [0, 1, 0, 2, 0];
    # flipped kernel [100, 10, 1] slides over it -> [10, 102, 20] (length (2-1)*2-2+2+1 = 3)
    x = np.array([[[1.0, 2.0]]])
    w = np.array([[[1.0, 10.0, 100.0]]])
    assert by_zero_insertion(x, w, 2, 1, 0, 1, 1).tolist() == [[[10.0, 102.0, 20.0]]]
    assert F.conv_transpose1d(x, w, stride=2, padding=1).tolist() == [[[10.0, 102.0, 20.0]]]


# --------------------------------------------------------------------------- adjoint


@examples(300)
@given(case=conv1d_cases(unbatched=False, string_padding=False, zero_batch=False, **small))
def test_adjoint_identity(case: ConvCase) -> None:
    x, w, _ = case.arrays()
    y = case.grad_output()
    s, p, d, g, k = case.stride, case.pad_int, case.dilation, case.groups, case.kernel_size
    # output_padding makes the transposed output exactly as long as x
    op = case.length - ((case.out_length - 1) * s - 2 * p + d * (k - 1) + 1)
    assert 0 <= op < s
    lhs = np.vdot(F.conv1d(x, w, None, s, p, d, g), y)
    xt = F.conv_transpose1d(y, w, None, s, p, op, g, d)
    assert xt.shape == x.shape
    rhs = np.vdot(x, xt)
    scale = np.vdot(np.abs(F.conv1d(np.abs(x), np.abs(w), None, s, p, d, g)), np.abs(y))
    assert abs(lhs - rhs) <= 1e-12 * max(scale, 1e-300)


def test_adjoint_identity_complex() -> None:
    # <A x, y> = <x, A^H y>: for complex data the adjoint's weight is conjugated
    x, w, y = rand((2, 2, 9), np.complex128, 1), rand((4, 1, 3), np.complex128, 2), rand((2, 4, 5), np.complex128, 3)
    lhs = np.vdot(y, F.conv1d(x, w, None, 2, 1, 1, 2))
    rhs = np.vdot(F.conv_transpose1d(y, w.conj(), None, 2, 1, 0, 2, 1), x)
    assert abs(lhs - rhs) <= 1e-12 * np.abs(x).sum() * np.abs(w).sum() * np.abs(y).sum()
