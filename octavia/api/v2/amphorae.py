"""Amphorae (admin): /v2/octavia/amphorae (+ stats, config, failover, delete)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select

from octavia.api import policy
from octavia.api.common import listing, pages
from octavia.api.common.views import ts
from octavia.api.deps import Context
from octavia.api.v2 import responses
from octavia.common import constants as c
from octavia.db import models
from octavia.db.api import session_scope
from octavia.domain import amphorae as domain

router = APIRouter(prefix="/octavia/amphorae", tags=["amphorae"])

M = models.Amphora
LB = models.LoadBalancer
COLUMNS: dict[str, Any] = {
    "id": M.id, "loadbalancer_id": M.load_balancer_id, "compute_id": M.compute_id,
    "lb_network_ip": M.lb_network_ip, "vrrp_ip": M.vrrp_ip, "ha_ip": M.ha_ip,
    "vrrp_port_id": M.vrrp_port_id, "ha_port_id": M.ha_port_id, "cert_expiration": M.cert_expiration,
    "cert_busy": M.cert_busy, "role": M.role, "status": M.status, "vrrp_interface": M.vrrp_interface,
    "vrrp_id": M.vrrp_id, "vrrp_priority": M.vrrp_priority, "cached_zone": M.cached_zone,
    "created_at": M.created_at, "updated_at": M.updated_at, "image_id": M.image_id,
    "compute_flavor": M.compute_flavor,
    # The project of the owning load balancer (amphorae have none of their own).
    "project_id": LB.project_id,
}
DOC = responses.resource("amphora", responses.Amphora, "amphorae", COLUMNS)


def to_dict(amp: models.Amphora) -> dict[str, Any]:
    return {
        "id": amp.id, "loadbalancer_id": amp.load_balancer_id, "compute_id": amp.compute_id,
        "lb_network_ip": amp.lb_network_ip, "vrrp_ip": amp.vrrp_ip, "ha_ip": amp.ha_ip,
        "vrrp_port_id": amp.vrrp_port_id, "ha_port_id": amp.ha_port_id,
        "cert_expiration": ts(amp.cert_expiration), "cert_busy": bool(amp.cert_busy), "role": amp.role,
        "status": amp.status, "vrrp_interface": amp.vrrp_interface, "vrrp_id": amp.vrrp_id,
        "vrrp_priority": amp.vrrp_priority, "cached_zone": amp.cached_zone,
        "created_at": ts(amp.created_at), "updated_at": ts(amp.updated_at),
        "image_id": amp.image_id, "compute_flavor": amp.compute_flavor,
    }


@router.get("", summary="List amphorae", **DOC.listing())
def list_amphorae(request: Request, ctx: Context) -> JSONResponse:
    policy.authorize(ctx, "amphora:get_all", ctx.project_id)
    params = listing.parse(request.query_params, COLUMNS)
    with session_scope() as session:
        stmt = select(M).outerjoin(LB, LB.id == M.load_balancer_id).where(M.status != c.DELETED)
        stmt = listing.apply(session, stmt, M, COLUMNS, params)
        return pages.plain_page(session, stmt, "amphorae", request, params, to_dict)


@router.get("/{amphora_id}", summary="Show an amphora", **DOC.show())
def get_amphora(
    amphora_id: str, ctx: Context, fields: Annotated[list[str] | None, Query()] = None
) -> JSONResponse:
    with session_scope() as session:
        amp = domain.load(session, amphora_id)
        policy.authorize(ctx, "amphora:get_one", ctx.project_id)
        result = listing.select_fields(to_dict(amp), fields or [])
    return JSONResponse({"amphora": result})


@router.get("/{amphora_id}/stats", summary="Per-listener statistics of an amphora",
            **DOC.action(200, responses.AMPHORA_STATS_BODY))
def get_amphora_stats(amphora_id: str, ctx: Context) -> JSONResponse:
    with session_scope() as session:
        domain.load(session, amphora_id)
        policy.authorize(ctx, "amphora:get_stats", ctx.project_id)
        stats = domain.statistics(session, amphora_id)
    return JSONResponse({"amphora_stats": stats})


@router.put("/{amphora_id}/config", status_code=202, summary="Push fresh agent config to an amphora",
            **DOC.action(202, None))
def configure_amphora(amphora_id: str, ctx: Context) -> Response:
    with session_scope() as session:
        domain.load(session, amphora_id)
        policy.authorize(ctx, "amphora:put_config", ctx.project_id)
    domain.refresh_agent_config(amphora_id)
    return Response(status_code=202)


@router.put("/{amphora_id}/failover", status_code=202, summary="Fail over an amphora",
            **DOC.action(202, None, 409))
def failover_amphora(amphora_id: str, ctx: Context) -> Response:
    with session_scope() as session:
        amp = domain.load(session, amphora_id)
        owner = amp.load_balancer.project_id if amp.load_balancer is not None else ctx.project_id
        policy.authorize(ctx, "amphora:put_failover", owner)
    domain.failover(amphora_id)
    return Response(status_code=202)


@router.delete("/{amphora_id}", status_code=204, summary="Delete an amphora in ERROR", **DOC.delete())
def delete_amphora(amphora_id: str, ctx: Context) -> Response:
    policy.authorize(ctx, "amphora:delete", ctx.project_id)
    domain.delete(amphora_id)
    return Response(status_code=204)
