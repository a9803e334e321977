"""A TCP pass-through to the real server that a test can cut and restore (a network outage on
demand), slow down (each reply held back `delay` seconds) or make cut replies in the middle."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from urllib.parse import urlparse


class OutageProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.delay = 0.0  # seconds each chunk from the server is held back
        self.truncate = False  # pass half of a reply's first chunk, then drop the connection

    @classmethod
    async def started_for(cls, server_url: str) -> OutageProxy:
        """A running proxy in front of the server at `server_url`."""
        target = urlparse(server_url)
        proxy = cls(target.hostname or "127.0.0.1", target.port or 80)
        await proxy.start()
        return proxy

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Refuse new connections and drop open ones (a long-poll in flight breaks)."""
        if self._server:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for w in list(self._writers):
            w.close()
        self._writers.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, replies: bool) -> None:
            with contextlib.suppress(Exception):
                while data := await src.read(65536):
                    if replies and self.delay:
                        await asyncio.sleep(self.delay)
                    if replies and self.truncate:
                        dst.write(data[: max(1, len(data) // 2)])
                        await dst.drain()
                        writer.close()
                        up_writer.close()
                        return
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer, False), pipe(up_reader, writer, True))
        self._writers -= {writer, up_writer}


async def slow_cut_and_flapping(
    proxy: OutageProxy, submit: Callable[[int], Awaitable[None]], late: float = 3.0, slow_for: float = 8.0,
) -> None:
    """The fault matrix's network faults in turn, work submitted during each: every reply `late` s
    late (past the client's timeout) for `slow_for` s, every reply cut in the middle for 4 s, then
    five 1 s flaps."""
    proxy.delay = late
    await submit(10)
    await asyncio.sleep(slow_for)
    proxy.delay = 0.0
    proxy.truncate = True
    await submit(10)
    await asyncio.sleep(4)
    proxy.truncate = False
    for _ in range(5):
        await submit(4)
        await proxy.cut()
        await asyncio.sleep(1)
        await proxy.start()
        await asyncio.sleep(1)
