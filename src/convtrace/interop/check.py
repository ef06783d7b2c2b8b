"""The PyTorch check: run the same configuration and data through PyTorch and compare.

Besides :mod:`convtrace.interop.torch` this is the only module that imports torch, and it
does so lazily. The call text and the tolerances it uses are torch-free, in
:mod:`convtrace.oracle`.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ..oracle import MISSING_NOTE, compare, module_call, tolerance, torch_available
from ..trace.elements import element_slice
from ..trace.model import PoolTrace, Step, TorchCheck, Trace

__all__ = [
    "torch_available",
    "module_call",
    "check_full",
    "check_conv1d_element",
    "check_transposed_element",
    "check_trace",
    "check_pool",
    "pool_call",
    "MISSING_NOTE",
    "tolerance",
]



def _torch() -> Any:
    import torch

    return torch


def _t(a: np.ndarray, torch: Any) -> Any:
    """A float64 (complex128) tensor of ``a`` (a copy)."""
    dt = np.complex128 if np.asarray(a).dtype.kind == "c" else np.float64
    return torch.from_numpy(np.array(a, dtype=dt, copy=True))


def _as_complex(torch: Any, xt: Any, wt: Any, bt: Any) -> tuple[Any, Any, Any]:
    """Input, weight and bias promoted to complex128 (one of them is complex)."""
    return xt.to(torch.complex128), wt.to(torch.complex128), None if bt is None else bt.to(torch.complex128)


def _element_verdict(
    torch: Any, call: str, engine_value: Any, y: np.ndarray, bound: np.ndarray, dtype: np.dtype
) -> TorchCheck:
    """PyTorch's value of one element against the engine's, within the error bound."""
    return _verdict(torch, call, np.array([engine_value]), (y, bound), dtype, {"scope": "element"})


def _verdict(
    torch: Any, call: str, ours: np.ndarray, theirs: tuple[np.ndarray, np.ndarray], dtype: np.dtype[Any],
    extra: dict[str, Any],
) -> TorchCheck:
    """PyTorch's output (and the scale of its error bound) against ours."""
    y, bound = theirs
    mad, ok = compare(ours, y, bound, dtype)
    scope = "" if extra.get("scope") == "full" else ", on this element only"
    return TorchCheck(
        available=True, call=call, output=y, max_abs_diff=mad, agree=ok,
        note=f"PyTorch {torch.__version__}, computed in float64{scope}", extra=extra,
    )


def _module(torch: Any, transposed: bool, cfg: dict[str, Any], w: np.ndarray, b: np.ndarray | None) -> Any:
    dt = torch.complex128 if (w.dtype.kind == "c" or (b is not None and b.dtype.kind == "c")) else torch.float64
    cls = torch.nn.ConvTranspose1d if transposed else torch.nn.Conv1d
    kwargs = dict(cfg)
    kwargs["bias"] = b is not None
    m = cls(dtype=dt, **kwargs)
    with torch.no_grad():
        m.weight.copy_(_t(w, torch).to(dt))
        if b is not None:
            m.bias.copy_(_t(b, torch).to(dt))
    return m


def check_full(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None,
    *,
    transposed: bool,
    in_channels: int,
    out_channels: int,
    kernel_size: int,
    stride: int,
    padding: int | str,
    dilation: int,
    groups: int,
    padding_mode: str,
    output_padding: int,
    output_size: int | None,
    engine_output: np.ndarray,
) -> TorchCheck:
    """Run ``torch.nn.Conv1d`` / ``ConvTranspose1d`` (float64) on the whole input and compare
    with ``engine_output``. Returns ``TorchCheck(available=False, ...)`` without torch."""
    cfg: dict[str, Any] = dict(
        in_channels=in_channels,
        out_channels=out_channels,
        kernel_size=kernel_size,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        padding_mode=padding_mode,
    )
    if transposed:
        cfg["output_padding"] = output_padding if output_size is None else 0
    call = module_call(transposed, bias=b is not None, **cfg)
    run = f"y = m(x, output_size=[{output_size}])" if output_size is not None else "y = m(x)"
    code = (
        f"m = {call[:-1]}, dtype=torch.{'complex128' if _is_complex(x, w, b) else 'float64'})\n"
        "with torch.no_grad():\n"
        "    m.weight.copy_(weight)" + ("\n    m.bias.copy_(bias)" if b is not None else "") + f"\n{run}"
    )
    if not torch_available():
        return TorchCheck(available=False, call=call, note=MISSING_NOTE, extra={"code": code})
    torch = _torch()
    theirs = _run_module(torch, transposed, cfg, (x, w, b), output_size)
    return _verdict(torch, call, engine_output, theirs, np.result_type(x, w), {"code": code, "scope": "full"})


def _run_module(
    torch: Any, transposed: bool, cfg: dict[str, Any], data: tuple[np.ndarray, np.ndarray, np.ndarray | None],
    output_size: int | None,
) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's output in float64 (complex128), and the same module on |x|, |w|, |b| (the
    scale the tolerance is relative to)."""
    x, w, b = data
    m = _module(torch, transposed, cfg, w, b)
    xt = _t(x, torch)
    if _is_complex(x, w, b):
        xt = xt.to(torch.complex128)
    sizes: dict[str, Any] = {"output_size": [output_size]} if transposed and output_size is not None else {}
    with torch.no_grad(), warnings.catch_warnings():
        # PyTorch warns that 'same' with an even kernel pads a copy of the input: harmless here
        warnings.filterwarnings("ignore", message="Using padding='same'", category=UserWarning)
        m_abs = _module(torch, transposed, cfg, np.abs(w), None if b is None else np.abs(b))
        yt = m(xt, **sizes)
        bound = m_abs(_t(np.abs(x), torch), **sizes)
    return yt.detach().resolve_conj().numpy(), bound.detach().numpy()


def _is_complex(*arrays: np.ndarray | None) -> bool:
    return any(a is not None and np.asarray(a).dtype.kind == "c" for a in arrays)


def check_conv1d_element(
    window: np.ndarray,
    input_slice: np.ndarray,
    slice_range: tuple[int, int],
    pad: tuple[int, int],
    pad_mode: str | None,
    w_row: np.ndarray,
    b_val: np.ndarray | None,
    *,
    dilation: int,
    element: tuple[int, int, int],
    channels: tuple[int, int],
    engine_value: Any,
    dtype: np.dtype,
) -> TorchCheck:
    """Check one Conv1d output element on the minimal input slice.

    ``input_slice`` is ``x[n, c0:c1, lo:hi]`` (``slice_range = (lo, hi)``); torch pads it with
    ``pad`` in ``pad_mode`` (the same padding as the whole row gives the window, or ``None``
    when that is impossible: then ``window``, the already-gathered padded window, is used) and
    runs ``conv1d(..., dilation)`` on it: a single output.
    """
    call = _conv1d_element_call(element, channels, slice_range, pad, pad_mode, b_val is not None, dilation)
    if not torch_available():
        return TorchCheck(available=False, call=call, note=MISSING_NOTE)
    torch = _torch()
    cplx = _is_complex(input_slice, w_row, b_val)
    wt = _t(w_row, torch)
    bt = None if b_val is None else _t(b_val, torch)
    with torch.no_grad():
        if pad_mode is not None:
            xt = _t(input_slice[None], torch)
            xa = _t(np.abs(input_slice[None]), torch)
            if pad != (0, 0):
                xt = torch.nn.functional.pad(xt, pad, mode=pad_mode)
                xa = torch.nn.functional.pad(xa, pad, mode=pad_mode)
            d = dilation
        else:
            xt = _t(window[None], torch)
            xa = _t(np.abs(window[None]), torch)
            d = 1
        if cplx:
            xt, wt, bt = _as_complex(torch, xt, wt, bt)
        yt = torch.nn.functional.conv1d(xt, wt, bt, dilation=d)
        ba = None if b_val is None else _t(np.abs(b_val), torch)
        bound = torch.nn.functional.conv1d(xa, _t(np.abs(w_row), torch), ba, dilation=d)
    y = yt.detach().resolve_conj().numpy().reshape(-1)
    return _element_verdict(torch, call, engine_value, y, bound.numpy().reshape(-1), dtype)


def _conv1d_element_call(
    element: tuple[int, int, int], channels: tuple[int, int], slice_range: tuple[int, int],
    pad: tuple[int, int], pad_mode: str | None, has_bias: bool, dilation: int,
) -> str:
    n, o, t = element
    c0, c1 = channels
    lo, hi = slice_range
    if pad_mode is not None:
        src = f"x[{n}:{n + 1}, {c0}:{c1}, {lo}:{hi}]"
        if pad != (0, 0):
            src = f"torch.nn.functional.pad({src}, {pad}, mode={pad_mode!r})"
    else:
        src = f"the padded window of y[{n}, {o}, {t}] gathered from x[{n}, {c0}:{c1}]"
    return (
        f"torch.nn.functional.conv1d({src}, weight[{o}:{o + 1}]"
        + (f", bias[{o}:{o + 1}]" if has_bias else "")
        + (f", dilation={dilation}" if pad_mode is not None and dilation != 1 else "")
        + f")  # only y[{n}, {o}, {t}]: the minimal input slice, with the equivalent padding"
    )


def check_transposed_element(
    input_slice: np.ndarray,
    slice_range: tuple[int, int],
    w_block: np.ndarray,
    b_val: np.ndarray | None,
    *,
    stride: int,
    dilation: int,
    local_index: int,
    out_local: int,
    element: tuple[int, int, int],
    channels: tuple[int, int],
    engine_value: Any,
    dtype: np.dtype,
) -> TorchCheck:
    """Check one ConvTranspose1d output element: ``conv_transpose1d`` (padding 0) of the minimal
    input slice ``x[n, c0:c1, lo:hi]``; the element is the slice output at ``local_index``."""
    n, o, t = element
    c0, c1 = channels
    lo, hi = slice_range
    call = (
        f"torch.nn.functional.conv_transpose1d(x[{n}:{n + 1}, {c0}:{c1}, {lo}:{hi}], "
        f"weight[{c0}:{c1}, {out_local}:{out_local + 1}]"
        + (f", bias[{o}:{o + 1}]" if b_val is not None else "")
        + f", stride={stride}, dilation={dilation})[..., {local_index}]"
        + f"  # only y[{n}, {o}, {t}]: the minimal input slice, output index shifted"
    )
    if not torch_available():
        return TorchCheck(available=False, call=call, note=MISSING_NOTE)
    torch = _torch()
    cplx = _is_complex(input_slice, w_block, b_val)
    xt, wt = _t(input_slice[None], torch), _t(w_block, torch)
    bt = None if b_val is None else _t(b_val, torch)
    if cplx:
        xt, wt, bt = _as_complex(torch, xt, wt, bt)
    with torch.no_grad():
        yt = torch.nn.functional.conv_transpose1d(xt, wt, bt, stride=stride, dilation=dilation)
        ba = None if b_val is None else _t(np.abs(b_val), torch)
        bound = torch.nn.functional.conv_transpose1d(
            _t(np.abs(input_slice[None]), torch), _t(np.abs(w_block), torch), ba, stride=stride, dilation=dilation
        )
    y = yt.detach().resolve_conj().numpy()[0, 0, local_index : local_index + 1]
    bnd = bound.numpy()[0, 0, local_index : local_index + 1]
    return _element_verdict(torch, call, engine_value, y, bnd, dtype)


# --------------------------------------------------------------------------- a whole trace


def check_trace(trace: Trace | PoolTrace) -> TorchCheck:
    """PyTorch's verdict on ``trace``: the whole output when the trace holds it (and no
    ``at`` was asked), else the first explained element on its minimal input slice (a pool:
    :func:`check_pool`). A PyTorch that is installed but cannot be imported is reported as
    missing, with the reason."""
    try:
        if isinstance(trace, PoolTrace):
            return check_pool(trace)
        return _check_trace(trace)
    except (ImportError, OSError) as exc:  # e.g. a broken install or a missing shared library
        return TorchCheck(
            available=False, call=trace.module_call,
            note=f"PyTorch is installed but could not be imported ({type(exc).__name__}: {exc}); {MISSING_NOTE}",
        )


def _check_trace(trace: Trace) -> TorchCheck:
    spec = trace.spec
    if trace.output is not None and trace.at is None:
        return check_full(
            trace.input, trace.weight, trace.bias, transposed=spec.transposed, in_channels=spec.in_channels,
            out_channels=spec.out_channels, kernel_size=spec.kernel_size, stride=spec.stride,
            padding=spec.padding, dilation=spec.dilation, groups=spec.groups,
            padding_mode=spec.padding_mode.value, output_padding=spec.output_padding,
            output_size=None if spec.output_size is None else spec.out_length, engine_output=trace.output,
        )
    return _check_element(trace, trace.steps[0])


def _check_element(trace: Trace, step: Step) -> TorchCheck:
    spec = trace.spec
    x3 = trace.input if trace.input.ndim == 3 else trace.input[None]
    dtype = np.result_type(x3, trace.weight)
    n, o, t = step.batch, step.out_channel, step.out_index
    c0, c1 = step.in_channels[0], step.in_channels[-1] + 1
    bias = None if trace.bias is None else trace.bias[o : o + 1]
    where = element_slice(spec, step)
    if where is None:
        return TorchCheck(
            available=torch_available(), call="(no kernel tap lands on this element: y = bias)", output=None,
            max_abs_diff=0.0, agree=True, note="nothing to check against PyTorch: the element is the bias alone",
        )
    input_slice = np.array(x3[n, c0:c1, where.lo : where.hi])
    if spec.transposed:
        local = o % spec.out_per_group
        return check_transposed_element(
            input_slice, (where.lo, where.hi), trace.weight[c0:c1, local : local + 1], bias, stride=spec.stride,
            dilation=spec.dilation, local_index=where.local_index, out_local=local, element=(n, o, t),
            channels=(c0, c1), engine_value=step.engine_value, dtype=dtype,
        )
    window = np.array([term.x for term in step.terms], dtype=dtype).reshape(c1 - c0, -1)
    if where.mode is None:
        input_slice = window
    return check_conv1d_element(
        window, input_slice, (where.lo, where.hi) if where.mode else (0, 0), where.pad, where.mode,
        trace.weight[o : o + 1], bias, dilation=spec.dilation, element=(n, o, t), channels=(c0, c1),
        engine_value=step.engine_value, dtype=dtype,
    )


# --------------------------------------------------------------------------- pools


def pool_call(trace: PoolTrace) -> str:
    """The ``torch.nn.functional`` call of a pool's trace, as text (``x`` the input in float64,
    ``indices`` max_unpool1d's).

    >>> from convtrace.trace.build import Request, explain_request
    >>> pool_call(explain_request(Request(op="avg_pool1d", input=[1, 2, 3], kernel_size=2, ceil_mode=True)))
    'torch.nn.functional.avg_pool1d(x, kernel_size=2, stride=2, padding=0, ceil_mode=True, count_include_pad=True)'
    """
    spec = trace.spec
    args = _pool_arguments(trace)
    shown = ", ".join(f"{k}={_code(v)}" for k, v in args.items() if k != "indices")
    first = "x, indices" if spec.op == "max_unpool1d" else "x"
    return f"torch.nn.functional.{spec.op}({first}, {shown})"


def _code(value: Any) -> str:
    """A value as Python code (``float('inf')``, not ``inf``)."""
    if isinstance(value, float) and math.isinf(value):
        return "float('inf')" if value > 0 else "float('-inf')"
    return repr(value)


def _pool_arguments(trace: PoolTrace) -> dict[str, Any]:
    spec = trace.spec
    if spec.adaptive:
        args: dict[str, Any] = {"output_size": spec.out_length}
    elif spec.op == "lp_pool1d":
        assert spec.norm_type is not None
        norm = int(spec.norm_type) if float(spec.norm_type).is_integer() else spec.norm_type
        args = {"norm_type": norm, "kernel_size": spec.kernel_size, "stride": spec.stride, "ceil_mode": spec.ceil_mode}
    elif spec.op == "max_unpool1d":
        args = {"kernel_size": spec.kernel_size, "stride": spec.stride, "padding": spec.padding}
        if spec.output_size is not None:
            args["output_size"] = [spec.out_length]
    else:
        args = {"kernel_size": spec.kernel_size, "stride": spec.stride, "padding": spec.padding}
        if spec.op == "max_pool1d":
            args["dilation"] = spec.dilation
        args["ceil_mode"] = spec.ceil_mode
        if spec.op == "avg_pool1d":
            args["count_include_pad"] = spec.count_include_pad
    if spec.op in ("max_pool1d", "adaptive_max_pool1d"):
        args["return_indices"] = True
    return args


def check_pool(trace: PoolTrace) -> TorchCheck:
    """Run the pool in PyTorch (float64, the whole input) and hold every number of the trace
    to it: the engine's output, every step's value and, for the max pools, the index each
    step says won (PyTorch's ``return_indices``)."""
    call = pool_call(trace)
    code = f"x = torch.tensor(input, dtype=torch.{'int64' if _integer_pool(trace) else 'float64'})\n"
    if trace.spec.op == "max_unpool1d":
        code += "indices = torch.tensor(indices, dtype=torch.int64)\n"
    code += f"y = {call}"
    if not torch_available():
        return TorchCheck(available=False, call=call, note=MISSING_NOTE, extra={"code": code, "scope": "full"})
    torch = _torch()
    y, indices = _run_pool(torch, trace)
    dtype = np.dtype(np.float32) if y.dtype == np.float32 else np.dtype(np.float64)  # lp_pool1d of integers
    y = y.astype(np.float64)
    ours = trace.output if trace.output is not None else None
    y_ours = y.copy()
    steps_agree = True
    for step in trace.steps:
        key = (step.batch, step.out_channel, step.out_index) if trace.spec.batched else (step.out_channel, step.out_index)
        y_ours[key] = _real(step.value)
        if step.pool is not None and step.pool.collision and float(y[key]) in [_real(t.x) for t in step.terms]:
            y_ours[key] = y[key]  # PyTorch keeps one of the colliding values, which one is unspecified
            if ours is not None:
                ours = np.array(ours, dtype=np.float64)
                ours[key] = y[key]
        if indices is not None and step.pool is not None and step.pool.winner_index is not None:
            steps_agree &= int(indices[key]) == step.pool.winner_index
    bound = np.abs(y)
    mad, ok = compare(y_ours, y, np.where(np.isfinite(bound), bound, 0.0), dtype)
    if ours is not None:
        mad2, ok2 = compare(np.asarray(ours, dtype=np.float64), y, np.where(np.isfinite(bound), bound, 0.0), dtype)
        mad, ok = max(mad, mad2), ok and ok2
    extra: dict[str, Any] = {"code": code, "scope": "full"}
    if indices is not None:
        extra["indices"] = indices
        extra["indices_agree"] = steps_agree and (
            trace.indices is None or bool(np.array_equal(np.asarray(trace.indices), indices))
        )
    return TorchCheck(
        available=True, call=call, output=y, max_abs_diff=mad, agree=ok and steps_agree,
        note=f"PyTorch {torch.__version__}, computed in float64", extra=extra,
    )


def _integer_pool(trace: PoolTrace) -> bool:
    """An integer input to avg_pool1d or lp_pool1d: PyTorch pools it as integers (the mean
    truncates), so the check keeps it so."""
    return trace.spec.dtype.kind in "iu" and trace.spec.op in ("avg_pool1d", "lp_pool1d")


def _real(v: Any) -> float:
    return float(v)


def _run_pool(torch: Any, trace: PoolTrace) -> tuple[np.ndarray, np.ndarray | None]:
    """PyTorch's output in float64 (and the max pools' indices)."""
    spec = trace.spec
    x = torch.from_numpy(np.array(trace.input, dtype=np.int64 if _integer_pool(trace) else np.float64, copy=True))
    args = _pool_arguments(trace)
    fn = getattr(torch.nn.functional, spec.op)
    with torch.no_grad():
        if spec.op == "max_unpool1d":
            assert trace.indices is not None
            idx = torch.from_numpy(np.array(trace.indices, dtype=np.int64, copy=True))
            return fn(x, idx, **args).numpy(), None
        out = fn(x, **args)
    if isinstance(out, tuple):
        return out[0].numpy(), out[1].numpy()
    return out.numpy() if out.is_floating_point() else out.numpy().astype(np.float64), None
