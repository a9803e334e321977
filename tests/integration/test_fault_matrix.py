"""Faults from the matrix, for the CPython runtime against the real server (the restart and the
10 s outage are in test_executor_runtime): a slow server whose replies come after the client's
timeout, replies cut in the middle, and 1 s flaps. Checked from the server's records: every
process succeeded once with its own output, none was retried, none is left RUNNING."""

from __future__ import annotations

import asyncio

import pytest

from tests.helpers.engine import Recorder, config_for, spec_for
from tests.helpers.proxy import OutageProxy, slow_cut_and_flapping
from wasm_executor import RUNNING, SUCCESS, ColoniesClient
from wasm_executor.engine import ColonyExecutor
from wasm_executor.engine.process_slots import ProcessSlots
from wasm_executor.events import LogLine, ProcessEnded, State

pytestmark = pytest.mark.server


async def test_slow_server_cut_replies_and_flaps_lose_nothing(colony, client: ColoniesClient) -> None:
    proxy = await OutageProxy.started_for(colony.url)
    cfg = config_for(colony, server_url=proxy.url, max_backoff=1.0, poll_timeout=2)
    rec = Recorder()
    slots = ProcessSlots(2)
    # Requests time out after 2 s (a long-poll after its own 2 s plus the margin).
    executor = ColonyExecutor(cfg, slots, on_event=rec, client=ColoniesClient(proxy.url, timeout=2))
    task = asyncio.create_task(executor.run())
    user = colony.user_prvkey
    ps = []

    async def submit(n: int) -> None:
        for _ in range(n):
            ps.append(await client.submit(spec_for(cfg, "echo", str(len(ps))), user))

    try:
        await rec.wait_for(lambda: State.POLLING in rec.states(), 60)
        await submit(10)
        await rec.wait_for(lambda: executor.done >= 5)
        await slow_cut_and_flapping(proxy, submit)
        await rec.wait_for(lambda: all(rec.ended(p.processid) for p in ps), 120)
    finally:
        executor.stop(now=True)
        await asyncio.wait_for(task, 40)
        await executor.client.aclose()
        await slots.aclose()
        await proxy.cut()

    logs = [e.message for e in rec.events if isinstance(e, LogLine)]
    assert any(m.startswith("close ") and "server unreachable" in m for m in logs)  # slow or cut replies were felt
    assert rec.said("server unreachable")  # and the flaps, by the poll
    for i, p in enumerate(ps):
        got = await client.get_process(p.processid, user)
        assert (got.state, got.output, got.retries) == (SUCCESS, [str(i)], 0), i
    ends = [e.processid for e in rec.events if isinstance(e, ProcessEnded)]
    assert sorted(ends) == sorted(p.processid for p in ps)  # each ran and ended here exactly once
    assert await client.get_processes(colony.name, 10, RUNNING, user, executortype=cfg.executortype) == []

