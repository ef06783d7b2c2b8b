"""``convtrace.inspect`` on small models: every recorded length checked against the real
forward pass, functional calls and crops, weight norm, warnings, state restored."""

from __future__ import annotations

import json
import sys

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import convtrace
from convtrace.cli import main
from convtrace.errors import ConvtraceError
from convtrace.inspect import explain_layer, inspect_model, length_map
from convtrace.render.plan_text import to_json

NEEDS_TORCH = True


class Functional(nn.Module):
    """Calls F.pad, F.conv1d, F.max_pool1d, F.avg_pool1d, F.conv_transpose1d and crops in forward."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.randn(4, 1, 5))
        self.wt = nn.Parameter(torch.randn(4, 2, 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, (4, 0), mode="reflect")
        x = F.conv1d(x, self.w, stride=2)
        x = F.max_pool1d(x, 3, stride=2, padding=1, ceil_mode=True)
        x = F.avg_pool1d(x, 2)
        x = F.conv_transpose1d(x, self.wt, stride=2, padding=1)
        return x[..., 1:-2]


def _real_lengths(model: nn.Module, x: torch.Tensor) -> list[tuple[str, int, int]]:
    """(module name, in, out) of every conv/pool module, by plain forward hooks."""
    seen: list[tuple[str, int, int]] = []
    kinds = (nn.Conv1d, nn.ConvTranspose1d, nn.MaxPool1d, nn.AvgPool1d)
    handles = [
        m.register_forward_hook(lambda m, a, o, n=n: seen.append((n, a[0].shape[-1], o.shape[-1])))
        for n, m in model.named_modules() if isinstance(m, kinds)
    ]  # fmt: skip
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return seen


@pytest.mark.parametrize("length", [8, 9, 10, 31, 64])
def test_functional_calls_and_crops_are_recorded(length: int) -> None:
    model = Functional()
    report = inspect_model(model, (1, 1, length))
    assert [c.name for c in report.calls] == ["pad", "conv1d", "max_pool1d", "avg_pool1d", "conv_transpose1d", "crop"]
    x = torch.randn(1, 1, length)
    lengths = [length]
    y = F.pad(x, (4, 0), mode="reflect")
    lengths.append(y.shape[-1])
    y = F.conv1d(y, model.w, stride=2)
    lengths.append(y.shape[-1])
    y = F.max_pool1d(y, 3, stride=2, padding=1, ceil_mode=True)
    lengths.append(y.shape[-1])
    y = F.avg_pool1d(y, 2)
    lengths.append(y.shape[-1])
    y = F.conv_transpose1d(y, model.wt, stride=2, padding=1)
    lengths.append(y.shape[-1])
    lengths.append(y[..., 1:-2].shape[-1])
    assert [c.in_length for c in report.calls] == lengths[:-1]
    assert [c.out_length for c in report.calls] == [c.predicted_out_length for c in report.calls] == lengths[1:]
    assert report.output_length == model(x).shape[-1] and report.device == "meta" and report.chain


def test_a_text_cnn_on_token_ids() -> None:
    class TextCNN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(100, 16)
            self.convs = nn.ModuleList([nn.Conv1d(16, 8, k) for k in (3, 4, 5)])

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            x = self.embed(ids).transpose(1, 2)
            return torch.cat([F.max_pool1d(conv(x), conv(x).shape[-1]) for conv in self.convs], dim=1)

    report = convtrace.inspect(TextCNN(), (2, 30), dtype=torch.long)
    assert report.device == "meta" and report.error is None
    convs = [(c.name, c.in_length, c.out_length) for c in report.calls if c.type == "conv"]
    assert convs == [("convs.0", 30, 28)] * 2 + [("convs.1", 30, 27)] * 2 + [("convs.2", 30, 26)] * 2  # conv(x) twice
    pools = [c for c in report.calls if c.type == "maxpool"]
    assert [(p.in_length, p.out_length) for p in pools] == [(28, 1), (27, 1), (26, 1)]


def test_weight_norm_parametrized_conv_is_recorded_by_its_name() -> None:
    conv = nn.utils.parametrizations.weight_norm(nn.Conv1d(2, 3, 4, stride=2))
    model = nn.Sequential(conv, nn.ELU())
    report = inspect_model(model, (1, 2, 20))
    assert [(c.name, c.type, c.in_length, c.out_length) for c in report.calls] == [("0", "conv", 20, 9)]
    assert _real_lengths(model, torch.zeros(1, 2, 20)) == [("0", 20, 9)]


def test_state_hooks_and_modes_are_restored() -> None:
    model = nn.Sequential(nn.Conv1d(1, 2, 3), nn.Dropout(0.5), nn.BatchNorm1d(2))
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    inspect_model(model, (2, 1, 30))
    with pytest.raises(ConvtraceError):
        explain_layer(model, "nothing", (0, 0, 0), (1, 1, 30))
    explain_layer(model, "0", (0, 1, 5), (2, 1, 30))
    assert all(m.training for m in model.modules())
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())
    assert not torch._C._is_torch_function_mode_enabled()
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(not p.is_meta for p in model.parameters())


def test_a_model_that_meta_cannot_run_falls_back_and_says_so() -> None:
    class ItemModel(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv1d(1, 1, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            k = int(x.abs().sum().item()) % 2 + 1  # data-dependent: meta tensors have no values
            return self.conv(x)[..., : x.shape[-1] - k]

    report = inspect_model(ItemModel(), (1, 1, 12))
    assert report.device == "cpu" and [w.code for w in report.warnings][:1] == ["W201"]
    assert report.output_length == ItemModel()(torch.zeros(1, 1, 12)).shape[-1]


@pytest.mark.parametrize("kind", ["output_padding", "groups", "transposed_channels", "bias"])
def test_a_check_the_meta_device_skips_sends_us_to_a_real_run(kind: str) -> None:
    class Skips(nn.Module):  # meta accepts both calls; the CPU kernels reject them
        def __init__(self) -> None:
            super().__init__()
            self.w = nn.Parameter(torch.zeros(1, 1, 3) if kind == "output_padding" else torch.zeros(2, 1, 3))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if kind == "output_padding":
                return F.conv_transpose1d(x, self.w, stride=2, output_padding=2)
            if kind == "transposed_channels":
                return F.conv_transpose1d(x, self.w)
            if kind == "bias":
                return F.conv1d(x, self.w, torch.zeros(3))
            return F.conv1d(x, self.w, groups=3)

    channels = {"output_padding": 1, "groups": 3, "transposed_channels": 3, "bias": 1}[kind]
    with torch.device("meta"):
        Skips()(torch.zeros(1, channels, 5))  # no error on meta
    report = inspect_model(Skips(), (1, channels, 5), raise_on_error=False)
    assert report.device == "cpu" and report.output_length is None and report.error
    assert "W201" in [w.code for w in report.warnings]
    with pytest.raises(RuntimeError):
        Skips()(torch.zeros(1, channels, 5))


def test_errors_are_pytorchs_and_the_lengths_map_matches_real_runs() -> None:
    model = nn.Sequential(nn.Conv1d(1, 2, 10, stride=5), nn.Conv1d(2, 2, 3, stride=2))
    result = length_map(model, (1, 1, 100), [0, 1, 9, 10, 14, 15, 20, 24, 25, 99, 100, 101])
    for entry in result.entries:
        try:
            real: int | None = int(model(torch.zeros(1, 1, entry.length)).shape[-1])
        except RuntimeError:
            real = None
        assert entry.output_length == real, entry
        assert (entry.error is not None) == (real is None)
    assert result.hop == 10
    assert set(result.off_promise) == {e.length for e in result.entries
                                      if e.output_length is not None and e.output_length * 10 != e.length
                                      and abs(e.length / 10 - e.output_length) >= 1}  # fmt: skip


@pytest.mark.parametrize(
    ("model", "shape", "code"),
    [
        (nn.Conv1d(1, 1, 10, stride=5), (1, 1, 16003), "W101"),
        (nn.ConvTranspose1d(1, 1, 3, stride=2), (1, 1, 10), "W103"),
        (nn.Conv1d(1, 1, 4, padding="same"), (1, 1, 10), "W105"),
        (nn.Conv1d(1, 1, 9, padding=4, padding_mode="reflect"), (1, 1, 6), "W106"),
        (nn.Sequential(nn.Conv1d(1, 4, 3), nn.GroupNorm(1, 4)), (1, 1, 10), "W107"),
        (nn.Sequential(nn.Conv1d(1, 2, 4, stride=2), nn.ConvTranspose1d(2, 1, 4, stride=2)), (1, 1, 11), "W104"),
    ],
)
def test_warnings(model: nn.Module, shape: tuple[int, ...], code: str) -> None:
    report = inspect_model(model, shape)
    assert code in [w.code for w in report.warnings]
    doc = to_json(report)
    warning = next(w for w in doc["warnings"] if w["code"] == code)
    assert warning["message"] and "layer" in warning


def test_explain_layer_matches_pytorch() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv1d(2, 4, 3, padding=1), nn.Tanh(), nn.Conv1d(4, 3, 5, stride=2, groups=1, dilation=2),
                          nn.ConvTranspose1d(3, 2, 4, stride=2, padding=1))  # fmt: skip
    for layer, at in (("0", (0, 3, 0)), ("2", (1, 2, 3)), ("3", (0, 1, 7))):
        result = explain_layer(model, layer, at, (2, 2, 20))
        assert result.match, (layer, result.value, result.torch_value)


def test_batch_norm_in_eval_is_not_global_but_instance_norm_is() -> None:
    quiet = inspect_model(nn.Sequential(nn.Conv1d(1, 4, 3), nn.BatchNorm1d(4)), (1, 1, 10))
    assert "W107" not in [w.code for w in quiet.warnings]
    loud = inspect_model(nn.Sequential(nn.Conv1d(1, 4, 3), nn.InstanceNorm1d(4)), (1, 1, 10))
    assert "W107" in [w.code for w in loud.warnings]


def test_a_billion_parameter_model_on_meta_allocates_nothing() -> None:
    import resource

    with torch.device("meta"):
        model = nn.Sequential(nn.Conv1d(1, 8192, 16, stride=8), nn.Conv1d(8192, 8192, 15, padding=7))
    assert sum(p.numel() for p in model.parameters()) > 1_000_000_000
    unit = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * unit
    report = convtrace.inspect(model, (1, 1, 16000))
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * unit - before) / 2**20
    assert report.output_length == 1999 and report.device == "meta" and grown_mb < 200


def test_cli_inspect(tmp_path: object, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    (folder / "tinymodels.py").write_text(
        "from torch import nn\n"
        "def make(channels=2, stride=2):\n"
        "    return nn.Sequential(nn.Conv1d(1, channels, 4, stride=stride), nn.Conv1d(channels, 1, 3))\n"
    )
    monkeypatch.chdir(folder)
    assert main(["inspect", "tinymodels:make:channels=3", "--kwargs", '{"stride": 4}', "--input-shape", "1,1,100",
                 "--json"]) == 0  # fmt: skip
    doc = json.loads(capsys.readouterr().out)
    assert [c["name"] for c in doc["calls"]] == ["0", "1"] and doc["output_length"] == 23
    for key in ("name", "type", "in_length", "out_length", "receptive_field", "hop", "parameters"):
        assert key in doc["calls"][0]
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["inspect", "tinymodels:make", "--input-shape", "1,1,100"]) == 0
    text = capsys.readouterr().out
    assert max(len(line) for line in text.splitlines()) <= 80, text  # the table in blocks of columns
    assert text.count("┃ # ┃") >= 2 and "MACs" in text and "parameters" in text
    assert main(["inspect", "tinymodels:make", "--input-shape", "1,1,100", "--lengths", "0..3"]) == 0
    assert "error" in capsys.readouterr().out
    assert main(["inspect", "tinymodels:make", "--input-shape", "1,1,20", "--explain", "1", "--at", "0,0,2"]) == 0
    assert "(equal)" in capsys.readouterr().out
    for argv in (["inspect", "tinymodels:nope", "--input-shape", "1,1,9"], ["inspect", "nomodule:x", "--input-shape", "1"],
                 ["inspect", "tinymodels:make", "--input-shape", "a,b"],
                 ["inspect", "tinymodels:make", "--input-shape", "1,1,9", "--kwargs", "[1]"]):  # fmt: skip
        assert main(argv) == 2
        assert "Traceback" not in capsys.readouterr().err
