"""The transport interface: what the client needs from a network, and nothing more."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod

from ..errors import RequestTimeout


class WebSocket(ABC):
    """A text-frame WebSocket. `recv` returns ``None`` once the socket is closed."""

    @abstractmethod
    async def send(self, text: str) -> None: ...

    @abstractmethod
    async def recv(self, timeout: float) -> str | None:
        """The next text frame; raises `RequestTimeout` if none arrives within `timeout` s."""

    @abstractmethod
    async def close(self) -> None: ...


class QueuedWebSocket(WebSocket):
    """A WebSocket whose frames arrive through callbacks into a queue (`None` marks the end)."""

    def __init__(self) -> None:
        self._frames: asyncio.Queue[str | None] = asyncio.Queue()

    async def recv(self, timeout: float) -> str | None:
        try:
            return await asyncio.wait_for(self._frames.get(), timeout)
        except TimeoutError:
            raise RequestTimeout(f"no WebSocket message within {timeout:g} s") from None


class Transport(ABC):
    @abstractmethod
    async def post(self, url: str, body: str, timeout: float) -> tuple[int, str]:
        """POST `body`; return (HTTP status, response text).

        Raises `ConnectionFailed` when the server cannot be reached and `RequestTimeout`
        when it does not answer within `timeout` seconds. Any HTTP status is returned, not raised.
        """

    @abstractmethod
    async def connect_ws(self, url: str, timeout: float) -> WebSocket: ...

    async def aclose(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Release pooled connections (a no-op where there are none)."""
