"""The pooling and padding modules against PyTorch's: the same attributes and ``repr``, no
check when made (as PyTorch), and the same outputs and errors when called."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pool_torch import POOL_PARAMS, values_agree

import convtrace.nn as cn
from convtrace import ConvtraceError
from strategies import assert_convtrace_error, run, tn, torch_module

pytest.importorskip("torch")
pytestmark = pytest.mark.torch

MODULES: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    ("MaxPool1d", (3,), {}),
    ("MaxPool1d", (3, 2, 1, 2), {"ceil_mode": True}),
    ("MaxPool1d", (2,), {"return_indices": True}),
    ("MaxPool1d", ((3,),), {}),
    ("MaxPool1d", (0,), {}),
    ("AvgPool1d", (3,), {}),
    ("AvgPool1d", (3, 2, 1, True, False), {}),
    ("AvgPool1d", (0,), {}),
    ("LPPool1d", (2, 3), {}),
    ("LPPool1d", (2.0, 3, 2, True), {}),
    ("LPPool1d", (1, 2), {}),
    ("AdaptiveAvgPool1d", (3,), {}),
    ("AdaptiveAvgPool1d", (-1,), {}),
    ("AdaptiveMaxPool1d", (3,), {}),
    ("AdaptiveMaxPool1d", (4, True), {}),
    ("ConstantPad1d", (2, 3.5), {}),
    ("ConstantPad1d", ((1, 2), 0), {}),
    ("ZeroPad1d", (2,), {}),
    ("ZeroPad1d", ((1, 0),), {}),
    ("ReflectionPad1d", (2,), {}),
    ("ReflectionPad1d", (9,), {}),
    ("ReplicationPad1d", ((1, 3),), {}),
    ("CircularPad1d", (2,), {}),
    ("CircularPad1d", ((1, -1),), {}),
]


@pytest.mark.parametrize(("name", "args", "kwargs"), MODULES, ids=[f"{m[0]}-{i}" for i, m in enumerate(MODULES)])
def test_module_matches_pytorch(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    torch = torch_module()
    ours, theirs = getattr(cn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    for attribute in ("kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices",
                      "count_include_pad", "norm_type", "output_size", "value"):
        if hasattr(theirs, attribute):
            assert getattr(ours, attribute) == getattr(theirs, attribute), attribute
    x = np.random.default_rng(len(args)).standard_normal((2, 3, 7))
    for data in (x, x[0], np.abs(x).astype(np.float32)):
        mine, expected = run(ours, data), run(theirs, torch.from_numpy(data.copy()))
        if not expected.ok:
            assert not mine.ok, f"{name}{args}: PyTorch raises {expected.error}, convtrace accepts"
            assert_convtrace_error(mine.error, POOL_PARAMS | {"pad", "value", "mode"})
            words = str(expected.error).splitlines()[0].strip()
            assert words in str(mine.error) or name.endswith("Pad1d"), (expected.error, mine.error)
            continue
        assert mine.ok, f"{name}{args}: convtrace raises {mine.error}"
        values_agree(mine.value, expected.value, exact=name != "LPPool1d")


@pytest.mark.parametrize(("args", "output_size"), [((2,), None), ((3, 2, 1), None), ((2,), (7,)), ((2,), [1, 1, 7])])
def test_max_unpool1d_module(args: tuple[int, ...], output_size: Any) -> None:
    torch = torch_module()
    ours, theirs = cn.MaxUnpool1d(*args), torch.nn.MaxUnpool1d(*args)
    assert repr(ours) == repr(theirs)
    x = np.random.default_rng(7).standard_normal((1, 1, 7))
    k, s, p = (args + (None, 0))[:3] if len(args) == 1 else args
    values, indices = torch.nn.functional.max_pool1d(torch.from_numpy(x), k, s, p, return_indices=True)
    expected = run(theirs, values, indices, output_size=output_size)
    mine = run(ours, tn(values), tn(indices), output_size=output_size)
    assert mine.ok == expected.ok, (mine, expected)
    if mine.ok:
        values_agree(mine.value, expected.value, exact=True)


def test_pool_modules_check_nothing_when_made() -> None:
    # PyTorch makes these modules; the call raises (in the functional's words)
    module = cn.MaxPool1d(0)
    with pytest.raises(ConvtraceError, match="max_pool1d\\(\\) kernel_size must be greater than zero"):
        module(np.ones((1, 1, 4)))
    with pytest.raises(ConvtraceError, match="stride should not be zero"):
        cn.AvgPool1d(0)(np.ones((1, 1, 4)))
