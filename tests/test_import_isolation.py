"""``import convtrace`` loads NumPy and the standard library only (PyTorch, plotting and
ONNX stay optional): checked in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys

FORBIDDEN = ("torch", "matplotlib", "onnx", "scipy", "anywidget", "traitlets", "ipywidgets", "comm", "IPython")

PROBE = """
import json, sys
before = set(sys.modules)
import convtrace, convtrace.functional, convtrace.grad, convtrace.nn, convtrace.shapes
import convtrace.params, convtrace.errors, convtrace.engine.fast, convtrace.engine.reference
import convtrace.engine.padding
import numpy as np
convtrace.functional.conv1d(np.ones((1, 1, 4)), np.ones((1, 1, 3)), padding=1)
convtrace.nn.ConvTranspose1d(1, 1, 3)(np.ones((1, 1, 4), np.float32))
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def _loaded_by_import() -> list[str]:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=120)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_loads_numpy_and_stdlib_only() -> None:
    loaded = _loaded_by_import()
    assert "convtrace" in loaded and "numpy" in loaded  # the probe did import them
    bad = [m for m in loaded if m.split(".")[0].startswith(FORBIDDEN)]
    assert bad == [], bad
    # everything else is convtrace, numpy or the standard library
    stdlib = sys.stdlib_module_names
    others = {m.split(".")[0] for m in loaded} - {"convtrace", "numpy"} - set(stdlib)
    others -= {"cython_runtime"}  # created by NumPy's compiled (Cython) extension modules
    assert {m for m in others if not m.startswith("_")} == set(), others
