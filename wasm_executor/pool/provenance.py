"""Where a map's result came from, read back from the server: which executor ran it (its ID and
name, the invite it joined with, its runtime), what code (the SHA3-256 of the shipped source as
the server holds it), and when (the server's submission, start and end times).

Everything here is on the server: the process (its executor, spec and times) and the executor's
record (its name and the capabilities it declared: runtime, invite ID). The map's record on disk
(`manifest`) says only which processes ran which items.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass

from ..client import ColoniesClient
from ..objects import CANCELLED, UNSET_TIME, Executor, Process, server_time
from ..platform_info import INVITE_SOFTWARE
from .manifest import Manifest
from .quorum import canonical
from .units import Unit, outcomes


@dataclass(frozen=True)
class Provenance:
    processid: str
    executorid: str
    executorname: str  # "" if the executor is gone from the colony
    invite: str  # the ID of the invite it joined with; "" when it was registered otherwise
    runtime: str  # e.g. "pyodide 0.29.0, Python 3.13.2" or "cpython 3.11.7"
    source_sha3: str  # SHA3-256 (hex) of the shipped source the process carried
    submitted: float  # server times, POSIX seconds (0.0: not yet)
    started: float
    ended: float
    accepted: bool  # whether the map's result for the item is this process's


def _when(stamp: str) -> float:
    return 0.0 if not stamp or stamp == UNSET_TIME else server_time(stamp)


def _runtime(executor: Executor | None) -> str:
    if executor is None:
        return ""
    software = {s.name: s for s in executor.capabilities.software}
    python = software.get("python")
    parts = [f"pyodide {software['pyodide'].version}"] if "pyodide" in software else []
    if python is not None:
        parts.append(f"Python {python.version}" if parts else f"{python.type} {python.version}")
    return ", ".join(parts)


def _invite(executor: Executor | None) -> str:
    if executor is None:
        return ""
    return next((s.version for s in executor.capabilities.software if s.name == INVITE_SOFTWARE), "")


def accepted_ids(copies: dict[Unit, Process], replicas: int) -> set[str]:
    """The processes whose results are the ones a map hands back for these copies of one unit:
    with replicas, those of the answer at least `replicas` of them gave; else the copy that ended
    first (the others were overtaken and cancelled)."""
    ended = {u: p for u, p in copies.items() if p.state != CANCELLED and _when(p.endtime)}
    if replicas > 1:
        texts = {p.processid: canonical(outcomes(u, p)) for u, p in ended.items()}
        top = Counter(texts.values()).most_common(1)
        if not top or top[0][1] < replicas:
            return set()
        return {pid for pid, text in texts.items() if text == top[0][0]}
    first = min(ended.values(), key=lambda p: _when(p.endtime), default=None)
    return {first.processid} if first is not None else set()


async def provenance(client: ColoniesClient, colonyname: str, prvkey: str, job: str, index: int) -> list[Provenance]:
    """Every process that ran item `index` of the map `job`, first copy first."""
    manifest = Manifest.load(job)
    if not 0 <= index < len(manifest.items):
        raise IndexError(f"job {job!r} has {len(manifest.items)} items, not an item {index}")
    units = sorted((u for u in manifest.submitted if u.start <= index < u.stop), key=lambda u: u.copy)
    copies = {u: await client.get_process(manifest.submitted[u], prvkey) for u in units}
    executors = {e.executorid: e for e in await client.get_executors(colonyname, prvkey)}
    winners = accepted_ids(copies, manifest.replicas)
    found = []
    for process in copies.values():
        executor = executors.get(process.assignedexecutorid)
        found.append(Provenance(
            processid=process.processid, executorid=process.assignedexecutorid,
            executorname=executor.executorname if executor else "", invite=_invite(executor), runtime=_runtime(executor),
            source_sha3=hashlib.sha3_256(str(process.spec.args[0] if process.spec.args else "").encode()).hexdigest(),
            submitted=_when(process.submissiontime), started=_when(process.starttime), ended=_when(process.endtime),
            accepted=process.processid in winners,
        ))
    return found
