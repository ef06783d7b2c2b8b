"""``at=(n, c, t)``: one output element computed on its own, reading only what it needs, on a
memory-mapped (4, 256, 200_000) float32 ``.npy`` input."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from numpy.lib.format import open_memmap

import convtrace
from convtrace import ConvtraceError

try:
    import torch  # noqa: F401  (imported up front: the timing below measures the explainer)

    HAVE_TORCH = True
except ImportError:  # pragma: no cover
    HAVE_TORCH = False


def _big(path: Path) -> Path:
    """A sparse 800 MB .npy of shape (4, 256, 200_000) float32 with a few regions filled."""
    m = open_memmap(path, mode="w+", dtype=np.float32, shape=(4, 256, 200_000))
    rng = np.random.default_rng(7)
    m[2, :, 99_990:100_010] = rng.integers(-3, 4, size=(256, 20))
    m[3, :, :6] = rng.standard_normal((256, 6))
    m[3, :, -6:] = rng.standard_normal((256, 6))
    m.flush()
    del m
    return path


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _big(tmp_path_factory.mktemp("mm") / "big.npy")


def test_at_on_big_memmap_is_fast(big: Path) -> None:
    x = np.load(big, mmap_mode="r")
    w = np.random.default_rng(0).integers(-2, 3, size=(256, 256, 3)).astype(np.float32)
    t0 = time.perf_counter()
    t = convtrace.explain(x, w, padding=1, at=(2, 5, 100_000), verify=HAVE_TORCH)
    elapsed = time.perf_counter() - t0
    print(f"\nexplain(at=(2, 5, 100000)) on a (4, 256, 200000) float32 memmap: {elapsed * 1000:.1f} ms")
    assert elapsed < 2.0
    assert t.output is None and not t.complete and t.at == (2, 5, 100_000)
    (s,) = t.steps
    assert len(s.terms) == 256 * 3
    assert t.exact  # integer data in the window: exact Fractions
    expected = sum(float(x[2, c, 99_999 + k]) * float(w[5, c, k]) for c in range(256) for k in range(3))
    assert s.value == expected and s.engine_value == expected
    assert not t.pad_row_complete and len(t.pad_cells) == 3
    assert t.verify(torch=HAVE_TORCH)
    if HAVE_TORCH:
        assert t.check.agree and "x[2:3, 0:256, 99999:100002]" in t.check.call
        assert "only y[2, 5, 100000]" in t.check.call


@pytest.mark.parametrize(
    "kw",
    [
        dict(padding=2, padding_mode="reflect", kernel_size=5, stride=2, at=(3, 3, 0)),
        dict(padding=1, padding_mode="circular", kernel_size=3, at=(3, 1, 199_999)),
        dict(padding="same", padding_mode="replicate", kernel_size=4, dilation=2, at=(3, 0, 199_998)),
        dict(kernel_size=4, stride=2, padding=1, transposed=True, out_channels=8, at=(3, 3, 5)),
    ],
)
def test_at_edges_on_big_memmap(big: Path, kw: dict) -> None:
    x = np.load(big, mmap_mode="r")
    t0 = time.perf_counter()
    t = convtrace.explain(x, in_channels=256, out_channels=kw.pop("out_channels", 4), **kw, verify=HAVE_TORCH)
    assert time.perf_counter() - t0 < 2.0
    assert len(t.steps) == 1 and t.output is None
    assert t.verify(torch=HAVE_TORCH)
    if HAVE_TORCH:
        assert t.check.agree, t.check


@pytest.mark.parametrize(
    "kw",
    [
        dict(padding=1),
        dict(padding=2, stride=3, dilation=2),
        dict(padding="same", padding_mode="reflect", kernel_size=4),
        dict(padding=3, padding_mode="circular", groups=2),
        dict(padding=2, padding_mode="replicate", stride=2),
        dict(transposed=True, stride=3, padding=2, dilation=2, output_padding=1),
        dict(transposed=True, stride=2, padding=1, groups=2),
    ],
)
def test_at_equals_full_engine_on_small_memmap(tmp_path: Path, kw: dict) -> None:
    rng = np.random.default_rng(3)
    path = tmp_path / "small.npy"
    np.save(path, rng.standard_normal((2, 4, 30)).astype(np.float32))
    x = np.load(path, mmap_mode="r")
    k = kw.pop("kernel_size", 3)
    g = kw.get("groups", 1)
    shape = (4, 6 // g, k) if kw.get("transposed") else (6, 4 // g, k)
    w = rng.standard_normal(shape).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    full = convtrace.explain(x, w, b, **kw, verify=False)
    y = full.output
    assert y is not None
    for at in [(0, 0, 0), (1, 5, y.shape[-1] - 1), (1, 2, y.shape[-1] // 2), (0, 3, 1)]:
        one = convtrace.explain(x, w, b, **kw, at=at, verify=False)
        (s,) = one.steps
        np.testing.assert_allclose(float(s.engine_value), float(y[at]), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(float(s.value), float(y[at]), rtol=1e-5, atol=1e-5)
        assert one.verify(torch=False)


@pytest.mark.parametrize(
    ("at", "bad"),
    [((4, 0, 0), "n"), ((0, -1, 0), "c"), ((0, 0, 200_000), "t"), ((-1, 0, 5), "n")],
)
def test_at_out_of_range(big: Path, at: tuple, bad: str) -> None:
    x = np.load(big, mmap_mode="r")
    with pytest.raises(ConvtraceError) as ei:
        convtrace.explain(x, in_channels=256, out_channels=2, padding=1, at=at, verify=False)
    e = ei.value
    assert e.param == "at" and tuple(e.value) == at
    assert f"{bad} out of range" in str(e) and "t in [0, 199999]" in str(e) and "n in [0, 3]" in str(e)


def test_at_wrong_arity_and_type() -> None:
    with pytest.raises(ConvtraceError, match="at must be"):
        convtrace.explain(np.ones((1, 1, 4)), at=(0, 0), verify=False)
    with pytest.raises(ConvtraceError, match="at must be"):
        convtrace.explain(np.ones((1, 1, 4)), at=(0, 0, 1.5), verify=False)
    # unbatched input: (c, t) is enough
    t = convtrace.explain([1, 2, 3, 4], [1, 1], at=(0, 2), verify=False)
    assert t.steps[0].value == 7 and t.at == (0, 0, 2)


def test_summary_of_a_large_output() -> None:
    x = np.arange(200.0).reshape(1, 2, 100)
    t = convtrace.explain(x, np.ones((3, 2, 3)), padding=1, verify=False)
    assert not t.complete and t.output is not None and t.output.shape == (1, 3, 100)
    assert [(s.batch, s.out_channel, s.out_index) for s in t] == [(0, 0, 0), (0, 0, 1), (0, 0, 98), (0, 0, 99)]
    assert any(d["code"] == "summary" for d in t.note_data)
    assert t.verify(torch=False)


def test_summary_of_a_huge_output_does_not_run_the_whole_convolution(big: Path) -> None:
    x = np.load(big, mmap_mode="r")
    t0 = time.perf_counter()
    t = convtrace.explain(x, in_channels=256, out_channels=256, padding=1, verify=False)
    assert time.perf_counter() - t0 < 2.0
    assert t.output is None and len(t.steps) == 4
    assert any(d["code"] == "output_not_computed" for d in t.note_data)
    assert t.verify(torch=False)
