"""The one seam between the client and the network.

`Transport` has two jobs: POST a body and return (status, text), and open a WebSocket.
`NativeTransport` (aiohttp) serves CPython; `PyodideTransport` (JS fetch/WebSocket through
pyodide.ffi) serves the browser; `MockTransport` (a handler function) serves unit tests.
`default_transport()` picks once, at run time, from where it runs; the client above never
knows which one it has.
"""

from __future__ import annotations

from .._compat import in_pyodide
from .base import Transport, WebSocket

__all__ = ["Transport", "WebSocket", "default_transport"]


def default_transport() -> Transport:
    if in_pyodide():
        from .pyodide import PyodideTransport

        return PyodideTransport()
    from .native import NativeTransport

    return NativeTransport()
