"""Pools: /v2/lbaas/pools."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from octavia.api import policy
from octavia.api.common import listing, pages, types
from octavia.api.common.views import text, ts, with_tenant
from octavia.api.deps import Context
from octavia.api.v2 import responses
from octavia.api.v2.listeners import Alpn, Ciphers, TlsVersion
from octavia.common import constants as c
from octavia.common import exceptions, quotas
from octavia.db import models
from octavia.db import repositories as repo
from octavia.db.api import session_scope
from octavia.domain import pools as domain
from octavia.domain import scoping
from octavia.providers import convert, loader

router = APIRouter(prefix="/lbaas/pools", tags=["pools"])

M = models.Pool
COLUMNS: dict[str, Any] = {
    "id": M.id, "name": M.name, "description": M.description, "project_id": M.project_id,
    "provisioning_status": M.provisioning_status, "operating_status": M.operating_status,
    "admin_state_up": M.enabled, "created_at": M.created_at, "updated_at": M.updated_at,
    "protocol": M.protocol, "lb_algorithm": M.lb_algorithm, "loadbalancer_id": M.load_balancer_id,
    "tls_enabled": M.tls_enabled, "tls_container_ref": M.tls_container_ref,
    "ca_tls_container_ref": M.ca_tls_container_ref, "crl_container_ref": M.crl_container_ref,
    "tls_ciphers": M.tls_ciphers,
}
EXTRA_FILTERS = ("healthmonitor_id",)
DOC = responses.resource("pool", responses.Pool, "pools", COLUMNS, extra_filters=EXTRA_FILTERS)

Algorithm = Annotated[str, types.enum(*c.LB_ALGORITHMS)]
SessionPersistenceType = Annotated[str, types.enum(*c.SESSION_PERSISTENCE_TYPES)]


class SessionPersistencePUT(types.RequestBody):
    type: SessionPersistenceType | None = None
    cookie_name: types.Str255 | None = None
    persistence_timeout: types.Int | None = None
    persistence_granularity: types.IpAddress | None = None


class SessionPersistencePOST(SessionPersistencePUT):
    type: SessionPersistenceType


class PoolMutable(types.RequestBody):
    """Fields a PUT may change (also accepted on create)."""

    name: types.Str255 | None = None
    description: types.Str255 | None = None
    admin_state_up: bool | None = True
    tls_enabled: bool | None = False
    tls_container_ref: types.Str255 | None = None
    ca_tls_container_ref: types.Str255 | None = None
    crl_container_ref: types.Str255 | None = None
    tls_ciphers: Ciphers | None = None
    tls_versions: list[TlsVersion] | None = None
    alpn_protocols: list[Alpn] | None = None
    tags: types.Tags | None = None


class PoolSpec(PoolMutable):
    """A new pool without its parents (shared by POST and the LB graph)."""

    protocol: Annotated[str, types.enum(*c.POOL_PROTOCOLS)]
    lb_algorithm: Algorithm
    session_persistence: SessionPersistencePOST | None = None
    project_id: types.Str36 | None = None
    tenant_id: types.Str36 | None = None
    healthmonitor: dict[str, Any] | None = None
    members: list[dict[str, Any]] | None = None


class PoolPOST(PoolSpec):
    """`healthmonitor` and `members` are accepted but only honoured in a fully populated LB."""

    loadbalancer_id: types.Uuid | None = None
    listener_id: types.Uuid | None = None


class PoolPUT(PoolMutable):
    """Only the fields sent count (`given()`), so the create defaults never apply."""

    lb_algorithm: Algorithm | None = None
    session_persistence: SessionPersistencePUT | None = None


class PoolCreate(types.RequestBody):
    pool: PoolPOST


class PoolUpdate(types.RequestBody):
    pool: PoolPUT


def to_dict(
    row: models.Pool, tags: list[str], listener_ids: list[str], *, full: bool = False
) -> dict[str, Any]:
    """The API view; `full` is the nested form of a fully populated LB create."""
    out: dict[str, Any] = {
        "id": row.id, "name": text(row.name), "description": text(row.description),
        "provisioning_status": row.provisioning_status, "operating_status": row.operating_status,
        "admin_state_up": row.enabled, "protocol": row.protocol, "lb_algorithm": row.lb_algorithm,
        "session_persistence": domain.stored_session_persistence(row.session_persistence),
        "project_id": row.project_id,
        "loadbalancers": [{"id": row.load_balancer_id}],
        "listeners": [{"id": i} for i in listener_ids],
        "created_at": ts(row.created_at), "updated_at": ts(row.updated_at),
        "healthmonitor_id": row.health_monitor.id if row.health_monitor is not None else None,
        "members": [{"id": m.id} for m in sorted(row.members, key=lambda m: (m.created_at, m.id))],
        "tags": tags,
        "tls_container_ref": row.tls_container_ref,
        "ca_tls_container_ref": row.ca_tls_container_ref,
        "crl_container_ref": row.crl_container_ref,
        "tls_enabled": bool(row.tls_enabled),
        "tls_ciphers": row.tls_ciphers,
        "tls_versions": None if row.tls_versions is None else list(row.tls_versions),
        "alpn_protocols": None if row.alpn_protocols is None else list(row.alpn_protocols),
    }
    if full:
        del out["loadbalancers"], out["healthmonitor_id"]
    return with_tenant(out)


def _query() -> Any:
    return select(M).options(
        selectinload(M.members).load_only(models.Member.id, models.Member.created_at),
        selectinload(M.health_monitor).load_only(models.HealthMonitor.id),
    )


def load(session: Session, pool_id: str) -> models.Pool:
    return repo.get_or_404(session, M, pool_id, "pool")


def show_dict(session: Session, row: models.Pool) -> dict[str, Any]:
    listeners = domain.listener_ids_by_pool(session, [row.id])[row.id]
    return to_dict(row, repo.load_tags(session, [row.id])[row.id], listeners)


def _given(spec: PoolPUT) -> dict[str, Any]:
    changes = spec.given()
    sp = changes.get("session_persistence")
    if isinstance(sp, SessionPersistencePUT):
        changes["session_persistence"] = sp.given()
    return changes


@router.get("", summary="List pools", **DOC.listing())
def list_pools(request: Request, ctx: Context) -> JSONResponse:
    params = listing.parse(request.query_params, COLUMNS, EXTRA_FILTERS)
    with session_scope() as session:
        stmt = scoping.scope_query(ctx, _query(), M, params, "pool")
        if "healthmonitor_id" in params.filters:
            HM = models.HealthMonitor
            stmt = stmt.where(M.id.in_(select(HM.pool_id).where(HM.id == params.filters["healthmonitor_id"])))
        stmt = listing.apply(session, stmt, M, COLUMNS, params)
        rows, more = listing.paginate(list(session.execute(stmt).scalars()), params)
        ids = [r.id for r in rows]
        tags = repo.load_tags(session, ids)
        listeners = domain.listener_ids_by_pool(session, ids)
        items = [to_dict(r, tags[r.id], listeners[r.id]) for r in rows]
    return pages.page("pools", request, params, items, rows, more)


def _parents(session: Session, spec: dict[str, Any]) -> tuple[models.LoadBalancer, models.Listener | None]:
    """The pool's LB, and the listener it becomes the default pool of (if any)."""
    listener = None
    if spec["listener_id"]:
        listener = repo.get_or_404(session, models.Listener, spec["listener_id"], "listener")
    lb_id = spec["loadbalancer_id"] or (listener.load_balancer_id if listener else None)
    if lb_id is None:
        raise exceptions.ValidationException(
            detail="Must provide at least one of: loadbalancer_id, listener_id"
        )
    lb = repo.get_or_404(session, models.LoadBalancer, lb_id, "loadbalancer")
    if listener is not None and listener.load_balancer_id != lb.id:
        raise exceptions.ValidationException(
            detail=f"Listener {listener.id} does not belong to load balancer {lb.id}."
        )
    return lb, listener


@router.post("", status_code=201, summary="Create a pool", **DOC.create(501))
def create_pool(ctx: Context, body: Annotated[PoolCreate, Body()]) -> JSONResponse:
    spec = body.pool.model_dump()
    with session_scope(write=True) as session:
        lb, listener = _parents(session, spec)
        policy.authorize(ctx, "pool:post", lb.project_id)
        if listener is not None:
            domain.check_listener_protocol(listener.protocol, spec["protocol"])
        domain.check_create(spec)
        driver = loader.get_driver(lb.provider)
        quotas.check(session, ctx, lb.project_id, {"pool": 1})
        repo.lock_load_balancer(session, lb.id)
        if listener is not None and listener.default_pool_id:
            raise exceptions.DuplicatePoolEntry()
        domain.check_certificates(spec)
        pool = domain.new_pool(session, lb, spec)
        if listener is not None:
            listener.default_pool_id = pool.id
            repo.set_status(session, listener, c.PENDING_UPDATE)
            session.flush()
        provider_pool = convert.pool(pool, listener.id if listener else None)
        loader.call_provider(lb.provider, driver.pool_create, provider_pool)
        result = show_dict(session, pool)
    return JSONResponse({"pool": result}, status_code=201)


@router.get("/{pool_id}", summary="Show a pool", **DOC.show())
def get_pool(pool_id: str, ctx: Context, fields: Annotated[list[str] | None, Query()] = None) -> JSONResponse:
    with session_scope() as session:
        pool = load(session, pool_id)
        policy.authorize(ctx, "pool:get_one", pool.project_id)
        result = listing.select_fields(show_dict(session, pool), fields or [])
    return JSONResponse({"pool": result})


@router.put("/{pool_id}", summary="Update a pool", **DOC.update(501))
def update_pool(pool_id: str, ctx: Context, body: Annotated[PoolUpdate, Body()]) -> JSONResponse:
    changes = _given(body.pool)
    with session_scope(write=True) as session:
        pool = load(session, pool_id)
        lb = pool.load_balancer
        policy.authorize(ctx, "pool:put", lb.project_id)
        domain.check_update(pool, changes)
        driver = loader.get_driver(lb.provider)
        repo.lock_load_balancer(session, lb.id)
        domain.check_update_certificates(pool, changes)
        for listener in domain.listeners_of_pool(session, pool.id):
            repo.set_status(session, listener, c.PENDING_UPDATE)
        old = convert.pool(pool)
        written = domain.apply_update(session, pool, changes)
        loader.call_provider(lb.provider, driver.pool_update, old, convert.update_dict("pool", pool, written))
        result = show_dict(session, pool)
    return JSONResponse({"pool": result})


@router.delete("/{pool_id}", status_code=204, summary="Delete a pool", **DOC.delete(501))
def delete_pool(pool_id: str, ctx: Context) -> Response:
    with session_scope(write=True) as session:
        pool = load(session, pool_id)
        lb = pool.load_balancer
        policy.authorize(ctx, "pool:delete", lb.project_id)
        driver = loader.get_driver(lb.provider)
        repo.lock_load_balancer(session, lb.id)
        domain.check_not_redirect_target(session, pool)
        for listener in domain.listeners_of_pool(session, pool.id):
            repo.set_status(session, listener, c.PENDING_UPDATE)
        repo.set_status(session, pool, c.PENDING_DELETE)
        session.flush()
        loader.call_provider(lb.provider, driver.pool_delete, convert.pool(pool))
    return Response(status_code=204)
