"""The colony admin's fleet view (`python -m wasm_executor.admission fleet`): three pages joined by
one link, one serving, one paused by its owner, one hidden behind another tab; then one closed.
Each page says how it stands in its capabilities (wasm_executor/presence.py); the service adds
the invite and why a page left. Real Chromium (a raw-CDP one for the hidden tab), real server."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from playwright.async_api import Browser, Page

from tests.helpers.admission import Admission, admission_service
from tests.helpers.colony import unique
from tools.browser import attached, detached_chromium, wait_state
from tools.cdp import open_tab_in_front, page_session
from tools.layout import ARTIFACTS
from wasm_executor import SUCCESS, ColoniesClient, FunctionSpec

pytestmark = [pytest.mark.server, pytest.mark.browser]
ADMIN_TOKEN = secrets.token_urlsafe(16)
ROW = re.compile(r"^(\S+)\s+(\S+)\s+(.+?)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+([\d.]+)\s+(.+)$")


@pytest.fixture
def service(colony, page_url: str, tmp_path):
    with admission_service(colony, tmp_path / "admission.db", page_url=page_url, admin_token=ADMIN_TOKEN) as s:
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
            await the_status_page_shows(browser, service, etype, {serving: "serving", paused: "paused", hidden: "hidden"})

            await a.context.close()  # its farewell says: closed
            await fleet_until(service, etype, {serving: "gone (closed)", paused: "paused", hidden: "hidden"})


def fetch(url: str, authorization: str = "") -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Authorization": authorization} if authorization else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


async def the_status_page_shows(browser: Browser, service: Admission, etype: str, want: dict[str, str]) -> None:
    """The service's /fleet page, as the admin opens it: behind the token, the same states as the CLI;
    looked at on a phone and a desktop."""
    url = f"{service.url}/fleet?type={etype}"
    assert (await asyncio.to_thread(fetch, url))[0] == 401
    assert (await asyncio.to_thread(fetch, url, "Bearer not-the-token"))[0] == 401
    status, text = await asyncio.to_thread(fetch, url + "&format=json", f"Bearer {ADMIN_TOKEN}")
    assert status == 200 and {m["name"]: m["state"] for m in json.loads(text)["executors"]} == want
    for label, width, height in (("phone", 390, 844), ("desktop", 1280, 800)):
        context = await browser.new_context(viewport={"width": width, "height": height},
                                            http_credentials={"username": "admin", "password": ADMIN_TOKEN})
        try:
            page = await context.new_page()
            response = await page.goto(url)
            assert response is not None and response.status == 200
            cells = await page.locator("#fleet tbody tr").evaluate_all(
                "rows => rows.map(r => [r.cells[0].textContent, r.cells[2].textContent])")
            assert dict(cells) == want
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / f"fleet-status-{label}.png"), full_page=True)
        finally:
            await context.close()
