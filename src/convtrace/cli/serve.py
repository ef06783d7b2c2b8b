"""``convtrace serve``: the local interactive explorer (FastAPI + uvicorn, the ``web`` extra).

It binds 127.0.0.1 unless another ``--host`` is asked for explicitly.

>>> from convtrace.cli import build_parser
>>> args = build_parser().parse_args(["serve"])
>>> args.host, args.port, args.open
('127.0.0.1', 8765, False)
"""

from __future__ import annotations

import argparse
import sys

from .base import EXIT_INVALID, Parser

__all__ = ["register", "DEFAULT_HOST", "DEFAULT_PORT"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def register(sub: argparse._SubParsersAction[Parser]) -> None:
    """Add ``serve`` to the command line."""
    p = sub.add_parser(
        "serve",
        help="open the interactive explorer in a browser (local web page)",
        description="Serve the convtrace explorer: every Conv1d / ConvTranspose1d parameter, a step "
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
        port = _free_port(args.host, args.port)
    except OSError as err:
        print(f"convtrace: cannot listen on {args.host}:{args.port}: {err.strerror or err}", file=sys.stderr)
        return EXIT_INVALID
    url = f"http://{'[' + args.host + ']' if ':' in args.host else args.host}:{port}/"
    if args.open:
        _open_later(url)
    print(f"convtrace explorer on {url} (Ctrl-C stops it)", file=sys.stderr)
    uvicorn.run(create_app(), host=args.host, port=port, log_level="warning")
    return 0


def _free_port(host: str, port: int) -> int:
    """``port`` if it is free on ``host`` (else ``OSError``), or for 0 a free one, so that the
    printed address is right and a busy port gets a clear message."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as s:
        s.bind((host, port))
        return int(s.getsockname()[1])


def _open_later(url: str) -> None:
    """Open ``url`` in a browser once the server has had a moment to start."""
    import threading
    import webbrowser

    threading.Timer(1.0, webbrowser.open, args=(url,)).start()
