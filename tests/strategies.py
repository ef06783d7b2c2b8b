"""Shared test helpers: Hypothesis strategies for convolution cases, array factories,
tolerances, and thin wrappers that run PyTorch (the oracle) on NumPy arrays.

Nothing here imports torch at import time; the ``torch_*`` helpers import it lazily, and
test modules that use them call ``pytest.importorskip("torch")`` first.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st

import convtrace

REAL_DTYPES = (np.float64, np.float32)
COMPLEX_DTYPES = (np.complex128, np.complex64)

# (rtol, atol factor): |actual - expected| <= rtol*|expected| + atol_factor*magnitude, where
# magnitude is the same computation on |operands|, i.e. the sum of |terms| behind each
# output element (the scale a floating-point sum's rounding error is proportional to).
TOLERANCES = {
    np.dtype(np.float64): (1e-10, 1e-12),
    np.dtype(np.complex128): (1e-10, 1e-12),
    np.dtype(np.float32): (1e-4, 1e-5),
    np.dtype(np.complex64): (1e-4, 1e-5),
    # float16: one rounding of the result is 2**-11 relative; PyTorch's transposed kernel
    # rounds once per tap (col2im), so allow a few half-precision ulps of the magnitude.
    np.dtype(np.float16): (4e-3, 4e-3),
}


_SCALE = {"quick": 0.1, "thorough": 10.0, "explore": 10.0}.get(os.environ.get("HYPOTHESIS_PROFILE", "default"), 1.0)


def examples(n: int) -> settings:
    """Settings for a sweep of ``n`` examples (scaled by the Hypothesis profile)."""
    return settings(max_examples=max(5, int(n * _SCALE)))


# --------------------------------------------------------------------------- arrays


def rand(shape: tuple[int, ...], dtype: Any = np.float64, seed: int = 0) -> np.ndarray:
    """Standard-normal values (complex: independent real and imaginary parts)."""
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    if dt.kind == "c":
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dt)
    return rng.standard_normal(shape).astype(dt)


def assert_close(actual: np.ndarray, expected: np.ndarray, magnitude: np.ndarray | None = None) -> None:
    """Dtype, shape and values, with the dtype's tolerance scaled by ``magnitude``."""
    expected = np.asarray(expected)
    assert isinstance(actual, np.ndarray), type(actual)
    assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    rtol, atol_factor = TOLERANCES[actual.dtype]
    mag = np.abs(expected).astype(np.float64) if magnitude is None else np.asarray(magnitude, np.float64)
    a = actual.astype(np.complex128)
    e = expected.astype(np.complex128)
    err = np.abs(a - e)
    bound = rtol * np.abs(e) + atol_factor * mag + 1e-300
    bad = err > bound
    assert not bad.any(), (
        f"{int(bad.sum())} of {bad.size} elements differ; worst error {err.max():.3g} "
        f"at {np.unravel_index(np.argmax(err - bound), err.shape)}"
    )


# --------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class ConvCase:
    """One valid convolution call (either op) and the seed of its random operands."""

    transposed: bool
    batch: int | None  # None: unbatched (C, L) input
    in_per_group: int
    out_per_group: int
    groups: int
    length: int
    kernel_size: int
    stride: int
    padding: Any  # int, 1-tuple, 'same' or 'valid' (conv1d); int or 1-tuple (transposed)
    dilation: int
    output_padding: int
    bias: bool
    seed: int

    @property
    def in_channels(self) -> int:
        return self.in_per_group * self.groups

    @property
    def out_channels(self) -> int:
        return self.out_per_group * self.groups

    @property
    def input_shape(self) -> tuple[int, ...]:
        if self.batch is None:
            return (self.in_channels, self.length)
        return (self.batch, self.in_channels, self.length)

    @property
    def weight_shape(self) -> tuple[int, int, int]:
        if self.transposed:
            return (self.in_channels, self.out_per_group, self.kernel_size)
        return (self.out_channels, self.in_per_group, self.kernel_size)

    @property
    def pad_int(self) -> int:
        """The integer padding (for 'same'/'valid' call sites, use :meth:`pad_pair`)."""
        p = self.padding
        return int(p[0]) if isinstance(p, (tuple, list)) else int(p)

    def pad_pair(self) -> tuple[int, int]:
        if self.padding == "same":
            total = self.dilation * (self.kernel_size - 1)
            return total // 2, total - total // 2
        if self.padding == "valid":
            return 0, 0
        return self.pad_int, self.pad_int

    @property
    def out_length(self) -> int:
        k, s, d = self.kernel_size, self.stride, self.dilation
        if self.transposed:
            return (self.length - 1) * s - 2 * self.pad_int + d * (k - 1) + self.output_padding + 1
        pl, pr = self.pad_pair()
        return (self.length + pl + pr - d * (k - 1) - 1) // s + 1

    @property
    def output_shape(self) -> tuple[int, ...]:
        if self.batch is None:
            return (self.out_channels, self.out_length)
        return (self.batch, self.out_channels, self.out_length)

    def batched(self) -> ConvCase:
        return self if self.batch is not None else replace(self, batch=1)

    def arrays(self, dtype: Any = np.float64) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        x = rand(self.input_shape, dtype, self.seed)
        w = rand(self.weight_shape, dtype, self.seed + 1)
        b = rand((self.out_channels,), dtype, self.seed + 2) if self.bias else None
        return x, w, b

    def grad_output(self, dtype: Any = np.float64) -> np.ndarray:
        return rand(self.output_shape, dtype, self.seed + 3)

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments shared by functional, grad and torch.nn.functional."""
        kw: dict[str, Any] = dict(
            stride=self.stride, padding=self.padding, dilation=self.dilation, groups=self.groups
        )
        if self.transposed:
            kw["output_padding"] = self.output_padding
        return kw

    def module_kwargs(self) -> dict[str, Any]:
        kw = self.kwargs()
        kw.update(
            in_channels=self.in_channels,
            out_channels=self.out_channels,
            kernel_size=self.kernel_size,
            bias=self.bias,
        )
        return kw


def _padding_form(draw: Any, value: int) -> Any:
    """The same integer padding, spelled as int, 1-tuple or 1-list."""
    return draw(st.sampled_from([value, (value,), [value]]))


@st.composite
def conv1d_cases(
    draw: Any,
    *,
    unbatched: bool = True,
    string_padding: bool = True,
    max_channels: int = 3,
    max_kernel: int = 5,
    max_extra_length: int = 10,
    zero_batch: bool = True,
) -> ConvCase:
    """Valid ``conv1d`` calls over the whole parameter space (small sizes)."""
    groups = draw(st.integers(1, 3))
    cin_g = draw(st.integers(1, max_channels))
    cout_g = draw(st.integers(1, max_channels))
    k = draw(st.integers(1, max_kernel))
    stride = draw(st.integers(1, 3))
    dilation = draw(st.integers(1, 3))
    kinds = ["int", "int", "same", "valid"] if string_padding else ["int"]
    kind = draw(st.sampled_from(kinds))
    if kind == "same" and stride != 1:
        kind = "int"
    if kind == "int":
        p = draw(st.integers(0, dilation * (k - 1) // 2 + 2))
        padding: Any = _padding_form(draw, p)
        total = 2 * p
    else:
        padding = kind
        total = dilation * (k - 1) if kind == "same" else 0
    min_len = max(1, dilation * (k - 1) + 1 - total)
    length = draw(st.integers(min_len, min_len + max_extra_length))
    batch_choices = [1, 2, 3] + ([0] if zero_batch else []) + ([None] if unbatched else [])
    batch = draw(st.sampled_from(batch_choices))
    return ConvCase(
        transposed=False,
        batch=batch,
        in_per_group=cin_g,
        out_per_group=cout_g,
        groups=groups,
        length=length,
        kernel_size=k,
        stride=stride,
        padding=padding,
        dilation=dilation,
        output_padding=0,
        bias=draw(st.booleans()),
        seed=draw(st.integers(0, 2**31)),
    )


@st.composite
def conv_transpose1d_cases(
    draw: Any,
    *,
    unbatched: bool = True,
    max_channels: int = 3,
    max_kernel: int = 5,
    max_extra_length: int = 8,
    zero_batch: bool = True,
) -> ConvCase:
    """Valid ``conv_transpose1d`` calls, padding up to beyond ``dilation*(k-1)``."""
    groups = draw(st.integers(1, 3))
    cin_g = draw(st.integers(1, max_channels))
    cout_g = draw(st.integers(1, max_channels))
    k = draw(st.integers(1, max_kernel))
    stride = draw(st.integers(1, 3))
    dilation = draw(st.integers(1, 3))
    p = draw(st.integers(0, dilation * (k - 1) + stride + 1))
    output_padding = draw(st.integers(0, max(stride, dilation) - 1))
    # (L-1)*s - 2p + d(k-1) + op + 1 >= 1
    need = 2 * p - dilation * (k - 1) - output_padding
    min_len = max(1, 1 + -(-need // stride))
    length = draw(st.integers(min_len, min_len + max_extra_length))
    batch_choices = [1, 2, 3] + ([0] if zero_batch else []) + ([None] if unbatched else [])
    return ConvCase(
        transposed=True,
        batch=draw(st.sampled_from(batch_choices)),
        in_per_group=cin_g,
        out_per_group=cout_g,
        groups=groups,
        length=length,
        kernel_size=k,
        stride=stride,
        padding=_padding_form(draw, p),
        dilation=dilation,
        output_padding=output_padding,
        bias=draw(st.booleans()),
        seed=draw(st.integers(0, 2**31)),
    )


def any_conv_cases(*, string_padding: bool = True, **kw: Any) -> st.SearchStrategy[ConvCase]:
    """Either op (``string_padding`` applies to conv1d; the transposed op has none)."""
    return st.one_of(conv1d_cases(string_padding=string_padding, **kw), conv_transpose1d_cases(**kw))


# --------------------------------------------------------------------------- invalid draws


@dataclass(frozen=True)
class RawCall:
    """Arguments of one functional call that may be invalid in any way."""

    transposed: bool
    x: np.ndarray
    w: np.ndarray
    b: np.ndarray | None
    stride: Any
    padding: Any
    dilation: Any
    groups: Any
    output_padding: Any

    def args(self) -> tuple[Any, ...]:
        """Positional arguments in PyTorch's order (dilation last for the transposed op)."""
        if self.transposed:
            return (self.x, self.w, self.b, self.stride, self.padding, self.output_padding,
                    self.groups, self.dilation)
        return (self.x, self.w, self.b, self.stride, self.padding, self.dilation, self.groups)

    def describe(self) -> str:
        b = None if self.b is None else (self.b.shape, str(self.b.dtype))
        return (
            f"{'conv_transpose1d' if self.transposed else 'conv1d'}(x={self.x.shape} {self.x.dtype}, "
            f"w={self.w.shape} {self.w.dtype}, b={b}, stride={self.stride!r}, "
            f"padding={self.padding!r}, dilation={self.dilation!r}, groups={self.groups!r}, "
            f"output_padding={self.output_padding!r})"
        )


FAULTS = (
    "kernel_too_long", "stride_nonpositive", "dilation_nonpositive", "padding_negative",
    "output_padding_negative", "output_padding_too_big", "groups_not_dividing", "groups_nonpositive",
    "wrong_channels", "bias_shape", "same_strided", "bad_padding_string", "zero_length", "zero_batch",
    "zero_channels", "output_too_small", "mixed_dtype", "bias_dtype", "kernel_zero",
    "zero_out_channels", "wrong_type", "tuple_length", "input_ndim", "weight_ndim",
)  # fmt: skip (applied in this order: the shape-changing ndim faults last)


@st.composite
def raw_calls(draw: Any) -> RawCall:
    """A valid call with 0-2 faults injected: each drawn call is near the boundary of validity.

    The faults are the invalid-argument classes PyTorch checks (and a few that PyTorch's
    empty-tensor path treats specially); several at once test which check wins.
    """
    case = draw(any_conv_cases(max_channels=2, max_extra_length=5))
    dtype = np.dtype(draw(st.sampled_from([np.float64, np.float32, np.float16, np.complex128])))
    n_faults = draw(st.sampled_from([0, 1, 1, 1, 2, 2]))
    faults = draw(st.lists(st.sampled_from(FAULTS), min_size=n_faults, max_size=n_faults, unique=True))
    x_shape = list(case.input_shape)
    w_shape = list(case.weight_shape)
    w_dtype = b_dtype = dtype
    p: dict[str, Any] = dict(
        stride=case.stride, padding=case.padding, dilation=case.dilation, groups=case.groups,
        output_padding=case.output_padding,
    )
    bias_shape: tuple[int, ...] | None = (case.out_channels,) if case.bias else None
    for fault in sorted(faults, key=FAULTS.index):
        if fault == "kernel_too_long":
            w_shape[-1] = case.length + sum(case.pad_pair()) + draw(st.integers(1, 3))
            if p["padding"] == "same":
                p["padding"] = "valid"
        elif fault == "stride_nonpositive":
            p["stride"] = draw(st.sampled_from([0, -1, (0,)]))
        elif fault == "dilation_nonpositive":
            p["dilation"] = draw(st.sampled_from([0, -2, [0]]))
        elif fault == "padding_negative":
            p["padding"] = draw(st.sampled_from([-1, (-2,)]))
        elif fault == "output_padding_negative":
            p["output_padding"] = -1
        elif fault == "output_padding_too_big":
            s, d = (v if isinstance(v, int) else 1 for v in (p["stride"], p["dilation"]))
            p["output_padding"] = max(s, d) + draw(st.integers(0, 1))
        elif fault == "groups_not_dividing":
            p["groups"] = case.groups + draw(st.integers(1, 2))
        elif fault == "groups_nonpositive":
            p["groups"] = draw(st.sampled_from([0, -1]))
        elif fault == "wrong_channels":
            x_shape[-2] += draw(st.sampled_from([1, -1]))
        elif fault == "bias_shape":
            bias_shape = draw(st.sampled_from([(case.out_channels + 1,), (1, case.out_channels), ()]))
        elif fault == "same_strided":
            p["padding"], p["stride"] = "same", draw(st.integers(2, 3))
        elif fault == "bad_padding_string":
            p["padding"] = draw(st.sampled_from(["full", "SAME", "", "same" if case.transposed else "causal"]))
        elif fault == "zero_length":
            x_shape[-1] = 0
        elif fault == "zero_batch":
            x_shape[0] = 0
        elif fault == "zero_channels":
            x_shape[-2] = 0
            if not case.transposed:
                w_shape[1] = 0
        elif fault == "output_too_small":
            if case.transposed:
                # an output of -many, exactly 0 or exactly 1 samples (0 is backend-dependent in PyTorch)
                full = (case.length - 1) * case.stride + case.dilation * (case.kernel_size - 1) + case.output_padding + 1
                p["padding"] = draw(st.sampled_from([case.length * case.stride + case.dilation * case.kernel_size,
                                                     full // 2, (full - 1) // 2]))  # fmt: skip
            else:
                p["padding"] = "valid"
                x_shape[-1] = max(0, case.dilation * (case.kernel_size - 1) - draw(st.integers(0, 2)))
        elif fault == "mixed_dtype":
            w_dtype = np.dtype(draw(st.sampled_from([np.float64, np.float32, np.complex64]).filter(lambda t: t != dtype)))
        elif fault == "bias_dtype":
            bias_shape = bias_shape or (case.out_channels,)
            b_dtype = np.dtype(
                draw(st.sampled_from([np.float64, np.float32, np.float16, np.complex128]).filter(lambda t: t != dtype))
            )
        elif fault == "input_ndim":
            x_shape = draw(st.sampled_from([x_shape[-1:], x_shape[:-1] + [1] + x_shape[-1:]]))
        elif fault == "weight_ndim":
            w_shape = draw(st.sampled_from([w_shape[:2], w_shape[:2] + [1] + w_shape[2:]]))
        elif fault == "kernel_zero":
            w_shape[-1] = 0
        elif fault == "zero_out_channels":
            w_shape[0 if not case.transposed else 1] = 0
        elif fault == "wrong_type":
            name = draw(st.sampled_from(["stride", "padding", "dilation", "groups", "output_padding"]))
            p[name] = draw(st.sampled_from([1.0, None, "2", (1.0,), True]))
        elif fault == "tuple_length":
            name = draw(st.sampled_from(["stride", "padding", "dilation", "output_padding"]))
            p[name] = draw(st.sampled_from([(1, 1), (), [0, 0, 0]]))
    b = None if bias_shape is None else rand(bias_shape, b_dtype, case.seed + 2)
    return RawCall(
        transposed=case.transposed,
        x=rand(tuple(max(v, 0) for v in x_shape), dtype, case.seed),
        w=rand(tuple(w_shape), w_dtype, case.seed + 1),
        b=b,
        **p,
    )


# --------------------------------------------------------------------------- outcomes


@dataclass(frozen=True)
class Outcome:
    value: Any = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def run(fn: Any, *args: Any, **kwargs: Any) -> Outcome:
    try:
        return Outcome(value=fn(*args, **kwargs))
    except Exception as exc:
        return Outcome(error=exc)


def assert_convtrace_error(exc: BaseException | None, allowed_params: set[str], torch_exc: Any = None) -> None:
    """A convtrace rejection: the one exception type, naming a real parameter."""
    assert exc is not None
    assert isinstance(exc, convtrace.ConvtraceError), f"{type(exc).__name__}: {exc}"
    assert isinstance(exc, ValueError)
    assert exc.param in allowed_params, (exc.param, str(exc))
    assert f"{exc.param}=" in str(exc), str(exc)
    if isinstance(torch_exc, TypeError):
        assert isinstance(exc, convtrace.ConvtraceTypeError), (
            f"PyTorch raised TypeError ({torch_exc}); convtrace raised {type(exc).__name__}: {exc}"
        )


# --------------------------------------------------------------------------- torch oracle


def torch_module() -> Any:
    import torch

    return torch


def tt(a: Any, requires_grad: bool = False) -> Any:
    """A torch tensor holding a copy of ``a`` (None stays None)."""
    torch = torch_module()
    if a is None:
        return None
    t = torch.from_numpy(np.array(a, copy=True))
    return t.requires_grad_(True) if requires_grad else t


def tn(t: Any) -> np.ndarray:
    return t.detach().resolve_conj().numpy().copy()


def torch_forward(case_or_transposed: Any, x: Any, w: Any, b: Any, **kw: Any) -> np.ndarray:
    """F.conv1d or F.conv_transpose1d on NumPy arrays."""
    F = torch_module().nn.functional
    transposed = case_or_transposed.transposed if isinstance(case_or_transposed, ConvCase) else case_or_transposed
    op = F.conv_transpose1d if transposed else F.conv1d
    return tn(op(tt(x), tt(w), tt(b), **kw))


def torch_grads(case: ConvCase, x: Any, w: Any, b: Any, gy: Any) -> list[np.ndarray]:
    """[grad_input, grad_weight, (grad_bias)] by torch.autograd.grad of the case's op."""
    torch = torch_module()
    F = torch.nn.functional
    tx, tw, tb = tt(x, True), tt(w, True), tt(b, b is not None)
    op = F.conv_transpose1d if case.transposed else F.conv1d
    y = op(tx, tw, tb, **case.kwargs())
    inputs = [tx, tw] + ([tb] if b is not None else [])
    return [tn(g) for g in torch.autograd.grad(y, inputs, tt(gy))]


def as_f64_abs(a: np.ndarray | None) -> np.ndarray | None:
    return None if a is None else np.abs(a).astype(np.float64)


def torch_magnitude(case: ConvCase, x: Any, w: Any, b: Any) -> np.ndarray:
    """The case's forward op on |x|, |w|, |b| in float64: the scale of each output's terms."""
    return torch_forward(case, as_f64_abs(x), as_f64_abs(w), as_f64_abs(b), **case.kwargs())


def torch_module_magnitude(module: Any, x: np.ndarray, **call_kwargs: Any) -> np.ndarray:
    """A torch conv module's output on |x| with |weight|, |bias|, in double precision."""
    import copy

    torch = torch_module()
    m = copy.deepcopy(module).to(torch.complex128 if np.iscomplexobj(x) else torch.float64)
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(p.abs())
    return np.abs(tn(m(tt(np.abs(x).astype(np.float64)).to(m.weight.dtype), **call_kwargs)))


def torch_grad_magnitudes(case: ConvCase, x: Any, w: Any, b: Any, gy: Any) -> list[np.ndarray]:
    return torch_grads(case, as_f64_abs(x), as_f64_abs(w), as_f64_abs(b), as_f64_abs(gy))
