"""``length_map``: recorded once, every length by convtrace's arithmetic through the
recorded graph, a sample confirmed by real runs — and every length run where the arithmetic
does not describe the model. PyTorch is the oracle for every entry."""

from __future__ import annotations

import math
import time

import torch
import torch.nn.functional as F
from torch import nn

from convtrace.inspect import length_map
from convtrace.inspect.lengths import CONFIRM

NEEDS_TORCH = True


def _real(model: nn.Module, shape: tuple[int, ...], n: int) -> int | None:
    x = torch.zeros(*shape[:-1], n)
    try:
        with torch.no_grad():
            return int(model(x).shape[-1])
    except RuntimeError:
        return None


class Counted(nn.Module):
    """A residual encoder (strides 2 and 3, a crop-free residual); counts its forward passes."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv1d(1, 4, 4, stride=2, padding=1)
        self.b = nn.Conv1d(4, 4, 3, padding=1)
        self.c = nn.Conv1d(4, 2, 5, stride=3)
        self.runs = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.runs += 1
        h = self.a(x)
        h = h + self.b(h)
        return self.c(F.pad(h, (2, 0)))


def test_lengths_by_arithmetic_match_pytorch_with_few_runs() -> None:
    model = Counted()
    lengths = list(range(200))
    result = length_map(model, (1, 1, 100), lengths)
    runs = model.runs
    assert result.method == "arithmetic" and result.reason is None
    # one recording, a few confirmations (each a meta pass, and a real one where meta skips a check)
    assert 1 <= len(result.confirmed) <= CONFIRM and runs <= 2 * (1 + CONFIRM)
    assert set(result.confirmed) <= set(lengths) and {0, 199} <= set(result.confirmed)
    for entry in result.entries:
        assert entry.output_length == _real(model, (1, 1, 100), entry.length), entry
        assert (entry.error is None) == (entry.output_length is not None)
    assert result.hop == 6


class FixedCrop(nn.Module):
    """Crops to a fixed length: the recording, replayed at another length, is wrong."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(1, 1, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)[..., :40]


class PadToStride(nn.Module):
    """EnCodec's padding: computed from the length so that the last window is complete."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(1, 1, 8, stride=4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        extra = (-(x.shape[-1] - 8)) % 4
        return self.conv(F.pad(x, (0, extra)))


class CompleteWindows(nn.Module):
    """EnCodec's strided convs: ``F.pad(x, (left, right + extra))``, ``extra`` set from the
    length so that the last window is complete (reflect padding, as EnCodec's default)."""

    def __init__(self) -> None:
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv1d(1, 2, 4, stride=2), nn.Conv1d(2, 2, 8, stride=4),
                                    nn.Conv1d(2, 1, 10, stride=5)])  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv in self.convs:
            k, s = conv.kernel_size[0], conv.stride[0]
            total = k - s
            n = x.shape[-1]
            extra = math.ceil((n - k + total) / s) * s - (n - k + total)
            x = conv(F.pad(x, (total - total // 2, total // 2 + extra), mode="reflect"))
        return x


def test_a_pad_set_from_the_length_to_complete_the_last_window_is_learnt() -> None:
    model = CompleteWindows()
    result = length_map(model, (1, 1, 100), range(1000, 1101))
    assert result.method == "arithmetic", result.reason
    assert len(result.confirmed) <= CONFIRM
    for entry in result.entries:
        assert entry.output_length == _real(model, (1, 1, 100), entry.length), entry
    assert {e.output_length for e in result.entries} == {25, 26, 27, 28}


def test_a_model_the_arithmetic_does_not_describe_is_run_at_every_length() -> None:
    for model, lengths in ((FixedCrop(), range(30, 90)), (PadToStride(), range(30, 90)),
                           (PadToStride(), range(1000, 1101))):  # fmt: skip
        result = length_map(model, (1, 1, 100), lengths)
        assert result.method == "runs" and result.reason and any(f"at {n} " in result.reason for n in lengths)
        assert result.confirmed == tuple(lengths)
        for entry in result.entries:
            assert entry.output_length == _real(model, (1, 1, 100), entry.length), entry


def test_a_whole_promise_is_exact_and_a_fractional_one_accepts_floor_and_ceil() -> None:
    ceil = length_map(nn.Conv1d(1, 1, 1, stride=2), (1, 1, 10), [4, 5, 6])  # 5 -> 3 = ceil(2.5)
    assert [e.output_length for e in ceil.entries] == [2, 3, 3] and ceil.off_promise == () and not ceil.warnings
    floor = length_map(nn.Conv1d(1, 1, 2, stride=2), (1, 1, 10), [4, 5, 6])  # 5 -> 2 = floor(2.5)
    assert [e.output_length for e in floor.entries] == [2, 2, 3] and floor.off_promise == ()
    off = length_map(nn.Conv1d(1, 1, 4, stride=2), (1, 1, 10), [8, 9])  # 8 -> 3, not 4; 9 -> 3, not 4 or 5
    assert off.off_promise == (8, 9) and off.warnings[0].code == "W108"


def test_a_hundred_lengths_take_well_under_a_second_after_the_recording() -> None:
    model = nn.Sequential(*[nn.Conv1d(8 if i else 1, 8, 5, stride=2 if i % 2 else 1, padding=2) for i in range(12)])
    length_map(model, (1, 1, 24000), [24000])  # warm-up
    start = time.perf_counter()
    result = length_map(model, (1, 1, 24000), range(1000, 1101))
    elapsed = time.perf_counter() - start
    assert result.method == "arithmetic" and len(result.entries) == 101
    assert elapsed < 5.0, elapsed  # about 0.1 s on an idle core; generous for a loaded machine
