"""The streaming engine's promises beyond the sweep: the README's EnCodec-style encoder and
its decoder mirror, refusals, state as data (state_spec against the arrays, reset,
load_state), chunk shapes and dtypes, errors at the end, and a state that never grows."""

from __future__ import annotations

import tracemalloc
from typing import Any

import numpy as np
import pytest
from stream_check import offline, run_stream

from convtrace import nn
from convtrace.errors import ConvtraceError
from convtrace.plan import stack as plan_stack
from convtrace.plan.layers import Layer
from convtrace.stream import Pointwise, Streamer, chain_of, layer_timing, verify
from convtrace.stream.timing import chain_ready, check_streamable, first_output, refusal

ENCODER = ("conv k=7 p=causal c=4; conv k=4 s=2 p=2,0 c=6; conv k=8 s=4 p=4,0 c=8; conv k=10 s=5 p=5,0 c=8; "
           "conv k=16 s=8 p=8,0 c=8; conv k=7 p=causal c=4")  # fmt: skip
DECODER = ("conv k=7 p=causal c=8; convT k=16 s=8 c=8; crop r=8; convT k=10 s=5 c=8; crop r=5; convT k=8 s=4 c=6; "
           "crop r=4; convT k=4 s=2 c=4; crop r=2; conv k=7 p=causal c=1")  # fmt: skip


def _x(shape: tuple[int, ...], seed: int = 0, dtype: Any = np.float64) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# ---------------------------------------------------------------------- the README's codec


def test_encoder_streams_exactly_one_frame_per_hop() -> None:
    chain = chain_of(ENCODER, channels=1, seed=1)
    s = Streamer(chain)
    figures = plan_stack.figures(plan_stack.parse_stack(ENCODER))
    assert figures is not None
    assert (s.receptive_field, s.hop, s.lookahead) == (figures.receptive_field, figures.hop, figures.lookahead) == (2616, 320, 319)
    assert s.min_chunk == 320 and s.first_output == 320
    x = _x((1, 1, 3200))
    parts, _counts = run_stream(s, x, [320] * 10)
    assert [p.shape[-1] for p in parts] == [1] * 10 + [0]  # a frame per hop, nothing left for the flush
    got, want = np.concatenate(parts, axis=-1), offline(chain, x)
    assert got.shape == want.shape and np.max(np.abs(got - want)) <= 1e-12 * np.max(np.abs(want))


@pytest.mark.parametrize(("stack", "channels", "length"), [(ENCODER, 1, 1400), (DECODER, 4, 9)])
def test_readme_codec_verifies(stack: str, channels: int, length: int) -> None:
    r = verify(chain_of(stack, channels=channels, seed=2), length=length, trials=2, torch=False, emission_checks=12)
    assert r.ok, r
    assert r.max_relative <= 1e-12 and r.late == 0 and r.early == 0
    assert all(all(e >= 0 for e in trial[:6]) for trial in r.earliest)  # the judge looked


def test_decoder_emits_as_its_input_arrives() -> None:
    s = Streamer(chain_of(DECODER, channels=4, seed=3))
    assert s.hop == pytest.approx(1 / 320) and s.lookahead == 0
    x = _x((1, 4, 6))
    sizes = [p.shape[-1] for p in run_stream(s, x, [1] * 6)[0]]
    assert sizes[1:6] == [320] * 5 and sum(sizes) == 6 * 320


# ---------------------------------------------------------------------- refusals


@pytest.mark.parametrize(("module", "words"), [
    (nn.Conv1d(1, 1, 3, padding=1, padding_mode="circular"), "circular padding needs the end of the signal"),
    (nn.CircularPad1d(2), "circular padding needs the end of the signal"),
    (nn.AdaptiveAvgPool1d(4), "adaptive pool's windows depend on the whole input length"),
    (nn.AdaptiveMaxPool1d(1), "adaptive pool's windows depend on the whole input length"),
    (nn.MaxUnpool1d(2), "MaxUnpool1d needs the indices"),
    (nn.MaxPool1d(2, return_indices=True), "returns (values, indices)"),
    (nn.ReflectionPad1d((-1, 2)), "negative (cropping) pad is only streamed in constant mode"),
])  # fmt: skip
def test_refusals_name_the_layer_the_reason_and_the_fix(module: Any, words: str) -> None:
    with pytest.raises(ConvtraceError) as info:
        Streamer([nn.Conv1d(1, 1, 1), module])
    message = str(info.value)
    assert "layer 2" in message and words in message
    assert info.value.hint  # the fix
    assert type(module).__name__ in message or "F.pad" in message or "padding_mode" in message


def test_a_layer_that_is_no_layer() -> None:
    with pytest.raises(ConvtraceError, match=r"layer 1 is not a layer Streamer takes.*Pointwise"):
        Streamer([np.tanh])


def test_refusal_is_one_table() -> None:
    assert refusal(Layer("conv", kernel_size=3, padding=0, padding_mode="circular")) is None  # no padding: no wrap
    with pytest.raises(ConvtraceError, match="hint: use a fixed pool"):
        check_streamable(Layer("adaptivemaxpool", output_size=2), "layer 3")


# ---------------------------------------------------------------------- state as data


def _mixed() -> list[Any]:
    return [nn.ReflectionPad1d((3, 1)), nn.Conv1d(2, 4, 5, stride=2, padding=2, padding_mode="replicate", dtype=np.float64, rng=0),
            Pointwise(np.tanh), nn.ConvTranspose1d(4, 3, 6, stride=3, padding=2, output_padding=1, dtype=np.float64, rng=1),
            nn.AvgPool1d(3, 2, 1, ceil_mode=True, count_include_pad=False), nn.ConstantPad1d((0, -2), 0.5)]  # fmt: skip


@pytest.mark.parametrize("batch", [1, 3])
def test_state_spec_is_the_state(batch: int) -> None:
    s = Streamer(_mixed(), batch_size=batch)
    s.push(_x((batch, 2, 9)))
    spec = s.state_spec()
    state = s.state
    assert [e.name for e in spec] == list(state)
    for entry in spec:
        arr = state[entry.name]
        assert arr.shape == entry.shape and arr.dtype.name == entry.dtype and arr.nbytes == entry.bytes
    assert [e.shape for e in Streamer(_mixed()).state_spec(batch)] == [e.shape for e in spec]
    s.reset()
    assert all(np.all(state[e.name] == e.initial) for e in spec)


def test_state_buffers_are_the_timing_caches() -> None:
    chain = _mixed()
    s = Streamer(chain)
    per_layer: dict[str, int] = {}
    for entry in s.state_spec():
        if entry.name.endswith(".buffer"):
            layer = entry.name.split(".")[0]
            per_layer[layer] = per_layer.get(layer, 0) + entry.shape[-1]
    layers = [m for m in chain if not isinstance(m, Pointwise)]
    for index, module in enumerate(chain):
        if isinstance(module, Pointwise):
            continue
        t = layer_timing(s.layers[layers.index(module)])
        assert per_layer[f"layer{index + 1}"] == t.cache + t.cache_out


def test_reset_and_flush_start_identical_streams() -> None:
    chain = _mixed()
    x = _x((1, 2, 40))
    fresh = np.concatenate(run_stream(Streamer(chain), x, [7, 1, 0, 13])[0], axis=-1)
    s = Streamer(chain)
    s.push(_x((1, 2, 11), seed=5))
    s.reset()
    again = np.concatenate(run_stream(s, x, [7, 1, 0, 13])[0], axis=-1)
    twice = np.concatenate(run_stream(s, x, [7, 1, 0, 13])[0], axis=-1)  # flush reset it
    assert np.array_equal(fresh, again) and np.array_equal(fresh, twice)


def test_a_new_stream_of_another_batch_size_after_a_flush() -> None:
    """The Conv1d stages keep views of their state and scratch per kind of push: a stream
    of another batch size (same chunks) must not reuse the old ones."""
    chain = _mixed()
    s = Streamer(chain)
    for batch in (1, 3, 2):
        x = _x((batch, 2, 40), seed=batch)
        got = np.concatenate(run_stream(s, x, [7, 1, 0, 13])[0], axis=-1)
        want = offline(chain, x)
        assert got.shape == want.shape and np.max(np.abs(got - want)) <= 1e-12 * np.max(np.abs(want))


def test_load_state_continues_elsewhere() -> None:
    chain = _mixed()
    x = _x((2, 2, 50))
    a = Streamer(chain, batch_size=2)
    first = a.push(x[..., :17])
    snapshot = {k: v.copy() for k, v in a.state.items()}
    rest_a = [a.push(x[..., 17:30]), a.push(x[..., 30:]), a.flush()]
    b = Streamer(chain, batch_size=2)
    b.load_state(snapshot)
    rest_b = [b.push(x[..., 17:30]), b.push(x[..., 30:]), b.flush()]
    for p, q in zip(rest_a, rest_b):
        assert np.array_equal(p, q)
    assert np.concatenate([first] + rest_b, axis=-1).shape == offline(chain, x).shape
    with pytest.raises(ConvtraceError, match="the state's names must be"):
        b.load_state({"nope": np.zeros(1)})
    bad = dict(snapshot)
    bad["layer2.conv.buffer"] = np.zeros((9, 9, 9))
    with pytest.raises(ConvtraceError, match=r"must have shape \[2, 2, 4\]"):
        b.load_state(bad)


# ---------------------------------------------------------------------- chunks


def test_unbatched_chunks_and_their_errors() -> None:
    chain = [nn.Conv1d(2, 3, 3, padding=1, dtype=np.float64, rng=0)]
    s = Streamer(chain)
    x = _x((2, 10))
    y = np.concatenate([s.push(x[:, :4]), s.push(x[:, 4:]), s.flush()], axis=-1)
    assert y.shape == (3, 10) and np.allclose(y, chain[0](x), rtol=0, atol=1e-12)
    with pytest.raises(ConvtraceError, match=r"dtype must be the layers' \(float64\).*astype"):
        s.push(x.astype(np.float32))
    with pytest.raises(ConvtraceError, match="must have 2 channels"):
        s.push(_x((3, 4)))
    with pytest.raises(ConvtraceError, match="3-D or 2-D"):
        s.push(np.zeros(4))
    s.push(_x((1, 2, 4)))
    with pytest.raises(ConvtraceError, match="every chunk of a stream has the first one's batch"):
        s.push(_x((2, 2, 4)))


def test_pools_take_the_first_chunks_dtype() -> None:
    s = Streamer(nn.MaxPool1d(2))
    y = np.concatenate([s.push(np.arange(5.0)[None, None]), s.flush()], axis=-1)
    assert y.dtype == np.float64 and y.tolist() == [[[1.0, 3.0]]]


def test_too_short_a_stream_raises_pytorchs_error_at_flush_and_resets() -> None:
    chain = [nn.Conv1d(1, 1, 5, dtype=np.float64, rng=0)]
    s = Streamer(chain)
    assert s.push(_x((1, 1, 3))).shape == (1, 1, 0)
    with pytest.raises(ConvtraceError, match="Kernel size can't be greater than actual input size"):
        s.flush()
    with pytest.raises(ConvtraceError, match="Kernel size can't be greater than actual input size"):
        chain[0](_x((1, 1, 3)))
    assert s.state["layer1.conv.samples_in"] == 0  # reset: a new stream can start


def test_float32_streams_close_to_offline() -> None:
    chain = chain_of(DECODER, channels=4, dtype=np.float32, seed=4)
    x = _x((1, 4, 7), dtype=np.float32)
    y = np.concatenate(run_stream(Streamer(chain), x, [2, 0, 1, 3])[0], axis=-1)
    want = offline(chain, x)
    assert y.dtype == np.float32 and np.max(np.abs(y - want)) <= 1e-5 * np.max(np.abs(want))


@pytest.mark.parametrize(("kernel", "stride", "dilation"), [(1, 3, 1), (2, 4, 1), (2, 5, 2)])
def test_windows_that_skip_samples_stream_one_sample_at_a_time(kernel: int, stride: int, dilation: int) -> None:
    """A stride longer than the window: after an output the next window starts past every
    sample so far (nothing is kept, a push may bring only skipped samples)."""
    chain = [nn.Conv1d(1, 2, kernel, stride, dilation=dilation, dtype=np.float64, rng=6),
             nn.Conv1d(2, 2, 1, 3, groups=2, dtype=np.float64, rng=7)]  # fmt: skip
    x = _x((1, 1, 40))
    for sizes in ([1] * 40, [2, 0, 3, 1, 7, 1, 1, 5]):
        parts = run_stream(Streamer(chain), x, sizes)[0]
        got, want = np.concatenate(parts, axis=-1), offline(chain, x)
        assert got.shape == want.shape and np.max(np.abs(got - want)) <= 1e-12 * np.max(np.abs(want))


def test_a_wide_conv_multiplies_by_blocks_of_rows_exactly() -> None:
    """256 x 1280 weights times 8 outputs a push: three blocks of rows (the small-matrix
    products), one item and two; one output a push stays one matrix-vector product."""
    from convtrace.stream.stages import WindowStage, _row_blocks

    conv = nn.Conv1d(128, 256, 10, stride=5, dtype=np.float64, rng=8)
    assert len(_row_blocks(conv.weight.reshape(256, -1), 8)) == 3
    for batch, chunk in ((1, 40), (2, 40), (1, 5)):
        x = _x((batch, 128, 205), seed=batch)
        s = Streamer(conv)
        got = np.concatenate(run_stream(s, x, [chunk] * (205 // chunk))[0], axis=-1)
        want = offline([conv], x)
        assert got.shape == want.shape and np.max(np.abs(got - want)) <= 1e-12 * np.max(np.abs(want))
        stage = s.units[0].stages[-1]
        assert isinstance(stage, WindowStage)
        counts = {p.count for p in stage._plans.values() if p.count}  # the last push of 5: one output
        assert counts == ({1, 8} if chunk == 40 else {1})  # (the first push's plan, 7 outputs, left when the copy grew)
        assert {k: len(b) for k, b in stage._row_blocks.items()} == ({7: 3, 8: 3} if chunk == 40 else {})  # one output: none


def test_float16_takes_the_engines_forward_and_equals_offline() -> None:
    """Weights other than float32/float64 stream through the engine's forward on the
    windows' span (the bias in float32, as offline): the same values as offline."""
    chain = [nn.Conv1d(2, 3, 3, stride=2, padding=1, dtype=np.float16, rng=0), nn.Conv1d(3, 2, 2, dtype=np.float16, rng=1)]
    x = _x((1, 2, 30), dtype=np.float16)
    got = np.concatenate(run_stream(Streamer(chain), x, [1, 4, 0, 7])[0], axis=-1)
    want = offline(chain, x)
    assert got.dtype == want.dtype == np.float16 and np.array_equal(got, want)


def test_the_state_never_grows() -> None:
    s = Streamer(chain_of(ENCODER, channels=1, seed=5))
    x = _x((1, 1, 160))
    for _ in range(20):
        s.push(x)
    arrays = {k: (id(v), v.shape) for k, v in s.state.items()}
    tracemalloc.start()
    for _ in range(100):
        s.push(x)
    before = tracemalloc.get_traced_memory()[0]
    for _ in range(400):
        s.push(x)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert {k: (id(v), v.shape) for k, v in s.state.items()} == arrays
    assert after - before < 64_000, after - before


# ---------------------------------------------------------------------- timing


def test_first_output_and_ready_agree_with_the_streamer() -> None:
    chain = _mixed()
    s = Streamer(chain)
    x = _x((1, 2, 60))
    emitted = 0
    for n in range(1, 60):
        emitted += s.push(x[..., n - 1 : n]).shape[-1]
        assert emitted == chain_ready(s.layers, n)
    assert s.first_output == first_output(s.layers)


def test_an_output_that_skips_a_sample_final_late_leaves_before_it() -> None:
    """A dilated ConvTranspose1d makes its sample 4 final before sample 3 (which needs the
    next input); the crop after it never reads sample 3, so the chain's first output is
    fixed after one sample and leaves with the first push (an in-order prefix of the first
    layer would hold it until the second)."""
    from stream_check import earliest

    chain = [nn.ConvTranspose1d(1, 2, 3, stride=3, padding=3, dilation=2, bias=False, dtype=np.float64, rng=0),
             nn.ConvTranspose1d(2, 1, 1, padding=1, bias=False, dtype=np.float64, rng=1)]  # fmt: skip
    x = _x((1, 1, 3))
    s = Streamer(chain)
    first, second = s.push(x[..., :1]).shape[-1], s.push(x[..., 1:2]).shape[-1]
    assert (first, second) == (1, 1)
    assert earliest(chain, x, 1, 64) == 1 and earliest(chain, x, 2, 64) == 2
