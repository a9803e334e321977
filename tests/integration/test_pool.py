"""Shipping Python to executors on the real server: the `python` function by the real CLI, and
`Pool` from a program, served by CPython executors with functions in child processes."""

from __future__ import annotations

import asyncio

import pytest

from tests.helpers import pycolonies
from tests.helpers.engine import config_for, running
from tests.helpers.jobs import covers_once, job_processes
from wasm_executor import FAILED, RUNNING, SUCCESS, ColoniesClient, Pool, RemoteError
from wasm_executor.remote import NOT_ALLOWED

pytestmark = pytest.mark.server


def square(x):
    return x * x


def fails(x):
    if x < 0:
        raise ValueError(f"negative: {x}")
    return x


def whoami(x):
    import os

    return [x, os.getpid()]


async def test_cli_python_snippet_prints_45_where_the_owner_allows_it(colony) -> None:
    async with running(config_for(colony, allow_code=True)) as (executor, _):
        code, out, err = await colony.exec(executor.config.executortype, "python", "sum(range(10))")
    assert (code, out) == (0, "45"), err


async def test_cli_python_is_refused_with_the_reason_without_consent(colony, client: ColoniesClient) -> None:
    async with running(config_for(colony)) as (executor, _):
        code, _, err = await colony.exec(executor.config.executortype, "python", "print('ran'); 1")
    assert code != 0 and NOT_ALLOWED in err
    failed = await client.get_processes(colony.name, 10, FAILED, colony.user_prvkey, executortype=executor.config.executortype)
    assert [p.errors for p in failed] == [[NOT_ALLOWED]]
    logs = await client.get_logs(colony.name, failed[0].processid, "", 10, 0, colony.user_prvkey)
    assert logs == []  # nothing ran: nothing printed


async def test_pool_run_map_and_remote_error(colony, client: ColoniesClient) -> None:
    cfg_a = config_for(colony, allow_code=True)
    cfg_b = config_for(colony, allow_code=True, executortype=cfg_a.executortype)
    async with running(cfg_a, slots=2) as (a, _), running(cfg_b, slots=2) as (b, _):
        pool = Pool(client, colony.name, colony.user_prvkey, executortype=cfg_a.executortype)
        assert await pool.run(square, 7) == 49
        assert await pool.map(square, range(100), progress=False) == [x * x for x in range(100)]
        ran = await job_processes(client, colony, cfg_a.executortype, pool.last_job)
        assert all(p.state == SUCCESS for p in ran) and covers_once(ran, 100)
        assert len(ran) < 100  # once the first were timed, several items went in one process
        served = {pid for _, pid in await pool.map(whoami, range(40), progress=False)}
        assert len(served) >= 2  # both executors' slots took some
        with pytest.raises(RemoteError) as caught:
            await pool.run(fails, -3)
        err = caught.value
        assert (err.type_name, err.message) == ("ValueError", "negative: -3")
        assert "Traceback" in err.traceback and "raise ValueError" in err.traceback
        assert await asyncio.gather(pool.run(fails, 1), pool.run(square, 3)) == [1, 9]
        whoami_ran = await job_processes(client, colony, cfg_a.executortype, pool.last_job)
        assert (a.done + b.done, a.failed + b.failed) == (1 + len(ran) + len(whoami_ran) + 2, 1)


def count_slowly(n, pause, fail_at=-1):
    import time

    for i in range(n):
        if i == fail_at:
            raise RuntimeError(f"stopped at {i}")
        yield {"i": i}
        time.sleep(pause)


async def test_stream_yields_each_item_while_the_function_still_runs(colony, client: ColoniesClient) -> None:
    cfg = config_for(colony, allow_code=True)
    async with running(cfg, slots=1):
        pool = Pool(client, colony.name, colony.user_prvkey, executortype=cfg.executortype)
        seen, states = [], []
        async for part in pool.stream(count_slowly, 4, 0.4):
            seen.append(part)
            processes = await client.get_processes(colony.name, 5, RUNNING, colony.user_prvkey, executortype=cfg.executortype)
            states.append(len(processes))
        assert seen == [{"i": i} for i in range(4)]
        assert states[:3] == [1, 1, 1]  # the first items came while the process was still RUNNING
        assert (pool.last_stream.live, pool.last_stream.at_end) == (4, 0)  # type: ignore[union-attr]

        got = []
        with pytest.raises(RemoteError) as caught:
            async for part in pool.stream(count_slowly, 5, 0.1, fail_at=2):
                got.append(part)
        assert got == [{"i": 0}, {"i": 1}] and caught.value.type_name == "RuntimeError"
        # The same generator through run: every item, as one list.
        assert await pool.run(count_slowly, 3, 0) == [{"i": 0}, {"i": 1}, {"i": 2}]


async def test_a_function_sent_by_pycolonies_runs_and_its_result_reads_back_in_pycolonies(colony) -> None:
    async with running(config_for(colony, allow_code=True)) as (executor, _):
        said = await asyncio.to_thread(pycolonies.submit_and_read, colony.url, colony.name, executor.config.executortype,
                                       colony.user_prvkey)
    assert said == "2 [43] []"
