"""Accept/reject parity with PyTorch: torch raises <=> convtrace raises, and every
convtrace rejection is a ConvtraceError naming the parameter at fault.

Known deliberate divergences (each is tested below for convtrace's own behaviour):

* Integer dtypes are rejected with ConvtraceTypeError (out of scope; PyTorch accepts some
  integer inputs in some ops). Python lists of ints are read as float64.
* ``pad`` accepts only a 2-element pad (the last dimension); see test_pad.py.
* Circular ``pad`` with a positive pad larger than the (cropped) length raises; PyTorch
  reads uninitialised memory or fails with an aliasing error there; see test_pad.py.
* conv1d with zero input channels returns the mathematically correct shape
  (N, C_out, L_out) of zeros (plus bias); PyTorch returns a (N, 0, L_out) tensor.
* The grad functions reject string padding with ConvtraceTypeError (torch.nn.grad also
  rejects it, with a RuntimeError); see test_grad_parity.py.
* ConvTranspose1d(padding=<str>) raises at construction (PyTorch silently stores the
  string and fails at the first call); see test_nn_modules.py.

Divergences found while writing these tests (torch clearly buggy, lax or backend-dependent):
* Zero-element inputs (zero batch or zero channels): PyTorch takes an empty-tensor fast
  path that skips argument checks, so it accepts e.g. dilation=0, a dtype mismatch or an
  output_padding >= max(stride, dilation) when the batch is empty. convtrace checks the
  arguments regardless of the input's size.
* nn constructors reject int-tuple arguments whose length is not 1 (kernel_size=(1, 2),
  stride=(1, 1)) at construction; PyTorch stores them and fails at the first call.
* float16 conv_transpose1d is rounded once (PyTorch rounds per kernel tap); test_forward_parity.

Where PyTorch's answer depends on its backend (oneDNN or not: by CPU, dtype and shape),
convtrace gives the stricter answer on every machine: the rules of
``convtrace.rules.BACKEND_RULES`` (a bias of another dtype for conv_transpose1d and for
conv1d with a string padding, a transposed output of length 0, a transposed dilation of 0).
The sweep asks PyTorch with oneDNN on and off and judges by them (``backends.judge``).
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import event, given

torch = pytest.importorskip("torch")

import convtrace  # noqa: E402
import convtrace.functional as F  # noqa: E402
from backends import judge, one_int, onednn, torch_answers, transposed_out_length  # noqa: E402
from convtrace import rules  # noqa: E402
from strategies import (  # noqa: E402
    RawCall,
    assert_convtrace_error,
    examples,
    raw_calls,
    run,
    tt,
)

NEEDS_TORCH = True
TF = torch.nn.functional
pytestmark = [
    pytest.mark.filterwarnings("ignore:Using padding='same'"),
    pytest.mark.filterwarnings("ignore:Casting complex values to real"),
    pytest.mark.filterwarnings("ignore:ComplexHalf support is experimental"),
]

CONV1D_PARAMS = {"input", "weight", "bias", "stride", "padding", "dilation", "groups"}
TRANSPOSED_PARAMS = CONV1D_PARAMS | {"output_padding"}


def _torch_function(call: RawCall):
    return TF.conv_transpose1d if call.transposed else TF.conv1d


def _torch_args(call: RawCall) -> tuple:
    return (tt(call.x), tt(call.w), tt(call.b)) + call.args()[3:]


def _torch_call(call: RawCall):
    return run(_torch_function(call), *_torch_args(call))


def _convtrace_call(call: RawCall):
    return run(F.conv_transpose1d if call.transposed else F.conv1d, *call.args())


def torch_only_accepts(call: RawCall) -> str | None:
    """The documented divergence (see the module docstring) that lets PyTorch accept a
    call convtrace rejects on every backend, or None."""
    if call.x.size == 0:
        return "empty input: PyTorch skips argument checks"
    return None


def backend_rule(call: RawCall) -> rules.BackendRule | None:
    """The backend-dependent rule (convtrace.rules) that covers the call, or None."""
    return rules.backend_rule_for(
        transposed=call.transposed,
        input_dtype=call.x.dtype,
        bias_dtype=None if call.b is None else call.b.dtype,
        string_padding=isinstance(call.padding, str),
        out_length=transposed_out_length(
            call.x.shape[-1], call.w.shape[-1] if call.w.ndim else 0, call.stride, call.padding, call.output_padding,
            call.dilation,
        ) if call.transposed and call.x.ndim and call.w.ndim else None,
        dilation=one_int(call.dilation),
    )


def _zero_in_channels(call: RawCall) -> bool:
    return not call.transposed and call.w.ndim == 3 and call.w.shape[1] == 0


@examples(800)
@given(call=raw_calls())
def test_accept_reject_parity_with_torch(call: RawCall) -> None:
    """PyTorch asked with oneDNN on and off (backends.judge): where both agree convtrace
    agrees; where a backend-dependent rule covers the call convtrace raises its error."""
    theirs = torch_answers(_torch_function(call), *_torch_args(call))
    ours = _convtrace_call(call)
    if theirs.any_accepts and not ours.ok and torch_only_accepts(call):
        event(f"divergence: {torch_only_accepts(call)}")
        assert_convtrace_error(ours.error, TRANSPOSED_PARAMS)
        return
    event(judge(ours, theirs, backend_rule(call), call.describe(), TRANSPOSED_PARAMS))


# --------------------------------------------------------------------------- pinned table

x15 = np.ones((1, 1, 5))
w113 = np.ones((1, 1, 3))

# (op, args, kwargs, parameter named, fragment of the message; PyTorch's wording where
# torch_too is True, checked against PyTorch's own message)
PINNED = [
    ("conv1d", (x15, np.ones((1, 1, 7))), {}, "input",
     ("Calculated padded input size per channel: (5). Kernel size: (7). Kernel size can't be "
     "greater than actual input size"), True),
    ("conv1d", (x15, np.ones((1, 1, 4))), {"padding": 0, "dilation": 2}, "input",
     "Calculated padded input size per channel: (5). Kernel size: (7).", True),
    ("conv1d", (np.ones((1, 1, 3)), np.ones((1, 1, 7))), {"padding": 1}, "padding",
     "Calculated padded input size per channel: (5). Kernel size: (7).", True),
    ("conv1d", (x15, w113), {"stride": 0}, "stride", "non-positive stride is not supported", True),
    ("conv1d", (x15, w113), {"stride": -2}, "stride", "non-positive stride is not supported", True),
    ("conv_transpose1d", (x15, w113), {"stride": 0}, "stride", "non-positive stride is not supported", True),
    ("conv1d", (x15, w113), {"dilation": 0}, "dilation", "dilation should be greater than zero", True),
    ("conv_transpose1d", (x15, w113), {"dilation": -1}, "dilation", "dilation should be greater than zero", True),
    ("conv1d", (x15, w113), {"padding": -1}, "padding", "negative padding is not supported", True),
    ("conv_transpose1d", (x15, w113), {"padding": -1}, "padding", "negative padding is not supported", True),
    ("conv_transpose1d", (x15, w113), {"output_padding": -1}, "output_padding",
     "negative output_padding is not supported", True),
    ("conv_transpose1d", (x15, w113), {"stride": 2, "output_padding": 2}, "output_padding",
     "output padding must be smaller than either stride or dilation", True),
    ("conv_transpose1d", (x15, w113), {"stride": 2, "dilation": 3, "output_padding": 3}, "output_padding",
     "output padding must be smaller than either stride or dilation", True),
    ("conv1d", (x15, w113), {"groups": 0}, "groups", "non-positive groups is not supported", True),
    ("conv1d", (np.ones((1, 2, 5)), np.ones((2, 1, 3))), {"groups": 3}, "groups",
     "Given groups=3, expected weight to be at least 3 at dimension 0, but got weight of size [2, 1, 3] instead", True),
    ("conv1d", (np.ones((1, 2, 5)), np.ones((3, 1, 3))), {"groups": 2}, "groups",
     "Given groups=2, expected weight to be divisible by 2 at dimension 0", True),
    ("conv_transpose1d", (np.ones((1, 3, 5)), np.ones((3, 1, 3))), {"groups": 2}, "groups",
     "Given groups=2, expected weight to be divisible by 2 at dimension 0", True),
    ("conv1d", (np.ones((1, 3, 5)), np.ones((2, 2, 3))), {}, "input",
     ("Given groups=1, weight of size [2, 2, 3], expected input[1, 3, 5] to have 2 channels, but got 3 "
     "channels instead"), True),
    ("conv1d", (np.ones((3, 5)), np.ones((2, 2, 3))), {}, "input",
     "expected input[1, 3, 5] to have 2 channels, but got 3 channels instead", True),
    ("conv_transpose1d", (np.ones((1, 3, 5)), np.ones((2, 1, 3))), {}, "input",
     ("Given transposed=1, weight of size [2, 1, 3], expected input[1, 3, 5] to have 2 channels, but got 3 "
     "channels instead"), True),
    ("conv1d", (x15, w113, np.ones(2)), {}, "bias",
     ("Given weight of size [1, 1, 3], expected bias to be 1-dimensional with 1 elements, but got bias of "
     "size [2] instead"), True),
    ("conv1d", (x15, w113, np.ones((1, 1))), {}, "bias", "expected bias to be 1-dimensional with 1 elements", True),
    ("conv_transpose1d", (x15, np.ones((1, 2, 3)), np.ones(3)), {}, "bias",
     "expected bias to be 1-dimensional with 2 elements, but got bias of size [3] instead", True),
    ("conv1d", (x15, w113), {"padding": "same", "stride": 2}, "padding",
     "padding='same' is not supported for strided convolutions", True),
    ("conv1d", (x15, w113), {"padding": "full"}, "padding", "Invalid padding string: 'full'", True),
    ("conv1d", (x15, w113), {"padding": "SAME"}, "padding", "Invalid padding string: 'SAME'", True),
    ("conv_transpose1d", (x15, w113), {"padding": "same"}, "padding",
     "argument 'padding' must be tuple of ints, not str", True),
    ("conv_transpose1d", (x15, w113), {"padding": "valid"}, "padding",
     "argument 'padding' must be tuple of ints, not str", True),
    ("conv1d", (np.ones((1, 1, 0)), np.ones((1, 1, 1))), {}, "input",
     "Calculated padded input size per channel: (0). Kernel size: (1).", True),
    ("conv1d", (np.ones((1, 1, 0)), w113), {"padding": 2}, "input",
     "Only zero batch or zero channel inputs are supported", False),
    ("conv_transpose1d", (np.ones((1, 1, 0)), w113), {}, "input",
     "Only zero batch or zero channel inputs are supported", True),
    ("conv_transpose1d", (x15, w113), {"padding": 10}, "padding",
     "Given input size per channel: (5). Calculated output size per channel: (-13). Output size is too small",
     True),
    ("conv_transpose1d", (np.ones((1, 1, 1)), w113), {"padding": 2}, "padding", "Output size is too small", True),
    ("conv1d", (x15, w113.astype(np.float32)), {}, "weight", "expected scalar type Double but found Float", True),
    ("conv_transpose1d", (x15.astype(np.float32), w113), {}, "weight", "expected scalar type Float but found Double", True),
    ("conv1d", (x15, w113, np.ones(1, np.float32)), {}, "bias", "and bias type", True),
    ("conv_transpose1d", (x15, w113, np.ones(1, np.complex128)), {}, "bias",
     "result type ComplexDouble can't be cast to the desired output type Double", True),
    ("conv1d", (np.ones(5), w113), {}, "input",
     "Expected 2D (unbatched) or 3D (batched) input to conv1d, but got input of size: [5]", True),
    ("conv1d", (np.ones((1, 1, 1, 5)), w113), {}, "input",
     "Expected 2D (unbatched) or 3D (batched) input to conv1d, but got input of size: [1, 1, 1, 5]", True),
    ("conv_transpose1d", (np.ones(5), w113), {}, "input",
     "Expected 2D (unbatched) or 3D (batched) input to conv_transpose1d", True),
    ("conv1d", (x15, np.ones((1, 3))), {}, "weight", "weight should have at least three dimensions", True),
    ("conv1d", (x15, np.ones((1, 1, 1, 3))), {}, "weight",
     "Expected 4-dimensional input for 4-dimensional weight [1, 1, 1, 3]", True),
    ("conv1d", (x15, np.ones((1, 1, 0))), {}, "weight", "kernel size should be greater than zero", True),
    ("conv1d", (x15, np.ones((0, 1, 3))), {}, "groups", "expected weight to be at least 1 at dimension 0", True),
    ("conv1d", (x15, w113), {"stride": (1, 1)}, "stride",
     "expected stride to be a single integer value or a list of 1 values to match the convolution dimensions", True),
    ("conv1d", (x15, w113), {"padding": (1, 1)}, "padding",
     "expected padding to be a single integer value or a list of 1 values", True),
    ("conv_transpose1d", (x15, w113), {"dilation": ()}, "dilation",
     "expected dilation to be a single integer value or a list of 1 values", True),
]


@pytest.mark.parametrize(
    ("op", "args", "kwargs", "param", "fragment", "torch_too"),
    PINNED,
    ids=[f"{p[0]}-{p[3]}-{i}" for i, p in enumerate(PINNED)],
)
def test_pinned_rejections(op, args, kwargs, param, fragment, torch_too) -> None:
    with pytest.raises(convtrace.ConvtraceError) as info:
        getattr(F, op)(*args, **kwargs)
    err = info.value
    assert err.param == param, str(err)
    assert fragment in str(err), str(err)
    assert fragment in err.rule
    assert f"{param}=" in str(err)
    assert err.call is not None and str(err).startswith(f"{op}(")  # the user's call, echoed
    # PyTorch rejects the same call (with this wording where torch_too)
    targs = [tt(a) if isinstance(a, np.ndarray) else a for a in args]
    answers = torch_answers(getattr(TF, op), *targs, **kwargs)
    assert not answers.on.ok and not answers.off.ok, answers.describe()  # with oneDNN on and off
    for torch_error in (answers.on.error, answers.off.error):
        assert isinstance(torch_error, (RuntimeError, TypeError, ValueError)), repr(torch_error)
    if torch_too:
        theirs = str(answers.off.error)
        if op == "conv_transpose1d":
            # PyTorch reports the transposed op's 1-D sizes through its 2-D kernel
            theirs = theirs.replace("(1 x ", "(").replace("[1, 1, 1, 0]", "[1, 1, 0]")
        assert fragment in theirs, theirs
    if isinstance(answers.off.error, TypeError):
        assert isinstance(err, convtrace.ConvtraceTypeError)


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"stride": 1.5}, "stride"),
        ({"stride": None}, "stride"),
        ({"stride": True}, "stride"),
        ({"padding": 1.0}, "padding"),
        ({"padding": None}, "padding"),
        ({"dilation": (2.0,)}, "dilation"),
        ({"groups": 1.0}, "groups"),
        ({"groups": None}, "groups"),
        # type errors win over every other check, as in PyTorch's argument parser
        ({"stride": (1, 1), "dilation": 1.5}, "dilation"),
        ({"padding": "same", "dilation": 1.5}, "dilation"),
    ],
)
@pytest.mark.parametrize("op", ["conv1d", "conv_transpose1d"])
def test_wrong_types_raise_type_errors_like_torch(op, kwargs, param) -> None:
    if op == "conv_transpose1d" and kwargs.get("padding") == "same":
        param = "padding"  # a string padding is itself a type error there
    with pytest.raises(TypeError):
        getattr(TF, op)(tt(x15), tt(w113), **kwargs)
    with pytest.raises(convtrace.ConvtraceTypeError) as info:
        getattr(F, op)(np.ones((5,)), w113, **kwargs)  # also a wrong ndim: types come first
    assert info.value.param == param


# --------------------------------------------------------------------------- divergences


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_])
@pytest.mark.parametrize("which", ["input", "weight", "bias"])
def test_integer_dtypes_are_rejected_with_type_error(dtype, which) -> None:
    # Deliberate divergence: integer arrays are out of scope (PyTorch accepts some).
    arrays = {"input": np.ones((1, 1, 5)), "weight": np.ones((1, 1, 3)), "bias": np.ones(1)}
    arrays[which] = arrays[which].astype(dtype)
    for op in (F.conv1d, F.conv_transpose1d):
        with pytest.raises(convtrace.ConvtraceTypeError) as info:
            op(arrays["input"], arrays["weight"], arrays["bias"])
        assert info.value.param == which
        assert "not supported" in str(info.value)


def test_non_arrays_are_rejected_with_type_error() -> None:
    for bad in ("abc", None, {"a": 1}, [[1, 2], [3]]):
        with pytest.raises(convtrace.ConvtraceTypeError) as info:
            F.conv1d(bad, np.ones((1, 1, 3)))
        assert info.value.param == "input"


def test_zero_input_channels_give_the_mathematical_shape() -> None:
    # Deliberate divergence: a sum over zero channels is 0 for every output channel.
    x = np.ones((2, 0, 5))
    w = np.ones((3, 0, 2))
    b = np.array([1.0, 2.0, 3.0])
    y = F.conv1d(x, w, b)
    assert y.shape == (2, 3, 4)
    assert y.tolist() == [[[1.0] * 4, [2.0] * 4, [3.0] * 4]] * 2
    assert F.conv1d(x, w).tolist() == [[[0.0] * 4] * 3] * 2
    assert tuple(TF.conv1d(tt(x), tt(w), tt(b)).shape) == (2, 0, 4)  # PyTorch's shape


@pytest.mark.parametrize(
    ("op", "args", "kwargs", "param"),
    [
        ("conv1d", (np.ones((0, 1, 5)), np.ones((1, 1, 2))), {"dilation": 0}, "dilation"),
        ("conv1d", (np.ones((0, 1, 5)), np.ones((1, 1, 2), np.float32)), {}, "weight"),
        ("conv_transpose1d", (np.ones((0, 1, 5)), np.ones((1, 1, 2))), {"output_padding": 2}, "output_padding"),
        ("conv_transpose1d", (np.ones((0, 1, 0)), np.ones((1, 1, 3))), {"padding": 3, "dilation": 3}, "padding"),
    ],
)
def test_empty_inputs_still_get_their_arguments_checked(op, args, kwargs, param) -> None:
    # Divergence: PyTorch's empty-tensor fast path accepts these calls.
    assert getattr(TF, op)(*(tt(a) for a in args), **kwargs).numel() == 0
    with pytest.raises(convtrace.ConvtraceError) as info:
        getattr(F, op)(*args, **kwargs)
    assert info.value.param == param


REAL = (np.float16, np.float32, np.float64)
ALL_DTYPES = (*REAL, np.complex64, np.complex128)


@pytest.mark.parametrize("x_dtype", REAL)
@pytest.mark.parametrize("b_dtype", REAL)
@pytest.mark.parametrize(("x_shape", "w_shape", "kw"), [
    ((1, 1, 5), (1, 1, 3), {}),  # a shape oneDNN does not take: PyTorch casts on every backend
    ((3, 6, 5), (6, 3, 3), {"stride": 3, "groups": 2}),  # oneDNN takes float32 here and raises
    ((2, 2, 1), (2, 1, 2), {"padding": 1}),  # and an empty output at once: the bias rule comes first
])  # fmt: skip
def test_transposed_bias_of_another_dtype_raises_everywhere(x_dtype, b_dtype, x_shape, w_shape, kw) -> None:
    """rules' transposed-bias-dtype: convtrace raises for every shape and real dtype, naming the
    backend dependence and the portable call; PyTorch's own answers (oneDNN on and off) are
    only recorded, since they depend on the CPU."""
    if x_dtype == b_dtype:
        return
    x, w = np.ones(x_shape, x_dtype), np.ones(w_shape, x_dtype)
    b = np.full(w_shape[1] * kw.get("groups", 1), 0.5, b_dtype)
    with pytest.raises(convtrace.ConvtraceError) as info:
        F.conv_transpose1d(x, w, b, **kw)
    err = info.value
    assert (err.param, err.code) == ("bias", "transposed-bias-dtype"), str(err)
    assert f"Input type ({np.dtype(x_dtype)}) and bias type ({np.dtype(b_dtype)}) should be the same" in err.rule
    assert "depends on its backend" in err.rule and "oneDNN" in err.rule
    assert err.hint == f"use bias.astype(np.{np.dtype(x_dtype)})"
    # the portable call runs in PyTorch with oneDNN on and off (where the output is not empty)
    answers = torch_answers(TF.conv_transpose1d, tt(x), tt(w), tt(b.astype(x_dtype)), **kw)
    portable = run(F.conv_transpose1d, x, w, b.astype(x_dtype), **kw)
    if kw.get("padding"):
        assert portable.error.code == "transposed-empty-output"
    else:
        assert portable.ok and answers.on.ok and answers.off.ok, answers.describe()
        for value in answers.values():
            np.testing.assert_allclose(portable.value, value, rtol=1e-3)


@pytest.mark.parametrize(("x_dtype", "b_dtype"), [(np.complex64, np.complex128), (np.complex128, np.float64)])
def test_complex_transposed_bias_dtype_must_match(x_dtype, b_dtype) -> None:
    x, w, b = np.ones((1, 1, 4), x_dtype), np.ones((1, 1, 3), x_dtype), np.ones(1, b_dtype)
    with pytest.raises(RuntimeError, match="bias type"):
        TF.conv_transpose1d(tt(x), tt(w), tt(b))
    with pytest.raises(convtrace.ConvtraceError, match="bias type") as info:
        F.conv_transpose1d(x, w, b)
    assert info.value.param == "bias"


@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("bias_dtype", [np.float32, np.complex128])
def test_bias_dtype_is_checked_for_string_padding_too(padding, bias_dtype) -> None:
    x, w, b = np.ones((1, 1, 5)), np.ones((1, 1, 3)), np.ones(1, bias_dtype)
    # Divergence: PyTorch accepts these (only for string padding) and casts the bias
    assert TF.conv1d(tt(x), tt(w), tt(b), padding=padding).dtype == torch.float64
    with pytest.raises(RuntimeError, match="bias type"):
        TF.conv1d(tt(x), tt(w), tt(b), padding=0)
    with pytest.raises(convtrace.ConvtraceError) as info:
        F.conv1d(x, w, b, padding=padding)
    assert info.value.param == "bias"


@pytest.mark.parametrize(
    ("kwargs", "param", "fragment", "code"),
    [
        ({"dilation": 0}, "dilation", "dilation should be greater than zero", "transposed-dilation-zero"),
        ({"padding": 2}, "padding", "Calculated output size per channel: (0). Output size is too small",
         "transposed-empty-output"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_backend_dependent_transposed_checks_are_made(kwargs, param, fragment, code, dtype) -> None:
    """oneDNN skips these checks on some CPUs and dtypes (rules.BACKEND_RULES); convtrace
    makes them for every dtype, saying why, with the valid settings as the hint."""
    x, w = np.ones((2, 1, 4), dtype), np.ones((1, 1, 1), dtype)
    # PyTorch's answer without oneDNN is the same on every CPU
    with onednn(False), pytest.raises(RuntimeError, match=r"should be greater than zero|Output size is too small"):
        TF.conv_transpose1d(tt(x), tt(w), **kwargs)
    with pytest.raises(convtrace.ConvtraceError) as info:
        F.conv_transpose1d(x, w, **kwargs)
    err = info.value
    assert (err.param, err.code) == (param, code)
    assert fragment in str(err) and "depends on its backend" in err.rule
    assert err.hint


def test_empty_output_hint_gives_valid_settings() -> None:
    """The hint of an output length of 0 names a padding and an input length that each give
    an output (checked against PyTorch without oneDNN, which raises on the original)."""
    with pytest.raises(convtrace.ConvtraceError) as info:
        F.conv_transpose1d(np.ones((1, 1, 2)), np.ones((1, 1, 3)), stride=3, padding=3)
    assert info.value.code == "transposed-empty-output"
    assert info.value.hint == "padding <= 2, or an input of at least 3 samples, gives an output of at least one sample"
    with onednn(False):
        assert TF.conv_transpose1d(torch.ones(1, 1, 2), torch.ones(1, 1, 3), stride=3, padding=2).shape[-1] == 2
        assert TF.conv_transpose1d(torch.ones(1, 1, 3), torch.ones(1, 1, 3), stride=3, padding=3).shape[-1] == 3
        with pytest.raises(RuntimeError, match="Output size is too small"):
            TF.conv_transpose1d(torch.ones(1, 1, 2), torch.ones(1, 1, 3), stride=3, padding=3)


def test_errors_carry_their_parts_and_pickle() -> None:
    with pytest.raises(convtrace.ConvtraceError) as info:
        F.conv_transpose1d(np.ones((1, 1, 5)), np.ones((1, 1, 3)), stride=2, output_padding=2)
    err = info.value
    assert (err.param, err.value) == ("output_padding", 2)
    assert err.hint and "output_padding <= 1" in err.hint
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is type(err) and str(again) == str(err)
    type_err = convtrace.ConvtraceTypeError("stride", 1.5, "bad type")
    again = pickle.loads(pickle.dumps(type_err))
    assert isinstance(again, TypeError) and isinstance(again, ValueError) and again.param == "stride"


def test_short_input_hint_names_valid_settings() -> None:
    with pytest.raises(convtrace.ConvtraceError) as info:
        F.conv1d(np.ones((1, 1, 5)), np.ones((1, 1, 7)))
    hint = info.value.hint
    assert hint is not None
    # the hint's suggestions really are valid: input length 7, padding 1, kernel 5
    assert "smallest valid input length here is 7" in hint
    assert F.conv1d(np.ones((1, 1, 7)), np.ones((1, 1, 7))).shape == (1, 1, 1)
    assert "padding >= 1" in hint
    assert F.conv1d(np.ones((1, 1, 5)), np.ones((1, 1, 7)), padding=1).shape == (1, 1, 1)
    assert "kernel_size <= 5" in hint
    assert F.conv1d(np.ones((1, 1, 5)), np.ones((1, 1, 5))).shape == (1, 1, 1)
