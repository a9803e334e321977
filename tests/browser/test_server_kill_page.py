"""The real server SIGKILLed and started again (`python build.py up`) while a page serves 200 `echo`,
in 5 rounds: none lost, none run twice, by the page's own count of the processes it started and
by the server's records (each SUCCESS with its own output, never retried, nothing left RUNNING)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

import pytest
from playwright.async_api import Browser

from tests.helpers.colony import unique
from tools.browser import start_executor, wait_state
from tools.layout import ROOT
from wasm_executor import RUNNING, SUCCESS, ColoniesClient, FunctionSpec

pytestmark = [pytest.mark.server, pytest.mark.browser]

ROUNDS, PER_ROUND = 5, 40


async def test_server_sigkill_and_restart_during_200_echo_loses_none_and_runs_none_twice(
    browser: Browser, colony, page_url: str, client: ColoniesClient,
) -> None:
    pidfile = ROOT / ".colonies" / "server.pid"
    if not pidfile.exists():
        pytest.fail("this test kills the local server of `python build.py up`; none was started from this checkout")
    name = etype = unique("wasm-kill")
    user = colony.user_prvkey
    ps = []
    ctx = await browser.new_context()
    page = await ctx.new_page()

    async def done_at_least(n: int, seconds: float = 120) -> None:
        await page.wait_for_function("n => Number(document.getElementById('done-count').textContent) >= n",
                                     arg=n, timeout=seconds * 1000)

    try:
        await start_executor(page, page_url, colony.url, colony.name, name, etype, colony.colony_prvkey, 2)
        assert await wait_state(page, "polling", "error", timeout=120) == "polling"
        for _ in range(ROUNDS):
            for _ in range(PER_ROUND):
                spec = FunctionSpec.new("echo", etype, colony.name)
                spec.args = [str(len(ps))]
                ps.append(await client.submit(spec, user))
            await done_at_least(len(ps) - PER_ROUND // 2)  # half of this round served: the rest in flight or queued
            os.killpg(int(pidfile.read_text()), signal.SIGKILL)
            up = await asyncio.to_thread(subprocess.run, [sys.executable, str(ROOT / "build.py"), "up"], capture_output=True, text=True)
            assert up.returncode == 0, up.stdout + up.stderr
            await done_at_least(len(ps))
        assert await wait_state(page, "polling") == "polling"
        assert await page.text_content("#done-count") == str(len(ps))
        assert await page.text_content("#failed-count") == "0"
        assert await page.get_attribute("#status", "data-started") == str(len(ps))  # each started once
    finally:
        await ctx.close()
        await asyncio.to_thread(colony.cli, "executor", "remove", "--name", name, prvkey=colony.colony_prvkey)
    for i, p in enumerate(ps):
        got = await client.get_process(p.processid, user)
        assert (got.state, got.output, got.retries) == (SUCCESS, [str(i)], 0), i
    assert await client.get_processes(colony.name, 10, RUNNING, user, executortype=etype) == []
