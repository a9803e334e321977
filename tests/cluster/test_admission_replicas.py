"""The admission service on the 3-replica ColonyOS while one replica is down: an executor joins by
link (the link carries the balancer's URL, or the three replicas' URLs) and serves."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.admission import admission_service
from tests.helpers.colony import Colony, unique
from tests.helpers.engine import config_for, running, spec_for
from tools.colonyos import Deployment
from wasm_executor import SUCCESS, ColoniesClient
from wasm_executor.events import State
from wasm_executor.joining import parse_join_link

pytestmark = pytest.mark.server


@pytest.mark.parametrize("through", ["load balancer", "replica URLs"])
async def test_a_join_by_link_works_with_a_replica_down(
    replicated: Colony, cluster: Deployment, tmp_path: Path, through: str,
) -> None:
    colony = replicated
    urls = colony.url if through == "load balancer" else ", ".join(r.url for r in cluster.replicas())
    leader = cluster.leader()
    cluster.kill(next(r.name for r in cluster.replicas() if r.name != leader))  # `replicated` brings it back
    etype = unique("join-ha")
    with admission_service(colony, tmp_path / "admission.db", server=urls) as service:
        *_, link = service.invite("--type", etype, "--uses", "2", "--server", urls)
        joined = parse_join_link(link)
        assert joined.server == urls
        cfg = config_for(colony, server_url=joined.server, executortype=etype, colony_prvkey=None,
                         admission_url=joined.admission, invite=joined.invite)
        async with running(cfg) as (executor, rec), ColoniesClient(urls) as client:
            assert State.POLLING in rec.states(), rec.states()
            for i in range(10):
                p = await client.submit(spec_for(cfg, "echo", str(i)), colony.user_prvkey)
                got = await client.wait_for_end(p, 30, colony.user_prvkey)
                assert (got.state, got.output) == (SUCCESS, [str(i)])
            assert executor.done == 10
        journal = service.cli("log").stdout
        assert f"admitted executor={executor.executorid} name={cfg.executorname} invite=" in journal, journal
