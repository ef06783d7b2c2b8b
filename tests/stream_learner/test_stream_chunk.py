"""One streamed push explained (issue 19, item 4): the numbers shown are the streamer's own
(its state after the earlier pushes, its outputs), the cache/new split is right cell by cell,
and ConvTranspose1d's carried tail holds partial sums without the bias."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import convtrace
from convtrace import nn
from convtrace.engine.padding import apply_pad
from convtrace.errors import ConvtraceError
from convtrace.stream import Streamer
from convtrace.stream.timing import REFUSALS
from convtrace.trace.model import StreamOrigin


def _explain(x, w, **kw):
    return convtrace.explain(x, w, verify=False, **kw)


def _modules_of(trace):
    from convtrace.stream.learner import module_of

    return module_of(trace)


def _replay(trace, chunk, push):
    """An independent streamer run to just before push ``push``: its state, then the push's output."""
    module = _modules_of(trace)
    spec = trace.spec
    x3 = np.asarray(trace.input, dtype=module.weight.dtype).reshape(spec.batch, spec.in_channels, spec.length)
    s = Streamer(module, batch_size=spec.batch)
    for i in range(push - 1):
        s.push(x3[..., i * chunk : (i + 1) * chunk])
    state = {k: v.copy() for k, v in s.state.items()}
    out = s.push(x3[..., (push - 1) * chunk : push * chunk])
    return state, out, x3


# ---------------------------------------------------------------------- the seed's example


def test_seed_example_push_two_reads_two_cached_cells_and_one_new():
    t = _explain([1, 1, 1, 1], [1, 1, 1], padding=1, stream_chunk=2)
    s = t.stream
    assert (s.push, s.pushes, s.before, s.arrived, s.emitted_before) == (2, 2, 2, 2, 1)
    window = s.state("window")
    assert window.positions == (1, 2) and window.values == (1.0, 1.0)
    assert [o.out_index for o in s.outputs] == [1, 2]
    assert [[str(r.origin) for r in o.reads] for o in s.outputs] == [["cache", "cache", "new"], ["cache", "new", "new"]]
    assert s.output.tolist() == [[[3.0, 3.0]]]
    assert s.flush_outputs == 1
    assert s.state("window", after=True).positions == (3, 4)


def test_seed_example_first_push_is_the_warm_up():
    s = _explain([1, 1, 1, 1], [1, 1, 1], padding=1, stream_chunk=2, stream_push=1).stream
    assert s.state("window").positions == () and s.state("window").samples_in == 0
    assert s.notes[0].code == "stream_warmup"
    assert s.notes[0].values == {"kind": "conv", "left": 1, "mode": "zeros"}
    # y1 reads the left pad (made now), x1, x2: all new
    assert [(r.source.value, str(r.origin)) for r in s.outputs[0].reads] == [("zero", "new"), ("input", "new"), ("input", "new")]


def test_seed_transposed_carries_the_tail_without_the_bias():
    t = _explain([1, 1, 1, 1], [1, 1, 1], bias=[0.5], stride=2, padding=1, transposed=True, stream_chunk=2)
    s = t.stream
    tail = s.state("tail")
    assert tail.positions == (4,) and tail.values == (1.0,)  # x2·w3 alone: no 0.5 in it
    first = s.outputs[0]
    assert (first.out_index, first.carried, first.bias, first.value) == (3, 1.0, 0.5, 2.5)
    assert [(r.input_index, r.kernel_index, str(r.origin)) for r in first.reads] == [(1, 2, "carried"), (2, 0, "new")]
    assert "stream_bias_tail" in [n.code for n in s.notes]


# ---------------------------------------------------------------------- the streamer's own numbers

CONV_CASES = [
    dict(kernel_size=3, padding=1),
    dict(kernel_size=3, padding=2, padding_mode="reflect"),
    dict(kernel_size=4, padding=3, padding_mode="reflect", dilation=1),
    dict(kernel_size=3, padding=2, padding_mode="replicate"),
    dict(kernel_size=4, stride=2, padding=1),
    dict(kernel_size=3, dilation=2, padding="same", padding_mode="reflect"),
    dict(kernel_size=2, padding=0),
    dict(kernel_size=3, stride=3, padding=1, padding_mode="replicate"),
]
TRANSPOSED_CASES = [
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=4, stride=2, padding=1, output_padding=1),
    dict(kernel_size=3, stride=1, padding=2, dilation=2),
    dict(kernel_size=5, stride=3, padding=3),
    dict(kernel_size=2, stride=2),
]


def _data(seed, length, channels=1, out_channels=1, transposed=False, kernel_size=3, groups=1):
    rng = np.random.default_rng(seed)
    x = rng.integers(-4, 5, (1, channels, length)).astype(np.float64)
    shape = (channels, out_channels // groups, kernel_size) if transposed else (out_channels, channels // groups, kernel_size)
    w = rng.integers(-3, 4, shape).astype(np.float64)
    b = rng.integers(1, 5, (out_channels,)).astype(np.float64)
    return x, w, b


@pytest.mark.parametrize(("case", "chunk"), list(itertools.product(range(len(CONV_CASES)), (1, 2, 3, 5))))
def test_conv_push_shows_the_streamers_state_and_outputs(case, chunk):
    cfg = CONV_CASES[case]
    x, w, b = _data(case, 11, channels=2, out_channels=2, kernel_size=cfg["kernel_size"])
    kw = {k: v for k, v in cfg.items() if k != "kernel_size"}
    base = _explain(x, w, bias=b, **kw)
    pushes = -(-11 // chunk)
    padded = apply_pad(base.input, base.spec.pad_left, base.spec.pad_right,
                       "constant" if base.spec.padding_mode.value == "zeros" else base.spec.padding_mode.value)
    collected = []
    for push in range(1, pushes + 1):
        s = _explain(x, w, bias=b, stream_chunk=chunk, stream_push=push, **kw).stream
        state, out, _ = _replay(base, chunk, push)
        for entry in s.state_before:  # the streamer's state after the earlier pushes, as explained
            np.testing.assert_array_equal(entry.array, state[entry.name])
        np.testing.assert_array_equal(s.output, out)
        window = s.state("window")
        # each cached cell is the padded row's value there (channel 0): the cache's boundary
        assert list(window.values) == padded[0, 0, list(window.positions)].tolist()
        for o in s.outputs:
            for r in o.reads:
                cached = r.position in window.positions
                assert cached == (r.origin is StreamOrigin.CACHE), (push, o.out_index, r)
                if r.origin is StreamOrigin.NEW and r.input_index is not None and r.source.value != "zero":
                    assert r.input_index >= s.before, r
                if r.origin is StreamOrigin.PAD_CACHE:
                    assert r.input_index < s.before and r.input_index in s.state("pad").positions
            assert o.value == out[0, 0, o.out_index - s.emitted_before]
        assert s.emitted_before == sum(c.shape[-1] for c in collected)
        collected.append(s.output)
    last = _explain(x, w, bias=b, stream_chunk=chunk, stream_push=pushes, **kw).stream
    pushed = np.concatenate(collected, axis=-1)
    assert pushed.shape[-1] + last.flush_outputs == base.output.shape[-1]
    np.testing.assert_allclose(pushed, base.output[..., : pushed.shape[-1]], rtol=1e-12)


@pytest.mark.parametrize(("case", "chunk"), list(itertools.product(range(len(TRANSPOSED_CASES)), (1, 2, 3))))
def test_transposed_push_shows_the_streamers_tail_and_outputs(case, chunk):
    cfg = dict(TRANSPOSED_CASES[case])
    k = cfg.pop("kernel_size")
    x, w, b = _data(100 + case, 7, channels=1, out_channels=1, transposed=True, kernel_size=k)
    base = _explain(x, w, bias=b, transposed=True, **cfg)
    stride, dilation = cfg.get("stride", 1), cfg.get("dilation", 1)
    for push in range(1, -(-7 // chunk) + 1):
        s = _explain(x, w, bias=b, transposed=True, stream_chunk=chunk, stream_push=push, **cfg).stream
        state, out, _ = _replay(base, chunk, push)
        for entry in s.state_before:
            np.testing.assert_array_equal(entry.array, state[entry.name])
        np.testing.assert_array_equal(s.output, out)
        for when in (s.state("tail"), s.state("tail", after=True)):
            arrived = when.samples_in
            for p, v in zip(when.positions, when.values):  # partial sums of the arrived inputs, no bias
                taps = [x[0, 0, (p - j * dilation) // stride] * w[0, 0, j] for j in range(k)
                        if (p - j * dilation) % stride == 0 and 0 <= (p - j * dilation) // stride < arrived]
                assert v == pytest.approx(sum(taps), abs=1e-12), (push, p)
        for o in s.outputs:
            carried = sum(x[0, 0, r.input_index] * w[0, 0, r.kernel_index] for r in o.reads if r.origin is StreamOrigin.CARRIED)
            new = sum(x[0, 0, r.input_index] * w[0, 0, r.kernel_index] for r in o.reads if r.origin is StreamOrigin.NEW)
            assert o.carried == pytest.approx(carried, abs=1e-12)
            assert o.value == pytest.approx(o.carried + new + b[0], abs=1e-12)
            assert o.value == pytest.approx(base.output[0, 0, o.out_index], abs=1e-12)
            assert all((r.input_index < s.before) == (r.origin is StreamOrigin.CARRIED) for r in o.reads)


def _push_matches_torch(s, module, x, w, b):
    """The push's outputs are PyTorch's offline outputs at the same places, oneDNN on and off."""
    import torch

    from backends import each_backend

    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(w))
        module.bias.copy_(torch.from_numpy(b))
        for _ in each_backend():
            y = module(torch.from_numpy(x)).numpy()
            np.testing.assert_allclose(s.output, y[..., s.emitted_before : s.emitted_before + s.emitted], rtol=1e-12)


def test_stream_push_outputs_match_pytorch():
    torch = pytest.importorskip("torch")
    x, w, b = _data(7, 9, channels=2, out_channels=3, kernel_size=3)
    for mode in ("zeros", "reflect", "replicate"):
        s = _explain(x, w, bias=b, padding=2, padding_mode=mode, stream_chunk=2, stream_push=3).stream
        _push_matches_torch(s, torch.nn.Conv1d(2, 3, 3, padding=2, padding_mode=mode, dtype=torch.float64), x, w, b)
    xt, wt, bt = _data(8, 6, channels=2, out_channels=2, transposed=True, kernel_size=4)
    s = _explain(xt, wt, bias=bt, stride=2, padding=1, transposed=True, stream_chunk=2).stream
    _push_matches_torch(s, torch.nn.ConvTranspose1d(2, 2, 4, stride=2, padding=1, dtype=torch.float64), xt, wt, bt)


# ---------------------------------------------------------------------- which push, notes


def test_default_push_is_the_second_or_the_only_one():
    assert _explain([1, 2, 3, 4, 5], [1, 1], stream_chunk=2).stream.push == 2
    assert _explain([1, 2, 3], [1, 1], stream_chunk=5).stream.push == 1
    assert _explain([1, 2, 3], [1, 1], stream_chunk=5).stream.pushes == 1


def test_hop_chunk_is_the_layers_min_chunk():
    s = _explain([1] * 9, [1, 1, 1, 1], stride=3, stream_chunk="hop").stream
    assert (s.chunk, s.chunk_given, s.pushes) == (3, "hop", 3)


def test_reflect_warm_up_waits_for_the_mirrored_samples():
    s = _explain([1, 2, 3, 4, 5, 6], [1, 1, 1], padding=2, padding_mode="reflect", stream_chunk=2, stream_push=1).stream
    assert s.emitted == 0
    wait = next(n for n in s.notes if n.code == "stream_pad_wait")
    assert wait.values["need"] == 3 and wait.values["have"] == 2
    nxt = _explain([1, 2, 3, 4, 5, 6], [1, 1, 1], padding=2, padding_mode="reflect", stream_chunk=2).stream
    assert nxt.state("pad").positions == (0, 1)  # the padding kept x1, x2 to mirror them
    assert [str(r.origin) for r in nxt.outputs[0].reads] == ["new", "pad_cache", "pad_cache"]


def test_waiting_and_flush_notes_name_the_samples():
    s = _explain([1, 1, 1, 1], [1, 1, 1], padding=1, stream_chunk=1, stream_push=2).stream
    waiting = next(n for n in s.notes if n.code == "stream_waiting").values
    assert waiting == {"count": 3, "next": 1, "needs": 2, "later": 2, "flush": 1}


def test_batch_and_channels_get_the_item0_note_and_full_arrays():
    x, w, b = _data(3, 6, channels=2, out_channels=3, kernel_size=3)
    x = np.concatenate([x, x + 1])
    s = _explain(x, w, bias=b, padding=1, stream_chunk=2).stream
    assert s.output.shape[:2] == (2, 3)
    assert s.notes[-1].code == "stream_item0"


# ---------------------------------------------------------------------- refusals and bad values


def test_circular_is_refused_with_the_streaming_words():
    reason, fix = REFUSALS["circular"]
    with pytest.raises(ConvtraceError) as info:
        _explain([1, 2, 3, 4], [1, 1, 1], padding=1, padding_mode="circular", stream_chunk=2)
    assert info.value.param == "padding_mode" and reason in str(info.value) and fix in str(info.value)


BAD = [
    (dict(stream_chunk=0), "stream_chunk", "whole number of input samples >= 1"),
    (dict(stream_chunk=-2), "stream_chunk", "whole number of input samples >= 1"),
    (dict(stream_chunk=2.5), "stream_chunk", "whole number of input samples >= 1"),
    (dict(stream_chunk="two"), "stream_chunk", "whole number of input samples >= 1"),
    (dict(stream_chunk=True), "stream_chunk", "whole number of input samples >= 1"),
    (dict(stream_chunk=2, stream_push=0), "stream_push", "from 1 to the number of pushes (2 here"),
    (dict(stream_chunk=2, stream_push=3), "stream_push", "from 1 to the number of pushes (2 here"),
    (dict(stream_chunk=2, stream_push=1.0), "stream_push", "from 1 to the number of pushes"),
    (dict(stream_push=1), "stream_push", "it needs stream_chunk"),
]


@pytest.mark.parametrize(("kwargs", "param", "rule"), BAD)
def test_bad_stream_values_name_the_parameter_value_and_rule(kwargs, param, rule):
    with pytest.raises(ConvtraceError) as info:
        _explain([1, 1, 1, 1], [1, 1, 1], padding=1, **kwargs)
    assert info.value.param == param and rule in info.value.rule
    assert f"{param}=" in str(info.value)


def test_pools_do_not_stream_here():
    with pytest.raises(ConvtraceError, match="stream_chunk=2: a streamed push is explained for conv1d and conv_transpose1d"):
        convtrace.explain(op="max_pool1d", input=[1, 2, 3], kernel_size=2, stream_chunk=2, verify=False)


def test_module_of_keeps_the_traces_weights():
    t = _explain([1, 2, 3], [1, 2], bias=[3])
    m = _modules_of(t)
    assert isinstance(m, nn.Conv1d) and m.weight.tolist() == [[[1.0, 2.0]]] and m.bias.tolist() == [3.0]


def test_jupyter_html_shows_the_push():
    html = _explain([1, 1, 1, 1], [1, 1, 1], padding=1, stream_chunk=2)._repr_html_()
    assert '<pre class="stream">' in html and "y2 = 3: reads x1 (cache), x2 (cache), x3 (new)" in html


def test_every_note_code_has_words_in_both_languages():
    from convtrace.render.stream_chunk_text import stream_note_text

    cases = [
        _explain([1, 2, 3, 4, 5, 6], [1, 1, 1], padding=2, padding_mode="reflect", stream_chunk=2, stream_push=1),
        _explain([1, 2, 3, 4], [1, 1, 1], bias=[1], stride=2, padding=1, transposed=True, stream_chunk=2, stream_push=2),
        _explain([[1, 2, 3], [4, 5, 6]], [[[1, 1], [1, 1]], [[1, 1], [1, 1]]], stream_chunk=1),
    ]
    codes = set()
    for t in cases:
        for note in t.stream.notes:
            codes.add(note.code)
            en, zh = stream_note_text(note, "en"), stream_note_text(note, "zh")
            assert en and zh and en != zh and "{" not in en + zh
    assert codes >= {"stream_warmup", "stream_pad_wait", "stream_pad_keep", "stream_waiting", "stream_flush",
                     "stream_tail_cropped", "stream_bias_tail", "stream_item0"}
