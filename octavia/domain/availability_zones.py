"""Availability zones: named placement choices, keyed by name, backed by an AZ profile.

The name is unique (it is the key), the profile must exist, and an AZ cannot be
deleted while a load balancer that is not DELETED still uses it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from octavia.common import constants as c
from octavia.common import exceptions
from octavia.db import models

M = models.AvailabilityZone


def load(session: Session, name: str) -> models.AvailabilityZone:
    az = None if name == c.NIL_UUID else session.get(M, name)
    if az is None:
        raise exceptions.NotFound("availability_zone", name)
    return az


def create(session: Session, *, name: str, description: str | None, enabled: bool,
           profile_id: str) -> models.AvailabilityZone:
    if not name or "/" in name or name == c.NIL_UUID:
        # The name is the AZ's URL path segment: these could never be shown, updated or deleted.
        raise exceptions.ValidationException(
            detail="An availability zone name must be non-empty, must not contain '/' and must not "
            "be the nil UUID."
        )
    if profile_id == c.NIL_UUID or session.get(models.AvailabilityZoneProfile, profile_id) is None:
        raise exceptions.InvalidOption(value=profile_id, option="availability_zone_profile_id")
    if session.get(M, name) is not None:
        raise exceptions.RecordAlreadyExists(field="availability zone", name=name)
    az = M(name=name, description=description, enabled=enabled, availability_zone_profile_id=profile_id)
    session.add(az)
    try:
        session.flush()
    except IntegrityError:  # created concurrently under the same name
        raise exceptions.RecordAlreadyExists(field="availability zone", name=name) from None
    return az


def apply_update(session: Session, az: models.AvailabilityZone, changes: dict[str, Any]) -> None:
    """description / enabled; enabled cannot be unset."""
    if "enabled" in changes and changes["enabled"] is None:
        raise exceptions.InvalidOption(value=None, option="enabled")
    for field, value in changes.items():
        setattr(az, field, value)
    session.flush()


def delete(session: Session, az: models.AvailabilityZone) -> None:
    """Refuse while a live LB uses the AZ; DELETED LBs just lose the reference."""
    LB = models.LoadBalancer
    live = session.execute(
        select(func.count()).select_from(LB)
        .where(LB.availability_zone == az.name, LB.provisioning_status != c.DELETED)
    ).scalar_one()
    if live:
        raise exceptions.ObjectInUse(object="Availability Zone", id=az.name)
    session.execute(
        update(LB).where(LB.availability_zone == az.name, LB.provisioning_status == c.DELETED)
        .values(availability_zone=None)
        .execution_options(synchronize_session=False)
    )
    session.delete(az)
    session.flush()
