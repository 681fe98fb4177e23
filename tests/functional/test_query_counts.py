"""No N+1: the SQL statements of a list request (and of a status tree) do not grow with the rows.

Rows go straight into the database (every object ACTIVE, tagged, with the relationships
its view renders), then each collection is listed with 3 and with 30 rows while the
engine's `before_cursor_execute` event counts statements.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from octavia.db import models
from octavia.db.api import session_scope
from tests.functional.conftest import PROJECT

SMALL, LARGE = 3, 30


@contextmanager
def counting(engine: Any) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _status(**fields: Any) -> dict[str, Any]:
    return {"project_id": PROJECT, "provisioning_status": "ACTIVE", "operating_status": "ONLINE", **fields}


def _pool(lb_id: str, **fields: Any) -> models.Pool:
    fields = {"protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN", **fields}
    return models.Pool(**_status(load_balancer_id=lb_id, **fields))


class Seeder:
    """Adds fully related objects: each LB with a listener, pools, member, HM, L7 policy + rule, amphora."""

    def __init__(self) -> None:
        self.count = 0
        self.wide_pool_id = ""
        self.wide_policy_id = ""

    def _tag(self, session: Any, *ids: str) -> None:
        session.add_all(models.Tag(resource_id=i, tag=t) for i in ids for t in ("x", "y"))

    def load_balancers(self, n: int) -> None:
        with session_scope(write=True) as s:
            for _ in range(n):
                self.count += 1
                k = self.count
                lb = models.LoadBalancer(**_status(name=f"lb{k}", provider="noop_driver",
                                                   vip_address=f"198.51.100.{k}"))
                s.add(lb)
                s.flush()
                pool = _pool(lb.id, session_persistence={"type": "SOURCE_IP"})
                redirect = _pool(lb.id)
                s.add_all([pool, redirect])
                s.flush()
                listener = models.Listener(**_status(load_balancer_id=lb.id, protocol="HTTP",
                                                     protocol_port=80, default_pool_id=pool.id,
                                                     insert_headers={"X-A": "1"}))
                member = models.Member(**_status(pool_id=pool.id, ip_address=f"192.0.2.{k}",
                                                 protocol_port=80))
                hm = models.HealthMonitor(**_status(pool_id=pool.id, type="HTTP", delay=5, timeout=3,
                                                    rise_threshold=3, fall_threshold=3, http_method="GET",
                                                    url_path="/", expected_codes="200"))
                s.add_all([listener, member, hm])
                s.flush()
                policy = models.L7Policy(**_status(listener_id=listener.id, action="REDIRECT_TO_POOL",
                                                   redirect_pool_id=redirect.id, position=1))
                s.add(policy)
                s.flush()
                rule = models.L7Rule(**_status(l7policy_id=policy.id, type="PATH", compare_type="STARTS_WITH",
                                               value="/api"))
                amphora = models.Amphora(status="ALLOCATED", load_balancer_id=lb.id, role="STANDALONE",
                                         compute_id=models.new_id(), lb_network_ip=f"192.0.2.{k}")
                s.add_all([rule, amphora])
                s.flush()
                s.add(models.ListenerStatistics(listener_id=listener.id, amphora_id=amphora.id))
                self._tag(s, lb.id, listener.id, pool.id, redirect.id, member.id, hm.id, policy.id, rule.id)
                if not self.wide_pool_id:
                    self.wide_pool_id, self.wide_policy_id = pool.id, policy.id

    def wide_children(self, n: int) -> None:
        """Grow the first pool's members and the first policy's rules to n each."""
        with session_scope(write=True) as s:
            have = s.query(models.Member).filter_by(pool_id=self.wide_pool_id).count()
            for i in range(have, n):
                s.add(models.Member(**_status(pool_id=self.wide_pool_id, ip_address=f"203.0.113.{i}",
                                              protocol_port=8080)))
            have = s.query(models.L7Rule).filter_by(l7policy_id=self.wide_policy_id).count()
            for _ in range(have, n):
                s.add(models.L7Rule(**_status(l7policy_id=self.wide_policy_id, type="HOST_NAME",
                                              compare_type="EQUAL_TO", value="example.com")))


@pytest.fixture
def seeded(api: Any) -> Seeder:
    return Seeder()


COLLECTIONS: list[tuple[str, Callable[[Seeder], str], str]] = [
    ("loadbalancers", lambda _s: "/v2/lbaas/loadbalancers", "loadbalancers"),
    ("listeners", lambda _s: "/v2/lbaas/listeners", "listeners"),
    ("pools", lambda _s: "/v2/lbaas/pools", "pools"),
    ("members", lambda s: f"/v2/lbaas/pools/{s.wide_pool_id}/members", "members"),
    ("healthmonitors", lambda _s: "/v2/lbaas/healthmonitors", "healthmonitors"),
    ("l7policies", lambda _s: "/v2/lbaas/l7policies", "l7policies"),
    ("l7rules", lambda s: f"/v2/lbaas/l7policies/{s.wide_policy_id}/rules", "rules"),
    ("amphorae", lambda _s: "/v2/octavia/amphorae", "amphorae"),
]


def _list(api: Any, db: Any, path: str, key: str) -> tuple[int, int]:
    with counting(db) as statements:
        resp = api.get(path)
    assert resp.status_code == 200, resp.text
    return len(resp.json()[key]), len(statements)


@pytest.mark.parametrize(("path_of", "key"), [(p, k) for _n, p, k in COLLECTIONS],
                         ids=[n for n, _p, _k in COLLECTIONS])
def test_list_statements_do_not_grow_with_rows(api, db, seeded, path_of, key):
    seeded.load_balancers(SMALL)
    seeded.wide_children(SMALL)
    rows_small, small = _list(api, db, path_of(seeded), key)
    seeded.load_balancers(LARGE - SMALL)
    seeded.wide_children(LARGE)
    rows_large, large = _list(api, db, path_of(seeded), key)

    assert rows_small >= SMALL and rows_large >= LARGE and rows_large > rows_small
    assert small > 0
    assert large == small, f"{key}: {small} statements for {rows_small} rows, {large} for {rows_large}"


def _tree(lb_id: str, listeners: int, pools_per_listener: int, members_per_pool: int) -> None:
    """Listeners, each reaching its pools (a default one, the others through L7 redirects) with members."""
    with session_scope(write=True) as s:
        for li in range(listeners):
            pools = [_pool(lb_id) for _ in range(pools_per_listener)]
            s.add_all(pools)
            s.flush()
            for pool in pools:
                s.add(models.HealthMonitor(**_status(pool_id=pool.id, type="TCP", delay=5, timeout=3,
                                                     rise_threshold=3, fall_threshold=3)))
                s.add_all(models.Member(**_status(pool_id=pool.id, ip_address=f"192.0.2.{m}",
                                                  protocol_port=80)) for m in range(members_per_pool))
            listener = models.Listener(**_status(load_balancer_id=lb_id, protocol="HTTP",
                                                 protocol_port=1000 + li, default_pool_id=pools[0].id))
            s.add(listener)
            s.flush()
            for position, pool in enumerate(pools[1:], start=1):
                policy = models.L7Policy(**_status(listener_id=listener.id, action="REDIRECT_TO_POOL",
                                                   redirect_pool_id=pool.id, position=position))
                s.add(policy)
                s.flush()
                s.add(models.L7Rule(**_status(l7policy_id=policy.id, type="PATH", compare_type="STARTS_WITH",
                                              value=f"/{position}")))


def _lb(name: str) -> str:
    with session_scope(write=True) as s:
        lb = models.LoadBalancer(**_status(name=name, provider="noop_driver"))
        s.add(lb)
        s.flush()
        return lb.id


def test_status_tree_statements_do_not_grow(api, db):
    small_lb, large_lb = _lb("small"), _lb("large")
    _tree(small_lb, listeners=2, pools_per_listener=2, members_per_pool=2)
    _tree(large_lb, listeners=8, pools_per_listener=3, members_per_pool=6)

    counts = {}
    for lb_id, listeners, members in ((small_lb, 2, 8), (large_lb, 8, 144)):
        with counting(db) as statements:
            resp = api.get(f"/v2/lbaas/loadbalancers/{lb_id}/status")
        assert resp.status_code == 200, resp.text
        tree = resp.json()["statuses"]["loadbalancer"]
        assert len(tree["listeners"]) == listeners
        assert sum(len(p["members"]) for li in tree["listeners"] for p in li["pools"]) == members
        assert all("health_monitor" in p for li in tree["listeners"] for p in li["pools"])
        counts[lb_id] = len(statements)
    assert counts[large_lb] == counts[small_lb], counts
