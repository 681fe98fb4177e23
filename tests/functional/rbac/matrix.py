"""The RBAC matrix as data: who the callers are, what each endpoint checks, who may pass.

Read together with rbac.md: PERSONAS are the callers of section 4 (plus the legacy
`load-balancer_*` roles and the odd cases of section 3), ALLOWED is section 2.3 and the
legacy-role table, ROWS is section 2.2 (one row per endpoint, with the rule it checks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# A write that passed policy and reached the lock of the PENDING_UPDATE load balancer
LOCKED = "is immutable and cannot be updated"  # child objects
LB_LOCKED = "Invalid state PENDING_UPDATE of loadbalancer"  # the load balancer itself
SG = "7f2c9a8e-3d41-4c8b-9a57-2b0e6f1d9c30"


@dataclass(frozen=True)
class Persona:
    project: str | None  # "owner" / "other" / "admin_project" (the world's projects) or a literal
    roles: str
    system_scope: bool = False


PERSONAS: dict[str, Persona] = {
    "admin": Persona("admin_project", "admin,member,reader"),  # Keystone implies member, reader
    "member": Persona("owner", "member,reader"),
    "reader": Persona("owner", "reader"),
    "other_member": Persona("other", "member,reader"),  # tempest's lb_member2 / os_primary
    "no_role": Persona("owner", ""),
    "custom_role": Persona("owner", "custom-role"),  # tempest's os_not_member
    "no_project": Persona(None, "member,reader"),
    "system_admin": Persona(None, "admin,member,reader", system_scope=True),
    "service": Persona("service-project", "service"),
    "lb_observer": Persona("owner", "load-balancer_observer"),
    "lb_global_observer": Persona("observers-project", "load-balancer_global_observer"),
    "lb_member": Persona("owner", "load-balancer_member"),
    "lb_quota_admin": Persona("quota-admins-project", "load-balancer_quota_admin"),
    "lb_admin": Persona("admin_project", "load-balancer_admin"),
}

# rbac.md 2.3, current defaults (enforce_new_defaults = True): only Keystone roles count.
_NEW: dict[str, set[str]] = {
    "read": {"admin", "member", "reader"},  # objects of the owner's LB tree
    "member_list": {"admin", "member", "reader", "service"},  # `read or rule:service`
    "write": {"admin", "member"},
    "admin": {"admin"},
    "own_read": {"admin", "member", "reader", "other_member"},  # target: the caller's project
    "create_own": {"admin", "member", "other_member"},  # LB create in the caller's project
    "quota_read": {"admin", "member", "reader"},
    "own_quota_read": {"admin", "member", "reader", "other_member"},
    "quota_write": {"admin"},
    "global": {"admin"},  # lists span every project
    "quota_global": {"admin"},
}
# The legacy-role table: with enforce_new_defaults = False each block is "new OR legacy".
_LEGACY_READERS = {"lb_observer", "lb_member", "lb_admin", "lb_global_observer"}
_LEGACY: dict[str, set[str]] = {
    "read": _NEW["read"] | _LEGACY_READERS,
    "member_list": _NEW["member_list"] | _LEGACY_READERS,
    "write": _NEW["write"] | {"lb_member", "lb_admin"},
    "admin": _NEW["admin"] | {"lb_admin"},
    "own_read": _NEW["own_read"] | _LEGACY_READERS,
    "create_own": _NEW["create_own"] | {"lb_member", "lb_admin"},
    "quota_read": _NEW["quota_read"] | _LEGACY_READERS | {"lb_quota_admin"},
    "own_quota_read": _NEW["own_quota_read"] | _LEGACY_READERS | {"lb_quota_admin"},
    "quota_write": _NEW["quota_write"] | {"lb_admin", "lb_quota_admin"},
    "global": _NEW["global"] | {"lb_admin", "lb_global_observer"},
    "quota_global": _NEW["quota_global"] | {"lb_admin", "lb_global_observer", "lb_quota_admin"},
}
ALLOWED = {"new": _NEW, "legacy": _LEGACY}
# Who may list at all (each sees its own project unless global); quotas: read-quota.
LIST_ACCESS = {"list": "own_read", "quota_list": "own_quota_read"}
GLOBAL_SET = {"list": "global", "quota_list": "quota_global"}


@dataclass(frozen=True)
class Row:
    """One endpoint: request, the rule(s) it checks, who may pass and what passing looks like.

    `ok`/`says`: the status (and a faultstring fragment) when policy lets the call through.
    Writes target the locked tree, so passing means reaching the lock (409) without change.
    `items`/`sample`: for filtered lists, the collection key and an owner object in it.
    """

    method: str
    path: str
    rules: tuple[str, ...]
    access: str
    ok: int = 200
    says: str = ""
    body: Any = None
    items: str = ""
    sample: str = ""
    no_project: tuple[int, str] | None = None  # answer to callers without a project, if not 403

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


V2, AMPS = "/v2/lbaas", "/v2/octavia/amphorae"
LB, LOCKED_LB = f"{V2}/loadbalancers/{{lb}}", f"{V2}/loadbalancers/{{locked_lb}}"
POOL_MEMBERS = f"{V2}/pools/{{pool}}/members"
LOCKED_MEMBERS = f"{V2}/pools/{{locked_pool}}/members"
RULES, LOCKED_RULES = f"{V2}/l7policies/{{l7policy}}/rules", f"{V2}/l7policies/{{locked_l7policy}}/rules"
BAD_FLAVOR = "0f3e1c55-8f0b-4b0e-9d1a-6c1e0c4b8f11"


def _lb_body(**extra: Any) -> dict[str, Any]:
    """Valid up to the flavor, which does not exist: passing policy gives that 400."""
    return {"loadbalancer": {"vip_subnet_id": "0c6f5e64-0d5e-4c1f-8e4a-3a7c2b1d9e01",
                             "flavor_id": BAD_FLAVOR, **extra}}


def _crud(res: str, path: str, key: str, create: dict[str, Any], update: dict[str, Any],
          placeholder: str) -> list[Row]:
    """List (filtered), create under the locked LB, show, update, delete (locked tree)."""
    return [
        Row("GET", path, (f"{res}:get_all", f"{res}:get_all-global"), "list", items=key,
            sample=f"{{{placeholder}}}"),
        Row("POST", path, (f"{res}:post",), "write", 409, LOCKED, body=create),
        Row("GET", f"{path}/{{{placeholder}}}", (f"{res}:get_one",), "read"),
        Row("PUT", f"{path}/{{locked_{placeholder}}}", (f"{res}:put",), "write", 409, LOCKED, body=update),
        Row("DELETE", f"{path}/{{locked_{placeholder}}}", (f"{res}:delete",), "write", 409, LOCKED),
    ]


def _admin_crud(res: str, path: str, read: str, item: str, create: dict[str, Any],
                create_status: int, create_says: str, update: dict[str, Any], missing: str) -> list[Row]:
    """Global objects: policy comes first, so passing then meets the object's own checks."""
    return [
        Row("GET", path, (f"{res}:get_all",), read),
        Row("GET", f"{path}/{item}", (f"{res}:get_one",), read),
        Row("POST", path, (f"{res}:post",), "admin", create_status, create_says, body=create),
        Row("PUT", f"{path}/{item}", (f"{res}:put",), "admin", 200, body=update),
        Row("DELETE", f"{path}/{missing}", (f"{res}:delete",), "admin", 404),
    ]


ROWS: list[Row] = [
    # Load balancers
    Row("GET", f"{V2}/loadbalancers", ("loadbalancer:get_all", "loadbalancer:get_all-global"), "list",
        items="loadbalancers", sample="{lb}"),
    Row("POST", f"{V2}/loadbalancers", ("loadbalancer:post",), "write", 400, "Invalid flavor_id",
        body=_lb_body(project_id="{owner}")),
    Row("POST", f"{V2}/loadbalancers", ("loadbalancer:post",), "create_own", 400, "Invalid flavor_id",
        body=_lb_body(), no_project=(400, "Missing project ID")),
    Row("POST", f"{V2}/loadbalancers", ("loadbalancer:post", "loadbalancer:post:vip_sg_ids"), "write",
        400, "Invalid flavor_id", body=_lb_body(project_id="{owner}", vip_sg_ids=[SG])),
    Row("GET", LB, ("loadbalancer:get_one",), "read"),
    Row("PUT", LOCKED_LB, ("loadbalancer:put",), "write", 409, LB_LOCKED,
        body={"loadbalancer": {"description": "rbac"}}),
    Row("PUT", LOCKED_LB, ("loadbalancer:put", "loadbalancer:put:vip_sg_ids"), "write", 409, LB_LOCKED,
        body={"loadbalancer": {"vip_sg_ids": [SG]}}),
    Row("DELETE", f"{LOCKED_LB}?cascade=true", ("loadbalancer:delete",), "write", 409, LB_LOCKED),
    Row("GET", f"{LB}/stats", ("loadbalancer:get_stats",), "read"),
    Row("GET", f"{LB}/status", ("loadbalancer:get_status",), "read"),
    Row("PUT", f"{LOCKED_LB}/failover", ("loadbalancer:put_failover",), "admin", 409, LB_LOCKED),
    # Listeners
    *_crud("listener", f"{V2}/listeners", "listeners",
           {"listener": {"loadbalancer_id": "{locked_lb}", "protocol": "HTTP", "protocol_port": 8080}},
           {"listener": {"description": "rbac"}}, "listener"),
    Row("GET", f"{V2}/listeners/{{listener}}/stats", ("listener:get_stats",), "read"),
    # Pools
    *_crud("pool", f"{V2}/pools", "pools",
           {"pool": {"loadbalancer_id": "{locked_lb}", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"}},
           {"pool": {"description": "rbac"}}, "pool"),
    # Members: listed through the pool, so not filtered but checked on the pool's project
    Row("GET", POOL_MEMBERS, ("member:get_all",), "member_list"),
    Row("POST", LOCKED_MEMBERS, ("member:post",), "write", 409, LOCKED,
        body={"member": {"address": "192.0.2.11", "protocol_port": 80}}),
    Row("PUT", LOCKED_MEMBERS, ("member:post", "member:put", "member:delete"), "write", 409, LOCKED,
        body={"members": [{"address": "192.0.2.10", "protocol_port": 80}]}),
    Row("PUT", f"{LOCKED_MEMBERS}?additive_only=true", ("member:post", "member:put"), "write", 409, LOCKED,
        body={"members": [{"address": "192.0.2.12", "protocol_port": 80}]}),
    Row("GET", f"{POOL_MEMBERS}/{{member}}", ("member:get_one",), "read"),
    Row("PUT", f"{LOCKED_MEMBERS}/{{locked_member}}", ("member:put",), "write", 409, LOCKED,
        body={"member": {"weight": 2}}),
    Row("DELETE", f"{LOCKED_MEMBERS}/{{locked_member}}", ("member:delete",), "write", 409, LOCKED),
    # Health monitors (created on the locked LB's pool that has none)
    *_crud("healthmonitor", f"{V2}/healthmonitors", "healthmonitors",
           {"healthmonitor": {"pool_id": "{locked_bare_pool}", "type": "HTTP", "delay": 5, "timeout": 3,
                              "max_retries": 3}},
           {"healthmonitor": {"delay": 6}}, "hm"),
    # L7 policies and rules (rules: listed through the policy, checked on its project)
    *_crud("l7policy", f"{V2}/l7policies", "l7policies",
           {"l7policy": {"listener_id": "{locked_listener}", "action": "REJECT"}},
           {"l7policy": {"name": "rbac"}}, "l7policy"),
    Row("GET", RULES, ("l7rule:get_all",), "read"),
    Row("POST", LOCKED_RULES, ("l7rule:post",), "write", 409, LOCKED,
        body={"rule": {"type": "PATH", "compare_type": "STARTS_WITH", "value": "/y"}}),
    Row("GET", f"{RULES}/{{l7rule}}", ("l7rule:get_one",), "read"),
    Row("PUT", f"{LOCKED_RULES}/{{locked_l7rule}}", ("l7rule:put",), "write", 409, LOCKED,
        body={"rule": {"value": "/z"}}),
    Row("DELETE", f"{LOCKED_RULES}/{{locked_l7rule}}", ("l7rule:delete",), "write", 409, LOCKED),
    # Quotas (the owner's record exists, so a reset is a 202 every time)
    Row("GET", f"{V2}/quotas", ("quota:get_all", "quota:get_all-global"), "quota_list", items="quotas",
        sample="{owner}"),
    Row("GET", f"{V2}/quotas/{{owner}}", ("quota:get_one",), "quota_read"),
    Row("GET", f"{V2}/quotas/{{owner}}/default", ("quota:get_defaults",), "quota_read"),
    Row("GET", f"{V2}/quotas/defaults", ("quota:get_defaults",), "own_quota_read"),
    Row("PUT", f"{V2}/quotas/{{owner}}", ("quota:put",), "quota_write", 202,
        body={"quota": {"listener": -1}}),
    Row("DELETE", f"{V2}/quotas/{{owner}}", ("quota:delete",), "quota_write", 202),
    # Providers
    Row("GET", f"{V2}/providers", ("provider:get_all",), "own_read"),
    Row("GET", f"{V2}/providers/noop_driver/flavor_capabilities", ("provider-flavor:get_all",), "admin"),
    Row("GET", f"{V2}/providers/noop_driver/availability_zone_capabilities",
        ("provider-availability-zone:get_all",), "admin"),
    # Flavors, flavor profiles, availability zones and their profiles
    *_admin_crud("flavor", f"{V2}/flavors", "own_read", "{flavor}",
                 {"flavor": {"name": "{flavor_name}", "flavor_profile_id": "{flavor_profile}"}}, 409, "",
                 {"flavor": {"description": "rbac"}}, "{missing}"),
    *_admin_crud("flavor-profile", f"{V2}/flavorprofiles", "admin", "{flavor_profile}",
                 {"flavorprofile": {"name": "x", "provider_name": "no-such-provider", "flavor_data": "{{}}"}},
                 400, "", {"flavorprofile": {"name": "rbac-flavor-profile"}}, "{missing}"),
    *_admin_crud("availability-zone", f"{V2}/availabilityzones", "own_read", "{az}",
                 {"availability_zone": {"name": "{az}", "availability_zone_profile_id": "{az_profile}"}},
                 409, "", {"availability_zone": {"description": "rbac"}}, "missing-az"),
    *_admin_crud("availability-zone-profile", f"{V2}/availabilityzoneprofiles", "admin", "{az_profile}",
                 {"availability_zone_profile": {"name": "x", "provider_name": "no-such-provider",
                                                "availability_zone_data": "{{}}"}},
                 400, "", {"availability_zone_profile": {"name": "rbac-az-profile"}}, "{missing}"),
    # Amphorae (the amphora belongs to the locked LB: failover meets the lock)
    Row("GET", AMPS, ("amphora:get_all",), "admin"),
    Row("GET", f"{AMPS}/{{amphora}}", ("amphora:get_one",), "admin"),
    Row("GET", f"{AMPS}/{{amphora}}/stats", ("amphora:get_stats",), "admin"),
    Row("PUT", f"{AMPS}/{{amphora}}/config", ("amphora:put_config",), "admin", 202),
    Row("PUT", f"{AMPS}/{{amphora}}/failover", ("amphora:put_failover",), "admin", 409, LOCKED),
    Row("DELETE", f"{AMPS}/{{amphora}}", ("amphora:delete",), "admin", 409, LOCKED),
]

LB_TREE_PREFIXES = tuple(f"{V2}/{c}" for c in ("loadbalancers/", "listeners/", "pools/",
                                                 "healthmonitors/", "l7policies/"))


def fill(value: Any, ids: dict[str, str]) -> Any:
    """Put the world's ids into a path or body template."""
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, ids) for v in value]
    return value
