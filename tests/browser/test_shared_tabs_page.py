"""Two tabs of one browser share one budget: one serves with the browser's cores (default
cores - 1), the other stands by and takes over when the first is closed. Checked from the
server's records: the two tabs never run at the same time, and the serving tab declares the
budget (within one executor its slots bound what runs: tests/unit/engine). The server's own
times cannot bound a tab more closely: a process's end there is its close, which reaches the
server after its slot already took the next process (by design: engine/handle.py)."""

from __future__ import annotations

import asyncio
import os

import pytest
from playwright.async_api import Browser

from tests.helpers.colony import unique
from tools.browser import start_executor, wait_state
from wasm_executor import SUCCESS, ColoniesClient, FunctionSpec, Process
from wasm_executor.objects import server_time

pytestmark = [pytest.mark.server, pytest.mark.browser]


def span(processes: list[Process]) -> tuple[float, float]:
    """From the first start to the last end, in the server's records."""
    return min(server_time(p.starttime) for p in processes), max(server_time(p.endtime) for p in processes)


async def sleeps(client: ColoniesClient, colony, etype: str, n: int) -> list[Process]:
    submitted = []
    for _ in range(n):
        spec = FunctionSpec.new("sleep", etype, colony.name)
        spec.args = [0.5]
        submitted.append(await client.submit(spec, colony.user_prvkey))
    ended = [await client.wait_for_end(p, 60, colony.user_prvkey) for p in submitted]
    assert all(p.state == SUCCESS for p in ended)
    return ended


async def test_two_tabs_of_one_browser_never_run_more_than_its_budget_and_the_second_takes_over(
    browser: Browser, colony, page_url: str, client: ColoniesClient,
) -> None:
    budget = max(1, (os.cpu_count() or 2) - 1)
    etype = unique("wasm-tabs")
    context = await browser.new_context()  # one browser profile, two tabs
    first, second = await context.new_page(), await context.new_page()
    try:
        await start_executor(first, page_url, colony.url, colony.name, unique("tab"), etype, colony.colony_prvkey)
        assert await wait_state(first, "polling", "error", timeout=120) == "polling"
        await start_executor(second, page_url, colony.url, colony.name, unique("tab"), etype, colony.colony_prvkey)
        assert await wait_state(second, "standing by", "polling", "error", timeout=120) == "standing by"
        assert await first.get_by_label("Slots").input_value() == str(budget)  # the default budget

        before = await sleeps(client, colony, etype, 3 * budget)
        first_id = await first.text_content("#executor-id")
        assert {p.assignedexecutorid for p in before} == {first_id}  # the tab standing by ran nothing
        await first.close()  # the browser lets its lock go: the tab standing by serves
        assert await wait_state(second, "polling", "error", timeout=30) == "polling"
        after = await sleeps(client, colony, etype, 2 * budget)
        assert {p.assignedexecutorid for p in after} == {await second.text_content("#executor-id")}
        assert span(before)[1] <= span(after)[0]  # the second tab began after the first had ended all
        caps = (await client.get_executor(colony.name, await second.get_by_label("Executor name").input_value(),
                                          colony.user_prvkey)).capabilities
        assert caps.hardware[0].cpu == f"{budget * 1000}m"  # the budget, declared

        await second.get_by_role("button", name="Stop Executor").click()
        assert await wait_state(second, "stopped", timeout=30) == "stopped"
    finally:
        await context.close()


async def test_a_tab_standing_by_can_give_up_waiting(browser: Browser, colony, page_url: str) -> None:
    etype = unique("wasm-tabs")
    context = await browser.new_context()
    first, second = await context.new_page(), await context.new_page()
    try:
        await start_executor(first, page_url, colony.url, colony.name, unique("tab"), etype, colony.colony_prvkey)
        assert await wait_state(first, "polling", "error", timeout=120) == "polling"
        await start_executor(second, page_url, colony.url, colony.name, unique("tab"), etype, colony.colony_prvkey)
        assert await wait_state(second, "standing by", timeout=120) == "standing by"
        await second.get_by_role("button", name="Stop Executor").click()
        assert await wait_state(second, "stopped", timeout=10) == "stopped"
        await first.close()
        await asyncio.sleep(2)  # a window in which a tab still waiting would take over
        assert await second.text_content("#state") == "stopped"
    finally:
        await context.close()
