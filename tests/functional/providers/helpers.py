"""Rows and polling for the provider functional tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from octavia.db import api as db_api
from octavia.db import models

T = TypeVar("T")


@dataclass
class Database:
    engine: Any
    url: str  # for another process (the driver agent command) to reach the same tables


def wait_for(check: Callable[[], T], timeout: float = 5.0) -> T:
    """Poll until `check()` is truthy; fail the test with the last value otherwise."""
    deadline = time.monotonic() + timeout
    value = check()
    while not value:
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last value {value!r})")
        time.sleep(0.005)
        value = check()
    return value


def status_of(model: type[models.Base], object_id: str) -> tuple[str, str] | None:
    """(provisioning_status, operating_status) of a row, or None when it is gone."""
    with db_api.session_scope() as session:
        row = session.get(model, object_id)
        return None if row is None else (row.provisioning_status, row.operating_status)  # type: ignore[attr-defined]


@dataclass
class Tree:
    lb: str
    listener: str
    pool: str
    redirect_pool: str
    members: list[str]
    hm: str
    policy: str
    rule: str


def build_tree(session: Any, status: str = "ACTIVE", provider: str = "noop_driver") -> Tree:
    """An LB with one listener (default pool with 2 members and an HM; one L7 policy with
    one rule redirecting to a second pool), every object in `status`."""
    st = {"provisioning_status": status, "operating_status": "OFFLINE"}
    lb = models.LoadBalancer(project_id="proj", provider=provider, vip_address="203.0.113.5",
                             vip_subnet_id="sub-1", vip_network_id="net-1", vip_port_id="port-1", **st)
    session.add(lb)
    session.flush()
    pool = models.Pool(project_id="proj", load_balancer_id=lb.id, protocol="HTTP",
                       lb_algorithm="ROUND_ROBIN", **st)
    redirect = models.Pool(project_id="proj", load_balancer_id=lb.id, protocol="HTTP",
                           lb_algorithm="ROUND_ROBIN", **st)
    session.add_all([pool, redirect])
    session.flush()
    members = [
        models.Member(project_id="proj", pool_id=pool.id, ip_address=f"192.0.2.{i}", protocol_port=80,
                      provisioning_status=status, operating_status="OFFLINE")
        for i in (1, 2)
    ]
    hm = models.HealthMonitor(project_id="proj", pool_id=pool.id, type="HTTP", delay=5, timeout=3,
                              rise_threshold=3, fall_threshold=3, **st)
    listener = models.Listener(project_id="proj", load_balancer_id=lb.id, protocol="HTTP", protocol_port=80,
                               default_pool_id=pool.id, **st)
    session.add_all([*members, hm, listener])
    session.flush()
    policy = models.L7Policy(project_id="proj", listener_id=listener.id, action="REDIRECT_TO_POOL",
                             redirect_pool_id=redirect.id, position=1, **st)
    session.add(policy)
    session.flush()
    rule = models.L7Rule(project_id="proj", l7policy_id=policy.id, type="PATH", compare_type="STARTS_WITH",
                         value="/api", **st)
    session.add(rule)
    session.flush()
    return Tree(lb.id, listener.id, pool.id, redirect.id, [m.id for m in members], hm.id, policy.id, rule.id)
