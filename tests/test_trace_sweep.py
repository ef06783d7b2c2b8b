"""For every explanation, the output re-derived from its own terms equals the engine's output
and PyTorch's: a seeded Hypothesis sweep over both ops, every padding mode, groups with several
channels per group, dilation with stride, batched and unbatched input, exact and float data."""

from __future__ import annotations

from fractions import Fraction

import jsonschema
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import convtrace
from convtrace.render.jsondoc import load_schema

try:  # the sweep runs without torch too (then only the engine is the reference)
    import torch  # noqa: F401

    HAVE_TORCH = True
except ImportError:  # pragma: no cover
    HAVE_TORCH = False

VALIDATOR = jsonschema.Draft202012Validator(load_schema())


@st.composite
def configs(draw: st.DrawFn) -> dict:
    transposed = draw(st.booleans())
    g = draw(st.integers(1, 3))
    cg = draw(st.integers(1, 2))
    og = draw(st.integers(1, 2))
    k = draw(st.integers(1, 4))
    s = draw(st.integers(1, 3))
    d = draw(st.integers(1, 3))
    batched = draw(st.booleans())
    n = draw(st.integers(1, 2)) if batched else None
    kind = draw(st.sampled_from(["int", "fraction", "randn32", "randn64"]))
    seed = draw(st.integers(0, 2**16))
    bias = draw(st.booleans())
    cfg: dict = dict(stride=s, dilation=d, groups=g, in_channels=g * cg, out_channels=g * og, transposed=transposed)
    dk = d * (k - 1) + 1
    if transposed:
        length = draw(st.integers(1, 6))
        op_ = draw(st.integers(0, max(s, d) - 1))
        full = (length - 1) * s + dk + op_
        p = draw(st.integers(0, max(0, min(3, (full - 1) // 2))))
        cfg.update(padding=p, output_padding=op_)
        if draw(st.booleans()) and op_ < s:
            cfg["output_size"] = full - 2 * p
            cfg["output_padding"] = 0
    else:
        mode = draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"]))
        padding = draw(st.sampled_from([0, 1, 2, 3, "same", "valid"]) if s == 1 else st.integers(0, 3))
        pl, pr = (
            convtrace.shapes.same_padding(k, d) if padding == "same"
            else (0, 0) if padding == "valid" else (padding, padding)
        )
        lmin = max(1, dk - pl - pr)
        if mode == "reflect":
            lmin = max(lmin, pl + 1, pr + 1)
        if mode == "circular":
            lmin = max(lmin, pl, pr)
        length = lmin + draw(st.integers(0, 4))
        cfg.update(padding=padding, padding_mode=mode)
    in_shape = ((n,) if batched else ()) + (g * cg, length)
    w_shape = (g * cg, og, k) if transposed else (g * og, cg, k)
    rng = np.random.default_rng(seed)

    def data(shape: tuple) -> object:
        if kind == "int":
            return rng.integers(-3, 4, size=shape).astype(np.float64)
        if kind == "fraction":
            num = rng.integers(-6, 7, size=shape)
            den = rng.integers(1, 4, size=shape)
            return np.array([f"{a}/{b}" for a, b in zip(num.ravel(), den.ravel())], dtype=object).reshape(shape).tolist()
        dt = np.float32 if kind == "randn32" else np.float64
        return rng.standard_normal(shape).astype(dt)

    cfg["input"] = data(in_shape)
    cfg["weight"] = data(w_shape)
    if bias:
        cfg["bias"] = data((g * og,))
    cfg["_kind"] = kind
    return cfg


@settings(max_examples=100, deadline=None, derandomize=True)
@given(configs())
def test_every_step_rederives_engine_and_torch(cfg: dict) -> None:
    kind = cfg.pop("_kind")
    t = convtrace.explain(**cfg, max_steps=10_000, verify=HAVE_TORCH)
    assert t.complete
    assert t.exact == (kind in ("int", "fraction"))
    assert len(t.steps) == int(np.prod(t.output.shape))
    y3 = t.output if t.output.ndim == 3 else t.output[None]
    for s in t:
        # re-derive from the terms, by hand
        total = sum((u.x * u.w for u in s.terms), Fraction(0) if t.exact else 0.0)
        assert total == s.total or abs(complex(total) - complex(s.total)) <= 1e-12 * (1 + sum(abs(u.product) for u in s.terms))
        value = total + (s.bias if s.bias is not None else 0)
        scale = 1 + sum(abs(float(u.product)) for u in s.terms) + (abs(float(s.bias)) if s.bias is not None else 0)
        tol = 1e-12 if t.output.dtype == np.float64 else 2e-6
        assert abs(float(value) - float(y3[s.batch, s.out_channel, s.out_index])) <= tol * scale
        if t.exact:
            assert isinstance(s.value, Fraction) and all(isinstance(u.product, Fraction) for u in s.terms)
        # group membership: the terms read exactly this output channel's group
        assert {u.in_channel for u in s.terms} <= set(s.in_channels)
        if not t.transposed:
            assert len(s.terms) == len(s.in_channels) * t.spec.kernel_size
    assert t.verify(torch=HAVE_TORCH)
    if HAVE_TORCH:
        assert t.check.available and t.check.agree, (t.check.call, t.check.max_abs_diff)
    if t.transposed:
        v = t.views
        assert v.scatter.equal and v.zero_insertion.equal and v.gradient.equal
        assert v.matrix.equal in (True, None)
    VALIDATOR.validate(t.to_json())


def test_sweep_runs_torch_when_installed() -> None:
    if not HAVE_TORCH:
        pytest.skip("torch not installed")
    t = convtrace.explain(np.arange(6.0).reshape(2, 3), np.ones((2, 1, 2)), groups=2, padding=1, padding_mode="reflect")
    assert t.check.available and t.check.agree and "padding_mode='reflect'" in t.check.call
