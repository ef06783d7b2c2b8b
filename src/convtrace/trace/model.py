"""The trace: a neutral data model of one explained 1-D convolution.

Nothing here renders or computes; :mod:`convtrace.trace.build` fills these records from
the engine, and every renderer (text, JSON, HTML, later SVG/GIF and the web explorer)
reads them. Indices are 0-based everywhere; renderers may show them 1-based.

Numbers are :data:`Number`: ``fractions.Fraction`` when the data are exact (integers,
fractions, decimals typed by the user), otherwise ``float`` or ``complex``.

>>> t = Term(in_channel=0, kernel_index=1, input_index=0, padded_index=1,
...          source=Source.INPUT, x=1, w=1, product=1)
>>> t.is_padding
False
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from ..params import ConvSpec, PaddingMode

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterator

__all__ = [
    "Number",
    "Source",
    "PadCell",
    "Term",
    "Step",
    "LengthFormula",
    "ScatterTap",
    "Placement",
    "ScatterView",
    "ZeroInsertionView",
    "MatrixView",
    "GradientView",
    "TransposedViews",
    "TorchCheck",
    "Note",
    "Trace",
    "SCHEMA_VERSION",
]

Number = Union[Fraction, int, float, complex]  # noqa: UP007 (a runtime alias)

#: Version of the JSON document produced by :meth:`Trace.to_json` (see docs/trace-schema.md).
SCHEMA_VERSION = "1.1"


class Source(str, enum.Enum):
    """Where a value on the (padded) input row comes from."""

    INPUT = "input"  # a real input sample
    ZERO = "zero"  # zero padding (padding_mode='zeros', or the transposed op's gaps)
    REFLECT = "reflect"  # mirrored input sample (padding_mode='reflect')
    REPLICATE = "replicate"  # repeated edge sample (padding_mode='replicate')
    CIRCULAR = "circular"  # wrapped-around sample (padding_mode='circular')

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class PadCell:
    """One position of the padded input row: its source and, unless ZERO, the input index."""

    position: int  # index in the padded row
    source: Source
    input_index: int | None  # index into the unpadded input (None for ZERO)


@dataclass(frozen=True)
class Term:
    """One product of a step: an input value times a kernel weight.

    Conv1d: ``x`` is the padded row's value at ``padded_index``; ``input_index`` is the real
    sample it copies (None for zero padding). ConvTranspose1d (gather form): ``input_index``
    is the input sample ``i`` with ``j = i*stride - padding + k*dilation``; ``padded_index``
    is None.
    """

    in_channel: int  # absolute input channel
    kernel_index: int  # k
    input_index: int | None
    padded_index: int | None
    source: Source
    x: Number
    w: Number
    product: Number

    @property
    def is_padding(self) -> bool:
        return self.source is not Source.INPUT


@dataclass(frozen=True)
class Step:
    """How one output element ``y[batch, out_channel, out_index]`` is computed."""

    batch: int
    out_channel: int
    out_index: int
    group: int
    in_channels: tuple[int, ...]  # the input channels that feed this output channel (its group)
    window_start: int  # conv: first padded position read (out_index*stride); transposed: see Term
    terms: tuple[Term, ...]
    total: Number  # sum of the products
    bias: Number | None
    value: Number  # total + bias
    engine_value: Number | None = None  # the engine's output for this element (float)

    def terms_by_channel(self) -> dict[int, tuple[Term, ...]]:
        """The products grouped by input channel, in channel order."""
        out: dict[int, list[Term]] = {}
        for t in self.terms:
            out.setdefault(t.in_channel, []).append(t)
        return {c: tuple(ts) for c, ts in out.items()}


@dataclass(frozen=True)
class LengthFormula:
    """The output-length formula, symbolic and with the numbers filled in."""

    formula: str  # e.g. "floor((L + pl + pr - dilation*(k-1) - 1) / stride) + 1"
    substituted: str  # e.g. "floor((4 + 1 + 1 - 1*(3-1) - 1) / 2) + 1"
    values: dict[str, int]
    result: int


# ----------------------------------------------------------------- ConvTranspose1d views


@dataclass(frozen=True)
class ScatterTap:
    """One kernel tap of a placement: where ``x * w`` lands in the output."""

    out_channel: int
    kernel_index: int
    out_index: int  # i*stride - padding + k*dilation (may be outside the output: cropped)
    w: Number
    product: Number
    cropped: bool


@dataclass(frozen=True)
class Placement:
    """View 1 (scatter-add): one input sample times the kernel, added into the output."""

    batch: int
    in_channel: int
    input_index: int
    x: Number
    offset: int  # i*stride - padding: where tap 0 lands
    taps: tuple[ScatterTap, ...]


@dataclass(frozen=True)
class ScatterView:
    placements: tuple[Placement, ...]
    crop_left: int  # = padding: output positions cut from the left of the full scatter
    crop_right: int  # = padding - output_padding (negative: output_padding extends the right)
    output_padding: int
    full_length: int  # length before cropping: (L-1)*stride + dilation*(k-1) + 1
    overlap: tuple[int, ...]  # taps landing on each output position (per channel pair)
    uneven: bool  # overlap differs across the interior: checkerboard artefacts
    output: np.ndarray
    equal: bool  # equals the engine's output


@dataclass(frozen=True)
class ZeroInsertionView:
    """View 2: the equivalent stride-1 Conv1d on the zero-inserted input."""

    inserted: int  # zeros between samples: stride - 1
    pad_each_side: int  # dilation*(k-1) - padding (negative: a crop)
    extra_right: int  # output_padding
    upsampled: np.ndarray  # the zero-inserted, padded input the Conv1d sees (N, C, L')
    weight: np.ndarray  # flipped kernel, in/out swapped per group: (Cout, Cin/groups, K)
    torch_call: str  # a runnable torch.nn.Conv1d configuration
    output: np.ndarray
    equal: bool


@dataclass(frozen=True)
class MatrixView:
    """View 3: C is the matrix of the matching Conv1d (one batch element, channels flattened
    channel-major); the transposed output is C^T x."""

    matrix: np.ndarray | None  # None when too large to build (see ``reason``)
    rows: int
    cols: int
    output: np.ndarray | None
    equal: bool | None
    reason: str = ""


@dataclass(frozen=True)
class GradientView:
    """View 4: ConvTranspose1d is the gradient of Conv1d with respect to its input."""

    call: str  # the convtrace.grad.conv1d_input call used
    output: np.ndarray
    equal: bool


@dataclass(frozen=True)
class TransposedViews:
    scatter: ScatterView
    zero_insertion: ZeroInsertionView
    matrix: MatrixView
    gradient: GradientView


# ----------------------------------------------------------------- the PyTorch check


@dataclass(frozen=True)
class TorchCheck:
    """PyTorch's verdict on the same configuration and data."""

    available: bool
    call: str  # the exact PyTorch code run (or that would be run)
    output: np.ndarray | None = None
    max_abs_diff: float | None = None
    agree: bool | None = None
    note: str = ""  # e.g. how to enable the check when torch is missing
    extra: dict[str, Any] = field(default_factory=dict)  # "code": runnable snippet; "scope": full|element


# ----------------------------------------------------------------- notes


@dataclass(frozen=True)
class Note:
    """A remark on the explained convolution: a code with its numbers (no prose; the
    renderers word it, in English or Chinese). Codes: ``summary``, ``output_not_computed``,
    ``same_split``, ``dropped_tail``, ``unreached``, ``views_skipped``, ``uneven_overlap``,
    ``placements_skipped`` (see docs/trace-schema.md)."""

    code: str
    values: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """``{"code": ..., **values}``, as the JSON document's ``note_data`` holds it."""
        return {"code": self.code, **self.values}


# ----------------------------------------------------------------- the trace


@dataclass(frozen=True)
class Trace:
    """One explained convolution: parameters, data, every step, views and the check.

    Iterating yields the :class:`Step` records. ``steps`` may hold only the selected
    elements (``at``) when the output is large: ``complete`` says whether every output
    element has a step. Frozen: a new check or views make a new trace
    (:func:`dataclasses.replace`).
    """

    spec: ConvSpec
    padding_mode: PaddingMode
    input: np.ndarray  # as given (unbatched stays 2-D); may be a memory map
    weight: np.ndarray
    bias: np.ndarray | None
    exact: bool  # numbers are Fractions
    length: LengthFormula
    pad_cells: tuple[PadCell, ...]  # the padded row's sources (conv); () for transposed
    same_split: tuple[int, int] | None  # (left, right) for padding='same'
    unreached: tuple[int, ...]  # input samples no window reads
    dropped_tail: int
    steps: tuple[Step, ...]
    complete: bool
    output: np.ndarray | None  # the engine's output (None when only ``at`` was computed)
    at: tuple[int, int, int] | None = None
    views: TransposedViews | None = None
    check: TorchCheck | None = None
    output_size: int | None = None  # ConvTranspose1d's requested output_size, if any
    notes: tuple[Note, ...] = ()
    pad_row_complete: bool = True  # pad_cells covers the whole padded row (else: the cells read)
    exact_output: np.ndarray | None = None  # exact outputs (object array of Fractions) if exact
    exact_data: dict[str, np.ndarray] = field(default_factory=dict)  # "input"/"weight"/"bias" as Fractions
    call: str = ""  # the user's call, as text
    module_call: str = ""  # the equivalent torch.nn constructor
    input_source: str = ""  # e.g. "memory-mapped"

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def __repr__(self) -> str:
        op = "ConvTranspose1d" if self.spec.transposed else "Conv1d"
        return (
            f"<Trace {op} input={list(self.spec.input_shape)} output={list(self.spec.output_shape)} "
            f"steps={len(self.steps)} complete={self.complete} exact={self.exact}>"
        )

    def __len__(self) -> int:
        return len(self.steps)

    # -- queries ----------------------------------------------------------------------

    @property
    def transposed(self) -> bool:
        return self.spec.transposed

    @property
    def note_data(self) -> tuple[dict[str, Any], ...]:
        """The notes as ``{"code": ..., **numbers}`` dicts."""
        return tuple(n.as_dict() for n in self.notes)

    def step_at(self, n: int, c: int, t: int) -> Step:
        """The step of output element ``y[n, c, t]`` (n = 0 for unbatched input).

        Raises ``KeyError`` when that element has no step (summaries hold a few).

        >>> from convtrace import explain
        >>> explain([1, 2, 3], [1, 1], verify=False).step_at(0, 0, 1).value
        Fraction(5, 1)
        """
        for s in self.steps:
            if (s.batch, s.out_channel, s.out_index) == (n, c, t):
                return s
        raise KeyError((n, c, t))
