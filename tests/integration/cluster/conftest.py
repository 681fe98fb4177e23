"""A cluster (separate processes, PostgreSQL, RabbitMQ) per amphora mode, and members."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.aio import member_servers, mode_params, started, temp_root
from tests.integration.cluster.harness import Cluster, rabbitmq_available
from tests.integration.databases import PG_ADMIN_URL, postgres_available, postgres_database
from tests.integration.e2e.traffic import NamedBackend


@pytest.fixture(scope="package", params=mode_params())
def cluster(request: pytest.FixtureRequest) -> Iterator[Cluster]:
    if not rabbitmq_available():
        pytest.skip("no RabbitMQ on 127.0.0.1:5672 (tools/start-rabbitmq.sh starts one)")
    if not postgres_available():
        pytest.skip(f"no PostgreSQL at {PG_ADMIN_URL} (tools/start-postgres.sh starts one)")
    with temp_root(f"cluster-{request.param}-") as root, postgres_database("octavia_cluster") as url:
        with started(Cluster(root, request.param, url)) as service:
            yield service


@pytest.fixture
def backends(cluster: Cluster) -> Iterator[list[NamedBackend]]:
    with member_servers(cluster, 2) as servers:
        yield servers
