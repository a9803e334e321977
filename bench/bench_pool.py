"""`Pool.map` of many small items over two pages: automatic chunks against one process per item,
and both against a plain loop in the driver, in the same run.

The function busy-waits `ITEM_MS` (time-based, so the same on CPython and Pyodide). Figures:
- plain loop: ``[work(x) for x in items]`` in this process (the reference);
- one process per item (``chunksize=1``) over `N_EACH` items (a whole process per item is slow:
  measured on fewer items, as a rate);
- automatic chunks (``chunksize=None``) over `N_ITEMS` items.
Each as items per second, with the ratios; the figures go to bench-results/pool.json.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import time

from common import ROOT, dev_env, server_url
from contenders import page_executor

from tools.serve import serve_bundle
from wasm_executor import ColoniesClient, Pool

N_ITEMS = int(os.environ.get("BENCH_POOL_ITEMS", "10000"))
N_EACH = int(os.environ.get("BENCH_POOL_EACH", "400"))
ITEM_MS = 1.0
PAGES = 2
OUT = ROOT / "bench-results"


def work(x):
    import time

    start = time.perf_counter()
    while time.perf_counter() - start < 0.001:
        pass
    return x


async def timed_map(pool: Pool, items: list[int], chunksize: int | None) -> float:
    started = time.perf_counter()
    got = await pool.map(work, items, chunksize=chunksize, progress=False)
    took = time.perf_counter() - started
    assert got == items, "the map's results are not its items"
    return len(items) / took


async def main() -> None:
    env = dev_env()
    etype = f"bench-pool-{secrets.token_hex(3)}"
    started = time.perf_counter()
    assert [work(x) for x in range(N_ITEMS)] == list(range(N_ITEMS))
    figures = {"plain loop": N_ITEMS / (time.perf_counter() - started)}
    with serve_bundle() as page_url:
        start = page_executor(env, page_url, None, allow_code=True)
        async with contextlib.AsyncExitStack() as stack, ColoniesClient(server_url(env)) as client:
            await asyncio.gather(*(stack.enter_async_context(start(etype, f"{etype}-{i}")) for i in range(PAGES)))
            pool = Pool(client, env["COLONIES_COLONY_NAME"], env["COLONIES_PRVKEY"], etype)
            await timed_map(pool, list(range(8)), 1)  # warm: every slot has run the function once
            figures["one process per item"] = await timed_map(pool, list(range(N_EACH)), 1)
            figures["automatic chunks"] = await timed_map(pool, list(range(N_ITEMS)), None)
    print(f"\n== Pool.map of a {ITEM_MS:g} ms function over {PAGES} pages (a slot per core each), items per second")
    for name, rate in figures.items():
        print(f"  {name:<24} {rate:9.1f}/s   {rate / figures['plain loop']:6.2f}x the plain loop")
    ratio = figures["automatic chunks"] / figures["one process per item"]
    print(f"  automatic chunks are {ratio:.1f}x one process per item ({N_ITEMS} items against {N_EACH})")
    OUT.mkdir(exist_ok=True)
    (OUT / "pool.json").write_text(json.dumps({"items_per_second": figures, "chunks_vs_each": ratio,
                                               "items": N_ITEMS, "each_items": N_EACH, "item_ms": ITEM_MS}, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
