"""Availability zone profiles: /v2/lbaas/availabilityzoneprofiles (admin only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select

from octavia.api import policy
from octavia.api.common import listing, types
from octavia.api.deps import Context, collection_url
from octavia.api.v2 import responses
from octavia.db import models
from octavia.db.api import session_scope
from octavia.domain import profiles
from octavia.domain.profiles import AVAILABILITY_ZONE_PROFILE as KIND

router = APIRouter(prefix="/lbaas/availabilityzoneprofiles", tags=["availabilityzoneprofiles"])

M = models.AvailabilityZoneProfile
COLUMNS: dict[str, Any] = {
    "id": M.id, "name": M.name, "provider_name": M.provider_name,
    "availability_zone_data": M.availability_zone_data, "created_at": M.created_at,
}
DOC = responses.resource(
    "availability_zone_profile", responses.AvailabilityZoneProfile, "availability_zone_profiles", COLUMNS,
    links="availability_zone_profile_links",
)


class AvailabilityZoneProfilePOST(types.RequestBody):
    name: types.Str255
    provider_name: types.Str255
    availability_zone_data: types.Str4096


class AvailabilityZoneProfilePUT(types.RequestBody):
    name: types.Str255 | None = None
    provider_name: types.Str255 | None = None
    availability_zone_data: types.Str4096 | None = None


class AvailabilityZoneProfileCreate(types.RequestBody):
    availability_zone_profile: AvailabilityZoneProfilePOST


class AvailabilityZoneProfileUpdate(types.RequestBody):
    availability_zone_profile: AvailabilityZoneProfilePUT


def to_dict(azp: models.AvailabilityZoneProfile) -> dict[str, Any]:
    return {"id": azp.id, "name": azp.name, "provider_name": azp.provider_name,
            "availability_zone_data": azp.availability_zone_data}


@router.get("", summary="List availability zone profiles", **DOC.listing())
def list_availability_zone_profiles(request: Request, ctx: Context) -> JSONResponse:
    policy.authorize(ctx, "availability-zone-profile:get_all", ctx.project_id)
    params = listing.parse(request.query_params, COLUMNS)
    with session_scope() as session:
        stmt = listing.apply(session, select(M), M, COLUMNS, params)
        rows, more = listing.paginate(list(session.execute(stmt).scalars()), params)
        items = [listing.select_fields(to_dict(r), params.fields) for r in rows]
    # Upstream's (singular) links key, kept for wire compatibility.
    return JSONResponse({
        "availability_zone_profiles": items,
        "availability_zone_profile_links": listing.links(collection_url(request), rows, params, more),
    })


@router.post("", status_code=201, summary="Create an availability zone profile", **DOC.create())
def create_availability_zone_profile(
    ctx: Context, body: Annotated[AvailabilityZoneProfileCreate, Body()]
) -> JSONResponse:
    policy.authorize(ctx, "availability-zone-profile:post", ctx.project_id)
    spec = body.availability_zone_profile
    with session_scope(write=True) as session:
        azp = profiles.create(session, KIND, spec.name, spec.provider_name, spec.availability_zone_data)
        result = to_dict(azp)
    return JSONResponse({"availability_zone_profile": result}, status_code=201)


@router.get("/{profile_id}", summary="Show an availability zone profile", **DOC.show())
def get_availability_zone_profile(
    profile_id: str, ctx: Context, fields: Annotated[list[str] | None, Query()] = None
) -> JSONResponse:
    policy.authorize(ctx, "availability-zone-profile:get_one", ctx.project_id)
    with session_scope() as session:
        result = listing.select_fields(to_dict(profiles.load(session, KIND, profile_id)), fields or [])
    return JSONResponse({"availability_zone_profile": result})


@router.put("/{profile_id}", summary="Update an availability zone profile", **DOC.update())
def update_availability_zone_profile(
    profile_id: str, ctx: Context, body: Annotated[AvailabilityZoneProfileUpdate, Body()]
) -> JSONResponse:
    policy.authorize(ctx, "availability-zone-profile:put", ctx.project_id)
    with session_scope(write=True) as session:
        azp = profiles.load(session, KIND, profile_id)
        profiles.update(session, KIND, azp, body.availability_zone_profile.given())
        result = to_dict(azp)
    return JSONResponse({"availability_zone_profile": result})


@router.delete("/{profile_id}", status_code=204, summary="Delete an availability zone profile",
               **DOC.delete())
def delete_availability_zone_profile(profile_id: str, ctx: Context) -> Response:
    policy.authorize(ctx, "availability-zone-profile:delete", ctx.project_id)
    with session_scope(write=True) as session:
        profiles.delete(session, KIND, profiles.load(session, KIND, profile_id))
    return Response(status_code=204)
