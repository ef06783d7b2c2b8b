"""The trace: a neutral data model of one explained 1-D convolution or pool.

Nothing here renders or computes; :mod:`convtrace.trace.build` fills these records from
the engine, and every renderer (text, JSON, HTML, later SVG/GIF and the web explorer)
reads them. Indices are 0-based everywhere; renderers may show them 1-based.

Numbers are :data:`Number`: ``fractions.Fraction`` when the data are exact (integers,
fractions, decimals typed by the user), otherwise ``float`` or ``complex``.

>>> t = Term(in_channel=0, kernel_index=1, input_index=0, padded_index=1,
...          source=Source.INPUT, x=1, w=1, product=1)
>>> t.is_padding
False

Pools (issue 17) use the same window model: a :class:`PoolTrace` holds :class:`Step` records
whose :class:`Term` s carry a :class:`~convtrace.shapes.TapKind` (real, left pad, right pad,
overhang) and whose :class:`Reduction` says how the window is reduced: ``sum`` (conv: Σ x·w),
``max`` (max pools), ``mean`` (avg pools: Σ x / divisor), ``pnorm`` (lp_pool1d) or
``scatter`` (max_unpool1d: the values whose index lands on this output). The numbers of the
reduction (the winner and its index, the divisor and the counts that make it, the p-norm's
power sum and scale, the adaptive window's floor/ceil arithmetic, the collisions) are a
:class:`PoolDetail`. A pool term's ``w`` is 1 and its ``product`` is its contribution to the
reduction (``x``; ``x**p`` for lp_pool1d).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from ..params import ConvSpec, PaddingMode, PoolSpec
from ..shapes import TapKind

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterator

__all__ = [
    "Number",
    "Source",
    "Reduction",
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
    "PoolDetail",
    "UnpoolPlacement",
    "PoolTrace",
    "AnyTrace",
    "TapKind",
    "SCHEMA_VERSION",
    "StreamOrigin",
    "StreamRead",
    "StreamOutput",
    "StreamState",
    "StreamChunk",
]

Number = Union[Fraction, int, float, complex]  # noqa: UP007 (a runtime alias)

#: Version of the JSON document produced by :meth:`Trace.to_json` (see docs/trace-schema.md).
SCHEMA_VERSION = "1.3"


class Source(str, enum.Enum):
    """Where a value on the (padded) input row comes from."""

    INPUT = "input"  # a real input sample
    ZERO = "zero"  # zero padding (padding_mode='zeros', or the transposed op's gaps)
    REFLECT = "reflect"  # mirrored input sample (padding_mode='reflect')
    REPLICATE = "replicate"  # repeated edge sample (padding_mode='replicate')
    CIRCULAR = "circular"  # wrapped-around sample (padding_mode='circular')
    NEG_INF = "neg_inf"  # max pooling's padding: -inf, never the max
    NONE = "none"  # pools: past the padded input (the ceil_mode overhang): not read at all

    def __str__(self) -> str:
        return self.value


class Reduction(str, enum.Enum):
    """How a step reduces the values its window reads."""

    SUM = "sum"  # Conv1d/ConvTranspose1d: Σ x·w (+ bias)
    MAX = "max"  # max_pool1d, adaptive_max_pool1d: the largest value (first index on ties; NaN wins)
    MEAN = "mean"  # avg_pool1d, adaptive_avg_pool1d: Σ x / divisor
    PNORM = "pnorm"  # lp_pool1d: (Σ x**p · kernel_size/divisor) ** (1/p), PyTorch's rule
    SCATTER = "scatter"  # max_unpool1d: the input values whose index is this output position

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
    tap: TapKind | None = None  # pools: where the tap falls (None for convolutions)

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
    reduction: Reduction = Reduction.SUM
    pool: PoolDetail | None = None  # the numbers of a pool's reduction (None for convolutions)

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


@dataclass(frozen=True)
class PoolDetail:
    """The numbers of one pooling step's reduction (a :class:`Step` with ``reduction`` other
    than ``sum``). Positions are input coordinates (negative: left padding); ``padded_start``
    is the window's first position on the padded row (``out_index*stride`` for sliding pools).

    Counts: ``real``, ``left_pad``, ``right_pad``, ``overhang`` taps of the window.

    * max: ``winner`` (the term that won), ``winner_index`` (PyTorch's index: the input
      position), ``ties`` (the other terms equal to the max: the first index wins), ``nan``
      (a NaN was read: NaN wins, PyTorch's loop keeps the last NaN).
    * mean / pnorm: ``divisor`` and ``count_include_pad`` (avg: padding counts when True; the
      ceil_mode overhang never counts); ``truncated``: integer input, whose mean PyTorch
      truncates toward zero. pnorm: ``norm_type``, ``scale`` (kernel_size/divisor:
      1 for a full window, larger for the ceil_mode partial window: PyTorch's rule), ``scaled``
      (Σ x**p · scale, the number raised to 1/p).
    * adaptive pools: ``start = floor(i*L/O)``, ``end = ceil((i+1)*L/O)`` with ``length`` L and
      ``output_size`` O.
    * scatter (max_unpool1d): ``sources`` (the input positions whose index is this output;
      more than one: a collision, ``winner`` the one written last, whose value stays).
    """

    padded_start: int
    start: int  # first input position of the window (input coordinates)
    end: int  # one past the last position read
    real: int
    left_pad: int
    right_pad: int
    overhang: int
    winner: int | None = None
    winner_index: int | None = None
    ties: tuple[int, ...] = ()
    nan: bool = False
    divisor: int | None = None
    truncated: bool = False  # integer input: PyTorch's division truncates toward zero
    count_include_pad: bool | None = None
    norm_type: float | None = None
    scale: Number | None = None
    scaled: Number | None = None
    length: int | None = None
    output_size: int | None = None
    sources: tuple[int, ...] = ()

    @property
    def collision(self) -> bool:
        """max_unpool1d: more than one input value lands here."""
        return len(self.sources) > 1


@dataclass(frozen=True)
class UnpoolPlacement:
    """max_unpool1d: input value ``x[batch, channel, input_index]`` lands on output position
    ``index`` (its entry of ``indices``); ``kept`` is False when a later value overwrites it."""

    batch: int
    channel: int
    input_index: int
    index: int
    x: Number
    kept: bool


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


# ----------------------------------------------------------------- one streamed push (issue 19, item 4)


class StreamOrigin(str, enum.Enum):
    """Where a value an output of one push reads comes from."""

    CACHE = "cache"  # Conv1d: in the window's cache (kept from earlier pushes)
    PAD_CACHE = "pad_cache"  # Conv1d: made now by the padding from samples it kept (reflect/replicate warm-up)
    NEW = "new"  # arrived with this push (a new sample, or padding made now)
    CARRIED = "carried"  # ConvTranspose1d: already in the carried partial sum (an earlier push's input)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class StreamRead:
    """One value an output of the push reads. Conv1d: ``position`` is the padded row's index
    (``t*stride + kernel_index*dilation``), ``input_index`` the sample it copies (None: a
    constant pad). ConvTranspose1d: input sample ``input_index`` adds ``x*w[kernel_index]`` at
    full (uncropped) position ``position = i*stride + kernel_index*dilation``."""

    kernel_index: int
    position: int
    input_index: int | None
    source: Source
    origin: StreamOrigin


@dataclass(frozen=True)
class StreamOutput:
    """An output the push emits (batch item 0, output channel 0): ``value`` is the
    streamer's. ConvTranspose1d: ``carried`` is the partial sum the tail held for it before
    the push (no bias), ``bias`` added once, as it leaves."""

    out_index: int
    value: Number
    reads: tuple[StreamRead, ...]
    carried: Number | None = None
    bias: Number | None = None


@dataclass(frozen=True)
class StreamState:
    """One state array of the streamer, as it holds it: ``name`` (its key in
    ``Streamer.state``), ``role`` (``pad``: input samples the padding keeps; ``window``: the
    padded row's samples the next windows read; ``tail``: ConvTranspose1d's carried partial
    sums, no bias), ``positions`` (the coordinates of the held samples: input index, padded
    index, full output position), ``values`` (batch item 0, channel 0), ``array`` (the whole
    array: (N, C, size), right-aligned for pad/window, left-aligned for the tail),
    ``samples_in`` and ``done`` (the stage's counters)."""

    name: str
    role: str
    positions: tuple[int, ...]
    values: tuple[Number, ...]
    array: np.ndarray
    samples_in: int
    done: int


@dataclass(frozen=True)
class StreamChunk:
    """One push of the layer streamed (``explain(..., stream_chunk=, stream_push=)``): the
    input cut in chunks of ``chunk`` samples (``pushes`` pushes, then the flush), push number
    ``push`` (1-based) explained with the state before and after it and the outputs it emits.

    ``before``: input samples of the earlier pushes; ``arrived``: samples of this push;
    ``emitted_before``: outputs the earlier pushes emitted; ``output``: this push's outputs
    as the streamer returned them (N, C, T); ``flush_outputs``: outputs only the flush gives;
    ``hop``, ``lookahead``, ``min_chunk``, ``first_output``, ``cache``, ``cache_out``: the
    streaming figures of the layer (:func:`convtrace.stream.layer_timing`). ``notes``: codes
    with numbers (``stream_warmup``, ``stream_pad_wait``, ``stream_pad_keep``,
    ``stream_waiting``, ``stream_flush``, ``stream_bias_tail``, ``stream_item0``)."""

    kind: str  # "conv" | "convT"
    chunk: int
    chunk_given: int | str  # as asked: an int, or "hop"
    push: int
    pushes: int
    before: int
    arrived: int
    emitted_before: int
    outputs: tuple[StreamOutput, ...]
    output: np.ndarray
    state_before: tuple[StreamState, ...]
    state_after: tuple[StreamState, ...]
    flush_outputs: int
    hop: Fraction
    lookahead: Fraction
    min_chunk: int
    first_output: int | None
    cache: int
    cache_out: int
    notes: tuple[Note, ...] = ()
    flush: np.ndarray | None = None  # what the streamer's flush() returned (N, C, T)

    @property
    def emitted(self) -> int:
        """Outputs this push emits."""
        return int(self.output.shape[-1])

    def state(self, role: str, after: bool = False) -> StreamState | None:
        """The state array of ``role`` (pad, window, tail) before (or ``after``) the push."""
        for entry in self.state_after if after else self.state_before:
            if entry.role == role:
                return entry
        return None


# ----------------------------------------------------------------- the trace


class _StepQueries:
    """The queries every trace answers from its ``steps`` and ``notes``."""

    steps: tuple[Step, ...]
    notes: tuple[Note, ...]

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

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


@dataclass(frozen=True)
class Trace(_StepQueries):
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
    stream: StreamChunk | None = None  # one streamed push, explained (stream_chunk=)

    def __repr__(self) -> str:
        op = "ConvTranspose1d" if self.spec.transposed else "Conv1d"
        return (
            f"<Trace {op} input={list(self.spec.input_shape)} output={list(self.spec.output_shape)} "
            f"steps={len(self.steps)} complete={self.complete} exact={self.exact}>"
        )

    # -- queries ----------------------------------------------------------------------

    @property
    def transposed(self) -> bool:
        return self.spec.transposed


# ----------------------------------------------------------------- the pools


@dataclass(frozen=True)
class PoolTrace(_StepQueries):
    """One explained pool (``spec.op`` in :data:`convtrace.params.POOL_OPS`): the same window
    model as :class:`Trace`, with steps whose ``reduction`` is max, mean, pnorm or scatter and
    whose terms carry a :class:`~convtrace.shapes.TapKind`.

    ``length`` is the output-length formula with its numbers (the ceil_mode "must start
    inside" rule, where it drops a window, is a ``ceil_dropped_window`` note); ``indices`` is max pooling's (PyTorch's) index of every output, or max_unpool1d's input
    ``indices``; ``placements`` is max_unpool1d's scatter (where each value lands).
    """

    spec: PoolSpec
    input: np.ndarray  # as given (unbatched stays 2-D)
    exact: bool
    length: LengthFormula
    steps: tuple[Step, ...]
    complete: bool
    output: np.ndarray | None  # the engine's output
    indices: np.ndarray | None = None  # max pools: PyTorch's indices; max_unpool1d: the indices given
    placements: tuple[UnpoolPlacement, ...] = ()
    at: tuple[int, int, int] | None = None
    check: TorchCheck | None = None
    notes: tuple[Note, ...] = ()
    exact_output: np.ndarray | None = None
    exact_data: dict[str, np.ndarray] = field(default_factory=dict)  # "input" as Fractions
    call: str = ""
    module_call: str = ""
    input_source: str = ""

    def __repr__(self) -> str:
        return (
            f"<PoolTrace {self.spec.op} input={list(self.spec.input_shape)} output={list(self.spec.output_shape)} "
            f"steps={len(self.steps)} complete={self.complete} exact={self.exact}>"
        )

    @property
    def op(self) -> str:
        return self.spec.op

    @property
    def transposed(self) -> bool:
        return False


#: a trace of either kind
AnyTrace = Union[Trace, PoolTrace]  # noqa: UP007 (a runtime alias)
