"""``convtrace explain --op <pool>``: goldens (text in English and Chinese, JSON), the issue's
done-when example (the last window's divisor 2 and why, in both languages), and the same
error from the command line as from Python."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest

import convtrace
from convtrace.errors import ConvtraceError
from convtrace.render.jsondoc import load_schema

POOL_CASES = {
    "avg_ceil": "--op avg_pool1d --input 1,2,3,4,5,6 --kernel-size 3 --stride 2 --padding 1 --ceil-mode",
    "avg_ceil_zh": "--op avg_pool1d --input 1,2,3,4,5,6 --kernel-size 3 --stride 2 --padding 1 --ceil-mode --lang zh",
    "avg_no_count_include_pad": "--op avg_pool1d --input 1,2,3,4,5 --kernel-size 3 --stride 2 --padding 1 "
    "--no-count-include-pad",
    "max_ceil": "--op max_pool1d --input 1,3,2,5,4 --kernel-size 2 --ceil-mode",
    "max_dropped_window": "--op max_pool1d --input 1,2 --kernel-size 2 --stride 3 --padding 1 --ceil-mode",
    "max_ties_nan_zh": "--op max_pool1d --input 3,1,3,nan,2,nan --kernel-size 3 --return-indices --lang zh",
    "max_dilation_channels": "--op max_pool1d --input 1,5,2,4,3:7,6,8,0,9 --kernel-size 2 --dilation 2 "
    "--padding 1 --stride 2",
    "lp_ceil": "--op lp_pool1d --norm-type 2 --input 1,1,1,1,1 --kernel-size 2 --ceil-mode",
    "lp_signed": "--op lp_pool1d --norm-type 3 --input 1,-2,3,1 --kernel-size 2",
    "adaptive_avg": "--op adaptive_avg_pool1d --input 1,2,3,4,5 --output-size 3",
    "adaptive_max_zh": "--op adaptive_max_pool1d --input 1,2 --output-size 3 --lang zh",
    "unpool_collision": "--op max_unpool1d --input 5,7,1 --indices 1,1,4 --kernel-size 2",
}

VALIDATOR = jsonschema.Draft202012Validator(load_schema())


def _run(run_cli, *argv: str) -> str:
    first = run_cli(*argv)
    assert first == run_cli(*argv), "output is not deterministic"
    code, out, err = first
    assert code == 0, err
    return out


@pytest.mark.parametrize("name", sorted(POOL_CASES))
def test_pool_text(run_cli, golden, name):
    golden(f"pool_{name}.txt", _run(run_cli, "explain", "--no-verify", *POOL_CASES[name].split()))


@pytest.mark.parametrize("name", sorted(n for n in POOL_CASES if not n.endswith("_zh")))
def test_pool_json(run_cli, golden, name):
    out = _run(run_cli, "explain", "--no-verify", "--json", *POOL_CASES[name].split())
    doc = json.loads(out)
    VALIDATOR.validate(doc)
    assert doc["schema_version"] == "1.3" and doc["op"] == POOL_CASES[name].split()[1]
    assert all(step["reduction"] in ("max", "mean", "pnorm", "scatter") for step in doc["steps"])
    golden(f"pool_{name}.json", out)


def test_the_issues_example_says_divisor_two_and_why(run_cli):
    """Done when: the last window's divisor 2 and why (count_include_pad counts the padding,
    never the ceil_mode overhang), in English and in Chinese."""
    argv = ["explain", "--op", "avg_pool1d", "--input", "1,2,3,4,5,6", "--kernel-size", "3", "--stride", "2",
            "--padding", "1", "--ceil-mode", "--no-verify"]
    en = re.sub(r"\n {5,}", " ", _run(run_cli, *argv))  # wrapped lines joined
    last = en[en.index("Step 4: y4"):]
    assert "x6 = 6 (real); 0 (right pad); · (overhang" in last
    assert re.search(r"divisor = 2: count_include_pad=True counts the 1 real sample\(s\) and the 1 padding cell\(s\); "
                     r"the 1 overhang cell\(s\) past the padded input never count", last)
    assert "y4 = 6 / 2 = 3" in last
    zh = _run(run_cli, *argv, "--lang", "zh")
    last_zh = re.sub(r"\s+", "", zh[zh.index("第 4 步：y4"):])  # wrapped at spaces or between characters
    for said in ("除数 = 2：count_include_pad=True 计入 1 个真实样本和 1 个填充格",
                 "超出填充后输入的 1 个 overhang 格永远不计入", "y4 = 6 / 2 = 3"):
        assert said.replace(" ", "") in last_zh


def test_the_check_is_shown_and_agrees(run_cli):
    pytest.importorskip("torch")
    out = _run(run_cli, "explain", *POOL_CASES["max_ceil"].split())
    assert "torch.nn.functional.max_pool1d(x, kernel_size=2, stride=2" in out
    assert "PyTorch's indices: [[1, 3, 4]] — the same as the winners above" in out
    assert "✓ PyTorch agrees" in out and "DISAGREES" not in out


BAD = [
    ("--op avg_pool1d --input 1,2,3 --kernel-size 2 --stride 0",
     dict(op="avg_pool1d", input=[1, 2, 3], kernel_size=2, stride=0)),
    ("--op max_pool1d --input 1,2,3 --kernel-size 2 --padding 2",
     dict(op="max_pool1d", input=[1, 2, 3], kernel_size=2, padding=2)),
    ("--op avg_pool1d --input 1,2,3 --kernel-size 2 --weight 1,1",
     dict(op="avg_pool1d", input=[1, 2, 3], kernel_size=2, weight=[1, 1])),
    ("--op adaptive_avg_pool1d --input 1,2,3 --kernel-size 2 --output-size 2",
     dict(op="adaptive_avg_pool1d", input=[1, 2, 3], kernel_size=2, output_size=2)),
    ("--input 1,2,3 --kernel-size 2 --ceil-mode", dict(input=[1, 2, 3], kernel_size=2, ceil_mode=True)),
    ("--op max_pool1d --input 1,2,3 --kernel-size 2 --transposed",
     dict(op="max_pool1d", input=[1, 2, 3], kernel_size=2, transposed=True)),
]


@pytest.mark.parametrize(("argv", "kwargs"), BAD)
def test_the_same_error_from_the_cli_and_python(run_cli, argv, kwargs):
    with pytest.raises(ConvtraceError) as caught:
        convtrace.explain(**kwargs, verify=False)
    err = caught.value
    code, out, stderr = run_cli("explain", "--no-verify", *argv.split())
    assert code == 2 and out == ""
    said = " ".join(stderr.split())
    assert f"{err.param}=" in said and " ".join(err.rule.split()) in said


def test_an_unknown_op_is_refused_by_name(run_cli):
    with pytest.raises(ConvtraceError, match="op must be one of conv1d, conv_transpose1d, max_pool1d"):
        convtrace.explain(op="max_pool2d", input=[1, 2], kernel_size=2, verify=False)
    code, _, err = run_cli("explain", "--op", "max_pool2d")
    assert code == 2 and "max_pool2d" in err


def test_symbolic_is_refused_for_a_pool(run_cli):
    code, out, err = run_cli("explain", "--op", "max_pool1d", "--input", "1,2", "--kernel-size", "2", "--symbolic")
    assert code == 2 and out == "" and "--symbolic" in err and "max_pool1d has no weights" in " ".join(err.split())


def test_unpool_output_size_from_the_cli_is_a_sequence(run_cli):
    """PyTorch's max_unpool1d takes output_size as a sequence: the flag's int is given so."""
    code, out, err = run_cli("explain", "--no-verify", "--op", "max_unpool1d", "--input", "5,7", "--indices", "1,3",
                             "--kernel-size", "2", "--output-size", "5")
    assert code == 0, err
    assert "= 5 ∈ [4, 6), D = (2 - 1)*2 - 2*0 + 2 = 4" in out and "y1..y5 = 0, 5, 0, 7, 0" in out
    with pytest.raises(ConvtraceError, match="has no len"):  # Python: PyTorch's own words for an int
        convtrace.explain(op="max_unpool1d", input=[5, 7], indices=[1, 3], kernel_size=2, output_size=5, verify=False)


@pytest.mark.parametrize(
    ("argv", "nearest", "zh_rule"),
    [
        ("--op avg_pool1d --input 1,2 --kernel-size 3", "kernel_size=2", "输出太小"),
        ("--op max_pool1d --input 1,2,3 --kernel-size 0", "kernel_size=1", "必须大于 0"),
        ("--op avg_pool1d --input 1,2,3,4,5,6 --kernel-size 3 --padding 2", "padding=1", "有效卷积核大小的一半"),
    ],
)
def test_a_pool_error_gets_the_pools_advice_never_a_convolutions(run_cli, argv, nearest, zh_rule):
    """The nearest valid setting comes from the pool resolver (the CLI's settings also hold the
    convolutions' arguments, which a pool does not take), the rule is the pool's own (never a
    convolution's rule matched by its words), and the Chinese says the rule too."""
    code, _, err = run_cli("explain", "--no-verify", *argv.split())
    assert code == 2
    assert f"nearest valid: {nearest}" in err
    assert "transposed" not in err and "kernel (with dilation)" not in err
    code, _, err = run_cli("explain", "--no-verify", "--lang", "zh", *argv.split())
    assert code == 2 and f"最接近的有效设置：{nearest}" in err
    assert zh_rule in " ".join(err.split())
