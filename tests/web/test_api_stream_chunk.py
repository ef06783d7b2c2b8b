"""``POST /api/explain`` with ``stream_chunk`` / ``stream_push`` (issue 19, item 4): the same
JSON document as ``explain(...).to_json()``, and bad values refused in the same words as from
Python and the command line."""

from __future__ import annotations

import pytest

import convtrace
from convtrace.errors import ConvtraceError

SEED = {"input": [1, 1, 1, 1], "weight": [1, 1, 1], "padding": 1, "verify": False}


def test_explain_returns_the_stream_document(client):
    answer = client.post("/api/explain", json={**SEED, "stream_chunk": 2})
    assert answer.status_code == 200
    doc = answer.json()
    assert doc == convtrace.explain(**SEED, stream_chunk=2).to_json()
    assert [r["origin"] for r in doc["stream"]["outputs"][0]["reads"]] == ["cache", "cache", "new"]


def test_transposed_push_one(client):
    body = {**SEED, "transposed": True, "stride": 2, "bias": [0.5], "stream_chunk": 2, "stream_push": 1}
    doc = client.post("/api/explain", json=body).json()
    assert doc["stream"]["push"] == 1 and doc["stream"]["state_after"][0]["values"] == [1]


def test_draw_frame_of_the_loop(client):
    answer = client.post("/api/draw", json={**SEED, "stream_chunk": 2, "step": 2, "include_model": True})
    assert answer.status_code == 200
    assert "flush()" in answer.json()["svg"]


@pytest.mark.parametrize(("extra", "param"), [
    ({"stream_chunk": 0}, "stream_chunk"), ({"stream_chunk": -1}, "stream_chunk"), ({"stream_chunk": 2.5}, "stream_chunk"),
    ({"stream_chunk": "x"}, "stream_chunk"), ({"stream_chunk": 2, "stream_push": 3}, "stream_push"),
    ({"stream_chunk": 2, "stream_push": 0}, "stream_push"), ({"stream_push": 1}, "stream_push"),
])
def test_bad_values_get_the_rules_words(client, extra, param):
    answer = client.post("/api/explain", json={**SEED, **extra})
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    with pytest.raises(ConvtraceError) as info:
        convtrace.explain(**SEED, **extra)
    assert detail["param"] == param == info.value.param
    assert detail["message"] == str(info.value)


def test_circular_refused_by_the_api(client):
    answer = client.post("/api/explain", json={**SEED, "padding_mode": "circular", "stream_chunk": 2})
    assert answer.status_code == 422
    assert "circular padding needs the end of the signal before its first output" in answer.json()["detail"]["message"]


def test_each_frame_of_the_loop_in_words(client):
    details = [client.post("/api/draw", json={**SEED, "stream_chunk": 2, "step": k}).json()["detail"] for k in range(3)]
    assert details[0].splitlines()[1].startswith("Push 1 of 2")
    assert "y2 = 3: reads x1 (cache), x2 (cache), x3 (new)" in details[1]
    assert details[2].startswith("flush(): the end is known") and "y4 = 2" in details[2]
    zh = client.post("/api/draw", json={**SEED, "stream_chunk": 2, "step": 1, "lang": "zh"}).json()["detail"]
    assert "y2 = 3：读取 x1（缓存）, x2（缓存）, x3（新）" in zh
