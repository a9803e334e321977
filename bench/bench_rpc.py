"""The SDK against the real local server, against bare HTTP in the same run.

- one call: `get_colony` (sign + POST + parse) vs an aiohttp POST of a body signed beforehand;
- serving: processes per second through `ColonyExecutor` (assign, run, log, close) vs a bare
  assign/close loop with the same client (no logging, no bookkeeping).
"""

from __future__ import annotations

import asyncio
import secrets
import time

import aiohttp
from common import dev_env, report, server_url

from wasm_executor import ColoniesClient, Executor, FunctionSpec, gen_id, gen_prvkey
from wasm_executor.builtins import default_registry
from wasm_executor.engine import ColonyExecutor, ExecutorConfig, InlineSlots
from wasm_executor.envelope import build_request
from wasm_executor.events import ProcessEnded

N_CALLS = 300
N_PROCESSES = 60


async def timed(coro_fn, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        await coro_fn()
    return (time.perf_counter() - start) / n


async def submit_many(client: ColoniesClient, colony: str, executortype: str, user: str, n: int) -> list[str]:
    ids = []
    for i in range(n):
        spec = FunctionSpec.new("add", executortype, colony)
        spec.args = [str(i), "1"]
        ids.append((await client.submit(spec, user)).processid)
    return ids


async def main() -> None:
    env = dev_env()
    url, colony = server_url(env), env["COLONIES_COLONY_NAME"]
    user, owner = env["COLONIES_PRVKEY"], env["COLONIES_COLONY_PRVKEY"]
    body = build_request("getcolonymsg", {"colonyname": colony}, user)
    async with ColoniesClient(url) as client, aiohttp.ClientSession() as session:

        async def bare() -> None:
            async with session.post(f"{url}/api", data=body) as r:
                await r.read()

        await bare()
        await client.get_colony(colony, user)
        ref_call = await timed(bare, N_CALLS)
        ours_call = await timed(lambda: client.get_colony(colony, user), N_CALLS)

        # Bare assign/close loop.
        key, name, etype = gen_prvkey(), f"bench-{secrets.token_hex(3)}", f"benchtype-{secrets.token_hex(3)}"
        await client.add_executor(Executor.new(name, gen_id(key), etype, colony), owner)
        await client.approve_executor(colony, name, owner)
        await submit_many(client, colony, etype, user, N_PROCESSES)
        start = time.perf_counter()
        for _ in range(N_PROCESSES):
            p = await client.assign(colony, 5, key)
            assert p is not None
            await client.close(p.processid, key, [int(p.spec.args[0]) + 1])
        ref_proc = (time.perf_counter() - start) / N_PROCESSES
        await client.remove_executor(colony, name, owner)

        # The executor runtime.
        cfg = ExecutorConfig(
            server_url=url, colonyname=colony, executorname=f"bench-{secrets.token_hex(3)}", prvkey=gen_prvkey(),
            executortype=f"benchtype-{secrets.token_hex(3)}", colony_prvkey=owner, poll_timeout=5,
        )
        done = asyncio.Event()
        executor = ColonyExecutor(cfg, InlineSlots(default_registry()),
                                  on_event=lambda e: isinstance(e, ProcessEnded) and e.done == N_PROCESSES and done.set())
        runner = asyncio.create_task(executor.run())
        while executor.state != "polling":
            await asyncio.sleep(0.05)
        await submit_many(client, colony, cfg.executortype, user, N_PROCESSES)
        start = time.perf_counter()
        await asyncio.wait_for(done.wait(), 300)
        ours_proc = (time.perf_counter() - start) / N_PROCESSES
        executor.stop()
        await runner
        await executor.client.aclose()
        await client.remove_executor(colony, cfg.executorname, owner)

    report(
        "RPC against the local ColonyOS (CPython, aiohttp)",
        [
            ("get_colony: sign + POST + parse", ours_call, ref_call, "bare POST of a pre-signed body"),
            (f"per process, ColonyExecutor ({N_PROCESSES} add)", ours_proc, ref_proc, "bare assign+close loop"),
        ],
    )
    print(f"  ColonyExecutor throughput: {1 / ours_proc:.1f} processes/s; bare loop {1 / ref_proc:.1f} processes/s")


if __name__ == "__main__":
    asyncio.run(main())
