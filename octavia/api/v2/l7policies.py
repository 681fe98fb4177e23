"""L7 policies: /v2/lbaas/l7policies.

The POST schemas (`L7PolicyPOST`, and `L7PolicySingleCreate` for a policy nested in a
listener spec) live in octavia.domain.l7policies and are re-exported here. A standalone
POST may carry `rules`; they are created with the policy.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from octavia.api import policy
from octavia.api.common import listing, pages, types
from octavia.api.common.views import ids, text, ts, with_tenant
from octavia.api.deps import Context
from octavia.api.v2 import responses
from octavia.common import constants as c
from octavia.common import exceptions, quotas
from octavia.db import models
from octavia.db import repositories as repo
from octavia.db.api import session_scope
from octavia.domain import l7policies as domain
from octavia.domain import l7rules
from octavia.domain.l7policies import L7PolicyPOST, L7PolicyPUT, L7PolicySingleCreate
from octavia.domain.scoping import scope_query
from octavia.providers import convert, loader

__all__ = ["router", "L7PolicyPOST", "L7PolicySingleCreate", "to_dict"]

router = APIRouter(prefix="/lbaas/l7policies", tags=["l7policies"])

M = models.L7Policy
COLUMNS: dict[str, Any] = {
    "id": M.id, "name": M.name, "description": M.description, "project_id": M.project_id,
    "provisioning_status": M.provisioning_status, "operating_status": M.operating_status,
    "admin_state_up": M.enabled, "action": M.action, "listener_id": M.listener_id,
    "redirect_pool_id": M.redirect_pool_id, "redirect_url": M.redirect_url,
    "redirect_prefix": M.redirect_prefix, "redirect_http_code": M.redirect_http_code,
    "position": M.position, "created_at": M.created_at, "updated_at": M.updated_at,
}
DOC = responses.resource("l7policy", responses.L7Policy, "l7policies", COLUMNS)


class L7PolicyCreate(types.RequestBody):
    l7policy: L7PolicyPOST


class L7PolicyUpdate(types.RequestBody):
    l7policy: L7PolicyPUT


def to_dict(pol: models.L7Policy, tags: list[str]) -> dict[str, Any]:
    return with_tenant({
        "id": pol.id, "name": text(pol.name), "description": text(pol.description),
        "provisioning_status": pol.provisioning_status, "operating_status": pol.operating_status,
        "admin_state_up": pol.enabled, "project_id": pol.project_id, "action": pol.action,
        "listener_id": pol.listener_id, "redirect_pool_id": pol.redirect_pool_id,
        "redirect_url": pol.redirect_url, "redirect_prefix": pol.redirect_prefix,
        "position": pol.position, "rules": ids(sorted(pol.rules, key=lambda r: (r.created_at, r.id))),
        "created_at": ts(pol.created_at), "updated_at": ts(pol.updated_at), "tags": tags,
        "redirect_http_code": pol.redirect_http_code,
    })


def _query() -> Any:
    return select(M).options(
        selectinload(M.rules).load_only(models.L7Rule.id, models.L7Rule.created_at)
    )


def _show(session: Session, pol: models.L7Policy) -> dict[str, Any]:
    return to_dict(pol, repo.load_tags(session, [pol.id])[pol.id])


def _load(session: Session, policy_id: str) -> models.L7Policy:
    return repo.get_or_404(session, M, policy_id, "l7policy")


def _lock(session: Session, listener: models.Listener) -> None:
    repo.lock_load_balancer(session, listener.load_balancer_id)
    repo.set_status(session, listener, c.PENDING_UPDATE)


@router.get("", summary="List L7 policies", **DOC.listing())
def list_l7policies(request: Request, ctx: Context) -> JSONResponse:
    params = listing.parse(request.query_params, COLUMNS)
    with session_scope() as session:
        stmt = scope_query(ctx, _query(), M, params, "l7policy")
        stmt = listing.apply(session, stmt, M, COLUMNS, params)
        return pages.tagged_page(session, stmt, "l7policies", request, params, to_dict)


@router.post("", status_code=201, summary="Create an L7 policy", **DOC.create(501))
def create_l7policy(ctx: Context, body: Annotated[L7PolicyCreate, Body()]) -> JSONResponse:
    spec = body.l7policy
    rules = spec.rules or []
    with session_scope(write=True) as session:
        listener = repo.get_or_404(session, models.Listener, spec.listener_id, "listener")
        lb = listener.load_balancer
        policy.authorize(ctx, "l7policy:post", lb.project_id)
        domain.check_listener_accepts_policies(listener)
        if spec.redirect_pool is not None:
            raise exceptions.ValidationException(
                detail="redirect_pool is only accepted when creating a fully populated load balancer."
            )
        values = domain.validate_l7policy(spec)
        if values.get("redirect_pool_id"):
            domain.check_redirect_pool(session, values["redirect_pool_id"], listener)
        for rule in rules:
            l7rules.validate_l7rule(rule.model_dump())
        driver = loader.get_driver(lb.provider)
        quotas.check(session, ctx, lb.project_id, {"l7policy": 1, "l7rule": len(rules)})
        _lock(session, listener)
        pol = domain.new_l7policy(session, values, listener, lb.project_id)
        repo.set_tags(session, pol.id, types.dedupe(spec.tags) or [])
        for rule in rules:
            l7rules.new_l7rule(session, rule, pol, lb.project_id)
        session.refresh(pol, ["rules"])
        loader.call_provider(lb.provider, driver.l7policy_create, convert.l7policy(pol))
        result = _show(session, pol)
    return JSONResponse({"l7policy": result}, status_code=201)


@router.get("/{policy_id}", summary="Show an L7 policy", **DOC.show())
def get_l7policy(
    policy_id: str, ctx: Context, fields: Annotated[list[str] | None, Query()] = None
) -> JSONResponse:
    with session_scope() as session:
        pol = _load(session, policy_id)
        policy.authorize(ctx, "l7policy:get_one", pol.project_id)
        result = listing.select_fields(_show(session, pol), fields or [])
    return JSONResponse({"l7policy": result})


@router.put("/{policy_id}", summary="Update an L7 policy", **DOC.update(501))
def update_l7policy(
    policy_id: str, ctx: Context, body: Annotated[L7PolicyUpdate, Body()]
) -> JSONResponse:
    changes = body.l7policy.given()
    with session_scope(write=True) as session:
        pol = _load(session, policy_id)
        listener = pol.listener
        lb = listener.load_balancer
        policy.authorize(ctx, "l7policy:put", lb.project_id)
        values = domain.sanitize(changes)
        domain.check_update(pol, values)
        if values.get("redirect_pool_id"):
            domain.check_redirect_pool(session, values["redirect_pool_id"], listener)
        driver = loader.get_driver(lb.provider)
        _lock(session, listener)
        old = convert.l7policy(pol)
        domain.apply_update(session, pol, values)
        loader.call_provider(lb.provider, driver.l7policy_update, old,
                             convert.update_dict("l7policy", pol, values))
        result = _show(session, pol)
    return JSONResponse({"l7policy": result})


@router.delete("/{policy_id}", status_code=204, summary="Delete an L7 policy", **DOC.delete(501))
def delete_l7policy(policy_id: str, ctx: Context) -> Response:
    """Positions of the remaining policies are renumbered when the delete completes."""
    with session_scope(write=True) as session:
        pol = _load(session, policy_id)
        listener = pol.listener
        lb = listener.load_balancer
        policy.authorize(ctx, "l7policy:delete", lb.project_id)
        driver = loader.get_driver(lb.provider)
        _lock(session, listener)
        repo.set_status(session, pol, c.PENDING_DELETE)
        session.flush()
        loader.call_provider(lb.provider, driver.l7policy_delete, convert.l7policy(pol))
    return Response(status_code=204)
