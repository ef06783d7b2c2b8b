"""Recording what a PyTorch model does on the time axis during one forward pass.

A torch function mode sees every ``conv1d``, ``conv_transpose1d``, pool (``max_pool1d``
also with ``return_indices``, ``avg_pool1d``, ``lp_pool1d``, ``adaptive_avg_pool1d``,
``adaptive_max_pool1d``, ``max_unpool1d``), ``pad`` and time-axis slice (crop) — whether a module or the model's own
``forward`` makes the call — and forward hooks name the module making it. Every tensor the
pass produces carries the set of recorded calls it descends from (its *sources*) and which
of its dimensions is time, so the recorder knows the graph of recorded calls: a chain, or a
graph with branches (residual blocks). A tensor written in place (``x += f(y)``, ``add_``,
``copy_``, ``out=``, ``x[..., a:b] = y``, an in-place op on a slice of ``x``) takes on the
sources of what was written into it — at the time indices written, through a ``place``
call (a pad) where that is not all of them; so does ``torch.cat`` over time, part by part. Normalisation and attention over time, and recurrent
layers, are noted (their outputs depend on the whole input).

Nothing here runs at import: torch is imported inside the functions.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConvtraceError
from ..plan.layers import Layer
from .graph import INPUT

__all__ = ["Call", "Recording", "record_forward", "INPUT"]

_CONV_NAMES = {"conv1d": "conv", "conv_transpose1d": "convT", "max_pool1d": "maxpool",
               "max_pool1d_with_indices": "maxpool", "avg_pool1d": "avgpool", "lp_pool1d": "lppool",
               "adaptive_avg_pool1d": "adaptiveavgpool", "adaptive_max_pool1d": "adaptivemaxpool",
               "adaptive_max_pool1d_with_indices": "adaptivemaxpool", "max_unpool1d": "maxunpool"}  # fmt: skip
#: ops that mix the whole time axis (batch norm does not: inspection runs in eval mode, on running stats)
_GLOBAL_NAMES = {"group_norm", "instance_norm", "scaled_dot_product_attention", "lstm", "gru", "rnn_tanh",
                 "rnn_relu"}  # fmt: skip
_GLOBAL_MODULES = ("LSTM", "GRU", "RNN", "MultiheadAttention", "Attention", "GroupNorm", "InstanceNorm1d")
_CAT_NAMES = {"cat", "concat", "concatenate"}
#: in-place operators (``x += y``); other in-place ops end with ``_`` (``add_``, ``copy_``)
_IN_PLACE = {"__iadd__", "__isub__", "__imul__", "__itruediv__", "__ifloordiv__", "__imod__", "__ipow__",
             "__iand__", "__ior__", "__ixor__", "__ilshift__", "__irshift__"}  # fmt: skip
_MODULE_TYPES = {"Conv1d": "conv", "ConvTranspose1d": "convT", "MaxPool1d": "maxpool", "AvgPool1d": "avgpool",
                 "LPPool1d": "lppool", "AdaptiveAvgPool1d": "adaptiveavgpool", "AdaptiveMaxPool1d": "adaptivemaxpool",
                 "MaxUnpool1d": "maxunpool"}  # fmt: skip


@dataclass
class Call:
    """One recorded call on the time axis.

    ``name``: the module's qualified name for a module's own call, else the op
    (``pad``, ``crop``, ``conv1d``, ...); ``module``: the module making the call; ``sources``:
    ids of the recorded calls (or :data:`INPUT`) its input descends from."""

    index: int
    name: str
    type: str
    op: str
    module: str
    layer: Layer
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    sources: frozenset[int]

    @property
    def in_length(self) -> int:
        return self.in_shape[-1]

    @property
    def out_length(self) -> int:
        return self.out_shape[-1]


@dataclass
class Recording:
    """Everything one forward pass showed."""

    calls: list[Call] = field(default_factory=list)
    global_ops: list[tuple[str, str]] = field(default_factory=list)  # (kind, module)
    unplaced: list[tuple[str, str]] = field(default_factory=list)  # (op, module)
    rejected: list[str] = field(default_factory=list)  # calls convtrace's rules (PyTorch's) reject
    output_length: int | None = None
    output_shape: tuple[int, ...] | None = None
    output_sources: frozenset[int] = frozenset()


@dataclass
class _View:
    """A tensor made by slicing ``parent`` (weakly referenced): its time indices are the
    parent's ``start..stop-1``; ``written``: an in-place op on it has reached the parent."""

    parent: Any
    start: int
    stop: int
    written: bool = False


@dataclass
class _Info:
    ref: Any
    sources: frozenset[int]
    time_dim: int | None
    seq: int
    view: _View | None = None


class _Tracker:
    """Per-tensor sources and time dimension, keyed by id and checked by weak reference."""

    def __init__(self) -> None:
        self.infos: dict[int, _Info] = {}
        self.seq = 0

    def get(self, tensor: Any) -> _Info | None:
        info = self.infos.get(id(tensor))
        if info is None or info.ref() is not tensor:
            return None
        return info

    def set(self, tensor: Any, sources: frozenset[int], time_dim: int | None, view: _View | None = None) -> None:
        """Tag ``tensor``; a tensor tagged again (changed in place) keeps its view."""
        self.seq += 1
        old = self.get(tensor)
        try:
            ref = weakref.ref(tensor)
        except TypeError:
            return
        view = view if view is not None else (old.view if old is not None else None)
        self.infos[id(tensor)] = _Info(ref, sources, time_dim, self.seq, view)


def _tensors(value: Any, depth: int = 0) -> Iterator[Any]:
    import torch

    if isinstance(value, torch.Tensor):
        yield value
    elif depth < 3 and isinstance(value, (list, tuple)):
        for item in value:
            yield from _tensors(item, depth + 1)
    elif depth < 3 and isinstance(value, dict):
        for item in value.values():
            yield from _tensors(item, depth + 1)


def _first(value: Any) -> int:
    """An int from an int or a 1-sequence (PyTorch's 1-D parameters)."""
    if isinstance(value, (list, tuple)):
        return int(value[0]) if len(value) else 0
    return int(value)


def _bind(names: tuple[str, ...], defaults: dict[str, Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    bound = dict(defaults)
    bound.update(zip(names, args))
    bound.update({k: v for k, v in kwargs.items() if k in names})
    return bound


def layer_of_call(op: str, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> Layer | None:
    """The planner layer of a conv/pool/pad call (None if it is not on the time axis)."""
    if op == "conv1d":
        a = _bind(("input", "weight", "bias", "stride", "padding", "dilation", "groups"),
                  {"bias": None, "stride": 1, "padding": 0, "dilation": 1, "groups": 1}, args, kwargs)  # fmt: skip
        if a["input"].dim() not in (2, 3):
            return None
        padding = a["padding"] if isinstance(a["padding"], str) else _first(a["padding"])
        _check_shapes(a, int(a["weight"].shape[1]) * int(a["groups"]), int(a["weight"].shape[0]))
        return Layer("conv", a["weight"].shape[-1], _first(a["stride"]), padding, _first(a["dilation"]),
                     int(a["groups"]), out_channels=int(a["weight"].shape[0]), bias=a["bias"] is not None)  # fmt: skip
    if op == "conv_transpose1d":
        a = _bind(("input", "weight", "bias", "stride", "padding", "output_padding", "groups", "dilation"),
                  {"bias": None, "stride": 1, "padding": 0, "output_padding": 0, "groups": 1, "dilation": 1},
                  args, kwargs)  # fmt: skip
        if a["input"].dim() not in (2, 3):
            return None
        groups = int(a["groups"])
        _check_shapes(a, int(a["weight"].shape[0]), int(a["weight"].shape[1]) * groups)
        return Layer("convT", a["weight"].shape[-1], _first(a["stride"]), _first(a["padding"]),
                     _first(a["dilation"]), groups, _first(a["output_padding"]),
                     out_channels=int(a["weight"].shape[1]) * groups, bias=a["bias"] is not None)  # fmt: skip
    if op in ("max_pool1d", "max_pool1d_with_indices"):
        a = _bind(("input", "kernel_size", "stride", "padding", "dilation", "ceil_mode"),
                  {"stride": None, "padding": 0, "dilation": 1, "ceil_mode": False}, args, kwargs)  # fmt: skip
        k = _first(a["kernel_size"])
        s = _pool_stride(a["stride"], k)
        return Layer("maxpool", k, s, _first(a["padding"]), _first(a["dilation"]), ceil_mode=bool(a["ceil_mode"]))
    if op == "avg_pool1d":
        a = _bind(("input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"),
                  {"stride": None, "padding": 0, "ceil_mode": False, "count_include_pad": True}, args, kwargs)  # fmt: skip
        k = _first(a["kernel_size"])
        s = _pool_stride(a["stride"], k)
        return Layer("avgpool", k, s, _first(a["padding"]), ceil_mode=bool(a["ceil_mode"]),
                     count_include_pad=bool(a["count_include_pad"]))  # fmt: skip
    return _other_pool(op, args, kwargs, out)


def _pool_stride(stride: Any, kernel_size: int) -> int:
    """A pool's stride: PyTorch's default (None or empty) is the kernel size."""
    return kernel_size if stride is None or (isinstance(stride, (list, tuple)) and not stride) else _first(stride)


def _other_pool(op: str, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> Layer | None:
    """The planner layer of an lp, adaptive or unpooling call (None for any other op).

    >>> import torch
    >>> x = torch.zeros(1, 2, 10)
    >>> _other_pool("adaptive_max_pool1d", (x, 3), {}, torch.zeros(1, 2, 3)).describe()
    'adaptivemaxpool o=3'
    >>> _other_pool("max_unpool1d", (x, x, 2), {"output_size": [1, 2, 21]}, torch.zeros(1, 2, 21)).describe()
    'maxunpool k=2 o=21'
    """
    if op == "lp_pool1d":
        a = _bind(("input", "norm_type", "kernel_size", "stride", "ceil_mode"), {"stride": None, "ceil_mode": False},
                  args, kwargs)  # fmt: skip
        k = _first(a["kernel_size"])
        s = _pool_stride(a["stride"], k)
        return Layer("lppool", k, s, ceil_mode=bool(a["ceil_mode"]), norm_type=float(a["norm_type"]))
    if op.startswith("adaptive_"):
        a = _bind(("input", "output_size"), {}, args, kwargs)
        kind = "adaptiveavgpool" if op == "adaptive_avg_pool1d" else "adaptivemaxpool"
        return Layer(kind, output_size=_first(a["output_size"]))
    if op == "max_unpool1d":
        a = _bind(("input", "indices", "kernel_size", "stride", "padding", "output_size"),
                  {"stride": None, "padding": 0, "output_size": None}, args, kwargs)  # fmt: skip
        k = _first(a["kernel_size"])
        s = _pool_stride(a["stride"], k)
        size = None if a["output_size"] is None else int(next(iter(_tensors(out))).shape[-1])
        return Layer("maxunpool", k, s, _first(a["padding"]), output_size=size)
    return None


def _check_shapes(bound: dict[str, Any], in_channels: int, out_channels: int) -> None:
    """The channel checks the meta kernels skip: input channels and bias size (PyTorch's
    CPU and CUDA kernels make them)."""
    x, bias = bound["input"], bound["bias"]
    if x.dim() >= 2 and int(x.shape[-2]) != in_channels:
        raise ConvtraceError("input", tuple(x.shape), f"the weight expects {in_channels} input channels, got {x.shape[-2]}")
    if bias is not None and int(bias.numel()) != out_channels:
        raise ConvtraceError("bias", tuple(bias.shape), f"expected bias to be 1-dimensional with {out_channels} elements")


def _pad_layer(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Layer | None:
    a = _bind(("input", "pad", "mode", "value"), {"mode": "constant", "value": None}, args, kwargs)
    pad = list(a["pad"])
    if len(pad) < 2 or (pad[0] == 0 and pad[1] == 0):
        return None
    mode = a["mode"] or "constant"
    return Layer("pad", padding_mode=str(mode), pad_left=int(pad[0]), pad_right=int(pad[1]))


def _crop_layer(tensor: Any, index: Any, time_dim: int) -> Layer | None:
    """A slice with step 1 on the time dimension, as a negative pad (None otherwise)."""
    found = _time_slice(tensor, index, time_dim)
    if found is None or found == (0, int(tensor.shape[time_dim])):
        return None
    start, stop = found
    return Layer("pad", pad_left=-start, pad_right=-(int(tensor.shape[time_dim]) - stop))


def _time_slice(tensor: Any, index: Any, time_dim: int) -> tuple[int, int] | None:
    """The time indices ``start..stop-1`` that ``tensor[index]`` keeps, for an index that
    keeps the time dimension as a step-1 slice (None for any other index).

    >>> import torch
    >>> _time_slice(torch.zeros(1, 2, 10), (Ellipsis, slice(2, -1)), 2), _time_slice(torch.zeros(1, 2, 10), 0, 2)
    ((2, 9), (0, 10))
    >>> _time_slice(torch.zeros(1, 2, 10), (Ellipsis, 3), 2) is None
    True
    """
    items = index if isinstance(index, tuple) else (index,)
    if any(item is None for item in items) or sum(1 for item in items if item is Ellipsis) > 1:
        return None
    ndim = tensor.dim()
    if Ellipsis in items:
        at = items.index(Ellipsis)
        fill = ndim - (len(items) - 1)
        items = items[:at] + (slice(None),) * fill + items[at + 1 :]
    length = int(tensor.shape[time_dim])
    if any(not isinstance(item, (int, slice)) for item in items[:time_dim]):
        return None  # tensor or list indices: dimensions may merge
    if len(items) <= time_dim:
        return (0, length)
    item = items[time_dim]
    if not isinstance(item, slice) or item.step not in (None, 1):
        return None
    start, stop, _ = item.indices(length)
    return (start, max(stop, start))


def _written(op: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The tensor an op writes in place (``out=``, ``add_``, ``x += y``), or None."""
    out = kwargs.get("out")
    if out is not None and hasattr(out, "dim"):
        return out
    in_place = op in _IN_PLACE or (op.endswith("_") and not op.startswith("_"))
    if in_place and args and hasattr(args[0], "dim"):
        return args[0]
    return None


def _op_name(func: Any) -> str:
    return str(getattr(func, "__name__", "") or "")


class _Recorder:
    """The state of one recorded forward pass: the calls, the tensors' time axes and sources,
    and the stack of modules being run (hooks push and pop it)."""

    def __init__(self, model: Any, into: Recording | None = None) -> None:
        self.recording = Recording() if into is None else into
        self.tracker = _Tracker()
        self.stack: list[str] = [""]
        self.names = {id(module): name for name, module in model.named_modules()}
        self.modules_by_name = dict(model.named_modules())

    def observe(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> None:
        """One torch function call seen by the mode: a layer to record, a tensor written in
        place (its sources grow), or sources to pass on to new tensors."""
        op = _op_name(func)
        if op == "__setitem__":
            self._assign(args)
            return
        inputs = list(_tensors(args)) + list(_tensors(kwargs))
        known = [(t, i) for t, i in ((t, self.tracker.get(t)) for t in inputs) if i is not None]
        first = inputs[0] if inputs else None
        first_info = self.tracker.get(first) if first is not None else None
        layer = self._layer(op, args, kwargs, out, first, first_info)
        if op in _GLOBAL_NAMES or (op == "layer_norm" and _normalises_time(args, kwargs, first_info)):
            self.recording.global_ops.append((op, self.stack[-1]))
        outs = list(_tensors(out))
        if layer is not None and first is not None and outs:
            self._add_call(op, layer, first, outs[0], first_info)
            view = None
            if op == "__getitem__" and layer.kind == "pad":  # a crop: a view of the time indices it keeps
                view = _View(weakref.ref(first), -layer.pad_left, int(first.shape[-1]) + layer.pad_right)
            self.tracker.set(outs[0], frozenset({len(self.recording.calls) - 1}), outs[0].dim() - 1, view)
            for extra in outs[1:]:
                self.tracker.set(extra, frozenset({len(self.recording.calls) - 1}), None)
            return
        if op in _CAT_NAMES:
            self._concatenate(op, args, kwargs, out)
            return
        written = _written(op, args, kwargs)
        if written is not None:
            self._write(op, args, written, known, replace=op == "copy_" or "out" in kwargs)
            return
        sources = frozenset().union(*(i.sources for _, i in known)) if known else frozenset()
        for tensor in outs:
            if self.tracker.get(tensor) is None and known:
                time_dim = _time_dim(op, args, known, tensor)
                self.tracker.set(tensor, sources, time_dim, self._whole_view(op, first, first_info, time_dim))

    def _whole_view(self, op: str, first: Any, info: _Info | None, time_dim: int | None) -> _View | None:
        """``x[:, :2]`` and the like keep every time index: a view of all of ``x``'s."""
        if op != "__getitem__" or first is None or info is None or info.time_dim is None or time_dim is None:
            return None
        return _View(weakref.ref(first), 0, int(first.shape[info.time_dim]))

    # ------------------------------------------------------------------ writes in place
    def _write(self, op: str, args: tuple[Any, ...], target: Any, known: list[tuple[Any, _Info]], *,
               replace: bool) -> None:  # fmt: skip
        """``target`` was written in place (``add_``, ``x += y``, ``copy_``, ``out=``): it now
        descends from the other inputs too (only from them: ``copy_``, ``out=``)."""
        info = self.tracker.get(target)
        others = [i.sources for t, i in known if t is not target]
        if not others:
            return
        sources = frozenset().union(*others)
        if info is not None and not replace:
            sources |= info.sources
        time_dim = info.time_dim if info is not None else _time_dim(op, args, known, target)
        self.tracker.set(target, sources, time_dim)
        self._reach_parent(target, sources)

    def _reach_parent(self, tensor: Any, sources: frozenset[int]) -> None:
        """A view written in place writes its parent too: at the time indices it covers."""
        info = self.tracker.get(tensor)
        if info is not None and info.view is not None:
            parent = info.view.parent()
            if parent is not None:
                info.view.written = True
                self._place(parent, tensor, sources, info.view.start, info.view.stop, "assign")
            return
        base: Any = getattr(tensor, "_base", None)
        base_info = self.tracker.get(base) if base is not None else None
        if base_info is None or base is tensor:
            return
        same = base_info.time_dim is not None and info is not None and info.time_dim is not None and \
            base.shape[base_info.time_dim] == tensor.shape[info.time_dim]  # fmt: skip
        if not same:  # a view by reshape, transpose, ...: the same time indices, or unplaced
            self.recording.unplaced.append(("in-place", self.stack[-1]))
        self.tracker.set(base, base_info.sources | sources, base_info.time_dim)

    def _place(self, target: Any, part: Any, sources: frozenset[int], start: int, stop: int, op: str) -> None:
        """``part`` (descending from ``sources``) was written into ``target``'s time indices
        ``start..stop-1``: a pad that places it there, joined with what ``target`` held."""
        info = self.tracker.get(target)
        part_info = self.tracker.get(part)
        time_dim = info.time_dim if info is not None else None
        if time_dim is None and part_info is not None and part_info.time_dim is not None:
            time_dim = part_info.time_dim - part.dim() + target.dim()
        placed = sources
        if time_dim is None or not 0 <= time_dim < target.dim():
            self.recording.unplaced.append((op, self.stack[-1]))
            time_dim = None
        elif (start, stop) != (0, int(target.shape[time_dim])):
            if time_dim != target.dim() - 1:
                self.recording.unplaced.append((op, self.stack[-1]))
            else:
                layer = Layer("pad", pad_left=start, pad_right=int(target.shape[time_dim]) - stop)
                self._add_place(op, layer, part, target, sources)
                placed = frozenset({len(self.recording.calls) - 1})
        joined = placed | (info.sources if info is not None else frozenset())
        self.tracker.set(target, joined, time_dim)
        self._reach_parent(target, joined)

    def _assign(self, args: tuple[Any, ...]) -> None:
        """``target[index] = value``."""
        if len(args) < 3:
            return
        target, index, value = args[:3]
        value_info = self.tracker.get(value) if value is not None and not isinstance(value, (int, float)) else None
        if value_info is None:
            return
        view = value_info.view
        if view is not None and view.written and view.parent() is target:  # x[a:b] += y: written already
            return
        info = self.tracker.get(target)
        time_dim = info.time_dim if info is not None else None
        if time_dim is None and value_info.time_dim is not None:
            time_dim = value_info.time_dim - value.dim() + target.dim()
        found = None if time_dim is None or not 0 <= time_dim < target.dim() else _time_slice(target, index, time_dim)
        value_dim = None if time_dim is None else time_dim - target.dim() + value.dim()
        if found is None or value_dim is None or value_dim < 0 or value.shape[value_dim] != found[1] - found[0]:
            self.recording.unplaced.append(("assign", self.stack[-1]))
            found = (0, int(target.shape[time_dim])) if time_dim is not None and 0 <= time_dim < target.dim() else (0, 0)
        self._place(target, value, value_info.sources, found[0], found[1], "assign")

    def _concatenate(self, op: str, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> None:
        """``torch.cat``: over time, each part placed at its offset; over other dimensions,
        the parts joined index for index."""
        parts = list(args[0]) if args and isinstance(args[0], (list, tuple)) else []
        dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
        written = kwargs.get("out")
        target = written if written is not None else out
        infos = [(part, self.tracker.get(part)) for part in parts]
        known = [(part, info) for part, info in infos if info is not None]
        if not known or not hasattr(target, "dim"):
            return
        time_dims = {info.time_dim for _, info in known}
        time_dim = next(iter(time_dims)) if len(time_dims) == 1 else None
        if time_dim is None or not isinstance(dim, int) or dim % target.dim() != time_dim:  # not over time
            self.tracker.set(target, frozenset().union(*(i.sources for _, i in known)), time_dim)
        else:
            self.tracker.set(target, frozenset(), time_dim)
            offset = 0
            for part, info in infos:
                length = int(part.shape[time_dim]) if part.dim() == target.dim() else 0
                if info is not None:
                    self._place(target, part, info.sources, offset, offset + length, op)
                offset += length
        if written is not None:
            info = self.tracker.get(target)
            self._reach_parent(target, info.sources if info is not None else frozenset())

    def _add_place(self, op: str, layer: Layer, part: Any, target: Any, sources: frozenset[int]) -> None:
        name = "assign" if op == "assign" else "cat"
        self.recording.calls.append(Call(len(self.recording.calls), name, "place", op, self.stack[-1],
                                         Layer(**{**layer.__dict__, "name": name}), tuple(part.shape),
                                         tuple(target.shape), sources))  # fmt: skip

    def _layer(
        self, op: str, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any, first: Any, first_info: _Info | None
    ) -> Layer | None:
        if op in _CONV_NAMES:
            return layer_of_call(op, args, kwargs, out)
        if op == "pad" and first is not None and first_info is not None and first_info.time_dim in (None, first.dim() - 1):
            return _pad_layer(args, kwargs)  # an unknown time axis: pads act on the last dimension
        if op == "__getitem__" and first_info is not None and first_info.time_dim is not None:
            layer = _crop_layer(first, args[1] if len(args) > 1 else None, first_info.time_dim)
            if layer is not None and first is not None and first_info.time_dim != first.dim() - 1:
                self.recording.unplaced.append(("crop", self.stack[-1]))
                return None
            return layer
        return None

    def _add_call(self, op: str, layer: Layer, first: Any, output: Any, info: _Info | None) -> None:
        module_name = self.stack[-1]
        module = self.modules_by_name.get(module_name)
        kind = layer.kind if op != "__getitem__" else "crop"
        own = module is not None and _MODULE_TYPES.get(_base_type(module)) == layer.kind
        name = module_name if own else ("crop" if op == "__getitem__" else op)
        sources = info.sources if info is not None else frozenset({INPUT})
        self.recording.calls.append(Call(len(self.recording.calls), name, kind, op, module_name,
                                         Layer(**{**layer.__dict__, "name": name}), tuple(first.shape),
                                         tuple(output.shape), sources))  # fmt: skip

    def pre_hook(self, module: Any, args: Any) -> None:
        self.stack.append(self.names.get(id(module), "?"))
        if any(part in type(module).__name__ for part in _GLOBAL_MODULES):
            self.recording.global_ops.append((type(module).__name__, self.stack[-1]))

    def post_hook(self, module: Any, args: Any, output: Any) -> None:
        if len(self.stack) > 1:
            self.stack.pop()
        known = [(t, i) for t, i in ((t, self.tracker.get(t)) for t in _tensors(args)) if i is not None]
        if not known:
            return
        sources: frozenset[int] = frozenset().union(*(i.sources for _, i in known))
        for tensor in _tensors(output):
            if self.tracker.get(tensor) is None:  # made by ops the mode cannot see (e.g. LSTM kernels)
                self.tracker.set(tensor, sources, _time_dim("module", (), known, tensor))


def record_forward(model: Any, run: Callable[[Callable[..., Any]], Any], into: Recording | None = None) -> Recording:
    """Run ``run(mark)`` (a forward pass of ``model`` on an input passed through ``mark``)
    and record it (into ``into``, which keeps what was recorded when the pass raises).
    Hooks and the mode are removed in ``finally``."""
    from torch.overrides import TorchFunctionMode

    recorder = _Recorder(model, into)

    class Mode(TorchFunctionMode):
        def __torch_function__(self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None) -> Any:
            kwargs = kwargs or {}
            out = func(*args, **kwargs)
            try:
                recorder.observe(func, args, kwargs, out)
            except ConvtraceError as exc:  # a call PyTorch's rules reject: the meta kernel skipped a check
                where = recorder.stack[-1] or "the model"
                recorder.recording.rejected.append(f"{_op_name(func)} in {where}: {exc.rule}")
            return out

    handles = []
    try:
        for module in model.modules():
            handles.append(module.register_forward_pre_hook(recorder.pre_hook))
            handles.append(module.register_forward_hook(recorder.post_hook))
        with Mode():
            output = run_with_input(run, recorder.tracker)
        _finish(recorder.recording, recorder.tracker, output)
    finally:
        for handle in handles:
            handle.remove()
    return recorder.recording


def run_with_input(run: Callable[[Callable[..., Any]], Any], tracker: _Tracker) -> Any:
    """``run`` receives ``mark(tensor, time_dim=-1)``, which tags the model's input."""

    def mark(tensor: Any, time_dim: int = -1) -> Any:
        tracker.set(tensor, frozenset({INPUT}), time_dim % tensor.dim())
        return tensor

    return run(mark)


def _finish(recording: Recording, tracker: _Tracker, output: Any) -> None:
    best: tuple[int, Any, _Info] | None = None
    import torch

    if not isinstance(output, torch.Tensor) and hasattr(output, "values") and callable(output.values):
        output = list(output.values())  # a ModelOutput or dict
    for tensor in _tensors(output):
        info = tracker.get(tensor)
        if info is not None and info.time_dim is not None and (best is None or info.seq > best[0]):
            best = (info.seq, tensor, info)
    if best is not None:
        _, tensor, info = best
        assert info.time_dim is not None
        recording.output_length = int(tensor.shape[info.time_dim])
        recording.output_shape = tuple(int(v) for v in tensor.shape)
        recording.output_sources = info.sources


def _base_type(module: Any) -> str:
    """The torch.nn class a module is (ParametrizedConv1d → Conv1d)."""
    import torch

    for cls, name in ((torch.nn.ConvTranspose1d, "ConvTranspose1d"), (torch.nn.Conv1d, "Conv1d"),
                      (torch.nn.MaxPool1d, "MaxPool1d"), (torch.nn.AvgPool1d, "AvgPool1d"),
                      (torch.nn.LPPool1d, "LPPool1d"), (torch.nn.AdaptiveAvgPool1d, "AdaptiveAvgPool1d"),
                      (torch.nn.AdaptiveMaxPool1d, "AdaptiveMaxPool1d"), (torch.nn.MaxUnpool1d, "MaxUnpool1d")):  # fmt: skip
        if isinstance(module, cls):
            return name
    return type(module).__name__


def _time_dim(op: str, args: tuple[Any, ...], known: list[tuple[Any, _Info]], out: Any) -> int | None:
    """Where the time axis is in ``out``, from the inputs whose time axis is known."""
    for tensor, info in known:
        td = info.time_dim
        if td is None:
            continue
        subject = bool(args) and id(tensor) == id(args[0])
        if op in ("transpose", "swapaxes", "swapdims") and subject and len(args) >= 3:
            d0, d1 = (int(a) % tensor.dim() for a in args[1:3])
            return d1 if td == d0 else d0 if td == d1 else td
        if op == "permute" and subject:
            dims = args[1:] if len(args) > 2 or not isinstance(args[1], (list, tuple)) else args[1]
            dims = [int(d) % tensor.dim() for d in dims]
            return dims.index(td) if td in dims else None
        if op in ("mT", "t") and tensor.dim() == 2:
            return 1 - int(td)
        if out.dim() == tensor.dim() and td < out.dim() and out.shape[td] == tensor.shape[td]:
            return td
        if out.dim() != tensor.dim():  # squeeze, unsqueeze, reshape: align from the end, then the start
            from_end = int(td - tensor.dim() + out.dim())
            if 0 <= from_end < out.dim() and out.shape[from_end] == tensor.shape[td]:
                return from_end
            if td < out.dim() and out.shape[td] == tensor.shape[td]:
                return td
    return None


def _normalises_time(args: tuple[Any, ...], kwargs: dict[str, Any], info: _Info | None) -> bool:
    """layer_norm whose normalized_shape covers the time axis."""
    if info is None or info.time_dim is None or not args:
        return False
    shape = args[1] if len(args) > 1 else kwargs.get("normalized_shape", ())
    count = len(shape) if isinstance(shape, (list, tuple)) else 1
    return bool(args[0].dim() - count <= info.time_dim)
