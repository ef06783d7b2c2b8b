"""Fast NumPy paths for the three primitives (see :mod:`convtrace.engine.reference`).

Each primitive picks an algorithm with a dispatcher: a pure function of the shape numbers
(no timing at run time), documented rule by rule in :func:`forward_algorithm`,
:func:`input_grad_algorithm` and :func:`weight_grad_algorithm`. The algorithms live in
:mod:`.fast_small` (fewest NumPy calls, cached indices, for small problems),
:mod:`.fast_threads` (im2col in small GEMMs on worker threads, for grouped convolutions,
and col2im with worker threads owning blocks of channels), :mod:`.fast_gemm` (per-tap-group
GEMMs, im2col, and the stride-1 input gradient
as a forward convolution with the flipped kernel) and :mod:`.fast_toeplitz` (banded GEMMs
for depthwise convolutions). Large problems are cut into tiles (whole batch items, or
runs of positions) whose scratch stays within a few MiB (``fast_layout.TILE_BYTES``):
no input-sized padded copy and no output-sized column buffer is ever made. Every one sums the same products as the loop reference, in
the working precision, so float64 agrees with it to rounding; there is deliberately no FFT
path (its error scales with the whole signal, and the banded GEMMs are faster on the
depthwise kernels it would serve). The private ``_algo=`` argument forces an algorithm,
for tests and benchmarks.

float16 is computed in float32 and rounded once at the end, as PyTorch's CPU kernels
accumulate in float32. Every result is a new array (never a view of an input).

>>> import numpy as np
>>> conv1d_forward(np.ones((1, 1, 4)), np.ones((1, 1, 3)), 2, 1, 2, 1, 1).tolist()
[[[2.0, 3.0]]]
>>> conv1d_forward(np.ones((1, 1, 4)), np.ones((1, 1, 3)), 2, 1, 2, 1, 1, _algo="taps").tolist()
[[[2.0, 3.0]]]
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import fast_gemm, fast_small, fast_threads, fast_toeplitz
from .fast_layout import compute_dtype

__all__ = [
    "conv1d_forward",
    "conv1d_input_grad",
    "conv1d_weight_grad",
    "forward_algorithm",
    "input_grad_algorithm",
    "weight_grad_algorithm",
    "describe_input_grad",
    "FORWARD_ALGORITHMS",
    "INPUT_GRAD_ALGORITHMS",
    "WEIGHT_GRAD_ALGORITHMS",
]

#: Below this many multiply-adds a call is dominated by per-call overhead: fewest NumPy calls.
SMALL_WORK = 1 << 16
#: Receptive fields (Cg*K) up to this are "narrow": per-tap GEMMs would be thin (little
#: arithmetic per pass over a comparatively large output), so im2col is used.
NARROW_FIELD = 64
#: Depthwise kernels at least this long use banded GEMMs (shorter: elementwise taps).
TOEPLITZ_MIN_TAPS = 5
#: Grouped convolutions whose per-group GEMM is at most this thin (``C_out/G * Cg * K``
#: weights per group) use small-GEMM tiles on worker threads (:mod:`.fast_threads`).
THIN_GROUP = 8192
#: ... when each group has at least this many input and output channels (fewer: the
#: depthwise-like paths, elementwise or banded, serve better).
THIN_GROUP_MIN_CHANNELS = 4


def _thin_groups(groups: int, og: int, cg: int, k_size: int) -> bool:
    """Several groups of at least ``THIN_GROUP_MIN_CHANNELS`` input and output channels,
    each with a small weight matrix (``og * cg * K <= THIN_GROUP``)."""
    return (
        groups > 1
        and min(og, cg) >= THIN_GROUP_MIN_CHANNELS
        and og * cg * k_size <= THIN_GROUP
    )


def _is_small(n: int, c_out: int, out_len: int, field: int) -> bool:
    """Few enough multiply-adds that per-call overhead dominates."""
    return n * c_out * out_len * field <= SMALL_WORK


def forward_algorithm(
    n: int, c_in: int, c_out: int, k_size: int, out_len: int, stride: int, dilation: int, groups: int
) -> str:
    """The forward algorithm for a shape, by the first matching rule.

    1. ``"small"`` for tiny problems (``<= SMALL_WORK`` multiply-adds): fewest NumPy calls.
    2. ``"toeplitz"``: depthwise (one input and one output channel per group), stride 1 and
       ``K >= TOEPLITZ_MIN_TAPS``: banded GEMMs beat K memory-bound elementwise passes.
    3. ``"taps"``: other depthwise shapes (elementwise per-tap products).
    4. ``"im2col_mt"``: grouped with thin per-group GEMMs (``og * Cg * K <= THIN_GROUP``
       and at least ``THIN_GROUP_MIN_CHANNELS`` channels per group in and out, e.g.
       ResNeXt-style, tens of channels per group): im2col tiles of at most
       ``SMALL_GEMM`` multiply-adds per group GEMM (OpenBLAS's small-matrix kernels), run
       side by side on worker threads.
    5. ``"im2col"`` otherwise: one GEMM per group and tile with a ``Cg*K``-deep contraction
       and no accumulation passes over the output; the column buffer is one tile's
       (at most ``TILE_BYTES``), reused from tile to tile.

    >>> forward_algorithm(4, 256, 256, 31, 2048, 1, 1, 256)
    'toeplitz'
    >>> forward_algorithm(32, 300, 100, 3, 254, 1, 1, 1)
    'im2col'
    >>> forward_algorithm(1, 256, 512, 16, 200, 8, 1, 1)  # a ConvTranspose1d upsampler's input grad
    'im2col'
    >>> forward_algorithm(8, 128, 128, 3, 1024, 1, 1, 4)  # ResNeXt-style: 32 channels per group
    'im2col_mt'
    """
    cg, og = c_in // groups, c_out // groups
    if _is_small(n, c_out, out_len, cg * k_size):
        return "small"
    if cg == og == 1:
        return "toeplitz" if stride == 1 and k_size >= TOEPLITZ_MIN_TAPS else "taps"
    if _thin_groups(groups, og, cg, k_size):
        return "im2col_mt"
    return "im2col"


def input_grad_algorithm(
    n: int, c_in: int, c_out: int, k_size: int, length: int, stride: int, dilation: int, groups: int,
    out_len: int | None = None,
) -> str:
    """The input-gradient algorithm for a shape (``length`` is the gradient's length, ``out_len``
    the output gradient's, by default ``ceil(length / stride)``).

    1. ``"small"`` for tiny problems (``<= SMALL_WORK`` multiply-adds over the output
       gradient) whose 0/1 scatter matrix has at most ``SMALL_SCATTER`` entries
       (``K * L_out * length``, with ``L_out`` the forward output length the gradient has).
    2. ``"flip"`` for stride 1: the adjoint is a forward convolution of the output gradient
       with the flipped, per-group transposed kernel, so the rules of
       :func:`forward_algorithm` apply (Toeplitz included).
    3. ``"taps"`` for strided depthwise shapes (elementwise scatter per tap).
    4. ``"col2im"`` otherwise: one GEMM for all taps with the weight used in place (no
       weight-sized copy, which matters for ConvTranspose1d upsamplers), then strided adds;
       worker threads each own blocks of input channels (:mod:`.fast_threads`).

    >>> input_grad_algorithm(1, 256, 512, 16, 1600, 8, 1, 1)
    'col2im'
    >>> input_grad_algorithm(8, 64, 64, 3, 4096, 1, 8, 1)
    'flip'
    >>> input_grad_algorithm(1, 1, 1, 3, 4, 1, 1, 1)
    'small'
    """
    if out_len is None:
        out_len = -(-length // stride)
    if _is_small(n, c_out, out_len, (c_in // max(groups, 1)) * k_size) and (
        k_size * out_len * length <= fast_small.SMALL_SCATTER
    ):
        return "small"
    if stride == 1:
        return "flip"
    if c_in == c_out == groups:
        return "taps"
    return "col2im"


def weight_grad_algorithm(
    n: int, c_in: int, c_out: int, k_size: int, out_len: int, stride: int, dilation: int, groups: int
) -> str:
    """The weight-gradient algorithm for a shape.

    1. ``"small"`` for tiny problems (``<= SMALL_WORK`` multiply-adds): fewest NumPy calls.
    2. ``"toeplitz"``: depthwise, stride 1, ``K >= TOEPLITZ_MIN_TAPS`` (band diagonals).
    3. ``"im2col_mt"``: the grouped shapes the forward runs as ``"im2col_mt"`` (thin
       per-group GEMMs): copied receptive fields times the output gradient read in place,
       with the receptive field (``Cg*K``) as the GEMM's long side, on worker threads
       (per-tap GEMMs would have only ``C_out/G x Cg`` outputs each: measured 1.1-1.4x
       slower).
    4. ``"taps"`` for other stride-1 shapes with wide receptive fields (``Cg*K >
       NARROW_FIELD``): per-tap GEMMs on views of the input, no copy.
    5. ``"im2col"`` otherwise: narrow fields (one pass over the output gradient for all
       taps, not K thin ones) and strided shapes (the taps would need a phase-split copy
       anyway): one GEMM per group and tile (whole items or a run of positions) within
       the scratch budget.

    >>> weight_grad_algorithm(4, 1, 512, 10, 3199, 5, 1, 1)
    'im2col'
    >>> weight_grad_algorithm(32, 300, 100, 3, 254, 1, 1, 1)
    'taps'
    >>> weight_grad_algorithm(8, 128, 128, 3, 1024, 1, 1, 4)  # ResNeXt-style
    'im2col_mt'
    """
    cg = c_in // groups
    if _is_small(n, c_out, out_len, cg * k_size):
        return "small"
    if c_in == c_out == groups and stride == 1 and k_size >= TOEPLITZ_MIN_TAPS:
        return "toeplitz"
    if _thin_groups(groups, c_out // groups, cg, k_size):
        return "im2col_mt"
    return "taps" if stride == 1 and cg * k_size > NARROW_FIELD else "im2col"


def _input_grad_flip(
    gy: np.ndarray, w: np.ndarray, length: int, stride: int, pad_left: int, dilation: int, groups: int,
    cdt: np.dtype,
) -> np.ndarray:
    """Stride-1 input gradient: ``gx[t] = Σ_k gy[t + pad_left - k*d] · w[k]``, a forward
    convolution of ``gy`` with the flipped kernel and left padding ``(K-1)*d - pad_left``.
    """
    assert stride == 1
    pad = (w.shape[2] - 1) * dilation - pad_left
    return _forward(gy, fast_gemm.flip_kernel(w, groups, cdt), 1, pad, length, dilation, groups, cdt)


def describe_input_grad(
    n: int, c_in: int, c_out: int, k_size: int, length: int, stride: int, dilation: int, groups: int,
    out_len: int | None = None,
) -> str:
    """The input-gradient algorithm, with the forward one that ``"flip"`` runs, e.g. ``flip(im2col)``.

    >>> describe_input_grad(4, 256, 256, 31, 2048, 1, 1, 256)
    'flip(toeplitz)'
    """
    algo = input_grad_algorithm(n, c_in, c_out, k_size, length, stride, dilation, groups, out_len)
    if algo != "flip":
        return algo
    return f"flip({forward_algorithm(n, c_out, c_in, k_size, length, 1, dilation, groups)})"


Algorithm = Callable[[np.ndarray, np.ndarray, int, int, int, int, int, np.dtype], np.ndarray]

FORWARD_ALGORITHMS: dict[str, Algorithm] = {
    "small": fast_small.forward_small,
    "taps": fast_gemm.forward_taps,
    "im2col": fast_gemm.forward_im2col,
    "im2col_mt": fast_threads.forward_im2col_mt,
    "toeplitz": fast_toeplitz.forward_toeplitz,
}
INPUT_GRAD_ALGORITHMS: dict[str, Algorithm] = {
    "small": fast_small.input_grad_small,
    "taps": fast_gemm.input_grad_taps,
    "col2im": fast_threads.input_grad_col2im,
    "flip": _input_grad_flip,
}
WEIGHT_GRAD_ALGORITHMS: dict[str, Algorithm] = {
    "small": fast_small.weight_grad_small,
    "taps": fast_gemm.weight_grad_taps,
    "im2col": fast_gemm.weight_grad_im2col,
    "im2col_mt": fast_threads.weight_grad_im2col_mt,
    "toeplitz": fast_toeplitz.weight_grad_toeplitz,
}


def _forward(
    x: np.ndarray, w: np.ndarray, stride: int, pad_left: int, out_len: int, dilation: int, groups: int,
    cdt: np.dtype, algo: str | None = None,
) -> np.ndarray:
    """:func:`conv1d_forward` in the compute dtype, with the dispatcher's (or a forced) algorithm."""
    n, c_in, _ = x.shape
    c_out, _, k_size = w.shape
    if algo is None:
        algo = forward_algorithm(n, c_in, c_out, k_size, out_len, stride, dilation, groups)
    return FORWARD_ALGORITHMS[algo](x, w, stride, pad_left, out_len, dilation, groups, cdt)


def conv1d_forward(
    x: np.ndarray, w: np.ndarray, stride: int, pad_left: int, out_len: int, dilation: int, groups: int,
    _algo: str | None = None,
) -> np.ndarray:
    """Gather: ``y[n,o,i] = Σ_c Σ_k x[n, g*Cg+c, i*stride - pad_left + k*dilation] · w[o,c,k]``."""
    out_dtype = np.result_type(x, w)
    y = _forward(x, w, stride, pad_left, out_len, dilation, groups, compute_dtype(out_dtype), _algo)
    return y.astype(out_dtype, copy=False)


def conv1d_input_grad(
    gy: np.ndarray, w: np.ndarray, length: int, stride: int, pad_left: int, dilation: int, groups: int,
    _algo: str | None = None,
) -> np.ndarray:
    """Scatter (the adjoint of the gather): also ConvTranspose1d's forward."""
    out_dtype = np.result_type(gy, w)
    if _algo is None:
        n, c_out, out_len = gy.shape
        _, cg, k_size = w.shape
        _algo = input_grad_algorithm(n, cg * groups, c_out, k_size, length, stride, dilation, groups, out_len)
    gx = INPUT_GRAD_ALGORITHMS[_algo](
        gy, w, length, stride, pad_left, dilation, groups, compute_dtype(out_dtype)
    )
    return gx.astype(out_dtype, copy=False)


def conv1d_weight_grad(
    x: np.ndarray, gy: np.ndarray, kernel_size: int, stride: int, pad_left: int, dilation: int, groups: int,
    _algo: str | None = None,
) -> np.ndarray:
    """``gw[o,c,k] = Σ_n Σ_i gy[n,o,i] · x[n, g*Cg+c, i*stride - pad_left + k*dilation]``."""
    out_dtype = np.result_type(x, gy)
    if _algo is None:
        n, c_in, _ = x.shape
        _, c_out, out_len = gy.shape
        _algo = weight_grad_algorithm(n, c_in, c_out, kernel_size, out_len, stride, dilation, groups)
    gw = WEIGHT_GRAD_ALGORITHMS[_algo](
        x, gy, kernel_size, stride, pad_left, dilation, groups, compute_dtype(out_dtype)
    )
    return gw.astype(out_dtype, copy=False)
