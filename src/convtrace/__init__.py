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
    "streamify",
    "__version__",
]


def streamify(model: Any, input_shape: Any, *, chunk_size: int | None = None, time_dim: int = -1,
              fast: bool | str = False) -> Any:
    """Run a PyTorch model chunk by chunk with exactly its offline result: a
    ``torch.nn.Module`` with ``push``, ``flush``, ``reset``, ``state_spec`` and the explicit
    state ``initial_state`` / ``step`` for ONNX export; ``fast=True`` replays the steady pushes
    of ``chunk_size`` through ONNX Runtime or TorchScript (see
    :mod:`convtrace.inspect.streamify`; imports torch when called).

    >>> import torch, convtrace
    >>> sm = convtrace.streamify(torch.nn.Conv1d(1, 1, 3), (1, 1, 8))
    >>> sm.push(torch.ones(1, 1, 4)).shape, sm.flush().shape
    (torch.Size([1, 1, 2]), torch.Size([1, 1, 0]))
    """
    from .inspect.streamify import streamify as implementation

    return implementation(model, input_shape, chunk_size=chunk_size, time_dim=time_dim, fast=fast)


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
