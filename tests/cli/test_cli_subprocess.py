"""The installed console script, ``python -m convtrace``, and what the CLI imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import convtrace

SCRIPT = Path(sys.executable).parent / "convtrace"

_PROBE = """
import sys
from convtrace.cli import main
code = main({argv!r})
print("TORCH-IMPORTED" if "torch" in sys.modules else "NO-TORCH", file=sys.stderr)
"""


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, encoding="utf-8", timeout=120, check=False)


@pytest.mark.skipif(not SCRIPT.exists(), reason="console script not installed (pip install -e .)")
def test_console_script():
    r = _run(str(SCRIPT), "--version")
    assert r.returncode == 0 and r.stdout.strip() == f"convtrace {convtrace.__version__}"
    r = _run(str(SCRIPT), "explain", "--input", "1,2,3,4", "--kernel-size", "3", "--padding", "1", "--no-verify")
    assert r.returncode == 0 and "y1..y4 = 3, 6, 9, 7" in r.stdout


def test_python_dash_m_and_exit_code():
    r = _run(sys.executable, "-m", "convtrace", "explain", "--input", "1,2", "--kernel-size", "5", "--no-verify")
    assert r.returncode == 2 and "Traceback" not in r.stderr and "Kernel size" in r.stderr
    r = _run(sys.executable, "-m", "convtrace", "explain", "--help")
    assert r.returncode == 0 and "examples:" in r.stdout and "--padding-mode" in r.stdout


@pytest.mark.parametrize(
    "argv",
    [["demo", "--no-verify"], ["explain", "--input", "1,1,1,1", "--kernel-size", "3", "--no-verify"]],
)
def test_no_torch_import_without_verification(argv):
    r = _run(sys.executable, "-c", _PROBE.format(argv=argv))
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip().endswith("NO-TORCH")


def test_torch_imported_only_to_verify():
    pytest.importorskip("torch")
    r = _run(sys.executable, "-c", _PROBE.format(argv=["explain", "--input", "1,1,1,1"]))
    assert r.stderr.strip().endswith("TORCH-IMPORTED")
