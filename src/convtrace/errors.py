"""The one exception type of convtrace.

Every invalid argument raises :class:`ConvtraceError` (a :class:`ValueError`), or
:class:`ConvtraceTypeError` (also a :class:`TypeError`) where the *type* of an argument is
wrong. The message names the parameter, its value and the rule, in PyTorch's wording where
PyTorch has one, and repeats the user's call so the error can be read on its own.

>>> from convtrace.errors import ConvtraceError
>>> err = ConvtraceError("stride", 0, "non-positive stride is not supported", call="conv1d(...)")
>>> str(err)
'conv1d(...): stride=0: non-positive stride is not supported'
>>> isinstance(err, ValueError)
True
"""

from __future__ import annotations

from typing import Any

__all__ = ["ConvtraceError", "ConvtraceTypeError"]


class ConvtraceError(ValueError):
    """An argument that PyTorch would reject (or that convtrace cannot accept).

    Attributes: ``param`` (the parameter's name), ``value`` (what was given), ``rule`` (the
    rule that failed, PyTorch's wording where it has one), ``call`` (the user's call, as text),
    ``hint`` (nearest valid settings, where there are any) and ``code`` (the name of a
    backend-dependent rule of :data:`convtrace.rules.BACKEND_RULES`, else None).
    """

    def __init__(
        self,
        param: str,
        value: Any,
        rule: str,
        *,
        call: object | None = None,
        hint: str | None = None,
        code: str | None = None,
    ) -> None:
        self.param = param
        self.value = value
        self.rule = rule
        # ``call`` may be a lazy description (rendered only now, when something failed).
        self.call = None if call is None else str(call)
        self.hint = hint
        self.code = code
        super().__init__(self._message())

    def _message(self) -> str:
        head = f"{self.call}: " if self.call else ""
        msg = f"{head}{self.param}={_show(self.value)}: {self.rule}"
        if self.hint:
            msg += f" (hint: {self.hint})"
        return msg

    def with_call(self, call: str) -> ConvtraceError:
        """Return the same error, re-raised with the user's call attached."""
        return type(self)(self.param, self.value, self.rule, call=call, hint=self.hint, code=self.code)

    def __reduce__(self) -> tuple[Any, ...]:  # keep pickling working with keyword args
        return (_rebuild, (type(self), self.param, self.value, self.rule, self.call, self.hint, self.code))


class ConvtraceTypeError(ConvtraceError, TypeError):
    """An argument of the wrong type (PyTorch raises ``TypeError`` for these)."""


def _rebuild(
    cls: type, param: str, value: Any, rule: str, call: str | None, hint: str | None, code: str | None = None
) -> Any:
    return cls(param, value, rule, call=call, hint=hint, code=code)


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    shape = getattr(value, "shape", None)
    dtype = getattr(value, "dtype", None)
    if shape is not None and dtype is not None and not isinstance(value, type):  # not np.int32 itself
        return f"<array shape={list(shape)} dtype={dtype}>"
    return repr(value)
