"""Supervision of one process in its slot: its deadline, its cancel, the owner's stop-now, one outcome.

arq's lesson: the outcome is decided in one place. `supervise` runs the job and returns how it
ended (`Outcome`) with its result; it never talks to the server itself, except through the
`cancelled` watch it is handed, so it is tested with `InlineSlots` and no client.

- The cancel watch starts only for a process still running after `cancel_watch_after` s: most end
  sooner, and in Pyodide every task costs several scheduled callbacks.
- An interrupted function gets `kill_grace` s to stop; then its slot is replaced.
- Past the deadline, a process the server will retry is left to it (RELEASED, nothing is sent);
  one it will not retry is FAILED here.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ..events import Outcome
from ..objects import Process
from .job import Emit, Job, JobResult
from .slots import SlotLost, SlotPool

STOPPED_BY_OWNER = "stopped by the executor's owner before it finished"


@dataclass(frozen=True)
class Limits:
    kill_grace: float = 1.0
    cancel_watch_after: float = 0.5


async def supervise(
    slots: SlotPool, slot: int, process: Process, job: Job, *, limits: Limits, stop_now: asyncio.Future[None],
    cancelled: Callable[[], Awaitable[None]], on_emit: Emit | None = None, log: Callable[[str], None] = lambda _m: None,
) -> tuple[Outcome, JobResult]:
    """Run `job` for `process` in `slot` until it ends, is cancelled (`cancelled()` returns),
    passes its maxexectime, or the owner stops now."""
    spec = process.spec
    run = asyncio.ensure_future(slots.run(slot, job, on_emit))
    limit = spec.maxexectime if spec.maxexectime > 0 else None
    first = limits.cancel_watch_after if limit is None else min(limit, limits.cancel_watch_after)
    await asyncio.wait({run, stop_now}, timeout=first, return_when=asyncio.FIRST_COMPLETED)
    watch: asyncio.Future[None] | None = None
    if not run.done() and not stop_now.done():
        watch = asyncio.ensure_future(cancelled())
        try:
            await asyncio.wait({run, watch, stop_now}, timeout=None if limit is None else max(0.0, limit - first),
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            watch.cancel()
    if run.done():
        return finished(run)
    await halt(slots, slot, run, limits.kill_grace, log)
    if stop_now.done():
        return Outcome.FAILED, JobResult(error=STOPPED_BY_OWNER)
    if watch is not None and watch.done() and not watch.cancelled():
        return Outcome.CANCELLED, JobResult(error="cancelled")
    # The deadline passed. The server retries it when retries are left (-1 = no limit): leave it to the server.
    if spec.maxretries < 0 or process.retries < spec.maxretries:
        return Outcome.RELEASED, JobResult(error=f"maxexectime {spec.maxexectime} s passed; the server retries it")
    return Outcome.FAILED, JobResult(error=f"{spec.funcname} did not finish within maxexectime {spec.maxexectime} s")


def finished(run: asyncio.Future[JobResult]) -> tuple[Outcome, JobResult]:
    try:
        result = run.result()
    except SlotLost as exc:
        return Outcome.FAILED, JobResult(error=f"the slot running it failed: {exc}")
    return (Outcome.DONE if result.ok else Outcome.FAILED), result


async def halt(slots: SlotPool, slot: int, run: asyncio.Future[JobResult], kill_grace: float, log: Callable[[str], None]) -> None:
    """Interrupt the code in `slot`; if it does not stop within `kill_grace` s, replace the slot."""
    await slots.interrupt(slot)
    try:
        await asyncio.wait_for(asyncio.shield(run), kill_grace)
        return
    except (TimeoutError, SlotLost, asyncio.CancelledError):
        pass
    log(f"slot {slot} did not stop within {kill_grace:g} s: replacing it")
    try:
        await slots.replace(slot)
    finally:
        run.cancel()
        with contextlib.suppress(BaseException):
            await run
