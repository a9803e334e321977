"""`MapRun`: one map on the colony, from its first process to its last result.

It submits the map's units while the fleet has room (twice the slots its executors declare, or
the pool's `concurrency`), hears their ends on two connections (`EndWatcher`), and hands back
each item's result as its unit ends. With replicas, a unit's result is handed back once enough
executors agree on it (`quorum`). When nothing is left to submit and slots are idle, a unit
running far longer than its kind takes (a straggler: a slow phone, a tab put away) is run again
elsewhere; the first result wins and the other copy is cancelled. When the map is stopped before
the end (an exception, a cancelled task, Ctrl-C), every process of it that has not ended is
cancelled on the server, and it says how many: nothing is left to compute for nobody.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, TextIO

from ..errors import RPCError
from ..objects import APPROVED, CANCELLED, FAILED, RUNNING, SUCCESS, WAITING, Executor, FunctionSpec, Process
from .ends import LISTED_AT_MOST, EndWatcher
from .errors import RemoteError
from .manifest import Manifest
from .quorum import Tally, Vote, canonical
from .units import Planner, Unit, outcomes, seconds_per_item, unit_spec

if TYPE_CHECKING:
    from .core import Pool

IN_FLIGHT_PER_SLOT = 2  # a slot that finishes finds its next process already queued
MIN_IN_FLIGHT = 2
FLEET_LOOK_EVERY = 10.0  # seconds between reads of the executors' declared slots
STRAGGLER_AFTER = 5.0  # seconds running, at least, before a unit may be run again elsewhere
STRAGGLER_FACTOR = 4  # ... and this many times what its items took elsewhere
STRAGGLER_LOOK_EVERY = 1.0  # seconds between looks at the running units once all are submitted


def members(executors: list[Executor], executortype: str) -> list[Executor]:
    """The approved executors of the type: those that can be handed its processes."""
    return [e for e in executors if e.executortype == executortype and e.state == APPROVED]


def declared_slots(executors: list[Executor], executortype: str) -> int:
    """The slots the approved executors of the type declare (``availablecpu``-style "Nm" per
    1000m; one for an executor that declares none)."""
    total = 0
    for executor in members(executors, executortype):
        cpu = executor.capabilities.hardware[0].cpu if executor.capabilities.hardware else ""
        try:
            total += max(1, int(cpu[:-1]) // 1000 if cpu.endswith("m") else int(cpu or 1))
        except ValueError:
            total += 1
    return total


class Progress:
    """One line on a terminal: done, failed, in flight, and the rate."""

    def __init__(self, name: str, total: int, out: TextIO | None) -> None:
        self.name, self.total, self.out = name, total, out
        self.done = self.failed = 0
        self.started = time.monotonic()
        self._shown = 0.0

    def update(self, in_flight: int, force: bool = False) -> None:
        now = time.monotonic()
        if self.out is None or (not force and now - self._shown < 0.2):
            return
        self._shown = now
        rate = (self.done + self.failed) / max(now - self.started, 1e-9)
        self.out.write(f"\r{self.name}: {self.done}/{self.total} done, {self.failed} failed, "
                       f"{in_flight} in flight, {rate:.1f}/s ")
        self.out.flush()

    def finish(self) -> None:
        if self.out is not None:
            self.update(0, force=True)
            self.out.write("\n")


class MapRun:
    def __init__(self, pool: Pool, manifest: Manifest, progress: Progress) -> None:
        self.pool, self.manifest, self.progress = pool, manifest, progress
        self.replicas = manifest.replicas
        self.planner = Planner(len(manifest.items), manifest.chunksize)
        self.planner.next_start = manifest.covered()
        self.base = FunctionSpec.from_dict(manifest.spec)
        self.pending: dict[str, Unit] = {}  # processid -> its unit (or copy), not ended yet
        self._submitting: set[asyncio.Task[None]] = set()
        self._again: list[tuple[Unit, list[str]]] = []  # copies to submit first, with the executors that may run them
        self._copies: dict[Unit, int] = {}  # items -> the highest copy number used for them
        self._tallies: dict[Unit, Tally] = {}  # items -> votes so far (replicas > 1)
        self._done: set[Unit] = set()  # items whose results were handed back (a later copy is ignored)
        self._running_since: dict[str, float] = {}  # processid -> when we first saw it RUNNING
        self._stragglers_looked = 0.0
        self._fleet: list[Executor] = []
        self._slots, self._fleet_read = 1, -FLEET_LOOK_EVERY
        self.cancelled = 0
        self.suspects: set[str] = set()  # executors whose results lost a vote
        self.ends: EndWatcher | None = None

    async def results(self) -> AsyncIterator[tuple[int, Any]]:
        """(index, result or RemoteError) for every item, as units end."""
        pool = self.pool
        async with EndWatcher(pool.client, pool.colonyname, pool.executortype, pool.prvkey, self.manifest.job) as ends:
            self.ends = ends
            try:
                for unit, processid in self.manifest.submitted.items():  # attached: what was submitted before
                    self._track(unit, processid)
                    ends.watch(processid, at_once=True)
                await self._adopt_unrecorded()
                while self.planner.left or self.pending or self._submitting or self._again:
                    await self._fill()
                    process = await self._next_end(ends)
                    unit = self.pending.pop(process.processid)
                    self._running_since.pop(process.processid, None)
                    if unit.items in self._done:
                        continue  # another copy was first
                    self.planner.timed(seconds_per_item(unit, process))
                    traceback = await self.pool.traceback_of(process) if process.state == FAILED and unit.size == 1 else ""
                    results: list[Any] | None = outcomes(unit, process, traceback)
                    if self.replicas > 1:
                        results = await self._vote(unit, process, results)
                        if results is None:
                            continue  # another executor is asked
                    self._done.add(unit.items)
                    await self._cancel_copies(unit.items)
                    for offset, outcome in enumerate(results):
                        if isinstance(outcome, RemoteError):
                            self.progress.failed += 1
                        else:
                            self.progress.done += 1
                        yield unit.start + offset, outcome
                    self.progress.update(self._items_in_flight())
            finally:
                await self._stop()
                self.progress.finish()

    async def _next_end(self, ends: EndWatcher) -> Process:
        """The next process of the map that ended; meanwhile, once every unit is submitted, a look
        for stragglers now and then."""
        while True:
            if self.planner.left or self.replicas > 1:
                return await ends.next()
            with contextlib.suppress(TimeoutError):
                return await asyncio.wait_for(ends.next(), STRAGGLER_LOOK_EVERY)
            await self._overtake_stragglers()
            await self._fill()

    def _track(self, unit: Unit, processid: str) -> None:
        self.pending[processid] = unit
        self._copies[unit.items] = max(self._copies.get(unit.items, 0), unit.copy)

    def _items_in_flight(self) -> int:
        return sum(u.size for u in {u.items for u in self.pending.values()})

    async def _executors(self) -> list[Executor]:
        """The approved executors of the pool's type, read again every `FLEET_LOOK_EVERY` s."""
        now = time.monotonic()
        if now - self._fleet_read >= FLEET_LOOK_EVERY:
            self._fleet_read = now
            with contextlib.suppress(RPCError):
                found = await self.pool.client.get_executors(self.pool.colonyname, self.pool.prvkey)
                self._fleet = members(found, self.pool.executortype)
                self._slots = declared_slots(self._fleet, self.pool.executortype)
        return self._fleet

    def _name_of(self, executorid: str) -> str:
        return next((e.executorname for e in self._fleet if e.executorid == executorid), executorid)

    async def _room(self) -> int:
        await self._executors()
        limit = self.pool.concurrency or max(MIN_IN_FLIGHT, IN_FLIGHT_PER_SLOT * self._slots)
        return limit - len(self.pending) - len(self._submitting)

    async def _fill(self) -> None:
        """Submit copies asked for, then units, while there is room, one after the other: the
        server queues in the order it is given, so items run roughly in order. A submission runs
        to its end even if we are stopped meanwhile (it is shielded), so its process is known and
        can be cancelled."""
        room = await self._room()
        while self._again:  # asked for already: they go even without room, or a map could stall on them
            unit, names = self._again.pop(0)
            await self._shielded_submit(unit, names)
            room -= 1
        while room > 0 and self.planner.left:
            await self._shielded_submit(self.planner.next(max(self._slots, 1)))
            room -= 1

    async def _shielded_submit(self, unit: Unit, executornames: list[str] | None = None) -> None:
        task = asyncio.ensure_future(self._submit(unit, executornames))
        self._submitting.add(task)
        task.add_done_callback(self._submitting.discard)
        await asyncio.shield(task)

    async def _submit(self, unit: Unit, executornames: list[str] | None) -> None:
        spec = unit_spec(self.base, unit, self.manifest.items, self.manifest.job, executornames)
        self.manifest.intend(unit)
        process = await self.pool.client.submit(spec, self.pool.prvkey)
        self.manifest.record(unit, process.processid)
        self._track(unit, process.processid)
        assert self.ends is not None
        self.ends.watch(process.processid)

    def _ask_again(self, unit: Unit, away_from: set[str]) -> bool:
        """Queue one more copy of `unit`'s items for an executor not in `away_from` (IDs); False if
        the fleet has none."""
        names = [e.executorname for e in self._fleet if e.executorid not in away_from]
        if not names:
            return False
        copy = self._copies.get(unit.items, 0) + 1
        self._copies[unit.items] = copy
        self._again.append((unit.again(copy), names))
        return True

    async def _vote(self, unit: Unit, process: Process, results: list[Any]) -> list[Any] | None:
        """Count this copy's results; the accepted ones once there are enough equal votes, else
        None (one more executor was asked, or another copy is still running)."""
        tally = self._tallies.setdefault(unit.items, Tally(self.replicas))
        tally.add(Vote(process.assignedexecutorid, canonical(results), results, process))
        if any(u.items == unit.items for u in self.pending.values()):
            return None  # a copy of these items is still out: its vote comes
        verdict = tally.verdict()
        if verdict is None:
            await self._executors()
            if self._ask_again(unit, tally.voters):
                return None
            verdict = tally.no_quorum(f"{len(tally.votes)} of {self.replicas} executors answered, and "
                                      f"the colony has no other executor of type {self.pool.executortype!r} to ask")
        if verdict.agreed:
            self.suspects.update(self._name_of(v.executorid) for v in verdict.odd)
        del self._tallies[unit.items]
        return verdict.results

    async def _overtake_stragglers(self) -> None:
        """Run again, on another executor, a unit that has been running for much longer than
        units of its size take, while a slot of the fleet is idle."""
        now = time.monotonic()
        if now - self._stragglers_looked < STRAGGLER_LOOK_EVERY or self.planner.item_seconds is None:
            return
        self._stragglers_looked = now
        await self._executors()
        idle = self._slots - len(self.pending)
        alone = [(pid, u) for pid, u in self.pending.items() if sum(v.items == u.items for v in self.pending.values()) == 1]
        for pid, unit in alone[:max(idle, 0)]:
            try:
                process = await self.pool.client.get_process(pid, self.pool.prvkey)
            except RPCError:
                continue
            if process.state != RUNNING:
                continue
            since = self._running_since.setdefault(pid, now)
            if now - since >= max(STRAGGLER_AFTER, STRAGGLER_FACTOR * self.planner.item_seconds * unit.size):
                self._ask_again(unit, {process.assignedexecutorid})

    async def _cancel_copies(self, items: Unit) -> None:
        """Cancel the copies of `items` still out (a straggler overtaken): their result is not needed."""
        for pid in [pid for pid, u in self.pending.items() if u.items == items]:
            del self.pending[pid]
            assert self.ends is not None
            self.ends.forget(pid)
            with contextlib.suppress(RPCError):
                await self.pool.client.cancel_process(pid, self.pool.prvkey)

    async def _adopt_unrecorded(self) -> None:
        """Units a killed driver may have submitted without writing down their process: the server
        knows them by label and node name. Found ones are watched; the rest are submitted anew
        (a copy is not: the votes that come ask for another when one is needed)."""
        unknown = {u.nodename: u for u in self.manifest.intended}
        if not unknown:
            return
        for process in await self._labelled():
            unit = unknown.pop(process.spec.nodename, None)
            if unit is not None:
                self.manifest.record(unit, process.processid)
                self._track(unit, process.processid)
                assert self.ends is not None
                self.ends.watch(process.processid, at_once=True)
        for unit in unknown.values():  # never reached the server
            if unit.copy == 0:
                await self._shielded_submit(unit)

    async def _labelled(self, states: tuple[int, ...] = (WAITING, RUNNING, SUCCESS, FAILED, CANCELLED)) -> list[Process]:
        pool, found = self.pool, []
        for state in states:
            with contextlib.suppress(RPCError):  # no executortype: the server filters by one field only, that one first
                found += await pool.client.get_processes(pool.colonyname, LISTED_AT_MOST, state, pool.prvkey, label=self.manifest.job)
        return found

    async def _stop(self) -> None:
        """Cancel every process of this map that has not ended (none, after a full run)."""
        if self._submitting:
            await asyncio.gather(*self._submitting, return_exceptions=True)
        if not self.pending:
            return
        pool = self.pool

        async def cancel(processid: str) -> bool:
            """Whether it ended cancelled: an executor may close it between our cancel and its watch."""
            with contextlib.suppress(RPCError):
                await pool.client.cancel_process(processid, pool.prvkey)
            try:
                return (await pool.client.get_process(processid, pool.prvkey)).state == CANCELLED
            except RPCError:
                return False

        self.cancelled = sum(await asyncio.gather(*(cancel(pid) for pid in self.pending)))
        items = self._items_in_flight()
        print(f"wasm_executor: map {self.manifest.job!r} stopped before its end: cancelled {self.cancelled} "
              f"processes ({items} items not done, {self.planner.left} never submitted)", file=sys.stderr, flush=True)
