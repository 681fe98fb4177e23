"""SQL of the health manager: snapshots for the rollup, bulk status writes, upserts, stale claims.

Every function takes an open session and issues a small, fixed number of
statements so a heartbeat costs the same whatever the size of the tree.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects import mysql as mysql_dml
from sqlalchemy.dialects import postgresql as postgresql_dml
from sqlalchemy.dialects import sqlite as sqlite_dml
from sqlalchemy.orm import Session

from octavia.common import constants
from octavia.controller.health.status_rollup import LoadBalancerTree, ObjectState, StatusChanges
from octavia.db import models

GONE_AMPHORA_STATUSES = (constants.DELETED, constants.PENDING_DELETE)


@dataclass(frozen=True)
class AmphoraRef:
    id: str
    status: str
    load_balancer_id: str | None


def load_amphora(session: Session, amphora_id: str) -> AmphoraRef | None:
    row = session.execute(
        select(models.Amphora.id, models.Amphora.status, models.Amphora.load_balancer_id).where(
            models.Amphora.id == amphora_id
        )
    ).first()
    return AmphoraRef(*row) if row else None


def load_tree(session: Session, lb_id: str) -> LoadBalancerTree | None:
    lb = session.execute(
        select(
            models.LoadBalancer.operating_status,
            models.LoadBalancer.enabled,
            models.LoadBalancer.provisioning_status,
        ).where(models.LoadBalancer.id == lb_id)
    ).first()
    if lb is None:
        return None
    listeners = session.execute(
        select(
            models.Listener.id,
            models.Listener.operating_status,
            models.Listener.enabled,
            models.Listener.protocol,
        ).where(models.Listener.load_balancer_id == lb_id)
    ).all()
    pools = session.execute(
        select(models.Pool.id, models.Pool.operating_status, models.Pool.enabled).where(
            models.Pool.load_balancer_id == lb_id
        )
    ).all()
    members = session.execute(
        select(models.Member.id, models.Member.operating_status, models.Member.enabled, models.Member.pool_id)
        .join(models.Pool, models.Pool.id == models.Member.pool_id)
        .where(models.Pool.load_balancer_id == lb_id)
    ).all()
    return LoadBalancerTree(
        lb=ObjectState(id=lb_id, operating_status=lb.operating_status, enabled=bool(lb.enabled)),
        provisioning_status=lb.provisioning_status,
        listeners=tuple(ObjectState(id=r.id, operating_status=r.operating_status, enabled=bool(r.enabled),
                                    protocol=r.protocol) for r in listeners),
        pools=tuple(ObjectState(id=r.id, operating_status=r.operating_status, enabled=bool(r.enabled))
                    for r in pools),
        members=tuple(ObjectState(id=r.id, operating_status=r.operating_status, enabled=bool(r.enabled),
                                  pool_id=r.pool_id) for r in members),
    )


def apply_status_changes(session: Session, changes: StatusChanges) -> int:
    """One UPDATE per (table, new status); returns the number of statements issued."""
    statements = 0
    for model, new_statuses in (
        (models.Member, changes.members),
        (models.Pool, changes.pools),
        (models.Listener, changes.listeners),
        (models.LoadBalancer, changes.load_balancers),
    ):
        by_status: dict[str, list[str]] = defaultdict(list)
        for obj_id, status in new_statuses.items():
            by_status[status].append(obj_id)
        for status, ids in by_status.items():
            session.execute(
                update(model).where(model.id.in_(ids)).values(operating_status=status),
                execution_options={"synchronize_session": False},
            )
            statements += 1
    return statements


def _insert_for(session: Session) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT / ON DUPLICATE KEY."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        return sqlite_dml.insert
    if dialect == "postgresql":
        return postgresql_dml.insert
    if dialect in ("mysql", "mariadb"):
        return mysql_dml.insert
    raise NotImplementedError(f"no upsert for dialect {dialect}")


def _upsert(session: Session, model: Any, rows: Sequence[dict[str, Any]], keys: Sequence[str]) -> None:
    if not rows:
        return
    insert = _insert_for(session)
    stmt = insert(model).values(list(rows))
    columns = [name for name in rows[0] if name not in keys]
    if hasattr(stmt, "on_conflict_do_update"):
        stmt = stmt.on_conflict_do_update(
            index_elements=list(keys), set_={name: stmt.excluded[name] for name in columns}
        )
    else:
        stmt = stmt.on_duplicate_key_update({name: stmt.inserted[name] for name in columns})
    session.execute(stmt)


def touch_amphora_health(session: Session, amphora_id: str, now: datetime.datetime) -> None:
    _upsert(
        session,
        models.AmphoraHealth,
        [{"amphora_id": amphora_id, "last_update": now, "busy": False}],
        ["amphora_id"],
    )


def clear_failover_stopped(session: Session, amphora: AmphoraRef) -> bool:
    """Heartbeats resumed after the circuit breaker tripped: the amphora is in service again."""
    restored = constants.AMPHORA_ALLOCATED if amphora.load_balancer_id else constants.AMPHORA_READY
    result = session.execute(
        update(models.Amphora)
        .where(models.Amphora.id == amphora.id, models.Amphora.status == constants.FAILOVER_STOPPED)
        .values(status=restored),
        execution_options={"synchronize_session": False},
    )
    return bool(getattr(result, "rowcount", 0))


def listener_ids_of(session: Session, lb_id: str) -> set[str]:
    return set(
        session.scalars(select(models.Listener.id).where(models.Listener.load_balancer_id == lb_id)).all()
    )


def upsert_listener_stats(
    session: Session, amphora_id: str, counters: dict[str, dict[str, int]], now: datetime.datetime
) -> None:
    rows = [
        {"listener_id": lid, "amphora_id": amphora_id, **values, "updated_at": now}
        for lid, values in sorted(counters.items())
    ]
    _upsert(session, models.ListenerStatistics, rows, ["listener_id", "amphora_id"])


def find_stale(session: Session, cutoff: datetime.datetime) -> tuple[list[str], list[str]]:
    """(every silent, not-busy amphora; those of them that may be failed over now).

    An amphora whose LB is in a PENDING_* state is not failed over yet: a flow owns
    that LB and would race the failover. It is still counted for the circuit breaker.
    """
    rows = session.execute(
        select(models.AmphoraHealth.amphora_id, models.LoadBalancer.provisioning_status)
        .join(models.Amphora, models.Amphora.id == models.AmphoraHealth.amphora_id)
        .outerjoin(models.LoadBalancer, models.LoadBalancer.id == models.Amphora.load_balancer_id)
        .where(
            models.AmphoraHealth.busy.is_(False),
            models.AmphoraHealth.last_update < cutoff,
            models.Amphora.status.not_in(GONE_AMPHORA_STATUSES),
        )
        .order_by(models.AmphoraHealth.last_update)
    ).all()
    silent = [row.amphora_id for row in rows]
    eligible = [
        row.amphora_id for row in rows if row.provisioning_status not in constants.PENDING_STATUSES
    ]
    return silent, eligible


def claim_for_failover(session: Session, amphora_id: str, cutoff: datetime.datetime) -> bool:
    """Atomically mark one stale amphora busy; False when another health manager won it."""
    result = session.execute(
        update(models.AmphoraHealth)
        .where(
            models.AmphoraHealth.amphora_id == amphora_id,
            models.AmphoraHealth.busy.is_(False),
            models.AmphoraHealth.last_update < cutoff,
        )
        .values(busy=True),
        execution_options={"synchronize_session": False},
    )
    return getattr(result, "rowcount", 0) == 1


def stop_failover(session: Session, amphora_ids: Iterable[str]) -> int:
    """Circuit breaker: flag silent amphorae FAILOVER_STOPPED; returns how many changed."""
    ids = list(amphora_ids)
    if not ids:
        return 0
    result = session.execute(
        update(models.Amphora)
        .where(
            models.Amphora.id.in_(ids),
            or_(models.Amphora.status != constants.FAILOVER_STOPPED, models.Amphora.status.is_(None)),
        )
        .values(status=constants.FAILOVER_STOPPED),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(result, "rowcount", 0) or 0)

