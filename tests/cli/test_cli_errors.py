"""Invalid configurations: the rule, the numbers, the nearest valid settings; exit code 2."""

from __future__ import annotations

import pytest

from convtrace.cli import EXIT_INVALID

CASES = [
    # (argv, words the message must contain)
    ("--input 1,2 --kernel-size 5", ["Kernel size", "rule:", "nearest valid: input length >= 5"]),
    ("--input 1,2,3,4 --stride 0", ["stride", "non-positive"]),
    ("--input 1,2,3,4 --padding same --stride 2", ["padding", "strided"]),
    ("--input-shape 1,4,5 --groups 3", ["groups", "divisible"]),
    ("--input 1,2,3 --transposed --stride 2 --output-padding 2", ["output_padding", "smaller than either stride"]),
    ("--input 1,2,3 --kernel-size 3 --padding 3 --padding-mode reflect", ["pad", "Padding size should be less"]),
    ("--input 1,2,3 --transposed --padding same", ["padding", "string padding"]),
    ("--input 1,2,3,4 --kernel-size 3 --at 0,0,99", ["at"]),
    ("--input 1,2,x", ["input", "not a number"]),
    ("--input 1,2,3 --transposed --output-size 99 --kernel-size 3", ["output_size", "between"]),
    ("--stride abc", ["--stride", "invalid int value"]),
    ("--padding-mode mirror", ["--padding-mode", "invalid choice"]),
]


@pytest.mark.parametrize(("argv", "words"), CASES, ids=[c[0] for c in CASES])
def test_invalid_configuration(run_cli, argv, words):
    code, out, err = run_cli("explain", "--no-verify", *argv.split())
    assert code == EXIT_INVALID
    assert out == ""
    assert "Traceback" not in err
    for word in words:
        assert word in err, (word, err)


def test_error_in_chinese(run_cli):
    code, _, err = run_cli("explain", "--no-verify", "--lang", "zh", "--input", "1,2", "--kernel-size", "5")
    assert code == EXIT_INVALID and "配置无效" in err and "最接近的有效设置" in err
