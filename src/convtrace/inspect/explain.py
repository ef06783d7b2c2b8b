"""Explain one output element of one layer of a real model, with its own weights and the
layer's actual input: the model runs (on real tensors) up to that layer, a hook takes the
layer's input and output and stops the pass, and :func:`convtrace.explain` writes the
element out step by step; PyTorch's value is the layer's real output there. The layer is a
Conv1d, a ConvTranspose1d or a pool (``explain(op=...)``: MaxPool1d, AvgPool1d, LPPool1d,
AdaptiveAvgPool1d, AdaptiveMaxPool1d, and MaxUnpool1d with the indices it was given).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ConvtraceError
from ..plan.report import Shown

__all__ = ["LayerExplanation", "explain_layer", "MAX_INPUT_ELEMENTS"]

#: the largest input (elements) an explanation run may allocate
MAX_INPUT_ELEMENTS = 1 << 26


class _Stop(Exception):
    """Raised by the hook: the layer has run, the rest of the model need not."""


@dataclass(frozen=True, repr=False)
class LayerExplanation(Shown):
    """``trace``: convtrace's step-by-step explanation of ``at``; ``torch_value``: PyTorch's
    output there; ``value``: convtrace's; ``match``: equal within the dtype's tolerance."""

    layer: str
    type: str
    at: tuple[int, int, int]
    trace: Any
    value: float
    torch_value: float
    match: bool

    def __repr__(self) -> str:
        n, c, t = self.at
        verdict = "equal" if self.match else "DIFFERENT"
        return f"<LayerExplanation {self.layer} ({self.type}) y[{n}, {c}, {t}] = {self.value:.9g}, PyTorch {self.torch_value:.9g}: {verdict}>"

    def mime_bundle(
        self, lang: str = "en", include: Collection[str] | None = None, exclude: Collection[str] | None = None
    ) -> tuple[dict[str, str], dict[str, Any]]:
        """Jupyter's bundle in ``lang``: the report's text and HTML, with the explained
        element's figure (SVG, and PNG with the viz extra) above the HTML (see
        :mod:`convtrace.draw.bundle`)."""
        from ..draw.build import build_figure
        from ..draw.bundle import figure_bundle, figure_html

        return figure_bundle(build_figure(self.trace, None, lang), lambda: self.render(lang),
                             lambda markup: figure_html(markup) + self.to_html(lang), include, exclude)  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        return {"layer": self.layer, "type": self.type, "at": list(self.at), "value": self.value,
                "torch_value": self.torch_value, "match": self.match, "trace": self.trace.to_json()}  # fmt: skip


def explain_layer(model: Any, layer: str, at: Sequence[int], input_shape: Sequence[int] | None = None,
                  example_input: Any = None, *, seed: int = 0) -> LayerExplanation:  # fmt: skip
    """Explain ``y[n, c, t]`` of the Conv1d / ConvTranspose1d / pool named ``layer`` (a
    qualified module name), on ``example_input`` or a seeded standard-normal input of
    ``input_shape``."""
    import math

    import torch

    module = dict(model.named_modules()).get(layer)
    kinds = (torch.nn.Conv1d, torch.nn.ConvTranspose1d, *_pool_ops())
    if not isinstance(module, kinds):
        names = [n for n, m in model.named_modules() if isinstance(m, kinds)][:8]
        raise ConvtraceError("layer", layer, f"not a Conv1d / ConvTranspose1d / pool of the model; e.g. {', '.join(names)}")
    position = tuple(int(v) for v in at)
    if len(position) != 3:
        raise ConvtraceError("at", at, "at must be n,c,t (three indices)")
    if example_input is None:
        if input_shape is None or math.prod(int(v) for v in input_shape) > MAX_INPUT_ELEMENTS:
            raise ConvtraceError("input_shape", input_shape, f"give an input shape of at most {MAX_INPUT_ELEMENTS} elements")
        generator = torch.Generator().manual_seed(seed)
        example_input = torch.randn(tuple(int(v) for v in input_shape), generator=generator, dtype=_dtype(model))
    captured = _capture(model, module, example_input)
    return _explain(layer, module, position, *captured)


def _dtype(model: Any) -> Any:
    import torch

    return next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)


def _pool_ops() -> dict[Any, str]:
    """The torch.nn pool classes and their functional names."""
    import torch

    nn = torch.nn
    return {nn.MaxPool1d: "max_pool1d", nn.AvgPool1d: "avg_pool1d", nn.LPPool1d: "lp_pool1d",
            nn.AdaptiveAvgPool1d: "adaptive_avg_pool1d", nn.AdaptiveMaxPool1d: "adaptive_max_pool1d",
            nn.MaxUnpool1d: "max_unpool1d"}  # fmt: skip


def _capture(model: Any, module: Any, example: Any) -> tuple[Any, Any, Any]:
    """The layer's input, its output (the values, for a pool that returns indices too) and,
    for MaxUnpool1d, the indices it was given."""
    import torch

    seen: dict[str, Any] = {}

    def hook(mod: Any, args: Any, kwargs: Any, output: Any) -> None:
        out = output[0] if isinstance(output, tuple) else output
        seen["input"], seen["output"] = args[0].detach(), out.detach()
        indices = args[1] if len(args) > 1 else kwargs.get("indices")
        seen["indices"] = indices.detach() if isinstance(indices, torch.Tensor) else None
        raise _Stop

    flags = [(m, m.training) for m in model.modules()]
    handle = module.register_forward_hook(hook, with_kwargs=True)
    try:
        model.eval()
        with torch.no_grad():
            model(example)
    except _Stop:
        pass
    finally:
        handle.remove()
        for mod, flag in flags:
            mod.training = flag
    if "input" not in seen:
        raise ConvtraceError("layer", type(module).__name__, "the forward pass never reached this layer")
    return seen["input"], seen["output"], seen["indices"]


def _pool_arguments(module: Any, y: Any, indices: Any) -> dict[str, Any]:
    """``explain(op=...)``'s arguments for a pool module (its attributes, as PyTorch's
    functional call receives them).

    >>> import torch
    >>> _pool_arguments(torch.nn.AvgPool1d(3, 2, 1, ceil_mode=True), torch.zeros(1, 1, 4), None)
    {'op': 'avg_pool1d', 'kernel_size': 3, 'stride': 2, 'padding': 1, 'ceil_mode': True, 'count_include_pad': True}
    """
    op = next(name for cls, name in _pool_ops().items() if isinstance(module, cls))

    def one(value: Any) -> Any:
        return value[0] if isinstance(value, (tuple, list)) else value

    found: dict[str, Any] = {"op": op}
    if op.startswith("adaptive_"):
        found["output_size"] = one(module.output_size)
        return found
    if op == "lp_pool1d":
        found["norm_type"] = module.norm_type
    found.update(kernel_size=one(module.kernel_size), stride=one(module.stride))
    if op != "lp_pool1d":
        found["padding"] = one(module.padding)
    if op == "max_pool1d":
        found["dilation"] = one(module.dilation)
    if op != "max_unpool1d":
        found["ceil_mode"] = bool(module.ceil_mode)
    if op == "avg_pool1d":
        found["count_include_pad"] = bool(module.count_include_pad)
    if op == "max_unpool1d":
        found.update(indices=indices.cpu().numpy(), output_size=[int(y.shape[-1])])
    return found


def _explain(name: str, module: Any, at: tuple[int, int, int], x: Any, y: Any, indices: Any) -> LayerExplanation:
    import torch

    from ..explainer import explain

    if any(not 0 <= a < s for a, s in zip(at, y.shape)) or y.dim() != 3:
        raise ConvtraceError("at", at, f"at must lie inside the layer's output of shape {tuple(y.shape)}")
    if isinstance(module, tuple(_pool_ops())):
        trace = explain(input=x.cpu().numpy(), at=at, verify=True, **_pool_arguments(module, y, indices))
        return _compared(name, module, at, x, y, trace)
    transposed = isinstance(module, torch.nn.ConvTranspose1d)
    with torch.no_grad():
        weight = module.weight.detach().cpu().numpy()
        # a tuple, not an array: explain()'s fill check compares bias with True/False/None
        bias = None if module.bias is None else tuple(module.bias.detach().cpu().numpy().tolist())
    kwargs: dict[str, Any] = {"stride": module.stride[0], "dilation": module.dilation[0], "groups": module.groups,
                              "padding_mode": module.padding_mode, "at": at, "transposed": transposed}  # fmt: skip
    if transposed:
        kwargs.update(padding=module.padding[0], output_size=int(y.shape[-1]))
    else:
        kwargs.update(padding=module.padding if isinstance(module.padding, str) else module.padding[0])
    trace = explain(input=x.cpu().numpy(), weight=weight, bias=bias, verify=True, **kwargs)
    return _compared(name, module, at, x, y, trace)


def _compared(name: str, module: Any, at: tuple[int, int, int], x: Any, y: Any, trace: Any) -> LayerExplanation:
    """convtrace's value of the explained element beside PyTorch's."""
    import numpy as np
    import torch

    step = trace.steps[0]
    value = complex(step.value).real if not isinstance(step.value, (int, float)) else float(step.value)
    torch_value = float(y[at].item())
    tolerance = 1e-4 if x.dtype in (torch.float32, torch.float16) else 1e-9
    match = bool(np.isclose(value, torch_value, rtol=tolerance, atol=tolerance * max(1.0, abs(torch_value))))
    return LayerExplanation(name, type(module).__name__, at, trace, float(value), torch_value, match)
