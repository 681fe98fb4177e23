"""Flavors: named, operator-defined LB sizes that point at a flavor profile.

A flavor's name is unique, its profile must exist, and it cannot be deleted while a
load balancer that is not DELETED still uses it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from octavia.common import constants as c
from octavia.common import exceptions
from octavia.db import models

M = models.Flavor


def load(session: Session, flavor_id: str) -> models.Flavor:
    """The flavor, or 404; the nil UUID is reserved and never found."""
    flavor = None if flavor_id == c.NIL_UUID else session.get(M, flavor_id)
    if flavor is None:
        raise exceptions.NotFound("flavor", flavor_id)
    return flavor


def _flush_unique(session: Session, name: str) -> None:
    try:
        session.flush()
    except IntegrityError:
        raise exceptions.RecordAlreadyExists(field="flavor", name=name) from None


def create(session: Session, *, name: str, description: str | None, enabled: bool,
           flavor_profile_id: str) -> models.Flavor:
    if flavor_profile_id == c.NIL_UUID or session.get(models.FlavorProfile, flavor_profile_id) is None:
        raise exceptions.InvalidOption(value=flavor_profile_id, option="flavor_profile_id")
    if session.execute(select(M.id).where(M.name == name)).first() is not None:
        raise exceptions.RecordAlreadyExists(field="flavor", name=name)
    flavor = M(id=models.new_id(), name=name, description=description, enabled=enabled,
               flavor_profile_id=flavor_profile_id)
    session.add(flavor)
    _flush_unique(session, name)
    return flavor


def apply_update(session: Session, flavor: models.Flavor, changes: dict[str, Any]) -> None:
    """name / description / enabled; name and enabled cannot be unset."""
    for field in ("name", "enabled"):
        if field in changes and changes[field] is None:
            raise exceptions.InvalidOption(value=None, option=field)
    new_name = changes.get("name")
    if new_name is not None and new_name != flavor.name and session.execute(
        select(M.id).where(M.name == new_name)
    ).first() is not None:
        raise exceptions.RecordAlreadyExists(field="flavor", name=new_name)
    for field, value in changes.items():
        setattr(flavor, field, value)
    _flush_unique(session, flavor.name)


def delete(session: Session, flavor: models.Flavor) -> None:
    """Refuse while a live LB uses the flavor; DELETED LBs just lose the reference."""
    LB = models.LoadBalancer
    live = session.execute(
        select(func.count()).select_from(LB)
        .where(LB.flavor_id == flavor.id, LB.provisioning_status != c.DELETED)
    ).scalar_one()
    if live:
        raise exceptions.ObjectInUse(object="Flavor", id=flavor.id)
    session.execute(
        update(LB).where(LB.flavor_id == flavor.id, LB.provisioning_status == c.DELETED)
        .values(flavor_id=None)
        .execution_options(synchronize_session=False)
    )
    session.delete(flavor)
    try:
        session.flush()
    except IntegrityError:  # an LB took the flavor concurrently
        raise exceptions.ObjectInUse(object="Flavor", id=flavor.id) from None
