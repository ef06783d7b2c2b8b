"""``Trace.verify()``: every explained element re-derived from its own terms, held to the
engine's output and PyTorch's.

>>> from convtrace.trace.build import explain
>>> verify_trace(explain([1, 1, 1, 1], [1, 1, 1], padding=1))
True
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np

from .exact import fmt_number
from .model import PoolTrace, Reduction, Trace

if TYPE_CHECKING:  # pragma: no cover
    from .model import Step, TorchCheck

__all__ = ["verify_trace", "verify_check", "rederive"]


def rederive(step: Step) -> Any:
    """The step's value recomputed from its terms: each product, the sum, plus the bias (a
    pool: its reduction, :func:`rederive_pool`).

    Raises AssertionError if a product or the stored sum disagrees with its parts.
    """
    if step.reduction is not Reduction.SUM:
        return rederive_pool(step)
    products = []
    for t in step.terms:
        p = t.x * t.w
        if p != t.product and not _both_nan(p, t.product):
            raise AssertionError(f"term {t}: x*w = {p!r}, but product = {t.product!r}")
        products.append(p)
    exact = isinstance(step.total, Fraction)
    total: Any = sum(products, Fraction(0)) if exact else sum(products, 0.0)
    if not _near(total, step.total, step):
        raise AssertionError(f"step y[{step.batch}, {step.out_channel}, {step.out_index}]: the products sum to "
                             f"{fmt_number(total)}, but total = {fmt_number(step.total)}")
    value = total + step.bias if step.bias is not None else total
    if not _near(value, step.value, step):
        raise AssertionError(f"step y[{step.batch}, {step.out_channel}, {step.out_index}]: sum + bias = "
                             f"{fmt_number(value)}, but value = {fmt_number(step.value)}")
    return value


def rederive_pool(step: Step) -> Any:
    """A pool step's value recomputed from its taps: the max (and which tap PyTorch's loop
    keeps), the sum over the divisor, the p-norm with PyTorch's scale, or the scattered value.

    >>> from convtrace.trace.build import Request, explain_request
    >>> [str(rederive_pool(s)) for s in explain_request(Request(op="max_pool1d", input=[1, 3, 2], kernel_size=2))]
    ['3']
    """
    from .elements import max_winner, mean_of, pnorm_root

    detail = step.pool
    where = f"y[{step.batch}, {step.out_channel}, {step.out_index}]"
    if detail is None:
        raise AssertionError(f"step {where}: a {step.reduction} step without its pool detail")
    real = [t for t in step.terms if str(t.tap) == "real"]
    if step.reduction is Reduction.SCATTER:
        value: Any = step.terms[detail.winner].x if detail.winner is not None else 0
    elif step.reduction is Reduction.PNORM and detail.norm_type is not None and math.isinf(detail.norm_type):
        sign = 1 if detail.norm_type > 0 else -1
        won = max_winner([sign * float(abs(t.x)) for t in real])
        value = abs(real[won].x) if won is not None else float("nan")
    elif step.reduction is Reduction.MAX:
        won = max_winner([t.x for t in real])
        value = real[won].x if won is not None else float("-inf")
        if won is not None and real[won].input_index != detail.winner_index:
            raise AssertionError(f"step {where}: the max is at index {real[won].input_index}, "
                                 f"but the step says {detail.winner_index}")
    else:
        total = sum((t.product for t in real), Fraction(0) if isinstance(step.total, Fraction) else 0.0)
        if not _near(total, step.total, step):
            raise AssertionError(f"step {where}: the taps sum to {fmt_number(total)}, but total = {fmt_number(step.total)}")
        assert detail.divisor is not None
        if step.reduction is Reduction.MEAN:
            value = mean_of(total, detail.divisor, detail.truncated)
        else:
            assert detail.norm_type is not None and detail.scale is not None
            if detail.truncated:
                scaled = mean_of(total, detail.divisor, True) * (detail.scale * detail.divisor)
            else:
                scaled = total * detail.scale
            value = pnorm_root(scaled, detail.norm_type)
    if not _near(value, step.value, step):
        raise AssertionError(f"step {where}: the taps give {fmt_number(value)}, but value = {fmt_number(step.value)}")
    return value


def _both_nan(a: Any, b: Any) -> bool:
    try:
        return bool(np.isnan(complex(a)).any() if isinstance(a, complex) else np.isnan(float(a))) and bool(
            np.isnan(complex(b)) if isinstance(b, complex) else np.isnan(float(b))
        )
    except (TypeError, ValueError, OverflowError):
        return False


def _scale(step: Step) -> float:
    s = 0.0
    for t in step.terms:
        try:
            s += float(abs(t.product))
        except OverflowError:
            return float("inf")
    if step.bias is not None:
        s += float(abs(step.bias))
    return s


def _tol(step: Step, dtype: np.dtype) -> float:
    from ..oracle import tolerance

    n = len(step.terms) + 1
    eps = float(np.finfo(np.dtype(dtype).type(0).real.dtype).eps) if np.dtype(dtype).kind in "fc" else 0.0
    return (tolerance(dtype) + 2 * n * eps) * (_scale(step) + 1.0)


def _near(a: Any, b: Any, step: Step) -> bool:
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        return a == b
    if _both_nan(a, b):
        return True
    try:
        diff = abs(complex(a) - complex(b))
    except OverflowError:
        return bool(a == b)
    if a == b:
        return True
    return bool(diff <= 1e-12 * (_scale(step) + 1.0))


def _against(step: Step, value: Any, engine: Any, dtype: np.dtype, what: str) -> None:
    if engine is None:
        return
    if _both_nan(value, engine):
        return
    try:
        diff = abs(complex(value) - complex(engine))
    except OverflowError:
        diff = float("inf")
    if value == engine:
        return
    if not diff <= _tol(step, dtype):
        raise AssertionError(
            f"y[{step.batch}, {step.out_channel}, {step.out_index}]: the terms give {fmt_number(value)}, "
            f"but {what} gives {fmt_number(engine)} (difference {diff:.3g})"
        )


def verify_trace(trace: Trace | PoolTrace) -> bool:
    """Re-derive every explained element from its terms and hold it to the engine's value
    (and the exact output), and each transposed view to the engine's output. Torch-free:
    PyTorch's verdict is checked by :meth:`convtrace.Trace.verify`.

    Returns True, or raises ``AssertionError`` naming the first disagreement.
    """
    dtype = np.result_type(trace.input, trace.weight) if isinstance(trace, Trace) else trace.input.dtype
    y3 = None
    if trace.output is not None:
        y3 = trace.output if trace.output.ndim == 3 else trace.output[None]
    for step in trace.steps:
        value = rederive(step)
        _against(step, value, step.engine_value, dtype, "the engine")
        if y3 is not None:
            _against(step, value, y3[step.batch, step.out_channel, step.out_index], dtype, "the engine's output")
    _verify_exact_output(trace)
    if isinstance(trace, Trace) and trace.views is not None:
        v = trace.views
        for name, ok in (("scatter-add", v.scatter.equal), ("zero-insertion Conv1d", v.zero_insertion.equal),
                         ("matrix", v.matrix.equal), ("gradient", v.gradient.equal)):
            if ok is False:
                raise AssertionError(f"the {name} view of ConvTranspose1d differs from the engine's output")
    return True


def _verify_exact_output(trace: Trace | PoolTrace) -> None:
    if not (trace.exact and trace.exact_output is not None and trace.output is not None):
        return
    exact = np.asarray(trace.exact_output, dtype=object)
    exact3 = exact if exact.ndim == 3 else exact[None]
    for s in trace.steps:
        stored = exact3[s.batch, s.out_channel, s.out_index]
        if stored != s.value and not _both_nan(stored, s.value):
            raise AssertionError(f"exact_output differs from the step at {(s.batch, s.out_channel, s.out_index)}")


def verify_check(check: TorchCheck | None, *, required: bool) -> None:
    """PyTorch's verdict: raise ``AssertionError`` if it disagrees (or, ``required``, is missing)."""
    if required and (check is None or not check.available):
        raise AssertionError("PyTorch is not installed: pip install 'convtrace[torch]'")
    if check is not None and check.available and check.agree is False:
        raise AssertionError(
            f"PyTorch disagrees: {check.call} gives a largest absolute difference of {check.max_abs_diff}"
        )
