"""Drain rate through a 3-replica ColonyOS against one server, in the same run, same executors.

The one server is `python build.py up`'s; the 3 replicas (one PostgreSQL, haproxy in front) are
this benchmark's own deployment (.colonies/bench-cluster, ports shifted by 200), brought down
after. N `echo` are queued, then the executors start and drain them; rate = N / (last endtime -
first starttime), from the server's records, and the CPU the ColonyOS side spent per process
(servers, balancer, PostgreSQL; from /proc). Executors, in each deployment:
- "Go x3": three Go reference executors (bench/goexecutor), each with the one URL (server or balancer);
- "CPython x2": two `python -m wasm_executor --slots 2`, with the one URL;
- on the replicas also "CPython x2, replica URLs": the same given the three replicas' URLs.
Everything runs on this machine's cores: replicas share them with PostgreSQL and the executors,
so the figure says what replication costs or gains here, not on separate machines.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from common import ROOT, dev_env
from contenders import _process

from tools.colonyos import Deployment
from tools.daemons import read_pid
from tools.layout import GO_REFERENCE_BIN, STATE
from wasm_executor import RUNNING, SUCCESS, WAITING, ColoniesClient, FunctionSpec
from wasm_executor.objects import server_time

N_DRAIN = int(os.environ.get("BENCH_REPLICAS_DRAIN", "600"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
CLUSTER = Deployment(state=STATE / "bench-cluster", port=50280, offset=200)

Start = Callable[[str], contextlib.AbstractAsyncContextManager[None]]


def go(env: dict[str, str], count: int) -> Start:
    @contextlib.asynccontextmanager
    async def start(etype: str) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            for i in range(count):
                await stack.enter_async_context(_process([
                    str(GO_REFERENCE_BIN), "-host", env["COLONIES_SERVER_HOST"], "-port", env["COLONIES_SERVER_PORT"],
                    "-colony", env["COLONIES_COLONY_NAME"], "-colonyprvkey", env["COLONIES_COLONY_PRVKEY"],
                    "-type", etype, "-name", f"{etype}-{i}"], ready="polling"))
            yield
    return start


def cpython(env: dict[str, str], urls: str, count: int, slots: int = 2) -> Start:
    @contextlib.asynccontextmanager
    async def start(etype: str) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            for i in range(count):
                await stack.enter_async_context(_process([
                    sys.executable, "-m", "wasm_executor", "--server", urls, "--colony", env["COLONIES_COLONY_NAME"],
                    "--colony-prvkey", env["COLONIES_COLONY_PRVKEY"], "--type", etype, "--name", f"{etype}-{i}",
                    "--slots", str(slots), "--poll-timeout", "2"], ready="[polling]"))
            yield
    return start


def colonyos_pids(state: Path, names: list[str]) -> list[int]:
    pids = [pid for name in names if (pid := read_pid(state, name))]
    out = subprocess.run(["pgrep", "-x", "postgres"], capture_output=True, text=True).stdout
    return pids + [int(p) for p in out.split()]


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    ticks: dict[int, float] = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return ticks


async def drain(client: ColoniesClient, env: dict[str, str], start: Start, pids: Callable[[], list[int]], tag: str) -> dict[str, float]:
    colony, user = env["COLONIES_COLONY_NAME"], env["COLONIES_PRVKEY"]
    etype = f"bench-ha-{tag}-{os.urandom(3).hex()}"
    queued = []
    for i in range(0, N_DRAIN, 50):
        specs = []
        for j in range(i, min(i + 50, N_DRAIN)):
            spec = FunctionSpec.new("echo", etype, colony)
            spec.args = [str(j)]
            specs.append(spec)
        queued += await asyncio.gather(*(client.submit(s, user) for s in specs))
    async with start(etype):
        before = cpu_seconds(pids())
        while (await client.get_processes(colony, 1, WAITING, user, executortype=etype)
               or await client.get_processes(colony, 1, RUNNING, user, executortype=etype)):
            await asyncio.sleep(0.25)
        after = cpu_seconds(pids())
    done = []
    for i in range(0, len(queued), 20):
        done += await asyncio.gather(*(client.get_process(p.processid, user) for p in queued[i:i + 20]))
    wrong = [p for p, q in zip(done, queued, strict=True) if p.state != SUCCESS or p.output != q.spec.args]
    if wrong:
        raise RuntimeError(f"{etype}: {len(wrong)} of {N_DRAIN} processes did not succeed with their own output")
    span = max(server_time(p.endtime) for p in done) - min(server_time(p.starttime) for p in done)
    cpu = sum(t - before.get(pid, 0.0) for pid, t in after.items())
    return {"drain": N_DRAIN / span, "colonyos_cpu_ms": cpu / N_DRAIN * 1e3}


async def main() -> None:
    if not GO_REFERENCE_BIN.exists():
        raise SystemExit(f"{GO_REFERENCE_BIN} is missing: run `python build.py bench` (it builds the Go reference)")
    single = dev_env()
    await asyncio.to_thread(CLUSTER.up, 3)
    try:
        cluster = CLUSTER.env()
        replica_urls = ", ".join(r.url for r in CLUSTER.replicas())
        single_url = f"http://{single['COLONIES_SERVER_HOST']}:{single['COLONIES_SERVER_PORT']}"
        names = [r.name for r in CLUSTER.replicas()] + ["balancer"]
        runs: dict[str, tuple[dict[str, str], Start, Callable[[], list[int]]]] = {
            "1 server, Go x3": (single, go(single, 3), lambda: colonyos_pids(STATE, ["server"])),
            "3 replicas, Go x3": (cluster, go(cluster, 3), lambda: colonyos_pids(CLUSTER.state, names)),
            "1 server, CPython x2": (single, cpython(single, single_url, 2), lambda: colonyos_pids(STATE, ["server"])),
            "3 replicas, CPython x2": (cluster, cpython(cluster, CLUSTER.url, 2), lambda: colonyos_pids(CLUSTER.state, names)),
            "3 replicas, CPython x2, replica URLs": (cluster, cpython(cluster, replica_urls, 2),
                                                    lambda: colonyos_pids(CLUSTER.state, names)),
        }
        figures: dict[str, list[dict[str, float]]] = {name: [] for name in runs}
        for n in range(ROUNDS):
            for name, (env, start, pids) in runs.items():
                async with ColoniesClient(f"http://{env['COLONIES_SERVER_HOST']}:{env['COLONIES_SERVER_PORT']}") as client:
                    f = await drain(client, env, start, pids, name.split(",")[0].replace(" ", ""))
                figures[name].append(f)
                print(f"  round {n + 1}: {name:<38} {f['drain']:6.1f} proc/s  ColonyOS CPU {f['colonyos_cpu_ms']:5.2f} ms/process",
                      flush=True)
    finally:
        await asyncio.to_thread(CLUSTER.down)
    med = {name: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for name, rs in figures.items()}
    print(f"\n== drain of {N_DRAIN} echo, 3 replicas against 1 server (median of {ROUNDS} rounds, same machine)")
    for kind, one in (("Go x3", "1 server, Go x3"), ("CPython x2", "1 server, CPython x2")):
        for name in (n for n in med if n.startswith("3 replicas") and kind in n):
            r, s = med[name], med[one]
            print(f"  {name:<38} {r['drain']:6.1f} proc/s  ratio {r['drain'] / s['drain']:5.2f}x vs {one} ({s['drain']:.1f});"
                  f" ColonyOS CPU {r['colonyos_cpu_ms']:.2f} vs {s['colonyos_cpu_ms']:.2f} ms/process")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    asyncio.run(main())
