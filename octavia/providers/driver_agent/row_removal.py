"""Removing the rows of objects a provider reports DELETED, with everything they own.

Children are removed explicitly (not left to ON DELETE CASCADE) so that their tags and
listener statistics go too and the result is the same on every database. Ownership per
states.md §4: a listener owns its L7 policies (which own their rules); a pool owns its
members and health monitor; pools are not owned by listeners, so deleting a pool only
clears `default_pool_id` on the listeners that used it.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.orm import Session

from octavia.db import models
from octavia.domain.l7policies import renumber_positions


def delete_l7rules(session: Session, ids: Collection[str]) -> None:
    _delete_rows(session, models.L7Rule, ids)


def delete_l7policies(session: Session, ids: Collection[str]) -> None:
    """Delete policies and their rules, then renumber the survivors of each listener 1..n."""
    if not ids:
        return
    listener_ids = set(
        session.execute(select(models.L7Policy.listener_id).where(models.L7Policy.id.in_(ids))).scalars()
    )
    rule_ids = _ids(session, models.L7Rule, models.L7Rule.l7policy_id.in_(ids))
    delete_l7rules(session, rule_ids)
    _delete_rows(session, models.L7Policy, ids)
    for listener_id in listener_ids:
        renumber_positions(session, listener_id)


def delete_listeners(session: Session, ids: Collection[str]) -> None:
    if not ids:
        return
    delete_l7policies(session, _ids(session, models.L7Policy, models.L7Policy.listener_id.in_(ids)))
    session.execute(
        delete(models.ListenerStatistics).where(models.ListenerStatistics.listener_id.in_(ids))
    )
    _delete_rows(session, models.Listener, ids)


def delete_members(session: Session, ids: Collection[str]) -> None:
    _delete_rows(session, models.Member, ids)


def delete_health_monitors(session: Session, ids: Collection[str]) -> None:
    _delete_rows(session, models.HealthMonitor, ids)


def delete_pools(session: Session, ids: Collection[str]) -> None:
    """Delete pools with their members and HM. A policy still redirecting here is an error."""
    if not ids:
        return
    session.execute(
        update(models.Listener).where(models.Listener.default_pool_id.in_(ids)).values(default_pool_id=None)
    )
    delete_members(session, _ids(session, models.Member, models.Member.pool_id.in_(ids)))
    delete_health_monitors(
        session, _ids(session, models.HealthMonitor, models.HealthMonitor.pool_id.in_(ids))
    )
    _delete_rows(session, models.Pool, ids)


def delete_load_balancer_children(session: Session, lb_id: str) -> None:
    """Everything under a load balancer; the LB row itself stays, marked DELETED."""
    delete_listeners(session, _ids(session, models.Listener, models.Listener.load_balancer_id == lb_id))
    delete_pools(session, _ids(session, models.Pool, models.Pool.load_balancer_id == lb_id))


def _ids(session: Session, model: Any, condition: ColumnElement[bool]) -> list[str]:
    return list(session.execute(select(model.id).where(condition)).scalars())


def _delete_rows(session: Session, model: Any, ids: Collection[str]) -> None:
    if not ids:
        return
    ids = list(ids)
    session.execute(delete(models.Tag).where(models.Tag.resource_id.in_(ids)))
    session.execute(
        delete(model).where(model.id.in_(ids)).execution_options(synchronize_session=False)
    )
