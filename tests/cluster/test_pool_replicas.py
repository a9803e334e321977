"""`Pool` on the 3-replica ColonyOS: a map of 200 and a stream of 20, all results in order, through
the load balancer and with the replicas' URLs. A channel lives in one replica's memory: given the
replicas' URLs the stream listens on all of them and gets every item live; behind the balancer
what the balancer's replica lacks comes from the output, and `last_stream` says so."""

from __future__ import annotations

import pytest

from tests.helpers.colony import Colony, unique
from tests.helpers.engine import config_for, running
from tools.colonyos import Deployment
from wasm_executor import ColoniesClient, Pool

pytestmark = pytest.mark.server


def cube(x):
    return x * x * x


def count_slowly(n, pause):
    import time

    for i in range(n):
        yield {"i": i}
        time.sleep(pause)


@pytest.mark.parametrize("through", ["load balancer", "replica URLs"])
async def test_map_of_200_and_stream_of_20_across_replicas(replicated: Colony, cluster: Deployment, through: str) -> None:
    colony = replicated
    urls = colony.url if through == "load balancer" else ", ".join(r.url for r in cluster.replicas())
    etype = unique("pool-ha")
    cfg_a = config_for(colony, server_url=urls, executortype=etype, allow_code=True)
    cfg_b = config_for(colony, server_url=urls, executortype=etype, allow_code=True)
    async with running(cfg_a, slots=2) as (a, _), running(cfg_b, slots=2) as (b, _), ColoniesClient(urls) as client:
        pool = Pool(client, colony.name, colony.user_prvkey, executortype=etype)
        assert await pool.map(cube, range(200), progress=False) == [x * x * x for x in range(200)]
        streamed = [part async for part in pool.stream(count_slowly, 20, 0.05)]
        assert streamed == [{"i": i} for i in range(20)]
        delivery = pool.last_stream
        assert delivery is not None and delivery.live + delivery.at_end == 20
        if through == "replica URLs":
            assert (delivery.live, delivery.servers) == (20, 3), str(delivery)  # every replica listened on
        used = {cluster.replica_at(e.client.server_url) for e in (a, b)} | {cluster.replica_at(client.server_url)}
    print(f"\n{through}: {delivery}; replicas used: {sorted(str(u) for u in used)}")
