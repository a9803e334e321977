"""A page in a real colony: workflows from the real CLI, a paused colony, a process's env, a function
sent by pycolonies, and what a page declares it has free (real server, real CLI, real Chromium)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page

from tests.helpers import pycolonies
from tests.helpers.colony import unique
from tests.helpers.workflows import assert_chain_and_fan_in
from tools.browser import start_executor, wait_state
from tools.layout import ARTIFACTS
from wasm_executor import RUNNING, SUCCESS, WAITING, ColoniesClient, FunctionSpec

pytestmark = [pytest.mark.server, pytest.mark.browser]


@contextlib.asynccontextmanager
async def serving_page(browser: Browser, colony, page_url: str, slots: int = 1, allow_code: bool = False,
                       executortype: str | None = None, slot_memory_mib: int | None = None) -> AsyncIterator[tuple[Page, str, str]]:
    """A page serving as its own executor: (page, executor name, executor type)."""
    name, etype = unique("wasm-colony"), executortype or unique("wasm-colony")
    ctx = await browser.new_context()
    page = await ctx.new_page()
    try:
        await start_executor(page, page_url, colony.url, colony.name, name, etype, colony.colony_prvkey, slots,
                             allow_code=allow_code, slot_memory_mib=slot_memory_mib)
        assert await wait_state(page, "polling", "error", timeout=120) == "polling"
        yield page, name, etype
    finally:
        await ctx.close()
        colony.cli("executor", "remove", "--name", name, prvkey=colony.colony_prvkey)


async def test_cli_workflows_chain_and_fan_out_fan_in_on_a_page(browser: Browser, colony, client: ColoniesClient,
                                                                page_url: str, tmp_path: Path) -> None:
    async with serving_page(browser, colony, page_url, slots=2) as (_page, _name, etype):
        await assert_chain_and_fan_in(colony, client, etype, tmp_path)


async def test_a_paused_colony_shows_paused_and_serves_within_a_second_of_resume(browser: Browser, colony,
                                                                                 client: ColoniesClient, page_url: str) -> None:
    async with serving_page(browser, colony, page_url) as (page, _name, etype):
        try:
            assert colony.cli("process", "pause").returncode == 0
            assert await wait_state(page, "paused", timeout=25) == "paused"  # within one 10 s long-poll
            assert "paused by the colony's admin" in (await page.text_content("#detail") or "")
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "colony-paused.png"), full_page=True)
            await page.set_viewport_size({"width": 390, "height": 844})  # a phone
            await page.screenshot(path=str(ARTIFACTS / "colony-paused-phone.png"), full_page=True)
            assert await page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
            spec = FunctionSpec.new("echo", etype, colony.name)
            spec.args = ["after resume"]
            process = await client.submit(spec, colony.user_prvkey)
        finally:
            assert (await asyncio.to_thread(colony.cli, "process", "resume")).returncode == 0
        resumed = time.monotonic()
        ended = await client.wait_for_end(process, 30, colony.user_prvkey)
        served_after = time.monotonic() - resumed
        assert ended.state == SUCCESS and ended.output == ["after resume"]
        assert served_after < 1.0, f"served {served_after:.2f} s after resume"
        assert await wait_state(page, "polling") == "polling"
        log = await page.text_content("#log") or ""
        assert "unreachable" not in log and "retrying" not in log  # a pause is not an outage


async def test_env_reaches_the_function_and_pycolonies_code_runs_on_a_page_that_allows_code(
    browser: Browser, colony, client: ColoniesClient, page_url: str,
) -> None:
    user = colony.user_prvkey
    async with serving_page(browser, colony, page_url, allow_code=True) as (_page, _name, etype):
        code = "import os\nos.environ.get('GREETING', 'unset')"
        first = FunctionSpec.new("python", etype, colony.name)
        first.args, first.env = [code], {"GREETING": "hi"}
        second = FunctionSpec.new("python", etype, colony.name)
        second.args = [code]
        assert (await client.wait_for_end(await client.submit(first, user), 60, user)).output == ["hi"]
        assert (await client.wait_for_end(await client.submit(second, user), 60, user)).output == ["unset"]
        said = await asyncio.to_thread(pycolonies.submit_and_read, colony.url, colony.name, etype, user)
        assert said == "2 [43] []"


async def _declared_slot_memory_mib(client: ColoniesClient, colony, name: str, slots: int) -> int:
    me = await client.get_executor(colony.name, name, colony.user_prvkey)
    hw = me.capabilities.hardware[0]
    assert hw.cpu == f"{slots * 1000}m", hw
    return int(hw.mem.removesuffix("Mi")) // slots


async def test_a_process_asking_more_memory_than_a_page_declares_waits_for_a_page_that_has_it(
    browser: Browser, colony, client: ColoniesClient, page_url: str, tmp_path: Path,
) -> None:
    user = colony.user_prvkey
    etype = unique("wasm-mem")
    # The owner of this page gives each slot 256 MiB (the field "Memory per slot"); the other page gives its default.
    async with serving_page(browser, colony, page_url, slots=2, executortype=etype, slot_memory_mib=256) as (small, small_name, _):
        assert await _declared_slot_memory_mib(client, colony, small_name, 2) == 256
        spec_file = tmp_path / "big.json"
        ask = 1024
        spec_file.write_text(json.dumps({"funcname": "echo", "args": ["big"], "maxexectime": 60, "maxretries": 1,
                                         "conditions": {"executortype": etype, "mem": f"{ask}Mi"}}))
        proc = await asyncio.to_thread(colony.cli, "function", "submit", "--spec", str(spec_file))
        assert proc.returncode == 0, proc.stdout + proc.stderr
        waiting = [p for p in await client.get_processes(colony.name, 100, WAITING, user, executortype=etype)]
        assert len(waiting) == 1
        big = waiting[0]
        after = FunctionSpec.new("echo", etype, colony.name)
        after.args = ["small"]
        # Submitted after the big one: served first only because the page passes the big one over.
        assert (await client.wait_for_end(await client.submit(after, user), 60, user)).output == ["small"]
        assert (await client.get_process(big.processid, user)).state == WAITING
        async with serving_page(browser, colony, page_url, slots=1, executortype=etype) as (_big_page, big_name, _):
            big_mib = await _declared_slot_memory_mib(client, colony, big_name, 1)
            assert big_mib >= ask, f"a one-slot page declares {big_mib} MiB by default"
            ended = await client.wait_for_end(big, 60, user)
            ARTIFACTS.mkdir(exist_ok=True)
            await small.screenshot(path=str(ARTIFACTS / "colony-slot-memory.png"), full_page=True)
            me = await client.get_executor(colony.name, big_name, user)
            assert ended.state == SUCCESS and ended.assignedexecutorid == me.executorid
    assert not [p for p in await client.get_processes(colony.name, 100, RUNNING, user, executortype=etype)]
