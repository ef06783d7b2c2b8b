"""The explorer's JSON API: the same trace document as ``convtrace explain --json``, the
same picture as ``convtrace draw``, PyTorch's numbers, advice on invalid configurations,
and limits that answer 422 instead of working for ever."""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np
import pytest

import convtrace
from convtrace.draw import render_svg

DEMO: dict[str, Any] = {"input": [1, 1, 1, 1], "kernel_size": 3, "padding": 1}


def test_explain_is_the_cli_json_document(client: Any, run_cli_json: Any) -> None:
    for body, flags in (
        (DEMO, ["--input", "1,1,1,1", "--kernel-size", "3", "--padding", "1"]),
        ({"input": [1, 2, 3], "kernel_size": 3, "stride": 2, "transposed": True, "output_padding": 1},
         ["--input", "1,2,3", "--kernel-size", "3", "--stride", "2", "--transposed", "--output-padding", "1"]),
    ):
        r = client.post("/api/explain", json=body)
        assert r.status_code == 200
        doc = r.json()
        cli = run_cli_json(flags)
        for d in (doc, cli):
            d["check"].pop("note", None)
        assert doc == cli
        assert doc["check"]["agree"] is True or doc["check"]["available"] is False


def test_explain_numbers_are_pytorchs(client: Any) -> None:
    torch = pytest.importorskip("torch")
    body = {"input": [[1, 2, 3, 4, 5, 6]], "weight": [[[1, -1, 2]]], "stride": 2, "padding": 2,
            "padding_mode": "circular"}
    doc = client.post("/api/explain", json=body).json()
    m = torch.nn.Conv1d(1, 1, 3, stride=2, padding=2, padding_mode="circular", bias=False, dtype=torch.float64)
    with torch.no_grad():
        m.weight.copy_(torch.tensor([[[1.0, -1.0, 2.0]]], dtype=torch.float64))
        want = m(torch.tensor([[1.0, 2, 3, 4, 5, 6]], dtype=torch.float64)).numpy()
    assert np.array_equal(np.array(doc["output"], dtype=float), want)
    assert doc["check"]["available"] and doc["check"]["agree"]


def test_invalid_configuration_gets_rule_and_nearest_settings(client: Any) -> None:
    r = client.post("/api/explain", json={"input": [1, 2], "kernel_size": 5})
    assert r.status_code == 422
    d = r.json()["detail"]
    assert d["error"] == "invalid_configuration" and d["param"] == "input"
    assert "Kernel size can't be greater than actual input size" in d["pytorch"]
    assert d["rule"].startswith("the kernel (with dilation) must fit")
    assert "kernel_size <= 2" in d["suggestions"]
    for body in ({"input": [1, 2, 3], "stride": 0}, {"input": [1, 2, 3, 4], "groups": 3, "out_channels": 3},
                 {"input": [1, 2, 3], "padding": "sometimes"}, {"input": [[1, 2], [3]]},
                 {"input": [1, 2, 3], "kernel_size": 2, "padding_mode": "reflect", "padding": 5}):
        r = client.post("/api/explain", json=body)
        assert r.status_code == 422, body
        assert r.json()["detail"]["error"] == "invalid_configuration", r.json()


@pytest.mark.parametrize(("body", "limit"), [
    ({"input": [1] * 5000}, 4096), ({"input": [[1] * 10] * 600}, 512), ({"input": "1," * 40000}, 65536),
    ({"input": [1, 2, 3], "stride": 10**7}, 10**6),
    ({"input": [1, 2, 3], "kernel_size": "x"}, None), ({"input": [1, 2, 3], "padding_mode": "mirror"}, None),
    ({"input": {"a": 1}}, None), ({"input": [1, 2, 3], "unknown": 1}, None), ({"input": [1, 2, 3], "at": [0, 0]}, None),
    ({"input": [1, 2, 3], "max_steps": 0}, None), ({"input": [1, 2, 3], "transposed": "maybe"}, None),
    ({"input": [1, 2, 3], "lang": "fr"}, None),
])
def test_every_422_names_parameter_value_and_rule(client: Any, body: dict[str, Any], limit: int | None) -> None:
    """The schema's refusals are worded as every other error (no pydantic text): the
    parameter, its value and the rule; too large: the bound that matters (a list of 5000
    numbers is over the 4096 of a row, not the 64 of a batch)."""
    r = client.post("/api/explain", json=body)
    assert r.status_code == 422
    d = r.json()["detail"]
    assert isinstance(d, dict), d
    assert d["param"].split()[0] in body and d["rule"] and "value" in d, d  # "input", "input characters"
    assert "should" not in json.dumps(d), d  # pydantic's "Input should be ...", "List should have ..."
    if limit is not None:
        assert d["error"] == "too_large" and d["limit"] == limit and d["value"] > limit, d
    else:
        assert d["error"] == "invalid_configuration" and d["code"], d


def test_rules_suggestions_and_planner_in_chinese(client: Any) -> None:
    from convtrace.render.textwidth import display_width

    d = client.post("/api/explain", json={"input": [1, 2], "kernel_size": 5, "lang": "zh"}).json()["detail"]
    assert d["rule"].startswith("卷积核（含空洞）必须放得进补齐后的输入") and "输入长度 >= 5" in d["suggestions"]
    assert "Kernel size can't be greater" in d["pytorch"]  # PyTorch's own words stay as PyTorch says them
    d = client.post("/api/explain", json={"input": "1,2:3", "lang": "zh"}).json()["detail"]
    assert d["rule"] == "--input：每个通道的长度必须相同，每个批次元素的通道数也必须相同"
    r = client.post("/api/stack", json={"stack": "conv k=7 p=3; 4x(conv k=4 s=2 p=1)", "lang": "zh", "width": 40})
    text = r.json()["text"]
    assert text.startswith("层栈作用于") and "感受野 52" in text.replace("\n", "")
    assert max(display_width(line) for line in text.splitlines()) <= 40
    assert client.post("/api/solve", json={"goal": "down", "stride": 4, "lang": "zh"}).json()["text"].startswith("求解 down")
    d = client.post("/api/stack", json={"stack": "conv k=0", "lang": "zh"}).json()["detail"]
    assert d["param"] == "kernel_size" and d["value"] == "0" and d["rule"] == "kernel_size 必须 >= 1"


def test_steps_are_worded_and_named_as_the_command_line(client: Any) -> None:
    from convtrace import explain
    from convtrace.render.text import render_text

    body = {"input": "1,2,3:4,5,6", "weight": "[[[1, 2], [3, 4]], [[5, 6], [7, 8]]]", "kernel_size": 2}
    text = render_text(explain([[1, 2, 3], [4, 5, 6]], [[[1, 2], [3, 4]], [[5, 6], [7, 8]]], verify=False))
    for step in range(4):
        detail = client.post("/api/draw", json={**body, "step": step}).json()["detail"]
        assert detail.startswith(f"Step {step + 1}: y[") and detail in text, detail
    assert "x[2][1] × w[1][2][1] = 4 × 3 = 12" in client.post("/api/draw", json={**body, "step": 0}).json()["detail"]
