"""Flavor profiles and availability zone profiles: provider metadata the operator stores.

Both kinds follow one set of rules (upstream's): the metadata is a JSON object that the
named, enabled provider must accept, and a profile that flavors / availability zones
reference can neither be deleted nor change its provider or metadata.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from octavia_lib.api.drivers.provider_base import ProviderDriver
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from octavia.common import constants as c
from octavia.common import exceptions
from octavia.db import models
from octavia.providers import loader

P = TypeVar("P", models.FlavorProfile, models.AvailabilityZoneProfile)


@dataclasses.dataclass(frozen=True)
class ProfileKind(Generic[P]):
    resource: str  # key of constants.RESOURCE_NAMES
    model: type[P]
    data_field: str
    validator: Callable[[ProviderDriver], Callable[[dict[str, Any]], None]]
    users: Callable[[str], Any]  # profile id -> a SELECT of the rows referencing it


FLAVOR_PROFILE: ProfileKind[models.FlavorProfile] = ProfileKind(
    resource="flavorprofile",
    model=models.FlavorProfile,
    data_field="flavor_data",
    validator=lambda driver: driver.validate_flavor,
    users=lambda pid: select(func.count()).select_from(models.Flavor)
    .where(models.Flavor.flavor_profile_id == pid),
)
AVAILABILITY_ZONE_PROFILE: ProfileKind[models.AvailabilityZoneProfile] = ProfileKind(
    resource="availability_zone_profile",
    model=models.AvailabilityZoneProfile,
    data_field="availability_zone_data",
    validator=lambda driver: driver.validate_availability_zone,
    users=lambda pid: select(func.count()).select_from(models.AvailabilityZone)
    .where(models.AvailabilityZone.availability_zone_profile_id == pid),
)


def parse_metadata(text: str, option: str) -> dict[str, Any]:
    """The metadata must be a JSON object (upstream: `... is not a valid option for <field>`)."""
    try:
        data = json.loads(text)
    except ValueError:
        raise exceptions.InvalidOption(value=text, option=option) from None
    if not isinstance(data, dict):
        raise exceptions.InvalidOption(value=text, option=option)
    return data


def validate_with_provider(kind: ProfileKind[Any], provider: str, text: str) -> None:
    """Parse the metadata and let the (enabled) provider accept or refuse it."""
    data = parse_metadata(text, kind.data_field)
    driver = loader.get_driver(provider)
    loader.call_provider(provider, kind.validator(driver), data)


def load(session: Session, kind: ProfileKind[P], profile_id: str) -> P:
    """The profile, or 404; the nil UUID is reserved and never found."""
    profile = None if profile_id == c.NIL_UUID else session.get(kind.model, profile_id)
    if profile is None:
        raise exceptions.NotFound(kind.resource, profile_id)
    return profile


def in_use(session: Session, kind: ProfileKind[Any], profile_id: str) -> bool:
    return int(session.execute(kind.users(profile_id)).scalar_one()) > 0


def create(session: Session, kind: ProfileKind[P], name: str, provider: str, data: str) -> P:
    validate_with_provider(kind, provider, data)
    profile = kind.model(id=models.new_id(), name=name, provider_name=provider)
    setattr(profile, kind.data_field, data)
    session.add(profile)
    session.flush()
    return profile


def update(session: Session, kind: ProfileKind[P], profile: P, changes: dict[str, Any]) -> None:
    """Apply a PUT: no field may become null, and provider/metadata are frozen while in use."""
    for field in ("name", "provider_name", kind.data_field):
        if field in changes and changes[field] is None:
            raise exceptions.InvalidOption(value=None, option=field)
    if "provider_name" in changes or kind.data_field in changes:
        if in_use(session, kind, profile.id):
            raise exceptions.ObjectInUse(object=c.RESOURCE_NAMES[kind.resource], id=profile.id)
        validate_with_provider(
            kind,
            changes.get("provider_name", profile.provider_name),
            changes.get(kind.data_field, getattr(profile, kind.data_field)),
        )
    for field, value in changes.items():
        setattr(profile, field, value)
    session.flush()


def delete(session: Session, kind: ProfileKind[P], profile: P) -> None:
    if in_use(session, kind, profile.id):
        raise exceptions.ObjectInUse(object=c.RESOURCE_NAMES[kind.resource], id=profile.id)
    session.delete(profile)
    try:
        session.flush()
    except IntegrityError:  # a referencing row was added concurrently
        raise exceptions.ObjectInUse(object=c.RESOURCE_NAMES[kind.resource], id=profile.id) from None
