"""``torch.nn.Conv1d`` and ``torch.nn.ConvTranspose1d`` as NumPy modules, and the 1-D pooling
and padding modules (``MaxPool1d`` ... ``CircularPad1d``).

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

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from . import functional
from .errors import ConvtraceError
from .functional import run_spec
from .params import (
    LayerSpec,
    as_ntuple,
    check_conv1d,
    check_conv_transpose1d,
    is_number,
    resolve_dtype,
    resolve_layer,
)

__all__ = [
    "Conv1d",
    "ConvTranspose1d",
    "MaxPool1d",
    "AvgPool1d",
    "LPPool1d",
    "AdaptiveAvgPool1d",
    "AdaptiveMaxPool1d",
    "MaxUnpool1d",
    "ConstantPad1d",
    "ZeroPad1d",
    "ReflectionPad1d",
    "ReplicationPad1d",
    "CircularPad1d",
]


class _ConvNd:
    transposed: bool = False

    def __init__(self, layer: LayerSpec, rng: Any) -> None:
        self.in_channels = layer.in_channels
        self.out_channels = layer.out_channels
        self.kernel_size = (layer.kernel_size,)
        self.stride = (layer.stride,)
        self.dilation = (layer.dilation,)
        self.output_padding = (layer.output_padding,)
        self.groups = layer.groups
        self.padding: tuple[int] | str = layer.padding if isinstance(layer.padding, str) else (layer.padding,)
        self.padding_mode = layer.padding_mode.value
        self._reversed_padding_repeated_twice = layer.pad_pair
        self._dtype = layer.dtype
        self._weight_shape = layer.weight_shape
        self._weight = np.empty(self._weight_shape, dtype=self._dtype)
        self._bias: np.ndarray | None = (
            np.empty((self.out_channels,), dtype=self._dtype) if layer.has_bias else None
        )
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
        """A parameter assigned by the user: a copy (the module owns it) of the right shape.
        Any supported dtype is accepted, as PyTorch accepts a Parameter of another dtype: the
        next forward then follows the usual dtype rules."""
        call = f"{type(self).__name__}.{name} = ..."
        arr = np.array(value, copy=True)
        if arr.dtype.kind in "iubf" and not isinstance(value, np.ndarray):
            arr = arr.astype(self._dtype)  # Python numbers: the module's dtype (as torch.tensor)
        resolve_dtype(arr.dtype, call)
        if arr.shape != shape:
            raise ConvtraceError(
                name, arr, f"{name} of {self!r} must have shape {list(shape)}, got {list(arr.shape)}", call=call
            )
        return arr

    @contextlib.contextmanager
    def _dtype_advice(self, input: Any) -> Iterator[None]:
        """PyTorch's dtype error, with the fix a NumPy user needs (NumPy makes float64 arrays;
        the module, like PyTorch's, is float32)."""
        try:
            yield
        except ConvtraceError as err:
            if not err.rule.startswith("expected scalar type"):
                raise
            given = getattr(input, "dtype", "float64")
            hint = (f"convert the input: x.astype(np.{self._weight.dtype}), or build the module with "
                    f"dtype=np.{given} (or call .to(np.{given}))")
            raise type(err)(err.param, err.value, err.rule, call=err.call, hint=hint) from None

    def to(self, dtype: Any) -> _ConvNd:
        """Cast weight and bias to ``dtype`` in place and return the module (as ``Module.to``)."""
        self._dtype = resolve_dtype(dtype, f"{type(self).__name__}.to({dtype!r})")
        self._weight = self._weight.astype(self._dtype)
        if self._bias is not None:
            self._bias = self._bias.astype(self._dtype)
        return self

    def parameters(self) -> list[np.ndarray]:
        return [self._weight] + ([] if self._bias is None else [self._bias])

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
            resolve_layer(
                transposed=False, in_channels=in_channels, out_channels=out_channels,
                kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation,
                groups=groups, bias=bias, padding_mode=padding_mode, dtype=dtype, call=call,
            ),
            rng,
        )

    def forward(self, input: Any) -> np.ndarray:
        padding = self.padding if isinstance(self.padding, str) else self.padding[0]
        with self._dtype_advice(input):
            args = check_conv1d(
                input, self._weight, self._bias, self.stride[0], padding, self.dilation[0], self.groups,
                padding_mode=self.padding_mode,
            )
        return run_spec(*args)

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
            resolve_layer(
                transposed=True, in_channels=in_channels, out_channels=out_channels,
                kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation,
                groups=groups, bias=bias, padding_mode=padding_mode, output_padding=output_padding,
                dtype=dtype, call=call,
            ),
            rng,
        )

    def forward(self, input: Any, output_size: Any = None) -> np.ndarray:
        if output_size is not None and (isinstance(output_size, (str, bytes)) or not hasattr(output_size, "__iter__")):
            # nn.ConvTranspose1d takes a sequence here (the functional explainer also takes an int)
            from .shapes import output_padding_for_size

            output_padding_for_size(output_size, 3, 1, 1, 1, 0, 1, call=f"{self!r}(input, output_size={output_size!r})")
        with self._dtype_advice(input):
            args = check_conv_transpose1d(
                input, self._weight, self._bias, self.stride[0], self.padding[0], self.output_padding[0],
                self.groups, self.dilation[0], output_size=output_size,
            )
        return run_spec(*args)

    __call__ = forward


def _device(device: Any, call: str) -> None:
    if device not in (None, "cpu"):
        raise ConvtraceError("device", device, "convtrace computes on the CPU only: use device=None or 'cpu'", call=call)


# --------------------------------------------------------------------------- pools and pads
#
# PyTorch's pooling and padding modules check nothing when they are made (``MaxPool1d(0)`` is
# a module; calling it raises): these store their arguments as PyTorch does (the same
# attributes, the same ``repr``) and their call is the functional one, with its rules.


class _Stateless:
    """A module without parameters: ``repr`` as PyTorch's (``Name(extra_repr)``)."""

    def extra_repr(self) -> str:
        return ""

    def parameters(self) -> list[np.ndarray]:
        return []

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"


class MaxPool1d(_Stateless):
    """``torch.nn.MaxPool1d`` (note: ``return_indices`` before ``ceil_mode``, unlike the functional).

    >>> import numpy as np
    >>> m = MaxPool1d(2, ceil_mode=True, return_indices=True)
    >>> m
    MaxPool1d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=True)
    >>> m(np.array([[1.0, 4.0, 2.0, 3.0, 5.0]]))
    (array([[4., 3., 5.]]), array([[1, 3, 4]]))
    """

    def __init__(
        self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
        return_indices: bool = False, ceil_mode: bool = False,
    ) -> None:
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )

    def forward(self, input: Any) -> Any:
        return functional.max_pool1d(
            input, self.kernel_size, self.stride, self.padding, self.dilation,
            ceil_mode=self.ceil_mode, return_indices=self.return_indices,
        )

    __call__ = forward


class AvgPool1d(_Stateless):
    """``torch.nn.AvgPool1d``.

    >>> import numpy as np
    >>> m = AvgPool1d(3, stride=2, padding=1, ceil_mode=True)
    >>> m
    AvgPool1d(kernel_size=(3,), stride=(2,), padding=(1,))
    >>> m(np.arange(1.0, 7.0)[None]).tolist()
    [[1.0, 3.0, 5.0, 3.0]]
    """

    def __init__(
        self, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:
        self.kernel_size = as_ntuple(kernel_size, 1)
        self.stride = as_ntuple(stride if stride is not None else kernel_size, 1)
        self.padding = as_ntuple(padding, 1)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input: Any) -> np.ndarray:
        return functional.avg_pool1d(
            input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad
        )

    __call__ = forward


class LPPool1d(_Stateless):
    """``torch.nn.LPPool1d`` (its call passes ``float(norm_type)``, as PyTorch's does).

    >>> import numpy as np
    >>> m = LPPool1d(2, 2, ceil_mode=True)
    >>> m
    LPPool1d(norm_type=2, kernel_size=2, stride=None, ceil_mode=True)
    >>> m(np.ones((1, 5))).round(4).tolist()
    [[1.4142, 1.4142, 1.4142]]
    """

    def __init__(self, norm_type: Any, kernel_size: Any, stride: Any = None, ceil_mode: bool = False) -> None:
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return (
            f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"ceil_mode={self.ceil_mode}"
        )

    def forward(self, input: Any) -> np.ndarray:
        norm_type = float(self.norm_type) if is_number(self.norm_type) else self.norm_type
        return functional.lp_pool1d(input, norm_type, self.kernel_size, self.stride, self.ceil_mode)

    __call__ = forward


class AdaptiveAvgPool1d(_Stateless):
    """``torch.nn.AdaptiveAvgPool1d``.

    >>> import numpy as np
    >>> AdaptiveAvgPool1d(3)(np.arange(5.0)[None]).tolist()
    [[0.5, 2.0, 3.5]]
    """

    def __init__(self, output_size: Any) -> None:
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"

    def forward(self, input: Any) -> np.ndarray:
        return functional.adaptive_avg_pool1d(input, self.output_size)

    __call__ = forward


class AdaptiveMaxPool1d(_Stateless):
    """``torch.nn.AdaptiveMaxPool1d``.

    >>> import numpy as np
    >>> AdaptiveMaxPool1d(2, return_indices=True)(np.array([[3.0, 1.0, 2.0]]))
    (array([[3., 2.]]), array([[0, 2]]))
    """

    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        self.output_size = output_size
        self.return_indices = return_indices

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"

    def forward(self, input: Any) -> Any:
        return functional.adaptive_max_pool1d(input, self.output_size, self.return_indices)

    __call__ = forward


class MaxUnpool1d(_Stateless):
    """``torch.nn.MaxUnpool1d``, with ``output_size`` at call time.

    >>> import numpy as np
    >>> pool, unpool = MaxPool1d(2, return_indices=True), MaxUnpool1d(2)
    >>> unpool
    MaxUnpool1d(kernel_size=(2,), stride=(2,), padding=(0,))
    >>> unpool(*pool(np.array([[1.0, 4.0, 2.0, 3.0, 5.0]])), output_size=(5,)).tolist()
    [[0.0, 4.0, 0.0, 3.0, 0.0]]
    """

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        self.kernel_size = as_ntuple(kernel_size, 1)
        self.stride = as_ntuple(stride if stride is not None else kernel_size, 1)
        self.padding = as_ntuple(padding, 1)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input: Any, indices: Any, output_size: Any = None) -> np.ndarray:
        return functional.max_unpool1d(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    __call__ = forward


class _Pad1d(_Stateless):
    """A padding module: ``functional.pad`` of the last dimension in ``mode``."""

    mode = "constant"

    def __init__(self, padding: Any) -> None:
        self.padding = as_ntuple(padding, 2)

    def extra_repr(self) -> str:
        return f"{self.padding}"

    def forward(self, input: Any) -> np.ndarray:
        return functional.pad(input, self.padding, self.mode)

    __call__ = forward


class ConstantPad1d(_Pad1d):
    """``torch.nn.ConstantPad1d``.

    >>> import numpy as np
    >>> m = ConstantPad1d((1, 2), 3.5)
    >>> m, m(np.array([[1.0, 2.0]])).tolist()
    (ConstantPad1d(padding=(1, 2), value=3.5), [[3.5, 1.0, 2.0, 3.5, 3.5]])
    """

    def __init__(self, padding: Any, value: Any) -> None:
        super().__init__(padding)
        self.value = value

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"

    def forward(self, input: Any) -> np.ndarray:
        return functional.pad(input, self.padding, "constant", self.value)

    __call__ = forward


class ZeroPad1d(ConstantPad1d):
    """``torch.nn.ZeroPad1d``.

    >>> import numpy as np
    >>> m = ZeroPad1d(2)
    >>> m, m(np.array([[1.0]])).tolist()
    (ZeroPad1d((2, 2)), [[0.0, 0.0, 1.0, 0.0, 0.0]])
    """

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReflectionPad1d(_Pad1d):
    """``torch.nn.ReflectionPad1d`` (each pad smaller than the length).

    >>> import numpy as np
    >>> ReflectionPad1d(2)(np.array([[1.0, 2.0, 3.0]])).tolist()
    [[3.0, 2.0, 1.0, 2.0, 3.0, 2.0, 1.0]]
    """

    mode = "reflect"


class ReplicationPad1d(_Pad1d):
    """``torch.nn.ReplicationPad1d``.

    >>> import numpy as np
    >>> ReplicationPad1d((1, 2))(np.array([[1.0, 2.0]])).tolist()
    [[1.0, 1.0, 2.0, 2.0, 2.0]]
    """

    mode = "replicate"


class CircularPad1d(_Pad1d):
    """``torch.nn.CircularPad1d`` (each pad at most the length).

    >>> import numpy as np
    >>> CircularPad1d(1)(np.array([[1.0, 2.0, 3.0]])).tolist()
    [[3.0, 1.0, 2.0, 3.0, 1.0]]
    """

    mode = "circular"
