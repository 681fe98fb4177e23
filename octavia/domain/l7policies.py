"""L7 policy rules (validation.md section 6), apart from HTTP: action/field coupling,
redirect checks and the contiguous 1..N positions of a listener's policies.

Reused by the single-call create (octavia/api/v2/lb_graph.py) and the driver agent:

    L7PolicySingleCreate
        pydantic schema of a policy nested in a listener spec (no `listener_id`; may carry
        `redirect_pool` (a pool spec or {name} reference) and `rules` (L7RulePOST items)).
    L7PolicyPOST(L7PolicySingleCreate)
        the POST /l7policies body: adds the required `listener_id`.
    validate_l7policy(spec: L7PolicySingleCreate) -> dict[str, Any]
        sanitises a create (implicit actions, required redirect fields, http code default);
        returns API-named values: name, description, admin_state_up, action, redirect_pool_id,
        redirect_url, redirect_prefix, redirect_http_code, position (a `redirect_pool` spec is
        passed through untouched for the caller to resolve).
    check_listener_accepts_policies(listener: models.Listener) -> None     (PROMETHEUS -> 400)
    check_pool_protocol(listener_protocol: str, pool_protocol: str) -> None (400)
    check_redirect_pool(session, pool_id: str, listener: models.Listener) -> models.Pool (404/400)
    new_l7policy(session, values: dict, listener: models.Listener, project_id: str) -> models.L7Policy
        adds the row in PENDING_CREATE/OFFLINE at `values["position"]` (None or > N: appended).
    renumber_positions(session, listener_id: str) -> None
        makes the listener's policies 1..N again in their current order (after a delete).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

import rfc3986
from pydantic import AfterValidator, BeforeValidator
from pydantic_core import PydanticCustomError
from sqlalchemy import select
from sqlalchemy.orm import Session

from octavia.api.common import types
from octavia.common import constants as c
from octavia.common import exceptions
from octavia.db import models
from octavia.db import repositories as repo
from octavia.domain.l7rules import L7RulePOST

REJECT = c.L7POLICY_ACTION_REJECT
TO_URL = c.L7POLICY_ACTION_REDIRECT_TO_URL
TO_POOL = c.L7POLICY_ACTION_REDIRECT_TO_POOL
PREFIX = c.L7POLICY_ACTION_REDIRECT_PREFIX
DEFAULT_REDIRECT_CODE = 302
REDIRECT_FIELDS = ("redirect_url", "redirect_pool_id", "redirect_prefix", "redirect_http_code")
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f-\x9f]")


def _url(value: str) -> str:
    """An absolute http(s) URL with a host, RFC 3986 valid, without spaces or control chars."""
    bad = PydanticCustomError("url", "Value must be a valid URL string")
    if _CONTROL_OR_SPACE.search(value) or len(value) > 2048:
        raise bad
    try:
        if not rfc3986.is_valid_uri(value, require_scheme=True):
            raise bad
        parsed = rfc3986.urlparse(rfc3986.normalize_uri(value))
    except PydanticCustomError:
        raise
    except Exception:
        raise bad from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise bad
    return value


def _redirect_code(value: Any) -> Any:
    choices = ", ".join(str(x) for x in c.REDIRECT_HTTP_CODES)
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = None
    if isinstance(value, bool) or isinstance(value, float) or number not in c.REDIRECT_HTTP_CODES:
        raise PydanticCustomError("enum", f"Value should be one of: {choices}")
    return number


Url = Annotated[str, AfterValidator(_url)]
RedirectCode = Annotated[int, BeforeValidator(_redirect_code)]
Position = Annotated[types.Int, types.int_bounds(1, c.MAX_POLICY_POSITION)]
Action = Annotated[str, types.enum(*c.L7POLICY_ACTIONS)]


class L7PolicySingleCreate(types.RequestBody):
    name: types.Str255 | None = None
    description: types.Str255 | None = None
    admin_state_up: bool | None = True
    action: Action
    redirect_pool_id: types.Uuid | None = None
    redirect_url: Url | None = None
    redirect_prefix: Url | None = None
    redirect_http_code: RedirectCode | None = None
    position: Position | None = None
    project_id: types.Str36 | None = None
    tenant_id: types.Str36 | None = None
    tags: types.Tags | None = None
    rules: list[L7RulePOST] | None = None
    redirect_pool: dict[str, Any] | None = None


class L7PolicyPOST(L7PolicySingleCreate):
    listener_id: types.Uuid


class L7PolicyPUT(types.RequestBody):
    name: types.Str255 | None = None
    description: types.Str255 | None = None
    admin_state_up: bool | None = None
    action: Action | None = None
    redirect_pool_id: types.Uuid | None = None
    redirect_url: Url | None = None
    redirect_prefix: Url | None = None
    redirect_http_code: RedirectCode | None = None
    position: Position | None = None
    tags: types.Tags | None = None


def _args(msg: str) -> exceptions.BadRequest:
    return exceptions.BadRequest(f"Invalid L7 Policy arguments: {msg}")


def _bad_action(action: Any) -> exceptions.BadRequest:
    return exceptions.BadRequest(f"Invalid L7 Policy action specified: {action}")


def _point_to(p: dict[str, Any], action: str, keep: str | None) -> None:
    """Switch to `action` and clear the redirect fields the action does not use."""
    p["action"] = action
    for name in ("redirect_url", "redirect_pool_id", "redirect_prefix"):
        if name != keep:
            p[name] = None
    p.pop("redirect_pool_id" if keep == "redirect_pool" else "redirect_pool", None)
    if action in (TO_URL, PREFIX):
        p["redirect_http_code"] = p.get("redirect_http_code") or DEFAULT_REDIRECT_CODE
    else:
        p["redirect_http_code"] = None


def sanitize(fields: Mapping[str, Any], create: bool = False) -> dict[str, Any]:
    """Upstream's argument sanitising: the redirect fields given decide the action."""
    p = dict(fields)
    if "action" in p:
        action = p["action"]
        if action == REJECT:
            p.update({name: None for name in REDIRECT_FIELDS})
            p.pop("redirect_pool", None)
        elif action == TO_URL and not p.get("redirect_url"):
            raise _args("redirect_url must not be None")
        elif action == TO_POOL and not (p.get("redirect_pool_id") or p.get("redirect_pool")):
            raise _args("redirect_pool_id or redirect_pool must not be None")
        elif action == PREFIX and not p.get("redirect_prefix"):
            raise _args("redirect_prefix must not be None")
        elif action not in c.L7POLICY_ACTIONS:
            raise _bad_action(action)
    to_pool = p.get("redirect_pool_id") or p.get("redirect_pool")
    if to_pool and (p.get("redirect_url") or p.get("redirect_prefix")):
        raise _args("Cannot specify redirect_pool_id and redirect_url or redirect_prefix at the same time")
    if p.get("redirect_pool_id"):
        _point_to(p, TO_POOL, "redirect_pool_id")
    elif p.get("redirect_pool"):
        _point_to(p, TO_POOL, "redirect_pool")
    elif p.get("redirect_url"):
        _point_to(p, TO_URL, "redirect_url")
    elif p.get("redirect_prefix"):
        _point_to(p, PREFIX, "redirect_prefix")
    if create and "action" not in p:
        raise _bad_action(None)
    if not p:
        raise _args("Invalid update options")
    return p


def validate_l7policy(spec: L7PolicySingleCreate) -> dict[str, Any]:
    fields = spec.model_dump(exclude={"project_id", "tenant_id", "tags", "rules", "listener_id"})
    if fields.get("redirect_pool") is None:
        fields.pop("redirect_pool", None)
    values = sanitize(fields, create=True)
    if values["action"] == REJECT:
        values["redirect_http_code"] = None
    return values


def check_update(policy: models.L7Policy, values: Mapping[str, Any]) -> None:
    """The policy as it would be after the PUT still has what its action needs."""
    merged = {name: getattr(policy, name) for name in ("action", *REDIRECT_FIELDS)}
    merged.update({k: v for k, v in values.items() if k in merged})
    needs = {TO_URL: "redirect_url", PREFIX: "redirect_prefix", TO_POOL: "redirect_pool_id"}
    needed = needs.get(merged["action"])
    if needed and not merged[needed]:
        what = "redirect_pool_id or redirect_pool" if needed == "redirect_pool_id" else needed
        raise _args(f"{what} must not be None")


def check_listener_accepts_policies(listener: models.Listener) -> None:
    if listener.protocol == c.PROTOCOL_PROMETHEUS:
        raise exceptions.BadRequest(f"Protocol {c.PROTOCOL_PROMETHEUS} listeners cannot have child objects.")


def check_pool_protocol(listener_protocol: str, pool_protocol: str) -> None:
    if pool_protocol not in c.VALID_LISTENER_POOL_PROTOCOLS.get(listener_protocol, ()):
        raise exceptions.ValidationException(
            detail=f"The pool protocol '{pool_protocol}' is invalid while the listener protocol "
                   f"is '{listener_protocol}'."
        )


def check_redirect_pool(session: Session, pool_id: str, listener: models.Listener) -> models.Pool:
    """The pool must exist on the listener's LB and project (404) and suit its protocol (400)."""
    pool = session.get(models.Pool, pool_id)
    if (pool is None or pool.load_balancer_id != listener.load_balancer_id
            or pool.project_id != listener.project_id):
        raise exceptions.NotFound("pool", pool_id)
    check_pool_protocol(listener.protocol, pool.protocol)
    return pool


def _ordered(session: Session, listener_id: str) -> list[models.L7Policy]:
    P = models.L7Policy
    return list(session.execute(
        select(P).where(P.listener_id == listener_id).order_by(P.position, P.created_at, P.id)
    ).scalars())


def _place(policies: list[models.L7Policy], policy: models.L7Policy, position: int | None) -> None:
    """Insert `policy` at `position` (1-based; None or beyond the end appends); renumber 1..N."""
    others = [p for p in policies if p.id != policy.id]
    index = len(others) if position is None or position > len(others) else position - 1
    others.insert(index, policy)
    for number, p in enumerate(others, start=1):
        if p.position != number:
            p.position = number


def renumber_positions(session: Session, listener_id: str) -> None:
    for number, p in enumerate(_ordered(session, listener_id), start=1):
        if p.position != number:
            p.position = number
    session.flush()


def new_l7policy(
    session: Session, values: Mapping[str, Any], listener: models.Listener, project_id: str | None
) -> models.L7Policy:
    existing = _ordered(session, listener.id)
    policy = models.L7Policy(
        id=models.new_id(), project_id=project_id, listener_id=listener.id,
        name=values.get("name"), description=values.get("description"),
        enabled=bool(values.get("admin_state_up", True)), action=values["action"],
        redirect_pool_id=values.get("redirect_pool_id"), redirect_url=values.get("redirect_url"),
        redirect_prefix=values.get("redirect_prefix"),
        redirect_http_code=values.get("redirect_http_code"),
        provisioning_status=c.PENDING_CREATE, operating_status=c.OFFLINE,
    )
    _place(existing, policy, values.get("position"))
    session.add(policy)
    session.flush()
    return policy


def apply_update(session: Session, policy: models.L7Policy, values: Mapping[str, Any]) -> None:
    """Write a sanitised PUT; REJECT and REDIRECT_TO_POOL never keep a redirect http code."""
    for name, value in values.items():
        if name == "admin_state_up":
            policy.enabled = bool(value)
        elif name == "tags":
            repo.set_tags(session, policy.id, types.dedupe(value))
        elif name in ("name", "description", "action", *REDIRECT_FIELDS):
            setattr(policy, name, value)
    if policy.action in (REJECT, TO_POOL):
        policy.redirect_http_code = None
    if policy.action == REJECT:
        policy.redirect_url = policy.redirect_pool_id = policy.redirect_prefix = None
    if values.get("position") is not None:
        _place(_ordered(session, policy.listener_id), policy, values["position"])
    repo.set_status(session, policy, c.PENDING_UPDATE)
    session.flush()
