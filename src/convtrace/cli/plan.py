"""``convtrace shape``, ``convtrace solve`` and ``convtrace stack``: planning 1-D conv nets
(no PyTorch needed). Layers are written in the stack syntax of :mod:`convtrace.plan.stack`.

>>> from convtrace.cli import main
>>> main(["shape", "conv k=10 s=5", "--length", "16003"])  # doctest: +ELLIPSIS
Conv1d (conv k=10 s=5) on 16003 samples -> 3199
...
dropped tail: 3 samples (indices 16000..16002) are never read
...
0
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .base import EXIT_INVALID, Parser, terminal_width

__all__ = ["register", "parse_range"]


def parse_range(text: str, name: str) -> list[int]:
    """:func:`convtrace.plan.solve.parse_range`, imported when a command needs it (the
    command line starts without the planner)."""
    from ..plan.solve import parse_range as parse

    result: list[int] = parse(text, name)
    return result

SHAPE_EXAMPLES = """\
examples:
  convtrace shape "conv k=10 s=5" --length 16000
  convtrace shape convT --kernel-size 16 --stride 8 --padding 4 --length 200 \\
      --want 1603                # the input lengths that give 1603 samples
  convtrace shape "maxpool k=3 s=2 p=1 ceil=1" --length 10 --json
  convtrace shape "maxpool k=2 s=3 p=1 ceil=1" --length 2  # one window less
  convtrace shape adaptiveavgpool --output-size 3 --length 5  # its windows
  convtrace shape "maxunpool k=2" --length 5 --lang zh
"""
SOLVE_EXAMPLES = """\
examples:
  convtrace solve same --kernel-sizes 3..9 --causal    # keep the length
  convtrace solve same --stride 2 --kernel-sizes 3..8
  convtrace solve down --stride 4 --kernel-sizes 1..16 # a quarter of the length
  convtrace solve up --stride 8 --kernel-sizes 8..16   # 8 times the length
  convtrace solve undo --conv "conv k=4 s=2 p=1" --length 16001  # undo a Conv1d
  convtrace solve length --length 16000 --target 50 --stride 16 \\
      --kernel-sizes 1..64
"""
STACK_EXAMPLES = """\
examples:
  convtrace stack "conv k=7 p=3; 4x(conv k=4 s=2 p=1); convT k=8 s=4 p=2" \\
      --length 16000
  convtrace stack "conv k=7 p=3; conv k=8 s=4 p=2; conv k=10 s=5; maxpool k=2" \\
      --length 24000
  convtrace stack @encoder.txt --length 16000 --in-channels 1 --json
  convtrace stack "conv k=3 p=1 c=8; adaptivemaxpool o=1" \\
      --length 50                                         # max over time
"""


def register(sub: argparse._SubParsersAction[Parser]) -> None:
    """Add ``shape``, ``solve`` and ``stack``."""
    fmt = argparse.RawDescriptionHelpFormatter
    shape = sub.add_parser("shape", help="one layer's output length, with the formula and the inverse",
                           description="Output length of one Conv1d / ConvTranspose1d / pool (MaxPool1d, "
                           "AvgPool1d, LPPool1d, AdaptiveAvgPool1d, AdaptiveMaxPool1d, MaxUnpool1d) with the formula "
                           "and your values (ceil_mode's last window, an adaptive pool's windows); the valid "
                           "output_size values of ConvTranspose1d and MaxUnpool1d; the dropped tail; with --want, "
                           "the input lengths giving that output length.",
                           epilog=SHAPE_EXAMPLES, formatter_class=fmt)  # fmt: skip
    shape.add_argument("layer", help="the layer in the stack syntax, e.g. 'conv k=3 s=2' (or just a kind and flags)")
    for flag, key in (("--kernel-size", "k"), ("--stride", "s"), ("--padding", "p"), ("--dilation", "d"),
                      ("--output-padding", "op"), ("--groups", "g"), ("--output-size", "o"), ("--norm-type", "norm")):  # fmt: skip
        shape.add_argument(flag, dest=f"key_{key}", metavar="N", help=f"same as {key}= in the layer")
    shape.add_argument("--ceil-mode", action="store_true", help="pools: ceil_mode=True")
    shape.add_argument("--length", required=True, help="the input length")
    shape.add_argument("--want", help="also list the input lengths giving this output length")
    shape.add_argument("--json", action="store_true", help="JSON instead of text")
    shape.add_argument("--lang", choices=("en", "zh"), default="en", help="language of the text and messages")
    shape.set_defaults(run=_run_shape)

    solve = sub.add_parser("solve", help="which layers reach a length goal, best first, as PyTorch code",
                           description="The inverse problem: every configuration within the bounds reaching the "
                           "goal, best first, each with a PyTorch snippet defining `layer`.",
                           epilog=SOLVE_EXAMPLES, formatter_class=fmt)  # fmt: skip
    solve.add_argument("goal", choices=("same", "down", "up", "undo", "length"),
                       help="same: keep the length; down / up: divide / multiply it by --stride; undo: "
                       "restore the length --conv changed; length: turn --length into --target")  # fmt: skip
    solve.add_argument("--stride", type=int, default=1, help="the stride / factor (length: the largest stride tried)")
    solve.add_argument("--kernel-sizes", default="1..16", help="a range 1..16 or a list 3,5,7 (default 1..16)")
    solve.add_argument("--dilations", default="1", help="a range or list (default 1)")
    solve.add_argument("--causal", action="store_true", help="same/down: left-only padding (F.pad + Conv1d)")
    solve.add_argument("--length", help="length: the input length; undo: the length the snippet defaults to")
    solve.add_argument("--target", help="length: the output length wanted")
    solve.add_argument("--conv", help="undo: the Conv1d to undo, in the stack syntax")
    solve.add_argument("--channels", type=int, default=1, help="channels in the snippets (default 1)")
    solve.add_argument("--limit", type=int, default=10, help="solutions listed (default 10)")
    solve.add_argument("--json", action="store_true", help="JSON instead of text")
    solve.add_argument("--lang", choices=("en", "zh"), default="en", help="language of the text and messages")
    solve.set_defaults(run=_run_solve)

    stack = sub.add_parser("stack", help="a stack's lengths, receptive field, hop, offset, lookahead, MACs",
                           description="Per layer the length in -> out, receptive field, hop and offset; for the "
                           "stack the receptive field, total hop, lookahead (causal or not), upsampling factor and "
                           "multiply-adds. Output index t depends on input indices [t*hop - offset, t*hop - offset "
                           "+ receptive_field - 1]. Syntax: see `python -m pydoc convtrace.plan.stack`.",
                           epilog=STACK_EXAMPLES, formatter_class=fmt)  # fmt: skip
    stack.add_argument("stack", help="the stack, e.g. 'conv k=7 p=3; 4x(conv k=4 s=2 p=1)', or @file")
    stack.add_argument("--length", required=True, help="the input length")
    stack.add_argument("--in-channels", type=int, default=1, help="input channels (default 1)")
    stack.add_argument("--batch", type=int, default=1, help="batch size (multiply-adds only)")
    stack.add_argument("--json", action="store_true", help="JSON instead of text")
    stack.add_argument("--lang", choices=("en", "zh"), default="en", help="language of the text and messages")
    stack.set_defaults(run=_run_stack)


def _int(text: str | None, name: str) -> int | None:
    from ..errors import ConvtraceError

    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise ConvtraceError(name, text, f"--{name} must be a whole number") from None


def _guarded(args: argparse.Namespace, body: Any) -> int:
    from ..errors import ConvtraceError

    try:
        report = body()
    except ConvtraceError as err:
        print(f"convtrace {args.command}: error: {err}", file=sys.stderr)
        return EXIT_INVALID
    from ..render import plan_text

    if args.json:
        print(json.dumps(plan_text.to_json(report, args.lang), indent=2, ensure_ascii=False))
    else:
        renderer = {"shape": plan_text.render_shape, "solve": plan_text.render_solve}.get(args.command)
        if renderer is not None:
            print(renderer(report, args.lang, terminal_width()))
        else:
            print(plan_text.render_stack(report, color=sys.stdout.isatty(), lang=args.lang, width=terminal_width()))
    return 0


def _one_layer(text: str) -> Any:
    from ..errors import ConvtraceError
    from ..plan.stack import parse_stack

    layers = parse_stack(text)
    if len(layers) != 1:
        raise ConvtraceError("layer", text, f"give one layer, not {len(layers)}")
    return layers[0]


def _run_shape(args: argparse.Namespace) -> int:
    def body() -> Any:
        from ..plan.shape import shape

        text = args.layer + "".join(
            f" {key}={getattr(args, f'key_{key}')}" for key in ("k", "s", "p", "d", "op", "g", "o", "norm")
            if getattr(args, f"key_{key}") is not None
        )  # fmt: skip
        if args.ceil_mode:
            text += " ceil=1"
        return shape(_one_layer(text), _int(args.length, "length") or 0, _int(args.want, "want"))

    return _guarded(args, body)


def _run_solve(args: argparse.Namespace) -> int:
    def body() -> Any:
        from ..plan.solve import solve

        conv = _one_layer(args.conv) if args.conv else None
        return solve(
            args.goal, stride=args.stride, kernel_sizes=parse_range(args.kernel_sizes, "kernel-sizes"),
            dilations=parse_range(args.dilations, "dilations"), causal=args.causal,
            length=_int(args.length, "length"), target=_int(args.target, "target"), conv=conv,
            channels=args.channels, limit=args.limit,
        )  # fmt: skip

    return _guarded(args, body)


def _run_stack(args: argparse.Namespace) -> int:
    def body() -> Any:
        from ..errors import ConvtraceError
        from ..plan.stack import analyse_stack

        text = args.stack
        if text.startswith("@"):
            try:
                with open(text[1:], encoding="utf-8") as handle:
                    text = handle.read(200_000)
            except OSError as exc:
                raise ConvtraceError("stack", args.stack, f"cannot read the file: {exc.strerror}") from None
        length = _int(args.length, "length")
        return analyse_stack(text, 0 if length is None else length, args.in_channels, args.batch)

    return _guarded(args, body)
