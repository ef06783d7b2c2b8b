"""The Conv1d stage's fast paths (``stream/stages.py``, ``WindowStage``), each forced on a
small shape and compared with the offline chain (and PyTorch's forward), in float64 and
float32: one output read in place (a matrix-vector product, the bias added after), one
output with dilation (the taps copied, the bias in the product), a few outputs (blocks of
weight rows, channel-major), many outputs (one GEMM, time-major, a transposed view),
groups; the scratch growing mid-stream with the buffer in it; the state as a view of the
scratch; batches."""

from __future__ import annotations

import itertools
import tracemalloc
from typing import Any

import numpy as np
import pytest
from stream_check import offline, run_stream

from convtrace import nn
from convtrace.stream import Streamer
from convtrace.stream import stages as stages_module
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


# ---------------------------------------------------------------- the one-output product's threads
class _FakeBlas:
    """A BLAS as threadpoolctl shows it: its thread count, and every count set."""

    def __init__(self, threads: int) -> None:
        self.threads, self.set_to = threads, []

    def get_num_threads(self) -> int:
        return self.threads

    def set_num_threads(self, n: int) -> None:
        self.set_to.append(n)
        self.threads = n


class _FakeController:
    def __init__(self, *threads: int) -> None:
        self.lib_controllers = [_FakeBlas(n) for n in threads]


def test_the_choice_takes_the_faster_way_and_tries_the_other_again() -> None:
    """Both ways measured first; then the faster one, the other tried after TRIAL_FIRST
    calls, each losing trial doubling the wait (up to TRIAL_MAX); one slow call does not
    switch, two do; the trial after the load has gone switches back."""
    from convtrace.stream.stages import TRIAL_FIRST, TRIAL_MAX, ThreadChoice

    c = ThreadChoice(_FakeController(2), 2)
    assert c.fixed is None
    times = {0: 70e-6, 1: 135e-6}  # a quiet host: BLAS's two threads are faster

    def run(calls: int) -> list[int]:
        ways = []
        for _ in range(calls):
            way = c.way()
            ways.append(way)
            c.record(way, times[way])
        return ways

    ways = run(TRIAL_FIRST * 32)
    assert ways[:2] == [0, 1]  # both measured
    trials = [i for i, w in enumerate(ways) if w == 1][1:]
    gaps = [b - a for a, b in itertools.pairwise(trials)]
    assert trials[0] == TRIAL_FIRST + 2 and gaps[:3] == [2 * TRIAL_FIRST + 1, 4 * TRIAL_FIRST + 1, 8 * TRIAL_FIRST + 1]
    assert max(gaps) == TRIAL_MAX + 1  # the wait stops doubling
    c.record(c.way(), 5e-3)  # a neighbour slowed one call down: still the threads
    assert c.way() == 0 and run(1) == [0]
    times[0] = 1.5 * times[1]  # the shared cache slows the threads: not enough to leave them
    assert run(3) == [0, 0, 0]
    times[0] = 70e-6
    assert run(2) == [0, 0]
    times[0] = 900e-6  # the second core is taken: two slow calls, and one thread
    assert run(3) == [0, 0, 1]
    assert c.cost(0) > c.cost(1)
    times[0] = 70e-6  # the second core is free again: the trial after TRIAL_FIRST calls wins
    ways = run(TRIAL_FIRST + 3)
    assert ways[: TRIAL_FIRST - 1] == [1] * (TRIAL_FIRST - 1) and ways[-3:] == [0, 0, 0]


def test_the_choice_is_fixed_with_one_worker_or_no_controller(monkeypatch: pytest.MonkeyPatch) -> None:
    from convtrace.stream import stages

    assert stages.ThreadChoice(_FakeController(2), 1).way() == 1  # one worker: one thread always
    assert stages.ThreadChoice(None, 2).way() == 0  # no BLAS to control: as BLAS is set
    monkeypatch.setenv("CONVTRACE_NUM_THREADS", "1")
    assert stages._thread_choice().fixed == 1
    monkeypatch.setenv("CONVTRACE_NUM_THREADS", "2")
    assert stages._thread_choice().fixed in (None, 0)  # 0 only without threadpoolctl's BLAS


def test_one_thread_is_set_around_the_call_and_restored() -> None:
    from convtrace.stream.stages import ThreadChoice

    controller = _FakeController(2, 1)
    c = ThreadChoice(controller, 1)  # one thread always
    a, b, out = np.ones((3, 4)), np.ones(4), np.empty(3)
    c.dot(a, b, out)
    assert out.tolist() == [4.0, 4.0, 4.0]
    two, one = controller.lib_controllers
    assert two.set_to == [1, 2] and two.threads == 2  # limited for the call, then restored
    assert one.set_to == []  # already one thread: left alone
    assert c.calls == 1


def test_the_real_blas_keeps_its_threads_after_a_one_thread_call() -> None:
    from convtrace.engine.fast_threads import _blas_controller
    from convtrace.stream.stages import ThreadChoice

    controller = _blas_controller()
    if controller is None:
        pytest.skip("threadpoolctl finds no BLAS")
    before = [lib.get_num_threads() for lib in controller.lib_controllers]
    w, v, out = _x((64, 300), np.float64), _x((300,), np.float64, 1), np.empty(64)
    choice = ThreadChoice(controller, 1)
    choice.dot(w, v, out)
    assert np.allclose(out, w @ v, rtol=1e-13, atol=0)
    assert [lib.get_num_threads() for lib in controller.lib_controllers] == before
    # OpenBLAS's own functions, called directly: nothing allocated per call
    if [lib.internal_api for lib in controller.lib_controllers] == ["openblas"]:
        assert choice.switches[0][2] is None
    # what the choice's own code keeps (the process's other threads allocate too, at any time)
    own = [tracemalloc.Filter(True, stages_module.__file__)]
    tracemalloc.start()
    try:
        for _ in range(50):
            choice.dot(w, v, out)
        start = tracemalloc.take_snapshot().filter_traces(own)
        for _ in range(2000):
            choice.dot(w, v, out)
        end = tracemalloc.take_snapshot().filter_traces(own)
    finally:
        tracemalloc.stop()
    grown = sum(stat.size_diff for stat in end.compare_to(start, "filename"))
    assert grown < 1024, grown


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("way", [0, 1])
def test_one_output_pushes_equal_offline_either_way(dtype: Any, way: int) -> None:
    """The one-output products (read in place, and with dilation, copied) on BLAS's threads
    or on one: the same stream."""
    chain = [_conv(8, 96, 6, dtype, 17, stride=4), _conv(96, 80, 3, dtype, 18, stride=2, dilation=2)]
    from convtrace.stream import stages as stages_module

    x = _x((1, 8, 170), dtype, 8)
    s = Streamer(chain)
    stages = [s.units[0].stages[-1], s.units[1].stages[-1]]
    for stage in stages:
        assert isinstance(stage, WindowStage)
        stage._choice = stages_module._thread_choice()
        stage._choice.fixed = way
    got = np.concatenate(run_stream(s, x, [4] * 42 + [2])[0], axis=-1)
    assert _close(got, offline(chain, x), dtype)
    assert all(stage._choice is not None and stage._choice.calls > 10 for stage in stages)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("way", [0, 1])
def test_one_sample_transposed_pushes_equal_offline_either_way(dtype: Any, way: int) -> None:
    """A ConvTranspose1d fed one sample a push multiplies it by its weights in one
    matrix-vector product, on BLAS's threads or on one (its own ThreadChoice)."""
    from convtrace.stream import stages as stages_module
    from convtrace.stream.stages import ScatterStage

    chain = [nn.ConvTranspose1d(48, 40, 6, stride=3, padding=1, dtype=dtype, rng=19)]
    x = _x((2, 48, 37), dtype, 9)
    s = Streamer(chain)
    stage = s.units[0].stages[-1]
    assert isinstance(stage, ScatterStage)
    stage._choice = stages_module._thread_choice()
    stage._choice.fixed = way
    got = np.concatenate(run_stream(s, x, [1] * 37)[0], axis=-1)
    assert _close(got, offline(chain, x), dtype)
    assert stage._choice.calls == 2 * 37  # one a sample and item


def test_large_weights_are_arranged_and_choose_their_threads_when_the_stream_is_built() -> None:
    """From CHOICE_FROM weights on, the Conv1d stage arranges them and makes its
    ThreadChoice in the constructor (the first push of a live stream does not pay for it);
    small layers multiply as BLAS is set (no threadpoolctl controller needed)."""
    from convtrace.stream.stages import CHOICE_FROM

    big = _conv(256, 512, 16, np.float32, 20, stride=8)
    small = _conv(4, 8, 3, np.float32, 21)
    assert big.weight.size >= CHOICE_FROM > small.weight.size
    stages = [Streamer(m).units[0].stages[-1] for m in (big, small)]
    assert all(isinstance(st, WindowStage) and st._w_vector is not None for st in stages)
    assert stages[0]._choice is not None and stages[1]._choice is None
    s = Streamer([big])
    x = _x((1, 256, 8 * 6 + 8), np.float32, 10)
    got = np.concatenate(run_stream(s, x, [8] * 7)[0], axis=-1)
    assert _close(got, offline([big], x), np.float32)
    stage = s.units[0].stages[-1]
    assert isinstance(stage, WindowStage) and stage._choice is not None and stage._choice.calls == 6
