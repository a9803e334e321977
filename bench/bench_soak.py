"""Soak: 10,000 `echo` processes through each executor, one after the other, memory watched.

For Go (the reference), our CPython executor (a slot per core) and the page (a slot per core, no
DevTools attached): the queue is kept topped up (about QUEUED waiting) until N have ended; the
memory of the executor's whole process tree (Chromium's with all its workers, Python's with its
slot children; PSS, so shared pages count once) is read every N/10 processes. Printed and written to
bench-results/soak.json: the rate, memory at the start (after a warm-up of 200) and at the end,
the peak, and the growth per 1,000 processes from the N/10th on, with ratios against Go. Every process must succeed
(checked from the server's counts, and a sample of outputs from its records).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import secrets
import time
from typing import Any

from common import ROOT, dev_env, server_url
from contenders import Starter, cpython_executor, go_executor, page_executor, tree_memory

from tools.layout import GO_REFERENCE_BIN
from tools.serve import serve_bundle
from wasm_executor import SUCCESS, ColoniesClient, FunctionSpec
from wasm_executor.errors import ServerError

N = int(os.environ.get("BENCH_SOAK", "10000"))
QUEUED = 300
WARMUP = 200
OUT = ROOT / "bench-results"
CORES = os.cpu_count() or 2


async def ended(client: ColoniesClient, env: dict[str, str]) -> tuple[int, int]:
    """(successful, failed) processes of the colony: the server's own counts."""
    s = await client.get_statistics(env["COLONIES_COLONY_NAME"], env["COLONIES_PRVKEY"])
    return s.successfulprocesses, s.failedprocesses


async def soak(client: ColoniesClient, env: dict[str, str], start: Starter) -> dict[str, Any]:
    colony, user = env["COLONIES_COLONY_NAME"], env["COLONIES_PRVKEY"]
    etype = f"soak-{secrets.token_hex(4)}"
    ids: list[str] = []

    async def submit(n: int) -> None:
        async def one(i: int) -> str:
            spec = FunctionSpec.new("echo", etype, colony)
            spec.args = [str(i)]
            return (await client.submit(spec, user)).processid
        base = len(ids)
        for chunk in range(0, n, 20):
            ids.extend(await asyncio.gather(*(one(base + chunk + k) for k in range(min(20, n - chunk)))))

    ok0, failed0 = await ended(client, env)
    samples: list[tuple[int, float, int]] = []  # (ended, seconds since the warm-up, bytes)
    async with start(etype) as root:
        await submit(min(QUEUED, N))
        t0 = 0.0
        next_sample = WARMUP
        while True:
            ok, failed = await ended(client, env)
            done = ok - ok0 + failed - failed0
            if done >= next_sample:
                if not samples:
                    t0 = time.monotonic()
                samples.append((done, time.monotonic() - t0, tree_memory(root)))
                next_sample = WARMUP if done < WARMUP else (done // (N // 10) + 1) * (N // 10)
            if done >= N:
                break
            if len(ids) < N and len(ids) - done < QUEUED:
                await submit(min(100, N - len(ids)))
            await asyncio.sleep(0.2)
    if failed - failed0:
        raise RuntimeError(f"{etype}: {failed - failed0} of {N} processes failed")
    for i in range(0, N, 50):  # a sample of the server's records: each its own output
        got = await client.get_process(ids[i], user)
        if (got.state, got.output) != (SUCCESS, [str(i)]):
            raise RuntimeError(f"{etype}: process {i} ended as {got.state} with {got.output}")
    with contextlib.suppress(ServerError):  # the Go executor removes itself; the others stay registered
        await client.remove_executor(colony, etype, env["COLONIES_COLONY_PRVKEY"])
    first, warm, last = samples[0], samples[min(1, len(samples) - 1)], samples[-1]
    return {
        "processes": N,
        "rate": (last[0] - first[0]) / (last[1] - first[1]),
        "mem_start_mb": first[2] / 1e6,
        "mem_end_mb": last[2] / 1e6,
        "mem_peak_mb": max(s[2] for s in samples) / 1e6,
        # From the sample at N/10 on: the first thousand fill caches and the JIT, not a leak.
        "growth_mb_per_1000": (last[2] - warm[2]) / 1e6 / max(1e-9, (last[0] - warm[0]) / 1000),
        "samples": [{"ended": d, "seconds": round(t, 1), "mem_mb": round(r / 1e6, 1)} for d, t, r in samples],
    }


def print_table(results: dict[str, dict[str, Any]]) -> None:
    go = results["Go"]
    print(f"\n== soak: {N} echo processes each (memory: PSS of the executor's process tree)")
    print(f"  {'executor':<24} {'proc/s':>8} {'vs Go':>6}   {'start MB':>8} {'end MB':>7} {'peak MB':>8} "
          f"{'vs Go':>6} {'MB/1000':>8}")
    for name, r in results.items():
        print(f"  {name:<24} {r['rate']:8.1f} {r['rate'] / go['rate']:5.2f}x   {r['mem_start_mb']:8.1f} "
              f"{r['mem_end_mb']:7.1f} {r['mem_peak_mb']:8.1f} {r['mem_end_mb'] / go['mem_end_mb']:5.1f}x "
              f"{r['growth_mb_per_1000']:8.2f}")


async def main() -> None:
    if not GO_REFERENCE_BIN.exists():
        raise SystemExit(f"{GO_REFERENCE_BIN} is missing: run `python build.py bench` (it builds the Go reference)")
    env = dev_env()
    with serve_bundle() as page_url:
        async with ColoniesClient(server_url(env)) as client:
            contenders: dict[str, Starter] = {
                "Go": go_executor(env),
                f"CPython, {CORES} slots": cpython_executor(env, CORES),
                "page, a slot per core": page_executor(env, page_url, None),
            }
            results = {}
            for name, start in contenders.items():
                results[name] = await soak(client, env, start)
                r = results[name]
                print(f"  {name:<24} {r['rate']:6.1f} proc/s, {r['mem_start_mb']:.0f} -> {r['mem_end_mb']:.0f} MB", flush=True)
    print_table(results)
    OUT.mkdir(exist_ok=True)
    report = {"when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "machine": {"cores": CORES},
              "method": {"processes": N, "queued": QUEUED, "warmup": WARMUP, "devtools_attached_while_measuring": False},
              "results": results}
    (OUT / "soak.json").write_text(json.dumps(report, indent=1))
    print(f"\n  wrote {OUT / 'soak.json'}")


if __name__ == "__main__":
    asyncio.run(main())
