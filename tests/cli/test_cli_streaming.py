"""The explanation is printed before PyTorch's check, which comes when torch has loaded
(issue 16 item 15).

A stand-in ``torch`` package, first on the path, holds every import of torch until the test
lets it go (a file appears), then fails as the test asks. So the first line provably arrives
while torch is still being imported: without streaming it could only come after the release,
which the test gives only once the line is there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[2] / "src"

_FAKE_TORCH = '''
import os, time
open(os.environ["FAKE_TORCH_STARTED"], "a").close()
deadline = time.monotonic() + 60
while not os.path.exists(os.environ["FAKE_TORCH_RELEASE"]) and time.monotonic() < deadline:
    time.sleep(0.01)
raise {error}("the stand-in torch of the streaming test")
'''


def _start(tmp_path: Path, argv: list[str], error: str = "ImportError") -> tuple[subprocess.Popen[str], Path, Path]:
    fake = tmp_path / "fake"
    (fake / "torch").mkdir(parents=True)
    (fake / "torch" / "__init__.py").write_text(_FAKE_TORCH.format(error=error), encoding="utf-8")
    started, release = tmp_path / "started", tmp_path / "release"
    env = {
        **os.environ, "PYTHONPATH": os.pathsep.join([str(fake), str(SOURCE)]), "COLUMNS": "80",
        "PYTHONIOENCODING": "utf-8", "FAKE_TORCH_STARTED": str(started), "FAKE_TORCH_RELEASE": str(release),
    }
    env.pop("CONVTRACE_DEBUG", None)
    proc = subprocess.Popen([sys.executable, "-m", "convtrace", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, encoding="utf-8", env=env)  # fmt: skip
    return proc, started, release


def _first_line(proc: subprocess.Popen[str], timeout: float = 30) -> str | None:
    """The first line of ``proc``'s stdout, or None if none came within ``timeout`` seconds."""
    got: list[str] = []
    assert proc.stdout is not None
    reader = threading.Thread(target=lambda: got.append(proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(timeout)
    return got[0] if got else None


def _appears(path: Path, timeout: float = 30) -> bool:
    """Whether ``path`` exists within ``timeout`` seconds (the background import has begun)."""
    deadline = time.monotonic() + timeout
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    return path.exists()


def _rest(proc: subprocess.Popen[str]) -> tuple[str, str]:
    """What ``proc`` still writes (after what was read through ``proc.stdout``), once it ends."""
    assert proc.stdout is not None and proc.stderr is not None
    out, err = proc.stdout.read(), proc.stderr.read()  # not communicate(): it would skip the read buffer
    proc.wait(timeout=120)
    return out, err


def _no_verify(argv: list[str]) -> str:
    env = {**os.environ, "PYTHONPATH": str(SOURCE), "COLUMNS": "80", "PYTHONIOENCODING": "utf-8"}
    done = subprocess.run([sys.executable, "-m", "convtrace", *argv, "--no-verify"], capture_output=True,
                          text=True, encoding="utf-8", env=env, timeout=120, check=True)  # fmt: skip
    return done.stdout


@pytest.mark.parametrize(
    ("argv", "first"),
    [
        (["explain", "--input", "1,1,1,1", "--kernel-size", "3", "--padding", "1"], "Conv1d, step by step"),
        (["demo"], "=" * 72),
        (["demo", "--lang", "zh"], "=" * 72),
    ],
)
def test_the_explanation_comes_while_torch_is_still_loading(tmp_path: Path, argv: list[str], first: str) -> None:
    proc, started, release = _start(tmp_path, argv)
    try:
        line = _first_line(proc)
        assert line is not None, "no output before torch was imported: the explanation is not streamed"
        assert line.rstrip("\n") == first
        assert _appears(started) and proc.poll() is None  # torch's import began and is still held
    finally:
        release.touch()
        out, err = _rest(proc)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    text = line + out
    # the same text as without the check, up to the check, which says torch is missing
    unchecked = _no_verify(argv)
    heading, missing = ("PyTorch 校验：", "未安装 PyTorch") if "zh" in argv else ("PyTorch check:", "PyTorch is not installed")
    assert text.split(heading)[0] == unchecked.split(heading)[0]
    assert text.count(heading) == unchecked.count(heading) == text.count(missing)


def test_the_check_of_each_demo_section_stays_in_its_place(tmp_path: Path) -> None:
    proc, _, release = _start(tmp_path, ["demo"])
    release.touch()
    out, _ = proc.communicate(timeout=120)
    sections = out.split("=" * 72 + "\n")[2::2]  # the text after each title
    assert len(sections) == 5
    for section in sections:  # each explanation ends with its own check
        check = section.split("\nPyTorch check:\n")[1]
        assert "Output" not in check and "PyTorch is not installed" in check and "Step" in section


@pytest.mark.parametrize("command", ["explain", "draw"])
def test_an_error_in_the_check_still_fails_the_command(tmp_path: Path, command: str) -> None:
    """The explanation (or the figure) is out already; the check's failure still gives a
    non-zero exit code, a message and no traceback."""
    argv = [command, "--input", "1,2,3", "--kernel-size", "2"]
    proc, _, release = _start(tmp_path, argv + (["-o", str(tmp_path / "e.svg")] if command == "draw" else []),
                              error="RuntimeError")  # fmt: skip
    release.touch()
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 70
    assert "internal error: RuntimeError: the stand-in torch of the streaming test" in err
    assert "Traceback" not in err
    assert ("y1..y2 = 3, 5" if command == "explain" else "e.svg") in out


def test_json_stays_one_document_with_the_check(tmp_path: Path) -> None:
    proc, _, release = _start(tmp_path, ["demo", "--json"])
    release.touch()
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    doc = json.loads(out)
    assert len(doc["traces"]) == 5
    checks = [t["trace"]["check"] for t in doc["traces"]]
    assert all(c["available"] is False and "the stand-in torch" in c["note"] for c in checks), checks


def test_draw_writes_the_figure_before_the_check(tmp_path: Path) -> None:
    figure = tmp_path / "d.svg"
    proc, _, release = _start(tmp_path, ["draw", "--input", "1,1,1,1", "--kernel-size", "3", "-o", str(figure)])
    try:
        line = _first_line(proc)
        assert line is not None and line.strip() == str(figure)
        assert figure.read_text(encoding="utf-8").startswith("<svg") and proc.poll() is None
    finally:
        release.touch()
        _, err = _rest(proc)
    assert proc.returncode == 0, err


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("width", [None, 80, 40, 8])
def test_the_parts_join_to_the_checked_text(lang: str, width: int | None) -> None:
    """In this process: the text before the check is all the explanation, without the check;
    the parts join to the checked trace's text (all at once where the heading's line wraps)."""
    import convtrace
    from convtrace.render.i18n import translator

    heading = translator(lang)("check_heading")
    for kwargs in ({"padding": 1}, {"stride": 2, "transposed": True}, {"at": (0, 0, 1)}):
        trace = convtrace.explain([[1, 2, 3, 4]], [1, 1, 1], verify=False, **kwargs)
        checked = trace.with_check()
        parts = list(trace.render_parts(lang, width=width, verify=True))
        assert "".join(parts) == checked.render(lang, width=width)
        if width == 8:
            assert len(parts) == 1
            continue
        assert len(parts) == 2 and heading not in parts[0] and parts[1].startswith(heading + "\n")
        assert parts[0] == trace.render(lang, width=width).split(heading)[0]
        assert list(trace.render_parts(lang, width=width, verify=False)) == [trace.render(lang, width=width)]
        assert list(checked.render_parts(lang, width=width, verify=True)) == [checked.render(lang, width=width)]
