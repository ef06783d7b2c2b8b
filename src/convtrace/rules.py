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
import numbers
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
    "sizes_text",
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
    "STREAM_CHUNK_HOP",
    "check_stream_chunk",
    "check_stream_push",
    "check_stream_op",
    "BackendRule",
    "BACKEND_RULES",
    "backend_rule_for",
    "backend_dependent_error",
    "backend_note",
    "BACKEND_NOTE_START",
    "backend_rules_markdown",
    "POOL_INPUT_DTYPES",
    "POOL_KERNEL_DTYPES",
    "check_pool_input_dtype",
    "check_pool_kernel_dtype",
    "check_mean_dtype",
    "pool_int_list",
    "pool_bool",
    "check_pool_dims",
    "one_int",
    "max_pool1d_one_int",
    "check_max_pool1d_input",
    "check_max_pool1d_values",
    "check_max_pool1d_output",
    "check_pooling_output_shape",
    "check_pool2d_shape",
    "check_pool2d_output",
    "check_adaptive_avg_output_size",
    "check_norm_type",
    "check_integer_power",
    "check_lp_kernel_type",
    "check_norm_not_zero",
    "check_adaptive_sizes",
    "check_output_dims",
    "check_unpool_output_size_length",
    "check_unpool_output_size_range",
    "check_unpool_output_length",
    "check_unpool_output_type",
    "check_unpool_arrays",
    "invalid_unpool_index",
    "check_pool_backward_indices",
    "invalid_pool_backward_index",
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


def sizes_text(sizes: tuple[int, ...] | list[int]) -> str:
    """``[1, 1, 1, 5]``: sizes as PyTorch's messages print them.

    >>> sizes_text((1, 0, 4))
    '[1, 0, 4]'
    """
    return "[" + ", ".join(str(int(s)) for s in sizes) + "]"


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


# --------------------------------------------------------------------------- pools
#
# PyTorch checks a pool's arguments on one of two paths, with different words:
#
# * ``max_pool1d`` without ``return_indices`` (and without autograd) runs its own 1-D checks
#   ("max_pool1d() kernel_size must be greater than zero, ..."); its padding rule is
#   ``padding <= kernel_size // 2`` whatever the dilation;
# * ``max_pool1d`` with ``return_indices``, ``avg_pool1d`` and ``lp_pool1d`` add a height of 1
#   and run the 2-D checks: ``pooling_output_shape`` first (stride not zero, padding >= 0,
#   padding at most half of the *effective* kernel ``(k-1)*d + 1``, divided as C++ does,
#   toward zero), then ``pool2d_shape_check`` (kernel, stride, dilation > 0, the input's
#   sizes, padding at most half of the kernel *ignoring dilation*, then the output size).
#
# The adaptive pools and ``max_unpool1d`` have rules of their own. Each message is here once.

#: PyTorch's names of the integer and boolean dtypes (the pools read them; the convolutions do not)
TORCH_TYPE_NAME.update(
    {
        "int8": "Char",
        "int16": "Short",
        "int32": "Int",
        "int64": "Long",
        "uint8": "Byte",
        "uint16": "UInt16",
        "uint32": "UInt32",
        "uint64": "UInt64",
        "bool": "Bool",
    }
)

_FLOATS = ("float16", "float32", "float64")
_INTS = ("int8", "int16", "int32", "int64", "uint8")

#: the dtypes a pool's input may have (PyTorch's CPU dtypes that NumPy shares); which pool
#: takes which is :data:`POOL_KERNEL_DTYPES`
POOL_INPUT_DTYPES = tuple(
    np.dtype(t) for t in (*_FLOATS, "complex64", "complex128", *_INTS, "uint16", "uint32", "uint64", "bool")
)

#: the dtypes each of PyTorch's CPU pooling kernels implements (the others raise
#: ``"<kernel>" not implemented for '<dtype>'``)
POOL_KERNEL_DTYPES: dict[str, tuple[str, ...]] = {
    "max_pool1d_impl": _FLOATS,
    "max_pool2d": (*_FLOATS, *_INTS),
    "avg_pool2d": (*_FLOATS, "int64"),
    "adaptive_avg_pool2d": _FLOATS,
    "adaptive_max_pool2d": _FLOATS,
    "max_unpool2d": _FLOATS,
    # lp_pool1d with norm_type ±inf starts with input.abs()
    "abs_cpu": (*_FLOATS, *_INTS, "int8", "complex64", "complex128"),
}


def check_pool_input_dtype(name: str, value: Any, dtype: np.dtype, call: object = None) -> None:
    """Reject a dtype no pool reads (PyTorch has no such tensor), naming the ones read."""
    if dtype not in POOL_INPUT_DTYPES:
        raise ConvtraceTypeError(
            name, value,
            f"dtype {dtype} is not supported: use one of " + ", ".join(str(d) for d in POOL_INPUT_DTYPES)
            + " (the dtypes NumPy and PyTorch share)",
            call=call,
        )


def check_pool_kernel_dtype(kernel: str, dtype: np.dtype, value: Any, call: object = None) -> None:
    """PyTorch's dispatch: ``kernel`` implements the dtypes of :data:`POOL_KERNEL_DTYPES` only.

    >>> check_pool_kernel_dtype("avg_pool2d", np.dtype("int32"), None)
    Traceback (most recent call last):
    ...
    convtrace.errors.ConvtraceTypeError: input=None: "avg_pool2d" not implemented for 'Int'
    """
    if dtype.name not in POOL_KERNEL_DTYPES[kernel]:
        raise ConvtraceTypeError(
            "input", value, f'"{kernel}" not implemented for \'{TORCH_TYPE_NAME[dtype.name]}\'', call=call
        )


def check_mean_dtype(dtype: np.dtype, value: Any, call: object = None) -> None:
    """``adaptive_avg_pool1d`` with ``output_size=1`` is PyTorch's ``mean``: floats and complex only."""
    if dtype.kind not in "fc":
        raise ConvtraceTypeError(
            "input", value,
            "mean(): could not infer output dtype. Input dtype must be either a floating point or complex "
            f"dtype. Got: {TORCH_TYPE_NAME[dtype.name]}",
            call=call,
        )


def pool_int_list(function: str, name: str, value: Any, position: int, call: object = None) -> list[int]:
    """PyTorch's argument parser for a pool's "tuple of ints" argument (an int, or a tuple or
    list of ints, of any length: the length rule comes later, in the pool's own words).

    >>> pool_int_list("avg_pool1d", "kernel_size", (3,), 2), pool_int_list("avg_pool1d", "kernel_size", 3, 2)
    ([3], [3])
    >>> pool_int_list("avg_pool1d", "kernel_size", 2.0, 2)
    Traceback (most recent call last):
    ...
    convtrace.errors.ConvtraceTypeError: kernel_size=2.0: avg_pool1d(): argument 'kernel_size' (position 2) must be tuple of ints, not float
    """
    if is_int(value):
        return [int(value)]
    if isinstance(value, (tuple, list)):
        for i, v in enumerate(value):
            if not is_int(v):
                raise ConvtraceTypeError(
                    name, value,
                    f"{function}(): argument '{name}' (position {position}) must be tuple of ints, but found "
                    f"element of type {type(v).__name__} at pos {i}",
                    call=call,
                )
        return [int(v) for v in value]
    raise ConvtraceTypeError(
        name, value,
        f"{function}(): argument '{name}' (position {position}) must be tuple of ints, not {type(value).__name__}",
        call=call,
    )


def pool_bool(function: str, name: str, value: Any, position: int | None, call: object = None) -> bool:
    """PyTorch's argument parser for a pool's bool argument (``ceil_mode``, ``count_include_pad``)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    where = "" if position is None else f" (position {position})"
    raise ConvtraceTypeError(
        name, value, f"{function}(): argument '{name}'{where} must be bool, not {type(value).__name__}", call=call
    )


def check_pool_dims(op: str, value: Any, ndim: int, call: object = None) -> None:
    """The 1-D pools' ``checkDimRange``: (C, L) or (N, C, L)."""
    if ndim not in (2, 3):
        raise ConvtraceError(
            "input", value,
            f"Expected 2 to 3 dimensions, but got {ndim}-dimensional tensor for argument #1 'self' "
            f"(while checking arguments for {op})",
            call=call,
        )


def one_int(op: str, name: str, values: list[int], call: object = None) -> int:
    """The 1-D pools' ``check1d``: an argument holds exactly one int.

    >>> one_int("avg_pool1d", "stride", [1, 1])
    Traceback (most recent call last):
    ...
    convtrace.errors.ConvtraceError: stride=[1, 1]: avg_pool1d() argument 'stride' should contain one int (got 2)
    """
    if len(values) != 1:
        raise ConvtraceError(name, values, f"{op}() argument '{name}' should contain one int (got {len(values)})", call=call)
    return values[0]


def check_max_pool1d_input(sizes: tuple[int, ...], value: Any, call: object = None) -> None:
    """``max_pool1d`` without indices: (C, L) or (N, C, L) with C and L not empty."""
    ok = (len(sizes) == 2 and sizes[0] != 0 and sizes[1] != 0) or (len(sizes) == 3 and sizes[1] != 0 and sizes[2] != 0)
    if not ok:
        raise ConvtraceError(
            "input", value,
            "max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for input, but got:"
            + sizes_text(sizes),
            call=call,
        )


_MAX_POOL1D_SIZE_RULES = {
    "kernel_size": "max_pool1d() kernel_size must be an int, list of ints or tuple of ints of size 1 but got size {n}",
    "stride": "max_pool1d() stride must be None, an int, list of ints, or tuple of ints of size 1 but got size {n}",
    "padding": "max_pool1d() padding must be an int, list of ints, or tuple of ints of size 1 but got size {n}",
    "dilation": "max_pool1d() dilation must be an int, list of ints or tuple of ints of size 1 but got size {n}",
}


def max_pool1d_one_int(name: str, values: list[int], call: object = None) -> int:
    """``max_pool1d`` without indices: an argument holds one int (an empty stride is allowed
    and means ``kernel_size``: the caller handles it)."""
    if len(values) != 1:
        raise ConvtraceError(name, values, _MAX_POOL1D_SIZE_RULES[name].format(n=len(values)), call=call)
    return values[0]


def check_max_pool1d_values(kernel_size: int, stride: int, padding: int, dilation: int, call: object = None) -> None:
    """``max_pool1d`` without indices: its own value rules, in its order. The padding rule
    ignores the dilation (PyTorch's rule: ``padding <= kernel_size // 2`` even when d > 1).

    >>> check_max_pool1d_values(3, 1, 2, 3)
    Traceback (most recent call last):
    ...
    convtrace.errors.ConvtraceError: padding=2: max_pool1d() padding should be at most half of kernel size, but got padding=2 and kernel_size=3
    """
    k, s, p, d = kernel_size, stride, padding, dilation
    if k <= 0:
        raise ConvtraceError("kernel_size", k, f"max_pool1d() kernel_size must be greater than zero, but got {k}", call=call)
    if s <= 0:
        raise ConvtraceError("stride", s, f"max_pool1d() stride must be greater than zero, but got {s}", call=call)
    if p < 0:
        raise ConvtraceError("padding", p, f"max_pool1d() padding must be non-negative, but got {p}", call=call)
    if p > k // 2:
        raise ConvtraceError(
            "padding", p,
            f"max_pool1d() padding should be at most half of kernel size, but got padding={p} and kernel_size={k}",
            call=call,
        )
    if d <= 0:
        raise ConvtraceError("dilation", d, f"max_pool1d() dilation must be greater than zero, but got {d}", call=call)


def check_max_pool1d_output(out_length: int, value: Any, call: object = None, *, param: str = "input") -> None:
    """``max_pool1d`` without indices: at least one output."""
    if out_length < 1:
        raise ConvtraceError(param, value, f"max_pool1d() Invalid computed output size: {out_length}", call=call)


def _c_div(a: int, b: int) -> int:
    """C++'s integer division (toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def check_pooling_output_shape(kernel_size: int, stride: int, padding: int, dilation: int, call: object = None) -> None:
    """PyTorch's ``pooling_output_shape`` rules (the 2-D path): stride not zero, padding
    non-negative and at most half of the effective kernel ``(k-1)*d + 1`` (C++ division).

    >>> check_pooling_output_shape(0, 0, 0, 1)
    Traceback (most recent call last):
    ...
    convtrace.errors.ConvtraceError: stride=0: stride should not be zero
    """
    k, s, p, d = kernel_size, stride, padding, dilation
    if s == 0:
        raise ConvtraceError("stride", s, "stride should not be zero", call=call)
    if p < 0:
        raise ConvtraceError("padding", p, f"pad must be non-negative, but got pad: {p}", call=call)
    if p > _c_div((k - 1) * d + 1, 2):
        raise ConvtraceError(
            "padding", p,
            f"pad should be at most half of effective kernel size, but got pad={p}, kernel_size={k} and dilation={d}",
            call=call,
        )


def check_pool2d_shape(
    kernel_size: int, stride: int, padding: int, dilation: int, sizes: tuple[int, ...], value: Any, call: object = None
) -> None:
    """PyTorch's ``pool2d_shape_check`` before the output size, on the input's ``sizes`` with
    the added height of 1 ((C, 1, L) or (N, C, 1, L)). Its padding rule ignores the dilation."""
    k, s, p, d = kernel_size, stride, padding, dilation
    if k <= 0:
        raise ConvtraceError("kernel_size", k, f"kernel size should be greater than zero, but got kH: 1 kW: {k}", call=call)
    if s <= 0:
        raise ConvtraceError("stride", s, f"stride should be greater than zero, but got dH: 1 dW: {s}", call=call)
    if d <= 0:
        raise ConvtraceError(
            "dilation", d, f"dilation should be greater than zero, but got dilationH: 1 dilationW: {d}", call=call
        )
    if sizes[-3] == 0 or sizes[-1] == 0:
        raise ConvtraceError(
            "input", value,
            "Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but got:"
            + sizes_text(sizes),
            call=call,
        )
    if p > k // 2:
        raise ConvtraceError(
            "padding", p,
            f"pad should be smaller than or equal to half of kernel size, but got padW = {p}, padH = 0, "
            f"kW = {k}, kH = 1",
            call=call,
        )


def check_pool2d_output(
    channels: int, length: int, out_length: int, value: Any, call: object = None, *, param: str = "input"
) -> None:
    """``pool2d_shape_check``'s last rule: at least one output."""
    if out_length < 1:
        raise ConvtraceError(
            param, value,
            f"Given input size: ({channels}x1x{length}). Calculated output size: ({channels}x1x{out_length}). "
            "Output size is too small",
            call=call,
        )


def check_adaptive_avg_output_size(output_size: int, call: object = None) -> None:
    """``adaptive_avg_pool1d``: ``output_size >= 0`` (0 gives an empty output)."""
    if output_size < 0:
        raise ConvtraceError(
            "output_size", output_size,
            "adaptive_avg_pool2d: elements of output_size must be greater than or equal to 0 but received "
            f"{{1, {output_size}}}",
            call=call,
        )


def check_adaptive_sizes(function: str, sizes: tuple[int, ...], dims: tuple[int, ...], value: Any, call: object = None) -> None:
    """The adaptive pools' rule: the dimensions ``dims`` of ``sizes`` are not empty (the
    batch may be). ``function`` is the checking function's name as PyTorch prints it.

    >>> check_adaptive_sizes("adaptive_max_pool1d", (1, 1, 0), (1, 2), None)
    Traceback (most recent call last):
    ...
    convtrace.errors.ConvtraceError: input=None: adaptive_max_pool1d(): Expected input to have non-zero size for non-batch dimensions, but input has sizes [1, 1, 0] with dimension 2 being empty
    """
    for i in dims:
        if sizes[i] == 0:
            raise ConvtraceError(
                "input", value,
                f"{function}(): Expected input to have non-zero size for non-batch dimensions, but input has "
                f"sizes {sizes_text(sizes)} with dimension {i} being empty",
                call=call,
            )


def check_output_dims(sizes: tuple[int, ...], call: object = None) -> None:
    """A negative output size (``adaptive_max_pool1d``): PyTorch fails making the output."""
    for s in sizes:
        if s < 0:
            raise ConvtraceError(
                "output_size", s,
                f"Trying to create tensor with negative dimension {s}: {sizes_text(sizes)}", call=call,
            )


def check_norm_type(value: Any, call: object = None) -> float:
    """``lp_pool1d``'s ``norm_type``: a number (PyTorch's ``input.pow(norm_type)`` takes any),
    returned as an int when it is one (an integer input's powers then stay integers).

    >>> check_norm_type(True), check_norm_type(np.float64(2))
    (1, 2.0)
    """
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "biuf":
        value = value.item()
    if isinstance(value, (bool, np.bool_, int, np.integer)):
        return int(value)
    if isinstance(value, (numbers.Real, np.floating)):
        return float(value)
    name = type(value).__name__
    raise ConvtraceTypeError(
        "norm_type", value,
        f"pow() received an invalid combination of arguments - got ({name}), but expected one of: "
        "(Tensor exponent) or (Number exponent)",
        call=call,
    )


def check_integer_power(norm_type: Any, dtype: np.dtype, call: object = None) -> None:
    """An integer input raised to a negative integer ``norm_type`` (``lp_pool1d``)."""
    if dtype.kind in "iub" and isinstance(norm_type, (int, np.integer)) and norm_type < 0:
        raise ConvtraceError("norm_type", norm_type, "Integers to negative integer powers are not allowed.", call=call)


def check_lp_kernel_type(kernel_size: Any, call: object = None) -> None:
    """``lp_pool1d`` multiplies by ``kernel_size`` (``.mul(kernel_size)``): it must be a number."""
    if isinstance(kernel_size, (tuple, list)):
        raise ConvtraceTypeError(
            "kernel_size", kernel_size,
            f"mul(): argument 'other' (position 1) must be Tensor, not {type(kernel_size).__name__}",
            call=call, hint="give lp_pool1d an int kernel_size",
        )


def check_norm_not_zero(norm_type: float, call: object = None) -> None:
    """``lp_pool1d`` ends with ``pow(1.0 / norm_type)``."""
    if norm_type == 0:
        raise ConvtraceError("norm_type", norm_type, "float division by zero", call=call)


# --------------------------------------------------------------------------- max_unpool1d
#
# ``max_unpool1d`` computes its output size in Python (``_unpool_output_size``: any number
# types go), then calls ``max_unpool2d`` on (N, C, L, 1) with output size (O, 1).


def check_unpool_output_size_length(output_size: Any, call: object = None) -> list[Any]:
    """``output_size``: a sequence of 1 (the length) or 3 ((N, C, L): the last is taken) items."""
    try:
        n = len(output_size)
    except TypeError:
        raise ConvtraceTypeError(
            "output_size", output_size, f"object of type '{type(output_size).__name__}' has no len()", call=call,
            hint="give output_size as a sequence: (length,) or (N, C, length)",
        ) from None
    if n == 3:
        output_size = output_size[2:]
    if len(output_size) != 1:
        raise ConvtraceError(
            "output_size", output_size,
            "output_size should be a sequence containing 1 or 3 elements, but it has a length of "
            f"'{len(output_size)}'",
            call=call,
        )
    return list(output_size)


def check_unpool_output_size_range(output_size: Any, default_size: Any, stride: Any, call: object = None) -> None:
    """A requested length within ``stride`` of the default one (both bounds excluded);
    ``output_size`` is shown as given (after dropping N and C)."""
    low, high = default_size - stride, default_size + stride
    if not (low < output_size[0] < high):
        raise ConvtraceError(
            "output_size", output_size,
            f'invalid output_size "{output_size}" (dim 0 must be between {low} and {high})', call=call,
        )


def check_unpool_output_length(out_length: Any, call: object = None) -> None:
    """The output length is not negative (0 gives an empty output)."""
    if out_length < 0:
        raise ConvtraceError(
            "output_size", out_length,
            "max_unpooling: output_size must contain non-negative spatial dimensions, but got "
            f"output_size[0]={out_length}",
            call=call,
        )


def check_unpool_output_type(out_length: Any, call: object = None) -> int:
    """``max_unpool2d``'s argument parser: the output length (computed in Python from the
    arguments as given) must be an int."""
    if not isinstance(out_length, (int, np.integer)) or isinstance(out_length, np.bool_):
        raise ConvtraceTypeError(
            "output_size", out_length,
            "max_unpool2d(): argument 'output_size' (position 3) must be tuple of ints, but found element of "
            f"type {type(out_length).__name__} at pos 0",
            call=call,
        )
    return int(out_length)


def check_unpool_arrays(
    input_sizes: tuple[int, ...], indices_sizes: tuple[int, ...], indices_dtype: np.dtype, value: Any, indices: Any,
    call: object = None,
) -> None:
    """``max_unpool2d``'s rules on the arrays, in its order; sizes gain PyTorch's trailing 1."""
    if indices_dtype != np.dtype(np.int64):
        raise ConvtraceError(
            "indices", indices,
            f"elements in indices should be type int64 but got: {TORCH_TYPE_NAME.get(indices_dtype.name, indices_dtype.name)}",
            call=call, hint="use indices.astype(np.int64)",
        )
    ndim = len(input_sizes) + 1
    if ndim not in (3, 4):
        raise ConvtraceError(
            "input", value,
            f"Input to max_unpooling2d should be a 3d or 4d Tensor, but got a tensor with {ndim} dimensions.",
            call=call,
        )
    if input_sizes != indices_sizes:
        raise ConvtraceError(
            "indices", indices,
            f"Expected shape of indices to be same as that of the input tensor ({sizes_text((*input_sizes, 1))}) "
            f"but got indices tensor with shape: {sizes_text((*indices_sizes, 1))}",
            call=call,
        )
    sizes = (*input_sizes, 1)
    for i in range(1, ndim):
        if sizes[i] == 0:
            raise ConvtraceError(
                "input", value,
                "max_unpooling2d_forward_out_cpu(): Expected input to have non-zero size for non-batch "
                f"dimensions, but got {sizes_text(sizes)} with dimension {i} being empty.",
                call=call,
            )


def invalid_unpool_index(index: int, out_length: int, indices: Any, call: object = None) -> ConvtraceError:
    """An index outside the output (``max_unpool1d``): PyTorch's error."""
    return ConvtraceError(
        "indices", indices,
        f"Found an invalid max index: {index} (output volumes are of size {out_length}x1)", call=call,
        hint=f"every index must be in [0, {out_length})",
    )


# ---------------------------------------------------------------------- one streamed push (issue 19, item 4)

#: ``stream_chunk='hop'``: chunks of one hop of the layer (the smallest after which every push emits)
STREAM_CHUNK_HOP = "hop"
_STREAM_CHUNK_RULE = "stream_chunk must be a whole number of input samples >= 1 (or 'hop': one hop of the layer)"


def check_stream_chunk(value: Any, call: object = None) -> int | str:
    """``stream_chunk``: input samples per push (an int >= 1), or ``'hop'``.

    >>> check_stream_chunk(4), check_stream_chunk("hop")
    (4, 'hop')
    >>> check_stream_chunk(0)
    Traceback (most recent call last):
    ...
    convtrace.errors.ConvtraceError: stream_chunk=0: stream_chunk must be a whole number of input samples >= 1 (or 'hop': one hop of the layer) (hint: e.g. stream_chunk=2)
    """
    if value == STREAM_CHUNK_HOP and isinstance(value, str):
        return STREAM_CHUNK_HOP
    if not is_int(value) or int(value) < 1:
        raise ConvtraceError("stream_chunk", value, _STREAM_CHUNK_RULE, call=call, hint="e.g. stream_chunk=2")
    return int(value)


def check_stream_push(value: Any, pushes: int, call: object = None) -> int:
    """``stream_push``: which push to explain, from 1 to the stream's ``pushes`` (the input
    cut into chunks: ``ceil(L / stream_chunk)`` pushes, then the flush).

    >>> check_stream_push(2, 4)
    2
    >>> check_stream_push(5, 4)
    Traceback (most recent call last):
    ...
    convtrace.errors.ConvtraceError: stream_push=5: stream_push must be a whole number from 1 to the number of pushes (4 here: the input's length in chunks of stream_chunk, rounded up) (hint: stream_push=4 is the last push)
    """
    if not is_int(value) or not 1 <= int(value) <= pushes:
        raise ConvtraceError(
            "stream_push", value,
            f"stream_push must be a whole number from 1 to the number of pushes ({pushes} here: the input's length "
            "in chunks of stream_chunk, rounded up)",
            call=call, hint=f"stream_push={pushes} is the last push",
        )
    return int(value)


def check_stream_op(op: str, chunk: Any, push: Any, call: object = None) -> None:
    """A streamed push is explained for Conv1d and ConvTranspose1d; ``stream_push`` needs
    ``stream_chunk``.

    >>> check_stream_op("max_pool1d", 2, None)
    Traceback (most recent call last):
    ...
    convtrace.errors.ConvtraceError: stream_chunk=2: a streamed push is explained for conv1d and conv_transpose1d, not max_pool1d (hint: drop stream_chunk, or explain a convolution)
    """
    if chunk is None and push is not None:
        raise ConvtraceError("stream_push", push, "stream_push picks a push of a streamed explanation: it needs stream_chunk",
                             call=call, hint="give stream_chunk too (e.g. stream_chunk=2)")  # fmt: skip
    if chunk is not None and op not in ("conv1d", "conv_transpose1d"):
        raise ConvtraceError("stream_chunk", chunk, f"a streamed push is explained for conv1d and conv_transpose1d, not {op}",
                             call=call, hint="drop stream_chunk, or explain a convolution")  # fmt: skip

# The saved indices a max pool's gradient may take (grad.max_pool1d_input(indices=...)):
# PyTorch's backward kernels check their shape (with grad_output's) and dtype (int64), but
# not their values: an index outside the input writes out of bounds (measured on torch 2.13:
# a silent wrong answer, or a crash for -1). convtrace refuses it.
def check_pool_backward_indices(
    indices: np.ndarray, grad_output_shape: tuple[int, ...], value: Any, call: object = None
) -> None:
    """The indices of a max pool's forward, as its backward takes them: ``grad_output``'s
    shape, then int64 (PyTorch's words). Their values: :func:`invalid_pool_backward_index`.

    >>> check_pool_backward_indices(np.array([[0, 3]]), (1, 2), None)
    >>> try:
    ...     check_pool_backward_indices(np.array([[0, 3]], dtype=np.int32), (1, 2), None)
    ... except ConvtraceError as error:
    ...     print("expected scalar type Long but found Int" in str(error))
    True
    """
    if indices.shape != grad_output_shape:
        raise ConvtraceError(
            "indices", value,
            f"Mismatch in shape: indices has a shape of {list(indices.shape)} and grad_output has a shape of "
            f"{list(grad_output_shape)}: they must be the same",
            call=call,
        )
    if indices.dtype != np.dtype(np.int64):
        raise ConvtraceError(
            "indices", value,
            f"expected scalar type Long but found {TORCH_TYPE_NAME.get(indices.dtype.name, indices.dtype.name)}",
            call=call, hint="use indices.astype(np.int64)",
        )


def invalid_pool_backward_index(index: int, length: int, value: Any, call: object = None) -> ConvtraceError:
    """An index outside the input given to a max pool's gradient (PyTorch's backward does not
    check it: convtrace's words, after max_unpool1d's).

    >>> "Found an invalid max index: 4 (the input has length 4)" in str(invalid_pool_backward_index(4, 4, None))
    True
    """
    return ConvtraceError(
        "indices", value,
        f"Found an invalid max index: {index} (the input has length {length}): "
        f"a max pool's backward takes indices in [0, {length})",
        call=call, hint="PyTorch's backward does not check them and writes out of bounds",
    )
