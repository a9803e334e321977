"""Pages nobody watches: a tab closed, reloaded or frozen in the middle of a process. The page's
farewell (engine/farewell.py, sent with sendBeacon as it goes) takes the executor out of the
colony and the server puts what it held back in the queue at once: nothing stays RUNNING for a
page that is gone, and a reloaded tab serves again with no click. Real Chromium, real server."""

from __future__ import annotations

import asyncio
import time

import pytest
from playwright.async_api import Browser, Page

from tests.helpers.colony import unique
from tests.helpers.engine import config_for, running
from tests.helpers.jobs import covers_once, job_processes
from tools.browser import attached, detached_chromium, start_executor, wait_state
from tools.cdp import open_tab_in_front, page_session
from wasm_executor import APPROVED, RUNNING, SUCCESS, WAITING, ColoniesClient, FunctionSpec, Pool, Process, gen_id
from wasm_executor.errors import RequestTimeout
from wasm_executor.objects import server_time

pytestmark = [pytest.mark.server, pytest.mark.browser]
UNREGISTERED = 3


async def until(check, what: str, timeout: float = 30):  # type: ignore[no-untyped-def]
    """Poll `check()` (async) until it returns something true; that value."""
    async def loop():  # type: ignore[no-untyped-def]
        while not (value := await check()):
            await asyncio.sleep(0.1)
        return value
    try:
        return await asyncio.wait_for(loop(), timeout)
    except TimeoutError:
        raise AssertionError(f"not within {timeout:g} s: {what}") from None


async def serving_page(browser: Browser, colony, page_url: str, etype: str) -> tuple[Page, str]:
    page = await (await browser.new_context()).new_page()
    name = unique("page")
    await start_executor(page, page_url, colony.url, colony.name, name, etype, colony.colony_prvkey, 1)
    assert await wait_state(page, "polling", "error", timeout=120) == "polling"
    return page, name


async def held_by(client: ColoniesClient, colony, process: Process, executorid: str) -> Process:
    async def check() -> Process | None:
        p = await client.get_process(process.processid, colony.user_prvkey)
        return p if p.state == RUNNING and p.assignedexecutorid == executorid else None
    return await until(check, f"process {process.processid} running on {executorid}")


async def ends(client: ColoniesClient, colony, process: Process, who: dict[str, str]) -> Process:
    """The process once it ended; if it does not, say who holds it (by `who`: ID -> role) and cancel it."""
    try:
        return await client.wait_for_end(process, 60, colony.user_prvkey)
    except RequestTimeout:
        stuck = await client.get_process(process.processid, colony.user_prvkey)
        await client.cancel_process(process.processid, colony.user_prvkey)
        holder = who.get(stuck.assignedexecutorid, stuck.assignedexecutorid or "nobody")
        raise AssertionError(f"{process.spec.funcname} {process.spec.args} did not end: state {stuck.state}, held by {holder}") from None


def sleep_spec(colony, etype: str, seconds: int) -> FunctionSpec:
    spec = FunctionSpec.new("sleep", etype, colony.name)
    spec.args = [seconds]  # no maxexectime: without the farewell it would stay RUNNING for good
    return spec


async def test_a_tab_closed_mid_process_hands_it_back_at_once(browser: Browser, colony, page_url: str, client: ColoniesClient) -> None:
    etype = unique("wasm-closed")
    page, name = await serving_page(browser, colony, page_url, etype)
    me = (await client.get_executor(colony.name, name, colony.user_prvkey)).executorid
    process = await client.submit(sleep_spec(colony, etype, 30), colony.user_prvkey)
    await held_by(client, colony, process, me)

    await page.context.close()  # the tab (and its browser context) goes: pagehide, the beacon

    async def back_in_queue() -> Process | None:
        p = await client.get_process(process.processid, colony.user_prvkey)
        return p if p.state == WAITING and not p.assignedexecutorid else None
    await until(back_in_queue, "the closed tab's process back in the queue", timeout=10)
    gone = await client.get_executor(colony.name, name, colony.user_prvkey)
    assert gone.state == UNREGISTERED
    # Another executor of the type takes it, from the start: it ends there, once.
    cfg = config_for(colony, executortype=etype)
    async with running(cfg, slots=1):
        ended = await client.wait_for_end(process, 60, colony.user_prvkey)
    assert ended.state == SUCCESS and ended.assignedexecutorid != me


async def test_a_reloaded_tab_serves_again_without_a_click_and_finishes_its_process(
    browser: Browser, colony, page_url: str, client: ColoniesClient,
) -> None:
    etype = unique("wasm-reload")
    page, name = await serving_page(browser, colony, page_url, etype)
    me = (await client.get_executor(colony.name, name, colony.user_prvkey)).executorid
    process = await client.submit(sleep_spec(colony, etype, 4), colony.user_prvkey)
    await held_by(client, colony, process, me)
    try:
        await page.reload()
        assert await wait_state(page, "polling", "error", timeout=30) == "polling"  # no click
        ended = await client.wait_for_end(process, 60, colony.user_prvkey)
        assert ended.state == SUCCESS and ended.assignedexecutorid == me  # the same executor, after a requeue
        assert "serving again" in (await page.text_content("#log") or "")
        # Stopped by the owner, a reload stays stopped.
        await page.get_by_role("button", name="Stop Executor").click()
        await wait_state(page, "stopped", timeout=30)
        await page.reload()
        await wait_state(page, "ready", timeout=120)
        assert await page.text_content("#state") == "ready"
    finally:
        await page.context.close()


async def test_a_frozen_tab_takes_no_new_work_hands_back_what_it_held_and_serves_again_when_resumed(
    colony, page_url: str, client: ColoniesClient,
) -> None:
    """Hidden behind another tab, then frozen over raw CDP (as Chromium freezes hidden busy tabs):
    hidden, it held no long-poll open; frozen, its beacon hands back its running process and its
    executor worker ends, so of ten processes submitted right after none goes to it; a live
    executor runs them all and the one handed back. Resumed, it reloads and serves again by itself."""
    etype = unique("wasm-frozen")
    name = unique("page")
    async with detached_chromium() as endpoint:
        async with attached(endpoint) as page:
            # Two slots: one busy with the held process, one with its long-poll open at the freeze.
            await start_executor(page, page_url, colony.url, colony.name, name, etype, colony.colony_prvkey, 2)
            assert await wait_state(page, "polling", "error", timeout=120) == "polling"
        me = (await client.get_executor(colony.name, name, colony.user_prvkey)).executorid
        held = await client.submit(sleep_spec(colony, etype, 3), colony.user_prvkey)
        await held_by(client, colony, held, me)

        live = config_for(colony, executortype=etype)
        who = {me: "the frozen page", gen_id(live.prvkey): "the live executor"}
        await open_tab_in_front(endpoint)  # hidden first, as the browser freezes only hidden tabs
        async with page_session(endpoint, page_url) as cdp, running(live, slots=2):
            assert await cdp.evaluate("document.visibilityState") == "hidden"

            async def short_polls() -> bool:  # hidden: its long-poll is cut, it asks without waiting
                return await cdp.evaluate("document.body.dataset.poll") == "short"
            await until(short_polls, "the hidden page asking without a long-poll", timeout=10)
            await cdp.send("Page.setWebLifecycleState", {"state": "frozen"})
            frozen_at = time.time()
            echoes = []
            for i in range(10):
                spec = FunctionSpec.new("echo", etype, colony.name)
                spec.args = [f"after the freeze {i}"]
                echoes.append(await client.submit(spec, colony.user_prvkey))
            ended = [await ends(client, colony, p, who) for p in [*echoes, held]]
            assert all(p.state == SUCCESS for p in ended), [(p.state, p.errors) for p in ended]
            assert not [p for p in ended if p.assignedexecutorid == me]  # the frozen page took none
            # What it held was handed back at once and ran elsewhere: its 3 s end well within 5 s of the
            # freeze (the submits after it wake the live executor's polls; with none, its next poll, <= 10 s).
            assert server_time(ended[-1].endtime) - frozen_at < 5
            assert (await client.get_executor(colony.name, name, colony.user_prvkey)).state == UNREGISTERED

            await cdp.send("Page.setWebLifecycleState", {"state": "active"})  # resumed: it reloads, then serves

        # The page reloads; hidden now (CDP leaves it so), it renders nothing, so ask the server.
        async def joined_again() -> bool:
            return (await client.get_executor(colony.name, name, colony.user_prvkey)).state == APPROVED
        await until(joined_again, "the resumed page joined again", timeout=60)
        again = await client.submit(sleep_spec(colony, etype, 0), colony.user_prvkey)
        ended_again = await ends(client, colony, again, who)
        assert (ended_again.state, ended_again.assignedexecutorid) == (SUCCESS, me)


def hold(x):
    import time

    time.sleep(1)
    return x


async def test_a_map_over_two_pages_completes_when_one_is_closed_halfway(
    browser: Browser, colony, page_url: str, client: ColoniesClient,
) -> None:
    """The closed page's process goes back to the queue and the other page runs it: every item
    once, from the server's records, long before the processes' 60 s `maxexectime`."""
    etype = unique("wasm-halfway")
    pages = []
    for _ in range(2):
        page = await (await browser.new_context()).new_page()
        await start_executor(page, page_url, colony.url, colony.name, unique("page"), etype, colony.colony_prvkey, 1, allow_code=True)
        pages.append(page)
    for page in pages:
        assert await wait_state(page, "polling", "error", timeout=120) == "polling"
    pool = Pool(client, colony.name, colony.user_prvkey, etype)
    try:
        async def close_halfway() -> None:
            async def half_done() -> bool:
                return sum(p.state == SUCCESS for p in await job_processes(client, colony, etype, pool.last_job)) >= 6
            await until(half_done, "half of the map done", timeout=60)
            await pages[0].context.close()

        results, _ = await asyncio.gather(pool.map(hold, range(12), chunksize=1, progress=False), close_halfway())
        ran = await job_processes(client, colony, etype, pool.last_job)
    finally:
        await pages[1].context.close()
    assert results == list(range(12))
    assert covers_once(ran, 12) and all(p.state == SUCCESS for p in ran)
    assert max(server_time(p.endtime) for p in ran) - min(server_time(p.starttime) for p in ran) < pool.maxexectime
