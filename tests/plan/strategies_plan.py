"""Hypothesis strategies for planner layers (small, so PyTorch checks stay fast)."""

from __future__ import annotations

from hypothesis import strategies as st

from convtrace.errors import ConvtraceError
from convtrace.plan.layers import Layer


@st.composite
def layers(draw: st.DrawFn, kinds: tuple[str, ...] = ("conv", "convT", "maxpool", "avgpool", "pad")) -> Layer:
    kind = draw(st.sampled_from(kinds))
    k = draw(st.integers(1, 7))
    s = draw(st.integers(1, 5))
    d = draw(st.integers(1, 3))
    if kind == "pad":
        return Layer("pad", pad_left=draw(st.integers(-3, 4)), pad_right=draw(st.integers(-3, 4)))
    if kind == "conv":
        padding: int | str = draw(st.one_of(st.integers(0, 4), st.sampled_from(["same", "valid"])))
        if padding == "same":
            s = 1
        explicit = draw(st.booleans())
        left, right = (draw(st.integers(0, 4)), draw(st.integers(0, 4))) if explicit else (0, 0)
        return Layer("conv", k, s, padding, d, pad_left=left, pad_right=right)
    if kind == "convT":
        op = draw(st.integers(0, max(s, d) - 1))
        return Layer("convT", k, s, draw(st.integers(0, 4)), d, output_padding=op)
    if kind in ("adaptiveavgpool", "adaptivemaxpool"):
        return Layer(kind, output_size=draw(st.integers(1, 12)))
    if kind == "lppool":
        return Layer("lppool", k, s, ceil_mode=draw(st.booleans()), norm_type=draw(st.sampled_from([1, 2, 3, 1.5])))
    if kind == "maxunpool":
        return Layer("maxunpool", k, s, draw(st.integers(0, k // 2)))
    p = draw(st.integers(0, k // 2))
    ceil = draw(st.booleans())
    if kind == "maxpool":
        return Layer("maxpool", k, s, p, d, ceil_mode=ceil)
    return Layer("avgpool", k, s, p, ceil_mode=ceil, count_include_pad=draw(st.booleans()))


#: every pool kind, and the conv kinds and pad they appear beside
POOL_KINDS = ("maxpool", "avgpool", "lppool", "adaptiveavgpool", "adaptivemaxpool", "maxunpool")
WITH_POOLS = ("conv", "convT", "pad") + POOL_KINDS


def try_out(layer: Layer, n: int) -> int | None:
    try:
        return layer.out_length(n)
    except ConvtraceError:
        return None
