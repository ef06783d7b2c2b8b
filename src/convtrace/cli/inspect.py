"""``convtrace inspect``: inspect a real PyTorch model made by a factory.

The model is named as ``package.module:factory`` — a function or class returning a
``torch.nn.Module`` (or a module instance). Keyword arguments for the factory come after a
second colon (``package.module:factory:channels=32,causal=true``; values are read as JSON
where they can be, else as text) and/or as ``--kwargs '{"channels": 32}'``. The current
directory is importable, as with ``python -m``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .base import EXIT_INVALID, Parser, terminal_width

__all__ = ["register"]

EXAMPLES = """\
examples:
  convtrace inspect mymodels:Encoder --input-shape 1,1,16000
  convtrace inspect mymodels:make_codec:channels=32 --input-shape 1,1,24000 \\
      --json
  convtrace inspect mymodels:make_codec --kwargs '{"channels": 32}' \\
      --input-shape 1,1,24000 --lengths 0..640  # output length per input length
  convtrace inspect mymodels:Encoder --input-shape 1,1,16000 \\
      --explain encoder.0 --at 0,3,100          # one output element, by hand
  convtrace inspect vocoder:build --input-shape 1,50,80 --time-dim 1
"""


def register(sub: argparse._SubParsersAction[Parser]) -> None:
    """Add ``inspect``."""
    p = sub.add_parser(
        "inspect", help="record the time-axis layers of a real PyTorch model (meta device)",
        description="Run a model once on PyTorch's meta device (no weights allocated; a real run where meta "
        "cannot) and record every Conv1d, ConvTranspose1d, pool (MaxPool1d, AvgPool1d, LPPool1d, "
        "AdaptiveAvgPool1d, AdaptiveMaxPool1d, MaxUnpool1d) and every time-axis F.pad, functional conv/pool call "
        "and crop: lengths, receptive field and hop so far (after an adaptive pool: at this input length only), "
        "warnings.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    p.add_argument("model", help="package.module:factory[:key=value,...]")
    p.add_argument("--kwargs", default=None, help="factory keyword arguments as a JSON object")
    p.add_argument("--input-shape", required=True, help="e.g. 1,1,16000")
    p.add_argument("--time-dim", type=int, default=-1, help="which input dimension is time (default -1)")
    p.add_argument("--dtype", default=None, help="input dtype, e.g. int64 for token ids (default: the model's)")
    p.add_argument("--unit", default=None,
                   help='what one input step is, for the text (e.g. frames, samples; default "input steps")')
    p.add_argument("--lengths", help="map output lengths over input lengths, e.g. 1000..1100 or 0,1,319")
    p.add_argument("--explain", metavar="LAYER", help="explain one element of this Conv1d/ConvTranspose1d/pool")
    p.add_argument("--at", metavar="N,C,T", help="with --explain: the output element y[N, C, T]")
    p.add_argument("--seed", type=int, default=0, help="with --explain: seed of the random input (default 0)")
    p.add_argument("--json", action="store_true", help="JSON instead of text")
    p.add_argument("--lang", choices=("en", "zh"), default="en", help="language of the text and messages")
    p.set_defaults(run=_run)


def _ints(text: str, name: str) -> tuple[int, ...]:
    from ..errors import ConvtraceError

    try:
        return tuple(int(v) for v in text.replace(" ", "").split(","))
    except ValueError:
        raise ConvtraceError(name, text, f"--{name} must be whole numbers separated by commas") from None


def _run(args: argparse.Namespace) -> int:
    from ..errors import ConvtraceError
    from ..inspect.model import ModelRaisedError

    try:
        extra = _kwargs(args.kwargs)
        shape = _ints(args.input_shape, "input-shape")
        from ..inspect.factory import load_model

        model = load_model(args.model, extra)
        result, render = _work(args, model, shape)
    except ModelRaisedError as err:  # what ran before PyTorch raised, then the error and a hint
        if err.report is not None:
            _show(args, err.report, _inspect_text(args))
        print(f"convtrace inspect: error: {err}", file=sys.stderr)
        return EXIT_INVALID
    except ConvtraceError as err:
        print(f"convtrace inspect: error: {err}", file=sys.stderr)
        return EXIT_INVALID
    _show(args, result, render)
    return 0


def _show(args: argparse.Namespace, result: Any, render: Any) -> None:
    if args.json:
        from ..render.plan_text import to_json

        print(json.dumps(to_json(result, args.lang), indent=2, default=str, ensure_ascii=False))
    else:
        print(render(result))


def _inspect_text(args: argparse.Namespace) -> Any:
    from ..render import plan_text

    color = sys.stdout.isatty()
    return lambda report: plan_text.render_inspect(report, color=color, lang=args.lang, width=terminal_width(),
                                                   unit=args.unit)  # fmt: skip


def _kwargs(text: str | None) -> dict[str, Any]:
    from ..errors import ConvtraceError

    if text is None:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise ConvtraceError("kwargs", text, "--kwargs must be a JSON object, e.g. '{\"channels\": 32}'")
    return value


def _work(args: argparse.Namespace, model: Any, shape: tuple[int, ...]) -> tuple[Any, Any]:
    from ..errors import ConvtraceError
    from ..render import plan_text

    if args.explain:
        if not args.at:
            raise ConvtraceError("at", None, "--explain needs --at n,c,t")
        from ..inspect.explain import explain_layer

        return explain_layer(model, args.explain, _ints(args.at, "at"), shape, seed=args.seed), \
            (lambda result: plan_text.render_layer_explanation(result, args.lang))  # fmt: skip
    if args.lengths:
        from ..inspect.factory import parse_dtype
        from ..inspect.lengths import length_map
        from ..plan.solve import parse_range

        lengths = parse_range(args.lengths, "lengths")
        return length_map(model, shape, lengths, time_dim=args.time_dim, dtype=parse_dtype(args.dtype)), (
            lambda result: plan_text.render_length_map(result, args.lang)
        )
    from ..inspect.factory import parse_dtype
    from ..inspect.model import inspect_model

    return inspect_model(model, shape, time_dim=args.time_dim, dtype=parse_dtype(args.dtype)), _inspect_text(args)
