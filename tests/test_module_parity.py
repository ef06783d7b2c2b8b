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
* PyTorch's answer that depends on its backend (oneDNN on or off, by CPU, dtype and shape):
  every sweep asks PyTorch both ways and judges convtrace by ``backends.judge`` against the
  registry ``convtrace.rules.BACKEND_RULES`` (a bias of another dtype for conv_transpose1d
  and for conv1d with a string padding, a transposed output of length 0: convtrace raises).

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
from backends import judge, one_int, torch_answers, transposed_out_length  # noqa: E402
from convtrace import rules  # noqa: E402
from strategies import (  # noqa: E402
    ConvCase,
    any_conv_cases,
    assert_close,
    assert_convtrace_error,
    examples,
    rand,
    run,
    tn,
    torch_module_magnitude,
    tt,
)
from strategies_modules import (  # noqa: E402
    DTYPES,
    MODULE_FAULTS,
    Assignment,
    ModuleCase,
    assignments,
    inject_faults,
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
    pytest.mark.filterwarnings("ignore:Complex modules are a new feature"),
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


def backend_rule(
    transposed: bool, padding: Any, x_dtype: Any, b_dtype: Any, out_length: int | None = None, dilation: Any = 1
) -> rules.BackendRule | None:
    """The backend-dependent rule (convtrace.rules) covering a call, or None."""
    return rules.backend_rule_for(
        transposed=transposed, input_dtype=x_dtype, bias_dtype=b_dtype, string_padding=isinstance(padding, str),
        out_length=out_length, dilation=one_int(dilation),
    )  # fmt: skip


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
        theirs = torch_answers(tm, tt(x), **kw)
    if rejected is not None:
        # deliberate: convtrace rejects a parameter of the wrong shape when it is assigned;
        # PyTorch fails at this call, or computes with the shape it was given
        event(f"wrong {rejected} shape: torch {'accepts' if theirs.off.ok else 'rejects'} the call")
        return
    c_out = run(m, x, **kw)
    b_dtype = None if m.bias is None else m.bias.dtype
    where = f"{case}\n assigned {a}\n x {short(x_dtype)} {shape} {kw}"
    out_length = None
    if case.transposed:
        out_length = kw["output_size"][0] if kw else transposed_out_length(
            length, case.kernel_size, case.stride, case.padding, case.output_padding, case.dilation
        )
    rule = backend_rule(case.transposed, case.padding, x_dtype, b_dtype, out_length, case.dilation)

    def compare(ours: np.ndarray, value: np.ndarray) -> None:
        assert_close(ours, value, torch_module_magnitude(tm, x, **kw))

    event(judge(c_out, theirs, rule, where, CALL_PARAMS, compare))


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
        theirs = torch_answers(tm, tt(x))
    ours = run(m, x)
    rule = backend_rule(transposed, 1, x_dtype, b_dtype)

    def compare(value: np.ndarray, want: np.ndarray) -> None:
        assert_close(value, want, torch_module_magnitude(tm, x))

    judge(ours, theirs, rule, f"x {short(x_dtype)} w {short(w_dtype)} b {short(b_dtype)}", {"weight", "bias", "input"},
          compare)  # fmt: skip
    if not ours.ok and rule is None:
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


def judge_functional(transposed: bool, x: np.ndarray, w: np.ndarray, b: np.ndarray | None, kw: dict[str, Any]) -> str:
    """Judge convtrace's functional call against PyTorch's with oneDNN on and off
    (``backends.judge``); returns the event label, raises AssertionError on a mismatch."""
    theirs = torch_answers(TF.conv_transpose1d if transposed else TF.conv1d, tt(x), tt(w), tt(b), **kw)
    ours = _functional("convtrace", transposed, x, w, b, kw)
    out_length = None
    if transposed:
        out_length = transposed_out_length(
            x.shape[-1], w.shape[-1], kw.get("stride", 1), kw.get("padding", 0), kw.get("output_padding", 0),
            kw.get("dilation", 1),
        )
    rule = backend_rule(transposed, kw.get("padding"), x.dtype, None if b is None else b.dtype, out_length,
                        kw.get("dilation", 1))  # fmt: skip
    mag = tn((TF.conv_transpose1d if transposed else TF.conv1d)(
        tt(np.abs(x).astype(np.float64)), tt(np.abs(w).astype(np.float64)),
        None if b is None else tt(np.abs(b).astype(np.float64)), **kw)) if ours.ok else None  # fmt: skip

    def compare(value: np.ndarray, want: np.ndarray) -> None:
        assert_close(value, want, mag)

    where = f"x={short(x.dtype)} w={short(w.dtype)} b={short(None if b is None else b.dtype)} {kw}"
    return judge(ours, theirs, rule, where, TRANSPOSED_PARAMS if transposed else CONV1D_PARAMS, compare)


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
        try:
            judge_functional(transposed, x, w, b, kw)
        except AssertionError as exc:
            mismatches.append(f"x={short(xd)} w={short(wd)} b={short(bd)}: {exc}")
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
    event(judge_functional(case.transposed, x, w, b, case.kwargs()))


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
    """A float32 input and weight with a bias of another dtype: PyTorch's answer depends on
    its backend (oneDNN raises on some shapes, its other paths cast; which shapes oneDNN takes
    depends on the CPU and the build). convtrace gives one answer for every shape: it raises
    the registry's rule, whatever PyTorch does on this host (recorded, not assumed)."""
    transposed = op == "conv_transpose1d"
    for xs, ws, kw in BACKEND_SHAPES:
        kw = {**kw, "padding": padding}
        if not transposed:  # (out, in/groups, k) from the transposed layout above
            ws = (ws[0], xs[1] // kw.get("groups", 1), ws[2])
        x, w = rand(xs, np.float32, 0), rand(ws, np.float32, 1)
        cout = ws[1] * kw.get("groups", 1) if transposed else ws[0]
        b = rand((cout,), b_dtype, 2)
        label = judge_functional(transposed, x, w, b, kw)
        assert label.startswith("backend rule "), label
        got = _functional("convtrace", transposed, x, w, b, kw)
        assert got.error.code == ("transposed-bias-dtype" if transposed else "string-padding-bias-dtype")


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


@examples(60)
@given(data=st.data(), first=st.sampled_from(MODULE_FAULTS), second=st.sampled_from(MODULE_FAULTS))
def test_faults_combine_in_any_order(data: Any, first: str, second: str) -> None:
    """The fault injector itself: any two faults combine (a string channel count from
    "wrong_type" and then "in_not_divisible" once raised a TypeError inside the strategy)."""
    args = dict(groups=2, cin=2, cout=2, k=3, stride=1, padding=0, dilation=1, output_padding=0, mode="zeros")
    faults = (first, second) if first != second else (first,)
    out = inject_faults(data.draw, args, faults, len(faults))
    assert set(out) == set(args)


def test_wrong_type_then_not_divisible_is_injected_without_error() -> None:
    @given(data=st.data())
    def inner(data: Any) -> None:
        args = dict(groups=2, cin=2, cout=2, k=3, stride=1, padding=0, dilation=1, output_padding=0, mode="zeros")
        out = inject_faults(data.draw, {**args, "cin": "2"}, ("in_not_divisible",), 1)
        assert out["cin"] == "2"

    inner()
