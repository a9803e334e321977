"""`MapRun`: one map on the colony, from its first process to its last result.

It submits the map's units while the fleet has room (twice the slots its executors declare, or
the pool's `concurrency`), hears their ends on two connections (`EndWatcher`), and hands back
each item's result as its unit ends. When it is stopped before the end (an exception, a
cancelled task, Ctrl-C), every process of it that has not ended is cancelled on the server,
and it says how many: nothing is left to compute for nobody.
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
from .units import Planner, Unit, outcomes, seconds_per_item, unit_spec

if TYPE_CHECKING:
    from .core import Pool

IN_FLIGHT_PER_SLOT = 2  # a slot that finishes finds its next process already queued
MIN_IN_FLIGHT = 2
FLEET_LOOK_EVERY = 10.0  # seconds between reads of the executors' declared slots


def declared_slots(executors: list[Executor], executortype: str) -> int:
    """The slots the approved executors of the type declare (``availablecpu``-style "Nm" per
    1000m; one for an executor that declares none)."""
    total = 0
    for executor in executors:
        if executor.executortype != executortype or executor.state != APPROVED:
            continue
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
        self.planner = Planner(len(manifest.items), manifest.chunksize)
        self.planner.next_start = manifest.covered()
        self.base = FunctionSpec.from_dict(manifest.spec)
        self.pending: dict[str, Unit] = {}  # processid -> its unit, not ended yet
        self._submitting: set[asyncio.Task[None]] = set()
        self._slots, self._slots_read = 1, -FLEET_LOOK_EVERY
        self.cancelled = 0
        self.ends: EndWatcher | None = None

    async def results(self) -> AsyncIterator[tuple[int, Any]]:
        """(index, result or RemoteError) for every item, as units end."""
        pool = self.pool
        async with EndWatcher(pool.client, pool.colonyname, pool.executortype, pool.prvkey, self.manifest.job) as ends:
            self.ends = ends
            try:
                for unit, processid in self.manifest.submitted.items():  # attached: what was submitted before
                    self.pending[processid] = unit
                    ends.watch(processid, at_once=True)
                await self._adopt_unrecorded()
                while self.planner.left or self.pending or self._submitting:
                    await self._fill()
                    process = await ends.next()
                    unit = self.pending.pop(process.processid)
                    self.planner.timed(seconds_per_item(unit, process))
                    traceback = await self.pool.traceback_of(process) if process.state == FAILED and unit.size == 1 else ""
                    for offset, outcome in enumerate(outcomes(unit, process, traceback)):
                        if isinstance(outcome, RemoteError):
                            self.progress.failed += 1
                        else:
                            self.progress.done += 1
                        yield unit.start + offset, outcome
                    self.progress.update(self._items_in_flight())
            finally:
                await self._stop()
                self.progress.finish()

    def _items_in_flight(self) -> int:
        return sum(u.size for u in self.pending.values())

    async def _room(self) -> int:
        if self.pool.concurrency is not None:
            limit = self.pool.concurrency
        else:
            now = time.monotonic()
            if now - self._slots_read >= FLEET_LOOK_EVERY:
                self._slots_read = now
                with contextlib.suppress(RPCError):
                    executors = await self.pool.client.get_executors(self.pool.colonyname, self.pool.prvkey)
                    self._slots = declared_slots(executors, self.pool.executortype)
            limit = max(MIN_IN_FLIGHT, IN_FLIGHT_PER_SLOT * self._slots)
        return limit - len(self.pending) - len(self._submitting)

    async def _fill(self) -> None:
        """Submit units while there is room, one after the other: the server queues in the order
        it is given, so items run roughly in order. A submission runs to its end even if we are
        stopped meanwhile (it is shielded), so its process is known and can be cancelled."""
        room = await self._room()
        while room > 0 and self.planner.left:
            await self._shielded_submit(self.planner.next(max(self._slots, 1)))
            room -= 1

    async def _shielded_submit(self, unit: Unit) -> None:
        task = asyncio.ensure_future(self._submit(unit))
        self._submitting.add(task)
        task.add_done_callback(self._submitting.discard)
        await asyncio.shield(task)

    async def _submit(self, unit: Unit) -> None:
        spec = unit_spec(self.base, unit, self.manifest.items, self.manifest.job)
        self.manifest.intend(unit)
        process = await self.pool.client.submit(spec, self.pool.prvkey)
        self.manifest.record(unit, process.processid)
        self.pending[process.processid] = unit
        assert self.ends is not None
        self.ends.watch(process.processid)

    async def _adopt_unrecorded(self) -> None:
        """Units a killed driver may have submitted without writing down their process: the server
        knows them by label and node name. Found ones are watched; the rest are submitted anew."""
        unknown = {u.nodename: u for u in self.manifest.intended}
        if not unknown:
            return
        for process in await self._labelled():
            unit = unknown.pop(process.spec.nodename, None)
            if unit is not None:
                self.manifest.record(unit, process.processid)
                self.pending[process.processid] = unit
                assert self.ends is not None
                self.ends.watch(process.processid, at_once=True)
        for unit in unknown.values():  # never reached the server: submit them again
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
