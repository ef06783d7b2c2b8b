r"""The command line's help in Chinese (``convtrace explain --help --lang zh``): every help
text, description and group title of every command, and the comments (after ``#``) and the
heading of its ``examples:`` block, by its English text. Commands, flags and code stay as
written. argparse's own words (the usage prefix, its section titles) are set by :mod:`.base`.

>>> translate_examples("examples:\n  convtrace demo --lang zh   # the same, in Chinese\n")
'示例：\n  convtrace demo --lang zh   # 同上，用中文讲解\n'
"""

from __future__ import annotations

import argparse

__all__ = ["CHINESE_HELP", "EXAMPLE_COMMENTS", "translate_examples", "translate_parser"]

CHINESE_HELP: dict[str, str] = {
    "language of the explanation": "讲解使用的语言",
    "skip the PyTorch check": "跳过 PyTorch 校验",
    "print the trace as JSON instead of text": "以 JSON 输出讲解数据，而不是文字",
    "the teaching post's worked examples, then ConvTranspose1d (the default)":
        "原文的例题，然后是 ConvTranspose1d（默认命令）",
    "explain any Conv1d / ConvTranspose1d configuration, or a pool (--op)":
        "讲解任意 Conv1d / ConvTranspose1d 配置，或一个池化（--op）",
    "default: from the input data (else 1)": "默认：由输入数据决定（否则为 1）",
    "default: from --weight (else groups)": "默认：由 --weight 决定（否则等于 groups）",
    "default: from --weight (else 3)": "默认：由 --weight 决定（否则为 3）",
    "an int, 'same' or 'valid' (default 0)": "整数、'same' 或 'valid'（默认 0）",
    "add a bias: alone, a bias of ones; with values (e.g. 0.5 or 1,2), those values":
        "加偏置：单独使用时偏置全为 1；带数值时（如 0.5 或 1,2）用这些数值",
    "no bias (the default)": "不加偏置（默认）",
    "ConvTranspose1d only (default 0)": "仅用于 ConvTranspose1d（默认 0）",
    "ConvTranspose1d only: the output length wanted": "仅用于 ConvTranspose1d：想要的输出长度",
    "explain ConvTranspose1d": "讲解 ConvTranspose1d",
    "1,1,1,1 (one channel); channels separated by ':' (or ';' quoted), batch items by '::' "
    "(or '|' quoted), e.g. 1,2:3,4::5,6:7,8; a JSON array; or @file.npy (memory-mapped)":
        "1,1,1,1（一个通道）；通道之间用 ':'（或加引号的 ';'）分隔，批次之间用 '::'（或加引号的 '|'），"
        "例如 1,2:3,4::5,6:7,8；也可以是 JSON 数组，或 @file.npy（内存映射）",
    "the kernel, same forms (default: ones)": "卷积核，写法相同（默认全为 1）",
    "make up the input: (L), (C,L) or (N,C,L)": "生成输入：(L)、(C,L) 或 (N,C,L)",
    "how to fill the made-up input (default ones)": "生成的输入如何填充（默认全为 1）",
    "fill the weight so (instead of ones)": "这样填充权重（代替全 1）",
    "add a bias filled so": "加一个这样填充的偏置",
    "seed of randint/randn (default 0)": "randint/randn 的随机种子（默认 0）",
    "explain only output element y[N, C, T] (0-based)": "只讲解输出元素 y[N, C, T]（从 0 开始数）",
    "names (x1, w1, b) instead of numbers": "用名字（x1、w1、b）代替数字",
    "write out at most this many steps": "最多写出这么多步",
    "show this help message and exit": "显示本帮助并退出",
    "configuration (PyTorch's names)": "配置（与 PyTorch 的参数名相同）",
    "data": "数据",
    "output": "输出",
    "The three worked examples of the teaching post (input 1,1,1,1, kernel of ones: stride 1 / "
    "padding 0, padding 1, stride 2 / padding 1), each by hand and then checked by PyTorch; then "
    "the same input through ConvTranspose1d, explained from Conv1d.":
        "原文的三个例题（输入 1,1,1,1，卷积核全为 1：stride 1 / padding 0、padding 1、stride 2 / padding 1），"
        "每个先手算再由 PyTorch 校验；然后同一输入经过 ConvTranspose1d，用 Conv1d 来解释。",
    # the root command
    "PyTorch's 1-D convolutions, computed and explained step by step, checked against PyTorch.":
        "PyTorch 的一维卷积：逐步计算、逐步讲解，并由 PyTorch 校验。",
    "show program's version number and exit": "显示版本号并退出",
    "draw a configuration: SVG, PNG or an animated GIF": "画出一个配置：SVG、PNG 或 GIF 动画",
    "open the interactive explorer in a browser (local web page)": "在浏览器中打开交互式探索器（本地网页）",
    "one layer's output length, with the formula and the inverse": "单层的输出长度，附公式与反推",
    "which layers reach a length goal, best first, as PyTorch code":
        "哪些层能达到长度目标，最好的在前，并给出 PyTorch 代码",
    "a stack's lengths, receptive field, hop, offset, lookahead, MACs":
        "一组层的长度、感受野、跳步、偏移、前瞻和乘加次数",
    "record the time-axis layers of a real PyTorch model (meta device)":
        "记录真实 PyTorch 模型中沿时间轴的层（meta 设备）",
    # draw
    "Draw one Conv1d (or, with --transposed, ConvTranspose1d) configuration: the window moving along "
    "the padded input, the kernel with its dilation gaps, the products and the output filling in; for "
    "ConvTranspose1d the scatter view, the overlap bar, the zero-insertion view and the matrix. A pool "
    "(--op max_pool1d, avg_pool1d, lp_pool1d, adaptive_avg_pool1d, adaptive_max_pool1d, max_unpool1d): "
    "the window sliding along the padded input, the ceil_mode overhang shaded apart from the padding, the "
    "max's winner, the mean's divisor, adaptive windows, unpooled values landing. The "
    "format comes from the suffix of -o. PNG and GIF need the viz extra (pip install 'convtrace[viz]').":
        "画出一个 Conv1d（加 --transposed 则为 ConvTranspose1d）配置：窗口沿补齐后的输入移动、"
        "带空洞间隔的卷积核、各个乘积和逐步填出的输出；ConvTranspose1d 另有散射视图、重叠条、"
        "插零视图和矩阵。池化（--op max_pool1d、avg_pool1d、lp_pool1d、adaptive_avg_pool1d、"
        "adaptive_max_pool1d、max_unpool1d）：窗口沿补齐后的输入滑动、ceil_mode 越界部分与填充分开着色、"
        "最大值的胜出者、平均的除数、自适应窗口、反池化的值落在哪里。"
        "格式由 -o 的后缀决定。PNG 和 GIF 需要 viz 扩展（pip install 'convtrace[viz]'）。",
    "picture": "图片",
    "out.svg, out.png or out.gif": "out.svg、out.png 或 out.gif",
    "draw step N alone (SVG, PNG), counted from 1 as the titles count ('step 1 of 4'; a scatter "
    "placement when transposed; --at's indices count from 0, as PyTorch's); default: the overview. "
    "Not for a GIF, which shows every step":
        "只画第 N 步（SVG、PNG），与标题一样从 1 开始数（“第 1 步（共 4 步）”；转置时为一次散射摆放；"
        "--at 的下标与 PyTorch 一样从 0 开始数）；默认：总览。不用于 GIF（GIF 包含每一步）",
    # serve
    "Serve the convtrace explorer: every Conv1d / ConvTranspose1d and pooling parameter, a step scrubber, the "
    "length formula, PyTorch's verdict and a copyable snippet. Works offline. Needs the web extra "
    "(pip install 'convtrace[web]').":
        "启动 convtrace 探索器：Conv1d / ConvTranspose1d 及池化的每个参数、步骤拖动条、长度公式、"
        "PyTorch 的校验结果和可复制的代码。可离线使用。需要 web 扩展（pip install 'convtrace[web]'）。",
    "address to bind (default 127.0.0.1: this machine only)": "绑定的地址（默认 127.0.0.1：仅本机）",
    "port (default 8765; 0 picks a free one)": "端口（默认 8765；0 表示自动选一个空闲端口）",
    "open the page in the default browser": "在默认浏览器中打开页面",
    # demo, explain
    "Explain one Conv1d (or, with --transposed, ConvTranspose1d) step by step. Flags mirror "
    "PyTorch's argument names; weights default to ones, as in the post. With --op, a "
    "pool: each output's window (every sample tagged real, padding or ceil_mode overhang) and its "
    "max, mean or p-norm with the numbers.":
        "逐步讲解一个 Conv1d（加 --transposed 则为 ConvTranspose1d）。参数名与 PyTorch 相同；"
        "权重默认全为 1，与原文一致。加 --op 则讲解池化：每个输出的窗口（每个样本标明真实、填充或 "
        "ceil_mode 超出部分）及其最大值、平均值或 p 范数，带上具体数值。",
    # shape, solve, stack (the planning commands) and inspect
    "Output length of one Conv1d / ConvTranspose1d / pool (MaxPool1d, AvgPool1d, LPPool1d, AdaptiveAvgPool1d, "
    "AdaptiveMaxPool1d, MaxUnpool1d) with the formula and your values (ceil_mode's last window, an adaptive "
    "pool's windows); the valid output_size values of ConvTranspose1d and MaxUnpool1d; the dropped tail; with "
    "--want, the input lengths giving that output length.":
        "单个 Conv1d / ConvTranspose1d / 池化层（MaxPool1d、AvgPool1d、LPPool1d、AdaptiveAvgPool1d、"
        "AdaptiveMaxPool1d、MaxUnpool1d）的输出长度，附公式和代入的数值（ceil_mode 的最后一个窗口、自适应池化的窗口）；"
        "ConvTranspose1d 和 MaxUnpool1d 可用的 output_size 值；被丢弃的尾部；加 --want 时，列出得到该输出长度的输入长度。",
    "the layer in the stack syntax, e.g. 'conv k=3 s=2' (or just a kind and flags)":
        "用层栈写法给出的层，如 'conv k=3 s=2'（或只写类型，再加参数）",
    **{f"same as {key}= in the layer": f"同层写法中的 {key}=" for key in ("k", "s", "p", "d", "op", "g", "o", "norm")},
    "pools: ceil_mode=True": "池化层：ceil_mode=True",
    "the input length": "输入长度",
    "also list the input lengths giving this output length": "同时列出得到这个输出长度的输入长度",
    "JSON instead of text": "输出 JSON，而不是文字",
    "language of the text and messages": "文字和提示信息使用的语言",
    "The inverse problem: every configuration within the bounds reaching the goal, best first, each "
    "with a PyTorch snippet defining `layer`.":
        "反问题：在给定范围内列出达到目标的所有配置，最好的在前，每个都附一段定义 `layer` 的 PyTorch 代码。",
    "same: keep the length; down / up: divide / multiply it by --stride; undo: restore the length "
    "--conv changed; length: turn --length into --target":
        "same：长度不变；down / up：长度除以 / 乘以 --stride；undo：恢复 --conv 改变的长度；"
        "length：把 --length 变成 --target",
    "the stride / factor (length: the largest stride tried)": "步长 / 倍数（length：尝试的最大步长）",
    "a range 1..16 or a list 3,5,7 (default 1..16)": "范围 1..16 或列表 3,5,7（默认 1..16）",
    "a range or list (default 1)": "范围或列表（默认 1）",
    "same/down: left-only padding (F.pad + Conv1d)": "same/down：只在左边补齐（F.pad + Conv1d）",
    "length: the input length; undo: the length the snippet defaults to":
        "length：输入长度；undo：代码片段默认使用的长度",
    "length: the output length wanted": "length：想要的输出长度",
    "undo: the Conv1d to undo, in the stack syntax": "undo：要还原的 Conv1d，用层栈写法",
    "channels in the snippets (default 1)": "代码片段中的通道数（默认 1）",
    "solutions listed (default 10)": "列出的解的个数（默认 10）",
    "Per layer the length in -> out, receptive field, hop and offset; for the stack the receptive "
    "field, total hop, lookahead (causal or not), upsampling factor and multiply-adds. Output index t "
    "depends on input indices [t*hop - offset, t*hop - offset + receptive_field - 1]. Syntax: see "
    "`python -m pydoc convtrace.plan.stack`.":
        "每层的长度（输入 -> 输出）、感受野、跳步和偏移；整个层栈的感受野、总跳步、前瞻（是否因果）、"
        "上采样倍数和乘加次数。输出下标 t 依赖输入下标 [t*hop - offset, t*hop - offset + "
        "receptive_field - 1]。写法见 `python -m pydoc convtrace.plan.stack`。",
    "the stack, e.g. 'conv k=7 p=3; 4x(conv k=4 s=2 p=1)', or @file":
        "层栈，如 'conv k=7 p=3; 4x(conv k=4 s=2 p=1)'，或 @文件",
    "input channels (default 1)": "输入通道数（默认 1）",
    "batch size (multiply-adds only)": "批大小（只影响乘加次数）",
    "Run a model once on PyTorch's meta device (no weights allocated; a real run where meta cannot) "
    "and record every Conv1d, ConvTranspose1d, pool (MaxPool1d, AvgPool1d, LPPool1d, AdaptiveAvgPool1d, "
    "AdaptiveMaxPool1d, MaxUnpool1d) and every time-axis F.pad, functional conv/pool call and crop: lengths, "
    "receptive field and hop so far (after an adaptive pool: at this input length only), warnings.":
        "在 PyTorch 的 meta 设备上运行模型一次（不分配权重；meta 设备不行时就真实运行），记录每个 "
        "Conv1d、ConvTranspose1d、池化层（MaxPool1d、AvgPool1d、LPPool1d、AdaptiveAvgPool1d、AdaptiveMaxPool1d、"
        "MaxUnpool1d），以及沿时间轴的每次 F.pad、函数式卷积/池化调用和裁剪："
        "长度、到该层为止的感受野和跳步（自适应池化之后：只在这个输入长度下成立）、警告。",
    "package.module:factory[:key=value,...]": "模型：package.module:factory[:key=value,...]",
    "factory keyword arguments as a JSON object": "工厂函数的关键字参数，写成 JSON 对象",
    "e.g. 1,1,16000": "输入形状，例如 1,1,16000",
    "which input dimension is time (default -1)": "输入的哪一维是时间（默认 -1）",
    'what one input step is, for the text (e.g. frames, samples; default "input steps")':
        "文字里一个输入步叫什么（例如 frames、samples；默认“输入步”）",
    "input dtype, e.g. int64 for token ids (default: the model's)":
        "输入的 dtype，如词元 id 用 int64（默认：模型的 dtype）",
    "map output lengths over input lengths, e.g. 1000..1100 or 0,1,319":
        "列出每个输入长度对应的输出长度，如 1000..1100 或 0,1,319",
    "explain one element of this Conv1d/ConvTranspose1d/pool": "讲解这个 Conv1d/ConvTranspose1d/池化层的一个输出元素",
    "with --explain: the output element y[N, C, T]": "配合 --explain：输出元素 y[N, C, T]",
    "with --explain: seed of the random input (default 0)": "配合 --explain：随机输入的种子（默认 0）",
    # convtrace stream (issue 18: streaming)
    "can a net stream chunk by chunk: latency, lookahead, cache, what cannot":
        "一个网络能否逐块流式运行：延迟、前瞻、缓存，以及哪些层不能",
    "The streaming report of a stack (the planner's syntax) or of a PyTorch model (recorded by the inspector): "
    "per layer and in total the left context kept between chunks (samples x channels, bytes), lookahead, "
    "algorithmic latency (samples, ms), hop, minimum chunk and the first output; the layers that cannot stream, "
    "with the reason and the fix; strided causal convs padded k_eff-1 where k_eff-s has the same causality with "
    "less latency. --check proves chunked equals offline on random chunk schedules.":
        "一个层栈（规划器的写法）或一个 PyTorch 模型（由检查器记录）的流式报告：逐层及总计的块间保留的左侧上下文"
        "（样本数 x 通道数、字节）、前瞻、算法延迟（样本、毫秒）、跳步、最小块和第一个输出；不能流式运行的层，"
        "附原因和改法；左边填充 k_eff-1 的带步长因果卷积，改为 k_eff-s 因果性不变、延迟更小。--check 在随机分块方案上"
        "证明分块结果等于离线结果。",
    "a stack, e.g. 'conv k=3 p=causal; conv k=4 s=2 p=2,0', @file, or package.module:factory[:key=value,...] "
    "with --input-shape":
        "一个层栈，例如 'conv k=3 p=causal; conv k=4 s=2 p=2,0'、@文件，或 package.module:factory[:key=value,...]"
        "（配合 --input-shape）",
    "samples per second, for the times in ms (e.g. 24000)": "每秒样本数，用于换算毫秒（例如 24000）",
    "a stack's input channels (default 1)": "层栈的输入通道数（默认 1）",
    "dtype of the cached samples: float32 (default), float64, float16; with --check, the dtype streamed "
    "(default float64)":
        "缓存样本的 dtype：float32（默认）、float64、float16；配合 --check 时为流式运行的 dtype（默认 float64）",
    "batch size the cache is counted for (default 1)": "计算缓存时的批大小（默认 1）",
    "a model's input shape, e.g. 1,1,24000 (the model is recorded on it)":
        "模型的输入形状，例如 1,1,24000（在这个形状上记录模型）",
    "a model: which input dimension is time (default -1)": "模型：输入的哪一维是时间（默认 -1）",
    "a model: factory keyword arguments as a JSON object": "模型：工厂函数的关键字参数，写成 JSON 对象",
    # -- convtrace stream on a model (issue 19: streamify)
    "stream the stack (or the model, by streamify) on random chunk schedules and compare with the offline "
    "result (a stack: also PyTorch's, when installed)":
        "在随机分块方案上流式运行层栈（或由 streamify 流式运行模型），并与离线结果比较（层栈：安装了 PyTorch 时也与 "
        "PyTorch 的结果比较）",
    "with --check, a stack: the signal length (default: a few receptive fields; a model's is its --input-shape)":
        "配合 --check，层栈：信号长度（默认：几个感受野；模型的长度由 --input-shape 给出）",
    "with --check: how many random schedules": "配合 --check：随机分块方案的个数",
    "with --check: the seed (default 0)": "配合 --check：随机种子（默认 0）",
    # -- explain --op: the pools (issue 17)
    "default 1 (pools: kernel_size)": "默认 1（池化：kernel_size）",
    "ConvTranspose1d, max_unpool1d: the output length wanted; adaptive pools: the output length":
        "ConvTranspose1d、max_unpool1d：想要的输出长度；自适应池化：输出长度",
    "pooling (issue 17)": "池化",
    "what to explain: conv1d (the default), conv_transpose1d (as --transposed), max_pool1d, avg_pool1d, "
    "lp_pool1d, adaptive_avg_pool1d, adaptive_max_pool1d or max_unpool1d":
        "讲解什么：conv1d（默认）、conv_transpose1d（同 --transposed）、max_pool1d、avg_pool1d、"
        "lp_pool1d、adaptive_avg_pool1d、adaptive_max_pool1d 或 max_unpool1d",
    "max/avg/lp pools: round the length up": "最大/平均/LP 池化：长度向上取整",
    "avg_pool1d: the padding counts in the divisor (PyTorch's default)": "avg_pool1d：填充计入除数（PyTorch 的默认）",
    "avg_pool1d: divide by the real samples only": "avg_pool1d：只除以真实样本数",
    "lp_pool1d: the power p": "lp_pool1d：幂次 p",
    "max pools: list PyTorch's indices too": "最大池化：同时列出 PyTorch 的 indices",
    "max_unpool1d: where each input value goes (e.g. 1,3)": "max_unpool1d：每个输入值放到哪里（例如 1,3）",
}

#: the comments of the ``examples:`` blocks (after ``#``), and the block's heading
EXAMPLE_COMMENTS: dict[str, str] = {
    "examples:": "示例：",
    "the teaching post's examples, then the transposed": "原文的例题，然后是转置卷积",
    "the same, in Chinese": "同上，用中文讲解",
    "two channels": "两个通道",
    "the input lengths that give 1603 samples": "得到 1603 个样本的输入长度",
    "keep the length": "长度不变",
    "a quarter of the length": "长度变为四分之一",
    "8 times the length": "长度变为 8 倍",
    "undo a Conv1d": "还原 Conv1d",
    "output length per input length": "每个输入长度的输出长度",
    "one output element, by hand": "手算一个输出元素",
    # pools in planning (issue 17)
    "one window less": "少一个窗口",
    "its windows": "它的窗口",
    "max over time": "沿时间取最大值",
    # convtrace stream (issue 18: streaming)
    "latency, lookahead, cache": "延迟、前瞻、缓存",
    "chunked equals offline?": "分块结果等于离线结果？",
    # convtrace stream on a model (issue 19: streamify)
    "a PyTorch model, recorded and streamed": "一个 PyTorch 模型，先记录，再流式运行",
    "the streamed model equals model(x)?": "流式运行的模型等于 model(x)？",
}


def translate_examples(epilog: str) -> str:
    """An ``examples:`` block with its heading and its comments (after ``# ``) in Chinese;
    the commands as written."""
    lines = []
    for line in epilog.split("\n"):
        code, mark, comment = line.partition("# ")
        if mark and comment in EXAMPLE_COMMENTS:
            line = code + mark + EXAMPLE_COMMENTS[comment]
        lines.append(EXAMPLE_COMMENTS.get(line, line))
    return "\n".join(lines)


def translate_parser(parser: argparse.ArgumentParser) -> None:
    """Put the Chinese help texts into ``parser`` and its subcommands (in place)."""
    if parser.description in CHINESE_HELP:
        parser.description = CHINESE_HELP[parser.description]
    if parser.epilog:
        parser.epilog = translate_examples(parser.epilog)
    for action in parser._actions:
        if action.help in CHINESE_HELP:
            action.help = CHINESE_HELP[action.help]
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                if choice.help in CHINESE_HELP:
                    choice.help = CHINESE_HELP[choice.help]
            for sub in action.choices.values():
                translate_parser(sub)
    for group in parser._action_groups:
        if group.title in CHINESE_HELP:
            group.title = CHINESE_HELP[group.title]
