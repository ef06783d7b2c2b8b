"""What a push or a flush returns belongs to the caller: the stages compute into scratches
and buffers that the next push overwrites, so a returned view of one would change under the
caller (a crop after pools returned such a view: kept outputs were wrong by up to 0.87)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from stream_check import offline

from convtrace import nn
from convtrace.stream import Streamer

F64 = {"dtype": np.float64}


def _crop_after_pools(seed: int) -> list[Any]:
    return [nn.Conv1d(1, 1, 4, stride=3, padding=1, dilation=3, rng=seed, **F64), nn.AvgPool1d(4, 2, 1),
            nn.AvgPool1d(1, 1), nn.ZeroPad1d((-1, -2))]  # fmt: skip


def _encoder_like() -> list[Any]:
    """The last conv emits many outputs a push: its product leaves time-major (a view)."""
    return [nn.ConstantPad1d((6, 0), 0.0), nn.Conv1d(2, 8, 7, rng=0, **F64),
            nn.ConstantPad1d((2, 0), 0.0), nn.Conv1d(8, 16, 4, stride=2, rng=1, **F64)]  # fmt: skip


def _kept_parts(layers: list[Any], x: np.ndarray, sizes: list[int]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Each push's return kept as it is, and a copy taken at once."""
    s, kept, copies, at = Streamer(layers), [], [], 0
    for size in [*sizes, x.shape[-1]]:
        part = s.push(x[..., at : at + size])
        at += size
        kept.append(part)
        copies.append(part.copy())
    part = s.flush()
    kept.append(part)
    copies.append(part.copy())
    return kept, copies


@pytest.mark.parametrize("seed", range(4))
def test_kept_outputs_do_not_change_under_later_pushes(seed: int) -> None:
    layers = _crop_after_pools(seed)
    x = np.random.default_rng(seed).standard_normal((2, 1, 38))
    kept, copies = _kept_parts(layers, x, [1, 1, 0, 10, 6, 10, 0, 0, 0, 4, 1, 0])
    for part, copy in zip(kept, copies):
        np.testing.assert_array_equal(part, copy)
    np.testing.assert_allclose(np.concatenate(kept, axis=-1), offline(layers, x), rtol=0, atol=1e-12)


def test_many_outputs_a_push_are_the_callers_and_contiguous() -> None:
    layers = _encoder_like()
    x = np.random.default_rng(5).standard_normal((1, 2, 200))
    kept, copies = _kept_parts(layers, x, [64, 64, 1, 40])
    for part, copy in zip(kept, copies):
        np.testing.assert_array_equal(part, copy)
        assert part.flags.c_contiguous and part.flags.owndata
    np.testing.assert_allclose(np.concatenate(kept, axis=-1), offline(layers, x), rtol=0, atol=1e-12)


def test_push_layers_and_flush_layers_return_the_callers_arrays() -> None:
    layers = _crop_after_pools(0)
    x = np.random.default_rng(0).standard_normal((1, 1, 38))
    s = Streamer(layers)
    first = s.push_layers(x[..., :33])
    snapshot = [y.copy() for y in first]
    s.push_layers(x[..., 33:])
    last = s.flush_layers()
    for y, copy in zip(first, snapshot):
        np.testing.assert_array_equal(y, copy)
    assert all(y.flags.owndata for y in first + last)
