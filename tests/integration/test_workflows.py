"""Workflows on the real server: DAGs submitted with the real CLI, each child computed from its
parents' outputs (the server's `in`), and `Pool` running a map→reduce as one workflow that a
second driver process collects by its ID."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.engine import config_for, running
from tests.helpers.workflows import assert_chain_and_fan_in
from tools.layout import ROOT
from wasm_executor import ColoniesClient, Pool, RemoteError

pytestmark = pytest.mark.server


async def test_cli_workflows_chain_and_fan_out_fan_in_on_the_cpython_executor(colony, client: ColoniesClient, tmp_path: Path) -> None:
    cfg = config_for(colony)
    async with running(cfg, slots=2):
        await assert_chain_and_fan_in(colony, client, cfg.executortype, tmp_path)


def square(x):
    return x * x


def total(*xs):
    return sum(xs)


def as_text(x):
    return f"<{x}>"


def broken(x):
    raise ValueError(f"no {x}")


COLLECT = """
import asyncio, sys
from wasm_executor import ColoniesClient, Pool
async def main():
    async with ColoniesClient(sys.argv[1]) as client:
        pool = Pool(client, sys.argv[2], sys.argv[3], executortype=sys.argv[4])
        print(await pool.collect(sys.argv[5]))
asyncio.run(main())
"""


async def test_pool_map_reduce_is_one_workflow_that_another_driver_collects_by_id(colony, client: ColoniesClient) -> None:
    cfg = config_for(colony, allow_code=True)
    user = colony.user_prvkey
    pool = Pool(client, colony.name, user, executortype=cfg.executortype)
    graph_id = await pool.submit_map_reduce(square, range(10), total)  # submitted with no executor up: it waits
    graph = await client.get_processgraph(graph_id, user)
    assert len(graph.processids) == 11
    async with running(cfg, slots=2):
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        argv = [sys.executable, "-c", COLLECT, colony.url, colony.name, user, cfg.executortype, graph_id]
        proc = await asyncio.to_thread(subprocess.run, argv, env=env, capture_output=True, text=True, timeout=120)
        assert (proc.returncode, proc.stdout.strip()) == (0, str(sum(x * x for x in range(10)))), proc.stderr
        assert await pool.pipeline([square, square, as_text], 3) == "<81>"
        with pytest.raises(RemoteError, match="ValueError: no 2"):
            await pool.map_reduce(broken, [2], total)
