"""Quotas: /v2/lbaas/quotas (records, effective limits, defaults, set and reset)."""

from __future__ import annotations

from typing import Annotated, Any, cast

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select

from octavia.api import policy
from octavia.api.common import listing, pages, types
from octavia.api.deps import Context
from octavia.api.v2 import responses
from octavia.common import exceptions, quotas
from octavia.db import models
from octavia.db.api import session_scope
from octavia.domain.scoping import scope_query

router = APIRouter(prefix="/lbaas/quotas", tags=["quotas"])

M = models.Quota
# API name -> storage name; the deprecated spellings are accepted and emitted too.
API_NAMES: dict[str, str] = {
    "loadbalancer": "load_balancer", "load_balancer": "load_balancer",
    "listener": "listener", "pool": "pool", "member": "member",
    "healthmonitor": "health_monitor", "health_monitor": "health_monitor",
    "l7policy": "l7policy", "l7rule": "l7rule",
}
PREFERRED = ("loadbalancer", "healthmonitor")
COLUMNS: dict[str, Any] = {
    "project_id": M.project_id, "created_at": M.created_at,
    **{api: getattr(M, column) for api, column in API_NAMES.items()},
}
DOC = responses.resource("quota", responses.Quota, "quotas", COLUMNS)
MAX_PROJECT_ID = 36

QuotaValue = Annotated[types.Int, types.int_bounds(-1, 2000000000)]


class QuotaPUT(types.RequestBody):
    loadbalancer: QuotaValue | None = None
    load_balancer: QuotaValue | None = None
    listener: QuotaValue | None = None
    pool: QuotaValue | None = None
    member: QuotaValue | None = None
    healthmonitor: QuotaValue | None = None
    health_monitor: QuotaValue | None = None
    l7policy: QuotaValue | None = None
    l7rule: QuotaValue | None = None


class QuotaUpdate(types.RequestBody):
    quota: QuotaPUT


class _KeyedByProject:
    """listing.apply finds the marker row through `model.id`; quotas are keyed by project."""

    id = M.project_id


def to_dict(project_id: str, values: dict[str, int | None]) -> dict[str, Any]:
    out: dict[str, Any] = {"project_id": project_id, "tenant_id": project_id}
    for api, column in API_NAMES.items():
        out[api] = values[column]
    return out


def changes_from(given: dict[str, int | None]) -> dict[str, int | None]:
    """Storage changes from a PUT body; the non-deprecated spelling wins when both are sent."""
    changes: dict[str, int | None] = {}
    for api, value in given.items():
        column = API_NAMES[api]
        if column in changes and api not in PREFERRED:
            continue
        changes[column] = value
    return changes


def _check_project_id(project_id: str) -> None:
    if len(project_id) > MAX_PROJECT_ID:
        raise exceptions.InvalidInput(
            attr="project_id", value=project_id,
            reason=f"Value should have a maximum character requirement of {MAX_PROJECT_ID}",
        )


def _effective(project_id: str) -> dict[str, int]:
    with session_scope() as session:
        return quotas.effective(session.get(M, project_id))


@router.get("", summary="List quota records", **DOC.listing())
def list_quotas(request: Request, ctx: Context) -> JSONResponse:
    params = listing.parse(request.query_params, COLUMNS)
    if not any(name == "project_id" for name, _ in params.sort):
        params.sort.append(("project_id", "asc"))
    with session_scope() as session:
        stmt = scope_query(ctx, select(M), M, params, "quota")
        stmt = listing.apply(session, stmt, cast(Any, _KeyedByProject), COLUMNS, params)
        rows, more = listing.paginate(list(session.execute(stmt).scalars()), params)
        items = [to_dict(r.project_id, quotas.stored(r)) for r in rows]
    return pages.page("quotas", request, params, items, [{"id": r.project_id} for r in rows], more)


@router.get("/defaults", summary="The deployment's default quotas", **DOC.action(200, DOC.full_body))
def get_defaults(ctx: Context) -> JSONResponse:
    """Both clients call this path; served as a real defaults endpoint (read-quota)."""
    policy.authorize(ctx, "quota:get_defaults", ctx.project_id)
    return JSONResponse({"quota": to_dict("defaults", dict(quotas.defaults()))})


@router.get("/{project_id}", summary="Effective quotas of a project", **DOC.action(200, DOC.full_body))
def get_quota(project_id: str, ctx: Context) -> JSONResponse:
    policy.authorize(ctx, "quota:get_one", project_id)
    return JSONResponse({"quota": to_dict(project_id, dict(_effective(project_id)))})


@router.get("/{project_id}/default", summary="Default quotas, for a project",
            **DOC.action(200, DOC.full_body))
def get_project_defaults(project_id: str, ctx: Context) -> JSONResponse:
    policy.authorize(ctx, "quota:get_defaults", project_id)
    return JSONResponse({"quota": to_dict(project_id, dict(quotas.defaults()))})


@router.put("/{project_id}", status_code=202, summary="Set a project's quotas", **DOC.update(status=202))
def update_quota(
    project_id: str, ctx: Context, body: Annotated[QuotaUpdate, Body()]
) -> JSONResponse:
    policy.authorize(ctx, "quota:put", project_id)
    _check_project_id(project_id)
    changes = changes_from(body.quota.given())
    with session_scope(write=True) as session:
        quotas.set_limits(session, project_id, changes)
        values = quotas.effective(session.get(M, project_id))
    return JSONResponse({"quota": to_dict(project_id, dict(values))}, status_code=202)


@router.delete("/{project_id}", status_code=202, summary="Reset a project's quotas to the defaults",
               **DOC.delete(status=202))
def reset_quota(project_id: str, ctx: Context) -> Response:
    policy.authorize(ctx, "quota:delete", project_id)
    with session_scope(write=True) as session:
        quotas.reset_limits(session, project_id)
    return Response(status_code=202)
