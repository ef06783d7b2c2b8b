"""Making a model from ``package.module:factory[:key=value,...]`` (the ``convtrace
inspect`` command line): import the factory, call it with its keyword arguments, check it
returned a ``torch.nn.Module``. torch is imported inside :func:`load_model` only.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from ..errors import ConvtraceError

__all__ = ["parse_factory", "load_model", "parse_dtype"]


def parse_factory(spec: str) -> tuple[str, str, dict[str, Any]]:
    """``module:attr[:k=v,...]`` → (module, attr, kwargs).

    >>> parse_factory("pkg.models:make:channels=32,name=enc")
    ('pkg.models', 'make', {'channels': 32, 'name': 'enc'})
    """
    parts = spec.split(":", 2)
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise ConvtraceError("model", spec, "name the model as package.module:factory (e.g. mymodels:build)")
    kwargs: dict[str, Any] = {}
    if len(parts) == 3 and parts[2]:
        for item in parts[2].split(","):
            key, sep, raw = item.partition("=")
            if not sep or not key.isidentifier():
                raise ConvtraceError("model", spec, f"factory arguments are key=value pairs, got {item!r}")
            kwargs[key] = _value(raw)
    return parts[0], parts[1], kwargs


def _value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def load_model(spec: str, extra: dict[str, Any] | None = None) -> Any:
    """Import the factory and call it (a module instance is returned as it is)."""
    import importlib

    module_name, attr, kwargs = parse_factory(spec)
    kwargs.update(extra or {})
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConvtraceError("model", spec, f"cannot import {module_name!r}: {exc}") from None
    factory = module
    for part in attr.split("."):
        if not hasattr(factory, part):
            raise ConvtraceError("model", spec, f"{module_name!r} has no attribute {attr!r}")
        factory = getattr(factory, part)
    import torch

    if isinstance(factory, torch.nn.Module):
        return factory
    if not callable(factory):
        raise ConvtraceError("model", spec, f"{attr!r} is neither a torch.nn.Module nor callable")
    try:
        model = factory(**kwargs)
    except Exception as exc:
        raise ConvtraceError("model", spec, f"the factory raised {type(exc).__name__}: {exc}") from None
    if not isinstance(model, torch.nn.Module):
        raise ConvtraceError("model", spec, f"the factory returned {type(model).__name__}, not a torch.nn.Module")
    return model


def parse_dtype(name: str | None) -> Any:
    """A torch dtype by name (``float32``, ``int64``, ...); None stays None."""
    if name is None:
        return None
    import torch

    dtype = getattr(torch, name, None)
    if not isinstance(dtype, torch.dtype):
        raise ConvtraceError("dtype", name, "the dtype must name a torch dtype, e.g. float32, float64, int64")
    return dtype
