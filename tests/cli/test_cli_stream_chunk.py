"""``convtrace explain --stream --chunk N --push P`` (issue 19, item 4): goldens of the seed's
example (Conv1d and ConvTranspose1d, English and Chinese, text and JSON), the schema, and the
errors, in the same words as from Python."""

from __future__ import annotations

import json

import pytest

from convtrace.render.jsondoc import load_schema

STREAM_CASES = {
    "stream_seed": "--input 1,1,1,1 --kernel-size 3 --padding 1 --stream --chunk 2",
    "stream_seed_zh": "--input 1,1,1,1 --kernel-size 3 --padding 1 --stream --chunk 2 --lang zh",
    "stream_seed_push1": "--input 1,1,1,1 --kernel-size 3 --padding 1 --stream --chunk 2 --push 1",
    "stream_transposed": "--input 1,1,1,1 --kernel-size 3 --stride 2 --padding 1 --transposed --bias 0.5 --stream --chunk 2",
    "stream_transposed_zh": "--input 1,1,1,1 --kernel-size 3 --stride 2 --padding 1 --transposed --bias 0.5 --stream --chunk 2 --lang zh",
    "stream_reflect": "--input 1,2,3,4,5,6 --weight 1,10,100 --padding 2 --padding-mode reflect --stream --chunk 2",
}


@pytest.mark.parametrize("name", sorted(STREAM_CASES))
def test_stream_text(run_cli, golden, name):
    code, out, err = run_cli("explain", "--no-verify", *STREAM_CASES[name].split())
    assert code == 0, err
    golden(f"explain_{name}.txt", out)


@pytest.mark.parametrize("name", ["stream_seed", "stream_transposed", "stream_reflect"])
def test_stream_json(run_cli, golden, name):
    import jsonschema

    code, out, err = run_cli("explain", "--no-verify", "--json", *STREAM_CASES[name].split())
    assert code == 0, err
    doc = json.loads(out)
    jsonschema.validate(doc, load_schema())
    assert doc["stream"]["push"] == 2 and doc["schema_version"] == "1.3"
    golden(f"explain_{name}.json", out)


def test_seed_json_says_cache_and_new():
    from convtrace import explain

    doc = explain([1, 1, 1, 1], [1, 1, 1], padding=1, stream_chunk=2, verify=False).to_json()
    reads = doc["stream"]["outputs"][0]["reads"]
    assert [(r["position"], r["origin"]) for r in reads] == [(1, "cache"), (2, "cache"), (3, "new")]
    assert doc["stream"]["state_before"][-1]["array"] == [[[1.0, 1.0]]]


ERRORS = [
    ("--chunk 0", "stream_chunk=0: stream_chunk must be a whole number of input samples >= 1"),
    ("--chunk -1", "stream_chunk=-1: stream_chunk must be a whole number of input samples >= 1"),
    ("--chunk 2.5", "stream_chunk='2.5': stream_chunk must be a whole number of input samples >= 1"),
    ("--chunk 2 --push 3", "stream_push=3: stream_push must be a whole number from 1 to the number of pushes (2 here"),
    ("--chunk 2 --push 0", "stream_push=0: stream_push must be a whole number from 1 to the number of pushes"),
    ("--chunk 2 --push x", "stream_push='x': stream_push must be a whole number from 1 to the number of pushes"),
]


@pytest.mark.parametrize(("flags", "said"), ERRORS)
def test_stream_errors_name_parameter_value_and_rule(run_cli, flags, said):
    code, out, err = run_cli("explain", "--no-verify", "--input", "1,1,1,1", "--kernel-size", "3", "--padding", "1",
                             "--stream", *flags.split())
    assert code == 2 and not out
    assert said in " ".join(err.split()), err


def test_chunk_without_stream_is_an_error(run_cli):
    code, _, err = run_cli("explain", "--no-verify", "--input", "1,1,1,1", "--chunk", "2")
    assert code == 2 and "chunk='2': --chunk applies to a streamed explanation: it needs --stream" in " ".join(err.split())


def test_circular_is_refused_on_the_command_line(run_cli):
    code, _, err = run_cli("explain", "--no-verify", "--input", "1,2,3,4", "--kernel-size", "3", "--padding", "1",
                           "--padding-mode", "circular", "--stream")
    assert code == 2 and "circular padding needs the end of the signal before its first output" in " ".join(err.split())


def test_stream_alone_uses_one_hop(run_cli):
    code, out, _ = run_cli("explain", "--no-verify", "--input", "1,1,1,1,1,1", "--kernel-size", "4", "--stride", "2",
                           "--stream", "--json")
    assert code == 0
    stream = json.loads(out)["stream"]
    assert (stream["chunk"], stream["chunk_given"], stream["pushes"]) == (2, "hop", 3)


def test_readme_block_is_what_the_command_prints(run_cli):
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme.split("$ convtrace explain --input 1,1,1,1 --kernel-size 3 --padding 1 --stream --chunk 2 --no-verify\n")[1]
    block = block.split("```")[0]
    code, out, _ = run_cli("explain", "--no-verify", *STREAM_CASES["stream_seed"].split())
    assert code == 0
    unwrapped = out.replace("\n      ", " ").replace("\n    ", " ")
    for line in block.splitlines():
        if line.strip() and line.strip() != "...":
            assert line in unwrapped.splitlines(), line
