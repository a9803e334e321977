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
- A hidden page (`hidden`) may be frozen by the browser at any moment, and a long-poll open at
  that moment would still be handed a process nobody runs. So while hidden it asks without
  waiting (`timeout -1`: a process now, or 404) and, when there was none, asks again after
  `HIDDEN_ASK_EVERY` s (or at once when shown again). A long-poll open when the page is hidden
  is cut (its request aborted; a process the server gave it just then is looked for, as after a
  broken poll). Under load nothing changes: each answer with a process is followed by the next
  ask at once.
- Held by the owner (`set_held`: Pause, or on battery): no ask goes out at all, and a long-poll
  open at that moment is cut the same way; the executor stays a member, and what it runs
  finishes. The next ask goes out when it is let go.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from ..errors import RequestTimeout, RPCError, ServerError, TransportError
from ..events import PollMode, State
from ..objects import Process
from ..resources import cpu_text, mem_text
from ..retry import Stopped, pause
from .config import Session
from .membership import Membership
from .report import Reporter

PAUSED_DETAIL = "paused by the colony's admin; serving again as soon as it is resumed"
HELD_DETAIL = "paused here: running processes finish, no new work is taken until you resume"
HIDDEN_ASK_EVERY = 2.0


class Poller:
    def __init__(
        self, session: Session, timeout: int, report: Reporter, membership: Membership, stop: asyncio.Event,
        slot_memory_mib: Callable[[], int],
    ) -> None:
        self.session, self.timeout, self.report, self.membership = session, timeout, report, membership
        self._stop, self._slot_memory_mib = stop, slot_memory_mib
        self.suspect = False
        self._shown = asyncio.Event()  # set while the page is visible (always, outside a browser)
        self._shown.set()
        self._let_go = asyncio.Event()  # set unless the owner holds the executor (`set_held`)
        self._let_go.set()
        self.held_reason = ""
        self._cut = asyncio.Event()  # set while hidden or held: a long-poll open then is cut

    @property
    def hidden(self) -> bool:
        return not self._shown.is_set()

    @property
    def held(self) -> bool:
        return not self._let_go.is_set()

    def set_hidden(self, hidden: bool) -> None:
        if hidden == self.hidden:
            return
        (self._shown.clear if hidden else self._shown.set)()
        self._update_cut()
        self.report.emit(PollMode("short" if hidden else "long"))

    def set_held(self, held: bool, reason: str = "") -> None:
        self.held_reason = reason or HELD_DETAIL
        (self._let_go.clear if held else self._let_go.set)()
        self._update_cut()

    def _update_cut(self) -> None:
        (self._cut.set if self.hidden or self.held else self._cut.clear)()

    async def _assign(self, assign: Awaitable[Process | None], hidden: bool) -> Process | None:
        """The assign; a long one is cut when the page gets hidden or held meanwhile (None, and `suspect`)."""
        if hidden:
            return await assign
        task = asyncio.ensure_future(assign)
        hiding = asyncio.ensure_future(self._cut.wait())
        try:
            done, _ = await asyncio.wait({task, hiding}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not task.done() and not hiding.done():  # we are being cancelled ourselves
                task.cancel()
            hiding.cancel()
        if task in done:
            return task.result()
        task.cancel()  # hidden or held: abort the request
        try:
            return await task  # it had its answer before the cut took: that stands
        except asyncio.CancelledError:
            self.suspect = True  # the server may have handed the cut poll a process just then
            return None

    async def poll(
        self, free_slots: int, until_stopped: Callable[[Awaitable[Any]], Awaitable[Any]],
    ) -> tuple[Process | None, Exception | None]:
        """One assign: (the process or None, the error to back off on or None). `Stopped` when stopped."""
        if self.held:
            self.report.set_state(State.HELD, self.held_reason)
            await until_stopped(self._let_go.wait())
            self.report.set_state(State.POLLING)
            return None, None
        s = self.session
        free_cpu, free_mem = cpu_text(free_slots), mem_text(self._slot_memory_mib())
        hidden = self.hidden
        try:
            assign = s.client.assign(s.colonyname, -1 if hidden else self.timeout, s.prvkey, free_cpu, free_mem)
            process = await until_stopped(self._assign(assign, hidden))
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
        if process is None and self.held:
            return None, None  # cut by the hold: the next poll says so, and waits
        if process is None and await self._paused():
            return None, None
        self.report.set_state(State.POLLING)
        if process is None and hidden:
            await until_stopped(self._shown_or_after(HIDDEN_ASK_EVERY))
        return process, None

    async def _shown_or_after(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._shown.wait(), seconds)

    async def _paused(self) -> bool:
        s = self.session
        try:
            paused = await s.client.get_pause_status(s.colonyname, s.prvkey)
        except RPCError:
            return False
        if paused:
            self.report.set_state(State.PAUSED, PAUSED_DETAIL)
        return paused
