"""The words on the pictures, in English and Chinese, and how numbers and names are written.

Numbers and names come from the text renderer's helpers (:mod:`convtrace.render.numfmt`,
:mod:`convtrace.render.names`), so a figure says what ``convtrace explain`` says.

>>> label("en", "output"), label("zh", "output")
('output y', '输出 y')
>>> label("en", "step_title", op="Conv1d", n=2, total=4, y="y2")
'Conv1d — step 2 of 4: y2'
"""

from __future__ import annotations

from typing import Any

from ..render.names import Names
from ..render.numfmt import fmt

__all__ = ["LANGUAGES", "CATALOG", "label", "fmt", "Names", "check_lang", "signed_sum"]

LANGUAGES = ("en", "zh")

#: key -> (English, Chinese)
CATALOG: dict[str, tuple[str, str]] = {
    "step_title": ("{op} — step {n} of {total}: {y}", "{op} — 第 {n} 步（共 {total} 步）：{y}"),
    "overview_conv": ("{op}: every window, every output", "{op}：每个窗口，每个输出"),
    "overview_transposed": ("{op}: four views of one result", "{op}：同一结果的四种视角"),
    "scatter_title": (
        "{op} — scatter {n} of {total}: {x} stamps {x}·w",
        "{op} — 散射第 {n} 步（共 {total} 步）：{x} 把 {x}·w 印到输出上",
    ),
    "params": ("{params}", "{params}"),
    "input": ("input x", "输入 x"),
    "padded_input": ("padded input x", "填充后的输入 x"),
    "kernel": ("kernel w", "卷积核 w"),
    "products": ("x · w", "x · w"),
    "output": ("output y", "输出 y"),
    "partial_output": ("y so far", "目前的 y"),
    "channel": ("channel {c}", "通道 {c}"),
    "batch": ("batch item {n}", "批次第 {n} 个"),
    "group": ("group {g}", "第 {g} 组"),
    "group_feeds": ("group {g}: {x} feed {y}", "第 {g} 组：{x} 输入到 {y}"),
    "kernels_title": (
        "kernels: each output channel reads the input channels of its group",
        "卷积核：每个输出通道只读取本组的输入通道",
    ),
    "windows_of": ("windows of {y} (every output channel slides the same windows)", "{y} 的窗口（每个输出通道滑过同样的窗口）"),
    "sum": ("sum = {terms} = {total}", "求和 = {terms} = {total}"),
    "sum_many": ("sum of {n} products = {total}", "{n} 个乘积之和 = {total}"),
    "sum_bias": ("{total} + bias {b} = {value}", "{total} + 偏置 {b} = {value}"),
    "channels_summary": (
        "channels {first}–{last}: {n} products, Σ = {total}",
        "通道 {first}–{last}：{n} 个乘积，Σ = {total}",
    ),
    "more_channels": ("… {n} more channels not drawn", "……另有 {n} 个通道未画出"),
    "more_steps": ("… {n} more steps not drawn", "……另有 {n} 步未画出"),
    "more_rows": ("… {n} earlier rows not drawn", "……前面 {n} 行未画出"),
    "length": ("L_out = {formula}", "L_out = {formula}"),
    "length_values": ("= {substituted} = {result}", "= {substituted} = {result}"),
    "legend_input": ("input sample", "输入样本"),
    "legend_zero": ("zero padding", "零填充"),
    "legend_reflect": ("reflect padding", "反射填充"),
    "legend_replicate": ("replicate padding", "复制填充"),
    "legend_circular": ("circular padding", "循环填充"),
    "legend_window": ("window", "窗口"),
    "legend_kernel": ("kernel w", "卷积核 w"),
    "legend_product": ("product x·w", "乘积 x·w"),
    "legend_current": ("this step's output", "本步的输出"),
    "legend_output": ("output y", "输出 y"),
    "legend_empty": ("not computed yet", "尚未算出"),
    "legend_cropped": ("cropped (padding)", "被裁掉（padding）"),
    "legend_output_padding": ("output_padding", "output_padding"),
    "window_label": ("{y} = {value}", "{y} = {value}"),
    "dilation_gap": ("dilation {d}: taps {d} apart", "dilation {d}：抽头相隔 {d}"),
    "stamp": ("{x}·w", "{x}·w"),
    "cropped": ("cropped", "裁掉"),
    "overlap": ("taps per output", "每个输出的抽头数"),
    "overlap_uneven": (
        "uneven overlap (stride {s}, kernel {k}): checkerboard",
        "重叠不均匀（stride {s}，卷积核 {k}）：棋盘格伪影",
    ),
    "overlap_even": ("even overlap", "重叠均匀"),
    "zero_insertion": (
        "zero insertion: {z} zero(s) between samples, then a stride-1 Conv1d with the flipped kernel",
        "插零：样本之间插入 {z} 个零，再用翻转的卷积核做 stride 1 的 Conv1d",
    ),
    "matrix": ("matrix view: y = Cᵀ x, C is the matching Conv1d's {r}×{c} matrix", "矩阵视角：y = Cᵀ x，C 是对应 Conv1d 的 {r}×{c} 矩阵"),
    "matrix_missing": ("matrix view: {reason}", "矩阵视角：{reason}"),
    "gradient": (
        "gradient view: ConvTranspose1d is the gradient of Conv1d with respect to its input",
        "梯度视角：ConvTranspose1d 是 Conv1d 对输入的梯度",
    ),
    "equal": ("✓ the same output as above", "✓ 与上面的输出相同"),
    "scatter": ("scatter-add: each input sample stamps x·w into the output", "散射相加：每个输入样本把 x·w 印到输出上"),
    "output_padding_note": ("output_padding {op}: {op} extra cell(s) on the right", "output_padding {op}：右边多 {op} 格"),
    "crop_note": ("padding {p}: {p} cell(s) cropped at each end", "padding {p}：两端各裁掉 {p} 格"),
    "not_drawn": ("{n} output elements: too many to draw; showing step {s}", "{n} 个输出元素，太多无法全部画出；显示第 {s} 步"),
    "no_steps": ("no steps to draw", "没有可画的步骤"),
    # ---- pools (issue 17)
    "pool_step_title": ("{op} — step {n} of {total}: {y}", "{op} — 第 {n} 步（共 {total} 步）：{y}"),
    "pool_overview": ("{op}: every window, every output", "{op}：每个窗口，每个输出"),
    "unpool_title": ("{op} — {n} of {total}: {x} lands on {y}", "{op} — 第 {n} 个（共 {total} 个）：{x} 落到 {y}"),
    "unpool_overview": ("{op}: where every value lands", "{op}：每个值落在哪里"),
    "pool_input": ("input x", "输入 x"),
    "pool_padded_input": ("padded input x", "填充后的输入 x"),
    "pool_reads": ("window reads", "窗口读到"),
    "pool_pad": ("pad", "填充"),
    "pool_overhang_mark": ("ceil", "ceil"),
    "pool_max": ("max({values}) = {value}", "max({values}) = {value}"),
    "pool_winner": ("{x} wins (index {i})", "{x} 胜出（下标 {i}）"),
    "pool_winner_tie": ("{x} wins (index {i}): the first of the ties", "{x} 胜出（下标 {i}）：并列时取第一个"),
    "pool_winner_nan": ("{x} is NaN: NaN wins (index {i})", "{x} 是 NaN：NaN 胜出（下标 {i}）"),
    "pool_mean": ("mean = ({terms}) / {d} = {value}", "平均 = ({terms}) / {d} = {value}"),
    "pool_divisor_pad": (
        "divisor {d} = {real} sample(s) + {pad} padding cell(s): count_include_pad counts the padding",
        "除数 {d} = {real} 个样本 + {pad} 个填充格：count_include_pad 计入填充",
    ),
    "pool_divisor_real": (
        "divisor {d} = {real} sample(s): count_include_pad=False counts real samples only",
        "除数 {d} = {real} 个样本：count_include_pad=False 只计真实样本",
    ),
    "pool_overhang_note": (
        "{n} overhang cell(s) past the padded input (ceil_mode): never counted",
        "{n} 个越界格超出填充后的输入（ceil_mode）：从不计入",
    ),
    "pool_lp": ("({terms})^(1/{p}) = {value}", "({terms})^(1/{p}) = {value}"),
    "pool_lp_scaled": (
        "({terms}) · {k}/{d} = {scaled}, ^(1/{p}) = {value}",
        "({terms}) · {k}/{d} = {scaled}，^(1/{p}) = {value}",
    ),
    "pool_lp_scale_note": (
        "ceil_mode: the window holds {d} of {k} taps; PyTorch scales its sum by kernel_size/{d}",
        "ceil_mode：窗口只有 {k} 个抽头中的 {d} 个；PyTorch 把和乘以 kernel_size/{d}",
    ),
    "pool_lp_signed": ("no abs: p=1 gives a signed sum", "不取绝对值：p=1 时是带符号的和"),
    "pool_adaptive_bounds": (
        "[floor({i}·{L}/{O}), ceil({j}·{L}/{O})) = [{a}, {b}): {n} sample(s)",
        "[floor({i}·{L}/{O}), ceil({j}·{L}/{O})) = [{a}, {b})：{n} 个样本",
    ),
    "pool_indices": ("indices", "下标 indices"),
    "pool_unpooled": ("output y", "输出 y"),
    "pool_unpooled_so_far": ("y so far", "目前的 y"),
    "unpool_lands": ("{x} = {v} → index {i} = {y}", "{x} = {v} → 下标 {i} = {y}"),
    "unpool_collision": (
        "collision: {before} wrote {y} before; {kept} stays (the last write; PyTorch does not promise which)",
        "冲突：{before} 之前已写入 {y}；保留 {kept}（最后写入的；PyTorch 不保证保留哪一个）",
    ),
    "unpool_rest": ("every other output: 0", "其余输出：0"),
    "more_windows": ("… {n} more windows not drawn", "……另有 {n} 个窗口未画出"),
    "legend_pad_inf": ("padding (−∞: never wins)", "填充（−∞：不会胜出）"),
    "legend_overhang": ("ceil_mode overhang (never counted)", "ceil_mode 越界（从不计入）"),
    "legend_read": ("value read", "读到的值"),
    "legend_winner": ("the max (winner)", "最大值（胜出者）"),
    "legend_excluded": ("not counted", "不计入"),
    "legend_index": ("index", "下标"),
    "legend_collision": ("collision (written more than once)", "冲突（被写入多次）"),
    "legend_untouched": ("nothing lands: 0", "无值落入：0"),
    "legend_zero_pool": ("padding (0)", "填充（0）"),

}


def check_lang(lang: str) -> str:
    """``lang`` if it is a known language, else a clear error.

    >>> check_lang("zh")
    'zh'
    """
    if lang not in LANGUAGES:
        from ..errors import ConvtraceError

        raise ConvtraceError("lang", lang, f"lang must be one of {', '.join(LANGUAGES)}")
    return lang


def label(lang: str, key: str, **values: Any) -> str:
    """The words ``key`` in ``lang``, placeholders filled."""
    return CATALOG[key][LANGUAGES.index(check_lang(lang))].format(**values)


def signed_sum(values: list[str]) -> str:
    """Numbers written as a sum, a negative one after the first as a subtraction.

    >>> signed_sum(["1", "0", "-5"]), signed_sum(["-2", "-0.5", "3"])
    ('1 + 0 − 5', '-2 − 0.5 + 3')
    """
    out = values[0] if values else ""
    for v in values[1:]:
        out += f" − {v[1:]}" if v.startswith("-") else f" + {v}"
    return out
