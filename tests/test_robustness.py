"""Inputs that once cost minutes or crashed: a clear error instead, from Python and the CLI."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

import convtrace

BROKEN_TORCH = """
import importlib.abc, importlib.machinery, sys
class Loader(importlib.abc.Loader):
    def create_module(self, spec):
        raise OSError("libtorch_cpu.so: cannot open shared object file")
    def exec_module(self, module):
        pass
class Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        return importlib.machinery.ModuleSpec(name, Loader()) if name == "torch" else None
sys.meta_path.insert(0, Finder())
import convtrace
t = convtrace.explain([1, 2, 3], [1, 1])
print(t.check.available, "could not be imported" in t.check.note)
"""


def test_huge_exponents_are_refused_at_once() -> None:
    start = time.perf_counter()
    with pytest.raises(convtrace.ConvtraceError, match=r"decimal exponent beyond ±400") as info:
        convtrace.explain(["1e-999999"] * 50, verify=False)
    assert info.value.param == "input" and time.perf_counter() - start < 2
    assert convtrace.explain(["1e-300", "2e300"], [1], verify=False).exact  # within float64: exact


def test_cli_huge_exponent_is_a_configuration_error() -> None:
    done = subprocess.run([sys.executable, "-m", "convtrace", "explain", "--input", "1e-999999,1", "--no-verify"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2 and "exponent" in done.stderr and "Traceback" not in done.stderr


def test_a_torch_that_cannot_be_imported_is_reported_not_raised() -> None:
    done = subprocess.run([sys.executable, "-c", BROKEN_TORCH], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True"]
