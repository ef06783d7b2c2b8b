"""The fast path's ONNX graph made cheaper for ONNX Runtime (imports onnx and onnxruntime;
the graph is left as it is without ``onnx``).

A recorded push (:mod:`convtrace.inspect.streamify_fast`) is exported with every tensor's
time length fixed, but the exporter's shapes lose it; :func:`probe_shapes` runs the graph
once on zeros to know every tensor's shape. Then, each pass giving the same numbers:

- :func:`drop_copies` — a ``Slice`` that keeps the whole tensor (a conv's window over all of
  ``cat(kept, new)``) is no copy, and a ``Concat`` drops its empty inputs (a delay line of
  length 0): one node fewer each (ONNX Runtime's own passes do not see it, without shapes);
- :func:`convs_as_matmul` — a ``Conv1d`` giving few columns per push (HiFi-GAN's first
  upsampling stage: 4 columns of 256 channels) is, in ONNX Runtime, an im2col and an SGEMM
  whose 4 columns fill a quarter of its vector lanes; as a ``MatMul`` of the windows
  (time-major, ``(N, columns, k * C)``) by the weight as a constant ``(k * C, M)``, ONNX
  Runtime packs the weight once and its kernel runs full lanes. The sums run in another
  order: float32 rounding, no more (the build checks the replay against the general path);
- :func:`conv_transposes_as_matmul` — a ``ConvTranspose1d`` on few inputs likewise (HiFi-GAN's
  first upsampler: one input column of 512 channels), then its overlap-add as shifted sums.

>>> import numpy as np, onnx
>>> from onnx import helper, numpy_helper
>>> w = np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 10
>>> x = helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 3, 6])
>>> y = helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)
>>> graph = helper.make_graph([helper.make_node("Conv", ["x", "w"], ["y"], dilations=[1], pads=[0, 0])], "g",
...                           [x], [y], [numpy_helper.from_array(w, "w")])
>>> model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
>>> new, counts = optimise(model.SerializeToString())
>>> counts
{'slices': 0, 'concats': 0, 'convs': 1, 'conv_transposes': 0}
>>> sorted({n.op_type for n in onnx.load_from_string(new).graph.node})
['Concat', 'MatMul', 'Reshape', 'Slice', 'Transpose']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["optimise", "probe_shapes", "drop_copies", "convs_as_matmul", "conv_transposes_as_matmul", "MATMUL_COLUMNS"]

#: a Conv1d giving at most this many columns per push (a ConvTranspose1d on at most this many
#: inputs) runs as a MatMul (HiFi-GAN's steady push, 1 thread, after drop_copies: 8.15 -> 6.83
#: ms at 8 columns, 6.95 at 4, 7.42 at 16; the Conv's own SGEMM fills its lanes on more)
MATMUL_COLUMNS = 8


def optimise(model: bytes, max_columns: int = MATMUL_COLUMNS) -> tuple[bytes, dict[str, int]]:
    """The graph with the passes of the module docstring applied, and how many nodes each
    changed (``{}``: ``onnx`` is not installed, or the graph has control flow: the graph as
    it is)."""
    try:
        import onnx
    except ImportError:
        return model, {}
    proto = onnx.load_from_string(model)
    if any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS) for n in proto.graph.node for a in n.attribute):
        return model, {}  # (control flow: its subgraphs' reads are not followed here; a trace has none)
    shapes = probe_shapes(proto)
    slices, concats = drop_copies(proto, shapes)
    convs = convs_as_matmul(proto, shapes, max_columns)
    transposed = conv_transposes_as_matmul(proto, shapes, max_columns)
    _drop_unused_constants(proto)
    return proto.SerializeToString(), {"slices": slices, "concats": concats, "convs": convs,
                                       "conv_transposes": transposed}  # fmt: skip


def probe_shapes(proto: Any) -> dict[str, tuple[int, ...]]:
    """Every tensor's shape: the graph run once by ONNX Runtime on zeros, every node's
    output made an output of the graph (the graph's shapes are fixed: a recorded push). A
    tensor whose type the ONNX shape inference does not know is left out."""
    import numpy as np
    import onnx
    import onnxruntime as ort
    from onnx import helper

    probe = onnx.ModelProto()
    probe.CopyFrom(proto)
    inferred = onnx.shape_inference.infer_shapes(probe)
    types = {v.name: v.type.tensor_type.elem_type for v in inferred.graph.value_info}
    have = {o.name for o in probe.graph.output}
    for node in probe.graph.node:
        for name in node.output:
            if name and name not in have and types.get(name):
                probe.graph.output.append(helper.make_tensor_value_info(name, types[name], None))
                have.add(name)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(probe.SerializeToString(), options, providers=["CPUExecutionProvider"])
    dtypes = {"tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(int64)": np.int64}
    feeds = {i.name: np.zeros([int(d) for d in i.shape], dtype=dtypes[i.type]) for i in session.get_inputs()}
    values = session.run(None, feeds)
    shapes = {o.name: tuple(int(d) for d in v.shape) for o, v in zip(session.get_outputs(), values, strict=True)}
    shapes.update({name: tuple(v.shape) for name, v in feeds.items()})
    shapes.update({name: tuple(v.shape) for name, v in _constants(proto).items()})
    return shapes


def _constants(proto: Any) -> dict[str, Any]:
    """The graph's constant tensors (Constant nodes' values, initializers), as arrays."""
    from onnx import numpy_helper

    found = {}
    for node in proto.graph.node:
        if node.op_type == "Constant":
            for attribute in node.attribute:
                if attribute.name == "value":
                    found[node.output[0]] = numpy_helper.to_array(attribute.t)
    for tensor in proto.graph.initializer:
        found[tensor.name] = numpy_helper.to_array(tensor)
    return found


def _rewire(proto: Any, nodes: list[Any], renamed: dict[str, str]) -> None:
    """The graph's nodes replaced by ``nodes``, every input renamed by ``renamed``."""
    for node in nodes:
        for i, name in enumerate(node.input):
            node.input[i] = renamed.get(name, name)
    del proto.graph.node[:]
    proto.graph.node.extend(nodes)


def drop_copies(proto: Any, shapes: dict[str, tuple[int, ...]]) -> tuple[int, int]:
    """Slices that keep their whole input and the empty inputs of Concats removed (a
    graph output keeps its name, through an Identity): the counts of each."""
    import numpy as np
    from onnx import helper

    constants = _constants(proto)
    outputs = {o.name for o in proto.graph.output}
    renamed: dict[str, str] = {}
    nodes: list[Any] = []
    slices = concats = 0

    def alias(node: Any, source: str) -> None:
        if node.output[0] in outputs:
            nodes.append(helper.make_node("Identity", [renamed.get(source, source)], [node.output[0]]))
        else:
            renamed[node.output[0]] = renamed.get(source, source)

    for node in proto.graph.node:
        given, made = [renamed.get(n, n) for n in node.input], node.output[0] if node.output else ""
        if node.op_type == "Slice" and given[0] in shapes and made in shapes and shapes[given[0]] == shapes[made]:
            steps = given[4] if len(given) > 4 and given[4] else None
            if steps is None or (steps in constants and bool(np.all(constants[steps] == 1))):
                slices += 1
                alias(node, given[0])
                continue
        if node.op_type == "Concat":
            axis = next(helper.get_attribute_value(a) for a in node.attribute if a.name == "axis")
            kept = [n for n in given if not (n in shapes and shapes[n] and shapes[n][axis] == 0)]
            if kept and len(kept) < len(given):
                concats += 1
                if len(kept) == 1:
                    alias(node, kept[0])
                    continue
                del node.input[:]
                node.input.extend(kept)
        nodes.append(node)
    _rewire(proto, nodes, renamed)
    return slices, concats


Const = Callable[[str, Any], str]


def _replace_each(proto: Any, op_type: str, replace: Callable[[Any, dict[str, Any], Any, str, Const], list[Any] | None]) -> int:
    """Each node of ``op_type`` whose weight (its second input) is a constant replaced by the
    nodes ``replace(node, attributes, weight, prefix, const)`` gives (None: kept; ``const``
    adds an initializer and returns its name): the count."""
    import numpy as np
    from onnx import helper, numpy_helper

    constants = _constants(proto)
    nodes: list[Any] = []
    count = 0

    def const(name: str, value: Any) -> str:
        proto.graph.initializer.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    for node in proto.graph.node:
        weight = constants.get(node.input[1]) if node.op_type == op_type and len(node.input) > 1 else None
        attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute} if weight is not None else {}
        made = None if weight is None else replace(node, attributes, weight, f"convtrace_{op_type}{count}_", const)
        if made is None:
            nodes.append(node)
            continue
        nodes.extend(made)
        count += 1
    _rewire(proto, nodes, {})
    return count


def _plain(a: dict[str, Any]) -> bool:
    """No padding, one group (the stream's convs: its states pad)."""
    return not any(a.get("pads", [0, 0])) and a.get("auto_pad", b"NOTSET") in (b"NOTSET", "NOTSET") and a.get("group", 1) == 1


def convs_as_matmul(proto: Any, shapes: dict[str, tuple[int, ...]], max_columns: int) -> int:
    """Each Conv1d (constant weight, one group, no padding) giving at most ``max_columns``
    columns as a MatMul of its windows by the weight, time-major: the windows are
    ``min(columns, taps)`` strided slices of the transposed input, joined; the count."""
    import numpy as np
    from onnx import helper

    def replace(node: Any, a: dict[str, Any], weight: Any, p: str, const: Const) -> list[Any] | None:
        y_shape = shapes.get(node.output[0])
        if weight.ndim != 3 or node.input[0] not in shapes or y_shape is None or len(y_shape) != 3 or not _plain(a) \
                or not 0 < y_shape[2] <= max_columns:  # fmt: skip
            return None
        out_channels, channels, taps = (int(v) for v in weight.shape)
        columns, dilation, stride = y_shape[2], int(a.get("dilations", [1])[0]), int(a.get("strides", [1])[0])
        nodes = [helper.make_node("Transpose", [node.input[0]], [p + "t"], perm=[0, 2, 1])]  # (N, L, C)
        parts = []
        by_column = columns < taps  # one slice per column, its taps (N, k, C); else per tap, its columns (N, n, C)
        for i in range(min(columns, taps)):
            first, last, step = (i * stride, i * stride + (taps - 1) * dilation + 1, dilation) if by_column else \
                (i * dilation, i * dilation + (columns - 1) * stride + 1, stride)  # fmt: skip
            nodes.append(helper.make_node("Slice", [p + "t", const(f"{p}s{i}", [first]), const(f"{p}e{i}", [last]),
                                                    const(f"{p}a{i}", [1]), const(f"{p}d{i}", [step])], [f"{p}x{i}"]))  # fmt: skip
            parts.append(f"{p}x{i}")
        nodes.append(helper.make_node("Concat", parts, [p + "c"], axis=1 if by_column else 2) if len(parts) > 1 else
                     helper.make_node("Identity", parts, [p + "c"]))  # fmt: skip
        # rows (N, n, k * C), taps major: the weight as (k * C, M), row j * C + c = weight[:, c, j]
        nodes.append(helper.make_node("Reshape", [p + "c", const(p + "shape", [0, columns, taps * channels])], [p + "w"]))
        matrix = np.ascontiguousarray(weight.transpose(2, 1, 0).reshape(taps * channels, out_channels))
        nodes.append(helper.make_node("MatMul", [p + "w", const(p + "weight", matrix)], [p + "m"]))
        last_name = p + "m"
        if len(node.input) > 2 and node.input[2]:
            nodes.append(helper.make_node("Add", [last_name, node.input[2]], [p + "b"]))
            last_name = p + "b"
        nodes.append(helper.make_node("Transpose", [last_name], [node.output[0]], perm=[0, 2, 1]))  # (N, M, n)
        return nodes

    return _replace_each(proto, "Conv", replace)


def conv_transposes_as_matmul(proto: Any, shapes: dict[str, tuple[int, ...]], max_columns: int) -> int:
    """Each ConvTranspose1d (constant weight, one group, no padding, no bias: the stream
    adds the bias itself) on at most ``max_columns`` inputs as a MatMul of the inputs,
    time-major, by the weight as ``(C, M * q * s)`` (its span zero-padded to ``q`` whole
    strides ``s``), then the overlap-add: the ``q`` blocks of ``s`` taps, each shifted by
    ``a * s``, summed; the count."""
    import numpy as np
    from onnx import helper

    def replace(node: Any, a: dict[str, Any], weight: Any, p: str, const: Const) -> list[Any] | None:
        x_shape = shapes.get(node.input[0])
        if len(node.input) != 2 or weight.ndim != 3 or x_shape is None or len(x_shape) != 3 or not _plain(a) or \
                any(a.get("output_padding", [0])) or "output_shape" in a or not 0 < x_shape[2] <= max_columns:  # fmt: skip
            return None
        channels, out_channels, taps = (int(v) for v in weight.shape)
        columns, dilation, stride = x_shape[2], int(a.get("dilations", [1])[0]), int(a.get("strides", [1])[0])
        span = (taps - 1) * dilation + 1
        blocks = -(-span // stride)
        full = np.zeros((channels, out_channels, blocks * stride), dtype=weight.dtype)
        full[:, :, : span : dilation] = weight  # tap j at j * dilation
        nodes = [helper.make_node("Transpose", [node.input[0]], [p + "t"], perm=[0, 2, 1]),  # (N, n, C)
                 helper.make_node("MatMul", [p + "t", const(p + "weight", full.reshape(channels, -1))], [p + "m"]),
                 helper.make_node("Reshape", [p + "m", const(p + "s5", [0, columns, out_channels, blocks, stride])],
                                  [p + "r"]),
                 helper.make_node("Transpose", [p + "r"], [p + "q"], perm=[0, 3, 2, 1, 4])]  # (N, q, M, n, s)  # fmt: skip
        length = (columns + blocks - 1) * stride
        if blocks == 1:
            nodes.append(helper.make_node("Reshape", [p + "q", const(p + "s3", [0, out_channels, length])], [p + "sum"]))
        else:
            nodes.append(helper.make_node("Reshape", [p + "q", const(p + "s4", [0, blocks, out_channels, columns * stride])],
                                          [p + "b"]))  # fmt: skip
            parts = [f"{p}b{i}" for i in range(blocks)]
            nodes.append(helper.make_node("Split", [p + "b", const(p + "split", [1] * blocks)], parts, axis=1))
            for i, part in enumerate(parts):  # block i: from sample i * s on
                pads = [0, 0, 0, i * stride, 0, 0, 0, (blocks - 1 - i) * stride]
                nodes.append(helper.make_node("Pad", [part, const(f"{p}pad{i}", pads)], [f"{p}p{i}"]))
            nodes.append(helper.make_node("Sum", [f"{p}p{i}" for i in range(blocks)], [p + "s"]))
            nodes.append(helper.make_node("Reshape", [p + "s", const(p + "s3", [0, out_channels, length])], [p + "sum"]))
        want = (columns - 1) * stride + span
        nodes.append(helper.make_node("Identity", [p + "sum"], [node.output[0]]) if want == length else
                     helper.make_node("Slice", [p + "sum", const(p + "from", [0]), const(p + "to", [want]),
                                                const(p + "axis", [2])], [node.output[0]]))  # fmt: skip
        return nodes

    return _replace_each(proto, "ConvTranspose", replace)


def _drop_unused_constants(proto: Any) -> None:
    """Constant nodes and initializers nothing reads any more (the convs' old weights)."""
    read = {name for node in proto.graph.node for name in node.input} | {o.name for o in proto.graph.output}
    kept = [n for n in proto.graph.node if n.op_type != "Constant" or n.output[0] in read]
    initializers = [t for t in proto.graph.initializer if t.name in read]
    del proto.graph.node[:]
    proto.graph.node.extend(kept)
    del proto.graph.initializer[:]
    proto.graph.initializer.extend(initializers)
