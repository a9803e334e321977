"""Browser transport: JS `fetch` and `WebSocket` through pyodide.ffi (reached via `_compat`).

Async fetch keeps the page (or worker) responsive during a long-poll; synchronous XHR would
freeze the thread for the whole poll. A cancelled request is aborted (AbortController), so the
server sees the connection close and does not hand a process to a poll nobody reads.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .._compat import create_proxy, js_error_name, js_exception_type, js_global, page_post, to_js_object
from ..errors import ConnectionFailed, RequestTimeout
from .base import QueuedWebSocket, Transport, WebSocket


class _JsWebSocket(QueuedWebSocket):
    def __init__(self, url: str) -> None:
        loop = asyncio.get_event_loop()
        super().__init__()
        self.opened: asyncio.Future[None] = loop.create_future()
        self._ws: Any = js_global().WebSocket.new(url)

        def on_open(_event: Any) -> None:
            if not self.opened.done():
                self.opened.set_result(None)

        def on_message(event: Any) -> None:
            self._frames.put_nowait(str(event.data))

        def on_close(_event: Any) -> None:
            if not self.opened.done():
                self.opened.set_exception(ConnectionFailed(f"cannot open WebSocket {url}"))
            self._frames.put_nowait(None)

        self._proxies = {
            "open": create_proxy(on_open),
            "message": create_proxy(on_message),
            "close": create_proxy(on_close),
        }
        for kind, proxy in self._proxies.items():
            self._ws.addEventListener(kind, proxy)

    async def send(self, text: str) -> None:
        try:
            self._ws.send(text)
        except Exception as exc:  # a JsException: socket not open
            raise ConnectionFailed(f"WebSocket send failed: {exc}") from exc

    async def close(self) -> None:
        self._ws.close()
        for kind, proxy in self._proxies.items():
            self._ws.removeEventListener(kind, proxy)
            proxy.destroy()
        self._proxies = {}


class PyodideTransport(Transport):
    def __init__(self) -> None:
        self._page_post = page_post()

    async def post(self, url: str, body: str, timeout: float) -> tuple[int, str]:
        if self._page_post is not None:
            return await self._post_via_page(url, body, timeout)
        js = js_global()
        controller = js.AbortController.new()  # aborts when the caller cancels us
        deadline = js.AbortSignal.timeout(int(timeout * 1000))
        options = to_js_object(
            {
                "method": "POST",
                "body": body,
                # text/plain keeps this a "simple" CORS request: no preflight round trip.
                "headers": {"Content-Type": "text/plain"},
            }
        )
        options.signal = js.AbortSignal.any(to_js_object([controller.signal, deadline]))
        try:
            response = await js.fetch(url, options)
            text = await response.text()
        except asyncio.CancelledError:
            controller.abort()  # the caller gave up (stop): close the connection, do not just forget it
            raise
        except js_exception_type() as exc:
            raise _failure(exc, url, timeout) from None
        return int(response.status), str(text)

    async def _post_via_page(self, url: str, body: str, timeout: float) -> tuple[int, str]:
        """The same request in one FFI call (web/net.mjs): the executor worker's hot path."""
        request = self._page_post(url, body, int(timeout * 1000))
        try:
            reply = str(await request.promise)
        except asyncio.CancelledError:
            request.abort()
            raise
        except js_exception_type() as exc:
            raise _failure(exc, url, timeout) from None
        status, _, text = reply.partition(" ")
        return int(status), text

    async def connect_ws(self, url: str, timeout: float) -> WebSocket:
        ws = _JsWebSocket(url)
        try:
            await asyncio.wait_for(asyncio.shield(ws.opened), timeout)
        except TimeoutError:
            await ws.close()
            raise RequestTimeout(f"WebSocket {url} did not open within {timeout:g} s") from None
        return ws


def _failure(exc: BaseException, url: str, timeout: float) -> Exception:
    if js_error_name(exc) in ("TimeoutError", "AbortError"):
        return RequestTimeout(f"no answer from {url} within {timeout:g} s")
    return ConnectionFailed(f"cannot reach {url}: {exc}")
