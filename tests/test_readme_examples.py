"""The README's doctest blocks (a ``python`` fence after ``<!-- doctest: ... -->``) run and
print what the README says."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _doctest_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    return re.findall(r"<!-- doctest:[^>]*-->\n```python\n(.*?)```", text, flags=re.S)


def test_the_readme_has_a_doctest_block() -> None:
    assert _doctest_blocks(), "the pooling section's examples are written as a doctest"


def test_readme_doctest_blocks_print_what_they_say() -> None:
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for number, block in enumerate(_doctest_blocks()):
        test = parser.get_doctest(block, {}, f"README block {number}", str(README), 0)
        runner.run(test)
    assert runner.failures == 0 and runner.tries > 0
