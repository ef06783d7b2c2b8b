"""``torch.nn.Conv1d`` and ``torch.nn.ConvTranspose1d`` as NumPy modules.

Same constructor arguments, defaults, attribute names and weight layouts as PyTorch:
``Conv1d.weight`` is (out, in/groups, k), ``ConvTranspose1d.weight`` is (in, out/groups, k),
initialised from PyTorch's default distribution U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
PyTorch's default dtype is float32, and so is convtrace's here.

>>> import numpy as np
>>> m = Conv1d(1, 1, kernel_size=3, padding=1, bias=False)
>>> m.weight = np.ones((1, 1, 3), dtype=np.float32)
>>> m(np.ones((1, 1, 4), dtype=np.float32)).tolist()
[[[2.0, 3.0, 3.0, 2.0]]]
>>> m
Conv1d(1, 1, kernel_size=(3,), stride=(1,), padding=(1,), bias=False)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import functional as F
from .errors import ConvtraceError, ConvtraceTypeError
from .params import SUPPORTED_DTYPES, PaddingMode, parse_int_param, parse_padding, same_padding

__all__ = ["Conv1d", "ConvTranspose1d"]


def _single(name: str, value: Any, call: str) -> tuple[int]:
    return (parse_int_param(name, value, call),)


class _ConvNd:
    transposed: bool = False

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any,
        padding: Any,
        dilation: Any,
        output_padding: Any,
        groups: int,
        bias: bool,
        padding_mode: str,
        dtype: Any,
        rng: Any,
        call: str,
    ) -> None:
        for name, v in (("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
                raise ConvtraceTypeError(name, v, f"{name} must be an int", call=call)
        if groups <= 0:
            raise ConvtraceError("groups", groups, "groups must be a positive integer", call=call)
        if in_channels % groups != 0:
            raise ConvtraceError(
                "in_channels", in_channels, f"in_channels must be divisible by groups ({groups})", call=call
            )
        if out_channels % groups != 0:
            raise ConvtraceError(
                "out_channels", out_channels, f"out_channels must be divisible by groups ({groups})", call=call
            )
        if in_channels < 0 or out_channels < 0:
            raise ConvtraceError("in_channels", (in_channels, out_channels), "channel counts must be >= 0", call=call)
        self.kernel_size = _single("kernel_size", kernel_size, call)
        self.stride = _single("stride", stride, call)
        self.dilation = _single("dilation", dilation, call)
        self.output_padding = _single("output_padding", output_padding, call)
        if self.kernel_size[0] < 0:
            raise ConvtraceError("kernel_size", kernel_size, "kernel_size must be >= 0", call=call)
        pad = parse_padding(padding, call, allow_string=not self.transposed)
        if pad == "same" and self.stride[0] != 1:
            raise ConvtraceError(
                "padding", pad, "padding='same' is not supported for strided convolutions", call=call
            )
        try:
            mode = PaddingMode(padding_mode)
        except ValueError:
            raise ConvtraceError(
                "padding_mode",
                padding_mode,
                "padding_mode must be one of {'zeros', 'reflect', 'replicate', 'circular'}, "
                f"but got padding_mode={padding_mode!r}",
                call=call,
            ) from None
        if self.transposed and mode is not PaddingMode.ZEROS:
            raise ConvtraceError(
                "padding_mode",
                padding_mode,
                f'Only "zeros" padding mode is supported for {type(self).__name__}',
                call=call,
            )
        self.in_channels = int(in_channels)
        self.out_channels = int(out_channels)
        self.groups = int(groups)
        self.padding: tuple[int] | str = pad if isinstance(pad, str) else (int(pad),)
        self.padding_mode = mode.value
        k = self.kernel_size[0]
        if pad == "same":
            self._reversed_padding_repeated_twice = same_padding(k, self.dilation[0]) if k else (0, 0)
        elif pad == "valid":
            self._reversed_padding_repeated_twice = (0, 0)
        else:
            self._reversed_padding_repeated_twice = (int(pad), int(pad))
        self._dtype = _dtype(dtype, call)
        self._weight_shape = (
            (self.in_channels, self.out_channels // self.groups, k)
            if self.transposed
            else (self.out_channels, self.in_channels // self.groups, k)
        )
        self._weight = np.empty(self._weight_shape, dtype=self._dtype)
        self._bias: np.ndarray | None = np.empty((self.out_channels,), dtype=self._dtype) if bias else None
        self.reset_parameters(rng)

    # -- parameters ---------------------------------------------------------------------

    def reset_parameters(self, rng: Any = None) -> None:
        """Re-draw weight and bias from PyTorch's default distribution (kaiming_uniform, a=√5).

        ``rng`` is a ``numpy.random.Generator`` or a seed; the values follow PyTorch's
        distribution, not its random stream.
        """
        gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        fan_in = self._weight_shape[1] * self._weight_shape[2]
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        self._weight = _uniform(gen, bound, self._weight_shape, self._dtype)
        if self._bias is not None:
            self._bias = _uniform(gen, bound, (self.out_channels,), self._dtype)

    @property
    def weight(self) -> np.ndarray:
        return self._weight

    @weight.setter
    def weight(self, value: Any) -> None:
        self._weight = self._checked("weight", value, self._weight_shape)

    @property
    def bias(self) -> np.ndarray | None:
        return self._bias

    @bias.setter
    def bias(self, value: Any) -> None:
        self._bias = None if value is None else self._checked("bias", value, (self.out_channels,))

    @property
    def dtype(self) -> np.dtype:
        return self._dtype

    def _checked(self, name: str, value: Any, shape: tuple[int, ...]) -> np.ndarray:
        call = f"{type(self).__name__}.{name} = ..."
        arr = np.array(value, copy=True)  # the module owns its parameters
        if arr.shape != shape:
            raise ConvtraceError(
                name, arr, f"{name} of {self!r} must have shape {list(shape)}, got {list(arr.shape)}", call=call
            )
        if arr.dtype != self._dtype:
            raise ConvtraceError(
                name,
                arr,
                f"{name} must have the module's dtype {self._dtype}, got {arr.dtype} "
                f"(convert the module with .to({arr.dtype.name}) first)",
                call=call,
            )
        return arr

    def to(self, dtype: Any) -> _ConvNd:
        """Cast weight and bias to ``dtype`` in place and return the module (as ``Module.to``)."""
        self._dtype = _dtype(dtype, f"{type(self).__name__}.to({dtype!r})")
        self._weight = self._weight.astype(self._dtype)
        if self._bias is not None:
            self._bias = self._bias.astype(self._dtype)
        return self

    def parameters(self) -> list[np.ndarray]:
        return [self._weight] + ([] if self._bias is None else [self._bias])

    # -- interop ------------------------------------------------------------------------

    @classmethod
    def from_torch(cls, module: Any) -> Any:
        """Build a convtrace module from a ``torch.nn`` one, weights copied."""
        from .interop.torch import from_torch_module

        m = from_torch_module(module)
        if not isinstance(m, cls):
            raise ConvtraceTypeError(
                "module", module, f"expected a torch.nn.{cls.__name__}, got {type(module).__name__}"
            )
        return m

    def to_torch(self) -> Any:
        """The equivalent ``torch.nn`` module, weights copied (imports torch)."""
        from .interop.torch import to_torch_module

        return to_torch_module(self)

    # -- repr ---------------------------------------------------------------------------

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,):
            s += f", padding={self.padding}"  # PyTorch shows a padding string unquoted
        if self.dilation != (1,):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self._bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"


def _dtype(dtype: Any, call: str) -> np.dtype:
    dt = np.dtype(np.float32 if dtype is None else dtype)
    if dt not in SUPPORTED_DTYPES:
        raise ConvtraceTypeError(
            "dtype", dtype, "dtype must be one of " + ", ".join(str(d) for d in SUPPORTED_DTYPES), call=call
        )
    return dt


def _uniform(gen: np.random.Generator, bound: float, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    if dtype.kind == "c":
        # PyTorch's uniform_ on complex draws real and imaginary parts independently.
        real_dt = np.float32 if dtype == np.complex64 else np.float64
        parts = gen.uniform(-bound, bound, size=shape + (2,)).astype(real_dt)
        return (parts[..., 0] + 1j * parts[..., 1]).astype(dtype)
    return gen.uniform(-bound, bound, size=shape).astype(dtype)


class Conv1d(_ConvNd):
    """``torch.nn.Conv1d`` in NumPy: every ``padding_mode``, 'same'/'valid' padding, groups.

    >>> import numpy as np
    >>> m = Conv1d(2, 4, 3, padding="same", padding_mode="reflect", rng=0)
    >>> m.weight.shape, m.bias.shape, m(np.zeros((2, 10), dtype=np.float32)).shape
    ((4, 2, 3), (4,), (4, 10))
    """

    transposed = False

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
        *,
        rng: Any = None,
    ) -> None:
        call = (
            f"Conv1d({in_channels!r}, {out_channels!r}, kernel_size={kernel_size!r}, stride={stride!r}, "
            f"padding={padding!r}, dilation={dilation!r}, groups={groups!r}, bias={bias!r}, "
            f"padding_mode={padding_mode!r})"
        )
        _device(device, call)
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, dilation, 0, groups, bias,
            padding_mode, dtype, rng, call,
        )

    def forward(self, input: Any) -> np.ndarray:
        if self.padding_mode != "zeros":
            x = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return F.conv1d(x, self._weight, self._bias, self.stride, 0, self.dilation, self.groups)
        return F.conv1d(input, self._weight, self._bias, self.stride, self.padding, self.dilation, self.groups)

    __call__ = forward


class ConvTranspose1d(_ConvNd):
    """``torch.nn.ConvTranspose1d`` in NumPy, with ``output_size`` at call time.

    >>> import numpy as np
    >>> m = ConvTranspose1d(1, 1, 3, stride=2, bias=False, rng=0)
    >>> m(np.zeros((1, 1, 5), dtype=np.float32), output_size=[12]).shape
    (1, 1, 12)
    """

    transposed = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        output_padding: Any = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: Any = 1,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
        *,
        rng: Any = None,
    ) -> None:
        call = (
            f"ConvTranspose1d({in_channels!r}, {out_channels!r}, kernel_size={kernel_size!r}, "
            f"stride={stride!r}, padding={padding!r}, output_padding={output_padding!r}, "
            f"groups={groups!r}, bias={bias!r}, dilation={dilation!r}, padding_mode={padding_mode!r})"
        )
        _device(device, call)
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, dilation, output_padding, groups,
            bias, padding_mode, dtype, rng, call,
        )

    def _output_padding(self, x: np.ndarray, output_size: Any) -> int:
        if output_size is None:
            return self.output_padding[0]
        call = f"{self!r}(input=<{list(x.shape)} {x.dtype}>, output_size={output_size!r})"
        if isinstance(output_size, (str, bytes)) or not hasattr(output_size, "__iter__"):
            raise ConvtraceTypeError(
                "output_size", output_size, "output_size must be a sequence of ints", call=call
            )
        size = list(output_size)
        if not all(isinstance(v, (int, np.integer)) for v in size):  # PyTorch takes no floats here
            raise ConvtraceTypeError(
                "output_size", output_size, "output_size must be a sequence of ints", call=call
            )
        size = [int(v) for v in size]
        non_spatial = 2 if x.ndim == 3 else 1
        if len(size) == non_spatial + 1:
            size = size[non_spatial:]
        if len(size) != 1:
            raise ConvtraceError(
                "output_size",
                output_size,
                f"ConvTranspose1D: for {x.ndim}D input, output_size must have 1 or {non_spatial + 1} "
                f"elements (got {len(size)})",
                call=call,
            )
        length = x.shape[-1]
        pad = self.padding[0] if isinstance(self.padding, tuple) else 0
        lo = (length - 1) * self.stride[0] - 2 * pad + self.dilation[0] * (self.kernel_size[0] - 1) + 1
        hi = lo + self.stride[0] - 1
        if not lo <= size[0] <= hi:
            raise ConvtraceError(
                "output_size",
                output_size,
                f"requested an output size of {size}, but valid sizes range from [{lo}] to [{hi}] "
                f"(for an input of [{length}])",
                call=call,
            )
        return size[0] - lo

    def forward(self, input: Any, output_size: Any = None) -> np.ndarray:
        x = np.asarray(input)
        op = self._output_padding(x, output_size) if x.ndim in (2, 3) else self.output_padding[0]
        pad = self.padding if isinstance(self.padding, tuple) else self.padding
        return F.conv_transpose1d(
            input, self._weight, self._bias, self.stride, pad, op, self.groups, self.dilation
        )

    __call__ = forward


def _device(device: Any, call: str) -> None:
    if device not in (None, "cpu"):
        raise ConvtraceError("device", device, "convtrace computes on the CPU only: use device=None or 'cpu'", call=call)
