"""Results you can trust, on the real server: `Pool.map(..., replicas=2)` over three executors, one
of them tampered (its owner changed its `python` function to lie about some items). Every accepted
result is right, the tampered executor is named in `Pool.suspects`, each item's copies ran on
different executors (from the server's records), and a result's provenance names its executors."""

from __future__ import annotations

import contextlib
import hashlib
from collections import defaultdict
from pathlib import Path

import pytest

from tests.helpers.colony import unique
from tests.helpers.engine import config_for, running
from tests.helpers.jobs import job_processes, span_of
from tests.helpers.tampering import TAMPERED, triple
from wasm_executor import SUCCESS, ColoniesClient, Pool, RemoteError

pytestmark = pytest.mark.server

N = 30


@pytest.mark.parametrize("chunksize", [1, 5])
async def test_replicas_outvote_a_tampered_executor_and_name_it(colony, client: ColoniesClient, tmp_path: Path, chunksize: int) -> None:
    etype = unique("trust")
    functions = tmp_path / "tampered.py"
    functions.write_text(TAMPERED)
    honest = [config_for(colony, allow_code=True, executortype=etype) for _ in range(2)]
    liar = config_for(colony, allow_code=True, executortype=etype)
    async with contextlib.AsyncExitStack() as stack:
        for cfg in honest:
            await stack.enter_async_context(running(cfg, slots=1))
        await stack.enter_async_context(running(liar, slots=1, functions_file=str(functions)))
        pool = Pool(client, colony.name, colony.user_prvkey, etype)
        results = await pool.map(triple, range(N), chunksize=chunksize, replicas=2, progress=False)
        ran = await job_processes(client, colony, etype, pool.last_job)
        told = {i: await pool.provenance(i) for i in range(0, N, 3)}

    assert results == [3 * x for x in range(N)]
    assert pool.suspects == {liar.executorname}

    by_items = defaultdict(list)
    for process in ran:
        by_items[span_of(process).items].append(process)
    assert sum(u.size for u in by_items) == N
    for unit, copies in by_items.items():
        who = [p.assignedexecutorid for p in copies]
        assert len(set(who)) == len(who) >= 2, f"items {unit}: copies ran on {who}"
        assert all(p.state == SUCCESS for p in copies), [(p.spec.nodename, p.state, p.errors) for p in copies]
    assert any(len(copies) == 3 for copies in by_items.values()), "the tampered executor never had to be outvoted"

    names = {cfg.executorname for cfg in [*honest, liar]}
    source = hashlib.sha3_256(next(iter(ran)).spec.args[0].encode()).hexdigest()
    for i, entries in told.items():
        accepted = [e for e in entries if e.accepted]
        assert len(accepted) >= 2 and {e.executorname for e in accepted} <= {cfg.executorname for cfg in honest}, (i, entries)
        assert {e.executorname for e in entries} <= names and len({e.executorid for e in entries}) == len(entries)
        assert all(e.runtime.startswith("cpython 3.") and e.started <= e.ended for e in entries)
        assert all(len(e.source_sha3) == 64 for e in entries)
    assert any(e.executorname == liar.executorname and not e.accepted for entries in told.values() for e in entries)
    assert source in {e.source_sha3 for entries in told.values() for e in entries}


async def test_replicas_need_as_many_executors_and_say_so(colony, client: ColoniesClient) -> None:
    cfg = config_for(colony, allow_code=True)
    async with running(cfg, slots=2):
        pool = Pool(client, colony.name, colony.user_prvkey, cfg.executortype)
        results = await pool.map(triple, range(3), replicas=2, return_exceptions=True, progress=False)
    assert all(isinstance(r, RemoteError) and r.type_name == "NoQuorum" for r in results), results
    assert "no other executor" in str(results[0])
