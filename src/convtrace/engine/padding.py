"""Where every padded sample comes from: one index map serves ``pad`` and the explainer.

``pad_source(L, left, right, mode)[j]`` is the input index that padded position ``j``
copies, or ``-1`` for a constant (zero) sample. Negative pads crop, as in PyTorch.

>>> pad_source(4, 2, 2, "reflect").tolist()
[2, 1, 0, 1, 2, 3, 2, 1]
>>> pad_source(4, 2, 2, "replicate").tolist()
[0, 0, 0, 1, 2, 3, 3, 3]
>>> pad_source(4, 2, 2, "circular").tolist()
[2, 3, 0, 1, 2, 3, 0, 1]
>>> pad_source(4, 1, 1, "constant").tolist()
[-1, 0, 1, 2, 3, -1]
>>> pad_source_at([0, 5, 7], 4, 2, "reflect").tolist()
[2, 3, 1]
"""

from __future__ import annotations

import numpy as np

from ..shapes import pad_source_at

__all__ = ["pad_source", "pad_source_at", "apply_pad"]


def pad_source(length: int, left: int, right: int, mode: str) -> np.ndarray:
    """Source index of each position of the padded (and cropped) signal; -1 means constant."""
    out_len = length + left + right
    if mode == "circular":
        # PyTorch crops first, then wraps the cropped centre around.
        a = max(-left, 0)
        b = length - max(-right, 0)
        c = b - a
        pl, pr = max(left, 0), max(right, 0)
        centre = np.arange(a, b)
        if c == 0:
            return centre
        parts = [centre[c - pl :] if pl else centre[:0], centre, centre[:pr]]
        return np.concatenate(parts)
    return pad_source_at(np.arange(out_len), length, left, mode)


def apply_pad(x: np.ndarray, left: int, right: int, mode: str, value: float = 0.0) -> np.ndarray:
    """Pad (or crop) the last axis of ``x``; a new array, ``x`` untouched."""
    length = x.shape[-1]
    if mode == "constant":
        out = np.full(x.shape[:-1] + (length + left + right,), value, dtype=x.dtype)
        src_lo, dst_lo = max(0, -left), max(0, left)
        m = min(length - src_lo, out.shape[-1] - dst_lo)
        if m > 0:
            out[..., dst_lo : dst_lo + m] = x[..., src_lo : src_lo + m]
        return out
    return np.take(x, pad_source(length, left, right, mode), axis=-1)
