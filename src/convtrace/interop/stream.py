"""PyTorch's offline forward of a streamed chain (imports torch): the third opinion
:func:`convtrace.stream.verify` asks for, with oneDNN on and off.

>>> import numpy as np
>>> from convtrace import nn
>>> from convtrace.stream import Pointwise
>>> chain = [nn.Conv1d(1, 2, 3, padding=1, dtype=np.float64, rng=0), Pointwise(np.tanh), nn.MaxPool1d(2)]
>>> x = np.random.default_rng(0).standard_normal((1, 1, 8))
>>> answers = torch_offline(chain, x)
>>> len(answers), answers[0].shape, bool(np.allclose(answers[0], nn.MaxPool1d(2)(np.tanh(chain[0](x)))))
(2, (1, 2, 4), True)
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..errors import ConvtraceError
from .torch import require_torch, to_numpy, to_tensor, to_torch_module

__all__ = ["torch_layer", "torch_offline"]


def torch_layer(m: Any) -> Any:
    """The PyTorch module (or function of a tensor) for one chain layer."""
    torch = require_torch()
    from .. import nn
    from ..stream import Pointwise

    if isinstance(m, (nn.Conv1d, nn.ConvTranspose1d)):
        return to_torch_module(m)
    if isinstance(m, Pointwise):
        return lambda t: torch.from_numpy(np.ascontiguousarray(m(to_numpy(t))))
    if isinstance(m, nn.MaxPool1d):
        return torch.nn.MaxPool1d(m.kernel_size, m.stride, m.padding, m.dilation, ceil_mode=m.ceil_mode)
    if isinstance(m, nn.AvgPool1d):
        return torch.nn.AvgPool1d(m.kernel_size, m.stride, m.padding, m.ceil_mode, m.count_include_pad)
    if isinstance(m, nn.LPPool1d):
        return torch.nn.LPPool1d(m.norm_type, m.kernel_size, m.stride, m.ceil_mode)
    if isinstance(m, nn.ConstantPad1d):
        return torch.nn.ConstantPad1d(tuple(m.padding), m.value)
    if isinstance(m, nn.ReflectionPad1d):
        return torch.nn.ReflectionPad1d(tuple(m.padding))
    if isinstance(m, nn.ReplicationPad1d):
        return torch.nn.ReplicationPad1d(tuple(m.padding))
    raise ConvtraceError("layers", type(m).__name__, "no PyTorch counterpart for this chain layer")


def torch_offline(layers: list[Any], x: np.ndarray) -> list[np.ndarray]:
    """The chain's output by PyTorch, with oneDNN on and with it off (two arrays)."""
    torch = require_torch()
    modules = [torch_layer(m) for m in layers]
    answers = []
    for enabled in (True, False):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            flags = torch.backends.mkldnn.flags(enabled=enabled)
            flags.__enter__()
        try:
            with torch.no_grad():
                t = to_tensor(x)
                for module in modules:
                    t = module(t)
                answers.append(to_numpy(t))
        finally:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                flags.__exit__(None, None, None)
    return answers
