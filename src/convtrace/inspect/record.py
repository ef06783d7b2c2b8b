"""Recording what a PyTorch model does on the time axis during one forward pass.

A torch function mode sees every ``conv1d``, ``conv_transpose1d``, ``max_pool1d``,
``avg_pool1d``, ``pad`` and time-axis slice (crop) — whether a module or the model's own
``forward`` makes the call — and forward hooks name the module making it. Every tensor the
pass produces carries the set of recorded calls it descends from (its *sources*) and which
of its dimensions is time, so the recorder knows the graph of recorded calls: a chain, or a
graph with branches (residual blocks). Normalisation and attention over time, and recurrent
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

__all__ = ["Call", "Recording", "record_forward", "INPUT"]

#: the source id of the model's input
INPUT = -1

_CONV_NAMES = {"conv1d": "conv", "conv_transpose1d": "convT", "max_pool1d": "maxpool",
               "max_pool1d_with_indices": "maxpool", "avg_pool1d": "avgpool"}  # fmt: skip
#: ops that mix the whole time axis (batch norm does not: inspection runs in eval mode, on running stats)
_GLOBAL_NAMES = {"group_norm", "instance_norm", "scaled_dot_product_attention", "lstm", "gru", "rnn_tanh",
                 "rnn_relu"}  # fmt: skip
_GLOBAL_MODULES = ("LSTM", "GRU", "RNN", "MultiheadAttention", "Attention", "GroupNorm", "InstanceNorm1d")
_MODULE_TYPES = {"Conv1d": "conv", "ConvTranspose1d": "convT", "MaxPool1d": "maxpool", "AvgPool1d": "avgpool"}


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
class _Info:
    ref: Any
    sources: frozenset[int]
    time_dim: int | None
    seq: int


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

    def set(self, tensor: Any, sources: frozenset[int], time_dim: int | None) -> None:
        self.seq += 1
        try:
            ref = weakref.ref(tensor)
        except TypeError:
            return
        self.infos[id(tensor)] = _Info(ref, sources, time_dim, self.seq)


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
        stride = a["stride"]
        s = k if stride is None or (isinstance(stride, (list, tuple)) and not stride) else _first(stride)
        return Layer("maxpool", k, s, _first(a["padding"]), _first(a["dilation"]), ceil_mode=bool(a["ceil_mode"]))
    if op == "avg_pool1d":
        a = _bind(("input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"),
                  {"stride": None, "padding": 0, "ceil_mode": False, "count_include_pad": True}, args, kwargs)  # fmt: skip
        k = _first(a["kernel_size"])
        stride = a["stride"]
        s = k if stride is None or (isinstance(stride, (list, tuple)) and not stride) else _first(stride)
        return Layer("avgpool", k, s, _first(a["padding"]), ceil_mode=bool(a["ceil_mode"]),
                     count_include_pad=bool(a["count_include_pad"]))  # fmt: skip
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
    items = index if isinstance(index, tuple) else (index,)
    if any(item is None for item in items) or sum(1 for item in items if item is Ellipsis) > 1:
        return None
    ndim = tensor.dim()
    if Ellipsis in items:
        at = items.index(Ellipsis)
        fill = ndim - (len(items) - 1)
        items = items[:at] + (slice(None),) * fill + items[at + 1 :]
    if len(items) <= time_dim:
        return None
    item = items[time_dim]
    if not isinstance(item, slice) or item.step not in (None, 1):
        return None
    length = int(tensor.shape[time_dim])
    start, stop, _ = item.indices(length)
    stop = max(stop, start)
    if start == 0 and stop == length:
        return None
    return Layer("pad", pad_left=-start, pad_right=-(length - stop))


def _op_name(func: Any) -> str:
    return str(getattr(func, "__name__", "") or "")


class _Recorder:
    """The state of one recorded forward pass: the calls, the tensors' time axes and sources,
    and the stack of modules being run (hooks push and pop it)."""

    def __init__(self, model: Any) -> None:
        self.recording = Recording()
        self.tracker = _Tracker()
        self.stack: list[str] = [""]
        self.names = {id(module): name for name, module in model.named_modules()}
        self.modules_by_name = dict(model.named_modules())

    def observe(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> None:
        """One torch function call seen by the mode: a layer to record, or sources to pass on."""
        op = _op_name(func)
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
            self.tracker.set(outs[0], frozenset({len(self.recording.calls) - 1}), outs[0].dim() - 1)
            for extra in outs[1:]:
                self.tracker.set(extra, frozenset({len(self.recording.calls) - 1}), None)
            return
        sources = frozenset().union(*(i.sources for _, i in known)) if known else frozenset()
        for tensor in outs:
            if self.tracker.get(tensor) is None and known:
                self.tracker.set(tensor, sources, _time_dim(op, args, known, tensor))

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


def record_forward(model: Any, run: Callable[[Callable[..., Any]], Any]) -> Recording:
    """Run ``run(mark)`` (a forward pass of ``model`` on an input passed through ``mark``)
    and record it. Hooks and the mode are removed in ``finally``."""
    from torch.overrides import TorchFunctionMode

    recorder = _Recorder(model)

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
                      (torch.nn.MaxPool1d, "MaxPool1d"), (torch.nn.AvgPool1d, "AvgPool1d")):  # fmt: skip
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
