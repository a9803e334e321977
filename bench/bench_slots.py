"""What a slot costs: memory of the browser with 1 and with 3 slot workers, and a CPython child slot.

Chromium runs workers inside the page's renderer process, so the figure is the growth of the
resident memory of all Chromium processes (from /proc) when two more slots start.
"""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

from common import dev_env, server_url

from tools.browser import chromium, start_executor, wait_state
from tools.serve import serve_bundle
from wasm_executor.engine.process_slots import ProcessSlots


def rss_mib(match: str) -> float:
    total = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            cmdline = (status.parent / "cmdline").read_bytes().decode(errors="replace")
            if match not in cmdline:
                continue
            for line in status.read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


async def browser_figures() -> dict[int, float]:
    env = dev_env()
    figures = {}
    with serve_bundle() as url:
        for slots in (1, 3):
            async with chromium() as browser:
                page = await browser.new_page()
                name = f"bench-slots-{secrets.token_hex(3)}"
                colony, owner = env["COLONIES_COLONY_NAME"], env["COLONIES_COLONY_PRVKEY"]
                await start_executor(page, url, server_url(env), colony, name, "bench-slots", owner, slots)
                await wait_state(page, "polling", timeout=180)
                await asyncio.sleep(2)
                figures[slots] = rss_mib("chromium")
                await page.get_by_role("button", name="Stop Executor").click()
                await wait_state(page, "stopped", timeout=30)
    return figures


async def cpython_figure() -> float:
    slots = ProcessSlots(1)
    await slots.start()
    try:
        pid = next(iter(slots._children.values())).proc.pid
        status = Path(f"/proc/{pid}/status").read_text()
        return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1]) / 1024
    finally:
        await slots.aclose()


async def main() -> None:
    figures = await browser_figures()
    per_slot = (figures[3] - figures[1]) / 2
    print("\nslot memory")
    print(f"  Chromium resident memory, 1 slot: {figures[1]:.0f} MiB; 3 slots: {figures[3]:.0f} MiB")
    print(f"  => one browser slot (its own Pyodide) costs about {per_slot:.0f} MiB")
    print(f"  one CPython slot (a child process) costs {await cpython_figure():.0f} MiB resident")


if __name__ == "__main__":
    asyncio.run(main())
