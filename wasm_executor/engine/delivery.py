"""Delivery: tell the server how a process ended (its log, then its close or its failure), through any outage.

Each call says what became of it in a small type: `Delivered`, `Refused` (the server's reason),
or `Lost` (no longer ours: requeued, cancelled, removed, or given up by the owner's stop-now).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ..errors import RPCError, ServerError
from ..events import Outcome
from ..objects import Log, Process
from ..retry import Retry, Stopped
from .config import Session
from .job import JobResult

NOT_OURS = "no longer assigned to this executor"


@dataclass(frozen=True)
class Delivered:
    pass


@dataclass(frozen=True)
class Refused:
    reason: str


@dataclass(frozen=True)
class Lost:
    pass


Sent = Delivered | Refused | Lost


class Delivery:
    def __init__(self, session: Session, retry: Callable[[], Retry], log: Callable[[str], None]) -> None:
        self.session, self._retry, self._log = session, retry, log

    async def deliver(self, process: Process, outcome: Outcome, result: JobResult) -> tuple[Outcome, str]:
        """Send the outcome; returns the outcome as it stands afterwards and the error shown."""
        if outcome in (Outcome.CANCELLED, Outcome.RELEASED):
            return outcome, result.error  # the server has it already; nothing of ours to send
        client, key, pid = self.session.client, self.session.prvkey, process.processid
        if result.log:
            # The server takes logs only while the process RUNS: what was printed goes just before the close.
            # PostgreSQL text cannot hold NUL: the server refuses the whole line. Show it as \x00.
            log = Log(processid=pid, message=result.log.replace("\x00", "\\x00"))
            sent = await self._send(process, "add log", lambda: client.add_log(log, key))
            if isinstance(sent, Lost):
                return Outcome.LOST, NOT_OURS
            if isinstance(sent, Refused):
                self._log(f"the log of process {pid[:12]} was refused by the server: {sent.reason}")
        error = result.error
        if outcome == Outcome.DONE:
            sent = await self._send(process, "close", lambda: client.close(pid, key, result.output))
            if isinstance(sent, Delivered):
                return Outcome.DONE, ""
            if isinstance(sent, Lost):
                return Outcome.LOST, NOT_OURS
            error = f"the server refused the output: {sent.reason}"
        sent = await self._send(process, "fail", lambda: client.fail(pid, key, [error]))
        if isinstance(sent, Lost):
            return Outcome.LOST, NOT_OURS
        return Outcome.FAILED, error if isinstance(sent, Delivered) else f"{error} (the server refused even that: {sent.reason})"

    async def _send(self, process: Process, what: str, call: Callable[[], Awaitable[Any]]) -> Sent:
        short = process.processid[:12]

        def on_retry(_exc: BaseException, delay: float) -> None:
            self._log(f"{what} {short}: server unreachable, retrying in {delay:g} s")

        try:
            await self._retry().run(call, on_retry=on_retry)
            return Delivered()
        except Stopped:
            self._log(f"{what} {short}: given up by stop-now; it will be found at the next start")
            return Lost()
        except ServerError as exc:
            if exc.status in (403, 404):  # requeued, cancelled, removed, or assigned elsewhere meanwhile
                self._log(f"{what} {short}: {exc}")
                return Lost()
            return Refused(exc.message)
        except RPCError as exc:  # a reply we could not read: as good as a refusal
            return Refused(str(exc))
