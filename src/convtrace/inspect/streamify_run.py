"""Running a model's own ``forward`` on chunks (imports torch).

A torch function mode sees every call the forward makes. Tensors on the time axis carry a
:class:`~convtrace.inspect.streamify_ops.Timeline` (in a side table, by weak reference).
Each time-axis call — conv1d, conv_transpose1d, the sliding pools, ``F.pad``, a slice of
the time axis — is matched, by its order, with the same call in a *plan*: the forward run
once on the whole input (:func:`plan_forward`), which gives the amounts the chunk cannot
show (a pad or a crop computed from the length). The call is then run by its streaming
state. Any other call on time tensors is pointwise in time: when its time tensors cover
different indices (a join), they are aligned first (:class:`AlignState`).

>>> import torch
>>> model = torch.nn.Sequential(torch.nn.Conv1d(1, 2, 3, padding=1), torch.nn.ReLU())
>>> plan, length = plan_forward(model, (1, 1, 10))
>>> [(p.kind, p.op, p.module, p.left, p.right) for p in plan], length
([('window', 'conv1d', '0', 1, 1)], 10)
"""

from __future__ import annotations

import functools
import math
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from ..errors import ConvtraceError
from ..shapes import same_padding
from ..stream.timing import REFUSALS
from .record import _GLOBAL_NAMES, _IN_PLACE, _bind, _first, _Info, _normalises_time, _time_dim, _time_slice
from .streamify_ops import (
    AlignState,
    EdgeState,
    OpState,
    ScatterState,
    Timeline,
    WindowState,
    mask_before,
    on_dim,
)

__all__ = ["PlanOp", "plan_forward", "Runner", "refuse", "over_time", "ParameterCalls"]

_WINDOW_OPS = {"conv1d", "max_pool1d", "max_pool1d_with_indices", "avg_pool1d", "lp_pool1d"}
_TIME_OPS = _WINDOW_OPS | {"conv_transpose1d", "pad", "__getitem__", "adaptive_avg_pool1d", "adaptive_max_pool1d",
                           "adaptive_max_pool1d_with_indices", "max_unpool1d"}  # fmt: skip
_CAT = {"cat", "concat", "concatenate"}
#: ops over the whole time axis: normalisation, attention, recurrence
_OVER_TIME = _GLOBAL_NAMES | {"multi_head_attention_forward"}
#: ops whose tensor output has nothing of the time axis (they read only the dtype or device)
_NO_TIME_OK = {"new_zeros", "new_ones", "new_empty", "new_full", "new_tensor", "__get__", "size", "dim", "numel"}


@dataclass(frozen=True)
class PlanOp:
    """One time-axis call of the forward on the whole input: ``kind`` (window, scatter,
    edge), the ``op``, the ``module`` making it, the amounts ``left`` and ``right`` added
    (negative: removed) at each end, the pad's ``mode`` and ``value``, the output length."""

    kind: str
    op: str
    module: str
    left: int = 0
    right: int = 0
    mode: str = "constant"
    value: float = 0.0
    out_length: int = 0


def refuse(module: str, op: str, reason: str, fix: str | None = None) -> ConvtraceError:
    """The error for a call that cannot stream: the module, the op, the reason, the fix.

    >>> str(refuse("enc.0", "cat", "it joins chunks over time", "join on channels"))
    "streamify: module='enc.0': cat cannot stream: it joins chunks over time (hint: join on channels)"
    """
    return ConvtraceError("module", module or "(the model's forward)", f"{op} cannot stream: {reason}",
                          call="streamify", hint=fix)  # fmt: skip


def over_time(module: str, op: str) -> ConvtraceError:
    """The refusal of normalisation, attention or recurrence over time (the streaming
    report's R102 words and fix).

    >>> str(over_time("rnn", "lstm")).split(": ", 2)[2][:45]
    'lstm cannot stream: lstm over time: every out'
    """
    from ..plan.report import Finding
    from ..render.stream_text import fix, message
    from ..stream.report import over_time_family

    finding = Finding("R102", module, {"kind": op, "family": over_time_family(op)})
    return refuse(module, op, message(finding), fix(finding))


def _name(func: Any) -> str:
    return str(getattr(func, "__name__", "") or "")


def _find_timed(values: Any, table: dict[int, tuple[Any, Timeline]], out: list[tuple[Any, Timeline]], depth: int) -> None:
    """The tensors of ``values`` (and of lists in them, two levels deep) that have a
    timeline in ``table``, appended to ``out`` in order: the mode's first look at every
    call, kept cheap (most calls of a forward are pointwise)."""
    for v in values:
        if isinstance(v, torch.Tensor):
            found = table.get(id(v))
            if found is not None and found[0]() is v:
                out.append((v, found[1]))
        elif depth < 2 and isinstance(v, (list, tuple)):
            _find_timed(v, table, out, depth + 1)


def _tensors(value: Any, depth: int = 0) -> list[Any]:
    if isinstance(value, torch.Tensor):
        return [value]
    if depth < 2 and isinstance(value, (list, tuple)):
        return [t for item in value for t in _tensors(item, depth + 1)]
    return []


def _swap(value: Any, table: dict[int, Any], depth: int = 0) -> Any:
    """``value`` with the tensors whose id is in ``table`` replaced."""
    if isinstance(value, torch.Tensor):
        return table.get(id(value), value)
    if depth < 2 and isinstance(value, (list, tuple)):
        return type(value)(_swap(item, table, depth + 1) for item in value)
    return value


def _conv_pads(padding: Any, span: int) -> tuple[int, int]:
    if padding == "same":
        return same_padding(span, 1)
    if padding == "valid":
        return (0, 0)
    p = _first(padding)
    return (p, p)


class _Mode(TorchFunctionMode):
    """Every torch call of the forward goes to the runner."""

    def __init__(self, runner: Runner) -> None:
        super().__init__()
        self.runner = runner

    def __torch_function__(self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None) -> Any:
        return self.runner.call(func, args, kwargs or {})


class _Side:
    """Tensors' timelines, by id, checked by weak reference."""

    def __init__(self) -> None:
        self.table: dict[int, tuple[Any, Timeline]] = {}

    def get(self, t: Any) -> Timeline | None:
        found = self.table.get(id(t))
        if found is None or found[0]() is not t:
            return None
        return found[1]

    def set(self, t: Any, tl: Timeline) -> None:
        self.table[id(t)] = (weakref.ref(t), tl)


class Runner:
    """The forward of ``model`` on chunks: ``mode`` is "plan" (record the time-axis calls
    of a whole input), "push" (a chunk), "flush" (the end) or "step" (a chunk of a fixed
    size, the state passed in). ``plans``: the forward planned on several lengths (the
    first is the reference; lefts must agree, rights are the most held back);
    ``flush_plan``: planned on the whole length, at the end."""

    def __init__(self, model: Any, plans: Sequence[list[PlanOp]] = ()) -> None:
        self.model = model
        self.names = {id(m): n for n, m in model.named_modules()}
        self.plans = list(plans)
        self.mode = "plan"
        self.recorded: list[PlanOp] = []
        self.flush_plan: list[PlanOp] = []
        self.states: dict[int, OpState] = {}
        self.joins: dict[int, OpState] = {}
        self.step_chunk: int | None = None
        #: conv1d as F.conv1d always (a recording for ONNX Runtime: one Conv node, not a
        #: matmul of the windows; :mod:`~convtrace.inspect.streamify_fast`)
        self.plain_conv = False
        self.trace: list[tuple[PlanOp, Any, int]] | None = None
        self.side = _Side()
        self.stack: list[str] = [""]
        self.kinds: list[str] = [""]
        self.counter = 0
        self.join_counter = 0
        #: the results of calls on parameters alone (a weight norm), kept for the next
        #: pushes (None: not kept — the plan, a step)
        self.constants: ParameterCalls | None = None

    # ------------------------------------------------------------------ plumbing
    def run(self, x: Any, tl: Timeline) -> tuple[Any, Timeline]:
        """The forward on ``x`` (at ``tl``): the output and its timeline."""
        runner = self

        def pre(module: Any, args: Any) -> None:
            runner.stack.append(runner.names.get(id(module), "?"))
            runner.kinds.append(type(module).__name__)

        def post(module: Any, args: Any, out: Any) -> None:
            if len(runner.stack) > 1:
                runner.stack.pop()
                runner.kinds.pop()

        self.counter = self.join_counter = 0
        self.stack = [""]
        self.kinds = [""]
        self.side = _Side()
        self.side.set(x, tl)
        handles = [torch.nn.modules.module.register_module_forward_pre_hook(pre),
                   torch.nn.modules.module.register_module_forward_hook(post)]  # fmt: skip
        try:
            with _Mode(self):
                out = self.model(x)
        finally:
            for handle in handles:
                handle.remove()
        if not isinstance(out, torch.Tensor):
            raise ConvtraceError("model", type(out).__name__, "streamify needs a forward that returns one tensor",
                                 call="streamify", hint="wrap the model in a module whose forward returns the tensor to stream")  # fmt: skip
        found = self.side.get(out)
        if found is None:
            raise refuse("", "the output", "it does not depend on the input's time axis as a time axis")
        if self.mode != "plan" and self.plans and self.counter != len(self.plans[0]):
            raise self._mismatch("(the end of forward)")
        return out, found

    @property
    def where(self) -> str:
        return self.stack[-1]

    def what(self, op: str) -> str:
        """The op, with the class of the module making it (``GroupNorm (group_norm)``)."""
        kind = self.kinds[-1]
        return f"{kind} ({op})" if self.stack[-1] and kind else op

    def _mismatch(self, op: str) -> ConvtraceError:
        expected = self.plans[0][self.counter] if self.counter < len(self.plans[0]) else None
        seen = "the end" if expected is None else f"{expected.op} in {expected.module or 'forward'}"
        return refuse(self.where, op, f"on a chunk the forward made call {self.counter + 1} here, on the whole input it "
                      f"was {seen}: its calls depend on the input length", "make the calls independent of the length")  # fmt: skip

    def call(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        table = self.side.table
        timed: list[tuple[Any, Timeline]] = []
        _find_timed(args, table, timed, 1)
        if kwargs:
            _find_timed(kwargs.values(), table, timed, 1)
        if not timed:
            if self.constants is not None:
                return self.constants.call(func, args, kwargs)
            return func(*args, **kwargs)
        op = _name(func)
        if self.mode == "plan" and (op in _OVER_TIME or (op == "layer_norm" and _normalises_time(
                args, kwargs, _Info(None, frozenset(), timed[0][1].dim, 0)))):  # fmt: skip
            raise over_time(self.where, self.what(op))
        if self.mode == "plan" and _training(op, args, kwargs):
            raise refuse(self.where, self.what(op), "in training mode it normalises over the batch and time, or drops "
                         "samples at random", "model.eval() before streamify")  # fmt: skip
        if op in _TIME_OPS:
            x, tl = timed[0]
            if x is args[0] if args else False:
                handled = self._time_op(op, func, args, kwargs, x, tl)
                if handled is not _NOT_TIME:
                    return handled
        if op in _CAT:
            dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
            if isinstance(dim, int) and dim % timed[0][0].dim() == timed[0][1].dim:
                raise refuse(self.where, op, "it joins tensors over time (the chunks' lengths are not the whole input's)")
        if op == "__setitem__":
            raise refuse(self.where, "x[...] = y", "it writes into a tensor on the time axis in place",
                         "build the tensor with torch.cat on channels, or out of place")  # fmt: skip
        return self._generic(op, func, args, kwargs, timed)

    # ------------------------------------------------------------------ pointwise calls and joins
    def _generic(self, op: str, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                 timed: list[tuple[Any, Timeline]]) -> Any:  # fmt: skip
        dims = {tl.dim - t.dim() for t, tl in timed}  # from the end: broadcasting aligns the last dimensions
        if len(dims) > 1:
            raise refuse(self.where, op, "it combines tensors whose time axes are different dimensions")
        target = _target(op, args, kwargs)
        distinct = {id(t) for t, _ in timed}
        if self.mode == "plan":
            out = func(*args, **kwargs)
            tl = timed[0][1]
        else:
            slot = self.join_counter
            self.join_counter += 1
            state = self.joins.get(slot)
            needs = len(distinct) > 1 or any(tl.fill is not None and tl.start > 0 for _, tl in timed)
            if state is None and needs:
                state = AlignState(f"{self.where}.{op}", [(to_last(t, tl_.dim), tl_) for t, tl_ in _unique(timed)])
                state.name = f"{self.where or 'forward'}.join{slot}"
                self.joins[slot] = state
            if state is None:
                out = func(*args, **kwargs)
                tl = timed[0][1]
            else:
                assert isinstance(state, AlignState)
                parts = _unique(timed)
                if len(parts) != len(state.tensor_names):
                    raise self._mismatch(op)
                moved = [(to_last(t, tl_.dim), tl_) for t, tl_ in parts]
                aligned, tl = state.push(moved)
                table = {id(t): from_last(a, tl_.dim) for (t, tl_), a in zip(parts, aligned)}
                tl = on_dim(tl, parts[0][1].dim)
                new_args, new_kwargs = _swap(args, table), {k: _swap(v, table) for k, v in kwargs.items()}
                if target is not None:
                    out = _out_of_place(op, func, new_args, new_kwargs, target)
                else:
                    out = func(*new_args, **new_kwargs)
        if target is not None:
            self.side.set(target, tl)
            return out
        self._tag_outputs(op, args, timed, out, tl)
        return out

    def _tag_outputs(self, op: str, args: tuple[Any, ...], timed: list[tuple[Any, Timeline]], out: Any,
                     tl: Timeline) -> None:  # fmt: skip
        known = [(t, _Info(None, frozenset(), tl_.dim, 0)) for t, tl_ in timed]
        for t in _tensors(out):
            if self.side.get(t) is not None:
                continue
            dim = _time_dim(op, args, known, t)
            if dim is None:
                if self.mode == "plan" and op not in _NO_TIME_OK:
                    raise refuse(self.where, self.what(op), "its output has not the input's time axis: it reduces, "
                                 "resamples, reshapes or indexes time",
                                 "keep the time axis (reduce over channels, or per frame; upsample with ConvTranspose1d)")  # fmt: skip
                continue
            self.side.set(t, on_dim(tl, dim))

    # ------------------------------------------------------------------ time-axis calls
    def _time_op(self, op: str, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any], x: Any, tl: Timeline) -> Any:
        last = tl.dim == x.dim() - 1
        if op == "__getitem__":
            index = args[1] if len(args) > 1 else None
            found = _time_slice(x, index, tl.dim)
            if found is None:
                return _NOT_TIME
            plan = PlanOp("edge", "crop", self.where, -found[0], -(int(x.shape[tl.dim]) - found[1]))
            if not last:
                if plan.left or plan.right:
                    raise refuse(self.where, "crop", "it crops a time axis that is not the last dimension")
                return _NOT_TIME
            inner = _untimed_index(x, index, tl.dim)
            return self._edge(plan, lambda t: t[inner] if inner is not None else t, x, tl, func, args, kwargs)
        if op == "pad":
            a = _bind(("input", "pad", "mode", "value"), {"mode": "constant", "value": None}, args, kwargs)
            pads = [int(v) for v in a["pad"]]
            mode = str(a["mode"] or "constant")
            if not last:
                if any(pads[2 * (x.dim() - 1 - tl.dim) : 2 * (x.dim() - 1 - tl.dim) + 2]):
                    raise refuse(self.where, "pad", "it pads a time axis that is not the last dimension")
                return _NOT_TIME
            if mode == "circular":
                raise refuse(self.where, self.what("pad") + " circular", *REFUSALS["circular"])
            value = float(a["value"] or 0.0)
            plan = PlanOp("edge", "pad", self.where, pads[0], pads[1], mode, value)
            rest = pads[2:]
            inner_pad = (lambda t: F.pad(t, [0, 0, *rest], mode, a["value"])) if any(rest) else (lambda t: t)
            return self._edge(plan, inner_pad, x, tl, func, args, kwargs)
        if not last:
            raise refuse(self.where, op, "its time axis is not the last dimension")
        if op.startswith("adaptive_"):
            raise refuse(self.where, self.what(op), *REFUSALS["adaptive"])
        if op == "max_unpool1d":
            raise refuse(self.where, self.what(op), *REFUSALS["unpool"])
        if op == "max_pool1d_with_indices":
            raise refuse(self.where, self.what(op), "pooling indices count from the start of the whole input",
                         "pool without return_indices")  # fmt: skip
        if op == "conv_transpose1d":
            return self._scatter(func, args, kwargs, x, tl)
        return self._window(op, func, args, kwargs, x, tl)

    def _next_plan(self, plan: PlanOp) -> tuple[int, list[PlanOp]]:
        """The index of this call; the same call in every plan (checked)."""
        index = self.counter
        self.counter += 1
        if self.mode == "plan":
            self.recorded.append(plan)
            return index, []
        if index >= len(self.plans[0]) or not _same_call(self.plans[0][index], plan):
            self.counter -= 1
            if plan.op == "pad" and plan.mode == "constant" and plan.left == 0 and plan.right >= 0:
                return -1, []  # a pad on the right the whole input does not get (a short chunk's): nothing
            raise self._mismatch(plan.op)
        return index, [p[index] for p in self.plans if index < len(p)]

    def _edge(self, plan: PlanOp, inner: Callable[[Any], Any], x: Any, tl: Timeline, func: Any,
              args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:  # fmt: skip
        index, plans = self._next_plan(plan)
        if index < 0:
            y = inner(x)
            self.side.set(y, on_dim(tl, y.dim() - 1))
            return y
        if self.mode == "plan":
            out = func(*args, **kwargs)
            self.recorded[-1] = PlanOp(plan.kind, plan.op, plan.module, plan.left, plan.right, plan.mode, plan.value,
                                       int(out.shape[-1]))  # fmt: skip
            self.side.set(out, Timeline(0, 0, out.dim() - 1))
            return out
        ref = plans[0]
        if not ref.left and not any(p.right for p in plans):
            y = inner(x)
            self.side.set(y, on_dim(tl, y.dim() - 1))
            return y
        state = self.states.get(index)
        if state is None:
            crop = max(0, *(-p.right for p in plans))
            pad = max(0, min(p.right for p in plans))
            keep = max(0, *(p.right + 1 for p in plans))
            step = None if self.step_chunk is None else int(self.step_chunk * tl.rate)
            state = EdgeState(self._state_name(index, plan.op), x, tl, ref.left, ref.mode, ref.value, crop, pad, keep,
                              step)  # fmt: skip
            self.states[index] = state
        assert isinstance(state, EdgeState)
        if self.mode == "flush":
            y, out_tl = state.finish(inner(x), tl, self.flush_plan[index].right)
        else:
            y, out_tl = state.push(inner(x), tl)
        self.side.set(y, on_dim(out_tl, y.dim() - 1))
        self._traced(index, y, out_tl)
        return y

    def _traced(self, index: int, y: Any, tl: Timeline) -> None:
        """Keep a call's streamed output (and its first index) when tracing."""
        if self.trace is not None:
            self.trace.append((self.plans[0][index], y, tl.start + (tl.shift if isinstance(tl.shift, int) else 0)))

    def _state_name(self, index: int, op: str) -> str:
        return f"{self.where or 'forward'}.{op}{index}"

    def _window(self, op: str, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any], x: Any, tl: Timeline) -> Any:
        run: Callable[[Any], Any]
        if op == "conv1d":
            a = _bind(("input", "weight", "bias", "stride", "padding", "dilation", "groups"),
                      {"bias": None, "stride": 1, "padding": 0, "dilation": 1, "groups": 1}, args, kwargs)  # fmt: skip
            dilation, stride = _first(a["dilation"]), _first(a["stride"])
            span = dilation * (int(a["weight"].shape[-1]) - 1) + 1
            left, right = _conv_pads(a["padding"], span)
            value = 0.0
            weight, bias, groups = a["weight"], a["bias"], int(a["groups"])
            channels = int(weight.shape[0]) if x.dim() >= 2 else 0
            if groups == 1 and self.step_chunk is None and not self.plain_conv:
                run = functools.partial(few_windows, weight=weight, bias=bias, stride=stride, dilation=dilation)
            else:
                run = lambda w: F.conv1d(w, weight, bias, stride, 0, dilation, groups)  # noqa: E731
        else:
            run, span, stride, left, value = self._pool(op, args, kwargs)
            right, channels = left, 0
        plan = PlanOp("window", op, self.where, left, right, "constant", value)
        index, _ = self._next_plan(plan)
        if self.mode == "plan":
            out = func(*args, **kwargs)
            self.recorded[-1] = PlanOp("window", op, self.where, left, right, "constant", value, int(out.shape[-1]))
            self.side.set(out, Timeline(0, 0, out.dim() - 1))
            return out
        state = self.states.get(index)
        if state is None:
            state = WindowState(self._state_name(index, op), x, tl, span, stride, left, right, value)
            self.states[index] = state
        assert isinstance(state, WindowState)
        state.run = run
        state.channels = int(x.shape[-2]) if op != "conv1d" and x.dim() >= 2 else channels
        if self.mode == "flush":
            y, out_tl = state.finish(x, tl, self.flush_plan[index].out_length)
        else:
            y, out_tl = state.push(x, tl)
        self.side.set(y, out_tl)
        self._traced(index, y, out_tl)
        return y

    def _pool(self, op: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Callable[[Any], Any], int, int, int, float]:
        if op == "max_pool1d":
            a = _bind(("input", "kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"),
                      {"stride": None, "padding": 0, "dilation": 1, "ceil_mode": False, "return_indices": False},
                      args, kwargs)  # fmt: skip
            if a["return_indices"]:
                raise refuse(self.where, op, "pooling indices count from the start of the whole input")
            k, d = _first(a["kernel_size"]), _first(a["dilation"])
            s = k if a["stride"] is None or a["stride"] == [] else _first(a["stride"])
            return (lambda w: F.max_pool1d(w, k, s, 0, d)), d * (k - 1) + 1, s, _first(a["padding"]), -math.inf
        if op == "avg_pool1d":
            a = _bind(("input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"),
                      {"stride": None, "padding": 0, "ceil_mode": False, "count_include_pad": True}, args, kwargs)  # fmt: skip
            k = _first(a["kernel_size"])
            s = k if a["stride"] is None or a["stride"] == [] else _first(a["stride"])
            p = _first(a["padding"])
            if p and not a["count_include_pad"]:
                raise refuse(self.where, op, "count_include_pad=False divides the windows at the edges by what they "
                             "hold, not streamed", "count_include_pad=True, or pad before the pool")  # fmt: skip
            if a["ceil_mode"]:
                raise refuse(self.where, op, "ceil_mode's last window is divided by what it holds, not streamed",
                             "ceil_mode=False")  # fmt: skip
            return (lambda w: F.avg_pool1d(w, k, s, 0)), k, s, p, 0.0
        a = _bind(("input", "norm_type", "kernel_size", "stride", "ceil_mode"), {"stride": None, "ceil_mode": False},
                  args, kwargs)  # fmt: skip
        k, norm = _first(a["kernel_size"]), float(a["norm_type"])
        s = k if a["stride"] is None or a["stride"] == [] else _first(a["stride"])
        if a["ceil_mode"]:
            raise refuse(self.where, op, "ceil_mode's last window reads past the end, not streamed", "ceil_mode=False")
        return (lambda w: F.lp_pool1d(w, norm, k, s)), k, s, 0, 0.0

    def _scatter(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any], x: Any, tl: Timeline) -> Any:
        a = _bind(("input", "weight", "bias", "stride", "padding", "output_padding", "groups", "dilation"),
                  {"bias": None, "stride": 1, "padding": 0, "output_padding": 0, "groups": 1, "dilation": 1},
                  args, kwargs)  # fmt: skip
        plan = PlanOp("scatter", "conv_transpose1d", self.where, -_first(a["padding"]), -_first(a["padding"]))
        index, _ = self._next_plan(plan)
        if self.mode == "plan":
            out = func(*args, **kwargs)
            self.side.set(out, Timeline(0, 0, out.dim() - 1))
            return out
        if tl.fill is not None and tl.start > 0:
            raise refuse(self.where, "conv_transpose1d", "it reads a left pad directly", "pad its output instead")
        state = self.states.get(index)
        if state is None:
            state = ScatterState(self._state_name(index, "conv_transpose1d"), x, tl, a["weight"], a["bias"],
                                 _first(a["stride"]), _first(a["padding"]), _first(a["output_padding"]),
                                 int(a["groups"]), _first(a["dilation"]))  # fmt: skip
            self.states[index] = state
        assert isinstance(state, ScatterState)
        state.weight, state.bias = a["weight"], a["bias"]
        y, out_tl = state.finish(x, tl) if self.mode == "flush" else state.push(x, tl)
        self.side.set(y, out_tl)
        self._traced(index, y, out_tl)
        return y


#: names of calls never kept: random, or writing into their input
_NOT_CONSTANT = ("dropout", "rand", "bernoulli", "normal", "uniform", "multinomial", "poisson", "exponential",
                 "cauchy", "geometric", "log_normal", "set_", "copy_")  # fmt: skip
_SCALARS = (int, float, bool, str, type(None), torch.dtype, torch.device)


class ParameterCalls:
    """The calls of a forward on parameters alone (a weight norm's ``_weight_norm(v, g)``,
    remade by every forward), run once per stream: the result is kept with its inputs'
    identities, versions and storage, and given again while none changed (an in-place
    change of a parameter, or of the kept result, runs the call again).

    >>> import torch
    >>> calls, w = ParameterCalls(), torch.nn.Parameter(torch.ones(2))
    >>> with torch.no_grad():  # (with gradients on nothing is kept)
    ...     a = calls.call(torch.mul, (w, 2.0), {})
    ...     again = calls.call(torch.mul, (w, 2.0), {})
    ...     _ = w.add_(1)
    ...     changed = calls.call(torch.mul, (w, 2.0), {})
    >>> again is a, changed.tolist(), calls.hits
    (True, [4.0, 4.0], 1)
    """

    def __init__(self) -> None:
        self.kept: dict[tuple[Any, ...], tuple[list[Any], list[tuple[int, int]], Any, int]] = {}
        self.hits = 0

    def call(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """``func(*args, **kwargs)``, kept when its tensors are all parameters."""
        if not any(type(v) is torch.nn.Parameter for v in args) and not any(
                type(v) is torch.nn.Parameter for v in kwargs.values()):  # fmt: skip
            return func(*args, **kwargs)  # (the cheap look first: most calls take no parameter)
        key = self._key(func, args, kwargs)
        if key is None:
            return func(*args, **kwargs)
        params = [v for v in (*args, *kwargs.values()) if isinstance(v, torch.Tensor)]
        marks = [(p._version, p.data_ptr()) for p in params]
        found = self.kept.get(key)
        if found is not None:
            kept_params, kept_marks, out, version = found
            if all(a is b for a, b in zip(kept_params, params)) and kept_marks == marks and out._version == version:
                self.hits += 1
                return out
        out = func(*args, **kwargs)
        if isinstance(out, torch.Tensor) and not isinstance(out, torch.nn.Parameter):
            self.kept[key] = (params, marks, out, out._version)
        return out

    @staticmethod
    def _key(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...] | None:
        """The call's key (its function, the parameters' ids, the other values), or None
        when it is not kept: not only parameters and plain values, in place, or random."""
        if torch.is_grad_enabled() or torch._C._get_tracing_state() is not None:
            return None
        name = _name(func)
        if name.endswith("_") or name in _IN_PLACE or "out" in kwargs or any(n in name for n in _NOT_CONSTANT):
            return None
        key: list[Any] = [func]
        param = False
        for name_, v in [("", v) for v in args] + list(kwargs.items()):
            if isinstance(v, torch.nn.Parameter):
                param = True
                key.append((name_, "param", id(v)))
            elif isinstance(v, _SCALARS):
                key.append((name_, v))
            else:
                return None
        return tuple(key) if param else None

_NOT_TIME: Any = object()


def _same_call(planned: PlanOp, seen: PlanOp) -> bool:
    """The call on a chunk is the planned one: the op, the module and a pad's mode."""
    return (planned.op, planned.module) == (seen.op, seen.module) and (seen.op != "pad" or planned.mode == seen.mode)


#: up to this many windows a push's conv is one matrix product: PyTorch's conv1d costs about
#: 3x more on so few (measured with one thread, CPU time: 128 -> 256 channels, k=16, 5 windows:
#: 0.73 ms against 0.20 ms; equal at 40 windows)
FEW_WINDOWS = 32


def few_windows(w: Any, weight: Any, bias: Any, stride: int, dilation: int) -> Any:
    """conv1d (one group, no padding) of ``w`` by ``weight``: a matrix product when it has
    few windows.

    >>> w, k = torch.randn(2, 3, 9, dtype=torch.float64), torch.randn(4, 3, 3, dtype=torch.float64)
    >>> bool(torch.allclose(few_windows(w, k, None, 2, 2), F.conv1d(w, k, None, 2, 0, 2)))
    True
    """
    span = dilation * (int(weight.shape[-1]) - 1) + 1
    count = (int(w.shape[-1]) - span) // stride + 1
    if count > FEW_WINDOWS or count < 1 or w.dim() != 3:
        return F.conv1d(w, weight, bias, stride, 0, dilation)
    u = w.unfold(-1, span, stride)[..., ::dilation]  # (N, C, count, k)
    y = torch.matmul(u.transpose(1, 2).reshape(int(w.shape[0]), count, -1), weight.reshape(int(weight.shape[0]), -1).t())
    y = y.transpose(1, 2)
    return y if bias is None else y + bias.reshape(-1, 1)


def to_last(t: Any, dim: int) -> Any:
    """``t`` with dimension ``dim`` moved last (itself when it is: no op to export)."""
    return t if dim in (-1, t.dim() - 1) else t.movedim(dim, -1)


def from_last(t: Any, dim: int) -> Any:
    """The inverse of :func:`to_last`."""
    return t if dim in (-1, t.dim() - 1) else t.movedim(-1, dim)


def _training(op: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """batch_norm on batch statistics, or a dropout that drops (training mode)."""
    if op == "batch_norm":
        a = _bind(("input", "running_mean", "running_var", "weight", "bias", "training"), {"training": False}, args, kwargs)
        return bool(a["training"])
    if op in ("dropout", "alpha_dropout", "feature_alpha_dropout", "dropout1d"):
        a = _bind(("input", "p", "training"), {"p": 0.5, "training": True}, args, kwargs)
        return bool(a["training"]) and float(a["p"]) > 0
    return False


def _unique(timed: list[tuple[Any, Timeline]]) -> list[tuple[Any, Timeline]]:
    seen: set[int] = set()
    out = []
    for t, tl in timed:
        if id(t) not in seen:
            seen.add(id(t))
            out.append((t, tl))
    return out


def _target(op: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The tensor an in-place op writes (``x += y``, ``add_``), or None."""
    if "out" in kwargs and isinstance(kwargs["out"], torch.Tensor):
        return kwargs["out"]
    in_place = op in _IN_PLACE or (op.endswith("_") and not op.startswith("_"))
    if in_place and args and isinstance(args[0], torch.Tensor):
        return args[0]
    return None


def _out_of_place(op: str, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any], target: Any) -> Any:
    """An in-place op on aligned operands: computed out of place, written into ``target``
    (its shape changes in a push when the alignment changed its length)."""
    if op in _IN_PLACE:
        plain = getattr(torch.Tensor, op.replace("__i", "__", 1))
    elif op.endswith("_"):
        plain = getattr(torch.Tensor, op[:-1])
    else:
        raise ConvtraceError("op", op, "an op with out= on tensors that need aligning is not streamed", call="streamify")
    kwargs = {k: v for k, v in kwargs.items() if k != "out"}
    result = plain(*args, **kwargs)
    if tuple(result.shape) == tuple(target.shape):
        target.copy_(result)
    else:
        with torch.no_grad():
            target.set_(result)
    return target


def _untimed_index(x: Any, index: Any, time_dim: int) -> Any:
    """``index`` with the time dimension's slice made whole (None: nothing else to index)."""
    items = index if isinstance(index, tuple) else (index,)
    if Ellipsis in items:
        at = items.index(Ellipsis)
        items = items[:at] + (slice(None),) * (x.dim() - (len(items) - 1)) + items[at + 1 :]
    items = tuple(items) + (slice(None),) * max(0, time_dim + 1 - len(items))
    items = items[:time_dim] + (slice(None),) + items[time_dim + 1 :]
    if all(isinstance(i, slice) and i == slice(None) for i in items):
        return None
    return items


def plan_forward(model: Any, shape: Sequence[int], time_dim: int = -1, dtype: Any = None,
                 device: str = "meta") -> tuple[list[PlanOp], int]:  # fmt: skip
    """The time-axis calls of ``model`` on an input of ``shape`` (time on ``time_dim``; on
    the meta device, the parameters as meta tensors; a real run on zeros where the meta
    device cannot run it), and the output's length."""
    dtype = dtype or next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)
    runner = Runner(model)
    with torch.no_grad():
        if device == "meta":
            try:
                return _plan_meta(model, runner, tuple(shape), time_dim % len(shape), dtype)
            except ConvtraceError:
                raise
            except Exception:  # the meta device cannot run it: a real run
                runner = Runner(model)
        x = torch.zeros(tuple(shape), dtype=dtype)
        out, tl = runner.run(x, Timeline(0, 0, time_dim % len(shape)))
    return runner.recorded, int(out.shape[tl.dim])


def _plan_meta(model: Any, runner: Runner, shape: tuple[int, ...], time_dim: int, dtype: Any) -> tuple[list[PlanOp], int]:
    state = {n: torch.empty_like(t, device="meta") for n, t in model.named_parameters()}
    for n, t in model.named_buffers():  # scalar buffers (a stride, a scale) keep their value
        state[n] = t if t.dim() == 0 else torch.empty_like(t, device="meta")
    x = torch.empty(shape, dtype=dtype, device="meta")
    original = runner.model

    class Call(torch.nn.Module):
        def forward(self, t: Any) -> Any:
            return torch.func.functional_call(original, state, (t,), strict=False)

    runner.model = Call()
    out, tl = runner.run(x, Timeline(0, 0, time_dim))
    return runner.recorded, int(out.shape[tl.dim])


def first_tensor_mask(y: Any, tl: Timeline) -> Any:
    """The model's output in a step: indices before 0 set to 0."""
    return mask_before(y, tl, 0.0)
