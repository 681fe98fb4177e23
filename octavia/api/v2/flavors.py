"""Flavors: /v2/lbaas/flavors (everyone reads; admins write)."""

from __future__ import annotations

from typing import Annotated, Any

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
from octavia.domain import flavors as domain

router = APIRouter(prefix="/lbaas/flavors", tags=["flavors"])

M = models.Flavor
COLUMNS: dict[str, Any] = {
    "id": M.id, "name": M.name, "description": M.description, "enabled": M.enabled,
    "flavor_profile_id": M.flavor_profile_id, "created_at": M.created_at,
}
DOC = responses.resource("flavor", responses.Flavor, "flavors", COLUMNS)


class FlavorPOST(types.RequestBody):
    name: types.Str255
    description: types.Str255 | None = None
    enabled: bool = True
    flavor_profile_id: types.Uuid


class FlavorPUT(types.RequestBody):
    name: types.Str255 | None = None
    description: types.Str255 | None = None
    enabled: bool | None = None


class FlavorCreate(types.RequestBody):
    flavor: FlavorPOST


class FlavorUpdate(types.RequestBody):
    flavor: FlavorPUT


def to_dict(flavor: models.Flavor) -> dict[str, Any]:
    return {
        "id": flavor.id, "name": flavor.name, "description": text(flavor.description),
        "enabled": flavor.enabled, "flavor_profile_id": flavor.flavor_profile_id,
    }


@router.get("", summary="List flavors", **DOC.listing())
def list_flavors(request: Request, ctx: Context) -> JSONResponse:
    policy.authorize(ctx, "flavor:get_all", ctx.project_id)
    params = listing.parse(request.query_params, COLUMNS)
    with session_scope() as session:
        stmt = listing.apply(session, select(M), M, COLUMNS, params)
        return pages.plain_page(session, stmt, "flavors", request, params, to_dict)


@router.post("", status_code=201, summary="Create a flavor", **DOC.create())
def create_flavor(ctx: Context, body: Annotated[FlavorCreate, Body()]) -> JSONResponse:
    policy.authorize(ctx, "flavor:post", ctx.project_id)
    spec = body.flavor
    with session_scope(write=True) as session:
        flavor = domain.create(session, name=spec.name, description=spec.description,
                               enabled=spec.enabled, flavor_profile_id=spec.flavor_profile_id)
        result = to_dict(flavor)
    return JSONResponse({"flavor": result}, status_code=201)


@router.get("/{flavor_id}", summary="Show a flavor", **DOC.show())
def get_flavor(
    flavor_id: str, ctx: Context, fields: Annotated[list[str] | None, Query()] = None
) -> JSONResponse:
    policy.authorize(ctx, "flavor:get_one", ctx.project_id)
    with session_scope() as session:
        result = listing.select_fields(to_dict(domain.load(session, flavor_id)), fields or [])
    return JSONResponse({"flavor": result})


@router.put("/{flavor_id}", summary="Update a flavor", **DOC.update())
def update_flavor(flavor_id: str, ctx: Context, body: Annotated[FlavorUpdate, Body()]) -> JSONResponse:
    policy.authorize(ctx, "flavor:put", ctx.project_id)
    with session_scope(write=True) as session:
        flavor = domain.load(session, flavor_id)
        domain.apply_update(session, flavor, body.flavor.given())
        result = to_dict(flavor)
    return JSONResponse({"flavor": result})


@router.delete("/{flavor_id}", status_code=204, summary="Delete a flavor", **DOC.delete())
def delete_flavor(flavor_id: str, ctx: Context) -> Response:
    policy.authorize(ctx, "flavor:delete", ctx.project_id)
    with session_scope(write=True) as session:
        domain.delete(session, domain.load(session, flavor_id))
    return Response(status_code=204)
