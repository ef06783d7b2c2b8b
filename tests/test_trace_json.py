"""``Trace.to_json()``: versioned, schema-valid, lossless for exact numbers."""

from __future__ import annotations

import json
from fractions import Fraction

import jsonschema
import numpy as np
import pytest

import convtrace
from convtrace.render.jsondoc import load_schema
from convtrace.trace import exact as ex
from convtrace.trace.model import SCHEMA_VERSION

VALIDATOR = jsonschema.Draft202012Validator(load_schema())


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(load_schema())


CONFIGS = [
    dict(input=[1, 1, 1, 1], weight=[1, 1, 1], padding=1),
    dict(input=["1/3", 2, "0.5", 1], weight=["1/2", 1], bias=["-1/3"], padding="same", padding_mode="reflect"),
    dict(input=np.arange(12.0).reshape(2, 2, 3), weight=np.ones((2, 1, 2)), groups=2, padding=1, padding_mode="circular"),
    dict(input=np.arange(10.0), weight=[1, 2, 3], stride=4),
    dict(input=np.ones((1, 1, 4)) * (1 + 2j), weight=np.ones((1, 1, 3)) * (1 - 1j), padding=1),
    dict(input=np.array([[1.5, np.nan, 2.0]]), weight=[1.0, 1.0]),
    dict(input=[1, 2, 3], weight=[1, 1, 1], transposed=True, stride=2, padding=1, output_padding=1, bias=True),
    dict(input=np.ones((2, 2, 3)), weight=np.ones((2, 1, 4)), transposed=True, groups=2, stride=2, output_size=[8]),
    dict(input=np.ones((1, 2, 100)), kernel_size=3, padding=1),
]


@pytest.mark.parametrize("cfg", CONFIGS)
def test_json_validates(cfg: dict) -> None:
    t = convtrace.explain(**cfg)
    doc = t.to_json()
    VALIDATOR.validate(doc)
    text = t.to_json(as_text=True, indent=2)
    assert json.loads(text) == json.loads(json.dumps(doc))
    assert "NaN" not in text and "Infinity" not in text  # strict JSON
    assert doc["schema_version"] == SCHEMA_VERSION
    assert doc["parameters"]["kernel_size"] == t.spec.kernel_size
    assert len(doc["steps"]) == len(t.steps)
    assert doc["length"]["result"] == t.spec.out_length


def test_json_keeps_fractions_exact() -> None:
    t = convtrace.explain(["1/3", 2, "0.5"], ["1/2", 1], bias=["-1/3"], verify=False)
    doc = t.to_json()
    assert doc["exact"] is True
    assert doc["input"] == [["1/3", 2, "1/2"]]
    s0 = doc["steps"][0]
    assert [u["product"] for u in s0["terms"]] == ["1/6", 2]
    assert s0["sum"] == "13/6" and s0["bias"] == "-1/3" and s0["value"] == "11/6"
    # read back exactly
    assert ex.from_json_number(s0["value"]) == Fraction(11, 6) == t.steps[0].value
    assert doc["exact_output"] == [["11/6", "7/6"]]
    assert doc["output"][0][0] == pytest.approx(11 / 6)


def test_json_terms_say_where_values_come_from() -> None:
    doc = convtrace.explain([1, 2, 3], [1, 1, 1], padding=2, padding_mode="reflect", verify=False).to_json()
    s0 = doc["steps"][0]
    assert [(u["source"], u["input_index"], u["padded_index"], u["kernel_index"]) for u in s0["terms"]] == [
        ("reflect", 2, 0, 0), ("reflect", 1, 1, 1), ("input", 0, 2, 2)
    ]
    assert doc["padded_row"]["complete"] is True
    assert [c["input_index"] for c in doc["padded_row"]["cells"]] == [2, 1, 0, 1, 2, 1, 0]


def test_json_complex_and_nonfinite() -> None:
    doc = convtrace.explain(np.ones((1, 1, 4)) * (1 + 2j), np.ones((1, 1, 3)) * (1 - 1j), padding=1, verify=False).to_json()
    assert doc["steps"][1]["terms"][0]["product"] == {"re": 3.0, "im": 1.0}
    doc = convtrace.explain(np.array([[1.5, np.inf, 2.0]]), [1.0, 1.0], verify=False).to_json()
    assert doc["output"] == [["inf", "inf"]]
    VALIDATOR.validate(doc)


def test_json_of_transposed_views() -> None:
    doc = convtrace.explain_transposed([1, 2, 3], [1, 1, 1], stride=2, padding=1, verify=False).to_json()
    v = doc["views"]
    assert v["scatter"]["crop_left"] == 1 and v["scatter"]["uneven"] is True
    assert v["scatter"]["placements"][0]["taps"][0] == {
        "out_channel": 0, "kernel_index": 0, "out_index": -1, "w": 1, "product": 1, "cropped": True
    }
    assert v["zero_insertion"]["output"] == doc["output"] == v["matrix"]["output"] == v["gradient"]["output"]
    assert all(v[k]["equal"] for k in ("scatter", "zero_insertion", "matrix", "gradient"))


def test_json_number_roundtrip() -> None:
    for v in [Fraction(1, 3), Fraction(-4), 0.1, 1e300, 2 + 3j, float("nan"), float("-inf")]:
        back = ex.from_json_number(ex.to_json_number(v))
        if isinstance(v, float) and v != v:
            assert back != back
        else:
            assert back == v
