"""Join by link in real Chromium: a fresh link opened in two browser contexts makes two approved
executors with no key typed and no admin command; no request carries the colony key; a reload is
the same executor; a revoked link shows why."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from playwright.async_api import Browser, BrowserContext, Page, Request

from tests.helpers.admission import Admission, admission_service
from tests.helpers.colony import unique
from tools.browser import wait_state
from tools.colonies_cli import exec_argv
from tools.layout import ARTIFACTS

pytestmark = [pytest.mark.server, pytest.mark.browser]


@pytest.fixture
def service(colony, page_url: str, tmp_path):
    with admission_service(colony, tmp_path / "admission.db", page_url=page_url) as s:
        yield s


@asynccontextmanager
async def opened(browser: Browser, link: str, seen: list[Request]) -> AsyncIterator[tuple[BrowserContext, Page]]:
    """A fresh browser context (its own storage: another machine) with the join link open."""
    context = await browser.new_context()
    context.on("request", lambda r: seen.append(r))
    page = await context.new_page()
    await page.goto(link)
    await wait_state(page, "ready", timeout=120)
    try:
        yield context, page
    finally:
        await context.close()


def carries(request: Request, secret: str) -> bool:
    body = request.post_data or ""
    return secret in request.url or secret in body or any(secret in v for v in request.headers.values())


async def test_a_join_link_admits_two_browsers_that_serve_with_no_key_typed(
    browser: Browser, colony, service: Admission,
) -> None:
    executortype = unique("jointype")
    _, invite, link = service.invite("--uses", "2", "--expires", "1h", "--type", executortype)
    seen: list[Request] = []
    async with opened(browser, link, seen) as (_, a), opened(browser, link, seen) as (_, b):
        for page in (a, b):
            assert await page.text_content("#join-banner") == f"Join colony {colony.name} on {colony.url}"
            assert await page.get_by_label("Colony private key").is_hidden()
            assert await page.get_by_label("Executor type").input_value() == executortype
        ARTIFACTS.mkdir(exist_ok=True)
        await a.screenshot(path=str(ARTIFACTS / "join-link-ready.png"), full_page=True)
        names = []
        for page in (a, b):
            names.append(await page.get_by_label("Executor name").input_value())
            await page.get_by_role("button", name="Join").click()
        for page in (a, b):
            assert await wait_state(page, "polling", "error") == "polling", await page.text_content("#detail")
        listed = (await asyncio.to_thread(colony.cli, "executor", "ls")).stdout
        assert all(name in listed for name in names)
        out = await asyncio.to_thread(colony.cli, *exec_argv("add", ["5", "3"], executortype))
        assert (out.returncode, out.stdout.strip()) == (0, "8")
        await a.screenshot(path=str(ARTIFACTS / "join-link-serving.png"), full_page=True)

        # A reload is the same executor: same ID, same name, serving again with no click (its
        # farewell took it out as the page went; it joins again on its admission), no use spent.
        executorid = await a.text_content("#executor-id")
        await a.reload()
        assert await wait_state(a, "polling", "error", timeout=120) == "polling"
        assert await a.text_content("#executor-id") == executorid
        assert await a.get_by_label("Executor name").input_value() == names[0]
        assert "2/2" in service.cli("list").stdout
        assert "left" in service.cli("log").stdout and "readmitted" in service.cli("log").stdout

    joins = [r for r in seen if r.url.startswith(service.url)]
    # Two joins, and one more after the reload (the leave went out as a beacon of the page that
    # went, which Playwright does not list: the service's log has it, above).
    assert Counter(r.url.removeprefix(service.url) for r in joins) == {"/challenge": 3, "/join": 3}
    assert not [r.url for r in seen if carries(r, colony.colony_prvkey)]
    assert all(invite in (r.post_data or "") for r in joins if r.url.endswith("/join"))
    for name in names:
        await asyncio.to_thread(colony.cli, "executor", "remove", "--name", name, prvkey=colony.colony_prvkey)


async def test_a_revoked_link_says_why_and_the_colony_never_hears_of_it(browser: Browser, colony, service: Admission) -> None:
    executortype = unique("jointype")
    invite_id, _, link = service.invite("--type", executortype)
    service.cli("revoke", invite_id)
    seen: list[Request] = []
    async with opened(browser, link, seen) as (_, page):
        name = await page.get_by_label("Executor name").input_value()
        await page.get_by_role("button", name="Join").click()
        assert await wait_state(page, "polling", "error") == "error"
        detail = await page.text_content("#detail") or ""
        assert "refused this executor (revoked)" in detail and invite_id in detail
        await page.screenshot(path=str(ARTIFACTS / "join-link-revoked.png"), full_page=True)
    assert name not in (await asyncio.to_thread(colony.cli, "executor", "ls")).stdout


async def test_the_volunteers_page_says_what_joining_means_asks_consent_for_code_and_shows_the_work(
    browser: Browser, colony, service: Admission, client,
) -> None:
    """A join link is for a person, not a developer: which colony and server, what serving means,
    consent for code when the link says the colony sends some, cores to give, one Join; then done,
    CPU given and a throughput picture. The owner's tools are under Advanced, closed."""
    from wasm_executor import SUCCESS, FunctionSpec

    executortype = unique("voltype")
    _, _, link = service.invite("--uses", "2", "--expires", "1h", "--type", executortype, "--code")
    seen: list[Request] = []
    async with opened(browser, link, seen) as (_, page):
        assert await page.locator("#volunteer-intro").is_visible()
        assert colony.name in (await page.text_content("#volunteer-colony") or "")
        assert await page.locator("#code-notice").is_visible()
        consent = page.get_by_label("I trust this colony: run the Python code it sends")
        assert await consent.is_visible() and not await consent.is_checked()  # explicit: off until ticked
        assert "Cores to give" in (await page.text_content("#slots-label") or "")
        for owner_tool in ("Executor name", "Package index URL", "Functions code (Python)"):
            assert await page.get_by_label(owner_tool).is_hidden(), owner_tool  # under Advanced, closed
        assert await page.get_by_role("button", name="Join").is_visible()
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "volunteer-ready.png"), full_page=True)

        await page.get_by_label("Cores to give", exact=False).fill("2")
        await consent.check()
        await page.get_by_role("button", name="Join").click()
        assert await wait_state(page, "polling", "error", timeout=120) == "polling"
        code = FunctionSpec.new("python", executortype, colony.name)
        code.args = ["6 * 7"]
        echoes = []
        for i in range(4):
            spec = FunctionSpec.new("echo", executortype, colony.name)
            spec.args = [i]
            echoes.append(await client.submit(spec, colony.user_prvkey))
        ran = await client.wait_for_end(await client.submit(code, colony.user_prvkey), 60, colony.user_prvkey)
        assert (ran.state, ran.output) == (SUCCESS, [42])  # consent given: the colony's code runs
        for p in echoes:
            assert (await client.wait_for_end(p, 60, colony.user_prvkey)).state == SUCCESS
        await page.wait_for_function("() => document.getElementById('done-count').textContent === '5'")
        await page.wait_for_function("() => Number(document.getElementById('chart-line').dataset.peak) >= 1")
        assert (await page.text_content("#cpu-given") or "").startswith("2 cores")
        await page.screenshot(path=str(ARTIFACTS / "volunteer-serving.png"), full_page=True)
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.screenshot(path=str(ARTIFACTS / "volunteer-serving-phone.png"), full_page=True)
        assert await page.evaluate("document.documentElement.scrollWidth") <= 390
        await page.locator("#advanced summary").click()
        assert await page.get_by_label("Executor name").is_visible()  # the owner's tools are there when asked for
        assert await page.get_by_role("button", name="Stop now").is_hidden()
        await page.get_by_role("button", name="Stop", exact=True).click()
        assert await wait_state(page, "stopped", timeout=30) == "stopped"


async def test_a_link_without_code_asks_no_consent_and_its_page_runs_no_code(browser: Browser, colony, service: Admission) -> None:
    _, _, link = service.invite("--uses", "1", "--expires", "1h", "--type", unique("voltype"))
    seen: list[Request] = []
    async with opened(browser, link, seen) as (_, page):
        assert await page.locator("#code-notice").is_hidden()
        assert await page.locator("#allow-code-field").is_hidden()
        assert not await page.locator("#allow-code").is_checked()
