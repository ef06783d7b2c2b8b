"""ConvTranspose1d in four equivalent views, each computed on its own and compared with the
engine's output.

1. **scatter-add**: each input sample times the kernel, added into the output from offset
   ``i*stride - padding``; taps outside ``[0, out_length)`` are cropped (``padding`` on the
   left, ``padding - output_padding`` on the right).
2. **zero insertion**: ``stride - 1`` zeros between samples, ``dilation*(k-1) - padding``
   zeros on each side (a crop where negative), ``output_padding`` more on the right, then a
   stride-1 Conv1d with the flipped kernel, in/out channels swapped per group.
3. **matrix**: ``C`` is the matrix of the matching Conv1d (same weight, stride, padding,
   dilation, groups, on an input of the transposed output's length); output = ``C^T x``.
4. **gradient**: ConvTranspose1d(x) is the gradient of that Conv1d with respect to its input,
   for an output gradient ``x`` (``convtrace.grad.conv1d_input``).

>>> from convtrace.trace.build import explain
>>> v = explain([1, 2, 3], [1, 1, 1], stride=2, transposed=True).views
>>> v.scatter.output.tolist() == v.zero_insertion.output.tolist() == v.gradient.output.tolist()
True
>>> v.zero_insertion.upsampled.tolist()
[[[0.0, 0.0, 1.0, 0.0, 2.0, 0.0, 3.0, 0.0, 0.0]]]
>>> (v.matrix.rows, v.matrix.cols), v.scatter.overlap, v.scatter.uneven
((3, 7), (1, 1, 2, 1, 2, 1, 1), True)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .. import functional as F
from .. import grad, shapes
from ..engine.padding import apply_pad
from ..oracle import close
from ..shapes import overlap_counts
from .exact import to_float
from .model import (
    GradientView,
    MatrixView,
    Note,
    Placement,
    ScatterTap,
    ScatterView,
    TransposedViews,
    ZeroInsertionView,
)

if TYPE_CHECKING:  # pragma: no cover
    from .model import Trace

__all__ = [
    "build_views",
    "scatter_view",
    "zero_insertion_view",
    "matrix_view",
    "gradient_view",
    "flipped_weight",
    "overlap_counts",
    "MATRIX_LIMIT",
    "PLACEMENT_LIMIT",
]

#: the matrix view is skipped beyond this many entries
MATRIX_LIMIT = 250_000
#: scatter placements (each with its taps) are listed up to this many taps in total
PLACEMENT_LIMIT = 4096


def scatter_view(trace: Trace) -> ScatterView:
    """View 1: scatter-add of ``x[i] * w`` from offset ``i*stride - padding``, edges cropped."""
    spec = trace.spec
    x3 = trace.input if trace.input.ndim == 3 else trace.input[None]
    w = trace.weight
    s, p, d, K = spec.stride, spec.padding_int, spec.dilation, spec.kernel_size
    og, cg = spec.out_per_group, spec.in_per_group
    out_len = spec.out_length
    full_length = shapes.conv_transpose1d_length_of(spec.length, K, s, 0, 0, d)
    cdt = np.result_type(x3, w)
    work = np.complex128 if cdt.kind == "c" else np.float64
    # the full (uncropped) scatter, then the crop: y = full[p : p + out_len] (zeros beyond)
    span = max(full_length, p + out_len)
    full = np.zeros((spec.batch, spec.out_channels, span), dtype=work)
    for ci in range(spec.in_channels):
        grp = ci // cg
        for co in range(og):
            for k in range(K):
                lo = k * d
                full[:, grp * og + co, lo : lo + (spec.length - 1) * s + 1 : s] += (
                    x3[:, ci, :].astype(work) * w[ci, co, k]
                )
    y = full[:, :, p : p + out_len]
    if trace.bias is not None:
        y = y + trace.bias[None, :, None]
    y = y.astype(cdt)
    placements: list[Placement] = []
    n_taps = spec.batch * spec.in_channels * spec.length * og * K
    limit_batch = spec.batch if n_taps <= PLACEMENT_LIMIT else 0
    for n in range(limit_batch):
        for ci in range(spec.in_channels):
            grp = ci // cg
            for i in range(spec.length):
                xv = _val(x3[n, ci, i], trace.exact)
                taps = []
                for co in range(og):
                    for k in range(K):
                        j = i * s - p + k * d
                        wv = _val(w[ci, co, k], trace.exact)
                        taps.append(ScatterTap(out_channel=grp * og + co, kernel_index=k, out_index=j,
                                               w=wv, product=xv * wv, cropped=not 0 <= j < out_len))
                placements.append(Placement(batch=n, in_channel=ci, input_index=i, x=xv,
                                            offset=i * s - p, taps=tuple(taps)))
    counts = overlap_counts(spec.length, K, s, p, d, out_len)
    out = y if spec.batched else y[0]
    return ScatterView(
        placements=tuple(placements),
        crop_left=p,
        crop_right=p - spec.output_padding,
        output_padding=spec.output_padding,
        full_length=full_length,
        overlap=counts,
        uneven=shapes.uneven_overlap(spec.length, K, s, p, d, out_len),
        output=out,
        equal=close(out, trace.output, cdt, _bound(trace)),
    )


def _val(v: Any, exact: bool) -> Any:
    if exact:
        from .exact import to_exact

        return to_exact(v)
    return to_float(v)


def flipped_weight(w: np.ndarray, groups: int) -> np.ndarray:
    """ConvTranspose1d's (Cin, Cout/g, K) weight as the equivalent Conv1d's (Cout, Cin/g, K):
    kernel flipped, in/out channels swapped within each group.

    >>> flipped_weight(np.arange(6.0).reshape(2, 1, 3), 1).tolist()
    [[[2.0, 1.0, 0.0], [5.0, 4.0, 3.0]]]
    """
    cin, og, K = w.shape
    cg = cin // groups
    wg = w.reshape(groups, cg, og, K)[..., ::-1]
    return np.ascontiguousarray(wg.transpose(0, 2, 1, 3).reshape(groups * og, cg, K))


def zero_insertion_view(trace: Trace) -> ZeroInsertionView:
    """View 2: zero insertion + padding (or crop), then a stride-1 Conv1d with the flipped kernel."""
    spec = trace.spec
    x3 = trace.input if trace.input.ndim == 3 else trace.input[None]
    s, p, d, K, op_ = spec.stride, spec.padding_int, spec.dilation, spec.kernel_size, spec.output_padding
    n, c, L = x3.shape
    up = np.zeros((n, c, (L - 1) * s + 1), dtype=x3.dtype)
    up[:, :, ::s] = x3
    q = d * (K - 1) - p
    padded = apply_pad(up, q, q + op_, "constant")
    wf = flipped_weight(trace.weight, spec.groups)
    y = F.conv1d(padded, wf, trace.bias, 1, 0, d, spec.groups)
    out = y if spec.batched else y[0]
    desc = []
    if s > 1:
        desc.append(f"{s - 1} zero{'s' if s > 2 else ''} between samples")
    desc.append(f"{q} zeros each side" if q >= 0 else f"crop {-q} each side")
    if op_:
        desc.append(f"{op_} more zero{'s' if op_ > 1 else ''} on the right")
    call = (
        f"torch.nn.Conv1d(in_channels={spec.in_channels}, out_channels={spec.out_channels}, "
        f"kernel_size={K}, stride=1, padding=0"
        + (f", dilation={d}" if d != 1 else "")
        + (f", groups={spec.groups}" if spec.groups != 1 else "")
        + ("" if spec.has_bias else ", bias=False")
        + ")  # on the input with " + ", ".join(desc)
        + "; weight = w.flip(-1)"
        + (".transpose(0, 1)" if spec.groups == 1 else
           f".reshape({spec.groups}, {spec.in_per_group}, {spec.out_per_group}, {K}).transpose(1, 2)"
           f".reshape({spec.out_channels}, {spec.in_per_group}, {K})")
    )
    return ZeroInsertionView(
        inserted=s - 1,
        pad_each_side=q,
        extra_right=op_,
        upsampled=padded,
        weight=wf,
        torch_call=call,
        output=out,
        equal=close(out, trace.output, np.result_type(x3, trace.weight), _bound(trace)),
    )


def conv_matrix(weight: np.ndarray, length_in: int, length_out: int, stride: int, padding: int,
                dilation: int, groups: int) -> np.ndarray:
    """The matrix C of Conv1d (weight (Cout, Cin/g, K)) mapping a flattened (Cin, length_in)
    input to a flattened (Cout, length_out) output, channel-major: ``y = C @ x``.

    >>> conv_matrix(np.ones((1, 1, 2)), 3, 2, 1, 0, 1, 1).tolist()
    [[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]]
    """
    cout, cg, K = weight.shape
    og = cout // groups
    C = np.zeros((cout * length_out, cg * groups * length_in), dtype=weight.dtype)
    for o in range(cout):
        grp = o // og
        for cl in range(cg):
            ci = grp * cg + cl
            for k in range(K):
                i = np.arange(length_out)
                t = i * stride - padding + k * dilation
                ok = (t >= 0) & (t < length_in)
                C[o * length_out + i[ok], ci * length_in + t[ok]] += weight[o, cl, k]
    return C


def matrix_view(trace: Trace) -> MatrixView:
    """View 3: ``y = C^T x`` with C the matrix of the matching Conv1d."""
    spec = trace.spec
    rows = spec.in_channels * spec.length
    cols = spec.out_channels * spec.out_length
    if rows * cols > MATRIX_LIMIT:
        return MatrixView(matrix=None, rows=rows, cols=cols, output=None, equal=None,
                          reason=f"C would have {rows} x {cols} = {rows * cols} entries "
                                 f"(more than {MATRIX_LIMIT}): not built")
    x3 = trace.input if trace.input.ndim == 3 else trace.input[None]
    C = conv_matrix(trace.weight, spec.out_length, spec.length, spec.stride, spec.padding_int,
                    spec.dilation, spec.groups)
    flat = x3.reshape(spec.batch, rows)
    y = (C.T @ flat.T).T.reshape(spec.batch, spec.out_channels, spec.out_length)
    if trace.bias is not None:
        y = y + trace.bias[None, :, None]
    y = y.astype(np.result_type(x3, trace.weight))
    out = y if spec.batched else y[0]
    return MatrixView(matrix=C, rows=rows, cols=cols, output=out,
                      equal=close(out, trace.output, np.result_type(x3, trace.weight), _bound(trace)))


def gradient_view(trace: Trace) -> GradientView:
    """View 4: ``convtrace.grad.conv1d_input`` of the matching Conv1d with ``grad_output = x``."""
    spec = trace.spec
    x3 = trace.input if trace.input.ndim == 3 else trace.input[None]
    s, p, d, K = spec.stride, spec.padding_int, spec.dilation, spec.kernel_size
    # the matching Conv1d on an input of out_length samples gives L' >= L outputs
    # (L' > L only when output_padding >= stride): extra output gradients are zero.
    l_conv = shapes.conv1d_length_of(spec.out_length, p, p, K, s, d)
    gy = x3
    if l_conv > spec.length:
        gy = np.concatenate([x3, np.zeros(x3.shape[:2] + (l_conv - spec.length,), dtype=x3.dtype)], axis=2)
    w = trace.weight.conj() if trace.weight.dtype.kind == "c" else trace.weight  # grad conjugates
    size = (spec.batch, spec.out_channels, spec.out_length)
    y = grad.conv1d_input(size, w, gy, stride=s, padding=p, dilation=d, groups=spec.groups)
    if trace.bias is not None:
        y = y + trace.bias[None, :, None].astype(y.dtype)
    out = y if spec.batched else y[0]
    call = (
        f"convtrace.grad.conv1d_input(input_size={size}, weight=w, grad_output=x"
        + (f" padded to {l_conv} samples" if l_conv > spec.length else "")
        + f", stride={s}, padding={p}, dilation={d}, groups={spec.groups})"
        + (" + bias" if trace.bias is not None else "")
    )
    return GradientView(call=call, output=out,
                        equal=close(out, trace.output, np.result_type(x3, trace.weight), _bound(trace)))


def _bound(trace: Trace) -> np.ndarray:
    """Σ|x|·|w| + |b| per output element (the scale of the rounding error)."""
    spec = trace.spec
    x = np.abs(trace.input).astype(np.float64)
    w = np.abs(trace.weight).astype(np.float64)
    b = None if trace.bias is None else np.abs(trace.bias).astype(np.float64)
    return F.conv_transpose1d(x, w, b, spec.stride, spec.padding_int, spec.output_padding, spec.groups,
                              spec.dilation)


def build_views(trace: Trace) -> tuple[TransposedViews, list[Note]]:
    """All four views of a ConvTranspose1d trace (which must hold the whole output), and notes."""
    sc = scatter_view(trace)
    views = TransposedViews(
        scatter=sc,
        zero_insertion=zero_insertion_view(trace),
        matrix=matrix_view(trace),
        gradient=gradient_view(trace),
    )
    notes: list[Note] = []
    if sc.uneven:
        spec = trace.spec
        fixes = shapes.even_overlap_settings(
            spec.length, spec.kernel_size, spec.stride, spec.padding_int, spec.output_padding, spec.dilation
        )
        resize = {"factor": spec.stride, "length": spec.length * spec.stride, "kernel_size": spec.kernel_size}
        notes.append(Note("uneven_overlap", {"overlap": list(sc.overlap), "fixes": fixes, "resize": resize}))
    if not sc.placements and trace.spec.length:
        notes.append(Note("placements_skipped", {"limit": PLACEMENT_LIMIT}))
    return views, notes
