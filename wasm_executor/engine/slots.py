"""Slots: where functions run, apart from the executor that holds the key.

A `SlotPool` has `size` slots, each running one job at a time. The executor asks a slot to
`run` a job, to `interrupt` it (the function sees KeyboardInterrupt or cancellation), and, when
code will not stop, to `replace` it (kill it and start a fresh one). Three hosts implement it:
- `InlineSlots`: coroutines in this process (tests, embedding); interrupts reach async code only;
- `ProcessSlots` (process_slots.py): CPython child processes, killable whatever they run;
- `BrowserSlots` (browser_slots.py): Web Workers, each its own Pyodide.
"""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from ..functions import FunctionRegistry
from ..objects import FunctionArg
from .job import Emit, Job, JobResult, run_job


class SlotLost(Exception):
    """The slot ended (replaced, crashed) before the job did."""


@dataclass(frozen=True)
class FunctionInfo:
    """What the colony is told about one function (`add_function`)."""

    name: str
    description: str = ""
    args: list[FunctionArg] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "description": self.description, "args": [a.to_dict() for a in self.args]}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> FunctionInfo:
        args = [FunctionArg.from_dict(a) for a in data.get("args") or []]  # type: ignore[union-attr]
        return cls(str(data["name"]), str(data.get("description") or ""), args)


def describe_registry(registry: FunctionRegistry) -> list[FunctionInfo]:
    return [FunctionInfo(e.name, e.description, e.args) for e in registry]


class SlotPool(ABC):
    size: int

    async def start(self) -> None:  # noqa: B027 - optional: hosts that boot slots do it here
        """Bring every slot up (idempotent)."""

    @abstractmethod
    async def functions(self) -> list[FunctionInfo]:
        """The functions the slots offer."""

    @abstractmethod
    async def run(self, slot: int, job: Job, on_emit: Emit | None = None) -> JobResult:
        """Run `job` in `slot`; raises `SlotLost` if the slot is replaced or dies first.
        `on_emit` gets each item a streaming function yields (JSON text), while it runs."""

    @abstractmethod
    async def interrupt(self, slot: int) -> None:
        """Ask the code in `slot` to stop (it may not: then `replace`)."""

    @abstractmethod
    async def replace(self, slot: int) -> None:
        """Kill `slot` with whatever it runs and put a fresh one in its place."""

    async def aclose(self) -> None:  # noqa: B027 - optional
        """Shut every slot down."""


class InlineSlots(SlotPool):
    """Slots as tasks of this event loop: cheap, but CPU-bound code cannot be stopped."""

    def __init__(self, registry: FunctionRegistry, size: int = 1) -> None:
        self.registry = registry
        self.size = size
        self._tasks: dict[int, asyncio.Task[JobResult]] = {}

    async def functions(self) -> list[FunctionInfo]:
        return describe_registry(self.registry)

    async def run(self, slot: int, job: Job, on_emit: Emit | None = None) -> JobResult:
        task = asyncio.ensure_future(run_job(self.registry, job, on_emit))
        self._tasks[slot] = task
        try:
            return await task
        except asyncio.CancelledError:
            if task.cancelled():  # replaced: the job never got to say so itself
                raise SlotLost(f"slot {slot} was replaced") from None
            raise
        finally:
            self._tasks.pop(slot, None)

    async def interrupt(self, slot: int) -> None:
        task = self._tasks.get(slot)
        if task is not None:
            task.cancel()  # run_job turns it into an "interrupted" result

    async def replace(self, slot: int) -> None:
        task = self._tasks.get(slot)
        if task is not None:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
