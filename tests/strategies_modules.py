"""Hypothesis strategies for the module path (``convtrace.nn`` vs ``torch.nn``) with mixed
dtypes: constructor arguments (valid or faulty), parameter assignments of other dtypes and
shapes, and call inputs.

Nothing here imports torch at import time (the ``build``/``torch_dtype`` helpers import it
lazily); test modules that use them call ``pytest.importorskip("torch")`` first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st

import convtrace.nn as cnn

#: the dtypes NumPy and PyTorch's CPU convolution share (README: "Where convtrace deliberately differs")
DTYPES = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.complex64),
          np.dtype(np.complex128))  # fmt: skip


def torch_dtype(dtype: Any) -> Any:
    import torch

    return {
        np.dtype(np.float16): torch.float16, np.dtype(np.float32): torch.float32,
        np.dtype(np.float64): torch.float64, np.dtype(np.complex64): torch.complex64,
        np.dtype(np.complex128): torch.complex128,
    }[np.dtype(dtype)]  # fmt: skip


def short(dtype: Any) -> str:
    """'f16', 'f32', 'f64', 'c64', 'c128' (None stays 'None')."""
    if dtype is None:
        return "None"
    dt = np.dtype(dtype)
    return ("c" if dt.kind == "c" else "f") + str(dt.itemsize * 8)


@dataclass(frozen=True)
class ModuleCase:
    """Constructor arguments of one Conv1d / ConvTranspose1d (possibly invalid)."""

    transposed: bool
    in_channels: Any
    out_channels: Any
    kernel_size: Any
    stride: Any = 1
    padding: Any = 0
    dilation: Any = 1
    groups: Any = 1
    bias: bool = True
    padding_mode: Any = "zeros"
    output_padding: Any = 0
    dtype: Any = None  # NumPy dtype, or None: the default (float32)

    def kwargs(self) -> dict[str, Any]:
        kw: dict[str, Any] = dict(
            in_channels=self.in_channels, out_channels=self.out_channels, kernel_size=self.kernel_size,
            stride=self.stride, padding=self.padding, dilation=self.dilation, groups=self.groups,
            bias=self.bias, padding_mode=self.padding_mode,
        )  # fmt: skip
        if self.transposed:
            kw["output_padding"] = self.output_padding
        return kw

    def build(self, lib: str, **extra: Any) -> Any:
        """The module in ``lib`` ('torch' or 'convtrace'), same arguments and dtype."""
        if lib == "torch":
            import torch

            cls = torch.nn.ConvTranspose1d if self.transposed else torch.nn.Conv1d
            dt = None if self.dtype is None else torch_dtype(self.dtype)
            return cls(**self.kwargs(), dtype=dt)
        cls_c = cnn.ConvTranspose1d if self.transposed else cnn.Conv1d
        return cls_c(**self.kwargs(), dtype=self.dtype, **extra)

    @property
    def int_kernel(self) -> int:
        k = self.kernel_size
        return int(k[0]) if isinstance(k, (tuple, list)) else int(k)

    def weight_shape(self) -> tuple[int, int, int]:
        g = self.groups
        if self.transposed:
            return (self.in_channels, self.out_channels // g, self.int_kernel)
        return (self.out_channels, self.in_channels // g, self.int_kernel)


MODULE_FAULTS = (
    "groups", "in_not_divisible", "out_not_divisible", "kernel", "stride", "padding", "dilation",
    "output_padding", "padding_mode", "zero_in", "zero_out", "bad_tuple", "wrong_type",
)  # fmt: skip


#: what each fault draws in place of a valid value
_FAULT_VALUES: dict[str, tuple[str, list[Any]]] = {
    "groups": ("groups", [0, -1]),
    "kernel": ("k", [0, -1, (0,)]),
    "stride": ("stride", [0, -1]),
    "padding": ("padding", [-1, "full", "same", "valid", (-1,)]),
    "dilation": ("dilation", [0, -1, (0,)]),
    "output_padding": ("output_padding", [-1, 3, (4,)]),
    "padding_mode": ("mode", ["bogus", "Zeros", "reflect", "circular"]),
}


def inject_faults(draw: Any, args: dict[str, Any], faults: tuple[str, ...], count: int) -> dict[str, Any]:
    """``count`` distinct faults of ``faults`` injected into valid constructor ``args`` (keys
    groups, cin, cout, k, stride, padding, dilation, output_padding, mode); a new dict."""
    args = dict(args)
    for fault in draw(st.lists(st.sampled_from(faults), min_size=count, max_size=count, unique=True)):
        if fault in _FAULT_VALUES:
            key, values = _FAULT_VALUES[fault]
            args[key] = draw(st.sampled_from(values))
        elif fault in ("in_not_divisible", "out_not_divisible"):
            key = "cin" if fault.startswith("in") else "cout"
            # (another fault may have made the count or groups a non-int already: leave it)
            if isinstance(args[key], int) and isinstance(args["groups"], int) and args["groups"] > 1:
                args[key] += 1
        elif fault in ("zero_in", "zero_out"):
            args["cin" if fault == "zero_in" else "cout"] = 0
        elif fault == "bad_tuple":
            value = draw(st.sampled_from([(1, 1), (), (2, 2, 2)]))
            args[draw(st.sampled_from(["k", "stride", "padding", "dilation", "output_padding"]))] = value
        elif fault == "wrong_type":
            which = draw(st.sampled_from(["cin", "cout", "groups"]))
            args[which] = draw(st.sampled_from([1.0, "2", None]))
    return args


@st.composite
def module_cases(
    draw: Any, *, valid_only: bool = False, transposed: bool | None = None, dtypes: tuple[Any, ...] = DTYPES
) -> ModuleCase:
    """Constructor arguments over the whole space (small sizes), any supported module dtype;
    unless ``valid_only``, with 0-2 faults injected."""
    if transposed is None:
        transposed = draw(st.booleans())
    groups: Any = draw(st.sampled_from([1, 1, 2, 3]))
    cin: Any = groups * draw(st.integers(1, 2))
    cout: Any = groups * draw(st.integers(1, 2))
    ints = st.integers(1, 3)
    k: Any = draw(st.one_of(ints, ints.map(lambda v: (v,))))
    stride: Any = draw(ints)
    padding: Any = draw(st.integers(0, 3))
    if not transposed and draw(st.booleans()):
        padding = "valid" if stride != 1 else draw(st.sampled_from(["same", "valid"]))
    dilation: Any = draw(ints)
    output_padding: Any = draw(st.integers(0, max(stride, dilation) - 1))
    mode: Any = draw(
        st.sampled_from(["zeros"] if transposed else ["zeros", "reflect", "replicate", "circular"])
    )
    dtype = draw(st.sampled_from((None,) + tuple(dtypes)))
    n_faults = 0 if valid_only else draw(st.sampled_from([0, 1, 1, 2]))
    args = dict(groups=groups, cin=cin, cout=cout, k=k, stride=stride, padding=padding, dilation=dilation,
                output_padding=output_padding, mode=mode)
    args = inject_faults(draw, args, MODULE_FAULTS, n_faults)
    groups, cin, cout, k, stride = args["groups"], args["cin"], args["cout"], args["k"], args["stride"]
    padding, dilation, output_padding, mode = args["padding"], args["dilation"], args["output_padding"], args["mode"]
    return ModuleCase(
        transposed=transposed, in_channels=cin, out_channels=cout, kernel_size=k, stride=stride,
        padding=padding, dilation=dilation, groups=groups, bias=draw(st.booleans()), padding_mode=mode,
        output_padding=output_padding, dtype=dtype,
    )  # fmt: skip


@dataclass(frozen=True)
class Assignment:
    """What the user assigns after construction (None: leave the parameter as it is)."""

    weight_dtype: Any = None
    weight_shape: tuple[int, ...] | None = None  # None: the module's own shape
    bias: str = "keep"  # 'keep' | 'none' | 'array'
    bias_dtype: Any = None
    bias_shape: tuple[int, ...] | None = None


@st.composite
def assignments(draw: Any, case: ModuleCase, target: Any = None, *, wrong_shapes: bool = True) -> Assignment:
    """Assign weight and/or bias of any supported dtype (sometimes of a wrong shape); with a
    ``target`` dtype (the input's), that one half of the time, so that calls also succeed."""
    wshape = case.weight_shape()
    likely = (None,) + DTYPES if target is None else (None, target, target, target) + DTYPES
    weight_dtype = draw(st.sampled_from(likely))
    weight_shape = None
    if weight_dtype is not None and wrong_shapes and draw(st.integers(0, 5)) == 0:
        weight_shape = draw(
            st.sampled_from([
                (wshape[0], wshape[1], wshape[2] + 1), (wshape[0] + 1, wshape[1], wshape[2]),
                (wshape[0], wshape[1] + 1, wshape[2]), wshape[:2], (1,) + wshape,
            ])
        )  # fmt: skip
    bias = draw(st.sampled_from(["keep", "keep", "none", "array", "array"]))
    bias_dtype = (
        draw(st.sampled_from(DTYPES if target is None else (target,) * 4 + DTYPES))
        if bias == "array"
        else None
    )
    bias_shape = None
    if bias == "array" and wrong_shapes and draw(st.integers(0, 5)) == 0:
        n = case.out_channels
        bias_shape = draw(st.sampled_from([(n + 1,), (1, n), ()]))
    return Assignment(weight_dtype, weight_shape, bias, bias_dtype, bias_shape)
