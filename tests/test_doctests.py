"""Run the doctests of every module under src/convtrace (each module is one test)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import convtrace

MODULES = sorted(
    [convtrace.__name__]
    + [m.name for m in pkgutil.walk_packages(convtrace.__path__, prefix="convtrace.")]
)
#: modules whose doctests need an optional dependency: convtrace.interop is the PyTorch bridge
NEEDS = {m: "torch" for m in MODULES if m.startswith("convtrace.interop.")}
OPTIONAL = {"torch", "matplotlib", "onnx", "scipy", "fastapi", "starlette", "uvicorn", "PIL", "cairosvg", "rich", "transformers",
            "anywidget", "ipywidgets", "traitlets", "comm"}  # the notebook extra
#: modules that must carry examples (the public API and its building blocks)
MUST_HAVE_EXAMPLES = [
    "convtrace", "convtrace.errors", "convtrace.params", "convtrace.shapes", "convtrace.functional",
    "convtrace.grad", "convtrace.nn", "convtrace.engine.fast", "convtrace.engine.reference",
    "convtrace.engine.padding", "convtrace.engine.pool", "convtrace.interop.torch",
]  # fmt: skip


def _run(name: str) -> doctest.TestResults:
    if name in NEEDS:
        pytest.importorskip(NEEDS[name])
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:  # an optional dependency of that module only
        if (exc.name or "").split(".")[0] in OPTIONAL:
            pytest.skip(f"{name} needs {exc.name}")
        raise
    return doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)


@pytest.mark.parametrize("name", MODULES)
def test_module_doctests_pass(name: str) -> None:
    result = _run(name)
    assert result.failed == 0, f"{result.failed} of {result.attempted} doctest examples failed in {name}"


@pytest.mark.parametrize("name", MUST_HAVE_EXAMPLES)
def test_core_modules_have_doctests(name: str) -> None:
    assert name in MODULES
    assert _run(name).attempted > 0


def test_some_examples_ran() -> None:
    total = sum(_run(name).attempted for name in MODULES if name not in NEEDS)
    assert total > 0
