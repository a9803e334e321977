"""Shared fixtures: the real local ColonyOS (from `python build.py up`) and its keys, one Chromium
and the bundle served.

A test that needs the server and finds none FAILS with the command that brings it up;
nothing here skips. Point the suite at another server with the same COLONIES_* variables
that `source .colonies/dev.env` exports. Unit tests use none of this.
"""

from __future__ import annotations

import asyncio
import contextlib
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime

import pytest
import pytest_asyncio
from playwright.async_api import Browser

from tests.helpers.colony import Colony, TestExecutor, unique
from tools.browser import chromium
from tools.devenv import read_dev_env, server_url
from tools.serve import serve_bundle
from wasm_executor import RUNNING, WAITING, ColoniesClient, Executor, gen_prvkey


@pytest.fixture(autouse=True)
def jobs_dir(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> object:
    """Where `Pool` keeps its maps' records (`pool.manifest`): the test's own folder, not ~/.cache."""
    path = tmp_path / "jobs"  # type: ignore[operator]
    monkeypatch.setenv("WASM_EXECUTOR_JOBS", str(path))
    return path


@pytest_asyncio.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """One Chromium for the session (the browser and cluster tests)."""
    async with chromium() as b:
        yield b


@pytest.fixture(scope="session")
def page_url() -> Iterator[str]:
    """The bundle, served once."""
    with serve_bundle() as url:
        yield url


@pytest.fixture(scope="session")
def colony() -> Iterator[Colony]:
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
    started = datetime.now(UTC)
    colony = Colony(
        url=url,
        name=env.get("COLONIES_COLONY_NAME", "dev"),
        colony_prvkey=env["COLONIES_COLONY_PRVKEY"],
        user_prvkey=env["COLONIES_PRVKEY"],
        server_prvkey=env.get("COLONIES_SERVER_PRVKEY", ""),
        env=env,
    )
    yield colony
    left = asyncio.run(_left_behind(colony, started))
    assert not left, f"the suite left {len(left)} process(es) WAITING or RUNNING: {left[:10]}"


async def _left_behind(colony: Colony, since: datetime) -> list[str]:
    """Processes submitted since `since` that have not ended: nothing a test submits may stay so."""
    async with ColoniesClient(colony.url) as client:
        left = []
        for state in (WAITING, RUNNING):
            for p in await client.get_processes(colony.name, 100, state, colony.user_prvkey):  # the server lists 100 at most
                if datetime.fromisoformat(p.submissiontime.replace("Z", "+00:00")) >= since:
                    left.append(f"{p.spec.funcname} ({p.spec.conditions.executortype}, state {state})")
        return left


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
        # What a test left unserved (a poll it timed out, the server's blueprint reconcile and
        # cleanup processes) is cancelled with its type: nothing of the suite stays WAITING.
        for state in (WAITING, RUNNING):
            for p in await client.get_processes(colony.name, 100, state, colony.user_prvkey, executortype=ex.executortype):
                with contextlib.suppress(Exception):
                    await client.cancel_process(p.processid, colony.user_prvkey)
        with contextlib.suppress(Exception):
            await client.remove_executor(colony.name, ex.name, colony.colony_prvkey)
