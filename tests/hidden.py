"""Python source that makes a package unimportable, as if it were not installed: run first
in a child process (as its ``sitecustomize``, or at the head of a ``python -c`` script), for
the tests of what convtrace says when an optional dependency is missing."""

from __future__ import annotations


def hiding(module: str) -> str:
    """The source of a meta-path finder that refuses ``module`` and its submodules.

    >>> "sys.meta_path.insert(0, _Hide())" in hiding("torch")
    True
    """
    return f"""\
import sys


class _Hide:
    def find_spec(self, name, path=None, target=None):
        if name == {module!r} or name.startswith({module + "."!r}):
            raise ModuleNotFoundError("No module named {module!r} (hidden for this test)", name={module!r})
        return None


sys.meta_path.insert(0, _Hide())
"""
