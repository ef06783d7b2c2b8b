"""Trace -> drawing model: one :class:`~convtrace.draw.model.Figure` per step, an overview,
and the animation that every format shares.

Frames: a Conv1d trace has one frame per explained step (the window moving along the padded
input); a ConvTranspose1d trace has one per scatter placement (each input sample stamping
the scaled kernel into the output). ``step=None`` gives the overview: every window of a
Conv1d as a staircase; for ConvTranspose1d the finished scatter, the overlap bar, the
zero-insertion view and the matrix as a heat map.

>>> from convtrace import explain
>>> t = explain([1, 1, 1, 1], [1, 1, 1], padding=1, verify=False)
>>> frame_count(t), build_figure(t, step=3).title
(4, 'Conv1d — step 4 of 4: y4')
>>> anim = build_animation(t)
>>> len(anim.frames), len({(f.width, f.height) for f in anim.frames})
(4, 1)
"""

from __future__ import annotations

from dataclasses import replace

from ..errors import ConvtraceError
from ..trace.model import AnyTrace, PoolTrace
from .common import Context
from .conv_figure import conv_frame, conv_overview
from .labels import check_lang
from .model import Animation, Figure
from .pool_data import picture_of
from .pool_figure import (
    PoolContext,
    pool_frame,
    pool_frame_count,
    pool_overview,
    unpool_frame,
    unpool_overview,
)
from .transposed_figure import placements, scatter_frame, transposed_overview

__all__ = ["build_figure", "build_animation", "frame_count", "check_step", "MAX_FRAMES"]

#: most frames of one animation (a trace holds at most ``max_steps`` steps anyway)
MAX_FRAMES = 64


def frame_count(trace: AnyTrace) -> int:
    """How many frames the animation of ``trace`` has (a streamed trace: every push, then
    the flush)."""
    if not isinstance(trace, PoolTrace) and trace.stream is not None:
        from .stream_figure import stream_frame_count

        return stream_frame_count(trace)
    if isinstance(trace, PoolTrace):
        return min(pool_frame_count(picture_of(trace)), MAX_FRAMES)
    if trace.spec.transposed:
        return min(len(placements(trace)), MAX_FRAMES)
    return min(len(trace.steps), MAX_FRAMES)


def check_step(trace: AnyTrace, step: int | None, first: int = 0) -> None:
    """A clear error unless ``step`` is None or a frame of ``trace``, counted from ``first``
    (0 in Python, as indices; 1 on the command line, as the titles: "step 1 of 4").

    >>> from convtrace import explain
    >>> check_step(explain([1, 2, 3], [1, 1], verify=False), 3, first=1)
    Traceback (most recent call last):
    ...
    convtrace.errors.ConvtraceError: step=3: step must be an integer in [1, 2] (this figure has 2 frames)
    """
    if step is None:
        return
    count = frame_count(trace)
    if isinstance(step, bool) or not isinstance(step, int) or not first <= step < count + first:
        raise ConvtraceError("step", step, f"step must be an integer in [{first}, {count + first - 1}] (this figure has "
                             f"{count} frames)" if count else "this trace has no steps to draw")


def build_figure(trace: AnyTrace, step: int | None = None, lang: str = "en") -> Figure:
    """The figure of frame ``step`` (0-based), or the overview when ``step`` is None."""
    check_lang(lang)
    check_step(trace, step)
    if isinstance(trace, PoolTrace):
        return _pool_figure(PoolContext(picture_of(trace), lang), step)
    if trace.stream is not None:  # the chunk loop: the explained push, or frame ``step``
        from .stream_figure import stream_frames

        return stream_frames(trace, lang)[trace.stream.push - 1 if step is None else step]
    return _figure(Context.of(trace, lang), step)


def _pool_figure(ctx: PoolContext, step: int | None) -> Figure:
    if ctx.picture.op == "max_unpool1d":
        return unpool_overview(ctx) if step is None else unpool_frame(ctx, step)
    return pool_overview(ctx) if step is None else pool_frame(ctx, step)


def _figure(ctx: Context, step: int | None) -> Figure:
    trace = ctx.trace
    if trace.spec.transposed:
        return transposed_overview(ctx) if step is None else scatter_frame(ctx, step)
    if step is None:
        return conv_overview(ctx)
    return conv_frame(ctx, step)


def _same_size(frames: list[Figure]) -> tuple[Figure, ...]:
    """Frames padded to one canvas (the largest), as an animation needs."""
    width = max(f.width for f in frames)
    height = max(f.height for f in frames)
    out = []
    for f in frames:
        if (f.width, f.height) != (width, height):
            f = replace(f, width=width, height=height)
        out.append(f)
    return tuple(out)


def build_animation(trace: AnyTrace, lang: str = "en") -> Animation:
    """Every frame of ``trace`` on one canvas size (the overview alone if there are none).

    A pool slides its window one frame per output:

    >>> from convtrace import explain
    >>> t = explain(op="max_pool1d", input=[1, 3, 2, 5, 4], kernel_size=2, ceil_mode=True, verify=False)
    >>> len(build_animation(t).frames)
    3
    """
    check_lang(lang)
    count = frame_count(trace)
    if count == 0:
        overview = build_figure(trace, None, lang)
        return Animation((overview,))
    if isinstance(trace, PoolTrace):
        pool = PoolContext(picture_of(trace), lang)  # one context: its measurements serve every frame
        return Animation(_same_size([_pool_figure(pool, i) for i in range(count)]))
    if trace.stream is not None:
        from .stream_figure import stream_frames

        return Animation(stream_frames(trace, lang), delay_ms=1600, last_delay_ms=3000)
    ctx = Context.of(trace, lang)
    frames = [_figure(ctx, i) for i in range(count)]
    return Animation(_same_size(frames))


