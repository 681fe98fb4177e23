"""Invariants of the object tree that must hold whatever requests were made.

Run after a fuzz or concurrency run, once the provider has settled: each function
returns human-readable problems (empty when the database is consistent).
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from octavia.common import constants as c
from octavia.db import models
from octavia.db.api import session_scope

TREE: tuple[type[Any], ...] = (
    models.LoadBalancer, models.Listener, models.Pool, models.Member, models.HealthMonitor,
    models.L7Policy, models.L7Rule,
)


def pending(session: Session) -> list[str]:
    """Objects still in a PENDING_* state."""
    out: list[str] = []
    for model in TREE:
        status = model.provisioning_status
        rows = session.execute(select(model.id, status).where(status.in_(c.PENDING_STATUSES))).all()
        out.extend(f"{model.__tablename__} {i} stuck in {s}" for i, s in rows)
    return out


def wait_settled(timeout: float = 30.0) -> list[str]:
    """Poll until nothing is PENDING_*; the leftovers when `timeout` runs out."""
    deadline = time.monotonic() + timeout
    while True:
        with session_scope() as session:
            left = pending(session)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def problems(session: Session) -> list[str]:
    """Every broken invariant: orphans, cross-project children, L7 positions, member duplicates."""
    lbs = {r.id: r for r in session.execute(select(models.LoadBalancer)).scalars()}
    listeners = {r.id: r for r in session.execute(select(models.Listener)).scalars()}
    pools = {r.id: r for r in session.execute(select(models.Pool)).scalars()}
    members = list(session.execute(select(models.Member)).scalars())
    monitors = list(session.execute(select(models.HealthMonitor)).scalars())
    policies = {r.id: r for r in session.execute(select(models.L7Policy)).scalars()}
    rules = list(session.execute(select(models.L7Rule)).scalars())
    out: list[str] = []

    def live_lb(kind: str, obj_id: str, lb_id: str | None, project: str | None) -> None:
        lb = lbs.get(lb_id or "")
        if lb is None:
            out.append(f"{kind} {obj_id}: load balancer {lb_id} does not exist")
        elif lb.provisioning_status == c.DELETED:
            out.append(f"{kind} {obj_id} outlived its DELETED load balancer {lb_id}")
        elif lb.project_id != project:
            out.append(f"{kind} {obj_id} of project {project} under load balancer {lb_id} of {lb.project_id}")

    for li in listeners.values():
        live_lb("listener", li.id, li.load_balancer_id, li.project_id)
        if li.default_pool_id is not None:
            pool = pools.get(li.default_pool_id)
            if pool is None or pool.load_balancer_id != li.load_balancer_id:
                out.append(f"listener {li.id}: default pool {li.default_pool_id} missing or of another LB")
    for pool in pools.values():
        live_lb("pool", pool.id, pool.load_balancer_id, pool.project_id)
    for kind, children in (("member", members), ("health_monitor", monitors)):
        for child in children:
            pool = pools.get(child.pool_id)
            if pool is None:
                out.append(f"{kind} {child.id}: pool {child.pool_id} does not exist")
            else:
                live_lb(kind, child.id, pool.load_balancer_id, child.project_id)
    for pol in policies.values():
        owner = listeners.get(pol.listener_id)
        if owner is None:
            out.append(f"l7policy {pol.id}: listener {pol.listener_id} does not exist")
            continue
        live_lb("l7policy", pol.id, owner.load_balancer_id, pol.project_id)
        if pol.redirect_pool_id is not None:
            pool = pools.get(pol.redirect_pool_id)
            if pool is None or pool.load_balancer_id != owner.load_balancer_id:
                out.append(f"l7policy {pol.id}: redirect pool {pol.redirect_pool_id} missing or of other LB")
    for rule in rules:
        parent = policies.get(rule.l7policy_id)
        via = listeners.get(parent.listener_id) if parent is not None else None
        if via is None:
            out.append(f"l7rule {rule.id}: policy {rule.l7policy_id} (or its listener) does not exist")
        else:
            live_lb("l7rule", rule.id, via.load_balancer_id, rule.project_id)

    positions: dict[str, list[int]] = defaultdict(list)
    for pol in policies.values():
        positions[pol.listener_id].append(pol.position)
    for listener_id, seen in positions.items():
        if sorted(seen) != list(range(1, len(seen) + 1)):
            out.append(f"listener {listener_id}: L7 positions {sorted(seen)} are not 1..{len(seen)}")

    addresses = Counter((m.pool_id, m.ip_address, m.protocol_port) for m in members)
    out.extend(f"pool {p}: member {a}:{port} appears {n} times"
               for (p, a, port), n in addresses.items() if n > 1)

    owners = set(lbs) | set(listeners) | set(pools) | set(policies)
    owners |= {m.id for m in members} | {h.id for h in monitors} | {r.id for r in rules}
    for tag in session.execute(select(models.Tag)).scalars():
        if tag.resource_id not in owners:
            out.append(f"tag {tag.tag!r} of missing object {tag.resource_id}")
    return out


def check(settle_timeout: float = 30.0) -> list[str]:
    """Settle, then report stuck objects and broken invariants together."""
    stuck = wait_settled(settle_timeout)
    with session_scope() as session:
        return stuck + problems(session)
