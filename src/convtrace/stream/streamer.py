"""The streaming engine: a chain of convtrace layers run chunk by chunk.

The contract: the outputs of ``push`` for every chunk, then ``flush``, concatenated along
time, are the offline output of the chain (same length, same values), and each output
leaves with the first push after which every input sample it depends on has arrived.

>>> import numpy as np
>>> from convtrace import nn
>>> from convtrace.stream import Streamer
>>> layers = [nn.Conv1d(1, 2, 4, stride=2, padding=1, rng=0), nn.ConvTranspose1d(2, 1, 4, stride=2, padding=1, rng=1)]
>>> s = Streamer(layers)
>>> x = np.random.default_rng(0).standard_normal((1, 1, 11)).astype(np.float32)
>>> parts = [s.push(x[..., :3]), s.push(x[..., 3:4]), s.push(x[..., 4:]), s.flush()]
>>> [p.shape[-1] for p in parts]   # output 0 after 3 samples; the last one needs the end
[1, 0, 8, 1]
>>> offline = layers[1](layers[0](x))
>>> bool(np.allclose(np.concatenate(parts, axis=-1), offline, rtol=1e-6, atol=1e-6))
True
>>> s.receptive_field, s.hop, s.lookahead, s.min_chunk
(Fraction(7, 1), Fraction(1, 1), Fraction(3, 1), 1)
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from .. import nn
from ..errors import ConvtraceError
from ..params import check_avg_pool1d, check_lp_pool1d, check_max_pool1d, is_number
from ..plan.layers import Layer
from .schedule import Schedule, coincidence_possible, exact_schedule
from .stages import PadStage, PointwiseStage, PoolStage, ScatterStage, Stage, StateEntry, WindowStage
from .timing import (
    PadStep,
    PoolStep,
    ScatterStep,
    Window,
    WindowStep,
    can_end_at,
    chain_ready,
    chain_timing,
    check_streamable,
    leading_final,
    makes_out_of_order,
    pool_padding_neutral,
    required_lengths,
    step_dilation,
    step_window,
    steps_of,
    try_lengths,
)

__all__ = ["Streamer", "Pointwise", "StateEntry", "layer_of"]


class Pointwise:
    """A function of each sample on its own (``np.tanh``, a ReLU, ...) between layers: it
    streams with no state and no delay.

    >>> import numpy as np
    >>> Pointwise(np.tanh)
    Pointwise(tanh)
    >>> Pointwise(np.tanh)(np.zeros((1, 1, 2))).tolist()
    [[[0.0, 0.0]]]
    """

    def __init__(self, fn: Callable[[np.ndarray], np.ndarray]) -> None:
        if not callable(fn):
            raise ConvtraceError("fn", fn, "Pointwise needs a function of an array, e.g. Pointwise(np.tanh)")
        self.fn = fn

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.fn(x))

    forward = __call__

    def __repr__(self) -> str:
        return f"Pointwise({getattr(self.fn, '__name__', repr(self.fn))})"


def _int(value: Any) -> int:
    return int(value[0]) if isinstance(value, (tuple, list)) else int(value)


#: every layer Streamer takes, for the messages
ACCEPTED = ("Conv1d, ConvTranspose1d, MaxPool1d, AvgPool1d, LPPool1d, ConstantPad1d, ZeroPad1d, "
            "ReflectionPad1d, ReplicationPad1d (convtrace.nn) and stream.Pointwise")  # fmt: skip


def layer_of(module: Any, where: str = "layer 1") -> Layer | None:
    """The planner's :class:`~convtrace.plan.layers.Layer` of a ``convtrace.nn`` module
    (None for :class:`Pointwise`), its arguments checked as PyTorch checks them; a layer
    that cannot stream raises, naming it, the reason and the fix.

    >>> from convtrace import nn
    >>> layer_of(nn.AvgPool1d(3, 2, 1, ceil_mode=True)).describe()
    'avgpool k=3 s=2 p=1 ceil=1'
    >>> layer_of(nn.CircularPad1d(2))
    Traceback (most recent call last):
    ...
    convtrace.errors.ConvtraceError: layer 1 (F.pad): padding_mode='circular': cannot stream: circular padding needs the end of the signal before its first output (hint: use padding_mode='zeros', 'replicate' or 'reflect' (or pad the whole signal before streaming))
    """
    layer = _plan_layer(module, where)
    if layer is not None:
        check_streamable(layer, where)
    return layer


def _plan_layer(m: Any, where: str) -> Layer | None:
    if isinstance(m, Pointwise):
        return None
    if isinstance(m, nn.Conv1d):
        padding = m.padding if isinstance(m.padding, str) else m.padding[0]
        return Layer("conv", m.kernel_size[0], m.stride[0], padding, m.dilation[0], m.groups,
                     out_channels=m.out_channels, padding_mode=m.padding_mode, bias=m.bias is not None)  # fmt: skip
    if isinstance(m, nn.ConvTranspose1d):
        return Layer("convT", m.kernel_size[0], m.stride[0], m.padding[0], m.dilation[0], m.groups,
                     m.output_padding[0], m.out_channels, padding_mode=m.padding_mode, bias=m.bias is not None)  # fmt: skip
    if isinstance(m, (nn.MaxPool1d, nn.AvgPool1d, nn.LPPool1d)):
        return _pool_layer(m, where)
    if isinstance(m, nn.AdaptiveAvgPool1d | nn.AdaptiveMaxPool1d):
        kind = "adaptiveavgpool" if isinstance(m, nn.AdaptiveAvgPool1d) else "adaptivemaxpool"
        return Layer(kind, output_size=_int(m.output_size))
    if isinstance(m, nn.MaxUnpool1d):
        return Layer("maxunpool", _int(m.kernel_size), _int(m.stride), _int(m.padding))
    if isinstance(m, nn.CircularPad1d | nn.ReflectionPad1d | nn.ReplicationPad1d | nn.ConstantPad1d):
        mode = "constant" if isinstance(m, nn.ConstantPad1d) else m.mode
        return Layer("pad", pad_left=int(m.padding[0]), pad_right=int(m.padding[1]), padding_mode=mode)
    raise ConvtraceError("layers", type(m).__name__, f"{where} is not a layer Streamer takes; it takes {ACCEPTED}",
                         hint="wrap an elementwise function in stream.Pointwise(fn)")  # fmt: skip


def _pool_layer(m: Any, where: str) -> Layer:
    """A pool module as a Layer, its arguments checked by the functional's resolver (on a
    long enough dummy input: PyTorch checks them when the module is called)."""
    probe = np.zeros((1, 1, 4096))
    if isinstance(m, nn.MaxPool1d):
        if m.return_indices:
            raise ConvtraceError("return_indices", True, f"{where} (MaxPool1d) returns (values, indices): not a chain layer",
                                 hint="use return_indices=False in a streamed chain")  # fmt: skip
        _, spec = check_max_pool1d(probe, m.kernel_size, m.stride, m.padding, m.dilation, m.ceil_mode)
        return Layer("maxpool", spec.kernel_size, spec.stride, spec.padding, spec.dilation, ceil_mode=bool(spec.ceil_mode))
    if isinstance(m, nn.AvgPool1d):
        _, spec = check_avg_pool1d(probe, m.kernel_size, m.stride, m.padding, m.ceil_mode, m.count_include_pad)
        return Layer("avgpool", spec.kernel_size, spec.stride, spec.padding, ceil_mode=bool(spec.ceil_mode),
                     count_include_pad=bool(spec.count_include_pad))  # fmt: skip
    norm = float(m.norm_type) if is_number(m.norm_type) else m.norm_type
    _, spec = check_lp_pool1d(probe, norm, m.kernel_size, m.stride, m.ceil_mode)
    return Layer("lppool", spec.kernel_size, spec.stride, ceil_mode=bool(spec.ceil_mode), norm_type=spec.norm_type)


def _pool_runner(m: Any) -> Callable[[np.ndarray, int, bool], np.ndarray]:
    """``run(x, padding, last)``: the module's pool on ``x`` with ``padding``, and with its
    ``ceil_mode`` if ``last`` (else without)."""
    from .. import functional as F

    if isinstance(m, nn.MaxPool1d):
        return lambda x, p, last: F.max_pool1d(x, m.kernel_size, m.stride, p, m.dilation, bool(m.ceil_mode) and last)
    if isinstance(m, nn.AvgPool1d):
        return lambda x, p, last: F.avg_pool1d(x, m.kernel_size, m.stride, p, bool(m.ceil_mode) and last, m.count_include_pad)
    norm = float(m.norm_type) if is_number(m.norm_type) else m.norm_type
    return lambda x, p, last: F.lp_pool1d(x, norm, m.kernel_size, m.stride, bool(m.ceil_mode) and last)


@dataclass
class _Unit:
    """One layer of the chain: its module, planner Layer (None: Pointwise) and stages;
    ``pads``: what each stage adds to the length (the floors inside the layer), ``lmin``:
    the shortest input it accepts, ``needs_floor_after``: whether a later stage uses the
    floor (a ConvTranspose1d or a crop)."""

    module: Any
    layer: Layer | None
    stages: list[Stage]
    steps: tuple[Any, ...]
    pads: tuple[int, ...] = ()
    lmin: int = 0
    needs_floor_after: bool = True
    _floor_memo: tuple[int, int] = (-1, 0)

    def floor_after(self, floor: int) -> int:
        """The fewest outputs this layer gives if its input has ``floor`` samples in all
        (the last answer kept: it changes only when input arrives)."""
        if self.layer is None:
            return floor
        if self._floor_memo[0] != floor:
            self._floor_memo = (floor, self.layer.out_length(floor))
        return self._floor_memo[1]


def _stages(module: Any, layer: Layer | None) -> tuple[list[Stage], tuple[Any, ...]]:
    if layer is None:
        return [PointwiseStage(module.fn)], ()
    steps = steps_of(layer)
    stages: list[Stage] = []
    for step in steps:
        if isinstance(step, PadStep):
            value = float(getattr(module, "value", 0.0) or 0.0) if layer.kind == "pad" else 0.0
            stages.append(PadStage(step, value))
        elif isinstance(step, WindowStep):
            stages.append(WindowStage(step, module.weight, module.bias, layer.dilation, layer.groups))
        elif isinstance(step, PoolStep):
            stages.append(PoolStage(step, _pool_runner(module)))
        else:
            stages.append(ScatterStage(step, module.weight, module.bias, layer.dilation, layer.groups))
    if not stages:  # a pad of nothing
        return [PointwiseStage(_identity)], ()
    return stages, steps


def _identity(x: np.ndarray) -> np.ndarray:
    return x


class Streamer:
    """Run ``layers`` (a ``convtrace.nn`` module or a list of them, and
    :class:`Pointwise` functions) chunk by chunk.

    ``push(chunk)`` takes (N, C, T) or (C, T) with any T >= 0 and returns the outputs final
    now; ``flush()`` returns the rest (right padding, a ConvTranspose1d's tail and
    output_padding, ceil_mode's last windows) and resets. ``batch_size`` sizes the state
    before the first push (a first push of another batch size re-sizes it).

    >>> import numpy as np
    >>> from convtrace import nn
    >>> s = Streamer(nn.Conv1d(1, 1, 3, padding=1, bias=False, dtype=np.float64, rng=0))
    >>> s.push(np.ones((1, 4))).shape, s.flush().shape
    ((1, 3), (1, 1))
    >>> [(e.name, e.shape, e.bytes) for e in s.state_spec()]
    [('layer1.pad.buffer', (1, 1, 0), 0), ('layer1.pad.samples_in', (), 8), ('layer1.pad.done', (), 8), ('layer1.conv.buffer', (1, 1, 2), 16), ('layer1.conv.samples_in', (), 8), ('layer1.conv.done', (), 8)]
    """

    def __init__(self, layers: Any, *, batch_size: int = 1, dtype: Any = None, _evaluate: bool = True) -> None:
        modules = list(layers) if isinstance(layers, (list, tuple)) else [layers]
        self._modules = modules
        self.units: list[_Unit] = []
        for index, module in enumerate(modules):
            layer = layer_of(module, f"layer {index + 1}")
            stages, steps = _stages(module, layer)
            pads = tuple(s.left + s.right if isinstance(s, PadStep) else 0 for s in steps) or (0,)
            self.units.append(_Unit(module, layer, stages, steps, pads))
        needs = iter(required_lengths([u.layer for u in self.units if u.layer is not None]))
        for unit in self.units:
            unit.lmin = next(needs) if unit.layer is not None else 0
        for index, unit in enumerate(self.units):  # the floor is worth computing only for a later user
            later = [s for u in self.units[index + 1 :] for s in u.steps]
            unit.needs_floor_after = any(isinstance(s, ScatterStep) or (isinstance(s, PadStep) and s.right < 0) for s in later)
        self.layers = tuple(u.layer for u in self.units if u.layer is not None)
        counting = [st for u in self.units for st in u.stages if not isinstance(st, PointwiseStage)]
        self._counter: Stage | None = counting[0] if counting else None
        self._setup_early()
        self.timing = chain_timing(self.layers)
        # where the arithmetic can be late (a coincidence of values): the schedule by evaluation
        self._schedule: Schedule | None = None
        if _evaluate and self._ahead is not None and coincidence_possible([u.layer for u in self.units]):
            self._schedule = exact_schedule(modules, [u.layer for u in self.units])
        self._shadow: Streamer | None = None
        self.channels = self._input_channels()
        weights = [m.weight for m in modules if isinstance(m, (nn.Conv1d, nn.ConvTranspose1d))]
        # without weights the first chunk sets the dtype (float32 until then)
        self._dtype_free = dtype is None and not weights
        self.dtype = np.dtype(dtype) if dtype is not None else (weights[0].dtype if weights else np.dtype("float32"))
        self._batched = True
        self._allocate(int(batch_size))

    def _setup_early(self) -> None:
        """If a stage's outputs can be final out of order (a ConvTranspose1d with holes or
        a dilation with a stride, a reflected left pad): every stage, its step, tap spacing
        and place, for :meth:`_early`; ``ahead`` (state): the outputs emitted beyond the
        last stage's in-order ones (None: no such stage, and no window is computed)."""
        flat = [(stage, unit.steps[k] if unit.steps else None, unit.layer)
                for unit in self.units for k, stage in enumerate(unit.stages)]  # fmt: skip
        first = next((i for i, (_, step, _) in enumerate(flat) if step is not None and makes_out_of_order(step)), None)
        self._ahead: np.ndarray | None = None if first is None else np.zeros((), dtype=np.int64)
        # from the first stage on: the constants before the out-of-order one count too (a zero pad)
        self._early_from = len(flat) if first is None else 0
        if first is not None:  # the windows need every stage's floor (what surely exists)
            for unit in self.units:
                unit.needs_floor_after = True
        places = [sum(1 for _, st, _ in flat[:i] if st is not None) for i in range(len(flat))]  # each step's place
        self._early_stages = [(stage, step, step_dilation(layer, step) if layer is not None and step is not None else 1,
                               layer is not None and pool_padding_neutral(layer), place)
                              for (stage, step, layer), place in zip(flat[self._early_from :], places[self._early_from :])]  # fmt: skip

    # ------------------------------------------------------------------ figures
    @property
    def receptive_field(self) -> Fraction:
        """Input samples one output can depend on (the planner's figure)."""
        return self.timing.receptive_field

    @property
    def hop(self) -> Fraction:
        """Input samples per output step."""
        return self.timing.hop

    @property
    def lookahead(self) -> Fraction:
        """Input samples an output waits for beyond its frame ``t * hop``."""
        return self.timing.lookahead

    @property
    def min_chunk(self) -> int:
        """The smallest chunk after which every push (in the steady state) emits."""
        return self.timing.min_chunk

    @property
    def first_output(self) -> int | None:
        """Input samples before the first output leaves."""
        arithmetic = self.timing.first_output
        if self._schedule is None:
            return arithmetic
        fixed = next((n for n, count in enumerate(self._schedule.table) if count), None)
        return fixed if arithmetic is None or (fixed is not None and fixed < arithmetic) else arithmetic

    def ready(self, n: int) -> int:
        """Outputs the stream has emitted once ``n`` input samples have arrived (those
        the first ``n`` samples fix, whatever comes next and wherever the stream ends).

        >>> from convtrace import nn
        >>> s = Streamer(nn.Conv1d(1, 1, 3, padding=1))
        >>> [s.ready(n) for n in range(5)]
        [0, 0, 1, 2, 3]
        """
        arithmetic = chain_ready(self.layers, n)
        return arithmetic if self._schedule is None else max(arithmetic, self._schedule.ready(n))

    # ------------------------------------------------------------------ state
    def _input_channels(self) -> int | None:
        for unit in self.units:
            for stage in unit.stages:
                if stage.channels_in:
                    return stage.channels_in
        return None

    def _allocate(self, batch: int, channels: int | None = None) -> None:
        c = self.channels or channels or 1
        self.batch = batch
        self._channels_in = c
        self._pushed = False
        for unit in self.units:
            for stage in unit.stages:
                stage.allocate(batch, c, self.dtype if not stage.channels_in else np.result_type(self.dtype, unit.module.weight))
                c = stage.channels_out or c

    def reset(self) -> None:
        """Start a new stream (the state back to its initial values)."""
        for unit in self.units:
            for stage in unit.stages:
                stage.buffer[...] = 0
                stage.samples_in[...] = 0
                stage.done[...] = 0
        if self._ahead is not None:
            self._ahead[...] = 0
        self._pushed = False

    def _names(self) -> list[tuple[str, Stage]]:
        return [(f"layer{i + 1}.{stage.kind}", stage) for i, unit in enumerate(self.units) for stage in unit.stages]

    def state_spec(self, batch_size: int | None = None) -> tuple[StateEntry, ...]:
        """Every state array: name, shape for ``batch_size`` (default: the current one),
        dtype, initial value and bytes."""
        batch = self.batch if batch_size is None else int(batch_size)
        out: list[StateEntry] = []
        c = self.channels or 1
        for name, stage in self._names():
            dtype = self.dtype if not stage.channels_in else stage.buffer.dtype
            for entry in stage.spec(batch, c, dtype):
                out.append(StateEntry(f"{name}.{entry.name}", entry.shape, entry.dtype, entry.initial, entry.bytes))
            c = stage.channels_out or c
        if self._ahead is not None:
            out.append(StateEntry("chain.ahead", (), "int64", 0, 8))
        return tuple(out)

    @property
    def state(self) -> dict[str, np.ndarray]:
        """The state arrays by name (live: copy them to keep a snapshot)."""
        out = {f"{name}.{key}": arr for name, stage in self._names() for key, arr in stage.state_arrays().items()}
        if self._ahead is not None:
            out["chain.ahead"] = self._ahead
        return out

    def load_state(self, state: dict[str, Any]) -> None:
        """Set every state array from ``state`` (as :attr:`state` gives it): names, shapes
        and dtypes must match :meth:`state_spec`."""
        mine = self.state
        missing = sorted(set(mine) - set(state))
        extra = sorted(set(state) - set(mine))
        if missing or extra:
            raise ConvtraceError("state", sorted(state), f"the state's names must be {sorted(mine)}",
                                 hint=f"missing {missing}, unknown {extra}")  # fmt: skip
        for name, arr in mine.items():
            given = np.asarray(state[name])
            if given.shape != arr.shape:
                raise ConvtraceError(name, given, f"the state array must have shape {list(arr.shape)}")
            arr[...] = given
        self._pushed = any(int(stage.samples_in) or int(stage.done) for _, stage in self._names())

    # ------------------------------------------------------------------ streaming
    def _checked(self, chunk: Any) -> np.ndarray:
        x = np.asarray(chunk)
        if x.ndim not in (2, 3):
            raise ConvtraceError("chunk", x, "a chunk is (N, C, T) or (C, T): 3-D or 2-D")
        batched = x.ndim == 3
        x3 = x if batched else x[None]
        if self._dtype_free and not self._pushed and x3.dtype != self.dtype and x3.dtype.kind == "f":
            self.dtype = x3.dtype
            self.batch = -1  # re-allocate below
        if x3.dtype != self.dtype:
            raise ConvtraceError("chunk", x, f"the chunk's dtype must be the layers' ({self.dtype})",
                                 hint=f"x.astype(np.{self.dtype})")  # fmt: skip
        if self.channels is not None and x3.shape[1] != self.channels:
            raise ConvtraceError("chunk", x, f"the chunk must have {self.channels} channels (axis -2)")
        if not self._pushed:
            self._batched = batched
            if x3.shape[0] != self.batch or (self.channels is None and x3.shape[1] != self.units[0].stages[0].channels_out):
                self._allocate(x3.shape[0], x3.shape[1])
        elif x3.shape[0] != self.batch or batched != self._batched:
            raise ConvtraceError("chunk", x, f"every chunk of a stream has the first one's batch ({self.batch}) and dimensions",
                                 hint="flush() or reset() to start a stream of another shape")  # fmt: skip
        return x3

    def push(self, chunk: Any) -> np.ndarray:
        """Feed ``chunk`` ((N, C, T) or (C, T), any T >= 0); return the outputs final now."""
        y = _owned(self._run(self._checked(chunk), None))
        return y if self._batched else y[0]

    def push_layers(self, chunk: Any) -> list[np.ndarray]:
        """:meth:`push`, returning every layer's output (N, C, T) of this push (the last
        one is what :meth:`push` returns), for diagnosis."""
        out: list[np.ndarray] = []
        self._run(self._checked(chunk), out)
        return [_owned(y) for y in out]

    def _run(self, y: np.ndarray, every: list[np.ndarray] | None) -> np.ndarray:
        """Every stage on ``y``; each layer's output appended to ``every`` if given. Each
        stage learns the fewest samples it will have in all (its floor)."""
        self._pushed = True
        # the stream may end now: the input so far (stages before the first counting one keep the length)
        floor = (int(self._counter.samples_in) if self._counter is not None else 0) + y.shape[-1]
        floors: list[int] = []  # each stage's floor, for _early
        for unit in self.units:
            floor = max(floor, unit.lmin)
            inner = floor
            for stage, pad in zip(unit.stages, unit.pads):
                y = stage.push(y, inner)
                floors.append(inner)
                inner += pad
            if every is not None:
                every.append(y)
            if unit.needs_floor_after or every is not None:
                floor = unit.floor_after(floor)
        if self._ahead is not None:
            y = self._early(y, floors[self._early_from :])
            if every is not None:
                every[-1] = y
        return y

    def _early(self, y: np.ndarray, floors: list[int]) -> np.ndarray:
        """The last stage's in-order outputs ``y`` of this push, less those already
        emitted ahead, then the outputs after them that are final out of order: each stage
        from the first out-of-order one on gives, beyond its in-order outputs, a window of
        positions with a finality mask (``timing.step_window``) and their values
        (``Stage.peek``: any value where not final), read by the next; the last stage's
        leading final positions leave now. Only the counter ``ahead`` is kept."""
        ahead = int(self._ahead) if self._ahead is not None else 0
        drop = min(ahead, y.shape[-1])
        y, ahead = y[..., drop:], ahead - drop
        values: np.ndarray | None = None
        window: Window = ()
        behind: Window = ()
        prefix = known = 0
        start = int(self._counter.samples_in) if self._counter is not None else 0
        with np.errstate(all="ignore"):  # the values where not final are any (a pool's -inf times 0 ...)
            for tag, ((stage, step, dilation, neutral, place), floor) in enumerate(zip(self._early_stages, floors)):
                if step is not None:
                    ends = functools.partial(can_end_at, self.layers, place, start)
                    prefix, window, known, behind = step_window(step, int(stage.samples_in), window, floor, dilation, known,
                                                                tag, behind, neutral, ends)  # fmt: skip
                values = stage.peek(values, len(window))[..., : len(window)]
                window = window[: values.shape[-1]]
        extra = leading_final(window, prefix, known)
        if values is not None and extra > ahead:
            y = np.concatenate((y, values[..., ahead:extra]), axis=-1)
            ahead = extra
        if self._ahead is not None:
            self._ahead[...] = ahead
        if self._schedule is not None:
            assert self._ahead is not None  # (a ConvTranspose1d with holes)
            emitted = prefix + ahead  # in order, then ahead
            fixed = self._schedule.ready(start)
            if fixed > emitted:  # fixed by a coincidence of values: as the stream ending now gives them
                y = np.concatenate((y, self._as_if_ended(start)[..., : fixed - emitted]), axis=-1)
                self._ahead[...] = ahead + fixed - emitted
        return y

    def _as_if_ended(self, samples: int) -> np.ndarray:
        """The outputs after the ones emitted were the stream to end as soon as it can
        (now, or after the fewest zeros the layers accept): a copy of the state flushed.
        An output the input so far fixes is the same wherever the stream ends."""
        if self._shadow is None:
            self._shadow = Streamer(self._modules, batch_size=self.batch, dtype=self.dtype, _evaluate=False)
        shadow = self._shadow
        shadow.dtype = self.dtype
        shadow._allocate(self.batch, self._channels_in)
        shadow.load_state(self.state)
        shadow._batched = True
        more = next(m for m in range(1 << 24) if try_lengths(self.layers, samples + m) is not None)
        parts = [shadow.push(np.zeros((self.batch, self._channels_in, more), dtype=self.dtype))] if more else []
        parts.append(shadow.flush())
        return np.concatenate(parts, axis=-1)

    def flush_layers(self) -> list[np.ndarray]:
        """:meth:`flush`, returning every layer's output (N, C, T) of the flush."""
        try:
            out: list[np.ndarray] = [_owned(y) for y in self._flush(every=True)]
            return out
        finally:
            self.reset()

    def flush(self) -> np.ndarray:
        """The outputs that wait for the end (right padding, the ConvTranspose1d tail,
        output_padding, ceil_mode's last windows); then the streamer is reset. Raises
        PyTorch's error where the whole input was too short for a layer."""
        try:
            y: np.ndarray = _owned(self._flush())
        finally:
            self.reset()
        return y if self._batched else y[0]

    def _flush(self, every: bool = False) -> Any:
        y = np.empty((self.batch, self.channels or self.units[0].stages[0].channels_out or 1, 0), dtype=self.dtype)
        out = []
        for unit in self.units:
            totals: list[int] = []
            for k, stage in enumerate(unit.stages):
                head = stage.push(y)
                if k == 0:  # the layer has its whole input now
                    totals = [-1] if not unit.steps or unit.layer is None else _step_lengths(unit.layer, unit.steps, int(stage.samples_in))
                tail = stage.flush(totals[k])
                y = tail if head.shape[-1] == 0 else np.concatenate((head, tail), axis=-1)
            out.append(y)
        if self._ahead is not None and int(self._ahead):  # emitted already
            y = out[-1] = y[..., int(self._ahead) :]
        return out if every else y


def _owned(y: np.ndarray) -> np.ndarray:
    """A copy of a stage's output for the caller: the stages return views of the scratches
    and buffers that the next push overwrites (an output kept by the caller would change
    under it). The outputs of a push are few; the copy is C-contiguous."""
    return np.array(y, order="C")


def _step_lengths(layer: Layer, steps: Sequence[Any], n: int) -> list[int]:
    layer.out_length(n)  # PyTorch's error if the whole input is too short
    out = []
    for step in steps:
        if isinstance(step, PadStep):
            n = n + step.left + step.right
        elif isinstance(step, WindowStep):
            n = (n - step.span) // step.stride + 1
        else:
            n = layer.out_length(n)
        out.append(n)
    return out
