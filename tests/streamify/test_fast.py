"""The fast path of push (streamify(..., fast=...), inspect/streamify_fast.py): the steady push
and the stream's start recorded once and replayed by ONNX Runtime (float32) or TorchScript.
It must run (most pushes of chunk_size take it), equal the general path push for push (the
same outputs, emitted at the same pushes) and the offline forward (float64 within 1e-10,
float32 within 1e-4 of the output's scale), with oneDNN on and off, and hand the stream
back to the general path wherever it cannot take a push."""

from __future__ import annotations

import importlib.util
import os
import sys
from typing import Any

import pytest
import torch
from models import ZOO, one_thread  # noqa: F401  (a fixture: one thread)
from streamify_check import RTOL, nonzero_biases, onednn
from torch import nn

import convtrace

#: the zoo's streaming models; those whose two streams take more than ~5 s here are slow
HEAVY = ("hifigan", "tcn", "tcn_inplace")
STREAMING = [pytest.param(m, id=m.id, marks=[pytest.mark.slow] if m.name in HEAVY else [])
             for m in ZOO if m.refused_module is None]
F32_TOL = 1e-4


def _input(shape: tuple[int, ...], dtype: torch.dtype, seed: int = 1) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def _run(sm: Any, x: torch.Tensor, sizes: list[int], dim: int) -> tuple[torch.Tensor, list[int], list[str]]:
    """Push ``sizes`` then flush: the output, the outputs per push, the path of each push."""
    parts, paths, at = [], [], 0
    for n in sizes:
        parts.append(sm.push(x.narrow(dim, at, n)))
        paths.append(sm.push_path)
        at += n
    parts.append(sm.flush())
    out_dim = parts[0].dim() - 1
    return torch.cat(parts, out_dim), [int(p.shape[out_dim]) for p in parts], paths


def _hops(length: int, chunk: int) -> list[int]:
    return [chunk] * (length // chunk) + ([length % chunk] if length % chunk else [])


def _check(model: nn.Module, shape: tuple[int, ...], dim: int, dtype: torch.dtype, backend: str,
           sizes: list[int] | None = None) -> Any:  # fmt: skip
    """The fast path runs and equals the general path and the offline forward."""
    model = nonzero_biases(model).to(dtype).eval()
    fast = convtrace.streamify(model, shape, time_dim=dim, fast=backend)
    assert fast.fast_path == backend, fast.fast_reason
    general = convtrace.streamify(model, shape, time_dim=dim)
    x = _input(shape, dtype)
    sizes = sizes or _hops(shape[dim], fast.chunk_size)
    tol = RTOL if dtype == torch.float64 else F32_TOL
    for enabled in (True, False):
        with onednn(enabled), torch.no_grad():
            want = model(x)
            scale = float(want.abs().max()) or 1.0
            before = fast.fast_pushes
            got, emitted, paths = _run(fast, x, sizes, dim)
            ref, ref_emitted, _ = _run(general, x, sizes, dim)
        assert fast.fast_pushes - before == paths.count(backend) > 0, paths
        assert emitted == ref_emitted  # the same outputs at the same pushes
        assert got.shape == want.shape
        assert float((got - want).abs().max()) / scale <= tol
        assert float((got - ref).abs().max()) / scale <= tol
    return fast


@pytest.mark.parametrize("entry", STREAMING)
def test_the_zoo_streams_on_the_torchscript_fast_path_in_float64(entry: Any) -> None:
    _check(entry.build(), entry.input_shape, entry.time_dim, torch.float64, "torch")


@pytest.mark.parametrize("entry", STREAMING)
def test_the_zoo_streams_on_the_onnxruntime_fast_path_in_float32(entry: Any) -> None:
    pytest.importorskip("onnxruntime")
    _check(entry.build(), entry.input_shape, entry.time_dim, torch.float32, "onnxruntime")


class Strided(nn.Module):
    """Reflect pad, a strided conv, a residual join with a lagging branch, a transposed conv."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv1d(1, 3, 4, stride=2)
        self.b = nn.Conv1d(3, 3, 3, padding=2, dilation=2)
        self.up = nn.ConvTranspose1d(3, 1, 4, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.a(nn.functional.pad(x, (3, 0), mode="reflect"))
        x = x + self.b(torch.tanh(x))
        return self.up(x)


@pytest.mark.parametrize("backend", ["torch", "onnxruntime"])
def test_pushes_of_other_lengths_leave_the_fast_path_and_come_back(backend: str) -> None:
    if backend == "onnxruntime":
        pytest.importorskip("onnxruntime")
    dtype = torch.float64 if backend == "torch" else torch.float32
    torch.manual_seed(0)
    model = Strided()
    sizes = [2] * 6 + [1, 2, 2, 3, 0] + [2] * 5 + [5, 1] + [2] * 8 + [7]  # out of step after 1, back after 3
    sm = _check(model, (1, 1, sum(sizes)), -1, dtype, backend, sizes)
    _, _, paths = _run(sm, _input((1, 1, sum(sizes)), dtype), sizes, -1)
    assert paths[6:11] == ["python"] * 5 and paths[12] == backend and paths[19] == backend, paths


def test_a_parameter_written_mid_stream_drops_the_fast_path() -> None:
    torch.manual_seed(0)
    model = nn.utils.parametrizations.weight_norm(nn.Conv1d(2, 3, 1)).double().eval()  # one tap
    sm = convtrace.streamify(model, (1, 2, 16), fast="torch")
    x = _input((1, 2, 16), torch.float64)
    with torch.no_grad():
        first = torch.cat([sm.push(x[..., i : i + 1]) for i in range(8)], -1)
        assert sm.push_path == "torch"
        model.parametrizations.weight.original0.mul_(2.0)
        want = model(x)
        rest = torch.cat([sm.push(x[..., i : i + 1]) for i in range(8, 16)] + [sm.flush()], -1)
    assert sm.fast_path is None and sm.push_path == "python" and "parameter" in str(sm.fast_reason)
    torch.testing.assert_close(rest, want[..., 8:], rtol=1e-12, atol=1e-12)
    assert first.shape[-1] == 8


def _strided_float64() -> tuple[nn.Module, Any, torch.Tensor]:
    """Strided in float64 on the TorchScript fast path, and an input of 40 samples."""
    torch.manual_seed(0)
    model = Strided().double()
    return model, convtrace.streamify(model, (1, 1, 40), fast="torch"), _input((1, 1, 40), torch.float64)


def test_reset_mid_stream_and_push_calls_run_the_general_path() -> None:
    model, sm, x = _strided_float64()
    with torch.no_grad():
        for i in range(0, 20, 2):
            sm.push(x[..., i : i + 2])
        sm.reset()
        y, calls = sm.push_calls(x[..., :2])
        assert sm.push_path == "python" and calls
        y = torch.cat([y, *[sm.push(x[..., i : i + 2]) for i in range(2, 40, 2)], sm.flush()], -1)
        torch.testing.assert_close(y, model(x), rtol=1e-12, atol=1e-12)


def test_without_onnxruntime_auto_falls_back_to_torchscript(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime: ImportError
    torch.manual_seed(0)
    model = Strided()
    sm = convtrace.streamify(model, (1, 1, 40), fast=True)
    assert sm.fast_path == "torch"
    none = convtrace.streamify(model, (1, 1, 40), fast="onnxruntime")
    assert none.fast_path is None and "onnxruntime" in str(none.fast_reason)
    x = _input((1, 1, 40), torch.float32)
    with torch.no_grad():
        y, _, paths = _run(none, x, _hops(40, none.chunk_size), -1)
        assert set(paths) == {"python"}
        torch.testing.assert_close(y, model(x), rtol=1e-5, atol=1e-5)


def test_float64_cannot_run_on_onnxruntime_and_says_so() -> None:
    pytest.importorskip("onnxruntime")
    sm = convtrace.streamify(Strided().double(), (1, 1, 40), fast="onnxruntime")
    assert sm.fast_path is None and "float64" in str(sm.fast_reason)
    assert convtrace.streamify(Strided().double(), (1, 1, 40), fast=True).fast_path == "torch"


def test_double_rebuilds_the_fast_path_for_the_new_dtype() -> None:
    torch.manual_seed(0)
    model = Strided()
    sm = convtrace.streamify(model, (1, 1, 40), fast="torch").double()
    assert sm.fast_path == "torch"
    x = _input((1, 1, 40), torch.float64)
    with torch.no_grad():
        y, _, paths = _run(sm, x, _hops(40, sm.chunk_size), -1)
        assert "torch" in paths
        torch.testing.assert_close(y, model(x), rtol=1e-12, atol=1e-12)


def test_a_bad_backend_is_refused_by_name() -> None:
    with pytest.raises(convtrace.ConvtraceError, match="fast"):
        convtrace.streamify(nn.Conv1d(1, 1, 3), (1, 1, 8), fast="tvm")


# ---------------------------------------------------------------------- the two real models

def _real(name: str) -> tuple[nn.Module, tuple[int, ...], int]:
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))
    try:
        import bench_streamify
    finally:
        sys.path.pop(0)
    model, x, dim, _, _ = getattr(bench_streamify, name)(0.25)
    return model, tuple(x.shape), dim


@pytest.mark.slow
@pytest.mark.parametrize("name", ["hifigan", "encodec"])
def test_the_two_real_models_stream_on_the_onnxruntime_fast_path(name: str) -> None:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("transformers")
    model, shape, dim = _real(name)
    sm = _check(model, shape, dim, torch.float32, "onnxruntime")
    if importlib.util.find_spec("onnx") is not None:  # the steady push's graph optimised (streamify_graph)
        changes = sm._fast.engine.changes
        assert changes["convs"] >= (19 if name == "hifigan" else 6) and changes["slices"] > 0, changes


@pytest.mark.slow
@pytest.mark.parametrize("name", ["hifigan", "encodec"])
def test_the_two_real_models_stream_on_the_torchscript_fast_path_in_float64(name: str) -> None:
    pytest.importorskip("transformers")
    model, shape, dim = _real(name)
    _check(model, shape, dim, torch.float64, "torch")


# ---------------------------------------------------------------------- the proof checks the fast path

def test_the_proof_runs_the_fast_path_and_finds_it_exact() -> None:
    from convtrace.inspect.stream_verify import verify_model

    torch.manual_seed(0)
    result = verify_model(Strided(), (1, 1, 64), trials=4, fast="torch")
    assert result.ok and result.max_relative <= RTOL and not (result.late or result.early), result


def test_the_proof_fails_a_wrong_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    from convtrace.inspect import streamify_fast
    from convtrace.inspect.stream_verify import verify_model

    real = streamify_fast.FastPush.push

    def off_by_a_little(self: Any, sm: Any, chunk: Any) -> Any:
        return real(self, sm, chunk) * (1 + 1e-6)  # what only the fast path gets wrong

    monkeypatch.setattr(streamify_fast.FastPush, "push", off_by_a_little)
    torch.manual_seed(0)
    result = verify_model(Strided(), (1, 1, 64), trials=2, fast="torch")
    assert not result.ok and result.max_relative > RTOL


def test_the_proof_says_when_the_fast_path_is_missing_or_idle(monkeypatch: pytest.MonkeyPatch) -> None:
    from convtrace.inspect import streamify
    from convtrace.inspect.stream_verify import verify_model

    with pytest.raises(convtrace.ConvtraceError, match="not built"):
        verify_model(Strided(), (1, 1, 64), trials=1, fast="onnxruntime")  # float64: no ONNX Runtime Conv
    monkeypatch.setattr(streamify, "enter_fast", lambda sm, fast: False)  # the fast path never taken
    with pytest.raises(convtrace.ConvtraceError, match="ran no push"):
        verify_model(Strided(), (1, 1, 64), trials=1, fast="torch")


def test_a_stream_on_the_fast_path_still_checks_each_chunk() -> None:
    model, sm, x = _strided_float64()
    with torch.no_grad():
        parts = [sm.push(x[..., i : i + 2]) for i in range(0, 20, 2)]
        assert sm.push_path == "torch"
        with pytest.raises(convtrace.ConvtraceError, match="dtype"):
            sm.push(x[..., 20:22].float())
        with pytest.raises(convtrace.ConvtraceError, match="batch"):
            sm.push(torch.cat([x[..., 20:22]] * 2))
        with pytest.raises(convtrace.ConvtraceError, match="shape"):
            sm.push(x[..., 20:22].expand(1, 2, 2))
        parts += [sm.push(x[..., i : i + 2]) for i in range(20, 40, 2)]
        assert sm.push_path == "torch"
        y = torch.cat([*parts, sm.flush()], -1)
        torch.testing.assert_close(y, model(x), rtol=1e-12, atol=1e-12)
