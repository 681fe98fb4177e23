"""Load balancers: /v2/lbaas/loadbalancers (+ stats, status tree, failover)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from octavia.api import policy
from octavia.api.common import listing, pages, types, vip
from octavia.api.common.views import ids, text, ts, with_tenant
from octavia.api.deps import Context
from octavia.api.v2 import responses
from octavia.common import constants as c
from octavia.common import exceptions, quotas
from octavia.db import models
from octavia.db import repositories as repo
from octavia.db.api import session_scope
from octavia.domain import load_balancers as domain
from octavia.domain import members as member_rules
from octavia.providers import convert, loader

router = APIRouter(prefix="/lbaas/loadbalancers", tags=["loadbalancers"])

M = models.LoadBalancer
COLUMNS: dict[str, Any] = {
    "id": M.id, "name": M.name, "description": M.description, "project_id": M.project_id,
    "provisioning_status": M.provisioning_status, "operating_status": M.operating_status,
    "admin_state_up": M.enabled, "created_at": M.created_at, "updated_at": M.updated_at,
    "vip_address": M.vip_address, "vip_port_id": M.vip_port_id, "vip_subnet_id": M.vip_subnet_id,
    "vip_network_id": M.vip_network_id, "vip_qos_policy_id": M.vip_qos_policy_id,
    "provider": M.provider, "flavor_id": M.flavor_id, "availability_zone": M.availability_zone,
    "vip_vnic_type": M.vip_vnic_type,
}
DOC = responses.resource("loadbalancer", responses.LoadBalancer, "loadbalancers", COLUMNS)


class AdditionalVip(types.RequestBody):
    subnet_id: types.Uuid
    ip_address: types.IpAddress | None = None
    port_id: types.Uuid | None = None


class LoadBalancerPOST(types.RequestBody):
    name: types.Str255 | None = None
    description: types.Str255 | None = None
    admin_state_up: bool | None = True
    project_id: types.Str36 | None = None
    tenant_id: types.Str36 | None = None
    vip_subnet_id: types.Uuid | None = None
    vip_network_id: types.Uuid | None = None
    vip_port_id: types.Uuid | None = None
    vip_address: types.IpAddress | None = None
    vip_qos_policy_id: types.Uuid | None = None
    vip_sg_ids: list[types.Uuid] | None = None
    additional_vips: list[AdditionalVip] | None = None
    provider: types.Str64 | None = None
    flavor_id: types.Uuid | None = None
    availability_zone: types.Str255 | None = None
    tags: types.Tags | None = None
    listeners: list[dict[str, Any]] | None = None
    pools: list[dict[str, Any]] | None = None


class LoadBalancerPUT(types.RequestBody):
    name: types.Str255 | None = None
    description: types.Str255 | None = None
    admin_state_up: bool | None = None
    vip_qos_policy_id: types.Uuid | None = None
    vip_sg_ids: list[types.Uuid] | None = None
    tags: types.Tags | None = None


class LoadBalancerCreate(types.RequestBody):
    loadbalancer: LoadBalancerPOST


class LoadBalancerUpdate(types.RequestBody):
    loadbalancer: LoadBalancerPUT


def to_dict(lb: Any, tags: list[str], listeners: list[dict[str, str]] | None = None,
            pools: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """`lb` is an ORM object, or a plain row whose listener and pool ids are passed in."""
    return with_tenant({
        "id": lb.id, "name": text(lb.name), "description": text(lb.description),
        "provisioning_status": lb.provisioning_status, "operating_status": lb.operating_status,
        "admin_state_up": lb.enabled, "project_id": lb.project_id,
        "created_at": ts(lb.created_at), "updated_at": ts(lb.updated_at),
        "vip_address": lb.vip_address, "vip_port_id": lb.vip_port_id,
        "vip_subnet_id": lb.vip_subnet_id, "vip_network_id": lb.vip_network_id,
        "vip_qos_policy_id": lb.vip_qos_policy_id, "vip_sg_ids": list(lb.vip_sg_ids or []),
        "vip_vnic_type": lb.vip_vnic_type or c.VNIC_TYPE_NORMAL,
        "additional_vips": list(lb.additional_vips or []),
        "listeners": ids(lb.listeners) if listeners is None else listeners,
        "pools": ids(lb.pools) if pools is None else pools,
        "provider": lb.provider or "octavia", "flavor_id": lb.flavor_id,
        "availability_zone": lb.availability_zone, "tags": tags,
    })


def _child_refs(session: Session, model: Any, lb_ids: list[str]) -> dict[str, list[dict[str, str]]]:
    """{lb id: [{"id": child id}, ...]} for a page of load balancers, in a constant number of queries."""
    refs: dict[str, list[dict[str, str]]] = {lb_id: [] for lb_id in lb_ids}
    for start in range(0, len(lb_ids), 500):
        chunk = lb_ids[start:start + 500]
        rows = session.execute(
            select(model.load_balancer_id, model.id).where(model.load_balancer_id.in_(chunk))
            .order_by(model.created_at, model.id)
        )
        for lb_id, child_id in rows:
            refs[lb_id].append({"id": child_id})
    return refs


def load(session: Session, lb_id: str) -> models.LoadBalancer:
    return repo.get_or_404(session, M, lb_id, "loadbalancer")


def show_dict(session: Session, lb: models.LoadBalancer) -> dict[str, Any]:
    return to_dict(lb, repo.load_tags(session, [lb.id])[lb.id])


@router.get("", summary="List load balancers", **DOC.listing())
def list_load_balancers(request: Request, ctx: Context) -> JSONResponse:
    params = listing.parse(request.query_params, COLUMNS)
    with session_scope() as session:
        # Plain rows, not ORM objects: building 1,000 instances and their collections would
        # cost more than the rest of the request together.
        plain = select(*M.__table__.c).where(M.provisioning_status != c.DELETED)
        stmt = domain.scope_query(ctx, plain, M, params, "loadbalancer")
        stmt = listing.apply(session, stmt, M, COLUMNS, params)
        rows, more = listing.paginate(list(session.execute(stmt)), params)
        lb_ids = [r.id for r in rows]
        tags = repo.load_tags(session, lb_ids)
        listeners = _child_refs(session, models.Listener, lb_ids)
        pools = _child_refs(session, models.Pool, lb_ids)
        items = [to_dict(r, tags[r.id], listeners[r.id], pools[r.id]) for r in rows]
    return pages.page("loadbalancers", request, params, items, rows, more)


@router.post("", status_code=201, summary="Create a load balancer (optionally fully populated)",
             **DOC.create(501))
def create_load_balancer(
    ctx: Context, body: Annotated[LoadBalancerCreate, Body()]
) -> JSONResponse:
    spec = body.loadbalancer
    given = spec.given()
    project_id = spec.project_id or spec.tenant_id or ctx.project_id
    if not project_id:
        raise exceptions.MissingProjectID()
    policy.authorize(ctx, "loadbalancer:post", project_id)
    if spec.vip_sg_ids is not None:
        policy.authorize(ctx, "loadbalancer:post:vip_sg_ids", project_id)
    vip_request = vip.validate(given)
    for subnet_id in domain.graph_member_subnets(spec.listeners or [], spec.pools or []):
        member_rules.check_subnet(subnet_id)
    with session_scope(write=True) as session:
        provider_name, flavor_meta, az_meta = domain.resolve_provider(session, spec)
        driver = loader.get_driver(provider_name)
        wanted = {"load_balancer": 1}
        if spec.listeners or spec.pools:
            wanted.update(domain.graph_quota_needs(spec.listeners or [], spec.pools or []))
        quotas.check(session, ctx, project_id, wanted)
        lb = domain.new_load_balancer(session, spec, project_id, provider_name, vip_request, flavor_meta)
        repo.set_tags(session, lb.id, types.dedupe(spec.tags) or [])
        domain.allocate_vip(session, lb, driver, provider_name, spec)
        graph = None
        if spec.listeners or spec.pools:
            from octavia.api.v2 import lb_graph

            # After the VIP: listener rules (allowed_cidrs) need its address, as upstream.
            graph = lb_graph.create_graph(session, ctx, lb, spec.listeners or [], spec.pools or [])
        session.flush()
        session.refresh(lb)
        provider_lb = convert.loadbalancer(lb, flavor=flavor_meta, availability_zone=az_meta)
        loader.call_provider(provider_name, driver.loadbalancer_create, provider_lb)
        result = show_dict(session, lb)
        if graph is not None:
            result["listeners"], result["pools"] = graph.full_listeners(), graph.full_pools()
    return JSONResponse({"loadbalancer": result}, status_code=201)


@router.get("/{lb_id}", summary="Show a load balancer", **DOC.show())
def get_load_balancer(
    lb_id: str, ctx: Context, fields: Annotated[list[str] | None, Query()] = None
) -> JSONResponse:
    with session_scope() as session:
        lb = load(session, lb_id)
        policy.authorize(ctx, "loadbalancer:get_one", lb.project_id)
        result = listing.select_fields(show_dict(session, lb), fields or [])
    return JSONResponse({"loadbalancer": result})


@router.put("/{lb_id}", summary="Update a load balancer", **DOC.update(501))
def update_load_balancer(
    lb_id: str, ctx: Context, body: Annotated[LoadBalancerUpdate, Body()]
) -> JSONResponse:
    changes = body.loadbalancer.given()
    with session_scope(write=True) as session:
        lb = load(session, lb_id)
        policy.authorize(ctx, "loadbalancer:put", lb.project_id)
        if "vip_sg_ids" in changes:
            policy.authorize(ctx, "loadbalancer:put:vip_sg_ids", lb.project_id)
        if changes.get("vip_qos_policy_id"):
            vip._lookup("QoS Policy", vip.network_loader.get_driver().get_qos_policy,
                        changes["vip_qos_policy_id"])
        driver = loader.get_driver(lb.provider)
        repo.lock_load_balancer(session, lb_id, child_operation=False)
        domain.apply_update(session, lb, changes)
        loader.call_provider(lb.provider, driver.loadbalancer_update, convert.loadbalancer(lb),
                             convert.update_dict("loadbalancer", lb, changes))
        result = show_dict(session, lb)
    return JSONResponse({"loadbalancer": result})


@router.delete("/{lb_id}", status_code=204, summary="Delete a load balancer", **DOC.delete(501))
def delete_load_balancer(lb_id: str, ctx: Context, cascade: str | None = None) -> Response:
    with session_scope(write=True) as session:
        lb = load(session, lb_id)
        policy.authorize(ctx, "loadbalancer:delete", lb.project_id)
        cascading = (cascade or "").lower() in listing.TRUE_WORDS
        if not cascading and (lb.listeners or lb.pools):
            raise exceptions.ValidationException(
                detail=f"Cannot delete Load Balancer {lb_id} - it has children"
            )
        driver = loader.get_driver(lb.provider)
        repo.lock_load_balancer(session, lb_id, allowed=(c.ACTIVE, c.ERROR), target=c.PENDING_DELETE,
                                child_operation=False)
        loader.call_provider(lb.provider, driver.loadbalancer_delete, convert.loadbalancer(lb), cascading)
    return Response(status_code=204)


@router.get("/{lb_id}/stats", summary="Load balancer statistics", **DOC.action(200, responses.STATS_BODY))
def get_stats(lb_id: str, ctx: Context) -> JSONResponse:
    with session_scope() as session:
        lb = load(session, lb_id)
        policy.authorize(ctx, "loadbalancer:get_stats", lb.project_id)
        S = models.ListenerStatistics
        row = session.execute(
            select(func.coalesce(func.sum(S.bytes_in), 0), func.coalesce(func.sum(S.bytes_out), 0),
                   func.coalesce(func.sum(S.active_connections), 0),
                   func.coalesce(func.sum(S.total_connections), 0),
                   func.coalesce(func.sum(S.request_errors), 0))
            .join(models.Listener, models.Listener.id == S.listener_id)
            .where(models.Listener.load_balancer_id == lb_id)
        ).one()
    keys = ("bytes_in", "bytes_out", "active_connections", "total_connections", "request_errors")
    return JSONResponse({"stats": {k: int(v) for k, v in zip(keys, row, strict=True)}})


@router.get("/{lb_id}/status", summary="Status tree of a load balancer",
            **DOC.action(200, responses.STATUS_BODY))
@router.get("/{lb_id}/statuses", include_in_schema=False)
def get_status(lb_id: str, ctx: Context) -> JSONResponse:
    with session_scope() as session:
        lb = load(session, lb_id)
        policy.authorize(ctx, "loadbalancer:get_status", lb.project_id)
        tree = domain.status_tree(session, lb)
    return JSONResponse({"statuses": {"loadbalancer": tree}})


@router.put("/{lb_id}/failover", status_code=202, summary="Fail over a load balancer",
            **DOC.action(202, None, 409, 501))
def failover(lb_id: str, ctx: Context) -> Response:
    with session_scope(write=True) as session:
        lb = load(session, lb_id)
        policy.authorize(ctx, "loadbalancer:put_failover", lb.project_id)
        driver = loader.get_driver(lb.provider)
        repo.lock_load_balancer(session, lb_id, allowed=(c.ACTIVE, c.ERROR), child_operation=False)
        loader.call_provider(lb.provider, driver.loadbalancer_failover, lb_id)
    return Response(status_code=202)
