"""Streaming: run a chain of convtrace layers chunk by chunk with exactly the offline result.

:mod:`convtrace.stream.timing` holds the arithmetic (what each layer keeps, waits for and
emits), once.
"""

from __future__ import annotations

from .timing import ChainTiming, LayerTiming, Refusal, chain_timing, layer_timing, refusal

__all__ = ["ChainTiming", "LayerTiming", "Refusal", "chain_timing", "layer_timing", "refusal"]
