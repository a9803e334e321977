"""The engine in the browser: slot workers, deadlines, cancel, stop, bad input, outages.

Real Chromium, the real server and CLI. Each test starts its own page with an executor type no
other test uses, and checks what happened from the server's own records.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page

from tests.helpers.colony import Colony, unique
from tests.helpers.proxy import OutageProxy
from tools.browser import start_executor, wait_state
from tools.colonies_cli import exec_argv
from tools.layout import ARTIFACTS
from tools.serve import serve_bundle
from wasm_executor import CANCELLED, FAILED, RUNNING, SUCCESS, ColoniesClient, FunctionSpec

pytestmark = [pytest.mark.server, pytest.mark.browser]


class SlotPage:
    def __init__(self, page: Page, colony: Colony, url: str, isolated: bool) -> None:
        self.page, self.colony, self.url, self.isolated = page, colony, url, isolated
        self.name, self.executortype = unique("slots"), unique("wasm-slots")

    async def start(self, slots: int, server_url: str | None = None, allow_code: bool | None = None) -> None:
        await start_executor(
            self.page, self.url, server_url or self.colony.url, self.colony.name, self.name, self.executortype,
            self.colony.colony_prvkey, slots, allow_code=allow_code,
        )
        assert await wait_state(self.page, "polling", "error", timeout=120) == "polling"

    def spec(self, func: str, *args: str, **fields: int) -> FunctionSpec:
        spec = FunctionSpec.new(func, self.executortype, self.colony.name)
        spec.args = list(args)
        for k, v in fields.items():
            setattr(spec, k, v)
        return spec

    async def busy_slots(self) -> int:
        return await self.page.locator("#slot-list li.busy").count()

    async def row_status(self, funcname: str) -> list[str]:
        return await self.page.eval_on_selector_all(
            "#processes tbody tr", "(rows, f) => rows.filter(r => r.children[0].textContent === f).map(r => r.children[4].textContent)",
            funcname,
        )


@pytest_asyncio.fixture
async def slot_page(browser: Browser, colony: Colony, request: pytest.FixtureRequest) -> AsyncIterator[SlotPage]:
    isolate = getattr(request, "param", True)
    with serve_bundle(isolate=isolate) as url:
        context = await browser.new_context()
        page = await context.new_page()
        sp = SlotPage(page, colony, url, isolate)
        yield sp
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
        await context.close()
    await asyncio.to_thread(colony.cli, "executor", "remove", "--name", sp.name, prvkey=colony.colony_prvkey)


async def test_two_slots_serve_four_sleeps_and_the_page_shows_both_busy(slot_page: SlotPage, client: ColoniesClient) -> None:
    await slot_page.start(slots=2)
    assert await slot_page.page.locator("#slot-list li").count() == 2
    started = time.monotonic()
    ps = [await client.submit(slot_page.spec("sleep", "2"), slot_page.colony.user_prvkey) for _ in range(4)]
    await slot_page.page.wait_for_function("() => document.querySelectorAll('#slot-list li.busy').length === 2", timeout=10000)
    text = await slot_page.page.text_content("#slot-list")
    assert "slot 0: sleep for" in (text or "") and "slot 1: sleep for" in (text or "")
    for p in ps:
        assert (await client.wait_for_end(p, 30, slot_page.colony.user_prvkey)).output == [2]
    assert time.monotonic() - started < 6


@pytest.mark.parametrize("slot_page", [True, False], ids=["isolated", "not-isolated"], indirect=True)
async def test_spin_past_maxexectime_is_stopped_with_and_without_isolation(slot_page: SlotPage) -> None:
    await slot_page.start(slots=1)
    isolated = await slot_page.page.evaluate("() => crossOriginIsolated")
    assert isolated == slot_page.isolated  # the headers of tools/serve.py, or none
    started = time.monotonic()
    argv = [*exec_argv("spin", ["60"], slot_page.executortype), "--maxexectime", "3", "--maxretries", "0"]
    proc = await asyncio.to_thread(slot_page.colony.cli, *argv)
    assert proc.returncode != 0
    assert time.monotonic() - started < 6
    assert "spin did not finish within maxexectime 3 s" in proc.stderr or "Maximum execution time limit exceeded" in proc.stderr
    assert (await asyncio.to_thread(slot_page.colony.cli, *exec_argv("echo", ["next"], slot_page.executortype))).stdout.strip() == "next"
    log = await slot_page.page.text_content("#log") or ""
    # Without isolation there is no interrupt buffer: the slot worker was terminated and replaced.
    assert ("did not stop within" in log) == (not isolated)


async def test_cancel_frees_the_slot_and_the_page_says_cancelled(slot_page: SlotPage, client: ColoniesClient) -> None:
    await slot_page.start(slots=1)
    p = await client.submit(slot_page.spec("sleep", "60"), slot_page.colony.user_prvkey)
    await slot_page.page.wait_for_function("() => document.querySelectorAll('#slot-list li.busy').length === 1", timeout=10000)
    await asyncio.sleep(1)
    cancelled_at = time.monotonic()
    await client.cancel_process(p.processid, slot_page.colony.user_prvkey)
    await slot_page.page.wait_for_function("() => document.querySelectorAll('#slot-list li.busy').length === 0", timeout=3000)
    assert time.monotonic() - cancelled_at < 3
    assert await slot_page.row_status("sleep") == ["cancelled"]
    assert (await client.get_process(p.processid, slot_page.colony.user_prvkey)).state == CANCELLED
    assert (await asyncio.to_thread(slot_page.colony.cli, *exec_argv("echo", ["after"], slot_page.executortype))).stdout.strip() == "after"


async def test_bad_inputs_never_stop_the_page_and_big_integers_are_exact(slot_page: SlotPage, client: ColoniesClient) -> None:
    await slot_page.start(slots=1)
    user = slot_page.colony.user_prvkey
    nines = "9" * 4300
    cases = [("add", nines, nines), ("multiply", "1e200", "1e200"), ("add", "1e308", "1e308"), ("add", "9007199254740992", "1")]
    ps = [await client.submit(slot_page.spec(*c), user) for c in cases]
    last = await client.submit(slot_page.spec("echo", "still serving"), user)
    assert (await client.wait_for_end(last, 60, user)).output == ["still serving"]
    got = [await client.get_process(p.processid, user) for p in ps]
    assert [g.state for g in got] == [FAILED, FAILED, FAILED, SUCCESS]
    assert got[0].errors == ["output[0] is an integer of more than 4300 digits"]
    assert got[1].errors == ["output[0] is inf, which JSON cannot carry"]
    assert got[3].output == ["9007199254740993"]
    assert await slot_page.page.text_content("#state") == "polling"


async def test_stop_now_interrupts_and_fails_what_runs(slot_page: SlotPage, client: ColoniesClient) -> None:
    await slot_page.start(slots=1)
    p = await client.submit(slot_page.spec("spin", "60"), slot_page.colony.user_prvkey)
    await slot_page.page.wait_for_function("() => document.querySelectorAll('#slot-list li.busy').length === 1", timeout=10000)
    await slot_page.page.get_by_role("button", name="Stop now").click()
    await wait_state(slot_page.page, "stopped", timeout=10)
    done = await client.get_process(p.processid, slot_page.colony.user_prvkey)
    assert done.state == FAILED and done.errors == ["stopped by the executor's owner before it finished"]


async def test_200_echoes_through_a_10_s_outage_none_lost_none_run_twice(slot_page: SlotPage, client: ColoniesClient) -> None:
    proxy = await OutageProxy.started_for(slot_page.colony.url)
    user = slot_page.colony.user_prvkey
    try:
        await slot_page.start(slots=1, server_url=proxy.url)
        ps = [await client.submit(slot_page.spec("echo", str(i)), user) for i in range(200)]
        await slot_page.page.wait_for_function("() => Number(document.getElementById('done-count').textContent) >= 20", timeout=60000)
        await proxy.cut()
        await asyncio.sleep(10)
        await proxy.start()
        await slot_page.page.wait_for_function("() => Number(document.getElementById('done-count').textContent) >= 200", timeout=120000)
        for i, p in enumerate(ps):
            got = await client.get_process(p.processid, user)
            assert (got.state, got.output, got.retries) == (SUCCESS, [str(i)], 0)
        assert await slot_page.page.text_content("#done-count") == "200"  # each delivered once
        rate = float((await slot_page.page.text_content("#throughput")).split()[0])
        assert rate > 0  # the last 5 to 10 s saw the drain after the outage
        assert await slot_page.page.locator("#processes tbody tr").count() == 50  # the table stays capped
        running = await client.get_processes(slot_page.colony.name, 100, RUNNING, user, executortype=slot_page.executortype)
        assert running == []
    finally:
        await proxy.cut()


async def test_slots_started_from_one_snapshot_draw_different_random_numbers(slot_page: SlotPage, client: ColoniesClient) -> None:
    """Slots start from a memory snapshot of one Python (web/pyodide-boot.mjs), which would give
    each the same random state: each is seeded afresh."""
    await slot_page.start(slots=2, allow_code=True)
    assert "slots start from a snapshot" in (await slot_page.page.text_content("#log") or "")
    code = "import random, time\ntime.sleep(0.5)\nrandom.random()"  # long enough that the two run side by side
    user = slot_page.colony.user_prvkey
    ps = [await client.submit(slot_page.spec("python", code), user) for _ in range(2)]
    draws = [(await client.wait_for_end(p, 60, user)).output for p in ps]
    assert all(len(d) == 1 and isinstance(d[0], float) for d in draws), draws
    assert draws[0] != draws[1]
