"""`EndWatcher`: learn when any of many processes ends, on two connections whatever their number.

Waiting on each process (`ColoniesClient.wait_for_end`) costs two WebSockets per process: a
map of a thousand would hold two thousand. Instead one `subscribeprocessesmsg` per end state
(SUCCESS, FAILED) hears every process of the executor type that gets there; the watcher keeps
those that are its own and reads each once (the signal carries the process as it was before its
output was stored). The server reads, then registers a subscriber, and a subscription is
re-made after its timeout, so an end can fall between: each watched process is also read on a
growing period (`FIRST_CHECK` doubling to `LAST_CHECK`; `UNHEARD_CHECK` when the server refuses
the subscriptions, which it does for a key that is not an executor's). That read also sees
CANCELLED, which the watcher does not subscribe to. When many are due at once and the processes
share a label (a map's job), one listing per end state (`getprocessesmsg` by label: the latest
100 that ended) replaces reading each, so a driver whose key may not subscribe (a user's, not an
executor's) still costs the server a few requests per period, not one per process.

The server hands each signal to ONE subscriber of the type and state, in turn (v1.9.12
`sendSignal`, its guard against a thundering herd of executors): two watchers of one type at once
(two maps, two drivers) each hear about half of the ends, and the reads find the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Self

from ..client import ColoniesClient
from ..errors import RPCError, ServerError
from ..objects import CANCELLED, FAILED, SUCCESS, Process

ENDED = (SUCCESS, FAILED, CANCELLED)
SUBSCRIPTION_SECONDS = 300  # the server closes a subscription after this; it is made again
FIRST_CHECK = 0.5
LAST_CHECK = 10.0
UNHEARD_CHECK = 0.5
READS_AT_ONCE = 16
LIST_FROM = 8  # this many due at once: list the label's ended processes instead of reading each
LISTED_AT_MOST = 100  # the server's cap on one getprocessesmsg
RESUBSCRIBE_PAUSE = 1.0  # after a subscription failed for want of the server


class EndWatcher:
    """``async with EndWatcher(...) as ends: ends.watch(pid); process = await ends.next()``."""

    def __init__(self, client: ColoniesClient, colonyname: str, executortype: str, prvkey: str, label: str = "") -> None:
        """`label`: what every watched process carries as label, if they share one."""
        self.client, self.colonyname, self.executortype, self.prvkey = client, colonyname, executortype, prvkey
        self.label = label
        self._due: dict[str, tuple[float, float]] = {}  # watched pid -> (next read at, period)
        self._heard: set[str] = set()  # watched pids a subscription said ended: read them now
        self._ended: asyncio.Queue[Process] = asyncio.Queue()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.listening = True  # False once the server refused the subscriptions: reads only

    async def __aenter__(self) -> Self:
        sent = [asyncio.Event(), asyncio.Event()]
        self._tasks = [asyncio.ensure_future(self._listen(state, ev)) for state, ev in zip((SUCCESS, FAILED), sent, strict=True)]
        self._tasks.append(asyncio.ensure_future(self._read_loop()))
        with contextlib.suppress(TimeoutError):  # an end after this is heard; one before it is read
            await asyncio.wait_for(asyncio.gather(*(ev.wait() for ev in sent)), self.client.timeout)
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def watch(self, processid: str, at_once: bool = False) -> None:
        """Watch `processid`; `at_once`: read it now (it may have ended long ago)."""
        self._due[processid] = (self._now() + (0 if at_once else FIRST_CHECK), FIRST_CHECK)
        self._wake.set()

    def forget(self, processid: str) -> None:
        self._due.pop(processid, None)
        self._heard.discard(processid)

    @property
    def watched(self) -> list[str]:
        return list(self._due)

    async def next(self) -> Process:
        """The next watched process that ended (SUCCESS, FAILED or CANCELLED), with its output."""
        return await self._ended.get()

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()

    def _signalled(self, process: Process) -> None:
        if process.processid in self._due:
            self._heard.add(process.processid)
            self._wake.set()

    async def _listen(self, state: int, sent: asyncio.Event) -> None:
        try:
            while True:
                try:
                    await self.client.subscribe_processes(
                        self.colonyname, self.executortype, state, SUBSCRIPTION_SECONDS, self.prvkey, self._signalled, sent)
                except ServerError as exc:
                    if exc.status < 500:
                        self.listening = False  # refused (this key is no executor's): the reads carry on alone
                        return
                    await asyncio.sleep(RESUBSCRIBE_PAUSE)
                except RPCError:
                    await asyncio.sleep(RESUBSCRIBE_PAUSE)  # the server is away: the reads cover the gap
                # an end between the close and the next subscription is seen by a read
        finally:
            sent.set()

    async def _read_loop(self) -> None:
        while True:
            now = self._now()
            due = [pid for pid, (at, _) in self._due.items() if at <= now and pid not in self._heard]
            if self.label and len(due) >= LIST_FROM and await self._listed(due):
                continue
            batch = [*self._heard, *due][:READS_AT_ONCE]
            self._heard.difference_update(batch)
            if batch:
                await asyncio.gather(*(self._read(pid) for pid in batch))
                continue
            self._wake.clear()
            soonest = min((at for at, _ in self._due.values()), default=now + LAST_CHECK)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(soonest - now, 0.01))

    async def _listed(self, due: list[str]) -> bool:
        """Look for the due processes among the label's latest ended ones. False when a listing
        failed or came back full (some may be further down it): then each is read."""
        found: dict[str, Process] = {}
        for state in ENDED:
            try:
                listed = await self.client.get_processes(self.colonyname, LISTED_AT_MOST, state, self.prvkey, label=self.label)
            except RPCError:
                return False
            if len(listed) >= LISTED_AT_MOST:
                return False
            found.update((p.processid, p) for p in listed)
        for pid in due:
            if pid in found and (found[pid].state != FAILED or found[pid].errors):  # else its errors are not stored yet
                self._deliver(found[pid])
            elif pid in self._due:
                self._later(pid)
        return True

    def _deliver(self, process: Process) -> None:
        if self._due.pop(process.processid, None) is not None:
            self._ended.put_nowait(process)

    def _later(self, processid: str) -> None:
        _, period = self._due[processid]
        period = min(period * 2, LAST_CHECK if self.listening else UNHEARD_CHECK)
        self._due[processid] = (self._now() + period, period)

    async def _read(self, processid: str) -> None:
        try:
            process = await self.client.get_process(processid, self.prvkey)
        except RPCError:
            process = None  # read again at its next turn
        if processid not in self._due:
            return  # forgotten while it was read
        if process is not None and process.state in ENDED:
            self._deliver(process)
        else:
            self._later(processid)
