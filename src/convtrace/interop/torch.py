"""Convert modules and arrays between convtrace and PyTorch (imports torch).

>>> import convtrace.nn as cnn
>>> m = cnn.Conv1d(2, 3, 5, padding="same", padding_mode="circular", rng=0)
>>> t = to_torch_module(m)
>>> type(t).__name__, tuple(t.weight.shape), t.padding_mode
('Conv1d', (3, 2, 5), 'circular')
>>> back = from_torch_module(t)
>>> bool((back.weight == m.weight).all())
True
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..errors import ConvtraceError, ConvtraceTypeError

__all__ = ["require_torch", "to_tensor", "to_numpy", "to_torch_module", "from_torch_module", "torch_version", "onednn"]


def require_torch() -> Any:
    """Import torch, or raise a clear error saying how to install it."""
    try:
        import torch
    except ImportError:  # pragma: no cover - depends on the environment
        raise ConvtraceError(
            "torch",
            None,
            "PyTorch is not installed: pip install 'convtrace[torch]' (or torch==2.13.0 for the CPU build)",
        ) from None
    return torch


def to_tensor(a: np.ndarray) -> Any:
    torch = require_torch()
    return torch.from_numpy(np.ascontiguousarray(a).copy())


def to_numpy(t: Any) -> np.ndarray:
    return np.array(t.detach().cpu().resolve_conj().numpy(), copy=True)


def _torch_dtype(dtype: np.dtype) -> Any:
    torch = require_torch()
    return {
        np.dtype(np.float16): torch.float16,
        np.dtype(np.float32): torch.float32,
        np.dtype(np.float64): torch.float64,
        np.dtype(np.complex64): torch.complex64,
        np.dtype(np.complex128): torch.complex128,
    }[np.dtype(dtype)]


def to_torch_module(m: Any) -> Any:
    """A ``torch.nn.Conv1d`` / ``ConvTranspose1d`` with the same configuration and weights."""
    torch = require_torch()
    from ..nn import Conv1d, ConvTranspose1d

    if not isinstance(m, (Conv1d, ConvTranspose1d)):
        raise ConvtraceTypeError("module", m, f"expected a convtrace Conv1d or ConvTranspose1d, got {type(m).__name__}")
    padding = m.padding if isinstance(m.padding, str) else m.padding[0]
    common = dict(
        in_channels=m.in_channels,
        out_channels=m.out_channels,
        kernel_size=m.kernel_size[0],
        stride=m.stride[0],
        padding=padding,
        dilation=m.dilation[0],
        groups=m.groups,
        bias=m.bias is not None,
        padding_mode=m.padding_mode,
        dtype=_torch_dtype(m.dtype),
    )
    if isinstance(m, ConvTranspose1d):
        t = torch.nn.ConvTranspose1d(output_padding=m.output_padding[0], **common)
    else:
        t = torch.nn.Conv1d(**common)
    with torch.no_grad():
        t.weight.copy_(torch.from_numpy(np.ascontiguousarray(m.weight)))
        if m.bias is not None:
            t.bias.copy_(torch.from_numpy(np.ascontiguousarray(m.bias)))
    return t


def from_torch_module(t: Any, expected: type | None = None) -> Any:
    """A convtrace module with the configuration and (copied) weights of a torch one;
    ``expected`` (:class:`convtrace.nn.Conv1d` or ``ConvTranspose1d``) rejects the other kind."""
    torch = require_torch()
    if expected is not None:
        torch_cls = getattr(torch.nn, expected.__name__)
        if not isinstance(t, torch_cls):
            raise ConvtraceTypeError(
                "module", t, f"expected a torch.nn.{expected.__name__}, got {type(t).__name__}"
            )
    from ..nn import Conv1d, ConvTranspose1d

    if isinstance(t, torch.nn.ConvTranspose1d):
        m: Any = ConvTranspose1d(
            t.in_channels, t.out_channels, t.kernel_size, t.stride, t.padding, t.output_padding,
            t.groups, t.bias is not None, t.dilation, t.padding_mode,
            dtype=np.dtype(str(t.weight.dtype).replace("torch.", "")),
        )
    elif isinstance(t, torch.nn.Conv1d):
        m = Conv1d(
            t.in_channels, t.out_channels, t.kernel_size, t.stride, t.padding, t.dilation, t.groups,
            t.bias is not None, t.padding_mode, dtype=np.dtype(str(t.weight.dtype).replace("torch.", "")),
        )
    else:
        raise ConvtraceTypeError(
            "module", t, f"expected torch.nn.Conv1d or torch.nn.ConvTranspose1d, got {type(t).__name__}"
        )
    m.weight = to_numpy(t.weight)
    if t.bias is not None:
        m.bias = to_numpy(t.bias)
    return m


def torch_version() -> str | None:
    """PyTorch's version, or None when it is not installed (imports torch when it is)."""
    try:
        import torch
    except ImportError:  # pragma: no cover - depends on the environment
        return None
    return str(torch.__version__)


@contextmanager
def onednn(enabled: bool) -> Iterator[None]:
    """PyTorch with its oneDNN (mkldnn) backend switched on or off inside the block (its
    answer can depend on it); the flags' warning about Intel GPUs is silenced.

    >>> with onednn(False):
    ...     import torch
    ...     torch.backends.mkldnn.enabled
    False
    """
    torch = require_torch()
    with warnings.catch_warnings():  # flags() also sets TF32 for Intel GPUs, and warns that there are none
        warnings.simplefilter("ignore", UserWarning)
        flags = torch.backends.mkldnn.flags(enabled=enabled)
        flags.__enter__()
    try:
        yield
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            flags.__exit__(None, None, None)
