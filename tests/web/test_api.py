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


@pytest.mark.parametrize("body", [
    {"input": [1] * 5000},
    {"input": [1] * 1000, "stride": 64, "kernel_size": 64, "dilation": 64, "transposed": True},
    {"input_shape": [8, 64, 1024]},
    {"input": [1, 2, 3], "kernel_size": 100000},
    {"input": [1, 2, 3], "output_size": 999999, "transposed": True},
    {"input": [[1] * 64] * 64, "out_channels": 64, "kernel_size": 64, "padding": 64},
    {"input": ["1e-999999"] * 50, "weight": ["1e-999999"] * 3},  # exact million-digit numbers: minutes of work
    {"input": [1, 2, 3], "kernel_size": 2, "bias": ["1E+5000"]},
])
def test_too_large_is_a_clear_422(client: Any, body: dict[str, Any]) -> None:
    start = time.monotonic()
    r = client.post("/api/explain", json=body)
    assert r.status_code == 422
    assert time.monotonic() - start < 2.0  # refused before any work
    detail = r.json()["detail"]  # the schema's own bounds too: worded as the server's, never FastAPI's list
    assert isinstance(detail, dict) and detail["param"] and "value" in detail and detail["rule"], detail
    assert detail["error"] in ("too_large", "invalid_configuration")
    if detail["error"] == "too_large":
        assert "larger than this server explains" in detail["message"] and detail["limit"] < detail["value"]
        assert detail["param"].split()[0] in body or detail["param"] in ("output elements", "multiply-adds"), detail


def test_draw_is_the_same_picture(client: Any) -> None:
    trace = convtrace.explain(**DEMO, verify=False)
    for step in (None, 0, 3):
        r = client.post("/api/draw", json={**DEMO, "step": step, "include_model": True})
        assert r.status_code == 200
        data = r.json()
        assert data["svg"] == render_svg(trace, step=step) and data["frames"] == 4
        assert data["model"]["width"] == data["width"]
    zh = client.post("/api/draw", json={**DEMO, "step": 0, "lang": "zh"}).json()
    assert "求和 = 0 + 1 + 1 = 2" in zh["svg"]
    bad = client.post("/api/draw", json={**DEMO, "step": 7})
    assert bad.status_code == 422 and "step" in bad.json()["detail"]["message"]


def test_snippet_runs_in_pytorch_and_reproduces_the_output(client: Any) -> None:
    torch = pytest.importorskip("torch")
    for body in (DEMO, {"input": [[1, "1/2", 3], [0, 1, 0]], "out_channels": 2, "kernel_size": 2, "stride": 2,
                        "transposed": True, "bias": [1, -1], "output_padding": 1}):
        code = client.post("/api/snippet", json=body).json()["code"]
        scope: dict[str, Any] = {}
        exec(compile(code.replace("print(y)", "pass"), "<snippet>", "exec"), scope)
        doc = client.post("/api/explain", json=body).json()
        assert np.allclose(scope["y"].detach().numpy(), np.array(doc["check"]["output"], dtype=float))
        assert scope["torch"] is torch


def test_torch_status_and_page(client: Any) -> None:
    status = client.get("/api/torch").json()
    assert isinstance(status["available"], bool) and status["message"]
    page = client.get("/")
    assert page.status_code == 200 and "convtrace explorer" in page.text
    for name in ("app.js", "style.css", "favicon.svg"):
        asset = client.get(f"/static/{name}")
        assert asset.status_code == 200 and len(asset.content) > 100
        text = asset.text.replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert "http://" not in text and "https://" not in text  # works offline: nothing from elsewhere
    schema = client.get("/openapi.json").json()
    assert {"/api/explain", "/api/draw", "/api/snippet", "/api/torch"} <= set(schema["paths"])


def test_page_holds_the_apis_answers_for_its_form_defaults(client: Any) -> None:
    """The page carries the first render inside (no request before the first figure): the
    same four documents the endpoints return, and its stylesheet and script inline."""
    import json
    import re

    from convtrace.web.app import PAGE_CONFIG

    text = client.get("/").text
    found = re.search(r'<script type="application/json" id="first-render">(.*?)</script>', text, re.S)
    assert found is not None
    embedded = json.loads(found.group(1))
    assert embedded["config"] == PAGE_CONFIG
    assert embedded["explain"] == client.post("/api/explain", json=PAGE_CONFIG).json()
    assert embedded["overview"] == client.post("/api/draw", json={**PAGE_CONFIG, "step": None}).json()
    assert embedded["step"] == client.post("/api/draw", json={**PAGE_CONFIG, "step": 0}).json()
    assert embedded["snippet"] == client.post("/api/snippet", json=PAGE_CONFIG).json()
    assert "<style>" in text and "function readConfig()" in text  # inline: no further request
    assert "</script" not in found.group(1) and "<" not in found.group(1)


def test_serve_binds_loopback_by_default() -> None:
    from convtrace.cli import build_parser

    args = build_parser().parse_args(["serve"])
    assert args.host == "127.0.0.1"
    assert build_parser().parse_args(["serve", "--host", "0.0.0.0"]).host == "0.0.0.0"


@pytest.fixture
def run_cli_json(capsys: pytest.CaptureFixture[str]) -> Any:
    from convtrace.cli import main

    def run(flags: list[str]) -> Any:
        assert main(["explain", *flags, "--json"]) == 0
        return json.loads(capsys.readouterr().out)

    return run


def test_planning_panel_endpoints(client: Any) -> None:
    from convtrace import plan
    from convtrace.render.plan_text import render_solve, render_stack

    text = "conv k=7 p=3; 4x(conv k=4 s=2 p=1)"
    r = client.post("/api/stack", json={"stack": text, "length": 16000})
    assert r.status_code == 200
    assert r.json()["text"] == render_stack(plan.analyse_stack(text, 16000))
    assert "receptive field 52, hop 16" in r.json()["text"]
    r = client.post("/api/solve", json={"goal": "up", "stride": 4, "kernel_sizes": "1..8"})
    assert r.status_code == 200
    assert r.json()["text"] == render_solve(plan.solve("up", stride=4, kernel_sizes=range(1, 9)))
    for body in ({"stack": "conv k=0"}, {"stack": "300x(conv k=3 p=1)"}, {"stack": "9999x(conv k=3)"}):
        r = client.post("/api/stack", json=body)
        assert r.status_code == 422 and r.json()["detail"]["message"], body
    for body in ({"goal": "down", "stride": 4, "kernel_sizes": "1..1000"}, {"goal": "length"},
                 {"goal": "undo", "conv": "conv k=3; conv k=3"}, {"goal": "down", "kernel_sizes": "x"}):
        start = time.monotonic()
        r = client.post("/api/solve", json=body)
        assert r.status_code == 422 and r.json()["detail"]["message"], body
        assert time.monotonic() - start < 2.0


def test_serve_refuses_a_busy_port_clearly(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    from convtrace.cli import main

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err and "Traceback" not in err
    assert main(["serve", "--port", "70000"]) == 2


# ------------------------------------------------------------------ issue 16: the same rules as the CLI


@pytest.mark.parametrize(("body", "flags"), [
    ({"input": "1,2,3:4,5,6", "kernel_size": 2}, ["--input", "1,2,3:4,5,6", "--kernel-size", "2"]),
    ({"input": "1,2,3::4,5,6", "weight": "1,-1;2,1/2", "kernel_size": 2, "bias": "1/3,-2"},
     ["--input", "1,2,3::4,5,6", "--weight", "1,-1;2,1/2", "--kernel-size", "2", "--bias", "1/3,-2"]),
    ({"input": "1,2:3,4::5,6:7,8", "kernel_size": 2, "out_channels": 3},
     ["--input", "1,2:3,4::5,6:7,8", "--kernel-size", "2", "--out-channels", "3"]),
    ({"input": "[[1, 2, 3], [4, 5, 6]]", "weight": "[[[1, 2]], [[3, 4]]]", "transposed": True},
     ["--input", "[[1, 2, 3], [4, 5, 6]]", "--weight", "[[[1, 2]], [[3, 4]]]", "--transposed"]),
])
def test_text_forms_are_read_as_the_command_line_reads_them(client: Any, run_cli_json: Any, body: dict[str, Any],
                                                             flags: list[str]) -> None:
    """Values typed as text (channels ``:``, batch items ``::``, rows of kernels ``;``, JSON)
    give the command line's document, numbers checked by PyTorch."""
    r = client.post("/api/explain", json=body)
    assert r.status_code == 200, r.json()
    doc, cli = r.json(), run_cli_json(flags)
    for d in (doc, cli):
        d["check"].pop("note", None)
    assert doc == cli
    assert doc["check"]["agree"] is True or doc["check"]["available"] is False


@pytest.mark.parametrize(("text", "rule"), [
    ("@/etc/passwd, 1", "files are not read over the web"),
    ("[[[[1]]]]", "arrays nest at most 3 levels"),
    ("1," + "9" * 100, "a number is at most 64 characters long"),
    ("1,2e999999", "input exponent"),
    ("1,2:3", "every channel must have the same length"),
    ("1,x,3", "'x' is not a number"),
])
def test_text_forms_refused_clearly(client: Any, text: str, rule: str) -> None:
    start = time.monotonic()
    r = client.post("/api/explain", json={"input": text})
    assert r.status_code == 422
    d = r.json()["detail"]
    assert d["param"].startswith("input") and (rule in d["rule"] or rule in d["param"]), d
    assert time.monotonic() - start < 2.0


def test_size_estimate_counts_the_padding_on_both_sides(client: Any) -> None:
    """800 samples padded by 200 on each side give 1200 outputs per channel: 16 channels are
    19200 elements, beyond the 16384 the server explains (padding counted once: 16016, not)."""
    r = client.post("/api/explain", json={"input_shape": [1, 1, 800], "out_channels": 16, "kernel_size": 1,
                                          "padding": 200, "verify": False})
    assert r.status_code == 422
    d = r.json()["detail"]
    assert d["error"] == "too_large" and d["param"] == "output elements", d
    assert 16 * 1200 <= d["value"] <= 16 * 1201 and d["limit"] == 16384, d
    ok = client.post("/api/explain", json={"input_shape": [1, 1, 800], "out_channels": 8, "kernel_size": 1,
                                           "padding": 200, "verify": False})
    assert ok.status_code == 200 and ok.json()["output_shape"] == [1, 8, 1200]


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
