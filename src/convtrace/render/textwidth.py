"""Text in a terminal: display widths (a Chinese character takes two columns) and wrapping
to a width, for every text renderer and the command line's help (no heavy imports)."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["display_width", "display_wrap"]


def display_width(s: str) -> int:
    """Display width in a terminal: CJK characters take two columns.

    >>> display_width("卷积 k=3")
    8
    """
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


#: the units a line is broken between: a Chinese character or a word (with the spaces after
#: it), each with the opening marks before it and the closing marks after it; or spaces
_OPENING = "（【「『《〈“‘(["
_CLOSING = "）】」』》〉”’，。、；：！？,.;:!?)]"
_PIECE = re.compile(
    rf"[{re.escape(_OPENING)}]*(?:[\u2e80-\uffef]|[^\s\u2e80-\uffef]+)"
    rf"[{re.escape(_CLOSING)}]*\s*|\s+"
)


def display_wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` display columns (Chinese characters count 2):
    broken at spaces, or between Chinese characters, but never before a closing mark nor
    after an opening one (``）``, ``，``, ``。`` do not start a line, ``（`` does not end one).

    >>> display_wrap("one two three", 8)
    ['one two', 'three']
    >>> display_wrap("逐步讲解一个卷积", 8)
    ['逐步讲解', '一个卷积']
    >>> display_wrap("讲解（一个）卷积", 10), display_wrap("一个（卷积", 6)
    (['讲解（一', '个）卷积'], ['一个', '（卷积'])
    """
    lines: list[str] = []
    line = ""
    for piece in _PIECE.findall(text):
        if line and display_width(line + piece.rstrip()) > width:
            lines.append(line.rstrip())
            line = piece.lstrip()
        else:
            line += piece
    if line.strip():
        lines.append(line.rstrip())
    return lines or [""]
