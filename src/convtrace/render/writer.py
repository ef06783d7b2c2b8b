"""The plumbing every text renderer shares (:mod:`convtrace.render.text` for the
convolutions, :mod:`convtrace.render.pool_text` for the pools): lines, headings, numbers,
data rows, aligned tables and PyTorch's check.

>>> table([("a", ["1", "22"]), ("bb", ["333", "4"])])
['  a    1  22', '  bb 333   4']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..trace.model import PoolTrace, TorchCheck, Trace
from .i18n import Translator
from .names import Names
from .numfmt import as_typed, fmt, fmt_nested
from .textwidth import display_width

__all__ = ["Writer", "table", "cols", "ljust", "rjust", "short_nested", "IND", "MAX_COLS"]

MAX_COLS = 24  # cells of a row printed in full; longer rows are elided in the middle
IND = "  "
_MAX_ROWS = 6  # channel rows printed per table


def cols(n: int) -> list[int | None]:
    """Column indices of a row of ``n`` cells, ``None`` where the middle is elided."""
    if n <= MAX_COLS:
        return list(range(n))
    head, tail = MAX_COLS - 8, 6
    return [*range(head), None, *range(n - tail, n)]


def ljust(s: str, width: int) -> str:
    return s + " " * (width - display_width(s))


def rjust(s: str, width: int) -> str:
    return " " * (width - display_width(s)) + s


def table(rows: Sequence[tuple[str, Sequence[str]]], indent: str = IND, limit: int | None = None) -> list[str]:
    """Right-aligned columns under a left label column; beyond ``limit`` display columns the
    columns continue in blocks below, each under the same labels."""
    width = max((display_width(c) for _, cells in rows for c in cells), default=1)
    lab = max(display_width(label) for label, _ in rows)
    ncols = max((len(cells) for _, cells in rows), default=0)
    per_block = ncols
    if limit is not None:
        per_block = max(1, (limit - display_width(indent) - lab) // (width + 1))
    lines: list[str] = []
    for start in range(0, max(ncols, 1), per_block):
        if start:
            lines.append("")
        lines += [
            (indent + ljust(label, lab) + " " + " ".join(rjust(c, width) for c in cells[start : start + per_block])).rstrip()
            for label, cells in rows
        ]
    return lines


class Writer:
    """The plumbing every text renderer shares: lines, headings, numbers, data rows and
    PyTorch's check (for a convolution's trace or a pool's)."""

    tr: Trace | PoolTrace
    names: Names

    def __init__(self, trace: Trace | PoolTrace, t: Translator, symbolic: bool, width: int | None = None) -> None:
        self.tr = trace
        self.t = t
        self.symbolic = symbolic
        self.width = width
        self.numbering = True  # say once how names and indices count
        self.out: list[str] = []

    # -- plumbing ----------------------------------------------------------------------

    def line(self, text: str = "", level: int = 0) -> None:
        self.out.append((IND * level + text).rstrip())

    def blank(self) -> None:
        if self.out and self.out[-1]:
            self.out.append("")

    def heading(self, key: str, **kw: Any) -> None:
        self.blank()
        self.out.append(self.t(key, **kw))

    def value(self, v: Any) -> str:
        """A number; in an exact trace, array values print as the fractions they were typed as."""
        return fmt(as_typed(v) if self.tr.exact else v)

    def x3(self) -> Any:
        """The input as (N, C, L) without copying (it may be a memory map)."""
        x = self.tr.input
        return x if x.ndim == 3 else x[None]

    def vector(self, first: str, last: str, row: Any, n: int) -> None:
        """``x1..x4 = 1, 1, 1, 1`` (values elided in the middle of long rows)."""
        label = first if n == 1 else f"{first}..{last}"
        idx = cols(n) if n > 12 else list(range(n))
        vals = [self.value(row[i]) if i is not None else "…" for i in idx]
        self.line(f"{label} = {', '.join(vals)}", 1)

    def more_rows(self, total: int) -> None:
        if total > _MAX_ROWS:
            self.line(self.t("more_rows", n=total - _MAX_ROWS), 1)

    # -- PyTorch's check --------------------------------------------------------------

    #: the sentence saying what data PyTorch was given
    check_data_key = "check_data"

    def check_details(self, c: TorchCheck) -> None:
        """What a renderer adds to PyTorch's verdict after its output (nothing here)."""

    def check(self) -> None:
        c = self.tr.check
        self.heading("check_heading")
        if c is None:
            self.line(self.t("check_skipped"), 1)
            return
        for code in c.extra.get("code", c.call).splitlines():
            self.line(code, 1)
        self.line(self.t(self.check_data_key), 1)
        if not c.available:
            self.line(self.t("check_no_torch"), 1)
            return
        if c.output is not None:
            self.line(self.t("check_output", output=short_nested(c.output)), 1)
        self.check_details(c)
        diff = "—" if c.max_abs_diff is None else self.value(c.max_abs_diff)
        self.line(self.t("check_agree" if c.agree else "check_disagree", diff=diff), 1)


def short_nested(a: np.ndarray, limit: int = 64) -> str:
    """A nested list like PyTorch prints it, elided when it has more than ``limit`` values."""
    if a.size <= limit:
        return fmt_nested(a)
    return fmt_nested(a.reshape(-1)[:limit])[:-1] + ", …]"
