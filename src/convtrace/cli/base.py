"""What every subcommand of the ``convtrace`` command shares: the parser class and the exit codes."""

from __future__ import annotations

import argparse
import difflib
import re
import shutil
import sys
from collections.abc import Iterator
from typing import Any, NoReturn

__all__ = ["Parser", "EXIT_INVALID", "EXIT_INTERNAL", "attach_negative_values", "terminal_width"]

#: the language of ``--help`` (``--lang zh`` anywhere on the command line: Chinese)
HELP_LANGUAGE = "en"

#: exit code of an invalid configuration or command line (as argparse uses)
EXIT_INVALID = 2
#: EX_SOFTWARE: an unexpected failure inside convtrace
EXIT_INTERNAL = 70


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Help wrapped to the terminal (``COLUMNS``; 80 when not a terminal): prose paragraphs
    are filled, indented lines (the examples) kept as written."""

    def __init__(self, prog: str, **kwargs: Any) -> None:
        kwargs.setdefault("width", terminal_width() - 2)
        super().__init__(prog, **kwargs)

    def add_usage(self, usage: Any, actions: Any, groups: Any, prefix: str | None = None) -> None:
        if prefix is None and HELP_LANGUAGE == "zh":
            prefix = "用法："
        super().add_usage(usage, actions, groups, prefix)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        from ..render.textwidth import display_wrap

        out = []
        for line in text.splitlines():
            if line.startswith(" ") or not line.strip():
                out.append(indent + line)
            else:
                out += [indent + part for part in display_wrap(line, width - len(indent))]
        return "\n".join(out) + "\n"

    def _split_lines(self, text: str, width: int) -> list[str]:
        from ..render.textwidth import display_wrap

        return display_wrap(" ".join(text.split()), width)


class Parser(argparse.ArgumentParser):
    """argparse, with the usage error in our format and exit code 2 (never a traceback), no
    abbreviated flags (``--kernel`` is not ``--kernel-size``), and the closest flag suggested
    for a mistyped one."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        kwargs["formatter_class"] = HelpFormatter
        super().__init__(*args, **kwargs)
        if HELP_LANGUAGE == "zh":  # argparse's own section titles (its usage prefix: HelpFormatter)
            self._positionals.title = "位置参数"
            self._optionals.title = "选项"

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_INVALID, f"convtrace: error: {message}{self._suggestion(message)}\n")

    def _suggestion(self, message: str) -> str:
        unknown = re.findall(r"(--[\w-]+)", message.split("unrecognized arguments:", 1)[-1])
        if "unrecognized arguments" not in message or not unknown:
            return ""
        flags = sorted(set(self._all_flags()))
        hints = []
        for flag in unknown:
            if flag in flags:  # a flag of another subcommand
                hints.append(f"{flag} is not a flag of this command (see its --help)")
                continue
            close = difflib.get_close_matches(flag, flags, n=1, cutoff=0.6)
            if close:
                hints.append(f"{flag} -> did you mean {close[0]}?")
        return "".join(f"\n  {h}" for h in hints)

    def _all_flags(self) -> Iterator[str]:
        """Every long flag of this parser and of its subcommands."""
        for action in self._actions:
            yield from (s for s in action.option_strings if s.startswith("--"))
            if isinstance(action, argparse._SubParsersAction):
                for parser in action.choices.values():
                    if isinstance(parser, Parser):
                        yield from parser._all_flags()


def terminal_width() -> int:
    """The width to wrap to: the terminal's (or ``COLUMNS``), 80 when not a terminal."""
    return max(40, shutil.get_terminal_size((80, 24)).columns)


_NEGATIVE_VALUE = re.compile(r"^-(\d|\.\d)")


def attach_negative_values(argv: list[str]) -> list[str]:
    """``--weight -1,0,1`` as ``--weight=-1,0,1``: a value that starts with a minus sign is
    attached to its flag, so argparse does not take it for a flag.

    >>> attach_negative_values(["explain", "--weight", "-1,0,1", "--input", "-1,2"])
    ['explain', '--weight=-1,0,1', '--input=-1,2']
    """
    out: list[str] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        if token.startswith("--") and "=" not in token and i + 1 < len(argv) and _NEGATIVE_VALUE.match(argv[i + 1]):
            out.append(f"{token}={argv[i + 1]}")
            i += 2
            continue
        out.append(token)
        i += 1
    return out
