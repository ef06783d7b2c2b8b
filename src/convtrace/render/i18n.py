"""Every sentence convtrace prints, in English and Chinese.

A :class:`Translator` fills ``str.format`` placeholders from keyword arguments. Keys are
the same in both languages (a test checks it); parameter names (``kernel_size``), formulas
and names (``x1``, ``w2``) stay as PyTorch and the post write them.

>>> t = translator("zh")
>>> t("sum_line", terms="0 + 1 + 1", total="2")
'求和 = 0 + 1 + 1 = 2'
>>> translator("en")("sum_line", terms="0 + 1 + 1", total="2")
'sum = 0 + 1 + 1 = 2'
"""

from __future__ import annotations

from typing import Any

__all__ = ["LANGUAGES", "CATALOG", "Translator", "translator"]

LANGUAGES = ("en", "zh")

#: key -> (English, Chinese)
CATALOG: dict[str, tuple[str, str]] = {
    # -- header and data
    "title_conv": ("Conv1d, step by step", "Conv1d 逐步计算"),
    "title_transposed": ("ConvTranspose1d, step by step", "ConvTranspose1d 逐步计算"),
    "numbering": (
        "(Names count from 1, as in the post: x1 is the first input sample, w1 the first weight, y1 the first output. The i, k, j of formulas and PyTorch's indices [n, c, t] (also --at) count from 0.)",
        "（名字从 1 开始数，与原文相同：x1 是第一个输入样本，w1 是第一个权重，y1 是第一个输出。公式中的 i、k、j 以及 PyTorch 下标 [n, c, t]（以及 --at）从 0 开始数。）",
    ),
    "parameters": ("Parameters: {params}", "参数：{params}"),
    "input_shape": ("Input x: shape {shape} {layout}", "输入 x：形状 {shape}{layout}"),
    "layout_batched": ("(batch, channels, length)", "（批量, 通道, 长度）"),
    "layout_unbatched": ("(channels, length), unbatched", "（通道, 长度），无批量维"),
    "weight_shape_conv": (
        "Kernel w: shape {shape} (out_channels, in_channels/groups, kernel_size)",
        "卷积核 w：形状 {shape}（out_channels, in_channels/groups, kernel_size）",
    ),
    "weight_shape_transposed": (
        "Kernel w: shape {shape} (in_channels, out_channels/groups, kernel_size)",
        "卷积核 w：形状 {shape}（in_channels, out_channels/groups, kernel_size）",
    ),
    "bias_heading": ("Bias:", "偏置："),
    "no_bias": ("No bias (bias=False).", "没有偏置（bias=False）。"),
    "more_rows": ("… and {n} more rows", "……还有 {n} 行"),
    # -- output length
    "length_heading": ("Output length:", "输出长度："),
    "output_size_line": (
        "output_size={size} asks for more than the minimum {lmin}: PyTorch sets output_padding = {size} − {lmin} = {op}",
        "output_size={size} 比最小长度 {lmin} 长：PyTorch 取 output_padding = {size} − {lmin} = {op}",
    ),
    "dilation_line": (
        "dilation={d}: the kernel's {k} taps are {d} apart, so one window spans dilation·(k−1)+1 = {span} positions and skips {gap} between taps",
        "dilation={d}：卷积核的 {k} 个抽头相隔 {d}，一个窗口覆盖 dilation·(k−1)+1 = {span} 个位置，抽头之间跳过 {gap} 个",
    ),
    # -- the padded row
    "row_no_padding": (
        "Input row (no padding: the windows slide over the input itself):",
        "输入行（不填充：窗口直接在输入上滑动）：",
    ),
    "row_padded": (
        "Padded input row ({left} cell(s) on the left, {right} on the right, padding_mode='{mode}'):",
        "填充后的输入行（左边 {left} 格，右边 {right} 格，padding_mode='{mode}'）：",
    ),
    "same_split_even": (
        "padding='same' needs dilation·(k−1) = {d}·({k}−1) = {total} padding cells: {left} on the left, {right} on the right",
        "padding='same' 需要 dilation·(k−1) = {d}·({k}−1) = {total} 个填充格：左边 {left} 个，右边 {right} 个",
    ),
    "same_split_odd": (
        "padding='same' needs dilation·(k−1) = {d}·({k}−1) = {total} padding cells, an odd number: {left} on the left, {right} on the right (PyTorch puts the extra one on the right)",
        "padding='same' 需要 dilation·(k−1) = {d}·({k}−1) = {total} 个填充格，是奇数：左边 {left} 个，右边 {right} 个（PyTorch 把多出的一个放在右边）",
    ),
    "row_position": ("position", "位置"),
    "row_sample": ("sample", "样本"),
    "row_value": ("value", "数值"),
    "row_window": ("window", "窗口"),
    "pad_legend": ("padding cells: {cells}", "填充格：{cells}"),
    "pad_legend_item": ("position {p} = {src}", "位置 {p} = {src}"),
    "pad_zero_cell": ("0 (padding)", "0（填充）"),
    "pad_reflect_cell": ("{x} mirrored", "{x} 镜像"),
    "pad_replicate_cell": ("{x} repeated", "{x} 重复"),
    "pad_circular_cell": ("{x} wrapped", "{x} 循环"),
    "pad_zero_term": ("(padding)", "（填充）"),
    "pad_reflect_term": ("(mirrored)", "（镜像填充）"),
    "pad_replicate_term": ("(repeated)", "（重复填充）"),
    "pad_circular_term": ("(wrapped)", "（循环填充）"),
    # -- steps
    "summary": (
        "The output has {n} elements {shape}: too many to write out, so here are the steps of {shown} only.",
        "输出共有 {n} 个元素 {shape}，太多无法逐一写出，这里只写 {shown} 这几步。",
    ),
    "summary_at": (
        "Explain any one element with --at N,C,T (PyTorch's 0-based indices).",
        "用 --at N,C,T（PyTorch 的 0 起始下标）解释任意一个元素。",
    ),
    "gather_rule": (
        "Each output position j collects x_i·w_k for every i, k with i·stride − padding + k·dilation = j (0-based i, k, j):",
        "每个输出位置 j 收集所有满足 i·stride − padding + k·dilation = j 的 x_i·w_k（i、k、j 从 0 开始）：",
    ),
    "step_title": ("Step {n}: {y}", "第 {n} 步：{y}"),
    "step_title_indexed": ("Step {n}: {y} (PyTorch index {index})", "第 {n} 步：{y}（PyTorch 下标 {index}）"),
    "group_line": (
        "output channel {o} is in group {g} = ⌊({o}−1) / (out_channels/groups = {per})⌋ + 1, so it reads input channels {first}..{last} (in_channels/groups = {cin} per group)",
        "输出通道 {o} 属于第 {g} 组 = ⌊({o}−1) / (out_channels/groups = {per})⌋ + 1，所以它读取输入通道 {first}..{last}（每组 in_channels/groups = {cin} 个）",
    ),
    "in_channel": ("input channel {c}:", "输入通道 {c}："),
    "more_channels": (
        "input channels {first}..{last}: {n} more products, together {total}",
        "输入通道 {first}..{last}：另外 {n} 个乘积，合计 {total}",
    ),
    "more_channels_symbolic": (
        "input channels {first}..{last}: {n} more products of the same form",
        "输入通道 {first}..{last}：另外 {n} 个同样形式的乘积",
    ),
    "sum_line": ("sum = {terms} = {total}", "求和 = {terms} = {total}"),
    "sum_short": ("sum of the {n} products = {total}", "{n} 个乘积之和 = {total}"),
    "sum_word": ("sum", "和"),
    "formula_more": ("… ({n} more products)", "……（另外 {n} 个乘积）"),
    "sum_single": ("sum = {total}", "求和 = {total}"),
    # -- warnings and output
    "dropped_tail": (
        "⚠ {n} input sample(s) at the end ({names}) are read by no output: the last sample any window reads is {last}, and PyTorch drops this tail.",
        "⚠ 末尾 {n} 个输入样本（{names}）没有被任何输出读到：任何窗口读到的最后一个样本是 {last}，PyTorch 丢弃了这段尾巴。",
    ),
    "dropped_tail_all": (
        "⚠ none of the {n} input sample(s) ({names}) is read by any output: every tap of every window lands on zero padding.",
        "⚠ {n} 个输入样本（{names}）全都没有被任何输出读到：每个窗口的每个抽头都落在补的 0 上。",
    ),
    "gaps": (
        "⚠ {n} input sample(s) ({names}) are read by no output: {why}.",
        "⚠ {n} 个输入样本（{names}）没有被任何输出读到：{why}。",
    ),
    "gaps_join": ("; ", "；"),
    "gaps_taps": (
        "{n} between the taps of a window (dilation={dilation} puts the taps {dilation} apart across a span of {span}, and no window's tap lands on them)",
        "{n} 个在一个窗口的抽头之间（dilation={dilation} 让抽头相隔 {dilation}，跨度为 {span}，没有任何窗口的抽头落在它们上）",
    ),
    "gaps_windows": (
        "{n} between windows (stride={stride} is larger than a window's span of {span})",
        "{n} 个在窗口之间（stride={stride} 大于窗口的跨度 {span}）",
    ),
    "gaps_after": (
        "{n} after the last window (a later sample is read only through the padding)",
        "{n} 个在最后一个窗口之后（更靠后的样本只是通过填充被读到）",
    ),
    "unreached_transposed": (
        "⚠ {n} input sample(s) ({names}) affect no output: every product they scatter lands on a cropped position.",
        "⚠ {n} 个输入样本（{names}）不影响任何输出：它们散射出的乘积全都落在被裁掉的位置上。",
    ),
    "output_heading": ("Output y: shape {shape}", "输出 y：形状 {shape}"),
    "output_not_computed": (
        "(only the requested element was computed)",
        "（只计算了所请求的那个元素）",
    ),
    # -- ConvTranspose1d's views
    "mark_equal": ("✓ equal to the step-by-step output", "✓ 与逐步计算的输出相等"),
    "mark_differ": ("✗ NOT equal to the step-by-step output", "✗ 与逐步计算的输出不相等"),
    "mark_unknown": ("(not compared)", "（未比较）"),
    "view_scatter": (
        "View 1, scatter-add: each input sample times the whole kernel, added into the output starting at i·stride − padding = i·{s} − {p}",
        "视角一，散射相加：每个输入样本乘以整个卷积核，从 i·stride − padding = i·{s} − {p} 处起加到输出上",
    ),
    "scatter_full_pos": ("j (from 0)", "j（从 0 起）"),
    "scatter_out_pos": ("output", "输出"),
    "scatter_place": (
        "{x} = {v} times the kernel lands on positions {lo}..{hi}",
        "{x} = {v} 乘以卷积核，落在位置 {lo}..{hi}",
    ),
    "crop_left": (
        "✂ {n} position(s) cropped on the left (padding)",
        "✂ 左边裁掉 {n} 个位置（padding）",
    ),
    "crop_right": (
        "✂ {n} position(s) cropped on the right (padding − output_padding = {p} − {op})",
        "✂ 右边裁掉 {n} 个位置（padding − output_padding = {p} − {op}）",
    ),
    "extend_right": (
        "output_padding={op} adds {n} position(s) on the right beyond the last tap (output_padding − padding = {op} − {p}); only the bias reaches them",
        "output_padding={op} 在右边最后一个抽头之外多加 {n} 个位置（output_padding − padding = {op} − {p}）；只有偏置落到那里",
    ),
    "overlap_line": (
        "overlap (kernel taps landing on each output position): {counts}",
        "重叠数（落在每个输出位置上的抽头个数）：{counts}",
    ),
    "overlap_fix": (
        "fix: kernel_size={k}, padding={p}, output_padding={op} — a multiple of stride={s}: even overlap, the same length {n} (checked)",
        "修正：kernel_size={k}，padding={p}，output_padding={op}——stride={s} 的倍数：重叠均匀，长度仍为 {n}（已验证）",
    ),
    "overlap_resize": (
        "or resize, then convolve: repeat each sample {s} times (nearest upsampling, length {n}), then Conv1d(kernel_size={k}, padding='same') keeps length {n}{diff}",
        "或者先放大再卷积：每个样本重复 {s} 次（最近邻上采样，长度 {n}），再用 Conv1d(kernel_size={k}, padding='same') 保持长度 {n}{diff}",
    ),
    "overlap_resize_diff": (" (this layer gives {out}: crop or pad by {d})", "（本层输出 {out}：需裁剪或补齐 {d} 个）"),
    "overlap_uneven": (
        "⚠ uneven overlap: stride={s} does not divide the kernel evenly (kernel_size={k}), so some positions get more taps than others — the source of checkerboard artefacts",
        "⚠ 重叠不均匀：stride={s} 不能均匀划分卷积核（kernel_size={k}），有的位置抽头多、有的少——这就是棋盘格伪影的来源",
    ),
    "overlap_even": (
        "overlap is even across the interior: no checkerboard pattern from the kernel layout",
        "内部重叠均匀：卷积核的排布不会产生棋盘格",
    ),
    "view_zero_insertion": (
        "View 2, the equivalent Conv1d (stride 1) on the zero-inserted input with the flipped kernel:",
        "视角二，等价的 Conv1d（stride 1）：在插零后的输入上，用翻转的卷积核：",
    ),
    "zi_inserted": (
        "insert stride − 1 = {s} − 1 = {n} zero(s) between neighbouring samples",
        "在相邻样本之间插入 stride − 1 = {s} − 1 = {n} 个 0",
    ),
    "zi_pad": (
        "pad dilation·(k−1) − padding = {d}·({k}−1) − {p} = {n} zero(s) on each side",
        "两边各补 dilation·(k−1) − padding = {d}·({k}−1) − {p} = {n} 个 0",
    ),
    "zi_crop": (
        "dilation·(k−1) − padding = {d}·({k}−1) − {p} = −{n} is negative: crop {n} sample(s) from each side",
        "dilation·(k−1) − padding = {d}·({k}−1) − {p} = −{n} 为负：两边各裁掉 {n} 个样本",
    ),
    "zi_extra": (
        "plus output_padding = {n} more zero(s) on the right",
        "右边再补 output_padding = {n} 个 0",
    ),
    "zi_upsampled": ("the Conv1d sees:", "Conv1d 看到的输入："),
    "zi_weight": (
        "kernel, flipped and with in/out channels swapped {shape}:",
        "翻转并交换输入/输出通道后的卷积核 {shape}：",
    ),
    "zi_torch": ("as a runnable PyTorch configuration:", "可直接运行的 PyTorch 配置："),
    "view_matrix": (
        "View 3, the matrix: C ({rows}×{cols}) is the matrix of the matching Conv1d (y_conv = C x); ConvTranspose1d computes y = Cᵀ x",
        "视角三，矩阵：C（{rows}×{cols}）是对应 Conv1d 的矩阵（y_conv = C x）；ConvTranspose1d 计算 y = Cᵀ x",
    ),
    "matrix_too_large": ("C is not built: {reason}", "未构造 C：{reason}"),
    "matrix_not_printed": ("(C is too large to print)", "（C 太大，不打印）"),
    "view_gradient": (
        "View 4, the gradient: ConvTranspose1d is the gradient of Conv1d with respect to its input:",
        "视角四，梯度：ConvTranspose1d 就是 Conv1d 对其输入的梯度：",
    ),
    # -- the PyTorch check
    "check_heading": ("PyTorch check:", "PyTorch 校验："),
    "check_skipped": ("not run (verification switched off).", "未运行（已关闭校验）。"),
    "check_no_torch": (
        "PyTorch is not installed: pip install 'convtrace[torch]' to check this explanation against it.",
        "未安装 PyTorch：运行 pip install 'convtrace[torch]' 即可用它校验本解释。",
    ),
    "check_output": ("PyTorch's output: {output}", "PyTorch 的输出：{output}"),
    "check_agree": (
        "✓ PyTorch agrees with the hand computation (largest absolute difference {diff})",
        "✓ PyTorch 与手算结果一致（最大绝对误差 {diff}）",
    ),
    "check_disagree": (
        "✗ PyTorch DISAGREES with the hand computation (largest absolute difference {diff})",
        "✗ PyTorch 与手算结果不一致（最大绝对误差 {diff}）",
    ),
    "check_data": (
        "(x, weight and bias: the tensors above, in float64)",
        "（x、weight 和 bias 即上面的张量，float64）",
    ),
    # -- notes the trace builder attaches (by code)
    "note_output_not_computed": (
        "The whole output ({multiply_adds} multiply-adds) was not computed: each explained element was computed on its own.",
        "没有计算整个输出（{multiply_adds} 次乘加）：每个被解释的元素单独计算。",
    ),
    "note_views_skipped": (
        "The four ConvTranspose1d views need the whole output: explain a smaller input (or drop --at) to see them.",
        "ConvTranspose1d 的四个视角需要整个输出：换一个较小的输入（或去掉 --at）即可看到。",
    ),
    "note_placements_skipped": (
        "The scatter-add placements are not listed: more than {limit} taps.",
        "散射相加的摆放未列出：超过 {limit} 个抽头。",
    ),
    # -- the demo
    "demo_case": (
        "Example {n} of the post: input 1,1,1,1, kernel 1,1,1, stride={stride}, padding={padding}, no bias → {output}",
        "原文第 {n} 个例子：输入 1,1,1,1，卷积核 1,1,1，stride={stride}，padding={padding}，无偏置 → {output}",
    ),
    "demo_transposed": (
        "The post's aim: the same input through ConvTranspose1d (stride={stride}, padding={padding}, output_padding={output_padding}), explained from Conv1d",
        "原文的目标：同一输入经过 ConvTranspose1d（stride={stride}，padding={padding}，output_padding={output_padding}），用 Conv1d 来解释",
    ),
    "demo_equivalent": (
        "The same output, as the plain Conv1d of view 2 (stride 1 on the zero-inserted input, flipped kernel), step by step",
        "同一个输出，作为视角二中的普通 Conv1d（在插零后的输入上 stride 1，翻转的卷积核）逐步计算",
    ),
    # -- pools (issue 17: explain --op max_pool1d, avg_pool1d, lp_pool1d, adaptive_*, max_unpool1d)
    "title_pool": ("{module} ({op}), step by step", "{module}（{op}）逐步计算"),
    "pool_numbering": (
        "(Names count from 1: x1 is the first input sample, y1 the first output. Positions in windows and PyTorch's indices [n, c, t] (also --at, and max pooling's indices) count from 0.)",
        "（名字从 1 开始数：x1 是第一个输入样本，y1 是第一个输出。窗口中的位置以及 PyTorch 下标 [n, c, t]（以及 --at、最大池化的 indices）从 0 开始数。）",
    ),
    "pool_channels": (
        "Every channel is pooled on its own (channels in = channels out = {c}).",
        "每个通道单独池化（输入通道数 = 输出通道数 = {c}）。",
    ),
    "pool_indices_given": ("Indices (where each value goes, 0-based):", "indices（每个值放到哪里，从 0 开始）："),
    "pool_ceil_rule": (
        "ceil_mode=True rounds up, so the last window may run past the padded input (the overhang, never read); but a window must start inside the input or the left padding: start = t·stride < L + padding = {limit}",
        "ceil_mode=True 向上取整，所以最后一个窗口可能超出填充后的输入（超出部分称为 overhang，从不读取）；但窗口必须从输入或左填充内部开始：起点 = t·stride < L + padding = {limit}",
    ),
    "pool_ceil_dropped": (
        "− 1: rounding up gives {docs} (the MaxPool1d docstring's formula stops there), but window {index} would start at padded position {index}·stride = {start} >= L + padding = {limit}: PyTorch drops it, so L_out = {out}",
        "− 1：向上取整得到 {docs}（MaxPool1d 文档里的公式到此为止），但第 {index} 个窗口会从填充位置 {index}·stride = {start} 开始，{start} >= L + padding = {limit}：PyTorch 丢弃它，所以 L_out = {out}",
    ),
    "pool_tap_sep": ("; ", "；"),
    "pool_divisor_full": (
        "divisor = {d} = kernel_size: every tap is a real sample",
        "除数 = {d} = kernel_size：每个抽头都是真实样本",
    ),
    "pool_check_data": ("(x: the input above, in float64)", "（x 即上面的输入，float64）"),
    "pool_check_indices": (
        "PyTorch's indices: {indices} — {verdict}",
        "PyTorch 的 indices：{indices}——{verdict}",
    ),
    "pool_indices_agree": ("the same as the winners above", "与上面的胜出下标相同"),
    "pool_indices_differ": ("NOT the winners above", "与上面的胜出下标不同"),
    "pool_adaptive_rule": (
        "adaptive window of output i: [floor(i·L/O), ceil((i+1)·L/O)) with L = {length}, O = {size}; window lengths {lengths}",
        "自适应窗口（第 i 个输出）：[floor(i·L/O), ceil((i+1)·L/O))，L = {length}，O = {size}；窗口长度 {lengths}",
    ),
    "pool_adaptive_overlap": ("the windows overlap (neighbours share samples)", "窗口互相重叠（相邻窗口共用样本）"),
    "pool_row_heading": (
        "Padded input row ({p} cell(s) of padding on each side; {fill}):",
        "填充后的输入行（两边各 {p} 格填充；{fill}）：",
    ),
    "pool_row_no_padding": ("Input row (no padding):", "输入行（无填充）："),
    "pool_fill_max": (
        "max pooling pads with −inf, which never wins",
        "最大池化用 −inf 填充，它永远不会成为最大值",
    ),
    "pool_fill_avg": ("average pooling pads with 0", "平均池化用 0 填充"),
    "pool_row_kind": ("kind", "类型"),
    "tap_real": ("real", "真实"),
    "tap_left_pad": ("left pad", "左填充"),
    "tap_right_pad": ("right pad", "右填充"),
    "tap_overhang": ("overhang", "超出"),
    "tap_real_short": ("x", "x"),
    "tap_left_pad_short": ("pad", "填"),
    "tap_right_pad_short": ("pad", "填"),
    "tap_overhang_short": ("over", "超"),
    "pool_window_line": (
        "window: padded positions {first}..{last} (input positions {start}..{end}):",
        "窗口：填充位置 {first}..{last}（输入位置 {start}..{end}）：",
    ),
    "pool_window_adaptive": (
        "window: start = floor({i}·{L}/{O}) = {start}, end = ceil({j}·{L}/{O}) = {end}: input positions {start}..{last} ({n} sample(s))",
        "窗口：起点 = floor({i}·{L}/{O}) = {start}，终点 = ceil({j}·{L}/{O}) = {end}：输入位置 {start}..{last}（{n} 个样本）",
    ),
    "pool_tap_value": ("{name} = {value} ({kind})", "{name} = {value}（{kind}）"),
    "pool_tap_pad_max": ("−inf ({kind})", "−inf（{kind}）"),
    "pool_tap_pad": ("0 ({kind})", "0（{kind}）"),
    "pool_tap_overhang": ("· ({kind}: past the padded input, not read)", "·（{kind}：超出填充后的输入，不读取）"),
    "pool_max": ("max = {value}, at {name} (PyTorch index {index})", "最大值 = {value}，在 {name}（PyTorch 下标 {index}）"),
    "pool_max_ties": (
        "{names} are all {value}: a tie goes to the first index ({index})",
        "{names} 都等于 {value}：相等时取第一个下标（{index}）",
    ),
    "pool_max_nan": (
        "a NaN is in the window: NaN wins (PyTorch's loop keeps the last NaN, index {index})",
        "窗口里有 NaN：NaN 胜出（PyTorch 的循环保留最后一个 NaN，下标 {index}）",
    ),
    "pool_sum": ("sum = {terms}{total}", "求和 = {terms}{total}"),
    "pool_divisor_include": (
        "divisor = {d}: count_include_pad=True counts the {real} real sample(s) and the {pad} padding cell(s)",
        "除数 = {d}：count_include_pad=True 计入 {real} 个真实样本和 {pad} 个填充格",
    ),
    "pool_divisor_exclude": (
        "divisor = {d}: count_include_pad=False counts the {real} real sample(s) only",
        "除数 = {d}：count_include_pad=False 只计入 {real} 个真实样本",
    ),
    "pool_divisor_overhang": (
        "; the {n} overhang cell(s) past the padded input never count (PyTorch's rule, even with count_include_pad=True)",
        "；超出填充后输入的 {n} 个 overhang 格永远不计入（PyTorch 的规则，即使 count_include_pad=True）",
    ),
    "pool_divisor_adaptive": ("divisor = end − start = {d}", "除数 = end − start = {d}"),
    "pool_mean": ("{y} = {total} / {d} = {value}", "{y} = {total} / {d} = {value}"),
    "pool_truncated": (
        "integer input: PyTorch's integer division truncates toward zero: {total} / {d} → {value}",
        "整数输入：PyTorch 的整数除法向零截断：{total} / {d} → {value}",
    ),
    "pool_power": ("{name}^{p} = {value}", "{name}^{p} = {value}"),
    "pool_power_sum": ("Σ x^p = {terms}{total}", "Σ x^p = {terms}{total}"),
    "pool_pnorm_full": ("{y} = ({total})^(1/{p}) = {value}", "{y} = ({total})^(1/{p}) = {value}"),
    "pool_pnorm_scaled": (
        "the window has {n} overhang cell(s): PyTorch computes avg_pool1d(x^p)·kernel_size, so it divides by {d} (the counted taps) and multiplies by kernel_size = {k}: scale = {k}/{d} = {scale}",
        "窗口有 {n} 个 overhang 格：PyTorch 计算 avg_pool1d(x^p)·kernel_size，所以除以 {d}（计入的抽头数）再乘以 kernel_size = {k}：比例 = {k}/{d} = {scale}",
    ),
    "pool_pnorm_partial": (
        "{y} = ({total} · {scale})^(1/{p}) = ({scaled})^(1/{p}) = {value}",
        "{y} = ({total} · {scale})^(1/{p}) = ({scaled})^(1/{p}) = {value}",
    ),
    "pool_pnorm_signed": (
        "x^p is taken without abs (PyTorch's rule): a negative sum gives NaN unless 1/p is a whole number (p = 1: a signed sum)",
        "x^p 不取绝对值（PyTorch 的规则）：和为负数时结果为 NaN，除非 1/p 是整数（p = 1：带符号的和）",
    ),
    "pool_pnorm_inf": (
        "norm_type = inf: PyTorch takes max_pool1d(|x|): {y} = {value}, the |x| of {name} (index {index})",
        "norm_type = inf：PyTorch 计算 max_pool1d(|x|)：{y} = {value}，即 {name} 的 |x|（下标 {index}）",
    ),
    "pool_pnorm_neg_inf": (
        "norm_type = -inf: PyTorch takes −max_pool1d(−|x|), the smallest |x|: {y} = {value}, the |x| of {name} (index {index})",
        "norm_type = -inf：PyTorch 计算 −max_pool1d(−|x|)，即最小的 |x|：{y} = {value}，即 {name} 的 |x|（下标 {index}）",
    ),
    "pool_unpool_none": ("no index points here: {y} = 0", "没有 index 指向这里：{y} = 0"),
    "pool_unpool_one": ("{name} = {value} lands here (its index is {t}): {y} = {value}", "{name} = {value} 落在这里（它的 index 是 {t}）：{y} = {value}"),
    "pool_unpool_collision": (
        "{names} all land here (their index is {t}): a collision; PyTorch does not specify which value stays — the engine keeps {name} = {value}",
        "{names} 都落在这里（index 都是 {t}）：冲突；PyTorch 没有规定保留哪一个值——引擎保留 {name} = {value}",
    ),
    "pool_result": ("{y} = {value}", "{y} = {value}"),
    "pool_scatter_heading": ("Where each value lands (max_unpool1d scatters):", "每个值落在哪里（max_unpool1d 散射）："),
    "pool_scatter_item": ("{name} = {value} → y{t1} (index {t})", "{name} = {value} → y{t1}（index {t}）"),
    "pool_scatter_lost": ("{name} = {value} → y{t1} (index {t}), overwritten", "{name} = {value} → y{t1}（index {t}），被覆盖"),
    "pool_indices_heading": ("Indices (PyTorch's return_indices, 0-based):", "indices（PyTorch 的 return_indices，从 0 开始）："),
    # -- the command line
    "error_heading": ("convtrace: invalid configuration", "convtrace：配置无效"),
    "col_input": ("input", "输入"),
    "col_weight": ("weight", "权重"),
    "col_x": ("x value", "x 的值"),
    "col_w": ("w value", "w 的值"),
    "col_product": ("x·w", "x·w"),
    "error_pytorch": ("{text}", "原文（英文）：{text}"),
    "error_backend": ("why convtrace raises: {note}", "convtrace 为什么报错：{note}"),
    "error_rule": ("rule: {rule}", "规则：{rule}"),
    "error_numbers": ("numbers: {numbers}", "数值：{numbers}"),
    "error_nearest": ("nearest valid: {hint}", "最接近的有效设置：{hint}"),
}


class Translator:
    """``t(key, **values)``: the sentence ``key`` in one language, placeholders filled.

    >>> Translator("en")("step_title", n=1, y="y1")
    'Step 1: y1'
    """

    def __init__(self, lang: str) -> None:
        if lang not in LANGUAGES:
            raise ValueError(f"unknown language {lang!r}: use one of {', '.join(LANGUAGES)}")
        self.lang = lang
        self._i = LANGUAGES.index(lang)

    def __call__(self, key: str, **values: Any) -> str:
        return CATALOG[key][self._i].format(**values)


def translator(lang: str) -> Translator:
    """The :class:`Translator` for ``lang`` (``'en'`` or ``'zh'``)."""
    return Translator(lang)
