"""Why a configuration is invalid, and the nearest valid settings.

:func:`advise` turns a :class:`~convtrace.errors.ConvtraceError` (and the settings the user
gave) into the rule that failed, the numbers that broke it, and the nearest settings that
work — each suggestion checked with :mod:`convtrace.shapes` before it is offered.

>>> from convtrace import explain, ConvtraceError
>>> cfg = dict(input=[1, 1, 1, 1], kernel_size=6)
>>> try:
...     explain(**cfg, verify=False)
... except ConvtraceError as e:
...     for line in nearest_valid(e, cfg):
...         print(line)
rule: the kernel (with dilation) must fit in the padded input: dilation*(kernel_size-1) + 1 <= L + pad_left + pad_right
numbers: 1*(6-1) + 1 = 6 > 4 + 0 + 0 = 4
nearest valid: input length >= 6
nearest valid: padding >= 1
nearest valid: kernel_size <= 4
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import rules, shapes
from ..errors import ConvtraceError
from ..params import POOL_OPS, check_pool1d, pool_arguments

__all__ = ["Advice", "advise", "nearest_valid", "in_language", "split_backend_note"]


@dataclass
class Advice:
    """The rule, the numbers and the nearest valid settings for one error."""

    param: str
    rule: str
    numbers: str = ""
    suggestions: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"rule: {self.rule}"]
        if self.numbers:
            out.append(f"numbers: {self.numbers}")
        out += [f"nearest valid: {s}" for s in self.suggestions]
        return out


def _int(v: Any, default: int | None = None) -> int | None:
    if v is None:
        return default
    if isinstance(v, (tuple, list)) and len(v) == 1:
        v = v[0]
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return int(v)
    return default


def _shape_of(v: Any) -> tuple[int, ...] | None:
    if v is None:
        return None
    if hasattr(v, "shape"):
        return tuple(int(s) for s in v.shape)
    try:
        return tuple(int(s) for s in np.shape(np.array(v, dtype=object)))
    except (ValueError, TypeError):
        return None


class _Cfg:
    def __init__(self, config: Mapping[str, Any]) -> None:
        c = dict(config)
        self.transposed = bool(c.get("transposed", False))
        xs = _shape_of(c.get("input"))
        if xs is None and c.get("input_shape") is not None:
            xs = tuple(int(v) for v in c["input_shape"])
        ws = _shape_of(c.get("weight"))
        self.length: int = _int(c.get("input_length"), xs[-1] if xs else 4) or 1
        self.k: int = _int(c.get("kernel_size"), ws[-1] if ws else 3) or 3
        self.s: int = _int(c.get("stride"), 1) or 1
        self.d: int = _int(c.get("dilation"), 1) or 1
        self.padding: Any = c.get("padding", 0)
        self.op: int = _int(c.get("output_padding"), 0) or 0
        self.groups: int = _int(c.get("groups"), 1) or 1
        cin = _int(c.get("in_channels"))
        if cin is None and xs and len(xs) >= 2:
            cin = xs[-2]
        self.cin = cin if cin is not None else 1
        cout = _int(c.get("out_channels"))
        if cout is None and ws and len(ws) == 3:
            cout = ws[1] * self.groups if self.transposed else ws[0]
        self.cout = cout if cout is not None else 1
        self.mode = c.get("padding_mode", "zeros")

    def pads(self) -> tuple[int, int]:
        p = self.padding
        if p == "same":
            return shapes.same_padding(self.k, self.d)
        if p == "valid":
            return (0, 0)
        v = _int(p, 0) or 0
        return (v, v)


def _valid_conv(L: int, k: int, s: int, p: Any, d: int) -> bool:
    try:
        shapes.conv1d_output_length(L, k, s, p, d)
    except ConvtraceError:
        return False
    return True


def _valid_tconv(L: int, k: int, s: int, p: int, op: int, d: int) -> bool:
    try:
        shapes.conv_transpose1d_output_length(L, k, s, p, op, d)
    except ConvtraceError:
        return False
    return True


def _divisors(n: int) -> list[int]:
    return [g for g in range(1, n + 1) if n % g == 0]


def _advise_kernel_too_long(adv: Advice, cfg: _Cfg, error: ConvtraceError) -> None:
    L, k, s, d = cfg.length, cfg.k, cfg.s, cfg.d
    pl, pr = cfg.pads()
    dk = shapes.dilated_kernel(k, d)
    adv.rule = ("the kernel (with dilation) must fit in the padded input: "
                "dilation*(kernel_size-1) + 1 <= L + pad_left + pad_right")
    adv.numbers = f"{d}*({k}-1) + 1 = {dk} > {L} + {pl} + {pr} = {L + pl + pr}"
    need_len = max(1, dk - pl - pr)
    if _valid_conv(need_len, k, s, cfg.padding, d):
        adv.suggestions.append(f"input length >= {need_len}")
    if not isinstance(cfg.padding, str) and cfg.mode in ("zeros", "replicate"):
        need_p = math.ceil((dk - L) / 2)
        if _valid_conv(L, k, s, need_p, d):
            adv.suggestions.append(f"padding >= {need_p}")
    elif isinstance(cfg.padding, str) and cfg.padding == "valid":
        adv.suggestions.append("padding='same' (keeps the length)")
    max_k = (L + pl + pr - 1) // d + 1
    if max_k >= 1 and max_k < k and _valid_conv(L, max_k, s, cfg.padding, d):
        adv.suggestions.append(f"kernel_size <= {max_k}")
    if k > 1 and d > 1:
        max_d = (L + pl + pr - 1) // (k - 1)
        if max_d >= 1 and _valid_conv(L, k, s, cfg.padding, max_d):
            adv.suggestions.append(f"dilation <= {max_d}")


def _advise_transposed_too_short(adv: Advice, cfg: _Cfg, error: ConvtraceError) -> None:
    L, k, s, d = cfg.length, cfg.k, cfg.s, cfg.d
    full = shapes.conv_transpose1d_length_of(L, k, s, 0, cfg.op, d)
    p: int = _int(cfg.padding, 0) or 0
    adv.rule = ("the transposed output must keep at least one sample: "
                "(L-1)*stride - 2*padding + dilation*(kernel_size-1) + output_padding + 1 >= 1")
    adv.numbers = f"({L}-1)*{s} - 2*{p} + {d}*({k}-1) + {cfg.op} + 1 = {full - 2 * p}"
    max_p = (full - 1) // 2
    if _valid_tconv(L, k, s, max_p, cfg.op, d):
        adv.suggestions.append(f"padding <= {max_p}")
    longer = next((n for n in range(L + 1, L + 2 * p + 2) if _valid_tconv(n, k, s, p, cfg.op, d)), None)
    if longer is not None:
        adv.suggestions.append(f"input length >= {longer}")


def _advise_output_padding_too_big(adv: Advice, cfg: _Cfg, error: ConvtraceError) -> None:
    s, d = cfg.s, cfg.d
    adv.rule = "output_padding must be smaller than stride or dilation (it only picks among the lengths a stride can reach)"
    adv.numbers = f"output_padding={cfg.op}, stride={s}, dilation={d}"
    adv.suggestions.append(f"output_padding <= {max(s, d) - 1}")
    adv.suggestions.append(f"stride >= {cfg.op + 1} (output_padding < stride)")


def _advise_output_size_out_of_range(adv: Advice, cfg: _Cfg, error: ConvtraceError) -> None:
    L, k, s, d = cfg.length, cfg.k, cfg.s, cfg.d
    p = _int(cfg.padding, 0) or 0
    lo = shapes.conv_transpose1d_length_of(L, k, s, p, 0, d)
    adv.numbers = f"({L}-1)*{s} - 2*{p} + {d}*({k}-1) + 1 = {lo}, up to {lo} + stride - 1 = {lo + s - 1}"
    adv.suggestions.append(f"output_size between {max(lo, 1)} and {lo + s - 1}")


def _advise_channels_not_divisible(adv: Advice, cfg: _Cfg, error: ConvtraceError) -> None:
    g = cfg.groups
    common = math.gcd(cfg.cin, cfg.cout)
    adv.rule = "in_channels and out_channels must both be divisible by groups"
    adv.numbers = f"in_channels={cfg.cin}, out_channels={cfg.cout}, groups={g}"
    divs = _divisors(common)
    below = [v for v in divs if v <= g]
    above = [v for v in divs if v > g]
    near = sorted(set(below[-1:] + above[:1]))
    if near:
        adv.suggestions.append("groups in {" + ", ".join(str(v) for v in near) + "} (divisors of "
                               f"gcd({cfg.cin}, {cfg.cout}) = {common})")
    for name, v in (("in_channels", cfg.cin), ("out_channels", cfg.cout)):
        if v % g:
            lo_, hi_ = v - v % g, v - v % g + g
            opts = [str(x) for x in (lo_, hi_) if x > 0]
            adv.suggestions.append(f"{name} = {' or '.join(opts)} (multiples of groups={g})")


def _advise_reflect_too_wide(adv: Advice, cfg: _Cfg, error: ConvtraceError) -> None:
    L = cfg.length
    pl, pr = cfg.pads()
    adv.rule = "reflect padding mirrors the input without its edge sample: each pad must be < the input length"
    adv.numbers = f"pads ({pl}, {pr}), input length {L}"
    if isinstance(cfg.padding, str):
        adv.suggestions.append(f"input length >= {max(pl, pr) + 1}")
    else:
        adv.suggestions.append(f"padding <= {L - 1}")
        adv.suggestions.append(f"input length >= {max(pl, pr) + 1}")
    adv.suggestions.append("padding_mode='replicate' or 'zeros'")


def _advise_circular_wraps(adv: Advice, cfg: _Cfg, error: ConvtraceError) -> None:
    L = cfg.length
    pl, pr = cfg.pads()
    adv.numbers = f"pads ({pl}, {pr}), input length {L}"
    adv.suggestions.append(f"padding <= {L}")
    adv.suggestions.append(f"input length >= {max(pl, pr)}")


def _advise_same_with_stride(adv: Advice, cfg: _Cfg, error: ConvtraceError) -> None:
    k, d = cfg.k, cfg.d
    pl, pr = shapes.same_padding(k, d)
    adv.suggestions.append("stride=1")
    adv.suggestions.append(f"padding={pl}" + (f" (and one more on the right is what 'same' would add: {pl}, {pr})"
                                              if pl != pr else " (what 'same' would pad)"))


def _advise_bad_padding_mode(adv: Advice, cfg: _Cfg, error: ConvtraceError) -> None:
    adv.suggestions.append("padding_mode='zeros'" + (" (the only mode of ConvTranspose1d)" if cfg.transposed
                                                      else ", 'reflect', 'replicate' or 'circular'"))


def _advise_non_positive(adv: Advice, cfg: _Cfg, error: ConvtraceError) -> None:
    adv.suggestions.append(f"{error.param} >= 1")


def _advise_negative_padding(adv: Advice, cfg: _Cfg, error: ConvtraceError) -> None:
    adv.suggestions.append("padding >= 0")


def _advise_the_hint(adv: Advice, cfg: _Cfg, error: ConvtraceError) -> None:
    if error.hint:
        adv.suggestions.append(error.hint)

#: (does it apply to this error?, what to advise): the first that applies answers
_ADVICE: list[tuple[Callable[[ConvtraceError], bool], Callable[[Advice, _Cfg, ConvtraceError], None]]] = [
    (lambda error: bool("Kernel size can't be greater than actual input size" in error.rule), _advise_kernel_too_long),
    (lambda error: bool("Output size is too small" in error.rule), _advise_transposed_too_short),
    (lambda error: bool(error.param == "output_padding" and "smaller than either stride or dilation" in error.rule), _advise_output_padding_too_big),
    (lambda error: bool(error.param == "output_size" and "valid sizes range" in error.rule), _advise_output_size_out_of_range),
    (lambda error: bool(error.param in ("in_channels", "out_channels", "groups") and "divisible" in error.rule), _advise_channels_not_divisible),
    (lambda error: bool("Padding size should be less than the corresponding input dimension" in error.rule), _advise_reflect_too_wide),
    (lambda error: bool("wrapping around more than once" in error.rule), _advise_circular_wraps),
    (lambda error: bool("not supported for strided convolutions" in error.rule), _advise_same_with_stride),
    (lambda error: bool(error.param == "padding_mode"), _advise_bad_padding_mode),
    (lambda error: bool(error.param in ("stride", "dilation", "kernel_size") and ("non-positive" in error.rule or "greater than zero" in error.rule or ">=" in error.rule)), _advise_non_positive),
    (lambda error: bool(error.param == "padding" and "negative" in error.rule), _advise_negative_padding),
    (lambda error: bool(error.hint), _advise_the_hint),
]


def advise(error: ConvtraceError, config: Mapping[str, Any] | None = None) -> Advice:
    """The rule, numbers and nearest valid settings for ``error`` raised by ``config``
    (the keyword arguments given to :func:`convtrace.explain`, or the CLI's settings).

    >>> from convtrace import explain, ConvtraceError
    >>> try:
    ...     explain([1, 2], [1, 1, 1], transposed=True, stride=2, output_padding=2, verify=False)
    ... except ConvtraceError as e:
    ...     advise(e, dict(transposed=True, stride=2, output_padding=2)).suggestions
    ['output_padding <= 1', 'stride >= 3 (output_padding < stride)']
    """
    adv = Advice(param=error.param, rule=error.rule)
    if config and config.get("op") in POOL_OPS:  # a pool: its own rules, the neighbours the resolver accepts
        adv.suggestions.extend(nearest_pool_settings(error, config))
        return adv
    cfg = _Cfg(config or {})
    for applies, advice in _ADVICE:
        if applies(error):
            advice(adv, cfg, error)
            break
    return adv


#: the integer arguments of the pools a nearest valid setting may change, by the parameter an
#: error names ("input": the input is too short for the window, or empty)
_POOL_KNOBS: dict[str, tuple[str, ...]] = {
    "kernel_size": ("kernel_size",), "stride": ("stride",), "padding": ("padding",), "dilation": ("dilation",),
    "output_size": ("output_size",), "input": ("kernel_size", "padding", "dilation", "output_size"),
    "indices": ("output_size",),
}  # fmt: skip


def nearest_pool_settings(err: ConvtraceError, config: Mapping[str, Any], most: int = 3) -> list[str]:
    """The nearest valid settings of a rejected pool, found by asking the resolver itself
    (:func:`convtrace.params.check_pool1d`) about the neighbouring values of the arguments the
    error concerns: no rule is written twice.

    >>> from convtrace import explain
    >>> config = {"op": "avg_pool1d", "input": [1, 2, 3, 4, 5, 6], "kernel_size": 3, "padding": 2}
    >>> try:
    ...     explain(**config)
    ... except ConvtraceError as err:
    ...     print(nearest_pool_settings(err, config))
    ['padding=1']
    """
    op = str(config["op"])
    taken = pool_arguments(op)  # the CLI's settings also hold the convolutions' (at their defaults)
    arguments = {k: v for k, v in config.items() if k in taken and v is not None}
    x = getattr(config.get("input"), "numeric", config.get("input"))
    try:
        shape = np.shape(np.asarray(x, dtype=np.float64))
    except (TypeError, ValueError):
        return []
    probe = np.zeros(shape if len(shape) > 1 else (1, *shape))
    if "indices" in arguments:
        arguments["indices"] = np.asarray(arguments["indices"]).reshape(probe.shape) if np.size(
            arguments["indices"]) == probe.size else arguments["indices"]
    found: list[str] = []
    for name in _POOL_KNOBS.get(err.param, ()):
        given: Any = arguments.get(name, config.get("kernel_size") if name == "stride" else None)
        listed = isinstance(given, (list, tuple)) and len(given) == 1  # max_unpool1d's output_size=[6]
        value = given[0] if listed else given
        if not isinstance(value, int) or isinstance(value, bool):
            continue
        # the nearest first, a positive one before 0 (an empty output is valid, rarely wanted)
        for candidate in sorted(range(max(0, value - 16), value + 17), key=lambda v: (v < 1, abs(v - value), v)):
            if candidate == value:
                continue
            setting: Any = [candidate] if listed else candidate
            try:
                check_pool1d(op, probe, **{**arguments, name: setting})
            except (ConvtraceError, TypeError):  # TypeError: an argument this pool does not take
                continue
            found.append(f"{name}={setting}")
            break
        if len(found) >= most:
            break
    return found


def nearest_valid(error: ConvtraceError, config: Mapping[str, Any] | None = None) -> list[str]:
    """:func:`advise` as printable lines: ``rule: ...``, ``numbers: ...``, ``nearest valid: ...``.

    >>> from convtrace import explain, ConvtraceError
    >>> try:
    ...     explain(in_channels=3, out_channels=4, groups=2, verify=False)
    ... except ConvtraceError as e:
    ...     nearest_valid(e, dict(in_channels=3, out_channels=4, groups=2))[-2:]
    ['nearest valid: groups in {1} (divisors of gcd(3, 4) = 1)', 'nearest valid: in_channels = 2 or 4 (multiples of groups=2)']
    """
    return advise(error, config).lines()


# --------------------------------------------------------------------------- 中文


#: (English pattern, Chinese): the rules, suggestions and hints in Chinese; PyTorch's own
#: message is quoted as it is (and marked as PyTorch's)
_CHINESE: tuple[tuple[str, str], ...] = (
    (r"the kernel \(with dilation\) must fit in the padded input: (.*)", r"卷积核（含空洞）必须放得进补齐后的输入：\1"),
    (r"the transposed output must keep at least one sample: (.*)", r"转置卷积的输出至少要有一个样本：\1"),
    (r"output_padding must be smaller than stride or dilation \(it only picks among the lengths a stride can reach\)",
     "output_padding 必须小于 stride 或 dilation（它只在 stride 能达到的几个长度之间选择）"),
    (r"in_channels and out_channels must both be divisible by groups", "in_channels 和 out_channels 都必须能被 groups 整除"),
    (r"reflect padding mirrors the input without its edge sample: each pad must be < the input length",
     "reflect 补齐以边缘样本为轴镜像输入：每边的补齐量都必须小于输入长度"),
    (r"input length >= (\d+)", r"输入长度 >= \1"),
    (r"padding='same' \(keeps the length\)", "padding='same'（保持长度）"),
    (r"output_size between (\d+) and (\d+)", r"output_size 取 \1 到 \2 之间"),
    (r"groups in \{(.*)\} \(divisors of gcd\((\d+), (\d+)\) = (\d+)\)", r"groups 取 {\1}（gcd(\2, \3) = \4 的约数）"),
    (r"(\w+) = (.*) \(multiples of groups=(\d+)\)", r"\1 = \2（groups=\3 的倍数）"),
    (r"(.*) \(output_padding < stride\)", r"\1（output_padding < stride）"),
    (r"padding_mode='replicate' or 'zeros'", "padding_mode='replicate' 或 'zeros'"),
    (r"padding=(\d+) \(what 'same' would pad\)", r"padding=\1（'same' 会补的量）"),
    (r"padding=(\d+) \(and one more on the right is what 'same' would add: (\d+), (\d+)\)",
     r"padding=\1（右边再多补一个就是 'same' 的补法：\2, \3）"),
    (r"padding_mode='zeros' \(the only mode of ConvTranspose1d\)", "padding_mode='zeros'（ConvTranspose1d 唯一的模式）"),
    (r"padding_mode='zeros', 'reflect', 'replicate' or 'circular'", "padding_mode='zeros'、'reflect'、'replicate' 或 'circular'"),
    (r"use stride=1, or an explicit int padding", "用 stride=1，或写明整数 padding"),
    (r"the input length must be at least 1", "输入长度至少为 1"),
    (r"use (\w+)='zeros'", r"用 \1='zeros'"),
    (r"use (\w+) <= (\d+)", r"用 \1 <= \2"),
    (r"use (\w+) >= (\d+)", r"用 \1 >= \2"),
    (r"add transposed=True, or drop (\w+)", r"加上 transposed=True，或去掉 \1"),
    (r"use (\w+) = a multiple of (\d+), e\.g\. (\d+)", r"\1 取 \2 的倍数，例如 \3"),
    (r"give a large input as an array or @file\.npy \(memory-mapped\), or explain one element with at=\(n, c, t\)",
     "大的输入请用数组或 @file.npy（内存映射）给出，或用 at=(n, c, t) 只解释一个元素"),
    (r"drop --(\S+), or drop --input to make the input up", r"去掉 --\1，或去掉 --input 让程序生成输入"),
    (r"drop --(\S+), or drop --(\S+)", r"去掉 --\1，或去掉 --\2"),
    (r"drop --bias-fill, or drop the values of --bias", "去掉 --bias-fill，或去掉 --bias 后面的数值"),
    (r"the smallest valid input length here is (\d+)", r"这里最短的有效输入长度是 \1"),
    (r"reflect padding must be <= (\d+) for an input of length (\d+)", r"长度为 \2 的输入，reflect 补齐必须 <= \1"),
    (r"padding <= (\d+) gives an output of at least one sample", r"padding <= \1 时输出至少有一个样本"),
    (r"padding <= (\d+), or an input of at least (\d+) samples, gives an output of at least one sample",
     r"padding <= \1，或输入至少有 \2 个样本时，输出至少有一个样本"),
    (r"use bias\.astype\((\S+)\)", r"用 bias.astype(\1)"),
    (r"convert one of them: (\S+) or (\S+)", r"把其中一个转换一下：\1 或 \2"),
    (r"convert the input: (\S+), or build the module with (\S+) \(or call (\S+)\)", r"转换输入：\1，或用 \2 构造模块（或调用 \3）"),
    # -- the explorer's rules (its text forms, the planner's layers, the explainer's checks)
    (r"files are not read over the web: paste the values", "网页不读取文件：请直接粘贴数值"),
    (r"arrays nest at most (\d+) levels", r"数组最多嵌套 \1 层"),
    (r"a number is at most (\d+) characters long", r"一个数最多 \1 个字符"),
    (r"not an argument of convtrace\.explain", "不是 convtrace.explain 的参数"),
    (r"--(\w+): invalid JSON array \((.*)\)", r"--\1：不是有效的 JSON 数组（\2）"),
    (r"--(\w+): every channel must have the same length and every batch item the same number of channels",
     r"--\1：每个通道的长度必须相同，每个批次元素的通道数也必须相同"),
    (r"--(\w+): an empty channel in (.*)", r"--\1：\2 中有一个空通道"),
    (r"(\w+): '(.*)' is not a number \(use e\.g\. 2, -0\.5, 1/3 or 1e-3\)", r"\1：'\2' 不是数（例如 2、-0.5、1/3 或 1e-3）"),
    (r"(\w) out of range: the output has shape (\[[\d, ]*\]), so (.*)", r"\1 超出范围：输出的形状是 \2，所以 \3"),
    (r"\(unbatched input\)", "（无批次维的输入）"),
    (r"(\w+)=(\d+) but the input has (\d+) channels \(input shape (\[[\d, ]*\])\)", r"\1=\2，但输入有 \3 个通道（输入形状 \4）"),
    (r"non-positive (\w+) is not supported", r"不支持非正的 \1"),
    (r"negative (\w+) is not supported", r"不支持负的 \1"),
    (r"Invalid padding string: (.*) \(use 'same', 'valid' or an int\)", r"无效的 padding 字符串：\1（用 'same'、'valid' 或整数）"),
    # -- the pools (issue 17): PyTorch's words per path
    (r"pad should be at most half of effective kernel size, but got pad=(\d+), kernel_size=(\d+) and dilation=(\d+)",
     r"padding 最多为有效卷积核大小的一半，但 pad=\1、kernel_size=\2、dilation=\3"),
    (r"max_pool1d\(\) padding should be at most half of kernel size, but got padding=(\d+) and kernel_size=(\d+)",
     r"max_pool1d() 的 padding 最多为 kernel_size 的一半（不看 dilation），但 padding=\1、kernel_size=\2"),
    (r"pad should be smaller than or equal to half of kernel size, but got padW = (\d+), padH = 0, kW = (\d+), kH = 1",
     r"padding 必须 <= kernel_size 的一半，但 padding=\1、kernel_size=\2"),
    (r"max_pool1d\(\) (\w+) must be greater than zero, but got (-?\d+)", r"max_pool1d() 的 \1 必须大于 0，但得到 \2"),
    (r"max_pool1d\(\) padding must be non-negative, but got (-?\d+)", r"max_pool1d() 的 padding 不能为负，但得到 \1"),
    (r"pad must be non-negative, but got pad: (-?\d+)", r"padding 不能为负，但得到 \1"),
    (r"^stride should not be zero$", "stride 不能为 0"),
    (r"max_pool1d\(\) Invalid computed output size: (-?\d+)", r"max_pool1d() 算出的输出长度无效：\1"),
    (r"Given input size: \((.*)\)\. Calculated output size: \((.*)\)\. Output size is too small",
     r"输入大小 (\1)，算出的输出大小 (\2)：输出太小"),
    (r"(\w+) must be >= (-?\d+)", r"\1 必须 >= \2"),
    (r"(\w+) must be at most (\d+) in size", r"\1 最大为 \2"),
    (r"(\w+) must be between (\d+) and (\d+)", r"\1 必须在 \2 到 \3 之间"),
    (r"(\w+) must be divisible by groups", r"\1 必须能被 groups 整除"),
    (r"the layer kind must be one of (.*)", r"层的种类必须是 \1 之一"),
    (r"(\w+) must be a range like 1\.\.16 or a list like 3,5,7", r"\1 必须是 1..16 这样的范围或 3,5,7 这样的列表"),
    (r"padding='same' is not supported for strided convolutions", "stride 大于 1 的卷积不支持 padding='same'"),
    (r"only ConvTranspose1d has output_padding", "只有 ConvTranspose1d 有 output_padding"),
    (r"at most (\d+) on this server", r"本服务器最多 \1"),
    # -- (end of the explorer's rules)
    # the figures (convtrace.draw)
    (r"the format comes from the file name, which must end in (.*)", r"格式由文件名决定，文件名必须以 \1 结尾"),
    (r"step draws one frame: it does not apply to a GIF, which shows every frame",
     "step 只画一帧：它不适用于 GIF（GIF 会显示每一帧）"),
    (r"drop the step, or write \.svg or \.png", "去掉 step，或改写成 .svg 或 .png"),
    (r"PNG and GIF need the viz extra: (pip install '[^']*')", r"PNG 和 GIF 需要 viz 扩展：\1"),
    (r", or ", "，或 "),
    (r" or ", " 或 "),
)


def in_language(text: str, lang: str) -> str:
    """A rule, suggestion or hint of this module (or of the resolver) in ``lang``; text with
    no Chinese form yet stays English.

    >>> in_language("input length >= 6", "zh"), in_language("input length >= 6", "en")
    ('输入长度 >= 6', 'input length >= 6')
    >>> in_language("the smallest valid input length here is 6, or padding >= 1", "zh")
    '这里最短的有效输入长度是 6，或 padding >= 1'
    """
    if lang != "zh":
        return text
    for pattern, chinese in _CHINESE:
        text = re.sub(pattern, chinese, text)
    return text


# --------------------------------------------------------------------------- backend-dependent rules


#: the backend-dependent rules' answers in Chinese (rules.BACKEND_RULES: with oneDNN, without,
#: convtrace's); a test checks that every rule has them
_BACKEND_ZH: dict[str, tuple[str, str, str]] = {
    "transposed-bias-dtype": (
        ("报错“Input type ... and bias type ... should be the same ...”（多数形状下的 float32；支持 AVX-512 FP16 "
        "的 CPU 上的 float16）"),
        "把 bias 转成输入的 dtype",
        "对所有形状和 dtype 都报错，和 conv1d 一样",
    ),
    "string-padding-bias-dtype": (
        "报错“Input type ... and bias type ... should be the same”（float32，取决于形状）",
        "把 bias 转成输入的 dtype（复数 bias 只保留实部）",
        "报错，和其他 padding 一样",
    ),
    "transposed-empty-output": (
        "返回一个空张量（float32，以及某些 CPU 上的 float16）",
        "报错“Output size is too small”（float64，以及不用 oneDNN 时的所有 dtype）",
        "报错",
    ),
    "transposed-dilation-zero": (
        "接受它（支持 AVX-512 FP16 的 CPU 上的 float16；某些版本中 kernel_size 为 1 时）",
        "报错“dilation should be greater than zero”",
        "报错",
    ),
}


def split_backend_note(error: ConvtraceError, lang: str = "en") -> tuple[str, str | None]:
    """(PyTorch's words, convtrace's note on the backend dependence in ``lang``) of an error's
    rule; the note is None for a rule PyTorch answers alike on every backend.

    >>> from convtrace import functional as F
    >>> try:
    ...     F.conv_transpose1d(np.ones((1, 1, 2)), np.ones((1, 1, 1)), dilation=0)
    ... except ConvtraceError as e:
    ...     words, note = split_backend_note(e, "zh")
    >>> words
    'dilation should be greater than zero, but got dilation=0'
    >>> note[:36]
    'PyTorch 在这里的结果取决于它的后端：启用 oneDNN 时接受它'
    """
    words, _, note = error.rule.partition(rules.BACKEND_NOTE_START)
    code = getattr(error, "code", None)
    if not note or code not in rules.BACKEND_RULES:
        return error.rule, None
    if lang != "zh":
        return words, (rules.BACKEND_NOTE_START + note).removeprefix("; ")
    with_onednn, without_onednn, ours = _BACKEND_ZH[code]
    return words, (
        f"PyTorch 在这里的结果取决于它的后端：启用 oneDNN 时{with_onednn}，不用 oneDNN 时{without_onednn}；"
        f"convtrace {ours}，这样 convtrace 接受的代码在每台机器上的 PyTorch 里都能运行"
    )
