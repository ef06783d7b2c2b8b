"""PyTorch's side of stream.verify: the offline chain against PyTorch's forward with oneDNN
on and off (interop/stream.py), for every layer kind a chain streams."""

from __future__ import annotations

import numpy as np
import pytest
from stream_check import offline

from convtrace import nn
from convtrace.interop.stream import torch_layer, torch_offline
from convtrace.stream import Pointwise, chain_of, verify

NEEDS_TORCH = True
pytest.importorskip("torch")


def _every_kind() -> list[object]:
    return [nn.ReplicationPad1d((2, 1)), nn.Conv1d(2, 4, 3, stride=2, padding=1, padding_mode="reflect", dtype=np.float64, rng=0),
            Pointwise(np.tanh), nn.ConvTranspose1d(4, 2, 5, stride=3, padding=1, output_padding=2, dilation=2, groups=2,
                                                   dtype=np.float64, rng=1),
            nn.MaxPool1d(3, 2, 1, dilation=1, ceil_mode=True), nn.AvgPool1d(2, 1, 1, True, False), nn.LPPool1d(2, 2, 1),
            nn.ReflectionPad1d((1, 2)), nn.ConstantPad1d((1, -2), 0.25), nn.ZeroPad1d((0, 1))]  # fmt: skip


def test_torch_offline_matches_the_convtrace_chain_both_ways() -> None:
    chain = _every_kind()
    x = np.random.default_rng(0).standard_normal((2, 2, 23))
    want = offline(chain, x)
    answers = torch_offline(chain, x)
    assert len(answers) == 2
    for got in answers:
        assert got.shape == want.shape and np.max(np.abs(got - want)) <= 1e-12 * np.max(np.abs(want))


def test_verify_asks_pytorch() -> None:
    r = verify(_every_kind(), length=30, trials=3)
    assert r.ok, r
    assert r.torch_ok is True and r.torch_difference is not None and r.torch_difference <= 1e-12 * 10
    r = verify(chain_of("conv k=4 s=2 p=3,0 c=3; convT k=4 s=2 c=2; crop r=2", channels=1, seed=0), length=25, trials=2)
    assert r.ok and r.torch_ok


def test_a_layer_without_a_pytorch_counterpart() -> None:
    from convtrace.errors import ConvtraceError

    with pytest.raises(ConvtraceError, match="no PyTorch counterpart"):
        torch_layer(object())
