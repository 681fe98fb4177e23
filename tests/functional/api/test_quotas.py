"""Quotas API: records, effective values, defaults, set/reset, enforcement and RBAC."""

from __future__ import annotations

import time
import uuid

import pytest

from octavia.api import policy

QUOTAS = "/v2/lbaas/quotas"
ALL_KEYS = {"project_id", "tenant_id", "loadbalancer", "load_balancer", "listener", "pool", "member",
            "healthmonitor", "health_monitor", "l7policy", "l7rule"}


def _project() -> str:
    return uuid.uuid4().hex


def test_show_unknown_project_gives_defaults_with_both_spellings(api, overrides):
    overrides(group="quotas", default_load_balancer_quota=7, default_health_monitor_quota=3)
    project = _project()
    resp = api.get(f"{QUOTAS}/{project}")
    assert resp.status_code == 200
    quota = resp.json()["quota"]
    assert set(quota) == ALL_KEYS
    assert quota["project_id"] == quota["tenant_id"] == project
    assert quota["loadbalancer"] == quota["load_balancer"] == 7
    assert quota["healthmonitor"] == quota["health_monitor"] == 3
    assert quota["listener"] == -1
    # A read creates no record.
    assert api.get(QUOTAS).json()["quotas"] == []


def test_defaults_endpoints(api, overrides):
    overrides(group="quotas", default_listener_quota=11)
    resp = api.get(f"{QUOTAS}/defaults")
    assert resp.status_code == 200
    quota = resp.json()["quota"]
    assert quota["listener"] == 11 and quota["project_id"] == "defaults"
    project = _project()
    api.put(f"{QUOTAS}/{project}", json={"quota": {"listener": 2}})
    resp = api.get(f"{QUOTAS}/{project}/default")
    assert resp.status_code == 200
    assert resp.json()["quota"]["listener"] == 11
    assert resp.json()["quota"]["project_id"] == project
    assert api.get(f"/v2.0/lbaas/quotas/{project}").json()["quota"]["listener"] == 2


def test_put_is_202_with_body_and_partial(api):
    project = _project()
    resp = api.put(f"{QUOTAS}/{project}", json={"quota": {"load_balancer": 5, "listener": 0}})
    assert resp.status_code == 202
    quota = resp.json()["quota"]
    assert quota["loadbalancer"] == quota["load_balancer"] == 5
    assert quota["listener"] == 0 and quota["pool"] == -1
    resp = api.put(f"{QUOTAS}/{project}", json={"quota": {"pool": 9}})
    quota = resp.json()["quota"]
    assert (quota["load_balancer"], quota["listener"], quota["pool"]) == (5, 0, 9)


def test_put_null_resets_one_quota(api, overrides):
    overrides(group="quotas", default_member_quota=4)
    project = _project()
    api.put(f"{QUOTAS}/{project}", json={"quota": {"member": 100, "pool": 3}})
    resp = api.put(f"{QUOTAS}/{project}", json={"quota": {"member": None}})
    assert resp.json()["quota"]["member"] == 4
    assert resp.json()["quota"]["pool"] == 3
    record = api.get(QUOTAS, params={"project_id": project}).json()["quotas"][0]
    assert record["member"] is None and record["pool"] == 3


def test_non_deprecated_spelling_wins(api):
    project = _project()
    resp = api.put(f"{QUOTAS}/{project}", json={"quota": {
        "load_balancer": 1, "loadbalancer": 2, "healthmonitor": 3, "health_monitor": 4}})
    quota = resp.json()["quota"]
    assert quota["load_balancer"] == 2 and quota["health_monitor"] == 3


@pytest.mark.parametrize("value,reason", [
    (-2, "Value should be greater or equal to -1"),
    (2000000001, "Value should be lower or equal to 2000000000"),
    ("lots", "Value should be an integer"),
    (1.5, "Value should be an integer"),
])
def test_put_out_of_range_is_400(api, value, reason):
    resp = api.put(f"{QUOTAS}/{_project()}", json={"quota": {"pool": value}})
    assert resp.status_code == 400
    assert resp.json()["faultstring"] == (
        f"Invalid input for field/attribute pool. Value: '{value}'. {reason}")


def test_put_boundaries_and_numeric_strings(api):
    project = _project()
    resp = api.put(f"{QUOTAS}/{project}", json={"quota": {"pool": -1, "member": 2000000000, "l7rule": "12"}})
    assert resp.status_code == 202
    quota = resp.json()["quota"]
    assert (quota["pool"], quota["member"], quota["l7rule"]) == (-1, 2000000000, 12)


def test_put_unknown_key_and_missing_wrapper_are_400(api):
    resp = api.put(f"{QUOTAS}/{_project()}", json={"quota": {"pools": 1}})
    assert resp.status_code == 400
    assert "Unknown attribute for argument quota: pools" in resp.json()["faultstring"]
    resp = api.put(f"{QUOTAS}/{_project()}", json={"pool": 1})
    assert resp.status_code == 400


def test_put_project_id_too_long_is_400(api):
    resp = api.put(f"{QUOTAS}/{'p' * 37}", json={"quota": {"pool": 1}})
    assert resp.status_code == 400
    assert "maximum character requirement of 36" in resp.json()["faultstring"]


def test_delete_resets_and_keeps_record_404_without(api):
    project = _project()
    resp = api.delete(f"{QUOTAS}/{project}")
    assert resp.status_code == 404
    assert resp.json()["faultstring"] == f"Quotas {project} not found."
    api.put(f"{QUOTAS}/{project}", json={"quota": {"listener": 3, "l7policy": 1}})
    resp = api.delete(f"{QUOTAS}/{project}")
    assert resp.status_code == 202 and resp.content == b""
    assert api.get(f"{QUOTAS}/{project}").json()["quota"]["listener"] == -1
    (record,) = api.get(QUOTAS, params={"project_id": project}).json()["quotas"]
    assert record["listener"] is None and record["l7policy"] is None


def test_list_filter_sort_paginate_fields(api):
    projects = sorted(_project() for _ in range(3))
    for i, project in enumerate(projects):
        api.put(f"{QUOTAS}/{project}", json={"quota": {"pool": i}})
    body = api.get(QUOTAS, params={"limit": 2, "sort": "project_id:asc"}).json()
    assert [q["project_id"] for q in body["quotas"]] == projects[:2]
    assert body["quotas"][0]["load_balancer"] is None and body["quotas"][0]["pool"] == 0
    (link,) = body["quotas_links"]
    assert link["rel"] == "next"
    page2 = api.get(QUOTAS + "?" + link["href"].split("?", 1)[1]).json()
    assert [q["project_id"] for q in page2["quotas"]] == projects[2:]
    assert [q["project_id"] for q in
            api.get(QUOTAS, params={"sort": "pool:desc"}).json()["quotas"]] == projects[::-1]
    fields = api.get(QUOTAS, params={"fields": "pool", "project_id": projects[1]}).json()["quotas"]
    assert fields == [{"pool": 1}]
    assert api.get(QUOTAS, params={"bogus": "1"}).status_code == 400
    assert api.get(QUOTAS, params={"marker": "nope"}).status_code == 400


def _as(api, project, *roles):
    return {"X-Project-Id": project, "X-Roles": ",".join(roles)}


@pytest.fixture
def testing_auth(api, overrides):
    overrides(group="api_settings", auth_strategy="testing")
    policy.reset()
    yield
    policy.reset()


def test_rbac_reader_member_admin(api, testing_auth):
    own, other = _project(), _project()
    admin = _as(api, _project(), "admin")
    assert api.put(f"{QUOTAS}/{own}", json={"quota": {"pool": 1}}, headers=admin).status_code == 202
    assert api.put(f"{QUOTAS}/{other}", json={"quota": {"pool": 2}}, headers=admin).status_code == 202
    reader = _as(api, own, "reader")
    assert api.get(f"{QUOTAS}/{own}", headers=reader).status_code == 200
    assert api.get(f"{QUOTAS}/{own}/default", headers=reader).status_code == 200
    assert api.get(f"{QUOTAS}/defaults", headers=reader).status_code == 200
    assert api.get(f"{QUOTAS}/{other}", headers=reader).status_code == 403
    listed = api.get(QUOTAS, headers=reader).json()["quotas"]
    assert [q["project_id"] for q in listed] == [own]
    assert api.get(QUOTAS, params={"project_id": other}, headers=reader).status_code == 403
    member = _as(api, own, "member", "reader")
    resp = api.put(f"{QUOTAS}/{own}", json={"quota": {"pool": 5}}, headers=member)
    assert resp.status_code == 403
    assert resp.json()["faultstring"] == "Policy does not allow this request to be performed."
    assert api.delete(f"{QUOTAS}/{own}", headers=member).status_code == 403
    assert api.get(f"{QUOTAS}/defaults", headers=_as(api, own, "custom")).status_code == 403
    assert len(api.get(QUOTAS, headers=admin).json()["quotas"]) == 2
    assert api.delete(f"{QUOTAS}/{own}", headers=admin).status_code == 202


def test_enforcement_403_and_freed_on_delete(api, testing_auth):
    project = _project()
    admin = _as(api, _project(), "admin")
    api.put(f"{QUOTAS}/{project}", json={"quota": {"load_balancer": 1}}, headers=admin)
    member = _as(api, project, "member")
    body = {"loadbalancer": {"vip_subnet_id": str(uuid.uuid4())}}
    first = api.post("/v2/lbaas/loadbalancers", json=body, headers=member)
    assert first.status_code == 201, first.text
    second = api.post("/v2/lbaas/loadbalancers", json=body, headers=member)
    assert second.status_code == 403
    assert second.json()["faultstring"] == "Quota has been met for resources: Load Balancer"
    lb_id = first.json()["loadbalancer"]["id"]
    path = f"/v2/lbaas/loadbalancers/{lb_id}"
    _wait_status(api, path, member, "ACTIVE")
    assert api.delete(path, headers=member).status_code == 204
    _wait_status(api, path, member, "DELETED")
    assert api.post("/v2/lbaas/loadbalancers", json=body, headers=member).status_code == 201


def _wait_status(api, path, headers, status):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        resp = api.get(path, headers=headers)
        if status == "DELETED" and resp.status_code == 404:
            return
        if resp.status_code == 200 and resp.json()["loadbalancer"]["provisioning_status"] == status:
            return
        time.sleep(0.01)
    raise AssertionError(f"{path} never reached {status}")


def test_noauth_skips_quotas_and_creates_no_record(api):
    api.create_lb()
    assert api.get(QUOTAS).json()["quotas"] == []
    api.put(f"{QUOTAS}/{api.headers['X-Project-Id']}", json={"quota": {"load_balancer": 0}})
    api.create_lb()
