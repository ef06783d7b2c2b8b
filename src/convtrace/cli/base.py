"""What every subcommand of the ``convtrace`` command shares: the parser class and the exit codes."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

__all__ = ["Parser", "EXIT_INVALID", "EXIT_INTERNAL"]

#: exit code of an invalid configuration or command line (as argparse uses)
EXIT_INVALID = 2
#: EX_SOFTWARE: an unexpected failure inside convtrace
EXIT_INTERNAL = 70


class Parser(argparse.ArgumentParser):
    """argparse, with the usage error in our format and exit code 2 (never a traceback)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_INVALID, f"convtrace: error: {message}\n")
