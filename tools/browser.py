"""Drive the executor page in Debian's Chromium with Playwright (used by tests, demo and bench).

Nothing is downloaded: Playwright launches /usr/bin/chromium with the flags that work offline here.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

from playwright.async_api import Browser, Page, async_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: run `python build.py test` (it installs Debian's chromium)")
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            await browser.close()


async def wait_state(page: Page, *states: str, timeout: float = 60) -> str:
    """Wait until the page shows one of `states`; return it."""
    wanted = list(states)
    await page.wait_for_function(
        "(wanted) => wanted.includes(document.getElementById('state').textContent)", arg=wanted, timeout=timeout * 1000
    )
    return await page.text_content("#state") or ""


async def start_executor(
    page: Page, url: str, server_url: str, colony: str, name: str, executortype: str, colony_prvkey: str | None,
    slots: int | None = None, allow_code: bool | None = None, package_index: str | None = None,
    slot_memory_mib: int | None = None, pyodide_distribution: str | None = None,
) -> None:
    """Open the page, wait for Python, fill the form like a person, click Start Executor.
    `allow_code=None` leaves the consent box as the page remembers it."""
    await page.goto(url)
    await wait_state(page, "ready", timeout=120)
    await page.get_by_label("Server URL").fill(server_url)
    await page.get_by_label("Colony name").fill(colony)
    await page.get_by_label("Executor name").fill(name)
    await page.get_by_label("Executor type").fill(executortype)
    if slots is not None:
        await page.get_by_label("Slots").fill(str(slots))
    if slot_memory_mib is not None:
        await page.get_by_label("Memory per slot (MiB)").fill(str(slot_memory_mib))
    await page.get_by_label("Colony private key").fill(colony_prvkey or "")
    if allow_code is not None:
        await page.get_by_label("Run Python code sent by the colony").set_checked(allow_code)
    if package_index is not None:
        await page.get_by_label("Package index URL").fill(package_index)
    if pyodide_distribution is not None:
        await page.get_by_label("Pyodide distribution URL").fill(pyodide_distribution)
    await page.get_by_role("button", name="Start Executor").click()


async def apply_functions(page: Page, source: str) -> str:
    """Fill the Functions panel with `source`, click Apply, and return what the panel then says."""
    await page.get_by_label("Functions code (Python)").fill(source)
    await page.get_by_role("button", name="Apply functions").click()
    await page.wait_for_function(
        "() => !document.getElementById('apply-functions').disabled"
        " && document.getElementById('functions-status').textContent !== 'applying…'")
    return await page.text_content("#functions-status") or ""


@contextlib.asynccontextmanager
async def detached_chromium() -> AsyncIterator[str]:
    """Headless Chromium as a plain process (no Playwright driver); yields its DevTools endpoint.

    For measurements: connect with `attached`, set a page up, disconnect, and the page goes on
    running with no DevTools session attached (one costs 9-21 % of the page's throughput here).
    """
    with tempfile.TemporaryDirectory(prefix="wasm-executor-chromium-") as profile:
        proc = subprocess.Popen(
            [CHROMIUM, "--headless=new", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
             f"--user-data-dir={profile}", *CHROMIUM_FLAGS, "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        try:
            port_file = Path(profile) / "DevToolsActivePort"
            for _ in range(300):
                if port_file.exists() and port_file.read_text().strip():
                    break
                if proc.poll() is not None:
                    raise RuntimeError(f"{CHROMIUM} exited with {proc.returncode} before opening its DevTools port")
                await asyncio.sleep(0.05)
            else:
                raise RuntimeError(f"{CHROMIUM} did not open its DevTools port within 15 s")
            yield f"http://127.0.0.1:{port_file.read_text().split()[0]}"
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            await _end_group(proc.pid)


async def _end_group(pgid: int, timeout: float = 10) -> None:
    """Chromium's helpers (its crash handler, zygotes) can outlive the browser by a moment and
    still write into the profile, so removing the profile failed now and then ("Directory not
    empty"): end the whole process group and wait until it is gone."""
    deadline = time.monotonic() + timeout
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
        while time.monotonic() < deadline:
            os.killpg(pgid, 0)  # raises ProcessLookupError once no process of the group is left
            await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def attached(endpoint: str) -> AsyncIterator[Page]:
    """A DevTools session to a `detached_chromium`: yields a new page in its default context.
    Leaving the block disconnects; the page stays open and keeps running."""
    async with async_playwright() as pw:
        browser = await pw.chromium.connect_over_cdp(endpoint)
        page = await browser.contexts[0].new_page()
        try:
            yield page
        finally:
            await browser.close()
