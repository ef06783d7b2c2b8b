"""``convtrace.Explorer`` in Python: the documents it answers are the explorer API's, its
traits are explain's keyword arguments, its bundle carries a static figure, it ships its
front end, and without anywidget it says which extra to install."""

from __future__ import annotations

import base64
import struct
import subprocess
import sys
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from hidden import hiding

pytest.importorskip("anywidget")

import convtrace
from convtrace.errors import ConvtraceTypeError
from convtrace.notebook.widget import CONFIG_KEYS, Explorer, answer
from convtrace.web.assets import static_path

SEED = {"input": [1, 1, 1, 1], "kernel_size": 3, "padding": 1}

#: valid and invalid configurations of every kind, as the page sends them
REQUESTS: list[dict[str, Any]] = [
    {**SEED, "transposed": False, "padding_mode": "zeros"},
    {"input": "1,2,3:4,5,6", "out_channels": 2, "kernel_size": 2, "stride": 2, "transposed": True, "bias": "1,-1"},
    {"op": "max_pool1d", "input": [3, 1, 4, 1, 5, 9, 2], "kernel_size": 3, "stride": 2, "padding": 1},
    {"op": "avg_pool1d", "input": [1, 2, 3, 4, 5], "kernel_size": 2, "ceil_mode": True},
    {"op": "max_unpool1d", "input": [5, 7], "indices": [1, 3], "kernel_size": 2},
    {"input": [1, 2], "kernel_size": 3},  # invalid: the kernel does not fit
    {"op": "avg_pool1d", "input": [1, 2, 3], "kernel_size": 2, "padding": 2},  # invalid: pad > half the kernel
    {"input": [1, 2, 3], "kernel_size": 2, "lang": "zh", "stride": 0},  # invalid, in Chinese
]


@pytest.mark.parametrize("body", REQUESTS)
def test_answers_are_the_apis_documents(client: Any, body: dict[str, Any]) -> None:
    for what, extra in (("explain", {}), ("draw", {"step": None}), ("draw", {"step": 1}), ("snippet", {})):
        api = client.post(f"/api/{what}", json={**body, **extra})
        mine = answer(what, {**body, **extra})
        assert (mine["ok"], mine["status"]) == (api.status_code == 200, api.status_code), (what, body)
        want = api.json()
        assert mine["data"] == want, (what, body)  # the document, or the 422 detail
    assert answer("torch", {})["data"] == client.get("/api/torch").json()


def test_traits_are_explains_keyword_arguments() -> None:
    w = Explorer(**SEED)
    assert w.trace.to_json(as_text=True) == convtrace.explain(**SEED).to_json(as_text=True)
    state = w.get_state()
    assert set(CONFIG_KEYS) <= set(state) and state["_keys"] == list(CONFIG_KEYS)
    assert {k: state[k] for k in SEED} == SEED and state["step"] == 0 and state["lang"] == "en"
    # NumPy arrays and exact fractions travel as JSON (a list; the text '1/3', read exactly)
    x = np.array([[1.0, 2.0, 3.0]])
    w = Explorer(input=x, weight=[Fraction(1, 3), 1], transposed=True, stride=2)
    assert w.get_state()["input"] == [[1.0, 2.0, 3.0]] and w.get_state()["weight"] == ["1/3", 1]
    want = convtrace.explain(x, np.array([[[1 / 3, 1.0]]]), transposed=True, stride=2, verify=False)
    assert np.allclose(w.trace.output, want.output)
    pool = Explorer(op="lp_pool1d", input=[1, 2, 3, 4], norm_type=2, kernel_size=2)
    assert np.allclose(pool.trace.output.ravel(), [5 ** 0.5, 5.0])
    with pytest.raises(ConvtraceTypeError, match=r"kernal_size.*not an argument of convtrace.explain.*kernel_size"):
        Explorer(input=[1, 2], kernal_size=3)


def test_invalid_setting_has_the_apis_advice() -> None:
    w = Explorer(input=[1, 2], kernel_size=3)
    assert w.trace is None
    assert w.error == answer("explain", {"input": [1, 2], "kernel_size": 3})["data"]["detail"]
    assert w.error["param"] == "input" and w.error["suggestions"]
    w.kernel_size = 2
    assert w.error is None and w.trace.output.ravel().tolist() == [3.0]


def test_streaming_chunk_is_passed_on() -> None:
    """``stream_chunk`` is a trait; explain says whether this version streams."""
    w = Explorer(**SEED, stream_chunk=2)
    assert w.get_state()["stream_chunk"] == 2
    reply = answer("explain", {**SEED, "stream_chunk": 2})
    if reply["ok"]:
        assert w.trace is not None
    else:
        assert w.error is not None and w.error["param"] == "stream_chunk" and w.trace is None


def test_bundle_has_a_static_figure_beside_the_widget() -> None:
    from convtrace.draw import build_figure
    from convtrace.draw.svg import figure_to_svg

    w = Explorer(**SEED, step=2)
    data, meta = w._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    assert data["text/plain"] == repr(w)  # the widget's own, not the figure's title
    figure = build_figure(w.trace, 2)  # the step the widget shows
    assert data["image/svg+xml"] == figure_to_svg(figure)
    if "image/png" in data:  # base64 text, drawn at 2x and sized by its metadata to the figure
        raw = base64.b64decode(data["image/png"])
        assert raw[:8] == b"\x89PNG\r\n\x1a\n"
        assert meta["image/png"] == {"width": round(figure.width), "height": round(figure.height)}
        assert struct.unpack(">I", raw[16:20])[0] == 2 * round(figure.width)
        # nbconvert's HTML export and an untrusted notebook show this: the PNG as an <img>
        assert f'<img src="data:image/png;base64,{data["image/png"]}" width="{round(figure.width)}"' in data["text/html"]
        assert "<svg" not in data["text/html"]
    else:
        pytest.importorskip("cairosvg")
        pytest.fail("cairosvg is installed but the bundle has no PNG")
    data, meta = w._repr_mimebundle_(exclude=["image/png", "text/html"])
    assert "image/png" not in data and "text/html" not in data and meta == {} and "image/svg+xml" in data
    w.kernel_size = 9  # invalid: no stale picture
    data, meta = w._repr_mimebundle_()
    assert not {"image/svg+xml", "image/png", "text/html"} & set(data) and meta == {}


def test_front_end_ships_in_the_package_offline() -> None:
    w = Explorer(**SEED)
    esm, css = w.get_state()["_esm"], w.get_state()["_css"]
    assert css == static_path("style.css").read_text(encoding="utf-8")
    for name in ("explorer.js", "widget.js"):  # the shared module and the notebook adapter, joined
        body = static_path(name).read_text(encoding="utf-8")
        assert body.split('import { mount } from "./explorer.js";')[-1].strip()[-200:] in esm
    assert "export function mount(" in esm and "export default { render }" in esm
    assert 'from "./' not in esm  # one module: nothing to fetch beside it
    assert "http://" not in esm + css and "https://" not in esm + css


NO_ANYWIDGET = hiding("anywidget") + """
import convtrace
try:
    convtrace.Explorer
except ImportError as exc:
    print("ERROR:", exc)
"""


def test_without_anywidget_the_error_names_the_extra() -> None:
    out = subprocess.run([sys.executable, "-c", NO_ANYWIDGET], capture_output=True, text=True, timeout=120, check=True)
    assert "ERROR: convtrace.Explorer needs anywidget (the notebook extra): pip install 'convtrace[notebook]'" in out.stdout
