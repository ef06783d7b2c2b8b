"""The explorer's API for the pools (issue 17): the same picture as ``convtrace draw``, the
same 422 as Python and the command line (the resolver's words), runnable PyTorch code that
prints PyTorch's numbers, and bounds that answer 422."""

from __future__ import annotations

import contextlib
import io
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import convtrace
from convtrace import ConvtraceError
from convtrace.draw import frame_count, render_svg
from convtrace.render.text import step_text

AVG_CEIL: dict[str, Any] = {"op": "avg_pool1d", "input": "1,2,3,4,5,6", "kernel_size": 3, "stride": 2, "padding": 1,
                            "ceil_mode": True}
PYTHON_AVG_CEIL: dict[str, Any] = dict(AVG_CEIL, input=[1, 2, 3, 4, 5, 6])

#: requests every pool path rejects, with the Python call that must give the same error
INVALID: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({"op": "max_pool1d", "input": "1,2,3,4", "kernel_size": 3, "padding": 2, "dilation": 2},
     dict(op="max_pool1d", input=[1, 2, 3, 4], kernel_size=3, padding=2, dilation=2)),  # dilation ignored: p <= k/2
    ({"op": "avg_pool1d", "input": "1,2,3", "kernel_size": 2, "stride": 0},
     dict(op="avg_pool1d", input=[1, 2, 3], kernel_size=2, stride=0)),
    ({"op": "avg_pool1d", "input": "1,2,3", "kernel_size": 5},
     dict(op="avg_pool1d", input=[1, 2, 3], kernel_size=5)),
    ({"op": "avg_pool1d", "input": "1,2,3", "kernel_size": 2, "dilation": 2},
     dict(op="avg_pool1d", input=[1, 2, 3], kernel_size=2, dilation=2)),
    ({"op": "adaptive_avg_pool1d", "input": "1,2,3"}, dict(op="adaptive_avg_pool1d", input=[1, 2, 3])),
    ({"op": "max_unpool1d", "input": "5,7", "indices": "0,9", "kernel_size": 2},
     dict(op="max_unpool1d", input=[5, 7], indices=[0, 9], kernel_size=2)),
]


def _python_error(call: dict[str, Any]) -> ConvtraceError:
    with pytest.raises(ConvtraceError) as info:
        convtrace.explain(**call, verify=False)
    return info.value


@pytest.mark.parametrize(("body", "call"), INVALID, ids=[b["op"] + str(i) for i, (b, _) in enumerate(INVALID)])
def test_invalid_pool_gets_the_resolvers_words(client: Any, body: dict[str, Any], call: dict[str, Any]) -> None:
    err = _python_error(call)
    for path in ("/api/explain", "/api/draw", "/api/snippet"):
        r = client.post(path, json=body)
        assert r.status_code == 422, (path, r.text)
        d = r.json()["detail"]
        assert d["error"] == "invalid_configuration" and d["param"] == err.param, d
        # the rule as PyTorch (or the resolver) words it, the same text Python raises
        assert d["pytorch"] == err.rule or d["pytorch"].startswith(err.rule), (d, err.rule)


def test_draw_is_the_picture_of_convtrace_draw(client: Any) -> None:
    trace = convtrace.explain(**PYTHON_AVG_CEIL, verify=False)
    for step in (None, 0, 3):
        r = client.post("/api/draw", json={**AVG_CEIL, "step": step})
        assert r.status_code == 200, r.text
        data = r.json()
        assert data["svg"] == render_svg(trace, step=step)
        assert data["frames"] == frame_count(trace) == 4
    r = client.post("/api/draw", json={**AVG_CEIL, "step": 3, "include_model": True, "lang": "zh"})
    data = r.json()
    roles = set()

    def visit(items: list[dict[str, Any]]) -> None:
        for item in items:
            roles.add(item.get("role"))
            visit(item.get("items", []))

    visit(data["model"]["items"])
    assert {"overhang", "zero", "window", "read", "excluded", "current"} <= roles
    assert "平均 = (6 + 0) / 2 = 3" in data["svg"]
    assert data["detail"] == step_text(trace, 3, "zh")  # the step as `convtrace explain --lang zh` writes it
    assert "除数" in data["detail"]


def test_a_pool_keeps_pytorchs_defaults(client: Any) -> None:
    # only the arguments sent reach the pool: its stride defaults to kernel_size (not the
    # convolution's 1), and no convolution argument is passed on
    body = {"op": "max_pool1d", "input": "1,2,3,4,5,6", "kernel_size": 2}
    assert client.post("/api/draw", json=body).json()["frames"] == 3
    code = client.post("/api/snippet", json=body).json()["code"]
    assert "torch.nn.MaxPool1d(kernel_size=2, stride=2)" in code, code
    r = client.post("/api/draw", json={**body, "groups": 2})
    assert r.status_code == 422 and r.json()["detail"]["param"] == "groups"


def test_every_pool_draws_and_says_its_frames(client: Any) -> None:
    bodies = [
        {"op": "max_pool1d", "input": "1,3,2,5,4", "kernel_size": 2, "ceil_mode": True},
        {"op": "lp_pool1d", "input": "1,1,1,1,1", "norm_type": 2, "kernel_size": 2, "ceil_mode": True},
        {"op": "adaptive_avg_pool1d", "input": "1,2,3,4,5", "output_size": 3},
        {"op": "adaptive_max_pool1d", "input": "1,2,3,4,5", "output_size": 3, "return_indices": True},
        {"op": "max_unpool1d", "input": "5,7,9", "indices": "1,1,4", "kernel_size": 2, "output_size": [6]},
    ]
    for body in bodies:
        overview = client.post("/api/draw", json=body).json()
        assert overview["frames"] == 3, body
        assert overview["outputs"]["elements"] == (6 if body["op"] == "max_unpool1d" else 3)
        last = client.post("/api/draw", json={**body, "step": 2}).json()
        assert "<svg" in last["svg"] and last["detail"], body
    # a landing in words: the step of the output it lands on, as the command line writes it
    unpool = client.post("/api/draw", json={**bodies[-1], "step": 1}).json()
    assert unpool["detail"].splitlines()[0] == "Step 2: y2" and "x1, x2" in unpool["detail"]
    unpool = client.post("/api/draw", json={**bodies[-1], "step": 2}).json()  # x3 lands on index 4
    assert unpool["detail"].splitlines()[0] == "Step 5: y5"
    first_max = client.post("/api/draw", json={**bodies[0], "step": 0}).json()
    assert first_max["detail"].splitlines()[0] == "Step 1: y1" and "y1 = 3" in first_max["detail"]


def test_a_long_unpool_words_every_landing(client: Any) -> None:
    # 64 values on 128 outputs: only some outputs are explained, every landing is a frame
    body = {"op": "max_unpool1d", "input": ",".join(str(i) for i in range(64)),
            "indices": ",".join(str(2 * i + 1) for i in range(64)), "kernel_size": 2, "verify": False}
    overview = client.post("/api/draw", json=body).json()
    assert overview["frames"] == 64 and not overview["outputs"]["complete"]
    for step in (0, 10, 63):
        data = client.post("/api/draw", json={**body, "step": step}).json()
        assert data["detail"], (step, data)
    assert client.post("/api/draw", json={**body, "step": 10}).json()["detail"] == "x11 = 10 → index 21 = y22"


@pytest.mark.parametrize("body", [
    dict(AVG_CEIL, count_include_pad=False),
    {"op": "max_pool1d", "input": "1,3,2,5,4,0", "kernel_size": 3, "stride": 1, "padding": 1, "dilation": 2},
    {"op": "lp_pool1d", "input": "1,-2,3,4,5", "norm_type": 3, "kernel_size": 2, "ceil_mode": True},
    {"op": "adaptive_max_pool1d", "input": "1,2,3,4,5", "output_size": 3},
    {"op": "max_unpool1d", "input": "5,7,9", "indices": "1,1,4", "kernel_size": 2, "output_size": [6]},
], ids=lambda b: b["op"])
def test_snippet_prints_pytorchs_answer(client: Any, body: dict[str, Any]) -> None:
    torch = pytest.importorskip("torch")
    code = client.post("/api/snippet", json=body).json()["code"]
    out = io.StringIO()
    scope: dict[str, Any] = {}
    with contextlib.redirect_stdout(out):
        exec(compile(code, "<snippet>", "exec"), scope)
    y = scope["y"]
    assert isinstance(y, torch.Tensor)
    doc = client.post("/api/draw", json=body).json()
    assert doc["frames"] >= 1
    want = convtrace.explain(**{**body, "input": [float(v) for v in body["input"].split(",")],
                                **({"indices": [int(v) for v in body["indices"].split(",")]} if "indices" in body
                                   else {})}, verify=False)
    shown = np.array([float(s.value) for s in want.steps], dtype=float)
    np.testing.assert_allclose(y.numpy().reshape(-1), shown, rtol=1e-12, equal_nan=True)
    if "# tensor(" in code:  # the comment states the same numbers
        assert code.splitlines()[-1].split("# ")[1].startswith("tensor(")


@pytest.mark.parametrize("body", [
    {"op": "adaptive_avg_pool1d", "input": [1] * 1000, "output_size": 60000},
    {"op": "max_unpool1d", "input": [1] * 1000, "indices": list(range(1000)), "kernel_size": 64, "stride": 64},
    {"op": "avg_pool1d", "input": [1] * 5000, "kernel_size": 2},
])
def test_pool_beyond_the_servers_bounds_is_422(client: Any, body: dict[str, Any]) -> None:
    r = client.post("/api/draw", json=body)
    assert r.status_code == 422, r.text[:300]
    assert r.json()["detail"]["error"] == "too_large"


OPS = ("max_pool1d", "avg_pool1d", "lp_pool1d", "adaptive_avg_pool1d", "adaptive_max_pool1d", "max_unpool1d")


@settings(max_examples=60, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(op=st.sampled_from(OPS), length=st.integers(0, 7), kernel=st.integers(-1, 4), stride=st.none() | st.integers(-1, 4),
       padding=st.integers(-1, 3), dilation=st.integers(0, 3), ceil=st.booleans(), size=st.none() | st.integers(-1, 9),
       norm=st.sampled_from([1.0, 2.0, 3.0, 0.0, -1.0]), shift=st.integers(-2, 3))
def test_any_pool_request_is_answered_never_a_server_error(client: Any, op: str, length: int, kernel: int,
                                                           stride: int | None, padding: int, dilation: int, ceil: bool,
                                                           size: int | None, norm: float, shift: int) -> None:
    body: dict[str, Any] = {"op": op, "input": [float(i % 3) - 1 for i in range(length)] or [[]], "verify": False}
    if not op.startswith("adaptive"):
        body.update(kernel_size=kernel, **({"stride": stride} if stride is not None else {}))
    if op in ("max_pool1d", "avg_pool1d", "max_unpool1d"):
        body["padding"] = padding
    if op == "max_pool1d":
        body["dilation"] = dilation
    if op in ("max_pool1d", "avg_pool1d", "lp_pool1d"):
        body["ceil_mode"] = ceil
    if op == "lp_pool1d":
        body["norm_type"] = norm
    if op.startswith("adaptive"):
        body["output_size"] = size
    elif op == "max_unpool1d" and size is not None:
        body["output_size"] = [size]  # a sequence, as PyTorch's max_unpool1d takes it
    if op == "max_unpool1d":
        body["indices"] = [max(0, 2 * i + shift) for i in range(length)] or [[]]
    for path in ("/api/draw", "/api/snippet"):
        r = client.post(path, json=body)
        assert r.status_code in (200, 422), (path, body, r.text[:300])
        if r.status_code == 422:
            assert r.json()["detail"]["error"] in ("invalid_configuration", "too_large"), r.json()


@pytest.mark.parametrize(("body", "nearest"), [
    ({"op": "avg_pool1d", "input": "1,2,3,4,5,6", "kernel_size": 3, "padding": 2}, ["padding=1"]),
    ({"op": "avg_pool1d", "input": "1,2,3", "kernel_size": 2, "stride": 0}, ["stride=1"]),
    ({"op": "max_pool1d", "input": "1,2,3", "kernel_size": 5}, ["kernel_size=3"]),
])
def test_invalid_pool_gets_the_nearest_valid_settings(client: Any, body: dict[str, Any], nearest: list[str]) -> None:
    for lang in ("en", "zh"):
        r = client.post("/api/explain", json={**body, "lang": lang})
        assert r.status_code == 422
        assert r.json()["detail"]["suggestions"] == nearest
    # each suggestion is valid, and the resolver's own answer
    name, value = nearest[0].split("=")
    assert client.post("/api/draw", json={**body, name: int(value), "verify": False}).status_code == 200
