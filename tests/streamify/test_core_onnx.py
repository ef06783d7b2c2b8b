"""The explicit state exports: torch.onnx.export of ``step`` (opset 17), run by ONNX Runtime
(float32) and by onnx.reference (float64), gives push's outputs; the graph's state inputs
are state_spec()'s names and shapes."""

from __future__ import annotations

import io
import warnings
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import convtrace

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


class Chain(nn.Module):
    """Causal strided convs, a reflect pad on the left, a ConvTranspose1d back up."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv1d(1, 3, 4, stride=2)
        self.b = nn.Conv1d(3, 4, 3, padding=1)
        self.up = nn.ConvTranspose1d(4, 2, 4, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.elu(self.a(F.pad(x, (2, 0), mode="reflect")))
        return self.up(torch.tanh(self.b(x)))


class Block(nn.Module):
    """A residual block written in place, its branch lagging (padding), then a snake."""

    def __init__(self) -> None:
        super().__init__()
        self.pre = nn.Conv1d(1, 2, 3, padding=1)
        self.a = nn.Conv1d(2, 2, 3, dilation=2, padding=2)
        self.alpha = nn.Parameter(torch.rand(1, 2, 1) + 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pre(x)
        x += self.a(F.leaky_relu(x, 0.125))  # (a slope float32 holds: ONNX attributes are float32)
        return x + torch.sin(self.alpha * x) ** 2 / self.alpha


def _export(sm: Any, dtype: torch.dtype) -> bytes:
    names = [e.name for e in sm.state_spec()]
    state = sm.initial_state(1)
    chunk = torch.zeros(1, sm.input_shape[1], sm.chunk_size, dtype=dtype)
    f = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(sm, (chunk, *state), f, opset_version=17, dynamo=False, input_names=["chunk", *names],
                          output_names=["out", *(f"next.{n}" for n in names)])  # fmt: skip
    return f.getvalue()


def _streams(model: nn.Module, dtype: torch.dtype, run: Any) -> None:
    torch.manual_seed(0)
    model = model.to(dtype).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.add_(0.5)
    sm = convtrace.streamify(model, (1, 1, 40), chunk_size=4)
    graph = _export(sm, dtype)
    proto = onnx.load_from_string(graph)
    spec = sm.state_spec()
    inputs = {i.name: tuple(d.dim_value for d in i.type.tensor_type.shape.dim) for i in proto.graph.input}
    assert list(inputs)[1:] == [e.name for e in spec]
    assert [inputs[e.name] for e in spec] == [e.shape for e in spec]
    x = torch.randn(1, 1, 48, generator=torch.Generator().manual_seed(1), dtype=dtype)
    state = [t.numpy() for t in sm.initial_state(1)]
    outs = []
    for k in range(12):
        got = run(graph, {"chunk": x[..., 4 * k : 4 * k + 4].numpy(), **{e.name: s for e, s in zip(spec, state)}})
        outs.append(got[0])
        state = got[1:]
    exported = np.concatenate(outs, -1)
    with torch.no_grad():
        pushed = torch.cat([sm.push(x[..., 4 * k : 4 * k + 4]) for k in range(12)], -1).numpy()
    skip = -sm.step_offset
    assert skip >= 0 and not exported[..., :skip].any()
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    np.testing.assert_allclose(exported[..., skip:], pushed[..., : exported.shape[-1] - skip], rtol=tol, atol=tol)
    assert exported.shape[-1] - skip > 20  # most of the stream came out


def _onnxruntime(graph: bytes, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    return list(ort.InferenceSession(graph, providers=["CPUExecutionProvider"]).run(None, feeds))


def _reference(graph: bytes, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    from onnx.reference import ReferenceEvaluator

    return list(ReferenceEvaluator(onnx.load_from_string(graph)).run(None, feeds))


@pytest.mark.parametrize("model", [Chain, Block])
def test_exported_step_runs_in_onnxruntime_float32(model: type[nn.Module]) -> None:
    _streams(model(), torch.float32, _onnxruntime)


@pytest.mark.parametrize("model", [Chain, Block])
def test_exported_step_runs_in_onnx_reference_float64(model: type[nn.Module]) -> None:
    _streams(model(), torch.float64, _reference)
