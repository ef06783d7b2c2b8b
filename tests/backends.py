"""PyTorch's answer with its oneDNN backend on and off, and the judge of convtrace's answer.

PyTorch's CPU answer to a call can depend on whether oneDNN takes it (CPU features, dtype,
shape), so no test may assume which backend the host picks. Every parity sweep asks PyTorch
both ways (``torch_answers``) and judges convtrace by ``judge``:

* where a backend-dependent rule of ``convtrace.rules.BACKEND_RULES`` covers the call,
  convtrace raises; where either PyTorch answer accepts, with that rule's error (``code``);
* otherwise PyTorch's two answers must agree (a disagreement no rule names is a failure
  that names the case: this is how new ones are found), and convtrace must agree with them:
  the same accept/reject, and values close to both answers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from convtrace import rules
from strategies import Outcome, assert_convtrace_error, run, tn, torch_module


def onednn(enabled: bool) -> contextlib.AbstractContextManager[None]:
    """PyTorch with its oneDNN (mkldnn) backend switched on or off inside the block."""
    torch_module()  # (skips the test without torch)
    from convtrace.interop.torch import onednn as switch

    return switch(enabled)


def each_backend() -> Iterator[bool]:
    """Run the loop's body with PyTorch's oneDNN on, then off (yields ``enabled``).

    >>> # for _ in each_backend(): assert_close(ours, torch_forward(...))
    """
    for enabled in (True, False):
        with onednn(enabled):
            yield enabled


def one_int(value: Any) -> int | None:
    """An int parameter's value (an int or a 1-tuple/list of one), else None."""
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    return int(value) if rules.is_int(value) else None


def transposed_out_length(
    length: int, kernel_size: Any, stride: Any = 1, padding: Any = 0, output_padding: Any = 0, dilation: Any = 1
) -> int | None:
    """ConvTranspose1d's output length from raw arguments (ints or 1-tuples), else None."""
    k, s, p, op, d = (one_int(v) for v in (kernel_size, stride, padding, output_padding, dilation))
    if k is None or s is None or p is None or op is None or d is None:
        return None
    return (length - 1) * s - 2 * p + d * (k - 1) + op + 1


@dataclass(frozen=True)
class TorchAnswers:
    """PyTorch's outcome of one call with oneDNN on and with oneDNN off."""

    on: Outcome
    off: Outcome

    @property
    def agree(self) -> bool:
        return self.on.ok == self.off.ok

    @property
    def any_accepts(self) -> bool:
        return self.on.ok or self.off.ok

    @property
    def error(self) -> BaseException | None:
        return self.off.error or self.on.error

    def values(self) -> list[np.ndarray]:
        """The accepted answers as NumPy arrays (both, when both backends accept)."""
        return [tn(o.value) if hasattr(o.value, "detach") else o.value for o in (self.on, self.off) if o.ok]

    def describe(self) -> str:
        def one(o: Outcome) -> str:
            return "accepts" if o.ok else f"raises {type(o.error).__name__}: {str(o.error).splitlines()[0][:160]}"

        return f"PyTorch with oneDNN {one(self.on)}; without oneDNN {one(self.off)}"


def torch_answers(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> TorchAnswers:
    """``fn(*args, **kwargs)`` run with oneDNN on, then off (each its own Outcome)."""
    outcomes = []
    for enabled in (True, False):
        with onednn(enabled):
            outcomes.append(run(fn, *args, **kwargs))
    return TorchAnswers(*outcomes)


def judge(
    ours: Outcome,
    theirs: TorchAnswers,
    rule: rules.BackendRule | None,
    where: str,
    allowed_params: set[str],
    compare: Callable[[np.ndarray, np.ndarray], None] | None = None,
) -> str:
    """Assert convtrace's outcome against PyTorch's two (module docstring); returns a label
    for Hypothesis' statistics. ``rule`` is the backend-dependent rule covering the call
    (``rules.backend_rule_for``), or None; ``compare(ours, theirs)`` checks values."""
    text = f"{where}\n {theirs.describe()}\n convtrace: {'accepts' if ours.ok else repr(ours.error)}"
    if rule is not None:
        assert not ours.ok, f"convtrace accepts a call of the backend-dependent rule {rule.code}:\n{text}"
        assert_convtrace_error(ours.error, allowed_params)
        if theirs.any_accepts:
            code = getattr(ours.error, "code", None)
            assert code in rules.BACKEND_RULES, f"convtrace rejects for another reason than {rule.code}:\n{text}"
        return f"backend rule {rule.code} (torch on {theirs.on.ok}, off {theirs.off.ok})"
    assert theirs.agree, (
        "PyTorch's backends disagree on a call that no rule of convtrace.rules.BACKEND_RULES names "
        f"(add one, with convtrace's answer):\n{text}"
    )
    assert ours.ok == theirs.off.ok, f"convtrace and PyTorch disagree:\n{text}"
    if not ours.ok:
        assert_convtrace_error(ours.error, allowed_params, theirs.error)
        assert getattr(ours.error, "code", None) is None, f"a backend rule's error where none applies:\n{text}"
        return f"both reject ({type(theirs.error).__name__})"
    if compare is not None:
        for value in theirs.values():
            compare(ours.value, value)
    return "both accept"
