"""A driver program for the tests that stop one: `python -m tests.helpers.map_driver MODE JOB N ETYPE`.

MODE `map` runs `Pool.map(slow_double, range(N), job=JOB)`; `attach` runs `Pool.attach(JOB)`; `sync`
runs the same map through `PoolExecutor`. Each prints the results as JSON on its last line.
The server and keys come from the environment (`source .colonies/dev.env`).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

from tools.devenv import server_url
from wasm_executor import ColoniesClient, Pool, PoolExecutor


def slow_double(x):
    import time

    time.sleep(0.05)
    return 2 * x


async def drive(mode: str, job: str, n: int, executortype: str) -> list[object]:
    async with ColoniesClient(server_url(dict(os.environ))) as client:
        concurrency = int(os.environ.get("MAP_CONCURRENCY", "0")) or None  # processes in flight (default: the fleet's)
        pool = Pool(client, os.environ["COLONIES_COLONY_NAME"], os.environ["COLONIES_PRVKEY"], executortype,
                    concurrency=concurrency)
        if mode == "attach":
            return await pool.attach(job, progress=False)
        return await pool.map(slow_double, range(n), chunksize=1, job=job, progress=False)


def main() -> None:
    mode, job, n, executortype = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    if mode == "sync":
        with PoolExecutor(server_url(dict(os.environ)), os.environ["COLONIES_COLONY_NAME"], os.environ["COLONIES_PRVKEY"],
                          executortype) as ex:
            results = list(ex.map(slow_double, range(n)))
    else:
        results = asyncio.run(drive(mode, job, n, executortype))
    print(json.dumps(results), flush=True)


if __name__ == "__main__":
    main()
