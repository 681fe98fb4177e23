"""The consistency checker the fuzz and concurrency tests rely on finds each broken invariant."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from octavia.common import constants as c
from octavia.db import models
from octavia.db.api import session_scope
from tests.functional.hardening import consistency


def _tree(api: Any) -> dict[str, str]:
    lb = api.create_lb()["id"]
    other_lb = api.create_lb()["id"]

    def make(path: str, key: str, lb_id: str, **body: Any) -> str:
        resp = api.post(path, json={key: body})
        assert resp.status_code == 201, resp.text
        api.wait_lb(lb_id)
        return str(resp.json()[key]["id"])

    listener = make("/v2/lbaas/listeners", "listener", lb, loadbalancer_id=lb, protocol="HTTP",
                    protocol_port=80)
    pool = make("/v2/lbaas/pools", "pool", lb, loadbalancer_id=lb, protocol="HTTP",
                lb_algorithm="ROUND_ROBIN")
    foreign_pool = make("/v2/lbaas/pools", "pool", other_lb, loadbalancer_id=other_lb, protocol="HTTP",
                        lb_algorithm="ROUND_ROBIN")
    policy = make("/v2/lbaas/l7policies", "l7policy", lb, listener_id=listener, action="REDIRECT_TO_POOL",
                  redirect_pool_id=pool)
    return {"lb": lb, "other_lb": other_lb, "listener": listener, "pool": pool,
            "foreign_pool": foreign_pool, "policy": policy}


def test_a_consistent_tree_has_no_problems(api: Any) -> None:
    _tree(api)
    assert consistency.check() == []


def test_each_broken_invariant_is_reported(api: Any) -> None:
    ids = _tree(api)
    with session_scope(write=True) as session:
        session.execute(update(models.Listener).where(models.Listener.id == ids["listener"])
                        .values(project_id="intruder"))
        session.execute(update(models.L7Policy).where(models.L7Policy.id == ids["policy"])
                        .values(position=3, redirect_pool_id=ids["foreign_pool"]))
        session.execute(update(models.Pool).where(models.Pool.id == ids["pool"])
                        .values(provisioning_status=c.PENDING_UPDATE))
        session.execute(update(models.LoadBalancer).where(models.LoadBalancer.id == ids["other_lb"])
                        .values(provisioning_status=c.DELETED))
        session.add(models.Tag(resource_id="0" * 36, tag="orphan"))
    found = consistency.check(settle_timeout=0)
    expected = [
        f"pool {ids['pool']} stuck in PENDING_UPDATE",
        f"listener {ids['listener']} of project intruder under load balancer {ids['lb']}",
        f"listener {ids['listener']}: L7 positions [3] are not 1..1",
        f"l7policy {ids['policy']}: redirect pool {ids['foreign_pool']} missing or of other LB",
        f"pool {ids['foreign_pool']} outlived its DELETED load balancer {ids['other_lb']}",
        f"tag 'orphan' of missing object {'0' * 36}",
    ]
    for problem in expected:
        assert any(line.startswith(problem) for line in found), (problem, found)
