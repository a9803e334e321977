"""`Pool` at fleet scale on the real server: chunks, results as they come, failures kept apart,
nothing left behind when a map is stopped (an exception, Ctrl-C), a map taken over after its
driver was killed, and the sync front. Served by CPython executors (slots in child processes)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from pathlib import Path

import pytest

from tests.helpers.colony import unique
from tests.helpers.engine import config_for, running
from tests.helpers.jobs import covers_once, job_processes, span_of
from wasm_executor import CANCELLED, RUNNING, SUCCESS, WAITING, ColoniesClient, Pool, RemoteError
from wasm_executor.objects import server_time
from wasm_executor.pool.manifest import Manifest

pytestmark = pytest.mark.server
ROOT = Path(__file__).resolve().parents[2]


def double_unless_3_mod_7(x):
    if x % 7 == 3:
        raise ValueError(f"bad item {x}")
    return 2 * x


def square(x):
    return x * x


def nap(x):
    import time

    if x == 0:
        raise RuntimeError("item 0 fails")
    time.sleep(5)
    return x


def hold(seconds):
    import time

    time.sleep(seconds)
    return seconds


async def test_return_exceptions_keeps_the_good_results_beside_the_errors(colony, client: ColoniesClient) -> None:
    cfg = config_for(colony, allow_code=True)
    async with running(cfg, slots=2):
        pool = Pool(client, colony.name, colony.user_prvkey, cfg.executortype)
        results = await pool.map(double_unless_3_mod_7, range(60), return_exceptions=True, progress=False)
        ran = await job_processes(client, colony, cfg.executortype, pool.last_job)
    for i, result in enumerate(results):
        if i % 7 == 3:
            assert isinstance(result, RemoteError) and (result.type_name, result.message) == ("ValueError", f"bad item {i}")
            assert "raise ValueError" in result.traceback
        else:
            assert result == 2 * i
    assert covers_once(ran, 60) and any(span_of(p).size > 1 for p in ran)  # some items went together


async def test_as_completed_gives_every_index_once_with_fixed_chunks(colony, client: ColoniesClient) -> None:
    cfg = config_for(colony, allow_code=True)
    async with running(cfg, slots=2):
        pool = Pool(client, colony.name, colony.user_prvkey, cfg.executortype)
        seen = {i: r async for i, r in pool.as_completed(square, range(50), chunksize=5, progress=False)}
        ran = await job_processes(client, colony, cfg.executortype, pool.last_job)
    assert seen == {i: i * i for i in range(50)}
    assert len(ran) == 10 and covers_once(ran, 50) and all(p.state == SUCCESS for p in ran)


async def test_a_failure_raises_at_once_and_cancels_the_rest_of_the_map(colony, client: ColoniesClient) -> None:
    cfg = config_for(colony, allow_code=True)
    async with running(cfg, slots=2):
        pool = Pool(client, colony.name, colony.user_prvkey, cfg.executortype, concurrency=6)
        with pytest.raises(RemoteError, match="item 0 fails"):
            await pool.map(nap, range(20), chunksize=1, progress=False)
        ran = await job_processes(client, colony, cfg.executortype, pool.last_job)
    assert not [p for p in ran if p.state in (WAITING, RUNNING)]
    cancelled = [p for p in ran if p.state == CANCELLED]
    assert len(ran) == 6 and len(cancelled) == pool.last_cancelled >= 4  # the in-flight limit held; the rest were never sent


FLEET = 40


async def test_in_flight_follows_the_slots_the_fleet_declares(colony, client: ColoniesClient) -> None:
    """Forty executors of one slot each (80 processes in flight): all forty run at once (from the
    server's start and end times), though no `concurrency` is given."""
    etype = unique("fleet")
    configs = [config_for(colony, allow_code=True, executortype=etype) for _ in range(FLEET)]
    async with contextlib.AsyncExitStack() as stack:
        await asyncio.gather(*(stack.enter_async_context(running(cfg, slots=1)) for cfg in configs))
        pool = Pool(client, colony.name, colony.user_prvkey, etype)
        assert await pool.map(hold, [3] * (2 * FLEET), chunksize=1, progress=False) == [3] * (2 * FLEET)
        ran = await job_processes(client, colony, etype, pool.last_job)
    spans = [(server_time(p.starttime), server_time(p.endtime), p.assignedexecutorid) for p in ran]
    # an executor may start its next process a moment before the server stores the last one's end: count executors
    busy_at_once = max(len({who for s, e, who in spans if s <= start < e}) for start, _, _ in spans)
    assert busy_at_once == FLEET


def driver(mode: str, job: str, n: int, etype: str, env: dict[str, str]) -> asyncio.subprocess.Process:
    return asyncio.create_subprocess_exec(  # type: ignore[return-value]
        sys.executable, "-m", "tests.helpers.map_driver", mode, job, str(n), etype, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


def driver_env(colony, jobs_dir: Path) -> dict[str, str]:
    return {**os.environ, **colony.env, "PYTHONPATH": str(ROOT), "WASM_EXECUTOR_JOBS": str(jobs_dir)}


async def wait_until_succeeded(client: ColoniesClient, colony, etype: str, job: str, count: int) -> None:
    for _ in range(600):
        if sum(p.state == SUCCESS for p in await job_processes(client, colony, etype, job)) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{count} processes of {job} did not succeed within 30 s")


def cli_lists_nothing_of(colony, job: str) -> None:
    for command in ("ps", "psw"):
        listed = colony.cli("process", command, "--label", job, "--json")
        assert listed.returncode == 0, listed.stderr
        assert listed.stdout.strip() in ("", "null", "[]"), f"`colonies process {command}` lists: {listed.stdout[:300]}"


async def test_ctrl_c_in_a_500_item_map_cancels_all_of_it_and_says_how_many(colony, client: ColoniesClient, jobs_dir: Path) -> None:
    cfg = config_for(colony, allow_code=True)
    job = unique("interrupted")
    async with running(cfg, slots=2):
        # 40 in flight: many are WAITING when Ctrl-C comes (with the fleet's 4, all could end first)
        proc = await driver("map", job, 500, cfg.executortype, {**driver_env(colony, jobs_dir), "MAP_CONCURRENCY": "40"})
        await wait_until_succeeded(client, colony, cfg.executortype, job, 10)
        proc.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(proc.communicate(), 30)
        ran = await job_processes(client, colony, cfg.executortype, job)
    assert proc.returncode != 0
    cancelled = [p for p in ran if p.state == CANCELLED]
    assert cancelled and f"cancelled {len(cancelled)} processes" in err.decode(), err.decode()[-3000:]
    assert not [p for p in ran if p.state in (WAITING, RUNNING)]
    cli_lists_nothing_of(colony, job)


async def test_attach_after_the_driver_was_killed_returns_every_result_once(colony, client: ColoniesClient, jobs_dir: Path) -> None:
    cfg = config_for(colony, allow_code=True)
    job = unique("orphaned")
    env = driver_env(colony, jobs_dir)
    async with running(cfg, slots=2):
        proc = await driver("map", job, 60, cfg.executortype, env)
        await wait_until_succeeded(client, colony, cfg.executortype, job, 8)
        proc.kill()
        await proc.wait()
        before = len(Manifest.load(job).submitted)
        attached = await driver("attach", job, 0, cfg.executortype, env)
        out, err = await asyncio.wait_for(attached.communicate(), 120)
        ran = await job_processes(client, colony, cfg.executortype, job)
    assert attached.returncode == 0, err.decode()
    assert json.loads(out.decode().splitlines()[-1]) == [2 * i for i in range(60)]
    assert 8 <= before < 60  # killed midway: the new driver took over, it did not start again
    assert covers_once(ran, 60) and all(p.state == SUCCESS and p.retries == 0 for p in ran)


async def test_the_sync_front_maps_in_a_plain_script(colony, jobs_dir: Path) -> None:
    cfg = config_for(colony, allow_code=True)
    async with running(cfg, slots=2):
        proc = await driver("sync", "", 100, cfg.executortype, driver_env(colony, jobs_dir))
        out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()
    assert json.loads(out.decode().splitlines()[-1]) == [2 * i for i in range(100)]


# A slow device: its `python` holds every process two minutes before it runs it.
SLOW = '''
import asyncio

real = {f.name: f.fn for f in registry}["python"]


@registry.register("python")
async def python(*args, **kwargs):
    await asyncio.sleep(120)
    return await real(*args, **kwargs)
'''


async def test_a_straggler_is_overtaken_on_an_idle_executor_and_cancelled(colony, client: ColoniesClient, tmp_path: Path) -> None:
    """Three one-slot executors, one of them very slow: the item it holds is run again on another
    when the rest is done, long before the server's deadline would requeue it; the slow copy is
    cancelled, and every other item ran once."""
    etype = unique("straggle")
    functions = tmp_path / "slow.py"
    functions.write_text(SLOW)
    slow = config_for(colony, allow_code=True, executortype=etype)
    async with contextlib.AsyncExitStack() as stack:
        await stack.enter_async_context(running(slow, slots=1, functions_file=str(functions)))
        for _ in range(2):
            await stack.enter_async_context(running(config_for(colony, allow_code=True, executortype=etype), slots=1))
        pool = Pool(client, colony.name, colony.user_prvkey, etype, maxexectime=60)
        assert await pool.map(square, range(12), chunksize=1, progress=False) == [x * x for x in range(12)]
        ran = await job_processes(client, colony, etype, pool.last_job)
        fleet = await client.get_executors(colony.name, colony.user_prvkey)
        slow_id = next(e.executorid for e in fleet if e.executorname == slow.executorname)
    held = [p for p in ran if p.assignedexecutorid == slow_id]
    assert len(held) == 1 and held[0].state == CANCELLED
    overtaken = span_of(held[0]).items
    again = [p for p in ran if span_of(p).items == overtaken and p.processid != held[0].processid]
    assert len(again) == 1 and again[0].state == SUCCESS and again[0].assignedexecutorid != slow_id
    assert server_time(again[0].endtime) - server_time(held[0].starttime) < pool.maxexectime
    rest = [p for p in ran if span_of(p).items != overtaken]
    assert covers_once(rest + again, 12) and all(p.state == SUCCESS for p in rest)
