"""Clustered mode on one machine: the API casts over RabbitMQ to two workers that share
the work; one is killed and the other carries on alone (builds, failovers, deletes);
the separate health manager rolls up operating status from the amphorae's heartbeats."""

from __future__ import annotations

import collections

import pytest

from tests.integration.cluster.harness import Cluster
from tests.integration.e2e.harness import populated_lb_body, wait_for
from tests.integration.e2e.traffic import NamedBackend, answers

pytestmark = pytest.mark.slow

BALANCED = collections.Counter({"b1": 2, "b2": 2})


def _create(cluster: Cluster, backends: list[NamedBackend], name: str) -> str:
    body = populated_lb_body(cluster.vip_subnet()["id"], [(b.address, b.port) for b in backends], name=name)
    created = cluster.call("POST", "/v2/lbaas/loadbalancers", json=body, expect=201).json()
    return str(created["loadbalancer"]["id"])


def _serves(cluster: Cluster, lb_id: str) -> bool:
    return answers(cluster.lb(lb_id)["vip_address"], 4) == BALANCED


def _builder(cluster: Cluster, lb_id: str) -> set[int]:
    """Which workers plugged an amphora of this LB (their logs name the amphora)."""
    amphora_ids = [amp["id"] for amp in cluster.amphorae(lb_id)]
    return {index for index in (1, 2) for amphora_id in amphora_ids
            if f"plugged VIP network into amphora {amphora_id}" in cluster.worker_log(index)}


def test_two_workers_share_the_work_and_one_carries_on_alone(
    cluster: Cluster, backends: list[NamedBackend]
) -> None:
    lb_ids = [_create(cluster, backends, f"cluster-{i}") for i in range(4)]
    for lb_id in lb_ids:
        assert wait_for(lambda lb_id=lb_id: cluster.lb(lb_id)["provisioning_status"] == "ACTIVE", 90), \
            cluster.log_tail()
        assert wait_for(lambda lb_id=lb_id: _serves(cluster, lb_id), 15), (
            answers(cluster.lb(lb_id)["vip_address"], 4), cluster.log_tail())
    builders = [_builder(cluster, lb_id) for lb_id in lb_ids]
    assert all(len(found) == 1 for found in builders), builders
    assert set().union(*builders) == {1, 2}, builders
    # Heartbeats reach the separate health manager, which rolls statuses up.
    assert wait_for(lambda: all(cluster.lb(lb_id)["operating_status"] == "ONLINE" for lb_id in lb_ids), 30)

    cluster.kill_worker(1)
    alone = _create(cluster, backends, "cluster-alone")
    cluster.wait_lb(alone, timeout=90)
    assert wait_for(lambda: _serves(cluster, alone), 15)
    assert _builder(cluster, alone) == {2}

    old = {amp["id"] for amp in cluster.amphorae(lb_ids[0])}
    cluster.call("PUT", f"/v2/lbaas/loadbalancers/{lb_ids[0]}/failover", expect=202)
    assert wait_for(lambda: {amp["id"] for amp in cluster.amphorae(lb_ids[0])}.isdisjoint(old), 90)
    cluster.wait_lb(lb_ids[0], timeout=90)
    assert wait_for(lambda: _serves(cluster, lb_ids[0]), 15)

    for lb_id in [*lb_ids, alone]:
        cluster.call("DELETE", f"/v2/lbaas/loadbalancers/{lb_id}", params={"cascade": "true"}, expect=204)
    for lb_id in [*lb_ids, alone]:
        cluster.wait_lb_gone(lb_id, timeout=90)
