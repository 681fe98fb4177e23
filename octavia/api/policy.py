"""oslo.policy enforcement with upstream Octavia's default rules (rbac.md section 2).

Building blocks carry their legacy `load-balancer_*` form as a deprecated rule, so with
`[oslo_policy] enforce_new_defaults = False` oslo.policy ORs both forms and both role sets
work, as upstream. Every API rule has `scope_types=['project']`: oslo.policy refuses
system- and domain-scoped tokens for them. `[oslo_policy] policy_file` overrides any rule.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from oslo_policy import policy

from octavia.api.context import RequestContext
from octavia.common import exceptions
from octavia.common.config import CONF

PREFIX = "os_load-balancer_api"
_DEPRECATED_REASON = "Octavia now uses Keystone's default roles (admin, member, reader)."
_DEPRECATED_SINCE = "2023.2"

# name, current default, deprecated legacy form (OR-ed in unless enforce_new_defaults), description
_BLOCKS: list[tuple[str, str, str | None, str]] = [
    ("context_is_admin", "role:admin", "role:admin or role:load-balancer_admin",
     "Callers passing this rule are admins (`is_admin` in every other rule)."),
    ("load-balancer:owner", "project_id:%(project_id)s", None,
     "The object belongs to the caller's project."),
    ("project-member", "role:member and project_id:%(project_id)s", None,
     "Keystone `member` of the object's project."),
    ("project-reader", "role:reader and project_id:%(project_id)s", None,
     "Keystone `reader` of the object's project."),
    ("service", "role:service", None, "A service user (may list the members of any pool)."),
    ("load-balancer:admin", "is_admin:True or role:admin",
     "is_admin:True or role:admin or role:load-balancer_admin", "Load balancer administrator."),
    ("load-balancer:global_observer", "role:admin", "role:load-balancer_global_observer",
     "May read the objects of every project."),
    ("load-balancer:member_and_owner", "rule:project-member",
     "role:load-balancer_member and rule:load-balancer:owner",
     "May read and change the objects of its own project."),
    ("load-balancer:observer_and_owner", "rule:project-reader",
     "role:load-balancer_observer and rule:load-balancer:owner",
     "May read the objects of its own project."),
    ("load-balancer:quota-admin", "role:admin", "role:load-balancer_quota_admin",
     "May read and change the quotas of every project."),
]

_API_RULES: list[tuple[str, str, str]] = [
    ("load-balancer:read",
     "rule:load-balancer:observer_and_owner or rule:load-balancer:global_observer or "
     "rule:load-balancer:member_and_owner or rule:load-balancer:admin",
     "Read an object."),
    ("load-balancer:read-global", "rule:load-balancer:global_observer or rule:load-balancer:admin",
     "List the objects of every project."),
    ("load-balancer:write", "rule:load-balancer:member_and_owner or rule:load-balancer:admin",
     "Create, change or delete an object."),
    ("load-balancer:read-quota",
     "rule:load-balancer:observer_and_owner or rule:load-balancer:global_observer or "
     "rule:load-balancer:member_and_owner or rule:load-balancer:quota-admin or "
     "rule:load-balancer:admin",
     "Read a project's quotas."),
    ("load-balancer:read-quota-global",
     "rule:load-balancer:global_observer or rule:load-balancer:quota-admin or "
     "rule:load-balancer:admin",
     "List the quotas of every project."),
    ("load-balancer:write-quota", "rule:load-balancer:quota-admin or rule:load-balancer:admin",
     "Set or reset a project's quotas."),
]

READ = "rule:load-balancer:read"
READ_GLOBAL = "rule:load-balancer:read-global"
WRITE = "rule:load-balancer:write"
ADMIN = "rule:load-balancer:admin"
READ_QUOTA = "rule:load-balancer:read-quota"
WRITE_QUOTA = "rule:load-balancer:write-quota"

_V2 = "/v2/lbaas"
_LB = f"{_V2}/loadbalancers/{{loadbalancer_id}}"
_LISTENER = f"{_V2}/listeners/{{listener_id}}"
_POOL = f"{_V2}/pools/{{pool_id}}"
_AMP = "/v2/octavia/amphorae/{amphora_id}"

# API rule (without PREFIX), default, description, operations (method, path)
ENDPOINTS: list[tuple[str, str, str, list[tuple[str, str]]]] = []


def _crud(res: str, title: str, collection: str, item: str, read: str, read_all: str | None,
          write: str, list_rule: str | None = None) -> None:
    ENDPOINTS.extend([
        (f"{res}:get_all", list_rule or read, f"List {title}s", [("GET", collection)]),
        (f"{res}:post", write, f"Create a {title}", [("POST", collection)]),
        (f"{res}:get_one", read, f"Show {title} details", [("GET", item)]),
        (f"{res}:put", write, f"Update a {title}", [("PUT", item)]),
        (f"{res}:delete", write, f"Remove a {title}", [("DELETE", item)]),
    ])
    if read_all is not None:
        ENDPOINTS.append((f"{res}:get_all-global", read_all, f"List {title}s of all projects",
                          [("GET", collection)]))


_crud("loadbalancer", "load balancer", f"{_V2}/loadbalancers", _LB, READ, READ_GLOBAL, WRITE)
_crud("listener", "listener", f"{_V2}/listeners", _LISTENER, READ, READ_GLOBAL, WRITE)
_crud("pool", "pool", f"{_V2}/pools", _POOL, READ, READ_GLOBAL, WRITE)
# The member list is also open to service users, as upstream.
_crud("member", "member", f"{_POOL}/members", f"{_POOL}/members/{{member_id}}",
      READ, None, WRITE, list_rule=f"{READ} or rule:service")
_crud("healthmonitor", "health monitor", f"{_V2}/healthmonitors",
      f"{_V2}/healthmonitors/{{healthmonitor_id}}", READ, READ_GLOBAL, WRITE)
_crud("l7policy", "L7 policy", f"{_V2}/l7policies", f"{_V2}/l7policies/{{l7policy_id}}",
      READ, READ_GLOBAL, WRITE)
_crud("l7rule", "L7 rule", f"{_V2}/l7policies/{{l7policy_id}}/rules",
      f"{_V2}/l7policies/{{l7policy_id}}/rules/{{l7rule_id}}", READ, None, WRITE)
_crud("flavor", "flavor", f"{_V2}/flavors", f"{_V2}/flavors/{{flavor_id}}", READ, None, ADMIN)
_crud("flavor-profile", "flavor profile", f"{_V2}/flavorprofiles",
      f"{_V2}/flavorprofiles/{{flavor_profile_id}}", ADMIN, None, ADMIN)
_crud("availability-zone", "availability zone", f"{_V2}/availabilityzones",
      f"{_V2}/availabilityzones/{{availability_zone_name}}", READ, None, ADMIN)
_crud("availability-zone-profile", "availability zone profile", f"{_V2}/availabilityzoneprofiles",
      f"{_V2}/availabilityzoneprofiles/{{availability_zone_profile_id}}", ADMIN, None, ADMIN)
ENDPOINTS.extend([
    ("loadbalancer:get_stats", READ, "Show load balancer statistics", [("GET", f"{_LB}/stats")]),
    ("loadbalancer:get_status", READ, "Show load balancer status tree", [("GET", f"{_LB}/status")]),
    ("loadbalancer:put_failover", ADMIN, "Fail over a load balancer", [("PUT", f"{_LB}/failover")]),
    ("loadbalancer:post:vip_sg_ids", WRITE, "Create a load balancer with VIP security groups",
     [("POST", f"{_V2}/loadbalancers")]),
    ("loadbalancer:put:vip_sg_ids", WRITE, "Update the VIP security groups of a load balancer",
     [("PUT", _LB)]),
    ("listener:get_stats", READ, "Show listener statistics", [("GET", f"{_LISTENER}/stats")]),
    ("quota:get_all", READ_QUOTA, "List quotas", [("GET", f"{_V2}/quotas")]),
    ("quota:get_all-global", "rule:load-balancer:read-quota-global", "List quotas of all projects",
     [("GET", f"{_V2}/quotas")]),
    ("quota:get_one", READ_QUOTA, "Show a project's quotas", [("GET", f"{_V2}/quotas/{{project_id}}")]),
    ("quota:get_defaults", READ_QUOTA, "Show the default quotas",
     [("GET", f"{_V2}/quotas/{{project_id}}/default"), ("GET", f"{_V2}/quotas/defaults")]),
    ("quota:put", WRITE_QUOTA, "Set a project's quotas", [("PUT", f"{_V2}/quotas/{{project_id}}")]),
    ("quota:delete", WRITE_QUOTA, "Reset a project's quotas",
     [("DELETE", f"{_V2}/quotas/{{project_id}}")]),
    ("provider:get_all", READ, "List enabled providers", [("GET", f"{_V2}/providers")]),
    ("provider-flavor:get_all", ADMIN, "List a provider's flavor capabilities",
     [("GET", f"{_V2}/providers/{{provider}}/flavor_capabilities")]),
    ("provider-availability-zone:get_all", ADMIN, "List a provider's availability zone capabilities",
     [("GET", f"{_V2}/providers/{{provider}}/availability_zone_capabilities")]),
    ("amphora:get_all", ADMIN, "List amphorae", [("GET", "/v2/octavia/amphorae")]),
    ("amphora:get_one", ADMIN, "Show amphora details", [("GET", _AMP)]),
    ("amphora:get_stats", ADMIN, "Show amphora statistics", [("GET", f"{_AMP}/stats")]),
    ("amphora:put_config", ADMIN, "Update the agent configuration of an amphora",
     [("PUT", f"{_AMP}/config")]),
    ("amphora:put_failover", ADMIN, "Fail over an amphora", [("PUT", f"{_AMP}/failover")]),
    ("amphora:delete", ADMIN, "Delete an amphora", [("DELETE", _AMP)]),
])
ENDPOINT_RULES: dict[str, str] = {name: check for name, check, _, _ in ENDPOINTS}


def list_rules() -> list[policy.RuleDefault]:
    """Every default rule; also the `oslo.policy.policies` entry point (sample generator)."""
    rules: list[policy.RuleDefault] = []
    for name, check, legacy, description in _BLOCKS:
        deprecated = (
            policy.DeprecatedRule(name=name, check_str=legacy, deprecated_reason=_DEPRECATED_REASON,
                                  deprecated_since=_DEPRECATED_SINCE)
            if legacy else None
        )
        rules.append(policy.RuleDefault(name, check, description=description, deprecated_rule=deprecated))
    rules.extend(policy.RuleDefault(name, check, description=description)
                 for name, check, description in _API_RULES)
    for short, check, description, operations in ENDPOINTS:
        rules.append(policy.DocumentedRuleDefault(
            f"{PREFIX}:{short}", check, description,
            [{"method": method, "path": path} for method, path in operations],
            scope_types=["project"],
        ))
    return rules


_enforcer: policy.Enforcer | None = None
_enforcer_lock = threading.Lock()

# oslo.policy re-reads its files and walks the rule tree (with signature introspection) on
# every call: a few hundred microseconds, more than a whole show request. A decision
# depends only on the rule, the target and the credentials, all in the key, so decisions
# are reused; the memo is dropped every DECISION_TTL seconds, which is thus also how soon
# an edited policy_file takes effect.
DECISION_TTL = 1.0
_MAX_DECISIONS = 10000
_decisions: dict[tuple[Any, ...], bool] = {}
_decisions_since = 0.0


def get_enforcer() -> policy.Enforcer:
    """The process-wide enforcer; it reloads `policy_file` by itself when the file changes."""
    global _enforcer
    if _enforcer is None:
        with _enforcer_lock:
            if _enforcer is None:
                enforcer = policy.Enforcer(CONF)
                enforcer.register_defaults(list_rules())
                _enforcer = enforcer
    return _enforcer


def reset() -> None:
    """Forget the enforcer and its decisions, so changed [oslo_policy] options take effect."""
    global _enforcer
    _enforcer = None
    _decisions.clear()


def _decide(key: tuple[Any, ...], evaluate: Callable[[], Any]) -> bool:
    global _decisions_since
    now = time.monotonic()
    if now - _decisions_since > DECISION_TTL or len(_decisions) > _MAX_DECISIONS:
        _decisions.clear()
        _decisions_since = now
    decision = _decisions.get(key)
    if decision is None:
        decision = _decisions[key] = bool(evaluate())
    return decision


def _frozen(creds: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in creds.items()))


def is_admin(ctx: RequestContext) -> bool:
    """The `context_is_admin` rule (target: the credentials), which feeds `is_admin`."""
    creds = ctx.credentials()
    return _decide(("context_is_admin", _frozen(creds)),
                   lambda: get_enforcer().enforce("context_is_admin", creds, creds))


def check(ctx: RequestContext, action: str, project_id: str | None) -> bool:
    """True when `ctx` may perform `action` on an object owned by `project_id`.

    Without an owner the target is the caller's own project. A caller without a project
    never matches `project_id:%(project_id)s`, whatever the target.
    """
    rule = f"{PREFIX}:{action}"
    target = {"project_id": project_id if project_id is not None else ctx.project_id}
    creds = ctx.credentials()
    return _decide((rule, target["project_id"], _frozen(creds)),
                   lambda: get_enforcer().authorize(rule, target, creds, do_raise=False))


def authorize(ctx: RequestContext, action: str, project_id: str | None) -> None:
    """403 (`Policy does not allow this request to be performed.`) unless `check` passes."""
    if not check(ctx, action, project_id):
        raise exceptions.NotAuthorized()
