"""Data helpers: text forms of --input/--weight/--bias, generated data, exactness rules."""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import convtrace
from convtrace import ConvtraceError
from convtrace.cli.values import parse_shape, parse_values
from convtrace.engine.padding import pad_source
from convtrace.engine.padding import pad_source_at as _sources
from convtrace.params import PaddingMode
from convtrace.trace.data import as_values, generate


def test_text_forms() -> None:
    assert parse_values("1,1,1,1").shape == (4,)
    v = parse_values("1,2,3;4,5,6")
    assert v.shape == (2, 3) and v.exact_values[1, 2] == 6
    v = parse_values("1,2;3,4|5,6;7,8")
    assert v.shape == (2, 2, 2) and v.numeric[1, 0, 1] == 6.0
    v = parse_values("0.5, 1/3, -2")
    assert v.exact_values.tolist() == [Fraction(1, 2), Fraction(1, 3), Fraction(-2)]
    v = parse_values('[[1, 0.1], ["1/3", 2]]')
    assert v.exact_values.tolist() == [[1, Fraction(1, 10)], [Fraction(1, 3), 2]]
    v = parse_values("1e-3,2")
    assert v.exact_values[0] == Fraction(1, 1000)


@pytest.mark.parametrize("bad", ["", "1,,x", "1,2;3", "1|2,3", "[1, [2]]", "1/0", "@/no/such/file.npy"])
def test_text_errors(bad: str) -> None:
    with pytest.raises(ConvtraceError):
        parse_values(bad)


def test_npy_is_memory_mapped(tmp_path: Path) -> None:
    p = tmp_path / "x.npy"
    np.save(p, np.arange(6, dtype=np.float32).reshape(1, 2, 3))
    v = parse_values(f"@{p}")
    assert isinstance(v.numeric, np.memmap) and v.numeric.dtype == np.float32
    assert v.exact_values is None and "memory-mapped" in v.source
    t = convtrace.explain(v.numeric, [1, 1], verify=False)
    assert t.exact and t.output.dtype == np.float32 and t.steps[0].value == 0 + 1 + 3 + 4  # one kernel, both channels


def test_generate() -> None:
    assert generate((2, 3, 10), "ones").shape == (2, 3, 10)
    assert generate(parse_shape("1,1,4"), "arange").tolist() == [[[0, 1, 2, 3]]]
    a, b = generate((3, 5), "randint", seed=3), generate((3, 5), "randint", seed=3)
    assert np.array_equal(a, b) and a.min() >= -4 and a.max() <= 4 and np.all(a == np.round(a))
    r = generate((3, 5), "randn", seed=1)
    assert np.array_equal(r, generate((3, 5), "randn", seed=1)) and not np.array_equal(r, generate((3, 5), "randn", seed=2))
    with pytest.raises(ConvtraceError):
        generate((2,), "zeros")
    assert parse_shape("2,3,10") == (2, 3, 10)
    with pytest.raises(ConvtraceError):
        parse_shape("2,0")


def test_exactness_rules() -> None:
    assert convtrace.explain([1, 2, 3], [1, 1], verify=False).exact
    assert convtrace.explain(np.array([1.0, 2.0, 3.0]), [1, 1], verify=False).exact  # integral floats
    assert not convtrace.explain([0.1, 2, 3], [1, 1], verify=False).exact  # a Python float is a float
    assert convtrace.explain(["0.1", 2, 3], [1, 1], verify=False).exact  # a decimal string is exact
    t = convtrace.explain([0.1, 2, 3], [1, 1], exact=True, verify=False)
    assert t.exact and t.steps[0].terms[0].x == Fraction(0.1)
    t = convtrace.explain([1, 2, 3], [1, 1], exact=False, verify=False)
    assert not t.exact and isinstance(t.steps[0].value, float)
    with pytest.raises(ConvtraceError):
        convtrace.explain([1j, 2], [1], exact=True, verify=False)
    v = as_values("x", [Fraction(1, 3), 2])
    assert v.exact_values is not None and v.numeric.dtype == np.float64


def test_fraction_products_have_no_float_noise() -> None:
    t = convtrace.explain(["1/10", "2/10", "3/10"], ["1/10", "1/10"], verify=False)
    assert [s.value for s in t] == [Fraction(3, 100), Fraction(5, 100)]
    assert t.exact_output.tolist() == [[Fraction(3, 100), Fraction(1, 20)]]


@pytest.mark.parametrize("mode", list(PaddingMode))
def test_sources_match_pad_source(mode: PaddingMode) -> None:
    for length, pad in [(5, 0), (5, 2), (4, 3), (7, 4)]:
        if mode is PaddingMode.REFLECT and pad >= length:
            continue
        pm = "constant" if mode is PaddingMode.ZEROS else mode.value
        ref = pad_source(length, pad, pad, pm)
        got = _sources(np.arange(length + 2 * pad), length, pad, mode)
        assert np.array_equal(ref, got), (mode, length, pad)


def test_defaults() -> None:
    t = convtrace.explain(verify=False)  # weights of ones, input of ones, as the post
    assert t.input.shape == (1, 1, 4) and t.weight.tolist() == [[[1.0, 1.0, 1.0]]] and t.bias is None
    assert t.output.tolist() == [[[3.0, 3.0]]]
    t = convtrace.explain(in_channels=4, out_channels=2, groups=2, kernel_size=2, bias=True, verify=False)
    assert t.weight.shape == (2, 2, 2) and t.bias.tolist() == [1.0, 1.0]
    assert t.steps[0].in_channels == (0, 1) and t.steps[-1].in_channels == (2, 3) and t.steps[-1].group == 1
    t = convtrace.explain(input_shape=(2, 3, 6), kernel_size=3, verify=False)
    assert t.input.shape == (2, 3, 6) and t.spec.in_channels == 3
    t = convtrace.explain_transposed(in_channels=2, out_channels=4, groups=2, kernel_size=3, stride=2, verify=False)
    assert t.weight.shape == (2, 2, 3) and t.views is not None
    t = convtrace.explain(kernel_size=7, dilation=2, verify=False)  # the default input is long enough
    assert t.spec.length >= 13


def test_import_convtrace_does_not_import_torch() -> None:
    code = "import sys, convtrace; convtrace.explain([1, 2], [1], verify=False).to_json(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_without_torch_the_check_says_how_to_enable_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from convtrace.interop import check

    monkeypatch.setattr(check, "torch_available", lambda: False)
    t = convtrace.explain([1, 1, 1, 1], [1, 1, 1], padding=1)
    assert t.check is not None and not t.check.available and t.check.agree is None
    assert t.check.note == "install torch to check against PyTorch: pip install 'convtrace[torch]'"
    assert t.check.call.startswith("torch.nn.Conv1d(in_channels=1")
    assert t.verify()  # the terms still hold the engine to account
    t = convtrace.explain(np.ones((1, 2, 300)), kernel_size=3, at=(0, 0, 5))
    assert not t.check.available and "only y[0, 0, 5]" in t.check.call
