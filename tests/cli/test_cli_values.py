"""The command line's text forms of data, tested directly (issue 16 item 20): the argv pass
that lets a value start with a minus sign (``--weight -.5,1``), and the channel / batch syntax
of :func:`convtrace.cli.values.parse_values`."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from convtrace.cli.base import attach_negative_values
from convtrace.cli.values import parse_values
from convtrace.errors import ConvtraceError

# --------------------------------------------------------------------------- negative values


@pytest.mark.parametrize("value", ["-1", "-1,2", "-.5", "-.5,1", "-0.5,1", "-1e-3", "-1e-3,2", "-.5e2", "-.5e2,1"])
def test_a_value_starting_with_a_minus_sign_is_attached_to_its_flag(value: str) -> None:
    assert attach_negative_values(["explain", "--weight", value, "--no-verify"]) == [
        "explain", f"--weight={value}", "--no-verify",
    ]


@pytest.mark.parametrize("argv", [["--no-verify", "-h"], ["--lang", "zh"], ["--weight=-1,2"], ["--input", "1,-2"]])
def test_flags_and_other_values_are_left_alone(argv: list[str]) -> None:
    assert attach_negative_values(argv) == argv


@pytest.mark.parametrize(
    ("value", "weight"),
    [("-.5,1", [-0.5, 1]), ("-1e-3,2", [-0.001, 2]), ("-.5e2,1", [-50, 1]), ("-1,0,1", [-1, 0, 1])],
)
def test_negative_values_reach_the_explanation(run_cli, value: str, weight: list[float]) -> None:
    code, out, err = run_cli("explain", "--input", "1,2,3", "--weight", value, "--no-verify", "--json")
    assert code == 0, err
    assert [float(Fraction(v)) for v in json.loads(out)["weight"][0][0]] == weight
    code, out, err = run_cli("explain", "--input", value, "--kernel-size", "1", "--no-verify", "--json")
    assert code == 0, err
    assert [float(Fraction(v)) for v in json.loads(out)["input"][0]] == weight  # read as one channel


# --------------------------------------------------------------------------- channels and batches


def _exact(text: str) -> list:
    values = parse_values(text).exact_values
    assert values is not None
    return values.tolist()


def test_commas_separate_the_samples_of_one_channel() -> None:
    assert parse_values("1,2,3").shape == (3,)
    assert _exact("1, 2 3") == [Fraction(1), Fraction(2), Fraction(3)]


def test_a_colon_separates_channels() -> None:
    assert parse_values("1,2,3:4,5,6").shape == (2, 3)
    assert _exact("1,2,3:4,5,6") == [[1, 2, 3], [4, 5, 6]]
    assert _exact("1,2,3;4,5,6") == _exact("1,2,3:4,5,6")  # ';' (quoted in a shell) is the same


def test_a_double_colon_separates_batch_items() -> None:
    assert parse_values("1,2:3,4::5,6:7,8").shape == (2, 2, 2)
    assert _exact("1,2:3,4::5,6:7,8") == [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]
    assert _exact("1,2;3,4|5,6;7,8") == _exact("1,2:3,4::5,6:7,8")
    assert parse_values("1,2::3,4").shape == (2, 1, 2)  # batch items of one channel each


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("1,2:3", "every channel must have the same length"),
        ("1,2:3,4::5,6", "the same number of channels"),
        ("1,2::", "an empty channel"),
        ("1,2:", "an empty channel"),
        ("", "no values given"),
    ],
)
def test_ragged_or_empty_channels_are_errors(text: str, words: str) -> None:
    with pytest.raises(ConvtraceError, match=words) as info:
        parse_values(text)
    assert info.value.param == "input"


def test_channel_syntax_through_the_command_line(run_cli) -> None:
    code, out, err = run_cli("explain", "--input", "1,2,3:4,5,6", "--kernel-size", "2", "--no-verify", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["input_shape"] == [2, 3] and doc["output"] == [[12, 16]]  # one output channel, ones
