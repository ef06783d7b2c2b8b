"""The teaching post's three worked examples (shared/SEED.md), step by step, exactly."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

import convtrace
from convtrace.trace.model import Source

X = [1, 1, 1, 1]
W = [1, 1, 1]

# (stride, padding) -> expected output, as the post's table
CASES = {
    1: (1, 0, [3, 3]),
    2: (1, 1, [2, 3, 3, 2]),
    3: (2, 1, [2, 3]),
}


def _terms(step):
    """Each product as the post writes it: ('pad', k) for padding, ('x', i, k) for x_i * w_k (0-based)."""
    return [("pad", t.kernel_index) if t.is_padding else ("x", t.input_index, t.kernel_index) for t in step.terms]


@pytest.mark.parametrize("case", sorted(CASES))
def test_seed_outputs(case: int) -> None:
    stride, padding, expected = CASES[case]
    t = convtrace.explain(X, W, stride=stride, padding=padding, verify=False)
    assert t.exact
    assert [s.value for s in t] == [Fraction(v) for v in expected]
    assert t.output.tolist() == [[float(v) for v in expected]]
    assert t.length.result == len(expected)
    assert t.complete and t.verify(torch=False)


def test_seed_case2_steps_are_the_posts() -> None:
    t = convtrace.explain(X, W, stride=1, padding=1, verify=False)
    # step 1: 0 x w1 (padding), x1 x w2, x2 x w3 -> sum = 2
    s1 = t.steps[0]
    assert _terms(s1) == [("pad", 0), ("x", 0, 1), ("x", 1, 2)]
    assert [t_.product for t_ in s1.terms] == [0, 1, 1]
    assert s1.terms[0].source is Source.ZERO and s1.terms[0].x == 0
    assert s1.total == 2 and s1.bias is None and s1.value == 2
    # step 2: x1 x w1, x2 x w2, x3 x w3 -> 3
    assert _terms(t.steps[1]) == [("x", 0, 0), ("x", 1, 1), ("x", 2, 2)]
    assert t.steps[1].total == 3
    assert _terms(t.steps[2]) == [("x", 1, 0), ("x", 2, 1), ("x", 3, 2)]
    # step 4: x3 x w1, x4 x w2, 0 x w3 (padding) -> 2
    assert _terms(t.steps[3]) == [("x", 2, 0), ("x", 3, 1), ("pad", 2)]
    assert t.steps[3].total == 2
    # the padded row: 0 x1 x2 x3 x4 0
    assert [(c.source.value, c.input_index) for c in t.pad_cells] == [
        ("zero", None), ("input", 0), ("input", 1), ("input", 2), ("input", 3), ("zero", None)
    ]
    assert [s.window_start for s in t] == [0, 1, 2, 3]


def test_seed_case1_and_case3_steps() -> None:
    t1 = convtrace.explain(X, W, verify=False)
    assert [_terms(s) for s in t1] == [
        [("x", 0, 0), ("x", 1, 1), ("x", 2, 2)],
        [("x", 1, 0), ("x", 2, 1), ("x", 3, 2)],
    ]
    assert t1.pad_cells and all(c.source is Source.INPUT for c in t1.pad_cells)
    t3 = convtrace.explain(X, W, stride=2, padding=1, verify=False)
    assert [_terms(s) for s in t3] == [
        [("pad", 0), ("x", 0, 1), ("x", 1, 2)],
        [("x", 1, 0), ("x", 2, 1), ("x", 3, 2)],
    ]
    assert [s.window_start for s in t3] == [0, 2]
    assert t3.length.substituted == "floor((4 + 1 + 1 - 1*(3 - 1) - 1) / 2) + 1"
    # case 3 reads the last padding cell with no window: nothing is dropped
    assert t3.dropped_tail == 0 and t3.unreached == ()


@pytest.mark.parametrize("case", sorted(CASES))
def test_seed_torch_agrees(case: int) -> None:
    pytest.importorskip("torch")
    stride, padding, expected = CASES[case]
    t = convtrace.explain(X, W, stride=stride, padding=padding)
    assert t.check is not None and t.check.available and t.check.agree
    assert t.check.max_abs_diff == 0.0
    assert t.check.call == (
        f"torch.nn.Conv1d(in_channels=1, out_channels=1, kernel_size=3, stride={stride}, "
        f"padding={padding}, bias=False)"
    )
    assert t.check.output.tolist() == [[float(v) for v in expected]]
    assert t.verify()


def test_seed_transposed_from_conv() -> None:
    """The post's aim: the same input through ConvTranspose1d, explained from Conv1d."""
    t = convtrace.explain_transposed(X, W, stride=2, padding=1, verify=False)
    assert t.output.tolist() == [[1.0, 2.0, 1.0, 2.0, 1.0, 2.0, 1.0]]
    # y[1] (0-based) = x0*w2 + x1*w0: j = i*stride - padding + k
    s = t.steps[1]
    assert [(u.input_index, u.kernel_index) for u in s.terms] == [(0, 2), (1, 0)]
    v = t.views
    assert v is not None
    for out in (v.scatter.output, v.zero_insertion.output, v.matrix.output, v.gradient.output):
        assert out.tolist() == t.output.tolist()
    assert v.scatter.uneven and v.scatter.overlap == (1, 2, 1, 2, 1, 2, 1)
    assert v.zero_insertion.inserted == 1 and v.zero_insertion.pad_each_side == 1
    assert np.array_equal(v.zero_insertion.upsampled, [[[0, 1, 0, 1, 0, 1, 0, 1, 0]]])
    assert t.verify(torch=False)
