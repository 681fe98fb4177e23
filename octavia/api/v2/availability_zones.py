"""Availability zones: /v2/lbaas/availabilityzones, identified by name (everyone reads; admins write)."""

from __future__ import annotations

from typing import Annotated, Any, cast

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select

from octavia.api import policy
from octavia.api.common import listing, pages, types
from octavia.api.common.views import text
from octavia.api.deps import Context
from octavia.api.v2 import responses
from octavia.db import models
from octavia.db.api import session_scope
from octavia.domain import availability_zones as domain

router = APIRouter(prefix="/lbaas/availabilityzones", tags=["availabilityzones"])

M = models.AvailabilityZone
COLUMNS: dict[str, Any] = {
    "name": M.name, "description": M.description, "enabled": M.enabled,
    "availability_zone_profile_id": M.availability_zone_profile_id, "created_at": M.created_at,
}
DOC = responses.resource("availability_zone", responses.AvailabilityZone, "availability_zones", COLUMNS)


class AvailabilityZonePOST(types.RequestBody):
    name: types.Str255
    description: types.Str255 | None = None
    enabled: bool = True
    availability_zone_profile_id: types.Uuid


class AvailabilityZonePUT(types.RequestBody):
    description: types.Str255 | None = None
    enabled: bool | None = None


class AvailabilityZoneCreate(types.RequestBody):
    availability_zone: AvailabilityZonePOST


class AvailabilityZoneUpdate(types.RequestBody):
    availability_zone: AvailabilityZonePUT


class _KeyedByName:
    """listing.apply finds the marker row through `model.id`; AZs are keyed by name."""

    id = M.name


def to_dict(az: models.AvailabilityZone) -> dict[str, Any]:
    return {
        "name": az.name, "description": text(az.description), "enabled": az.enabled,
        "availability_zone_profile_id": az.availability_zone_profile_id,
    }


@router.get("", summary="List availability zones", **DOC.listing())
def list_availability_zones(request: Request, ctx: Context) -> JSONResponse:
    policy.authorize(ctx, "availability-zone:get_all", ctx.project_id)
    params = listing.parse(request.query_params, COLUMNS)
    if not any(name == "name" for name, _ in params.sort):
        params.sort.append(("name", "asc"))
    with session_scope() as session:
        stmt = listing.apply(session, select(M), cast(Any, _KeyedByName), COLUMNS, params)
        rows, more = listing.paginate(list(session.execute(stmt).scalars()), params)
        items = [to_dict(r) for r in rows]
    return pages.page("availability_zones", request, params, items, [{"id": r.name} for r in rows], more)


@router.post("", status_code=201, summary="Create an availability zone", **DOC.create())
def create_availability_zone(ctx: Context, body: Annotated[AvailabilityZoneCreate, Body()]) -> JSONResponse:
    policy.authorize(ctx, "availability-zone:post", ctx.project_id)
    spec = body.availability_zone
    with session_scope(write=True) as session:
        az = domain.create(session, name=spec.name, description=spec.description, enabled=spec.enabled,
                           profile_id=spec.availability_zone_profile_id)
        result = to_dict(az)
    return JSONResponse({"availability_zone": result}, status_code=201)


@router.get("/{name}", summary="Show an availability zone", **DOC.show())
def get_availability_zone(
    name: str, ctx: Context, fields: Annotated[list[str] | None, Query()] = None
) -> JSONResponse:
    policy.authorize(ctx, "availability-zone:get_one", ctx.project_id)
    with session_scope() as session:
        result = listing.select_fields(to_dict(domain.load(session, name)), fields or [])
    return JSONResponse({"availability_zone": result})


@router.put("/{name}", summary="Update an availability zone", **DOC.update())
def update_availability_zone(
    name: str, ctx: Context, body: Annotated[AvailabilityZoneUpdate, Body()]
) -> JSONResponse:
    policy.authorize(ctx, "availability-zone:put", ctx.project_id)
    with session_scope(write=True) as session:
        az = domain.load(session, name)
        domain.apply_update(session, az, body.availability_zone.given())
        result = to_dict(az)
    return JSONResponse({"availability_zone": result})


@router.delete("/{name}", status_code=204, summary="Delete an availability zone", **DOC.delete())
def delete_availability_zone(name: str, ctx: Context) -> Response:
    policy.authorize(ctx, "availability-zone:delete", ctx.project_id)
    with session_scope(write=True) as session:
        domain.delete(session, domain.load(session, name))
    return Response(status_code=204)
