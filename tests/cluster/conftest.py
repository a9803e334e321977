"""A 3-replica ColonyOS of the tests' own, beside the one of `python build.py up`: one PostgreSQL,
three `colonies server` replicas electing a leader over etcd, haproxy in front (tools/colonyos.py).

Its state (keys, database, logs) lives in .colonies/cluster-test; its ports are the main
deployment's shifted by 100, so both run at once. It is brought down after the tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers.colony import Colony
from tools.colonyos import Deployment
from tools.layout import STATE

CLUSTER = Deployment(state=STATE / "cluster-test", port=50180, offset=100)
REPLICAS = 3


@pytest.fixture(scope="session")
def cluster() -> Iterator[Deployment]:
    CLUSTER.up(REPLICAS)
    try:
        yield CLUSTER
    finally:
        CLUSTER.down()


@pytest.fixture
def replicated(cluster: Deployment) -> Colony:
    """The cluster's colony, reached through its load balancer; every replica up (a test kills some)."""
    cluster.up(REPLICAS)
    env = cluster.env()
    return Colony(url=cluster.url, name=env["COLONIES_COLONY_NAME"], colony_prvkey=env["COLONIES_COLONY_PRVKEY"],
                  user_prvkey=env["COLONIES_PRVKEY"], server_prvkey=env["COLONIES_SERVER_PRVKEY"], env=env)
