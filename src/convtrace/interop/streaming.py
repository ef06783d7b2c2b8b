"""``convtrace.interop.streaming.streamify``: stream a PyTorch model chunk by chunk.

The implementation lives in :mod:`convtrace.inspect.streamify`: it needs the inspector's
recording, and ``inspect`` is above ``interop`` in the layers. This module is the one
upward late binding of ``interop``: :func:`streamify` resolves its implementation by module
name (:data:`IMPLEMENTATION`) when it is called, as :mod:`convtrace.stream.verify` resolves
PyTorch's offline forward, so nothing here imports a higher layer at import time.

>>> import torch
>>> model = torch.nn.Conv1d(1, 1, 3, padding=1).double()
>>> sm = streamify(model, (1, 1, 16))
>>> x = torch.randn(1, 1, 16, dtype=torch.float64)
>>> y = torch.cat([sm.push(x[..., :7]), sm.push(x[..., 7:]), sm.flush()], -1)
>>> bool(torch.allclose(y, model(x)))
True
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

__all__ = ["streamify", "IMPLEMENTATION"]

#: the module that implements :func:`streamify` (above this layer: resolved by name)
IMPLEMENTATION = "convtrace.inspect.streamify"


def streamify(model: Any, input_shape: Sequence[int], *, chunk_size: int | None = None, time_dim: int = -1,
              fast: bool | str = False) -> Any:
    """:func:`convtrace.inspect.streamify.streamify`: a ``torch.nn.Module`` running
    ``model`` chunk by chunk (``push``, ``flush``, ``reset``, ``step``, ``state_spec``)."""
    implementation = importlib.import_module(IMPLEMENTATION)
    return implementation.streamify(model, input_shape, chunk_size=chunk_size, time_dim=time_dim, fast=fast)
