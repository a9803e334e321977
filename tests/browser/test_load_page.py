"""Load: 1,000 processes through one page. None lost, none run twice, the table stays capped,
and the page's DOM and JS heap stay flat from the first hundred to the thousandth."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page

from tests.helpers.colony import unique
from tools.browser import start_executor, wait_state
from tools.layout import ARTIFACTS
from wasm_executor import RUNNING, SUCCESS, WAITING, ColoniesClient, FunctionSpec

pytestmark = [pytest.mark.server, pytest.mark.browser]
N = 1000


async def footprint(page: Page) -> tuple[int, int]:
    """(DOM elements, JS heap bytes after a collection) of the page."""
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("HeapProfiler.collectGarbage")
    heap = (await cdp.send("Runtime.getHeapUsage"))["usedSize"]
    await cdp.detach()
    return await page.evaluate("() => document.getElementsByTagName('*').length"), heap


async def test_a_thousand_processes_through_one_page(browser: Browser, colony, client: ColoniesClient, page_url: str) -> None:
    user = colony.user_prvkey
    name = etype = unique("wasm-load")
    ctx = await browser.new_context()
    page = await ctx.new_page()

    async def done_count() -> int:
        return int(await page.text_content("#done-count") or 0)

    try:
        await start_executor(page, page_url, colony.url, colony.name, name, etype, colony.colony_prvkey, 2)
        assert await wait_state(page, "polling", "error", timeout=120) == "polling"
        ids = []
        for i in range(N):
            spec = FunctionSpec.new("echo", etype, colony.name)
            spec.args = [str(i)]
            ids.append((await client.submit(spec, user)).processid)
            if i == 99:
                await page.wait_for_function("() => Number(document.getElementById('done-count').textContent) >= 100",
                                             timeout=60000)
                early = await footprint(page)
        await page.wait_for_function(f"() => Number(document.getElementById('done-count').textContent) >= {N}",
                                     timeout=300000)
        late = await footprint(page)
        assert await done_count() == N  # each delivered once
        for state in (WAITING, RUNNING):
            assert await client.get_processes(colony.name, 10, state, user, executortype=etype) == []
        for i in range(0, N, 97):  # a sample of the server's records: each its own output, never retried
            got = await client.get_process(ids[i], user)
            assert (got.state, got.output, got.retries) == (SUCCESS, [str(i)], 0)
        assert await page.locator("#processes tbody tr").count() == 50
        assert late[0] <= early[0] + 20, f"DOM grew from {early[0]} to {late[0]} elements"
        assert late[1] < early[1] * 1.5 + 2_000_000, f"JS heap grew from {early[1]} to {late[1]} bytes"
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "load-1000.png"))
        print(f"\nload: DOM {early[0]} -> {late[0]} elements, JS heap {early[1] / 1e6:.1f} -> {late[1] / 1e6:.1f} MB")
    finally:
        await ctx.close()
        colony.cli("executor", "remove", "--name", name, prvkey=colony.colony_prvkey)
