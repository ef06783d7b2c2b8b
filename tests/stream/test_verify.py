"""stream.verify: its result on sound chains, and one planted bug of each kind it names —
the cache, the transposed tail, the bias counted twice, misalignment — each caught by the
verifier (with the right cause) and by the sweep's contract check."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from stream_check import offline
from test_stream_sweep import check_contract

from convtrace import nn
from convtrace.stream import Pointwise, chain_of, verify
from convtrace.stream.stages import PadStage, ScatterStage, Stage, WindowStage


def _chains() -> list[list[Any]]:
    """Small chains with every stage kind (the planted bugs must show in some)."""
    return [
        chain_of("conv k=5 s=2 p=2 c=3; convT k=6 s=3 p=1 c=2", channels=2, seed=1),
        chain_of("pad l=2 r=0; conv k=3 d=2 c=2; convT k=5 s=2 op=1 c=2; maxpool k=3 s=2 p=1 ceil=1", channels=1, seed=2),
        [nn.ZeroPad1d((3, 0)), nn.Conv1d(1, 2, 4, dtype=np.float64, rng=3), Pointwise(np.tanh),
         nn.ConvTranspose1d(2, 1, 4, stride=2, dtype=np.float64, rng=4), nn.ConstantPad1d((0, -2), 0.0)],
    ]  # fmt: skip


def test_verify_on_sound_chains() -> None:
    for chain in _chains():
        r = verify(chain, length=30, trials=4, torch=False)
        assert r.ok, r
        assert r.first_wrong is None and r.late == r.early == 0 and r.max_relative <= 1e-12
        assert len(r.schedules) == 4 and all(sum(s) == 30 for s in r.schedules)
        assert all(0 in s or 1 in s for s in r.schedules)  # empty and one-sample chunks are tried
        assert r.out_length == offline(chain, np.zeros((1, chain[0].in_channels if hasattr(chain[0], "in_channels") else 1, 30))).shape[-1]
        json.dumps(r.to_dict())


def test_verify_reports_float32() -> None:
    r = verify(_chains()[0], length=25, trials=2, dtype=np.float32, torch=False)
    assert r.ok and r.dtype == "float32" and r.tolerance == 1e-5
    assert 0 < r.max_relative <= 1e-5  # float32 sums in another order: not exact, reported


def test_a_fixed_schedule_is_used_for_every_trial() -> None:
    r = verify(_chains()[0], length=12, chunks=[5, 0, 1], trials=2, torch=False)
    assert r.schedules == ((5, 0, 1, 6), (5, 0, 1, 6)) and r.ok


# ---------------------------------------------------------------------- planted bugs


def _plant_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Conv1d keeps one sample too few between pushes."""

    original = Stage._keep

    def keep(self: Stage, work: np.ndarray, keep: int) -> None:
        original(self, work, keep - 1 if isinstance(self, WindowStage) and keep > 0 else keep)

    monkeypatch.setattr(Stage, "_keep", keep)


def _plant_tail(monkeypatch: pytest.MonkeyPatch) -> None:
    """ConvTranspose1d forgets its overlap-add tail between pushes."""
    original = ScatterStage.push

    def push(self: ScatterStage, x: np.ndarray, floor: int = 0) -> np.ndarray:
        self.buffer[...] = 0
        return original(self, x, floor)

    monkeypatch.setattr(ScatterStage, "push", push)


def _plant_bias(monkeypatch: pytest.MonkeyPatch) -> None:
    """ConvTranspose1d adds the bias to the tail it keeps (tract's #2203): those samples get it twice."""
    original = ScatterStage.push

    def push(self: ScatterStage, x: np.ndarray, floor: int = 0) -> np.ndarray:
        out = original(self, x, floor)
        if self.bias is not None and x.shape[-1]:
            self.buffer += self.bias[None, :, None]
        return out

    monkeypatch.setattr(ScatterStage, "push", push)


def _plant_misalignment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A zero pad emits one sample of its left pad too few (and one zero too many at the end)."""
    original_push, original_flush = PadStage.push, PadStage.flush

    def push(self: PadStage, x: np.ndarray, floor: int = 0) -> np.ndarray:
        first = int(self.done) == 0
        out = original_push(self, x, floor)
        return out[..., 1:] if first and out.shape[-1] and self.step.left > 0 else out

    def flush(self: PadStage, total: int) -> np.ndarray:
        out = original_flush(self, total)
        return np.concatenate((out, np.zeros(out.shape[:-1] + (1,), dtype=out.dtype)), axis=-1) if self.step.left > 0 else out

    monkeypatch.setattr(PadStage, "push", push)
    monkeypatch.setattr(PadStage, "flush", flush)


PLANTED: dict[str, Callable[[pytest.MonkeyPatch], None]] = {
    "cache": _plant_cache,
    "transposed_tail": _plant_tail,
    "bias_twice": _plant_bias,
    "misalignment": _plant_misalignment,
}


@pytest.fixture(params=sorted(PLANTED))
def planted(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    PLANTED[request.param](monkeypatch)  # undone by monkeypatch after the test
    name: str = request.param
    return name


def test_verify_names_each_planted_bug(planted: str) -> None:
    causes = []
    for chain in _chains():
        r = verify(chain, length=30, trials=4, torch=False)
        if not r.ok:
            assert r.first_wrong is not None
            causes.append(r.first_wrong.cause)
    assert causes, f"no chain caught the planted {planted} bug"
    assert planted in causes, causes


def test_the_sweeps_check_fails_on_each_planted_bug(planted: str) -> None:
    failures = 0
    for seed, chain in enumerate(_chains()):
        channels = next(m.in_channels for m in chain if hasattr(m, "in_channels"))
        x = np.random.default_rng(seed).standard_normal((1, channels, 30))
        try:
            check_contract(chain, x, [7, 1, 0, 5, 3])
        except AssertionError:
            failures += 1
    assert failures, f"the contract check missed the planted {planted} bug"


def test_nan_where_offline_has_nan_is_equal() -> None:
    """A max window of padding only is -inf; two channels of weights of both signs then
    add -inf and +inf: NaN, offline and streamed alike (not a difference)."""
    chain = [nn.Conv1d(1, 2, 1, stride=2, bias=False, dtype=np.float64, rng=5), nn.MaxPool1d(2, 1, 1, 2),
             nn.ConvTranspose1d(2, 1, 1, bias=False, dtype=np.float64, rng=6)]  # fmt: skip
    with np.errstate(invalid="ignore"):
        assert np.isnan(offline(chain, np.ones((1, 1, 1)))).all()
        r = verify(chain, length=1, trials=2, torch=False)
    assert r.ok and r.first_wrong is None, r
