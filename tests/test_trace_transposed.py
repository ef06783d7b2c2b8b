"""ConvTranspose1d's four views: each equals the engine's output, each other, and PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import convtrace
from convtrace.trace.transposed import conv_matrix, flipped_weight, overlap_counts

CASES = [
    dict(stride=2, padding=1),
    dict(stride=3, padding=0, output_padding=2, kernel_size=4),
    dict(stride=2, padding=2, dilation=3, output_padding=2, kernel_size=3),  # output_padding >= stride
    dict(stride=1, padding=3, dilation=2, kernel_size=3),  # crop: dilation*(k-1) - padding < 0
    dict(stride=2, padding=1, groups=2, kernel_size=3, bias=True),
    dict(stride=4, padding=0, kernel_size=2),  # gaps: some outputs get no tap
    dict(stride=2, padding=1, kernel_size=4, output_size=[11]),
]


def _data(cfg: dict, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    rng = np.random.default_rng(seed)
    g = cfg.get("groups", 1)
    k = cfg.pop("kernel_size", 3)
    x = rng.integers(-3, 4, size=(2, 2 * g, 5)).astype(np.float64)
    w = rng.integers(-2, 3, size=(2 * g, 2, k)).astype(np.float64)
    b = rng.integers(-2, 3, size=(2 * g,)).astype(np.float64) if cfg.pop("bias", False) else None
    return x, w, b


@pytest.mark.parametrize("i", range(len(CASES)))
def test_four_views_equal_engine_and_each_other(i: int) -> None:
    cfg = dict(CASES[i])
    x, w, b = _data(cfg, i)
    t = convtrace.explain_transposed(x, w, b, **cfg, verify=False)
    v = t.views
    assert v is not None
    for out in (v.scatter.output, v.zero_insertion.output, v.matrix.output, v.gradient.output):
        assert np.array_equal(out, t.output)  # integer data: equal to the last bit
    assert v.scatter.equal and v.zero_insertion.equal and v.matrix.equal and v.gradient.equal
    spec = t.spec
    assert v.scatter.crop_left == spec.padding_int
    assert v.scatter.crop_right == spec.padding_int - spec.output_padding
    assert v.scatter.full_length == (spec.length - 1) * spec.stride + spec.dilation * (spec.kernel_size - 1) + 1
    assert v.zero_insertion.pad_each_side == spec.dilation * (spec.kernel_size - 1) - spec.padding_int
    assert v.zero_insertion.inserted == spec.stride - 1
    assert v.matrix.matrix.shape == (spec.in_channels * spec.length, spec.out_channels * spec.out_length)
    # the scatter placements add up to the output
    acc = np.zeros_like(t.output)
    for p in v.scatter.placements:
        for tap in p.taps:
            if not tap.cropped:
                acc[p.batch, tap.out_channel, tap.out_index] += float(tap.product)
    if b is not None:
        acc += b[None, :, None]
    assert np.array_equal(acc, t.output)
    assert t.verify(torch=False)


@pytest.mark.parametrize("i", range(len(CASES)))
def test_views_equal_torch(i: int) -> None:
    torch = pytest.importorskip("torch")
    cfg = dict(CASES[i])
    x, w, b = _data(cfg, i)
    t = convtrace.explain_transposed(x, w, b, **cfg)
    assert t.check.available and t.check.agree and t.check.max_abs_diff == 0.0
    ref = t.check.output
    v = t.views
    for out in (v.scatter.output, v.zero_insertion.output, v.matrix.output, v.gradient.output):
        assert np.array_equal(out, ref)
    # the printed Conv1d configuration runs in PyTorch and gives the same output
    ctor = v.zero_insertion.torch_call.split("  #")[0]
    m = eval(ctor, {"torch": torch}).double()
    with torch.no_grad():
        m.weight.copy_(torch.from_numpy(v.zero_insertion.weight))
        if b is not None:
            m.bias.copy_(torch.from_numpy(b))
        y = m(torch.from_numpy(v.zero_insertion.upsampled)).numpy()
    assert np.array_equal(y, ref)
    # and its weight is torch's flipped, swapped kernel
    g = t.spec.groups
    wt = torch.from_numpy(w)
    cg, og, k = w.shape[0] // g, w.shape[1], w.shape[2]
    expect = wt.flip(-1).reshape(g, cg, og, k).transpose(1, 2).reshape(g * og, cg, k).numpy()
    assert np.array_equal(v.zero_insertion.weight, expect)


def test_overlap_and_checkerboard() -> None:
    # kernel 3, stride 2: 1, 2, 1, 2, ... taps per position: uneven (checkerboard)
    t = convtrace.explain_transposed(np.ones((1, 1, 5)), np.ones((1, 1, 3)), stride=2, verify=False)
    assert t.views.scatter.overlap == (1, 1, 2, 1, 2, 1, 2, 1, 2, 1, 1)
    assert t.views.scatter.uneven and any(d["code"] == "uneven_overlap" for d in t.note_data)
    # kernel 4, stride 2, padding 1: every interior position gets 2 taps: even
    t = convtrace.explain_transposed(np.ones((1, 1, 5)), np.ones((1, 1, 4)), stride=2, padding=1, verify=False)
    assert set(t.views.scatter.overlap[1:-1]) == {2} and not t.views.scatter.uneven
    assert overlap_counts(3, 2, 4, 0, 1, 10) == (1, 1, 0, 0, 1, 1, 0, 0, 1, 1)


def test_matrix_view_is_the_transpose_of_the_conv_matrix() -> None:
    rng = np.random.default_rng(1)
    w = rng.standard_normal((2, 3, 3))
    z = rng.standard_normal((1, 3, 9))
    C = conv_matrix(w, 9, 5, 2, 1, 1, 1)
    y = convtrace.functional.conv1d(z, w, stride=2, padding=1)
    np.testing.assert_allclose(C @ z.reshape(-1), y.reshape(-1), rtol=1e-12)
    assert flipped_weight(w, 1).shape == (3, 2, 3)


def test_matrix_view_skipped_when_large() -> None:
    t = convtrace.explain_transposed(np.ones((1, 8, 60)), np.ones((8, 8, 4)), stride=2, verify=False)
    m = t.views.matrix
    assert m.matrix is None and m.equal is None and "entries" in m.reason
    assert t.views.scatter.equal and t.views.gradient.equal


def test_transposed_gather_terms() -> None:
    # y[j] = sum x[i] w[k] over j = i*stride - padding + k*dilation
    t = convtrace.explain_transposed([1, 2, 3], [10, 20, 30], stride=2, padding=1, dilation=1, verify=False)
    s = t.step_at(0, 0, 2)  # j = 2: (i=1, k=1)
    assert [(u.input_index, u.kernel_index) for u in s.terms] == [(1, 1)]
    s = t.step_at(0, 0, 1)  # j = 1: (i=0, k=2), (i=1, k=0)
    assert [(u.input_index, u.kernel_index) for u in s.terms] == [(0, 2), (1, 0)]
    assert s.value == 1 * 30 + 2 * 10
    assert all(u.padded_index is None for u in s.terms)
    with pytest.raises(KeyError):
        t.step_at(0, 0, 99)


def test_output_size_is_nn_semantics() -> None:
    t = convtrace.explain_transposed([1, 2, 3], [1, 1, 1], stride=3, output_size=11, verify=False)
    assert t.output.shape == (1, 11) and t.spec.output_padding == 2 and t.output_size == 11
    with pytest.raises(convtrace.ConvtraceError, match="valid sizes range from") as ei:
        convtrace.explain_transposed([1, 2, 3], [1, 1, 1], stride=3, output_size=12, verify=False)
    assert ei.value.param == "output_size"
