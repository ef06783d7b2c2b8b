"""nn.Conv1d / nn.ConvTranspose1d against torch.nn: construction and call-time accept/reject,
forward values for every padding_mode, defaults, initialisation, assignment, output_size
and repr.

Documented divergences (see test_validation_parity.py for the full list):
* ConvTranspose1d with a string padding ('same', 'valid', ...) raises at construction;
  PyTorch stores it and fails at the first call.
* Int-tuple arguments whose length is not 1 (kernel_size=(1, 2), stride=(1, 1), ...)
  raise at construction; PyTorch stores them and fails at the first call.
* Weight/bias assignment checks shape and dtype (PyTorch accepts any Parameter).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

import convtrace  # noqa: E402
import convtrace.nn as cnn  # noqa: E402
from backends import judge, one_int, torch_answers, transposed_out_length  # noqa: E402
from convtrace import rules  # noqa: E402
from strategies import (  # noqa: E402
    assert_close,
    assert_convtrace_error,
    examples,
    rand,
    run,
    tn,
    torch_module_magnitude,
    tt,
)
from strategies_modules import inject_faults  # noqa: E402

NEEDS_TORCH = True
pytestmark = [
    pytest.mark.filterwarnings("ignore:Initializing zero-element tensors is a no-op"),
    pytest.mark.filterwarnings("ignore:Using padding='same'"),
]
MODULE_PARAMS = {
    "in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups",
    "output_padding", "padding_mode", "dtype", "device",
}  # fmt: skip
CALL_PARAMS = {"input", "weight", "bias", "stride", "padding", "dilation", "groups", "output_padding", "pad"}


@dataclass(frozen=True)
class ModuleArgs:
    transposed: bool
    in_channels: int
    out_channels: int
    kernel_size: Any
    stride: Any
    padding: Any
    dilation: Any
    groups: int
    bias: bool
    padding_mode: str
    output_padding: Any

    def kwargs(self) -> dict[str, Any]:
        kw = dict(
            in_channels=self.in_channels, out_channels=self.out_channels, kernel_size=self.kernel_size,
            stride=self.stride, padding=self.padding, dilation=self.dilation, groups=self.groups,
            bias=self.bias, padding_mode=self.padding_mode,
        )  # fmt: skip
        if self.transposed:
            kw["output_padding"] = self.output_padding
        return kw

    def build(self, lib: str) -> Any:
        if lib == "torch":
            cls = torch.nn.ConvTranspose1d if self.transposed else torch.nn.Conv1d
            return cls(**self.kwargs(), dtype=torch.float64)
        cls = cnn.ConvTranspose1d if self.transposed else cnn.Conv1d
        return cls(**self.kwargs(), dtype=np.float64)


def _bad_tuple(v: Any) -> bool:
    return isinstance(v, (tuple, list)) and len(v) != 1


MODULE_FAULTS = (
    "groups", "in_not_divisible", "out_not_divisible", "kernel", "stride", "padding", "dilation",
    "output_padding", "padding_mode", "zero_in", "zero_out", "bad_tuple",
)  # fmt: skip


@st.composite
def module_args(draw: Any, *, valid_only: bool = False, transposed: bool | None = None) -> ModuleArgs:
    """Constructor arguments: with valid_only, ones PyTorch accepts at construction;
    otherwise such a set with 0-2 faults injected."""
    if transposed is None:
        transposed = draw(st.booleans())
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    cin = groups * draw(st.integers(1, 2))
    cout = groups * draw(st.integers(1, 2))
    ints = st.integers(1, 3)
    k: Any = draw(st.one_of(ints, ints.map(lambda v: (v,))))
    stride: Any = draw(ints)
    padding: Any = draw(st.integers(0, 3))
    if not transposed and draw(st.booleans()):
        padding = "valid" if stride != 1 else draw(st.sampled_from(["same", "valid"]))
    dilation: Any = draw(ints)
    output_padding: Any = draw(st.integers(0, max(stride, dilation) - 1))
    mode = draw(st.sampled_from(["zeros"] if transposed else ["zeros", "reflect", "replicate", "circular"]))
    n_faults = 0 if valid_only else draw(st.sampled_from([0, 1, 1, 2]))
    args = inject_faults(draw, dict(groups=groups, cin=cin, cout=cout, k=k, stride=stride, padding=padding,
                                    dilation=dilation, output_padding=output_padding, mode=mode),
                         MODULE_FAULTS, n_faults)
    groups, cin, cout, k, stride = args["groups"], args["cin"], args["cout"], args["k"], args["stride"]
    padding, dilation, output_padding, mode = args["padding"], args["dilation"], args["output_padding"], args["mode"]
    return ModuleArgs(
        transposed, cin, cout, k, stride, padding, dilation, groups, draw(st.booleans()), mode, output_padding,
    )


def construction_divergence(a: ModuleArgs) -> bool:
    """Documented: convtrace rejects these at construction where PyTorch defers to the call."""
    values = [a.kernel_size, a.stride, a.padding, a.dilation] + ([a.output_padding] if a.transposed else [])
    return any(_bad_tuple(v) for v in values) or (a.transposed and isinstance(a.padding, str))


def copy_weights(theirs: Any, ours: Any) -> None:
    ours.weight = tn(theirs.weight)
    if theirs.bias is not None:
        ours.bias = tn(theirs.bias)


@examples(500)
@given(args=module_args(), length=st.integers(1, 8), unbatched=st.booleans())
def test_construction_and_call_parity(args: ModuleArgs, length: int, unbatched: bool) -> None:
    torch.manual_seed(length)
    theirs = run(args.build, "torch")
    ours = run(args.build, "convtrace")
    event(f"construct torch={'ok' if theirs.ok else 'err'}")
    if theirs.ok and not ours.ok and construction_divergence(args):
        event("divergence: rejected at construction")
        assert_convtrace_error(ours.error, MODULE_PARAMS)
        return
    assert theirs.ok == ours.ok, f"{args}\n torch: {theirs.error!r}\n convtrace: {ours.error!r}"
    if not ours.ok:
        assert_convtrace_error(ours.error, MODULE_PARAMS, theirs.error)
        return
    tm, m = theirs.value, ours.value
    assert m.weight.shape == tuple(tm.weight.shape)
    assert (m.bias is None) == (tm.bias is None)
    assert repr(m) == repr(tm)
    if args.in_channels == 0:
        return  # an empty input: PyTorch skips the call's checks (test_validation_parity)
    copy_weights(tm, m)
    shape = (args.in_channels, length) if unbatched else (2, args.in_channels, length)
    x = rand(shape, np.float64, length)
    event(judge_module_call(args, tm, m, x, f"{args} x={shape}"))


def judge_module_call(args: ModuleArgs, tm: Any, m: Any, x: np.ndarray, where: str) -> str:
    """The module call judged against PyTorch's with oneDNN on and off (backends.judge)."""
    with torch.no_grad():
        theirs = torch_answers(tm, tt(x))
    ours = run(m, x)
    out_length = None
    if args.transposed:
        out_length = transposed_out_length(
            x.shape[-1], args.kernel_size, args.stride, args.padding, args.output_padding, args.dilation
        )
    dilation = one_int(args.dilation)
    rule = rules.backend_rule_for(transposed=args.transposed, input_dtype=x.dtype, out_length=out_length, dilation=dilation)

    def compare(value: np.ndarray, want: np.ndarray) -> None:
        assert_close(value, want, torch_module_magnitude(tm, x))

    return judge(ours, theirs, rule, where, CALL_PARAMS, compare)


@examples(300)
@given(args=module_args(valid_only=True), length=st.integers(1, 10), seed=st.integers(0, 100))
def test_valid_modules_match_torch_in_float32(args: ModuleArgs, length: int, seed: int) -> None:
    """Default-dtype (float32) modules with PyTorch's weights: every padding_mode."""
    cls_t = torch.nn.ConvTranspose1d if args.transposed else torch.nn.Conv1d
    cls_c = cnn.ConvTranspose1d if args.transposed else cnn.Conv1d
    torch.manual_seed(seed)
    tm = cls_t(**args.kwargs())
    m = cls_c(**args.kwargs())
    assert m.dtype == np.float32 and m.weight.dtype == np.float32
    copy_weights(tm, m)
    x = rand((2, args.in_channels, length), np.float32, seed)
    event(judge_module_call(args, tm, m, x, f"{args} L={length}"))


# --------------------------------------------------------------------------- padding modes


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_padding_mode_pinned_values(mode) -> None:
    # x = [1, 2, 3, 4], k=1 identity kernel, padding 2: the output is the padded input
    expected = {
        "zeros": [0, 0, 1, 2, 3, 4, 0, 0],
        "reflect": [3, 2, 1, 2, 3, 4, 3, 2],
        "replicate": [1, 1, 1, 2, 3, 4, 4, 4],
        "circular": [3, 4, 1, 2, 3, 4, 1, 2],
    }[mode]
    m = cnn.Conv1d(1, 1, 1, padding=2, padding_mode=mode, bias=False)
    m.weight = np.ones((1, 1, 1), np.float32)
    x = np.arange(1.0, 5.0, dtype=np.float32)[None]
    assert m(x).tolist() == [[float(v) for v in expected]]
    tm = torch.nn.Conv1d(1, 1, 1, padding=2, padding_mode=mode, bias=False)
    with torch.no_grad():
        tm.weight.fill_(1.0)
    assert tm(tt(x)).tolist() == m(x).tolist()


def test_reflect_mode_at_its_limit() -> None:
    x = np.arange(1.0, 4.0, dtype=np.float32)[None, None]  # length 3
    ok = cnn.Conv1d(1, 1, 1, padding=2, padding_mode="reflect", bias=False)
    ok.weight = np.ones((1, 1, 1), np.float32)
    assert ok(x).tolist() == [[[3.0, 2.0, 1.0, 2.0, 3.0, 2.0, 1.0]]]  # pad = L-1: accepted
    bad = cnn.Conv1d(1, 1, 1, padding=3, padding_mode="reflect", bias=False)
    with pytest.raises(convtrace.ConvtraceError, match="Padding size should be less than") as info:
        bad(x)  # pad = L: rejected at call time, as in PyTorch
    assert info.value.param == "pad"
    with pytest.raises(RuntimeError, match="Padding size should be less than"):
        torch.nn.Conv1d(1, 1, 1, padding=3, padding_mode="reflect")(tt(x))


def test_same_padding_with_reflect_uses_the_asymmetric_split() -> None:
    # k=4: 'same' pads 1 left, 2 right; reflect of [1, 2, 3, 4, 5] -> [2 | 1..5 | 4, 3]
    m = cnn.Conv1d(1, 1, 4, padding="same", padding_mode="reflect", bias=False)
    m.weight = np.array([[[1.0, 10.0, 100.0, 1000.0]]], np.float32)
    y = m(np.arange(1.0, 6.0, dtype=np.float32)[None, None])
    # y[i] = p[i] + 10 p[i+1] + 100 p[i+2] + 1000 p[i+3], p = [2, 1, 2, 3, 4, 5, 4, 3]
    assert y.tolist() == [[[3212.0, 4321.0, 5432.0, 4543.0, 3454.0]]]


# --------------------------------------------------------------------------- defaults / init


def test_defaults_match_torch() -> None:
    for ours, theirs in (
        (cnn.Conv1d(4, 6, 3), torch.nn.Conv1d(4, 6, 3)),
        (cnn.ConvTranspose1d(4, 6, 3, groups=2), torch.nn.ConvTranspose1d(4, 6, 3, groups=2)),
    ):
        assert ours.dtype == np.float32
        assert ours.weight.dtype == np.float32 and ours.bias.dtype == np.float32
        assert ours.weight.shape == tuple(theirs.weight.shape)
        assert ours.bias.shape == tuple(theirs.bias.shape)
        for name in ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation",
                     "output_padding", "groups", "padding_mode"):
            assert getattr(ours, name) == getattr(theirs, name), name
    assert cnn.Conv1d(4, 6, 3).weight.shape == (6, 4, 3)
    assert cnn.ConvTranspose1d(4, 6, 3, groups=2).weight.shape == (4, 3, 3)
    assert cnn.Conv1d(4, 6, 3, bias=False).bias is None


def _ks_uniform(values: np.ndarray, bound: float) -> float:
    """Kolmogorov-Smirnov distance between the sample and U(-bound, bound)."""
    v = np.sort(values.ravel().astype(np.float64))
    n = v.size
    cdf = np.clip((v + bound) / (2 * bound), 0.0, 1.0)
    return float(max((np.arange(1, n + 1) / n - cdf).max(), (cdf - np.arange(n) / n).max()))


@pytest.mark.parametrize(
    ("cls", "tcls", "args", "fan_in"),
    [
        (cnn.Conv1d, torch.nn.Conv1d, (16, 64, 9), 16 * 9),
        (cnn.Conv1d, torch.nn.Conv1d, (16, 64, 9, 1, 0, 1, 4), 4 * 9),  # groups=4
        (cnn.ConvTranspose1d, torch.nn.ConvTranspose1d, (64, 16, 9), 16 * 9),  # fan_in = out/g * k
        (cnn.ConvTranspose1d, torch.nn.ConvTranspose1d, (64, 16, 9, 1, 0, 0, 2), 8 * 9),
    ],
)
def test_default_init_is_uniform_within_torch_bound(cls, tcls, args, fan_in) -> None:
    bound = 1.0 / math.sqrt(fan_in)
    m = cls(*args, rng=0)
    torch.manual_seed(0)
    t = tcls(*args)
    for ours, theirs in ((m.weight, tn(t.weight)), (m.bias, tn(t.bias))):
        assert np.abs(ours).max() <= bound
        assert np.abs(theirs).max() <= bound  # the same bound as PyTorch's init
    for w in (m.weight, tn(t.weight)):  # thousands of draws: both fill the whole interval
        assert w.min() < -0.95 * bound and w.max() > 0.95 * bound
    assert _ks_uniform(m.weight, bound) < 1.95 / math.sqrt(m.weight.size)  # alpha = 0.001
    assert _ks_uniform(tn(t.weight), bound) < 1.95 / math.sqrt(m.weight.size)  # the test is fair
    # seeded: reproducible; unseeded: differs between modules
    np.testing.assert_array_equal(cls(*args, rng=0).weight, m.weight)
    assert not np.array_equal(cls(*args).weight, cls(*args).weight)


def test_reset_parameters_redraws() -> None:
    m = cnn.Conv1d(2, 3, 3, rng=1)
    before = m.weight.copy()
    m.reset_parameters(2)
    assert m.weight.shape == before.shape and not np.array_equal(m.weight, before)


# --------------------------------------------------------------------------- assignment


def test_weight_and_bias_assignment_checks() -> None:
    m = cnn.Conv1d(2, 3, 3)
    with pytest.raises(convtrace.ConvtraceError, match=r"must have shape \[3, 2, 3\]") as info:
        m.weight = np.ones((3, 2, 2), np.float32)
    assert info.value.param == "weight"
    # another dtype is accepted, as PyTorch accepts a Parameter of another dtype (issue 6);
    # the next forward follows the usual dtype rules
    m.weight = np.ones((3, 2, 3), np.float64)
    assert m.weight.dtype == np.float64
    with pytest.raises(convtrace.ConvtraceError, match="expected scalar type Float but found Double") as info:
        m(np.ones((2, 5), np.float32))
    assert info.value.param == "weight"
    with pytest.raises(convtrace.ConvtraceError) as info:
        m.bias = np.ones(2, np.float32)
    assert info.value.param == "bias"
    src = np.full((3, 2, 3), 2.0, np.float32)
    m.weight = src
    src[:] = 0.0  # the module owns a copy
    assert (m.weight == 2.0).all()
    m.bias = None
    assert m.bias is None and repr(m).endswith("bias=False)")
    assert m(np.ones((2, 5), np.float32)).tolist() == [[12.0, 12.0, 12.0]] * 3
    t = cnn.ConvTranspose1d(2, 4, 3, groups=2)
    with pytest.raises(convtrace.ConvtraceError, match=r"\[2, 2, 3\]"):
        t.weight = np.ones((4, 1, 3), np.float32)  # the Conv1d layout, not the transposed one


def test_to_changes_dtype_in_place() -> None:
    m = cnn.Conv1d(2, 3, 3, rng=0)
    w32 = m.weight.copy()
    assert m.to(np.float64) is m
    assert m.dtype == np.float64 and m.weight.dtype == np.float64 and m.bias.dtype == np.float64
    np.testing.assert_array_equal(m.weight, w32.astype(np.float64))
    assert [p.dtype for p in m.parameters()] == [np.float64, np.float64]
    with pytest.raises(convtrace.ConvtraceTypeError):
        m.to(np.int32)


def test_mixed_dtype_call_is_rejected_like_torch() -> None:
    m = cnn.Conv1d(1, 1, 3)
    with pytest.raises(convtrace.ConvtraceError) as info:
        m(np.ones((1, 1, 5), np.float64))
    assert info.value.param == "weight"
    with pytest.raises(RuntimeError):
        torch.nn.Conv1d(1, 1, 3)(torch.ones(1, 1, 5, dtype=torch.float64))


# --------------------------------------------------------------------------- output_size


@examples(150)
@given(
    args=module_args(valid_only=True, transposed=True),
    length=st.integers(1, 6),
    offset=st.integers(-2, 4),
    form=st.sampled_from(["spatial", "full", "tuple"]),
    unbatched=st.booleans(),
)
def test_output_size_matches_torch(args, length, offset, form, unbatched) -> None:
    torch.manual_seed(0)
    tm = torch.nn.ConvTranspose1d(**args.kwargs(), dtype=torch.float64)
    m = cnn.ConvTranspose1d(**args.kwargs(), dtype=np.float64)
    copy_weights(tm, m)
    shape = (args.in_channels, length) if unbatched else (2, args.in_channels, length)
    x = rand(shape, np.float64, 0)
    k, s, p, d = args.kernel_size, args.stride, args.padding, args.dilation
    k = k[0] if isinstance(k, tuple) else k
    size = (length - 1) * s - 2 * p + d * (k - 1) + 1 + offset
    output_size: Any = {"spatial": [size], "full": list(shape[:-2]) + [args.out_channels, size],
                        "tuple": tuple(shape[:-2]) + (args.out_channels, size)}[form]
    t_out = run(tm, tt(x), output_size=output_size)
    c_out = run(m, x, output_size=output_size)
    event(f"torch={'ok' if t_out.ok else type(t_out.error).__name__}")
    assert t_out.ok == c_out.ok, f"{args} x={shape} output_size={output_size}\n {t_out.error!r}\n {c_out.error!r}"
    if c_out.ok:
        assert c_out.value.shape[-1] == size
        assert_close(c_out.value, tn(t_out.value), torch_module_magnitude(tm, x, output_size=output_size))
    else:
        assert_convtrace_error(c_out.error, CALL_PARAMS | {"output_size"}, t_out.error)


def test_output_size_range_error_names_the_range() -> None:
    m = cnn.ConvTranspose1d(1, 1, 3, stride=2)
    x = np.zeros((1, 1, 5), np.float32)
    assert m(x, output_size=[11]).shape == (1, 1, 11)
    assert m(x, output_size=[12]).shape == (1, 1, 12)
    for bad in (10, 13):
        with pytest.raises(convtrace.ConvtraceError) as info:
            m(x, output_size=[bad])
        assert info.value.param == "output_size"
        assert "valid sizes range from [11] to [12]" in str(info.value)
        with pytest.raises(ValueError, match=r"valid sizes range from \[11\] to \[12\]"):
            torch.nn.ConvTranspose1d(1, 1, 3, stride=2)(torch.zeros(1, 1, 5), output_size=[bad])
    with pytest.raises(convtrace.ConvtraceError, match="output_size must have 1 or 3 elements"):
        m(x, output_size=[1, 12])


@pytest.mark.parametrize("output_size", [[12.0], [12.5], ["12"], 12, 12.0, "12"])
def test_output_size_must_be_a_sequence_of_ints(output_size) -> None:
    t = torch.nn.ConvTranspose1d(1, 1, 3, stride=2)
    with pytest.raises((TypeError, ValueError)):
        t(torch.zeros(1, 1, 5), output_size=output_size)
    with pytest.raises(convtrace.ConvtraceTypeError) as info:
        cnn.ConvTranspose1d(1, 1, 3, stride=2)(np.zeros((1, 1, 5), np.float32), output_size=output_size)
    assert info.value.param == "output_size"


@pytest.mark.parametrize("output_size", [torch.Size([12]), np.array([12]), (np.int64(12),), [1, 1, 12]])
def test_output_size_sequence_types(output_size) -> None:
    m = cnn.ConvTranspose1d(1, 1, 3, stride=2)
    assert m(np.zeros((1, 1, 5), np.float32), output_size=output_size).shape == (1, 1, 12)


# --------------------------------------------------------------------------- repr / misc


REPR_CASES = [
    ("Conv1d", (1, 1, 3), {}),
    ("Conv1d", (2, 4, 3), {"padding": 1, "bias": False}),
    ("Conv1d", (2, 4, (5,)), {"stride": 2, "dilation": 3, "groups": 2}),
    ("Conv1d", (2, 4, 4), {"padding": "same", "padding_mode": "reflect"}),
    ("Conv1d", (2, 4, 4), {"padding": "valid", "padding_mode": "circular"}),
    ("Conv1d", (3, 3, 2), {"padding": (2,), "padding_mode": "replicate", "groups": 3}),
    ("ConvTranspose1d", (1, 1, 3), {}),
    ("ConvTranspose1d", (4, 2, 3), {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2}),
    ("ConvTranspose1d", (4, 2, 3), {"dilation": 2, "bias": False}),
    ("ConvTranspose1d", (2, 2, 1), {"stride": 3, "output_padding": (2,)}),
]


@pytest.mark.parametrize(("name", "args", "kwargs"), REPR_CASES)
def test_repr_equals_torch(name, args, kwargs) -> None:
    assert repr(getattr(cnn, name)(*args, **kwargs)) == repr(getattr(torch.nn, name)(*args, **kwargs))


def test_transposed_string_padding_raises_at_construction() -> None:
    # Deliberate divergence: PyTorch stores padding='same' and fails at the first call.
    t = torch.nn.ConvTranspose1d(1, 1, 3, padding="same")
    with pytest.raises(TypeError):
        t(torch.ones(1, 1, 5))
    for padding in ("same", "valid"):
        with pytest.raises(convtrace.ConvtraceTypeError) as info:
            cnn.ConvTranspose1d(1, 1, 3, padding=padding)
        assert info.value.param == "padding"


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [({"kernel_size": (1, 2)}, "kernel_size"), ({"stride": (1, 1)}, "stride"), ({"dilation": ()}, "dilation")],
)
def test_wrong_length_tuples_raise_at_construction(kwargs, param) -> None:
    # Divergence: PyTorch stores these and fails at the first call.
    kw = {"kernel_size": 3, **kwargs}
    t = torch.nn.Conv1d(1, 1, **kw)
    with pytest.raises(RuntimeError):
        t(torch.ones(1, 1, 5))
    with pytest.raises(convtrace.ConvtraceError) as info:
        cnn.Conv1d(1, 1, **kw)
    assert info.value.param == param


@pytest.mark.parametrize(
    ("kwargs", "param", "torch_exc"),
    [
        ({"groups": 0}, "groups", ValueError),
        ({"in_channels": 3, "groups": 2}, "in_channels", ValueError),
        ({"out_channels": 3, "groups": 2}, "out_channels", ValueError),
        ({"padding": "same", "stride": 2}, "padding", ValueError),
        ({"padding": "full"}, "padding", ValueError),
        ({"padding_mode": "zero"}, "padding_mode", ValueError),
        ({"kernel_size": -1}, "kernel_size", RuntimeError),
    ],
)
def test_constructor_rejections_match_torch(kwargs, param, torch_exc) -> None:
    kw = {"in_channels": 2, "out_channels": 2, "kernel_size": 3, **kwargs}
    with pytest.raises(torch_exc):
        torch.nn.Conv1d(**kw)
    with pytest.raises(convtrace.ConvtraceError) as info:
        cnn.Conv1d(**kw)
    assert info.value.param == param


def test_transposed_padding_mode_must_be_zeros() -> None:
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported'):
        torch.nn.ConvTranspose1d(1, 1, 3, padding_mode="reflect")
    with pytest.raises(convtrace.ConvtraceError, match='Only "zeros" padding mode is supported') as info:
        cnn.ConvTranspose1d(1, 1, 3, padding_mode="reflect")
    assert info.value.param == "padding_mode"


def test_device_must_be_cpu() -> None:
    assert cnn.Conv1d(1, 1, 3, device="cpu").weight.shape == (1, 1, 3)
    with pytest.raises(convtrace.ConvtraceError) as info:
        cnn.Conv1d(1, 1, 3, device="cuda")
    assert info.value.param == "device"
