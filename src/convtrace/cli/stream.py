"""``convtrace stream``: can this net run live, chunk by chunk, with exactly the offline
result — and what does it cost in latency and memory?

The net is a stack in the planner's syntax (:mod:`convtrace.plan.stack`), or a real PyTorch
model named ``package.module:factory`` (as for ``convtrace inspect``) with
``--input-shape``: the model is recorded by the inspector (the only part that runs torch),
twice — at the given length and one sample more, so that a padding computed from the input
length shows — and the recorded layers are handed to :func:`convtrace.stream.report`; then
``convtrace.streamify`` streams the model itself (issue 19): its figures and state tensors,
or the refusal by module, op, reason and fix. ``--check`` feeds the stack, or the streamed
model, random chunk schedules (:func:`convtrace.stream.verify`) and prints the result.

>>> from convtrace.cli import main
>>> main(["stream", "conv k=4 s=2 p=causal", "--sample-rate", "16000"])  # doctest: +ELLIPSIS
Streaming 1 layer (1 channel in, float32, batch 1) at 16000 Hz
...
0
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .base import EXIT_INVALID, Parser, terminal_width
from .plan import _int

__all__ = ["register", "EXAMPLES"]

EXAMPLES = """\
examples:
  convtrace stream "conv k=7 p=causal; conv k=4 s=2 p=2,0; conv k=8 s=4 p=4,0; \\
      conv k=10 s=5 p=5,0; conv k=16 s=8 p=8,0; conv k=7 p=causal" \\
      --sample-rate 24000                  # latency, lookahead, cache
  convtrace stream "conv k=4 s=2 p=causal" --check   # chunked equals offline?
  convtrace stream mymodels:make_codec --input-shape 1,1,24000 \\
      --sample-rate 24000                  # a PyTorch model, recorded and streamed
  convtrace stream mymodels:make_codec --input-shape 1,1,4000 \\
      --check                              # the streamed model equals model(x)?
  convtrace stream @encoder.txt --in-channels 1 --dtype float64 --json
"""


def register(sub: argparse._SubParsersAction[Parser]) -> None:
    """Add ``stream``."""
    p = sub.add_parser(
        "stream", help="can a net stream chunk by chunk: latency, lookahead, cache, what cannot",
        description="The streaming report of a stack (the planner's syntax) or of a PyTorch model (recorded "
        "by the inspector): per layer and in total the left context kept between chunks (samples x channels, "
        "bytes), lookahead, algorithmic latency (samples, ms), hop, minimum chunk and the first output; the "
        "layers that cannot stream, with the reason and the fix; strided causal convs padded k_eff-1 where "
        "k_eff-s has the same causality with less latency. --check proves chunked equals offline on random "
        "chunk schedules.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    p.add_argument("net", help="a stack, e.g. 'conv k=3 p=causal; conv k=4 s=2 p=2,0', @file, "
                   "or package.module:factory[:key=value,...] with --input-shape")  # fmt: skip
    p.add_argument("--sample-rate", default=None, help="samples per second, for the times in ms (e.g. 24000)")
    p.add_argument("--in-channels", default="1", help="a stack's input channels (default 1)")
    p.add_argument("--dtype", default=None, help="dtype of the cached samples: float32 (default), float64, float16; "
                   "with --check, the dtype streamed (default float64)")  # fmt: skip
    p.add_argument("--batch", default="1", help="batch size the cache is counted for (default 1)")
    p.add_argument("--input-shape", default=None, help="a model's input shape, e.g. 1,1,24000 (the model is "
                   "recorded on it)")  # fmt: skip
    p.add_argument("--time-dim", type=int, default=-1, help="a model: which input dimension is time (default -1)")
    p.add_argument("--kwargs", default=None, help="a model: factory keyword arguments as a JSON object")
    p.add_argument("--check", action="store_true", help="stream the stack (or the model, by streamify) on random "
                   "chunk schedules and compare with the offline result (a stack: also PyTorch's, when installed)")  # fmt: skip
    p.add_argument("--length", default=None, help="with --check, a stack: the signal length (default: a few "
                   "receptive fields; a model's is its --input-shape)")  # fmt: skip
    p.add_argument("--trials", default=None, help="with --check: how many random schedules")
    p.add_argument("--seed", type=int, default=0, help="with --check: the seed (default 0)")
    p.add_argument("--json", action="store_true", help="JSON instead of text")
    p.add_argument("--lang", choices=("en", "zh"), default="en", help="language of the text and messages")
    p.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from ..errors import ConvtraceError

    try:
        if _is_model(args):
            return _run_model(args)
        report = _report(args)
        check = _check(args) if args.check else None
    except ConvtraceError as err:
        print(f"convtrace stream: error: {err}", file=sys.stderr)
        return EXIT_INVALID
    from ..render import stream_text

    if args.json:
        doc = stream_text.to_json(report, args.lang)
        if check is not None:
            doc["check"] = stream_text.check_json(check)
        print(json.dumps(doc, indent=2, ensure_ascii=False, default=str))
    else:
        width = terminal_width()
        print(stream_text.render_stream(report, lang=args.lang, width=width, color=sys.stdout.isatty()))
        if check is not None:
            print(stream_text.render_check(check, lang=args.lang, width=width))
    return 0 if check is None or check.ok else 1


# ---- streamify (issue 19): a PyTorch model, recorded, streamed and (--check) proven


def _run_model(args: argparse.Namespace) -> int:
    """The recorded report, what streamify makes of the model and, with ``--check``, the
    proof; a refused model exits 1 with ``--check`` (nothing to prove), 0 without."""
    from ..errors import ConvtraceError
    from ..inspect.factory import load_model
    from ..inspect.stream_model import summarize_model
    from ..render import stream_text, streamify_text
    from .inspect import _ints, _kwargs

    if args.length is not None:
        raise ConvtraceError("length", args.length, "a model's signal length is the time axis of its --input-shape")
    rate, batch = _int(args.sample_rate, "sample-rate"), _int(args.batch, "batch") or 1
    trials = _int(args.trials, "trials")
    model = load_model(args.net, _kwargs(args.kwargs))
    shape = _ints(args.input_shape, "input-shape")
    try:
        report = _model_report(args, model, shape, rate, batch)
        summary = summarize_model(model, shape, time_dim=args.time_dim, dtype=args.dtype or "float32", batch=batch)
        check = None
        if args.check and summary.streams:
            from ..inspect.stream_verify import verify_model

            check = verify_model(model, shape, seed=args.seed, dtype=args.dtype or "float64", time_dim=args.time_dim,
                                 **({} if trials is None else {"trials": trials}))  # fmt: skip
    except (RuntimeError, TypeError, IndexError) as exc:  # the model's own code failed: no traceback
        raise ConvtraceError("model", args.net, f"the model raised {type(exc).__name__}: {exc}") from None
    if args.json:
        doc = stream_text.to_json(report, args.lang)
        doc.update(streamify_text.streamify_json(summary, check))
        print(json.dumps(doc, indent=2, ensure_ascii=False, default=str))
    else:
        width = terminal_width()
        print(stream_text.render_stream(report, lang=args.lang, width=width, color=sys.stdout.isatty()))
        print(streamify_text.render_streamify(summary, lang=args.lang, width=width, color=sys.stdout.isatty()))
        if check is not None:
            print(streamify_text.render_model_check(check, lang=args.lang, width=width))
    failed = (check is not None and not check.ok) or (args.check and not summary.streams)
    return 1 if failed else 0


def _model_report(args: argparse.Namespace, model: Any, shape: tuple[int, ...], rate: int | None, batch: int) -> Any:
    """Part 1's report of the recorded layers."""
    from ..stream.report import report

    first, second = _inspections(args, model, shape)
    return report(first, also=second, sample_rate=rate, dtype=args.dtype or "float32", batch=batch)


def _is_model(args: argparse.Namespace) -> bool:
    return args.input_shape is not None


def _report(args: argparse.Namespace) -> Any:
    from ..errors import ConvtraceError
    from ..stream.report import report

    rate, batch, dtype = _int(args.sample_rate, "sample-rate"), _int(args.batch, "batch"), args.dtype or "float32"
    if ":" in args.net and "=" not in args.net.split(":", 1)[0] and " " not in args.net.strip():
        raise ConvtraceError("input-shape", None, f"{args.net!r} names a model: give its --input-shape, e.g. 1,1,24000")
    return report(_stack_text(args.net), in_channels=_int(args.in_channels, "in-channels"), sample_rate=rate,
                  dtype=dtype, batch=batch)


def _stack_text(text: str) -> str:
    """The stack, or the contents of ``@file``."""
    from ..errors import ConvtraceError

    if not text.startswith("@"):
        return text
    try:
        with open(text[1:], encoding="utf-8") as handle:
            return handle.read(200_000)
    except OSError as exc:
        raise ConvtraceError("net", text, f"cannot read the file: {exc.strerror}") from None


def _inspections(args: argparse.Namespace, model: Any, shape: tuple[int, ...]) -> tuple[Any, Any]:
    """The model recorded at the given input shape, and at one more time step (a padding
    set from the input length differs between the two)."""
    from ..inspect.model import inspect_model

    first = inspect_model(model, shape, time_dim=args.time_dim)
    longer = list(shape)
    longer[args.time_dim] += 1
    second = inspect_model(model, tuple(longer), time_dim=args.time_dim, raise_on_error=False)
    return first, second


def _check(args: argparse.Namespace) -> Any:
    from ..stream.report import check_stack

    return check_stack(_stack_text(args.net), in_channels=_int(args.in_channels, "in-channels") or 1,
                       length=_int(args.length, "length"), trials=_int(args.trials, "trials"), seed=args.seed,
                       dtype=args.dtype)  # fmt: skip
