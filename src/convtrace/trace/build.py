"""Build a :class:`~convtrace.trace.model.Trace`: every output element the way a teacher
writes it by hand, computed from the data, with the engine's output beside it and PyTorch's
verdict.

The three worked examples of the teaching post (input 1,1,1,1; kernel 1,1,1; no bias):

>>> explain([1, 1, 1, 1], [1, 1, 1], verify=False).output.tolist()
[[3.0, 3.0]]
>>> t = explain([1, 1, 1, 1], [1, 1, 1], padding=1, verify=False)
>>> [str(s.value) for s in t]
['2', '3', '3', '2']
>>> [(term.source.value, term.kernel_index) for term in t.steps[0].terms]
[('zero', 0), ('input', 1), ('input', 2)]
>>> [str(s.value) for s in explain([1, 1, 1, 1], [1, 1, 1], stride=2, padding=1, verify=False)]
['2', '3']

ConvTranspose1d, gather form (``y[j] = Σ x[i]·w[k]`` over ``j = i*stride - padding + k*dilation``):

>>> t = explain_transposed([1, 2], [1, 1, 1], stride=2, verify=False)
>>> t.output.tolist(), [str(s.value) for s in t]
([[1.0, 1.0, 3.0, 2.0, 2.0]], ['1', '1', '3', '2', '2'])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from .. import functional as F
from .. import shapes
from ..errors import ConvtraceError, ConvtraceTypeError
from ..params import (
    PaddingMode,
    check_conv1d,
    check_conv_transpose1d,
    check_pad,
    describe_call,
    parse_int_param,
    parse_padding,
)
from .data import Values, as_values
from .exact import is_integral_array, to_exact
from .model import LengthFormula, PadCell, Source, Step, Term, TorchCheck, Trace

__all__ = ["explain", "explain_transposed", "DEFAULT_MAX_STEPS", "FULL_OUTPUT_MAX_MACS", "PAD_ROW_LIMIT"]

#: outputs with more elements than this get a summary (unless ``at`` is given)
DEFAULT_MAX_STEPS = 64
#: beyond this many multiply-adds the whole output is not computed (steps are computed alone)
FULL_OUTPUT_MAX_MACS = 100_000_000
#: padded rows longer than this list only the cells that the explained steps read
PAD_ROW_LIMIT = 4096

_SOURCE_OF_MODE = {
    PaddingMode.ZEROS: Source.ZERO,
    PaddingMode.REFLECT: Source.REFLECT,
    PaddingMode.REPLICATE: Source.REPLICATE,
    PaddingMode.CIRCULAR: Source.CIRCULAR,
}


# --------------------------------------------------------------------------- public API


def explain(
    input: Any = None,
    weight: Any = None,
    bias: Any = None,
    *,
    in_channels: int | None = None,
    out_channels: int | None = None,
    kernel_size: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: Any = 1,
    padding_mode: str = "zeros",
    output_padding: Any = 0,
    output_size: Any = None,
    transposed: bool = False,
    input_shape: Any = None,
    dtype: Any = None,
    at: Sequence[int] | None = None,
    verify: bool = True,
    exact: bool | None = None,
    max_steps: int = DEFAULT_MAX_STEPS,
) -> Trace:
    """Explain a ``torch.nn.Conv1d`` (or, with ``transposed=True``, ``ConvTranspose1d``) step by step.

    Data: ``input`` (N, C, L), (C, L) or a single channel (L); ``weight`` in PyTorch's layout
    — Conv1d (out, in/groups, k), ConvTranspose1d (in, out/groups, k) — or one kernel (k,)
    used for every channel pair; ``bias`` (out,), a scalar, ``True`` (ones) or None/False.
    Each may be a NumPy array (a memory map is read only where needed), nested lists, or
    numbers as strings (``"1/3"``, ``"0.5"``). Missing data get defaults: weights of ones (as
    the teaching post), an input of ones of ``input_shape`` (default (1, in_channels, 4)).

    Parameters mirror PyTorch: ``padding`` int | 'same' | 'valid'; ``padding_mode`` 'zeros' |
    'reflect' | 'replicate' | 'circular' (then, as ``torch.nn.Conv1d``, the input is padded in
    that mode and convolved with padding 0); ``output_padding`` and ``output_size`` (as
    ``nn.ConvTranspose1d(...)(x, output_size=...)``) for the transposed op.

    ``at=(n, c, t)`` explains one output element, computed on its own from the
    ``in_channels/groups * kernel_size`` values it reads. Outputs larger than ``max_steps``
    elements get a summary: steps for positions 0, 1, T-2 and T-1 of channel 0 of batch item 0.
    ``exact``: None decides from the data (integers, fractions and decimal strings are exact),
    True forces Fractions, False floats. ``verify`` runs the PyTorch check when torch is
    installed. Invalid settings raise :class:`~convtrace.errors.ConvtraceError`.

    >>> t = explain([1, 1, 1, 1], [1, 1, 1], stride=2, padding=1, verify=False)
    >>> t.output.tolist(), t.length.result, t.exact
    ([[2.0, 3.0]], 2, True)
    >>> [c.source.value for c in t.pad_cells]
    ['zero', 'input', 'input', 'input', 'input', 'zero']
    >>> explain(["1/3", 1, 1], [3, 3], verify=False).steps[0].value
    Fraction(4, 1)
    """
    return _Builder(
        input=input, weight=weight, bias=bias, in_channels=in_channels, out_channels=out_channels,
        kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation, groups=groups,
        padding_mode=padding_mode, output_padding=output_padding, output_size=output_size,
        transposed=transposed, input_shape=input_shape, dtype=dtype, at=at, verify=verify,
        exact=exact, max_steps=max_steps,
    ).build()


def explain_transposed(input: Any = None, weight: Any = None, bias: Any = None, **kwargs: Any) -> Trace:
    """:func:`explain` with ``transposed=True``: a ``torch.nn.ConvTranspose1d`` step by step,
    plus its four equivalent views (``trace.views``).

    >>> t = explain_transposed([1, 1, 1, 1], [1, 1, 1], stride=2, padding=1, verify=False)
    >>> t.output.tolist(), t.views.scatter.overlap
    ([[1.0, 2.0, 1.0, 2.0, 1.0, 2.0, 1.0]], (1, 2, 1, 2, 1, 2, 1))
    """
    kwargs["transposed"] = True
    return explain(input, weight, bias, **kwargs)


# --------------------------------------------------------------------------- helpers


def _sources(positions: np.ndarray, length: int, pad_left: int, mode: PaddingMode) -> np.ndarray:
    """Input index read at each padded position (-1: zero), as ``engine.padding.pad_source``
    but for the given positions only."""
    t = np.asarray(positions, dtype=np.int64) - pad_left
    if mode is PaddingMode.ZEROS:
        return np.where((t >= 0) & (t < length), t, -1)
    if mode is PaddingMode.REFLECT:
        t = np.abs(t)
        return np.where(t >= length, 2 * (length - 1) - t, t)
    if mode is PaddingMode.REPLICATE:
        return np.clip(t, 0, length - 1)
    return np.mod(t, length)


def _num(v: Any, exact: bool) -> Any:
    if exact:
        return v if isinstance(v, Fraction) else to_exact(v)
    if isinstance(v, Fraction):
        return float(v)
    if isinstance(v, (complex, np.complexfloating)):
        return complex(v)
    return float(v)


def _sum(values: list[Any], exact: bool) -> Any:
    if exact:
        return sum(values, Fraction(0))
    if any(isinstance(v, complex) for v in values):
        return sum(values, 0j)
    return math.fsum(values) if values else 0.0


def _same_type_zero(exact: bool, cplx: bool) -> Any:
    return Fraction(0) if exact else (0j if cplx else 0.0)


@dataclass
class _Gathered:
    """The values one output element reads (numeric, and exact where given exactly)."""

    key: tuple[int, int, int]
    chans: tuple[int, int]
    kidx: np.ndarray  # kernel index of each column
    iidx: np.ndarray  # input index of each column (-1: zero padding)
    pidx: np.ndarray | None  # padded position of each column (Conv1d)
    src: np.ndarray
    xn: np.ndarray  # (in_per_group, columns) numeric input values (0 for zero padding)
    xe: np.ndarray | None  # the same as exact values (lists), else None
    wn: np.ndarray
    we: np.ndarray | None
    bn: np.ndarray | None  # bias[o:o+1]
    be: np.ndarray | None


class _Builder:
    def __init__(self, **kw: Any) -> None:
        self.kw = kw
        self.transposed = bool(kw["transposed"])
        op = "explain_transposed" if self.transposed else "explain"
        shown = [(k, kw[k]) for k in ("input", "weight", "bias") if kw[k] is not None]
        shown += [
            (k, kw[k])
            for k in ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation",
                      "groups", "padding_mode", "output_padding", "output_size", "at")
            if kw[k] is not None and not (k in ("stride", "dilation", "groups") and kw[k] == 1)
            and not (k in ("padding", "output_padding") and kw[k] == 0)
            and not (k == "padding_mode" and kw[k] == "zeros")
        ]
        self.call = describe_call(op, shown)

    # -- inputs ---------------------------------------------------------------------

    def _mode(self) -> PaddingMode:
        pm = self.kw["padding_mode"]
        try:
            mode = PaddingMode(pm)
        except ValueError:
            raise ConvtraceError(
                "padding_mode",
                pm,
                "padding_mode must be one of {'zeros', 'reflect', 'replicate', 'circular'}, "
                f"but got padding_mode={pm!r}",
                call=self.call,
            ) from None
        if self.transposed and mode is not PaddingMode.ZEROS:
            raise ConvtraceError(
                "padding_mode", pm, 'Only "zeros" padding mode is supported for ConvTranspose1d',
                call=self.call, hint="use padding_mode='zeros'",
            )
        return mode

    def _int(self, name: str, default: int | None = None) -> int | None:
        v = self.kw[name]
        if v is None:
            return default
        return parse_int_param(name, v, self.call)

    def _resolve(self) -> tuple[Values, Values, Values | None]:
        kw, call = self.kw, self.call
        exact = kw["exact"]
        if exact not in (None, True, False):
            raise ConvtraceTypeError("exact", exact, "exact must be None (auto), True or False", call=call)
        xv = None if kw["input"] is None else as_values("input", kw["input"], exact=exact)
        wv = None if kw["weight"] is None else as_values("weight", kw["weight"], exact=exact)
        b = kw["bias"]
        bv = None if (b is None or b is False) else (None if b is True else as_values("bias", b, exact=exact))
        if xv is not None and xv.ndim == 1:
            xv = xv.reshape((1,) + xv.shape)
        if xv is not None and xv.ndim == 0:
            raise ConvtraceError("input", kw["input"], "input must have at least one dimension", call=call)
        groups = kw["groups"]
        g = int(groups) if isinstance(groups, (int, np.integer)) and not isinstance(groups, bool) else None
        if g is None:
            raise ConvtraceTypeError("groups", groups, f"groups must be an int, not {type(groups).__name__}", call=call)
        if g <= 0:
            raise ConvtraceError("groups", g, "groups must be a positive integer", call=call)
        w3 = wv is not None and wv.ndim == 3
        # kernel size
        k = self._int("kernel_size")
        if wv is not None and wv.ndim >= 1:
            wk = wv.shape[-1]
            if k is not None and k != wk and wv.ndim in (1, 3):
                raise ConvtraceError(
                    "kernel_size", k, f"kernel_size={k} but the weight has {wk} taps "
                    f"(weight shape {list(wv.shape)})", call=call,
                )
            k = wk
        if k is None:
            k = 3
        if k < 1:
            raise ConvtraceError(
                "kernel_size", k, f"kernel size should be greater than zero, but got kernel_size: {k}",
                call=call, hint="use kernel_size >= 1",
            )
        # channels
        cin = self._int("in_channels")
        if xv is not None and xv.ndim in (2, 3):
            c = xv.shape[-2]
            if cin is not None and cin != c:
                raise ConvtraceError(
                    "in_channels", cin,
                    f"in_channels={cin} but the input has {c} channels (input shape {list(xv.shape)})",
                    call=call,
                )
            cin = c
        elif cin is None and w3:
            assert wv is not None
            cin = wv.shape[0] if self.transposed else wv.shape[1] * g
        elif cin is None and xv is None and kw["input_shape"] is not None:
            shp_ = tuple(kw["input_shape"])
            cin = int(shp_[-2]) if len(shp_) >= 2 else None
        if cin is None:
            cin = g if g > 1 else 1
        cout = self._int("out_channels")
        if w3:
            assert wv is not None
            wc = wv.shape[1] * g if self.transposed else wv.shape[0]
            if cout is not None and cout != wc:
                raise ConvtraceError(
                    "out_channels", cout,
                    f"out_channels={cout} but the weight {list(wv.shape)} gives {wc} output channels",
                    call=call,
                )
            cout = wc
        if cout is None:
            cout = g if g > 1 else 1
        for name, v in (("in_channels", cin), ("out_channels", cout)):
            if v <= 0:
                raise ConvtraceError(name, v, f"{name} must be a positive integer", call=call)
            if v % g:
                raise ConvtraceError(
                    name, v, f"{name} must be divisible by groups ({g})", call=call,
                    hint=f"use {name} = a multiple of {g}, e.g. {max(g, v - v % g)}",
                )
        self.cin, self.cout, self.k, self.g = cin, cout, k, g
        # dtype: arrays decide; lists and defaults follow
        dts = [v.numeric.dtype for v in (xv, wv, bv) if v is not None and v.from_array]
        if self.kw["dtype"] is not None:
            target = np.dtype(self.kw["dtype"])
        elif dts:
            target = dts[0]
        elif any(v is not None and v.numeric.dtype.kind == "c" for v in (xv, wv, bv)):
            target = np.dtype(np.complex128)
        else:
            target = np.dtype(np.float64)
        ones = as_values("ones", 1)
        # weight
        wshape = (cin, cout // g, k) if self.transposed else (cout, cin // g, k)
        if wv is None:
            wv = ones.broadcast(wshape)
        elif wv.ndim == 1:
            wv = wv.broadcast(wshape)
        # input
        if xv is None:
            shp = self.kw["input_shape"]
            if shp is None:
                d_ = self._int("dilation", 1) or 1
                length = 4
                if not self.transposed:
                    pad = parse_padding(self.kw["padding"], call)
                    tot = 0 if isinstance(pad, str) else 2 * int(pad)
                    if pad == "same":
                        tot = d_ * (k - 1)
                    length = max(4, d_ * (k - 1) + 1 - tot, 1)
                shape: tuple[int, ...] = (1, cin, length)
            else:
                shape = tuple(int(v) for v in shp)
                if len(shape) == 1:
                    shape = (cin,) + shape
            xv = ones.broadcast(shape)
        # bias
        if b is True:
            bv = ones.broadcast((cout,))
        elif bv is not None and bv.ndim == 0:
            bv = bv.broadcast((cout,))
        xv, wv = (v if v.from_array else v.astype(_cast(target, v)) for v in (xv, wv))
        if bv is not None and not bv.from_array:
            bv = bv.astype(_cast(target, bv))
        return xv, wv, bv

    # -- build ------------------------------------------------------------------------

    def build(self) -> Trace:
        kw, call = self.kw, self.call
        mode = self._mode()
        xv, wv, bv = self._resolve()
        x, w, b = xv.numeric, wv.numeric, None if bv is None else bv.numeric
        output_size = None
        if self.transposed:
            op_ = kw["output_padding"]
            if kw["output_size"] is not None:
                output_size, op_ = self._output_size(x, w, kw["output_size"])
            x3, w, b, spec = check_conv_transpose1d(
                x, w, b, kw["stride"], kw["padding"], op_, kw["groups"], kw["dilation"], op="conv_transpose1d"
            )
        else:
            x3, w, b, spec = check_conv1d(x, w, b, kw["stride"], kw["padding"], kw["dilation"], kw["groups"])
            if mode is not PaddingMode.ZEROS:
                check_pad(x, (spec.pad_left, spec.pad_right), mode.value, None)
        self.spec, self.mode = spec, mode
        self.x3, self.w, self.b = x3, w, b
        self.xv, self.wv, self.bv = xv, wv, bv
        n_out = spec.batch * spec.out_channels * spec.out_length
        macs = n_out * spec.in_per_group * spec.kernel_size
        at = self._at(kw["at"])
        max_steps = int(kw["max_steps"])
        notes: list[tuple[str, dict[str, Any], str]] = []

        # which elements get a step
        full_output = macs <= FULL_OUTPUT_MAX_MACS and (at is None or macs <= 1_000_000)
        if at is not None:
            keys = [at]
        elif n_out <= max_steps:
            keys = [(n, c, t) for n in range(spec.batch) for c in range(spec.out_channels)
                    for t in range(spec.out_length)]
        else:
            T = spec.out_length
            ts = sorted({t for t in (0, 1, T - 2, T - 1) if 0 <= t < T})
            keys = [(0, 0, t) for t in ts]
            notes.append((
                "summary", {"elements": n_out, "shown": [list(k) for k in keys]},
                f"the output has {n_out} elements: steps are shown for output channel 0 of batch "
                f"item 0 at positions {', '.join(str(t) for t in ts)}; pass at=(n, c, t) to explain "
                "any other element",
            ))
        complete = len(keys) == n_out

        # the engine's output
        y = None
        if full_output:
            y = self._engine_full(x, w, b)
        else:
            notes.append((
                "output_not_computed", {"multiply_adds": macs},
                f"the whole output ({n_out} elements, {macs} multiply-adds) was not computed: "
                "each explained element was computed on its own",
            ))

        gathered = [self._gather(key) for key in keys]
        exact = self._decide_exact(gathered)
        steps = [self._step(gd, exact, y) for gd in gathered]

        # the padded row
        pad_cells, pad_complete = self._pad_cells(steps)
        same_split = None
        if spec.padding == "same":
            same_split = (spec.pad_left, spec.pad_right)
            if spec.pad_left != spec.pad_right:
                notes.append((
                    "same_split", {"left": spec.pad_left, "right": spec.pad_right},
                    f"padding='same' needs {spec.pad_left + spec.pad_right} padded samples: "
                    f"{spec.pad_left} on the left, {spec.pad_right} on the right (the odd one on the "
                    "right, as PyTorch)",
                ))
        unreached, dropped = self._unreached()
        if dropped:
            first = spec.length - dropped
            notes.append((
                "dropped_tail", {"count": dropped, "indices": list(range(first, spec.length))},
                (f"the last {dropped} input samples (index {first}..{spec.length - 1}) lie beyond the "
                 "last window: no output reads them (PyTorch drops them silently)") if dropped > 1 else
                (f"the last input sample (index {first}) lies beyond the last window: no output reads "
                 "it (PyTorch drops it silently)"),
            ))
        gaps = [i for i in unreached if i < spec.length - dropped]
        if gaps:
            notes.append((
                "unreached", {"indices": gaps[:64], "count": len(gaps)},
                (f"{len(gaps)} input samples (index {', '.join(str(i) for i in gaps[:8])}"
                 f"{', ...' if len(gaps) > 8 else ''}) fall between the kernel taps of every window and "
                 "never affect the output") if len(gaps) > 1 else
                (f"1 input sample (index {gaps[0]}) falls between the kernel taps of every window and "
                 "never affects the output"),
            ))

        exact_output = None
        if exact and complete and y is not None:
            eo = np.empty((spec.batch, spec.out_channels, spec.out_length), dtype=object)
            for s_ in steps:
                eo[s_.batch, s_.out_channel, s_.out_index] = s_.value
            exact_output = eo if spec.batched else eo[0]

        trace = Trace(
            spec=spec,
            padding_mode=mode,
            input=x,
            weight=w,
            bias=b,
            exact=exact,
            length=self._length(),
            pad_cells=pad_cells,
            same_split=same_split,
            unreached=tuple(unreached),
            dropped_tail=dropped,
            steps=tuple(steps),
            complete=complete,
            output=y,
            at=at,
            output_size=output_size,
            pad_row_complete=pad_complete,
            exact_output=exact_output,
        )
        if exact:
            for name, v in (("input", xv), ("weight", wv), ("bias", bv)):
                if v is not None and v.exact_values is not None:
                    trace.exact_data[name] = v.exact_values
        trace.extra["call"] = call
        trace.extra["module_call"] = self._module_call()
        if xv.source:
            trace.extra["input_source"] = xv.source

        if spec.transposed and y is not None:
            from .transposed import build_views

            views, vnotes = build_views(trace)
            trace.views = views
            notes.extend(vnotes)
        elif spec.transposed:
            notes.append((
                "views_skipped", {},
                "the four ConvTranspose1d views need the whole output: explain a smaller input "
                "(or without at=) to see them",
            ))

        if kw["verify"]:
            trace.check = self._torch_check(y if at is None else None, steps, gathered)
        trace.notes = tuple(n[2] for n in notes)
        trace.note_data = tuple({"code": n[0], **n[1]} for n in notes)
        return trace

    # -- pieces -------------------------------------------------------------------------

    def _output_size(self, x: np.ndarray, w: np.ndarray, output_size: Any) -> tuple[int, int]:
        call = self.call
        if isinstance(output_size, (int, np.integer)) and not isinstance(output_size, bool):
            size = [int(output_size)]
        else:
            try:
                size = [int(v) for v in output_size]
            except (TypeError, ValueError):
                raise ConvtraceTypeError(
                    "output_size", output_size, "output_size must be an int or a list of ints", call=call
                ) from None
        non_spatial = 2 if x.ndim == 3 else 1
        if len(size) == non_spatial + 1:
            size = size[non_spatial:]
        if len(size) != 1:
            raise ConvtraceError(
                "output_size", output_size,
                f"ConvTranspose1D: for {x.ndim}D input, output_size must have 1 or {non_spatial + 1} "
                f"elements (got {len(size)})", call=call,
            )
        length = x.shape[-1]
        s = parse_int_param("stride", self.kw["stride"], call)
        d = parse_int_param("dilation", self.kw["dilation"], call)
        p = parse_padding(self.kw["padding"], call, allow_string=False)
        assert isinstance(p, int)
        k = w.shape[-1]
        lo = (length - 1) * s - 2 * p + d * (k - 1) + 1
        hi = lo + s - 1
        if not lo <= size[0] <= hi:
            raise ConvtraceError(
                "output_size", output_size,
                f"requested an output size of {size}, but valid sizes range from [{lo}] to [{hi}] "
                f"(for an input of [{length}])", call=call,
                hint=f"output_size between {lo} and {hi}",
            )
        return size[0], size[0] - lo

    def _at(self, at: Any) -> tuple[int, int, int] | None:
        if at is None:
            return None
        spec = self.spec
        try:
            vals = [int(v) for v in at]
            ok = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in at)
        except (TypeError, ValueError):
            ok = False
        rng = (f"n in [0, {spec.batch - 1}], " if spec.batched else "n = 0 (unbatched input), ") + (
            f"c in [0, {spec.out_channels - 1}], t in [0, {spec.out_length - 1}]"
        )
        if not ok:
            raise ConvtraceTypeError("at", at, f"at must be (n, c, t) integers: {rng}", call=self.call)
        if len(vals) == 2 and not spec.batched:
            vals = [0] + vals
        if len(vals) != 3:
            raise ConvtraceError("at", at, f"at must be (n, c, t): {rng}", call=self.call)
        n, c, t = vals
        bad = [
            name for name, v, hi in (("n", n, spec.batch), ("c", c, spec.out_channels), ("t", t, spec.out_length))
            if not 0 <= v < hi
        ]
        if bad:
            raise ConvtraceError(
                "at", tuple(at),
                f"{', '.join(bad)} out of range: the output has shape {list(spec.output_shape)}, so {rng}",
                call=self.call,
            )
        return (n, c, t)

    def _engine_full(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> np.ndarray:
        spec, kw = self.spec, self.kw
        if spec.transposed:
            return F.conv_transpose1d(
                x, w, b, spec.stride, spec.padding_int, spec.output_padding, spec.groups, spec.dilation
            )
        if self.mode is PaddingMode.ZEROS:
            return F.conv1d(x, w, b, spec.stride, kw["padding"], spec.dilation, spec.groups)
        xp = F.pad(x, (spec.pad_left, spec.pad_right), mode=self.mode.value)
        return F.conv1d(xp, w, b, spec.stride, 0, spec.dilation, spec.groups)

    def _gather(self, key: tuple[int, int, int]) -> _Gathered:
        spec = self.spec
        n, o, t = key
        og, cg, K = spec.out_per_group, spec.in_per_group, spec.kernel_size
        grp = o // og
        c0, c1 = grp * cg, (grp + 1) * cg
        xe3 = None
        if self.xv.exact_values is not None:
            xe = self.xv.exact_values
            xe3 = xe if xe.ndim == 3 else xe[None]
        we = self.wv.exact_values
        be = None if self.bv is None else self.bv.exact_values
        bn = None if self.b is None else self.b[o : o + 1]
        bex = None if be is None else be[o : o + 1]
        if not spec.transposed:
            kidx = np.arange(K)
            pidx = t * spec.stride + kidx * spec.dilation
            src = _sources(pidx, spec.length, spec.pad_left, self.mode)
            safe = np.where(src >= 0, src, 0)
            xn = np.array(self.x3[n, c0:c1][:, safe])
            xn[:, src < 0] = 0
            xex = None
            if xe3 is not None:
                xex = xe3[n, c0:c1][:, safe].copy()
                xex[:, src < 0] = Fraction(0)
            wn = self.w[o]
            wex = None if we is None else we[o]
            return _Gathered(key=key, chans=(c0, c1), kidx=kidx, iidx=src, pidx=pidx, src=src,
                             xn=xn, xe=xex, wn=wn, we=wex, bn=bn, be=bex)
        # transposed: j = i*stride - padding + k*dilation
        co = o % og
        num = t + spec.padding_int - np.arange(K) * spec.dilation
        ok = (num % spec.stride == 0) & (num >= 0) & (num // spec.stride < spec.length)
        kidx = np.arange(K)[ok][::-1]  # input index ascending
        iidx = (num[ok] // spec.stride)[::-1]
        xn = np.array(self.x3[n, c0:c1][:, iidx])
        xex = None if xe3 is None else xe3[n, c0:c1][:, iidx]
        wn = self.w[c0:c1, co][:, kidx]
        wex = None if we is None else we[c0:c1, co][:, kidx]
        return _Gathered(key=key, chans=(c0, c1), kidx=kidx, iidx=iidx, pidx=None, src=iidx,
                         xn=xn, xe=xex, wn=wn, we=wex, bn=bn, be=bex)

    def _decide_exact(self, gathered: list[_Gathered]) -> bool:
        ex = self.kw["exact"]
        if ex is False:
            return False
        cplx = any(v is not None and v.numeric.dtype.kind == "c" for v in (self.xv, self.wv, self.bv))
        if ex is True:
            if cplx:
                raise ConvtraceError("exact", True, "complex data cannot be computed exactly", call=self.call)
            return True
        if cplx:
            return False
        for v, part in ((self.xv, "xn"), (self.wv, "wn"), (self.bv, "bn")):
            if v is None or v.exact_values is not None:
                continue
            if not v.from_array:
                return False
            if v.numeric.size <= 4_000_000:
                if not is_integral_array(v.numeric):
                    return False
            elif not all(g_ is None or getattr(g_, part) is None or is_integral_array(np.asarray(getattr(g_, part)))
                         for g_ in gathered):
                return False
        return True

    def _step(self, gd: _Gathered, exact: bool, y: np.ndarray | None) -> Step:
        spec = self.spec
        n, o, t = gd.key
        c0, c1 = gd.chans
        terms: list[Term] = []
        products: list[Any] = []
        cplx = self.x3.dtype.kind == "c" or self.w.dtype.kind == "c"
        pad_source = _SOURCE_OF_MODE[self.mode]
        for ci in range(c1 - c0):
            for m in range(len(gd.kidx)):
                xval = _num(gd.xe[ci, m] if (exact and gd.xe is not None) else gd.xn[ci, m], exact)
                wval = _num(gd.we[ci, m] if (exact and gd.we is not None) else gd.wn[ci, m], exact)
                if gd.pidx is not None:  # Conv1d
                    src = int(gd.src[m])
                    pos = int(gd.pidx[m])
                    inside = 0 <= pos - spec.pad_left < spec.length
                    source = Source.INPUT if inside else pad_source
                    if src < 0:
                        xval = _same_type_zero(exact, cplx and not exact)
                    input_index = None if src < 0 else src
                    padded_index: int | None = pos
                else:
                    source = Source.INPUT
                    input_index = int(gd.iidx[m])
                    padded_index = None
                prod = xval * wval
                products.append(prod)
                terms.append(Term(
                    in_channel=c0 + ci, kernel_index=int(gd.kidx[m]), input_index=input_index,
                    padded_index=padded_index, source=source, x=xval, w=wval, product=prod,
                ))
        total = _sum(products, exact) if products else _same_type_zero(exact, cplx)
        bias = None
        if gd.bn is not None:
            bias = _num(gd.be[0] if (exact and gd.be is not None) else gd.bn[0], exact)
        value = total + bias if bias is not None else total
        if y is not None:
            ev = (y if y.ndim == 3 else y[None])[n, o, t]
        else:
            ev = self._engine_element(gd)
        return Step(
            batch=n, out_channel=o, out_index=t, group=o // spec.out_per_group,
            in_channels=tuple(range(c0, c1)),
            window_start=t * spec.stride if not spec.transposed else t,
            terms=tuple(terms), total=total, bias=bias, value=value,
            engine_value=_num(ev, False),
        )

    def _engine_element(self, gd: _Gathered) -> Any:
        """One output element by the engine, from the values it reads only."""
        spec = self.spec
        n, o, t = gd.key
        if not spec.transposed:
            # the padded window (already gathered: dilation's gaps removed), stride 1, padding 0
            y = F.conv1d(gd.xn[None].astype(self.w.dtype, copy=False), self.w[o : o + 1], gd.bn)
            return y[0, 0, 0]
        lo, hi, j = self._transposed_slice(gd)
        if lo is None:
            zero = np.zeros((), dtype=self.w.dtype)
            return zero + (gd.bn[0] if gd.bn is not None else 0)
        og = spec.out_per_group
        c0, c1 = gd.chans
        xs = np.array(self.x3[n : n + 1, c0:c1, lo:hi])
        co = o % og
        y = F.conv_transpose1d(xs, self.w[c0:c1, co : co + 1], gd.bn, spec.stride, 0, 0, 1, spec.dilation)
        return y[0, 0, j]

    def _transposed_slice(self, gd: _Gathered) -> tuple[Any, Any, int]:
        if len(gd.iidx) == 0:
            return None, None, 0
        lo, hi = int(gd.iidx.min()), int(gd.iidx.max()) + 1
        j = gd.key[2] + self.spec.padding_int - lo * self.spec.stride
        return lo, hi, j

    def _pad_cells(self, steps: list[Step]) -> tuple[tuple[PadCell, ...], bool]:
        spec = self.spec
        if spec.transposed:
            return (), True
        total = spec.length + spec.pad_left + spec.pad_right
        if total <= PAD_ROW_LIMIT:
            positions = np.arange(total)
            complete = True
        else:
            positions = np.array(sorted({t.padded_index for s in steps for t in s.terms
                                         if t.padded_index is not None}), dtype=np.int64)
            complete = False
        src = _sources(positions, spec.length, spec.pad_left, self.mode)
        pad_source = _SOURCE_OF_MODE[self.mode]
        cells = []
        for p, s in zip(positions.tolist(), src.tolist()):
            inside = 0 <= p - spec.pad_left < spec.length
            cells.append(PadCell(position=p, source=Source.INPUT if inside else pad_source,
                                 input_index=None if s < 0 else s))
        return tuple(cells), complete

    def _unreached(self) -> tuple[list[int], int]:
        spec = self.spec
        L, K, s, d = spec.length, spec.kernel_size, spec.stride, spec.dilation
        if spec.transposed:
            if L * K > 20_000_000:
                return [], 0
            i = np.arange(L)[:, None]
            j = i * s - spec.padding_int + np.arange(K)[None, :] * d
            hit = ((j >= 0) & (j < spec.out_length)).any(axis=1)
            return [int(v) for v in np.flatnonzero(~hit)], 0
        T = spec.out_length
        if T * K > 20_000_000:
            return [], 0
        padded = L + spec.pad_left + spec.pad_right
        read = np.zeros(padded, dtype=bool)
        for k in range(K):
            read[k * d : k * d + (T - 1) * s + 1 : s] = True
        src = _sources(np.flatnonzero(read), L, spec.pad_left, self.mode)
        reached = np.zeros(L, dtype=bool)
        reached[src[src >= 0]] = True
        unreached = [int(v) for v in np.flatnonzero(~reached)]
        pad_arg: Any = spec.padding if isinstance(spec.padding, str) else spec.pad_left
        dropped = shapes.dropped_tail(L, K, s, pad_arg, d)
        # with a non-zero padding_mode a "dropped" sample may still be read through the padding
        dropped = min(dropped, len([i for i in unreached if i >= L - dropped]))
        return unreached, dropped

    def _length(self) -> LengthFormula:
        spec = self.spec
        L, K, s, d = spec.length, spec.kernel_size, spec.stride, spec.dilation
        if spec.transposed:
            p, op_ = spec.padding_int, spec.output_padding
            return LengthFormula(
                formula="(L - 1)*stride - 2*padding + dilation*(kernel_size - 1) + output_padding + 1",
                substituted=f"({L} - 1)*{s} - 2*{p} + {d}*({K} - 1) + {op_} + 1",
                values={"L": L, "stride": s, "padding": p, "dilation": d, "kernel_size": K,
                        "output_padding": op_},
                result=spec.out_length,
            )
        pl, pr = spec.pad_left, spec.pad_right
        return LengthFormula(
            formula="floor((L + pad_left + pad_right - dilation*(kernel_size - 1) - 1) / stride) + 1",
            substituted=f"floor(({L} + {pl} + {pr} - {d}*({K} - 1) - 1) / {s}) + 1",
            values={"L": L, "pad_left": pl, "pad_right": pr, "dilation": d, "kernel_size": K, "stride": s},
            result=spec.out_length,
        )

    def _module_call(self) -> str:
        from ..interop.check import module_call

        spec = self.spec
        return module_call(
            spec.transposed, in_channels=spec.in_channels, out_channels=spec.out_channels,
            kernel_size=spec.kernel_size, stride=spec.stride, padding=spec.padding,
            dilation=spec.dilation, groups=spec.groups, bias=spec.has_bias,
            padding_mode=self.mode.value, output_padding=spec.output_padding if self.kw["output_size"] is None else 0,
        )

    def _torch_check(self, y: np.ndarray | None, steps: list[Step], gathered: list[_Gathered]) -> TorchCheck:
        from ..interop import check as chk

        spec = self.spec
        if y is not None:
            return chk.check_full(
                self.xv.numeric, self.w, self.b, transposed=spec.transposed,
                in_channels=spec.in_channels, out_channels=spec.out_channels,
                kernel_size=spec.kernel_size, stride=spec.stride, padding=spec.padding,
                dilation=spec.dilation, groups=spec.groups, padding_mode=self.mode.value,
                output_padding=spec.output_padding, output_size=self.kw_output_size(),
                engine_output=y,
            )
        # element checks (at, or a summary of a huge output): the first explained element alone
        gd, st = gathered[0], steps[0]
        n, o, t = gd.key
        c0, c1 = gd.chans
        dtype = np.result_type(self.x3, self.w)
        if not spec.transposed:
            sl = self._conv_slice(gd)
            xs, rng, pads, pmode = sl if sl is not None else (gd.xn, (0, 0), (0, 0), None)
            return chk.check_conv1d_element(
                gd.xn, xs, rng, pads, pmode, self.w[o : o + 1], gd.bn,
                dilation=spec.dilation, element=(n, o, t), channels=(c0, c1),
                engine_value=st.engine_value, dtype=dtype,
            )
        lo, hi, j = self._transposed_slice(gd)
        if lo is None:
            return TorchCheck(
                available=chk.torch_available(), call="(no kernel tap lands on this element: y = bias)",
                output=None, max_abs_diff=0.0, agree=True,
                note="nothing to check against PyTorch: the element is the bias alone",
            )
        og = spec.out_per_group
        xs = np.array(self.x3[n, c0:c1, lo:hi])
        return chk.check_transposed_element(
            xs, (lo, hi), self.w[c0:c1, o % og : o % og + 1], gd.bn, stride=spec.stride,
            dilation=spec.dilation, local_index=j, out_local=o % og, element=(n, o, t),
            channels=(c0, c1), engine_value=st.engine_value, dtype=dtype,
        )

    def kw_output_size(self) -> int | None:
        return None if self.kw["output_size"] is None else self.spec.out_length

    def _conv_slice(self, gd: _Gathered) -> tuple[np.ndarray, tuple[int, int], tuple[int, int], str] | None:
        """The minimal input slice of a Conv1d element and the torch padding that rebuilds its
        window: (slice, (lo, hi), (a, b), mode), or None when no contiguous slice + ``F.pad``
        reproduces the window's sources (then the gathered window is used)."""
        spec = self.spec
        n = gd.key[0]
        c0, c1 = gd.chans
        L = spec.length
        assert gd.pidx is not None
        pidx = gd.pidx
        first, last = int(pidx[0]), int(pidx[-1])  # padded positions of the window
        real = gd.src[gd.src >= 0]
        lo = int(real.min()) if real.size else 0
        hi = int(real.max()) + 1 if real.size else 1
        lo = min(lo, max(0, first - spec.pad_left))
        hi = max(hi, min(L, last - spec.pad_left + 1))
        a = max(0, lo - (first - spec.pad_left))
        b = max(0, (last - spec.pad_left) - (hi - 1))
        # the window inside the padded slice starts at offset first - (lo - a)
        off = first - spec.pad_left - (lo - a)
        mode = "constant" if self.mode is PaddingMode.ZEROS else self.mode.value
        width = hi - lo
        if off != 0 or (mode == "reflect" and (a >= width or b >= width)):
            return None
        if mode == "circular" and (a > width or b > width):
            return None
        from ..engine.padding import pad_source

        src_slice = pad_source(width, a, b, mode)
        got = np.where(src_slice >= 0, src_slice + lo, -1)[(pidx - first)]
        if not np.array_equal(got, gd.src):
            return None
        xs = np.array(self.x3[n, c0:c1, lo:hi])
        return xs, (lo, hi), (a, b), mode


def _cast(target: np.dtype, v: Values) -> np.dtype:
    if target.kind != "c" and v.numeric.dtype.kind == "c":
        return np.dtype(np.complex128)
    return target

