"""The command line's help in Chinese (``convtrace explain --help --lang zh``): every help
text, description and group title of the root command and of ``demo``, ``explain``, ``draw``
and ``serve`` (the learner's commands), by its English text. argparse's own words (the usage
prefix, its section titles) are set by :mod:`.base`. The planning commands (``shape``,
``solve``, ``stack``, ``inspect``) keep English help; their output is translated."""

from __future__ import annotations

import argparse

__all__ = ["CHINESE_HELP", "translate_parser"]

CHINESE_HELP: dict[str, str] = {
    "language of the explanation": "讲解使用的语言",
    "skip the PyTorch check": "跳过 PyTorch 校验",
    "print the trace as JSON instead of text": "以 JSON 输出讲解数据，而不是文字",
    "the teaching post's worked examples, then ConvTranspose1d (the default)":
        "原文的例题，然后是 ConvTranspose1d（默认命令）",
    "explain any Conv1d / ConvTranspose1d configuration": "讲解任意 Conv1d / ConvTranspose1d 配置",
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
    "ConvTranspose1d the scatter view, the overlap bar, the zero-insertion view and the matrix. The "
    "format comes from the suffix of -o. PNG and GIF need the viz extra (pip install 'convtrace[viz]').":
        "画出一个 Conv1d（加 --transposed 则为 ConvTranspose1d）配置：窗口沿补齐后的输入移动、"
        "带空洞间隔的卷积核、各个乘积和逐步填出的输出；ConvTranspose1d 另有散射视图、重叠条、"
        "插零视图和矩阵。格式由 -o 的后缀决定。PNG 和 GIF 需要 viz 扩展（pip install 'convtrace[viz]'）。",
    "picture": "图片",
    "out.svg, out.png or out.gif": "out.svg、out.png 或 out.gif",
    "draw step N alone (SVG, PNG), counted from 1 as the titles count ('step 1 of 4'; a scatter "
    "placement when transposed; --at's indices count from 0, as PyTorch's); default: the overview. "
    "Not for a GIF, which shows every step":
        "只画第 N 步（SVG、PNG），与标题一样从 1 开始数（“第 1 步（共 4 步）”；转置时为一次散射摆放；"
        "--at 的下标与 PyTorch 一样从 0 开始数）；默认：总览。不用于 GIF（GIF 包含每一步）",
    # serve
    "Serve the convtrace explorer: every Conv1d / ConvTranspose1d parameter, a step scrubber, the "
    "length formula, PyTorch's verdict and a copyable snippet. Works offline. Needs the web extra "
    "(pip install 'convtrace[web]').":
        "启动 convtrace 探索器：Conv1d / ConvTranspose1d 的每个参数、步骤拖动条、长度公式、"
        "PyTorch 的校验结果和可复制的代码。可离线使用。需要 web 扩展（pip install 'convtrace[web]'）。",
    "address to bind (default 127.0.0.1: this machine only)": "绑定的地址（默认 127.0.0.1：仅本机）",
    "port (default 8765; 0 picks a free one)": "端口（默认 8765；0 表示自动选一个空闲端口）",
    "open the page in the default browser": "在默认浏览器中打开页面",
    # demo, explain
    "Explain one Conv1d (or, with --transposed, ConvTranspose1d) step by step. Flags mirror "
    "PyTorch's argument names; weights default to ones, as in the post.":
        "逐步讲解一个 Conv1d（加 --transposed 则为 ConvTranspose1d）。参数名与 PyTorch 相同；"
        "权重默认全为 1，与原文一致。",
}


def translate_parser(parser: argparse.ArgumentParser) -> None:
    """Put the Chinese help texts into ``parser`` and its subcommands (in place)."""
    if parser.description in CHINESE_HELP:
        parser.description = CHINESE_HELP[parser.description]
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
