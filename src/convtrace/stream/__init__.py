"""Streaming: run a chain of convtrace layers chunk by chunk with exactly the offline result.

:mod:`convtrace.stream.timing` holds the arithmetic (what each layer keeps, waits for and
emits), once; :mod:`convtrace.stream.schedule` the emission by evaluation where two values
can coincide for every end (the arithmetic tracks where values come from); :class:`Streamer` runs a chain chunk by chunk; :func:`verify` proves, by
random chunk schedules, that the streamed output is the offline one, emitted as early as
possible.

>>> import numpy as np
>>> from convtrace import nn
>>> from convtrace.stream import Streamer, Pointwise
>>> s = Streamer([nn.Conv1d(1, 4, 3, padding=1, dtype=np.float64, rng=0), Pointwise(np.tanh),
...               nn.ConvTranspose1d(4, 1, 4, stride=2, padding=1, dtype=np.float64, rng=1)])
>>> x = np.random.default_rng(0).standard_normal((1, 1, 50))
>>> y = np.concatenate([s.push(x[..., :7]), s.push(x[..., 7:8]), s.push(x[..., 8:]), s.flush()], axis=-1)
>>> y.shape
(1, 1, 100)
"""

from __future__ import annotations

from .build import chain_of
from .report import StreamReport, check_stack, report
from .stages import StateEntry
from .streamer import Pointwise, Streamer, layer_of
from .timing import ChainTiming, LayerTiming, Refusal, chain_timing, layer_timing, refusal
from .verify import Mismatch, VerifyResult, verify

__all__ = [
    "Streamer",
    "report",
    "StreamReport",
    "check_stack",
    "verify",
    "VerifyResult",
    "Mismatch",
    "Pointwise",
    "StateEntry",
    "layer_of",
    "chain_of",
    "ChainTiming",
    "LayerTiming",
    "Refusal",
    "chain_timing",
    "layer_timing",
    "refusal",
]
