"""Write the learner's notebooks, ``conv1d_explained.ipynb`` (English) and
``conv1d_explained.zh.ipynb`` (Chinese), from one list of cells: the code is the same in
both (only ``LANG``, the example sentence, and the labels and comments written
``«english|中文»`` differ), the prose is written in each language.

    python examples/make_notebooks.py          # rewrites both notebooks, without outputs

tests/notebook/test_example_notebooks.py runs both and checks that they are what this script
writes (edit the cells here, then run it).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
NAMES = {"en": "conv1d_explained.ipynb", "zh": "conv1d_explained.zh.ipynb"}

#: per language: what the code cells say differently
SUBSTITUTIONS = {
    "en": {"__LANG__": '"en"', "__TOKENS__": '["the", "film", "was", "not", "very", "good"]'},
    "zh": {"__LANG__": '"zh"', "__TOKENS__": '["这部", "电影", "其实", "并", "不", "好看"]'},
}

#: in a code cell, «english|中文» is one text in two languages (labels and comments)
_BOTH = re.compile(r"«([^|»]*)\|([^»]*)»")

Cell = tuple[str, str, str]  # ("md", english, chinese) or ("code", source, "")


def md(en: str, zh: str) -> Cell:
    return ("md", en.strip("\n"), zh.strip("\n"))


def code(source: str) -> Cell:
    return ("code", source.strip("\n"), "")


CELLS: list[Cell] = [
    md(
        """
# Conv1d, explained: by hand, then PyTorch agrees

Text and speech models slide 1-D convolutions along time. This notebook follows the teaching
post convtrace grew from: compute `torch.nn.Conv1d` by hand, one product per line, padding
written as 0; check every number against PyTorch; then explain `ConvTranspose1d` from
Conv1d. After that: padding modes, dilation, groups, pooling, streaming, and two worked
examples with real numbers, a sentence and a speech front end.

Every section has a **static figure** (it shows in any notebook host, in an untrusted
notebook and in an HTML export) and an **interactive explorer** (`convtrace.Explorer`, an
anywidget: `pip install 'convtrace[notebook]'`) to change the parameters and step through
the windows. Names count from 1 as in the post (`x1`, `w1`, `y1`); PyTorch's indices from 0.
""",
        """
# 一维卷积（Conv1d）讲解：先手算，再让 PyTorch 验证

文本模型和语音模型都沿着时间轴做一维卷积。本笔记沿用 convtrace 所源自的那篇教学文章的思路：
先把 `torch.nn.Conv1d` 的计算一步步手算出来——每行一个乘积，填充（padding）写成 0——
再用 PyTorch 逐一核对每个数字；然后在 Conv1d 的基础上讲清楚 `ConvTranspose1d`（转置卷积）。
接下来依次介绍填充模式、空洞（dilation）、分组（groups）、池化和流式计算，
最后用真实数字演示两个完整的例子：一句话（文本）和一个语音前端。

每一节都有一张**静态图**（在任何笔记本环境里都能显示，包括未受信任的笔记本和导出的 HTML），
以及一个**交互式浏览器** `convtrace.Explorer`（基于 anywidget，安装方式：
`pip install 'convtrace[notebook]'`），可以修改参数、逐步查看每个窗口。
和原文一样，名字从 1 开始编号（`x1`、`w1`、`y1`），PyTorch 的下标则从 0 开始。
""",
    ),
    code(
        """
import numpy as np

import convtrace
import convtrace.functional as F
from convtrace import plan
from convtrace.stream import Streamer
from convtrace.stream import report as stream_report

LANG = __LANG__  # «the language of convtrace's text and figures|convtrace 输出的文字和图所用的语言»: "en" / "zh"
np.set_printoptions(precision=4, suppress=True)
try:
    import torch  # «the oracle: with PyTorch installed, every explanation is checked against it|标准答案：装了 PyTorch 时，每个讲解都会与它核对»
except ImportError:
    torch = None
print("PyTorch:", "«not installed (the checks are skipped)|未安装（跳过校验）»" if torch is None else torch.__version__)
"""
    ),
    md(
        """
## 1. The post's three examples

The input `x1..x4 = 1, 1, 1, 1`, the kernel `w1..w3 = 1, 1, 1`, no bias:

| case | stride | padding | output |
|---|---|---|---|
| 1 | 1 | 0 | 3, 3 |
| 2 | 1 | 1 | 2, 3, 3, 2 |
| 3 | 2 | 1 | 2, 3 |

`convtrace.explain` takes `torch.nn.Conv1d`'s parameters (a kernel of ones when no weight is
given, as in the post) and writes every output step by step.
""",
        """
## 1. 原文的三个例子

输入 `x1..x4 = 1, 1, 1, 1`，卷积核 `w1..w3 = 1, 1, 1`，不加偏置：

| 例子 | 步长 stride | 填充 padding | 输出 |
|---|---|---|---|
| 1 | 1 | 0 | 3, 3 |
| 2 | 1 | 1 | 2, 3, 3, 2 |
| 3 | 2 | 1 | 2, 3 |

`convtrace.explain` 接受与 `torch.nn.Conv1d` 相同的参数（不给权重时卷积核全为 1，和原文一致），
并把每个输出值的计算过程一步步写出来。
""",
    ),
    code(
        """
case1 = convtrace.explain(input=[1, 1, 1, 1], kernel_size=3)  # «stride 1, no padding|步长 1，不填充»
print(case1.render(LANG))
"""
    ),
    md(
        """
The figure shows every window at once: the kernel slides along the input, each position
gives one output. It is a plain SVG/PNG, so it shows wherever the notebook is opened.
""",
        """
下图把所有窗口画在一起：卷积核沿着输入滑动，每个位置得到一个输出。
它是普通的 SVG/PNG 图片，无论在哪里打开这个笔记本都能看到。
""",
    ),
    code("case1.show(LANG)"),
    md(
        """
With `padding=1` a 0 is written on each side; the first window reads `0, x1, x2`. Here is
the explorer: drag the step scrubber, press play, change `padding` or `stride`.
""",
        """
设 `padding=1` 时，输入两端各补一个 0；第一个窗口读到的是 `0, x1, x2`。
下面是交互式浏览器：拖动步骤滑块、点击播放，或者修改 `padding`、`stride` 试试。
""",
    ),
    code(
        """
case2 = convtrace.explain(input=[1, 1, 1, 1], kernel_size=3, padding=1)
print(case2.output)
convtrace.Explorer(input=[1, 1, 1, 1], kernel_size=3, padding=1, lang=LANG)
"""
    ),
    code("case2.show(LANG)"),
    md(
        """
With `stride=2` the window jumps two samples at a time: two outputs. One frame of the
figure (`step`, from 0) shows a single window:
""",
        """
设 `stride=2` 时，窗口每次跳过两个样本，只得到两个输出。用 `step`（从 0 开始）可以只显示某一步的图：
""",
    ),
    code(
        """
case3 = convtrace.explain(input=[1, 1, 1, 1], kernel_size=3, stride=2, padding=1)
print(case3.output)
case3.show(LANG, step=1)
"""
    ),
    code("convtrace.Explorer(input=[1, 1, 1, 1], kernel_size=3, stride=2, padding=1, lang=LANG)"),
    md(
        """
And, as in the post, PyTorch's own `nn.Conv1d` with its weights set to 1 agrees:
""",
        """
和原文一样，把 PyTorch 自己的 `nn.Conv1d` 的权重全部设为 1，结果完全一致：
""",
    ),
    code(
        """
if torch is not None:
    with torch.no_grad():
        for stride, padding in [(1, 0), (1, 1), (2, 1)]:
            conv = torch.nn.Conv1d(in_channels=1, out_channels=1, kernel_size=3, stride=stride,
                                   padding=padding, bias=False)
            conv.weight.fill_(1.0)
            print(f"stride={stride}, padding={padding}:", conv(torch.ones(1, 1, 4)).tolist())
"""
    ),
    md(
        """
## 2. Padding modes

`padding_mode` decides what is written in the padding: zeros, a mirror of the edge
(`reflect`), the edge repeated (`replicate`) or the other end of the signal (`circular`).
""",
        """
## 2. 填充模式

`padding_mode` 决定补进去的是什么：补零（`zeros`）、以边界为轴的镜像（`reflect`）、
重复边界值（`replicate`），或者把信号另一端的值接过来（`circular`，循环填充）。
""",
    ),
    code(
        """
x = np.array([[1.0, 2, 3, 4, 5]])
for mode in ["constant", "reflect", "replicate", "circular"]:  # «F.pad's names; Conv1d says "zeros"|F.pad 的叫法；Conv1d 里叫 "zeros"»
    print(f"{mode:>9}: {F.pad(x, (2, 2), mode=mode)[0]}")
print()
for mode in ["zeros", "reflect", "replicate", "circular"]:
    t = convtrace.explain(input=[1, 2, 3, 4, 5], kernel_size=3, padding=2, padding_mode=mode)
    print(f"{mode:>9}: y = {t.output[0]}, «PyTorch agrees|PyTorch 一致»: {t.check.agree}")
"""
    ),
    code(
        """
reflect = convtrace.explain(input=[1, 2, 3, 4, 5], kernel_size=3, padding=2, padding_mode="reflect")
reflect.show(LANG)
"""
    ),
    code('convtrace.Explorer(input=[1, 2, 3, 4, 5], kernel_size=3, padding=2, padding_mode="reflect", lang=LANG)'),
    md(
        """
## 3. Dilation

`dilation=2` leaves a gap between the taps: the kernel `1, 10, 100` reads `x[t]`,
`x[t+2]` and `x[t+4]`, so each output is a three-digit number made of the samples it read.
The kernel covers `dilation*(kernel_size-1)+1 = 5` samples, and the length formula says so:
""",
        """
## 3. 空洞卷积（dilation）

`dilation=2` 让卷积核的抽头之间留出空隙：卷积核 `1, 10, 100` 读取的是 `x[t]`、`x[t+2]` 和 `x[t+4]`，
所以每个输出都是由它读到的三个样本拼成的三位数，一眼就能看出读了哪几个位置。
卷积核覆盖 `dilation*(kernel_size-1)+1 = 5` 个样本，输出长度公式也反映了这一点：
""",
    ),
    code(
        """
dilated = convtrace.explain(input=[1, 2, 3, 4, 5, 6, 7], weight=[1, 10, 100], dilation=2)
print(dilated.length.formula)
print(" =", dilated.length.substituted, "=", dilated.length.result)
print("y =", dilated.output[0])
dilated.show(LANG)
"""
    ),
    code("convtrace.Explorer(input=[1, 2, 3, 4, 5, 6, 7], weight=[1, 10, 100], dilation=2, lang=LANG)"),
    md(
        """
## 4. Groups

With `groups=2`, the 4 input channels are split in two groups of 2, and each output channel
reads only its own group: the weight has shape `(out_channels, in_channels/groups,
kernel_size)`. With `groups = in_channels` (depthwise) every channel is filtered on its own.
""",
        """
## 4. 分组卷积（groups）

设 `groups=2` 时，4 个输入通道被分成两组、每组 2 个通道，每个输出通道只读取自己那一组：
权重的形状是 `(out_channels, in_channels/groups, kernel_size)`。
当 `groups = in_channels` 时（即深度可分离卷积中的逐通道卷积，depthwise），每个通道各自单独滤波。
""",
    ),
    code(
        """
four_channels = [[1, 2, 3, 4, 5], [1, 1, 1, 1, 1], [0, 1, 0, 1, 0], [5, 4, 3, 2, 1]]
grouped = convtrace.explain(input=four_channels, out_channels=2, kernel_size=3, groups=2)
print("«weight shape|权重形状»:", grouped.weight.shape)
print("y =", grouped.output)  # «output channel 1 reads input channels 1 and 2; channel 2 reads 3 and 4|输出通道 1 只读输入通道 1、2；输出通道 2 只读 3、4»
depthwise = convtrace.explain(input=four_channels, out_channels=4, kernel_size=3, groups=4)
print("«depthwise|逐通道（depthwise）» y =", depthwise.output)
grouped.show(LANG)
"""
    ),
    code("convtrace.Explorer(input=four_channels, out_channels=2, kernel_size=3, groups=2, lang=LANG)"),
    md(
        """
## 5. ConvTranspose1d, from Conv1d, in four views

A transposed convolution is not an inverse; it is the same arithmetic read the other way.
convtrace explains every ConvTranspose1d in four equivalent ways and checks that all four
give the engine's (and PyTorch's) output:

1. **scatter-add**: every input sample stamps `x·w` into the output, `stride` apart; the
   overlaps add up, `padding` crops both ends, `output_padding` adds samples on the right;
2. **zero insertion**: put `stride-1` zeros between the samples, pad, flip the kernel and
   run an ordinary Conv1d;
3. **the matrix**: Conv1d is a matrix `M` (one row per output); ConvTranspose1d multiplies
   by `M`ᵀ;
4. **the gradient**: ConvTranspose1d is the gradient of Conv1d with respect to its input.
""",
        """
## 5. 从 Conv1d 出发理解 ConvTranspose1d：四种视角

转置卷积并不是卷积的逆运算，而是把同样的算术“反过来读”。convtrace 用四种等价的方式来解释
每一个 ConvTranspose1d，并核对这四种方式都与引擎（以及 PyTorch）的输出一致：

1. **散射相加（scatter-add）**：每个输入样本把 `x·w` “盖印”到输出上，相邻两次相隔 `stride`；
   重叠的部分相加，`padding` 从两端裁掉，`output_padding` 在右端补上样本；
2. **插零**：在样本之间插入 `stride-1` 个零，补边，把卷积核翻转，再做一次普通的 Conv1d；
3. **矩阵**：Conv1d 可以写成一个矩阵 `M`（每个输出一行），ConvTranspose1d 就是乘以 `M` 的转置；
4. **梯度**：ConvTranspose1d 就是 Conv1d 对其输入求的梯度。
""",
    ),
    code(
        """
up = convtrace.explain(input=[1, 2, 3], weight=[1, 2, 3], stride=2, padding=1, output_padding=1,
                       transposed=True)
views = up.views
print("ConvTranspose1d:  y =", up.output[0])
print("1 «scatter-add|散射相加»: y =", views.scatter.output[0], " «overlaps|重叠次数»:", views.scatter.overlap,
      " «equal|一致»:", views.scatter.equal)
print("2 «zero insertion: Conv1d on|插零：Conv1d 的输入»", views.zero_insertion.upsampled[0, 0],
      "«flipped kernel|翻转后的卷积核»", views.zero_insertion.weight[0, 0], " «equal|一致»:", views.zero_insertion.equal)
print("3 «matrix|矩阵» M =\\n", views.matrix.matrix, "\\n  «equal|一致»:", views.matrix.equal)
print("4 «gradient|梯度»:", views.gradient.call, " «equal|一致»:", views.gradient.equal)
print("«PyTorch agrees|PyTorch 一致»:", up.check.agree)
"""
    ),
    md(
        """
The same four views with convtrace's functional API, built by hand:
""",
        """
下面用 convtrace 的函数式 API 亲手把这四种视角再算一遍：
""",
    ),
    code(
        """
x = np.array([[[1.0, 2, 3]]])
w = np.array([[[1.0, 2, 3]]])
y = F.conv_transpose1d(x, w, stride=2, padding=1, output_padding=1)

# 1 «scatter-add: stamp x[i]*w at 2*i, then crop padding=1 on the left (the right end keeps output_padding=1)|散射相加：把 x[i]*w 盖印在 2*i 处，再从左端裁掉 padding=1（右端因 output_padding=1 保留）»
full = np.zeros(2 * (3 - 1) + 3)
for i in range(3):
    full[2 * i: 2 * i + 3] += x[0, 0, i] * w[0, 0]
scatter = full[1: 1 + y.shape[-1]]

# 2 «zero insertion: 1 zero between samples, dilation*(k-1)-padding = 1 zero each side, 1 more on the right|插零：样本之间插 1 个零，两端各补 dilation*(k-1)-padding = 1 个零，右端再多补 1 个»
upsampled = np.zeros((1, 1, 5))
upsampled[..., ::2] = x
zero_insertion = F.conv1d(F.pad(upsampled, (1, 1 + 1)), w[..., ::-1].copy())

# 3 «the matrix of Conv1d(k=3, stride=2, padding=1) on 6 samples: its columns are the answers to unit inputs|6 个样本上 Conv1d(k=3, stride=2, padding=1) 的矩阵：每一列是对单位脉冲输入的响应»
M = np.stack([F.conv1d(np.eye(6)[j][None, None], w, stride=2, padding=1)[0, 0] for j in range(6)], axis=1)
matrix = M.T @ x[0, 0]

# 4 «the gradient of Conv1d with respect to its input|Conv1d 对输入的梯度»
gradient = convtrace.grad.conv1d_input((1, 1, 6), w, x, stride=2, padding=1)

print(y[0, 0], scatter, zero_insertion[0, 0], matrix, gradient[0, 0], sep="\\n")
assert all(np.allclose(v, y[0, 0]) for v in (scatter, zero_insertion[0, 0], matrix, gradient[0, 0]))
"""
    ),
    code("up.show(LANG)"),
    code(
        """
convtrace.Explorer(input=[1, 2, 3], weight=[1, 2, 3], stride=2, padding=1, output_padding=1,
                   transposed=True, lang=LANG)
"""
    ),
    md(
        """
## 6. Pooling

A pool slides a window as a convolution does, but reduces it without weights: the max (and
the index that won, which `max_unpool1d` needs), the mean, or a p-norm. With
`ceil_mode=True` the last window may hang over the end; it must start inside the input.
""",
        """
## 6. 池化

池化和卷积一样滑动窗口，但不用权重，而是对窗口做归约：取最大值（以及取胜的下标，
`max_unpool1d` 需要它）、取平均值，或取 p-范数。设 `ceil_mode=True` 时，最后一个窗口可以超出输入的末尾，
但它必须从输入（或左侧填充）之内开始。
""",
    ),
    code(
        """
pooled = convtrace.explain(op="max_pool1d", input=[1, 3, 2, 5, 4], kernel_size=2, ceil_mode=True)
print(pooled.render(LANG))
"""
    ),
    code("pooled.show(LANG)"),
    md(
        """
An average pool with padding: does the padding count in the divisor? With
`count_include_pad=True` (the default) it does; the ceil_mode overhang never does.
""",
        """
带填充的平均池化：填充的位置算不算进除数里？`count_include_pad=True`（默认）时算；
而 ceil_mode 超出末尾的那部分永远不算。
""",
    ),
    code(
        """
averaged = convtrace.explain(op="avg_pool1d", input=[1, 2, 3, 4, 5, 6], kernel_size=3, stride=2, padding=1,
                             ceil_mode=True)
print("y =", averaged.output, " «divisors|除数»:", [step.pool.divisor for step in averaged])
averaged.show(LANG)
"""
    ),
    code('convtrace.Explorer(op="max_pool1d", input=[1, 3, 2, 5, 4], kernel_size=2, ceil_mode=True, lang=LANG)'),
    md(
        """
## 7. Streaming: chunk by chunk, exactly the offline result

A speech model often has to run live: the samples arrive in chunks and each output should
leave as soon as every sample it depends on has arrived. `convtrace.stream.report` says, for
a chain of layers, what each layer must keep between chunks (its cache), how far it looks
ahead and what the latency is; `Streamer` runs the chain chunk by chunk.
""",
        """
## 7. 流式计算：逐块输入，结果与离线计算完全相同

语音模型常常需要实时运行：样本一块一块地到达，每个输出一旦它依赖的所有样本都到齐了，就应当立即送出。
对一串网络层，`convtrace.stream.report` 会告诉你：每一层在块与块之间必须缓存多少样本、
需要向前看多远（lookahead），以及整体的延迟是多少；`Streamer` 则真正地逐块运行这串网络层。
""",
    ),
    code(
        """
chain = "conv k=4 s=2 p=1 c=2; convT k=4 s=2 p=1 c=1"
print(stream_report(chain, sample_rate=16000).render(LANG))
"""
    ),
    code(
        """
layers = [convtrace.nn.Conv1d(1, 2, 4, stride=2, padding=1, dtype=np.float64, rng=0),
          convtrace.nn.ConvTranspose1d(2, 1, 4, stride=2, padding=1, dtype=np.float64, rng=1)]
streamer = Streamer(layers)
signal = np.random.default_rng(0).standard_normal((1, 1, 20))
parts = []
for start, stop in [(0, 3), (3, 4), (4, 4), (4, 11), (11, 20)]:  # «chunks of 3, 1, 0, 7 and 9 samples|每块分别为 3、1、0、7、9 个样本»
    parts.append(streamer.push(signal[..., start:stop]))
    print(f"«pushed {stop - start} samples, {stop} in all: {parts[-1].shape[-1]} outputs leave|送入 {stop - start} 个样本（累计 {stop} 个）：送出 {parts[-1].shape[-1]} 个输出»")
parts.append(streamer.flush())
print(f"flush: «{parts[-1].shape[-1]} outputs|送出 {parts[-1].shape[-1]} 个输出»")
offline = layers[1](layers[0](signal))
streamed = np.concatenate(parts, axis=-1)
print("«same length|长度相同»:", streamed.shape == offline.shape, " «largest difference|最大差值»:", np.abs(streamed - offline).max())
print("«receptive field|感受野»", streamer.receptive_field, " «hop|帧移»", streamer.hop, " «lookahead|前瞻»", streamer.lookahead)
"""
    ),
    md(
        """
The first layer is a strided Conv1d whose right padding is what the stream must wait for at
the end (the last output needs the padding's zero, which comes only with `flush()`):
""",
        """
第一层是带步长的 Conv1d，它右端的填充正是流式计算在结尾处必须等待的部分
（最后一个输出要读到填充的 0，而它只有在调用 `flush()` 时才会到来）：
""",
    ),
    code(
        """
first_layer = convtrace.explain(input=signal[0, 0, :8].round(2), kernel_size=4, stride=2, padding=1)
first_layer.show(LANG)
"""
    ),
    code("convtrace.Explorer(input=signal[0, 0, :8].round(2).tolist(), kernel_size=4, stride=2, padding=1, lang=LANG)"),
    md(
        """
**One push, explained.** `stream_chunk=2` runs the seed's example through the streamer in
chunks of 2 samples and explains one push (the second by default): which inputs each output
reads from the cache (the state kept from the first push) and which are new. For
ConvTranspose1d it shows the carried tail — partial sums without the bias, which is added
once, when an output becomes final. The Explorer has the same view behind its "streaming" switch.
""",
        """
**逐块讲解一次送入（push）。** `stream_chunk=2` 让原文的例子以每块 2 个样本的方式经过流式引擎，
并讲解其中一次送入（默认是第二次）：每个输出读到的输入里，哪些来自缓存（第一次送入后保留下来的状态），
哪些是新到的样本。对 ConvTranspose1d，它会展示携带到下一块的尾部——不含偏置的部分和；
偏置只在输出最终确定时加一次。交互式浏览器里打开"streaming"开关也能看到同样的内容。
""",
    ),
    code(
        """
one_push = convtrace.explain(input=[1, 1, 1, 1], kernel_size=3, padding=1, stream_chunk=2)
print(one_push.render(LANG))
"""
    ),
    code(
        """
carried = convtrace.explain(input=[1, 1, 1, 1], kernel_size=3, stride=2, padding=1, bias=[0.5], transposed=True,
                            stream_chunk=2)
carried.show(LANG)
"""
    ),
    md(
        """
**Stream a PyTorch model.** `convtrace.streamify(model, input_shape)` runs a model's own
`forward` chunk by chunk, and `convtrace.stream.verify` proves it equals `model(x)` on random
chunk schedules:
""",
        """
**流式运行一个 PyTorch 模型。** `convtrace.streamify(model, input_shape)` 让模型自己的 `forward`
逐块运行；`convtrace.stream.verify` 用随机的分块方式证明结果与 `model(x)` 相同：
""",
    ),
    code(
        """
if torch is not None:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.ConstantPad1d((3, 0), 0.0), torch.nn.Conv1d(1, 8, 4, stride=2),
                                torch.nn.ELU(), torch.nn.ConvTranspose1d(8, 1, 4, stride=2, padding=1)).eval()
    live = convtrace.streamify(model, (1, 1, 400))
    print("«hop|帧移»", live.hop, " «lookahead|前瞻»", live.lookahead, " «latency|延迟»", live.latency)
    print("«state|状态»:", [(entry.name, entry.shape) for entry in live.state_spec()])
    proof = convtrace.stream.verify(model, input_shape=(1, 1, 400), trials=2)
    print("«proof|证明»:", proof.ok, " «largest relative difference|最大相对差»:", proof.max_relative)
"""
    ),
    md(
        """
## 8. Worked example: which n-gram fired? (text)

A sentence of 6 tokens, each a 4-dimensional embedding: the embedding dimensions are the
**channels** and the tokens are **time**, so the input has shape `(batch, 4, 6)`. Two
trigram filters, `Conv1d(4, 2, 3)`, each read 3 consecutive tokens at a time. Max-over-time
pooling keeps each filter's strongest response, and its index says **which trigram fired**.
""",
        """
## 8. 完整示例：哪个 n 元组被激活了？（文本）

一句话有 6 个词元（token），每个词元是一个 4 维的词向量：词向量的各个维度就是**通道**，
词元的先后顺序就是**时间**，所以输入的形状是 `(batch, 4, 6)`。两个三元组（trigram）滤波器
`Conv1d(4, 2, 3)` 每次读取连续的 3 个词元。随后沿时间做最大池化（max-over-time pooling），
为每个滤波器只保留最强的响应，而它的下标就告诉我们**是哪个三元组被激活了**。
""",
    ),
    code(
        """
tokens = __TOKENS__
rng = np.random.default_rng(0)
embeddings = rng.standard_normal((len(tokens), 4)).round(2)  # «one row per token (seeded)|每个词元一行（固定随机种子）»
x = embeddings.T[None]  # «(batch 1, 4 channels, 6 tokens)|（批量 1，4 个通道，6 个词元）»

trigrams = convtrace.nn.Conv1d(4, 2, 3, dtype=np.float64, rng=1)  # «two trigram filters|两个三元组滤波器»
trigrams.weight = trigrams.weight.round(2)
trigrams.bias = trigrams.bias.round(2)
scores = trigrams(x)  # «(1, 2, 4): one score per filter and trigram position|(1, 2, 4)：每个滤波器在每个三元组位置上一个得分»
print("«x (channels x tokens)|x（通道 × 词元）»:\\n", x[0])
print("«scores|得分»:\\n", scores[0])
"""
    ),
    code(
        """
best, where = F.max_pool1d(scores, kernel_size=scores.shape[-1], return_indices=True)  # «max over time|沿时间取最大»
for f in range(2):
    start = int(where[0, f, 0])
    print(f"«filter {f + 1}: max {best[0, f, 0]:.4f} at position {start} -> trigram|滤波器 {f + 1}：最大值 {best[0, f, 0]:.4f}，位置 {start} -> 三元组» {tokens[start:start + 3]}")
"""
    ),
    md(
        """
The winning score of filter 1, written out: 4 channels × 3 taps = 12 products, plus the
bias. PyTorch computes the same element on the same slice of the input.
""",
        """
把滤波器 1 的最高得分完整写出来：4 个通道 × 3 个抽头 = 12 个乘积，再加上偏置。
PyTorch 在同一段输入上计算同一个元素，结果一致。
""",
    ),
    code(
        """
winner = convtrace.explain(input=x, weight=trigrams.weight, bias=trigrams.bias, at=(0, 0, int(where[0, 0, 0])))
print(winner.render(LANG))
"""
    ),
    code(
        """
over_time = convtrace.explain(op="max_pool1d", input=scores[0], kernel_size=scores.shape[-1])
print("«max|最大值»:", [round(float(step.value), 4) for step in over_time], " «index|下标»:", [step.pool.winner_index for step in over_time])
over_time.show(LANG)
"""
    ),
    code(
        """
convtrace.explain(input=x, weight=trigrams.weight, bias=trigrams.bias).show(LANG)
"""
    ),
    code("convtrace.Explorer(input=x[0].tolist(), weight=trigrams.weight.tolist(), bias=trigrams.bias.tolist(), lang=LANG)"),
    md(
        """
## 9. Worked example: a wav2vec2-style front end (speech)

wav2vec 2.0 turns raw 16 kHz audio into frames with seven strided convolutions: kernel/stride
10/5, then 3/2 four times, then 2/2 twice (512 channels). The planner gives every length, the
**receptive field** (how many samples one frame sees) and the **hop** (how far apart two
frames start): on 400 samples, exactly one frame.
""",
        """
## 9. 完整示例：wav2vec2 风格的语音前端

wav2vec 2.0 用七层带步长的卷积把 16 kHz 的原始音频变成帧：卷积核/步长先是 10/5，
然后四次 3/2，再两次 2/2（512 个通道）。规划器（planner）会给出每一层的长度、
**感受野**（一帧能看到多少个样本）和**帧移**（相邻两帧起点之间隔多少个样本）：
输入 400 个样本时，恰好得到一帧。
""",
    ),
    code(
        """
front_end = "conv k=10 s=5 c=512; 4x(conv k=3 s=2); 2x(conv k=2 s=2)"
report = plan.analyse_stack(front_end, 400)
print(report.render(LANG, width=110))
"""
    ),
    code(
        """
rate = 16000
print(f"«receptive field|感受野» {report.receptive_field} «samples|个样本» = {1000 * float(report.receptive_field) / rate:g} ms")
print(f"«hop|帧移» {report.hop} «samples|个样本» = {1000 * float(report.hop) / rate:g} ms")
second = plan.analyse_stack(front_end, rate)
print(f"«one second ({rate} samples) -> {second.layers[-1].out_length} frames|一秒（{rate} 个样本）-> {second.layers[-1].out_length} 帧»")
for t in range(3):
    first = report.hop * t - report.offset
    print(f"«frame {t} reads samples|第 {t} 帧读取样本» {first}..{first + report.receptive_field - 1}")
"""
    ),
    md(
        """
The same front end with real numbers (8 channels instead of 512, seeded weights, `tanh`
between the layers): 400 samples become one frame, and every length is the planner's.
""",
        """
下面用真实数字把同一个前端跑一遍（用 8 个通道代替 512 个，权重用固定种子生成，层与层之间加 `tanh`）：
400 个样本变成一帧，每一层的长度都与规划器给出的一致。
""",
    ),
    code(
        """
time = np.arange(400) / rate
audio = (np.sin(2 * np.pi * 220 * time) + 0.1 * np.random.default_rng(2).standard_normal(400))[None, None]
layers = [convtrace.nn.Conv1d(1, 8, 10, stride=5, dtype=np.float64, rng=10)]
layers += [convtrace.nn.Conv1d(8, 8, 3, stride=2, dtype=np.float64, rng=11 + i) for i in range(4)]
layers += [convtrace.nn.Conv1d(8, 8, 2, stride=2, dtype=np.float64, rng=15 + i) for i in range(2)]
h = audio
for layer, planned in zip(layers, report.layers):
    h = np.tanh(layer(h))
    print(f"{planned.spec:<20} {planned.in_length:>4} -> {h.shape[-1]:>3} «samples (planned|个样本（规划值» {planned.out_length}«)|）»")
print("«the frame|这一帧»:", h[0, :, 0])
"""
    ),
    md(
        """
The first layer's first windows on the first 30 samples (kernel 10, stride 5): neighbouring
windows overlap by 5 samples.
""",
        """
第一层在前 30 个样本上的前几个窗口（卷积核 10、步长 5）：相邻窗口重叠 5 个样本。
""",
    ),
    code(
        """
first = convtrace.explain(input=audio[0, 0, :30].round(2), weight=layers[0].weight[0, 0].round(2), stride=5)
print("y =", first.output[0])
first.show(LANG)
"""
    ),
    code(
        """
convtrace.Explorer(input=audio[0, 0, :30].round(2).tolist(), weight=layers[0].weight[0, 0].round(2).tolist(),
                   stride=5, lang=LANG)
"""
    ),
    md(
        """
Can this front end stream? Its convolutions have no padding, so it needs no future samples
beyond each frame's window; the report gives the cache and the latency:
""",
        """
这个前端能流式运行吗？它的卷积都没有填充，所以除了每一帧自己的窗口之外不需要任何未来的样本；
下面的报告给出了缓存大小和延迟：
""",
    ),
    code("print(stream_report(front_end, sample_rate=rate).render(LANG, width=110))"),
]


def unwrap_chinese(text: str) -> str:
    """A Chinese paragraph written over several lines, joined into one: Markdown turns a line
    break into a space, which Chinese text does not have (lists, tables, headings stay).

    >>> unwrap_chinese("第一行，\\n第二行。\\n\\n1. 一项\\n   续行\\n2. 二项")
    '第一行，第二行。\\n\\n1. 一项续行\\n2. 二项'
    """
    out: list[str] = []
    for line in text.split("\n"):
        previous = out[-1].lstrip() if out else ""
        starts_block = re.match(r"\s*([-*|#>]|\d+\.\s)", line)
        if previous and line.strip() and not starts_block and not previous.startswith(("|", "#")):
            out[-1] += line.strip()
        else:
            out.append(line)
    return "\n".join(out)


def build(lang: str) -> nbformat.NotebookNode:
    """The notebook in ``lang`` ('en' or 'zh'), without outputs."""
    cells = []
    for kind, text, zh in CELLS:
        if kind == "md":
            cells.append(new_markdown_cell(unwrap_chinese(zh) if lang == "zh" else text))
        else:
            source = _BOTH.sub(lambda m: m.group(2 if lang == "zh" else 1), text)
            for marker, value in SUBSTITUTIONS[lang].items():
                source = source.replace(marker, value)
            cells.append(new_code_cell(source))
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{lang}-{i:02d}"
    return nb


def write(directory: Path = HERE) -> list[Path]:
    """Write both notebooks into ``directory``."""
    paths = []
    for lang, name in NAMES.items():
        path = directory / name
        nbformat.write(build(lang), path)
        paths.append(path)
    return paths


if __name__ == "__main__":
    for p in write(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(p)
