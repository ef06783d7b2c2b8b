"""Streaming arithmetic, once: what each layer keeps, waits for and emits when its input
arrives chunk by chunk. Pure integers (no arrays): the streaming engine
(:class:`convtrace.stream.Streamer`) and the streaming report both use it.

A layer (a :class:`convtrace.plan.layers.Layer`) streams as a short sequence of *steps*:

- :class:`PadStep` — ``F.pad`` of the time axis (the layer's own padding, or a pad layer):
  constant / replicate / reflect (negative amounts crop);
- :class:`WindowStep` — a valid (unpadded) strided, dilated window: Conv1d's sums;
- :class:`PoolStep` — MaxPool1d / AvgPool1d / LPPool1d with their padding and ceil_mode;
- :class:`ScatterStep` — ConvTranspose1d: overlap-add, then the ``padding`` crop.

For each step, ``ready(n)`` is the number of outputs that are final once ``n`` input
samples have arrived while the stream goes on (the end is unknown): exactly the outputs
whose value and existence no later input and no end can change. ``length(n)`` is the
output length once the stream ends after ``n`` samples (PyTorch's, with its errors), and
``cache`` the input samples per channel the step keeps between pushes at most.
:func:`step_window` adds what is final beyond that in-order prefix (samples final out of
order, and constants fixed wherever the stream ends); :func:`chain_ready` counts both.

>>> from convtrace.plan.layers import Layer
>>> conv = Layer("conv", kernel_size=4, stride=2, padding=1)
>>> steps_of(conv)
(PadStep(left=1, right=1, mode='constant'), WindowStep(span=4, stride=2))
>>> [ready(conv, n) for n in range(8)]   # output t needs input up to 2t + 2
[0, 0, 0, 1, 1, 2, 2, 3]
>>> t = layer_timing(conv)
>>> t.cache, t.lookahead, t.hop, t.first_output
(3, Fraction(2, 1), Fraction(2, 1), 3)
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

from ..errors import ConvtraceError
from ..plan.layers import TORCH_NAMES, Layer
from ..plan.stack import figures
from ..shapes import same_padding

__all__ = [
    "PadStep",
    "WindowStep",
    "PoolStep",
    "ScatterStep",
    "Step",
    "Refusal",
    "LayerTiming",
    "ChainTiming",
    "refusal",
    "check_streamable",
    "steps_of",
    "step_ready",
    "step_cache",
    "scatter_final",
    "pad_head",
    "min_valid_length",
    "floor_after",
    "required_lengths",
    "ready",
    "chain_ready",
    "chain_window",
    "step_window",
    "step_dilation",
    "pool_padding_neutral",
    "can_end_at",
    "try_lengths",
    "leading_final",
    "known_length",
    "Entry",
    "Window",
    "makes_out_of_order",
    "layer_timing",
    "chain_timing",
    "first_output",
]


@dataclass(frozen=True)
class PadStep:
    """``F.pad(x, (left, right), mode)`` on the time axis; negative amounts crop (constant)."""

    left: int
    right: int
    mode: str = "constant"  # constant, replicate, reflect


@dataclass(frozen=True)
class WindowStep:
    """A valid window of ``span`` samples moving by ``stride`` (Conv1d after its padding)."""

    span: int
    stride: int


@dataclass(frozen=True)
class PoolStep:
    """A pool's window: ``span`` samples (dilated), ``stride``, ``padding`` on both sides;
    its last windows (the right padding, ceil_mode) are known only at the end."""

    span: int
    stride: int
    padding: int


@dataclass(frozen=True)
class ScatterStep:
    """ConvTranspose1d: input ``i`` adds to full positions ``i*stride + j*dilation``; the
    output is the full one, extended by ``output_padding``, cropped by ``padding`` per side."""

    span: int
    stride: int
    padding: int
    output_padding: int
    dilation: int = 1


Step = PadStep | WindowStep | PoolStep | ScatterStep


@dataclass(frozen=True)
class Refusal:
    """Why a layer cannot stream: ``param``, ``value``, ``reason`` and ``fix`` (None if
    there is none)."""

    param: str
    value: object
    reason: str
    fix: str | None


# ---------------------------------------------------------------------- refusals

#: the one wording of each refusal: (reason, fix)
REFUSALS: dict[str, tuple[str, str | None]] = {
    "circular": (
        "circular padding needs the end of the signal before its first output",
        "use padding_mode='zeros', 'replicate' or 'reflect' (or pad the whole signal before streaming)",
    ),
    "adaptive": (
        "an adaptive pool's windows depend on the whole input length",
        "use a fixed pool (MaxPool1d/AvgPool1d with kernel_size and stride), or run it on the streamed output at the end",
    ),
    "unpool": (
        "MaxUnpool1d needs the indices of its MaxPool1d (a second input): not a chain layer",
        "run the pool and unpool pair outside the streamed chain, or upsample with ConvTranspose1d(k, stride=k)",
    ),
    "negative_mode_pad": (
        "a negative (cropping) pad is only streamed in constant mode",
        "crop with a constant-mode pad layer (ConstantPad1d with a negative amount)",
    ),
    "padding_mode": (
        "ConvTranspose1d supports only padding_mode='zeros'",
        None,
    ),
}


def refusal(layer: Layer) -> Refusal | None:
    """Why ``layer`` cannot stream, or None if it can.

    >>> refusal(Layer("conv", kernel_size=3, padding=1, padding_mode="circular")).reason
    'circular padding needs the end of the signal before its first output'
    >>> refusal(Layer("conv", kernel_size=3, padding=1, padding_mode="reflect")) is None
    True
    """
    if layer.padding_mode == "circular" and (layer.kind == "pad" or _own_pads(layer) != (0, 0)):
        return _refused("padding_mode", "circular", "circular")
    if layer.kind in ("adaptiveavgpool", "adaptivemaxpool"):
        return _refused("kind", TORCH_NAMES[layer.kind], "adaptive")
    if layer.kind == "maxunpool":
        return _refused("kind", TORCH_NAMES[layer.kind], "unpool")
    if layer.kind == "convT" and layer.padding_mode != "zeros":
        return _refused("padding_mode", layer.padding_mode, "padding_mode")
    if layer.kind == "pad" and layer.padding_mode not in ("zeros", "constant") and min(layer.pad_left, layer.pad_right) < 0:
        return _refused("pad", (layer.pad_left, layer.pad_right), "negative_mode_pad")
    return None


def _refused(param: str, value: object, key: str) -> Refusal:
    reason, fix = REFUSALS[key]
    return Refusal(param, value, reason, fix)


def check_streamable(layer: Layer, where: str = "") -> None:
    """Raise :class:`~convtrace.errors.ConvtraceError` naming the layer, the reason and the
    fix if ``layer`` cannot stream.

    >>> check_streamable(Layer("adaptiveavgpool", output_size=1), "layer 2")
    Traceback (most recent call last):
    ...
    convtrace.errors.ConvtraceError: layer 2 (AdaptiveAvgPool1d): kind='AdaptiveAvgPool1d': cannot stream: an adaptive pool's windows depend on the whole input length (hint: use a fixed pool (MaxPool1d/AvgPool1d with kernel_size and stride), or run it on the streamed output at the end)
    """
    found = refusal(layer)
    if found is not None:
        call = f"{where} ({TORCH_NAMES[layer.kind]})" if where else TORCH_NAMES[layer.kind]
        raise ConvtraceError(found.param, found.value, f"cannot stream: {found.reason}", call=call, hint=found.fix)


# ---------------------------------------------------------------------- steps


def _own_pads(layer: Layer) -> tuple[int, int]:
    """A conv's own padding (in its padding_mode), without the explicit F.pad."""
    if layer.padding == "same":
        return same_padding(layer.kernel_size, layer.dilation)
    if layer.padding == "valid":
        return (0, 0)
    return (int(layer.padding), int(layer.padding))


def steps_of(layer: Layer) -> tuple[Step, ...]:
    """The streaming steps of one layer (it must stream: see :func:`refusal`).

    >>> steps_of(Layer("conv", kernel_size=3, padding="same", padding_mode="reflect", pad_left=2))
    (PadStep(left=2, right=0, mode='constant'), PadStep(left=1, right=1, mode='reflect'), WindowStep(span=3, stride=1))
    >>> steps_of(Layer("convT", kernel_size=4, stride=2, padding=1))
    (ScatterStep(span=4, stride=2, padding=1, output_padding=0, dilation=1),)
    """
    check_streamable(layer)
    if layer.kind == "pad":
        mode = "constant" if layer.padding_mode in ("zeros", "constant") else layer.padding_mode
        return (PadStep(layer.pad_left, layer.pad_right, mode),) if (layer.pad_left or layer.pad_right) else ()
    if layer.kind == "conv":
        steps: list[Step] = []
        if layer.pad_left or layer.pad_right:
            steps.append(PadStep(layer.pad_left, layer.pad_right, "constant"))
        left, right = _own_pads(layer)
        if left or right:
            mode = "constant" if layer.padding_mode == "zeros" else layer.padding_mode
            steps.append(PadStep(left, right, mode))
        steps.append(WindowStep(layer.span, layer.stride))
        return tuple(steps)
    if layer.kind == "convT":
        return (ScatterStep(layer.span, layer.stride, int(layer.padding), layer.output_padding, layer.dilation),)
    padding = 0 if layer.kind == "lppool" else int(layer.padding)
    return (PoolStep(layer.span, layer.stride, padding),)


def pad_head(step: PadStep) -> int:
    """Input samples the left pad waits for before anything leaves the step (reflect needs
    ``left + 1``, replicate 1, constant none).

    >>> pad_head(PadStep(3, 0, "reflect"))
    4
    """
    if step.left <= 0 or step.mode == "constant":
        return 0
    return step.left + 1 if step.mode == "reflect" else 1


def step_ready(step: Step, n: int, floor: int = 0) -> int:
    """Outputs of ``step`` that are final after ``n`` input samples (at least one push).
    ``floor``: the fewest input samples the step will have in all (what the layers before
    it will emit even if the stream ends now, or the shortest input the layer accepts):
    a ConvTranspose1d's right crop, and a cropping pad, cannot reach below it.

    >>> step_ready(ScatterStep(span=4, stride=2, padding=1, output_padding=0), 3)
    5
    >>> step_ready(PadStep(0, -2), 5), step_ready(PadStep(0, -2), 5, floor=6)
    (3, 4)
    """
    floor = max(floor, n)
    if isinstance(step, PadStep):
        if n < pad_head(step):
            return 0
        kept_end = min(n, floor - max(-step.right, 0))
        return max(step.left, 0) + max(0, kept_end - max(-step.left, 0))
    if isinstance(step, WindowStep):
        return (n - step.span) // step.stride + 1 if n >= step.span else 0
    if isinstance(step, PoolStep):
        reach = n + step.padding - step.span
        return reach // step.stride + 1 if reach >= 0 else 0
    return max(0, scatter_final(step, n, floor) - step.padding)


def scatter_final(step: ScatterStep, n: int, floor: int = 0) -> int:
    """Full (uncropped) positions of a ConvTranspose1d that are final after ``n`` inputs:
    up to the first position at or after the left crop that a later input reaches (input
    ``i`` adds to ``i*stride + j*dilation``; usually ``n*stride``), and within the right
    crop of the shortest possible end (``max(n, floor)`` inputs). The cropped positions
    count as final.

    >>> scatter_final(ScatterStep(span=4, stride=2, padding=3, output_padding=0), 3)
    5
    >>> scatter_final(ScatterStep(span=1, stride=2, padding=1, output_padding=0), 0, floor=2)  # a hole: bias only
    2
    """
    ends = max(n, floor)
    crop_bound = (ends - 1) * step.stride + step.span + step.output_padding - step.padding
    reached = n * step.stride
    if reached < step.padding:  # the first later input lands in the left crop: look past it
        taps = (step.span - 1) // step.dilation + 1
        reached = min(max(n, -(-(step.padding - j * step.dilation) // step.stride)) * step.stride
                      + j * step.dilation for j in range(taps))  # fmt: skip
    return max(0, min(reached, crop_bound))


def step_cache(step: Step) -> int:
    """Samples per channel ``step`` keeps between pushes at most (its state's length):
    a window keeps ``span - 1`` (chunks need not be multiples of the stride), a
    ConvTranspose1d the overlap-add tail ``span - stride`` (more if its crop holds back
    final samples), a pad the samples its right side needs at the end.

    >>> [step_cache(s) for s in steps_of(Layer("conv", kernel_size=5, stride=2, padding=2, padding_mode="reflect"))]
    [3, 4]
    """
    if isinstance(step, PadStep):
        if step.mode == "reflect":
            return max(step.left, step.right, 0) + 1
        if step.mode == "replicate":
            return 1
        return max(-step.right, 0)
    if isinstance(step, (WindowStep, PoolStep)):
        return step.span - 1
    return max(step.span - step.stride, step.padding - step.output_padding, 0)


@functools.lru_cache(maxsize=1024)
def min_valid_length(layer: Layer, out_at_least: int = 0) -> int:
    """The smallest input length PyTorch accepts for ``layer`` that gives at least
    ``out_at_least`` outputs; longer inputs do too (output lengths grow with the input).

    >>> min_valid_length(Layer("convT", kernel_size=1, stride=5, padding=3))
    3
    >>> min_valid_length(Layer("conv", kernel_size=3, stride=2), out_at_least=4)
    9
    >>> min_valid_length(Layer("pad", pad_left=1, pad_right=1))  # F.pad of an empty input is valid
    0
    """
    def enough(total: int) -> bool:
        out = layer.try_out_length(total)
        return out is not None and out >= max(out_at_least, 0)

    if enough(0):  # a constant pad: an empty input is valid (a crop before it may leave nothing)
        return 0
    high = 1
    while not enough(high):
        high *= 2
        if high > 1 << 40:  # pragma: no cover - no layer grows that slowly
            raise ConvtraceError("length", out_at_least, f"{TORCH_NAMES[layer.kind]} cannot give this many outputs")
    low = 0  # enough(low) is false
    while high - low > 1:
        mid = (low + high) // 2
        if enough(mid):
            high = mid
        else:
            low = mid
    return high


def required_lengths(layers: list[Layer] | tuple[Layer, ...]) -> tuple[int, ...]:
    """The shortest input each layer can have in all, for every later layer to accept its
    input: a stream cannot end shorter (the chain would raise), so a crop or a transposed
    layer's crop cannot reach below it.

    >>> required_lengths([Layer("pad", pad_left=0, pad_right=-1), Layer("conv", kernel_size=2)])
    (3, 2)
    """
    need, out = 0, []
    for layer in reversed(layers):
        need = min_valid_length(layer, need)
        out.append(need)
    return tuple(reversed(out))


def floor_after(layer: Layer, floor: int) -> int:
    """The fewest outputs ``layer`` gives in all when its input will have at least
    ``floor`` samples (the stream ending as soon as it can).

    >>> floor_after(Layer("convT", kernel_size=4, stride=2, padding=1), 3)
    6
    """
    return layer.out_length(max(floor, min_valid_length(layer)))


def ready(layer: Layer, n: int, floor: int = 0) -> int:
    """Outputs of ``layer`` final after ``n`` input samples of an unfinished stream whose
    input will have at least ``floor`` samples in all.

    >>> [ready(Layer("convT", kernel_size=3, stride=2), n) for n in range(4)]
    [0, 2, 4, 6]
    >>> [ready(Layer("maxpool", kernel_size=3, stride=2, padding=1), n) for n in range(6)]
    [0, 0, 1, 1, 2, 2]
    """
    floor = max(floor, n, min_valid_length(layer))
    for step in steps_of(layer):
        n = step_ready(step, n, floor)
        if isinstance(step, PadStep):
            floor += step.left + step.right
    return n


def chain_ready(layers: list[Layer] | tuple[Layer, ...], n: int) -> int:
    """Outputs of the chain final after ``n`` input samples (each layer emits as early as
    it can, knowing how much the layers before it will emit at least and how short its
    input can be, so the chain does); with the samples final out of order
    (:func:`chain_window`), an output leaves as soon as every sample it reads is final.

    >>> chain_ready([Layer("conv", kernel_size=3, padding=1), Layer("conv", kernel_size=3, padding=1)], 5)
    3
    >>> chain_ready([Layer("convT", kernel_size=3, stride=2, dilation=2), Layer("conv", kernel_size=2, dilation=3)], 1)
    1
    """
    prefix, window, known = chain_window(layers, n)
    return prefix + leading_final(window, prefix, known)


@functools.lru_cache(maxsize=256)
def _first_out_of_order(layers: tuple[Layer, ...]) -> int | None:
    """Where the windows start: 0 if a step of the chain :func:`makes_out_of_order` (the
    constants before it count too: a zero pad's), None if none does (the prefix alone)."""
    steps = [step for layer in layers for step in steps_of(layer)]
    return 0 if any(makes_out_of_order(step) for step in steps) else None


# ---------------------------------------------------------------------- out-of-order finality
#
# A ConvTranspose1d whose taps reach its positions out of order (holes no tap reaches, or a
# dilation with a stride), or a reflected left pad (its first samples copy later inputs),
# makes some samples final before earlier ones. Each step's outputs are then a final prefix
# (``step_ready``) and, after it, a bounded *window* of entries, one per position:
#
# - ``False``: not final (it reads a sample not final yet, or its value depends on the end);
# - ``True``: final, and it exists whatever the end (its value depends on the input);
# - a :data:`Constant` ``(key,)``: the same value wherever it exists, independent of the
#   input (a hole: the bias only; a constant pad; a window of such constants). Two entries
#   with the same key have the same value. It is final where it surely exists (before the
#   step's ``known`` length); after that, a right pad or a window can still use it (ending
#   there or going on gives the same constant).
#
# A later step computes an output when every sample it reads is final, so a chain's output
# leaves as soon as its value is fixed, whatever comes next and wherever the stream ends.

#: one position of a window (see above)
Entry = bool | tuple[int]
#: the entries after a step's final prefix
Window = tuple[Entry, ...]


#: entries kept for the last positions of a step's prefix (a right pad's mirror, a window, reads them)
BEHIND = 16


def _entry_at(prefix: int, window: Window, index: int, behind: Window = ()) -> Entry:
    """The entry of input ``index``: the prefix is final (``behind``: the entries of its
    last positions; before them True), then the window's."""
    if index < prefix:
        if index < prefix - len(behind):
            return index >= 0
        return behind[index - prefix + len(behind)]
    return window[index - prefix] if index - prefix < len(window) else False


def known_length(prefix: int, window: Window, floor: int = 0, known: int = 0) -> int:
    """The fewest input samples a step will have in all: ``floor``, ``known`` (from the
    step before), the prefix, and every ``True`` entry of the window (a final sample that
    depends on the input exists).

    >>> known_length(2, (False, True, (7,)), floor=1)
    4
    """
    last = max((i for i, entry in enumerate(window) if entry is True), default=-1)
    return max(floor, known, prefix, prefix + last + 1)


def leading_final(window: Window, start: int = 0, known: int = 0) -> int:
    """How many positions at the window's start (position ``start``) are final: ``True``,
    or a constant before ``known`` (it surely exists).

    >>> leading_final((True, True, False, True)), leading_final((True, (3,), (3,)), 10, 12)
    (2, 2)
    """
    count = 0
    for entry in window:
        if entry is False or (entry is not True and start + count >= known):
            break
        count += 1
    return count


def _combined(entries: list[Entry], key: tuple[object, ...]) -> Entry:
    """A sum (or pool) of ``entries``: not final if one is not, final if one depends on the
    input, else a constant keyed by ``key`` and the constants."""
    if any(entry is False for entry in entries):
        return False
    if any(entry is True for entry in entries):
        return True
    return (hash((key, tuple(entries))),)


def step_window(step: Step, prefix: int, window: Window, floor: int = 0, dilation: int = 1, known: int = 0,
                tag: int = 0, behind: Window = (), neutral: bool = False,
                ends: Callable[[int], bool] | None = None) -> tuple[int, Window, int, Window]:  # fmt: skip
    """The final prefix, the window, the known length (outputs that surely exist) and the
    entries of the prefix's last :data:`BEHIND` positions of ``step``'s outputs, its input
    final up to ``prefix`` (the last ones as ``behind`` says) and then as ``window`` says
    (``floor``, ``known``: see :func:`known_length`; ``dilation``: a window's or a max
    pool's tap spacing; ``tag``: this step's key in its constants; ``neutral``: a pool's
    padding does not count, see :func:`pool_padding_neutral`; ``ends``: whether the step's
    input can end with that many samples, see :func:`can_end_at`). The prefix is
    :func:`step_ready` (for a ConvTranspose1d, the cropped :func:`scatter_final`).

    >>> step = ScatterStep(span=5, stride=2, padding=0, output_padding=0, dilation=2)  # taps 0, 2, 4
    >>> p, w, k, b = step_window(step, 1, ())
    >>> p, [e if isinstance(e, bool) else "C" for e in w[:4]], k, [e if isinstance(e, bool) else "C" for e in b]
    (2, [False, 'C', False, 'C'], 5, [True, 'C'])
    >>> step_window(WindowStep(span=4, stride=1), 2, (False, True), dilation=3)[:2]  # output 0 reads 0 and 3
    (0, (True,))
    >>> step_window(PadStep(2, 0, "reflect"), 2, ())[:2]  # the body is final, the head waits for sample 2
    (0, (False, True, True, True))
    """
    have = known_length(prefix, window, floor, known)
    if isinstance(step, ScatterStep):
        return _scatter_window(step, prefix, window, floor, have, tag, behind)
    if isinstance(step, PadStep):
        return _pad_window(step, prefix, window, floor, have, tag, behind, ends)
    ready_now = step_ready(step, prefix, floor)
    data = prefix + len(window)
    # a pool's window past the known end may exist cut short (right padding, ceil_mode): not final
    pool = isinstance(step, PoolStep)
    left = step.padding if isinstance(step, PoolStep) else 0
    taps = (step.span - 1) // dilation + 1
    out: list[Entry] = []
    t = max(ready_now - BEHIND, 0)
    while t * step.stride - left + step.span <= data:
        start = t * step.stride - left
        entries = [(hash(("pad", tag)),) if start + j * dilation < 0 else _entry_at(prefix, window, start + j * dilation, behind)
                   for j in range(taps)]  # fmt: skip
        late = start + (taps - 1) * dilation >= have
        # a pool of one constant is that constant's pool, however many taps exist (a max, a
        # mean; the padding too where it does not count)
        real = [e for j, e in enumerate(entries) if not (neutral and start + j * dilation < 0)]
        uniform = pool and bool(real) and real[0] is not True and real[0] is not False and all(e == real[0] for e in real)
        entry = (hash((tag, "uniform", real[0])),) if uniform else _combined(entries, (tag,))
        # past the known end: a constant where it exists, else not final (it may not exist);
        # with padding that does not count, only if one of the constant's taps surely exists
        # (else the window may read padding alone: a max of -inf, not the constant)
        sure = any(0 <= start + j * dilation < have for j in range(taps))
        out.append(False if late and (entry is True or (pool and not (uniform and (left == 0 or (neutral and sure))))) else entry)
        t += 1
    first = max(ready_now - BEHIND, 0)
    return ready_now, tuple(out[ready_now - first :]), _window_length(step, have), tuple(out[: ready_now - first])


def _window_length(step: WindowStep | PoolStep, n: int) -> int:
    left = step.padding if isinstance(step, PoolStep) else 0
    reach = n + 2 * left - step.span
    return reach // step.stride + 1 if reach >= 0 else 0


def _pad_window(step: PadStep, prefix: int, window: Window, floor: int, have: int, tag: int, behind: Window,
                ends: Callable[[int], bool] | None) -> tuple[int, Window, int, Window]:  # fmt: skip
    """A pad's: output ``o`` copies input ``o - left``; the left pad copies (replicate,
    reflect) or is a constant; the right pad's positions (and a crop's) depend on the end
    ``λ >= have``: final where every end gives the same entry."""
    ready_now = step_ready(step, prefix, floor)
    constant: Entry = (hash(("constant", tag)),)
    data = prefix + len(window)
    right = step.right
    out: list[Entry] = []
    first = max(ready_now - BEHIND, 0)
    for o in range(first, data + step.left + max(right, 0)):
        index = o - step.left
        if index < 0:
            head = constant if step.mode == "constant" else _entry_at(prefix, window, 0 if step.mode == "replicate" else -index, behind)
            out.append(head)
            continue
        if o < ready_now:  # in the prefix: exists
            out.append(_entry_at(prefix, window, index, behind))
            continue
        if index >= have and not isinstance(_entry_at(prefix, window, index, behind), tuple):
            out.append(False)  # the body, where the input goes on, is not a constant: not fixed
            continue
        seen: list[Entry] = []
        exists_always = True
        for end in range(have, max(index + 1, have) + 1):  # the input's possible lengths (end > index: the body)
            if end <= index and ends is not None and not ends(end):  # the chain cannot end so
                continue
            if index >= end + right:  # past the end: not there if the stream ends so
                exists_always = False
                continue
            if index < end:
                seen.append(_entry_at(prefix, window, index, behind))
            elif step.mode == "constant":
                seen.append(constant)
            elif step.mode == "replicate":
                seen.append(_entry_at(prefix, window, end - 1, behind))
            else:
                mirror = 2 * (end - 1) - index
                if mirror < 0:  # reflect needs more input: no such end
                    continue
                seen.append(_entry_at(prefix, window, mirror, behind))
        if not seen or any(e is False or e != seen[0] for e in seen) or (seen[0] is True and not exists_always):
            out.append(False)
        elif seen[0] is True and len(seen) > 1:
            out.append(False)  # the body for one end, a copy of another sample for another
        else:
            out.append(seen[0])
    return ready_now, tuple(out[ready_now - first :]), max(0, have + step.left + step.right), tuple(out[: ready_now - first])


def _scatter_window(step: ScatterStep, prefix: int, window: Window, floor: int, have: int, tag: int,
                    behind: Window) -> tuple[int, Window, int, Window]:  # fmt: skip
    """A ConvTranspose1d's: full position ``q`` is final when every input that reaches it
    (``i*stride + j*dilation = q``) is, and exists (within the right crop of the shortest
    end); a hole (no input reaches it) is the bias, a constant, even past that crop. The
    window runs a few positions past the crop, the left crop dropped."""
    done = scatter_final(step, prefix, floor)
    bound = (have - 1) * step.stride + step.span + step.output_padding - step.padding if have > 0 else 0
    taps = (step.span - 1) // step.dilation + 1
    out: list[Entry] = []
    first = max(done - BEHIND, step.padding)
    for q in range(first, bound + 2 * step.span + 4 * step.stride):
        inputs = [(j, (q - j * step.dilation) // step.stride) for j in range(taps)
                  if q >= j * step.dilation and (q - j * step.dilation) % step.stride == 0]  # fmt: skip
        # the fewest inputs with which q exists: an input past the known ones must exist then
        # (a constant where it exists), else it may come or not
        first_with_q = max(have, (q - step.span - step.output_padding + step.padding) // step.stride + 2)
        if any(i >= have and (i >= first_with_q or _entry_at(prefix, window, i, behind) is True) for _, i in inputs):
            out.append(False)
            continue
        entry = _combined([_entry_at(prefix, window, i, behind) for _, i in inputs], (tag, tuple(j for j, _ in inputs)))
        out.append(entry if q < bound or entry is not True else False)
    known_out = max(0, (have - 1) * step.stride + step.span + step.output_padding - 2 * step.padding) if have > 0 else 0
    split = max(done - first, 0)
    return max(0, done - step.padding), tuple(out[split:]), known_out, tuple(out[:split])


def pool_padding_neutral(layer: Layer) -> bool:
    """Whether a pool's padding leaves a window's value as its samples': a max (its padding
    is -inf), an average that does not count it.

    >>> pool_padding_neutral(Layer("maxpool", kernel_size=3, padding=1)), pool_padding_neutral(Layer("avgpool", kernel_size=3, padding=1))
    (True, False)
    """
    return layer.kind == "maxpool" or (layer.kind == "avgpool" and not layer.count_include_pad)


def step_dilation(layer: Layer, step: Step) -> int:
    """The tap spacing :func:`step_window` needs for ``step`` of ``layer``: a conv's
    dilation for its window, a max pool's for its pool, else 1."""
    if isinstance(step, WindowStep) or (isinstance(step, PoolStep) and layer.kind == "maxpool"):
        return layer.dilation
    return 1


def makes_out_of_order(step: Step) -> bool:
    """Whether ``step`` can make some outputs final before earlier ones with its input
    final in order: a ConvTranspose1d whose last reaching input is not non-decreasing in
    the position (holes, or a dilation with a stride), or a reflected left pad.

    >>> makes_out_of_order(ScatterStep(5, 2, 0, 0, 2)), makes_out_of_order(ScatterStep(4, 2, 0, 0, 1))
    (True, False)
    >>> makes_out_of_order(PadStep(2, 0, "reflect")), makes_out_of_order(PadStep(2, 0, "replicate"))
    (True, False)
    """
    if isinstance(step, PadStep):
        return step.mode == "reflect" and step.left > 0
    if not isinstance(step, ScatterStep):
        return False
    taps = (step.span - 1) // step.dilation + 1
    # position p is final once input max{i : i*stride + j*dilation = p} is in; periodic in p
    last = [max(((p - j * step.dilation) // step.stride for j in range(taps)
                 if p >= j * step.dilation and (p - j * step.dilation) % step.stride == 0), default=-1)
            for p in range(step.span + 4 * step.stride * step.span + 1)]  # fmt: skip
    highest = -1
    for value in last:
        if value < highest:
            return True
        highest = value
    return False


@functools.lru_cache(maxsize=64)
def _lengths_memo(layers: tuple[Layer, ...]) -> dict[int, tuple[int, ...] | None]:
    """:func:`_step_lengths_at`'s answers for one chain (hashing the layers once a call)."""
    return {}


def _step_lengths_at(layers: tuple[Layer, ...], total: int, memo: dict[int, tuple[int, ...] | None]) -> tuple[int, ...] | None:
    """Each step's input length when the chain's input has ``total`` samples (None: the
    chain refuses that length)."""
    if total in memo:
        return memo[total]
    if len(memo) > 1 << 14:
        memo.clear()
    memo[total] = found = _lengths_of(layers, total)
    return found


def _lengths_of(layers: tuple[Layer, ...], total: int) -> tuple[int, ...] | None:
    out: list[int] = []
    n = total
    for layer in layers:
        after = layer.try_out_length(n)
        if after is None:
            return None
        for step in steps_of(layer):
            out.append(n)
            n = n + step.left + step.right if isinstance(step, PadStep) else \
                (n - step.span) // step.stride + 1 if isinstance(step, WindowStep) else after  # fmt: skip
    return tuple(out)


def try_lengths(layers: list[Layer] | tuple[Layer, ...], total: int) -> tuple[int, ...] | None:
    """Each step's input length when the chain's input has ``total`` samples; None if a
    layer refuses its input then (the stream cannot end there).

    >>> try_lengths([Layer("conv", kernel_size=3, stride=2)], 2), try_lengths([Layer("conv", kernel_size=3, stride=2)], 5)
    (None, (5,))
    """
    return _lengths_of(tuple(layers), total)


@functools.lru_cache(maxsize=8192)
def can_end_at(layers: tuple[Layer, ...], index: int, start: int, length: int) -> bool:
    """Whether step ``index``'s input can have exactly ``length`` samples in all when the
    chain's input has ``start`` samples or more (lengths grow with the input: a binary
    search; a ConvTranspose1d after a stride makes some lengths impossible).

    >>> chain = (Layer("convT", kernel_size=1, stride=4), Layer("pad", pad_left=0, pad_right=1))
    >>> [can_end_at(chain, 1, 1, n) for n in range(1, 7)]
    [True, False, False, False, True, False]
    """
    memo = _lengths_memo(layers)

    def at(total: int) -> int:
        found = _step_lengths_at(layers, total, memo)
        return -1 if found is None else found[index]

    high = max(start, 1)
    while at(high) < length:
        high *= 2
        if high > 1 << 40:  # pragma: no cover - a chain that never gets so long
            return False
    low = start - 1  # at(low) < length, or below the start
    while high - low > 1:
        mid = (low + high) // 2
        if at(mid) >= length:
            high = mid
        else:
            low = mid
    return at(high) == length


def chain_window(layers: list[Layer] | tuple[Layer, ...], n: int) -> tuple[int, Window, int]:
    """The chain's final prefix, window and known length after ``n`` input samples (the
    floors as in :func:`chain_ready`, the steps tagged by their place); :func:`chain_ready`
    is the prefix and the window's leading finals.

    >>> prefix, window, known = chain_window([Layer("convT", kernel_size=3, stride=2, dilation=2),
    ...                                       Layer("conv", kernel_size=2, dilation=3)], 1)
    >>> prefix, window[:3], known   # output 0 reads positions 0 and 3 (a hole): final
    (0, (True, False, False), 2)
    """
    chain = tuple(layers)
    source = _first_out_of_order(chain)
    start, floor, known, index = n, n, 0, 0
    window: Window = ()
    behind: Window = ()
    for layer, need in zip(layers, required_lengths(layers)):
        floor = max(floor, need)
        inner = max(floor, n, min_valid_length(layer))
        for step in steps_of(layer):
            if source is None or index < source:  # in order: the prefix alone (as the streamer)
                n = step_ready(step, n, inner)
            else:
                n, window, known, behind = step_window(step, n, window, inner, step_dilation(layer, step), known,
                                                       index - source, behind, pool_padding_neutral(layer),
                                                       functools.partial(can_end_at, chain, index, start))  # fmt: skip
            index += 1
            if isinstance(step, PadStep):
                inner += step.left + step.right
        floor = floor_after(layer, floor)
    return n, window, known


def first_output(layers: list[Layer] | tuple[Layer, ...], limit: int = 1 << 24) -> int | None:
    """The fewest input samples after which the chain has emitted an output (None if it
    needs more than ``limit``, or emits only at the end).

    >>> first_output([Layer("conv", kernel_size=4, stride=2, padding=1)])
    3
    """
    high = 1
    while chain_ready(layers, high) < 1:
        high *= 2
        if high > limit:
            return None
    low = 0
    while high - low > 1:
        mid = (low + high) // 2
        if chain_ready(layers, mid) >= 1:
            high = mid
        else:
            low = mid
    return high if chain_ready(layers, 0) < 1 else 0


# ---------------------------------------------------------------------- the figures


@dataclass(frozen=True)
class LayerTiming:
    """One layer streamed on its own (in its input samples): ``cache`` samples per input
    channel kept between pushes (``cache_out`` per output channel: a ConvTranspose1d's
    tail), ``lookahead`` (input samples an output waits for beyond ``t * hop``), ``hop``,
    ``delay`` (= lookahead, never below 0), ``min_chunk`` (samples per push so that each
    push emits) and ``first_output`` (input samples before the first output)."""

    kind: str
    cache: int
    cache_out: int
    lookahead: Fraction
    hop: Fraction
    delay: Fraction
    min_chunk: int
    first_output: int | None


@dataclass(frozen=True)
class ChainTiming:
    """A chain streamed (in its input samples): per-layer timings and the totals:
    ``receptive_field``, ``hop``, ``lookahead``, ``delay``, ``min_chunk`` and
    ``first_output`` (input samples before the first output)."""

    layers: tuple[LayerTiming, ...]
    receptive_field: Fraction
    hop: Fraction
    lookahead: Fraction
    delay: Fraction
    min_chunk: int
    first_output: int | None


def _min_chunk(hop: Fraction) -> int:
    return max(1, math.ceil(hop))


def layer_timing(layer: Layer) -> LayerTiming:
    """The streaming figures of one layer.

    >>> layer_timing(Layer("convT", kernel_size=8, stride=4, padding=2))
    LayerTiming(kind='convT', cache=0, cache_out=4, lookahead=Fraction(1, 2), hop=Fraction(1, 4), delay=Fraction(1, 2), min_chunk=1, first_output=1)
    """
    steps = steps_of(layer)
    found = figures([layer])
    assert found is not None  # a streamable layer has fixed figures
    cache = sum(step_cache(s) for s in steps if not isinstance(s, ScatterStep))
    cache_out = sum(step_cache(s) for s in steps if isinstance(s, ScatterStep))
    delay = max(found.lookahead, Fraction(0))
    return LayerTiming(layer.kind, cache, cache_out, found.lookahead, found.hop, delay, _min_chunk(found.hop),
                       first_output([layer]))  # fmt: skip


def chain_timing(layers: list[Layer] | tuple[Layer, ...]) -> ChainTiming:
    """The streaming figures of a chain (an empty chain is the identity).

    >>> c = chain_timing([Layer("conv", kernel_size=4, stride=2, pad_left=3)] * 2)
    >>> c.receptive_field, c.hop, c.lookahead, c.first_output
    (Fraction(10, 1), Fraction(4, 1), Fraction(0, 1), 1)
    """
    for index, layer in enumerate(layers):
        check_streamable(layer, f"layer {index + 1}")
    found = figures(list(layers))
    assert found is not None
    per_layer = tuple(layer_timing(layer) for layer in layers)
    return ChainTiming(per_layer, found.receptive_field, found.hop, found.lookahead,
                       max(found.lookahead, Fraction(0)), _min_chunk(found.hop), first_output(layers))  # fmt: skip
