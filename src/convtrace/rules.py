"""The named rules of the 1-D convolutions: each rule, limit and message exists here once.

Every front end (``functional``, ``grad``, ``nn``, the explainer, planning, the CLI and the
web API) reaches these rules through :mod:`convtrace.params` (the resolver) or
:mod:`convtrace.shapes` (the length arithmetic); none writes a message of its own. A rule
raises :class:`~convtrace.errors.ConvtraceError` (``ConvtraceTypeError`` for a wrong type)
naming the parameter, its value and the rule, in PyTorch's wording where PyTorch has one.

>>> parse_int_param("stride", (2,))
2
>>> check_padding_mode("circular", transposed=False)
<PaddingMode.CIRCULAR: 'circular'>
>>> check_padding_mode("reflect", transposed=True)
Traceback (most recent call last):
...
convtrace.errors.ConvtraceError: padding_mode='reflect': Only "zeros" padding mode is supported for ConvTranspose1d (hint: use padding_mode='zeros')
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import ConvtraceError, ConvtraceTypeError

__all__ = [
    "PaddingMode",
    "PadMode",
    "SUPPORTED_DTYPES",
    "TORCH_TYPE_NAME",
    "MAX_ELEMENTS",
    "MAX_EXPONENT",
    "CallText",
    "describe_call",
    "shape_text",
    "is_int",
    "parse_int_param",
    "check_int_types",
    "check_groups_type",
    "parse_padding",
    "check_positive",
    "check_padding_mode",
    "check_channels",
    "check_output_padding",
    "check_dtype",
    "check_element_count",
    "check_transposed_only",
    "BackendRule",
    "BACKEND_RULES",
    "backend_rule_for",
    "backend_dependent_error",
    "backend_note",
    "BACKEND_NOTE_START",
    "backend_rules_markdown",
]


class PaddingMode(str, enum.Enum):
    """``padding_mode`` of :class:`convtrace.nn.Conv1d` (PyTorch's names)."""

    ZEROS = "zeros"
    REFLECT = "reflect"
    REPLICATE = "replicate"
    CIRCULAR = "circular"

    def __str__(self) -> str:
        return self.value


class PadMode(str, enum.Enum):
    """``mode`` of :func:`convtrace.functional.pad` (PyTorch's names)."""

    CONSTANT = "constant"
    REFLECT = "reflect"
    REPLICATE = "replicate"
    CIRCULAR = "circular"

    def __str__(self) -> str:
        return self.value


#: dtypes that NumPy and PyTorch's CPU convolution share.
SUPPORTED_DTYPES = tuple(
    np.dtype(t) for t in (np.float16, np.float32, np.float64, np.complex64, np.complex128)
)

#: PyTorch's scalar type names, as its dtype messages print them.
TORCH_TYPE_NAME = {
    "float16": "Half",
    "float32": "Float",
    "float64": "Double",
    "complex64": "ComplexFloat",
    "complex128": "ComplexDouble",
}

#: The largest decimal exponent of a typed number ("1e-400"): float64 ends at about 1e±308,
#: and exact arithmetic on a number of a million digits would take minutes.
MAX_EXPONENT = 400

#: The most elements convtrace makes up or explains in one call (about 0.8 GB of float64):
#: generated inputs, default data and whole explained outputs beyond it are refused.
MAX_ELEMENTS = 100_000_000


# --------------------------------------------------------------------------- the call text


def shape_text(a: Any) -> str:
    """``[1, 1, 5]``: a shape as PyTorch's messages print it.

    >>> shape_text(np.ones((1, 5)))
    '[1, 5]'
    """
    return "[" + ", ".join(str(int(s)) for s in np.shape(a)) + "]"


def describe_call(op: str, args: list[tuple[str, Any]]) -> str:
    """Render the user's call as text, arrays shown by shape and dtype.

    >>> describe_call("conv1d", [("input", np.ones((1, 1, 5))), ("stride", 2)])
    'conv1d(input=<[1, 1, 5] float64>, stride=2)'
    """
    parts = []
    for name, value in args:
        if isinstance(value, np.ndarray):
            parts.append(f"{name}=<{shape_text(value)} {value.dtype}>")
        elif value is not None and hasattr(value, "shape") and hasattr(value, "dtype"):
            parts.append(f"{name}=<{list(value.shape)} {value.dtype}>")
        elif isinstance(value, (list, tuple)) and len(value) > 8:
            parts.append(f"{name}=<{type(value).__name__} of {len(value)}>")
        else:
            parts.append(f"{name}={value!r}")
    return f"{op}({', '.join(parts)})"


class CallText:
    """The user's call, described only when an error needs it (validation stays cheap).

    >>> str(CallText("pad", [("input", np.ones(3)), ("pad", (1, 1))]))
    'pad(input=<[3] float64>, pad=(1, 1))'
    """

    __slots__ = ("args", "op")

    def __init__(self, op: str, args: list[tuple[str, Any]]) -> None:
        self.op = op
        self.args = args

    def __str__(self) -> str:
        return describe_call(self.op, self.args)


# --------------------------------------------------------------------------- integers


def is_int(value: Any) -> bool:
    """A Python or NumPy integer, not a bool.

    >>> is_int(3), is_int(np.int64(3)), is_int(True), is_int(3.0)
    (True, True, False, False)
    """
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def parse_int_param(name: str, value: Any, call: object = None) -> int:
    """An int-or-1-tuple parameter (stride, padding, dilation, output_padding, kernel_size).

    >>> parse_int_param("stride", (2,))
    2
    """
    if is_int(value):
        return int(value)
    if isinstance(value, (tuple, list)) and all(is_int(v) for v in value):
        if len(value) != 1:
            raise ConvtraceError(
                name,
                value,
                f"expected {name} to be a single integer value or a list of 1 values to match "
                f"the convolution dimensions, but got {name}={[int(v) for v in value]}",
                call=call,
            )
        return int(value[0])
    raise ConvtraceTypeError(
        name, value, f"{name} must be an int or a tuple of 1 int, not {type(value).__name__}", call=call
    )


def check_int_types(call: object, *params: tuple[str, Any]) -> None:
    """The type half of :func:`parse_int_param`, for all ``params`` before any value rule
    (PyTorch's argument parser rejects wrong types first); a padding string passes."""
    for name, value in params:
        if name == "padding" and isinstance(value, str):
            continue
        if is_int(value) or (isinstance(value, (tuple, list)) and all(is_int(v) for v in value)):
            continue
        parse_int_param(name, value, call)  # raises the ConvtraceTypeError


def check_groups_type(groups: Any, call: object = None) -> int:
    """``groups`` must be a plain int (PyTorch takes no tuple here)."""
    if not is_int(groups):
        raise ConvtraceTypeError(
            "groups", groups, f"groups must be an int, not {type(groups).__name__}", call=call
        )
    return int(groups)


def parse_padding(value: Any, call: object = None, *, allow_string: bool = True) -> int | str:
    """``padding``: an int, a 1-tuple, or (for Conv1d) 'same' / 'valid'.

    >>> parse_padding("same"), parse_padding((3,))
    ('same', 3)
    """
    if isinstance(value, str):
        if not allow_string:
            raise ConvtraceTypeError(
                "padding",
                value,
                "conv_transpose1d(): argument 'padding' must be tuple of ints, not str "
                "(string padding is not supported for transposed convolutions)",
                call=call,
            )
        if value not in ("same", "valid"):
            raise ConvtraceError(
                "padding", value, f"Invalid padding string: {value!r} (use 'same', 'valid' or an int)", call=call
            )
        return value
    return parse_int_param("padding", value, call)


# --------------------------------------------------------------------------- values


_POSITIVE_RULES = {
    "padding": (0, "negative padding is not supported"),
    "output_padding": (0, "negative output_padding is not supported"),
    "stride": (1, "non-positive stride is not supported"),
    "dilation": (1, "dilation should be greater than zero, but got dilation={value}"),
    "groups": (1, "non-positive groups is not supported"),
    "kernel_size": (1, "kernel size should be greater than zero, but got kernel_size: {value}"),
    "in_channels": (1, "in_channels must be a positive integer"),
    "out_channels": (1, "out_channels must be a positive integer"),
    "length": (1, "length must be >= 1"),
}


def check_positive(call: object, *params: tuple[str, int | str]) -> None:
    """PyTorch's sign rules, in the order given (a padding string passes).

    >>> check_positive(None, ("stride", 0))
    Traceback (most recent call last):
    ...
    convtrace.errors.ConvtraceError: stride=0: non-positive stride is not supported
    """
    for name, value in params:
        minimum, rule = _POSITIVE_RULES[name]
        if isinstance(value, int) and value < minimum:
            raise ConvtraceError(name, value, rule.format(value=value), call=call)


def check_padding_mode(value: Any, *, transposed: bool, call: object = None) -> PaddingMode:
    """``padding_mode``: one of PyTorch's four names; ConvTranspose1d takes 'zeros' only."""
    try:
        mode = PaddingMode(value)
    except ValueError:
        raise ConvtraceError(
            "padding_mode",
            value,
            "padding_mode must be one of {'zeros', 'reflect', 'replicate', 'circular'}, "
            f"but got padding_mode={value!r}",
            call=call,
        ) from None
    if transposed and mode is not PaddingMode.ZEROS:
        raise ConvtraceError(
            "padding_mode",
            value,
            'Only "zeros" padding mode is supported for ConvTranspose1d',
            call=call,
            hint="use padding_mode='zeros'",
        )
    return mode


def check_channels(name: str, value: int, groups: int, call: object = None) -> None:
    """``in_channels`` / ``out_channels`` must be divisible by ``groups`` (nn.Conv1d's rule)."""
    if value % groups:
        raise ConvtraceError(
            name,
            value,
            f"{name} must be divisible by groups ({groups})",
            call=call,
            hint=f"use {name} = a multiple of {groups}, e.g. {max(groups, value - value % groups)}",
        )


def check_output_padding(output_padding: int, stride: int, dilation: int, call: object = None) -> None:
    """ConvTranspose1d: ``output_padding`` must be smaller than stride or dilation."""
    if not (output_padding < stride or output_padding < dilation):
        raise ConvtraceError(
            "output_padding",
            output_padding,
            "output padding must be smaller than either stride or dilation, but got "
            f"output_padding={output_padding} stride={stride} dilation={dilation}",
            call=call,
            hint=f"use output_padding <= {max(stride, dilation) - 1}",
        )


def check_transposed_only(name: str, value: Any, given: bool, *, transposed: bool, call: object = None) -> None:
    """``output_padding`` / ``output_size`` belong to ConvTranspose1d: for a Conv1d, a value
    given is an error rather than silently ignored (PyTorch's Conv1d has neither).

    >>> check_transposed_only("output_padding", 1, True, transposed=False)
    Traceback (most recent call last):
    ...
    convtrace.errors.ConvtraceError: output_padding=1: output_padding applies to ConvTranspose1d only (torch.nn.Conv1d has no output_padding) (hint: add transposed=True, or drop output_padding)
    """
    if given and not transposed:
        raise ConvtraceError(
            name, value, f"{name} applies to ConvTranspose1d only (torch.nn.Conv1d has no {name})",
            call=call, hint=f"add transposed=True, or drop {name}",
        )


def check_dtype(name: str, value: Any, dtype: np.dtype, call: object = None) -> None:
    """Reject a dtype outside :data:`SUPPORTED_DTYPES`, naming the ones accepted."""
    if dtype not in SUPPORTED_DTYPES:
        raise ConvtraceTypeError(
            name,
            value,
            f"dtype {dtype} is not supported: use one of "
            + ", ".join(str(d) for d in SUPPORTED_DTYPES)
            + " (the dtypes NumPy and PyTorch's CPU convolution share)",
            call=call,
        )


def check_element_count(name: str, shape: tuple[int, ...], call: object = None, *, what: str = "values") -> int:
    """Refuse to make up or explain more than :data:`MAX_ELEMENTS` elements.

    >>> check_element_count("input_shape", (64, 512, 10_000_000))
    Traceback (most recent call last):
    ...
    convtrace.errors.ConvtraceError: input_shape=(64, 512, 10000000): 327,680,000,000 values are more than the 100,000,000 convtrace makes up or explains in one call (hint: give a large input as an array or @file.npy (memory-mapped), or explain one element with at=(n, c, t))
    """
    size = 1
    for v in shape:
        size *= int(v)
    if size > MAX_ELEMENTS:
        raise ConvtraceError(
            name,
            tuple(int(v) for v in shape),
            f"{size:,} {what} are more than the {MAX_ELEMENTS:,} convtrace makes up or explains in one call",
            call=call,
            hint="give a large input as an array or @file.npy (memory-mapped), or explain one element "
            "with at=(n, c, t)",
        )
    return size



# --------------------------------------------------------------------------- backend-dependent rules
#
# PyTorch's CPU answer to some calls depends on whether its oneDNN (mkldnn) backend takes the
# call, which depends on the CPU's features, the dtype and the shape. Where the two answers
# differ, convtrace gives the stricter one, so that code convtrace accepts runs in PyTorch on
# every machine. Each such rule is named here once: its scope (``backend_rule_for``), both
# PyTorch answers and convtrace's; the resolver raises through ``backend_dependent_error``,
# the README's list is made by ``backend_rules_markdown`` and the tests judge every parity
# sweep by it (a disagreement between PyTorch's backends that no rule names fails a test).


@dataclass(frozen=True)
class BackendRule:
    """A call whose PyTorch answer depends on the backend, and convtrace's one answer."""

    code: str  #: the rule's name, carried by the error (``ConvtraceError.code``)
    calls: str  #: the calls it covers, in words
    with_onednn: str  #: PyTorch's answer when oneDNN takes the call
    without_onednn: str  #: PyTorch's answer on its other paths
    convtrace: str  #: convtrace's answer, on every machine
    portable: str  #: how to write the call so that it runs everywhere


BACKEND_RULES: dict[str, BackendRule] = {
    rule.code: rule
    for rule in (
        BackendRule(
            "transposed-bias-dtype",
            "conv_transpose1d (functional, module, explain, web) with a real input and a real bias "
            "of another dtype",
            "raises \"Input type ... and bias type ... should be the same or input should be a MKLDNN "
            "tensor and bias is a dense tensor\" (float32 on most shapes; float16 on CPUs with "
            "AVX-512 FP16)",
            "casts the bias to the input's dtype",
            "raises, for every shape and dtype, as conv1d does",
            "bias.astype(input.dtype)",
        ),
        BackendRule(
            "string-padding-bias-dtype",
            "conv1d with padding='same' or 'valid', a real input and a bias of another dtype",
            "raises \"Input type ... and bias type ... should be the same\" (float32, by shape)",
            "casts the bias to the input's dtype (a complex bias to its real part)",
            "raises, as for every other padding",
            "bias.astype(input.dtype)",
        ),
        BackendRule(
            "transposed-empty-output",
            "conv_transpose1d whose output length is 0",
            "returns an empty tensor (float32, and float16 on some CPUs)",
            "raises \"Output size is too small\" (float64, and every dtype without oneDNN)",
            "raises",
            "the input lengths and paddings that give at least one output sample",
        ),
        BackendRule(
            "transposed-dilation-zero",
            "conv_transpose1d with dilation=0",
            "accepts it (float16 on CPUs with AVX-512 FP16; kernel_size 1 on some builds)",
            "raises \"dilation should be greater than zero\"",
            "raises",
            "dilation >= 1",
        ),
    )
}


def backend_rule_for(
    *,
    transposed: bool,
    input_dtype: Any,
    bias_dtype: Any = None,
    string_padding: bool = False,
    out_length: int | None = None,
    dilation: int | None = None,
) -> BackendRule | None:
    """The backend-dependent rule a call falls under, or None (its arguments otherwise valid).

    >>> backend_rule_for(transposed=True, input_dtype=np.float32, bias_dtype=np.float64).code
    'transposed-bias-dtype'
    >>> backend_rule_for(transposed=False, input_dtype=np.float32, bias_dtype=np.float64) is None
    True
    >>> backend_rule_for(transposed=True, input_dtype=np.float64, out_length=0).code
    'transposed-empty-output'
    """
    if bias_dtype is not None and np.dtype(bias_dtype) != np.dtype(input_dtype) and np.dtype(input_dtype).kind == "f":
        # (a complex input, or a complex bias for a real transposed output: PyTorch raises everywhere)
        if transposed and np.dtype(bias_dtype).kind == "f":
            return BACKEND_RULES["transposed-bias-dtype"]
        if not transposed and string_padding:
            return BACKEND_RULES["string-padding-bias-dtype"]
    if transposed and dilation == 0:
        return BACKEND_RULES["transposed-dilation-zero"]
    if transposed and out_length == 0:
        return BACKEND_RULES["transposed-empty-output"]
    return None


def backend_dependent_error(
    rule: BackendRule, param: str, value: Any, message: str, *, call: object = None, hint: str | None = None,
    error: type[ConvtraceError] = ConvtraceError,
) -> ConvtraceError:
    """The error of a backend-dependent rule: PyTorch's message, then why convtrace raises
    where PyTorch's answer depends on its backend; the hint gives the portable call.

    >>> rule = BACKEND_RULES["transposed-dilation-zero"]
    >>> str(backend_dependent_error(rule, "dilation", 0, "dilation should be greater than zero"))[:98]
    "dilation=0: dilation should be greater than zero; PyTorch's own answer here depends on its backend"
    """
    return error(param, value, message + backend_note(rule), call=call, hint=hint or f"use {rule.portable}",
                 code=rule.code)  # fmt: skip


#: where a backend-dependent rule's note starts in its error's ``rule`` text
BACKEND_NOTE_START = "; PyTorch's own answer here depends on its backend"


def backend_note(rule: BackendRule) -> str:
    """The note a backend-dependent rule's error adds to PyTorch's message (English; the
    renderers split it off at :data:`BACKEND_NOTE_START` and translate it)."""
    return (
        f"{BACKEND_NOTE_START}: with oneDNN it {rule.with_onednn}, without oneDNN it {rule.without_onednn}; "
        f"convtrace {rule.convtrace}, so that code it accepts runs in PyTorch on every machine"
    )


def backend_rules_markdown() -> str:
    """The README's list of the backend-dependent rules (made from :data:`BACKEND_RULES`)."""
    lines = [
        "| rule | call | PyTorch with oneDNN | PyTorch without oneDNN | convtrace | portable call |",
        "|---|---|---|---|---|---|",
    ]
    for rule in BACKEND_RULES.values():
        cells = (rule.code, rule.calls, rule.with_onednn, rule.without_onednn, rule.convtrace, rule.portable)
        lines.append("| " + " | ".join(f"`{c}`" if c is rule.code else c for c in cells) + " |")
    return "\n".join(lines) + "\n"
