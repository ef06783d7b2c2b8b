"""Streaming: run a chain of convtrace layers chunk by chunk with exactly the offline result.

:mod:`convtrace.stream.timing` holds the arithmetic (what each layer keeps, waits for and
emits), once.
"""

from __future__ import annotations

from .stages import StateEntry
from .streamer import Pointwise, Streamer, layer_of
from .timing import ChainTiming, LayerTiming, Refusal, chain_timing, layer_timing, refusal

__all__ = [
    "Streamer",
    "Pointwise",
    "StateEntry",
    "layer_of",
    "ChainTiming",
    "LayerTiming",
    "Refusal",
    "chain_timing",
    "layer_timing",
    "refusal",
]
