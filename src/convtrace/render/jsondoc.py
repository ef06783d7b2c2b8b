"""``Trace.to_json()``: the trace as a versioned JSON document (docs/trace-schema.md).

Numbers keep their exactness: integers are JSON integers, non-integral fractions strings
``"p/q"``, floats JSON numbers, complex numbers ``{"re": .., "im": ..}``.

>>> from convtrace.trace.build import explain
>>> doc = trace_to_json(explain([1, 1, 1, 1], [1, 1, 1], padding=1))
>>> doc["schema_version"], doc["output"], doc["steps"][0]["sum"]
('1.1', [[2, 3, 3, 2]], 2)
>>> [(t["source"], t["input_index"], t["kernel_index"]) for t in doc["steps"][0]["terms"]]
[('zero', None, 0), ('input', 0, 1), ('input', 1, 2)]
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np

from ..trace.exact import to_json_number
from ..trace.model import SCHEMA_VERSION
from .notes import note_texts

if TYPE_CHECKING:  # pragma: no cover
    from ..trace.model import Placement, Step, Trace

__all__ = ["trace_to_json", "array_to_json", "schema_path", "load_schema", "DATA_LIMIT"]

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


def _check(trace: Trace) -> Any:
    c = trace.check
    if c is None:
        return None
    return {
        "available": c.available,
        "call": c.call,
        "code": c.extra.get("code"),
        "scope": c.extra.get("scope"),
        "output": array_to_json(c.output, integral=trace.exact),
        "max_abs_diff": None if c.max_abs_diff is None else _num(float(c.max_abs_diff)),
        "agree": c.agree,
        "note": c.note,
    }


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


def trace_to_json(trace: Trace) -> dict[str, Any]:
    """See :meth:`convtrace.trace.model.Trace.to_json`."""
    spec = trace.spec
    integral = trace.exact
    lf = trace.length
    return {
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
        "length": {
            "formula": lf.formula,
            "substituted": lf.substituted,
            "values": dict(lf.values),
            "result": lf.result,
        },
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


def _data(a: np.ndarray, trace: Trace, name: str) -> Any:
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
