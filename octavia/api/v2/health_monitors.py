"""Health monitors: /v2/lbaas/healthmonitors.

The POST schemas (`HealthMonitorPOST`, and `HealthMonitorSingleCreate` for a monitor nested
in a pool spec) live in octavia.domain.health_monitors and are re-exported here.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from octavia.api import policy
from octavia.api.common import listing, pages, types
from octavia.api.common.views import text, ts, with_tenant
from octavia.api.deps import Context
from octavia.api.v2 import responses
from octavia.common import constants as c
from octavia.common import exceptions, quotas
from octavia.db import models
from octavia.db import repositories as repo
from octavia.db.api import session_scope
from octavia.domain import health_monitors as domain
from octavia.domain.health_monitors import HealthMonitorPOST, HealthMonitorPUT, HealthMonitorSingleCreate
from octavia.domain.members import lock_pool_tree
from octavia.domain.scoping import scope_query
from octavia.providers import convert, loader

__all__ = ["router", "HealthMonitorPOST", "HealthMonitorSingleCreate", "to_dict"]

router = APIRouter(prefix="/lbaas/healthmonitors", tags=["healthmonitors"])

M = models.HealthMonitor
COLUMNS: dict[str, Any] = {
    "id": M.id, "name": M.name, "project_id": M.project_id,
    "provisioning_status": M.provisioning_status, "operating_status": M.operating_status,
    "admin_state_up": M.enabled, "type": M.type, "delay": M.delay, "timeout": M.timeout,
    "max_retries": M.rise_threshold, "max_retries_down": M.fall_threshold,
    "http_method": M.http_method, "url_path": M.url_path, "expected_codes": M.expected_codes,
    "http_version": M.http_version, "domain_name": M.domain_name, "pool_id": M.pool_id,
    "created_at": M.created_at, "updated_at": M.updated_at,
}
DOC = responses.resource("healthmonitor", responses.HealthMonitor, "healthmonitors", COLUMNS)


class HealthMonitorCreate(types.RequestBody):
    healthmonitor: HealthMonitorPOST


class HealthMonitorUpdate(types.RequestBody):
    healthmonitor: HealthMonitorPUT


def to_dict(hm: models.HealthMonitor, tags: list[str]) -> dict[str, Any]:
    """Upstream's response has `pools` ([{id}], exactly one) and no `pool_id`."""
    return with_tenant({
        "id": hm.id, "name": text(hm.name), "type": hm.type, "delay": hm.delay,
        "timeout": hm.timeout, "max_retries": hm.rise_threshold,
        "max_retries_down": hm.fall_threshold, "http_method": hm.http_method,
        "url_path": hm.url_path, "expected_codes": hm.expected_codes,
        "admin_state_up": hm.enabled, "project_id": hm.project_id,
        "pools": [{"id": hm.pool_id}],
        "provisioning_status": hm.provisioning_status, "operating_status": hm.operating_status,
        "created_at": ts(hm.created_at), "updated_at": ts(hm.updated_at), "tags": tags,
        "http_version": hm.http_version, "domain_name": hm.domain_name,
    })


def _show(session: Session, hm: models.HealthMonitor) -> dict[str, Any]:
    return to_dict(hm, repo.load_tags(session, [hm.id])[hm.id])


def _load(session: Session, hm_id: str) -> models.HealthMonitor:
    return repo.get_or_404(session, M, hm_id, "healthmonitor")


@router.get("", summary="List health monitors", **DOC.listing())
def list_health_monitors(request: Request, ctx: Context) -> JSONResponse:
    params = listing.parse(request.query_params, COLUMNS)
    with session_scope() as session:
        stmt = scope_query(ctx, select(M), M, params, "healthmonitor")
        stmt = listing.apply(session, stmt, M, COLUMNS, params)
        return pages.tagged_page(session, stmt, "healthmonitors", request, params, to_dict)


@router.post("", status_code=201, summary="Create a health monitor", **DOC.create(501))
def create_health_monitor(ctx: Context, body: Annotated[HealthMonitorCreate, Body()]) -> JSONResponse:
    spec = body.healthmonitor
    with session_scope(write=True) as session:
        if spec.pool_id is None:
            raise exceptions.NotFound("pool", "None")
        pool = repo.get_or_404(session, models.Pool, spec.pool_id, "pool")
        lb = pool.load_balancer
        policy.authorize(ctx, "healthmonitor:post", lb.project_id)
        values = domain.validate_healthmonitor(spec, pool.protocol)
        driver = loader.get_driver(lb.provider)
        quotas.check(session, ctx, lb.project_id, {"health_monitor": 1})
        lock_pool_tree(session, pool)
        hm = domain.new_health_monitor(session, values, pool, lb.project_id)
        repo.set_tags(session, hm.id, types.dedupe(spec.tags) or [])
        loader.call_provider(lb.provider, driver.health_monitor_create, convert.healthmonitor(hm))
        result = _show(session, hm)
    return JSONResponse({"healthmonitor": result}, status_code=201)


@router.get("/{hm_id}", summary="Show a health monitor", **DOC.show())
def get_health_monitor(
    hm_id: str, ctx: Context, fields: Annotated[list[str] | None, Query()] = None
) -> JSONResponse:
    with session_scope() as session:
        hm = _load(session, hm_id)
        policy.authorize(ctx, "healthmonitor:get_one", hm.project_id)
        result = listing.select_fields(_show(session, hm), fields or [])
    return JSONResponse({"healthmonitor": result})


@router.put("/{hm_id}", summary="Update a health monitor", **DOC.update(501))
def update_health_monitor(
    hm_id: str, ctx: Context, body: Annotated[HealthMonitorUpdate, Body()]
) -> JSONResponse:
    changes = body.healthmonitor.given()
    with session_scope(write=True) as session:
        hm = _load(session, hm_id)
        pool = hm.pool
        lb = pool.load_balancer
        policy.authorize(ctx, "healthmonitor:put", lb.project_id)
        values = domain.validate_healthmonitor_update(hm, changes, pool.protocol)
        driver = loader.get_driver(lb.provider)
        lock_pool_tree(session, pool)
        old = convert.healthmonitor(hm)
        domain.apply_update(session, hm, values, changes.get("tags"))
        loader.call_provider(lb.provider, driver.health_monitor_update, old,
                             convert.update_dict("healthmonitor", hm, changes))
        result = _show(session, hm)
    return JSONResponse({"healthmonitor": result})


@router.delete("/{hm_id}", status_code=204, summary="Delete a health monitor", **DOC.delete(501))
def delete_health_monitor(hm_id: str, ctx: Context) -> Response:
    with session_scope(write=True) as session:
        hm = _load(session, hm_id)
        pool = hm.pool
        lb = pool.load_balancer
        policy.authorize(ctx, "healthmonitor:delete", lb.project_id)
        driver = loader.get_driver(lb.provider)
        lock_pool_tree(session, pool)
        repo.set_status(session, hm, c.PENDING_DELETE)
        session.flush()
        loader.call_provider(lb.provider, driver.health_monitor_delete, convert.healthmonitor(hm))
    return Response(status_code=204)
