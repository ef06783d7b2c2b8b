"""``convtrace demo`` (the teaching post's examples) and ``convtrace explain`` (any 1-D
convolution), each checked against PyTorch unless ``--no-verify``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ..explainer import Trace

from .base import EXIT_INVALID, Parser, terminal_width

__all__ = ["register", "EXAMPLES"]

EXAMPLES = """\
examples:
  convtrace demo             # the teaching post's examples, then the transposed
  convtrace demo --lang zh   # the same, in Chinese
  convtrace explain --input 1,2,3,4 --kernel-size 3 --padding 1
  convtrace explain --input 1,2,3,4,5 --weight -1,0,1 \\
      --padding-mode reflect --padding 2
  convtrace explain --input 1,2,3:4,5,6 --kernel-size 2   # two channels
  convtrace explain --input-shape 2,4,10 --fill randint --weight-fill randn \\
      --out-channels 4 --groups 2 --bias 1,2,3,4
  convtrace explain --input 1,2,3 --kernel-size 3 --stride 2 \\
      --transposed --output-padding 1
  convtrace explain --input @x.npy --out-channels 8 --kernel-size 5 \\
      --at 0,3,1000
  convtrace explain --input 1,1,1,1 --kernel-size 3 --padding 1 --symbolic
  convtrace explain --op max_pool1d --input 1,3,2,5,4 --kernel-size 2 \\
      --ceil-mode
  convtrace explain --op avg_pool1d --input 1,2,3,4,5,6 --kernel-size 3 \\
      --stride 2 --padding 1 --ceil-mode
  convtrace explain --op lp_pool1d --norm-type 2 --input 1,1,1,1,1 \\
      --kernel-size 2 --ceil-mode
  convtrace explain --op adaptive_avg_pool1d --input 1,2,3,4,5 --output-size 3
  convtrace explain --op max_unpool1d --input 5,7 --indices 1,3 --kernel-size 2
  convtrace explain --input 1,1,1,1 --kernel-size 3 --padding 1 \\
      --stream --chunk 2
  convtrace explain --input 1,1,1,1 --kernel-size 3 --stride 2 --transposed \\
      --bias 0.5 --stream --chunk 2 --push 2
"""


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lang", choices=("en", "zh"), default="en", help="language of the explanation")
    p.add_argument("--no-verify", action="store_true", help="skip the PyTorch check")
    p.add_argument("--json", action="store_true", help="print the trace as JSON instead of text")


def register(sub: argparse._SubParsersAction[Parser]) -> None:
    """Add ``demo`` and ``explain`` to the command line."""
    demo = sub.add_parser(
        "demo",
        help="the teaching post's worked examples, then ConvTranspose1d (the default)",
        description="The three worked examples of the teaching post (input 1,1,1,1, kernel of "
        "ones: stride 1 / padding 0, padding 1, stride 2 / padding 1), each by hand and then "
        "checked by PyTorch; then the same input through ConvTranspose1d, explained from Conv1d.",
        epilog="examples:\n  convtrace demo\n  convtrace demo --lang zh --no-verify\n",
    )
    _common(demo)
    demo.set_defaults(run=_run)
    ex = sub.add_parser(
        "explain",
        help="explain any Conv1d / ConvTranspose1d configuration, or a pool (--op)",
        description="Explain one Conv1d (or, with --transposed, ConvTranspose1d) step by step. "
        "Flags mirror PyTorch's argument names; weights default to ones, as in the post. With --op, a "
        "pool: each output's window (every sample tagged real, padding or ceil_mode overhang) and its "
        "max, mean or p-norm with the numbers.",
        epilog=EXAMPLES,
    )
    cfg = ex.add_argument_group("configuration (PyTorch's names)")
    cfg.add_argument("--in-channels", type=int, help="default: from the input data (else 1)")
    cfg.add_argument("--out-channels", type=int, help="default: from --weight (else groups)")
    cfg.add_argument("--kernel-size", type=int, help="default: from --weight (else 3)")
    cfg.add_argument("--stride", type=int, default=None, help="default 1 (pools: kernel_size)")
    cfg.add_argument("--padding", default="0", help="an int, 'same' or 'valid' (default 0)")
    cfg.add_argument("--dilation", type=int, default=1)
    cfg.add_argument("--groups", type=int, default=1)
    cfg.add_argument(
        "--bias",
        nargs="?",
        const="",
        default=None,
        metavar="VALUES",
        help="add a bias: alone, a bias of ones; with values (e.g. 0.5 or 1,2), those values",
    )
    cfg.add_argument("--no-bias", dest="bias", action="store_const", const=None, help="no bias (the default)")
    cfg.add_argument(
        "--padding-mode", choices=("zeros", "reflect", "replicate", "circular"), default="zeros"
    )
    cfg.add_argument("--output-padding", type=int, default=None, help="ConvTranspose1d only (default 0)")
    cfg.add_argument(
        "--output-size", type=int,
        help="ConvTranspose1d, max_unpool1d: the output length wanted; adaptive pools: the output length",
    )
    cfg.add_argument("--transposed", action="store_true", help="explain ConvTranspose1d")
    _add_pool_arguments(ex)
    _add_data_arguments(ex)
    _common(ex)
    ex.set_defaults(run=_run)


def _add_pool_arguments(ex: argparse.ArgumentParser) -> None:
    """The op, and the pools' own flags (PyTorch's functional names)."""
    from ..params import POOL_OPS

    pool = ex.add_argument_group("pooling (issue 17)")
    pool.add_argument(
        "--op", choices=("conv1d", "conv_transpose1d", *POOL_OPS), default="conv1d", metavar="OP",
        help="what to explain: conv1d (the default), conv_transpose1d (as --transposed), max_pool1d, avg_pool1d, "
        "lp_pool1d, adaptive_avg_pool1d, adaptive_max_pool1d or max_unpool1d",
    )
    pool.add_argument("--ceil-mode", action="store_true", help="max/avg/lp pools: round the length up")
    pool.add_argument(
        "--count-include-pad", dest="count_include_pad", action="store_true", default=None,
        help="avg_pool1d: the padding counts in the divisor (PyTorch's default)",
    )
    pool.add_argument("--no-count-include-pad", dest="count_include_pad", action="store_false",
                      help="avg_pool1d: divide by the real samples only")
    pool.add_argument("--norm-type", type=float, help="lp_pool1d: the power p")
    pool.add_argument("--return-indices", action="store_true", help="max pools: list PyTorch's indices too")
    pool.add_argument("--indices", metavar="VALUES", help="max_unpool1d: where each input value goes (e.g. 1,3)")


def _add_data_arguments(ex: argparse.ArgumentParser) -> None:
    data = ex.add_argument_group("data")
    data.add_argument(
        "--input",
        metavar="VALUES",
        help="1,1,1,1 (one channel); channels separated by ':' (or ';' quoted), batch items by '::' "
        "(or '|' quoted), e.g. 1,2:3,4::5,6:7,8; a JSON array; or @file.npy (memory-mapped)",
    )
    data.add_argument("--weight", metavar="VALUES", help="the kernel, same forms (default: ones)")
    data.add_argument("--input-shape", metavar="N,C,L", help="make up the input: (L), (C,L) or (N,C,L)")
    fills = ("ones", "arange", "randint", "randn")
    data.add_argument("--fill", choices=fills, default=None, help="how to fill the made-up input (default ones)")
    data.add_argument("--weight-fill", choices=fills, default=None, help="fill the weight so (instead of ones)")
    data.add_argument("--bias-fill", choices=fills, default=None, help="add a bias filled so")
    data.add_argument("--seed", type=int, default=0, help="seed of randint/randn (default 0)")
    out = ex.add_argument_group("output")
    out.add_argument("--at", metavar="N,C,T", help="explain only output element y[N, C, T] (0-based)")
    out.add_argument("--symbolic", action="store_true", help="names (x1, w1, b) instead of numbers")
    out.add_argument("--max-steps", type=_positive_int, default=None, help="write out at most this many steps")
    add_stream_arguments(ex)


def add_stream_arguments(parser: argparse.ArgumentParser) -> None:
    """``--stream``, ``--chunk``, ``--push``: one streamed push explained (issue 19)."""
    group = parser.add_argument_group("streaming (one push explained)")
    group.add_argument("--stream", action="store_true",
                       help="stream the layer chunk by chunk and explain one push: which inputs come from the cache, "
                       "which are new (ConvTranspose1d: the carried tail)")  # fmt: skip
    group.add_argument("--chunk", default=None, metavar="N",
                       help="stream_chunk: input samples per push (default with --stream: 'hop', one hop of the layer)")
    group.add_argument("--push", default=None, metavar="N",
                       help="stream_push: which push to explain, from 1 (default: the second, or the only one)")


def stream_config(args: argparse.Namespace) -> dict[str, Any]:
    """``stream_chunk`` / ``stream_push`` from the flags (their values as typed, for the
    resolver's rule: '0', '-1' and '2.5' get the same words as from Python)."""
    from ..errors import ConvtraceError

    chunk, push = getattr(args, "chunk", None), getattr(args, "push", None)
    if not getattr(args, "stream", False):
        for flag, value in (("chunk", chunk), ("push", push)):
            if value is not None:
                raise ConvtraceError(flag, value, f"--{flag} applies to a streamed explanation: it needs --stream",
                                     hint="add --stream")  # fmt: skip
        return {}
    return {"stream_chunk": _int_or_text(chunk) if chunk is not None else "hop",
            "stream_push": None if push is None else _int_or_text(push)}  # fmt: skip


def _int_or_text(text: str) -> int | str:
    try:
        return int(text)
    except ValueError:
        return text


def _positive_int(text: str) -> int:
    """argparse type of ``--max-steps``: a whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}")
    return value


def _run(args: argparse.Namespace) -> int:
    """The subcommand itself: 0, or :data:`EXIT_INVALID` for an invalid configuration.

    The traces are built without PyTorch's check; with the check asked for, torch is imported
    on a background thread from then on, and each explanation is printed as soon as it is
    rendered, its check when it arrives (the text is the same as checking first)."""
    from ..errors import ConvtraceError

    config: dict[str, Any] = {}
    verify = not args.no_verify
    try:
        if args.command == "demo":
            from ..demo import demo_sections

            sections = demo_sections(verify=False)
        else:
            config = _config(args)
            from ..explainer import explain

            sections = [("", {}, explain(**{**config, "verify": False}))]
        if verify:
            from ..explainer import prefetch_torch

            prefetch_torch()
        _emit(sections, args, verify=verify)
    except ConvtraceError as err:
        _report(err, config, args.lang)
        return EXIT_INVALID
    return 0


def _emit(sections: Sequence[tuple[str, dict[str, Any], Trace]], args: argparse.Namespace, *, verify: bool) -> None:
    """Print each (title key, title values, trace) as text, or all as one JSON document;
    ``verify``: each with PyTorch's check (made here)."""
    from ..render.i18n import translator

    t = translator(args.lang)
    if args.json:
        traces = [trace.with_check() if verify else trace for _, _, trace in sections]
        if len(sections) == 1 and not sections[0][0]:
            doc: Any = traces[0].to_json()
        else:
            doc = {"traces": [{"title": t(key, **kw), "trace": tr.to_json()}
                              for (key, kw, _), tr in zip(sections, traces)]}  # fmt: skip
        print(json.dumps(doc, indent=2, ensure_ascii=False))
        return
    from ..render.text import wrap_lines

    symbolic = bool(getattr(args, "symbolic", False))
    width = terminal_width()
    for index, (key, kw, trace) in enumerate(sections):
        rule = "=" * min(72, width)
        head = "\n".join([rule, *wrap_lines([t(key, **kw)], width), rule, ""]) if key else ""
        parts = trace.render_parts(args.lang, symbolic=symbolic, width=width, numbering=index == 0, verify=verify)
        for number, part in enumerate(parts):  # the explanation at once, its check when it comes
            start = ("\n\n" if index else "") + head if number == 0 else ""
            print(start + part, end="", flush=True)
    print()


def _report(err: Exception, config: dict[str, Any], lang: str) -> None:
    """An invalid configuration: PyTorch's words, then the rule, the numbers and the nearest
    valid settings (from :mod:`convtrace.trace.advice`)."""
    from ..render.advice import advise, in_language, split_backend_note
    from ..render.i18n import translator

    t = translator(lang)
    param = getattr(err, "param", None)
    rule, note = split_backend_note(err, lang) if param else (str(err), None)  # type: ignore[arg-type]
    said = f"{param}={_show(getattr(err, 'value', None))}: {rule}" if param else rule
    lines = [t("error_pytorch", text=said)]
    if note:
        lines.append(t("error_backend", note=note))
    advice = advise(err, config)  # type: ignore[arg-type]
    if advice.rule and advice.rule != rule:
        lines.append(t("error_rule", rule=in_language(advice.rule, lang)))
    elif lang != "en" and in_language(rule, lang) != rule:
        lines.append(t("error_rule", rule=in_language(rule, lang)))
    if advice.numbers:
        lines.append(t("error_numbers", numbers=advice.numbers))
    lines += [t("error_nearest", hint=in_language(hint, lang)) for hint in advice.suggestions]
    hint = getattr(err, "hint", None)
    if hint and not advice.suggestions:
        lines.append(t("error_nearest", hint=in_language(hint, lang)))
    from ..render.text import wrap_lines

    print(t("error_heading"), file=sys.stderr)
    for line in wrap_lines(["  " + line for line in lines], terminal_width()):
        print(line, file=sys.stderr)


def _show(value: Any) -> str:
    shape = getattr(value, "shape", None)
    return f"<array of shape {tuple(shape)}>" if shape is not None else repr(value)


def _ints(text: str, name: str) -> tuple[int, ...]:
    from ..errors import ConvtraceError

    try:
        return tuple(int(v) for v in text.replace(" ", "").split(","))
    except ValueError:
        raise ConvtraceError(name, text, f"--{name} must be integers separated by commas, e.g. 0,0,3") from None


def _padding(text: str) -> int | str:
    """``--padding``: an int, or a string that :func:`convtrace.explain` validates
    ('same', 'valid'; anything else is PyTorch's "Invalid padding string")."""
    try:
        return int(text)
    except ValueError:
        return text.strip()


def _weight(text: str) -> Any:
    """``--weight``: one kernel (k) for every channel pair; rows ``a;b`` become the first
    weight axis (output channels of Conv1d, input channels of ConvTranspose1d); a JSON array
    of three levels is the full weight."""
    from ..trace.text_values import as_weight, parse_values

    return as_weight(parse_values(text, "weight"))


def _check_flags_apply(args: argparse.Namespace) -> None:
    """Flags that would be silently ignored are errors: say which and why."""
    from ..errors import ConvtraceError
    from ..rules import check_transposed_only

    if args.input is not None:
        for flag, value in (("input-shape", args.input_shape), ("fill", args.fill)):
            if value is not None:
                raise ConvtraceError(
                    flag, value, f"--{flag} makes up an input: it does not apply when --input gives one",
                    hint=f"drop --{flag}, or drop --input to make the input up",
                )
    if args.weight is not None and args.weight_fill is not None:
        raise ConvtraceError(
            "weight-fill", args.weight_fill, "--weight-fill makes up a weight: it does not apply when --weight gives one",
            hint="drop --weight-fill, or drop --weight",
        )
    if args.bias_fill is not None and args.bias not in (None, ""):
        raise ConvtraceError(
            "bias-fill", args.bias_fill, "--bias-fill makes up a bias: it does not apply when --bias gives one",
            hint="drop --bias-fill, or drop the values of --bias",
        )
    if getattr(args, "symbolic", False) and args.op not in ("conv1d", "conv_transpose1d"):
        raise ConvtraceError(
            "symbolic", True, f"--symbolic writes a convolution's products as names: {args.op} has no weights",
            hint="drop --symbolic",
        )
    # PyTorch's Conv1d has no output_padding (even 0): the resolver's rule, for the flag given
    check_transposed_only("output_padding", args.output_padding, args.output_padding is not None,
                          transposed=args.transposed)


def _pool_config(args: argparse.Namespace) -> dict[str, Any]:
    """The op and the pool flags given (a flag at its default is left out, so that the op
    says which flags it does not take with the resolver's words)."""
    from .values import parse_values

    kwargs: dict[str, Any] = {}
    if args.op != "conv1d":
        kwargs["op"] = args.op
    for name, default in (("ceil_mode", False), ("norm_type", None), ("return_indices", False),
                          ("count_include_pad", None)):
        value = getattr(args, name)
        if value != default:
            kwargs[name] = value
    if args.indices is not None:
        kwargs["indices"] = parse_values(args.indices, "indices")
    return kwargs


def _config(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments of :func:`convtrace.explain` that the command line asks for."""
    from ..trace.data import generate
    from .values import parse_shape, parse_values

    _check_flags_apply(args)
    x: Any = None
    if args.input is not None:
        x = parse_values(args.input, "input")
    elif args.input_shape is not None or args.fill is not None:
        shape = parse_shape(args.input_shape) if args.input_shape else (1, args.in_channels or 1, 8)
        x = generate(shape, args.fill or "ones", args.seed)
    bias: Any = None
    if args.bias == "":
        bias = True
    elif args.bias is not None:
        bias = parse_values(args.bias, "bias")
    padding: Any = _padding(args.padding)
    kwargs: dict[str, Any] = _pool_config(args)
    if args.max_steps is not None:
        kwargs["max_steps"] = args.max_steps
    if args.weight_fill is not None:
        kwargs.update(weight_fill=args.weight_fill, seed=args.seed)
    if args.bias_fill is not None:
        kwargs.update(bias_fill=args.bias_fill, seed=args.seed)
    kwargs.update(stream_config(args))
    return dict(
        input=x,
        weight=None if args.weight is None else _weight(args.weight),
        bias=bias,
        in_channels=args.in_channels,
        out_channels=args.out_channels,
        kernel_size=args.kernel_size,
        stride=args.stride,
        padding=padding,
        dilation=args.dilation,
        groups=args.groups,
        padding_mode=args.padding_mode,
        output_padding=args.output_padding or 0,
        output_size=[args.output_size] if args.op == "max_unpool1d" and args.output_size is not None
        else args.output_size,  # max_unpool1d takes a sequence, as PyTorch's
        transposed=args.transposed,
        at=None if args.at is None else _ints(args.at, "at"),
        verify=not args.no_verify,
        **kwargs,
    )
