"""float16: products summed in float32 and rounded once, bit for bit.

The data are chosen so that every float32 sum is exact whatever its order (x in [-1, 1] and
the output gradient in [-2, 2] on a 2**-6 grid, the weight in [-2, 2] on a 2**-4 grid: every
product is a multiple of 2**-12 of magnitude <= 4, and no sum of the cases below can reach
2**24 such steps), while the results need more bits than float16 holds. So "sum in float32,
round once" has exactly one answer, the exact sum (computed in float64) rounded to float16,
and summing in float16 (rounding at every step) gives other bits: a check below shows it,
so these tests catch a float16 accumulation, not only a wrong dtype.

convtrace's rule is checked bit for bit: every algorithm of every primitive gives the exact
sum rounded once to float16. PyTorch is compared within its own error bound, not bit for bit:
how its float16 kernels accumulate depends on the machine (oneDNN or not, native float16
accumulation as on ARM, intermediate rounding in its gradients: measured here, only 50-85 %
of its input/weight-gradient elements equal the once-rounded exact sum). A kernel that rounds
after each of its ``n`` additions errs by at most ``n * 2**-11`` of the sum of the terms'
magnitudes, which is the bound used.
"""

from __future__ import annotations

import numpy as np
import pytest

from backends import each_backend
from convtrace import grad
from convtrace.engine import fast

torch = pytest.importorskip("torch")
NEEDS_TORCH = True

# (N, C_in, C_out, L, K, stride, padding, dilation, groups)
CASES = [
    (4, 16, 16, 300, 5, 1, 2, 1, 1),  # dense, 'same'
    (3, 12, 18, 200, 4, 2, 1, 1, 3),  # grouped, strided
    (2, 8, 8, 300, 7, 1, 3, 1, 8),  # depthwise, long kernel (Toeplitz)
    (2, 6, 6, 150, 3, 1, 4, 2, 2),  # grouped, dilated
    (1, 1, 1, 4, 3, 1, 1, 1, 1),  # the seed's tiny example
]


def _grid(rng: np.random.Generator, shape: tuple[int, ...], step: float, bound: float) -> np.ndarray:
    """Random multiples of ``step`` in ``[-bound, bound]`` (exact in float16)."""
    top = int(bound / step)
    return (rng.integers(-top, top + 1, size=shape) * step).astype(np.float16)


def _data(case: tuple[int, ...], seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n, c_in, c_out, length, k, s, p, d, g = case
    rng = np.random.default_rng(seed)
    out_len = (length + 2 * p - d * (k - 1) - 1) // s + 1
    return (
        _grid(rng, (n, c_in, length), 2.0**-6, 1.0),
        _grid(rng, (c_out, c_in // g, k), 2.0**-4, 2.0),
        _grid(rng, (n, c_out, out_len), 2.0**-6, 2.0),
    )


def _torch_results(case: tuple[int, ...], x: np.ndarray, w: np.ndarray, gy: np.ndarray) -> dict[str, np.ndarray]:
    _, _, c_out, _, _, s, p, d, g = case
    tx, tw, tgy = (torch.from_numpy(a) for a in (x, w, gy))
    y = torch.nn.functional.conv1d(tx, tw, stride=s, padding=p, dilation=d, groups=g)
    gx, gw, gb = torch.ops.aten.convolution_backward(
        tgy, tx, tw, [c_out], [s], [p], [d], False, [0], g, [True, True, True]
    )
    return {"forward": y.numpy(), "input": gx.numpy(), "weight": gw.numpy(), "bias": gb.numpy()}


def assert_within_torch_rounding(got: np.ndarray, want: np.ndarray, magnitude: np.ndarray, additions: int,
                                 label: str) -> None:
    """|got - torch| within the error of a float16 kernel that rounds after each of its
    ``additions`` additions (plus the final rounding of both): ``(additions + 2) * 2**-11``
    of the sum of the terms' magnitudes."""
    bound = (additions + 2) * 2.0**-11 * magnitude + 2.0**-24
    err = np.abs(got.astype(np.float64) - want.astype(np.float64))
    assert np.all(err <= bound), (label, float((err - bound).max()))


def _bits(a: np.ndarray) -> np.ndarray:
    assert a.dtype == np.float16
    return a.view(np.uint16)


def _exact_results(case: tuple[int, ...], x: np.ndarray, w: np.ndarray, gy: np.ndarray) -> dict[str, np.ndarray]:
    """The exact sums (float64: exact for these data, see the module docstring) and, under
    ``"|...|"``, the sums of absolute terms (for error bounds)."""
    _, _, _, length, k, s, p, d, g = case
    out: dict[str, np.ndarray] = {}
    for prefix, f in (("", lambda a: a.astype(np.float64)), ("|", lambda a: np.abs(a.astype(np.float64)))):
        x64, w64, gy64 = f(x), f(w), f(gy)
        out[prefix + "forward"] = fast.conv1d_forward(x64, w64, s, p, gy.shape[2], d, g)
        out[prefix + "input"] = fast.conv1d_input_grad(gy64, w64, length, s, p, d, g)
        out[prefix + "weight"] = fast.conv1d_weight_grad(x64, gy64, k, s, p, d, g)
        out[prefix + "bias"] = gy64.sum(axis=(0, 2))
    return out


def _algorithm_results(case: tuple[int, ...], x: np.ndarray, w: np.ndarray, gy: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """(primitive/algorithm, float16 result) for every applicable algorithm, each forced."""
    _, c_in, c_out, length, k, s, p, d, g = case
    depthwise = c_in == c_out == g
    out = []
    for algo in fast.FORWARD_ALGORITHMS:
        if not (algo == "toeplitz" and not (depthwise and s == 1)):
            out.append((f"forward/{algo}", fast.conv1d_forward(x, w, s, p, gy.shape[2], d, g, _algo=algo)))
    for algo in fast.INPUT_GRAD_ALGORITHMS:
        if not (algo == "flip" and s != 1):
            out.append((f"input/{algo}", fast.conv1d_input_grad(gy, w, length, s, p, d, g, _algo=algo)))
    for algo in fast.WEIGHT_GRAD_ALGORITHMS:
        if not ((algo == "toeplitz" and not (depthwise and s == 1)) or (algo == "taps" and s != 1)):
            out.append((f"weight/{algo}", fast.conv1d_weight_grad(x, gy, k, s, p, d, g, _algo=algo)))
    return out


@pytest.mark.parametrize("case", CASES)
def test_every_algorithm_rounds_once(case: tuple[int, ...]) -> None:
    """Each algorithm of each primitive, forced: the exact sum rounded once to float16, bit for
    bit; the forward also within PyTorch's own float16 error of torch's (oneDNN on and off)."""
    _, c_in, _, _, k, _, _, _, g = case
    x, w, gy = _data(case)
    exact = _exact_results(case, x, w, gy)
    torch_forwards = [_torch_results(case, x, w, gy)["forward"] for _ in each_backend()]
    for label, got in _algorithm_results(case, x, w, gy):
        primitive = label.split("/")[0]
        np.testing.assert_array_equal(_bits(got), _bits(exact[primitive].astype(np.float16)), err_msg=label)
        if primitive == "forward":
            for want in torch_forwards:
                assert_within_torch_rounding(got, want, exact["|forward"], c_in // g * k, label)


@pytest.mark.parametrize("case", CASES)
def test_public_gradients_against_torch(case: tuple[int, ...]) -> None:
    """``convtrace.grad``: the bias gradient is torch's bits; input and weight gradients are
    the once-rounded exact sums, within torch's intermediate-rounding error of torch's."""
    n, _, c_out, _, k, s, p, d, g = case
    x, w, gy = _data(case, seed=1)
    exact = _exact_results(case, x, w, gy)
    got = {
        "input": grad.conv1d_input(x.shape, w, gy, stride=s, padding=p, dilation=d, groups=g),
        "weight": grad.conv1d_weight(x, w.shape, gy, stride=s, padding=p, dilation=d, groups=g),
        "bias": grad.conv1d_bias(gy),
    }
    # the number of additions behind one element of each gradient
    additions = {"input": c_out // g * k, "weight": n * gy.shape[2], "bias": n * gy.shape[2]}
    for name in ("input", "weight", "bias"):
        np.testing.assert_array_equal(_bits(got[name]), _bits(exact[name].astype(np.float16)), err_msg=name)
    for _ in each_backend():
        want = _torch_results(case, x, w, gy)
        for name in ("input", "weight", "bias"):
            assert_within_torch_rounding(got[name], want[name], exact["|" + name], additions[name], name)


def _sum_in_float16(terms: np.ndarray) -> np.ndarray:
    """Sum (float32) terms along the last axis, rounding to float16 after every addition."""
    acc = np.zeros(terms.shape[:-1], dtype=np.float16)
    for j in range(terms.shape[-1]):
        acc = (acc.astype(np.float32) + terms[..., j]).astype(np.float16)
    return acc


def test_float16_accumulation_would_be_caught() -> None:
    """The data above discriminate: summing the bias or a weight-gradient tap in float16 gives
    other bits than the once-rounded exact sum, so a float16 accumulation cannot pass these
    tests."""
    case = CASES[0]
    x, w, gy = _data(case, seed=1)
    exact = _exact_results(case, x, w, gy)
    bias16 = _sum_in_float16(gy.astype(np.float32).transpose(1, 0, 2).reshape(gy.shape[1], -1))
    assert np.any(_bits(bias16) != _bits(exact["bias"].astype(np.float16)))
    # weight gradient, centre tap (with padding 2 and K = 5 it reads x unshifted): Σ gy·x
    products = gy.astype(np.float32)[:, :, None, :] * x.astype(np.float32)[:, None, :, :]
    terms = products.transpose(1, 2, 0, 3).reshape(gy.shape[1], x.shape[1], -1)  # exact in float32
    once = terms.astype(np.float64).sum(axis=-1).astype(np.float16)
    got = grad.conv1d_weight(x, w.shape, gy, padding=2)[:, :, 2]
    np.testing.assert_array_equal(_bits(got), _bits(once))
    assert np.any(_bits(_sum_in_float16(terms)) != _bits(once))
