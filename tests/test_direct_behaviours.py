"""Direct, data-level tests of the behaviours the golden text files used to be the only
guard of (issue 6): a ``make regen-golden`` run must not be able to hide a bug in

* the reflect and replicate (and circular) padding index maps,
* the rounding of the output length,
* the left/right split of ``padding='same'``,
* the weight index of each product under dilation (in the trace and as printed),
* the offset of each scatter placement of ConvTranspose1d (``i*stride - padding``),
* the output channel (with its group) each scatter tap reaches.

Every expectation is read off PyTorch, never off a formula of ours:

* ``torch.nn.functional.pad`` of an ``arange`` input *is* the index map;
* the shape of a torch convolution's output is the output length;
* a one-hot weight ``w[:, c, k] = 1`` through ``torch.nn.Conv1d`` on an input whose
  values are distinct codes of (batch, channel, index) says, for each output element, which
  input sample kernel tap ``k`` multiplies (and so where the padding came from);
* an impulse through ``conv_transpose1d`` with distinct weight codes says where each tap of
  each input sample lands, and in which output channel.

Each behaviour has small pinned cases and a bounded, derandomized Hypothesis sweep.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

import convtrace  # noqa: E402
import convtrace.functional as F  # noqa: E402
from convtrace import shapes  # noqa: E402
from convtrace.engine.padding import apply_pad, pad_source  # noqa: E402
from strategies import examples  # noqa: E402

NEEDS_TORCH = True
TF = torch.nn.functional
pytestmark = [pytest.mark.filterwarnings("ignore:Using padding='same'")]


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Tiny convolutions: one PyTorch thread (several spin and stall on a busy machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


MODES = ("reflect", "replicate", "circular")
SOURCE_OF_MODE = {"zeros": "zero", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}


# --------------------------------------------------------------------------- oracles


def torch_index_map(length: int, left: int, right: int, mode: str) -> list[int]:
    """PyTorch's padded row of ``arange(length)``: the source index of every position
    (-1 where a constant is written)."""
    x = torch.arange(length, dtype=torch.float64).reshape(1, 1, length)
    if mode == "constant":
        return [int(v) for v in TF.pad(x, (left, right), mode="constant", value=-1.0).flatten().tolist()]
    return [int(v) for v in TF.pad(x, (left, right), mode=mode).flatten().tolist()]


def codes(batch: int, channels: int, length: int) -> np.ndarray:
    """Input values that name their own position: ``1 + i + L*(c + C*n)`` (exact in float64)."""
    return 1.0 + np.arange(batch * channels * length, dtype=np.float64).reshape(batch, channels, length)


def decode(code: float, channels: int, length: int) -> tuple[int, int, int] | None:
    """(n, c, i) of a code; None for 0 (a zero-padding sample)."""
    if code == 0:
        return None
    v = int(code) - 1
    assert v + 1 == code, code
    return v // (channels * length), (v // length) % channels, v % length


@dataclass(frozen=True)
class Conv:
    """One Conv1d configuration (padding int, 'same' or 'valid'; any padding_mode)."""

    batch: int
    groups: int
    in_per_group: int
    out_per_group: int
    length: int
    kernel_size: int
    stride: int = 1
    padding: Any = 0
    dilation: int = 1
    padding_mode: str = "zeros"

    @property
    def in_channels(self) -> int:
        return self.groups * self.in_per_group

    @property
    def out_channels(self) -> int:
        return self.groups * self.out_per_group

    def torch_module(self, weight: np.ndarray) -> Any:
        m = torch.nn.Conv1d(
            self.in_channels, self.out_channels, self.kernel_size, stride=self.stride, padding=self.padding,
            dilation=self.dilation, groups=self.groups, bias=False, padding_mode=self.padding_mode,
            dtype=torch.float64,
        )  # fmt: skip
        with torch.no_grad():
            m.weight.copy_(torch.from_numpy(weight))
        return m

    def explain(self, x: np.ndarray, w: np.ndarray) -> convtrace.Trace:
        return convtrace.explain(
            x, w, stride=self.stride, padding=self.padding, dilation=self.dilation, groups=self.groups,
            padding_mode=self.padding_mode, verify=False, max_steps=100_000,
        )  # fmt: skip


def torch_taps(conv: Conv, x: np.ndarray) -> dict[tuple[int, int, int], list[tuple[int, int, int | None]]]:
    """For each output element (n, o, t): the (in_channel, kernel_index, input_index) of every
    product PyTorch forms, read off one-hot weights (input_index None: a zero-padding sample)."""
    n_, cg, og, K = conv.batch, conv.in_per_group, conv.out_per_group, conv.kernel_size
    out: dict[tuple[int, int, int], list[tuple[int, int, int | None]]] = {}
    for cl in range(cg):
        for k in range(K):
            w = np.zeros((conv.out_channels, cg, K))
            w[:, cl, k] = 1.0
            y = conv.torch_module(w)(torch.from_numpy(x)).detach().numpy()
            for (n, o, t), v in np.ndenumerate(y):
                c = (o // og) * cg + cl
                where = decode(v, conv.in_channels, conv.length)
                if where is not None:
                    assert where[:2] == (n, c), (where, n, c)  # PyTorch reads its own channel
                out.setdefault((n, o, t), []).append((c, k, None if where is None else where[2]))
    assert len(out) == n_ * conv.out_channels * y.shape[-1]
    return out


def assert_conv_trace_matches_torch(conv: Conv) -> convtrace.Trace:
    """Every data field of the trace that says where a number comes from, against torch."""
    x = codes(conv.batch, conv.in_channels, conv.length)
    w = 1.0 + np.arange(conv.out_channels * conv.in_per_group * conv.kernel_size, dtype=np.float64)
    w = w.reshape(conv.out_channels, conv.in_per_group, conv.kernel_size)
    trace = conv.explain(x, w)
    spec = trace.spec
    expected = torch_taps(conv, x)
    y_torch = conv.torch_module(w)(torch.from_numpy(x)).detach().numpy()
    # the output length
    assert trace.length.result == spec.out_length == y_torch.shape[-1]
    assert trace.output.shape == y_torch.shape
    assert len(trace.steps) == len(expected)  # every output element has its step
    # the padded row (PyTorch pads first, then convolves with padding 0)
    pl, pr = spec.pad_left, spec.pad_right
    if conv.padding_mode == "zeros":
        padded = TF.pad(torch.from_numpy(x), (pl, pr)).numpy()
    else:
        padded = TF.pad(torch.from_numpy(x), (pl, pr), mode=conv.padding_mode).numpy()
    mode_source = SOURCE_OF_MODE[conv.padding_mode]
    for step in trace.steps:
        key = (step.batch, step.out_channel, step.out_index)
        got = sorted((t.in_channel, t.kernel_index, t.input_index) for t in step.terms)
        assert got == sorted(expected[key], key=_sort_key), f"step {key}: {got} != torch {expected[key]}"
        assert step.group == step.out_channel // conv.out_per_group
        for term in step.terms:
            # the padded position tap k reads, and what PyTorch's padded row holds there
            assert term.padded_index == step.out_index * conv.stride + term.kernel_index * conv.dilation
            held = padded[step.batch, term.in_channel, term.padded_index]
            want = None if held == 0 else decode(held, conv.in_channels, conv.length)
            assert (None if want is None else want[2]) == term.input_index, (key, term)
            assert float(term.x) == held
            inside = pl <= term.padded_index < pl + conv.length
            assert term.source.value == ("input" if inside else mode_source), (key, term)
    # the padded row's cells (every cell: small rows are listed whole)
    row = padded[0, 0]
    assert [c.position for c in trace.pad_cells] == list(range(len(row)))
    for cell in trace.pad_cells:
        want = None if row[cell.position] == 0 else decode(row[cell.position], conv.in_channels, conv.length)
        assert cell.input_index == (None if want is None else want[2]), cell
        inside = pl <= cell.position < pl + conv.length
        assert cell.source.value == ("input" if inside else mode_source), cell
    return trace


def _sort_key(t: tuple[int, int, int | None]) -> tuple[int, int, int]:
    return t[0], t[1], -1 if t[2] is None else t[2]


# --------------------------------------------------------------------------- index maps


PINNED_MAPS = [
    (4, 2, 2, "reflect"), (4, 3, 3, "reflect"), (5, 4, 1, "reflect"), (2, 1, 1, "reflect"), (3, 0, 2, "reflect"),
    (4, 2, 2, "replicate"), (1, 3, 2, "replicate"), (3, 5, 0, "replicate"), (4, -1, 3, "replicate"),
    (4, 2, 2, "circular"), (3, 3, 3, "circular"), (5, 1, 4, "circular"), (4, 2, 1, "constant"),
]  # fmt: skip


def _assert_index_map(length: int, left: int, right: int, mode: str) -> None:
    want = torch_index_map(length, left, right, mode)
    assert pad_source(length, left, right, mode).tolist() == want, (length, left, right, mode)
    x = np.arange(length, dtype=np.float64).reshape(1, 1, length)
    fill = -1.0 if mode == "constant" else 0.0
    assert apply_pad(x, left, right, mode, fill)[0, 0].tolist() == want
    if mode != "constant":
        assert F.pad(x, (left, right), mode=mode)[0, 0].tolist() == want


@pytest.mark.parametrize(("length", "left", "right", "mode"), PINNED_MAPS)
def test_pinned_index_maps_equal_torch_pad_of_arange(length: int, left: int, right: int, mode: str) -> None:
    _assert_index_map(length, left, right, mode)


def test_reflect_and_replicate_maps_spelled_out() -> None:
    # the same facts as plain lists, so a failure reads without a debugger
    assert torch_index_map(4, 3, 3, "reflect") == [3, 2, 1, 0, 1, 2, 3, 2, 1, 0]
    assert pad_source(4, 3, 3, "reflect").tolist() == [3, 2, 1, 0, 1, 2, 3, 2, 1, 0]
    assert torch_index_map(3, 2, 3, "replicate") == [0, 0, 0, 1, 2, 2, 2, 2]
    assert pad_source(3, 2, 3, "replicate").tolist() == [0, 0, 0, 1, 2, 2, 2, 2]


@st.composite
def index_map_cases(draw: Any) -> tuple[int, int, int, str]:
    mode = draw(st.sampled_from(MODES))
    length = draw(st.integers(1, 9))
    if mode == "reflect":  # PyTorch: each pad < length
        left, right = draw(st.integers(0, length - 1)), draw(st.integers(0, length - 1))
    elif mode == "replicate":  # any pad; crops too
        left, right = draw(st.integers(-(length - 1), 7)), draw(st.integers(0, 7))
    else:  # circular: each pad <= length
        left, right = draw(st.integers(0, length)), draw(st.integers(0, length))
    if draw(st.booleans()):
        left, right = right, left
    return length, left, right, mode


@examples(200)
@given(case=index_map_cases())
def test_index_maps_equal_torch_sweep(case: tuple[int, int, int, str]) -> None:
    length, left, right, mode = case
    event(mode)
    _assert_index_map(length, left, right, mode)


# --------------------------------------------------------------------------- trace: padding sources


PINNED_PAD_TRACES = [
    Conv(1, 1, 1, 1, length=4, kernel_size=3, padding=2, padding_mode="reflect"),
    Conv(1, 1, 1, 1, length=4, kernel_size=3, padding=3, padding_mode="reflect"),
    Conv(1, 1, 1, 1, length=4, kernel_size=3, padding=2, padding_mode="replicate"),
    Conv(1, 1, 1, 1, length=2, kernel_size=3, padding=4, padding_mode="replicate"),
    Conv(1, 1, 1, 1, length=4, kernel_size=3, padding=3, padding_mode="circular"),
    Conv(2, 2, 1, 1, length=5, kernel_size=2, stride=2, padding=3, dilation=2, padding_mode="reflect"),
    Conv(1, 1, 2, 1, length=3, kernel_size=3, padding=2, padding_mode="replicate"),
]


@pytest.mark.parametrize(
    "conv", PINNED_PAD_TRACES, ids=lambda c: f"{c.padding_mode}-L{c.length}-p{c.padding}"
)
def test_trace_padding_sources_pinned(conv: Conv) -> None:
    assert_conv_trace_matches_torch(conv)


def test_trace_reflect_sources_spelled_out() -> None:
    t = convtrace.explain([[1, 2, 3, 4]], kernel_size=3, padding=3, padding_mode="reflect", verify=False)
    assert [(c.source.value, c.input_index) for c in t.pad_cells] == [
        ("reflect", 3), ("reflect", 2), ("reflect", 1), ("input", 0), ("input", 1), ("input", 2), ("input", 3),
        ("reflect", 2), ("reflect", 1), ("reflect", 0),
    ]  # fmt: skip
    assert [c.input_index for c in t.pad_cells] == torch_index_map(4, 3, 3, "reflect")
    t = convtrace.explain([[1, 2, 3]], kernel_size=2, padding=3, padding_mode="replicate", verify=False)
    assert (
        [c.input_index for c in t.pad_cells]
        == [0, 0, 0, 0, 1, 2, 2, 2, 2]
        == torch_index_map(3, 3, 3, "replicate")
    )
    last = t.steps[-1]
    assert [(term.kernel_index, term.input_index, term.source.value) for term in last.terms] == [
        (0, 2, "replicate"),
        (1, 2, "replicate"),
    ]


# --------------------------------------------------------------------------- output length


PINNED_LENGTHS = [
    # (L, k, stride, padding, dilation): the floor matters in all but the first
    (8, 3, 2, 1, 1), (4, 3, 2, 0, 1), (5, 2, 2, 0, 1), (10, 3, 4, 0, 1), (7, 3, 3, 1, 2), (16000, 10, 5, 0, 1),
    (9, 4, 3, 0, 2), (6, 1, 4, 0, 1),
]  # fmt: skip


def _torch_conv1d_length(length: int, k: int, s: int, p: Any, d: int) -> int:
    y = TF.conv1d(torch.zeros(1, 1, length, dtype=torch.float64), torch.zeros(1, 1, k, dtype=torch.float64),
                  stride=s, padding=p, dilation=d)  # fmt: skip
    return int(y.shape[-1])


def _assert_conv1d_length(length: int, k: int, s: int, p: Any, d: int) -> None:
    want = _torch_conv1d_length(length, k, s, p, d)
    assert shapes.conv1d_output_length(length, k, stride=s, padding=p, dilation=d) == want
    assert F.conv1d(np.zeros((1, 1, length)), np.zeros((1, 1, k)), None, s, p, d).shape[-1] == want
    if length <= 64:
        t = convtrace.explain(
            np.zeros((1, length)), np.zeros((1, 1, k)), stride=s, padding=p, dilation=d, verify=False
        )
        assert t.length.result == t.spec.out_length == want
        assert len(t.steps) == want


@pytest.mark.parametrize(("length", "k", "s", "p", "d"), PINNED_LENGTHS)
def test_pinned_conv1d_lengths_equal_torch(length: int, k: int, s: int, p: int, d: int) -> None:
    _assert_conv1d_length(length, k, s, p, d)


def test_length_floor_spelled_out() -> None:
    # (4 - 3) / 2 + 1 = 1.5 -> 1 : PyTorch drops the window that would not fit
    assert _torch_conv1d_length(4, 3, 2, 0, 1) == 1
    assert shapes.conv1d_output_length(4, 3, stride=2) == 1
    assert convtrace.explain([[1, 2, 3, 4]], kernel_size=3, stride=2, verify=False).length.result == 1
    assert shapes.unread_samples(4, 3, stride=2).tail == 1


@st.composite
def length_cases(draw: Any) -> tuple[int, int, int, Any, int]:
    k, s, d = draw(st.integers(1, 6)), draw(st.integers(1, 5)), draw(st.integers(1, 3))
    p: Any = draw(st.one_of(st.integers(0, 4), st.just("valid"), st.just("same")))
    if p == "same":
        s = 1
    total = 2 * p if isinstance(p, int) else (d * (k - 1) if p == "same" else 0)
    length = draw(st.integers(max(1, d * (k - 1) + 1 - total), 40))
    return length, k, s, p, d


@examples(200)
@given(case=length_cases())
def test_conv1d_lengths_equal_torch_sweep(case: tuple[int, int, int, Any, int]) -> None:
    event(f"stride {case[2]}")
    _assert_conv1d_length(*case)


@examples(150)
@given(
    length=st.integers(1, 12), k=st.integers(1, 5), s=st.integers(1, 4), d=st.integers(1, 3),
    p=st.integers(0, 4), data=st.data(),
)  # fmt: skip
def test_conv_transpose1d_lengths_equal_torch_sweep(
    length: int, k: int, s: int, d: int, p: int, data: Any
) -> None:
    op = data.draw(st.integers(0, max(s, d) - 1))
    lo_torch = (length - 1) * s - 2 * p + d * (k - 1) + 1  # only to skip invalid draws
    if lo_torch + op < 1:
        return
    x, w = torch.zeros(1, 1, length, dtype=torch.float64), torch.zeros(1, 1, k, dtype=torch.float64)
    want = int(TF.conv_transpose1d(x, w, stride=s, padding=p, output_padding=op, dilation=d).shape[-1])
    assert (
        shapes.conv_transpose1d_output_length(length, k, stride=s, padding=p, output_padding=op, dilation=d)
        == want
    )
    t = convtrace.explain_transposed(np.zeros((1, length)), np.zeros((1, 1, k)), stride=s, padding=p,
                                     output_padding=op, dilation=d, verify=False)  # fmt: skip
    assert t.length.result == t.spec.out_length == want
    # the output_size range: exactly the sizes torch.nn.ConvTranspose1d accepts
    m = torch.nn.ConvTranspose1d(1, 1, k, stride=s, padding=p, dilation=d, dtype=torch.float64)
    accepted = []
    for size in range(1, lo_torch + s + 3):
        try:
            m(x, output_size=[size])
            accepted.append(size)
        except (ValueError, RuntimeError):
            pass
    if lo_torch < 1:
        return  # see test_output_size_range_starts_at_the_first_valid_size
    lo, hi = shapes.conv_transpose1d_output_size_range(length, k, stride=s, padding=p, dilation=d)
    assert accepted == list(range(lo, hi + 1))


def test_output_size_range_starts_at_the_first_valid_size() -> None:
    # L=2, k=1, stride 3, padding 2: output_padding 0 gives length 0, but 1 and 2 give 1 and 2;
    # torch.nn.ConvTranspose1d accepts output_size=[1] and [2] (and rejects 0 and 3)
    m = torch.nn.ConvTranspose1d(1, 1, 1, stride=3, padding=2, dtype=torch.float64)
    x = torch.ones(1, 1, 2, dtype=torch.float64)
    assert [m(x, output_size=[size]).shape[-1] for size in (1, 2)] == [1, 2]
    for bad in (0, 3):
        with pytest.raises((RuntimeError, ValueError)):
            m(x, output_size=[bad])
    assert shapes.conv_transpose1d_output_size_range(2, 1, stride=3, padding=2) == (1, 2)


# --------------------------------------------------------------------------- the 'same' split


def torch_same_split(length: int, k: int, d: int) -> tuple[int, int]:
    """PyTorch's (left, right) for padding='same', read off a one-hot kernel: tap k lands
    at padded position t + k*d = input index + left."""
    length = max(length, d * (k - 1) + 1)  # the split does not depend on L; every sample is read
    x = codes(1, 1, length)
    for kk in range(k):
        w = np.zeros((1, 1, k))
        w[0, 0, kk] = 1.0
        y = TF.conv1d(torch.from_numpy(x), torch.from_numpy(w), padding="same", dilation=d).numpy()[0, 0]
        for t, v in enumerate(y):
            if v:
                left = t + kk * d - decode(v, 1, length)[2]
                return left, d * (k - 1) - left
    raise AssertionError("no tap reads the input")


PINNED_SAME = [(5, 4, 1), (5, 2, 1), (6, 4, 3), (3, 6, 1), (7, 3, 2), (4, 1, 1), (2, 2, 5)]


def _assert_same_split(length: int, k: int, d: int) -> None:
    want = torch_same_split(length, k, d)
    assert shapes.same_padding(k, d) == want
    assert shapes.padding_pair("same", k, dilation=d) == want
    t = convtrace.explain(np.ones((1, length)), np.ones((1, 1, k)), padding="same", dilation=d, verify=False)
    assert (t.spec.pad_left, t.spec.pad_right) == want
    assert t.length.result == length


@pytest.mark.parametrize(("length", "k", "d"), PINNED_SAME)
def test_pinned_same_split_equals_torch(length: int, k: int, d: int) -> None:
    _assert_same_split(length, k, d)


def test_same_split_odd_extra_goes_right_spelled_out() -> None:
    assert torch_same_split(5, 4, 1) == (1, 2)
    assert shapes.same_padding(4) == (1, 2)
    # reflect + 'same' + k=4: p = [x2 | x1..x5 | x4, x3]
    conv = Conv(1, 1, 1, 1, length=5, kernel_size=4, padding="same", padding_mode="reflect")
    t = assert_conv_trace_matches_torch(conv)
    assert [c.input_index for c in t.pad_cells] == [1, 0, 1, 2, 3, 4, 3, 2]
    # the module path splits the same way
    m = convtrace.nn.Conv1d(1, 1, 4, padding="same", padding_mode="reflect", bias=False, dtype=np.float64)
    m.weight = np.array([[[1.0, 10.0, 100.0, 1000.0]]])
    tm = torch.nn.Conv1d(1, 1, 4, padding="same", padding_mode="reflect", bias=False, dtype=torch.float64)
    with torch.no_grad():
        tm.weight.copy_(torch.from_numpy(m.weight))
    x = np.arange(1.0, 6.0)[None, None]
    assert m(x).tolist() == tm(torch.from_numpy(x)).tolist() == [[[3212.0, 4321.0, 5432.0, 4543.0, 3454.0]]]


@examples(100)
@given(length=st.integers(1, 12), k=st.integers(1, 7), d=st.integers(1, 4))
def test_same_split_equals_torch_sweep(length: int, k: int, d: int) -> None:
    event("odd total" if d * (k - 1) % 2 else "even total")
    _assert_same_split(length, k, d)


# --------------------------------------------------------------------------- kernel index of each product


PINNED_TAPS = [
    Conv(1, 1, 1, 1, length=7, kernel_size=3, padding=1, dilation=2),
    Conv(1, 1, 1, 1, length=9, kernel_size=3, dilation=3),
    Conv(1, 1, 1, 1, length=8, kernel_size=4, stride=2, padding="valid", dilation=2),
    Conv(2, 2, 2, 1, length=6, kernel_size=2, padding="same", dilation=3),
    Conv(1, 1, 1, 2, length=7, kernel_size=3, padding=2, dilation=2, padding_mode="circular"),
]


@pytest.mark.parametrize(
    "conv", PINNED_TAPS, ids=lambda c: f"L{c.length}-k{c.kernel_size}-d{c.dilation}-{c.padding}"
)
def test_kernel_index_of_each_product_pinned(conv: Conv) -> None:
    assert_conv_trace_matches_torch(conv)


def test_dilated_kernel_index_spelled_out() -> None:
    # x = 1..7, k=3, dilation 2, padding 1: y1 = 0·w1 + x2·w2 + x4·w3 (w3 is kernel index 2, not 4)
    t = convtrace.explain([[1, 2, 3, 4, 5, 6, 7]], kernel_size=3, dilation=2, padding=1, verify=False)
    assert [(term.kernel_index, term.input_index) for term in t.steps[0].terms] == [(0, None), (1, 1), (2, 3)]
    assert [(term.kernel_index, term.input_index) for term in t.steps[4].terms] == [(0, 3), (1, 5), (2, None)]
    assert torch_taps(Conv(1, 1, 1, 1, length=7, kernel_size=3, padding=1, dilation=2), codes(1, 1, 7))[
        (0, 0, 0)
    ] == [
        (0, 0, None),
        (0, 1, 1),
        (0, 2, 3),
    ]


_TERM_LINE = re.compile(r"^\s*(0|x\d+)\s*×\s*(w\d+)\b")


def printed_products(text: str) -> list[tuple[str, str]]:
    """The (x name, w name) of every product line of the rendered text."""
    return [m.groups() for m in map(_TERM_LINE.match, text.splitlines()) if m]


@pytest.mark.parametrize(
    "conv",
    [
        Conv(1, 1, 1, 1, length=7, kernel_size=3, padding=1, dilation=2),
        Conv(1, 1, 1, 1, length=9, kernel_size=4, dilation=2, stride=2),
        Conv(1, 1, 1, 1, length=6, kernel_size=3, padding=3, dilation=3, padding_mode="reflect"),
    ],
    ids=["d2", "d2-s2", "d3-reflect"],
)
def test_printed_weight_index_under_dilation(conv: Conv) -> None:
    """The product lines name the weight PyTorch multiplies (``w{k+1}``, one-based), and the
    sample (``x{i+1}``, or 0 for zero padding), step after step."""
    x = codes(1, 1, conv.length)[0]  # unbatched: short names x1.., w1..
    w = np.ones((1, 1, conv.kernel_size))
    trace = convtrace.explain(x, w, stride=conv.stride, padding=conv.padding, dilation=conv.dilation,
                              padding_mode=conv.padding_mode, verify=False)  # fmt: skip
    taps = torch_taps(conv, x[None])
    expected = []
    for t in range(trace.spec.out_length):
        for _, k, i in taps[(0, 0, t)]:  # in kernel order, as the text lists them
            expected.append(("0" if i is None else f"x{i + 1}", f"w{k + 1}"))
    printed = printed_products(str(trace))
    assert printed == expected


# --------------------------------------------------------------------------- the (grouped, dilated, padded) conv sweep


@st.composite
def convs(draw: Any) -> Conv:
    mode = draw(st.sampled_from(["zeros", "zeros", "reflect", "replicate", "circular"]))
    k, d = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    padding: Any = draw(st.sampled_from(["int", "int", "same", "valid"]))
    stride = 1 if padding == "same" else draw(st.integers(1, 3))
    length = draw(st.integers(1, 7))
    if padding == "int":
        hi = length - 1 if mode == "reflect" else (length if mode == "circular" else 4)
        padding = draw(st.integers(0, max(0, min(hi, 4))))
        total = 2 * padding
    else:
        total = d * (k - 1) if padding == "same" else 0
    if padding == "same" and mode == "reflect":
        length = max(length, d * (k - 1) // 2 + 2)  # PyTorch: reflect pad < length
    if padding == "same" and mode == "circular":
        length = max(length, d * (k - 1) // 2 + 1)
    length = max(length, d * (k - 1) + 1 - total)
    return Conv(
        batch=draw(st.integers(1, 2)), groups=draw(st.integers(1, 2)), in_per_group=draw(st.integers(1, 2)),
        out_per_group=draw(st.integers(1, 2)), length=length, kernel_size=k, stride=stride, padding=padding,
        dilation=d, padding_mode=mode,
    )  # fmt: skip


@examples(60)
@given(conv=convs())
def test_conv_trace_sources_and_taps_equal_torch_sweep(conv: Conv) -> None:
    event(f"{conv.padding_mode}, padding {conv.padding if isinstance(conv.padding, str) else 'int'}")
    assert_conv_trace_matches_torch(conv)


# --------------------------------------------------------------------------- transposed: scatter placements


@dataclass(frozen=True)
class Transposed:
    batch: int
    groups: int
    in_per_group: int
    out_per_group: int
    length: int
    kernel_size: int
    stride: int = 1
    padding: int = 0
    output_padding: int = 0
    dilation: int = 1

    @property
    def in_channels(self) -> int:
        return self.groups * self.in_per_group

    @property
    def out_channels(self) -> int:
        return self.groups * self.out_per_group

    def weight_codes(self) -> np.ndarray:
        """w[ci, co, k] = 1 + k + K*co: a landed value names its local channel and tap."""
        K, og = self.kernel_size, self.out_per_group
        one = 1.0 + np.arange(og * K, dtype=np.float64).reshape(og, K)
        return np.broadcast_to(one, (self.in_channels, og, K)).copy()

    def torch_impulses(self, padding: int, output_padding: int) -> np.ndarray:
        """conv_transpose1d of one impulse per (n, ci, i) (stacked on the batch axis)."""
        n_imp = self.batch * self.in_channels * self.length
        x = np.zeros((n_imp, self.in_channels, self.length))
        for e, (_n, ci, i) in enumerate(np.ndindex(self.batch, self.in_channels, self.length)):
            x[e, ci, i] = 1.0
        y = TF.conv_transpose1d(
            torch.from_numpy(x), torch.from_numpy(self.weight_codes()), stride=self.stride, padding=padding,
            output_padding=output_padding, groups=self.groups, dilation=self.dilation,
        )  # fmt: skip
        return y.numpy()


def torch_landings(
    tc: Transposed,
) -> tuple[
    dict[tuple[int, int, int], set[tuple[int, int, int]]],
    dict[tuple[int, int, int], dict[tuple[int, int], int]],
    int,
]:
    """PyTorch's answer for every input sample (n, ci, i):

    * ``landed``: {(out_channel, kernel_index, out_index)} of the taps inside the output,
    * ``full``: {(out_channel, kernel_index): position} in the uncropped scatter (padding 0),
    * the output length.
    """
    K, og = tc.kernel_size, tc.out_per_group
    real = tc.torch_impulses(tc.padding, tc.output_padding)
    full = tc.torch_impulses(0, 0)
    landed: dict[tuple[int, int, int], set[tuple[int, int, int]]] = {}
    full_pos: dict[tuple[int, int, int], dict[tuple[int, int], int]] = {}
    for e, key in enumerate(np.ndindex(tc.batch, tc.in_channels, tc.length)):
        landed[key] = set()
        for (o, j), v in np.ndenumerate(real[e]):
            if v:
                co, k = divmod(int(v) - 1, K)
                assert co == o % og  # PyTorch: the value of w[ci, o % og, k] lands in channel o
                landed[key].add((o, k, j))
        full_pos[key] = {}
        for (o, j), v in np.ndenumerate(full[e]):
            if v:
                full_pos[key][(o, (int(v) - 1) % K)] = j
        assert len(full_pos[key]) == og * K  # the uncropped scatter keeps every tap
    return landed, full_pos, int(real.shape[-1])


def assert_scatter_matches_torch(tc: Transposed) -> convtrace.Trace:
    x = codes(tc.batch, tc.in_channels, tc.length)
    trace = convtrace.explain_transposed(
        x, tc.weight_codes(), stride=tc.stride, padding=tc.padding, output_padding=tc.output_padding,
        groups=tc.groups, dilation=tc.dilation, verify=False, max_steps=100_000,
    )  # fmt: skip
    landed, full_pos, out_len = torch_landings(tc)
    assert trace.length.result == trace.spec.out_length == out_len
    sc = trace.views.scatter
    # PyTorch's output is its uncropped scatter with `crop_left` positions cut on the left
    shift = {j - o_j for key in landed for (o, k, j) in landed[key] for o_j in [full_pos[key][(o, k)]]}
    assert shift <= {-sc.crop_left}, (shift, sc.crop_left)
    assert len(sc.placements) == tc.batch * tc.in_channels * tc.length
    seen = set()
    for p in sc.placements:
        key = (p.batch, p.in_channel, p.input_index)
        seen.add(key)
        assert float(p.x) == x[key]
        assert len(p.taps) == tc.out_per_group * tc.kernel_size
        inside = {(tap.out_channel, tap.kernel_index, tap.out_index) for tap in p.taps if not tap.cropped}
        assert inside == landed[key], f"placement {key}: {sorted(inside)} != torch {sorted(landed[key])}"
        for tap in p.taps:
            assert tap.cropped == (not 0 <= tap.out_index < out_len), (key, tap)
            # every tap, cropped or not: its place in PyTorch's uncropped scatter, minus the crop
            assert (tap.out_channel, tap.kernel_index) in full_pos[key], (key, tap)
            assert tap.out_index == full_pos[key][(tap.out_channel, tap.kernel_index)] - sc.crop_left, (
                key,
                tap,
            )
        tap0 = {full_pos[key][(o, k)] for (o, k) in full_pos[key] if k == 0}
        assert tap0 == {p.offset + sc.crop_left}, (key, p.offset)  # the offset is where tap 0 lands
    assert seen == set(landed)
    # the gather form (steps): the same products, grouped by output element
    by_element: dict[tuple[int, int, int], set[tuple[int, int, int]]] = {}
    for (n, ci, i), taps in landed.items():
        for o, k, j in taps:
            by_element.setdefault((n, o, j), set()).add((ci, k, i))
    assert len(trace.steps) == trace.spec.batch * trace.spec.out_channels * out_len
    for step in trace.steps:
        key = (step.batch, step.out_channel, step.out_index)
        got = {(t.in_channel, t.kernel_index, t.input_index) for t in step.terms}
        assert got == by_element.get(key, set()), (
            f"step {key}: {sorted(got)} != torch {sorted(by_element.get(key, ()))}"
        )
        assert len(got) == len(step.terms)
    return trace


PINNED_SCATTER = [
    Transposed(1, 1, 1, 1, length=3, kernel_size=3, stride=2, padding=1, output_padding=1),
    Transposed(1, 1, 1, 1, length=4, kernel_size=2, stride=2, padding=2),
    Transposed(1, 2, 1, 2, length=3, kernel_size=2, stride=2),  # groups: channels 0,1 | 2,3
    Transposed(2, 2, 2, 1, length=2, kernel_size=3, stride=3, padding=1, dilation=2, output_padding=2),
    Transposed(1, 3, 1, 2, length=2, kernel_size=2, stride=1, padding=1),
    Transposed(1, 1, 1, 1, length=3, kernel_size=3, stride=1, padding=3, dilation=2),
]


@pytest.mark.parametrize(
    "tc", PINNED_SCATTER, ids=lambda t: f"g{t.groups}-s{t.stride}-p{t.padding}-d{t.dilation}"
)
def test_scatter_placements_pinned(tc: Transposed) -> None:
    assert_scatter_matches_torch(tc)


def test_scatter_spelled_out() -> None:
    # x = 1, 2, 3; k=3, stride 2, padding 1: x2's taps land at 2*1 - 1 + k = 1, 2, 3
    t = convtrace.explain_transposed([[1, 2, 3]], [[[1, 1, 1]]], stride=2, padding=1, verify=False)
    p = t.views.scatter.placements[1]
    assert (p.input_index, p.offset) == (1, 1)
    assert [(tap.kernel_index, tap.out_index, tap.cropped) for tap in p.taps] == [
        (0, 1, False),
        (1, 2, False),
        (2, 3, False),
    ]
    first = t.views.scatter.placements[0]
    assert (first.offset, first.taps[0].cropped) == (-1, True)  # the padding crops x1's first tap
    # groups=2, 2 out channels per group: input channel 1 reaches output channels 2 and 3 only
    tg = convtrace.explain_transposed(
        np.ones((1, 2, 2)), np.ones((2, 2, 2)), groups=2, stride=2, verify=False
    )
    for p in tg.views.scatter.placements:
        assert {tap.out_channel for tap in p.taps} == ({0, 1} if p.in_channel == 0 else {2, 3})


@st.composite
def transposed_cases(draw: Any) -> Transposed:
    k, s, d = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    p = draw(st.integers(0, d * (k - 1) + 1))
    op = draw(st.integers(0, max(s, d) - 1))
    need = 2 * p - d * (k - 1) - op  # (L-1)*s >= need
    min_len = max(1, 1 + -(-need // s))
    return Transposed(
        batch=draw(st.integers(1, 2)), groups=draw(st.integers(1, 3)), in_per_group=draw(st.integers(1, 2)),
        out_per_group=draw(st.integers(1, 2)), length=draw(st.integers(min_len, min_len + 3)), kernel_size=k,
        stride=s, padding=p, output_padding=op, dilation=d,
    )  # fmt: skip


@examples(60)
@given(tc=transposed_cases())
def test_scatter_placements_equal_torch_sweep(tc: Transposed) -> None:
    event(f"groups {tc.groups}")
    assert_scatter_matches_torch(tc)
