"""The proof for a streamed PyTorch model: :func:`verify_model` (``convtrace.stream.verify``
with a ``torch.nn.Module``, and ``convtrace stream pkg.mod:factory --check``).

A copy of the model in the dtype asked, with random non-zero biases in every convolution
(a bias counted twice must show), is streamed by :func:`convtrace.streamify` on random chunk
schedules (part 1's :func:`convtrace.stream.verify.random_schedule`: sizes from 0 to several
hops, one sample, sizes no multiple of any stride) and compared with the copy's own offline
``forward`` on the whole input:

- the largest difference (float64: within 1e-10 of the output's largest magnitude; float32:
  reported, held to 1e-4);
- the outputs emitted after each push against the earliest possible, by part 1's rule
  (:func:`convtrace.stream.verify.determined_prefix`): the leading outputs of the offline
  model (float64) that no continuation of the input — the end now, random samples of many
  lengths — changes;
- on failure, the first wrong sample: forward hooks record every module's output in the
  streamed run (concatenated over the pushes) and in the offline run; the first module call,
  in the order calls finish, whose outputs differ is named (dotted name), with the sample,
  the channel, the push that emitted it and the likely cause (part 1's causes).

The trials alternate PyTorch's oneDNN on and off (the offline and the streamed run of a
trial under the same setting), so that the result holds whichever CPU backend PyTorch picks.

>>> import torch
>>> model = torch.nn.Sequential(torch.nn.Conv1d(1, 2, 3, padding=1), torch.nn.Tanh(), torch.nn.Conv1d(2, 1, 4, stride=2))
>>> r = verify_model(model, (1, 1, 40), trials=2, emission_checks=4)
>>> r.ok, r.max_relative < 1e-10, r.late, r.early
(True, True, 0, 0)
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from ..errors import ConvtraceError
from ..interop.torch import onednn
from ..stream.schedule import _close, _finite_scale
from ..stream.verify import (
    Mismatch,
    VerifyResult,
    _cause,
    determined_prefix,
    random_schedule,
)

__all__ = ["verify_model", "MODEL_TOLERANCE", "random_biases", "check_input_shape"]

#: relative tolerance of the streamed output against the offline forward, per dtype
MODEL_TOLERANCE = {"float64": 1e-10, "float32": 1e-4}


# ---------------------------------------------------------------------- arguments


def check_input_shape(input_shape: Any, time_dim: int) -> tuple[int, ...]:
    """The input shape as a tuple of ints, the time axis at least one sample long.

    >>> check_input_shape([1, 1, 24000], -1)
    (1, 1, 24000)
    >>> check_input_shape((1, 0), -1)
    Traceback (most recent call last):
    ...
    convtrace.errors.ConvtraceError: input_shape=(1, 0): the time axis (dimension -1) must hold at least one sample
    """
    try:
        shape = tuple(int(v) for v in input_shape)
    except (TypeError, ValueError):
        raise ConvtraceError("input_shape", input_shape, "give the input shape as integers, e.g. (1, 1, 24000)") from None
    if not shape or any(v < 0 for v in shape) or any(int(v) != v for v in input_shape):
        raise ConvtraceError("input_shape", input_shape, "give the input shape as non-negative integers, e.g. (1, 1, 24000)")
    if not -len(shape) <= time_dim < len(shape):
        raise ConvtraceError("time_dim", time_dim, f"the input has {len(shape)} dimensions")
    if shape[time_dim] < 1:
        raise ConvtraceError("input_shape", shape, f"the time axis (dimension {time_dim}) must hold at least one sample")
    return shape


def _dtype_name(dtype: Any) -> str:
    name = str(getattr(dtype, "name", None) or dtype).replace("torch.", "")
    if name in ("float64", "double", "<class 'numpy.float64'>"):
        return "float64"
    if name in ("float32", "float", "<class 'numpy.float32'>"):
        return "float32"
    raise ConvtraceError("dtype", dtype, "a model is verified in float64 or float32")


def _positive(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConvtraceError(name, value, f"{name} must be a positive integer")
    return int(value)


def _schedule(chunks: Any, length: int) -> tuple[int, ...] | None:
    """None for ``"random"``, else the fixed sizes (non-negative, at most ``length`` in all)."""
    if isinstance(chunks, str):
        if chunks != "random":
            raise ConvtraceError("chunks", chunks, "chunks is 'random' or a list of chunk sizes")
        return None
    try:
        sizes = tuple(int(c) for c in chunks)
    except (TypeError, ValueError):
        raise ConvtraceError("chunks", chunks, "chunks is 'random' or a list of chunk sizes") from None
    if any(s < 0 for s in sizes) or sum(sizes) > length:
        raise ConvtraceError("chunks", chunks, f"chunk sizes are non-negative and add up to at most the length ({length})")
    return sizes


# ---------------------------------------------------------------------- the model's copy


def _convolutions(model: Any) -> Iterator[tuple[str, Any]]:
    import torch

    for name, m in model.named_modules():
        if isinstance(m, torch.nn.modules.conv._ConvNd):
            yield name, m


def random_biases(model: Any, rng: np.random.Generator) -> int:
    """Give every convolution with a bias a random one, non-zero (magnitude 0.5 to 1.5,
    either sign); the number of biases set.

    >>> import torch
    >>> m = torch.nn.Sequential(torch.nn.Conv1d(1, 3, 2), torch.nn.Conv1d(3, 1, 2, bias=False))
    >>> random_biases(m, np.random.default_rng(0)), bool((m[0].bias.abs() >= 0.5).all())
    (1, True)
    """
    import torch

    count = 0
    with torch.no_grad():
        for _, m in _convolutions(model):
            if m.bias is not None:
                size = m.bias.shape[0]
                values = rng.uniform(0.5, 1.5, size) * rng.choice([-1.0, 1.0], size)
                m.bias.copy_(torch.from_numpy(values).to(m.bias.dtype))
                count += 1
    return count


def _prepared(model: Any, dtype: str, rng: np.random.Generator) -> Any:
    import torch

    copied = copy.deepcopy(model).to(getattr(torch, dtype)).eval()
    random_biases(copied, rng)
    return copied


def _hops(model: Any, hop: Any) -> list[int]:
    """Every stride of the model's time-axis layers and its hop (whole input samples)."""
    import torch

    found = {1, max(1, math.ceil(float(hop)))}
    kinds = (torch.nn.modules.conv._ConvNd, torch.nn.MaxPool1d, torch.nn.AvgPool1d, torch.nn.LPPool1d)
    for m in model.modules():
        if isinstance(m, kinds):
            stride = m.stride if m.stride is not None else m.kernel_size
            found.add(int(stride[0] if isinstance(stride, tuple) else stride))
    return sorted(found)


# ---------------------------------------------------------------------- running it


def _tensor(value: Any) -> Any:
    """The first tensor of a module's output (a tensor, a tuple, a ModelOutput)."""
    import torch

    if isinstance(value, torch.Tensor):
        return value
    items = value.values() if isinstance(value, dict) else value if isinstance(value, (tuple, list)) else ()
    for item in items:
        found = _tensor(item)
        if found is not None:
            return found
    return None


class _Recorder:
    """Forward hooks on every module: each call's output, keyed by the module's dotted name
    and its call number within the current forward; ``order`` keeps the keys in the order
    calls finish. ``locate`` tells where a streamed tensor sits in the offline one (its
    first sample's index and its time dimension; None: unknown) — streamify computes some
    outputs before index 0, or again: those are placed by index, not joined end to end."""

    def __init__(self, model: Any, locate: Callable[[Any], tuple[int, int] | None] = lambda t: None) -> None:
        self.model = model
        self.locate = locate
        self.places: dict[tuple[str, int], list[tuple[int, int] | None]] = {}
        self.outputs: dict[tuple[str, int], list[np.ndarray]] = {}
        self.order: list[tuple[str, int]] = []
        self.calls: dict[str, int] = {}
        self.mark: dict[tuple[str, int], int] = {}
        self.types: dict[str, Any] = {}
        self.handles: list[Any] = []

    def __enter__(self) -> _Recorder:
        self.handles.append(self.model.register_forward_pre_hook(lambda m, a: self._forward()))
        for name, m in self.model.named_modules():
            self.types[name] = m
            self.handles.append(m.register_forward_hook(self._hook(name)))
        return self

    def __exit__(self, *exc: object) -> None:
        for h in self.handles:
            h.remove()

    def begin(self) -> None:
        """A push or flush begins: of the forwards it runs, the last is the streamed one
        (streamify plans the whole input at the flush: on the meta device, or on zeros)."""
        self.mark = {key: len(parts) for key, parts in self.outputs.items()}
        self.calls.clear()

    def _forward(self) -> None:
        for key, parts in self.outputs.items():
            del parts[self.mark.get(key, 0) :]
            del self.places[key][self.mark.get(key, 0) :]
        self.calls.clear()

    def _hook(self, name: str) -> Callable[..., None]:
        def hook(module: Any, args: Any, out: Any) -> None:
            import torch

            with torch._C.DisableTorchFunction():  # (streamify's running forward does not see these calls)
                self._keep(name, out)

        return hook

    def _keep(self, name: str, out: Any) -> None:
        t = _tensor(out)
        if t is None or t.dim() == 0 or t.device.type == "meta":
            return
        number = self.calls.get(name, 0)
        self.calls[name] = number + 1
        key = (name, number)
        if key not in self.outputs:
            self.outputs[key], self.places[key] = [], []
            self.order.append(key)
        self.outputs[key].append(t.detach().cpu().numpy().copy())
        self.places[key].append(self.locate(t))

    def clear(self) -> None:
        self.outputs.clear()
        self.places.clear()
        self.order.clear()
        self.calls.clear()
        self.mark.clear()


def _time_last(x: np.ndarray, time_dim: int) -> np.ndarray:
    return np.moveaxis(x, time_dim, -1)


def _cat(parts: Sequence[np.ndarray]) -> np.ndarray | None:
    """The parts along time (last), or None when their other dimensions disagree."""
    if not parts:
        return None
    try:
        return np.concatenate(parts, axis=-1)
    except ValueError:
        return None


def _aligned(parts: Sequence[np.ndarray], want: np.ndarray) -> tuple[np.ndarray, np.ndarray, int] | None:
    """A module's streamed parts joined along its time axis — the axis on which the parts
    differ from the offline output while every other agrees, the last one first (a
    LayerNorm over channels sees time in the middle) — and the offline output, time last
    in both, and the axis; None when no axis fits.

    >>> got, want, axis = _aligned([np.zeros((1, 2, 3)), np.ones((1, 5, 3))], np.zeros((1, 7, 3)))
    >>> got.shape, want.shape, axis
    ((1, 3, 7), (1, 3, 7), 1)
    """
    for axis in reversed(range(want.ndim)):
        rest = want.shape[:axis] + want.shape[axis + 1 :]
        if parts and all(p.ndim == want.ndim and p.shape[:axis] + p.shape[axis + 1 :] == rest for p in parts):
            got = np.concatenate(parts, axis=axis)
            return np.moveaxis(got, axis, -1), np.moveaxis(want, axis, -1), axis
    return None


class _Offline:
    """The float64 offline model as a function of an array with time last (the judge of the
    earliest emission, for :func:`determined_prefix`): a model that rejects an input length
    raises ConvtraceError, as the chain's layers do."""

    def __init__(self, model: Any, time_dim: int) -> None:
        self.model, self.time_dim = model, time_dim

    def __call__(self, x: np.ndarray) -> np.ndarray:
        import torch

        try:
            with torch.no_grad():
                y = _tensor(self.model(torch.from_numpy(np.ascontiguousarray(np.moveaxis(x, -1, self.time_dim)))))
        except (RuntimeError, ValueError, IndexError) as exc:
            raise ConvtraceError("length", x.shape[-1], f"the model rejects it: {exc}") from None
        return np.asarray(y.numpy())


def _reach(sm: Any, length: int) -> int:
    """How far beyond a sample an output can reach, at most (input samples); the input's
    length where streamify has no figures (a padding set from the length)."""
    if sm.receptive_field is None or sm.hop is None or sm.lookahead is None:
        return length
    return int(float(sm.receptive_field) + 2 * max(1.0, float(sm.hop)) + float(sm.lookahead)) + 16


# ---------------------------------------------------------------------- diagnosis


def _wrong_at(got: np.ndarray, want: np.ndarray, tol: float) -> tuple[int, ...] | None:
    """The index of the first wrong sample (earliest in time) on the samples both have, or,
    all of those equal, the first sample one has and the other lacks; None: equal."""
    common = min(got.shape[-1], want.shape[-1])
    bad = np.argwhere(~_close(got[..., :common], want[..., :common], tol * _finite_scale(want)))
    if bad.size:
        return tuple(int(v) for v in bad[np.argsort(bad[:, -1], kind="stable")[0]])
    if got.shape[-1] != want.shape[-1]:
        return (0,) * (want.ndim - 1) + (common,)
    return None


def _mismatch(index: int, name: str, module: Any, got: np.ndarray, want: np.ndarray, where: tuple[int, ...],
              per_push: list[int], trial: int, chunks: tuple[int, ...]) -> Mismatch:  # fmt: skip
    t = where[-1]
    push = int(np.searchsorted(np.cumsum(per_push), t, side="right"))
    value = float(got[where]) if t < got.shape[-1] else float("nan")
    expected = float(want[where]) if t < want.shape[-1] else float("nan")
    channel = where[1] if want.ndim >= 3 else 0
    return Mismatch(trial, index, name, t, channel, value, expected, _cause(_cause_layer(module), got, want, t), push, chunks)


def _first_wrong(recorded: _Recorder, offline: dict[tuple[str, int], np.ndarray], counts: list[dict[tuple[str, int], int]],
                 tol: float, trial: int, chunks: tuple[int, ...]) -> Mismatch | None:  # fmt: skip
    """The first module call (in the order calls finish offline) whose streamed outputs
    (``counts``: how many each push made), concatenated, differ from its offline output — in value on the samples both have before
    any that differ only in length. Calls the streamed run never made (a module streamify
    runs in its own way) are passed over."""
    shorter: Mismatch | None = None
    for index, key in enumerate(offline):
        parts, places = recorded.outputs.get(key, []), recorded.places.get(key, [])
        placed = _placed(parts, places, offline[key], counts, key) if parts and all(places) else None
        if placed is not None:
            got, want, per_push = placed
        else:
            pair = _aligned(parts, offline[key])
            if pair is None:
                continue
            got, want, axis = pair
            sizes = [p.shape[axis] for p in parts]
            per_push, at = [], 0
            for c in counts:  # parts made in each push -> samples emitted in each push
                per_push.append(sum(sizes[at : at + c.get(key, 0)]))
                at += c.get(key, 0)
        where = _wrong_at(got, want, tol)
        if where is None:
            continue
        found = _mismatch(index + 1, key[0] or "(the model)", recorded.types.get(key[0]), got, want, where, per_push,
                          trial, chunks)  # fmt: skip
        if where[-1] < min(got.shape[-1], want.shape[-1]):
            return found
        shorter = shorter or found
    return shorter


def _placed(parts: list[np.ndarray], places: list[Any], want: np.ndarray, counts: list[dict[tuple[str, int], int]],
            key: tuple[str, int]) -> tuple[np.ndarray, np.ndarray, list[int]] | None:  # fmt: skip
    """The streamed parts placed at their offline indices (indices below 0 or past the end
    dropped), time last, up to the first index no part gave; the offline output, time last;
    the samples each push placed. None when the parts do not fit the offline shape."""
    dim = places[0][1]
    if any(p[1] != dim for p in places) or not -want.ndim <= dim < want.ndim:
        return None
    target = np.moveaxis(want, dim, -1)
    got = np.full(target.shape, np.nan)
    have = np.zeros(target.shape[-1], dtype=bool)
    owner = np.full(target.shape[-1], -1)
    push_of = [i for i, c in enumerate(counts) for _ in range(c.get(key, 0))]
    for index, (part, (start, _)) in enumerate(zip(parts, places)):
        block = np.moveaxis(part, dim, -1)
        if block.shape[:-1] != target.shape[:-1]:
            return None
        lo, hi = max(0, start), min(target.shape[-1], start + block.shape[-1])
        if hi > lo:
            got[..., lo:hi] = block[..., lo - start : hi - start]
            have[lo:hi] = True
            owner[lo:hi] = push_of[index] if index < len(push_of) else len(counts)
    missing = np.flatnonzero(~have)
    end = int(missing[0]) if missing.size else target.shape[-1]
    per_push = [int(np.sum(owner[:end] == i)) for i in range(len(counts))]
    return got[..., :end], target, per_push


def _cause_layer(module: Any) -> Any:
    """The convtrace layer part 1's diagnosis reads (the bias, transposed or not)."""
    import torch

    if isinstance(module, (torch.nn.Conv1d, torch.nn.ConvTranspose1d)):
        from ..interop.torch import from_torch_module

        return from_torch_module(module)
    return None


# ---------------------------------------------------------------------- verify


def _locator(sm: Any) -> Callable[[Any], tuple[int, int] | None]:
    """Where streamify's running forward says a tensor sits (its side table of timelines),
    or None."""

    def locate(t: Any) -> tuple[int, int] | None:
        side = getattr(getattr(sm, "_runner", None), "side", None)
        found = side.get(t) if side is not None else None
        if found is None or not isinstance(found.shift, int):
            return None
        return int(found.start + found.shift), int(found.dim)

    return locate


def _spread(count: int, budget: int) -> set[int]:
    """``budget`` push indices of ``count``, spread over the stream (the first, the last and
    between: a model's first outputs come late, its emission rule shows later).

    >>> sorted(_spread(10, 4)), sorted(_spread(3, 8))
    ([0, 3, 6, 9], [0, 1, 2])
    """
    if count <= budget:
        return set(range(count))
    return {round(float(v)) for v in np.linspace(0, count - 1, budget)}


def _streamify(model: Any, shape: tuple[int, ...], time_dim: int, fast: bool | str = False) -> Any:
    """``convtrace.streamify`` on ``shape``, time on ``time_dim`` (``fast``: with its fast
    path, which must be built)."""
    from .streamify import streamify

    sm = streamify(model, shape, time_dim=time_dim, fast=fast)
    if fast is not False and sm.fast_path is None:
        raise ConvtraceError("fast", fast, f"the fast path to verify was not built: {sm.fast_reason}", call="verify")
    return sm


def fast_schedule(length: int, chunk: int, rng: np.random.Generator) -> tuple[int, ...]:
    """Chunk sizes adding up to ``length`` that take the fast path: two random sizes, the
    one that brings the stream back in step with ``chunk``, then chunks of ``chunk`` (and
    what is left).

    >>> fast_schedule(20, 4, np.random.default_rng(0))
    (7, 5, 0, 4, 4)
    """
    head = [int(rng.integers(0, 2 * chunk + 1)) for _ in range(2)]
    head.append(-sum(head) % chunk)
    sizes: list[int] = []
    for n in head + [chunk] * (length // chunk + 1):
        sizes.append(min(n, length - sum(sizes)))
        if sum(sizes) == length:
            break
    return tuple(sizes)


def verify_model(
    model: Any,
    input_shape: Any,
    chunks: Any = "random",
    seed: int = 0,
    dtype: Any = "float64",
    trials: int = 6,
    *,
    time_dim: int = -1,
    tolerance: float | None = None,
    emission_checks: int = 12,
    fast: Any = False,
) -> VerifyResult:
    """Stream ``trials`` random inputs of ``input_shape`` through ``streamify(model)`` in chunk
    schedules (``"random"``, or one list of sizes for every trial; what is left is pushed
    last) and compare with the model's offline forward (see the module docstring).
    ``emission_checks``: how many push boundaries the judge of the earliest emission examines
    at most (spread over each trial; -1 in ``earliest`` where it did not look).
    ``fast`` (True or a backend: :meth:`StreamedModel.build_fast
    <convtrace.inspect.streamify.StreamedModel.build_fast>`): the model is streamified with
    its fast path, and every other trial's schedule (:func:`fast_schedule`) runs it — it
    raises ConvtraceError where the path is not built or a trial that should run it does
    not. A model streamify refuses raises its ConvtraceError."""
    import torch

    if not isinstance(model, torch.nn.Module):
        raise ConvtraceError("model", type(model).__name__, "verify_model takes a torch.nn.Module")
    shape = check_input_shape(input_shape, time_dim)
    dt = _dtype_name(dtype)
    trials = _positive("trials", trials)
    length = shape[time_dim]
    fixed = _schedule(chunks, length)
    tol = MODEL_TOLERANCE[dt] if tolerance is None else float(tolerance)
    rng = np.random.default_rng(seed)
    prepared = _prepared(model, dt, rng)
    sm = _streamify(prepared, shape, time_dim) if fast is False else _streamify(prepared, shape, time_dim, fast)
    judge = _Offline(prepared if dt == "float64" else copy.deepcopy(prepared).double(), time_dim)
    probe = _time_last(rng.standard_normal(shape), time_dim)
    reach, hops = _reach(sm, length), _hops(prepared, sm.hop or 1)
    earliest_cache: dict[int, int] = {}
    schedules, emitted_all, earliest_all = [], [], []
    max_abs, max_rel, late, early, out_length = 0.0, 0.0, 0, 0, 0
    first: Mismatch | None = None
    budget = max(1, emission_checks // trials)

    for trial in range(trials):
        x = torch.from_numpy(rng.standard_normal(shape)).to(getattr(torch, dt))
        sizes = random_schedule(length, hops, rng) if fixed is None else fixed
        on_fast = fast is not False and fixed is None and trial % 2 == 0
        if on_fast:
            sizes = fast_schedule(length, sm.chunk_size, rng)
        ran = getattr(sm, "fast_pushes", 0)
        if sum(sizes) < length:
            sizes = sizes + (length - sum(sizes),)
        with onednn(trial % 2 == 0), _Recorder(prepared, _locator(sm)) as recorder, torch.no_grad():
            want_t = _tensor(prepared(x))
            offline = {key: parts[0] for key, parts in recorder.outputs.items()}
            recorder.clear()
            sm.reset()
            parts, counts, at, cumulative = [], [], 0, []
            for size in sizes + (-1,):  # -1: the flush
                recorder.begin()
                before = dict(recorder.mark)
                try:
                    y = sm.flush() if size < 0 else sm.push(x.narrow(time_dim, at, size))
                except (ConvtraceError, RuntimeError):  # streamify lost its place: a failure, found below
                    sm.reset()
                    break
                parts.append(_time_last(y.detach().numpy(), -1))
                counts.append({key: len(v) - before.get(key, 0) for key, v in recorder.outputs.items()})
                if size >= 0:
                    at += size
                    cumulative.append(at)
        fast_path = getattr(sm, "_fast", None)
        if on_fast and fast_path is not None and sm.fast_pushes == ran and sizes.count(sm.chunk_size) > fast_path.first + 3:
            raise ConvtraceError("fast", fast, f"the fast path ran no push of trial {trial} ({sizes.count(sm.chunk_size)} "
                                 f"pushes of {sm.chunk_size} samples)", call="verify")  # fmt: skip
        want = want_t.detach().numpy()
        final = _cat(parts)
        out_length = want.shape[-1]
        if final is not None and final.shape == want.shape:
            if want.size:
                same = _close(final, want, 0.0)
                diff = float(np.max(np.where(same, 0.0, np.abs(final - want))))
                max_abs, max_rel = max(max_abs, diff), max(max_rel, diff / _finite_scale(want))
        else:
            max_abs = max_rel = math.inf
        if first is None and not (final is not None and final.shape == want.shape
                                  and bool(_close(final, want, tol * _finite_scale(want)).all())):  # fmt: skip
            first = _first_wrong(recorder, offline, counts, tol, trial, sizes)
            if first is None:  # no module call differs: the model's output itself
                fits = final is not None and final.shape[:-1] == want.shape[:-1]
                got = final if final is not None and fits else np.zeros(want.shape[:-1] + (0,), dtype=want.dtype)
                where = _wrong_at(got, want, tol) or (0,) * want.ndim
                first = _mismatch(len(offline) + 1, "(the output)", None, got, want, where, [p.shape[-1] for p in parts],
                                  trial, sizes)  # fmt: skip
        emitted = tuple(int(v) for v in np.cumsum([p.shape[-1] for p in parts[: len(cumulative)]]))
        looked = _spread(len(cumulative), budget)
        for n in (cumulative[i] for i in looked):
            if n not in earliest_cache:
                earliest_cache[n] = determined_prefix([judge], probe, n, reach, np.random.default_rng(seed + n))
        earliest = tuple(earliest_cache.get(n, -1) if i in looked else -1 for i, n in enumerate(cumulative))
        late += sum(1 for e, w in zip(emitted, earliest) if w >= 0 and e < w)
        early += sum(1 for e, w in zip(emitted, earliest) if w >= 0 and e > w)
        schedules.append(sizes)
        emitted_all.append(emitted)
        earliest_all.append(earliest)
    ok = first is None and max_rel <= tol and not late and not early
    return VerifyResult(ok, trials, length, dt, tol, max_abs, max_rel, out_length, tuple(schedules),
                        tuple(emitted_all), tuple(earliest_all), late, early, first, None, None)  # fmt: skip
