"""Fully populated ("single call") load balancer create: api-v2.md section 1.6.

Nested listeners, pools, members, health monitors, L7 policies and rules are validated
with the same schemas and domain rules as their standalone POSTs, then created in the
LB's transaction, all PENDING_CREATE. Pools are named so listeners and L7 policies can
refer to them: a pool object holding only its name is a reference, anything more is a
full specification, created once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from octavia.api.common import types
from octavia.api.context import RequestContext
from octavia.api.errors import describe_validation_error
from octavia.api.v2 import health_monitors as hm_api
from octavia.api.v2 import l7policies as l7policy_api
from octavia.api.v2 import l7rules as l7rule_api
from octavia.api.v2 import listeners as listener_api
from octavia.api.v2 import members as member_api
from octavia.api.v2 import pools as pool_api
from octavia.common import exceptions
from octavia.db import models
from octavia.db import repositories as repo
from octavia.domain import health_monitors as hm_rules
from octavia.domain import l7policies as l7policy_rules
from octavia.domain import l7rules as l7rule_rules
from octavia.domain import listeners as listener_rules
from octavia.domain import members as member_rules
from octavia.domain import pools as pool_rules

M = TypeVar("M", bound=BaseModel)


def _parse(model: type[M], data: Any, where: str) -> M:
    """Validate a nested spec; errors read like the standalone POST's, named by `where`."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [{**e, "loc": (where, *e["loc"])} for e in exc.errors()]
        raise exceptions.BadRequest(describe_validation_error(errors)) from None


def _fail(detail: str) -> exceptions.ValidationException:
    return exceptions.ValidationException(detail=detail)


@dataclass
class _PoolNames:
    """Full pool specs in creation order, and the names that are only referenced."""

    specs: list[dict[str, Any]] = field(default_factory=list)
    referenced: list[str] = field(default_factory=list)

    def take(self, pool: Mapping[str, Any] | None) -> None:
        """Record an inline pool: a reference or a full spec."""
        if pool is None:
            return
        name = pool.get("name")
        if not name:
            raise _fail("Pools must be named when creating a fully populated loadbalancer.")
        if pool_rules.is_full_spec(pool):
            self.specs.append(dict(pool))
        else:
            self.referenced.append(str(name))

    def check(self) -> None:
        names = [p.get("name") for p in self.specs]
        if any(not n for n in names):
            raise _fail("Pools must be named when creating a fully populated loadbalancer.")
        if len(set(names)) != len(names):
            raise _fail("Pool names must be unique when creating a fully populated loadbalancer.")
        for name in self.referenced:
            if name not in names:
                raise _fail(f"Pool '{name}' was referenced but no full definition was found.")


@dataclass
class Graph:
    """What a fully populated create made, rendered in the nested "full" form."""

    session: Session
    listeners: list[models.Listener]
    pools: list[models.Pool]
    _tags: dict[str, list[str]] | None = None

    def _tag_map(self) -> dict[str, list[str]]:
        if self._tags is None:
            ids: list[str] = []
            for li in self.listeners:
                ids.append(li.id)
                for pol in li.l7policies:
                    ids.append(pol.id)
                    ids.extend(r.id for r in pol.rules)
            for pool in self.pools:
                ids.append(pool.id)
                ids.extend(m.id for m in pool.members)
                if pool.health_monitor is not None:
                    ids.append(pool.health_monitor.id)
            self._tags = repo.load_tags(self.session, ids)
        return self._tags

    def full_listeners(self) -> list[dict[str, Any]]:
        tags = self._tag_map()
        out = []
        for li in self.listeners:
            body = listener_api.to_dict(li, tags[li.id], full=True)
            body["l7policies"] = [
                {**l7policy_api.to_dict(pol, tags[pol.id]),
                 "rules": [l7rule_api.to_dict(r, tags[r.id]) for r in _by_creation(pol.rules)]}
                for pol in sorted(li.l7policies, key=lambda p: p.position)
            ]
            out.append(body)
        return out

    def full_pools(self) -> list[dict[str, Any]]:
        tags = self._tag_map()
        users = pool_rules.listener_ids_by_pool(self.session, [p.id for p in self.pools])
        out = []
        for pool in self.pools:
            body = pool_api.to_dict(pool, tags[pool.id], users[pool.id], full=True)
            body["members"] = [member_api.to_dict(m, tags[m.id]) for m in _by_creation(pool.members)]
            hm = pool.health_monitor
            if hm is not None:
                body["healthmonitor"] = hm_api.to_dict(hm, tags[hm.id])
                del body["healthmonitor"]["pools"]
            out.append(body)
        return out


def _by_creation(rows: list[Any]) -> list[Any]:
    return sorted(rows, key=lambda r: (r.created_at, r.id))


def create_graph(
    session: Session, ctx: RequestContext, lb: models.LoadBalancer,
    listeners: list[dict[str, Any]], pools: list[dict[str, Any]],
) -> Graph:
    """Validate and create the nested objects of `lb`.

    The caller (the LB POST) has authorised `ctx` and checked the quotas of the whole graph;
    nested objects belong to the LB's project and need no policy check of their own.
    """
    specs = [_parse(listener_api.ListenerSingleCreate, li, "listeners") for li in listeners]
    names = _PoolNames(specs=[dict(p) for p in pools])
    policy_specs: list[list[l7policy_rules.L7PolicySingleCreate]] = []
    for spec in specs:
        names.take(spec.default_pool)
        parsed = [_parse(l7policy_rules.L7PolicySingleCreate, p, "l7policies")
                  for p in spec.l7policies or []]
        for pol in parsed:
            names.take(pol.redirect_pool)
        policy_specs.append(parsed)
    names.check()
    flavor_meta = member_rules.lb_flavor_metadata(session, lb)
    by_name: dict[str, models.Pool] = {}
    for raw in names.specs:
        pool = _create_pool(session, lb, raw, flavor_meta)
        by_name[str(raw["name"])] = pool
    new_listeners = [
        _create_listener(session, lb, spec, parsed, by_name)
        for spec, parsed in zip(specs, policy_specs, strict=True)
    ]
    session.flush()
    for li in new_listeners:
        session.expire(li, ["l7policies", "default_pool"])
        for policy in li.l7policies:
            session.expire(policy, ["rules"])
    for pool in by_name.values():
        session.expire(pool, ["members", "health_monitor"])
    session.expire(lb, ["listeners", "pools"])
    return Graph(session, new_listeners, list(by_name.values()))


def _create_pool(
    session: Session, lb: models.LoadBalancer, raw: dict[str, Any], flavor_meta: dict[str, Any]
) -> models.Pool:
    for attr in ("protocol", "lb_algorithm"):
        if attr not in raw:
            raise _fail(f"Pool definition for '{raw['name']}' missing required attribute: {attr}")
    values = _parse(pool_api.PoolSpec, raw, "pools").model_dump()
    pool_rules.check_create(values)
    pool_rules.check_certificates(values)
    pool = pool_rules.new_pool(session, lb, values)
    if values["healthmonitor"] is not None:
        hm_spec = _parse(hm_rules.HealthMonitorSingleCreate, values["healthmonitor"], "healthmonitor")
        hm_values = hm_rules.validate_healthmonitor(hm_spec, pool.protocol)
        hm = hm_rules.new_health_monitor(session, hm_values, pool, lb.project_id)
        repo.set_tags(session, hm.id, types.dedupe(hm_spec.tags) or [])
        session.refresh(pool, ["health_monitor"])
    for raw_member in values["members"] or []:
        member = _parse(member_rules.MemberPOST, raw_member, "members")
        member_rules.validate_member(member, flavor_meta)
        member_rules.new_member(session, member, pool, lb.project_id)
    return pool


def _create_listener(
    session: Session, lb: models.LoadBalancer, spec: listener_api.ListenerSingleCreate,
    policies: list[l7policy_rules.L7PolicySingleCreate], by_name: Mapping[str, models.Pool],
) -> models.Listener:
    values = spec.model_dump()
    listener_rules.check_create(lb, values)
    if values["default_pool"] is not None:
        pool = by_name[values["default_pool"]["name"]]
        pool_rules.check_listener_protocol(values["protocol"], pool.protocol)
        values["default_pool_id"] = pool.id
    elif values["default_pool_id"]:
        listener_rules.check_default_pool(session, lb.id, values["default_pool_id"], values["protocol"])
    listener_rules.check_port_free(session, lb.id, values["protocol"], values["protocol_port"])
    listener_rules.check_certificates(values)
    listener = listener_rules.new_listener(session, lb, values)
    for pol_spec in policies:
        _create_policy(session, lb, listener, pol_spec, by_name)
    return listener


def _create_policy(
    session: Session, lb: models.LoadBalancer, listener: models.Listener,
    spec: l7policy_rules.L7PolicySingleCreate, by_name: Mapping[str, models.Pool],
) -> None:
    l7policy_rules.check_listener_accepts_policies(listener)
    values = l7policy_rules.validate_l7policy(spec)
    redirect = values.pop("redirect_pool", None)
    if redirect is not None:
        pool = by_name[redirect["name"]]
        pool_rules.check_listener_protocol(listener.protocol, pool.protocol)
        values["redirect_pool_id"] = pool.id
    elif values.get("redirect_pool_id"):
        l7policy_rules.check_redirect_pool(session, values["redirect_pool_id"], listener)
    rules = spec.rules or []
    for rule in rules:
        l7rule_rules.validate_l7rule(rule.model_dump())
    policy = l7policy_rules.new_l7policy(session, values, listener, lb.project_id)
    repo.set_tags(session, policy.id, types.dedupe(spec.tags) or [])
    for rule in rules:
        l7rule_rules.new_l7rule(session, rule, policy, lb.project_id)
