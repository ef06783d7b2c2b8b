"""convtrace.streamify refuses what cannot stream, naming the module, the op, the reason
and the fix; and bad arguments get clear errors."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import convtrace
from convtrace.errors import ConvtraceError


class Recurrent(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(1, 4, 3)
        self.rnn = nn.GRU(4, 4, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rnn(self.conv(x).transpose(1, 2))[0].transpose(1, 2)


class SelfAttending(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(1, 4, 3)
        self.att = nn.MultiheadAttention(4, 1, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv(x).transpose(1, 2)
        return self.att(h, h, h)[0].transpose(1, 2)


class Centred(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(1, 4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv(x)
        start = (h.shape[-1] - 10) // 2
        return h[..., start : start + 10]


class Halved(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x, (1, 1))[..., : x.shape[-1] // 2]


class MeanRemoved(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(1, 4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv(x)
        return h - h.mean(-1, keepdim=True)


class TimeCat(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(1, 1, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, self.conv(x)], -1)


class CircularPad(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(1, 1, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.pad(x, (2, 0), mode="circular"))


REFUSED = [
    (nn.Sequential(nn.Conv1d(1, 4, 3), nn.GroupNorm(4, 4)), ["module='1'", "GroupNorm", "over time", "normalise per frame"]),
    (nn.Sequential(nn.Conv1d(1, 4, 3), nn.InstanceNorm1d(4)), ["module='1'", "InstanceNorm1d", "over time"]),
    (nn.Sequential(nn.Conv1d(1, 4, 3), nn.LayerNorm(30)), ["module='1'", "layer_norm", "over time"]),
    (Recurrent(), ["module='rnn'", "GRU", "a state convtrace does not model", "recurrent state"]),
    (SelfAttending(), ["module='att'", "MultiheadAttention", "over time", "attend causally"]),
    (nn.Sequential(nn.Conv1d(1, 2, 3), nn.AdaptiveAvgPool1d(5)), ["module='1'", "AdaptiveAvgPool1d",
                                                                  "depend on the whole input length", "fixed pool"]),
    (nn.Sequential(nn.Conv1d(1, 2, 3, padding=1, padding_mode="circular")), ["module='0'", "circular",
                                                                             "needs the end of the signal"]),
    (CircularPad(), ["circular", "needs the end of the signal", "padding_mode='zeros'"]),
    (Centred(), ["crop", "left amount depends on the whole input length", "-10 for 32 samples"]),
    (Halved(), ["crop", "right amount grows with the whole input length"]),
    (MeanRemoved(), ["mean", "not the input's time axis", "reduces"]),
    (nn.Sequential(nn.Conv1d(1, 2, 3), nn.Upsample(scale_factor=2)), ["module='1'", "Upsample (interpolate)",
                                                                      "resamples"]),
    (TimeCat(), ["cat", "joins tensors over time"]),
    (nn.Sequential(nn.Conv1d(1, 2, 3), nn.BatchNorm1d(2)).train(), ["module='1'", "BatchNorm1d", "training mode",
                                                                     "model.eval()"]),
    (nn.Sequential(nn.Conv1d(1, 2, 3), nn.Dropout(0.2)).train(), ["module='1'", "Dropout", "at random"]),
]  # fmt: skip


@pytest.mark.parametrize(("model", "words"), REFUSED, ids=[type(m).__name__ + str(i) for i, (m, _) in enumerate(REFUSED)])
def test_what_cannot_stream_is_refused_by_name(model: nn.Module, words: list[str]) -> None:
    with pytest.raises(ConvtraceError) as caught:
        convtrace.streamify(model, (1, 1, 32))
    text = str(caught.value)
    assert text.startswith("streamify: module=") and "cannot stream" in text
    for word in words:
        assert word in text, (word, text)


def test_eval_mode_batch_norm_and_dropout_stream() -> None:
    model = nn.Sequential(nn.Conv1d(1, 2, 3), nn.BatchNorm1d(2), nn.Dropout(0.2), nn.Conv1d(2, 1, 2)).double().eval()
    with torch.no_grad():
        model[1].running_mean.uniform_(-1, 1)
        model[1].running_var.uniform_(0.5, 2)
    x = torch.randn(1, 1, 30, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    sm = convtrace.streamify(model, (1, 1, 30))
    y = torch.cat([sm.push(x[..., :11]), sm.push(x[..., 11:]), sm.flush()], -1)
    with torch.no_grad():
        assert torch.allclose(y, model(x), rtol=1e-12, atol=1e-12)


def test_bad_arguments_are_named() -> None:
    conv = nn.Conv1d(1, 1, 4, stride=2)
    with pytest.raises(ConvtraceError, match=r"model=.*torch.nn.Module"):
        convtrace.streamify(lambda x: x, (1, 1, 8))
    with pytest.raises(ConvtraceError, match="input_shape"):
        convtrace.streamify(conv, (1, 1, 0))
    with pytest.raises(ConvtraceError, match=r"chunk_size=3: .*multiple of 2"):
        convtrace.streamify(conv, (1, 1, 8), chunk_size=3)
    sm = convtrace.streamify(conv, (1, 1, 8), chunk_size=4)
    with pytest.raises(ConvtraceError, match=r"chunk=\(1, 1, 5\): a step takes chunks of exactly 4 samples"):
        sm.step(torch.zeros(1, 1, 5), *sm.initial_state())
    with pytest.raises(ConvtraceError, match=r"chunk=.*shape but for time"):
        sm.push(torch.zeros(1, 2, 5))
    with pytest.raises(ConvtraceError, match=r"dtype must be the model's \(torch.float32\), got torch.float64"):
        sm.push(torch.zeros(1, 1, 5, dtype=torch.float64))
    with pytest.raises(ConvtraceError, match="nothing was pushed"):
        sm.flush()
    sm.push(torch.zeros(1, 1, 2))
    with pytest.raises(ConvtraceError, match="length=2: the model raises on the whole input"):
        sm.flush()  # shorter than the kernel: PyTorch's own error, at the end
