"""The Conv1d stage's fast paths (``stream/stages.py``, ``WindowStage``), each forced on a
small shape and compared with the offline chain (and PyTorch's forward), in float64 and
float32: one output read in place (a matrix-vector product, the bias added after), one
output with dilation (the taps copied, the bias in the product), a few outputs (blocks of
weight rows, channel-major), many outputs (one GEMM, time-major, a transposed view),
groups; the scratch growing mid-stream with the buffer in it; the state as a view of the
scratch; batches."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from stream_check import offline, run_stream

from convtrace import nn
from convtrace.stream import Streamer
from convtrace.stream.stages import MANY_OUTPUTS, WindowStage

TOLERANCE = {np.float64: 1e-12, np.float32: 1e-5}


def _x(shape: tuple[int, ...], dtype: Any, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _streamed(chain: list[Any], x: np.ndarray, sizes: list[int]) -> tuple[np.ndarray, Streamer]:
    s = Streamer(chain)
    parts = run_stream(s, x, sizes)[0]
    return np.concatenate(parts, axis=-1), s


def _close(got: np.ndarray, want: np.ndarray, dtype: Any) -> bool:
    return got.shape == want.shape and bool(np.max(np.abs(got - want)) <= TOLERANCE[dtype] * np.max(np.abs(want)))


def _conv(c_in: int, c_out: int, k: int, dtype: Any, seed: int, **kw: Any) -> Any:
    bias = kw.pop("bias", True)
    return nn.Conv1d(c_in, c_out, k, bias=bias, dtype=dtype, rng=seed, **kw)


def _plan_counts(s: Streamer, unit: int = 0) -> set[int]:
    stage = s.units[unit].stages[-1]
    assert isinstance(stage, WindowStage)
    return {p.count for p in stage._plans.values()}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("bias", [True, False])
def test_one_output_a_push_reads_the_window_in_place(dtype: Any, bias: bool) -> None:
    """Stride 4, chunks of 4: one output a push, the window read in place (dilation 1)."""
    chain = [_conv(3, 5, 6, dtype, 1, stride=4, bias=bias)]
    x = _x((1, 3, 42), dtype)
    got, s = _streamed(chain, x, [4] * 10 + [2])
    assert _close(got, offline(chain, x), dtype)
    assert 1 in _plan_counts(s)
    stage = s.units[0].stages[-1]
    assert isinstance(stage, WindowStage) and stage._w_vector is not None and stage._w_rows is None  # no copy made


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("bias", [True, False])
def test_one_output_with_dilation_copies_the_taps_with_the_bias_inside(dtype: Any, bias: bool) -> None:
    chain = [_conv(2, 4, 3, dtype, 2, stride=3, dilation=2, bias=bias)]
    x = _x((1, 2, 40), dtype, 1)
    got, s = _streamed(chain, x, [3] * 13 + [1])
    assert _close(got, offline(chain, x), dtype)
    stage = s.units[0].stages[-1]
    assert isinstance(stage, WindowStage) and stage._w_rows is not None
    assert stage._w_rows.shape == (4, 6 + bias)  # the bias as a last column


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("bias", [True, False])
def test_a_few_outputs_multiply_blocks_of_weight_rows_channel_major(dtype: Any, bias: bool) -> None:
    """5 outputs a push (< MANY_OUTPUTS): blocks of weight rows (forced several by a wide
    weight), the output channel-major."""
    chain = [_conv(64, 256, 16, dtype, 3, stride=5, bias=bias), _conv(256, 3, 2, dtype, 4)]
    x = _x((1, 64, 161), dtype, 2)
    got, s = _streamed(chain, x, [26] + [25] * 5)
    assert _close(got, offline(chain, x), dtype)
    stage = s.units[0].stages[-1]
    assert isinstance(stage, WindowStage) and 5 in stage._row_blocks and len(stage._row_blocks[5]) > 1
    out = s.push_layers(x[..., :25])[0]
    assert out.flags.c_contiguous  # channel-major


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("bias", [True, False])
def test_many_outputs_are_one_product_returned_time_major(dtype: Any, bias: bool) -> None:
    """MANY_OUTPUTS and more a push: one GEMM, time-major, returned as a transposed view,
    which the next Conv1d copies row by row."""
    chain = [_conv(3, 4, 3, dtype, 5, bias=bias), _conv(4, 5, 4, dtype, 6, stride=2, bias=bias)]
    x = _x((1, 3, 3 * MANY_OUTPUTS + 7), dtype, 3)
    sizes = [2 * MANY_OUTPUTS + 3, 1, MANY_OUTPUTS + 3]
    got, _ = _streamed(chain, x, sizes)
    assert _close(got, offline(chain, x), dtype)
    # the stage's own output (push_layers hands the caller a C-contiguous copy)
    streamer, every = Streamer(chain), []
    streamer._run(streamer._checked(x[..., : 2 * MANY_OUTPUTS + 3]), every)
    first = every[0]
    assert first.shape[-1] >= MANY_OUTPUTS and first.flags.f_contiguous and not first.flags.c_contiguous


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_groups_stream_through_the_batched_product(dtype: Any) -> None:
    chain = [_conv(4, 6, 3, dtype, 7, stride=1, groups=2), _conv(6, 6, 4, dtype, 8, stride=2, groups=3, dilation=2)]
    x = _x((2, 4, 70), dtype, 4)
    for sizes in ([1] * 70, [33, 0, 2, 35], [70]):
        got, _ = _streamed(chain, x, sizes)
        assert _close(got, offline(chain, x), dtype), sizes


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_growing_chunk_moves_the_buffer_along(dtype: Any) -> None:
    """Chunks that grow mid-stream re-make the scratch: the held samples move with it, and
    the state names the new buffer (a view of the scratch's first rows, time-major)."""
    chain = [_conv(3, 4, 5, dtype, 9, stride=2), _conv(4, 2, 3, dtype, 10, dilation=2)]
    x = _x((1, 3, 120), dtype, 5)
    sizes = [1, 2, 3, 5, 8, 13, 21, 34, 33]
    got, s = _streamed(chain, x, sizes)
    assert _close(got, offline(chain, x), dtype)
    s = Streamer(chain)
    s.push(x[..., :7])
    held = s.state["layer1.conv.buffer"].copy()
    s.push(x[..., 7:7])  # nothing new: the same buffer
    assert np.array_equal(s.state["layer1.conv.buffer"], held)
    s.push(x[..., 7:60])  # a larger chunk: the scratch grows
    stage = s.units[0].stages[-1]
    assert isinstance(stage, WindowStage)
    buffer = s.state["layer1.conv.buffer"]
    assert buffer.shape == (1, 3, stage.cache) and np.shares_memory(buffer, stage._scratch)
    assert np.array_equal(buffer[..., stage.cache - 3 :], x[..., 57:60])  # the last samples the next window reads


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_load_state_into_a_stream_whose_scratch_grew(dtype: Any) -> None:
    chain = [_conv(2, 3, 4, dtype, 11, stride=3), _conv(3, 2, 2, dtype, 12)]
    x = _x((1, 2, 90), dtype, 6)
    a = Streamer(chain)
    first = [a.push(x[..., :5]), a.push(x[..., 5:11])]
    state = {k: v.copy() for k, v in a.state.items()}
    b = Streamer(chain)
    b.push(x[..., :40])  # b's scratch is larger than a's
    b.load_state(state)
    rest = [b.push(x[..., 11:50]), b.push(x[..., 50:]), b.flush()]
    assert _close(np.concatenate(first + rest, axis=-1), offline(chain, x), dtype)


def test_the_fast_paths_agree_with_pytorch_both_ways() -> None:
    """Each kind of push on one chain, against PyTorch's offline forward (oneDNN on and off)."""
    pytest.importorskip("torch")
    from convtrace.interop.stream import torch_offline

    chain = [_conv(2, 4, 6, np.float64, 13, stride=4), _conv(4, 3, 3, np.float64, 14, dilation=2, stride=3),
             _conv(3, 4, 2, np.float64, 15, groups=1), _conv(4, 4, 3, np.float64, 16, groups=2)]  # fmt: skip
    x = _x((1, 2, 400), np.float64, 7)
    got, _ = _streamed(chain, x, [4, 3, 1, 260, 24, 108])
    answers = torch_offline(chain, x)
    assert len(answers) == 2
    for want in answers:
        assert _close(got, want, np.float64)
