"""What the server holds of one `Pool` map: its processes, found by the job's label."""

from __future__ import annotations

from wasm_executor import CANCELLED, FAILED, RUNNING, SUCCESS, WAITING, ColoniesClient, Process
from wasm_executor.pool.units import Unit


async def job_processes(client: ColoniesClient, colony, executortype: str, job: str) -> list[Process]:
    """Every process of the map `job` in any state (the server lists 100 per state at most, and
    filters by one of executortype, initiator and label: the label here)."""
    found: list[Process] = []
    for state in (WAITING, RUNNING, SUCCESS, FAILED, CANCELLED):
        found += await client.get_processes(colony.name, 100, state, colony.user_prvkey, label=job)
    assert all(p.spec.conditions.executortype == executortype for p in found)
    return found


def span_of(process: Process) -> Unit:
    """The items `[start, stop)` a map's process ran, and which copy of them (its node name,
    `Unit.nodename`: "items 4-8" or "items 4-8 copy 1")."""
    span, _, copy = process.spec.nodename.removeprefix("items ").partition(" copy ")
    start, stop = span.split("-")
    return Unit(int(start), int(stop), int(copy or 0))


def covers_once(processes: list[Process], n: int) -> bool:
    """Whether the processes' spans cover items 0..n-1, each exactly once."""
    seen = sorted((span_of(p).start, span_of(p).stop) for p in processes)
    return [a for a, _ in seen] == [0, *(b for _, b in seen[:-1])] and seen[-1][1] == n if seen else n == 0
