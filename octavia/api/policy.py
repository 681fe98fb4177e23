"""oslo.policy enforcement with upstream Octavia's default rules.

Building blocks carry their legacy `load-balancer_*` form as a deprecated rule, so
with `[oslo_policy] enforce_new_defaults = False` both role sets work, as upstream.
"""

from __future__ import annotations

import threading

from oslo_config import cfg
from oslo_policy import policy

from octavia.api.context import RequestContext
from octavia.common import exceptions
from octavia.common.config import CONF

PREFIX = "os_load-balancer_api"
_DEPRECATED_REASON = "Octavia now uses Keystone's default roles (admin, member, reader)."

_BLOCKS: list[tuple[str, str, str | None]] = [
    ("context_is_admin", "role:admin", "role:admin or role:load-balancer_admin"),
    ("load-balancer:owner", "project_id:%(project_id)s", None),
    ("project-member", "role:member and project_id:%(project_id)s", None),
    ("project-reader", "role:reader and project_id:%(project_id)s", None),
    ("service", "role:service", None),
    ("load-balancer:admin", "is_admin:True or role:admin",
     "is_admin:True or role:admin or role:load-balancer_admin"),
    ("load-balancer:global_observer", "role:admin", "role:load-balancer_global_observer"),
    ("load-balancer:member_and_owner", "rule:project-member",
     "role:load-balancer_member and rule:load-balancer:owner"),
    ("load-balancer:observer_and_owner", "rule:project-reader",
     "role:load-balancer_observer and rule:load-balancer:owner"),
    ("load-balancer:quota-admin", "role:admin", "role:load-balancer_quota_admin"),
]

_API_RULES: list[tuple[str, str]] = [
    ("load-balancer:read",
     "rule:load-balancer:observer_and_owner or rule:load-balancer:global_observer or "
     "rule:load-balancer:member_and_owner or rule:load-balancer:admin"),
    ("load-balancer:read-global", "rule:load-balancer:global_observer or rule:load-balancer:admin"),
    ("load-balancer:write", "rule:load-balancer:member_and_owner or rule:load-balancer:admin"),
    ("load-balancer:read-quota",
     "rule:load-balancer:observer_and_owner or rule:load-balancer:global_observer or "
     "rule:load-balancer:member_and_owner or rule:load-balancer:quota-admin or "
     "rule:load-balancer:admin"),
    ("load-balancer:read-quota-global",
     "rule:load-balancer:global_observer or rule:load-balancer:quota-admin or "
     "rule:load-balancer:admin"),
    ("load-balancer:write-quota", "rule:load-balancer:quota-admin or rule:load-balancer:admin"),
]

READ, READ_GLOBAL, WRITE = "rule:load-balancer:read", "rule:load-balancer:read-global", "rule:load-balancer:write"
ADMIN = "rule:load-balancer:admin"

_LB_TREE = {"get_all": READ, "get_all-global": READ_GLOBAL, "post": WRITE, "get_one": READ,
            "put": WRITE, "delete": WRITE}

ENDPOINT_RULES: dict[str, str] = {}
for _res in ("loadbalancer", "listener", "pool", "healthmonitor", "l7policy"):
    for _action, _rule in _LB_TREE.items():
        ENDPOINT_RULES[f"{_res}:{_action}"] = _rule
ENDPOINT_RULES.update({
    "loadbalancer:get_stats": READ,
    "loadbalancer:get_status": READ,
    "loadbalancer:put_failover": ADMIN,
    "loadbalancer:post:vip_sg_ids": WRITE,
    "loadbalancer:put:vip_sg_ids": WRITE,
    "listener:get_stats": READ,
    "member:get_all": f"{READ} or rule:service",
    "member:post": WRITE, "member:get_one": READ, "member:put": WRITE, "member:delete": WRITE,
    "l7rule:get_all": READ, "l7rule:post": WRITE, "l7rule:get_one": READ,
    "l7rule:put": WRITE, "l7rule:delete": WRITE,
    "quota:get_all": "rule:load-balancer:read-quota",
    "quota:get_all-global": "rule:load-balancer:read-quota-global",
    "quota:get_one": "rule:load-balancer:read-quota",
    "quota:get_defaults": "rule:load-balancer:read-quota",
    "quota:put": "rule:load-balancer:write-quota",
    "quota:delete": "rule:load-balancer:write-quota",
    "provider:get_all": READ,
    "provider-flavor:get_all": ADMIN,
    "provider-availability-zone:get_all": ADMIN,
    "flavor:get_all": READ, "flavor:get_one": READ,
    "flavor:post": ADMIN, "flavor:put": ADMIN, "flavor:delete": ADMIN,
    "flavor-profile:get_all": ADMIN, "flavor-profile:get_one": ADMIN,
    "flavor-profile:post": ADMIN, "flavor-profile:put": ADMIN, "flavor-profile:delete": ADMIN,
    "availability-zone:get_all": READ, "availability-zone:get_one": READ,
    "availability-zone:post": ADMIN, "availability-zone:put": ADMIN,
    "availability-zone:delete": ADMIN,
    "availability-zone-profile:get_all": ADMIN, "availability-zone-profile:get_one": ADMIN,
    "availability-zone-profile:post": ADMIN, "availability-zone-profile:put": ADMIN,
    "availability-zone-profile:delete": ADMIN,
    "amphora:get_all": ADMIN, "amphora:get_one": ADMIN, "amphora:get_stats": ADMIN,
    "amphora:put_config": ADMIN, "amphora:put_failover": ADMIN, "amphora:delete": ADMIN,
})


def list_rules() -> list[policy.RuleDefault]:
    """Every default rule; also the `oslo.policy.policies` entry point."""
    rules: list[policy.RuleDefault] = []
    for name, check, legacy in _BLOCKS:
        deprecated = (
            policy.DeprecatedRule(name=name, check_str=legacy, deprecated_reason=_DEPRECATED_REASON,
                                  deprecated_since="2023.2")
            if legacy else None
        )
        rules.append(policy.RuleDefault(name, check, deprecated_rule=deprecated))
    rules.extend(policy.RuleDefault(name, check) for name, check in _API_RULES)
    for short, check in ENDPOINT_RULES.items():
        rules.append(policy.RuleDefault(f"{PREFIX}:{short}", check, scope_types=["project"]))
    return rules


_enforcer: policy.Enforcer | None = None
_enforcer_lock = threading.Lock()


def get_enforcer() -> policy.Enforcer:
    global _enforcer
    if _enforcer is None:
        with _enforcer_lock:
            if _enforcer is None:
                enforcer = policy.Enforcer(CONF)
                enforcer.register_defaults(list_rules())
                _enforcer = enforcer
    return _enforcer


def reset() -> None:
    global _enforcer
    _enforcer = None


def register_opts(conf: cfg.ConfigOpts) -> None:
    policy.Enforcer(conf)  # registers [oslo_policy] options


def check(ctx: RequestContext, action: str, project_id: str | None) -> bool:
    """True when `ctx` may perform `action` on an object owned by `project_id`."""
    if ctx.system_scope:
        return False
    if ctx.auth_strategy == "noauth":
        return True
    target = {"project_id": project_id if project_id is not None else ctx.project_id}
    return bool(get_enforcer().enforce(f"{PREFIX}:{action}", target, ctx.credentials()))


def authorize(ctx: RequestContext, action: str, project_id: str | None) -> None:
    if not check(ctx, action, project_id):
        raise exceptions.NotAuthorized()
