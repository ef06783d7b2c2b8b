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
  order: float32 rounding, no more (the build checks the replay against the general path).

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
{'slices': 0, 'concats': 0, 'convs': 1}
>>> sorted({n.op_type for n in onnx.load_from_string(new).graph.node})
['Concat', 'MatMul', 'Reshape', 'Slice', 'Transpose']
"""

from __future__ import annotations

from typing import Any

__all__ = ["optimise", "probe_shapes", "drop_copies", "convs_as_matmul", "MATMUL_COLUMNS"]

#: a Conv1d giving at most this many columns per push runs as a MatMul (HiFi-GAN, 1 thread,
#: the whole push: 8.15 -> 6.83 ms at 8 columns, 6.95 at 4, 7.42 at 16; more columns fill
#: the lanes of the Conv's own SGEMM)
MATMUL_COLUMNS = 8


def optimise(model: bytes, max_columns: int = MATMUL_COLUMNS) -> tuple[bytes, dict[str, int]]:
    """The graph with the passes of the module docstring applied, and how many nodes each
    changed (``{}``: ``onnx`` is not installed, the graph as it is)."""
    try:
        import onnx
    except ImportError:
        return model, {}
    proto = onnx.load_from_string(model)
    shapes = probe_shapes(proto)
    slices, concats = drop_copies(proto, shapes)
    convs = convs_as_matmul(proto, shapes, max_columns)
    _drop_unused_constants(proto)
    return proto.SerializeToString(), {"slices": slices, "concats": concats, "convs": convs}


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


def convs_as_matmul(proto: Any, shapes: dict[str, tuple[int, ...]], max_columns: int) -> int:
    """Each Conv1d (constant weight, one group, no padding) giving at most ``max_columns``
    columns as a MatMul of its windows by the weight, time-major: the windows are
    ``min(columns, taps)`` strided slices of the transposed input, joined; the count."""
    import numpy as np
    from onnx import helper, numpy_helper

    constants = _constants(proto)
    nodes: list[Any] = []
    count = 0

    def const(name: str, value: Any) -> str:
        proto.graph.initializer.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    for node in proto.graph.node:
        if node.op_type != "Conv" or len(node.input) < 2:
            nodes.append(node)
            continue
        a = {x.name: helper.get_attribute_value(x) for x in node.attribute}
        weight = constants.get(node.input[1])
        x_shape, y_shape = shapes.get(node.input[0]), shapes.get(node.output[0])
        if weight is None or weight.ndim != 3 or x_shape is None or y_shape is None or len(y_shape) != 3 or \
                a.get("group", 1) != 1 or any(a.get("pads", [0, 0])) or a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET") \
                or not 0 < y_shape[2] <= max_columns:  # fmt: skip
            nodes.append(node)
            continue
        out_channels, channels, taps = (int(v) for v in weight.shape)
        columns, dilation, stride = y_shape[2], int(a.get("dilations", [1])[0]), int(a.get("strides", [1])[0])
        p = f"convtrace_mm{count}_"
        count += 1
        nodes.append(helper.make_node("Transpose", [node.input[0]], [p + "t"], perm=[0, 2, 1]))  # (N, L, C)
        parts = []
        if columns < taps:  # one slice per column: its taps, (N, k, C)
            for i in range(columns):
                nodes.append(helper.make_node("Slice", [p + "t", const(f"{p}s{i}", [i * stride]),
                                                        const(f"{p}e{i}", [i * stride + (taps - 1) * dilation + 1]),
                                                        const(f"{p}a{i}", [1]), const(f"{p}d{i}", [dilation])],
                                              [f"{p}x{i}"]))  # fmt: skip
                parts.append(f"{p}x{i}")
            nodes.append(helper.make_node("Concat", parts, [p + "c"], axis=1))  # (N, n * k, C)
        else:  # one slice per tap: its columns, (N, n, C)
            for j in range(taps):
                nodes.append(helper.make_node("Slice", [p + "t", const(f"{p}s{j}", [j * dilation]),
                                                        const(f"{p}e{j}", [j * dilation + (columns - 1) * stride + 1]),
                                                        const(f"{p}a{j}", [1]), const(f"{p}d{j}", [stride])],
                                              [f"{p}x{j}"]))  # fmt: skip
                parts.append(f"{p}x{j}")
            nodes.append(helper.make_node("Concat", parts, [p + "c"], axis=2) if taps > 1 else
                         helper.make_node("Identity", parts, [p + "c"]))  # fmt: skip
        # rows (N, n, k * C), taps major: the weight as (k * C, M), row j * C + c = weight[:, c, j]
        nodes.append(helper.make_node("Reshape", [p + "c", const(p + "shape", [0, columns, taps * channels])], [p + "w"]))
        matrix = np.ascontiguousarray(weight.transpose(2, 1, 0).reshape(taps * channels, out_channels))
        nodes.append(helper.make_node("MatMul", [p + "w", const(p + "weight", matrix)], [p + "m"]))
        last = p + "m"
        if len(node.input) > 2 and node.input[2]:
            nodes.append(helper.make_node("Add", [last, node.input[2]], [p + "b"]))
            last = p + "b"
        nodes.append(helper.make_node("Transpose", [last], [node.output[0]], perm=[0, 2, 1]))  # (N, M, n)
    _rewire(proto, nodes, {})
    return count


def _drop_unused_constants(proto: Any) -> None:
    """Constant nodes and initializers nothing reads any more (the convs' old weights)."""
    read = {name for node in proto.graph.node for name in node.input} | {o.name for o in proto.graph.output}
    kept = [n for n in proto.graph.node if n.op_type != "Constant" or n.output[0] in read]
    initializers = [t for t in proto.graph.initializer if t.name in read]
    del proto.graph.node[:]
    proto.graph.node.extend(kept)
    del proto.graph.initializer[:]
    proto.graph.initializer.extend(initializers)
