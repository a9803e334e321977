"""The fault matrix for the page (test_fault_matrix.py has it for CPython; the 10 s outage is in
test_engine_page.py): a server whose replies come after the page's requests gave up, replies cut
in the middle, 1 s flaps, and the real server killed and restarted, all while one page serves
through a proxy. Checked from the server's
records: every process succeeded once with its own output, none was retried, none is left RUNNING."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

import pytest
from playwright.async_api import Browser

from tests.helpers.colony import unique
from tests.helpers.proxy import OutageProxy, slow_cut_and_flapping
from tools.browser import start_executor, wait_state
from tools.layout import ARTIFACTS, ROOT
from wasm_executor import RUNNING, SUCCESS, ColoniesClient, FunctionSpec

pytestmark = [pytest.mark.server, pytest.mark.browser]


async def test_slow_cut_flapping_and_restarted_server_lose_nothing_on_the_page(
    browser: Browser, colony, page_url: str, client: ColoniesClient,
) -> None:
    pidfile = ROOT / ".colonies" / "server.pid"
    if not pidfile.exists():
        pytest.fail("this test restarts the local server of `python build.py up`; none was started from this checkout")
    proxy = await OutageProxy.started_for(colony.url)
    name = etype = unique("wasm-faults")
    user = colony.user_prvkey
    ps = []

    async def submit(n: int) -> None:
        for _ in range(n):
            spec = FunctionSpec.new("echo", etype, colony.name)
            spec.args = [str(len(ps))]
            ps.append(await client.submit(spec, user))

    async def done_at_least(n: int, seconds: float = 60) -> None:
        await page.wait_for_function("n => Number(document.getElementById('done-count').textContent) >= n",
                                     arg=n, timeout=seconds * 1000)

    ctx = await browser.new_context()
    page = await ctx.new_page()
    try:
        await start_executor(page, page_url, proxy.url, colony.name, name, etype, colony.colony_prvkey, 2)
        assert await wait_state(page, "polling", "error", timeout=120) == "polling"
        await submit(10)
        await done_at_least(5)
        details: set[str] = set()  # what the page said meanwhile

        async def watch() -> None:
            while True:
                details.add(await page.text_content("#detail") or "")
                await asyncio.sleep(0.5)

        watcher = asyncio.create_task(watch())
        # The page's requests give up after 30 s (a long-poll after its 10 s plus 10): replies come 31 s late.
        await slow_cut_and_flapping(proxy, submit, late=31.0, slow_for=40.0)
        watcher.cancel()
        assert any("no answer from" in d and "within 20 s" in d for d in details), details
        await done_at_least(len(ps), 120)

        # The real server killed, with work queued, and started again.
        await submit(5)
        os.killpg(int(pidfile.read_text()), signal.SIGTERM)
        await page.wait_for_function("() => document.getElementById('detail').textContent.includes('unreachable')", timeout=60000)
        up = await asyncio.to_thread(subprocess.run, [sys.executable, str(ROOT / "build.py"), "up"], capture_output=True, text=True)
        assert up.returncode == 0, up.stdout + up.stderr
        await submit(5)
        await done_at_least(len(ps), 120)
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "fault-matrix-page.png"), full_page=True)
        assert await wait_state(page, "polling") == "polling"
        assert await page.text_content("#done-count") == str(len(ps))  # each delivered once
        assert await page.text_content("#failed-count") == "0"
    finally:
        await ctx.close()
        await proxy.cut()
        await asyncio.to_thread(colony.cli, "executor", "remove", "--name", name, prvkey=colony.colony_prvkey)

    for i, p in enumerate(ps):
        got = await client.get_process(p.processid, user)
        assert (got.state, got.output, got.retries) == (SUCCESS, [str(i)], 0), i
    assert await client.get_processes(colony.name, 10, RUNNING, user, executortype=etype) == []
