"""``pad`` (last dimension) against torch.nn.functional.pad: values bit for bit, and the
same accepted/rejected calls.

Documented divergences (see also test_validation_parity.py):
* convtrace pads the last dimension only: ``pad`` must have exactly 2 elements (PyTorch
  also accepts 0, 4, 6, ... elements; with 0 it returns the input for 'constant').
* 'circular' with a positive pad larger than the length left after cropping by the other
  (negative) pad raises; PyTorch returns uninitialised memory there, or fails with an
  aliasing error, depending on the layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

import convtrace  # noqa: E402
import convtrace.functional as F  # noqa: E402
from convtrace.engine.padding import apply_pad, pad_source  # noqa: E402
from strategies import assert_convtrace_error, examples, rand, run, tt  # noqa: E402

NEEDS_TORCH = True
TF = torch.nn.functional
MODES = ("constant", "reflect", "replicate", "circular")
PAD_PARAMS = {"input", "pad", "mode", "value"}


@dataclass(frozen=True)
class PadCall:
    x: np.ndarray
    pad: Any
    mode: Any
    value: Any

    def describe(self) -> str:
        return f"pad(x={self.x.shape} {self.x.dtype}, pad={self.pad!r}, mode={self.mode!r}, value={self.value!r})"


@st.composite
def pad_calls(draw: Any, *, valid_only: bool = False) -> PadCall:
    ndim = draw(st.sampled_from([2, 3, 3] if valid_only else [1, 2, 2, 2, 3, 3, 3, 3, 4]))
    length = draw(st.integers(1, 6) if valid_only or draw(st.integers(0, 9)) else st.integers(0, 6))
    lead = [draw(st.integers(1, 3) if valid_only or draw(st.integers(0, 7)) else st.integers(0, 1))
            for _ in range(ndim - 1)]
    dtype = draw(st.sampled_from([np.float64, np.float32, np.float16, np.complex128]))
    x = rand(tuple(lead) + (length,), dtype, draw(st.integers(0, 1000)))
    mode = draw(st.sampled_from(MODES if valid_only or draw(st.integers(0, 19)) else ("zeros", "Reflect", None, 0)))
    pads = st.integers(-length - 2, length + 2) if draw(st.booleans()) else st.integers(-1, length)
    pad: Any = (draw(pads), draw(pads))
    if not valid_only and draw(st.integers(0, 9)) == 0:
        pad = draw(st.sampled_from([(), (1,), (1, 1, 1, 1), (1.0, 1), [1, 1], None]))
    value = draw(st.sampled_from([None, None, None, 0.0, 2.5, -1] + ([] if valid_only else [1j, "1", True])))
    return PadCall(x, pad, mode, value)


def _circular_overwrap(call: PadCall) -> bool:
    left, right = call.pad
    cropped = call.x.shape[-1] - max(-left, 0) - max(-right, 0)
    return max(left, 0) > cropped or max(right, 0) > cropped


@examples(600)
@given(call=pad_calls())
def test_pad_accept_reject_and_values_match_torch(call: PadCall) -> None:
    theirs = run(TF.pad, tt(call.x), call.pad, call.mode, call.value)
    ours = run(F.pad, call.x, call.pad, call.mode, call.value)
    event("accepted" if theirs.ok else "rejected")
    if isinstance(call.pad, (tuple, list)) and len(call.pad) != 2 and theirs.ok:
        # documented divergence: the last dimension only
        event("divergence: pad of other than 2 elements")
        assert not ours.ok
        assert_convtrace_error(ours.error, {"pad"})
        assert "last dimension only" in str(ours.error)
        return
    if call.mode == "circular" and theirs.ok and not ours.ok and _circular_overwrap(call):
        # documented divergence: PyTorch returns uninitialised memory here
        event("divergence: circular wraps more than once")
        assert_convtrace_error(ours.error, {"pad"})
        assert "wrapping around more than once" in str(ours.error) or "Negative padding" in str(ours.error)
        return
    assert theirs.ok == ours.ok, f"{call.describe()}\n torch: {theirs.error!r}\n convtrace: {ours.error!r}"
    if ours.ok:
        expected = theirs.value.numpy()
        assert ours.value.dtype == expected.dtype
        assert ours.value.shape == expected.shape
        np.testing.assert_array_equal(ours.value, expected)
        assert not np.shares_memory(ours.value, call.x)
    else:
        assert_convtrace_error(ours.error, PAD_PARAMS, theirs.error)


@examples(200)
@given(call=pad_calls(valid_only=True))
def test_pad_equals_its_index_map(call: PadCall) -> None:
    """apply_pad is x taken at pad_source (constant samples where the map says -1)."""
    left, right = call.pad
    length = call.x.shape[-1]
    mode = call.mode
    cropped = length - max(-left, 0) - max(-right, 0)
    if mode == "reflect" and (left >= length or right >= length):
        return
    if cropped < 0 or (mode == "circular" and _circular_overwrap(call)) or length + left + right < 1:
        return
    src = pad_source(length, left, right, mode)
    out = apply_pad(call.x, left, right, mode, 7.0)
    assert out.shape[-1] == length + left + right == src.size
    for j, t in enumerate(src):
        if t < 0:
            assert mode == "constant"
            assert (out[..., j] == 7.0).all()
        else:
            np.testing.assert_array_equal(out[..., j], call.x[..., t])


# --------------------------------------------------------------------------- pinned


x123 = np.array([[[1.0, 2.0, 3.0]]])


@pytest.mark.parametrize(
    ("mode", "pad", "expected"),
    [
        ("constant", (2, 1), [0, 0, 1, 2, 3, 0]),
        ("constant", (-1, 2), [2, 3, 0, 0]),
        ("reflect", (2, 2), [3, 2, 1, 2, 3, 2, 1]),  # pad = L-1 on both sides: the limit
        ("reflect", (-1, 1), [2, 3, 2]),
        ("replicate", (3, 2), [1, 1, 1, 1, 2, 3, 3, 3]),
        ("replicate", (5, 0), [1, 1, 1, 1, 1, 1, 2, 3]),  # no limit
        ("circular", (3, 3), [1, 2, 3, 1, 2, 3, 1, 2, 3]),  # pad = L: the limit
        ("circular", (2, -1), [1, 2, 1, 2]),  # crop first, then wrap the cropped [1, 2]
        ("circular", (-1, 2), [2, 3, 2, 3]),
    ],
)
def test_pad_pinned_values(mode, pad, expected) -> None:
    y = F.pad(x123, pad, mode=mode)
    assert y.tolist() == [[[float(v) for v in expected]]]
    assert TF.pad(tt(x123), pad, mode=mode).tolist() == y.tolist()


def test_constant_value() -> None:
    assert F.pad(x123, (1, 1), value=-2.5).tolist() == [[[-2.5, 1.0, 2.0, 3.0, -2.5]]]


@pytest.mark.parametrize(
    ("mode", "pad", "fragment"),
    [
        ("reflect", (3, 0), "Padding size should be less than the corresponding input dimension"),
        ("reflect", (0, 3), "Padding size should be less than the corresponding input dimension"),
        ("circular", (4, 0), "Padding value causes wrapping around more than once"),
        ("circular", (0, -4), "Negative padding value is resulting in an empty dimension"),
        ("constant", (3, -4), "narrow(): length must be non-negative"),
        ("constant", (-4, 6), "narrow(): length must be non-negative"),
        ("replicate", (-4, 1), "is too small"),
        ("constant", (1, 1, 1), "Padding length must be divisible by 2"),
    ],
)
def test_pad_pinned_rejections(mode, pad, fragment) -> None:
    with pytest.raises(convtrace.ConvtraceError) as info:
        F.pad(x123, pad, mode=mode)
    assert info.value.param == "pad"
    assert fragment in str(info.value)
    with pytest.raises((RuntimeError, ValueError, NotImplementedError)) as tinfo:
        TF.pad(tt(x123), pad, mode=mode)
    assert fragment in str(tinfo.value)


def test_reflect_limit_is_length_minus_one() -> None:
    x = np.arange(5.0)[None]
    assert F.pad(x, (4, 4), mode="reflect").shape == (1, 13)
    for pad in ((5, 0), (0, 5)):
        with pytest.raises(convtrace.ConvtraceError, match="Padding size should be less than"):
            F.pad(x, pad, mode="reflect")
        with pytest.raises(RuntimeError):
            TF.pad(tt(x), pad, mode="reflect")


def test_mode_and_value_errors() -> None:
    with pytest.raises(convtrace.ConvtraceError) as info:
        F.pad(x123, (1, 1), mode="zeros")
    assert info.value.param == "mode"
    with pytest.raises(convtrace.ConvtraceError, match="doesn't take in value argument") as info:
        F.pad(x123, (1, 1), mode="reflect", value=1.0)
    assert info.value.param == "value"
    assert F.pad(x123, (1, 1), mode="reflect", value=0.0).tolist() == [[[2.0, 1.0, 2.0, 3.0, 2.0]]]
    with pytest.raises(convtrace.ConvtraceTypeError) as info:
        F.pad(x123, (1.0, 1))
    assert info.value.param == "pad"
    with pytest.raises(TypeError):
        TF.pad(tt(x123), (1.0, 1))


@pytest.mark.parametrize("pad", [(), (1, 1, 1, 1), (0, 0, 0, 0)])
def test_pad_must_have_two_elements(pad) -> None:
    # Deliberate divergence: PyTorch pads leading dimensions too (and accepts an empty pad
    # in 'constant' mode); convtrace pads the last dimension only.
    assert TF.pad(tt(x123), pad).ndim == 3
    with pytest.raises(convtrace.ConvtraceError, match="last dimension only") as info:
        F.pad(x123, pad)
    assert info.value.param == "pad"


def test_circular_wrap_beyond_cropped_length_raises() -> None:
    # Deliberate divergence: with pad (-1, 3) on length 3, the cropped centre [2, 3] is
    # shorter than the right pad; PyTorch reads outside it (garbage or an aliasing error).
    with pytest.raises(convtrace.ConvtraceError, match="wrapping around more than once") as info:
        F.pad(x123, (-1, 3), mode="circular")
    assert info.value.param == "pad"
    with pytest.raises(convtrace.ConvtraceError, match="wrapping around more than once"):
        F.pad(x123, (-3, 1), mode="circular")


def test_non_constant_modes_need_2d_or_3d_input() -> None:
    for mode in ("reflect", "replicate", "circular"):
        for shape in ((3,), (1, 1, 1, 3)):
            with pytest.raises(convtrace.ConvtraceError) as info:
                F.pad(np.ones(shape), (1, 1), mode=mode)
            assert info.value.param == "input"
            with pytest.raises((RuntimeError, NotImplementedError)):
                TF.pad(torch.ones(shape), (1, 1), mode=mode)
    assert F.pad(np.ones(3), (1, 1)).tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]
