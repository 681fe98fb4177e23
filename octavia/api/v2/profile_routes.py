"""The five routes every provider-profile resource has (flavor and availability zone profiles).

Both resources follow one set of rules (octavia.domain.profiles); only their names differ:
URL, envelope key, `*_data` field, policy prefix. `profile_router` builds the routes from
those names so each resource module declares its differences and nothing else.
"""

# No `from __future__ import annotations`: the request-body types are built per resource
# below, and FastAPI must see them as objects in the route signatures, not as strings.

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, create_model
from sqlalchemy import select

from octavia.api import policy
from octavia.api.common import listing, pages, types
from octavia.api.deps import Context
from octavia.api.v2 import responses
from octavia.db.api import session_scope
from octavia.domain import profiles
from octavia.domain.profiles import ProfileKind


def columns(kind: ProfileKind[Any]) -> dict[str, Any]:
    """The listable/sortable columns (API name -> ORM attribute)."""
    m = kind.model
    return {
        "id": m.id, "name": m.name, "provider_name": m.provider_name,
        kind.data_field: getattr(m, kind.data_field), "created_at": m.created_at,
    }


def _bodies(kind: ProfileKind[Any], key: str, class_prefix: str) -> tuple[type[BaseModel], type[BaseModel]]:
    """The create and update envelopes: `{key: {name, provider_name, <data_field>}}`."""
    required: dict[str, Any] = {"name": (types.Str255, ...), "provider_name": (types.Str255, ...),
                                kind.data_field: (types.Str4096, ...)}
    optional: dict[str, Any] = {"name": (types.Str255 | None, None),
                                "provider_name": (types.Str255 | None, None),
                                kind.data_field: (types.Str4096 | None, None)}
    post = create_model(f"{class_prefix}POST", __base__=types.RequestBody, **required)
    put = create_model(f"{class_prefix}PUT", __base__=types.RequestBody, **optional)
    create: dict[str, Any] = {key: (post, ...)}
    update: dict[str, Any] = {key: (put, ...)}
    return (create_model(f"{class_prefix}Create", __base__=types.RequestBody, **create),
            create_model(f"{class_prefix}Update", __base__=types.RequestBody, **update))


def profile_router(
    kind: ProfileKind[Any], *, path: str, key: str, policy_prefix: str, noun: str,
    view: type[BaseModel], class_prefix: str,
) -> APIRouter:
    """Routes under /lbaas/<path>; bodies are enveloped in `key`, lists in `key`+"s".

    The list links key is upstream's singular `<key>_links`, kept for wire compatibility.
    """
    cols = columns(kind)
    collection, links_key = f"{key}s", f"{key}_links"
    doc = responses.resource(key, view, collection, cols, links=links_key)
    create_body, update_body = _bodies(kind, key, class_prefix)
    one = f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"
    fn = noun.replace(" ", "_")
    router = APIRouter(prefix=f"/lbaas/{path}", tags=[path])

    def to_dict(profile: Any) -> dict[str, Any]:
        return {"id": profile.id, "name": profile.name, "provider_name": profile.provider_name,
                kind.data_field: getattr(profile, kind.data_field)}

    @router.get("", name=f"list_{fn}s", summary=f"List {noun}s", **doc.listing())
    def list_profiles(request: Request, ctx: Context) -> JSONResponse:
        policy.authorize(ctx, f"{policy_prefix}:get_all", ctx.project_id)
        params = listing.parse(request.query_params, cols)
        with session_scope() as session:
            stmt = listing.apply(session, select(kind.model), kind.model, cols, params)
            return pages.plain_page(session, stmt, collection, request, params, to_dict, links_key)

    @router.post("", name=f"create_{fn}", status_code=201, summary=f"Create {one}", **doc.create())
    def create_profile(
        ctx: Context, body: Annotated[create_body, Body()]  # type: ignore[valid-type]  # run-time model
    ) -> JSONResponse:
        policy.authorize(ctx, f"{policy_prefix}:post", ctx.project_id)
        spec = getattr(body, key)
        with session_scope(write=True) as session:
            profile = profiles.create(session, kind, spec.name, spec.provider_name,
                                      getattr(spec, kind.data_field))
            result = to_dict(profile)
        return JSONResponse({key: result}, status_code=201)

    @router.get("/{profile_id}", name=f"get_{fn}", summary=f"Show {one}", **doc.show())
    def get_profile(
        profile_id: str, ctx: Context, fields: Annotated[list[str] | None, Query()] = None
    ) -> JSONResponse:
        policy.authorize(ctx, f"{policy_prefix}:get_one", ctx.project_id)
        with session_scope() as session:
            result = listing.select_fields(to_dict(profiles.load(session, kind, profile_id)), fields or [])
        return JSONResponse({key: result})

    @router.put("/{profile_id}", name=f"update_{fn}", summary=f"Update {one}", **doc.update())
    def update_profile(
        profile_id: str, ctx: Context, body: Annotated[update_body, Body()]  # type: ignore[valid-type]  # run-time model
    ) -> JSONResponse:
        policy.authorize(ctx, f"{policy_prefix}:put", ctx.project_id)
        with session_scope(write=True) as session:
            profile = profiles.load(session, kind, profile_id)
            profiles.update(session, kind, profile, getattr(body, key).given())
            result = to_dict(profile)
        return JSONResponse({key: result})

    @router.delete("/{profile_id}", name=f"delete_{fn}", status_code=204, summary=f"Delete {one}",
                   **doc.delete())
    def delete_profile(profile_id: str, ctx: Context) -> Response:
        policy.authorize(ctx, f"{policy_prefix}:delete", ctx.project_id)
        with session_scope(write=True) as session:
            profiles.delete(session, kind, profiles.load(session, kind, profile_id))
        return Response(status_code=204)

    return router
