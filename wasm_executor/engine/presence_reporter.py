"""Tell the colony how this executor stands (`presence.Presence` in its capabilities): at once
when what a person would read changes (serving, paused, hidden, …), and every `PRESENCE_EVERY`
s while its counts move. One `updateexecutormsg` each: a fleet of a hundred busy pages costs the
server a few requests a second, an idle one nothing after its last change.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from datetime import UTC, datetime

from ..errors import RPCError
from ..events import State
from ..objects import Capabilities
from ..presence import COLONY_PAUSED, HIDDEN, JOINING, PAUSED, SERVING, Presence
from .config import Session

PRESENCE_EVERY = 30.0
SETTLE = 0.2  # changes this close together (hidden, then held) make one report
LAST_WORD_WITHIN = 2.0  # the report of a stop may take this long


def standing(state: State, hidden: bool) -> str:
    """The executor's state as a fleet's admin reads it (`presence`)."""
    if state == State.POLLING:
        return HIDDEN if hidden else SERVING
    return {State.HELD: PAUSED, State.PAUSED: COLONY_PAUSED, State.REGISTERING: JOINING,
            State.WAITING_APPROVAL: JOINING}.get(state, state.value)


class PresenceReporter:
    def __init__(self, session: Session, capabilities: Callable[[], Capabilities], presence: Callable[[], Presence],
                 log: Callable[[str], None]) -> None:
        """`capabilities`: the executor's own (device, runtime); `presence`: how it stands now
        (its `rate` and `at` are filled in here)."""
        self.session, self._capabilities, self._presence, self._log = session, capabilities, presence, log
        self._changed = asyncio.Event()
        self._sent: Presence | None = None
        self._sent_at = time.monotonic()
        self._ended_then = 0
        self._failed_once = False

    def changed(self) -> None:
        """What a person would read may have changed: report soon."""
        self._changed.set()

    async def report(self) -> None:
        now = self._presence()
        ended = now.done + now.failed
        elapsed = time.monotonic() - self._sent_at
        rate = (ended - self._ended_then) / elapsed if self._sent is not None and elapsed > 0 else 0.0
        now = Presence(now.state, now.slots, now.free, now.done, now.failed, rate,
                       datetime.now(UTC).isoformat(timespec="seconds"))
        caps = self._capabilities()
        caps = Capabilities(hardware=caps.hardware, software=[*caps.software, *now.entries()])
        s = self.session
        try:
            await s.client.update_executor(s.colonyname, s.executorname, caps, s.prvkey)
        except RPCError as exc:
            if not self._failed_once:  # once: an outage is told elsewhere, and this is retried anyway
                self._log(f"report presence: {exc}")
            self._failed_once = True
            return
        self._failed_once = False
        self._sent, self._sent_at, self._ended_then = now, time.monotonic(), ended

    async def run(self) -> None:
        """Report on every change and while the counts move, until cancelled."""
        timed_out = False
        while True:
            self._changed.clear()  # before the report: a change while it is on its way is not lost
            if self._sent is None or self._stands_otherwise() or (timed_out and self._counts_moved()):
                await self.report()
            try:
                await asyncio.wait_for(self._changed.wait(), PRESENCE_EVERY)
                timed_out = False
                await asyncio.sleep(SETTLE)
            except TimeoutError:
                timed_out = True

    async def last_word(self) -> None:
        """The report of a stop, if the server takes it in time."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.report(), LAST_WORD_WITHIN)

    def _stands_otherwise(self) -> bool:
        now, sent = self._presence(), self._sent
        return sent is None or (now.state, now.slots) != (sent.state, sent.slots)

    def _counts_moved(self) -> bool:
        """Since the last report; a rate told above 0 is told again (as 0) once they stop."""
        now, sent = self._presence(), self._sent
        return sent is None or sent.rate > 0 or (now.done, now.failed, now.free) != (sent.done, sent.failed, sent.free)
