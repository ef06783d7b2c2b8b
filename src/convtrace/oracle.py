"""The oracle's side, without torch: what convtrace asks PyTorch and how it judges the answer.

The PyTorch call text (:func:`module_call`), the tolerances (:func:`tolerance`) and the
comparison (:func:`compare`) are used by the explainer (which never imports torch) and by
:mod:`convtrace.interop.check` (which runs torch).

>>> module_call(False, in_channels=1, out_channels=1, kernel_size=3, stride=2, padding=1,
...             bias=False)
'torch.nn.Conv1d(in_channels=1, out_channels=1, kernel_size=3, stride=2, padding=1, bias=False)'
>>> module_call(True, in_channels=2, out_channels=4, kernel_size=3, stride=2, padding=0,
...             output_padding=1, groups=2, bias=True)
'torch.nn.ConvTranspose1d(in_channels=2, out_channels=4, kernel_size=3, stride=2, padding=0, output_padding=1, groups=2)'
"""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np

__all__ = ["MISSING_NOTE", "torch_available", "tolerance", "module_call", "compare", "close"]

MISSING_NOTE = "install torch to check against PyTorch: pip install 'convtrace[torch]'"


def torch_available() -> bool:
    """Whether ``import torch`` would succeed (without importing it)."""
    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):  # pragma: no cover
        return False


def tolerance(dtype: np.dtype) -> float:
    """Relative tolerance (to Σ|x·w| + |b|) for comparing results computed in ``dtype``.

    >>> tolerance(np.dtype(np.float32)) > tolerance(np.dtype(np.float64))
    True
    """
    kind = np.dtype(dtype)
    if kind in (np.float16,):
        return 2e-3
    if kind in (np.float32, np.complex64):
        return 2e-6
    return 1e-12


def module_call(
    transposed: bool,
    *,
    in_channels: int,
    out_channels: int,
    kernel_size: int,
    stride: int = 1,
    padding: int | str = 0,
    dilation: int = 1,
    groups: int = 1,
    bias: bool = True,
    padding_mode: str = "zeros",
    output_padding: int = 0,
) -> str:
    """The ``torch.nn.Conv1d(...)`` / ``ConvTranspose1d(...)`` constructor, as the post writes it:
    stride and padding always, other arguments where they differ from PyTorch's defaults."""
    name = "ConvTranspose1d" if transposed else "Conv1d"
    args = [
        f"in_channels={in_channels}",
        f"out_channels={out_channels}",
        f"kernel_size={kernel_size}",
        f"stride={stride}",
        f"padding={padding!r}",
    ]
    if transposed and output_padding:
        args.append(f"output_padding={output_padding}")
    if dilation != 1:
        args.append(f"dilation={dilation}")
    if groups != 1:
        args.append(f"groups={groups}")
    if not bias:
        args.append("bias=False")
    if padding_mode != "zeros":
        args.append(f"padding_mode={padding_mode!r}")
    return f"torch.nn.{name}({', '.join(args)})"


def compare(
    ours: np.ndarray, theirs: np.ndarray, bound: np.ndarray, dtype: np.dtype
) -> tuple[float, bool]:
    """Max abs difference and agreement within ``tolerance(dtype) * bound`` elementwise."""
    ours = np.asarray(ours)
    theirs = np.asarray(theirs)
    if ours.shape != theirs.shape:
        return float("inf"), False
    if ours.size == 0:
        return 0.0, True
    diff = np.abs(ours.astype(theirs.dtype) - theirs)
    both_nan = np.isnan(np.abs(ours)) & np.isnan(np.abs(theirs))
    diff = np.where(both_nan, 0.0, diff)
    tol = tolerance(dtype) * (bound + 1.0) + 1e-300
    same_inf = np.isinf(np.abs(ours)) & (ours == theirs)
    ok = bool(np.all((diff <= tol) | both_nan | same_inf))
    finite = diff[np.isfinite(diff)]
    mad = float(finite.max()) if finite.size else (float("inf") if diff.size else 0.0)
    if diff.size and not np.all(np.isfinite(diff) | both_nan | same_inf):
        mad = float("inf")
    return mad, ok


def close(ours: np.ndarray, theirs: np.ndarray | None, dtype: np.dtype[Any], bound: np.ndarray | None = None) -> bool:
    """Do two computations of one output agree within 4x :func:`compare`'s tolerance (to
    ``bound``, elementwise; default ``|theirs|``)?

    >>> close(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-15]), np.dtype(np.float64))
    True
    """
    if theirs is None or ours.shape != theirs.shape:
        return False
    scale = np.abs(theirs) if bound is None else bound
    tol = tolerance(dtype) * (scale + 1.0) * 4
    diff = np.abs(ours.astype(np.result_type(ours, theirs)) - theirs)
    nan = np.isnan(np.abs(ours)) & np.isnan(np.abs(theirs))
    return bool(np.all((diff <= tol) | nan | ((ours == theirs) & np.isinf(np.abs(theirs)))))
