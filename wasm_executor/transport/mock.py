"""`MockTransport`: the network replaced by a function, for fast tests of the rules above it.

httpx's `MockTransport(handler)` is the model. The handler sees each request decoded as the
server would see it (message type, payload, and the signer's ID recovered from the signature)
and answers with a payload. It raises `ServerError(message, status)` for an error reply, or a
`TransportError` to play a network failure; it may be async, to hold a long-poll.

    def handler(request: Request) -> Any:
        if request.msgtype == "assignprocessmsg":
            raise ServerError("No process available for assignment", 404)
        return None

    client = ColoniesClient("http://mock", transport=MockTransport(handler))
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ..crypto import recid
from ..envelope import build_error_reply, build_reply, parse_request
from ..errors import ConnectionFailed, RequestTimeout, ServerError
from .base import QueuedWebSocket, Transport, WebSocket


@dataclass
class Request:
    msgtype: str
    payload: dict[str, Any]
    b64: str = field(repr=False)
    signature: str = field(repr=False)

    @cached_property
    def signer(self) -> str:
        """The ID of the key that signed this request (recovered as the server does it)."""
        return recid(self.b64, self.signature)


Handler = Callable[[Request], Any | Awaitable[Any]]
# A subscription handler yields the payloads the server would push, then returns (socket closed).
WsHandler = Callable[[Request], AsyncIterator[Any]]


class _MockWebSocket(QueuedWebSocket):
    def __init__(self, ws_handler: WsHandler) -> None:
        self._handler = ws_handler
        super().__init__()
        self._pump: asyncio.Task[None] | None = None

    async def send(self, text: str) -> None:
        msgtype, payload, b64, signature = parse_request(text)

        async def pump() -> None:
            try:
                async for item in self._handler(Request(msgtype, payload, b64, signature)):
                    self._frames.put_nowait(build_reply(msgtype, item))
            finally:
                self._frames.put_nowait(None)

        self._pump = asyncio.ensure_future(pump())

    async def close(self) -> None:
        if self._pump is not None:
            self._pump.cancel()


class MockTransport(Transport):
    def __init__(self, handler: Handler, ws_handler: WsHandler | None = None) -> None:
        self.handler = handler
        self.ws_handler = ws_handler
        self.requests: list[Request] = []

    async def post(self, url: str, body: str, timeout: float) -> tuple[int, str]:
        request = Request(*parse_request(body))
        self.requests.append(request)
        try:
            result = self.handler(request)
            if inspect.isawaitable(result):
                result = await asyncio.wait_for(result, timeout)
        except TimeoutError:
            raise RequestTimeout(f"no answer from {url} within {timeout:g} s") from None
        except ServerError as exc:
            return exc.status, build_error_reply(exc.status, exc.message)
        return 200, build_reply(request.msgtype, result)

    async def connect_ws(self, url: str, timeout: float) -> WebSocket:
        if self.ws_handler is None:
            raise ConnectionFailed(f"cannot open WebSocket {url}: the mock has no subscription handler")
        return _MockWebSocket(self.ws_handler)
