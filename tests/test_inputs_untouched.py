"""No public function or module call modifies its inputs: values, dtype, shape, strides
and flags are the same afterwards, for batched, unbatched, non-contiguous and read-only
arrays. (NumPy only.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import convtrace.functional as F
import convtrace.grad as G
import convtrace.nn as cnn
from strategies import rand


def _snapshot(a: np.ndarray) -> tuple[Any, ...]:
    flags = a.flags
    return (a.copy(), a.dtype, a.shape, a.strides, flags.c_contiguous, flags.f_contiguous,
            flags.writeable, flags.owndata, a.__array_interface__["data"][0])


def _assert_unchanged(a: np.ndarray, snap: tuple[Any, ...]) -> None:
    values, *meta = snap
    np.testing.assert_array_equal(a, values, strict=True)
    flags = a.flags
    assert meta == [a.dtype, a.shape, a.strides, flags.c_contiguous, flags.f_contiguous,
                    flags.writeable, flags.owndata, a.__array_interface__["data"][0]]


def _variants(shape: tuple[int, ...], dtype: Any = np.float64, seed: int = 0) -> dict[str, np.ndarray]:
    """The same logical array as contiguous, strided view, Fortran-ordered and read-only."""
    base = rand(shape, dtype, seed)
    big = np.zeros(tuple(2 * s for s in shape), dtype=dtype)
    view = big[tuple(slice(None, None, 2) for _ in shape)]
    view[...] = base
    frozen = base.copy()
    frozen.flags.writeable = False
    return {"contiguous": base, "strided": view, "fortran": np.asfortranarray(base), "readonly": frozen}


def _check(call: Callable[..., Any], *arrays: np.ndarray) -> Any:
    snaps = [_snapshot(a) for a in arrays]
    out = call(*arrays)
    for a, snap in zip(arrays, snaps):
        _assert_unchanged(a, snap)
    for o in out if isinstance(out, tuple) else (out,):
        for a in arrays:
            assert not np.shares_memory(o, a)
    return out


LAYOUTS = ["contiguous", "strided", "fortran", "readonly"]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16, np.complex64])
def test_functional_leaves_inputs_untouched(layout, batched, dtype) -> None:
    xs = (2, 4, 9) if batched else (4, 9)
    x = _variants(xs, dtype, 1)[layout]
    w = _variants((6, 2, 3), dtype, 2)[layout]
    wt = _variants((4, 3, 3), dtype, 3)[layout]
    b = _variants((6,), dtype, 4)[layout]
    expected = F.conv1d(np.ascontiguousarray(x), np.ascontiguousarray(w), np.ascontiguousarray(b), 2, 1, 2, 2)
    y = _check(lambda x, w, b: F.conv1d(x, w, b, 2, 1, 2, 2), x, w, b)
    np.testing.assert_array_equal(y, expected)  # the layout does not change the result
    _check(lambda x, w, b: F.conv1d(x, w, b, padding="same", groups=2), x, w, b)
    _check(lambda x, w, b: F.conv_transpose1d(x, w, b, 2, 1, 1, 2, 1), x, wt, b)
    for mode in ("constant", "reflect", "replicate", "circular"):
        _check(lambda x, mode=mode: F.pad(x, (2, 1), mode=mode), x)
        _check(lambda x, mode=mode: F.pad(x, (-1, 3), mode=mode), x)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_grads_leave_inputs_untouched(layout) -> None:
    v = lambda shape, seed: _variants(shape, np.float64, seed)[layout]  # noqa: E731
    x, w, gy = v((2, 4, 9), 1), v((6, 2, 3), 2), v((2, 6, 5), 3)
    _check(lambda w, gy: G.conv1d_input(x.shape, w, gy, 2, 1, 1, 2), w, gy)
    _check(lambda x, gy: G.conv1d_weight(x, w.shape, gy, 2, 1, 1, 2), x, gy)
    _check(G.conv1d_bias, gy)
    xt, wt, gyt = v((2, 4, 5), 4), v((4, 3, 3), 5), v((2, 6, 10), 6)
    _check(lambda wt, gyt: G.conv_transpose1d_input(xt.shape, wt, gyt, 2, 1, 1, 2), wt, gyt)
    _check(lambda xt, gyt: G.conv_transpose1d_weight(xt, wt.shape, gyt, 2, 1, 1, 2), xt, gyt)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_modules_leave_inputs_untouched(layout, mode) -> None:
    m = cnn.Conv1d(4, 6, 3, padding=2, padding_mode=mode, groups=2, dtype=np.float64, rng=0)
    t = cnn.ConvTranspose1d(4, 6, 3, stride=2, groups=2, dtype=np.float64, rng=0)
    for shape in ((2, 4, 9), (4, 9)):
        x = _variants(shape, np.float64, 1)[layout]
        _check(m, x)
        _check(t, x)
        _check(lambda x, n=shape[-1]: t(x, output_size=[n * 2 + 2]), x)
    # assigning parameters copies them: the caller's array stays theirs
    w = _variants((6, 2, 3), np.float64, 2)[layout]
    snap = _snapshot(w)
    m.weight = w
    m(np.ones((1, 4, 5)))
    _assert_unchanged(w, snap)
    assert not np.shares_memory(m.weight, w)
