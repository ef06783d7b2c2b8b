"""``convtrace serve``: the local interactive explorer (FastAPI + uvicorn, the ``web`` extra).

It binds 127.0.0.1 unless another ``--host`` is asked for explicitly.

>>> from convtrace.cli import build_parser
>>> args = build_parser().parse_args(["serve"])
>>> args.host, args.port, args.open
('127.0.0.1', 8765, False)
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from .base import EXIT_INVALID, Parser

if TYPE_CHECKING:
    import socket

__all__ = ["register", "listening_socket", "DEFAULT_HOST", "DEFAULT_PORT"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def register(sub: argparse._SubParsersAction[Parser]) -> None:
    """Add ``serve`` to the command line."""
    p = sub.add_parser(
        "serve",
        help="open the interactive explorer in a browser (local web page)",
        description="Serve the convtrace explorer: every Conv1d / ConvTranspose1d and pooling parameter, a step "
        "scrubber, the length formula, PyTorch's verdict and a copyable snippet. Works offline. "
        "Needs the web extra (pip install 'convtrace[web]').",
        epilog="examples:\n  convtrace serve --open\n  convtrace serve --port 9000\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--host", default=DEFAULT_HOST, help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 picks a free one)")
    p.add_argument("--open", action="store_true", help="open the page in the default browser")
    p.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        print(f"convtrace: invalid configuration\n  port={args.port}: must be in [0, 65535]", file=sys.stderr)
        return EXIT_INVALID
    try:
        import uvicorn

        from ..web.app import create_app
    except ImportError as exc:
        print(f"convtrace: the explorer needs the web extra: pip install 'convtrace[web]' ({exc})", file=sys.stderr)
        return EXIT_INVALID
    try:
        sock = listening_socket(args.host, args.port)
    except OSError as err:
        print(f"convtrace: cannot listen on {args.host}:{args.port}: {err.strerror or err}", file=sys.stderr)
        return EXIT_INVALID
    port = int(sock.getsockname()[1])
    url = f"http://{'[' + args.host + ']' if ':' in args.host else args.host}:{port}/"
    if args.open:
        _open_later(url)
    print(f"convtrace explorer on {url} (Ctrl-C stops it)", file=sys.stderr, flush=True)
    uvicorn.Server(uvicorn.Config(create_app(), log_level="warning")).run(sockets=[sock])
    return 0


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host``:``port`` (for 0, a free port the system picks), so that the
    printed address is the one served and a busy port gets a clear message (``OSError``).
    The server is handed this very socket: no other program can take the port in between.
    As uvicorn does, a port some connections to a stopped server still hold (TIME_WAIT) is
    reused at once (``SO_REUSEADDR``, not on Windows where it would share a busy port).

    >>> with listening_socket("127.0.0.1", 0) as s:
    ...     s.getsockname()[1] > 0
    True
    """
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        if os.name != "nt":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def _open_later(url: str) -> None:
    """Open ``url`` in a browser once the server has had a moment to start."""
    import threading
    import webbrowser

    threading.Timer(1.0, webbrowser.open, args=(url,)).start()
