"""The executor: join a colony, keep every slot busy, enforce deadlines and cancels, deliver every result.

Runs the same in CPython and in the browser's executor worker; it holds the executor's key and is
the only part that talks to the server. Functions run in slots (`SlotPool`), which hold no key.
This module is the serving loop; its rooms are `membership` (joining), `poll` (one assign and
what its answer means), `handle` (one process: `intake`, `supervise` in its slot, `delivery` of
the result), `report` (state and events) and `presence_reporter` (how it stands, to the colony).

The rules:
- A bad process (unknown function, bad arguments, an exception, output JSON cannot carry) fails
  THAT process with a readable error; serving goes on.
- Each assign declares what is free; a paused colony is a state of its own, not an outage (`poll`).
- Nothing is lost: results in hand are delivered through any outage (retried with backoff), and
  after an assign that broke in transit or that the server answered with a 5xx, at start and at
  stop, processes the server assigned to us that we are not running are looked for and served.
- `stop()` cuts the long-poll at once and lets running processes finish; `stop(now=True)` also
  interrupts them and fails them as stopped by the owner."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable
from typing import TypeVar

from ..client import ColoniesClient
from ..errors import RPCError
from ..events import Outcome, State
from ..objects import RUNNING, Process
from ..presence import Presence
from ..resources import slot_memory_mib
from ..retry import Retry, Stopped, settle, unless_stopped
from .config import ExecutorConfig, Session
from .delivery import Delivery
from .handle import Handler
from .membership import JoinRefused, Membership
from .poll import Poller
from .presence_reporter import PresenceReporter, standing
from .report import EventSink, Reporter
from .slots import SlotPool

T = TypeVar("T")
RECOVER_BATCH = 100
LET_GO_KEPT = 1000


class ColonyExecutor:
    def __init__(
        self, config: ExecutorConfig, slots: SlotPool, on_event: EventSink | None = None, client: ColoniesClient | None = None,
    ) -> None:
        self.config = config
        self.slots = slots
        self.client = client or ColoniesClient(config.server_url)
        self.session = Session.of(config, self.client)
        self.executorid = self.session.executorid
        self.report = Reporter(on_event, self.executorid)
        self.report.follow(self.client.servers)  # several replicas' URLs: which one is in use, and moves
        self._stop = asyncio.Event()
        self._stop_now = asyncio.Event()
        # The same two signals as futures, for the hot path (`retry.unless_stopped` says why).
        self._stopped: asyncio.Future[None] | None = None
        self._stopped_now: asyncio.Future[None] | None = None
        self.membership = Membership(config, self.session, self.report, slots, self._stop, self._retry, self._slot_memory,
                                     lambda: self.presence.report())
        self.presence = PresenceReporter(self.session, self.membership.capabilities, self._presence_now, self.report.log)
        self.report.on_state = self.presence.changed
        delivery = Delivery(self.session, self._delivery_retry, self.report.log)
        self._handler = Handler(config, self.session, slots, self.report, delivery, self._delivery_retry, self._count)
        self.done = self.failed = 0
        self._in_hand: set[str] = set()  # processids from assign until their result is delivered
        self._let_go: dict[str, float] = {}  # processid -> when it left _in_hand (the newest LET_GO_KEPT)
        self._free: asyncio.Queue[int] = asyncio.Queue()
        self._handlers: set[asyncio.Task[None]] = set()
        self._poller = Poller(self.session, config.poll_timeout, self.report, self.membership, self._stop, self._slot_memory)

    @property
    def state(self) -> State:
        return self.report.state

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @property
    def registered(self) -> bool:
        """Joined and announced: the colony knows our functions."""
        return self.state in (State.POLLING, State.PAUSED, State.HELD, State.STOPPING)

    def _presence_now(self) -> Presence:
        free = max(0, self.slots.size - len(self._in_hand))
        return Presence(standing(self.state, self._poller.hidden), self.slots.size, free, self.done, self.failed)

    def _slot_memory(self) -> int:
        return slot_memory_mib(self.slots.size, self.config.slot_memory_mib)

    def _retry(self) -> Retry:
        return Retry(self.config.max_backoff, self.config.first_backoff, self._stop)

    def _delivery_retry(self) -> Retry:
        """For what a process sends (its result, its streamed items): given up only on stop-now."""
        return Retry(self.config.max_backoff, self.config.first_backoff, self._stop_now)

    def set_hidden(self, hidden: bool) -> None:
        """The page is hidden (it may be frozen any moment) or shown: see `poll`."""
        self._poller.set_hidden(hidden)
        self.presence.changed()

    def set_held(self, held: bool, reason: str = "") -> None:
        """The owner paused serving (`held`, `reason` shown as the state's detail) or resumed it:
        held, the executor stays in the colony and finishes what it runs, but asks for nothing."""
        self._poller.set_held(held, reason)
        if held and self.state == State.POLLING:
            self.report.set_state(State.HELD, self._poller.held_reason)
        elif not held and self.state == State.HELD:
            self.report.set_state(State.POLLING)

    # ------------------------------------------------------------------ lifecycle

    def stop(self, now: bool = False) -> None:
        """Stop taking work at once; running processes finish (or, with `now`, are interrupted and failed)."""
        self._stop.set()
        settle(self._stopped)
        if now:
            self._stop_now.set()
            settle(self._stopped_now)
        if self.state not in (State.STOPPED, State.ERROR):
            busy = len(self._in_hand)
            detail = f"interrupting {busy} running process(es)" if now and busy else (
                f"finishing {busy} running process(es)" if busy else "")
            self.report.set_state(State.STOPPING, detail)

    async def run(self) -> None:
        """Register, then serve until stop(). Never raises for network or server trouble."""
        self._stop.clear()
        self._stop_now.clear()
        loop = asyncio.get_running_loop()
        self._stopped, self._stopped_now = loop.create_future(), loop.create_future()
        self._handler.stop_now = self._stopped_now
        served = False
        try:
            await self.slots.start()
            if await self.membership.register():
                served = True
                await self.serve()
        except JoinRefused as exc:
            self.report.set_state(State.ERROR, str(exc))
        except Exception as exc:
            self.report.set_state(State.ERROR, f"{type(exc).__name__}: {exc}")
            raise
        if self.state != State.ERROR:  # an error stays on screen until the next start
            self.report.set_state(State.STOPPED)
        if served:
            await self.presence.last_word()  # the fleet sees it stopped, not serving

    # ------------------------------------------------------------------ serving

    async def _until_stopped(self, work: Awaitable[T]) -> T:
        """Await `work`, but give it up (cancelled, its request aborted) the moment stop() is called."""
        assert self._stopped is not None
        return await unless_stopped(work, self._stopped)

    async def serve(self) -> None:
        self._free = asyncio.Queue()
        for slot in range(self.slots.size):
            self._free.put_nowait(slot)
        self.report.set_state(State.POLLING)
        presence = asyncio.ensure_future(self.presence.run())
        try:
            await self._serve()
        finally:
            presence.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await presence

    async def _serve(self) -> None:
        await self._recover()
        retry = self._retry()
        try:
            while not self.stopping:
                slot = self._free.get_nowait() if not self._free.empty() else await self._until_stopped(self._free.get())
                process: Process | None = None
                try:  # the slot's lease: it goes back unless a process took it
                    process, trouble = await self._poller.poll(self._free.qsize() + 1, self._until_stopped)
                finally:
                    if process is None:
                        self._free.put_nowait(slot)
                if process is not None:
                    self._start(slot, process)
                elif self._poller.suspect:  # right away, the slot is back: a 5xx reply may hide an assigned process
                    await self._recover_suspect()
                if trouble is not None:
                    await retry.failed(trouble, self.report.say_unreachable(State.POLLING))
                else:
                    retry.succeeded()
                    self.report.reachable()
        except Stopped:
            pass
        # Stopping: the poll is cut. Anything the server assigned meanwhile is served, not left RUNNING.
        await self._recover()
        while self._handlers:
            await asyncio.gather(*list(self._handlers), return_exceptions=True)

    async def _recover_suspect(self) -> None:
        try:
            await self._recover(raise_errors=True)
        except RPCError:
            return  # still unreachable: looked for again after the backoff
        self._poller.suspect = False

    async def _recover(self, raise_errors: bool = False) -> None:
        """Serve processes the server has assigned to us that we are not running (a lost assign reply)."""
        s = self.session
        listed = time.monotonic()
        try:
            running = await s.client.get_processes(s.colonyname, RECOVER_BATCH, RUNNING, s.prvkey, executortype=s.executortype)
        except RPCError as exc:
            if raise_errors:
                raise
            self.report.log(f"looking for processes assigned to this executor: {exc}")
            return
        # Not what we hold, nor what we delivered while the listing was on its way: a stale list would run it twice.
        orphans = [p for p in running if p.assignedexecutorid == self.executorid and p.processid not in self._in_hand
                   and self._let_go.get(p.processid, -1.0) < listed]
        for process in orphans:
            self.report.log(f"process {process.processid} was assigned to this executor but never reached it; running it now")
            slot = await self._free.get()  # even when stopping: it must not stay RUNNING
            self._start(slot, process)

    def _start(self, slot: int, process: Process) -> None:
        self._in_hand.add(process.processid)
        task = asyncio.ensure_future(self._handle(slot, process))
        self._handlers.add(task)
        task.add_done_callback(self._handlers.discard)

    async def _handle(self, slot: int, process: Process) -> None:
        try:
            await self._handler.handle(slot, process, lambda: self._free.put_nowait(slot))
        finally:
            self._in_hand.discard(process.processid)
            self._let_go[process.processid] = time.monotonic()
            while len(self._let_go) > LET_GO_KEPT:
                del self._let_go[next(iter(self._let_go))]

    def _count(self, outcome: Outcome) -> tuple[int, int]:
        if outcome == Outcome.DONE:
            self.done += 1
        elif outcome == Outcome.FAILED:
            self.failed += 1
        return self.done, self.failed
