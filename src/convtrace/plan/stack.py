"""A stack of 1-D layers: the compact syntax, and its arithmetic — per layer the length
in → out, receptive field, hop and offset; for the whole stack the receptive field, total
hop, offset, lookahead (causal or not), upsampling factor and multiply-adds.

Definitions (used everywhere, and in JSON under these names): output index ``t`` depends
on input indices ``[t*hop - offset, t*hop - offset + receptive_field - 1]``. ``lookahead``
is how many input samples after ``t*hop`` an output depends on (the algorithmic delay a
streaming model needs); ``causal`` means it is 0 or less. For ConvTranspose1d ``hop`` is
``1/stride`` and ``upsampling`` is ``stride``; the inverse view (which input frames feed
output sample ``n``) is ``feeds``: frames ``ceil((n + a)/stride) .. floor((n + b)/stride)``.
When hops do not line up (an upsampling layer between strided ones) the range above is a
bound that holds for every ``t`` and ``exact`` is False; ``max_span`` is then the largest
number of input samples one output really depends on.

The stack syntax
----------------

Layers are separated by ``;`` or new lines; ``#`` starts a comment. A layer is a kind
followed by ``key=value`` settings (spaces between them, none around ``=``)::

    conv k=7 p=3; 4x(conv k=4 s=2 p=1); convT k=8 s=4 p=2; maxpool k=2

kinds (case-insensitive): ``conv`` (Conv1d; also ``conv1d``), ``convT`` (ConvTranspose1d;
also ``convtranspose1d``, ``deconv``, ``tconv``), the pools ``maxpool``, ``avgpool``,
``lppool``, ``adaptiveavgpool``, ``adaptivemaxpool``, ``maxunpool`` (also with ``1d``:
``maxpool1d``, ...; ``unpool`` for ``maxunpool``), ``pad`` and ``crop`` (``F.pad`` on the time
axis: ``l=``, ``r=``; crop is a negative pad).

The pools take PyTorch's parameters: ``maxpool k s p d ceil``, ``avgpool k s p ceil cip``,
``lppool norm k s ceil`` (LPPool1d's ``norm_type``; ``p=`` is the norm there too, as LPPool1d
has no padding), ``adaptiveavgpool o`` and ``adaptivemaxpool o`` (``output_size``; their
windows ``[floor(i*L/O), ceil((i+1)*L/O))`` depend on the input length ``L``, so the figures
of the stack after one are not fixed numbers: they are reported as length-dependent), and
``maxunpool k s p o`` (``o``: the optional ``output_size``).

keys (PyTorch's name or its short form):

=====================  =====  ==================================================
``kernel_size``        ``k``  required for conv, convT and pools
``stride``             ``s``  default 1; pools default to ``k``, as in PyTorch
``padding``            ``p``  an int; for conv also ``same``, ``valid``,
                              ``causal`` (``F.pad`` of ``d*(k-1)`` on the left) or
                              ``L,R`` (``F.pad`` of L left, R right, then Conv1d)
``dilation``           ``d``  default 1
``groups``             ``g``  default 1
``output_padding``     ``op`` convT only
``out_channels``       ``c``  default: the input's channel count
``ceil_mode``          ``ceil``  pools: 0/1
``count_include_pad``  ``cip``   avgpool: 0/1
``padding_mode``       ``mode``  zeros, reflect, replicate, circular
``norm_type``          ``norm``  lppool: the p of the p-norm
``output_size``        ``o``     adaptive pools (required), maxunpool
``bias``                      0/1 (default 1; parameters only)
``name``                      a label for the report
=====================  =====  ==================================================

Repetition: ``4x(...)`` or ``4x conv ...`` repeats a layer or a parenthesised group
(groups nest; ``×`` and ``*`` work too).

>>> layers = parse_stack("conv k=7 p=3; 4x(conv k=4 s=2 p=1); convT k=8 s=4 p=2; maxpool k=2")
>>> [layer.describe() for layer in layers][:2], len(layers)
(['conv k=7 p=3', 'conv k=4 s=2 p=1'], 7)
>>> r = analyse_stack(parse_stack("conv k=3 s=2; conv k=3 s=2"), 100)
>>> r.out_length, r.receptive_field, r.hop, r.offset, r.lookahead
(24, Fraction(7, 1), Fraction(4, 1), Fraction(0, 1), Fraction(6, 1))
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .. import shapes
from ..errors import ConvtraceError
from .layers import ADAPTIVE_POOLS, POOLS, SLIDING_POOLS, Layer
from .report import Finding, Shown, to_jsonable
from .shape import check_length, unread, unread_findings

__all__ = [
    "parse_stack",
    "analyse_stack",
    "figures",
    "dependence",
    "dependence_ranges",
    "Figures",
    "LayerReport",
    "StackReport",
    "conv",
    "conv_t",
    "max_pool",
    "avg_pool",
    "lp_pool",
    "adaptive_avg_pool",
    "adaptive_max_pool",
    "max_unpool",
    "pad",
    "MAX_LAYERS",
]

#: the most layers a stack may have (after repetition)
MAX_LAYERS = 2_000
#: how many output indices the periodic figures examine at most
MAX_PERIOD = 4096
#: disjoint ranges kept while tracing a dependence back (then holes are closed)
MAX_RANGES = 32
#: wall time the periodic figures of one chain may take before settling for a sample
SECONDS = 0.5

_KINDS = {
    "conv": "conv", "conv1d": "conv", "convt": "convT", "convtranspose1d": "convT", "deconv": "convT",
    "tconv": "convT", "maxpool": "maxpool", "maxpool1d": "maxpool", "avgpool": "avgpool",
    "avgpool1d": "avgpool", "pad": "pad", "crop": "crop", "lppool": "lppool", "lppool1d": "lppool",
    "adaptiveavgpool": "adaptiveavgpool", "adaptiveavgpool1d": "adaptiveavgpool",
    "adaptivemaxpool": "adaptivemaxpool", "adaptivemaxpool1d": "adaptivemaxpool", "maxunpool": "maxunpool",
    "maxunpool1d": "maxunpool", "unpool": "maxunpool",
}  # fmt: skip
_KEYS = {
    "k": "kernel_size", "kernel_size": "kernel_size", "s": "stride", "stride": "stride", "p": "padding",
    "padding": "padding", "d": "dilation", "dilation": "dilation", "g": "groups", "groups": "groups",
    "op": "output_padding", "output_padding": "output_padding", "c": "out_channels", "out": "out_channels",
    "out_channels": "out_channels", "ceil": "ceil_mode", "ceil_mode": "ceil_mode", "cip": "count_include_pad",
    "count_include_pad": "count_include_pad", "mode": "padding_mode", "padding_mode": "padding_mode",
    "bias": "bias", "name": "name", "l": "pad_left", "left": "pad_left", "r": "pad_right", "right": "pad_right",
    "norm": "norm_type", "norm_type": "norm_type", "o": "output_size", "output_size": "output_size",
}  # fmt: skip
#: the settings each pool takes (PyTorch's parameters; ``name`` everywhere)
_POOL_KEYS = {
    "maxpool": {"kernel_size", "stride", "padding", "dilation", "ceil_mode"},
    "avgpool": {"kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"},
    "lppool": {"norm_type", "kernel_size", "stride", "ceil_mode"},
    "adaptiveavgpool": {"output_size"},
    "adaptivemaxpool": {"output_size"},
    "maxunpool": {"kernel_size", "stride", "padding", "output_size"},
}
_TOKEN = re.compile(r"\s*(?:(?P<open>\()|(?P<close>\))|(?P<sep>[;\n])|(?P<repeat>\d+\s*[x×*])(?=\s*[(A-Za-z])"
                    r"|(?P<word>[^\s;()=]+(?:=[^\s;()]*)?))")  # fmt: skip


# ---------------------------------------------------------------------- Python factories

def conv(kernel_size: int, stride: int = 1, padding: int | str = 0, dilation: int = 1, groups: int = 1,
         out_channels: int | None = None, padding_mode: str = "zeros", bias: bool = True, name: str = "") -> Layer:
    """A Conv1d (``padding='causal'`` pads ``dilation*(kernel_size-1)`` on the left).

    >>> conv(3, padding="causal").pads
    (2, 0)
    """
    if padding == "causal":
        return Layer("conv", kernel_size, stride, 0, dilation, groups, out_channels=out_channels,
                     padding_mode=padding_mode, pad_left=dilation * (kernel_size - 1), bias=bias, name=name)
    return Layer("conv", kernel_size, stride, padding, dilation, groups, out_channels=out_channels,
                 padding_mode=padding_mode, bias=bias, name=name)  # fmt: skip


def conv_t(kernel_size: int, stride: int = 1, padding: int = 0, output_padding: int = 0, dilation: int = 1,
           groups: int = 1, out_channels: int | None = None, bias: bool = True, name: str = "") -> Layer:
    """A ConvTranspose1d."""
    return Layer("convT", kernel_size, stride, padding, dilation, groups, output_padding, out_channels,
                 bias=bias, name=name)  # fmt: skip


def max_pool(kernel_size: int, stride: int | None = None, padding: int = 0, dilation: int = 1,
             ceil_mode: bool = False, name: str = "") -> Layer:
    """A MaxPool1d (stride defaults to kernel_size, as in PyTorch)."""
    return Layer("maxpool", kernel_size, kernel_size if stride is None else stride, padding, dilation,
                 ceil_mode=ceil_mode, name=name)  # fmt: skip


def avg_pool(kernel_size: int, stride: int | None = None, padding: int = 0, ceil_mode: bool = False,
             count_include_pad: bool = True, name: str = "") -> Layer:
    """An AvgPool1d (stride defaults to kernel_size)."""
    return Layer("avgpool", kernel_size, kernel_size if stride is None else stride, padding,
                 ceil_mode=ceil_mode, count_include_pad=count_include_pad, name=name)  # fmt: skip


def lp_pool(norm_type: float, kernel_size: int, stride: int | None = None, ceil_mode: bool = False,
            name: str = "") -> Layer:
    """An LPPool1d (stride defaults to kernel_size; no padding: it is avg_pool1d's with padding 0).

    >>> lp_pool(2, 3).out_length(10)
    3
    """
    return Layer("lppool", kernel_size, kernel_size if stride is None else stride, ceil_mode=ceil_mode,
                 norm_type=norm_type, name=name)  # fmt: skip


def adaptive_avg_pool(output_size: int, name: str = "") -> Layer:
    """An AdaptiveAvgPool1d: ``output_size`` windows ``[floor(i*L/O), ceil((i+1)*L/O))``."""
    return Layer("adaptiveavgpool", output_size=output_size, name=name)


def adaptive_max_pool(output_size: int, name: str = "") -> Layer:
    """An AdaptiveMaxPool1d (windows as :func:`adaptive_avg_pool`)."""
    return Layer("adaptivemaxpool", output_size=output_size, name=name)


def max_unpool(kernel_size: int, stride: int | None = None, padding: int = 0, output_size: int | None = None,
               name: str = "") -> Layer:
    """A MaxUnpool1d (stride defaults to kernel_size; ``output_size`` as passed to its forward).

    >>> max_unpool(2).out_length(5), max_unpool(2, output_size=11).out_length(5)
    (10, 11)
    """
    return Layer("maxunpool", kernel_size, kernel_size if stride is None else stride, padding,
                 output_size=output_size, name=name)  # fmt: skip


def pad(left: int, right: int, mode: str = "constant", name: str = "") -> Layer:
    """``F.pad(x, (left, right), mode)`` on the time axis (negative amounts crop)."""
    return Layer("pad", padding_mode=mode, pad_left=left, pad_right=right, name=name)


# ---------------------------------------------------------------------- parser

def parse_stack(text: str) -> tuple[Layer, ...]:
    """Parse the stack syntax (see the module docstring) into layers."""
    if not isinstance(text, str):
        raise ConvtraceError("stack", text, "the stack must be text, e.g. 'conv k=3; conv k=4 s=2'")
    if len(text) > 100_000:
        raise ConvtraceError("stack", f"<{len(text)} characters>", "the stack text must be at most 100000 characters")
    tokens = _tokens(re.sub(r"#[^\n]*", "", text))
    layers, pos = _parse_items(tokens, 0, text)
    if pos != len(tokens):
        raise ConvtraceError("stack", text, f"unexpected {tokens[pos][1]!r}: a ')' without its '('")
    if not layers:
        raise ConvtraceError("stack", text, "the stack has no layers")
    return tuple(layers)


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            if text[pos:].strip() == "":
                break
            raise ConvtraceError("stack", text, f"cannot read {text[pos:pos + 20].strip()!r}")
        pos = match.end()
        kind = match.lastgroup
        assert kind is not None
        out.append((kind, match.group(kind)))
    return out


def _parse_items(tokens: list[tuple[str, str]], pos: int, text: str) -> tuple[list[Layer], int]:
    layers: list[Layer] = []
    while pos < len(tokens):
        kind, value = tokens[pos]
        if kind == "sep":
            pos += 1
            continue
        if kind == "close":
            break
        count = 1
        if kind == "repeat":
            count = int(value.rstrip("x×* \t"))
            pos += 1
            if count < 1:
                raise ConvtraceError("stack", value, "a repeat count must be at least 1")
        group, pos = _parse_one(tokens, pos, text)
        if len(layers) + count * len(group) > MAX_LAYERS:
            raise ConvtraceError("stack", text[:60], f"a stack may have at most {MAX_LAYERS} layers")
        layers += group * count
    return layers, pos


def _parse_one(tokens: list[tuple[str, str]], pos: int, text: str) -> tuple[list[Layer], int]:
    if pos >= len(tokens):
        raise ConvtraceError("stack", text, "the stack ends where a layer was expected")
    kind, value = tokens[pos]
    if kind == "open":
        group, pos = _parse_items(tokens, pos + 1, text)
        if pos >= len(tokens) or tokens[pos][0] != "close":
            raise ConvtraceError("stack", text, "a '(' is never closed")
        if not group:
            raise ConvtraceError("stack", text, "an empty group '()'")
        return group, pos + 1
    if kind != "word" or "=" in value:
        raise ConvtraceError("stack", value, f"expected a layer kind ({', '.join(sorted(set(_KINDS)))}), got {value!r}")
    words: list[str] = []
    pos += 1
    while pos < len(tokens) and tokens[pos][0] == "word" and "=" in tokens[pos][1]:
        words.append(tokens[pos][1])
        pos += 1
    return [_layer(value, words)], pos


def _layer(kind_word: str, settings: list[str]) -> Layer:
    kind = _KINDS.get(kind_word.lower())
    if kind is None:
        raise ConvtraceError("stack", kind_word, f"unknown layer kind; use one of {', '.join(sorted(set(_KINDS)))}")
    values: dict[str, Any] = {}
    for item in settings:
        key, _, raw = item.partition("=")
        name = _KEYS.get(key.lower())
        if name is None:
            raise ConvtraceError("stack", item, f"unknown key {key!r} in '{kind_word}'; keys: {', '.join(sorted(_KEYS))}")
        if kind == "lppool" and name == "padding":  # LPPool1d has no padding: p is its norm (PyTorch's docs)
            name = "norm_type"
        allowed = _POOL_KEYS.get(kind)
        if allowed is not None and name not in allowed | {"name"}:
            keys = ", ".join(f"{k}=" for k, v in _SHORT.items() if v in allowed)
            raise ConvtraceError("stack", item, f"'{kind_word}' takes {keys} only ({name} is not a parameter of it)")
        if name in values:
            raise ConvtraceError("stack", item, f"{name} is given twice in one layer")
        values[name] = _value(name, raw, item)
    return _build(kind, values, kind_word)


#: the short form of each key, for the messages
_SHORT = {"k": "kernel_size", "s": "stride", "p": "padding", "d": "dilation", "ceil": "ceil_mode",
          "cip": "count_include_pad", "norm": "norm_type", "o": "output_size"}  # fmt: skip


def _value(name: str, raw: str, item: str) -> Any:
    if name in ("padding_mode", "name"):
        return raw
    if name == "norm_type":
        try:
            value = float(raw)
        except ValueError:
            raise ConvtraceError("stack", item, "norm_type must be a number, e.g. norm=2") from None
        return int(value) if value.is_integer() else value
    if name in ("ceil_mode", "count_include_pad", "bias"):
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ConvtraceError("stack", item, f"{name} must be 0 or 1")
    if name == "padding" and raw in ("same", "valid", "causal"):
        return raw
    try:
        parts = tuple(int(v) for v in raw.split(","))
    except ValueError:
        raise ConvtraceError("stack", item, f"{name} must be a whole number") from None
    if len(parts) == 2 and name == "padding":
        return parts
    if len(parts) != 1:
        raise ConvtraceError("stack", item, f"{name} takes one number" + (" (or L,R for padding)" if name == "padding" else ""))
    return parts[0]


def _build(kind: str, v: dict[str, Any], word: str) -> Layer:
    if kind in ("pad", "crop"):
        extra = set(v) - {"pad_left", "pad_right", "padding_mode", "name"}
        if extra:
            raise ConvtraceError("stack", word, f"{word} takes l=, r=, mode= only, not {', '.join(sorted(extra))}")
        sign = -1 if kind == "crop" else 1
        return pad(sign * v.get("pad_left", 0), sign * v.get("pad_right", 0), v.get("padding_mode", "constant"),
                   v.get("name", ""))  # fmt: skip
    if kind in ADAPTIVE_POOLS:
        if "output_size" not in v:
            raise ConvtraceError("stack", word, f"'{word}' needs an output size, e.g. '{word} o=1'")
        return Layer(kind, **v)
    if kind == "lppool" and "norm_type" not in v:
        raise ConvtraceError("stack", word, f"'{word}' needs a norm, e.g. '{word} norm=2 k=3'")
    if "kernel_size" not in v:
        raise ConvtraceError("stack", word, f"'{word}' needs a kernel size, e.g. '{word} k=3'")
    if "pad_left" in v or "pad_right" in v:
        raise ConvtraceError("stack", word, "l= and r= belong to pad/crop; write p=L,R for a conv")
    if v.get("stride", 1) < 1:
        raise ConvtraceError("stride", v["stride"], "non-positive stride is not supported")
    padding = v.pop("padding", 0)
    if kind in POOLS:
        v.setdefault("stride", v["kernel_size"])
    if padding == "causal" or isinstance(padding, tuple):
        if kind != "conv":
            raise ConvtraceError("stack", word, "causal and L,R padding are for conv layers")
        left, right = (v.get("dilation", 1) * (v["kernel_size"] - 1), 0) if padding == "causal" else padding
        v.update(pad_left=left, pad_right=right)
        padding = 0
    return Layer(kind, padding=padding, **v)


# ---------------------------------------------------------------------- arithmetic

@dataclass(frozen=True)
class Figures:
    """Receptive field, hop, offset and lookahead of a chain of layers (see the module
    docstring). ``max_span``: most input samples one output really depends on."""

    receptive_field: Fraction
    hop: Fraction
    offset: Fraction
    lookahead: Fraction
    causal: bool
    exact: bool
    max_span: int
    upsampling: Fraction


def dependence(layers: tuple[Layer, ...] | list[Layer], a: int, b: int | None = None,
               in_lengths: list[int] | None = None) -> tuple[int, int] | None:  # fmt: skip
    """First and last input index that outputs ``a..b`` of the chain depend on (an
    unbounded input: indices may lie in the padding). None if they depend on no input.
    ``in_lengths`` (each layer's input length) is needed where an adaptive pool is.

    >>> dependence([conv(3, stride=2), conv(3, stride=2)], 5)
    (20, 26)
    >>> dependence([conv(3), adaptive_max_pool(2)], 1, in_lengths=[10, 8])
    (4, 9)
    """
    spans = dependence_ranges(layers, a, b, in_lengths)
    return (spans[0][0], spans[-1][1]) if spans else None


def dependence_ranges(layers: tuple[Layer, ...] | list[Layer], a: int, b: int | None = None,
                      in_lengths: list[int] | None = None) -> list[tuple[int, int]]:  # fmt: skip
    """The exact input indices outputs ``a..b`` depend on, as disjoint ranges. Past
    :data:`MAX_RANGES` ranges the holes are closed (the first and last index stay exact).

    >>> dependence_ranges([conv(2, dilation=4), conv_t(1, stride=2)], 0)
    [(0, 0), (4, 4)]
    """
    spans = [(a, a if b is None else b)]
    for index in range(len(layers) - 1, -1, -1):
        spans = layers[index].sources(spans, None if in_lengths is None else in_lengths[index])
        if not spans:
            return []
        if len(spans) > MAX_RANGES:
            spans = [(spans[0][0], spans[-1][1])]
    return spans


def figures(layers: tuple[Layer, ...] | list[Layer], budget: int = 200_000) -> Figures | None:
    """The chain's figures. Without transposed layers (or unpooling) they compose in closed
    form (exact); otherwise they are examined over one period of the output indices — at
    most ``budget`` layer steps: past that a sample of the period is examined and ``exact``
    is False. None after an adaptive pool: its windows depend on the input length.

    >>> figures([max_pool(2), adaptive_avg_pool(1)]) is None
    True
    """
    if any(layer.length_dependent for layer in layers):
        return None
    if all(not layer.scatters for layer in layers):
        return _closed_form(layers)
    hop = Fraction(1)
    period = 1
    for layer in layers:
        hop *= layer.hop
        period = min(period * layer.up, MAX_PERIOD)
    count = min(period, max(2, budget // _cost(layers)))
    times = range(period) if count >= period else sorted({i * period // count for i in range(count)})
    deadline = time.perf_counter() + SECONDS
    windows = []
    for t in times:  # examined until the deadline (then the figures are a sample: not exact)
        windows.append((t, dependence(layers, t)))
        if time.perf_counter() > deadline:
            break
    seen = [(t, w) for t, w in windows if w is not None]
    if not seen:
        zero = Fraction(0)
        return Figures(zero, hop, zero, zero, True, True, 0, 1 / hop)
    offset = max(t * hop - w[0] for t, w in seen)
    field = max(w[1] - (t * hop - offset) for t, w in seen) + 1
    lookahead = max(w[1] - t * hop for t, w in seen)
    exact = all(w[0] == t * hop - offset and w[1] == t * hop - offset + field - 1 for t, w in seen)
    exact = exact and len(seen) == len(windows) == period and period < MAX_PERIOD
    span = max(w[1] - w[0] + 1 for _, w in seen)
    return Figures(Fraction(field), hop, Fraction(offset), Fraction(lookahead), lookahead <= 0, exact, span, 1 / hop)


def _cost(layers: tuple[Layer, ...] | list[Layer]) -> int:
    """Rough work of tracing one output index back through ``layers`` (taps visited)."""
    return max(1, sum(layer.kernel_size if layer.scatters or layer.dilation > 1 else 1 for layer in layers))


def _closed_form(layers: tuple[Layer, ...] | list[Layer]) -> Figures:
    """Figures of a chain without transposed layers: each layer adds ``(span-1)*hop`` to the
    receptive field and ``pad_left*hop`` to the offset, and multiplies the hop by its stride
    (the first and last taps are real dependencies, so the range is exact)."""
    hop, field, offset = Fraction(1), Fraction(1), Fraction(0)
    for layer in layers:
        offset += layer.pads[0] * hop
        field += (layer.span - 1) * hop
        hop *= layer.down
    lookahead = field - 1 - offset
    return Figures(field, hop, offset, lookahead, lookahead <= 0, True, int(field), 1 / hop)


def _figures_so_far(chain: tuple[Layer, ...], budget: int = 1_000_000) -> list[Figures | None]:
    """The figures of every prefix: in closed form (one step per layer) up to the first
    transposed layer, then examined within a total ``budget`` of layer steps (None once it
    is spent, and from an adaptive pool on: they depend on the input length)."""
    out: list[Figures | None] = []
    period = 1
    hop, field, offset = Fraction(1), Fraction(1), Fraction(0)
    transposed = False
    for index, layer in enumerate(chain):
        if layer.length_dependent:
            out += [None] * (len(chain) - index)
            break
        period = min(period * layer.up, MAX_PERIOD)
        transposed = transposed or layer.scatters
        if not transposed:
            offset += layer.pads[0] * hop
            field += (layer.span - 1) * hop
            hop *= layer.down
            look = field - 1 - offset
            out.append(Figures(field, hop, offset, look, look <= 0, True, int(field), 1 / hop))
            continue
        cost = _cost(chain[: index + 1])
        steps = min(period, max(2, 200_000 // cost)) * cost
        if steps > budget:
            out.append(None)
            continue
        budget -= steps
        out.append(figures(chain[: index + 1]))
    return out


@dataclass(frozen=True)
class LayerReport:
    """One layer of a stack: its own figures (in its own input samples) and the stack's so
    far (in the stack's input samples). Lengths are None after a layer PyTorch rejects;
    the figures None where they depend on the input length (an adaptive pool, and so far
    after one)."""

    index: int
    name: str
    type: str
    spec: str
    layer: Layer
    in_length: int | None
    out_length: int | None
    in_channels: int
    out_channels: int
    receptive_field: int | None
    hop: Fraction | None
    offset: Fraction | None
    upsampling: int
    feeds: tuple[int, int] | None
    receptive_field_so_far: Fraction | None
    hop_so_far: Fraction | None
    offset_so_far: Fraction | None
    lookahead_so_far: Fraction | None
    dropped_tail: int
    macs: int
    parameters: int


@dataclass(frozen=True, repr=False)
class StackReport(Shown):
    """A stack applied to one input: per layer, then the stack's figures. ``print(report)``
    gives ``convtrace stack``'s text (see :class:`~convtrace.plan.report.Shown`). With an
    adaptive pool the figures (receptive field, hop, offset, lookahead, causal, max_span,
    upsampling) are None: they depend on the input length (warning W109 gives the windows).

    >>> analyse_stack("conv k=4 s=2 p=1; conv k=4 s=2 p=1", 100)
    <StackReport 2 layers, 100 -> 25 samples: receptive field 10, hop 4, offset 3, lookahead 6>
    """

    layers: tuple[LayerReport, ...]
    batch: int
    in_channels: int
    in_length: int
    out_length: int | None
    out_channels: int
    error: str | None
    error_layer: int | None
    receptive_field: Fraction | None
    hop: Fraction | None
    offset: Fraction | None
    lookahead: Fraction | None
    causal: bool | None
    exact: bool
    max_span: int | None
    upsampling: Fraction | None
    macs: int
    parameters: int
    warnings: tuple[Finding, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        doc: dict[str, Any] = to_jsonable(self)
        return doc

    def __repr__(self) -> str:
        out = "an error" if self.out_length is None else f"{self.out_length} samples"
        if self.receptive_field is None:
            return f"<StackReport {len(self.layers)} layers, {self.in_length} -> {out}: figures depend on the input length>"
        return (f"<StackReport {len(self.layers)} layers, {self.in_length} -> {out}: receptive field "
                f"{self.receptive_field}, hop {self.hop}, offset {self.offset}, lookahead {self.lookahead}>")  # fmt: skip


def analyse_stack(
    layers: tuple[Layer, ...] | list[Layer] | str, length: int, in_channels: int = 1, batch: int = 1
) -> StackReport:
    """Every figure of a stack for an input of ``length`` samples (``layers`` may be the
    stack syntax)."""
    chain = parse_stack(layers) if isinstance(layers, str) else tuple(layers)
    if not chain:
        raise ConvtraceError("layers", chain, "the stack has no layers")
    n = check_length(length)
    channels = _positive("in_channels", in_channels)
    batch = _positive("batch", batch)
    reports, findings, error, error_at = _walk(chain, n, channels, batch)
    whole = figures(chain)
    last = reports[-1]
    findings += _mirror_findings(chain, reports)
    if whole is None:
        return StackReport(
            tuple(reports), batch, channels, n, last.out_length if error is None else None, last.out_channels,
            error, error_at, None, None, None, None, None, False, None, None, sum(r.macs for r in reports),
            sum(r.parameters for r in reports), tuple(findings),
        )  # fmt: skip
    return StackReport(
        tuple(reports), batch, channels, n, last.out_length if error is None else None, last.out_channels,
        error, error_at, whole.receptive_field, whole.hop, whole.offset, whole.lookahead, whole.causal,
        whole.exact, whole.max_span, whole.upsampling, sum(r.macs for r in reports),
        sum(r.parameters for r in reports), tuple(findings),
    )  # fmt: skip


def _positive(name: str, value: Any) -> int:
    from ..params import parse_int_param

    v = parse_int_param(name, value)
    if not 1 <= v <= 1 << 24:
        raise ConvtraceError(name, v, f"{name} must be between 1 and {1 << 24}")
    return v


def _walk(chain: tuple[Layer, ...], n: int, channels: int, batch: int) -> tuple[list[LayerReport], list[Finding], str | None, int | None]:
    reports: list[LayerReport] = []
    findings: list[Finding] = []
    error: str | None = None
    error_at: int | None = None
    length: int | None = n
    so_far = _figures_so_far(chain)
    for index, layer in enumerate(chain):
        out: int | None = None
        if length is not None:
            try:
                layer.check_channels(channels)
                out = layer.out_length(length)
            except ConvtraceError as exc:
                error, error_at = str(exc), index
        reports.append(_layer_report(index, so_far[index], layer, length, out, channels, batch))
        if out is not None and length is not None:
            findings += _layer_findings(index, layer, length, out)
        elif layer.length_dependent:
            findings.append(adaptive_finding(layer, layer.name or f"{index}", None))
        channels = layer.channels_out(channels)
        length = out
    return reports, findings, error, error_at


def _layer_report(index: int, so_far: Figures | None, layer: Layer, n: int | None, out: int | None,
                  channels: int, batch: int) -> LayerReport:  # fmt: skip
    own = figures([layer])
    feeds = None
    if layer.scatters:
        feeds = (int(layer.padding) - layer.dilation * (layer.kernel_size - 1), int(layer.padding))
    tail = unread(layer, n, out).tail if n is not None and out is not None else 0
    macs = layer.macs(n, out, channels, batch) if n is not None and out is not None else 0
    return LayerReport(
        index, layer.name or f"{index}", layer.kind, layer.describe(), layer, n, out, channels,
        layer.channels_out(channels), layer.receptive_field(), own.hop if own else None,
        own.offset if own else None, layer.up, feeds,
        so_far.receptive_field if so_far else None, so_far.hop if so_far else None,
        so_far.offset if so_far else None, so_far.lookahead if so_far else None,
        tail, macs, layer.parameters(channels),
    )  # fmt: skip


def _layer_findings(index: int, layer: Layer, n: int, out: int) -> list[Finding]:
    name = layer.name or f"{index}"
    found: list[Finding] = []
    found += unread_findings(layer, name, n, unread(layer, n, out))
    if layer.kind == "convT" and layer.kernel_size % layer.stride:
        found.append(Finding("W103", name, {"kernel_size": layer.kernel_size, "stride": layer.stride}))
    if layer.kind == "conv" and layer.padding == "same" and (layer.dilation * (layer.kernel_size - 1)) % 2:
        left, right = layer.pads
        found.append(Finding("W105", name, {"kernel_size": layer.kernel_size, "left": left, "right": right}))
    near = layer.reflect_near_limit(n)
    if near is not None:
        found.append(Finding("W106", name, {"padding": near, "length": n}))
    if layer.length_dependent:
        found.append(adaptive_finding(layer, name, n))
    return found


def adaptive_finding(layer: Layer, name: str, length: int | None) -> Finding:
    """W109: an adaptive pool's windows ``[floor(i*L/O), ceil((i+1)*L/O))`` depend on the
    input length; with ``length`` known, the numbers: its hop ``L/O`` and the shortest and
    longest window.

    >>> adaptive_finding(adaptive_avg_pool(3), "pool", 5).values
    {'output_size': 3, 'length': 5, 'hop': Fraction(5, 3), 'shortest': 2, 'longest': 3}
    """
    values: dict[str, Any] = {"output_size": layer.output_size, "length": length}
    size = layer.output_size or 0
    if length is not None and length > 0 and size > 0:
        starts, ends = shapes.adaptive_bounds(length, size)
        widths = ends - starts
        values.update(hop=Fraction(length, size), shortest=int(widths.min()), longest=int(widths.max()))
    return Finding("W109", name, values)


def _mirror_findings(chain: tuple[Layer, ...], reports: list[LayerReport]) -> list[Finding]:
    """W104: a strided ConvTranspose1d (or MaxUnpool1d) whose output length differs from the
    input length of its mirror Conv1d (or pool; matched like brackets: the last unmatched
    strided conv or pool)."""
    open_convs: list[int] = []
    found: list[Finding] = []
    for index, layer in enumerate(chain):
        if layer.kind in ("conv",) + SLIDING_POOLS and layer.stride > 1:
            open_convs.append(index)
        elif layer.scatters and layer.stride > 1 and open_convs:
            mirror = open_convs.pop()
            if chain[mirror].stride != layer.stride:
                continue
            want, got = reports[mirror].in_length, reports[index].out_length
            if want is not None and got is not None and want != got:
                found.append(Finding("W104", reports[index].name, {
                    "mirror": reports[mirror].name, "expected": want, "got": got}))  # fmt: skip
    return found
