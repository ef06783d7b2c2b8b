"""The pools' oracle: one call run by convtrace and by PyTorch (oneDNN on and off), judged
as the convolution sweeps are (``backends.judge``), plus PyTorch's words: convtrace's rule
must start with the first line of PyTorch's message for the path the call took."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import convtrace.functional as cf
from backends import judge, torch_answers
from strategies import Outcome, run, tn, torch_module

#: the parameters a pool's error may name
POOL_PARAMS = {
    "input", "kernel_size", "stride", "padding", "dilation", "ceil_mode", "count_include_pad",
    "return_indices", "norm_type", "output_size", "indices",
}

#: relative tolerance of the values that are not exact: lp_pool1d's powers (PyTorch's sqrt
#: and pow are vectorised library calls, within an ulp or two) and long adaptive windows
#: (NumPy's pairwise sum; PyTorch sums in order)
LOOSE = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 2e-6, np.dtype(np.float16): 2e-3}


def torch_call(op: str, *args: Any, **kwargs: Any) -> Any:
    """``torch.nn.functional.<op>`` on copies of the NumPy arrays among ``args``.
    ``max_unpool1d`` runs on one thread: on several, PyTorch's threads race where indices
    collide (and for which bad index it reports); convtrace gives the one-thread answer."""
    torch = torch_module()
    fn = getattr(torch.nn.functional, op)
    targs = [torch.from_numpy(np.array(a, copy=True)) if isinstance(a, np.ndarray) else a for a in args]
    if op != "max_unpool1d":
        return fn(*targs, **kwargs)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return fn(*targs, **kwargs)
    finally:
        torch.set_num_threads(threads)


def as_numpy(value: Any) -> tuple[np.ndarray, ...]:
    items = value if isinstance(value, tuple) else (value,)
    return tuple(tn(v) if hasattr(v, "detach") else np.asarray(v) for v in items)


def same_words(ours: str, theirs: BaseException) -> bool:
    """convtrace's rule says what PyTorch's message says (its first line; a TypeError's
    list of signatures is summarised)."""
    head = str(theirs).splitlines()[0].strip()
    if head.endswith("but expected one of:"):
        head = head[: -len(" but expected one of:")]
    return ours.startswith(head)


def values_agree(ours: Any, theirs: Any, *, exact: bool) -> None:
    """Values (and indices) as PyTorch's: same dtype and shape, equal (NaN where NaN), or
    within :data:`LOOSE` where not ``exact``."""
    for a, b in zip(as_numpy(ours), as_numpy(theirs), strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape, (a.dtype, b.dtype, a.shape, b.shape)
        if exact or a.dtype.kind not in "fc":
            assert np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"), (a.ravel()[:12], b.ravel()[:12])
        else:
            assert np.array_equal(np.isnan(a), np.isnan(b)), (a.ravel()[:12], b.ravel()[:12])
            fin = ~np.isnan(a)
            np.testing.assert_allclose(a[fin], b[fin], rtol=LOOSE[a.dtype], atol=LOOSE[a.dtype])


def check_call(op: str, *args: Any, exact: bool = True, **kwargs: Any) -> str:
    """Run ``op`` with the same arguments in convtrace and PyTorch (both backends); judge
    accept/reject, the error's words and the values. Returns a label for statistics."""
    ours: Outcome = run(getattr(cf, op), *args, **kwargs)
    theirs = torch_answers(torch_call, op, *args, **kwargs)
    where = f"{op}({', '.join(_show(a) for a in args)}, {kwargs})"

    def compare(a: Any, b: Any) -> None:
        values_agree(a, b, exact=exact)

    label = judge(ours, theirs, None, where, POOL_PARAMS, compare)
    if not ours.ok:
        rule = getattr(ours.error, "rule", "")
        assert theirs.error is not None
        assert same_words(rule, theirs.error), f"{where}\n ours:  {rule}\n torch: {theirs.error}"
    return label


def _show(a: Any) -> str:
    return f"<{list(a.shape)} {a.dtype}>" if isinstance(a, np.ndarray) else repr(a)


def with_values(rng: np.random.Generator, shape: tuple[int, ...], dtype: Any, *, ties: bool, nan: bool) -> np.ndarray:
    """Seeded test data: normal values, optionally rounded (ties), with a NaN and ±inf."""
    x = rng.standard_normal(shape) * 3
    if ties or np.dtype(dtype).kind in "iub":
        x = np.round(x)
    x = x.astype(dtype)
    if nan and x.size and x.dtype.kind == "f":
        flat = x.reshape(-1)
        flat[rng.integers(0, flat.size)] = np.nan
        flat[rng.integers(0, flat.size)] = -np.inf
    return x


Caller = Callable[..., Any]
