"""`ChannelWriter`: a streaming function's items into its process's channel, in order, off the slot's path.

Items arrive from the slot (JSON text) while the function runs; each is appended to the channel
(`channel_append`, sequence 1, 2, …) by one task, so the function never waits on the network.
Trouble on the way is retried with the executor's backoff; a refusal (the channel is gone: the
process was cancelled) stops the stream, never the process. `finish` ends the stream with an
"end" entry, or an "error" entry that carries the process's error, before the process is closed.
Whoever reads the stream can always fall back on the process's output, which holds every item.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from .. import remote
from ..client import ColoniesClient
from ..errors import RPCError
from ..retry import Retry, Stopped


class ChannelWriter:
    def __init__(self, client: ColoniesClient, processid: str, channel: str, prvkey: str, retry: Callable[[], Retry]) -> None:
        self.client, self.processid, self.channel, self.prvkey = client, processid, channel, prvkey
        self._retry = retry
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._task = asyncio.ensure_future(self._drain())
        self.sequence = 0
        self.broken = ""  # why the stream stopped early, if it did

    def put(self, item: str) -> None:
        self._queue.put_nowait(item)

    async def _append(self, data: str, kind: str = "") -> None:
        if self.broken:
            return
        self.sequence += 1
        sequence = self.sequence
        try:
            await self._retry().run(
                lambda: self.client.channel_append(self.processid, self.channel, sequence, data, kind, 0, self.prvkey))
        except (RPCError, Stopped) as exc:
            self.broken = str(exc) or type(exc).__name__

    async def _drain(self) -> None:
        while (item := await self._queue.get()) is not None:
            await self._append(item)

    async def finish(self, ok: bool, error: str = "") -> None:
        """Every item appended, then the end (or the error) marked."""
        self._queue.put_nowait(None)
        await self._task
        await self._append("" if ok else error, remote.END if ok else remote.ERROR)
