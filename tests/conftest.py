"""Shared fixtures: the real local ColonyOS (from `python build.py up`) and its keys.

A test that needs the server and finds none FAILS with the command that brings it up;
nothing here skips. Point the suite at another server with the same COLONIES_* variables
that `source .colonies/dev.env` exports. Unit tests use none of this.
"""

from __future__ import annotations

import contextlib
import urllib.request
from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio

from tests.helpers.colony import Colony, TestExecutor, unique
from tools.devenv import read_dev_env, server_url
from wasm_executor import ColoniesClient, Executor, gen_prvkey


@pytest.fixture(scope="session")
def colony() -> Colony:
    env = read_dev_env()
    missing = [k for k in ("COLONIES_SERVER_HOST", "COLONIES_COLONY_PRVKEY", "COLONIES_PRVKEY") if k not in env]
    if missing:
        pytest.fail(f"no ColonyOS configured ({', '.join(missing)} unset): run `python build.py up` first")
    url = server_url(env)
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=5) as r:
            assert r.status == 200
    except OSError as exc:
        pytest.fail(f"ColonyOS at {url} does not answer /health ({exc}): run `python build.py up`")
    return Colony(
        url=url,
        name=env.get("COLONIES_COLONY_NAME", "dev"),
        colony_prvkey=env["COLONIES_COLONY_PRVKEY"],
        user_prvkey=env["COLONIES_PRVKEY"],
        server_prvkey=env.get("COLONIES_SERVER_PRVKEY", ""),
        env=env,
    )


@pytest_asyncio.fixture
async def client(colony: Colony) -> AsyncIterator[ColoniesClient]:
    async with ColoniesClient(colony.url) as c:
        yield c


@pytest_asyncio.fixture
async def make_executor(colony: Colony, client: ColoniesClient) -> AsyncIterator[Callable[..., object]]:
    """Factory: an approved executor with its own key and a type no other test uses."""
    made: list[TestExecutor] = []

    async def make(approve: bool = True, executortype: str | None = None) -> TestExecutor:
        ex = TestExecutor(unique("pytest"), executortype or unique("pytype"), gen_prvkey())
        await client.add_executor(Executor.new(ex.name, ex.executorid, ex.executortype, colony.name), colony.colony_prvkey)
        if approve:
            await client.approve_executor(colony.name, ex.name, colony.colony_prvkey)
        made.append(ex)
        return ex

    yield make
    for ex in made:
        with contextlib.suppress(Exception):
            await client.remove_executor(colony.name, ex.name, colony.colony_prvkey)
