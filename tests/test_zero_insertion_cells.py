"""ConvTranspose1d's zero-insertion view: the real (non-inserted) cells of the upsampled row
sit at ``i*stride`` (shifted by the padding ``dilation*(k-1) - padding``, or cropped by it),
holding ``x[i]``; every other cell is an inserted or padded zero. Checked on the view's data,
in the figure's row, and against PyTorch: the same stride-1 Conv1d on that row gives
ConvTranspose1d's output."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from backends import onednn
from convtrace.draw import build_figure
from convtrace.draw.model import Group, Shape
from convtrace.render.numfmt import fmt
from convtrace.trace.build import explain

torch = pytest.importorskip("torch")
NEEDS_TORCH = True

X = [3, 5, 7, 11, 13]

CASES: list[dict[str, Any]] = [
    dict(kernel_size=3, stride=2, padding=1, output_padding=1),
    dict(kernel_size=2, stride=3, padding=0),
    dict(kernel_size=3, stride=3, padding=1, dilation=2),
    dict(kernel_size=2, stride=3, padding=3),  # dilation*(k-1) - padding < 0: a crop
    dict(kernel_size=1, stride=1, padding=0),
]


def _inside(group: Group) -> list[Shape]:
    """Every shape inside ``group``, groups before their contents."""
    found: list[Shape] = []
    for item in group.items:
        found.append(item)
        if isinstance(item, Group):
            found += _inside(item)
    return found


def _real_positions(length: int, stride: int, shift: int, size: int) -> dict[int, int]:
    """Row position -> input index of the real cells: ``shift + i*stride`` inside the row."""
    return {shift + i * stride: i for i in range(length) if 0 <= shift + i * stride < size}


@pytest.mark.parametrize("config", CASES, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()))
def test_real_cells_sit_at_i_times_stride(config: dict[str, Any]) -> None:
    trace = explain(X, [1.0] * config["kernel_size"], transposed=True, **config)
    assert trace.views is not None
    zi = trace.views.zero_insertion
    s, d, k, p = config["stride"], config.get("dilation", 1), config["kernel_size"], config["padding"]
    shift = d * (k - 1) - p
    assert zi.pad_each_side == shift and zi.inserted == s - 1
    row = zi.upsampled[0, 0]
    assert len(row) == (len(X) - 1) * s + 1 + 2 * shift + config.get("output_padding", 0)
    real = _real_positions(len(X), s, shift, len(row))
    expected = np.zeros(len(row))
    for q, i in real.items():
        expected[q] = X[i]
    assert row.tolist() == expected.tolist()  # x[i] at shift + i*stride, zeros everywhere else

    # the figure's row: real cells (role "input") exactly there, with x[i]; the rest zeros
    fig = build_figure(trace)
    view = next(g for g in fig.walk() if isinstance(g, Group) and g.role == "zero-insertion")
    cells = [g for g in _inside(view) if isinstance(g, Group) and g.role in ("input", "zero")]
    assert len(cells) == len(row)
    assert {q for q, c in enumerate(cells) if c.role == "input"} == set(real)
    assert [c.label for c in cells] == [fmt(X[real[q]]) if q in real else "0" for q in range(len(row))]

    # PyTorch: a stride-1 Conv1d with the flipped kernel on that row is the transposed conv
    w = torch.arange(1.0, k + 1, dtype=torch.float64).reshape(1, 1, k)
    up = torch.tensor(row, dtype=torch.float64).reshape(1, 1, -1)
    x = torch.tensor(X, dtype=torch.float64).reshape(1, 1, -1)
    for mkldnn in (True, False):
        with onednn(mkldnn):
            want = torch.nn.functional.conv_transpose1d(x, w, stride=s, padding=p,
                                                        output_padding=config.get("output_padding", 0), dilation=d)
            got = torch.nn.functional.conv1d(up, w.flip(-1), dilation=d)
            assert torch.equal(got, want)
