"""The ``convtrace`` command.

Each subcommand lives in its own module of this package and registers itself through
:data:`COMMANDS`: a module exposes ``register(subparsers) -> None``, which adds its parser
and sets ``run`` (``run(args) -> int``) as a default. Only argparse and the standard library
are imported up front; each ``run`` imports what it needs (NumPy, the explainer; PyTorch
only inside a check), so commands that need no check answer without torch.

>>> main(["explain", "--input", "1,1,1,1", "--kernel-size", "3", "--padding", "1",
...       "--no-verify", "--symbolic"])  # doctest: +ELLIPSIS
Conv1d, step by step
...
  y1 = 0·w1 + x1·w2 + x2·w3
...
0
"""

from __future__ import annotations

import argparse
import importlib
import itertools
import os
import sys
from collections.abc import Sequence

from . import base
from .base import EXIT_INTERNAL, EXIT_INVALID, Parser, attach_negative_values

__all__ = ["main", "build_parser", "EXIT_INVALID", "EXIT_INTERNAL", "COMMANDS", "Parser"]

#: subcommand modules of this package, in the order ``--help`` lists them
COMMANDS: tuple[str, ...] = ("explain", "draw", "serve", "plan", "inspect", "stream")


def build_parser() -> argparse.ArgumentParser:
    """The command line (``convtrace --help``)."""
    from .. import __version__

    examples = importlib.import_module(f"{__name__}.explain").EXAMPLES

    root = Parser(
        prog="convtrace",
        description="PyTorch's 1-D convolutions, computed and explained step by step, "
        "checked against PyTorch.",
        epilog=examples,
    )
    root.add_argument("--version", action="version", version=f"convtrace {__version__}")
    sub = root.add_subparsers(dest="command", parser_class=Parser)
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    if base.HELP_LANGUAGE == "zh":
        from .help_zh import translate_parser

        translate_parser(root)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0, 2 for an invalid configuration)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list or (args_list[0].startswith("-") and args_list[0] not in ("-h", "--help", "--version")):
        args_list.insert(0, "demo")  # `convtrace` alone runs the demo
    base.HELP_LANGUAGE = "zh" if _asks_chinese(args_list) else "en"
    args = build_parser().parse_args(attach_negative_values(args_list))
    _utf8_stdout()
    try:
        code: int = args.run(args)
        return code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `convtrace ... | head`: the reader left; not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # last resort: a bug must still not greet the user with a traceback
        if os.environ.get("CONVTRACE_DEBUG"):
            raise
        print(
            f"convtrace: internal error: {type(exc).__name__}: {exc}\n"
            "  this is a bug in convtrace; rerun with CONVTRACE_DEBUG=1 for the traceback and report it",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


def _asks_chinese(argv: Sequence[str]) -> bool:
    """``--lang zh`` (or ``--lang=zh``) anywhere: the help is printed in Chinese too."""
    return "--lang=zh" in argv or any(a == "--lang" and b == "zh" for a, b in itertools.pairwise(argv))


def _utf8_stdout() -> None:
    """Print ×, ✓ and Chinese even on a console whose encoding cannot (replacing, not failing)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")
