"""One process from assign to delivery: intake, supervision in its slot, its stream, its result, its events.

Its failure is its own: whatever goes wrong (a bug of ours, an event sink that fails) fails that
process with a readable error, gives its slot back, and never leaves it RUNNING.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from .. import remote
from ..errors import RequestTimeout, RPCError
from ..events import Outcome, ProcessEnded, ProcessStarted, SlotChanged, shortened
from ..objects import CANCELLED, Process
from ..retry import Backoff, Retry
from .config import ExecutorConfig, Session
from .delivery import Delivery
from .intake import Unrunnable, job_for
from .job import Emit, JobResult
from .report import Reporter
from .slots import SlotPool
from .stream import ChannelWriter
from .supervise import Limits, supervise

CANCEL_WATCH_SECONDS = 3600  # one wait of the cancel watch; a process running longer is watched again


class Handler:
    def __init__(
        self, config: ExecutorConfig, session: Session, slots: SlotPool, report: Reporter, delivery: Delivery,
        delivery_retry: Callable[[], Retry], count: Callable[[Outcome], tuple[int, int]],
    ) -> None:
        self.config, self.session, self.slots, self.report, self.delivery = config, session, slots, report, delivery
        self._delivery_retry, self._count = delivery_retry, count
        self._limits = Limits(config.kill_grace, config.cancel_watch_after)
        self.stop_now: asyncio.Future[None] | None = None  # set by the executor at each run

    async def handle(self, slot: int, process: Process, free_slot: Callable[[], None]) -> Outcome:
        """Run `process` in `slot`, call `free_slot` as soon as the slot is done, deliver; the outcome."""
        spec = process.spec
        started = time.perf_counter()
        args: list[str] = []
        stream = None
        try:
            args = shortened(remote.shown_args(spec.funcname, spec.args, spec.kwargs))
            if remote.STREAM_CHANNEL in spec.channels:  # Pool.stream reads the items there as they come
                stream = ChannelWriter(self.session.client, process.processid, remote.STREAM_CHANNEL, self.session.prvkey,
                                       self._delivery_retry)
            self.report.emit(ProcessStarted(process.processid, spec.funcname, args, slot))
            self.report.emit(SlotChanged(slot, spec.funcname, process.processid))
            outcome, result = await self._execute(slot, process, stream.put if stream else None)
        except Exception as exc:  # a bug of ours, or an event sink that failed, must not leave it RUNNING
            outcome, result = Outcome.FAILED, JobResult(error=f"the executor failed running it: {type(exc).__name__}: {exc}")
        finally:
            free_slot()  # the next assign need not wait for this delivery
        millis = round((time.perf_counter() - started) * 1000, 1)
        with contextlib.suppress(Exception):
            self.report.emit(SlotChanged(slot))
        if stream is not None:
            await stream.finish(outcome == Outcome.DONE, result.error)  # all items in the channel before the close
        outcome, error = await self.delivery.deliver(process, outcome, result)
        done, failed = self._count(outcome)
        output = shortened(result.output) if outcome == Outcome.DONE else []
        self.report.emit(ProcessEnded(process.processid, spec.funcname, args, slot, outcome, output, error, millis, done, failed))
        return outcome

    async def _execute(self, slot: int, process: Process, on_emit: Emit | None) -> tuple[Outcome, JobResult]:
        try:
            job = job_for(process, self.session.executorname, self.session.executorid)
        except Unrunnable as exc:
            return Outcome.FAILED, JobResult(error=str(exc))
        if job.funcname == remote.FUNCNAME and not self.config.allow_code:
            return Outcome.FAILED, JobResult(error=remote.NOT_ALLOWED)  # refused before any slot sees it
        assert self.stop_now is not None
        return await supervise(self.slots, slot, process, job, limits=self._limits, stop_now=self.stop_now,
                               cancelled=lambda: self._watch_cancel(process), on_emit=on_emit, log=self.report.log)

    async def _watch_cancel(self, process: Process) -> None:
        """Return when the server says the process was cancelled: it is read on a period growing to
        `cancel_check_max` (no per-process subscription: see `ColoniesClient.subscribe_process`)."""
        backoff = Backoff(self.config.max_backoff, self.config.first_backoff)
        while True:
            try:
                await self.session.client.subscribe_process(
                    process, CANCELLED, CANCEL_WATCH_SECONDS, self.session.prvkey, max_period=self.config.cancel_check_max)
                return
            except RequestTimeout:
                continue  # still running after all that time: watch on
            except RPCError:
                await asyncio.sleep(backoff.next())
