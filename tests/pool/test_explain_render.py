"""A pool's trace shown: text (English and Chinese say the same numbers), JSON (schema 1.2,
valid for every op, taps and reductions as data), HTML, and the streamed parts."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import numpy as np
import pytest

import convtrace
from convtrace.explainer import PoolTrace
from convtrace.render.jsondoc import load_schema
from convtrace.render.text import render_text, step_text
from convtrace.trace.model import SCHEMA_VERSION

VALIDATOR = jsonschema.Draft202012Validator(load_schema())

CALLS: list[dict[str, Any]] = [
    dict(op="max_pool1d", input=[1, 3, 2, 5, 4], kernel_size=2, ceil_mode=True, return_indices=True),
    dict(op="max_pool1d", input=np.arange(12.0).reshape(2, 2, 3), kernel_size=2, stride=1, padding=1),
    dict(op="avg_pool1d", input=[1, 2, 3, 4, 5, 6], kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(op="avg_pool1d", input=["1/3", 1, 2], kernel_size=2, count_include_pad=False, padding=1),
    dict(op="lp_pool1d", input=[1, 1, 1, 1, 1], norm_type=2, kernel_size=2, ceil_mode=True),
    dict(op="lp_pool1d", input=[1.5, -2.0, 3.0], norm_type=3, kernel_size=2, ceil_mode=True),
    dict(op="adaptive_avg_pool1d", input=[1, 2, 3, 4, 5], output_size=3),
    dict(op="adaptive_max_pool1d", input=[1, 2], output_size=3, return_indices=True),
    dict(op="max_unpool1d", input=[5, 7, 1], indices=[1, 1, 4], kernel_size=2),
    dict(op="avg_pool1d", input=list(range(300)), kernel_size=2),  # a summary
]


@pytest.mark.parametrize("call", CALLS, ids=lambda c: c["op"])
def test_json_is_valid_and_says_the_steps(call: dict[str, Any]) -> None:
    t = convtrace.explain(**call, verify=False)
    assert isinstance(t, PoolTrace)
    doc = t.to_json()
    VALIDATOR.validate(doc)
    json.dumps(doc, allow_nan=False)  # strict JSON
    assert doc["schema_version"] == SCHEMA_VERSION == "1.3" and doc["op"] == call["op"]
    for step, s in zip(doc["steps"], t.steps):
        assert step["reduction"] == s.reduction.value
        assert [term["tap"] for term in step["terms"]] == [term.tap.value for term in s.terms if term.tap]
        assert step["pool"]["divisor"] == (s.pool.divisor if s.pool else None)
    if call["op"] in ("max_pool1d", "avg_pool1d", "lp_pool1d"):
        cells = doc["padded_row"]["cells"]
        assert [c["position"] for c in cells] == list(range(len(cells)))
        assert {c["tap"] for c in cells} <= {"real", "left_pad", "right_pad", "overhang"}
        assert [c["input_index"] for c in cells if c["tap"] == "real"] == list(range(t.spec.length))


def test_json_of_the_issues_average() -> None:
    doc = convtrace.explain(**CALLS[2], verify=False).to_json()
    last = doc["steps"][-1]
    assert last["pool"]["counts"] == {"real": 1, "left_pad": 0, "right_pad": 1, "overhang": 1}
    assert (last["pool"]["divisor"], last["sum"], last["value"]) == (2, 6, 3)
    assert [c["source"] for c in doc["padded_row"]["cells"]][-2:] == ["zero", "none"]


@pytest.mark.parametrize("call", CALLS[:-1], ids=lambda c: c["op"])
def test_english_and_chinese_state_the_same_numbers(call: dict[str, Any]) -> None:
    """Each step's lines carry the same numbers in both languages (only words differ)."""
    t = convtrace.explain(**call, verify=False)
    for i in range(len(t.steps)):
        en, zh = step_text(t, i, "en"), step_text(t, i, "zh")
        assert re.search(r"[\u4e00-\u9fff]", zh) and not re.search(r"[\u4e00-\u9fff]", en)
        numbers = [re.findall(r"-?\d+(?:\.\d+)?(?:/\d+)?|nan|inf", line) for line in (en, zh)]
        assert sorted(numbers[0]) == sorted(numbers[1]), (en, zh)


def test_html_marks_the_winner_padding_and_overhang() -> None:
    t = convtrace.explain(op="max_pool1d", input=[1, 3, 2, 5], kernel_size=3, stride=2, padding=1, ceil_mode=True,
                          verify=False)
    page = t._repr_html_()
    assert page.startswith('<div class="convtrace">') and page.count('class="win"') == len(t.steps)
    assert 'class="pad"' in page and "<script" not in page
    avg = convtrace.explain(**CALLS[2], verify=False)._repr_html_()
    assert 'class="over"' in avg and "divisor = 2" in avg


def test_render_parts_stream_the_check_last() -> None:
    pytest.importorskip("torch")
    t = convtrace.explain(**CALLS[0], verify=False)
    parts = list(t.render_parts(verify=True))
    assert len(parts) == 2 and parts[1].startswith("PyTorch check:")
    assert "".join(parts) == t.with_check().render()
    assert "PyTorch's indices: [[1, 3, 4]] — the same as the winners above" in parts[1]


def test_text_at_and_summary() -> None:
    t = convtrace.explain(op="avg_pool1d", input=list(range(300)), kernel_size=2, verify=False)
    text = render_text(t)
    assert "The output has 150 elements" in text and "Step 4: y150 (PyTorch index [0, 149])" in text
    one = convtrace.explain(op="max_pool1d", input=[[1, 2, 3, 4]], kernel_size=2, at=(0, 1), verify=False)
    assert [s.out_index for s in one.steps] == [1] and "PyTorch index [0, 1]" in one.render()


def test_json_check_carries_pytorchs_indices() -> None:
    pytest.importorskip("torch")
    doc = convtrace.explain(**CALLS[0]).to_json()
    VALIDATOR.validate(doc)
    assert doc["check"]["indices"] == [[1, 3, 4]] and doc["check"]["indices_agree"] is True
    assert doc["check"]["agree"] is True and "indices" not in convtrace.explain(**CALLS[2]).to_json()["check"]
