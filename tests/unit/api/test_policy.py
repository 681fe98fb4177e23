"""Policy defaults exactly as rbac.md section 2, decisions without HTTP, header parsing."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from oslo_policy import policy as oslo_policy

from octavia.api import policy
from octavia.api.context import RequestContext, from_headers
from octavia.common import config

CONF = config.CONF
SAMPLE = Path(__file__).resolve().parents[3] / "etc" / "policy.yaml.sample"

# rbac.md 2.1: name -> (current default, deprecated legacy form)
BLOCKS = {
    "context_is_admin": ("role:admin", "role:admin or role:load-balancer_admin"),
    "load-balancer:owner": ("project_id:%(project_id)s", None),
    "project-member": ("role:member and project_id:%(project_id)s", None),
    "project-reader": ("role:reader and project_id:%(project_id)s", None),
    "service": ("role:service", None),
    "load-balancer:admin": ("is_admin:True or role:admin",
                            "is_admin:True or role:admin or role:load-balancer_admin"),
    "load-balancer:global_observer": ("role:admin", "role:load-balancer_global_observer"),
    "load-balancer:member_and_owner": ("rule:project-member",
                                       "role:load-balancer_member and rule:load-balancer:owner"),
    "load-balancer:observer_and_owner": ("rule:project-reader",
                                         "role:load-balancer_observer and rule:load-balancer:owner"),
    "load-balancer:quota-admin": ("role:admin", "role:load-balancer_quota_admin"),
}
API_RULES = {
    "load-balancer:read": "rule:load-balancer:observer_and_owner or rule:load-balancer:global_observer or "
                          "rule:load-balancer:member_and_owner or rule:load-balancer:admin",
    "load-balancer:read-global": "rule:load-balancer:global_observer or rule:load-balancer:admin",
    "load-balancer:write": "rule:load-balancer:member_and_owner or rule:load-balancer:admin",
    "load-balancer:read-quota": "rule:load-balancer:observer_and_owner or "
                                "rule:load-balancer:global_observer or "
                                "rule:load-balancer:member_and_owner or "
                                "rule:load-balancer:quota-admin or rule:load-balancer:admin",
    "load-balancer:read-quota-global": "rule:load-balancer:global_observer or "
                                       "rule:load-balancer:quota-admin or rule:load-balancer:admin",
    "load-balancer:write-quota": "rule:load-balancer:quota-admin or rule:load-balancer:admin",
}
R, RG, W, A = "read", "read-global", "write", "admin"
LB_TREE = {"get_all": R, "get_all-global": RG, "post": W, "get_one": R, "put": W, "delete": W}
# rbac.md 2.2: endpoint rule -> API-level rule
ENDPOINTS: dict[str, str] = {
    **{f"{res}:{a}": r for res in ("loadbalancer", "listener", "pool", "healthmonitor", "l7policy")
       for a, r in LB_TREE.items()},
    "loadbalancer:get_stats": R, "loadbalancer:get_status": R, "loadbalancer:put_failover": A,
    "loadbalancer:post:vip_sg_ids": W, "loadbalancer:put:vip_sg_ids": W, "listener:get_stats": R,
    "member:get_all": "read or rule:service",
    **{f"member:{a}": r for a, r in (("post", W), ("get_one", R), ("put", W), ("delete", W))},
    **{f"l7rule:{a}": r for a, r in (("get_all", R), ("post", W), ("get_one", R), ("put", W), ("delete", W))},
    "quota:get_all": "read-quota", "quota:get_all-global": "read-quota-global",
    "quota:get_one": "read-quota", "quota:get_defaults": "read-quota",
    "quota:put": "write-quota", "quota:delete": "write-quota",
    "provider:get_all": R, "provider-flavor:get_all": A, "provider-availability-zone:get_all": A,
    "flavor:get_all": R, "flavor:get_one": R, "flavor:post": A, "flavor:put": A, "flavor:delete": A,
    **{f"{res}:{a}": A for res in ("flavor-profile", "availability-zone-profile")
       for a in ("get_all", "get_one", "post", "put", "delete")},
    "availability-zone:get_all": R, "availability-zone:get_one": R,
    **{f"availability-zone:{a}": A for a in ("post", "put", "delete")},
    **{f"amphora:{a}": A
       for a in ("get_all", "get_one", "get_stats", "put_config", "put_failover", "delete")},
}


def _rules() -> dict[str, oslo_policy.RuleDefault]:
    return {r.name: r for r in policy.list_rules()}


@pytest.fixture
def legacy() -> Iterator[None]:
    policy.get_enforcer()
    CONF.set_override("enforce_new_defaults", False, group="oslo_policy")
    policy.reset()
    yield
    CONF.clear_override("enforce_new_defaults", group="oslo_policy")
    policy.reset()


@pytest.fixture(autouse=True)
def fresh_enforcer() -> Iterator[None]:
    policy.reset()
    yield
    policy.reset()


def test_building_blocks_and_their_legacy_forms() -> None:
    rules = _rules()
    for name, (current, legacy_form) in BLOCKS.items():
        assert rules[name].check_str == current, name
        deprecated = rules[name].deprecated_rule
        assert (deprecated.check_str if deprecated else None) == legacy_form, name


def test_api_level_rules() -> None:
    rules = _rules()
    assert {n: rules[n].check_str for n in API_RULES} == API_RULES


def test_every_endpoint_rule_and_nothing_else() -> None:
    rules = _rules()
    endpoint_rules = {n.removeprefix("os_load-balancer_api:"): r for n, r in rules.items()
                      if n.startswith("os_load-balancer_api:")}
    assert set(endpoint_rules) == set(ENDPOINTS)
    for name, expected in ENDPOINTS.items():
        assert endpoint_rules[name].check_str == f"rule:load-balancer:{expected}", name
        assert endpoint_rules[name].scope_types == ["project"], name
    assert set(rules) == set(BLOCKS) | set(API_RULES) | {f"os_load-balancer_api:{n}" for n in ENDPOINTS}


def ctx(project: str | None = "p1", roles: str = "", **extra: str) -> RequestContext:
    headers = {"x-roles": roles, **extra}
    if project is not None:
        headers["x-project-id"] = project
    c = from_headers(headers, "testing", "req-1")
    c.is_admin = policy.is_admin(c)
    return c


@pytest.mark.parametrize(("caller", "action", "owner", "allowed"), [
    (dict(roles="reader"), "loadbalancer:get_one", "p1", True),
    (dict(roles="reader"), "loadbalancer:get_one", "p2", False),
    (dict(roles="reader"), "loadbalancer:put", "p1", False),
    (dict(roles="member"), "loadbalancer:put", "p1", True),
    (dict(roles="member"), "loadbalancer:put", "p2", False),
    (dict(roles="admin"), "loadbalancer:put", "p2", True),
    (dict(roles="admin"), "loadbalancer:get_all-global", None, True),
    (dict(roles="member"), "loadbalancer:get_all-global", None, False),
    (dict(roles="service"), "member:get_all", "p2", True),
    (dict(roles="service"), "member:get_one", "p2", False),
    (dict(roles="load-balancer_member"), "loadbalancer:get_one", "p1", False),
    (dict(roles="load-balancer_admin"), "amphora:get_all", None, False),
    (dict(project=None, roles="reader"), "provider:get_all", None, False),
    (dict(project=None, roles="admin", **{"openstack-system-scope": "all"}), "amphora:get_all", None, False),
    (dict(project=None, roles="admin", **{"x-domain-id": "default"}), "amphora:get_all", None, False),
], ids=repr)
def test_current_defaults(caller: dict[str, str], action: str, owner: str | None, allowed: bool) -> None:
    assert policy.check(ctx(**caller), action, owner) is allowed


@pytest.mark.parametrize(("roles", "action", "owner", "allowed"), [
    ("load-balancer_observer", "loadbalancer:get_one", "p1", True),
    ("load-balancer_observer", "loadbalancer:get_one", "p2", False),
    ("load-balancer_observer", "loadbalancer:put", "p1", False),
    ("load-balancer_member", "loadbalancer:put", "p1", True),
    ("load-balancer_member", "loadbalancer:put", "p2", False),
    ("load-balancer_global_observer", "loadbalancer:get_one", "p2", True),
    ("load-balancer_global_observer", "loadbalancer:put", "p1", False),
    ("load-balancer_quota_admin", "quota:put", "p2", True),
    ("load-balancer_quota_admin", "loadbalancer:get_one", "p1", False),
    ("load-balancer_admin", "amphora:get_all", None, True),
    ("member", "loadbalancer:put", "p1", True),  # the new defaults still apply
], ids=repr)
def test_legacy_roles_when_new_defaults_are_off(legacy: None, roles: str, action: str, owner: str | None,
                                                allowed: bool) -> None:
    assert policy.check(ctx(roles=roles), action, owner) is allowed


def test_is_admin_follows_context_is_admin() -> None:
    assert ctx(roles="admin").is_admin
    assert not ctx(roles="member,reader").is_admin
    assert not ctx(roles="load-balancer_admin").is_admin


def test_legacy_admin_role_is_admin_only_with_new_defaults_off(legacy: None) -> None:
    assert ctx(roles="load-balancer_admin").is_admin


def test_unknown_rule_is_an_error_not_a_silent_403() -> None:
    with pytest.raises(oslo_policy.PolicyNotRegistered):
        policy.check(ctx(roles="admin"), "loadbalancer:no_such_action", "p1")


def test_header_aliases_and_credentials() -> None:
    c = from_headers({"x-tenant": "t1", "x-role": "reader, member ", "x-user": "u1",
                      "x-service-roles": "service"}, "testing", "req")
    assert (c.project_id, c.roles, c.user_id, c.service_roles) == ("t1", ["reader", "member"], "u1",
                                                                   ["service"])
    creds = from_headers({}, "testing", "req").credentials()
    assert "project_id" not in creds and "system_scope" not in creds and "user_id" not in creds


def test_noauth_is_not_decided_by_headers() -> None:
    """from_headers leaves is_admin to the auth layer (noauth: always admin)."""
    assert from_headers({"x-roles": "admin"}, "noauth", "req").is_admin is False


def test_sample_file_is_current(tmp_path: Path) -> None:
    """etc/policy.yaml.sample is what `oslopolicy-sample-generator --namespace octavia` writes."""
    out = tmp_path / "policy.yaml.sample"
    tool = Path(sys.executable).parent / "oslopolicy-sample-generator"
    subprocess.run([str(tool), "--namespace", "octavia", "--output-file", str(out)], check=True, timeout=60)
    assert SAMPLE.read_text() == out.read_text(), "regenerate etc/policy.yaml.sample"
