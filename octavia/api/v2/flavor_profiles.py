"""Flavor profiles: /v2/lbaas/flavorprofiles (admin only)."""

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
from octavia.domain.profiles import FLAVOR_PROFILE as KIND

router = APIRouter(prefix="/lbaas/flavorprofiles", tags=["flavorprofiles"])

M = models.FlavorProfile
COLUMNS: dict[str, Any] = {
    "id": M.id, "name": M.name, "provider_name": M.provider_name, "flavor_data": M.flavor_data,
    "created_at": M.created_at,
}
DOC = responses.resource("flavorprofile", responses.FlavorProfile, "flavorprofiles", COLUMNS,
                             links="flavorprofile_links")


class FlavorProfilePOST(types.RequestBody):
    name: types.Str255
    provider_name: types.Str255
    flavor_data: types.Str4096


class FlavorProfilePUT(types.RequestBody):
    name: types.Str255 | None = None
    provider_name: types.Str255 | None = None
    flavor_data: types.Str4096 | None = None


class FlavorProfileCreate(types.RequestBody):
    flavorprofile: FlavorProfilePOST


class FlavorProfileUpdate(types.RequestBody):
    flavorprofile: FlavorProfilePUT


def to_dict(fp: models.FlavorProfile) -> dict[str, Any]:
    return {"id": fp.id, "name": fp.name, "provider_name": fp.provider_name, "flavor_data": fp.flavor_data}


@router.get("", summary="List flavor profiles", **DOC.listing())
def list_flavor_profiles(request: Request, ctx: Context) -> JSONResponse:
    policy.authorize(ctx, "flavor-profile:get_all", ctx.project_id)
    params = listing.parse(request.query_params, COLUMNS)
    with session_scope() as session:
        stmt = listing.apply(session, select(M), M, COLUMNS, params)
        rows, more = listing.paginate(list(session.execute(stmt).scalars()), params)
        items = [listing.select_fields(to_dict(r), params.fields) for r in rows]
    # Upstream's (singular) links key, kept for wire compatibility.
    return JSONResponse({
        "flavorprofiles": items,
        "flavorprofile_links": listing.links(collection_url(request), rows, params, more),
    })


@router.post("", status_code=201, summary="Create a flavor profile", **DOC.create())
def create_flavor_profile(ctx: Context, body: Annotated[FlavorProfileCreate, Body()]) -> JSONResponse:
    policy.authorize(ctx, "flavor-profile:post", ctx.project_id)
    spec = body.flavorprofile
    with session_scope(write=True) as session:
        fp = profiles.create(session, KIND, spec.name, spec.provider_name, spec.flavor_data)
        result = to_dict(fp)
    return JSONResponse({"flavorprofile": result}, status_code=201)


@router.get("/{profile_id}", summary="Show a flavor profile", **DOC.show())
def get_flavor_profile(
    profile_id: str, ctx: Context, fields: Annotated[list[str] | None, Query()] = None
) -> JSONResponse:
    policy.authorize(ctx, "flavor-profile:get_one", ctx.project_id)
    with session_scope() as session:
        result = listing.select_fields(to_dict(profiles.load(session, KIND, profile_id)), fields or [])
    return JSONResponse({"flavorprofile": result})


@router.put("/{profile_id}", summary="Update a flavor profile", **DOC.update())
def update_flavor_profile(
    profile_id: str, ctx: Context, body: Annotated[FlavorProfileUpdate, Body()]
) -> JSONResponse:
    policy.authorize(ctx, "flavor-profile:put", ctx.project_id)
    with session_scope(write=True) as session:
        fp = profiles.load(session, KIND, profile_id)
        profiles.update(session, KIND, fp, body.flavorprofile.given())
        result = to_dict(fp)
    return JSONResponse({"flavorprofile": result})


@router.delete("/{profile_id}", status_code=204, summary="Delete a flavor profile", **DOC.delete())
def delete_flavor_profile(profile_id: str, ctx: Context) -> Response:
    policy.authorize(ctx, "flavor-profile:delete", ctx.project_id)
    with session_scope(write=True) as session:
        profiles.delete(session, KIND, profiles.load(session, KIND, profile_id))
    return Response(status_code=204)
