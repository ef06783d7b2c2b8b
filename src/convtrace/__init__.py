"""convtrace: PyTorch's 1-D convolutions, reproduced, explained and planned exactly.

``import convtrace`` loads NumPy and the standard library only; PyTorch is imported lazily,
by :mod:`convtrace.interop`, only where it is used.

>>> import numpy as np, convtrace
>>> convtrace.functional.conv1d(np.ones((1, 1, 4)), np.ones((1, 1, 3)), padding=1).tolist()
[[[2.0, 3.0, 3.0, 2.0]]]
"""

from __future__ import annotations

from typing import Any

from . import functional, grad, nn, shapes
from .errors import ConvtraceError, ConvtraceTypeError
from .explainer import Trace, explain, explain_transposed
from .params import ConvSpec, PaddingMode, PadMode, PoolSpec

__version__ = "0.1.0"

__all__ = [
    "ConvSpec",
    "ConvtraceError",
    "ConvtraceTypeError",
    "PadMode",
    "PaddingMode",
    "PoolSpec",
    "Trace",
    "explain",
    "explain_transposed",
    "functional",
    "grad",
    "nn",
    "shapes",
    "from_torch",
    "to_torch",
    "Explorer",
    "__version__",
]


def __getattr__(name: str) -> Any:
    """Lazily loaded names: ``from_torch``, ``to_torch`` (they import torch), ``Explorer``
    (anywidget)."""
    if name == "from_torch":
        from .interop.torch import from_torch_module

        return from_torch_module
    if name == "to_torch":
        from .interop.torch import to_torch_module

        return to_torch_module
    if name == "Explorer":  # the notebook widget (the notebook extra: anywidget); a room above web
        import importlib

        return importlib.import_module(f"{__name__}.notebook").Explorer
    if name in ("inspect", "length_map"):  # model inspection (torch is imported when it runs)
        import importlib

        package = importlib.import_module(f"{__name__}.inspect")  # also sets convtrace.inspect
        return package if name == "inspect" else package.length_map
    raise AttributeError(f"module 'convtrace' has no attribute {name!r}")
