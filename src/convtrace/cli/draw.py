"""``convtrace draw``: a figure (SVG, PNG) or an animation (GIF) of any configuration that
``convtrace explain`` takes, with the same flags.

>>> import os, tempfile
>>> from convtrace.cli import main
>>> path = os.path.join(tempfile.mkdtemp(), "demo.svg")
>>> main(["draw", "--input", "1,1,1,1", "--kernel-size", "3", "--padding", "1", "--no-verify",
...       "--step", "1", "-o", path])  # doctest: +ELLIPSIS
/.../demo.svg
0
>>> open(path, encoding="utf-8").read().startswith("<svg")
True
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .base import EXIT_INVALID, Parser

__all__ = ["register"]

EXAMPLES = """\
examples:
  convtrace draw --input 1,1,1,1 --kernel-size 3 --padding 1 -o demo.svg
  convtrace draw --input 1,1,1,1 --kernel-size 3 --padding 1 -o demo.gif
  convtrace draw --input 1,1,1,1 --kernel-size 3 --stride 2 --padding 1 \\
      --output-padding 1 --transposed -o t.png
  convtrace draw --input 1,2,3,4,5 --kernel-size 3 --padding 2 \\
      --padding-mode reflect --step 1 -o r.svg --lang zh
  convtrace draw --op avg_pool1d --input 1,2,3,4,5,6 --kernel-size 3 \\
      --stride 2 --padding 1 --ceil-mode -o avg.gif
  convtrace draw --op max_pool1d --input 1,3,2,5,4 --kernel-size 2 \\
      --ceil-mode --step 3 -o max.png
  convtrace draw --input 1,1,1,1 --kernel-size 3 --padding 1 \\
      --stream --chunk 2 -o loop.gif
"""


def register(sub: argparse._SubParsersAction[Parser]) -> None:
    """Add ``draw`` to the command line: the explain flags plus -o, --step, --lang."""
    from .explain import register as register_explain

    scratch: argparse.ArgumentParser = Parser(add_help=False)
    scratch_sub = scratch.add_subparsers(dest="command", parser_class=Parser)
    register_explain(scratch_sub)
    explain_parser = scratch_sub.choices["explain"]
    p = sub.add_parser(
        "draw",
        help="draw a configuration: SVG, PNG or an animated GIF",
        description="Draw one Conv1d (or, with --transposed, ConvTranspose1d) configuration: the "
        "window moving along the padded input, the kernel with its dilation gaps, the products and "
        "the output filling in; for ConvTranspose1d the scatter view, the overlap bar, the "
        "zero-insertion view and the matrix. A pool (--op max_pool1d, avg_pool1d, lp_pool1d, "
        "adaptive_avg_pool1d, adaptive_max_pool1d, max_unpool1d): the window sliding along the padded "
        "input, the ceil_mode overhang shaded apart from the padding, the max's winner, the mean's "
        "divisor, adaptive windows, unpooled values landing. The format comes from the suffix of -o. "
        "PNG and GIF need the viz extra (pip install 'convtrace[viz]').",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[],
    )
    _copy_explain_flags(explain_parser, p)
    out = p.add_argument_group("picture")
    out.add_argument("-o", "--output", required=True, metavar="FILE", help="out.svg, out.png or out.gif")
    out.add_argument("--step", type=int, default=None, metavar="N",
                     help="draw step N alone (SVG, PNG), counted from 1 as the titles count "
                     "('step 1 of 4'; a scatter placement when transposed; --at's indices count "
                     "from 0, as PyTorch's); default: the overview. Not for a GIF, which shows "
                     "every step")
    p.set_defaults(run=_run)


_SKIP = {"help", "json", "symbolic"}


def _copy_explain_flags(source: argparse.ArgumentParser, target: argparse.ArgumentParser) -> None:
    """Give ``target`` every flag of ``explain`` except those that only concern text
    (--json, --symbolic)."""
    for group in source._action_groups:
        actions = [a for a in group._group_actions if a.dest not in _SKIP]
        if not actions:
            continue
        dest = target.add_argument_group(group.title) if group.title not in ("options", "optional arguments") else target
        for action in actions:
            dest._add_action(action)  # the same Action objects: same names, defaults and help


def _run(args: argparse.Namespace) -> int:
    from ..errors import ConvtraceError
    from .explain import _config, _report

    args.json = False
    args.symbolic = False
    config: dict[str, Any] = {}
    try:
        from ..draw import check_output, check_step, save

        check_output(args.output, step=args.step, param="output")  # before any work
        config = _config(args)
        from ..explainer import explain

        trace = explain(**{**config, "verify": False})
        check_step(trace, args.step, first=1)
        # the figure first, then PyTorch's check: importing torch on a thread meanwhile would
        # hold the GIL against the drawing (a GIF took 2.1 s instead of 0.9 s to appear)
        save(trace, args.output, step=None if args.step is None else args.step - 1, lang=args.lang)
        print(args.output, flush=True)
        if config["verify"]:
            trace.with_check()
    except ConvtraceError as err:
        _report(err, config, args.lang)
        return EXIT_INVALID
    except OSError as err:
        print(f"convtrace: cannot write {args.output}: {err.strerror or err}", file=sys.stderr)
        return EXIT_INVALID
    return 0
