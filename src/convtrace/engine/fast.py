"""Fast NumPy paths for the three primitives (see :mod:`convtrace.engine.reference`).

Each primitive picks an algorithm with a dispatcher: a pure function of the shape numbers
(no timing at run time), documented rule by rule in :func:`forward_algorithm`,
:func:`input_grad_algorithm` and :func:`weight_grad_algorithm`. The algorithms live in
:mod:`.fast_gemm` (per-tap GEMMs, im2col, the phase decomposition of the strided input
gradient) and :mod:`.fast_toeplitz` (banded GEMMs for depthwise convolutions). The private
``_algo=`` argument forces one, for tests and benchmarks.

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

from . import fast_gemm, fast_toeplitz
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
#: im2col when one output's receptive field (Cg*K) is at most this: the per-tap loop would
#: sweep the (large) output K times for little arithmetic each (e.g. a first audio layer).
NARROW_FIELD = 64
#: Depthwise kernels at least this long use banded GEMMs (shorter: elementwise taps).
TOEPLITZ_MIN_TAPS = 5


def _is_small(n: int, c_out: int, out_len: int, field: int) -> bool:
    """Few enough multiply-adds that per-call overhead dominates."""
    return n * c_out * out_len * field <= SMALL_WORK


def _phases_grouped(k_size: int, stride: int, dilation: int) -> bool:
    """Whether every tap lies in a full phase group (always so for stride 1)."""
    return all(len(taps) == stride for _, _, taps in fast_gemm.tap_groups(k_size, stride, dilation))


def forward_algorithm(
    n: int, c_in: int, c_out: int, k_size: int, out_len: int, stride: int, dilation: int, groups: int
) -> str:
    """The forward algorithm for a shape, by the first matching rule.

    1. ``"im2col"`` for tiny problems (``<= SMALL_WORK`` multiply-adds): fewest NumPy calls.
    2. ``"toeplitz"``: depthwise (one input and one output channel per group), stride 1 and
       ``K >= TOEPLITZ_MIN_TAPS``: banded GEMMs beat K memory-bound elementwise passes.
    3. ``"taps"``: other depthwise shapes (elementwise per-tap products).
    4. ``"im2col"``: narrow receptive fields (``Cg*K <= NARROW_FIELD``), where K passes over
       a comparatively large output would dominate: one GEMM with a Cg*K-deep contraction.
    5. ``"taps"`` when every tap lies in a full phase group (always for stride 1; e.g. K a
       multiple of the stride): one GEMM per group on views, no column copy.
    6. ``"im2col"`` otherwise (strided, partial phase groups).

    >>> forward_algorithm(4, 256, 256, 31, 2048, 1, 1, 256)
    'toeplitz'
    >>> forward_algorithm(32, 300, 100, 3, 254, 1, 1, 1)
    'taps'
    >>> forward_algorithm(4, 512, 512, 3, 1599, 2, 1, 1)
    'im2col'
    """
    cg, og = c_in // groups, c_out // groups
    if _is_small(n, c_out, out_len, cg * k_size):
        return "im2col"
    if cg == og == 1:
        return "toeplitz" if stride == 1 and k_size >= TOEPLITZ_MIN_TAPS else "taps"
    if cg * k_size <= NARROW_FIELD:
        return "im2col"
    return "taps" if _phases_grouped(k_size, stride, dilation) else "im2col"


def input_grad_algorithm(
    n: int, c_in: int, c_out: int, k_size: int, length: int, stride: int, dilation: int, groups: int
) -> str:
    """The input-gradient algorithm for a shape (``length`` is the gradient's length).

    1. ``"phases"`` for stride 1: the adjoint is a forward convolution with the flipped
       kernel, so the rules of :func:`forward_algorithm` apply (Toeplitz included).
    2. ``"taps"`` for strided depthwise shapes (elementwise scatter per tap).
    3. ``"col2im"`` otherwise: one GEMM for all taps with the weight used in place, then
       strided scatter-adds.

    >>> input_grad_algorithm(1, 256, 512, 16, 1600, 8, 1, 1)
    'col2im'
    >>> input_grad_algorithm(8, 64, 64, 3, 4096, 1, 8, 1)
    'phases'
    """
    if stride == 1:
        return "phases"
    if c_in == c_out == groups:
        return "taps"
    return "col2im"


def weight_grad_algorithm(
    n: int, c_in: int, c_out: int, k_size: int, out_len: int, stride: int, dilation: int, groups: int
) -> str:
    """The weight-gradient algorithm for a shape.

    1. ``"toeplitz"``: depthwise, stride 1, ``K >= TOEPLITZ_MIN_TAPS`` (band diagonals).
    2. ``"taps"`` for other stride-1 shapes with wide receptive fields (``Cg*K >
       NARROW_FIELD``): per-tap GEMMs on views of the input, no copy.
    3. ``"im2col"`` otherwise: narrow fields (one pass over the output gradient for all
       taps, not K thin ones) and strided shapes (the taps would need a phase-split copy
       anyway): one GEMM per batch item, or per run of positions within the scratch budget.

    >>> weight_grad_algorithm(4, 1, 512, 10, 3199, 5, 1, 1)
    'im2col'
    >>> weight_grad_algorithm(32, 300, 100, 3, 254, 1, 1, 1)
    'taps'
    """
    cg = c_in // groups
    if c_in == c_out == groups and stride == 1 and k_size >= TOEPLITZ_MIN_TAPS:
        return "toeplitz"
    return "taps" if stride == 1 and cg * k_size > NARROW_FIELD else "im2col"


def _phase_geometry(
    k_size: int, length: int, stride: int, pad_left: int, dilation: int
) -> tuple[int, int, int, int]:
    """The "phases" input gradient's forward problem: (K', pad_left', out_len', dilation').

    Stride 1: the flipped kernel (:func:`~.fast_gemm.flip_kernel`), same dilation. Otherwise
    the phase kernel's ``m`` taps (:func:`~.fast_gemm.phase_kernel`) over the needed phase
    indices ``j0 = pad_left // stride ..``, dilation 1.
    """
    if stride == 1:
        return k_size, (k_size - 1) * dilation - pad_left, length, dilation
    m = (k_size - 1) * dilation // stride + 1
    j0 = pad_left // stride
    return m, m - 1 - j0, (length - 1 + pad_left) // stride - j0 + 1, 1


def _input_grad_phases(
    gy: np.ndarray, w: np.ndarray, length: int, stride: int, pad_left: int, dilation: int, groups: int,
    cdt: np.dtype,
) -> np.ndarray:
    """The input gradient as a stride-1 forward convolution of ``gy`` (see :mod:`.fast_gemm`)."""
    _, pl, lz, d = _phase_geometry(w.shape[2], length, stride, pad_left, dilation)
    if stride == 1:
        return _forward(gy, fast_gemm.flip_kernel(w, groups, cdt), 1, pl, lz, d, groups, cdt)
    z = _forward(gy, fast_gemm.phase_kernel(w, stride, dilation, groups, cdt), 1, pl, lz, d, groups, cdt)
    return fast_gemm.interleave_phases(z, length, stride, pad_left, groups)


def describe_input_grad(
    n: int, c_in: int, c_out: int, k_size: int, length: int, out_len: int, stride: int, pad_left: int,
    dilation: int, groups: int,
) -> str:
    """The input-gradient algorithm, with the forward one that ``"phases"`` runs, e.g. ``phases(taps)``.

    >>> describe_input_grad(4, 256, 256, 31, 2048, 2048, 1, 15, 1, 256)
    'phases(toeplitz)'
    """
    algo = input_grad_algorithm(n, c_in, c_out, k_size, length, stride, dilation, groups)
    if algo != "phases":
        return algo
    kp, _, lz, d = _phase_geometry(k_size, length, stride, pad_left, dilation)
    channels = c_in if stride == 1 else stride * c_in
    return f"phases({forward_algorithm(n, c_out, channels, kp, lz, 1, d, groups)})"


Algorithm = Callable[[np.ndarray, np.ndarray, int, int, int, int, int, np.dtype], np.ndarray]

FORWARD_ALGORITHMS: dict[str, Algorithm] = {
    "taps": fast_gemm.forward_taps,
    "im2col": fast_gemm.forward_im2col,
    "toeplitz": fast_toeplitz.forward_toeplitz,
}
INPUT_GRAD_ALGORITHMS: dict[str, Algorithm] = {
    "taps": fast_gemm.input_grad_taps,
    "col2im": fast_gemm.input_grad_col2im,
    "phases": _input_grad_phases,
}
WEIGHT_GRAD_ALGORITHMS: dict[str, Algorithm] = {
    "taps": fast_gemm.weight_grad_taps,
    "im2col": fast_gemm.weight_grad_im2col,
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
        _algo = input_grad_algorithm(n, cg * groups, c_out, k_size, length, stride, dilation, groups)
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
