"""L7 rules: /v2/lbaas/l7policies/{l7policy_id}/rules (envelope `rule` / `rules`).

The POST schema `L7RulePOST` lives in octavia.domain.l7rules (L7 policy creation and the
single-call create reuse it) and is re-exported here. Unlike upstream, a rule that is not
in the policy named by the URL is not found (404).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from octavia.api import policy
from octavia.api.common import listing, pages, types
from octavia.api.common.views import ts, with_tenant
from octavia.api.deps import Context
from octavia.api.v2 import responses
from octavia.common import constants as c
from octavia.common import exceptions, quotas
from octavia.db import models
from octavia.db import repositories as repo
from octavia.db.api import session_scope
from octavia.domain import l7rules as domain
from octavia.domain.l7rules import L7RulePOST, L7RulePUT
from octavia.providers import convert, loader

__all__ = ["router", "L7RulePOST", "to_dict"]

router = APIRouter(prefix="/lbaas/l7policies/{policy_id}/rules", tags=["l7rules"])

M = models.L7Rule
COLUMNS: dict[str, Any] = {
    "id": M.id, "project_id": M.project_id, "type": M.type, "compare_type": M.compare_type,
    "key": M.key, "value": M.value, "invert": M.invert, "admin_state_up": M.enabled,
    "provisioning_status": M.provisioning_status, "operating_status": M.operating_status,
    "created_at": M.created_at, "updated_at": M.updated_at,
    # openstacksdk sends the policy id as a filter under its storage name; upstream accepts it.
    "l7policy_id": M.l7policy_id,
}
DOC = responses.resource("rule", responses.L7Rule, "rules", COLUMNS)


class L7RuleCreate(types.RequestBody):
    rule: L7RulePOST


class L7RuleUpdate(types.RequestBody):
    rule: L7RulePUT


def to_dict(rule: models.L7Rule, tags: list[str]) -> dict[str, Any]:
    return with_tenant({
        "id": rule.id, "type": rule.type, "compare_type": rule.compare_type, "key": rule.key,
        "value": rule.value, "invert": rule.invert,
        "provisioning_status": rule.provisioning_status, "operating_status": rule.operating_status,
        "created_at": ts(rule.created_at), "updated_at": ts(rule.updated_at),
        "project_id": rule.project_id, "admin_state_up": rule.enabled, "tags": tags,
    })


def _show(session: Session, rule: models.L7Rule) -> dict[str, Any]:
    return to_dict(rule, repo.load_tags(session, [rule.id])[rule.id])


def _policy(session: Session, policy_id: str) -> models.L7Policy:
    return repo.get_or_404(session, models.L7Policy, policy_id, "l7policy")


def _rule(session: Session, pol: models.L7Policy, rule_id: str) -> models.L7Rule:
    rule = repo.get_or_404(session, M, rule_id, "l7rule")
    if rule.l7policy_id != pol.id:
        raise exceptions.NotFound("l7rule", rule_id)
    return rule


@router.get("", summary="List the rules of an L7 policy", **DOC.listing(404))
def list_l7rules(policy_id: str, request: Request, ctx: Context) -> JSONResponse:
    params = listing.parse(request.query_params, COLUMNS)
    with session_scope() as session:
        pol = _policy(session, policy_id)
        policy.authorize(ctx, "l7rule:get_all", pol.project_id)
        stmt = listing.apply(session, select(M).where(M.l7policy_id == pol.id), M, COLUMNS, params)
        return pages.tagged_page(session, stmt, "rules", request, params, to_dict)


@router.post("", status_code=201, summary="Create an L7 rule", **DOC.create(501))
def create_l7rule(policy_id: str, ctx: Context, body: Annotated[L7RuleCreate, Body()]) -> JSONResponse:
    spec = body.rule
    with session_scope(write=True) as session:
        pol = _policy(session, policy_id)
        lb = pol.listener.load_balancer
        policy.authorize(ctx, "l7rule:post", lb.project_id)
        domain.validate_l7rule(spec.model_dump())
        driver = loader.get_driver(lb.provider)
        quotas.check(session, ctx, lb.project_id, {"l7rule": 1})
        domain.lock_policy_tree(session, pol)
        rule = domain.new_l7rule(session, spec, pol, lb.project_id)
        loader.call_provider(lb.provider, driver.l7rule_create, convert.l7rule(rule))
        result = _show(session, rule)
    return JSONResponse({"rule": result}, status_code=201)


@router.get("/{rule_id}", summary="Show an L7 rule", **DOC.show())
def get_l7rule(
    policy_id: str, rule_id: str, ctx: Context, fields: Annotated[list[str] | None, Query()] = None
) -> JSONResponse:
    with session_scope() as session:
        rule = _rule(session, _policy(session, policy_id), rule_id)
        policy.authorize(ctx, "l7rule:get_one", rule.project_id)
        result = listing.select_fields(_show(session, rule), fields or [])
    return JSONResponse({"rule": result})


@router.put("/{rule_id}", summary="Update an L7 rule", **DOC.update(501))
def update_l7rule(
    policy_id: str, rule_id: str, ctx: Context, body: Annotated[L7RuleUpdate, Body()]
) -> JSONResponse:
    changes = body.rule.given()
    with session_scope(write=True) as session:
        pol = _policy(session, policy_id)
        rule = _rule(session, pol, rule_id)
        lb = pol.listener.load_balancer
        policy.authorize(ctx, "l7rule:put", lb.project_id)
        domain.validate_l7rule(domain.merged_rule(rule, changes))
        driver = loader.get_driver(lb.provider)
        domain.lock_policy_tree(session, pol)
        old = convert.l7rule(rule)
        domain.apply_update(session, rule, changes)
        loader.call_provider(lb.provider, driver.l7rule_update, old,
                             convert.update_dict("l7rule", rule, changes))
        result = _show(session, rule)
    return JSONResponse({"rule": result})


@router.delete("/{rule_id}", status_code=204, summary="Delete an L7 rule", **DOC.delete(501))
def delete_l7rule(policy_id: str, rule_id: str, ctx: Context) -> Response:
    with session_scope(write=True) as session:
        pol = _policy(session, policy_id)
        rule = _rule(session, pol, rule_id)
        lb = pol.listener.load_balancer
        policy.authorize(ctx, "l7rule:delete", lb.project_id)
        driver = loader.get_driver(lb.provider)
        domain.lock_policy_tree(session, pol)
        repo.set_status(session, rule, c.PENDING_DELETE)
        session.flush()
        loader.call_provider(lb.provider, driver.l7rule_delete, convert.l7rule(rule))
    return Response(status_code=204)
