"""noauth and testing strategies, header parsing, scopes and `[oslo_policy] policy_file`."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from octavia.api import policy
from octavia.common import config
from tests.functional.conftest import ApiClient

CONF = config.CONF
LBS, PROVIDERS, QUOTAS = "/v2/lbaas/loadbalancers", "/v2/lbaas/providers", "/v2/lbaas/quotas"
FORBIDDEN = {"faultcode": "Client", "faultstring": "Policy does not allow this request to be performed.",
             "debuginfo": None}


def _lb_body(**extra: Any) -> dict[str, Any]:
    return {"loadbalancer": {"vip_subnet_id": str(uuid.uuid4()), **extra}}


@pytest.fixture
def testing(api: ApiClient, overrides: Callable[..., None]) -> ApiClient:
    overrides(group="api_settings", auth_strategy="testing")
    api.headers = {}
    return api


@pytest.fixture
def policy_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "policy.yaml"
    path.write_text("{}\n")
    policy.get_enforcer()  # registers [oslo_policy]
    CONF.set_override("policy_file", str(path), group="oslo_policy")
    policy.reset()
    yield path
    CONF.clear_override("policy_file", group="oslo_policy")
    policy.reset()


# noauth ---------------------------------------------------------------------------------


def test_noauth_every_caller_is_admin_across_projects(api: ApiClient) -> None:
    api.headers = {}
    a = api.create_lb(project_id="project-a")
    b = api.create_lb(project_id="project-b")
    listed = {lb["id"] for lb in api.get(LBS).json()["loadbalancers"]}
    assert {a["id"], b["id"]} <= listed
    only_a = api.get(f"{LBS}?project_id=project-a").json()["loadbalancers"]
    assert [lb["id"] for lb in only_a] == [a["id"]]
    for admin_only in ("/v2/octavia/amphorae", "/v2/lbaas/flavorprofiles", QUOTAS):
        assert api.get(admin_only).status_code == 200, admin_only


def test_noauth_project_from_header_or_body(api: ApiClient) -> None:
    api.headers = {}
    resp = api.post(LBS, json=_lb_body())
    assert resp.status_code == 400
    assert resp.json()["faultstring"] == "Missing project ID in request where one is required."
    from_header = api.post(LBS, json=_lb_body(), headers={"X-Project-Id": "hdr-project"})
    assert from_header.status_code == 201
    assert from_header.json()["loadbalancer"]["project_id"] == "hdr-project"
    from_body = api.post(LBS, json=_lb_body(project_id="body-project"), headers={"X-Project-Id": "hdr"})
    assert from_body.json()["loadbalancer"]["project_id"] == "body-project"


def test_noauth_skips_quotas(api: ApiClient) -> None:
    """A limit of 0 does not stop noauth creates, and creating records no quota row."""
    api.headers = {}
    assert api.put(f"{QUOTAS}/capped", json={"quota": {"loadbalancer": 0}}).status_code == 202
    assert api.post(LBS, json=_lb_body(project_id="capped")).status_code == 201
    assert api.post(LBS, json=_lb_body(project_id="fresh")).status_code == 201
    recorded = {q["project_id"] for q in api.get(QUOTAS).json()["quotas"]}
    assert recorded == {"capped"}


def test_quotas_enforced_under_testing(testing: ApiClient) -> None:
    admin = {"X-Project-Id": "ops", "X-Roles": "admin"}
    member = {"X-Project-Id": "capped", "X-Roles": "member,reader"}
    capped = testing.put(f"{QUOTAS}/capped", json={"quota": {"loadbalancer": 0}}, headers=admin)
    assert capped.status_code == 202
    resp = testing.post(LBS, json=_lb_body(), headers=member)
    assert resp.status_code == 403
    assert resp.json()["faultstring"] == "Quota has been met for resources: Load Balancer"


def test_noauth_still_evaluates_policy_file(api: ApiClient, policy_file: Path) -> None:
    """noauth makes `is_admin:True` pass; a deployer's override still applies, as upstream."""
    api.headers = {}
    assert api.get(PROVIDERS).status_code == 200
    policy_file.write_text('"os_load-balancer_api:provider:get_all": "!"\n')
    policy.reset()
    resp = api.get(PROVIDERS)
    assert resp.status_code == 403 and resp.json() == FORBIDDEN


# testing: identity from the headers ------------------------------------------------------


@pytest.mark.parametrize("headers", [
    {"X-Project-Id": "p1", "X-Roles": "reader"},
    {"X-Tenant-Id": "p1", "X-Roles": "reader"},
    {"X-Tenant": "p1", "X-Role": "reader"},
    {"X-Project-Id": "p1", "X-Roles": " custom , reader "},
    {"X-Project-Id": "p1", "X-Roles": "READER"},
], ids=["project-id", "tenant-id", "tenant+role", "spaces", "case"])
def test_testing_reads_oslo_context_headers(testing: ApiClient, headers: dict[str, str]) -> None:
    assert testing.get(PROVIDERS, headers=headers).status_code == 200


@pytest.mark.parametrize("headers", [
    {"X-Roles": "reader"},
    {"X-Project-Id": "p1"},
    {"X-Project-Id": "p1", "X-Roles": "custom"},
    {"X-Project-Id": "p1", "X-Roles": "reader", "OpenStack-System-Scope": "all"},
    {"X-Roles": "admin", "OpenStack-System-Scope": "all"},
    {"X-Domain-Id": "default", "X-Roles": "admin"},
    {},
], ids=["no-project", "no-roles", "custom-role", "system-scope", "system-admin", "domain-scope", "nothing"])
def test_testing_refuses_without_a_project_role_or_with_other_scopes(
        testing: ApiClient, headers: dict[str, str]) -> None:
    resp = testing.get(PROVIDERS, headers=headers)
    assert resp.status_code == 403 and resp.json() == FORBIDDEN


def test_testing_admin_comes_from_roles_only(testing: ApiClient) -> None:
    admin = {"X-Project-Id": "p", "X-Roles": "admin"}
    assert testing.get("/v2/octavia/amphorae", headers=admin).status_code == 200
    member = {"X-Project-Id": "p", "X-Roles": "member,reader", "X-Is-Admin-Project": "True"}
    assert testing.get("/v2/octavia/amphorae", headers=member).status_code == 403


def test_testing_list_needs_a_project(testing: ApiClient) -> None:
    resp = testing.get(LBS, headers={"X-Roles": "member,reader"})
    assert resp.status_code == 403 and resp.json() == FORBIDDEN


def test_child_create_ignores_project_id_in_body(testing: ApiClient) -> None:
    """rbac.md 3: a child always takes its load balancer's project."""
    member = {"X-Project-Id": "owner-p", "X-Roles": "member,reader"}
    lb = testing.post(LBS, json=_lb_body(), headers=member).json()["loadbalancer"]
    testing.headers = member
    testing.wait_lb(lb["id"])
    resp = testing.post("/v2/lbaas/listeners", json={"listener": {
        "loadbalancer_id": lb["id"], "protocol": "HTTP", "protocol_port": 80, "project_id": "someone-else"}})
    assert resp.status_code == 201, resp.text
    assert resp.json()["listener"]["project_id"] == "owner-p"


def test_lb_create_for_another_project_needs_admin(testing: ApiClient) -> None:
    member = {"X-Project-Id": "p1", "X-Roles": "member,reader"}
    resp = testing.post(LBS, json=_lb_body(project_id="p2"), headers=member)
    assert resp.status_code == 403 and resp.json() == FORBIDDEN
    admin = {"X-Project-Id": "ops", "X-Roles": "admin"}
    created = testing.post(LBS, json=_lb_body(project_id="p2"), headers=admin)
    assert created.status_code == 201 and created.json()["loadbalancer"]["project_id"] == "p2"


# [oslo_policy] policy_file ---------------------------------------------------------------


def test_policy_file_overrides_one_rule(testing: ApiClient, policy_file: Path) -> None:
    reader = {"X-Project-Id": "p1", "X-Roles": "reader"}
    auditor = {"X-Project-Id": "p1", "X-Roles": "auditor"}
    assert testing.get(PROVIDERS, headers=reader).status_code == 200
    assert testing.get(PROVIDERS, headers=auditor).status_code == 403
    policy_file.write_text('"os_load-balancer_api:provider:get_all": "role:auditor"\n')
    policy.reset()
    assert testing.get(PROVIDERS, headers=reader).status_code == 403
    assert testing.get(PROVIDERS, headers=auditor).status_code == 200
    assert testing.get("/v2/lbaas/flavors", headers=reader).status_code == 200  # others untouched


def test_policy_file_edits_are_picked_up_while_running(testing: ApiClient, policy_file: Path) -> None:
    """No restart: decisions are reused for at most policy.DECISION_TTL, then re-read."""
    auditor = {"X-Project-Id": "p1", "X-Roles": "auditor"}
    assert testing.get(PROVIDERS, headers=auditor).status_code == 403
    policy_file.write_text('"os_load-balancer_api:provider:get_all": "role:auditor"\n')
    stat = policy_file.stat()
    os.utime(policy_file, (stat.st_atime + 5, stat.st_mtime + 5))
    deadline = time.monotonic() + policy.DECISION_TTL + 2
    while testing.get(PROVIDERS, headers=auditor).status_code != 200:
        assert time.monotonic() < deadline, "policy file edit never took effect"
        time.sleep(0.05)


def test_policy_file_overrides_a_building_block(testing: ApiClient, policy_file: Path) -> None:
    """Redefining `load-balancer:global_observer` gives a custom role the all-projects view."""
    admin = {"X-Project-Id": "ops", "X-Roles": "admin"}
    lb = testing.post(LBS, json=_lb_body(project_id="p1"), headers=admin).json()["loadbalancer"]
    auditor = {"X-Project-Id": "audit", "X-Roles": "auditor"}
    assert testing.get(LBS, headers=auditor).status_code == 403
    policy_file.write_text('"load-balancer:global_observer": "role:auditor"\n')
    policy.reset()
    listed = testing.get(LBS, headers=auditor)
    assert listed.status_code == 200 and lb["id"] in {x["id"] for x in listed.json()["loadbalancers"]}
    resp = testing.put(f"{LBS}/{lb['id']}", json={"loadbalancer": {"name": "x"}}, headers=auditor)
    assert resp.status_code == 403


def test_legacy_roles_need_enforce_new_defaults_off(testing: ApiClient) -> None:
    legacy = {"X-Project-Id": "p1", "X-Roles": "load-balancer_member"}
    assert testing.get(LBS, headers=legacy).status_code == 403
    policy.get_enforcer()
    CONF.set_override("enforce_new_defaults", False, group="oslo_policy")
    policy.reset()
    try:
        assert testing.get(LBS, headers=legacy).status_code == 200
        assert testing.post(LBS, json=_lb_body(), headers=legacy).status_code == 201
    finally:
        CONF.clear_override("enforce_new_defaults", group="oslo_policy")
        policy.reset()
