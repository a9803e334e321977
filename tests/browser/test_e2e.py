"""End to end: the offline bundle in Debian's Chromium, the real server, the real `colonies` CLI.

Each test opens the page like a person (labels, buttons), starts an executor of a type no other
test uses, and drives it with `colonies function exec ... --wait --out`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
from collections.abc import AsyncIterator
from urllib.parse import urlparse

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page

from tests.helpers.colony import unique
from tests.helpers.proxy import OutageProxy
from tools.browser import start_executor, wait_state
from tools.colonies_cli import exec_argv
from tools.layout import ARTIFACTS
from wasm_executor import ColoniesClient, FunctionSpec, gen_id

pytestmark = [pytest.mark.server, pytest.mark.browser]


class ExecutorPage:
    """One page, its executor type, and every request it made."""

    def __init__(self, page: Page, colony, page_url: str) -> None:
        self.page, self.colony, self.page_url = page, colony, page_url
        self.name = unique("e2e")
        self.executortype = unique("wasm-e2e")
        self.requests: list[str] = []
        page.on("request", lambda r: self.requests.append(r.url))

    async def start(self, colony_prvkey: str | None = "colony", slots: int | None = None) -> None:
        key = self.colony.colony_prvkey if colony_prvkey == "colony" else colony_prvkey
        await start_executor(self.page, self.page_url, self.colony.url, self.colony.name, self.name, self.executortype, key, slots)

    async def cli(self, *args: str, prvkey: str | None = None) -> tuple[int, str, str]:
        """The real CLI (conftest's Colony.cli) off the event loop: (exit code, stdout stripped, stderr)."""
        proc = await asyncio.to_thread(self.colony.cli, *args, prvkey=prvkey)
        return proc.returncode, proc.stdout.strip(), proc.stderr

    async def exec(self, func: str, *args: str) -> tuple[int, str, str]:
        return await self.cli(*exec_argv(func, args, self.executortype))

    async def rows(self, finished: int = 0) -> list[list[str]]:
        """The table's rows, once at least `finished` processes show as ended (the page renders
        on its next animation frame, after the server already has the result)."""
        await self.page.wait_for_function(
            "n => document.querySelectorAll('#processes tbody tr.done, #processes tbody tr.failed').length >= n", arg=min(finished, 50)
        )
        return await self.page.eval_on_selector_all(
            "#processes tbody tr", "rows => rows.map(r => [...r.children].map(td => td.textContent))"
        )


@pytest_asyncio.fixture
async def ex_page(browser: Browser, colony, page_url: str, request: pytest.FixtureRequest) -> AsyncIterator[ExecutorPage]:
    context = await browser.new_context()
    page = await context.new_page()
    ep = ExecutorPage(page, colony, page_url)
    yield ep
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    await context.close()
    await ep.cli("executor", "remove", "--name", ep.name, prvkey=colony.colony_prvkey)


async def test_five_functions_bad_input_and_unknown_function(ex_page: ExecutorPage) -> None:
    await ex_page.start()
    assert await wait_state(ex_page.page, "polling", "error") == "polling"

    assert (await ex_page.exec("echo", "Hello from browser!"))[:2] == (0, "Hello from browser!")
    assert (await ex_page.exec("add", "5", "3"))[:2] == (0, "8")
    assert (await ex_page.exec("add", "2.5", "-1"))[:2] == (0, "1.5")
    assert (await ex_page.exec("multiply", "7", "6"))[:2] == (0, "42")
    assert (await ex_page.exec("greet", "World"))[:2] == (0, "Hello, World! Greetings from Python in the browser.")
    code, out, _ = await ex_page.exec("browser_info")
    assert code == 0
    info = json.loads(out)
    assert info["runtime"] == "pyodide" and "Chrome" in info["userAgent"]
    assert info["hardwareConcurrency"] >= 1 and info["language"] and info["timezone"] and info["onLine"] is True

    code, _, err = await ex_page.exec("add", "x", "3")
    assert code != 0 and "add: first argument 'x' is not a number" in err
    code, _, err = await ex_page.exec("no_such_function")
    assert code != 0 and "unknown function 'no_such_function'" in err
    assert (await ex_page.exec("multiply", "3", "3"))[:2] == (0, "9")  # still serving
    assert (await ex_page.exec("reverse", "stressed"))[:2] == (0, "desserts")  # from web/functions.py

    rows = await ex_page.rows(finished=10)
    assert rows[1][:3] == ["multiply", "3 3", "9"] and rows[1][4] == "done"
    assert rows[3][0] == "add" and rows[3][2] == "add: first argument 'x' is not a number" and rows[3][4] == "failed"
    assert await ex_page.page.text_content("#done-count") == "8"
    assert await ex_page.page.text_content("#failed-count") == "2"
    # Self-contained: every request went to the page's own origin or to the ColonyOS server.
    hosts = {urlparse(u).netloc for u in ex_page.requests if not u.startswith("data:")}
    assert hosts == {urlparse(ex_page.page_url).netloc, urlparse(ex_page.colony.url).netloc}


async def test_arguments_are_shown_as_text_never_html(ex_page: ExecutorPage) -> None:
    await ex_page.start()
    await wait_state(ex_page.page, "polling")
    # (no double quotes: the CLI parses --args as CSV)
    evil = "<img src=x onerror=document.title='pwned'><b>bold</b>"
    assert (await ex_page.exec("echo", evil))[:2] == (0, evil)
    rows = await ex_page.rows(finished=1)
    assert rows[0][1] == evil and rows[0][2] == evil
    assert await ex_page.page.locator("#processes img").count() == 0
    assert await ex_page.page.title() != "pwned"


INJECT = """() => {
  const refused = [];
  const s = document.createElement("script");
  try { s.textContent = "document.title = 'pwned'"; document.body.append(s); }   // an inline script
  catch (e) { refused.push(e.name); }
  try { document.body.insertAdjacentHTML("beforeend", "<img src=x onerror=\\"document.title='pwned'\\">"); }
  catch (e) { refused.push(e.name); }                                               // an HTML sink
  return new Promise((resolve) => setTimeout(() => resolve({ refused, title: document.title }), 500));
}"""


async def test_the_csp_stops_an_injected_inline_script_and_html_sinks(ex_page: ExecutorPage) -> None:
    response = await ex_page.page.goto(ex_page.page_url)
    headers = await response.all_headers()
    assert "script-src 'self' 'wasm-unsafe-eval'" in headers["content-security-policy"]
    assert "require-trusted-types-for 'script'" in headers["content-security-policy"]
    assert headers["cross-origin-embedder-policy"] == "require-corp" and headers["x-content-type-options"] == "nosniff"
    await wait_state(ex_page.page, "ready", timeout=120)
    got = await ex_page.page.evaluate(INJECT)
    assert got == {"refused": ["TypeError", "TypeError"], "title": "ColonyOS browser executor (Python)"}  # Trusted Types
    assert await ex_page.page.locator("img[src=x]").count() == 0 and await ex_page.page.locator("body > script").count() == 0


async def test_stop_then_start_serves_what_was_submitted_meanwhile(ex_page: ExecutorPage) -> None:
    await ex_page.start()
    await wait_state(ex_page.page, "polling")
    await ex_page.page.get_by_role("button", name="Stop Executor").click()
    await wait_state(ex_page.page, "stopped", timeout=30)
    pending = asyncio.create_task(ex_page.exec("echo", "queued while stopped"))
    await asyncio.sleep(3)
    assert not pending.done() and await ex_page.rows() == []
    await ex_page.page.get_by_role("button", name="Start Executor").click()
    assert (await asyncio.wait_for(pending, 90))[:2] == (0, "queued while stopped")


async def test_admin_approval_mode(ex_page: ExecutorPage) -> None:
    await ex_page.start(colony_prvkey=None)
    await wait_state(ex_page.page, "waiting for approval")
    executor_id = await ex_page.page.text_content("#executor-id")
    command = await ex_page.page.text_content("#approval-command")
    assert await ex_page.page.locator("#approval").is_visible()
    assert command == (
        f"colonies executor add --name {ex_page.name} --type {ex_page.executortype} --executorid {executor_id} --approve"
    )
    code, _, err = await ex_page.cli(*command.split()[1:], prvkey=ex_page.colony.colony_prvkey)
    assert code == 0, err
    await wait_state(ex_page.page, "polling")
    assert (await ex_page.exec("add", "40", "2"))[:2] == (0, "42")
    code, out, _ = await ex_page.cli("function", "ls")
    assert code == 0
    # One table per function: keep the FunctionName rows of the tables with our executor type.
    mine = {
        m.group(2)
        for m in re.finditer(r"ExecutorType\s*│\s*(\S+)\s*│\s*\n│\s*FunctionName\s*│\s*(\S+)", out)
        if m.group(1) == ex_page.executortype
    }
    assert {"echo", "add", "multiply", "greet", "browser_info", "reverse"} <= mine


async def test_stop_during_a_long_poll_is_stopped_within_a_second(ex_page: ExecutorPage) -> None:
    await ex_page.start()
    await wait_state(ex_page.page, "polling")
    await asyncio.sleep(1)  # a 10 s long-poll is now open in the executor worker
    started = asyncio.get_running_loop().time()
    await ex_page.page.get_by_role("button", name="Stop Executor").click(timeout=2000)
    await wait_state(ex_page.page, "stopped", timeout=5)
    assert asyncio.get_running_loop().time() - started < 1.0


async def test_reload_is_the_same_executor_and_settings_are_remembered(ex_page: ExecutorPage) -> None:
    await ex_page.start()
    await wait_state(ex_page.page, "polling")
    first_id = await ex_page.page.text_content("#executor-id")
    assert re.fullmatch(r"[0-9a-f]{64}", first_id or "")
    await ex_page.page.reload()
    # It was serving: it serves again by itself, as the same executor (test_unwatched_page has more).
    assert await wait_state(ex_page.page, "polling", "error", timeout=120) == "polling"
    assert await ex_page.page.text_content("#executor-id") == first_id
    assert await ex_page.page.get_by_label("Executor name").input_value() == ex_page.name
    assert await ex_page.page.get_by_label("Executor type").input_value() == ex_page.executortype
    assert await ex_page.page.get_by_label("Colony private key").input_value() == ""  # not kept unless asked


async def test_two_tabs_are_two_executors_and_a_reload_keeps_each(ex_page: ExecutorPage) -> None:
    first = ex_page.page
    await first.goto(ex_page.page_url)
    await wait_state(first, "ready", timeout=120)
    second = await first.context.new_page()  # same origin, same storage
    await second.goto(ex_page.page_url)
    await wait_state(second, "ready", timeout=120)
    id1, id2 = await first.text_content("#executor-id"), await second.text_content("#executor-id")
    assert id1 and id2 and id1 != id2  # the server would otherwise see two executors with one ID
    await first.reload()
    await wait_state(first, "ready", timeout=120)
    assert await first.text_content("#executor-id") == id1
    await second.close()


KEY_AT_REST = """async () => {
  const db = await new Promise((ok, no) => {
    const r = indexedDB.open("wasm-executor");
    r.onsuccess = () => ok(r.result);
    r.onerror = () => no(r.error);
  });
  const get = (k) => new Promise((ok) => {
    const r = db.transaction("secrets").objectStore("secrets").get(k);
    r.onsuccess = () => ok(r.result);
  });
  const sealed = await get("executor-key"), wrap = await get("wrap");
  let exported = "";
  try { await crypto.subtle.exportKey("raw", wrap); exported = "exported"; } catch (e) { exported = e.name; }
  return { storage: JSON.stringify({ ...localStorage }), sealedBytes: sealed.data.byteLength, extractable: wrap.extractable, exported };
}"""


async def test_the_executor_key_rests_encrypted_and_never_reaches_the_page(ex_page: ExecutorPage) -> None:
    # An older page kept the key in localStorage in plain text: it moves into the worker's store.
    legacy = "1" * 64
    await ex_page.page.goto(ex_page.page_url)
    await ex_page.page.evaluate("k => localStorage.setItem('wasm-executor.prvkey', k)", legacy)
    await ex_page.page.reload()
    await wait_state(ex_page.page, "ready", timeout=120)
    assert await ex_page.page.text_content("#executor-id") == gen_id(legacy)
    messages: list[str] = []
    ex_page.page.on("console", lambda m: messages.append(m.text))
    await ex_page.start()
    await wait_state(ex_page.page, "polling")
    got = await ex_page.page.evaluate(KEY_AT_REST)
    assert legacy not in got["storage"] and not re.search(r"[0-9a-f]{64}", got["storage"])  # localStorage holds no key
    assert got["sealedBytes"] == 64 + 16 and got["extractable"] is False and got["exported"] == "InvalidAccessError"
    # The page's own realm never saw it: no key in what the worker sent, nor in the DOM.
    assert legacy not in (await ex_page.page.content())
    await ex_page.page.reload()  # it was serving: it serves again, as the same executor
    assert await wait_state(ex_page.page, "polling", "error", timeout=120) == "polling"
    assert await ex_page.page.text_content("#executor-id") == gen_id(legacy)


async def test_unreachable_server_is_reported_and_retried(ex_page: ExecutorPage) -> None:
    await ex_page.page.goto(ex_page.page_url)
    await wait_state(ex_page.page, "ready", timeout=120)
    await ex_page.page.get_by_label("Server URL").fill("http://127.0.0.1:9")
    await ex_page.page.get_by_label("Colony private key").fill(ex_page.colony.colony_prvkey)
    await ex_page.page.get_by_role("button", name="Start Executor").click()
    await ex_page.page.wait_for_function(
        "() => document.getElementById('detail').textContent.includes('server unreachable')", timeout=20000
    )
    assert await ex_page.page.text_content("#state") == "registering"
    await ex_page.page.get_by_role("button", name="Stop Executor").click()
    await wait_state(ex_page.page, "stopped", timeout=30)


@pytest.mark.parametrize(("typed", "reason"), [
    ("javascript:alert(1)", "Server URL must start with http:// or https://"),
    ("ftp://127.0.0.1:50080", "Server URL must start with http:// or https://, not ftp://"),
    ("http://user:secret@127.0.0.1:50080", "Server URL must not contain a user name or password"),
    ("127.0.0.1:50080", "Server URL must start with http:// or https://; did you mean http://127.0.0.1:50080?"),
])
async def test_a_bad_server_url_is_refused_with_its_reason_before_any_request(ex_page: ExecutorPage, typed: str, reason: str) -> None:
    await ex_page.page.goto(ex_page.page_url)
    await wait_state(ex_page.page, "ready", timeout=120)
    # The slot worker boots beside the executor worker and fetches functions.py when it is ready,
    # which can come after "ready": wait for it, so what is counted below is only what Start sends.
    deadline = asyncio.get_running_loop().time() + 60
    while not any(u.endswith("/functions.py") for u in ex_page.requests):
        assert asyncio.get_running_loop().time() < deadline, "the slot worker never loaded functions.py"
        await asyncio.sleep(0.05)
    before = len(ex_page.requests)
    await ex_page.page.get_by_label("Server URL").fill(typed)
    await ex_page.page.get_by_label("Executor name").fill(ex_page.name)
    await ex_page.page.get_by_role("button", name="Start Executor").click()
    assert await wait_state(ex_page.page, "error", timeout=10) == "error"
    assert (await ex_page.page.text_content("#detail")).startswith(reason)
    assert ex_page.requests[before:] == []  # nothing was sent anywhere
    assert await ex_page.page.title() != "1"  # and nothing ran


async def test_wrong_colony_key_is_a_clear_error(ex_page: ExecutorPage) -> None:
    await ex_page.start(colony_prvkey="ab" * 32)
    assert await wait_state(ex_page.page, "error", "polling") == "error"
    detail = await ex_page.page.text_content("#detail")
    assert detail and detail.startswith(
        f"access denied while registering with the colony key: it is not the owner key of colony '{ex_page.colony.name}'"
    )
    assert await ex_page.page.get_by_role("button", name="Start Executor").is_enabled()


async def test_network_outage_in_the_browser_loses_nothing(ex_page: ExecutorPage, client: ColoniesClient) -> None:
    proxy = await OutageProxy.started_for(ex_page.colony.url)
    ex_page.colony = dataclasses.replace(ex_page.colony, url=proxy.url)  # the page talks through the proxy
    try:
        await ex_page.start()
        await wait_state(ex_page.page, "polling")
        spec = FunctionSpec.new("sleep", ex_page.executortype, ex_page.colony.name)
        spec.args = ["3"]
        slow = await client.submit(spec, ex_page.colony.user_prvkey)
        await ex_page.page.wait_for_function("() => document.querySelectorAll('#slot-list li.busy').length === 1", timeout=20000)
        await proxy.cut()  # the browser loses the server while the process is in hand
        await ex_page.page.wait_for_function(
            "() => document.getElementById('log').textContent.includes('server unreachable')", timeout=20000
        )
        assert (await client.get_process(slow.processid, ex_page.colony.user_prvkey)).state == 1
        await proxy.start()
        done = await client.wait_for_end(slow, 60, ex_page.colony.user_prvkey)
        assert done.output == [3]
        await wait_state(ex_page.page, "polling", timeout=60)  # and it serves on
        assert (await ex_page.exec("add", "1", "1"))[:2] == (0, "2")
    finally:
        await proxy.cut()
