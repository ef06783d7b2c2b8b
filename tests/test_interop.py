"""convtrace <-> PyTorch module and array conversion (convtrace.interop.torch)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

import convtrace  # noqa: E402
import convtrace.nn as cnn  # noqa: E402
from convtrace.interop.torch import (  # noqa: E402
    from_torch_module,
    require_torch,
    to_numpy,
    to_tensor,
    to_torch_module,
)
from strategies import assert_close, examples, rand, tn, torch_module_magnitude, tt  # noqa: E402

NEEDS_TORCH = True
pytestmark = [
    pytest.mark.filterwarnings("ignore:Using padding='same'"),
    pytest.mark.filterwarnings("ignore:Complex modules are a new feature"),
]


@st.composite
def modules(draw):
    groups = draw(st.integers(1, 2))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    k = draw(st.integers(1, 4))
    dtype = draw(st.sampled_from([np.float32, np.float64, np.complex128]))
    bias = draw(st.booleans())
    seed = draw(st.integers(0, 1000))
    if draw(st.booleans()):
        stride = draw(st.integers(1, 3))
        dilation = draw(st.integers(1, 2))
        return cnn.ConvTranspose1d(
            cin, cout, k, stride=stride, padding=draw(st.integers(0, 2)), dilation=dilation,
            output_padding=draw(st.integers(0, max(stride, dilation) - 1)), groups=groups, bias=bias,
            dtype=dtype, rng=seed,
        )
    padding = draw(st.sampled_from([0, 1, 2, "same", "valid"]))
    return cnn.Conv1d(
        cin, cout, k, padding=padding, dilation=draw(st.integers(1, 2)), groups=groups, bias=bias,
        padding_mode=draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"])),
        dtype=dtype, rng=seed,
    )


@examples(100)
@given(m=modules(), seed=st.integers(0, 1000))
def test_round_trip_keeps_config_weights_and_outputs(m, seed) -> None:
    t = to_torch_module(m)
    assert isinstance(t, torch.nn.ConvTranspose1d if isinstance(m, cnn.ConvTranspose1d) else torch.nn.Conv1d)
    assert repr(t) == repr(m)
    assert tn(t.weight).dtype == m.weight.dtype
    np.testing.assert_array_equal(tn(t.weight), m.weight)
    back = from_torch_module(t, expected=type(m))
    assert type(back) is type(m) and repr(back) == repr(m) and back.dtype == m.dtype
    np.testing.assert_array_equal(back.weight, m.weight)
    if m.bias is None:
        assert t.bias is None and back.bias is None
    else:
        np.testing.assert_array_equal(back.bias, m.bias)
    x = rand((2, m.in_channels, 12), m.dtype, seed)
    ours = m(x)
    np.testing.assert_array_equal(back(x), ours)  # identical: same weights, same engine
    assert_close(ours, tn(t(tt(x))), torch_module_magnitude(t, x))  # and PyTorch agrees


def test_round_trip_does_not_alias_weights() -> None:
    m = cnn.Conv1d(2, 3, 3, rng=0)
    t = to_torch_module(m)
    with torch.no_grad():
        t.weight.zero_()
    assert m.weight.any()
    t2 = torch.nn.Conv1d(2, 3, 3)
    back = from_torch_module(t2)
    with torch.no_grad():
        t2.weight.zero_()
    assert back.weight.any()


def test_from_torch_rejects_other_modules() -> None:
    with pytest.raises(convtrace.ConvtraceTypeError) as info:
        from_torch_module(torch.nn.Linear(2, 3), expected=cnn.Conv1d)
    assert info.value.param == "module"
    with pytest.raises(convtrace.ConvtraceTypeError):
        from_torch_module(torch.nn.ConvTranspose1d(1, 1, 3), expected=cnn.Conv1d)
    with pytest.raises(convtrace.ConvtraceTypeError):
        from_torch_module(torch.nn.Conv1d(1, 1, 3), expected=cnn.ConvTranspose1d)
    with pytest.raises(convtrace.ConvtraceTypeError):
        to_torch_module(object())


def test_torch_subclasses_convert_as_their_base() -> None:
    class Mine(torch.nn.Conv1d):
        pass

    m = from_torch_module(Mine(1, 3, 2))
    assert type(m) is cnn.Conv1d and m.weight.shape == (3, 1, 2)


def test_from_torch_keeps_same_padding_and_mode() -> None:
    t = torch.nn.Conv1d(2, 2, 4, padding="same", padding_mode="circular", dilation=2, bias=False)
    m = from_torch_module(t)
    assert m.padding == "same" and m.padding_mode == "circular" and m.dilation == (2,) and m.bias is None
    x = rand((1, 2, 9), np.float32)
    assert_close(m(x), tn(t(tt(x))), torch_module_magnitude(t, x))


def test_array_helpers_copy() -> None:
    a = np.arange(6.0).reshape(2, 3)[:, ::2]  # non-contiguous
    t = to_tensor(a)
    t[0, 0] = 100.0
    assert a[0, 0] == 0.0
    assert to_tensor(a).tolist() == a.tolist()
    c = torch.tensor([1 + 2j, 3 - 1j]).conj()  # a lazily conjugated view
    assert to_numpy(c).tolist() == [1 - 2j, 3 + 1j]
    back = to_numpy(t)
    back[0, 0] = -1.0
    assert t[0, 0].item() == 100.0
    assert require_torch() is torch
