"""The colony admin's fleet view (`python -m wasm_executor.admission fleet`): three pages joined by
one link, one serving, one paused by its owner, one hidden behind another tab; then one closed.
Each page says how it stands in its capabilities (wasm_executor/presence.py); the service adds
the invite and why a page left. Real Chromium (a raw-CDP one for the hidden tab), real server."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from playwright.async_api import Browser, Page

from tests.helpers.admission import Admission, admission_service
from tests.helpers.colony import unique
from tools.browser import attached, detached_chromium, wait_state
from tools.cdp import open_tab_in_front, page_session
from wasm_executor import SUCCESS, ColoniesClient, FunctionSpec

pytestmark = [pytest.mark.server, pytest.mark.browser]
ROW = re.compile(r"^(\S+)\s+(\S+)\s+(.+?)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+([\d.]+)\s+(.+)$")


@pytest.fixture
def service(colony, page_url: str, tmp_path):
    with admission_service(colony, tmp_path / "admission.db", page_url=page_url) as s:
        yield s


async def joined(page: Page, link: str) -> str:
    await page.goto(link)
    await wait_state(page, "ready", timeout=120)
    name = await page.get_by_label("Executor name").input_value()
    await page.get_by_role("button", name="Join").click()
    assert await wait_state(page, "polling", "error", timeout=120) == "polling", await page.text_content("#detail")
    return name


@asynccontextmanager
async def joined_page(browser: Browser, link: str) -> AsyncIterator[tuple[Page, str]]:
    context = await browser.new_context()  # its own storage: another machine
    page = await context.new_page()
    try:
        yield page, await joined(page, link)
    finally:
        await context.close()


def fleet(service: Admission, executortype: str) -> dict[str, dict[str, str]]:
    out = service.cli("fleet", "--type", executortype)
    assert out.returncode == 0, out.stderr
    rows = {}
    for line in out.stdout.splitlines()[1:]:
        m = ROW.match(line)
        assert m, line
        rows[m[1]] = {"invite": m[2], "state": m[3], "slots": m[4], "done": m[6], "heard": m[9]}
    return rows


async def fleet_until(service: Admission, executortype: str, want: dict[str, str], timeout: float = 30) -> dict[str, dict[str, str]]:
    """The fleet once every name in `want` shows its state."""
    async def loop() -> dict[str, dict[str, str]]:
        while True:
            rows = await asyncio.to_thread(fleet, service, executortype)
            if all(rows.get(name, {}).get("state") == state for name, state in want.items()):
                return rows
            await asyncio.sleep(0.2)
    try:
        return await asyncio.wait_for(loop(), timeout)
    except TimeoutError:
        raise AssertionError(f"the fleet did not show {want} within {timeout:g} s: "
                             f"{await asyncio.to_thread(fleet, service, executortype)}") from None


async def test_the_fleet_shows_serving_paused_hidden_and_a_closed_page_gone(
    browser: Browser, colony, service: Admission, page_url: str, client: ColoniesClient,
) -> None:
    etype = unique("wasm-fleet")
    invite_id, _, link = service.invite("--uses", "3", "--expires", "1h", "--type", etype)
    async with detached_chromium() as endpoint:
        async with attached(endpoint) as page:
            hidden = await joined(page, link)
        async with joined_page(browser, link) as (a, serving), joined_page(browser, link) as (b, paused):
            for i in range(3):  # a paused page tells what it did before
                spec = FunctionSpec.new("echo", etype, colony.name)
                spec.args = [i]
                spec.conditions.executornames = [paused]
                assert (await client.wait_for_end(await client.submit(spec, colony.user_prvkey), 60,
                                                  colony.user_prvkey)).state == SUCCESS
            await b.get_by_role("button", name="Pause").click()
            assert await wait_state(b, "paused by you", timeout=10) == "paused by you"
            await open_tab_in_front(endpoint)  # the detached page goes behind another tab
            async with page_session(endpoint, page_url) as cdp:
                assert await cdp.evaluate("document.visibilityState") == "hidden"

            rows = await fleet_until(service, etype, {serving: "serving", paused: "paused", hidden: "hidden"})
            assert {row["invite"] for row in rows.values()} == {invite_id}
            assert rows[paused]["done"] == "3" and rows[serving]["done"] == "0"
            assert all(row["heard"].endswith("s ago") for row in rows.values())

            await a.context.close()  # its farewell says: closed
            await fleet_until(service, etype, {serving: "gone (closed)", paused: "paused", hidden: "hidden"})
