"""The fleet of one executor type, as a colony's admin reads it: who is serving, paused, hidden or
gone, admitted by which invite, how busy, when last heard (`python -m wasm_executor.admission fleet`).

From three places: the server's executors (its state, when it last heard from each), the presence
each reported in its capabilities (`wasm_executor.presence`), and this service's store (the invite
an executor joined with, and why it left: its page closed or frozen).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..client import ColoniesClient
from ..objects import APPROVED, PENDING, REJECTED, Executor, server_time
from ..presence import Presence
from .store import Store

GONE = "gone"
NO_PRESENCE = "unknown"  # an executor that reports no presence (not ours, or an older one)


@dataclass(frozen=True)
class Member:
    name: str
    executorid: str
    invite: str  # the invite's ID, "" for one not admitted by this service
    state: str  # a `presence` word, GONE (+ why) or "waiting for approval", "rejected"
    slots: int
    free: int
    done: int
    failed: int
    rate: float
    last_heard: float  # POSIX seconds, 0 when never


def _state(executor: Executor, presence: Presence | None, left: str) -> str:
    if executor.state == PENDING:
        return "waiting for approval"
    if executor.state == REJECTED:
        return "rejected"
    if executor.state != APPROVED:  # removed (its farewell, or an admin): the server keeps it as unregistered
        return f"{GONE} ({left})" if left else GONE
    return presence.state if presence is not None else NO_PRESENCE


def _heard(executor: Executor) -> float:
    try:
        stamp = server_time(executor.lastheardfromtime)
    except ValueError:
        return 0.0
    return stamp if stamp > 0 else 0.0


async def members(client: ColoniesClient, colonyname: str, executortype: str, prvkey: str, store: Store | None = None) -> list[Member]:
    """Every executor of `executortype` in the colony, by name; `prvkey` a colony member's."""
    rows = []
    for ex in await client.get_executors(colonyname, prvkey):
        if ex.executortype != executortype:
            continue
        presence = Presence.of(ex.capabilities)
        admission = store.admission(ex.executorid) if store is not None else None
        left = store.last_leave(ex.executorid) if store is not None else ""
        p = presence or Presence()
        rows.append(Member(ex.executorname, ex.executorid, admission["invite_id"] if admission else "",
                           _state(ex, presence, left), p.slots, p.free, p.done, p.failed, p.rate, _heard(ex)))
    return sorted(rows, key=lambda m: m.name)


def table(rows: list[Member], now: float | None = None) -> str:
    now = time.time() if now is None else now
    lines = [f"{'NAME':<24} {'INVITE':<9} {'STATE':<16} {'SLOTS':>5} {'FREE':>4} {'DONE':>7} {'FAILED':>6} "
             f"{'RATE/S':>6} LAST HEARD"]
    for m in rows:
        heard = f"{now - m.last_heard:.0f} s ago" if m.last_heard else "never"
        lines.append(f"{m.name:<24} {m.invite or '-':<9} {m.state:<16} {m.slots:>5} {m.free:>4} {m.done:>7} "
                     f"{m.failed:>6} {m.rate:>6.2f} {heard}")
    return "\n".join(lines)
