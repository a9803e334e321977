"""The unit tests' engine harness: a `ColonyExecutor` with inline slots on a `FakeColony`, and what it reported.

`serving` asserts after every use that no process was left RUNNING.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

from tests.helpers.fake_colony import FakeColony
from wasm_executor import RUNNING, gen_id, gen_prvkey
from wasm_executor.builtins import default_registry
from wasm_executor.engine import ColonyExecutor, ExecutorConfig, InlineSlots
from wasm_executor.events import Event, ProcessEnded, State, StateChanged
from wasm_executor.functions import FunctionRegistry


def registry() -> FunctionRegistry:
    reg = default_registry()

    @reg.register()
    def chatty(name: Any) -> str:
        print(f"working on {name}")
        return f"done {name}"

    @reg.register()
    def boom() -> None:
        raise ValueError("it broke")

    @reg.register()
    def power(base: Any, exp: Any) -> Any:
        return int(base) ** int(exp)

    @reg.register()
    def forever() -> float:
        return float("inf")

    @reg.register()
    async def block() -> None:
        await asyncio.Event().wait()

    return reg


class Run:
    def __init__(self, colony: FakeColony, executor: ColonyExecutor, events: list[Event]) -> None:
        self.colony, self.executor, self.events = colony, executor, events

    def states(self) -> list[State]:
        return [e.state for e in self.events if isinstance(e, StateChanged)]

    def ended(self, processid: str) -> ProcessEnded | None:
        return next((e for e in self.events if isinstance(e, ProcessEnded) and e.processid == processid), None)

    async def until(self, predicate: Any, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"not reached within {timeout} s; events: {self.events[-8:]}")
            await asyncio.sleep(0.005)

    async def result(self, processid: str, timeout: float = 5.0) -> ProcessEnded:
        await self.until(lambda: self.ended(processid) is not None, timeout)
        ended = self.ended(processid)
        assert ended is not None
        return ended


def config(prvkey: str, **overrides: Any) -> ExecutorConfig:
    values: dict[str, Any] = {
        "server_url": "http://fake", "colonyname": "dev", "executorname": "ex", "prvkey": prvkey, "poll_timeout": 1,
        "first_backoff": 0.01, "max_backoff": 0.05, "kill_grace": 0.2, "cancel_watch_after": 0.02,
        "approval_poll_interval": 0.01,
    }
    values.update(overrides)
    return ExecutorConfig(**values)


@contextlib.asynccontextmanager
async def serving(
    colony: FakeColony, slots: int = 2, approved: bool = True, events: list[Event] | None = None, held: bool = False,
    **overrides: Any,
) -> AsyncIterator[Run]:
    """`events`: the list the events are appended to (a test may hand one whose `append` fails);
    `held`: the owner paused it before it started."""
    prvkey = gen_prvkey()
    if approved:
        colony.approve("ex", gen_id(prvkey), "wasm")
    events = [] if events is None else events
    executor = ColonyExecutor(config(prvkey, **overrides), InlineSlots(registry(), slots), on_event=events.append,
                              client=colony.client())
    run = Run(colony, executor, events)
    executor.set_held(held)
    task = asyncio.create_task(executor.run())
    try:
        await run.until(lambda: bool({State.POLLING, State.HELD, State.WAITING_APPROVAL, State.ERROR} & set(run.states())))
        yield run
    finally:
        executor.stop(now=True)
        await asyncio.wait_for(task, 5)
        assert not [p for p in colony.processes.values() if p.state == RUNNING], "a process was left RUNNING"
