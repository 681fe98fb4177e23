"""Health monitor API against a real database and the noop provider."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from octavia.api import policy
from tests.functional.api.test_members import add_member, make_pool, members_url, status_of

HMS = "/v2/lbaas/healthmonitors"


def hm_body(pool: dict, **fields: Any) -> dict[str, Any]:
    return {
        "healthmonitor": {
            "pool_id": pool["id"],
            "type": "HTTP",
            "delay": 5,
            "timeout": 3,
            "max_retries": 2,
            **fields,
        }
    }


def add_hm(api: Any, lb: dict, pool: dict, **fields: Any) -> dict:
    resp = api.post(HMS, json=hm_body(pool, **fields))
    assert resp.status_code == 201, resp.text
    hm = resp.json()["healthmonitor"]
    api.wait_lb(lb["id"])
    return api.wait_for(f"{HMS}/{hm['id']}", "healthmonitor")


def assert_untouched(api: Any, lb: dict, pool: dict) -> None:
    assert status_of(api, f"/v2/lbaas/loadbalancers/{lb['id']}", "loadbalancer") == "ACTIVE"
    assert status_of(api, f"/v2/lbaas/pools/{pool['id']}", "pool") == "ACTIVE"


@pytest.fixture
def tree(api: Any) -> tuple[dict, dict, dict]:
    return make_pool(api)


def test_create_http_defaults_and_become_active(api, tree):
    lb, _, pool = tree
    resp = api.post(HMS, json=hm_body(pool, name="hm", tags=["a"], project_id="ignored"))
    assert resp.status_code == 201, resp.text
    hm = resp.json()["healthmonitor"]
    assert hm["provisioning_status"] == "PENDING_CREATE" and hm["operating_status"] == "OFFLINE"
    assert (hm["http_method"], hm["url_path"], hm["expected_codes"]) == ("GET", "/", "200")
    assert hm["max_retries_down"] == 3 and hm["http_version"] is None and hm["domain_name"] is None
    assert hm["pools"] == [{"id": pool["id"]}] and "pool_id" not in hm
    assert hm["project_id"] == hm["tenant_id"] == lb["project_id"] and hm["tags"] == ["a"]
    active = api.wait_for(f"{HMS}/{hm['id']}", "healthmonitor")
    assert active["operating_status"] == "ONLINE" and active["updated_at"] is not None
    api.wait_lb(lb["id"])
    assert api.get(f"/v2/lbaas/pools/{pool['id']}").json()["pool"]["healthmonitor_id"] == hm["id"]
    assert api.get(f"/v2.0/lbaas/healthmonitors/{hm['id']}").json()["healthmonitor"]["name"] == "hm"


def test_create_coerces_strings_and_keeps_http_fields_null_for_tcp(api, tree):
    lb, _, pool = tree
    hm = add_hm(api, lb, pool, type="TCP", delay="10", max_retries="3", admin_state_up=False)
    assert (hm["delay"], hm["max_retries"]) == (10, 3)
    assert hm["http_method"] is None and hm["url_path"] is None and hm["expected_codes"] is None
    assert hm["operating_status"] == "OFFLINE"
    # timeout < delay is documented upstream but not enforced.
    resp = api.put(f"{HMS}/{hm['id']}", json={"healthmonitor": {"timeout": 60}})
    assert resp.status_code == 200 and resp.json()["healthmonitor"]["timeout"] == 60


def test_create_http_version_and_domain(api, tree):
    lb, _, pool = tree
    hm = add_hm(
        api,
        lb,
        pool,
        type="HTTPS",
        http_version="1.1",
        domain_name="www.example.com",
        http_method="HEAD",
        url_path="/health?x=1",
        expected_codes="200-204",
    )
    assert hm["http_version"] == 1.1 and hm["domain_name"] == "www.example.com"
    assert (hm["http_method"], hm["url_path"], hm["expected_codes"]) == ("HEAD", "/health?x=1", "200-204")


def test_create_locks_pool_tree(api, tree, driver_agent):
    lb, listener, pool = tree
    driver_agent.stop()
    assert api.post(HMS, json=hm_body(pool)).status_code == 201
    assert status_of(api, f"/v2/lbaas/loadbalancers/{lb['id']}", "loadbalancer") == "PENDING_UPDATE"
    assert status_of(api, f"/v2/lbaas/listeners/{listener['id']}", "listener") == "PENDING_UPDATE"
    assert status_of(api, f"/v2/lbaas/pools/{pool['id']}", "pool") == "PENDING_UPDATE"
    again = api.post(HMS, json=hm_body(pool))
    assert again.status_code == 409
    assert again.json()["faultstring"] == f"Pool {pool['id']} is immutable and cannot be updated."


def test_one_monitor_per_pool(api, tree):
    lb, _, pool = tree
    add_hm(api, lb, pool)
    resp = api.post(HMS, json=hm_body(pool, type="TCP"))
    assert resp.status_code == 409
    assert resp.json()["faultstring"] == "This pool already has a health monitor"
    assert_untouched(api, lb, pool)


def test_pool_id_missing_null_unknown(api, tree):
    body = hm_body(tree[2])
    del body["healthmonitor"]["pool_id"]
    resp = api.post(HMS, json=body)
    assert resp.status_code == 400
    assert resp.json()["faultstring"] == (
        "Invalid input for field/attribute pool_id. Value: 'None'. Mandatory field missing."
    )
    body["healthmonitor"]["pool_id"] = None
    resp = api.post(HMS, json=body)
    assert resp.status_code == 404 and resp.json()["faultstring"] == "Pool None not found."
    missing = str(uuid.uuid4())
    body["healthmonitor"]["pool_id"] = missing
    assert api.post(HMS, json=body).json()["faultstring"] == f"Pool {missing} not found."


@pytest.mark.parametrize(
    "fields, fault",
    [
        ({"type": "http"}, "Invalid input for field/attribute type. Value: 'http'. Value should be one of:"),
        (
            {"delay": -1},
            "Invalid input for field/attribute delay. Value: '-1'. Value should be greater or equal to 0",
        ),
        ({"timeout": "x"}, "Invalid input for field/attribute timeout. Value: 'x'."),
        ({"max_retries": 0}, "Value should be greater or equal to 1"),
        ({"max_retries": 11}, "Value should be lower or equal to 10"),
        (
            {"max_retries_down": 11},
            "Invalid input for field/attribute max_retries_down. Value: '11'. "
            "Value should be lower or equal to 10",
        ),
        ({"http_method": "FETCH"}, "Invalid input for field/attribute http_method. Value: 'FETCH'."),
        (
            {"url_path": "https://openstack.org"},
            "Invalid input for field/attribute url_path. Value: 'https://openstack.org'. "
            "Value must be a valid URL Path string",
        ),
        ({"url_path": "health"}, "Value must be a valid URL Path string"),
        ({"url_path": "/a b"}, "Value must be a valid URL Path string"),
        (
            {"expected_codes": "20x"},
            "Invalid input for field/attribute expected_codes. Value: '20x'. Value should match the pattern",
        ),
        ({"expected_codes": "200-"}, "Value should match the pattern"),
        (
            {"http_version": 2.0},
            "Invalid input for field/attribute http_version. Value: '2.0'. Value should be one of: 1.0, 1.1",
        ),
        ({"http_version": 1.1, "domain_name": "-bad-"}, "Invalid input for field/attribute domain_name."),
        (
            {"domain_name": "example.com"},
            "Validation failure: 'http_version' must be specified when 'domain_name' is provided.",
        ),
        (
            {"http_version": 1.0, "domain_name": "example.com"},
            "http_version 1.0 is not a valid option for health monitors HTTP 1.1 domain name health check",
        ),
        (
            {"type": "TCP", "http_method": "GET"},
            "http_method is not a valid option for health monitors of type TCP",
        ),
        (
            {"type": "PING", "url_path": "/"},
            "url_path is not a valid option for health monitors of type PING",
        ),
        (
            {"type": "TLS-HELLO", "expected_codes": "200"},
            "expected_codes is not a valid option for health monitors of type TLS-HELLO",
        ),
        (
            {"type": "UDP-CONNECT"},
            "Validation failure: The UDP-CONNECT type is only supported for pools of type UDP/SCTP.",
        ),
        ({"type": "SCTP"}, "Validation failure: The SCTP type is only supported for pools of type UDP/SCTP."),
        ({"bogus": 1}, "Unknown attribute for argument healthmonitor: bogus"),
        ({"name": "n" * 256}, "Value should have a maximum character requirement of 255"),
    ],
)
def test_create_rejects_bad_input(api, tree, fields, fault):
    lb, _, pool = tree
    resp = api.post(HMS, json=hm_body(pool, **fields))
    assert resp.status_code == 400, resp.text
    assert fault in resp.json()["faultstring"]
    assert api.get(HMS).json()["healthmonitors"] == []
    assert_untouched(api, lb, pool)


def test_udp_pool_rules(api):
    lb, _, pool = make_pool(api, protocol="UDP")
    resp = api.post(HMS, json=hm_body(pool, type="PING"))
    assert resp.status_code == 400
    assert resp.json()["faultstring"] == (
        "Validation failure: The associated pool protocol is UDP, so only a "
        "UDP-CONNECT/SCTP/TCP/HTTP health monitor is supported."
    )
    resp = api.post(HMS, json=hm_body(pool, type="UDP-CONNECT", delay=2))
    assert resp.status_code == 400
    assert resp.json()["faultstring"] == (
        "Validation failure: The request delay value 2 should be larger than 3 for "
        "UDP-CONNECT health monitor type."
    )
    hm = add_hm(api, lb, pool, type="UDP-CONNECT", delay=3)
    resp = api.put(f"{HMS}/{hm['id']}", json={"healthmonitor": {"delay": 1}})
    assert resp.status_code == 400 and "should be larger than 3" in resp.json()["faultstring"]
    api.delete(f"{HMS}/{hm['id']}")
    api.wait_for(f"{HMS}/{hm['id']}", "healthmonitor", status="DELETED")
    api.wait_lb(lb["id"])
    assert add_hm(api, lb, pool, type="HTTP")["url_path"] == "/"


def test_ping_can_be_disabled(api, tree, overrides):
    overrides(group="api_settings", allow_ping_health_monitors=False)
    resp = api.post(HMS, json=hm_body(tree[2], type="PING"))
    assert resp.status_code == 400
    assert resp.json()["faultstring"] == "The selected type is not allowed in this deployment: PING"


def test_update_and_null_semantics(api, tree):
    lb, _, pool = tree
    hm = add_hm(
        api, lb, pool, max_retries_down=5, http_method="POST", url_path="/x", expected_codes="201", tags=["t"]
    )
    url = f"{HMS}/{hm['id']}"
    resp = api.put(
        url,
        json={
            "healthmonitor": {
                "delay": 9,
                "max_retries": 4,
                "name": "n",
                "http_version": 1.1,
                "domain_name": "a.example",
            }
        },
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()["healthmonitor"]
    assert body["provisioning_status"] == "PENDING_UPDATE"
    assert (body["delay"], body["max_retries"], body["name"], body["domain_name"]) == (9, 4, "n", "a.example")
    api.wait_lb(lb["id"])
    api.wait_for(url, "healthmonitor")
    resp = api.put(
        url,
        json={
            "healthmonitor": {
                "max_retries_down": None,
                "http_method": None,
                "url_path": None,
                "expected_codes": None,
                "name": None,
                "admin_state_up": None,
                "tags": None,
                "domain_name": None,
                "http_version": None,
            }
        },
    )
    body = resp.json()["healthmonitor"]
    assert (body["max_retries_down"], body["http_method"], body["url_path"], body["expected_codes"]) == (
        3,
        "GET",
        "/",
        "200",
    )
    assert body["name"] == "" and body["admin_state_up"] is False and body["tags"] == ["t"]
    assert body["http_version"] is None and body["domain_name"] is None
    api.wait_lb(lb["id"])
    assert api.wait_for(url, "healthmonitor")["operating_status"] == "OFFLINE"


@pytest.mark.parametrize(
    "fields, fault",
    [
        ({"delay": None}, "None is not a valid option for delay"),
        ({"timeout": None}, "None is not a valid option for timeout"),
        ({"max_retries": None}, "None is not a valid option for max_retries"),
        ({"type": "TCP"}, "Unknown attribute for argument healthmonitor: type"),
        (
            {"pool_id": "6c8f3c52-4f3e-4a53-9a8e-0d1f7b6b2a10"},
            "Unknown attribute for argument healthmonitor: pool_id",
        ),
        (
            {"domain_name": "a.example"},
            "Validation failure: 'http_version' must be specified when 'domain_name' is provided.",
        ),
        (
            {"http_version": 1.0, "domain_name": "a.example"},
            "http_version 1.0 is not a valid option for health monitors HTTP 1.1 domain name health check",
        ),
        ({"url_path": "//host/x"}, "Value must be a valid URL Path string"),
    ],
)
def test_update_rejects_bad_input(api, tree, fields, fault):
    lb, _, pool = tree
    hm = add_hm(api, lb, pool)
    resp = api.put(f"{HMS}/{hm['id']}", json={"healthmonitor": fields})
    assert resp.status_code == 400, resp.text
    assert fault in resp.json()["faultstring"]
    assert_untouched(api, lb, pool)
    assert status_of(api, f"{HMS}/{hm['id']}", "healthmonitor") == "ACTIVE"


@pytest.mark.parametrize(
    "field", ["http_method", "url_path", "expected_codes", "http_version", "domain_name"]
)
def test_update_of_non_http_monitor_refuses_http_fields_even_null(api, tree, field):
    lb, _, pool = tree
    hm = add_hm(api, lb, pool, type="TCP")
    resp = api.put(f"{HMS}/{hm['id']}", json={"healthmonitor": {field: None}})
    assert resp.status_code == 400
    assert resp.json()["faultstring"] == f"{field} is not a valid option for health monitors of type TCP"


def test_delete_returns_members_to_no_monitor(api, tree):
    lb, _, pool = tree
    hm = add_hm(api, lb, pool)
    member = add_member(api, pool, lb)
    assert member["operating_status"] == "OFFLINE"
    assert api.delete(f"{HMS}/{hm['id']}").status_code == 204
    api.wait_for(f"{HMS}/{hm['id']}", "healthmonitor", status="DELETED")
    api.wait_lb(lb["id"])
    member = api.get(f"{members_url(pool)}/{member['id']}").json()["member"]
    assert member["operating_status"] == "NO_MONITOR"
    assert api.get(f"/v2/lbaas/pools/{pool['id']}").json()["pool"]["healthmonitor_id"] is None
    add_hm(api, lb, pool, type="TCP")


def test_delete_marks_pending_and_pool_must_be_active(api, tree, driver_agent):
    lb, _, pool = tree
    hm = add_hm(api, lb, pool)
    driver_agent.stop()
    assert api.delete(f"{HMS}/{hm['id']}").status_code == 204
    assert status_of(api, f"{HMS}/{hm['id']}", "healthmonitor") == "PENDING_DELETE"
    resp = api.put(f"{HMS}/{hm['id']}", json={"healthmonitor": {"delay": 1}})
    assert resp.status_code == 409
    assert resp.json()["faultstring"] == f"Pool {pool['id']} is immutable and cannot be updated."


def test_list_filters_sorting_pagination(api):
    made = []
    for delay in (3, 1, 2):
        lb, _, pool = make_pool(api)
        made.append(add_hm(api, lb, pool, type="TCP", delay=delay, max_retries=delay))
    ids = [h["id"] for h in made]
    listed = api.get(HMS).json()
    assert [h["id"] for h in listed["healthmonitors"]] == ids and listed["healthmonitors_links"] == []
    by_delay = api.get(HMS, params={"sort": "delay:asc"}).json()["healthmonitors"]
    assert [h["delay"] for h in by_delay] == [1, 2, 3]
    assert [h["id"] for h in api.get(HMS, params={"max_retries": "2"}).json()["healthmonitors"]] == [ids[2]]
    pool_id = made[1]["pools"][0]["id"]
    assert [h["id"] for h in api.get(HMS, params={"pool_id": pool_id}).json()["healthmonitors"]] == [ids[1]]
    page = api.get(HMS, params={"limit": 1}).json()
    assert [h["id"] for h in page["healthmonitors"]] == ids[:1]
    assert page["healthmonitors_links"][0]["rel"] == "next"
    second = api.get(HMS, params={"limit": 1, "marker": ids[0]}).json()
    assert [h["id"] for h in second["healthmonitors"]] == ids[1:2]
    assert {link["rel"] for link in second["healthmonitors_links"]} == {"next", "previous"}
    fields = api.get(HMS, params=[("fields", "id"), ("fields", "pools")]).json()["healthmonitors"]
    assert all(set(h) == {"id", "pools"} for h in fields)
    assert api.get(HMS, params={"type": "TCP"}).json()["healthmonitors"][0]["type"] == "TCP"
    resp = api.get(HMS, params={"healthmonitor_id": ids[0]})
    assert resp.status_code == 400
    assert api.get(f"/v2.0/lbaas/healthmonitors/{uuid.uuid4()}").status_code == 404


@pytest.fixture
def testing_auth(api, overrides):
    overrides(group="api_settings", auth_strategy="testing")
    policy.reset()
    api.headers = {"X-Project-Id": api.headers["X-Project-Id"], "X-Roles": "member,reader"}
    yield
    policy.reset()


def test_rbac_scoping_and_quota(api, tree, testing_auth):
    lb, _, pool = tree
    owner, other = lb["project_id"], uuid.uuid4().hex
    reader = {"X-Project-Id": owner, "X-Roles": "reader"}
    stranger = {"X-Project-Id": other, "X-Roles": "member,reader"}
    admin = {"X-Project-Id": other, "X-Roles": "admin"}
    assert api.post(HMS, json=hm_body(pool), headers=reader).status_code == 403
    assert api.post(HMS, json=hm_body(pool), headers=stranger).status_code == 403
    assert (
        api.put(f"/v2/lbaas/quotas/{owner}", json={"quota": {"health_monitor": 0}}, headers=admin).status_code
        == 202
    )
    resp = api.post(HMS, json=hm_body(pool))
    assert resp.status_code == 403
    assert resp.json()["faultstring"] == "Quota has been met for resources: Health Monitor"
    api.put(f"/v2/lbaas/quotas/{owner}", json={"quota": {"health_monitor": None}}, headers=admin)
    hm = add_hm(api, lb, pool)
    assert api.get(f"{HMS}/{hm['id']}", headers=stranger).status_code == 403
    assert api.get(f"{HMS}/{hm['id']}", headers=reader).status_code == 200
    assert api.delete(f"{HMS}/{hm['id']}", headers=reader).status_code == 403
    assert [h["id"] for h in api.get(HMS, headers=reader).json()["healthmonitors"]] == [hm["id"]]
    assert api.get(HMS, headers=stranger).json()["healthmonitors"] == []
    assert api.get(HMS, params={"project_id": owner}, headers=stranger).status_code == 403
    assert [h["id"] for h in api.get(HMS, headers=admin).json()["healthmonitors"]] == [hm["id"]]
