"""Our executors beside a Go executor, on the same server, in the same run.

Contenders (each serves `echo`, output = arguments):
- Go: bench/goexecutor, `pkg/client` of the pinned colonies module, assign -> close;
- CPython: `python -m wasm_executor` with 1 slot and with one slot per core;
- the page in headless Chromium with 1 slot and with navigator.hardwareConcurrency slots. The
  page is set up over DevTools, which is then disconnected: no DevTools session is attached
  while it is measured.

Figures, per contender:
- drain: N `echo` processes are queued before it starts; rate = N / (last endtime - first
  starttime), from the server's own records;
- latency: sequential submissions, submit -> SUCCESS seen by the submitter, p50 and p95;
- server CPU per process during the drain (the colonies server + PostgreSQL, from /proc).

Every figure is printed as a ratio against Go measured in the same round; the rounds' medians go to
bench-results/speed.json and a chart to bench-results/speed.svg (and .png).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import secrets
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

from common import ROOT, dev_env, server_url
from contenders import Starter, cpython_executor, go_executor, page_executor

from tools.browser import attached, detached_chromium
from tools.layout import GO_REFERENCE_BIN, STATE
from tools.serve import serve_bundle
from wasm_executor import RUNNING, SUCCESS, WAITING, ColoniesClient, FunctionSpec
from wasm_executor.errors import ServerError
from wasm_executor.objects import server_time

N_DRAIN = int(os.environ.get("BENCH_DRAIN", "300"))
N_LATENCY = int(os.environ.get("BENCH_LATENCY", "50"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
OUT = ROOT / "bench-results"
CORES = os.cpu_count() or 2

# ----------------------------------------------------------------------------- measuring


def _server_pids() -> list[int]:
    pids = [int((STATE / "server.pid").read_text())]
    out = subprocess.run(["pgrep", "-x", "postgres"], capture_output=True, text=True).stdout
    return pids + [int(p) for p in out.split()]


def _cpu_seconds(pids: list[int]) -> dict[int, float]:
    ticks: dict[int, float] = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    return ticks


def _cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds between two readings; PostgreSQL backends come and go (a gone one's share is lost)."""
    return sum(t - before.get(pid, 0.0) for pid, t in after.items())


async def _submit(client: ColoniesClient, env: dict[str, str], etype: str, arg: str) -> Any:
    spec = FunctionSpec.new("echo", etype, env["COLONIES_COLONY_NAME"])
    spec.args = [arg]
    return await client.submit(spec, env["COLONIES_PRVKEY"])


async def _settled(client: ColoniesClient, env: dict[str, str], etype: str, timeout: float = 600) -> None:
    colony, user = env["COLONIES_COLONY_NAME"], env["COLONIES_PRVKEY"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = await client.get_processes(colony, 1, WAITING, user, executortype=etype)
        running = [] if waiting else await client.get_processes(colony, 1, RUNNING, user, executortype=etype)
        if not waiting and not running:
            return
        await asyncio.sleep(0.25)
    raise RuntimeError(f"{etype}: processes still queued after {timeout:g} s")


async def _read_all(client: ColoniesClient, ids: list[str], user: str) -> list[Any]:
    """Each process as the server records it (a listing stops at 100), 20 reads at a time."""
    out: list[Any] = []
    for i in range(0, len(ids), 20):
        out += await asyncio.gather(*(client.get_process(pid, user) for pid in ids[i:i + 20]))
    return out


async def measure(client: ColoniesClient, env: dict[str, str], start: Starter) -> dict[str, float]:
    colony, user = env["COLONIES_COLONY_NAME"], env["COLONIES_PRVKEY"]
    etype = f"bench-{secrets.token_hex(4)}"  # also the executor's name
    queued = [await _submit(client, env, etype, str(i)) for i in range(N_DRAIN)]
    async with start(etype):
        cpu0 = _cpu_seconds(_server_pids())
        await _settled(client, env, etype)
        cpu = _cpu_used(cpu0, _cpu_seconds(_server_pids()))
        done = await _read_all(client, [p.processid for p in queued], user)
        wrong = [p.processid for p, q in zip(done, queued, strict=True) if p.state != SUCCESS or p.output != q.spec.args]
        if wrong:
            raise RuntimeError(f"{etype}: {len(wrong)} of {N_DRAIN} processes did not succeed with their own output")
        first = min(server_time(p.starttime) for p in done)
        last = max(server_time(p.endtime) for p in done)
        samples = []
        for i in range(N_LATENCY):
            t0 = time.perf_counter()
            p = await _submit(client, env, etype, f"latency {i}")
            got = await client.wait_for_end(p, 30, user)
            samples.append(time.perf_counter() - t0)
            assert got.output == [f"latency {i}"]
    with contextlib.suppress(ServerError):  # the Go executor removes itself; the others stay registered
        await client.remove_executor(colony, etype, env["COLONIES_COLONY_PRVKEY"])
    samples.sort()
    return {
        "drain": N_DRAIN / (last - first),
        "p50": statistics.median(samples),
        "p95": samples[int(0.95 * (len(samples) - 1))],
        "server_cpu_ms": cpu / N_DRAIN * 1e3,
    }


# ----------------------------------------------------------------------------- reporting


def summarise(rounds: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    """Median over rounds of each figure, and of each ratio against Go within its own round."""
    out: dict[str, dict[str, float]] = {}
    for name in rounds[0]:
        figures = {k: statistics.median(r[name][k] for r in rounds) for k in rounds[0][name]}
        figures["drain_vs_go"] = statistics.median(r[name]["drain"] / r["Go"]["drain"] for r in rounds)
        figures["p50_vs_go"] = statistics.median(r[name]["p50"] / r["Go"]["p50"] for r in rounds)
        out[name] = figures
    return out


def print_table(summary: dict[str, dict[str, float]]) -> None:
    print(f"\n== executors side by side: {N_DRAIN} queued echo, {N_LATENCY} sequential; median of {ROUNDS} round(s), "
          "ratios against Go in the same round; pages measured with no DevTools session attached")
    print(f"  {'executor':<34} {'drain proc/s':>12} {'vs Go':>7} {'p50 ms':>8} {'vs Go':>7} {'p95 ms':>8} {'server CPU/proc':>16}")
    for name, f in summary.items():
        print(f"  {name:<34} {f['drain']:12.1f} {f['drain_vs_go']:6.2f}x {f['p50'] * 1e3:8.1f} {f['p50_vs_go']:6.2f}x "
              f"{f['p95'] * 1e3:8.1f} {f['server_cpu_ms']:13.1f} ms")


def svg_chart(summary: dict[str, dict[str, float]], title: str) -> str:
    """Two bar panels: drain rate and p50 latency, each as a ratio against Go (the 1.0 line)."""
    names = list(summary)
    row, left, width = 34, 250, 330
    panel_h = 40 + row * len(names)
    parts = [f'<text x="10" y="24" font-size="16" font-weight="bold">{title}</text>']
    panels = [("drain rate vs Go (higher is better)", "drain_vs_go", "drain", "proc/s", 1),
              ("submit → result p50 vs Go (lower is better)", "p50_vs_go", "p50", "ms", 1e3)]
    for k, (label, ratio_key, raw_key, unit, scale) in enumerate(panels):
        top = 44 + k * (panel_h + 20)
        top_ratio = max(2.0, *(summary[n][ratio_key] for n in names))
        x_of = lambda r, top_ratio=top_ratio: left + width * r / top_ratio  # noqa: E731
        parts.append(f'<text x="10" y="{top + 14}" font-size="14" font-weight="bold">{label}</text>')
        for i, name in enumerate(names):
            y = top + 26 + i * row
            r = summary[name][ratio_key]
            color = "#777" if name == "Go" else "#2b5d9c"
            parts.append(f'<text x="{left - 8}" y="{y + 17}" font-size="13" text-anchor="end">{name}</text>')
            parts.append(f'<rect x="{left}" y="{y + 4}" width="{x_of(r) - left:.1f}" height="{row - 10}" fill="{color}"/>')
            raw = summary[name][raw_key] * scale
            parts.append(f'<text x="{x_of(r) + 6:.1f}" y="{y + 17}" font-size="12">{r:.2f}x  ({raw:.1f} {unit})</text>')
        x1 = x_of(1.0)
        parts.append(f'<line x1="{x1:.1f}" y1="{top + 22}" x2="{x1:.1f}" y2="{top + 26 + row * len(names)}" '
                     'stroke="#b00020" stroke-dasharray="4 3"/>')
    height = 44 + 2 * (panel_h + 20)
    body = "\n  ".join(parts)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="760" height="{height}" font-family="sans-serif">\n'
            f'  <rect width="100%" height="100%" fill="#fff"/>\n  {body}\n</svg>\n')


async def png_of(svg: Path, endpoint: str) -> Path:
    png = svg.with_suffix(".png")
    async with attached(endpoint) as page:
        await page.set_viewport_size({"width": 760, "height": 600})
        await page.goto(svg.as_uri())
        await page.locator("svg").screenshot(path=str(png))
        await page.close()
    return png


# ----------------------------------------------------------------------------- main


async def main() -> None:
    if not GO_REFERENCE_BIN.exists():
        raise SystemExit(f"{GO_REFERENCE_BIN} is missing: run `python build.py bench` (it builds the Go reference)")
    env = dev_env()
    rounds: list[dict[str, dict[str, float]]] = []
    with serve_bundle() as page_url:
        async with ColoniesClient(server_url(env)) as client:
            contenders: dict[str, Starter] = {
                "Go": go_executor(env),
                "CPython, 1 slot": cpython_executor(env, 1),
                f"CPython, {CORES} slots": cpython_executor(env, CORES),
                "page, 1 slot": page_executor(env, page_url, 1),
                "page, a slot per core": page_executor(env, page_url, None),
            }
            for n in range(ROUNDS):
                figures = {}
                for name, start in contenders.items():
                    figures[name] = await measure(client, env, start)
                    f = figures[name]
                    print(f"  round {n + 1}: {name:<22} {f['drain']:6.1f} proc/s  p50 {f['p50'] * 1e3:5.1f} ms", flush=True)
                rounds.append(figures)
            summary = summarise(rounds)
            print_table(summary)
            OUT.mkdir(exist_ok=True)
            report = {
                "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "machine": {"cores": CORES},
                "method": {"drain_processes": N_DRAIN, "latency_samples": N_LATENCY, "rounds": ROUNDS,
                           "devtools_attached_while_measuring": False},
                "rounds": rounds,
                "summary": summary,
            }
            (OUT / "speed.json").write_text(json.dumps(report, indent=1))
            svg = OUT / "speed.svg"
            svg.write_text(svg_chart(summary, f"echo on one local ColonyOS, {CORES} cores, median of {ROUNDS} rounds"))
            async with detached_chromium() as endpoint:
                png = await png_of(svg, endpoint)
            print(f"\n  wrote {OUT / 'speed.json'}, {svg} and {png}")


if __name__ == "__main__":
    asyncio.run(main())
