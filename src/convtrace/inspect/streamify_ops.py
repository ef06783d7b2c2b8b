"""The streaming form of each time-axis call :func:`convtrace.streamify` replaces (imports torch).

Every tensor on the time axis is a *chunk* of a longer signal: a :class:`Timeline` says where
its first sample is (``start``, an index of the offline tensor). Indices below 0 are not
part of the offline tensor: a window reading them sees the layer's own padding, and outputs
made only of them are *junk*, dropped at the model's output. Each state keeps a fixed number
of samples between chunks, so that a fixed chunk size gives fixed shapes (the explicit state
of :meth:`StreamedModel.step <convtrace.inspect.streamify.StreamedModel.step>`):

- :class:`WindowState` — Conv1d and the sliding pools: the last ``span - 1`` input samples;
- :class:`ScatterState` — ConvTranspose1d: the overlap-add tail (sums without the bias: the
  bias is added once, when a sample leaves), held back as far as the right crop may reach;
- :class:`EdgeState` — ``F.pad`` (constant, replicate, reflect) and time-axis crops: a left
  pad or crop moves the indices, a right crop holds its samples back, a right pad is added
  at the end (:meth:`~EdgeState.finish`); replicate and reflect keep the first samples;
- :class:`AlignState` — a join (``+``, ``*``, ``torch.cat`` on channels, ``x += f(x)``) of
  branches whose chunks cover different indices: the branch ahead waits in a delay line.

In :meth:`~StreamedModel.step` the indices are ``start + shift`` with ``shift`` a tensor
(the samples pushed before, scaled to the tensor's rate): the masks below take either.

>>> import torch
>>> tl = Timeline(-2, 0, 2)
>>> mask_before(torch.ones(1, 1, 4), tl, 0.0).tolist()
[[[0.0, 0.0, 1.0, 1.0]]]
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

import torch
import torch.nn.functional as F

from ..errors import ConvtraceError

__all__ = ["Timeline", "on_dim", "mask_before", "WindowState", "ScatterState", "EdgeState", "AlignState", "OpState",
           "TRANSIENTS"]

Shift = Any  # an int (push) or a 0-d int64 tensor (step)


@dataclass(frozen=True)
class Timeline:
    """Where a chunk sits in the offline tensor: its first sample is index ``start +
    shift`` on dimension ``dim``. ``fill``: the value of indices ``0 .. start-1`` when the
    chunk starts a stream after a left pad that nothing has read yet (None otherwise)."""

    start: int
    shift: Shift
    dim: int
    fill: float | None = None
    rate: Fraction = Fraction(1)
    tail: int = 0


class Transients:
    """How many times a push took a branch of the stream's start: a mask of indices before
    0, a left pad's first values, a mirrored head, outputs dropped at the model's output. A
    push that takes none, at a chunk length whose counters all move as the last push's did,
    is *steady*: the fast path (:mod:`convtrace.inspect.streamify_fast`) replays it."""

    count = 0


#: the one counter (pushes run one at a time: the torch function mode is global too)
TRANSIENTS = Transients()


def transient() -> None:
    """Count one transient branch."""
    TRANSIENTS.count += 1


def scaled(shift: Shift, num: int, den: int = 1) -> Shift:
    """``shift * num / den`` (exact: a step's shift is a multiple of the chunk).

    >>> scaled(12, 1, 4), int(scaled(torch.tensor(12), 2))
    (3, 24)
    """
    if isinstance(shift, int):
        return shift * num // den
    return torch.div(shift * num, den, rounding_mode="floor")


def positions(length: int, tl: Timeline, device: Any) -> Any:
    """The offline indices of a chunk's samples (a tensor)."""
    return torch.arange(length, device=device) + (tl.start + tl.shift)


def mask_before(x: Any, tl: Timeline, value: float, threshold: int = 0) -> Any:
    """``x`` with the samples at indices below ``threshold`` set to ``value``."""
    length = int(x.shape[-1])
    if tl.start >= threshold or length == 0:
        return x  # (in a step, the shift only grows)
    transient()
    if isinstance(tl.shift, int):
        count = min(length, threshold - tl.start - tl.shift)
        if count <= 0:
            return x
        return torch.cat((torch.full_like(x[..., :count], value), x[..., count:]), -1)
    keep = positions(length, tl, x.device) >= threshold
    return torch.where(keep, x, torch.full_like(x, value))


def empty_like_time(x: Any, channels: int) -> Any:
    return x.new_zeros((*x.shape[:-2], channels, 0))


class OpState:
    """One replaced call's state: tensors (``tensor_names``) and Python integers (where
    the next chunk starts, ...). A fixed chunk size gives the same integers at every step
    (:meth:`StreamedModel.step` runs on a copy), so only the tensors are the state."""

    tensor_names: tuple[str, ...] = ()
    name = ""

    def tensors(self) -> list[Any]:
        return [getattr(self, n) for n in self.tensor_names]

    def load(self, values: list[Any]) -> None:
        for n, v in zip(self.tensor_names, values, strict=True):
            setattr(self, n, v)

    def copy(self) -> OpState:
        return copy.copy(self)


class WindowState(OpState):
    """Conv1d or a sliding pool: ``run`` (set by each call: a weight-normed conv's weight
    is made anew) computes valid, strided windows of ``span`` samples on the kept samples
    and the chunk; ``pad_left`` samples of ``value`` come before index 0 (the layer's own
    padding; a pool's is -inf for max)."""

    tensor_names = ("buffer",)

    def __init__(self, name: str, x: Any, tl: Timeline, span: int, stride: int, pad_left: int, pad_right: int,
                 value: float) -> None:  # fmt: skip
        self.name, self.span, self.stride, self.pad_left, self.value = name, span, stride, pad_left, value
        self.in_rate = tl.rate
        self.tail_out = (tl.tail + pad_right) // stride  # the windows the end will still give
        self.run: Callable[[Any], Any] = lambda w: w
        self.channels = 0  # output channels (set by each call; 0: run the op on a probe to know them)
        self.keep = max(span - 1, tl.start + pad_left, 0)
        self.end = tl.start
        first = -((-(tl.start - self.keep + pad_left)) // stride)  # the first window at or after the kept samples
        self.next_start = first * stride - pad_left
        buffer = x.new_full((*x.shape[:-1], self.keep), value)
        if tl.fill is not None and tl.start > 0:  # a left pad nothing has read: its values
            n = min(tl.start, self.keep)
            buffer[..., self.keep - n :] = tl.fill
        self.buffer = buffer

    def push(self, x: Any, tl: Timeline) -> tuple[Any, Timeline]:
        x = mask_before(x, tl, self.value)
        joined = torch.cat((self.buffer, x), -1) if self.keep else x
        offset = self.next_start - (self.end - self.keep)
        room = int(joined.shape[-1]) - offset
        count = (room - self.span) // self.stride + 1 if room >= self.span else 0
        q = (self.next_start + self.pad_left) // self.stride
        if count > 0:
            y = self.run(joined[..., offset : offset + (count - 1) * self.stride + self.span])
        elif self.channels:
            y = x.new_zeros((*x.shape[:-2], self.channels, 0))
        else:
            y = self.run(x.new_zeros((*x.shape[:-1], self.span)))[..., :0]
        self.next_start += count * self.stride
        self.end += int(x.shape[-1])
        self.buffer = joined[..., int(joined.shape[-1]) - self.keep :]
        return y, Timeline(q, scaled(tl.shift, 1, self.stride), tl.dim, None, tl.rate / self.stride, self.tail_out)

    def finish(self, x: Any, tl: Timeline, total: int) -> tuple[Any, Timeline]:
        """The last chunk, then the windows up to output ``total - 1`` (PyTorch's output
        length), reading the padding value past the end."""
        y, out = self.push(x, tl)
        done = (self.next_start + self.pad_left) // self.stride
        if total <= done:
            return y[..., : max(0, int(y.shape[-1]) - (done - total))], out
        reach = (total - 1) * self.stride - self.pad_left + self.span  # the end of the last window
        tail = x.new_full((*x.shape[:-1], max(0, reach - self.end)), self.value)
        z, _ = self.push(tail, Timeline(self.end, 0, tl.dim))
        return torch.cat((y, z[..., : total - done]), -1), out


class ScatterState(OpState):
    """ConvTranspose1d: input ``i`` adds to full positions ``i*stride + j*dilation``; the
    kept sums cover the positions a later input may still reach (``span - stride``) and
    those the right crop may still remove (``hold``). The bias is added when a position
    leaves, once."""

    tensor_names = ("pending",)

    def __init__(self, name: str, x: Any, tl: Timeline, weight: Any, bias: Any, stride: int, padding: int,
                 output_padding: int, groups: int, dilation: int) -> None:  # fmt: skip
        self.name, self.weight, self.bias = name, weight, bias  # (set again by each call)
        self.stride, self.padding, self.output_padding, self.groups, self.dilation = stride, padding, output_padding, groups, dilation
        self.span = dilation * (int(weight.shape[-1]) - 1) + 1
        self.in_rate = tl.rate
        self.tail = max(self.span - stride, 0)
        self.hold = max(0, stride - self.span + max(0, padding - output_padding))
        if tl.start > 0:
            raise ConvtraceError("input", tl.start, "a ConvTranspose1d input must begin at index 0 or before")
        self.start = tl.start  # the next input index
        self.tail_out = tl.tail * stride + self._last_count()
        channels = int(weight.shape[1]) * groups
        self.pending = x.new_zeros((*x.shape[:-2], channels, self.hold + self.tail))

    def _bias(self, y: Any) -> Any:
        return y if self.bias is None else y + self.bias.reshape(-1, 1)

    def push(self, x: Any, tl: Timeline) -> tuple[Any, Timeline]:
        x = mask_before(x, tl, 0.0)
        m = int(x.shape[-1])
        out_start = self.start * self.stride - self.hold - self.padding
        if m == 0:
            y = self.pending[..., :0]
        else:
            z = F.conv_transpose1d(x, self.weight, None, self.stride, 0, 0, self.groups, self.dilation)
            total = self.hold + m * self.stride + self.tail
            acc = F.pad(self.pending, (0, m * self.stride)) + F.pad(z, (self.hold, total - self.hold - int(z.shape[-1])))
            y = acc[..., : m * self.stride]
            self.pending = acc[..., m * self.stride :]
        self.start += m
        return self._bias(y), Timeline(out_start, scaled(tl.shift, self.stride), tl.dim, None, tl.rate * self.stride,
                                       self.tail_out)  # fmt: skip

    def _last_count(self) -> int:
        """The samples the end gives after the last input's (the tail, output_padding,
        less the right crop)."""
        return self.span + self.output_padding - self.stride - self.padding + self.hold

    def finish(self, x: Any, tl: Timeline, pad_right: int = 0) -> tuple[Any, Timeline]:
        """The last chunk, then the positions up to the end of the cropped output."""
        y, out = self.push(x, tl)
        count = self._last_count()
        kept = int(self.pending.shape[-1])
        last = F.pad(self.pending, (0, max(0, count - kept)))[..., : max(count, 0)]
        return torch.cat((y, self._bias(last)), -1), out


class EdgeState(OpState):
    """``F.pad`` on the time axis (``mode`` constant, replicate or reflect) or a crop
    (negative amounts). ``left`` moves the indices (a constant pad's values fill the indices
    it adds); ``crop`` samples are held back while a right crop may remove them; the right
    amount, known at the end (it may depend on the length), is added or removed by
    :meth:`finish`. Replicate and reflect keep the first samples (``head``) and wait for
    them; their right side needs the last ``keep_last`` samples (``last``). ``step``: the
    chunk this call sees in a step (None in a push): the wait is then fixed, so that every
    step gives out as many samples as it takes."""

    tensor_names = ("held", "head", "last")

    def __init__(self, name: str, x: Any, tl: Timeline, left: int, mode: str, value: float, crop: int, pad: int,
                 keep_last: int, step: int | None) -> None:  # fmt: skip
        self.name, self.left, self.mode, self.value = name, left, mode, value
        crop_max = crop
        crop = max(0, crop - tl.tail)  # what the end gives anyway need not be held back
        self.mirror = mode in ("replicate", "reflect") and left > 0
        if tl.fill is not None and tl.start > 0:
            raise ConvtraceError("pad", left, "two pads in a row before any layer reads the first: not streamed")
        need = (left + 1 if mode == "reflect" else 1) if self.mirror else 0
        wait = max(0, left + tl.start) if self.mirror else 0  # the mirrored indices must be given out
        if self.mirror and step is not None and need - 1 - tl.start >= step:
            before = tl.start + step * ((need - 1 - tl.start) // step)  # the last step end before the head is complete
            wait = max(wait, before + left)
        self.fixed = step is not None
        self.in_rate = tl.rate
        self.hold = crop + wait
        self.crop = crop
        self.tail_out = self.hold + tl.tail - crop_max + pad
        self.start = tl.start - self.hold  # the input index of the first held sample
        self.seen = tl.start
        self.first = True
        self.held = x.new_zeros((*x.shape[:-1], self.hold))
        self.head = x.new_zeros((*x.shape[:-1], need))
        self.last = x.new_zeros((*x.shape[:-1], keep_last if mode in ("replicate", "reflect") else 0))

    def _take(self, x: Any, tl: Timeline) -> None:
        """The first samples into ``head``, the last into ``last``."""
        m = int(x.shape[-1])
        need = int(self.head.shape[-1])
        if m == 0:
            return
        if need and not (isinstance(tl.shift, int) and tl.start + tl.shift >= need):
            transient()
            at = torch.arange(need, device=x.device) - (tl.start + tl.shift)
            got = torch.index_select(x, -1, at.clamp(0, m - 1))
            self.head = torch.where((at >= 0) & (at < m), got, self.head)
        keep = int(self.last.shape[-1])
        if keep:
            self.last = torch.cat((self.last, x), -1)[..., -keep:]

    def _mirror(self, y: Any, start: int, shift: Shift) -> Any:
        """Input indices ``-left .. -1`` of ``y`` (starting at ``start``) from the head."""
        if not self.mirror or y.shape[-1] == 0 or start >= 0:
            return y
        transient()
        u = positions(int(y.shape[-1]), Timeline(start, shift, 0), y.device)
        src = (-u if self.mode == "reflect" else torch.zeros_like(u)).clamp(0, int(self.head.shape[-1]) - 1)
        return torch.where(u < 0, torch.index_select(self.head, -1, src), y)

    def push(self, x: Any, tl: Timeline) -> tuple[Any, Timeline]:
        if not self.mirror:
            x = mask_before(x, tl, self.value)
        self._take(x, tl)
        joined = torch.cat((self.held, x), -1) if int(self.held.shape[-1]) else x  # (a mirror may hold more)
        self.seen += int(x.shape[-1])
        count = int(joined.shape[-1]) - (self.hold if self.fixed else self.crop)
        if self.mirror and not self.fixed and self.seen < int(self.head.shape[-1]):
            count = max(0, min(count, -self.left - self.start))  # only indices before the pad
            transient()
        y = self._mirror(joined[..., :count], self.start, tl.shift)
        fill = self.value if self.first and self.start + self.left > 0 else None
        if fill is not None:
            transient()
        out = Timeline(self.start + self.left, tl.shift, tl.dim, fill, tl.rate, self.tail_out)
        self.first = False
        self.start += count
        self.held = joined[..., count:]
        return y, out

    def finish(self, x: Any, tl: Timeline, right: int) -> tuple[Any, Timeline]:
        """The last chunk and the rest: ``right`` samples added (a pad: the padding value,
        or the mirrored end) or removed (a crop) at the end."""
        if not self.mirror:
            x = mask_before(x, tl, self.value)
        self._take(x, tl)
        joined = self._mirror(torch.cat((self.held, x), -1), self.start, 0)
        out = Timeline(self.start + self.left, tl.shift, tl.dim, None, tl.rate, 0)
        crop = max(0, -right)
        if crop > int(joined.shape[-1]):
            raise ConvtraceError(self.name, crop, f"the crop at the end removes {crop} samples, but only "
                                 f"{joined.shape[-1]} were held back: it depends on the length in a way not streamed")  # fmt: skip
        y = joined[..., : int(joined.shape[-1]) - crop]
        if right > 0:
            y = torch.cat((y, self._right(y, right)), -1)
        return y, out

    def _right(self, y: Any, right: int) -> Any:
        if self.mode not in ("replicate", "reflect"):
            return y.new_full((*y.shape[:-1], right), self.value)
        keep = int(self.last.shape[-1])
        if self.mode == "replicate":
            return self.last[..., -1:].expand(*y.shape[:-1], right)
        if right + 1 > keep:
            raise ConvtraceError(self.name, right, f"the reflect pad at the end mirrors {right} samples, but only "
                                 f"{keep} were kept: its size depends on the length in a way not streamed")  # fmt: skip
        return torch.flip(self.last[..., keep - 1 - right : keep - 1], (-1,))


class AlignState(OpState):
    """A join of ``count`` branches: branch ``i`` starts at ``starts[i]``; the output
    starts at the earliest (or at 0, after a left pad's values); each branch's samples
    wait in its delay line until every branch has reached them."""

    def __init__(self, name: str, parts: list[tuple[Any, Timeline]]) -> None:
        self.name = name
        first = min([0] + [tl.start for _, tl in parts])
        self.start = first
        self.tail_out = min(tl.tail for _, tl in parts)
        lines = []
        for x, tl in parts:
            line = x.new_zeros((*x.shape[:-1], tl.start - first))
            if tl.fill is not None and tl.start > 0:
                line[..., line.shape[-1] - tl.start :] = tl.fill
            lines.append(line)
        self.lines = lines
        self.tensor_names = tuple(f"line{i}" for i in range(len(parts)))
        for i, line in enumerate(lines):
            setattr(self, f"line{i}", line)

    def push(self, parts: list[tuple[Any, Timeline]]) -> tuple[list[Any], Timeline]:
        joined = [torch.cat((getattr(self, f"line{i}"), x), -1) for i, (x, _) in enumerate(parts)]
        count = min(int(j.shape[-1]) for j in joined)
        out = [j[..., :count] for j in joined]
        for i, j in enumerate(joined):
            setattr(self, f"line{i}", j[..., count:])
        tl = Timeline(self.start, parts[0][1].shift, parts[0][1].dim, None, parts[0][1].rate, self.tail_out)
        self.start += count
        return out, tl

    def finish_check(self) -> None:
        left = [int(getattr(self, n).shape[-1]) for n in self.tensor_names]
        if any(left):
            raise ConvtraceError(self.name, left, "the branches of this join end at different indices: their "
                                 "lengths differ offline")  # fmt: skip


def same_value(a: float, b: float) -> bool:
    return a == b or (math.isinf(a) and math.isinf(b) and (a > 0) == (b > 0))


def on_dim(tl: Timeline, dim: int) -> Timeline:
    """``tl`` on dimension ``dim`` (itself when it is: every call of a forward tags its
    output, and :func:`dataclasses.replace` costs more than most pointwise ops).

    >>> tl = Timeline(3, 0, 2)
    >>> on_dim(tl, 2) is tl, on_dim(tl, 1).dim
    (True, 1)
    """
    if tl.dim == dim:
        return tl
    return Timeline(tl.start, tl.shift, dim, tl.fill, tl.rate, tl.tail)


def replace_shift(tl: Timeline, shift: Shift) -> Timeline:
    return replace(tl, shift=shift)
