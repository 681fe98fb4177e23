"""Quota enforcement: a project's limits, its usage, and the check made on every create.

The project's quota row is locked (FOR UPDATE; SQLite serialises writers anyway) before
usage is counted, so concurrent creates cannot both squeeze under the limit.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from octavia.common import constants as c
from octavia.common import exceptions
from octavia.common.config import CONF
from octavia.db import models

QUOTA_KEYS = ("load_balancer", "listener", "pool", "health_monitor", "member", "l7policy", "l7rule")
DISPLAY = {
    "load_balancer": "Load Balancer",
    "listener": "Listener",
    "pool": "Pool",
    "health_monitor": "Health Monitor",
    "member": "Member",
    "l7policy": "L7 Policy",
    "l7rule": "L7 Rule",
}
_MODEL: dict[str, Any] = {
    "load_balancer": models.LoadBalancer,
    "listener": models.Listener,
    "pool": models.Pool,
    "health_monitor": models.HealthMonitor,
    "member": models.Member,
    "l7policy": models.L7Policy,
    "l7rule": models.L7Rule,
}


def defaults() -> dict[str, int]:
    q = CONF.quotas
    return {
        "load_balancer": q.default_load_balancer_quota,
        "listener": q.default_listener_quota,
        "pool": q.default_pool_quota,
        "health_monitor": q.default_health_monitor_quota,
        "member": q.default_member_quota,
        "l7policy": q.default_l7policy_quota,
        "l7rule": q.default_l7rule_quota,
    }


def effective(record: models.Quota | None) -> dict[str, int]:
    values = defaults()
    if record is not None:
        for key in QUOTA_KEYS:
            stored = getattr(record, key)
            if stored is not None:
                values[key] = stored
    return values


def ensure_record(session: Session, project_id: str) -> None:
    dialect = session.get_bind().dialect.name
    values = {"project_id": project_id, "created_at": models.utcnow()}
    if dialect == "postgresql":
        session.execute(pg_insert(models.Quota).values(**values).on_conflict_do_nothing())
    elif dialect == "sqlite":
        session.execute(sqlite_insert(models.Quota).values(**values).on_conflict_do_nothing())
    elif dialect in ("mysql", "mariadb"):
        # MySQL has no DO NOTHING: an update of the key to itself changes nothing.
        stmt = mysql_insert(models.Quota).values(**values)
        session.execute(stmt.on_duplicate_key_update(project_id=stmt.inserted.project_id))
    else:
        raise NotImplementedError(f"no insert-if-absent for dialect {dialect}")


def in_use(session: Session, project_id: str, resource: str) -> int:
    model = _MODEL[resource]
    stmt = select(func.count()).select_from(model).where(model.project_id == project_id)
    if model is models.LoadBalancer:
        stmt = stmt.where(model.provisioning_status != c.DELETED)
    return int(session.execute(stmt).scalar_one())


def check(session: Session, ctx: Any, project_id: str | None, wanted: dict[str, int]) -> None:
    """Raise 403 when creating `wanted` objects would exceed a limit; noauth skips quotas.

    `project_id` is read from a nullable column, though the API creates no load balancer
    without one: a missing owner cannot be counted against any quota.
    """
    if not ctx.quotas_enforced or not any(wanted.values()):
        return
    if project_id is None:
        raise exceptions.MissingProjectID()
    ensure_record(session, project_id)
    record = session.execute(
        select(models.Quota).where(models.Quota.project_id == project_id).with_for_update()
    ).scalar_one()
    limits = effective(record)
    for resource, n in wanted.items():
        limit = limits[resource]
        if n <= 0 or limit == -1:
            continue
        if in_use(session, project_id, resource) + n > limit:
            raise exceptions.QuotaException(resource=DISPLAY[resource])


def stored(record: models.Quota) -> dict[str, int | None]:
    """The limits as recorded: None means "the deployment default"."""
    return {key: getattr(record, key) for key in QUOTA_KEYS}


def set_limits(session: Session, project_id: str, changes: dict[str, int | None]) -> None:
    """Record new limits for a project (None resets one to the default)."""
    ensure_record(session, project_id)
    record = session.execute(
        select(models.Quota).where(models.Quota.project_id == project_id).with_for_update()
    ).scalar_one()
    for key, value in changes.items():
        if key not in QUOTA_KEYS:
            raise ValueError(f"unknown quota {key}")
        setattr(record, key, value)
    session.flush()


def reset_limits(session: Session, project_id: str) -> None:
    """Every limit back to the default; the record stays, as upstream. 404 without one."""
    record = session.execute(
        select(models.Quota).where(models.Quota.project_id == project_id).with_for_update()
    ).scalar_one_or_none()
    if record is None:
        raise exceptions.NotFound("Quotas", project_id)
    for key in QUOTA_KEYS:
        setattr(record, key, None)
    session.flush()
