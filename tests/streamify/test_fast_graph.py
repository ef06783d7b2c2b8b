"""The fast path's ONNX graph passes (inspect/streamify_graph.py): each rewritten graph gives
PyTorch's numbers (float32: within 1e-5 of the output's scale, summed in another order) on
every shape it takes, the graph as exported where a pass does not apply, and the fast path
of the real models runs the rewritten graphs."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from streamify_check import onednn

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import convtrace  # noqa: E402
from convtrace.inspect import streamify_graph  # noqa: E402

TOL = 1e-5


def _model(nodes: list[Any], inputs: dict[str, tuple[int, ...]], outputs: list[str], weights: dict[str, Any]) -> bytes:
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(s)) for n, s in inputs.items()],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in outputs],
        [numpy_helper.from_array(np.asarray(v, dtype=np.float32), k) for k, v in weights.items()])  # fmt: skip
    return bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())


def _run(model: bytes, feeds: dict[str, Any]) -> list[Any]:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    return list(session.run(None, feeds))


def _close(got: Any, want: Any) -> None:
    assert got.shape == want.shape
    scale = max(float(np.abs(want).max()), 1e-30)
    assert float(np.abs(got - want).max()) <= TOL * scale


CONVS = [  # (batch, channels, out channels, taps, dilation, stride, columns, bias)
    (1, 8, 5, 3, 1, 1, 4, True),  # a slice per tap
    (1, 6, 7, 11, 5, 1, 4, True),  # a slice per column (4 < 11 taps), dilated
    (2, 4, 3, 4, 2, 3, 3, False),  # strided and dilated, two in the batch, no bias
    (1, 5, 4, 1, 1, 2, 8, True),  # one tap, strided
    (1, 3, 2, 16, 1, 8, 1, True),  # one column (EnCodec's last downsampling)
]


@pytest.mark.parametrize("case", CONVS, ids=[str(c) for c in CONVS])
def test_a_conv_on_few_columns_becomes_a_matmul_with_pytorchs_numbers(case: tuple[Any, ...]) -> None:
    batch, c, m, k, d, s, n, bias = case
    rng = np.random.default_rng(0)
    length = (n - 1) * s + (k - 1) * d + 1 + (s - 1)  # (a stride's end past the last window: not read)
    x = rng.standard_normal((batch, c, length)).astype(np.float32)
    w, b = rng.standard_normal((m, c, k)).astype(np.float32), rng.standard_normal(m).astype(np.float32)
    weights = {"w": w, **({"b": b} if bias else {})}
    node = helper.make_node("Conv", ["x", "w", *(["b"] if bias else [])], ["y"], dilations=[d], strides=[s], pads=[0, 0])
    model = _model([node], {"x": x.shape}, ["y"], weights)
    new, counts = streamify_graph.optimise(model)
    assert counts["convs"] == 1 and "Conv" not in {n.op_type for n in onnx.load_from_string(new).graph.node}
    got = _run(new, {"x": x})[0]
    assert got.shape[-1] == n
    for enabled in (True, False):
        with onednn(enabled):
            want = torch.nn.functional.conv1d(torch.from_numpy(x).double(), torch.from_numpy(w).double(),
                                              torch.from_numpy(b).double() if bias else None, s, 0, d)  # fmt: skip
        _close(got, want.numpy())
    _close(got, _run(model, {"x": x})[0])


def test_a_conv_on_many_columns_or_padded_or_grouped_stays_a_conv() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 4, 40)).astype(np.float32)
    nodes = [helper.make_node("Conv", ["x", "w"], ["y1"], pads=[0, 0]),  # 38 columns
             helper.make_node("Conv", ["x", "w"], ["y2"], pads=[1, 1], strides=[8]),  # padded
             helper.make_node("Conv", ["x", "g"], ["y3"], group=2, strides=[8])]  # grouped  # fmt: skip
    weights = {"w": rng.standard_normal((3, 4, 3)), "g": rng.standard_normal((2, 2, 3))}
    model = _model(nodes, {"x": x.shape}, ["y1", "y2", "y3"], weights)
    new, counts = streamify_graph.optimise(model)
    assert counts["convs"] == 0
    for got, want in zip(_run(new, {"x": x}), _run(model, {"x": x}), strict=True):
        np.testing.assert_array_equal(got, want)


TRANSPOSED = [  # (batch, channels, out channels, taps, dilation, stride, inputs)
    (1, 8, 4, 8, 1, 4, 1),  # HiFi-GAN's first upsampler: one input, span two strides
    (1, 6, 3, 8, 1, 4, 4),
    (2, 3, 5, 5, 1, 4, 3),  # span not a whole number of strides: the end sliced
    (1, 4, 2, 3, 2, 2, 5),  # dilated
    (1, 3, 3, 2, 1, 4, 6),  # span shorter than the stride: gaps
]


@pytest.mark.parametrize("case", TRANSPOSED, ids=[str(c) for c in TRANSPOSED])
def test_a_conv_transpose_on_few_inputs_becomes_a_matmul_with_pytorchs_numbers(case: tuple[Any, ...]) -> None:
    batch, c, m, k, d, s, n = case
    rng = np.random.default_rng(2)
    x = rng.standard_normal((batch, c, n)).astype(np.float32)
    w = rng.standard_normal((c, m, k)).astype(np.float32)
    node = helper.make_node("ConvTranspose", ["x", "w"], ["y"], dilations=[d], strides=[s], pads=[0, 0])
    model = _model([node], {"x": x.shape}, ["y"], {"w": w})
    new, counts = streamify_graph.optimise(model)
    assert counts["conv_transposes"] == 1
    assert "ConvTranspose" not in {n.op_type for n in onnx.load_from_string(new).graph.node}
    got = _run(new, {"x": x})[0]
    for enabled in (True, False):
        with onednn(enabled):
            want = torch.nn.functional.conv_transpose1d(torch.from_numpy(x).double(), torch.from_numpy(w).double(),
                                                        None, s, 0, 0, 1, d)  # fmt: skip
        _close(got, want.numpy())
    _close(got, _run(model, {"x": x})[0])


def test_slices_of_the_whole_tensor_and_empty_concat_inputs_are_dropped_exactly() -> None:
    rng = np.random.default_rng(3)
    state, x = rng.standard_normal((1, 3, 2)).astype(np.float32), rng.standard_normal((1, 3, 4)).astype(np.float32)

    def ints(name: str, values: list[int]) -> Any:
        return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(np.array(values, np.int64)))

    nodes = [ints("z", [0]), ints("six", [6]), ints("two", [2]), ints("one", [1]), ints("big", [2**62]),
             helper.make_node("Concat", ["empty", "state", "x"], ["joined"], axis=2),  # "empty": (1, 3, 0)
             helper.make_node("Slice", ["joined", "z", "six", "two"], ["whole"]),  # all six: no copy
             helper.make_node("Slice", ["joined", "one", "big", "two"], ["tail"]),  # five of six: kept
             helper.make_node("Slice", ["joined", "z", "six", "two", "one"], ["out"]),  # whole, a graph output
             helper.make_node("Tanh", ["whole"], ["y"])]  # fmt: skip
    model = _model(nodes, {"state": state.shape, "x": x.shape}, ["y", "tail", "out"], {"empty": np.zeros((1, 3, 0))})
    new, counts = streamify_graph.optimise(model)
    assert (counts["slices"], counts["concats"]) == (2, 1)
    kinds = [n.op_type for n in onnx.load_from_string(new).graph.node if n.op_type != "Constant"]
    assert sorted(kinds) == ["Concat", "Identity", "Slice", "Tanh"], kinds
    feeds = {"state": state, "x": x}
    for got, want in zip(_run(new, feeds), _run(model, feeds), strict=True):
        np.testing.assert_array_equal(got, want)
    joined = np.concatenate([state, x], -1)
    np.testing.assert_array_equal(_run(new, feeds)[1], joined[..., 1:])


def test_without_onnx_the_graph_is_left_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "onnx", None)
    assert streamify_graph.optimise(b"not a graph") == (b"not a graph", {})


def test_the_fast_path_of_a_strided_model_runs_the_rewritten_graph_and_equals_the_general_path() -> None:
    from test_fast import Strided, _check

    torch.manual_seed(0)
    sm = _check(Strided(), (1, 1, 48), -1, torch.float32, "onnxruntime")
    assert sm._fast is not None
    changes = sm._fast.engine.changes
    assert changes["convs"] >= 2 and changes["conv_transposes"] == 1, changes


@pytest.mark.parametrize("threads", [1, 2])
def test_onnx_runtime_threads_do_not_spin_between_pushes_on_more_than_one_thread(threads: int) -> None:
    from test_fast import Strided, _hops, _input

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        torch.manual_seed(0)
        model = Strided()
        sm = convtrace.streamify(model, (1, 1, 32), fast="onnxruntime")
    finally:
        torch.set_num_threads(before)
    assert sm._fast is not None
    options = sm._fast.engine.session.get_session_options()
    assert options.intra_op_num_threads == threads
    spinning = options.get_session_config_entry("session.intra_op.allow_spinning") if threads > 1 else "0"
    assert spinning == "0"
    x = _input((1, 1, 32), torch.float32)
    with torch.no_grad():
        y = torch.cat([sm.push(x[..., i : i + n]) for i, n in zip(range(0, 32, sm.chunk_size), _hops(32, sm.chunk_size))]
                      + [sm.flush()], -1)  # fmt: skip
        torch.testing.assert_close(y, model(x), rtol=1e-4, atol=1e-5)


def test_a_graph_with_control_flow_is_left_as_it_is() -> None:
    w = np.ones((1, 1, 3), np.float32)
    branch = helper.make_graph([helper.make_node("Conv", ["x", "w"], ["b"])], "branch", [],
                               [helper.make_tensor_value_info("b", TensorProto.FLOAT, None)])  # fmt: skip
    nodes = [helper.make_node("Constant", [], ["c"], value=numpy_helper.from_array(np.array(True))),
             helper.make_node("If", ["c"], ["y"], then_branch=branch, else_branch=branch)]  # fmt: skip
    model = _model(nodes, {"x": (1, 1, 4)}, ["y"], {"w": w})
    assert streamify_graph.optimise(model) == (model, {})
    x = np.arange(4, dtype=np.float32).reshape(1, 1, 4)
    np.testing.assert_array_equal(_run(model, {"x": x})[0], [[[3.0, 6.0]]])


def test_a_graph_onnx_runtime_cannot_load_after_the_passes_is_run_as_exported(monkeypatch: pytest.MonkeyPatch) -> None:
    from test_fast import Strided, _check

    monkeypatch.setattr(streamify_graph, "optimise", lambda model, *a: (b"broken", {"convs": 1}))
    torch.manual_seed(0)
    sm = _check(Strided(), (1, 1, 48), -1, torch.float32, "onnxruntime")  # built, runs, exact
    assert sm._fast is not None and sm._fast.engine.changes == {}
