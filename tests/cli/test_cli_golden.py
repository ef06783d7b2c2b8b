"""Golden tests of ``convtrace demo`` and ``convtrace explain`` (text and JSON).

Every configuration is run twice to show that the output is deterministic; the JSON
document is also re-parsed and its output re-derived from its own steps.
"""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

EXPLAIN_CASES = {
    "channels_groups": "--input-shape 1,4,5 --fill arange --out-channels 4 --groups 2 --kernel-size 2 --bias 1,2,3,4",
    "stride_dropped_tail": "--input 1,2,3,4,5,6,7,8,9,10 --kernel-size 3 --stride 4",
    "same_even_kernel": "--input 1,2,3,4,5 --weight 1,-1,2,1 --padding same",
    "valid": "--input 1,2,3,4,5 --weight 1,2 --padding valid",
    "dilation": "--input 1,2,3,4,5,6,7 --kernel-size 3 --dilation 2 --padding 1",
    "exact_fractions_bias": "--input 1/3,1/2,1 --weight 0.1,0.2 --bias 0.5",
    "reflect": "--input 1,2,3,4 --kernel-size 3 --padding 2 --padding-mode reflect",
    "replicate": "--input 1,2,3,4 --kernel-size 3 --padding 2 --padding-mode replicate",
    "circular": "--input 1,2,3,4 --weight 1,0,-1 --padding 2 --padding-mode circular",
    "transposed_output_padding": "--input 1,2,3 --weight 1,2,3 --stride 2 --padding 1 --output-padding 1 --transposed --bias 0.5",
    "transposed_output_size": "--input 1,2,3 --kernel-size 3 --stride 3 --output-size 10 --transposed",
    "transposed_crop": "--input 1,2,3,4 --kernel-size 2 --stride 2 --padding 2 --transposed",
    "transposed_groups_zh": "--input-shape 1,2,3 --fill arange --transposed --out-channels 4 --groups 2 --kernel-size 2 --stride 2 --lang zh",
    "symbolic": "--input 1,1,1,1 --kernel-size 3 --padding 1 --bias --symbolic",
    "symbolic_channels": "--input 1,2,3;4,5,6 --out-channels 2 --kernel-size 2 --symbolic",
    "at_element": "--input-shape 2,3,50 --fill randint --seed 1 --out-channels 2 --kernel-size 3 --at 1,1,20",
    "unbatched_channels": "--input 1,2,3;4,5,6 --out-channels 2 --kernel-size 2",
    "large_summary": "--input-shape 1,2,100 --fill arange --kernel-size 3",
    "randn_floats": "--input-shape 1,1,5 --fill randn --seed 0 --kernel-size 2",
}


def _twice(run_cli, *argv: str) -> str:
    first = run_cli(*argv)
    second = run_cli(*argv)
    assert first == second, "output is not deterministic"
    code, out, err = first
    assert code == 0, err
    return out


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_demo_text(run_cli, golden, lang):
    out = _twice(run_cli, "demo", "--no-verify", "--lang", lang)
    golden(f"demo_{lang}.txt", out)


def test_demo_text_verified(run_cli, golden):
    pytest.importorskip("torch")
    out = _twice(run_cli, "demo")
    assert out.count("✓ PyTorch agrees") == 5 and "DISAGREES" not in out
    golden("demo_en_verified.txt", out)


def test_demo_json(run_cli, golden):
    out = _twice(run_cli, "demo", "--no-verify", "--json")
    doc = json.loads(out)
    outputs = [t["trace"]["output"] for t in doc["traces"]]
    assert outputs[:3] == [[[3, 3]], [[2, 3, 3, 2]], [[2, 3]]]
    golden("demo.json", out)


def test_no_subcommand_runs_the_demo(run_cli):
    assert run_cli("--no-verify")[1] == run_cli("demo", "--no-verify")[1]


@pytest.mark.parametrize("name", sorted(EXPLAIN_CASES))
def test_explain_text(run_cli, golden, name):
    out = _twice(run_cli, "explain", "--no-verify", *EXPLAIN_CASES[name].split())
    golden(f"explain_{name}.txt", out)


@pytest.mark.parametrize("name", sorted(EXPLAIN_CASES))
def test_explain_json(run_cli, golden, name):
    argv = [a for a in EXPLAIN_CASES[name].split() if a != "--symbolic"]
    out = _twice(run_cli, "explain", "--no-verify", "--json", *argv)
    doc = json.loads(out)
    # every step's value re-derived from its own terms
    for step in doc["steps"]:
        total = sum((_num(t["product"]) for t in step["terms"]), Fraction(0))
        assert abs(float(total) - float(_num(step["sum"]))) < 1e-9
    golden(f"explain_{name}.json", out)


def _num(v):
    if isinstance(v, str) and "/" in v:
        return Fraction(v)
    return Fraction(v) if isinstance(v, int) else v


def test_verified_explain_agrees(run_cli):
    pytest.importorskip("torch")
    for name, argv in EXPLAIN_CASES.items():
        code, out, err = run_cli("explain", *argv.split())
        assert code == 0, (name, err)
        assert "✓" in out and "✗" not in out, name
