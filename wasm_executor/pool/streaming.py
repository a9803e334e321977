"""How `Pool.stream`'s items reach the submitter while the process runs: its channel.

The executor appends each item (sequence 1, 2, …, then an "end" or "error" entry; see
`engine/stream.py`). A ColonyOS channel lives in one server's memory: with replicas (v1.9.12),
each replica keeps its own copy of a channel and only the one the executor's append reached has
the item. So a submitter given the replicas' URLs listens on all of them and puts what comes in
sequence order; behind a load balancer it listens where the balancer sends it, and the items
that never reach it come from the process's output when it ends. The stream is always a prefix
read live and the rest from the output, never out of order and never twice; `Delivery` says
how much came which way.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass

from ..client import ColoniesClient
from ..errors import RequestTimeout, RPCError
from ..objects import CANCELLED, FAILED, RUNNING, SUCCESS, ChannelEntry, Process
from ..remote import END, ERROR, STREAM_CHANNEL

log = logging.getLogger(__name__)

SUBSCRIBE_FOR = 30  # seconds a channel subscription stays open before we look at the process again


@dataclass
class Delivery:
    """Where a stream's items came from: `live` through the channel, `at_end` from the output."""

    processid: str
    live: int = 0
    at_end: int = 0
    servers: int = 1  # the servers listened on

    def __str__(self) -> str:
        where = f"{self.servers} servers" if self.servers > 1 else "the server"
        if not self.at_end:
            return f"stream {self.processid}: {self.live} item(s), all live through the channel ({where})"
        return (f"stream {self.processid}: {self.live} item(s) live, {self.at_end} from the output when the process"
                f" ended (the channel on {where} did not have them: a quick process, a dropped connection, or"
                " a replica other than the executor's)")


class InOrder:
    """Channel entries from one or several servers, passed on as 1, 2, 3, … until the end."""

    def __init__(self, items: asyncio.Queue[tuple[bool, object]]) -> None:
        self.after = 0  # the last sequence passed on
        self.ended = False
        self._early: dict[int, ChannelEntry] = {}  # arrived before the ones in front of them
        self._items = items

    def take(self, entries: list[ChannelEntry]) -> bool:
        """Pass on what is next in sequence; False (stop listening) once the end or the error is there."""
        for entry in entries:
            if entry.sequence > self.after:
                self._early[entry.sequence] = entry
        while not self.ended and self.after + 1 in self._early:
            entry = self._early.pop(self.after + 1)
            self.after = entry.sequence
            if entry.type in (END, ERROR):
                self.ended = True
            else:
                self._items.put_nowait((False, json.loads(entry.payload_bytes())))
        return not self.ended


def listeners(client: ColoniesClient) -> list[ColoniesClient]:
    """One client per server given (sharing the connection pool), or the client itself."""
    if not client.servers.several:
        return [client]
    return [ColoniesClient(url, transport=client.transport, timeout=client.timeout) for url in client.servers.urls]


async def read_stream(
    client: ColoniesClient, prvkey: str, process: Process, items: asyncio.Queue[tuple[bool, object]],
) -> None:
    """Put the channel's items in `items` until the stream ends or the process does; then (True, None)."""
    order = InOrder(items)
    try:
        while not order.ended:
            current = await client.get_process(process.processid, prvkey)
            if current.state in (SUCCESS, FAILED, CANCELLED):
                return
            if current.state != RUNNING:  # the channel exists once an executor has the process
                with contextlib.suppress(RequestTimeout):
                    await client.subscribe_process(process, RUNNING, 10, prvkey)
                continue
            await _listen(listeners(client), process.processid, prvkey, order)
            if not order.ended:
                await asyncio.sleep(0.5)  # the channel is gone (the process ended) or a server is away: look again
    finally:
        items.put_nowait((True, None))


async def _listen(clients: list[ColoniesClient], processid: str, prvkey: str, order: InOrder) -> None:
    """Subscribe on each server until the end arrives on one, or every subscription is over."""

    async def one(c: ColoniesClient) -> None:
        with contextlib.suppress(RPCError):
            await c.subscribe_channel(processid, STREAM_CHANNEL, order.after, SUBSCRIBE_FOR, prvkey, order.take)

    pending = {asyncio.ensure_future(one(c)) for c in clients}
    try:
        while pending and not order.ended:
            _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
