"""convtrace: PyTorch's 1-D convolutions, reproduced, explained and planned exactly.

``import convtrace`` loads NumPy and the standard library only; PyTorch is imported lazily,
by :mod:`convtrace.interop`, only where it is used.

>>> import numpy as np, convtrace
>>> convtrace.functional.conv1d(np.ones((1, 1, 4)), np.ones((1, 1, 3)), padding=1).tolist()
[[[2.0, 3.0, 3.0, 2.0]]]
"""

from __future__ import annotations

from . import functional, grad, nn, shapes
from .errors import ConvtraceError, ConvtraceTypeError
from .params import ConvSpec, PaddingMode, PadMode
from .trace import Trace, explain, explain_transposed

__version__ = "0.1.0"

__all__ = [
    "ConvSpec",
    "ConvtraceError",
    "ConvtraceTypeError",
    "PadMode",
    "PaddingMode",
    "Trace",
    "explain",
    "explain_transposed",
    "functional",
    "grad",
    "nn",
    "shapes",
    "__version__",
]
