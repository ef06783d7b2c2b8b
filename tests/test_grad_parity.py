"""Gradients (input, weight, bias) of both ops against torch.autograd.grad, and the
``torch.nn.grad`` signatures against torch.nn.grad itself."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

import convtrace  # noqa: E402
import convtrace.grad as G  # noqa: E402
from backends import each_backend  # noqa: E402
from strategies import (  # noqa: E402
    COMPLEX_DTYPES,
    REAL_DTYPES,
    ConvCase,
    any_conv_cases,
    assert_close,
    assert_convtrace_error,
    conv1d_cases,
    examples,
    rand,
    torch_grad_magnitudes,
    torch_grads,
    tt,
)

NEEDS_TORCH = True

# grad functions take (N, C, L) operands and integer padding only
grad_cases = any_conv_cases(unbatched=False, string_padding=False)


def convtrace_grads(case: ConvCase, x, w, b, gy) -> list[np.ndarray]:
    kw = case.kwargs()
    if case.transposed:
        grads = [
            G.conv_transpose1d_input(x.shape, w, gy, **kw),
            G.conv_transpose1d_weight(x, w.shape, gy, **kw),
        ]
        bias_grad = G.conv_transpose1d_bias
    else:
        grads = [G.conv1d_input(x.shape, w, gy, **kw), G.conv1d_weight(x, w.shape, gy, **kw)]
        bias_grad = G.conv1d_bias
    if b is not None:
        grads.append(bias_grad(gy))
    return grads


def check_grads(case: ConvCase, dtype) -> None:
    x, w, b = case.arrays(dtype)
    gy = case.grad_output(dtype)
    actual = convtrace_grads(case, x, w, b, gy)
    mags = torch_grad_magnitudes(case, x, w, b, gy)
    for _ in each_backend():  # PyTorch with oneDNN on, then off
        expected = torch_grads(case, x, w, b, gy)
        assert len(actual) == len(expected)
        for a, e, m in zip(actual, expected, mags):
            assert_close(a, e, m)


@examples(300)
@given(case=grad_cases)
def test_grads_float64_match_autograd(case: ConvCase) -> None:
    check_grads(case, np.float64)


@examples(250)
@given(case=grad_cases)
def test_grads_float32_match_autograd(case: ConvCase) -> None:
    check_grads(case, np.float32)


@examples(120)
@given(case=any_conv_cases(unbatched=False, string_padding=False, max_channels=2), dtype=st.sampled_from(COMPLEX_DTYPES))
def test_complex_grads_follow_autograd_conjugate_convention(case: ConvCase, dtype) -> None:
    # torch.nn.grad rejects complex; convtrace's grads return what autograd returns for a
    # real loss: the other operand enters conjugated.
    check_grads(case, dtype)


def test_complex_grad_is_conjugated_exactly() -> None:
    # y = x * w (k=1, one sample): dL/dx for grad_output g is g * conj(w), dL/dw = g * conj(x)
    x = np.array([[[1.0 + 2.0j]]])
    w = np.array([[[3.0 - 1.0j]]])
    g = np.array([[[1.0 + 0.0j]]])
    assert G.conv1d_input(x.shape, w, g).tolist() == [[[3.0 + 1.0j]]]
    assert G.conv1d_weight(x, w.shape, g).tolist() == [[[1.0 - 2.0j]]]


@examples(150)
@given(case=conv1d_cases(unbatched=False, string_padding=False), dtype=st.sampled_from(REAL_DTYPES))
def test_signatures_match_torch_nn_grad(case: ConvCase, dtype) -> None:
    x, w, _ = case.arrays(dtype)
    gy = case.grad_output(dtype)
    kw = case.kwargs()
    tgx = torch.nn.grad.conv1d_input(x.shape, tt(w), tt(gy), **kw).numpy()
    tgw = torch.nn.grad.conv1d_weight(tt(x), w.shape, tt(gy), **kw).numpy()
    mx, mw = torch_grad_magnitudes(case, x, w, None, gy)
    # positional arguments in torch.nn.grad's order
    args = (case.stride, case.padding, case.dilation, case.groups)
    assert_close(G.conv1d_input(x.shape, w, gy, *args), tgx, mx)
    assert_close(G.conv1d_weight(x, w.shape, gy, *args), tgw, mw)


def test_bias_grad_sums_batch_and_length() -> None:
    gy = np.arange(2 * 3 * 4, dtype=np.float64).reshape(2, 3, 4)
    # gy[n, c, t] = 12n + 4c + t; the bias gradient of channel c sums it over n and t
    expected = [sum(12 * n + 4 * c + t for n in range(2) for t in range(4)) for c in range(3)]
    assert G.conv1d_bias(gy).tolist() == expected
    assert G.conv1d_bias(gy[0]).tolist() == [sum(4 * c + t for t in range(4)) for c in range(3)]
    assert G.conv_transpose1d_bias(gy).tolist() == expected
    assert G.conv1d_bias(gy.astype(np.float16)).dtype == np.float16


def test_grads_of_seed_example() -> None:
    # y = conv1d(x, ones(3), padding=1) on length 4: each x[t] feeds the outputs whose
    # window covers it: 2 windows at the ends, 3 in the middle.
    gx = G.conv1d_input((1, 1, 4), np.ones((1, 1, 3)), np.ones((1, 1, 4)), padding=1)
    assert gx.tolist() == [[[2.0, 3.0, 3.0, 2.0]]]
    # each tap k reads x over 3 of the 4 windows' positions (x = 1, 2, 3, 4):
    # tap 0 reads [0, 1, 2, 3], tap 1 [1, 2, 3, 4], tap 2 [2, 3, 4, 0]
    gw = G.conv1d_weight(np.arange(1.0, 5.0)[None, None], (1, 1, 3), np.ones((1, 1, 4)), padding=1)
    assert gw.tolist() == [[[6.0, 10.0, 9.0]]]


# --------------------------------------------------------------------------- rejections


@pytest.mark.parametrize("padding", ["same", "valid"])
def test_grad_functions_reject_string_padding(padding) -> None:
    # Documented divergence (in the exception type only): torch.nn.grad also rejects a
    # string padding, with a RuntimeError from its schema matcher; convtrace raises
    # ConvtraceTypeError, since padding must be an int there.
    w = np.ones((1, 1, 3))
    gy = np.ones((1, 1, 4))
    for call in (
        lambda: G.conv1d_input((1, 1, 4), w, gy, padding=padding),
        lambda: G.conv1d_weight(np.ones((1, 1, 4)), (1, 1, 3), gy, padding=padding),
    ):
        with pytest.raises(convtrace.ConvtraceTypeError) as info:
            call()
        assert_convtrace_error(info.value, {"padding"})
    with pytest.raises(RuntimeError):
        torch.nn.grad.conv1d_input((1, 1, 4), tt(w), tt(gy), padding=padding)
    with pytest.raises(convtrace.ConvtraceTypeError):
        G.conv_transpose1d_input((1, 1, 2), w, np.ones((1, 1, 4)), padding=padding)


@pytest.mark.parametrize(
    ("call", "param"),
    [
        (lambda: G.conv1d_input((1, 1, 4), np.ones((1, 1, 3)), np.ones((1, 1, 3)), padding=1), "grad_output"),
        (lambda: G.conv1d_input((1, 1, 4), np.ones((1, 1, 3)), np.ones((1, 1, 4), np.float32), padding=1), "grad_output"),
        (lambda: G.conv1d_input((1, 4), np.ones((1, 1, 3)), np.ones((1, 1, 2))), "input_size"),
        (lambda: G.conv1d_input((1, 1, -4), np.ones((1, 1, 3)), np.ones((1, 1, 2))), "input_size"),
        (lambda: G.conv1d_input((1, 1, 4.0), np.ones((1, 1, 3)), np.ones((1, 1, 2))), "input_size"),
        (lambda: G.conv1d_input((1, 1, 2), np.ones((1, 1, 3)), np.ones((1, 1, 1))), "input"),
        (lambda: G.conv1d_weight(np.ones((1, 4)), (1, 1, 3), np.ones((1, 2))), "input"),
        (lambda: G.conv1d_weight(np.ones((1, 1, 4)), (1, 1), np.ones((1, 1, 2))), "weight_size"),
        (lambda: G.conv1d_weight(np.ones((1, 1, 4)), (1, 1, 3), np.ones((1, 1, 2)), stride=0), "stride"),
        (lambda: G.conv_transpose1d_input((1, 1, 2), np.ones((1, 1, 3)), np.ones((1, 1, 6)), stride=2), "grad_output"),
        (lambda: G.conv_transpose1d_weight(np.ones((1, 1, 2)), (1, 1, 3), np.ones((1, 1, 5)), output_padding=2, stride=2), "output_padding"),
        (lambda: G.conv1d_bias(np.ones(3)), "grad_output"),
    ],
)
def test_grad_argument_errors(call, param) -> None:
    with pytest.raises(convtrace.ConvtraceError) as info:
        call()
    assert_convtrace_error(
        info.value,
        {"input", "weight", "grad_output", "input_size", "weight_size", "stride", "padding",
         "dilation", "groups", "output_padding"},
    )
    assert info.value.param == param


def test_grad_input_size_must_match_torch_acceptance() -> None:
    # torch.nn.grad.conv1d_input needs a 3-element input_size, like convtrace
    w, gy = tt(np.ones((1, 1, 3))), tt(np.ones((1, 1, 2)))
    with pytest.raises(RuntimeError):
        torch.nn.grad.conv1d_input((1, 4), w, gy)
    with pytest.raises(convtrace.ConvtraceError):
        G.conv1d_input((1, 4), np.ones((1, 1, 3)), np.ones((1, 1, 2)))


def test_grad_outputs_are_fresh_arrays() -> None:
    x, w = rand((2, 2, 6)), rand((3, 2, 3), seed=1)
    gy = rand((2, 3, 4), seed=2)
    for out, operand in ((G.conv1d_input(x.shape, w, gy), gy), (G.conv1d_weight(x, w.shape, gy), x)):
        assert not np.shares_memory(out, operand)
        assert out.flags.writeable
