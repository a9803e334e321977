"""Serving the bundle: the one server for `build.py serve`, the demo and the tests.

It sends the cross-origin isolation headers (COOP/COEP), which give the page SharedArrayBuffer
and so Pyodide's interrupt buffer: a deadline stops pure-Python code without killing the slot.
`isolate=False` serves without them (tests prove the terminate-and-replace path). No directory
listings. `python -m tools.serve --port 8000` runs it in the foreground.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from .layout import HOST, SERVE_PORT, WEB_OUT

ISOLATION_HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
}
# Where the page may connect: its own origin plus these. Loopback on any port by default (the
# local ColonyOS, and the outage proxies of the tests); `serve --connect URL` names a server.
DEFAULT_CONNECT = ("http://127.0.0.1:*", "ws://127.0.0.1:*")


def content_security_policy(connect: tuple[str, ...] = DEFAULT_CONNECT) -> str:
    """The page's CSP (also sent for its workers): scripts only from the origin, no eval but
    WebAssembly's, no plugins, no <base>, no framing, and Trusted Types (web/trusted.mjs)."""
    return "; ".join([
        "default-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval'",
        f"connect-src 'self' {' '.join(connect)}",
        "img-src 'self' data:",
        "style-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
        "require-trusted-types-for 'script'",
        "trusted-types wasm-executor",
    ])


def ws_twin(url: str) -> str:
    """connect-src lists WebSocket origins apart: http://h:p -> ws://h:p."""
    return "ws" + url[4:] if url.startswith("http") else url


class BundleHandler(http.server.SimpleHTTPRequestHandler):
    isolate = True
    csp = content_security_policy()

    def end_headers(self) -> None:
        if self.isolate:
            for name, value in ISOLATION_HEADERS.items():
                self.send_header(name, value)
        self.send_header("Content-Security-Policy", self.csp)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def list_directory(self, path: str | Path):  # type: ignore[no-untyped-def]
        self.send_error(404, "Not found")
        return None

    def log_message(self, *_args: object) -> None:
        pass


class BundleServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: tuple[str, int]) -> None:
        # A page closed mid-download resets its connections: nothing to report. Anything else is.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def make_server(
    port: int, isolate: bool = True, directory: Path = WEB_OUT, connect: tuple[str, ...] = DEFAULT_CONNECT,
) -> http.server.ThreadingHTTPServer:
    if not (directory / "index.html").exists():
        raise RuntimeError(f"{directory} has no bundle: run `python build.py build`")
    attrs = {"isolate": isolate, "csp": content_security_policy(connect)}
    handler = functools.partial(type("Handler", (BundleHandler,), attrs), directory=str(directory))
    try:
        return BundleServer((HOST, port), handler)
    except OSError as exc:
        raise RuntimeError(f"cannot serve on {HOST}:{port} ({exc.strerror}): choose another with --port N") from None


@contextlib.contextmanager
def serve_bundle(port: int = 0, isolate: bool = True) -> Iterator[str]:
    """Serve dist/web on 127.0.0.1 from a thread; yields the page URL."""
    server = make_server(port, isolate)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{HOST}:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.serve")
    parser.add_argument("--port", type=int, default=SERVE_PORT)
    parser.add_argument("--connect", action="append", metavar="URL",
                        help="a ColonyOS server the page may call (repeatable); default: any port on 127.0.0.1")
    args = parser.parse_args()
    connect = tuple(u for url in args.connect for u in (url.rstrip("/"), ws_twin(url.rstrip("/")))) if args.connect else DEFAULT_CONNECT
    try:
        server = make_server(args.port, connect=connect)
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"serving {WEB_OUT} on http://{HOST}:{args.port}/ (Ctrl-C to stop)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
