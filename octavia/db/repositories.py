"""SQL the API's domain rules need: look-ups that hide DELETED rows, the LB lock, tags, counts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar, cast

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from octavia.common import constants as c
from octavia.common import exceptions
from octavia.db import models

T = TypeVar("T", bound=models.Base)


def get_or_404(session: Session, model: type[T], obj_id: str, resource: str) -> T:
    """The object, or NotFound when it is absent or DELETED."""
    obj = session.get(model, obj_id)
    status = getattr(obj, "provisioning_status", None) or getattr(obj, "status", None)
    if obj is None or status == c.DELETED:
        raise exceptions.NotFound(resource, obj_id)
    return obj


def lock_load_balancer(
    session: Session,
    lb_id: str,
    *,
    allowed: Iterable[str] = (c.ACTIVE,),
    target: str = c.PENDING_UPDATE,
    child_operation: bool = True,
) -> None:
    """Atomic test-and-set of the LB's provisioning status: one operation in flight per LB.

    A conditional UPDATE serialises concurrent callers on the row lock; the loser sees
    zero rows changed and gets a 409.
    """
    allowed = tuple(allowed)
    result = cast(CursorResult[Any], session.execute(  # an UPDATE yields a CursorResult
        update(models.LoadBalancer)
        .where(models.LoadBalancer.id == lb_id, models.LoadBalancer.provisioning_status.in_(allowed))
        .values(provisioning_status=target, updated_at=models.utcnow())
        .execution_options(synchronize_session=False)
    ))
    if result.rowcount == 1:
        lb = session.get(models.LoadBalancer, lb_id)
        if lb is not None:
            session.refresh(lb, ["provisioning_status", "updated_at"])
        return
    current = session.execute(
        select(models.LoadBalancer.provisioning_status).where(models.LoadBalancer.id == lb_id)
    ).scalar_one_or_none()
    if current is None or current == c.DELETED:
        raise exceptions.NotFound("loadbalancer", lb_id)
    if child_operation:
        raise exceptions.ImmutableObject("loadbalancer", lb_id)
    raise exceptions.InvalidLoadBalancerState(state=current, id=lb_id)


def set_status(session: Session, obj: Any, status: str) -> None:
    obj.provisioning_status = status
    obj.updated_at = models.utcnow()


def require_active(obj: Any, resource: str) -> None:
    """Parent check (pool for members/HM, policy for rules): 409 unless ACTIVE."""
    if obj.provisioning_status != c.ACTIVE:
        raise exceptions.ImmutableObject(resource, obj.id)


def load_tags(session: Session, ids: Iterable[str]) -> dict[str, list[str]]:
    """Tags of many objects in one query (lists must not issue a query per row)."""
    id_list = list(ids)
    out: dict[str, list[str]] = {i: [] for i in id_list}
    if not id_list:
        return out
    for start in range(0, len(id_list), 900):
        chunk = id_list[start:start + 900]
        rows = session.execute(
            select(models.Tag.resource_id, models.Tag.tag)
            .where(models.Tag.resource_id.in_(chunk))
            .order_by(models.Tag.resource_id, models.Tag.tag)
        )
        for rid, tag in rows:
            out[rid].append(tag)
    return out


def set_tags(session: Session, resource_id: str, tags: list[str] | None) -> None:
    """Replace an object's tags; None leaves them as they are."""
    if tags is None:
        return
    session.execute(delete(models.Tag).where(models.Tag.resource_id == resource_id))
    unique = list(dict.fromkeys(tags))
    if unique:
        session.execute(insert(models.Tag), [{"resource_id": resource_id, "tag": t} for t in unique])


def delete_tags(session: Session, resource_ids: Iterable[str]) -> None:
    ids = list(resource_ids)
    if ids:
        session.execute(delete(models.Tag).where(models.Tag.resource_id.in_(ids)))


def count(session: Session, model: type[models.Base], **where: Any) -> int:
    stmt = select(func.count()).select_from(model)
    for key, value in where.items():
        stmt = stmt.where(getattr(model, key) == value)
    return int(session.execute(stmt).scalar_one())
