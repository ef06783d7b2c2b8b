"""What ``convtrace.streamify`` makes of a model, as frozen data (``convtrace stream
pkg.mod:factory --input-shape ...``): whether it streams, its receptive field, hop,
lookahead and latency, and its state — each tensor ``sm.initial_state(batch)`` returns (the
inputs of an exported ``sm.step``: the initial cache shapes), with bytes — or the refusal:
the module, the op, the reason and the fix.

>>> import torch
>>> s = summarize_model(torch.nn.Conv1d(1, 2, 3), (1, 1, 100))
>>> s.streams, [(e.name, e.shape) for e in s.state], s.state_bytes
(True, [('forward.conv1d0.buffer', (1, 1, 2)), ('steps', ())], 16)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Any

from ..errors import ConvtraceError
from ..stream.stages import StateEntry
from .stream_verify import check_input_shape

__all__ = ["StreamifySummary", "Refused", "summarize_model"]


@dataclass(frozen=True)
class Refused:
    """Why streamify refused: ``module`` (dotted name), ``op``, ``reason``, ``fix`` (None
    where there is none) and the error's whole ``message``."""

    module: str
    op: str
    reason: str
    fix: str | None
    message: str


@dataclass(frozen=True)
class StreamifySummary:
    """``streams``; the figures in input samples (``hop`` a fraction for an upsampling
    model); ``state``: one entry per state tensor for ``batch``; ``state_bytes`` their sum;
    ``refused`` when it does not stream (the figures are then None)."""

    input_shape: tuple[int, ...]
    time_dim: int
    dtype: str
    batch: int
    streams: bool
    receptive_field: Fraction | None
    hop: Fraction | None
    lookahead: Fraction | None
    latency: Fraction | None
    state: tuple[StateEntry, ...]
    state_bytes: int
    refused: Refused | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (fractions as strings)."""
        doc = asdict(self)
        for key in ("receptive_field", "hop", "lookahead", "latency"):
            value = doc[key]
            doc[key] = None if value is None else int(value) if value == int(value) else str(value)
        return doc


def _fraction(value: Any) -> Fraction | None:
    return None if value is None else Fraction(value)


def refusal_of(err: ConvtraceError) -> Refused:
    """The refusal's parts from streamify's error (``module=<name>: <op> cannot stream:
    <reason>``, the fix as its hint); another error names its parameter and rule.

    >>> from convtrace.inspect.streamify_run import refuse
    >>> refusal_of(refuse("enc.lstm", "LSTM", "recurrence over time", "stream it outside")).op
    'LSTM'
    """
    op, sep, reason = err.rule.partition(" cannot stream: ")
    if err.param == "module" and sep:
        return Refused(str(err.value), op, reason, err.hint, str(err))
    return Refused("(the model)", str(err.param), err.rule, err.hint, str(err))


def summarize_model(model: Any, input_shape: Any, *, time_dim: int = -1, dtype: str = "float32",
                    batch: int = 1) -> StreamifySummary:  # fmt: skip
    """streamify ``model`` for ``input_shape`` (a copy in ``dtype``) and summarize it."""
    import copy

    import torch

    from .stream_verify import _dtype_name, _streamify

    shape = check_input_shape(input_shape, time_dim)
    name = _dtype_name(dtype)
    copied = copy.deepcopy(model).to(getattr(torch, name)).eval()
    try:
        sm = _streamify(copied, shape, time_dim)
    except ConvtraceError as err:
        return StreamifySummary(shape, time_dim, name, batch, False, None, None, None, None, (), 0, refusal_of(err))
    state = tuple(sm.state_spec(batch))
    return StreamifySummary(shape, time_dim, name, batch, True, _fraction(sm.receptive_field), _fraction(sm.hop),
                            _fraction(sm.lookahead), _fraction(sm.latency), state, sum(e.bytes for e in state), None)  # fmt: skip
