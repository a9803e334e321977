"""Drive the executor page in Debian's Chromium with Playwright (used by tests, demo and bench).

Nothing is downloaded: Playwright launches /usr/bin/chromium with the flags that work offline here.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import http.server
import os
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from playwright.async_api import Browser, Page, async_playwright

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "dist" / "web"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


def dev_env() -> dict[str, str]:
    """The local colony's settings from `.colonies/dev.env`; COLONIES_* variables in the environment win."""
    env: dict[str, str] = {}
    path = ROOT / ".colonies" / "dev.env"
    if path.exists():
        for line in path.read_text().splitlines():
            if line.startswith("export ") and "=" in line and not line.startswith("export PATH"):
                key, value = line.removeprefix("export ").split("=", 1)
                env[key] = value
    env.update({k: v for k, v in os.environ.items() if k.startswith("COLONIES_")})
    return env


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *_args: object) -> None:
        pass


@contextlib.contextmanager
def serve_bundle(port: int = 0) -> Iterator[str]:
    """Serve dist/web on 127.0.0.1 from a thread; yields the page URL."""
    if not (WEB / "index.html").exists():
        raise RuntimeError(f"{WEB} has no bundle: run `python build.py build`")
    handler = functools.partial(_QuietHandler, directory=str(WEB))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


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
    page: Page, url: str, server_url: str, colony: str, name: str, executortype: str, colony_prvkey: str | None
) -> None:
    """Open the page, wait for Python, fill the form like a person, click Start Executor."""
    await page.goto(url)
    await wait_state(page, "ready", timeout=120)
    await page.get_by_label("Server URL").fill(server_url)
    await page.get_by_label("Colony name").fill(colony)
    await page.get_by_label("Executor name").fill(name)
    await page.get_by_label("Executor type").fill(executortype)
    await page.get_by_label("Colony private key").fill(colony_prvkey or "")
    await page.get_by_role("button", name="Start Executor").click()


def exec_argv(func: str, args: list[str] | tuple[str, ...], executortype: str) -> list[str]:
    """`colonies function exec` arguments that wait for the process and print its output."""
    argv = ["function", "exec", "--func", func]
    for a in args:
        argv += ["--args", a]
    return [*argv, "--targettype", executortype, "--wait", "--out"]


async def run_cli(env: dict[str, str], exe: str, *args: str, timeout: float = 120) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        exe, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    return proc.returncode or 0, out.decode().strip(), err.decode()
