"""1,000 `echo` through two pages and a CPython executor while the 3-replica ColonyOS loses a
replica (SIGKILL, not the leader), gets it back, and then loses its leader: every process SUCCESS
with its own output, none started twice (by the executors' own counts), none left RUNNING (by
the server's records). Once through the load balancer, once with the three replicas' URLs given
to everyone directly."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable

import pytest
from playwright.async_api import Browser, Page

from tests.helpers.colony import Colony, unique
from tests.helpers.engine import config_for, running, spec_for
from tools.browser import start_executor, wait_state
from tools.colonyos import Deployment
from tools.layout import ARTIFACTS
from wasm_executor import RUNNING, SUCCESS, WAITING, ColoniesClient, Process
from wasm_executor.events import LogLine, ProcessStarted

pytestmark = [pytest.mark.server, pytest.mark.browser]

TOTAL = 1000
PAGES, PAGE_SLOTS, CPYTHON_SLOTS = 2, 2, 2
# A process whose `assign` reply died with its replica is the server's RUNNING for an executor
# that never heard of it: the server gives it out again after maxexectime (ColonyOS has no other way).
MAXEXECTIME, MAXRETRIES = 20, 3


async def until(what: str, check: Callable[[], Awaitable[bool]], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout:g} s: {what}")
        await asyncio.sleep(0.2)


async def submit_all(client: ColoniesClient, colony: Colony, cfg, total: int) -> list[Process]:
    async def one(i: int) -> Process:
        spec = spec_for(cfg, "echo", str(i), maxexectime=MAXEXECTIME, maxretries=MAXRETRIES)
        return await client.submit(spec, colony.user_prvkey)

    ps: list[Process] = []
    for start in range(0, total, 50):
        ps += await asyncio.gather(*(one(i) for i in range(start, min(start + 50, total))))
    return ps


async def page_server(page: Page) -> str:
    """The server a page uses: shown when it was given several, else the one URL it was given."""
    return await page.get_attribute("#server-in-use", "data-url") or await page.input_value("#server-url")


async def page_count(page: Page, selector: str) -> int:
    return int(await page.text_content(selector) or 0)


@pytest.mark.parametrize("through", ["load balancer", "replica URLs"])
async def test_1000_echo_survive_a_replica_killed_and_back_then_the_leader_killed(
    browser: Browser, page_url: str, replicated: Colony, cluster: Deployment, through: str,
) -> None:
    colony = replicated
    urls = colony.url if through == "load balancer" else ", ".join(r.url for r in cluster.replicas())
    etype = unique("wasm-ha")
    seen: list[str] = []
    async with ColoniesClient(urls) as client:
        ps = await served_through_failover(browser, page_url, colony, cluster, urls, etype, client, seen)
        retried = 0
        for i, p in enumerate(ps):
            got = await client.get_process(p.processid, colony.user_prvkey)
            assert (got.state, got.output) == (SUCCESS, [str(i)]), i
            retried += got.retries > 0
        for state in (RUNNING, WAITING):
            assert await client.get_processes(colony.name, 10, state, colony.user_prvkey, executortype=etype) == []
    print(f"\n{through}: {'; '.join(seen)}; {retried} process(es) given out again after a lost assign")


async def served_through_failover(
    browser: Browser, page_url: str, colony: Colony, cluster: Deployment, urls: str, etype: str,
    client: ColoniesClient, seen: list[str],
) -> list[Process]:
    """Everything submitted and served while replicas die; the executors' own checks. Returns the processes."""
    cfg = config_for(colony, server_url=urls, executortype=etype, max_backoff=1.0)
    contexts = [await browser.new_context() for _ in range(PAGES)]
    pages = [await ctx.new_page() for ctx in contexts]
    names = [unique("wasm-ha-page") for _ in pages]
    try:
        for page, name in zip(pages, names, strict=True):
            await start_executor(page, page_url, urls, colony.name, name, etype, colony.colony_prvkey, PAGE_SLOTS)
            assert await wait_state(page, "polling", "error", timeout=120) == "polling"
        async with running(cfg, slots=CPYTHON_SLOTS) as (executor, rec):
            ps = await submit_all(client, colony, cfg, TOTAL)

            async def done() -> int:
                return executor.done + sum([await page_count(p, "#done-count") for p in pages])

            async def at_least(n: int) -> bool:
                return await done() >= n

            await until("a quarter served", lambda: at_least(TOTAL // 4), 180)
            leader = await asyncio.to_thread(cluster.leader)
            on_killed = [await page_server(p) for p in pages] + [executor.client.server_url]
            # The first page's own replica, unless it is the leader (killed later) or the balancer is
            # in front: so that the first page sees one of the two kills, whichever replica it took.
            victim = cluster.replica_at(on_killed[0])
            if victim in (None, leader):
                victim = next(r.name for r in cluster.replicas() if r.name != leader)
            await asyncio.to_thread(cluster.kill, victim)
            seen.append(f"{victim} killed at {await done()} done")
            await until("half served", lambda: at_least(TOTAL // 2), 180)
            await asyncio.to_thread(cluster.up, len(cluster.replicas()))
            seen.append(f"{victim} back at {await done()} done")
            await until("three quarters served", lambda: at_least(3 * TOTAL // 4), 180)
            leader = await asyncio.to_thread(cluster.leader)
            assert leader, "no replica says it leads"
            on_leader = [await page_server(p) for p in pages] + [executor.client.server_url]
            await asyncio.to_thread(cluster.kill, leader)
            seen.append(f"{leader} (the leader) killed at {await done()} done")
            await until("all served", lambda: at_least(TOTAL), 300)
            seen.append(f"new leader: {await asyncio.to_thread(cluster.leader)}")
            cpython_started = sum(isinstance(e, ProcessStarted) for e in rec.events)
            cpython_log = [e.message for e in rec.events if isinstance(e, LogLine)]
        page_started = [int(await p.get_attribute("#status", "data-started") or 0) for p in pages]
        assert [await page_count(p, "#failed-count") for p in pages] == [0] * PAGES
        assert cpython_started + sum(page_started) == TOTAL, (cpython_started, page_started)  # none started twice
        ARTIFACTS.mkdir(exist_ok=True)
        await pages[0].screenshot(path=str(ARTIFACTS / f"cluster-{'direct' if ',' in urls else 'balanced'}.png"), full_page=True)
        logs = [await page.locator("#log li").all_text_contents() for page in pages] + [cpython_log]
        moves = [[re.search(r"server (\S+) did not answer", line)[1] for line in log if "did not answer" in line]
                 for log in logs]
        if "," in urls:
            # Each executor whose replica was killed under it said so and moved (the first page
            # always: its replica is one of the two killed); none left a replica never killed.
            killed = [cluster.replica(victim).url, cluster.replica(leader).url]
            for who, left, *was_on in zip([*names, "cpython"], moves, on_killed, on_leader, strict=True):
                assert set(left) <= set(killed), (who, left)
                assert {url for url, dead in zip(was_on, killed, strict=True) if url == dead} <= set(left), (who, left)
            assert moves[0], logs[0]
            seen.append(f"on the first kill the executors used {on_killed}, on the second {on_leader}")
        else:
            assert moves == [[]] * (PAGES + 1)  # one URL, the balancer's: nowhere to move
        seen += [f"{who}: {line}" for who, log in zip([*names, "cpython"], logs, strict=True) for line in log
                 if "did not answer" in line or "unreachable" in line or "answers again" in line]
    finally:
        for ctx in contexts:
            await ctx.close()
        for name in names:
            await asyncio.to_thread(colony.cli, "executor", "remove", "--name", name, prvkey=colony.colony_prvkey)
        await asyncio.to_thread(cluster.up, len(cluster.replicas()))
    return ps
