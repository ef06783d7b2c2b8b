"""The module path and the functional path with mixed dtypes, against PyTorch.

Module path: ``convtrace.nn.Conv1d`` / ``ConvTranspose1d`` and ``torch.nn.Conv1d`` /
``ConvTranspose1d`` built with the same arguments (valid and invalid, every supported module
dtype: both accept or both reject), PyTorch's weights copied across, then parameters of
other dtypes (and shapes) assigned, and both called on inputs of various dtypes (and with
``output_size``): the same accepted/rejected calls and the same values (float64 tight,
float32 loose, float16 looser; ``strategies.TOLERANCES``).

PyTorch accepts a Parameter of another dtype and the next forward follows its usual dtype
rules ("expected scalar type ...", "Input type ... and bias type ... should be the same");
convtrace does the same.

Functional path: ``conv1d`` / ``conv_transpose1d`` with input, weight and bias dtypes drawn
independently from float16/float32/float64/complex64/complex128: every combination on fixed
shapes (one table per op and shape) and a Hypothesis sweep over shapes.

Differences from PyTorch handled here:

* README "Where convtrace deliberately differs": ``ConvTranspose1d(padding='same')`` raises
  at construction (PyTorch stores the string and fails at the first call); conv1d with zero
  input channels (not drawn here).
* README "Where convtrace deliberately differs": a parameter of
  the wrong *shape* is rejected at assignment; PyTorch takes it and fails at the next
  forward, or uses the shape it was given (see ``test_wrong_shape_assignment_...``).
* Int-tuple arguments whose length is not 1 are rejected at construction; PyTorch stores
  them and fails at the first call: both reject (checked), at different times.
* PyTorch's answer that depends on its backend (float32 input and weight, a bias of another
  dtype, for conv_transpose1d with a real bias and conv1d with a string padding: oneDNN
  rejects, the slow path casts) is not a parity question: convtrace must give one answer for
  every shape (``test_float32_bias_of_another_dtype_one_answer``).

* README "Where convtrace deliberately differs": conv1d with padding='same'/'valid' and a
  bias of another dtype than a real input's: PyTorch casts it there (float32: by backend),
  convtrace rejects it as for every other padding (pinned at the end).

Mismatch found by these tests and fixed: ``shapes.conv_transpose1d_output_size_range`` when
output_padding 0 gives no output (test_direct_behaviours.py).
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

import convtrace  # noqa: E402
import convtrace.functional as F  # noqa: E402
from strategies import (  # noqa: E402
    ConvCase,
    any_conv_cases,
    assert_close,
    assert_convtrace_error,
    examples,
    rand,
    run,
    tn,
    torch_magnitude,
    torch_module_magnitude,
    torch_onednn_skips_checks,
    tt,
)
from strategies_modules import (  # noqa: E402
    DTYPES,
    Assignment,
    ModuleCase,
    assignments,
    module_cases,
    short,
    torch_dtype,
)

NEEDS_TORCH = True
TF = torch.nn.functional
pytestmark = [
    pytest.mark.filterwarnings("ignore:Initializing zero-element tensors is a no-op"),
    pytest.mark.filterwarnings("ignore:Using padding='same'"),
    pytest.mark.filterwarnings("ignore:Casting complex values to real"),
    pytest.mark.filterwarnings("ignore:ComplexHalf support is experimental"),
]


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Tiny convolutions: one PyTorch thread (several spin and stall on a busy machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


MODULE_PARAMS = {
    "in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups",
    "output_padding", "padding_mode", "dtype", "device",
}  # fmt: skip
CALL_PARAMS = {"input", "weight", "bias", "stride", "padding", "dilation", "groups", "output_padding", "pad",
               "output_size"}  # fmt: skip
CONV1D_PARAMS = {"input", "weight", "bias", "stride", "padding", "dilation", "groups"}
TRANSPOSED_PARAMS = CONV1D_PARAMS | {"output_padding"}


def _bad_tuple(v: Any) -> bool:
    return isinstance(v, (tuple, list)) and len(v) != 1


def rejected_at_construction_only(case: ModuleCase) -> str | None:
    """Arguments convtrace rejects at construction and PyTorch at the first call, or None."""
    if case.transposed and isinstance(case.padding, str):
        return "ConvTranspose1d string padding (README)"
    values = [case.kernel_size, case.stride, case.padding, case.dilation]
    if case.transposed:
        values.append(case.output_padding)
    if any(_bad_tuple(v) for v in values):
        return "int tuple of length != 1"
    return None


def string_padding_bias_cast(transposed: bool, padding: Any, x_dtype: Any, b_dtype: Any) -> bool:
    """A deliberate difference (README): conv1d with padding='same'/'valid' and a bias of
    another dtype than a real input's. PyTorch casts it there (and only there); convtrace
    rejects it, as for every other padding."""
    if transposed or b_dtype is None or not isinstance(padding, str):
        return False
    return np.dtype(b_dtype) != np.dtype(x_dtype) and np.dtype(x_dtype).kind != "c"


def torch_backend_dependent(transposed: bool, padding: Any, x_dtype: Any, w_dtype: Any, b_dtype: Any) -> bool:
    """PyTorch 2.13 (CPU) answers by backend, i.e. by shape: a float32 input and weight with a
    bias of another dtype that its slow path casts and oneDNN rejects. That is the transposed
    op with a real bias, and conv1d with a string padding (which skips the bias check) with
    any bias. convtrace must give one answer for every shape (the ``..._one_answer`` tests)."""
    if b_dtype is None or not np.dtype(x_dtype) == np.dtype(w_dtype) == np.float32:
        return False
    if np.dtype(b_dtype) == np.float32:
        return False
    if transposed:
        return np.dtype(b_dtype).kind == "f"
    return isinstance(padding, str)


# --------------------------------------------------------------------------- construction


def _usable_input(case: ModuleCase) -> np.ndarray:
    return np.ones((2, case.in_channels, 8), dtype=case.dtype or np.float32)


@examples(400)
@given(case=module_cases())
def test_construction_parity_every_dtype(case: ModuleCase) -> None:
    theirs = run(case.build, "torch")
    ours = run(case.build, "convtrace")
    event(f"torch {'accepts' if theirs.ok else 'rejects'}")
    if theirs.ok and not ours.ok and rejected_at_construction_only(case):
        event(f"rejected at construction: {rejected_at_construction_only(case)}")
        assert_convtrace_error(ours.error, MODULE_PARAMS)
        with pytest.raises((RuntimeError, TypeError, ValueError)):  # PyTorch: at the first call
            theirs.value(tt(_usable_input(case)))
        return
    assert theirs.ok == ours.ok, f"{case}\n torch: {theirs.error!r}\n convtrace: {ours.error!r}"
    if not ours.ok:
        assert_convtrace_error(ours.error, MODULE_PARAMS, theirs.error)
        return
    tm, m = theirs.value, ours.value
    assert repr(m) == repr(tm)
    assert m.weight.shape == tuple(tm.weight.shape) == case.weight_shape()
    assert torch_dtype(m.weight.dtype) == tm.weight.dtype
    assert m.dtype == m.weight.dtype
    assert (m.bias is None) == (tm.bias is None)
    if m.bias is not None:
        assert torch_dtype(m.bias.dtype) == tm.bias.dtype and m.bias.shape == tuple(tm.bias.shape)


# --------------------------------------------------------------------------- assignment + call


def _torch_param(a: np.ndarray) -> Any:
    return torch.nn.Parameter(tt(a))


def assign(case: ModuleCase, tm: Any, m: Any, a: Assignment, seed: int) -> str | None:
    """Apply the assignment to both modules. Returns None, or the parameter convtrace
    (deliberately) rejected because of its shape; any other rejection fails the test."""
    if a.weight_dtype is not None:
        shape = a.weight_shape or case.weight_shape()
        w = rand(shape, a.weight_dtype, seed + 10)
        tm.weight = _torch_param(w)
        got = run(setattr, m, "weight", w)
        if a.weight_shape is not None:
            assert not got.ok, f"weight of shape {shape} accepted for {case}"
            assert_convtrace_error(got.error, {"weight"})
            assert "shape" in str(got.error)
            return "weight"
        assert got.ok, f"weight {short(a.weight_dtype)} {shape}: {got.error!r}"
        assert m.weight.dtype == w.dtype and np.array_equal(m.weight, w)
    if a.bias == "none":
        tm.bias = None
        m.bias = None
        assert m.bias is None
    elif a.bias == "array":
        shape = a.bias_shape if a.bias_shape is not None else (case.out_channels,)
        b = rand(shape, a.bias_dtype, seed + 11)
        tm.bias = _torch_param(b)
        got = run(setattr, m, "bias", b)
        if a.bias_shape is not None:
            assert not got.ok, f"bias of shape {shape} accepted for {case}"
            assert_convtrace_error(got.error, {"bias"})
            return "bias"
        assert got.ok, f"bias {short(a.bias_dtype)} {shape}: {got.error!r}"
        assert m.bias.dtype == b.dtype and np.array_equal(m.bias, b)
    return None


def _output_size(case: ModuleCase, length: int, offset: int) -> list[int]:
    s, p, d = case.stride, case.padding, case.dilation
    return [(length - 1) * s - 2 * p + d * (case.int_kernel - 1) + 1 + offset]


@st.composite
def module_calls(draw: Any) -> tuple[ModuleCase, Assignment, Any, int, bool, int | None, int]:
    case = draw(module_cases(valid_only=True))
    own = np.dtype(case.dtype or np.float32)
    x_dtype = draw(st.sampled_from(DTYPES + (own,) * 3))
    if draw(st.integers(0, 2)) == 0:  # a coherent set-up: every parameter of the input's dtype
        keep = x_dtype == own and draw(st.booleans())
        bias = "keep" if keep and case.bias else draw(st.sampled_from(["none", "array"]))
        a = Assignment(None if keep else x_dtype, None, bias, x_dtype if bias == "array" else None)
    else:
        a = draw(assignments(case, x_dtype))
    length = draw(st.integers(1, 8))
    unbatched = draw(st.booleans())
    offset = draw(st.sampled_from([None, None, -1, 0, 1, 2])) if case.transposed else None
    return case, a, x_dtype, length, unbatched, offset, draw(st.integers(0, 1000))


@examples(400)
@given(call=module_calls())
def test_assignment_and_call_parity(
    call: tuple[ModuleCase, Assignment, Any, int, bool, int | None, int],
) -> None:
    case, a, x_dtype, length, unbatched, offset, seed = call
    torch.manual_seed(seed)
    tm = case.build("torch")
    m = case.build("convtrace")
    m.weight = tn(tm.weight)  # PyTorch's initial parameters, copied across
    if tm.bias is not None:
        m.bias = tn(tm.bias)
    rejected = assign(case, tm, m, a, seed)
    shape = (case.in_channels, length) if unbatched else (2, case.in_channels, length)
    x = rand(shape, x_dtype, seed)
    kw: dict[str, Any] = {} if offset is None else {"output_size": _output_size(case, length, offset)}
    with torch.no_grad():
        t_out = run(tm, tt(x), **kw)
    if rejected is not None:
        # deliberate: convtrace rejects a parameter of the wrong shape when it is assigned;
        # PyTorch fails at this call, or computes with the shape it was given
        event(f"wrong {rejected} shape: torch {'accepts' if t_out.ok else 'rejects'} the call")
        return
    c_out = run(m, x, **kw)
    w_dtype = m.weight.dtype
    b_dtype = None if m.bias is None else m.bias.dtype
    where = (
        f"{case}\n assigned {a}\n x {short(x_dtype)} {shape} {kw}\n"
        f" torch: {t_out.error!r}\n convtrace: {c_out.error!r}"
    )
    event(f"torch {'accepts' if t_out.ok else 'rejects'}")
    if (
        t_out.ok
        and not c_out.ok
        and torch_onednn_skips_checks(case.transposed, x_dtype, t_out.value.shape[-1], 1)
    ):
        # PyTorch's oneDNN path returns an empty output its other paths reject (test_nn_modules)
        event("torch oneDNN accepts an output length of 0")
        assert "Output size is too small" in str(c_out.error), where
        return
    if t_out.ok != c_out.ok and torch_backend_dependent(
        case.transposed, case.padding, x_dtype, w_dtype, b_dtype
    ):
        event("torch backend-dependent: float32, bias of another dtype")
        return
    assert t_out.ok == c_out.ok, where
    if c_out.ok:
        expected = tn(t_out.value)
        assert_close(c_out.value, expected, torch_module_magnitude(tm, x, **kw))
    else:
        assert_convtrace_error(c_out.error, CALL_PARAMS, t_out.error)


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize(("x_dtype", "w_dtype", "b_dtype"), [
    (np.float32, np.float64, np.float32),  # float64 weight on a float32 module, float32 input
    (np.float64, np.float64, np.float32),  # float64 input and weight, the module's float32 bias
    (np.float64, np.float64, np.float64),  # every parameter reassigned: a float64 module
    (np.float16, np.float16, np.float16),
    (np.complex64, np.complex64, None),
    (np.complex128, np.complex128, np.complex128),
    (np.float32, np.float16, np.float32),
    (np.complex64, np.float32, np.float32),
])  # fmt: skip
def test_assigned_dtypes_follow_torch_rules_pinned(
    transposed: bool, x_dtype: Any, w_dtype: Any, b_dtype: Any
) -> None:
    case = ModuleCase(transposed, 2, 4, 3, stride=2, padding=1, groups=2)
    torch.manual_seed(0)
    tm, m = case.build("torch"), case.build("convtrace")
    w, b = rand(case.weight_shape(), w_dtype, 1), None if b_dtype is None else rand((4,), b_dtype, 2)
    tm.weight, m.weight = _torch_param(w), w
    tm.bias = None if b is None else _torch_param(b)
    m.bias = b
    assert m.weight.dtype == w_dtype and (m.bias is None or m.bias.dtype == b_dtype)
    x = rand((2, 2, 5), x_dtype, 3)
    with torch.no_grad():
        theirs = run(tm, tt(x))
    ours = run(m, x)
    if torch_backend_dependent(transposed, 1, x_dtype, w_dtype, b_dtype):
        pytest.skip(
            "PyTorch's answer depends on its backend (see test_float32_bias_of_another_dtype_one_answer)"
        )
    assert theirs.ok == ours.ok, f"torch: {theirs.error!r}\n convtrace: {ours.error!r}"
    if ours.ok:
        assert_close(ours.value, tn(theirs.value), torch_module_magnitude(tm, x))
    else:
        assert_convtrace_error(ours.error, {"weight", "bias", "input"}, theirs.error)
        # PyTorch's wording for a dtype mismatch (which of its two phrasings depends on its backend)
        assert "expected scalar type" in str(ours.error) or "should be the same" in str(ours.error)


def test_wrong_shape_assignment_is_rejected_at_once() -> None:
    """Deliberate: convtrace rejects a parameter of the wrong shape when it is assigned.
    PyTorch takes any Parameter; its next forward fails, or uses the shape it was given."""
    m = convtrace.nn.Conv1d(2, 3, 3)
    for shape in [(3, 2, 2), (4, 2, 3), (3, 1, 3), (3, 2), (1, 3, 2, 3)]:
        with pytest.raises(convtrace.ConvtraceError) as info:
            m.weight = np.ones(shape, np.float32)
        assert info.value.param == "weight" and "shape" in str(info.value)
    assert m.weight.shape == (3, 2, 3)  # unchanged
    with pytest.raises(convtrace.ConvtraceError) as info:
        m.bias = np.ones(4, np.float32)
    assert info.value.param == "bias"
    x = torch.ones(1, 2, 5)
    t = torch.nn.Conv1d(2, 3, 3)
    t.weight = torch.nn.Parameter(torch.ones(4, 2, 3))
    with pytest.raises(RuntimeError, match="expected bias to be 1-dimensional with 4 elements"):
        t(x)  # fails at the call...
    t = torch.nn.Conv1d(2, 3, 3)
    t.weight = torch.nn.Parameter(torch.ones(3, 2, 2))
    assert tuple(t(x).shape) == (1, 3, 4)  # ...or computes a kernel_size=2 layer


# --------------------------------------------------------------------------- output_size


@pytest.mark.parametrize(("x_dtype", "w_dtype"), [(np.float64, np.float64), (np.float32, np.float64),
                                                  (np.complex128, np.complex128), (np.float16, np.float16)])  # fmt: skip
@pytest.mark.parametrize("size", [10, 11, 12, 13])
def test_output_size_with_assigned_dtypes(x_dtype: Any, w_dtype: Any, size: int) -> None:
    case = ModuleCase(True, 2, 2, 3, stride=2, bias=False)
    torch.manual_seed(0)
    tm, m = case.build("torch"), case.build("convtrace")
    w = rand(case.weight_shape(), w_dtype, 1)
    tm.weight, m.weight = _torch_param(w), w
    x = rand((1, 2, 5), x_dtype, 2)
    with torch.no_grad():
        theirs = run(tm, tt(x), output_size=[size])
    ours = run(m, x, output_size=[size])
    assert theirs.ok == ours.ok, f"torch: {theirs.error!r}\n convtrace: {ours.error!r}"
    if ours.ok:
        assert ours.value.shape[-1] == size
        assert_close(ours.value, tn(theirs.value), torch_module_magnitude(tm, x, output_size=[size]))
    else:
        assert_convtrace_error(ours.error, CALL_PARAMS, theirs.error)


# --------------------------------------------------------------------------- functional, every dtype combination


def _functional(lib: str, transposed: bool, x: Any, w: Any, b: Any, kw: dict[str, Any]) -> Any:
    if lib == "torch":
        return run(TF.conv_transpose1d if transposed else TF.conv1d, tt(x), tt(w), tt(b), **kw)
    return run(F.conv_transpose1d if transposed else F.conv1d, x, w, b, **kw)


def compare_functional(
    transposed: bool, x: np.ndarray, w: np.ndarray, b: np.ndarray | None, kw: dict[str, Any]
) -> str | None:
    """None if convtrace and PyTorch agree (accept/reject, then dtype and values);
    otherwise a one-line description of the mismatch."""
    theirs = _functional("torch", transposed, x, w, b, kw)
    ours = _functional("convtrace", transposed, x, w, b, kw)
    if theirs.ok != ours.ok:
        return f"torch {'accepts' if theirs.ok else repr(theirs.error)}, convtrace {'accepts' if ours.ok else repr(ours.error)}"
    if not ours.ok:
        try:
            assert_convtrace_error(
                ours.error, TRANSPOSED_PARAMS if transposed else CONV1D_PARAMS, theirs.error
            )
        except AssertionError as exc:
            return f"rejection: {exc}"
        return None
    mag = tn((TF.conv_transpose1d if transposed else TF.conv1d)(
        tt(np.abs(x).astype(np.float64)), tt(np.abs(w).astype(np.float64)),
        None if b is None else tt(np.abs(b).astype(np.float64)), **kw))  # fmt: skip
    try:
        assert_close(ours.value, tn(theirs.value), mag)
    except AssertionError as exc:
        return f"values: {exc}"
    return None


# (op, shape of x, shape of w, kwargs): shapes PyTorch sends to different backends
FUNCTIONAL_TABLES = [
    ("conv1d", (1, 2, 5), (2, 1, 3), dict(groups=2, stride=2, padding=1)),
    ("conv1d", (4, 4, 50), (4, 4, 3), dict(dilation=2)),
    ("conv1d", (2, 2, 7), (3, 2, 1), dict()),
    ("conv1d", (1, 2, 6), (2, 2, 4), dict(padding="same")),
    ("conv1d", (1, 2, 6), (2, 2, 4), dict(padding="valid")),
    ("conv_transpose1d", (1, 2, 5), (2, 1, 3), dict(stride=2, padding=1, output_padding=1)),
    ("conv_transpose1d", (1, 2, 5), (2, 1, 3), dict(groups=2, dilation=2)),
    ("conv_transpose1d", (4, 4, 50), (4, 4, 3), dict(stride=2)),
    ("conv_transpose1d", (2, 3, 7), (3, 2, 1), dict()),
]


@pytest.mark.parametrize(
    ("op", "x_shape", "w_shape", "kw"), FUNCTIONAL_TABLES,
    ids=[f"{t[0]}-{'x'.join(map(str, t[1]))}-{t[3]}" for t in FUNCTIONAL_TABLES],
)  # fmt: skip
def test_every_dtype_combination_matches_torch(op: str, x_shape: tuple, w_shape: tuple, kw: dict) -> None:
    transposed = op == "conv_transpose1d"
    cout = w_shape[1] * kw.get("groups", 1) if transposed else w_shape[0]
    mismatches = []
    for xd, wd, bd in itertools.product(DTYPES, DTYPES, DTYPES + (None,)):
        x, w = rand(x_shape, xd, 0), rand(w_shape, wd, 1)
        b = None if bd is None else rand((cout,), bd, 2)
        if torch_backend_dependent(transposed, kw.get("padding"), xd, wd, bd):
            continue  # backend-dependent in PyTorch: test_float32_bias_of_another_dtype_one_answer
        if xd == wd and string_padding_bias_cast(transposed, kw.get("padding"), xd, bd):
            got = _functional("convtrace", transposed, x, w, b, kw)
            if got.ok or got.error.param != "bias":
                mismatches.append(f"x={short(xd)} b={short(bd)}: the deliberate rejection did not happen")
            continue
        problem = compare_functional(transposed, x, w, b, kw)
        if problem:
            mismatches.append(f"x={short(xd)} w={short(wd)} b={short(bd)}: {problem}")
    assert not mismatches, f"{len(mismatches)} dtype combinations differ:\n" + "\n".join(mismatches)


@st.composite
def mixed_calls(draw: Any) -> tuple[ConvCase, Any, Any, Any]:
    case = draw(any_conv_cases(max_channels=2, max_extra_length=6, zero_batch=False))
    case = replace(case, bias=draw(st.sampled_from([True, True, True, False])))
    x_dtype = draw(st.sampled_from(DTYPES))
    w_dtype = draw(st.sampled_from((x_dtype,) * 5 + DTYPES))  # the same half of the time
    b_dtype = draw(st.sampled_from((x_dtype,) * 3 + DTYPES)) if case.bias else None
    return case, x_dtype, w_dtype, b_dtype


@examples(300)
@given(call=mixed_calls())
def test_functional_mixed_dtypes_sweep(call: tuple[ConvCase, Any, Any, Any]) -> None:
    case, xd, wd, bd = call
    x, w, b = case.arrays(np.float64)
    x, w = x.astype(xd), w.astype(wd)
    b = None if b is None else b.astype(bd)
    event(f"x={short(xd)} w={short(wd)} b={short(bd)}")
    if torch_backend_dependent(case.transposed, case.padding, xd, wd, bd):
        event("torch backend-dependent")
        return
    if xd == wd and string_padding_bias_cast(case.transposed, case.padding, xd, bd):
        event("deliberate difference: string-padding bias cast")
        got = _functional("convtrace", case.transposed, x, w, b, case.kwargs())
        assert not got.ok and got.error.param == "bias"
        return
    theirs = _functional("torch", case.transposed, x, w, b, case.kwargs())
    ours = _functional("convtrace", case.transposed, x, w, b, case.kwargs())
    assert theirs.ok == ours.ok, (
        f"{case} x={short(xd)} w={short(wd)} b={short(bd)}\n torch: {theirs.error!r}\n convtrace: {ours.error!r}"
    )
    if ours.ok:
        assert_close(ours.value, tn(theirs.value), torch_magnitude(case, x, w, b))
    else:
        allowed = TRANSPOSED_PARAMS if case.transposed else CONV1D_PARAMS
        assert_convtrace_error(ours.error, allowed, theirs.error)


# --------------------------------------------------------------------------- PyTorch's backend-dependent answer


BACKEND_SHAPES = [
    ((1, 2, 6), (2, 1, 3), {}),
    ((2, 3, 7), (3, 3, 1), {}),
    ((1, 2, 6), (2, 1, 3), {"groups": 2}),
    ((4, 4, 50), (4, 4, 3), {"dilation": 2}),
    ((3, 4, 20), (4, 4, 3), {}),
]


@pytest.mark.parametrize(
    ("op", "padding", "b_dtype"),
    [
        ("conv_transpose1d", 0, np.float64),
        ("conv_transpose1d", 0, np.float16),
        ("conv1d", "same", np.float64),
        ("conv1d", "valid", np.float16),
        ("conv1d", "same", np.complex64),
    ],
)
def test_float32_bias_of_another_dtype_one_answer(op: str, padding: Any, b_dtype: Any) -> None:
    """PyTorch 2.13 CPU, float32 input and weight, a bias of another dtype: its slow path
    casts the bias (a complex one loses its imaginary part), oneDNN (chosen by shape: batch
    > 1, groups > 1, larger inputs) rejects it. That holds for conv_transpose1d with a real
    bias and for conv1d with a string padding (which skips the bias check). convtrace must
    give one answer for every shape: reject everywhere ("bias") or cast everywhere (then
    PyTorch's slow-path values)."""
    transposed = op == "conv_transpose1d"
    torch_verdicts, ours = set(), []
    for xs, ws, kw in BACKEND_SHAPES:
        kw = {**kw, "padding": padding}
        if not transposed:  # (out, in/groups, k) from the transposed layout above
            ws = (ws[0], xs[1] // kw.get("groups", 1), ws[2])
        x, w = rand(xs, np.float32, 0), rand(ws, np.float32, 1)
        cout = ws[1] * kw.get("groups", 1) if transposed else ws[0]
        b = rand((cout,), b_dtype, 2)
        torch_verdicts.add(_functional("torch", transposed, x, w, b, kw).ok)
        got = _functional("convtrace", transposed, x, w, b, kw)
        ours.append(got)
        if got.ok:  # cast: PyTorch's values with the bias cast to float32
            b32 = tt(np.real(b).astype(np.float32))
            want = (TF.conv_transpose1d if transposed else TF.conv1d)(tt(x), tt(w), b32, **kw).numpy()
            assert_close(got.value, want, np.abs(want) + 1)
        else:
            assert_convtrace_error(got.error, {"bias"})
    assert torch_verdicts == {True, False}  # PyTorch really is backend-dependent here
    assert len({o.ok for o in ours}) == 1, [o.error for o in ours]


# --------------------------------------------------------------------------- mismatches found (regressions)


@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("b_dtype", [np.float32, np.float16, np.complex128])
def test_conv1d_string_padding_bias_of_another_dtype_deliberately_rejected(padding: str, b_dtype: Any) -> None:
    """PyTorch 2.13: conv1d with padding='same'/'valid' skips the bias dtype check and casts
    the bias (a complex bias loses its imaginary part; float32 inputs depend on the backend);
    with an int padding it rejects. convtrace rejects in both cases: a deliberate difference
    listed in README."""
    x, w, b = np.ones((1, 1, 5)), np.ones((1, 1, 3)), np.full(1, 0.5, b_dtype)
    assert TF.conv1d(tt(x), tt(w), tt(b), padding=padding).dtype == torch.float64  # PyTorch casts
    with pytest.raises(RuntimeError, match="bias type"):
        TF.conv1d(tt(x), tt(w), tt(b), padding=0)
    got = run(F.conv1d, x, w, b, padding=padding)
    assert not got.ok and got.error.param == "bias" and "bias type" in got.error.rule


def test_module_same_padding_bias_of_another_dtype_deliberately_rejected() -> None:
    """The module path of the difference above: torch.nn.Conv1d(padding='same') casts an
    assigned bias of another dtype; convtrace's module rejects it at the call."""
    case = ModuleCase(False, 2, 2, 3, padding="same", dtype=np.float64)
    torch.manual_seed(0)
    tm, m = case.build("torch"), case.build("convtrace")
    m.weight = tn(tm.weight)
    b = np.array([0.5, -1.5], np.float32)
    tm.bias, m.bias = _torch_param(b), b
    x = rand((1, 2, 6), np.float64, 0)
    with torch.no_grad():
        assert tm(tt(x)).dtype == torch.float64
    got = run(m, x)
    assert not got.ok and got.error.param == "bias"


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_])
def test_integer_inputs_rejected_by_modules(transposed: bool, dtype: Any) -> None:
    """README: integer arrays are rejected with a TypeError (PyTorch rejects them too, at the
    call: its float parameters do not match an integer input)."""
    case = ModuleCase(transposed, 2, 2, 3)
    x = np.ones((1, 2, 5), dtype)
    with pytest.raises(RuntimeError):
        case.build("torch")(tt(x))
    with pytest.raises(convtrace.ConvtraceTypeError) as info:
        case.build("convtrace")(x)
    assert info.value.param == "input"


@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize(("x_dtype", "b_dtype"), [(np.complex64, np.float32), (np.complex128, np.complex64)])
def test_conv1d_string_padding_complex_input_bias_of_another_dtype_rejected(
    padding: str, x_dtype: Any, b_dtype: Any
) -> None:
    """PyTorch 2.13's string-padding path casts a bias of another dtype for real inputs only:
    with a complex input it rejects it ("Input type ... and bias type ... should be the same")."""
    x, w, b = np.ones((1, 1, 5), x_dtype), np.ones((1, 1, 3), x_dtype), np.full(1, 0.5, b_dtype)
    with pytest.raises(RuntimeError, match="bias type"):
        TF.conv1d(tt(x), tt(w), tt(b), padding=padding)
    with pytest.raises(convtrace.ConvtraceError) as info:
        F.conv1d(x, w, b, padding=padding)
    assert info.value.param == "bias"
