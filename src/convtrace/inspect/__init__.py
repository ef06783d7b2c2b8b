"""Inspecting real PyTorch models (this package runs torch; it imports it lazily, inside
functions, so ``import convtrace`` stays torch-free).

* :func:`inspect` — one forward pass on the meta device: every Conv1d, ConvTranspose1d
  (also under weight-norm parametrizations), every pool (MaxPool1d, AvgPool1d, LPPool1d,
  AdaptiveAvgPool1d, AdaptiveMaxPool1d, MaxUnpool1d) and every time-axis ``F.pad``,
  functional conv/pool call and crop made inside ``forward``; lengths, receptive field, hop
  and offset so far (after an adaptive pool: at this input length only); warnings.
* :func:`length_map` — the output length for each input length, or PyTorch's error, and
  the lengths whose output is not what the strides promise.
* :func:`explain_layer` — one output element of one layer, with the model's own weights and
  the layer's actual input, step by step, beside PyTorch's value.

The module itself is callable: ``convtrace.inspect(model, input_shape)``.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Sequence
from typing import Any

from .explain import LayerExplanation, explain_layer
from .lengths import LengthMap, length_map
from .model import InspectCall, InspectReport, ModelRaisedError, inspect_model

__all__ = [
    "inspect",
    "inspect_model",
    "length_map",
    "explain_layer",
    "InspectCall",
    "InspectReport",
    "ModelRaisedError",
    "LengthMap",
    "LayerExplanation",
]


def inspect(model: Any, input_shape: Sequence[int] | None = None, example_input: Any = None, *,
            time_dim: int = -1, dtype: Any = None, raise_on_error: bool = True) -> InspectReport:  # fmt: skip
    """Inspect ``model`` on an input of ``input_shape`` (or ``example_input``); time on
    ``time_dim``; ``dtype`` of the input (default: the model's, e.g. ``torch.long`` for token
    ids). Where PyTorch raises: :class:`ModelRaisedError` (a ``ConvtraceError``) with the
    partial report as ``.report`` — or, with ``raise_on_error=False``, that report. See
    :func:`convtrace.inspect.model.inspect_model`."""
    return inspect_model(model, input_shape, example_input, time_dim=time_dim, dtype=dtype,
                         raise_on_error=raise_on_error)  # fmt: skip


class _CallableModule(types.ModuleType):
    """``convtrace.inspect`` is this package and the function at once."""

    def __call__(self, model: Any, input_shape: Sequence[int] | None = None, example_input: Any = None, *,
                 time_dim: int = -1, dtype: Any = None, raise_on_error: bool = True) -> InspectReport:  # fmt: skip
        return inspect(model, input_shape, example_input, time_dim=time_dim, dtype=dtype,
                       raise_on_error=raise_on_error)  # fmt: skip


sys.modules[__name__].__class__ = _CallableModule
