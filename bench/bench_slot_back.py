"""Slots back at once: how soon a page serves again after its slot was ended under it.

- A deadline: code that ignores KeyboardInterrupt passes `maxexectime 3` (no retries) on a
  1-slot page; its slot is terminated and replaced. Figure: the failure's end to the next echo's
  end, from the server's records.
- A cancel: two running `sleep 60` on a 2-slot page are cancelled; figure: the cancels to the
  next echo's end.
Both beside the time a slot took to start in full on the same machine (the page's "ready" with
no snapshot is not measured here: bench_browser has the start-up figures).
"""

from __future__ import annotations

import asyncio
import secrets
import time

from common import dev_env, server_url

from tools.browser import chromium, start_executor, wait_state
from tools.serve import serve_bundle
from wasm_executor import ColoniesClient, FunctionSpec
from wasm_executor.objects import server_time

STUBBORN = """
import time
end = time.time() + 60
while time.time() < end:
    try:
        time.sleep(0.05)
    except KeyboardInterrupt:
        pass
"""


def spec(func: str, etype: str, colony: str, *args: object) -> FunctionSpec:
    s = FunctionSpec.new(func, etype, colony)
    s.args = list(args)
    return s


async def after_deadline(client: ColoniesClient, etype: str, colony: str, user: str) -> float:
    stubborn = spec("python", etype, colony, STUBBORN)
    stubborn.maxexectime, stubborn.maxretries = 3, 0
    failed = await client.wait_for_end(await client.submit(stubborn, user), 60, user)
    nxt = await client.wait_for_end(await client.submit(spec("echo", etype, colony, "next"), user), 60, user)
    return server_time(nxt.endtime) - server_time(failed.endtime)


async def after_cancels(client: ColoniesClient, etype: str, colony: str, user: str) -> float:
    sleeping = [await client.submit(spec("sleep", etype, colony, 60), user) for _ in range(2)]
    for p in sleeping:
        await client.subscribe_process(p, 1, 30, user)  # RUNNING
    cancelled_at = time.time()
    for p in sleeping:
        await client.cancel_process(p.processid, user)
    nxt = await client.wait_for_end(await client.submit(spec("echo", etype, colony, "next"), user), 60, user)
    return server_time(nxt.endtime) - cancelled_at


async def main() -> None:
    env = dev_env()
    url, colony = server_url(env), env["COLONIES_COLONY_NAME"]
    user, owner = env["COLONIES_PRVKEY"], env["COLONIES_COLONY_PRVKEY"]
    figures: dict[str, list[float]] = {"deadline": [], "cancel": []}
    with serve_bundle() as page_url:
        async with chromium() as browser, ColoniesClient(url) as client:
            for slots, key, measure in ((1, "deadline", after_deadline), (2, "cancel", after_cancels)):
                page = await (await browser.new_context()).new_page()
                name, etype = f"bench-back-{secrets.token_hex(3)}", f"benchback-{secrets.token_hex(3)}"
                await start_executor(page, page_url, url, colony, name, etype, owner, slots, allow_code=True)
                await wait_state(page, "polling", timeout=120)
                for _ in range(3):
                    figures[key].append(await measure(client, etype, colony, user))
                await page.context.close()
                await client.remove_executor(colony, name, owner)
    print("\nslots back at once (median of 3; server records)")
    print(f"  after a deadline (1-slot page, code ignoring KeyboardInterrupt, maxexectime 3): next echo served "
          f"{sorted(figures['deadline'])[1]:.2f} s after the failure (target <= 0.5 s)")
    print(f"  after cancelling two running sleeps (2-slot page): next echo served "
          f"{sorted(figures['cancel'])[1]:.2f} s after the cancels (target <= 1 s)")


if __name__ == "__main__":
    asyncio.run(main())
