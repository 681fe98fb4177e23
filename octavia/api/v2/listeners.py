"""Listeners: /v2/lbaas/listeners (+ stats)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import AfterValidator
from pydantic_core import PydanticCustomError
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from octavia.api import policy
from octavia.api.common import listing, pages, types
from octavia.api.common.views import text, ts, with_tenant
from octavia.api.deps import Context
from octavia.api.v2 import responses
from octavia.common import constants as c
from octavia.common import quotas
from octavia.db import models
from octavia.db import repositories as repo
from octavia.db.api import session_scope
from octavia.domain import listeners as domain
from octavia.domain import scoping
from octavia.providers import convert, loader

router = APIRouter(prefix="/lbaas/listeners", tags=["listeners"])

M = models.Listener
COLUMNS: dict[str, Any] = {
    "id": M.id, "name": M.name, "description": M.description, "project_id": M.project_id,
    "provisioning_status": M.provisioning_status, "operating_status": M.operating_status,
    "admin_state_up": M.enabled, "created_at": M.created_at, "updated_at": M.updated_at,
    "protocol": M.protocol, "protocol_port": M.protocol_port, "connection_limit": M.connection_limit,
    "default_pool_id": M.default_pool_id, "loadbalancer_id": M.load_balancer_id,
    # openstacksdk filters by the storage name, which upstream's filter_by accepts too.
    "load_balancer_id": M.load_balancer_id,
    "default_tls_container_ref": M.default_tls_container_ref,
    "client_ca_tls_container_ref": M.client_ca_tls_container_ref,
    "client_authentication": M.client_authentication,
    "client_crl_container_ref": M.client_crl_container_ref,
    "timeout_client_data": M.timeout_client_data, "timeout_member_connect": M.timeout_member_connect,
    "timeout_member_data": M.timeout_member_data, "timeout_tcp_inspect": M.timeout_tcp_inspect,
    "tls_ciphers": M.tls_ciphers, "hsts_max_age": M.hsts_max_age,
    "hsts_include_subdomains": M.hsts_include_subdomains, "hsts_preload": M.hsts_preload,
}
DOC = responses.resource("listener", responses.Listener, "listeners", COLUMNS)

_CIPHER_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-+!:@=_.")


def _cipher_chars(value: str) -> str:
    if set(value) - _CIPHER_CHARS:
        raise PydanticCustomError(
            "cipher", "Invalid characters in cipher string; allowed are letters, digits and - + ! : @ = _ ."
        )
    return value


def _max_32(value: str) -> str:
    if len(value) > 32:
        raise PydanticCustomError("max_len", "Value should have a maximum character requirement of 32")
    return value


def _alpn(value: str) -> str:
    if value not in c.ALPN_PROTOCOLS:
        raise PydanticCustomError("alpn", "Value should be a valid ALPN protocol ID")
    return value


Ciphers = Annotated[types.Str2048, AfterValidator(_cipher_chars)]
TlsVersion = Annotated[str, AfterValidator(_max_32)]
Alpn = Annotated[str, AfterValidator(_alpn)]
Timeout = Annotated[types.Int, types.int_bounds(0, c.MAX_TIMEOUT_MS)]
ClientAuth = Annotated[str, types.enum(*c.CLIENT_AUTH_MODES)]


class ListenerMutable(types.RequestBody):
    """Fields a PUT may change (also accepted on create)."""

    name: types.Str255 | None = None
    description: types.Str255 | None = None
    admin_state_up: bool | None = True
    connection_limit: Annotated[types.Int, types.int_bounds(-1, None)] | None = -1
    default_pool_id: types.Uuid | None = None
    default_tls_container_ref: types.Str255 | None = None
    sni_container_refs: list[types.Str255] | None = None
    client_ca_tls_container_ref: types.Str255 | None = None
    client_authentication: ClientAuth | None = c.CLIENT_AUTH_NONE
    client_crl_container_ref: types.Str255 | None = None
    insert_headers: dict[str, types.Str255] | None = None
    timeout_client_data: Timeout | None = None
    timeout_member_connect: Timeout | None = None
    timeout_member_data: Timeout | None = None
    timeout_tcp_inspect: Timeout | None = None
    allowed_cidrs: list[types.Cidr] | None = None
    tls_ciphers: Ciphers | None = None
    tls_versions: list[TlsVersion] | None = None
    alpn_protocols: list[Alpn] | None = None
    hsts_max_age: Annotated[types.Int, types.int_bounds(0, None)] | None = None
    hsts_include_subdomains: bool | None = False
    hsts_preload: bool | None = False
    tags: types.Tags | None = None


class ListenerSpec(ListenerMutable):
    """A new listener without its load balancer (shared by POST and the LB graph)."""

    protocol: Annotated[str, types.enum(*c.LISTENER_PROTOCOLS)]
    protocol_port: types.Port
    project_id: types.Str36 | None = None
    tenant_id: types.Str36 | None = None


class ListenerPOST(ListenerSpec):
    loadbalancer_id: types.Uuid


class ListenerSingleCreate(ListenerSpec):
    """A listener nested in a fully populated LB: may carry its default pool and policies."""

    default_pool: dict[str, Any] | None = None
    l7policies: list[dict[str, Any]] | None = None


class ListenerPUT(ListenerMutable):
    """Only the fields sent count (`given()`), so the create defaults above never apply."""


class ListenerCreate(types.RequestBody):
    listener: ListenerPOST


class ListenerUpdate(types.RequestBody):
    listener: ListenerPUT


def to_dict(row: models.Listener, tags: list[str], *, full: bool = False) -> dict[str, Any]:
    """The API view; `full` is the nested form of a fully populated LB create."""
    out: dict[str, Any] = {
        "id": row.id, "name": text(row.name), "description": text(row.description),
        "provisioning_status": row.provisioning_status, "operating_status": row.operating_status,
        "admin_state_up": row.enabled, "protocol": row.protocol, "protocol_port": row.protocol_port,
        "connection_limit": row.connection_limit,
        "default_tls_container_ref": row.default_tls_container_ref,
        "sni_container_refs": list(row.sni_container_refs or []), "project_id": row.project_id,
        "default_pool_id": row.default_pool_id,
        "l7policies": [{"id": p.id} for p in sorted(row.l7policies, key=lambda p: p.position)],
        "insert_headers": dict(row.insert_headers or {}),
        "created_at": ts(row.created_at), "updated_at": ts(row.updated_at),
        "loadbalancers": [{"id": row.load_balancer_id}],
        "timeout_client_data": row.timeout_client_data,
        "timeout_member_connect": row.timeout_member_connect,
        "timeout_member_data": row.timeout_member_data,
        "timeout_tcp_inspect": row.timeout_tcp_inspect,
        "tags": tags,
        "client_ca_tls_container_ref": row.client_ca_tls_container_ref,
        "client_authentication": row.client_authentication or c.CLIENT_AUTH_NONE,
        "client_crl_container_ref": row.client_crl_container_ref,
        "allowed_cidrs": list(row.allowed_cidrs) if row.allowed_cidrs else None,
        "tls_ciphers": row.tls_ciphers,
        "tls_versions": None if row.tls_versions is None else list(row.tls_versions),
        "alpn_protocols": None if row.alpn_protocols is None else list(row.alpn_protocols),
        "hsts_max_age": row.hsts_max_age,
        "hsts_include_subdomains": bool(row.hsts_include_subdomains),
        "hsts_preload": bool(row.hsts_preload),
    }
    if full:
        del out["loadbalancers"]
    return with_tenant(out)


def _query() -> Any:
    policies = selectinload(M.l7policies).load_only(models.L7Policy.id, models.L7Policy.position)
    return select(M).options(policies)


def load(session: Session, listener_id: str) -> models.Listener:
    return repo.get_or_404(session, M, listener_id, "listener")


def show_dict(session: Session, row: models.Listener) -> dict[str, Any]:
    return to_dict(row, repo.load_tags(session, [row.id])[row.id])


@router.get("", summary="List listeners", **DOC.listing())
def list_listeners(request: Request, ctx: Context) -> JSONResponse:
    params = listing.parse(request.query_params, COLUMNS)
    with session_scope() as session:
        stmt = scoping.scope_query(ctx, _query(), M, params, "listener")
        stmt = listing.apply(session, stmt, M, COLUMNS, params)
        return pages.tagged_page(session, stmt, "listeners", request, params, to_dict)


@router.post("", status_code=201, summary="Create a listener", **DOC.create(501))
def create_listener(ctx: Context, body: Annotated[ListenerCreate, Body()]) -> JSONResponse:
    spec = body.listener.model_dump()
    with session_scope(write=True) as session:
        lb = repo.get_or_404(session, models.LoadBalancer, spec["loadbalancer_id"], "loadbalancer")
        policy.authorize(ctx, "listener:post", lb.project_id)
        domain.check_create(lb, spec)
        if spec["default_pool_id"]:
            domain.check_default_pool(session, lb.id, spec["default_pool_id"], spec["protocol"])
        driver = loader.get_driver(lb.provider)
        quotas.check(session, ctx, lb.project_id, {"listener": 1})
        repo.lock_load_balancer(session, lb.id)
        domain.check_port_free(session, lb.id, spec["protocol"], spec["protocol_port"])
        domain.check_certificates(spec)
        listener = domain.new_listener(session, lb, spec)
        loader.call_provider(lb.provider, driver.listener_create, convert.listener(listener))
        result = show_dict(session, listener)
    return JSONResponse({"listener": result}, status_code=201)


@router.get("/{listener_id}", summary="Show a listener", **DOC.show())
def get_listener(
    listener_id: str, ctx: Context, fields: Annotated[list[str] | None, Query()] = None
) -> JSONResponse:
    with session_scope() as session:
        listener = load(session, listener_id)
        policy.authorize(ctx, "listener:get_one", listener.project_id)
        result = listing.select_fields(show_dict(session, listener), fields or [])
    return JSONResponse({"listener": result})


@router.put("/{listener_id}", summary="Update a listener", **DOC.update(501))
def update_listener(
    listener_id: str, ctx: Context, body: Annotated[ListenerUpdate, Body()]
) -> JSONResponse:
    changes = body.listener.given()
    with session_scope(write=True) as session:
        listener = load(session, listener_id)
        lb = listener.load_balancer
        policy.authorize(ctx, "listener:put", lb.project_id)
        domain.check_update(lb, listener, changes)
        if changes.get("default_pool_id"):
            domain.check_default_pool(session, lb.id, changes["default_pool_id"], listener.protocol)
        driver = loader.get_driver(lb.provider)
        repo.lock_load_balancer(session, lb.id)
        domain.check_update_certificates(listener, changes)
        old = convert.listener(listener)
        written = domain.apply_update(session, listener, changes)
        loader.call_provider(lb.provider, driver.listener_update, old,
                             convert.update_dict("listener", listener, written))
        result = show_dict(session, listener)
    return JSONResponse({"listener": result})


@router.delete("/{listener_id}", status_code=204, summary="Delete a listener", **DOC.delete(501))
def delete_listener(listener_id: str, ctx: Context) -> Response:
    with session_scope(write=True) as session:
        listener = load(session, listener_id)
        lb = listener.load_balancer
        policy.authorize(ctx, "listener:delete", lb.project_id)
        driver = loader.get_driver(lb.provider)
        repo.lock_load_balancer(session, lb.id)
        repo.set_status(session, listener, c.PENDING_DELETE)
        session.flush()
        loader.call_provider(lb.provider, driver.listener_delete, convert.listener(listener))
    return Response(status_code=204)


@router.get("/{listener_id}/stats", summary="Listener statistics", **DOC.action(200, responses.STATS_BODY))
def get_stats(listener_id: str, ctx: Context) -> JSONResponse:
    with session_scope() as session:
        listener = load(session, listener_id)
        policy.authorize(ctx, "listener:get_stats", listener.project_id)
        stats = domain.statistics(session, listener_id)
    return JSONResponse({"stats": stats})
