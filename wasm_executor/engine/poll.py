"""One assign at a time: what the executor declares free, and what the server's answer means.

- Each assign declares what is free (`resources`): a process asking for more is not handed to us.
- A paused colony (`colonies process pause`) is its own state, not an outage: the server holds
  the poll until resume (then 408), and the next poll goes out without backoff. Chromium's fetch
  retries a 408 by itself until our own timeout, so a page asks the server (`get_pause_status`)
  after a poll that timed out or came back empty.
- A poll that broke in transit, or that the server answered with a 5xx (seen: a panic resolving a
  workflow after the assign was committed), makes us `suspect` a process assigned to us that we
  never received: the executor looks for it at once.
- 403: we are no longer a member (removed, rejected, unregistered after a long silence): join again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from ..errors import RequestTimeout, RPCError, ServerError, TransportError
from ..events import State
from ..objects import Process
from ..resources import cpu_text, mem_text
from ..retry import Stopped, pause
from .config import Session
from .membership import Membership
from .report import Reporter

PAUSED_DETAIL = "paused by the colony's admin; serving again as soon as it is resumed"


class Poller:
    def __init__(
        self, session: Session, timeout: int, report: Reporter, membership: Membership, stop: asyncio.Event,
        slot_memory_mib: Callable[[], int],
    ) -> None:
        self.session, self.timeout, self.report, self.membership = session, timeout, report, membership
        self._stop, self._slot_memory_mib = stop, slot_memory_mib
        self.suspect = False

    async def poll(
        self, free_slots: int, until_stopped: Callable[[Awaitable[Any]], Awaitable[Any]],
    ) -> tuple[Process | None, Exception | None]:
        """One assign: (the process or None, the error to back off on or None). `Stopped` when stopped."""
        s = self.session
        free_cpu, free_mem = cpu_text(free_slots), mem_text(self._slot_memory_mib())
        try:
            process = await until_stopped(s.client.assign(s.colonyname, self.timeout, s.prvkey, free_cpu, free_mem))
        except ServerError as exc:
            if exc.paused:
                self.report.set_state(State.PAUSED, PAUSED_DETAIL)
                if exc.status == 503 and await pause(self._stop, 1.0):  # an answer that was not held: do not spin
                    raise Stopped() from None
                return None, None
            if exc.status == 403:
                self.report.log(f"no longer a member of the colony ({exc.message}); joining again")
                if not await self.membership.register():
                    raise Stopped() from None
                return None, None
            self.suspect = self.suspect or exc.status >= 500
            return None, exc
        except RPCError as exc:
            self.suspect = self.suspect or isinstance(exc, TransportError)
            return None, None if isinstance(exc, RequestTimeout) and await self._paused() else exc
        if process is None and await self._paused():
            return None, None
        self.report.set_state(State.POLLING)
        return process, None

    async def _paused(self) -> bool:
        s = self.session
        try:
            paused = await s.client.get_pause_status(s.colonyname, s.prvkey)
        except RPCError:
            return False
        if paused:
            self.report.set_state(State.PAUSED, PAUSED_DETAIL)
        return paused
