"""The explainer as a learner meets it (issue 7): one test per friction seen, through the real
command line (a subprocess) where it is a command-line matter."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pytest

import convtrace
from convtrace.render.html import render_html

CLI = [sys.executable, "-m", "convtrace"]


def cli(*args: str, columns: int = 80, shell: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": str(columns), "PYTHONIOENCODING": "utf-8"}
    if shell is not None:  # as typed in bash, unquoted
        return subprocess.run(["bash", "-c", f"{sys.executable} -m convtrace {shell}"], capture_output=True,
                              text=True, env=env, timeout=120, check=False)
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=env, timeout=120, check=False)


def width(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)


# --------------------------------------------------------------------------- values and flags


def test_negative_values_after_a_flag() -> None:
    done = cli("explain", "--input", "1,2,3,4", "--weight", "-1,0,1", "--no-verify", "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["weight"] == [[[-1, 0, 1]]] and doc["output"] == [[2, 2]]
    done = cli("explain", "--input", "-1,2,3,4", "--kernel-size", "2", "--no-verify", "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["output"] == [[1, 5, 7]]


def test_channel_and_batch_separators_survive_an_unquoted_shell() -> None:
    done = cli(shell="explain --input 1,2,3:4,5,6 --kernel-size 2 --no-verify --json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["input_shape"] == [2, 3]
    done = cli(shell="explain --input 1,2:3,4::5,6:7,8 --kernel-size 2 --no-verify --json")
    assert json.loads(done.stdout)["input_shape"] == [2, 2, 2]
    quoted = cli(shell="explain --input '1,2;3,4|5,6;7,8' --kernel-size 2 --no-verify --json")
    assert json.loads(quoted.stdout)["output"] == json.loads(done.stdout)["output"]
    assert "':'" in cli("explain", "--help").stdout


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--input", "1,2,3", "--output-padding", "1"], "output_padding"),
        (["--input", "1,2,3", "--output-padding", "0"], "output_padding"),
        (["--input", "1,2,3", "--output-size", "6"], "output_size"),
        (["--input", "1,2,3", "--input-shape", "1,1,5"], "input-shape"),
        (["--input", "1,2,3", "--fill", "randint"], "fill"),
        (["--weight", "1,1", "--weight-fill", "randn"], "weight-fill"),
    ],
)
def test_flags_that_do_not_apply_are_errors(args: list[str], flag: str) -> None:
    done = cli("explain", *args, "--no-verify")
    assert done.returncode == 2, done.stdout
    assert flag in done.stderr and "Traceback" not in done.stderr
    assert "only" in done.stderr or "does not apply" in done.stderr


def test_python_rejects_output_padding_for_conv1d() -> None:
    with pytest.raises(convtrace.ConvtraceError, match="ConvTranspose1d only") as info:
        convtrace.explain([1, 2, 3], output_padding=1, verify=False)
    assert info.value.param == "output_padding"
    with pytest.raises(convtrace.ConvtraceError, match="ConvTranspose1d only"):
        convtrace.explain([1, 2, 3], output_size=6, verify=False)
    assert convtrace.explain([1, 2, 3], output_padding=1, stride=2, transposed=True, verify=False).spec.output_padding == 1


@pytest.mark.parametrize(
    ("args", "suggested"),
    [(["--kernal-size", "3"], "--kernel-size"), (["--kernel", "3"], "--kernel-size"), (["--strid", "2"], "--stride")],
)
def test_no_abbreviations_and_the_closest_flag(args: list[str], suggested: str) -> None:
    done = cli("explain", *args, "--no-verify")
    assert done.returncode == 2
    assert f"did you mean {suggested}?" in done.stderr


def test_weights_and_bias_can_be_filled_at_random() -> None:
    done = cli("explain", "--input-shape", "1,4,20", "--fill", "randint", "--out-channels", "2",
               "--weight-fill", "randint", "--bias-fill", "randint", "--no-verify", "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    y = np.array(doc["output"], dtype=float)
    assert y.shape == (1, 2, 18) and not np.array_equal(y[0, 0], y[0, 1])  # the channels differ
    w = np.array(doc["weight"], dtype=float)
    assert not np.all(w == 1) and doc["bias"] is not None
    again = json.loads(cli("explain", "--input-shape", "1,4,20", "--fill", "randint", "--out-channels", "2",
                           "--weight-fill", "randint", "--bias-fill", "randint", "--no-verify", "--json").stdout)
    assert again["weight"] == doc["weight"]  # seeded


# --------------------------------------------------------------------------- reading it


@pytest.mark.parametrize(
    "args",
    [
        ["demo", "--no-verify"],
        ["demo", "--lang", "zh", "--no-verify"],
        ["explain", "--input-shape", "1,4,20", "--fill", "randint", "--out-channels", "2", "--no-verify"],
    ],
)
def test_every_line_fits_80_columns(args: list[str]) -> None:
    done = cli(*args)
    assert done.returncode == 0, done.stderr
    long = [line for line in done.stdout.splitlines() if width(line) > 80]
    assert not long, long[:3]


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("command", ["", "demo", "explain", "draw", "serve", "shape", "solve", "stack", "inspect"])
def test_every_help_fits_80_columns(run_cli, monkeypatch: pytest.MonkeyPatch, command: str, lang: str) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    code, out, err = run_cli(*([command] if command else []), "--help", "--lang", lang)
    assert code == 0, err
    assert out.startswith("用法：" if lang == "zh" else "usage:") and ("示例：" if lang == "zh" else "examples:") in out
    long = [line for line in out.splitlines() if width(line) > 80]
    assert not long, long[:3]
    orphans = [line for line in out.splitlines() if line.lstrip()[:1] in tuple("），。、；：")]
    assert not orphans, orphans  # a closing mark stays on the line it closes


def test_columns_sets_the_width_and_long_sums_break_at_plus() -> None:
    args = ["explain", "--input-shape", "1,3,6", "--fill", "randn", "--out-channels", "1", "--no-verify"]
    narrow, wide = cli(*args, columns=40).stdout.splitlines(), cli(*args, columns=200).stdout.splitlines()
    assert max(map(width, narrow)) <= 40 < max(map(width, wide))
    sums = [i for i, line in enumerate(narrow) if re.match(r"\s+sum = ", line)]
    assert sums and narrow[sums[0] + 1].lstrip().startswith("+ ")  # the sum goes on, aligned at '+'
    assert cli("explain", "--help", columns=120).stdout != cli("explain", "--help", columns=60).stdout


def test_one_numbering_story() -> None:
    demo = cli("demo", "--no-verify").stdout
    assert demo.count("Names count from 1") == 1  # said once, at the top
    unbatched = cli("explain", "--input", "1,2,3:4,5,6", "--out-channels", "2", "--kernel-size", "2",
                    "--no-verify").stdout
    assert "Step 1: y[1][1] (PyTorch index [0, 0])" in unbatched  # (C, L) output: two indices
    transposed = cli("explain", "--input", "1,2,3", "--kernel-size", "3", "--stride", "2", "--transposed",
                     "--no-verify").stdout
    assert "j (from 0)" in transposed and "position  0" not in transposed


def test_symbolic_prints_the_input_numbers() -> None:
    out = cli("explain", "--input-shape", "6", "--fill", "randint", "--seed", "3", "--symbolic", "--no-verify").stdout
    doc = json.loads(cli("explain", "--input-shape", "6", "--fill", "randint", "--seed", "3", "--no-verify",
                         "--json").stdout)
    values = ", ".join(str(v) for v in np.ravel(doc["input"]))
    assert f"x1..x6 = {values}" in out and "y1 = x1·w1 + x2·w2 + x3·w3" in out


def test_checkerboard_fixes_are_checked_by_torch() -> None:
    torch = pytest.importorskip("torch")
    t = convtrace.explain([1, 1, 1, 1], [1, 1, 1], stride=2, padding=1, output_padding=1, transposed=True,
                          verify=False)
    note = next(n for n in t.notes if n.code == "uneven_overlap")
    assert note.values["fixes"]
    ones = torch.ones(1, 1, 12, dtype=torch.float64)
    for fix in note.values["fixes"]:
        k, p, op = fix["kernel_size"], fix["padding"], fix["output_padding"]
        assert k % 2 == 0
        layer = torch.nn.ConvTranspose1d(1, 1, k, stride=2, padding=p, output_padding=op, bias=False,
                                         dtype=torch.float64)
        torch.nn.init.ones_(layer.weight)
        assert layer(torch.ones(1, 1, 4, dtype=torch.float64)).shape[-1] == t.spec.out_length == fix["out_length"]
        y = layer(ones)[0, 0].detach().numpy()
        interior = y[k : len(y) - k]
        assert np.all(interior == interior[0])  # even overlap: no checkerboard on a constant input
    resize = note.values["resize"]
    up = torch.nn.functional.interpolate(torch.ones(1, 1, 4), scale_factor=resize["factor"], mode="nearest")
    same = torch.nn.functional.conv1d(up, torch.ones(1, 1, resize["kernel_size"]), padding="same")
    assert same.shape[-1] == resize["length"]
    text = cli("explain", "--input", "1,1,1,1", "--kernel-size", "3", "--stride", "2", "--padding", "1",
               "--output-padding", "1", "--transposed", "--no-verify").stdout
    assert "fix: kernel_size=4, padding=1, output_padding=0" in text and "resize, then convolve" in text


def test_a_shrinking_length_points_to_same() -> None:
    torch = pytest.importorskip("torch")
    out = cli("explain", "--input-shape", "8", "--kernel-size", "4", "--padding", "1", "--no-verify").stdout
    assert "the output has 7 samples, the input 8" in out and "padding='same'" in out
    assert "1 on the left + 2 on the right" in out
    y = torch.nn.functional.conv1d(torch.ones(1, 1, 8), torch.ones(1, 1, 4), padding="same")
    assert y.shape[-1] == 8 and y[0, 0, 0].item() == 3.0  # left 1 (the first window reads 3 samples), right 2
    same = cli("explain", "--input-shape", "8", "--kernel-size", "4", "--padding", "same", "--no-verify").stdout
    assert "the output has" not in same


# --------------------------------------------------------------------------- Chinese and Python


def test_configuration_errors_in_chinese() -> None:
    done = cli("explain", "--input", "1,1,1,1", "--kernel-size", "6", "--lang", "zh", "--no-verify")
    assert done.returncode == 2
    err = done.stderr
    assert "规则：卷积核（含空洞）必须放得进补齐后的输入" in err and "输入长度 >= 6" in err
    english = [line for line in err.splitlines() if re.search(r"[a-z]{5,} [a-z]{3,} [a-z]{3,}", line)]
    assert all("原文（英文）" in line or line.startswith("      ") for line in english), english
    help_zh = cli("explain", "--help", "--lang", "zh").stdout
    assert "讲解使用的语言" in help_zh
    # argparse's own words too: the usage prefix and the section titles
    assert help_zh.startswith("用法：convtrace explain") and "\n选项:" in help_zh
    assert "usage:" not in help_zh and "options:" not in help_zh
    help_en = cli("explain", "--help").stdout
    assert help_en.startswith("usage: convtrace explain") and "\noptions:" in help_en


def _parsers() -> list[tuple[str, argparse.ArgumentParser, list[str]]]:
    """(name, parser, help texts) of the root command and of every subcommand, as built now."""
    from convtrace.cli import build_parser

    root = build_parser()
    commands = next(a for a in root._actions if isinstance(a, argparse._SubParsersAction))
    found = []
    for name, parser in [("convtrace", root), *commands.choices.items()]:
        texts = [parser.description, *(a.help for a in parser._actions), *(g.title for g in parser._action_groups)]
        for action in parser._actions:  # subcommands' own one-line helps (and any nested ones)
            if isinstance(action, argparse._SubParsersAction):
                texts += [c.help for c in action._choices_actions]
                assert action is commands or not action.choices, "nested subcommands: walk them too"
        found.append((name, parser, [t for t in texts if t and t != argparse.SUPPRESS]))
    return found


def _example_comments(epilog: str) -> list[str]:
    """The prose of an ``examples:`` block: its heading and the comments after ``# ``; every
    other line must be a command (``convtrace ...``) or its continuation after a ``\\``."""
    prose, continued = [], False
    for line in epilog.splitlines():
        code, _, comment = line.partition("# ")
        if comment:
            prose.append(comment)
        if not line.startswith(" "):
            prose.append(line)  # the heading
        else:
            assert code.strip().startswith("convtrace ") or continued, line
        continued = code.rstrip().endswith("\\")
    return [p for p in prose if p.strip()]


def test_every_command_help_is_all_chinese(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under ``--lang zh`` every description, help text and group title of the root command
    and of every subcommand, and the heading and the comments of every ``examples:`` block, are
    translated (a new English help text or example comment fails this)."""
    from convtrace.cli import base

    monkeypatch.setattr(base, "HELP_LANGUAGE", "zh")
    parsers = _parsers()
    names = {name for name, _, _ in parsers}
    assert {"demo", "explain", "draw", "serve", "shape", "solve", "stack", "inspect"} <= names
    english = []
    for name, parser, texts in parsers:
        assert parser.epilog, f"{name} has no examples"
        texts += _example_comments(parser.epilog)
        english += [(name, t) for t in texts if not re.search(r"[\u4e00-\u9fff]", t)]
    assert not english, english


def test_english_help_has_its_example_comments_and_no_chinese(monkeypatch: pytest.MonkeyPatch) -> None:
    from convtrace.cli import base
    from convtrace.cli.help_zh import EXAMPLE_COMMENTS

    monkeypatch.setattr(base, "HELP_LANGUAGE", "en")
    comments = set()
    for name, parser, texts in _parsers():
        prose = texts + _example_comments(parser.epilog or "")
        assert not [t for t in prose if re.search(r"[\u4e00-\u9fff]", t)], name
        comments |= set(_example_comments(parser.epilog or ""))
    assert comments == set(EXAMPLE_COMMENTS)  # each translation is used, no comment lacks one


def _example_commands(epilog: str) -> list[list[str]]:
    """The commands of an ``examples:`` block as argv lists (continuations joined, comments and
    the leading ``convtrace`` dropped), as a shell would split them."""
    import shlex

    text = "\n".join(line.partition("# ")[0] for line in epilog.splitlines()[1:])
    commands = [shlex.split(line) for line in text.replace("\\\n", " ").splitlines() if line.strip()]
    assert all(argv[0] == "convtrace" for argv in commands), commands
    return [argv[1:] for argv in commands]


@pytest.mark.parametrize("command", ["explain", "shape", "solve", "stack"])
def test_the_examples_run(run_cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, command: str) -> None:
    """Every example of these commands' help works as printed (files it names made up here)."""
    from convtrace.cli import build_parser

    monkeypatch.chdir(tmp_path)
    np.save(tmp_path / "x.npy", np.ones((1, 2, 1005)))
    (tmp_path / "encoder.txt").write_text("conv k=7 p=3; 4x(conv k=4 s=2 p=1)\n", encoding="utf-8")
    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    examples = _example_commands(commands.choices[command].epilog or "")
    assert len(examples) >= 3
    for argv in examples:
        quick = [*argv, "--no-verify"] if argv[0] in ("demo", "explain") else argv
        code, out, err = run_cli(*quick)
        assert code == 0 and out and not err, (argv, err)


def test_python_renders_chinese() -> None:
    t = convtrace.explain([1, 1, 1, 1], [1, 1, 1], padding=1, verify=False)
    text = t.render("zh", width=80)
    assert text.startswith("Conv1d 逐步计算") and "第 1 步" in text
    assert max(map(width, text.splitlines())) <= 80


def test_numpy_users_get_the_dtype_fix() -> None:
    m = convtrace.nn.Conv1d(16, 33, 3, stride=2)
    with pytest.raises(convtrace.ConvtraceError, match="expected scalar type Double but found Float") as info:
        m(np.random.default_rng(0).standard_normal((20, 16, 50)))
    assert "x.astype(np.float32)" in str(info.value) and "dtype=np.float64" in str(info.value)
    assert convtrace.nn.Conv1d(16, 33, 3, stride=2, dtype=np.float64)(np.zeros((20, 16, 50))).shape == (20, 33, 24)


def test_jupyter_view_names_columns_once_and_suits_dark_themes() -> None:
    page = render_html(convtrace.explain([1, 2, 3], [1, 1], verify=False))
    heads = re.findall(r"<tr><th>(.*?)</tr>", page)[0]
    cells = re.findall(r"(?:<th>)?([^<]+)</th>", heads)
    assert len(cells) == len(set(cells)), cells
    assert "#f3f3f3" not in page and "#f6f6f6" not in page and "rgba(" in page


def test_readme_has_pip_lines_and_cpu_wheels() -> None:
    readme = " ".join((Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8").split())
    assert "pip install convtrace" in readme and "pip install 'convtrace[torch]'" in readme
    # not on an index yet: the commands that work from a clone come first, the index lines
    # are marked as waiting for the publication
    assert "pip install -e '.[viz,web]'" in readme and "pip install -e ." in readme
    assert readme.index("pip install -e .") < readme.index("pip install convtrace")
    assert "pip install convtrace # once published" in readme
    assert "--index-url" in readme and "CPU" in readme and "blog post" in readme
