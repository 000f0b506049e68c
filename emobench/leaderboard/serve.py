"""Local preview of a built site: a static file server bound to 127.0.0.1 only."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

from emobench.errors import EmobenchError


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 -- the stdlib's signature
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):  # a browser closing early is not an error
            super().handle_error(request, client_address)


def make_server(site_dir: str | Path, port: int = 0, *, quiet: bool = True) -> _Server:
    """A server for ``site_dir`` on 127.0.0.1 (``port=0`` picks a free port); call ``serve_forever``."""
    site = Path(site_dir)
    if not (site / "index.html").is_file():
        raise EmobenchError(f"{site} has no index.html; build it first: emobench leaderboard build --out {site}")
    handler = functools.partial(_QuietHandler if quiet else http.server.SimpleHTTPRequestHandler,
                                directory=str(site))
    try:
        return _Server(("127.0.0.1", port), handler)
    except OSError as exc:
        raise EmobenchError(f"cannot serve on 127.0.0.1:{port} ({exc.strerror or exc}); pick another --port") from exc


def start_background(site_dir: str | Path, port: int = 0) -> tuple[_Server, str]:
    """Serve in a daemon thread (tests, notebooks); returns the server and its base URL. Call ``shutdown()``."""
    server = make_server(site_dir, port)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def serve(site_dir: str | Path, port: int = 8000, *, on_ready=None) -> None:
    """Serve until interrupted (Ctrl-C)."""
    server = make_server(site_dir, port, quiet=False)
    if on_ready:
        on_ready(f"http://127.0.0.1:{server.server_address[1]}/")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
