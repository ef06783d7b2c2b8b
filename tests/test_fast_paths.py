"""Every fast algorithm against the loop reference (float64, tight) and PyTorch.

Each algorithm is forced with the engine's private ``_algo=`` argument, so every path runs
on small shapes, including the edge cases the dispatcher would route elsewhere; the
dispatcher itself is checked on both sides of each of its thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from convtrace.engine import fast, fast_layout, fast_toeplitz, reference


@dataclass(frozen=True)
class Geo:
    """A conv1d problem: batch, groups, channels per group (in, out), lengths, kernel, stride..."""

    n: int
    g: int
    cg: int
    og: int
    length: int
    k: int
    stride: int = 1
    pad: int = 0
    dilation: int = 1
    out_len: int | None = None  # None: PyTorch's formula with symmetric padding

    @property
    def lout(self) -> int:
        if self.out_len is not None:
            return self.out_len
        return (self.length + 2 * self.pad - self.dilation * (self.k - 1) - 1) // self.stride + 1

    @property
    def depthwise(self) -> bool:
        return self.cg == self.og == 1


EDGE_CASES = [
    Geo(2, 1, 3, 2, 9, 3),  # plain
    Geo(0, 1, 2, 3, 7, 3, pad=1),  # empty batch
    Geo(1, 1, 2, 2, 5, 3, out_len=1),  # a single output
    Geo(2, 1, 3, 2, 8, 1),  # k = 1
    Geo(2, 1, 2, 2, 12, 2, stride=5),  # stride > dilated kernel: gaps never read
    Geo(1, 1, 2, 2, 3, 3, pad=6),  # padding larger than the input
    Geo(1, 2, 2, 1, 6, 3, out_len=7),  # windows run past the right end
    Geo(2, 1, 2, 2, 11, 2, stride=3, out_len=2),  # a tail left unread
    Geo(2, 3, 2, 2, 10, 3, stride=2, pad=2, dilation=2),  # several channels per group
    Geo(2, 4, 1, 1, 10, 3, pad=1),  # depthwise
    Geo(2, 3, 1, 1, 9, 4, stride=3, pad=2, dilation=2),  # depthwise, strided and dilated
    Geo(2, 2, 1, 3, 9, 3, pad=1),  # channel multiplier
    Geo(1, 1, 1, 4, 20, 5, stride=2),  # one input channel (first audio layer)
    Geo(2, 2, 3, 1, 9, 3, stride=2, dilation=3, pad=4),  # one output channel per group
    Geo(1, 1, 2, 3, 17, 4, stride=4, pad=4),  # K a multiple of the stride (upsampler)
    Geo(1, 1, 2, 2, 16, 3, stride=2, dilation=2, pad=1),  # dilation sharing a factor with stride
    Geo(2, 3, 1, 1, 83, 5, pad=2),  # depthwise over several Toeplitz blocks, ragged end
    Geo(1, 2, 1, 1, 90, 6, dilation=9, pad=20),  # band wider than the minimum block
]


def _random_cases(count: int) -> list[Geo]:
    rng = np.random.default_rng(20240601)
    cases: list[Geo] = []
    while len(cases) < count:
        depthwise = rng.random() < 0.3
        geo = Geo(
            n=int(rng.integers(0, 3)),
            g=int(rng.integers(1, 4)),
            cg=1 if depthwise else int(rng.integers(1, 4)),
            og=1 if depthwise else int(rng.integers(1, 4)),
            length=int(rng.integers(1, 14)),
            k=int(rng.integers(1, 6)),
            stride=int(rng.integers(1, 5)),
            pad=int(rng.integers(0, 6)),
            dilation=int(rng.integers(1, 4)),
            out_len=int(rng.integers(1, 9)),
        )
        cases.append(geo)
    return cases


CASES = EDGE_CASES + _random_cases(40)
REAL_AND_COMPLEX = [np.float64, np.complex128]


def _arrays(geo: Geo, dtype: type, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)

    def draw(shape: tuple[int, ...]) -> np.ndarray:
        a = rng.standard_normal(shape)
        if np.dtype(dtype).kind == "c":
            a = a + 1j * rng.standard_normal(shape)
        return a.astype(dtype)

    x = draw((geo.n, geo.g * geo.cg, geo.length))
    w = draw((geo.g * geo.og, geo.cg, geo.k))
    gy = draw((geo.n, geo.g * geo.og, geo.lout))
    return x, w, gy


def _applicable(algo: str, geo: Geo, primitive: str = "") -> bool:
    """Toeplitz serves depthwise stride 1; the flipped-kernel input gradient and the per-tap
    weight gradient serve stride 1."""
    if algo == "toeplitz":
        return geo.depthwise and geo.stride == 1
    if algo == "flip" or (primitive == "weight" and algo == "taps"):
        return geo.stride == 1
    return True


def _assert_close(got: np.ndarray, want: np.ndarray, bound: np.ndarray, rel: float) -> None:
    """|got - want| <= rel * bound elementwise, where ``bound`` is the same sum over |terms|."""
    assert got.shape == want.shape and got.dtype == want.dtype
    assert np.all(np.abs(got - want) <= rel * bound + 1e-300), np.abs(got - want).max()


def _forward_args(geo: Geo) -> tuple[int, int, int, int, int]:
    return geo.stride, geo.pad, geo.lout, geo.dilation, geo.g


@pytest.mark.parametrize("algo", sorted(fast.FORWARD_ALGORITHMS))
@pytest.mark.parametrize("dtype", REAL_AND_COMPLEX)
def test_forward_matches_reference(algo: str, dtype: type) -> None:
    for i, geo in enumerate(CASES):
        if not _applicable(algo, geo):
            continue
        x, w, _ = _arrays(geo, dtype, i)
        want = reference.conv1d_forward(x, w, *_forward_args(geo))
        bound = reference.conv1d_forward(np.abs(x), np.abs(w), *_forward_args(geo))
        got = fast.conv1d_forward(x, w, *_forward_args(geo), _algo=algo)
        _assert_close(got, want, bound, 1e-13)


@pytest.mark.parametrize("algo", sorted(fast.INPUT_GRAD_ALGORITHMS))
@pytest.mark.parametrize("dtype", REAL_AND_COMPLEX)
def test_input_grad_matches_reference(algo: str, dtype: type) -> None:
    for i, geo in enumerate(CASES):
        if not _applicable(algo, geo):
            continue
        _, w, gy = _arrays(geo, dtype, i)
        args = (geo.length, geo.stride, geo.pad, geo.dilation, geo.g)
        want = reference.conv1d_input_grad(gy, w, *args)
        bound = reference.conv1d_input_grad(np.abs(gy), np.abs(w), *args)
        got = fast.conv1d_input_grad(gy, w, *args, _algo=algo)
        _assert_close(got, want, bound, 1e-13)


@pytest.mark.parametrize("algo", sorted(fast.WEIGHT_GRAD_ALGORITHMS))
@pytest.mark.parametrize("dtype", REAL_AND_COMPLEX)
def test_weight_grad_matches_reference(algo: str, dtype: type) -> None:
    for i, geo in enumerate(CASES):
        if not _applicable(algo, geo, "weight"):
            continue
        x, _, gy = _arrays(geo, dtype, i)
        args = (geo.k, geo.stride, geo.pad, geo.dilation, geo.g)
        want = reference.conv1d_weight_grad(x, gy, *args)
        bound = reference.conv1d_weight_grad(np.abs(x), np.abs(gy), *args)
        got = fast.conv1d_weight_grad(x, gy, *args, _algo=algo)
        _assert_close(got, want, bound, 1e-13)


def test_column_tiles(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a tiny tile budget, im2col / col2im cut batches and lengths into tiles: same results."""
    monkeypatch.setattr(fast_layout, "TILE_BYTES", 1)
    monkeypatch.setattr(fast_layout, "NARROW_TILE_BYTES", 1)
    monkeypatch.setattr(fast_layout, "MIN_TILE_POSITIONS", 1)
    for i, geo in enumerate(CASES):
        x, w, gy = _arrays(geo, np.float64, i)
        fwd = fast.conv1d_forward(x, w, *_forward_args(geo), _algo="im2col")
        bound = reference.conv1d_forward(np.abs(x), np.abs(w), *_forward_args(geo))
        _assert_close(fwd, reference.conv1d_forward(x, w, *_forward_args(geo)), bound, 1e-13)
        args = (geo.k, geo.stride, geo.pad, geo.dilation, geo.g)
        gw = fast.conv1d_weight_grad(x, gy, *args, _algo="im2col")
        bound = reference.conv1d_weight_grad(np.abs(x), np.abs(gy), *args)
        _assert_close(gw, reference.conv1d_weight_grad(x, gy, *args), bound, 1e-13)
        args = (geo.length, geo.stride, geo.pad, geo.dilation, geo.g)
        gx = fast.conv1d_input_grad(gy, w, *args, _algo="col2im")
        bound = reference.conv1d_input_grad(np.abs(gy), np.abs(w), *args)
        _assert_close(gx, reference.conv1d_input_grad(gy, w, *args), bound, 1e-13)


def _all_paths(geo: Geo, x: np.ndarray, w: np.ndarray, gy: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """Every applicable algorithm of every primitive on one problem: (label, result)."""
    out = []
    for algo in fast.FORWARD_ALGORITHMS:
        if _applicable(algo, geo):
            out.append((f"forward/{algo}", fast.conv1d_forward(x, w, *_forward_args(geo), _algo=algo)))
    for algo in fast.INPUT_GRAD_ALGORITHMS:
        if _applicable(algo, geo):
            args = (geo.length, geo.stride, geo.pad, geo.dilation, geo.g)
            out.append((f"input/{algo}", fast.conv1d_input_grad(gy, w, *args, _algo=algo)))
    for algo in fast.WEIGHT_GRAD_ALGORITHMS:
        if _applicable(algo, geo, "weight"):
            args = (geo.k, geo.stride, geo.pad, geo.dilation, geo.g)
            out.append((f"weight/{algo}", fast.conv1d_weight_grad(x, gy, *args, _algo=algo)))
    return out


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.complex64])
def test_low_precision_dtypes(dtype: type) -> None:
    """Output dtype = input dtype; float16 is computed in float32 and rounded once."""
    for i, geo in enumerate(EDGE_CASES):
        x, w, gy = _arrays(geo, dtype, i)
        wide = np.complex128 if np.dtype(dtype).kind == "c" else np.float64
        exact = dict(_all_paths(geo, x.astype(wide), w.astype(wide), gy.astype(wide)))
        for label, got in _all_paths(geo, x, w, gy):
            want = exact[label]
            assert got.dtype == dtype, label
            if dtype == np.float16:
                # float32 accumulation, one rounding: within one float16 ulp of the exact result
                ulp = np.spacing(np.abs(want).astype(np.float16)).astype(np.float64)
                assert np.all(np.abs(got.astype(np.float64) - want) <= ulp + 1e-6), label
            else:
                np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4, err_msg=label)


def test_inputs_untouched_and_outputs_fresh() -> None:
    """No path writes to its inputs or returns memory shared with them."""
    for i, geo in enumerate(EDGE_CASES):
        for dtype in (np.float16, np.float64):
            x, w, gy = _arrays(geo, dtype, i)
            copies = [a.copy() for a in (x, w, gy)]
            for a in (x, w, gy):
                a.flags.writeable = False
            for label, got in _all_paths(geo, x, w, gy):
                assert not any(np.shares_memory(got, a) for a in (x, w, gy)), label
            for a, c in zip((x, w, gy), copies):
                np.testing.assert_array_equal(a, c)


def test_non_contiguous_inputs() -> None:
    """Transposed / strided input views give the same results as their contiguous copies."""
    geo = Geo(2, 2, 2, 3, 10, 3, stride=2, pad=1)
    x, w, gy = _arrays(geo, np.float64)
    views = (
        np.ascontiguousarray(x.transpose(2, 1, 0)).transpose(2, 1, 0),
        np.ascontiguousarray(w[..., ::-1])[..., ::-1],
        np.repeat(gy, 2, axis=2)[..., ::2],
    )
    for (label, got), (_, want) in zip(_all_paths(geo, *views), _all_paths(geo, x, w, gy)):
        np.testing.assert_array_equal(got, want, err_msg=label)


# ----------------------------------------------------------------------------- dispatcher


def _forward_choice(n: int, c_in: int, c_out: int, k: int, lout: int, s: int, d: int, g: int) -> str:
    return fast.forward_algorithm(n, c_in, c_out, k, lout, s, d, g)


def test_dispatcher_boundaries() -> None:
    """Each rule of the dispatchers, on both sides of its threshold."""
    t, narrow = fast.TOEPLITZ_MIN_TAPS, fast.NARROW_FIELD
    assert _forward_choice(1, 1, 1, 3, 4, 1, 1, 1) == "small"  # tiny: fewest calls
    assert _forward_choice(2, 64, 64, t, 500, 1, 1, 64) == "toeplitz"
    assert _forward_choice(2, 64, 64, t - 1, 500, 1, 1, 64) == "taps"
    assert _forward_choice(2, 64, 64, t, 500, 2, 1, 64) == "taps"
    assert _forward_choice(1, 256, 512, 16, 200, 8, 1, 1) == "im2col"  # strided, wide: im2col too
    assert _forward_choice(1, narrow // 16, 512, 16, 200, 8, 1, 1) == "im2col"  # narrow
    assert _forward_choice(4, 512, 512, 3, 1599, 2, 1, 1) == "im2col"  # partial phase group
    assert _forward_choice(32, 300, 100, 3, 254, 1, 1, 1) == "im2col"
    thin, few = fast.THIN_GROUP, fast.THIN_GROUP_MIN_CHANNELS
    assert _forward_choice(8, 128, 128, 3, 1024, 1, 1, 4) == "im2col_mt"  # 32 x 32 x 3 per group
    assert _forward_choice(8, 128, 128, thin // 1024 + 1, 1024, 1, 1, 4) == "im2col"  # too wide
    assert _forward_choice(8, 128, 128, thin // 1024, 1024, 1, 1, 4) == "im2col_mt"
    assert _forward_choice(8, 4 * few, 4 * few, 3, 1024, 1, 1, 4) == "im2col_mt"
    assert _forward_choice(8, 4 * few - 4, 4 * few - 4, 3, 1024, 1, 1, 4) == "im2col"  # too few channels
    assert fast.weight_grad_algorithm(8, 128, 128, 3, 1024, 1, 1, 4) == "im2col_mt"  # as the forward
    assert fast.weight_grad_algorithm(8, 128, 128, 3, 1024, 2, 1, 4) == "im2col_mt"  # strided too
    assert fast.weight_grad_algorithm(8, 128, 128, thin // 1024 + 1, 1024, 1, 1, 4) == "taps"  # too wide
    assert fast.weight_grad_algorithm(8, 4 * few - 4, 4 * few - 4, 3, 1024, 2, 1, 4) == "im2col"
    assert fast.input_grad_algorithm(4, 256, 512, 16, 1600, 8, 1, 1) == "col2im"
    assert fast.input_grad_algorithm(4, 64, 64, 3, 4096, 1, 8, 1) == "flip"
    assert fast.input_grad_algorithm(4, 64, 64, 3, 4096, 2, 1, 64) == "taps"  # strided depthwise
    assert fast.weight_grad_algorithm(4, 256, 256, t, 2048, 1, 1, 256) == "toeplitz"
    assert fast.weight_grad_algorithm(4, 256, 256, t, 2048, 2, 1, 256) == "im2col"
    assert fast.weight_grad_algorithm(4, 1, 512, 10, 3199, 5, 1, 1) == "im2col"
    assert fast.weight_grad_algorithm(4, narrow, 64, 1, 999, 1, 1, 1) == "im2col"
    assert fast.weight_grad_algorithm(4, narrow + 1, 64, 1, 999, 1, 1, 1) == "taps"
    assert fast.weight_grad_algorithm(4, narrow + 1, 64, 1, 999, 2, 1, 1) == "im2col"


def test_toeplitz_block_covers_band() -> None:
    assert fast_toeplitz.block_size(3, 1) == fast_toeplitz.MIN_BLOCK
    assert fast_toeplitz.block_size(31, 4) == 120


# ----------------------------------------------------------------------------- PyTorch


TORCH_CASES = [
    # (N, C_in, C_out, L, K, stride, padding, dilation, groups); all paths run on each, and
    # the dispatcher's own choice differs from case to case (forward / input / weight):
    (2, 3, 4, 9, 3, 1, 1, 1, 1),  # tiny: im2col / flip(im2col) / im2col
    (3, 40, 24, 70, 3, 1, 1, 1, 1),  # dense: im2col / flip(im2col) / taps
    (3, 1, 40, 300, 10, 5, 0, 1, 1),  # narrow field, strided: im2col / col2im / im2col
    (2, 16, 16, 1200, 3, 1, 8, 4, 16),  # depthwise, short kernel: taps / flip(taps) / im2col
    (2, 16, 16, 1200, 9, 1, 4, 1, 16),  # depthwise, long kernel: toeplitz / flip(toeplitz) / toeplitz
    (2, 16, 16, 2400, 3, 2, 1, 1, 16),  # depthwise, strided: taps / taps / im2col
    (2, 48, 48, 90, 4, 2, 1, 1, 2),  # grouped, full phase groups: taps / col2im / im2col
    (2, 40, 32, 64, 3, 2, 0, 1, 1),  # strided, a partial phase group: im2col / col2im / im2col
]


@pytest.mark.torch
@pytest.mark.parametrize("case", TORCH_CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_against_torch(case: tuple[int, ...], dtype: type) -> None:
    """Every applicable algorithm of every primitive against torch's conv and its backward."""
    torch = pytest.importorskip("torch")
    n, c_in, c_out, length, k, s, p, d, g = case
    geo = Geo(n, g, c_in // g, c_out // g, length, k, s, p, d)
    x, w, gy = _arrays(geo, dtype, 7)
    tx, tw, tgy = (torch.from_numpy(a) for a in (x, w, gy))
    want = {
        "forward": torch.nn.functional.conv1d(tx, tw, stride=s, padding=p, dilation=d, groups=g).numpy(),
    }
    gx, gw, _ = torch.ops.aten.convolution_backward(
        tgy, tx, tw, None, [s], [p], [d], False, [0], g, [True, True, False]
    )
    want["input"], want["weight"] = gx.numpy(), gw.numpy()
    tol = 2e-5 if dtype == np.float32 else 1e-12
    for label, got in _all_paths(geo, x, w, gy):
        ref = want[label.split("/")[0]]
        np.testing.assert_allclose(got, ref, rtol=tol, atol=tol * np.abs(ref).max(), err_msg=label)


@pytest.mark.torch
def test_transposed_upsampler_against_torch() -> None:
    """ConvTranspose1d (the input-gradient primitive) on a HiFi-GAN-like shape, every path."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 24, 30), dtype=np.float32)
    w = rng.standard_normal((24, 12, 16), dtype=np.float32)
    want = torch.nn.functional.conv_transpose1d(torch.from_numpy(x), torch.from_numpy(w), stride=8, padding=4)
    for algo in ("taps", "col2im"):  # "flip" serves stride 1 only
        got = fast.conv1d_input_grad(x, w, want.shape[-1], 8, 4, 1, 1, _algo=algo)
        np.testing.assert_allclose(got, want.numpy(), rtol=2e-5, atol=2e-5 * float(want.abs().max()))
