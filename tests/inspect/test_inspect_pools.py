"""``convtrace.inspect`` and ``length_map`` on models with every pool (issue 17): nn modules
and functional calls recorded under their names, lengths against the real forward pass,
and the dependence of every output (exact, per call, through adaptive pools at the recorded
length) against PyTorch — impulse responses on a zero input with positive weights and no
biases (max pooling of non-negative values: an impulse reaches exactly the windows holding
it), with PyTorch's oneDNN on and off."""

from __future__ import annotations

from fractions import Fraction

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import convtrace
from backends import each_backend
from convtrace.inspect import inspect_model, length_map
from convtrace.render.plan_text import to_json

NEEDS_TORCH = True


def positive(module: nn.Module, seed: int = 0) -> nn.Module:
    """float64, weights in [0.1, 1.1), biases 0, eval mode."""
    generator = torch.Generator().manual_seed(seed)
    module = module.double().eval()
    with torch.no_grad():
        for name, p in module.named_parameters():
            p.copy_(torch.zeros_like(p) if name.endswith("bias") else torch.rand(p.shape, generator=generator,
                                                                                  dtype=torch.float64) + 0.1)  # fmt: skip
    return module


def impulse_support(model: nn.Module, channels: int, length: int) -> list[tuple[int, int] | None]:
    """Per output time index: the first and last input index whose impulse (alone, on a
    zero input) changes it, with oneDNN on and off (the two must agree)."""
    answers = []
    for _ in each_backend():
        with torch.no_grad():
            x = torch.zeros(length, channels, length, dtype=torch.float64)
            x[torch.arange(length), :, torch.arange(length)] = 1.0
            y = model(x).reshape(length, -1, model(x[:1]).shape[-1])
            base = model(torch.zeros(1, channels, length, dtype=torch.float64)).reshape(1, -1, y.shape[-1])
            changed = (y != base).any(dim=1)  # [input index, output index]
        found: list[tuple[int, int] | None] = []
        for t in range(changed.shape[1]):
            hit = torch.nonzero(changed[:, t]).flatten().tolist()
            found.append((hit[0], hit[-1]) if hit else None)
        answers.append(found)
    assert answers[0] == answers[1]
    return answers[0]


class EveryFunctionalPool(nn.Module):
    """Every functional pool, max_pool1d with and without return_indices, the indices into
    max_unpool1d."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.rand(3, 1, 3) + 0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.conv1d(x, self.w, padding=1)
        pooled, index = F.max_pool1d(x, 2, stride=2, return_indices=True)
        x = F.max_unpool1d(pooled, index, 2, stride=2, output_size=x.shape[-1:])
        x = F.max_pool1d(x, 3, stride=1, padding=1)
        x = F.avg_pool1d(x, 3, stride=2, padding=1, ceil_mode=True)
        x = F.lp_pool1d(x, 3.0, 2, stride=1)
        x = F.adaptive_avg_pool1d(x, 7)
        values, _ = F.adaptive_max_pool1d(x, 5, return_indices=True)
        return F.avg_pool1d(F.adaptive_max_pool1d(values, 3), 2, stride=1)  # after an adaptive pool


class EveryPoolModule(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(1, 2, 5, padding=2)
        self.pool = nn.MaxPool1d(3, 2, 1, return_indices=True)
        self.unpool = nn.MaxUnpool1d(3, 2, 1)
        self.avg = nn.AvgPool1d(2, ceil_mode=True)
        self.lp = nn.LPPool1d(2, 3, 1)
        self.adaptive_avg = nn.AdaptiveAvgPool1d(6)
        self.adaptive_max = nn.AdaptiveMaxPool1d(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        pooled, index = self.pool(y)
        y = self.unpool(pooled, index, output_size=y.shape)
        return self.adaptive_max(self.adaptive_avg(self.lp(self.avg(y))))


def _lengths_by_forward(model: nn.Module, x: torch.Tensor) -> list[int]:
    """The time length after each recorded call, by running the model with a recording
    function mode of our own (independent of convtrace's recorder)."""
    from torch.overrides import TorchFunctionMode

    names = {"conv1d", "max_pool1d", "max_pool1d_with_indices", "max_unpool1d", "avg_pool1d", "lp_pool1d",
             "adaptive_avg_pool1d", "adaptive_max_pool1d", "adaptive_max_pool1d_with_indices"}  # fmt: skip
    seen: list[int] = []

    class Mode(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
            out = func(*args, **(kwargs or {}))
            if getattr(func, "__name__", "") in names:
                seen.append(int((out[0] if isinstance(out, tuple) else out).shape[-1]))
            return out

    with torch.no_grad(), Mode():
        model(x)
    return seen


@pytest.mark.parametrize("length", [9, 10, 23, 40])
def test_every_functional_pool_is_recorded_with_its_length(length: int) -> None:
    model = EveryFunctionalPool().double()
    report = inspect_model(model, (1, 1, length))
    assert [c.name for c in report.calls] == [
        "conv1d", "max_pool1d_with_indices", "max_unpool1d", "max_pool1d", "avg_pool1d", "lp_pool1d",
        "adaptive_avg_pool1d", "adaptive_max_pool1d_with_indices", "adaptive_max_pool1d", "avg_pool1d",
    ]  # fmt: skip
    assert [c.type for c in report.calls][1:] == ["maxpool", "maxunpool", "maxpool", "avgpool", "lppool",
                                                  "adaptiveavgpool", "adaptivemaxpool", "adaptivemaxpool",
                                                  "avgpool"]  # fmt: skip
    lengths = _lengths_by_forward(model, torch.rand(1, 1, length, dtype=torch.float64))
    assert [c.out_length for c in report.calls] == [c.predicted_out_length for c in report.calls] == lengths
    assert report.calls[2].parameters == {"in_channels": 3, "kernel_size": 2, "stride": 2, "padding": 0,
                                          "output_size": length}  # fmt: skip
    assert report.calls[5].parameters["norm_type"] == 3.0 and report.calls[5].parameters["kernel_size"] == 2
    assert report.length_dependent and [c.length_dependent for c in report.calls] == [False] * 6 + [True] * 4
    assert [w.layer for w in report.warnings if w.code == "W109"] == [
        "adaptive_avg_pool1d", "adaptive_max_pool1d_with_indices", "adaptive_max_pool1d"]
    assert report.chain and report.output_length == 2


def test_every_pool_module_is_recorded_by_its_name() -> None:
    model = EveryPoolModule()
    report = inspect_model(model, (1, 1, 31))
    assert [(c.name, c.type) for c in report.calls] == [
        ("conv", "conv"), ("pool", "maxpool"), ("unpool", "maxunpool"), ("avg", "avgpool"), ("lp", "lppool"),
        ("adaptive_avg", "adaptiveavgpool"), ("adaptive_max", "adaptivemaxpool")]  # fmt: skip
    assert [c.out_length for c in report.calls] == _lengths_by_forward(model, torch.zeros(1, 1, 31))
    text = str(report)
    assert "lppool norm=2 k=3 s=1" in text and "maxunpool k=3 s=2 p=1 o=31" in text
    assert "* at this input length (31) only" in text and "W109 [adaptive_avg]" in text
    zh = report.render("zh")
    assert "只在这个输入长度（31）下成立" in zh
    doc = to_json(report)
    assert doc["length_dependent"] is True and doc["calls"][-1]["length_dependent"] is True
    assert any(w["code"] == "W109" and "floor(i*L/O)" in w["message"] for w in doc["warnings"])


@pytest.mark.parametrize("length", [12, 17, 30])
def test_text_cnn_max_over_time_depends_on_every_token(length: int) -> None:
    """conv + adaptive_max_pool1d(1): the one output depends on the whole (padded) input;
    the same by max_pool1d over the full length."""

    class TextCNN(nn.Module):
        def __init__(self, over_length: bool) -> None:
            super().__init__()
            self.conv = nn.Conv1d(4, 6, 3, padding=1)
            self.over_length = over_length

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = torch.relu(self.conv(x))
            return F.max_pool1d(y, y.shape[-1]) if self.over_length else F.adaptive_max_pool1d(y, 1)

    for over_length in (False, True):
        model = positive(TextCNN(over_length))
        report = inspect_model(model, (2, 4, length))
        assert report.output_length == 1
        assert impulse_support(model, 4, length) == [(0, length - 1)]
        assert report.dependence(0) == (-1, length)  # the padding on both sides, as PyTorch's windows hold it
        assert report.length_dependent is (not over_length)
        kind = "adaptivemaxpool" if not over_length else "maxpool"
        assert report.calls[-1].type == kind


def test_text_cnn_length_map() -> None:
    """Every length gives one output through adaptive_max_pool1d (no hop is promised), and
    max_pool1d over the full length — a kernel set from the length — is found out by the
    confirmations and run at every length."""

    class TextCNN(nn.Module):
        def __init__(self, over_length: bool) -> None:
            super().__init__()
            self.conv = nn.Conv1d(1, 2, 3)
            self.over_length = over_length

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = self.conv(x)
            return F.max_pool1d(y, y.shape[-1]) if self.over_length else F.adaptive_max_pool1d(y, 1)

    adaptive = length_map(TextCNN(False), (1, 1, 20), range(12))
    assert adaptive.method == "arithmetic" and not adaptive.off_promise and adaptive.hop is None
    assert adaptive.length_dependent and "hop none fixed: an adaptive pool's is L/O" in str(adaptive)
    assert [e.output_length for e in adaptive.entries] == [None] * 3 + [1] * 9
    full = length_map(TextCNN(True), (1, 1, 20), range(5, 12))
    assert full.method == "runs" and [e.output_length for e in full.entries] == [1] * 7


@settings(max_examples=25, deadline=None)
@given(length=st.integers(16, 48), k=st.integers(2, 5), s=st.integers(1, 4), ceil=st.booleans(),
       size=st.integers(1, 9), lp=st.booleans())  # fmt: skip
def test_audio_pools_dependence_is_pytorchs(length: int, k: int, s: int, ceil: bool, size: int, lp: bool) -> None:
    """conv -> max/lp pool -> conv -> adaptive avg pool: the dependence the report gives
    for every output (exact, per call) is the impulses' range wherever the windows stay
    inside the signal."""
    pool: nn.Module = nn.LPPool1d(2, k, s, ceil_mode=ceil) if lp else nn.MaxPool1d(k, s, k // 2, ceil_mode=ceil)
    model = positive(nn.Sequential(nn.Conv1d(1, 2, 3), pool, nn.Conv1d(2, 2, 2), nn.AdaptiveAvgPool1d(size)))
    report = inspect_model(model, (1, 1, length))
    seen = impulse_support(model, 1, length)
    assert len(seen) == report.output_length == size
    for t, hit in enumerate(seen):
        window = report.dependence(t)
        assert window is not None
        if _inside_pool(report, t):
            assert hit == window, (t, str(report))
        else:  # padding (max pool's, or ceil_mode's overhang) is cut at the edges
            assert hit is not None and window[0] <= hit[0] and hit[1] <= window[1]
    pooled = report.calls[1]  # per call: the pool's outputs, and the figures the table prints for it
    assert pooled.receptive_field == k + 2 and pooled.hop == s and not pooled.length_dependent
    assert report.calls[3].length_dependent and report.calls[3].hop == s * Fraction(report.calls[3].in_length, size)
    inner = impulse_support(model[:2], 1, length)
    for t, hit in enumerate(inner):
        own = report.dependence(t, call=1)
        assert own is not None and pooled.offset is not None
        assert own == (t * s - pooled.offset, t * s - pooled.offset + pooled.receptive_field - 1)
        if own[0] >= 0 and own[1] < length:
            assert hit == own


def _inside_pool(report: convtrace.InspectReport, t: int) -> bool:
    """Output t's windows, traced back call by call, stay inside each call's input (no
    padding or overhang taps, which PyTorch's impulses cannot show)."""
    lo, hi = t, t
    for call in reversed(report.calls):
        window = call.layer.window_of_range(lo, hi, call.in_length)
        if window is None:
            return False
        lo, hi = window
        if lo < 0 or hi >= call.in_length:
            return False
    return True


def test_unpool_after_pool_with_indices_lengths_and_dependence() -> None:
    """MaxPool1d's indices into MaxUnpool1d(output_size=x.size()): the lengths at every
    length by arithmetic (the output_size read as the pool's input length), confirmed by
    runs; each unpooled value sits inside the range the report gives its index."""

    class Codec(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv1d(1, 2, 3)
            self.pool = nn.MaxPool1d(4, return_indices=True)
            self.unpool = nn.MaxUnpool1d(4)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = self.conv(x)
            pooled, index = self.pool(y)
            return self.unpool(pooled, index, output_size=y.size())

    model = positive(Codec())
    found = length_map(model, (1, 1, 40), range(30, 50))
    assert found.method == "arithmetic" and [e.output_length for e in found.entries] == list(range(28, 48))
    report = inspect_model(model, (1, 1, 41))
    assert not [w for w in report.warnings if w.code == "W104"]  # output_size restores the length
    x = torch.rand(1, 1, 41, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    for _ in each_backend():
        with torch.no_grad():
            y = model(x)
        for j in torch.nonzero(y[0, 0]).flatten().tolist():
            lo, hi = report.dependence(j)  # type: ignore[misc]
            assert lo <= j and j + 2 <= hi  # the conv's taps from j, inside the pool's window


def test_cli_inspect_a_text_cnn(tmp_path: object, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    """``convtrace inspect`` on a text CNN with max over time: the adaptive pool's line, its
    length-dependent figures marked, in English and Chinese, and JSON; --lengths over it."""
    import json
    from pathlib import Path

    from convtrace.cli import main

    folder = Path(str(tmp_path))
    (folder / "textcnn.py").write_text(
        "import torch\nfrom torch import nn\nimport torch.nn.functional as F\n"
        "class TextCNN(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.emb = nn.Embedding(50, 8)\n"
        "        self.conv = nn.Conv1d(8, 4, 3, padding=1)\n"
        "    def forward(self, ids):\n"
        "        return F.adaptive_max_pool1d(torch.relu(self.conv(self.emb(ids).transpose(1, 2))), 1)\n"
    )
    monkeypatch.chdir(folder)
    assert main(["inspect", "textcnn:TextCNN", "--input-shape", "2,30", "--dtype", "int64"]) == 0
    text = capsys.readouterr().out
    assert "adaptive_max_pool1d" in text and "adaptivemaxpool o=1" in text and "W109" in text
    assert "* at this input length (30) only" in text
    assert main(["inspect", "textcnn:TextCNN", "--input-shape", "2,30", "--dtype", "int64", "--lang", "zh"]) == 0
    assert "自适应池化" in capsys.readouterr().out
    assert main(["inspect", "textcnn:TextCNN", "--input-shape", "2,30", "--dtype", "int64", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["length_dependent"] and doc["calls"][-1]["type"] == "adaptivemaxpool"
    assert doc["calls"][-1]["parameters"] == {"in_channels": 4, "output_size": 1}
    assert main(["inspect", "textcnn:TextCNN", "--input-shape", "2,30", "--dtype", "int64", "--lengths", "1..40"]) == 0
    out = capsys.readouterr().out
    assert "1..40 -> 1" in out and "none fixed" in out


@pytest.mark.parametrize(("name", "at"), [("pool", (0, 1, 3)), ("unpool", (0, 0, 5)), ("avg", (0, 1, 15)),
                                          ("lp", (0, 0, 2)), ("adaptive_avg", (0, 1, 4)), ("adaptive_max", (0, 0, 1))])  # fmt: skip
def test_explain_layer_explains_a_pool_of_the_model(name: str, at: tuple[int, int, int]) -> None:
    """``inspect --explain`` on a pool: ``explain(op=...)`` on the layer's actual input (and
    MaxUnpool1d's actual indices) gives PyTorch's value of the layer there."""
    from convtrace.inspect import explain_layer

    model = EveryPoolModule().double()
    result = explain_layer(model, name, at, (1, 1, 31), seed=2)
    x = torch.randn((1, 1, 31), generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    captured: list[torch.Tensor] = []
    module = dict(model.named_modules())[name]
    handle = module.register_forward_hook(lambda m, a, o: captured.append(o[0] if isinstance(o, tuple) else o))
    with torch.no_grad():
        model(x)
    handle.remove()
    assert result.match and result.torch_value == float(captured[0][at]) and result.value == pytest.approx(result.torch_value)
    assert "on its actual input" in str(result) and "PyTorch agrees" in str(result)
    assert "使用它实际的输入" in result.render("zh")
