"""Members: /v2/lbaas/pools/{pool_id}/members (+ the batch PUT with `additive_only`).

Subnets are looked up through the network driver before the write transaction opens,
as upstream does before its lock session.

The POST schema `MemberPOST` lives in octavia.domain.members (the single-call create
reuses it) and is re-exported here.
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
from octavia.domain import members as domain
from octavia.domain.members import MemberPOST
from octavia.providers import convert, loader

__all__ = ["router", "MemberPOST", "to_dict"]

router = APIRouter(prefix="/lbaas/pools/{pool_id}/members", tags=["members"])

M = models.Member
COLUMNS: dict[str, Any] = {
    "id": M.id, "name": M.name, "project_id": M.project_id,
    "provisioning_status": M.provisioning_status, "operating_status": M.operating_status,
    "admin_state_up": M.enabled, "address": M.ip_address, "protocol_port": M.protocol_port,
    "weight": M.weight, "backup": M.backup, "subnet_id": M.subnet_id,
    "monitor_address": M.monitor_address, "monitor_port": M.monitor_port,
    "vnic_type": M.vnic_type, "created_at": M.created_at, "updated_at": M.updated_at,
}
DOC = responses.resource("member", responses.Member, "members", COLUMNS)


class MemberPUT(types.RequestBody):
    name: types.Str255 | None = None
    admin_state_up: bool | None = None
    weight: domain.Weight | None = None
    backup: bool | None = None
    monitor_address: types.IpAddress | None = None
    monitor_port: types.Port | None = None
    tags: types.Tags | None = None


class MemberCreate(types.RequestBody):
    member: MemberPOST


class MemberUpdate(types.RequestBody):
    member: MemberPUT


class MembersBatch(types.RequestBody):
    members: list[MemberPOST]


def to_dict(member: models.Member, tags: list[str]) -> dict[str, Any]:
    return with_tenant({
        "id": member.id, "name": text(member.name),
        "operating_status": member.operating_status,
        "provisioning_status": member.provisioning_status,
        "admin_state_up": member.enabled, "address": member.ip_address,
        "protocol_port": member.protocol_port, "weight": member.weight, "backup": member.backup,
        "subnet_id": member.subnet_id, "project_id": member.project_id,
        "created_at": ts(member.created_at), "updated_at": ts(member.updated_at),
        "monitor_address": member.monitor_address, "monitor_port": member.monitor_port,
        "tags": tags, "vnic_type": member.vnic_type or c.VNIC_TYPE_NORMAL,
    })


def _show(session: Session, member: models.Member) -> dict[str, Any]:
    return to_dict(member, repo.load_tags(session, [member.id])[member.id])


def _pool(session: Session, pool_id: str) -> models.Pool:
    return repo.get_or_404(session, models.Pool, pool_id, "pool")


def _member(session: Session, pool: models.Pool, member_id: str) -> models.Member:
    """A member of this pool; one that belongs to another pool is not found here."""
    member = repo.get_or_404(session, M, member_id, "member")
    if member.pool_id != pool.id:
        raise exceptions.NotFound("member", member_id)
    return member


@router.get("", summary="List the members of a pool", **DOC.listing(404))
def list_members(pool_id: str, request: Request, ctx: Context) -> JSONResponse:
    params = listing.parse(request.query_params, COLUMNS)
    with session_scope() as session:
        pool = _pool(session, pool_id)
        policy.authorize(ctx, "member:get_all", pool.project_id)
        stmt = listing.apply(session, select(M).where(M.pool_id == pool.id), M, COLUMNS, params)
        return pages.tagged_page(session, stmt, "members", request, params, to_dict)


@router.post("", status_code=201, summary="Create a member", **DOC.create(501))
def create_member(pool_id: str, ctx: Context, body: Annotated[MemberCreate, Body()]) -> JSONResponse:
    spec = body.member
    if spec.subnet_id:
        domain.check_subnet(spec.subnet_id)
    with session_scope(write=True) as session:
        pool = _pool(session, pool_id)
        lb = pool.load_balancer
        policy.authorize(ctx, "member:post", lb.project_id)
        domain.validate_member(spec, domain.lb_flavor_metadata(session, lb))
        driver = loader.get_driver(lb.provider)
        quotas.check(session, ctx, lb.project_id, {"member": 1})
        domain.lock_pool_tree(session, pool)
        member = domain.new_member(session, spec, pool, lb.project_id)
        loader.call_provider(lb.provider, driver.member_create, convert.member(member))
        result = _show(session, member)
    return JSONResponse({"member": result}, status_code=201)


@router.put("", status_code=202, summary="Replace the members of a pool (batch)",
            **DOC.action(202, None, 409, 413, 501))
def batch_update_members(
    pool_id: str, ctx: Context, body: Annotated[MembersBatch, Body()], additive_only: str | None = None
) -> Response:
    additive = (additive_only or "").lower() in listing.TRUE_WORDS
    for subnet_id in sorted({spec.subnet_id for spec in body.members if spec.subnet_id}):
        domain.check_subnet(subnet_id)
    with session_scope(write=True) as session:
        pool = _pool(session, pool_id)
        lb = pool.load_balancer
        for action in ("post", "put") if additive else ("post", "put", "delete"):
            policy.authorize(ctx, f"member:{action}", lb.project_id)
        driver = loader.get_driver(lb.provider)
        existing = session.execute(select(M).where(M.pool_id == pool.id)).scalars().all()
        plan = domain.plan_batch(existing, body.members, additive)
        flavor_meta = domain.lb_flavor_metadata(session, lb)
        for spec in plan.create:
            domain.validate_member(spec, flavor_meta)
        quotas.check(session, ctx, lb.project_id, {"member": len(plan.create) - len(plan.delete)})
        domain.lock_pool_tree(session, pool)
        if plan.is_noop:
            session.rollback()
            return Response(status_code=202)
        created = [domain.new_member(session, spec, pool, lb.project_id) for spec in plan.create]
        for member, spec in plan.update:
            domain.apply_batch_update(session, member, spec)
        for member in plan.delete:
            repo.set_status(session, member, c.PENDING_DELETE)
        session.flush()
        wanted = created + [m for m, _ in plan.update] + plan.keep
        loader.call_provider(lb.provider, driver.member_batch_update, pool.id,
                             [convert.member(m) for m in wanted])
    return Response(status_code=202)


@router.get("/{member_id}", summary="Show a member", **DOC.show())
def get_member(
    pool_id: str, member_id: str, ctx: Context, fields: Annotated[list[str] | None, Query()] = None
) -> JSONResponse:
    with session_scope() as session:
        pool = _pool(session, pool_id)
        member = _member(session, pool, member_id)
        policy.authorize(ctx, "member:get_one", member.project_id)
        result = listing.select_fields(_show(session, member), fields or [])
    return JSONResponse({"member": result})


@router.put("/{member_id}", summary="Update a member", **DOC.update(501))
def update_member(
    pool_id: str, member_id: str, ctx: Context, body: Annotated[MemberUpdate, Body()]
) -> JSONResponse:
    changes = body.member.given()
    with session_scope(write=True) as session:
        pool = _pool(session, pool_id)
        member = _member(session, pool, member_id)
        lb = pool.load_balancer
        policy.authorize(ctx, "member:put", lb.project_id)
        driver = loader.get_driver(lb.provider)
        domain.lock_pool_tree(session, pool)
        old = convert.member(member)
        domain.apply_update(session, member, changes)
        loader.call_provider(lb.provider, driver.member_update, old,
                             convert.update_dict("member", member, changes))
        result = _show(session, member)
    return JSONResponse({"member": result})


@router.delete("/{member_id}", status_code=204, summary="Delete a member", **DOC.delete(501))
def delete_member(pool_id: str, member_id: str, ctx: Context) -> Response:
    with session_scope(write=True) as session:
        pool = _pool(session, pool_id)
        member = _member(session, pool, member_id)
        lb = pool.load_balancer
        policy.authorize(ctx, "member:delete", lb.project_id)
        driver = loader.get_driver(lb.provider)
        domain.lock_pool_tree(session, pool)
        repo.set_status(session, member, c.PENDING_DELETE)
        session.flush()
        loader.call_provider(lb.provider, driver.member_delete, convert.member(member))
    return Response(status_code=204)
