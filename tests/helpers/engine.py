"""Run a real `ColonyExecutor` (slots in child processes, as `python -m wasm_executor` runs them)
and record what it reports: the harness of the integration tests."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

from tests.helpers.colony import unique
from wasm_executor import ColoniesClient, FunctionSpec, gen_prvkey
from wasm_executor.engine import ColonyExecutor, ExecutorConfig
from wasm_executor.engine.process_slots import ProcessSlots
from wasm_executor.events import Event, ProcessEnded, State, StateChanged


class Recorder:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    def states(self) -> list[State]:
        return [e.state for e in self.events if isinstance(e, StateChanged)]

    def said(self, text: str) -> bool:
        """Whether any state detail so far contains `text`."""
        return any(text in e.detail for e in self.events if isinstance(e, StateChanged))

    def ended(self, processid: str) -> ProcessEnded | None:
        return next((e for e in self.events if isinstance(e, ProcessEnded) and e.processid == processid), None)

    async def wait_for(self, predicate: Any, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"not reached within {timeout} s; last events: {self.events[-6:]}")
            await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def running(
    config: ExecutorConfig, slots: int = 1, functions_file: str | None = None, client: ColoniesClient | None = None,
) -> AsyncIterator[tuple[ColonyExecutor, Recorder]]:
    rec = Recorder()
    pool = ProcessSlots(slots, functions_file)
    executor = ColonyExecutor(config, pool, on_event=rec, client=client)
    task = asyncio.create_task(executor.run())
    try:
        await rec.wait_for(lambda: bool({State.POLLING, State.WAITING_APPROVAL, State.ERROR} & set(rec.states())), 60)
        yield executor, rec
    finally:
        executor.stop(now=True)
        await asyncio.wait_for(task, 40)
        await executor.client.aclose()
        await pool.aclose()


def config_for(colony, **overrides) -> ExecutorConfig:
    values = {
        "server_url": colony.url, "colonyname": colony.name, "executorname": unique("rt"), "prvkey": gen_prvkey(),
        "executortype": unique("rttype"), "colony_prvkey": colony.colony_prvkey, "poll_timeout": 5,
    }
    values.update(overrides)
    return ExecutorConfig(**values)


def spec_for(cfg: ExecutorConfig, func: str, *args: Any, **fields: Any) -> FunctionSpec:
    spec = FunctionSpec.new(func, cfg.executortype, cfg.colonyname)
    spec.args = list(args)
    for k, v in fields.items():
        setattr(spec, k, v)
    return spec
