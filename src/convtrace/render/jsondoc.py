"""``Trace.to_json()``: the trace as a versioned JSON document (docs/trace-schema.md).

Numbers keep their exactness: integers are JSON integers, non-integral fractions strings
``"p/q"``, floats JSON numbers, complex numbers ``{"re": .., "im": ..}``.

>>> from convtrace.trace.build import explain
>>> doc = trace_to_json(explain([1, 1, 1, 1], [1, 1, 1], padding=1))
>>> doc["schema_version"], doc["output"], doc["steps"][0]["sum"]
('1.3', [[2, 3, 3, 2]], 2)
>>> [(t["source"], t["input_index"], t["kernel_index"]) for t in doc["steps"][0]["terms"]]
[('zero', None, 0), ('input', 0, 1), ('input', 1, 2)]
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np

from ..trace.exact import to_json_number
from ..trace.model import SCHEMA_VERSION, PoolTrace
from .notes import note_texts

if TYPE_CHECKING:  # pragma: no cover
    from ..trace.model import LengthFormula, Placement, PoolDetail, Step, StreamChunk, StreamState, Trace

__all__ = ["trace_to_json", "stream_to_json", "array_to_json", "schema_path", "load_schema", "DATA_LIMIT"]

#: arrays (input, weight, output, views) with more elements than this are given as null
DATA_LIMIT = 4096


def schema_path() -> str:
    """Path of the JSON Schema (draft 2020-12) of :meth:`Trace.to_json` documents."""
    return os.path.join(os.path.dirname(os.path.dirname(__file__)), "schema", "trace.schema.json")


def load_schema() -> dict[str, Any]:
    """The JSON Schema of :meth:`Trace.to_json` documents, as a dict.

    >>> load_schema()["$schema"]
    'https://json-schema.org/draft/2020-12/schema'
    """
    import json

    with open(schema_path(), encoding="utf-8") as fh:
        schema: dict[str, Any] = json.load(fh)
    return schema


def array_to_json(a: np.ndarray | None, *, integral: bool = False, limit: int = DATA_LIMIT) -> Any:
    """A nested list of JSON numbers (None when ``a`` is None or larger than ``limit``).

    ``integral=True`` writes integral floats as JSON integers (for exact traces).

    >>> array_to_json(np.array([[1.0, 0.5]]), integral=True)
    [[1, 0.5]]
    """
    if a is None or a.size > limit:
        return None
    arr = np.asarray(a)

    def conv(v: Any) -> Any:
        if arr.dtype == object:
            return to_json_number(v)
        if integral and isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
            return int(v)
        return to_json_number(v)

    def rec(x: Any) -> Any:
        if isinstance(x, list):
            return [rec(v) for v in x]
        return conv(x)

    return rec(arr.tolist())


def _num(v: Any) -> Any:
    return to_json_number(v)


def _step(s: Step) -> dict[str, Any]:
    doc = _conv_step(s)
    if s.pool is not None:  # a pool's step: the reduction, its numbers, and each tap's kind
        for term, t in zip(doc["terms"], s.terms):
            term["tap"] = None if t.tap is None else t.tap.value
        doc["reduction"] = s.reduction.value
        doc["pool"] = _pool_detail(s.pool)
    return doc


def _pool_detail(d: PoolDetail) -> dict[str, Any]:
    return {
        "padded_start": d.padded_start, "start": d.start, "end": d.end,
        "counts": {"real": d.real, "left_pad": d.left_pad, "right_pad": d.right_pad, "overhang": d.overhang},
        "winner": d.winner, "winner_index": d.winner_index, "ties": list(d.ties), "nan": d.nan,
        "divisor": d.divisor, "truncated": d.truncated, "count_include_pad": d.count_include_pad,
        "norm_type": None if d.norm_type is None else _num(d.norm_type), "scale": _num(d.scale),
        "scaled": _num(d.scaled), "length": d.length, "output_size": d.output_size, "sources": list(d.sources),
    }


def _conv_step(s: Step) -> dict[str, Any]:
    return {
        "batch": s.batch,
        "out_channel": s.out_channel,
        "out_index": s.out_index,
        "group": s.group,
        "in_channels": list(s.in_channels),
        "window_start": s.window_start,
        "terms": [
            {
                "in_channel": t.in_channel,
                "kernel_index": t.kernel_index,
                "input_index": t.input_index,
                "padded_index": t.padded_index,
                "source": t.source.value,
                "x": _num(t.x),
                "w": _num(t.w),
                "product": _num(t.product),
            }
            for t in s.terms
        ],
        "sum": _num(s.total),
        "bias": _num(s.bias),
        "value": _num(s.value),
        "engine_value": _num(s.engine_value),
    }


def _placement(p: Placement) -> dict[str, Any]:
    taps = [
        {"out_channel": t.out_channel, "kernel_index": t.kernel_index, "out_index": t.out_index,
         "w": _num(t.w), "product": _num(t.product), "cropped": t.cropped}
        for t in p.taps
    ]
    return {"batch": p.batch, "in_channel": p.in_channel, "input_index": p.input_index, "x": _num(p.x),
            "offset": p.offset, "taps": taps}


def _views(trace: Trace, integral: bool) -> Any:
    v = trace.views
    if v is None:
        return None
    sc, zi, mx, gr = v.scatter, v.zero_insertion, v.matrix, v.gradient
    return {
        "scatter": {
            "crop_left": sc.crop_left,
            "crop_right": sc.crop_right,
            "output_padding": sc.output_padding,
            "full_length": sc.full_length,
            "overlap": list(sc.overlap),
            "uneven": sc.uneven,
            "placements": [_placement(p) for p in sc.placements],
            "output": array_to_json(sc.output, integral=integral),
            "equal": sc.equal,
        },
        "zero_insertion": {
            "inserted": zi.inserted,
            "pad_each_side": zi.pad_each_side,
            "extra_right": zi.extra_right,
            "upsampled": array_to_json(zi.upsampled, integral=integral),
            "weight": array_to_json(zi.weight, integral=integral),
            "torch_call": zi.torch_call,
            "output": array_to_json(zi.output, integral=integral),
            "equal": zi.equal,
        },
        "matrix": {
            "rows": mx.rows,
            "cols": mx.cols,
            "matrix": array_to_json(mx.matrix, integral=integral),
            "output": array_to_json(mx.output, integral=integral),
            "equal": mx.equal,
            "reason": mx.reason,
        },
        "gradient": {
            "call": gr.call,
            "output": array_to_json(gr.output, integral=integral),
            "equal": gr.equal,
        },
    }


def _length(lf: LengthFormula) -> dict[str, Any]:
    return {"formula": lf.formula, "substituted": lf.substituted, "values": dict(lf.values), "result": lf.result}


def _check(trace: Trace | PoolTrace) -> Any:
    c = trace.check
    if c is None:
        return None
    doc = {
        "available": c.available,
        "call": c.call,
        "code": c.extra.get("code"),
        "scope": c.extra.get("scope"),
        "output": array_to_json(c.output, integral=trace.exact),
        "max_abs_diff": None if c.max_abs_diff is None else _num(float(c.max_abs_diff)),
        "agree": c.agree,
        "note": c.note,
    }
    if "indices" in c.extra:  # a max pool: PyTorch's indices, held to the steps' winners
        doc["indices"] = array_to_json(np.asarray(c.extra["indices"]))
        doc["indices_agree"] = bool(c.extra.get("indices_agree"))
    return doc


def _parameters(trace: Trace) -> dict[str, Any]:
    spec = trace.spec
    return {
        "in_channels": spec.in_channels,
        "out_channels": spec.out_channels,
        "kernel_size": spec.kernel_size,
        "stride": spec.stride,
        "padding": spec.padding,
        "pad_left": spec.pad_left,
        "pad_right": spec.pad_right,
        "dilation": spec.dilation,
        "groups": spec.groups,
        "bias": spec.has_bias,
        "padding_mode": trace.padding_mode.value,
        "output_padding": spec.output_padding,
        "output_size": trace.output_size,
    }


def trace_to_json(trace: Trace | PoolTrace) -> dict[str, Any]:
    """See :meth:`convtrace.trace.model.Trace.to_json` (a pool: :func:`pool_trace_to_json`)."""
    if isinstance(trace, PoolTrace):
        return pool_trace_to_json(trace)
    spec = trace.spec
    integral = trace.exact
    doc = {
        "schema": "convtrace.trace",
        "schema_version": SCHEMA_VERSION,
        "op": spec.op_name,
        "module": "ConvTranspose1d" if spec.transposed else "Conv1d",
        "parameters": _parameters(trace),
        "module_call": trace.module_call or None,
        "batched": spec.batched,
        "input_shape": list(spec.input_shape),
        "weight_shape": list(spec.weight_shape),
        "output_shape": list(spec.output_shape),
        "dtype": str(spec.dtype),
        "exact": trace.exact,
        "length": _length(trace.length),
        "same_split": None if trace.same_split is None else list(trace.same_split),
        "padded_row": {
            "complete": trace.pad_row_complete,
            "cells": [
                {"position": c.position, "source": c.source.value, "input_index": c.input_index}
                for c in trace.pad_cells
            ],
        },
        "unreached": list(trace.unreached),
        "dropped_tail": trace.dropped_tail,
        "input": _data(trace.input, trace, "input"),
        "weight": _data(trace.weight, trace, "weight"),
        "bias": None if trace.bias is None else _data(trace.bias, trace, "bias"),
        "output": array_to_json(trace.output, integral=integral),
        "exact_output": array_to_json(trace.exact_output),
        "complete": trace.complete,
        "at": None if trace.at is None else list(trace.at),
        "steps": [_step(s) for s in trace.steps],
        "views": _views(trace, integral),
        "check": _check(trace),
        "notes": note_texts(trace, "en"),
        "note_data": [_plain(n) for n in trace.note_data],
    }
    if trace.stream is not None:  # one streamed push (schema 1.3)
        doc["stream"] = stream_to_json(trace.stream)
    return doc


def stream_to_json(s: StreamChunk) -> dict[str, Any]:
    """The streamed push as the JSON document's ``stream`` object (docs/trace-schema.md)."""
    from .stream_chunk_text import stream_note_text

    def state(e: StreamState) -> dict[str, Any]:
        return {"name": e.name, "role": e.role, "positions": list(e.positions),
                "values": [to_json_number(v) for v in e.values], "array": array_to_json(e.array),
                "samples_in": e.samples_in, "done": e.done}  # fmt: skip

    return {
        "kind": s.kind, "chunk": s.chunk, "chunk_given": s.chunk_given, "push": s.push, "pushes": s.pushes,
        "before": s.before, "arrived": s.arrived, "emitted_before": s.emitted_before, "emitted": s.emitted,
        "output": array_to_json(s.output),
        "outputs": [
            {"out_index": o.out_index, "value": to_json_number(o.value),
             "carried": None if o.carried is None else to_json_number(o.carried),
             "bias": None if o.bias is None else to_json_number(o.bias),
             "reads": [{"kernel_index": r.kernel_index, "position": r.position, "input_index": r.input_index,
                        "source": r.source.value, "origin": r.origin.value} for r in o.reads]}
            for o in s.outputs
        ],
        "state_before": [state(e) for e in s.state_before],
        "state_after": [state(e) for e in s.state_after],
        "flush_outputs": s.flush_outputs,
        "flush": array_to_json(s.flush),
        "hop": to_json_number(s.hop), "lookahead": to_json_number(s.lookahead), "min_chunk": s.min_chunk,
        "first_output": s.first_output, "cache": s.cache, "cache_out": s.cache_out,
        "notes": [stream_note_text(n, "en") for n in s.notes],
        "note_data": [n.as_dict() for n in s.notes],
    }


def pool_trace_to_json(trace: PoolTrace) -> dict[str, Any]:
    """A pool's trace in the same document (schema 1.2): the convolution's fields (no weight,
    no bias, no views), each step with its ``reduction`` and ``pool`` numbers and each term
    with its ``tap`` kind; ``indices`` and ``placements`` (max_unpool1d's scatter).

    >>> from convtrace.trace.build import Request, explain_request
    >>> doc = pool_trace_to_json(explain_request(Request(op="max_pool1d", input=[1, 3, 2], kernel_size=2)))
    >>> doc["op"], doc["module"], doc["steps"][0]["pool"]["winner_index"], doc["steps"][0]["terms"][1]["tap"]
    ('max_pool1d', 'MaxPool1d', 1, 'real')
    """
    from ..trace.build import POOL_MODULES

    spec = trace.spec
    integral = trace.exact
    return {
        "schema": "convtrace.trace",
        "schema_version": SCHEMA_VERSION,
        "op": spec.op,
        "module": POOL_MODULES[spec.op],
        "parameters": {
            "channels": spec.channels, "kernel_size": spec.kernel_size, "stride": spec.stride,
            "padding": spec.padding, "dilation": spec.dilation, "ceil_mode": spec.ceil_mode,
            "count_include_pad": spec.count_include_pad,
            "norm_type": None if spec.norm_type is None else _num(spec.norm_type),
            "output_size": spec.output_size, "return_indices": spec.return_indices,
        },
        "module_call": trace.module_call or None,
        "batched": spec.batched,
        "input_shape": list(spec.input_shape),
        "weight_shape": None,
        "output_shape": list(spec.output_shape),
        "dtype": str(spec.dtype),
        "exact": trace.exact,
        "length": _length(trace.length),
        "same_split": None,
        "padded_row": {"complete": True, "cells": _pool_cells(trace)},
        "unreached": [],
        "dropped_tail": 0,
        "input": _data(trace.input, trace, "input"),
        "weight": None,
        "bias": None,
        "output": array_to_json(trace.output, integral=integral),
        "exact_output": array_to_json(trace.exact_output),
        "complete": trace.complete,
        "at": None if trace.at is None else list(trace.at),
        "steps": [_step(s) for s in trace.steps],
        "views": None,
        "check": _check(trace),
        "notes": note_texts(trace, "en"),
        "note_data": [_plain(n) for n in trace.note_data],
        "indices": array_to_json(trace.indices),
        "placements": [
            {"batch": p.batch, "channel": p.channel, "input_index": p.input_index, "index": p.index, "x": _num(p.x),
             "kept": p.kept}
            for p in trace.placements
        ],
    }


def _pool_cells(trace: PoolTrace) -> list[dict[str, Any]]:
    """A sliding pool's padded row: every padded position up to the last one a window reads,
    with its source and tap kind (adaptive pools and max_unpool1d: none)."""
    from ..shapes import TapKind, tap_kind

    spec = trace.spec
    if not spec.sliding or spec.length + 2 * spec.padding > DATA_LIMIT:
        return []
    last = max((s.pool.end for s in trace.steps if s.pool is not None), default=spec.length)
    pad = "neg_inf" if spec.op == "max_pool1d" else "zero"
    cells = []
    for position in range(-spec.padding, max(last, spec.length + spec.padding)):
        kind = tap_kind(position, spec.length, spec.padding)
        source = {TapKind.REAL: "input", TapKind.OVERHANG: "none"}.get(kind, pad)
        cells.append({"position": position + spec.padding, "source": source,
                      "input_index": position if kind is TapKind.REAL else None, "tap": kind.value})
    return cells


def _data(a: np.ndarray, trace: Trace | PoolTrace, name: str) -> Any:
    if trace.exact and name in trace.exact_data:
        return array_to_json(trace.exact_data[name])
    return array_to_json(a, integral=trace.exact)


def _plain(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float, complex)) or type(v).__name__ == "Fraction":
        return to_json_number(v)
    return v
