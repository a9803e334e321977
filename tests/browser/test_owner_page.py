"""The device's owner decides: Pause (and Resume), serve only while plugged in, how many slots;
each decision kept across a reload. Held, the page stays in the colony, runs what it has and
asks for nothing (engine/poll.py). Real Chromium, real server; the battery is the one stand-in
(a machine here has none to unplug): `navigator.getBattery` answers from the test."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page

from tests.helpers.colony import unique
from tools.browser import start_executor, wait_state
from tools.layout import ARTIFACTS
from wasm_executor import APPROVED, SUCCESS, WAITING, ColoniesClient, FunctionSpec, Process

pytestmark = [pytest.mark.server, pytest.mark.browser]

# A battery whose charging state the test sets, kept in sessionStorage so that a reload finds it.
BATTERY = """(() => {
  const battery = new EventTarget();
  battery.level = 0.5;
  Object.defineProperty(battery, "charging", { get: () => sessionStorage.getItem("test.charging") !== "no" });
  window.setCharging = (charging) => {
    sessionStorage.setItem("test.charging", charging ? "yes" : "no");
    battery.dispatchEvent(new Event("chargingchange"));
  };
  Object.defineProperty(Navigator.prototype, "getBattery", { value: () => Promise.resolve(battery), configurable: true });
})();"""


async def echo(client: ColoniesClient, colony, etype: str, text: str) -> Process:
    spec = FunctionSpec.new("echo", etype, colony.name)
    spec.args = [text]
    return await client.submit(spec, colony.user_prvkey)


async def reloaded_and_held(page: Page) -> None:
    await page.reload()
    assert await wait_state(page, "paused by you", "error", timeout=120) == "paused by you"


async def test_pause_holds_the_page_in_the_colony_across_a_reload_and_resume_serves(
    browser: Browser, colony, page_url: str, client: ColoniesClient,
) -> None:
    etype, name = unique("wasm-owner"), unique("page")
    page = await (await browser.new_context()).new_page()
    try:
        await start_executor(page, page_url, colony.url, colony.name, name, etype, colony.colony_prvkey, 2)
        assert await wait_state(page, "polling", "error", timeout=120) == "polling"
        await page.get_by_role("button", name="Pause").click()
        assert await wait_state(page, "paused by you", timeout=10) == "paused by you"
        assert "click Resume" in (await page.text_content("#detail") or "")
        held = await echo(client, colony, etype, "while paused")

        await reloaded_and_held(page)  # seconds in which a polling page would have taken it
        assert (await client.get_process(held.processid, colony.user_prvkey)).state == WAITING
        assert await page.get_by_label("Slots").input_value() == "2"  # the owner's slots, remembered
        executor = await client.get_executor(colony.name, name, colony.user_prvkey)
        assert executor.state == APPROVED  # still a member of the colony while paused
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "owner-paused.png"), full_page=True)
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.screenshot(path=str(ARTIFACTS / "owner-paused-phone.png"), full_page=True)
        assert await page.evaluate("document.documentElement.scrollWidth") <= 390
        assert f"--targettype {etype} " in (await page.text_content("#try-line") or "")  # the real type, after a reload too

        await page.get_by_role("button", name="Resume").click()
        assert await wait_state(page, "polling", timeout=10) == "polling"
        done = await client.wait_for_end(held, 30, colony.user_prvkey)
        assert done.state == SUCCESS and done.output == ["while paused"]
        assert done.assignedexecutorid == executor.executorid
    finally:
        await page.context.close()


async def test_serving_only_while_plugged_in_holds_on_battery_across_a_reload(
    browser: Browser, colony, page_url: str, client: ColoniesClient,
) -> None:
    etype, name = unique("wasm-battery"), unique("page")
    context = await browser.new_context()
    await context.add_init_script(BATTERY)
    page = await context.new_page()
    try:
        await start_executor(page, page_url, colony.url, colony.name, name, etype, colony.colony_prvkey, 1)
        assert await wait_state(page, "polling", "error", timeout=120) == "polling"
        await page.get_by_label("Serve only while this device is plugged in").check()
        assert await wait_state(page, "polling", timeout=10) == "polling"  # plugged in: serving on
        await page.evaluate("setCharging(false)")
        assert await wait_state(page, "paused by you", timeout=10) == "paused by you"
        assert "on battery" in (await page.text_content("#detail") or "")
        held = await echo(client, colony, etype, "on battery")

        await reloaded_and_held(page)  # the box is remembered, the device still on battery
        assert await page.get_by_label("Serve only while this device is plugged in").is_checked()
        assert (await client.get_process(held.processid, colony.user_prvkey)).state == WAITING
        assert await page.get_by_role("button", name="Pause").is_enabled()  # the owner's own Pause is apart

        await page.evaluate("setCharging(true)")
        assert await wait_state(page, "polling", timeout=10) == "polling"
        done = await client.wait_for_end(held, 30, colony.user_prvkey)
        assert done.state == SUCCESS and done.output == ["on battery"]
    finally:
        await page.context.close()
