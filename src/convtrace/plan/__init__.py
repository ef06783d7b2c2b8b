"""Planning 1-D conv nets, without PyTorch: one layer's lengths (:mod:`.shape`), the inverse
problem — which layer reaches a goal (:mod:`.solve`) — and the arithmetic of a stack of
layers (:mod:`.stack`: receptive field, hop, offset, lookahead, multiply-adds).

>>> from convtrace import plan
>>> plan.analyse_stack(plan.parse_stack("conv k=7 p=3; 4x(conv k=4 s=2 p=1)"), 16000).hop
Fraction(16, 1)
"""

from __future__ import annotations

from .layers import Layer
from .report import Finding
from .shape import ShapeReport, input_lengths_for, shape
from .solve import Solution, SolveReport, solve
from .stack import LayerReport, StackReport, analyse_stack, parse_stack

__all__ = [
    "Finding",
    "Layer",
    "LayerReport",
    "ShapeReport",
    "Solution",
    "SolveReport",
    "StackReport",
    "analyse_stack",
    "input_lengths_for",
    "parse_stack",
    "shape",
    "solve",
]
