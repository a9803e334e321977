"""The executors the benchmarks compare, each started for one executor type (also its name).

A `Starter` is an async context manager: it starts the executor, returns once it polls, yields
the pid of its root process (for memory: the whole process tree counts), and stops it after.
- Go: bench/goexecutor, `pkg/client` of the pinned colonies module, assign -> close;
- CPython: `python -m wasm_executor` with N slots (child processes);
- the page in its own headless Chromium, set up over DevTools which is then disconnected: no
  DevTools session is attached while it is measured.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from urllib.parse import urlparse

from common import ROOT, server_url

from tools.browser import attached, detached_chromium, start_executor, wait_state
from tools.cdp import open_tab_in_front, page_session
from tools.layout import GO_REFERENCE_BIN

Starter = Callable[[str], contextlib.AbstractAsyncContextManager[int]]


async def _wait_for_line(log: Path, proc: subprocess.Popen[bytes], text: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while text not in log.read_text(errors="replace"):
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{proc.args[0]} did not print {text!r} within {timeout:g} s")
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def _process(argv: list[str], ready: str) -> AsyncIterator[int]:
    with tempfile.NamedTemporaryFile(prefix="bench-", suffix=".log") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        try:
            await _wait_for_line(Path(log.name), proc, ready)
            yield proc.pid
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                await asyncio.to_thread(proc.wait, 30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def go_executor(env: dict[str, str]) -> Starter:
    url = urlparse(server_url(env))

    def start(etype: str) -> contextlib.AbstractAsyncContextManager[int]:
        return _process([
            str(GO_REFERENCE_BIN), "-host", url.hostname or "127.0.0.1", "-port", str(url.port), "-colony",
            env["COLONIES_COLONY_NAME"], "-colonyprvkey", env["COLONIES_COLONY_PRVKEY"], "-type", etype, "-name", etype,
        ], ready="polling")
    return start


def cpython_executor(env: dict[str, str], slots: int) -> Starter:
    def start(etype: str) -> contextlib.AbstractAsyncContextManager[int]:
        return _process([
            sys.executable, "-m", "wasm_executor", "--server", server_url(env), "--colony", env["COLONIES_COLONY_NAME"],
            "--colony-prvkey", env["COLONIES_COLONY_PRVKEY"], "--type", etype, "--name", etype, "--slots", str(slots),
            "--poll-timeout", "2",
        ], ready="[polling]")
    return start


def page_executor(env: dict[str, str], page_url: str, slots: int | None, allow_code: bool = False, hidden: bool = False) -> Starter:
    """A page in its own Chromium (its own profile, so its own executor key); `slots=None`: the
    browser's navigator.hardwareConcurrency; `allow_code`: it runs shipped Python (`Pool`);
    `hidden`: another tab is brought to the front once it polls (its visibilityState: hidden)."""
    @contextlib.asynccontextmanager
    async def start(etype: str, name: str = "") -> AsyncIterator[int]:
        async with detached_chromium() as endpoint:
            async with attached(endpoint) as page:
                n = slots or await page.evaluate("() => navigator.hardwareConcurrency")
                await start_executor(page, page_url, server_url(env), env["COLONIES_COLONY_NAME"], name or etype, etype,
                                     env["COLONIES_COLONY_PRVKEY"], n, allow_code=allow_code)
                await wait_state(page, "polling", timeout=60)
            if hidden:
                await _hide_behind_another_tab(endpoint, page_url)
            # Disconnected: nothing of DevTools is attached while the page is measured.
            try:
                yield _our_chromium()
            finally:
                async with attached(endpoint) as control:
                    for other in control.context.pages:
                        if other.url.startswith(page_url):
                            await other.get_by_role("button", name="Stop Executor").click()
                            await wait_state(other, "stopped", timeout=30)
    return start




async def _hide_behind_another_tab(endpoint: str, page_url: str) -> None:
    await open_tab_in_front(endpoint)
    async with page_session(endpoint, page_url) as cdp:
        state = await cdp.evaluate("document.visibilityState")
    if state != "hidden":
        raise RuntimeError(f"the page behind another tab is {state!r}, not hidden")


def _our_chromium() -> int:
    """The pid of the Chromium `detached_chromium` started for us (a child of this process)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            name, rest = stat.read_text().rsplit(")", 1)
            if name.endswith("(chromium") and int(rest.split()[1]) == os.getpid():
                return int(stat.parent.name)
    raise RuntimeError("no Chromium of ours is running")


def tree_memory(root: int) -> int:
    """Memory of `root` and every process below it: the sum of their proportional set sizes
    (PSS: a page shared by k processes counts 1/k in each), so shared libraries and Chromium's
    shared memory are counted once. Falls back to the resident set where smaps_rollup is missing."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
    tree, grew = {root}, True
    while grew:
        below = {pid for pid, parent in parents.items() if parent in tree} - tree
        grew = bool(below)
        tree |= below
    return sum(_pss(pid) for pid in tree)


def _pss(pid: int) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    return 0
