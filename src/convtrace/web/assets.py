"""The explorer's front end as shipped in ``static/``: one shared ES module
(``explorer.js``), its extensions and a small adapter per host (``app.js``: the page, fetching
from the FastAPI API; ``widget.js``: the notebook widget, asking the kernel). A host loads
them as one module text (:func:`module_text`): the page inline, the widget as anywidget's
``_esm`` (a module loaded from a string cannot import its neighbours).

>>> "export function mount(" in module_text("widget.js")
True
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

__all__ = ["SHARED", "EXTENSIONS", "static_path", "static_text", "module_text"]

#: the shared front end: every host runs it
SHARED = "explorer.js"
#: extensions of the shared module, loaded after it and before the host's adapter: each calls
#: ``registerPanel`` (the hook point of explorer.js); add a new file's name here
EXTENSIONS: tuple[str, ...] = ("stream.js",)  # stream.js: the streaming switch (issue 19)

#: a sibling import (``import { mount } from "./explorer.js";``, ``import "./stream.js";``):
#: the files are joined into one module, where those names are already defined
_SIBLING_IMPORT = re.compile(r'^import\s+(?:[^;]*?\s+from\s+)?"\./[\w.-]+\.js";[ \t]*\n', re.M)


def static_path(name: str) -> Path:
    """The path of the shipped static file ``name`` (in the installed package).

    >>> static_path("style.css").name
    'style.css'
    """
    return Path(str(resources.files(__package__).joinpath("static").joinpath(name)))


def static_text(name: str) -> str:
    """The text of the shipped static file ``name``."""
    return static_path(name).read_text(encoding="utf-8")


def module_text(adapter: str) -> str:
    """The one ES module a host runs: the shared module, the extensions, then the host's
    ``adapter`` (``"app.js"`` or ``"widget.js"``), their sibling imports dropped."""
    parts = [static_text(name) for name in (SHARED, *EXTENSIONS, adapter)]
    return "\n".join(_SIBLING_IMPORT.sub("", part) for part in parts)
