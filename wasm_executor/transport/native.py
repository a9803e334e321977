"""CPython transport on aiohttp: one pooled session, so connections are reused across calls.

aiohttp is the well-kept asyncio library that does both HTTP and WebSocket clients; the
standard library has no async HTTP client and no WebSocket client at all.
"""

from __future__ import annotations

import aiohttp

from ..errors import ConnectionFailed, RequestTimeout
from .base import Transport, WebSocket


class _AiohttpWebSocket(WebSocket):
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws

    async def send(self, text: str) -> None:
        try:
            await self._ws.send_str(text)
        except (aiohttp.ClientError, ConnectionError) as exc:
            raise ConnectionFailed(f"WebSocket send failed: {exc}") from exc

    async def recv(self, timeout: float) -> str | None:
        try:
            msg = await self._ws.receive(timeout=timeout)
        except TimeoutError:
            raise RequestTimeout(f"no WebSocket message within {timeout:g} s") from None
        if msg.type == aiohttp.WSMsgType.TEXT:
            return str(msg.data)
        if msg.type == aiohttp.WSMsgType.BINARY:
            return bytes(msg.data).decode("utf-8")
        return None  # CLOSE, CLOSING, CLOSED or ERROR: the stream is over

    async def close(self) -> None:
        await self._ws.close()


class NativeTransport(Transport):
    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def post(self, url: str, body: str, timeout: float) -> tuple[int, str]:
        session = self._get_session()
        try:
            async with session.post(
                url,
                data=body.encode("utf-8"),
                headers={"Content-Type": "text/plain"},
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as resp:
                return resp.status, await resp.text()
        except TimeoutError:
            raise RequestTimeout(f"no answer from {url} within {timeout:g} s") from None
        except (aiohttp.ClientError, OSError) as exc:
            raise ConnectionFailed(f"cannot reach {url}: {exc}") from exc

    async def connect_ws(self, url: str, timeout: float) -> WebSocket:
        session = self._get_session()
        try:
            ws = await session.ws_connect(url, timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=timeout))
        except TimeoutError:
            raise RequestTimeout(f"WebSocket {url} did not open within {timeout:g} s") from None
        except (aiohttp.ClientError, OSError) as exc:
            raise ConnectionFailed(f"cannot open WebSocket {url}: {exc}") from exc
        return _AiohttpWebSocket(ws)

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None
