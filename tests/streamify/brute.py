"""A brute-force stand-in for ``streamify`` — the verifier's own test double, independent of
the core: it keeps every sample pushed, reruns the whole model on it (a private copy, so the
verifier's hooks see nothing of it) and, after ``n`` input samples, emits the first
``ready(n)`` outputs (the test gives the model's true rule); ``flush`` emits the rest.
``late``/``early``/``corrupt``/``drop`` plant the faults the verifier must report."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import torch


class Brute(torch.nn.Module):
    """``late``: one output fewer than ready after each push that could emit; ``early``: one
    more (not final yet); ``corrupt``: add 1 to output sample ``corrupt``; ``drop``: lose
    output sample ``drop`` (the rest shift left)."""

    def __init__(self, model: Any, ready: Callable[[int], int], time_dim: int = -1, *, late: bool = False,
                 early: bool = False, corrupt: int | None = None, drop: int | None = None) -> None:  # fmt: skip
        super().__init__()
        self.model = copy.deepcopy(model).double()
        self.ready, self.time_dim = ready, time_dim
        self.receptive_field, self.hop, self.lookahead = 64, 1, 0
        self.late, self.early, self.corrupt, self.drop = late, early, corrupt, drop
        self.reset()

    def reset(self) -> None:
        self.seen: list[torch.Tensor] = []
        self.emitted = 0

    def _emit(self, upto: int, dtype: torch.dtype) -> torch.Tensor:
        x = torch.cat(self.seen, dim=self.time_dim).double()
        if x.shape[self.time_dim] == 0:  # nothing yet: an empty output of the right shape
            x = torch.zeros(x.shape[: self.time_dim % x.dim()] + (1,) + x.shape[self.time_dim % x.dim() + 1 :])
            with torch.no_grad():
                return self.model(x.double())[..., :0].to(dtype)
        with torch.no_grad():
            y = self.model(x).numpy()
        if self.corrupt is not None and y.shape[-1] > self.corrupt:
            y[..., self.corrupt] += 1.0
        if self.drop is not None and y.shape[-1] > self.drop:
            y = np.delete(y, self.drop, axis=-1)
        upto = min(max(self.emitted, upto), y.shape[-1])
        out = torch.from_numpy(np.ascontiguousarray(y[..., self.emitted : upto])).to(dtype)
        self.emitted = upto
        return out

    def push(self, chunk: torch.Tensor) -> torch.Tensor:
        self.seen.append(chunk)
        n = sum(c.shape[self.time_dim] for c in self.seen)
        ready = self.ready(n)
        if self.late and ready > self.emitted:
            ready -= 1
        if self.early and n:
            ready += 1
        return self._emit(ready, chunk.dtype)

    def flush(self) -> torch.Tensor:
        out = self._emit(10**9, self.seen[0].dtype) if self.seen else torch.zeros(0)
        self.reset()
        return out
