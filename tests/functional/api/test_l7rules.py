"""L7 rule API against a real database and the noop provider."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from octavia.api import policy
from tests.functional.api.test_l7policies import add_policy, make_listener
from tests.functional.api.test_members import status_of


def rules_url(pol: dict) -> str:
    return f"/v2/lbaas/l7policies/{pol['id']}/rules"


def add_rule(api: Any, lb: dict, pol: dict, **fields: Any) -> dict:
    body = {"type": "PATH", "compare_type": "STARTS_WITH", "value": "/api", **fields}
    resp = api.post(rules_url(pol), json={"rule": body})
    assert resp.status_code == 201, resp.text
    rule = resp.json()["rule"]
    api.wait_lb(lb["id"])
    return api.wait_for(f"{rules_url(pol)}/{rule['id']}", "rule")


def assert_untouched(api: Any, lb: dict, pol: dict) -> None:
    assert status_of(api, f"/v2/lbaas/loadbalancers/{lb['id']}", "loadbalancer") == "ACTIVE"
    assert status_of(api, f"/v2/lbaas/l7policies/{pol['id']}", "l7policy") == "ACTIVE"


@pytest.fixture
def site(api: Any) -> tuple[dict, dict, dict]:
    lb, listener = make_listener(api)
    return lb, listener, add_policy(api, lb, listener)


def test_create_show_list(api, site):
    lb, _, pol = site
    resp = api.post(
        rules_url(pol),
        json={
            "rule": {
                "type": "HEADER",
                "compare_type": "EQUAL_TO",
                "key": "X-Forwarded-Proto",
                "value": "https",
                "invert": "true",
                "tags": ["t"],
                "project_id": "ignored",
            }
        },
    )
    assert resp.status_code == 201, resp.text
    rule = resp.json()["rule"]
    assert rule["provisioning_status"] == "PENDING_CREATE" and rule["operating_status"] == "OFFLINE"
    assert rule["invert"] is True and rule["key"] == "X-Forwarded-Proto" and rule["tags"] == ["t"]
    assert rule["project_id"] == rule["tenant_id"] == lb["project_id"]
    assert set(rule) == {
        "id",
        "type",
        "compare_type",
        "key",
        "value",
        "invert",
        "provisioning_status",
        "operating_status",
        "created_at",
        "updated_at",
        "project_id",
        "tenant_id",
        "admin_state_up",
        "tags",
    }
    active = api.wait_for(f"{rules_url(pol)}/{rule['id']}", "rule")
    assert active["operating_status"] == "ONLINE"
    api.wait_lb(lb["id"])
    assert api.get(f"/v2/lbaas/l7policies/{pol['id']}").json()["l7policy"]["rules"] == [{"id": rule["id"]}]
    listed = api.get(f"/v2.0/lbaas/l7policies/{pol['id']}/rules").json()
    assert [r["id"] for r in listed["rules"]] == [rule["id"]] and listed["rules_links"] == []


@pytest.mark.parametrize(
    "fields",
    [
        {"type": "HOST_NAME", "compare_type": "ENDS_WITH", "value": ".example.com"},
        {"type": "PATH", "compare_type": "REGEX", "value": "^/api/v[0-9]+"},
        {"type": "FILE_TYPE", "compare_type": "EQUAL_TO", "value": "jpg"},
        {"type": "FILE_TYPE", "compare_type": "REGEX", "value": "jpe?g"},
        {"type": "HEADER", "compare_type": "CONTAINS", "key": "User-Agent", "value": '"Mozilla 5"'},
        {"type": "COOKIE", "compare_type": "STARTS_WITH", "key": "session", "value": "abc/def=="},
        {"type": "SSL_CONN_HAS_CERT", "compare_type": "EQUAL_TO", "value": "TRUE"},
        {"type": "SSL_VERIFY_RESULT", "compare_type": "EQUAL_TO", "value": "0"},
        {"type": "SSL_DN_FIELD", "compare_type": "STARTS_WITH", "key": "CN", "value": "www"},
        {"type": "SSL_DN_FIELD", "compare_type": "REGEX", "key": "Organizational-Unit", "value": "^eng"},
    ],
)
def test_valid_rule_kinds(api, site, fields):
    lb, _, pol = site
    rule = add_rule(api, lb, pol, **fields)
    assert {k: rule[k] for k in fields} == fields


def _parse_error(msg: str) -> str:
    return f"Error parsing L7Rule: {msg}"


@pytest.mark.parametrize(
    "fields, fault",
    [
        ({"value": ""}, _parse_error("Invalid L7 Rule: L7 rule type requires a value")),
        ({"type": "HEADER", "value": "x"}, _parse_error("Invalid L7 Rule: L7 rule type requires a key")),
        ({"type": "COOKIE", "value": "x"}, _parse_error("Invalid L7 Rule: L7 rule type requires a key")),
        (
            {"type": "COOKIE", "key": "bad cookie name", "value": "x"},
            _parse_error("Invalid characters in key"),
        ),
        (
            {"type": "HEADER", "key": "X-A", "value": "a b"},
            _parse_error("Invalid characters in header value"),
        ),
        ({"type": "COOKIE", "key": "k", "value": "a;b"}, _parse_error("Invalid characters in cookie value")),
        ({"type": "HOST_NAME", "value": "a b"}, _parse_error("Invalid characters in comparison value")),
        (
            {"type": "FILE_TYPE", "compare_type": "STARTS_WITH", "value": "jpg"},
            _parse_error("Invalid L7 Rule: invalid comparison type for rule type"),
        ),
        (
            {"compare_type": "REGEX", "value": "bad string\\"},
            _parse_error("Unable to parse regular expression: "),
        ),
        (
            {"type": "SSL_CONN_HAS_CERT", "compare_type": "EQUAL_TO", "key": "k", "value": "true"},
            _parse_error('Invalid L7 Rule: L7rule type SSL_CONN_HAS_CERT does not use the "key" field.'),
        ),
        (
            {"type": "SSL_CONN_HAS_CERT", "compare_type": "EQUAL_TO", "value": "yes"},
            _parse_error("Invalid L7 Rule: L7rule value yes is not a boolean True string."),
        ),
        (
            {"type": "SSL_CONN_HAS_CERT", "value": "true"},
            _parse_error(
                "Invalid L7 Rule: L7rule type SSL_CONN_HAS_CERT only supports the EQUAL_TO compare type."
            ),
        ),
        (
            {"type": "SSL_VERIFY_RESULT", "compare_type": "EQUAL_TO", "value": "-1"},
            _parse_error("Invalid L7 Rule: L7rule type SSL_VERIFY_RESULT needs a int value, which is >= 0"),
        ),
        (
            {"type": "SSL_VERIFY_RESULT", "compare_type": "EQUAL_TO", "key": "k", "value": "1"},
            _parse_error('Invalid L7 Rule: L7rule type SSL_VERIFY_RESULT does not use the "key" field.'),
        ),
        (
            {"type": "SSL_DN_FIELD", "value": "www"},
            _parse_error("Invalid L7 Rule: L7rule type SSL_DN_FIELD needs to specify a key and a value."),
        ),
        (
            {"type": "SSL_DN_FIELD", "key": "1CN", "value": "www"},
            _parse_error("Invalid L7 Rule: Invalid L7rule distinguished name field."),
        ),
        (
            {"value": "a\nb"},
            "Invalid input for field/attribute value. Value: 'a\nb'. Value should match the pattern",
        ),
        ({"key": "a\rb"}, "Invalid input for field/attribute key."),
        ({"value": "v" * 256}, "Value should have a maximum character requirement of 255"),
        ({"type": "path"}, "Invalid input for field/attribute type. Value: 'path'. Value should be one of:"),
        ({"compare_type": None}, "Invalid input for field/attribute compare_type."),
        ({"invert": "sometimes"}, "Invalid input for field/attribute invert."),
        ({"rule_value": "x"}, "Unknown attribute for argument rule: rule_value"),
    ],
)
def test_create_rejects_bad_input(api, site, fields, fault):
    lb, _, pol = site
    body = {"type": "PATH", "compare_type": "STARTS_WITH", "value": "/api", **fields}
    resp = api.post(rules_url(pol), json={"rule": body})
    assert resp.status_code == 400, resp.text
    assert fault in resp.json()["faultstring"]
    assert api.get(rules_url(pol)).json()["rules"] == []
    assert_untouched(api, lb, pol)


def test_missing_fields_are_mandatory(api, site):
    _, _, pol = site
    for name in ("type", "compare_type", "value"):
        body = {"type": "PATH", "compare_type": "STARTS_WITH", "value": "/api"}
        del body[name]
        resp = api.post(rules_url(pol), json={"rule": body})
        assert resp.status_code == 400
        assert resp.json()["faultstring"] == (
            f"Invalid input for field/attribute {name}. Value: 'None'. Mandatory field missing."
        )


def test_create_locks_policy_and_listener(api, site, driver_agent):
    lb, listener, pol = site
    driver_agent.stop()
    assert (
        api.post(
            rules_url(pol), json={"rule": {"type": "PATH", "compare_type": "CONTAINS", "value": "x"}}
        ).status_code
        == 201
    )
    assert status_of(api, f"/v2/lbaas/loadbalancers/{lb['id']}", "loadbalancer") == "PENDING_UPDATE"
    assert status_of(api, f"/v2/lbaas/listeners/{listener['id']}", "listener") == "PENDING_UPDATE"
    assert status_of(api, f"/v2/lbaas/l7policies/{pol['id']}", "l7policy") == "PENDING_UPDATE"
    again = api.post(
        rules_url(pol), json={"rule": {"type": "PATH", "compare_type": "CONTAINS", "value": "y"}}
    )
    assert again.status_code == 409
    assert again.json()["faultstring"] == f"L7Policy {pol['id']} is immutable and cannot be updated."


def test_pending_load_balancer_refuses_rule_writes(api, site, driver_agent):
    lb, _, pol = site
    rule = add_rule(api, lb, pol)
    driver_agent.stop()
    assert (
        api.put(f"/v2/lbaas/loadbalancers/{lb['id']}", json={"loadbalancer": {"name": "x"}}).status_code
        == 200
    )
    expected = f"Load Balancer {lb['id']} is immutable and cannot be updated."
    url = f"{rules_url(pol)}/{rule['id']}"
    for resp in (
        api.post(rules_url(pol), json={"rule": {"type": "PATH", "compare_type": "CONTAINS", "value": "y"}}),
        api.put(url, json={"rule": {"value": "/z"}}),
        api.delete(url),
    ):
        assert resp.status_code == 409 and resp.json()["faultstring"] == expected
    assert status_of(api, f"/v2/lbaas/l7policies/{pol['id']}", "l7policy") == "ACTIVE"
    assert api.get(url).json()["rule"]["value"] == "/api"


def test_fifty_rules_per_policy(api, site):
    lb, listener, _ = site
    rules = [{"type": "PATH", "compare_type": "STARTS_WITH", "value": f"/p{i}"} for i in range(50)]
    full = add_policy(api, lb, listener, rules=rules)
    assert len(full["rules"]) == 50
    resp = api.post(
        rules_url(full), json={"rule": {"type": "PATH", "compare_type": "CONTAINS", "value": "x"}}
    )
    assert resp.status_code == 409
    assert resp.json()["faultstring"] == f"Too many rules on L7 policy {full['id']}"
    assert_untouched(api, lb, full)


def test_update_validates_the_merged_rule(api, site):
    lb, _, pol = site
    rule = add_rule(api, lb, pol, type="HEADER", compare_type="EQUAL_TO", key="X-A", value="v")
    url = f"{rules_url(pol)}/{rule['id']}"
    for change, fault in (
        ({"compare_type": "REGEX", "value": "["}, "Error parsing L7Rule: Unable to parse regular expression"),
        ({"value": "a b"}, "Error parsing L7Rule: Invalid characters in header value"),
        ({"value": None}, "Error parsing L7Rule: Invalid L7 Rule: L7 rule type requires a value"),
        ({"key": None}, "Error parsing L7Rule: Invalid L7 Rule: L7 rule type requires a key"),
        ({"type": "SSL_CONN_HAS_CERT"}, 'does not use the "key" field.'),
        ({"type": None}, "Error parsing L7Rule: Invalid L7 Rule: invalid rule type"),
        ({"l7policy_id": pol["id"]}, "Unknown attribute for argument rule: l7policy_id"),
    ):
        resp = api.put(url, json={"rule": change})
        assert resp.status_code == 400, (change, resp.text)
        assert fault in resp.json()["faultstring"], change
    assert_untouched(api, lb, pol)
    resp = api.put(url, json={"rule": {"type": "COOKIE", "value": "abc", "invert": True}})
    body = resp.json()["rule"]
    assert resp.status_code == 200 and body["provisioning_status"] == "PENDING_UPDATE"
    assert (body["type"], body["key"], body["value"], body["invert"]) == ("COOKIE", "X-A", "abc", True)
    api.wait_lb(lb["id"])
    resp = api.put(
        url, json={"rule": {"type": "PATH", "value": "/x", "invert": None, "admin_state_up": None}}
    )
    body = resp.json()["rule"]
    assert (body["type"], body["key"], body["invert"], body["admin_state_up"]) == ("PATH", None, False, False)
    api.wait_lb(lb["id"])
    assert api.wait_for(url, "rule")["operating_status"] == "OFFLINE"
    resp = api.put(url, json={"rule": {"type": "HEADER"}})
    assert resp.json()["faultstring"] == "Error parsing L7Rule: Invalid L7 Rule: L7 rule type requires a key"


def test_rule_must_belong_to_the_policy_in_the_url(api, site):
    lb, listener, pol = site
    other = add_policy(api, lb, listener)
    rule = add_rule(api, lb, other)
    for resp in (
        api.get(f"{rules_url(pol)}/{rule['id']}"),
        api.put(f"{rules_url(pol)}/{rule['id']}", json={"rule": {"value": "/y"}}),
        api.delete(f"{rules_url(pol)}/{rule['id']}"),
    ):
        assert resp.status_code == 404
        assert resp.json()["faultstring"] == f"L7 Rule {rule['id']} not found."
    missing = str(uuid.uuid4())
    resp = api.get(f"/v2/lbaas/l7policies/{missing}/rules")
    assert resp.status_code == 404 and resp.json()["faultstring"] == f"L7 Policy {missing} not found."
    body = {"rule": {"type": "PATH", "compare_type": "CONTAINS", "value": "x"}}
    assert api.post(f"/v2/lbaas/l7policies/{missing}/rules", json=body).status_code == 404
    assert api.get(f"{rules_url(pol)}/{missing}").status_code == 404


def test_delete(api, site):
    lb, _, pol = site
    rule = add_rule(api, lb, pol)
    url = f"{rules_url(pol)}/{rule['id']}"
    assert api.delete(url).status_code == 204
    api.wait_for(url, "rule", status="DELETED")
    assert api.wait_lb(lb["id"])["provisioning_status"] == "ACTIVE"
    assert api.get(f"/v2/lbaas/l7policies/{pol['id']}").json()["l7policy"]["rules"] == []


def test_delete_marks_pending_delete(api, site, driver_agent):
    lb, _, pol = site
    rule = add_rule(api, lb, pol)
    driver_agent.stop()
    url = f"{rules_url(pol)}/{rule['id']}"
    assert api.delete(url).status_code == 204
    assert status_of(api, url, "rule") == "PENDING_DELETE"
    assert status_of(api, f"/v2/lbaas/l7policies/{pol['id']}", "l7policy") == "PENDING_UPDATE"


def test_list_filters_sorting_pagination(api, site):
    lb, listener, _ = site
    rules = [
        {"type": "PATH", "compare_type": "STARTS_WITH", "value": "/b"},
        {"type": "HOST_NAME", "compare_type": "EQUAL_TO", "value": "a.example", "invert": True},
        {"type": "PATH", "compare_type": "REGEX", "value": "^/c"},
    ]
    pol = add_policy(api, lb, listener, rules=rules)
    url = rules_url(pol)
    assert [r["value"] for r in api.get(url, params={"sort": "value"}).json()["rules"]] == [
        "/b",
        "^/c",
        "a.example",
    ]
    assert [
        r["value"] for r in api.get(url, params={"type": "PATH", "sort": "value:desc"}).json()["rules"]
    ] == ["^/c", "/b"]
    assert [r["value"] for r in api.get(url, params={"invert": "true"}).json()["rules"]] == ["a.example"]
    assert len(api.get(url, params={"compare_type": "REGEX"}).json()["rules"]) == 1
    page = api.get(url, params={"limit": 2, "sort": "value"}).json()
    assert [r["value"] for r in page["rules"]] == ["/b", "^/c"]
    assert page["rules_links"][0]["rel"] == "next"
    fields = api.get(url, params=[("fields", "value")]).json()["rules"]
    assert sorted(r["value"] for r in fields) == ["/b", "^/c", "a.example"] and all(
        len(r) == 1 for r in fields
    )
    # openstacksdk sends the policy id as a filter; it only narrows to this policy anyway.
    assert len(api.get(url, params={"l7policy_id": pol["id"]}).json()["rules"]) == 3
    assert api.get(url, params={"l7policy_id": listener["id"]}).json()["rules"] == []
    for bad in ("rule_value", "name", "policy_id"):
        assert api.get(url, params={bad: "x"}).status_code == 400


@pytest.fixture
def testing_auth(api, overrides):
    overrides(group="api_settings", auth_strategy="testing")
    policy.reset()
    api.headers = {"X-Project-Id": api.headers["X-Project-Id"], "X-Roles": "member,reader"}
    yield
    policy.reset()


def test_rbac_and_quota(api, site, testing_auth):
    lb, _, pol = site
    owner, other = lb["project_id"], uuid.uuid4().hex
    reader = {"X-Project-Id": owner, "X-Roles": "reader"}
    stranger = {"X-Project-Id": other, "X-Roles": "member,reader"}
    admin = {"X-Project-Id": other, "X-Roles": "admin"}
    body = {"rule": {"type": "PATH", "compare_type": "CONTAINS", "value": "x"}}
    assert api.post(rules_url(pol), json=body, headers=reader).status_code == 403
    assert api.post(rules_url(pol), json=body, headers=stranger).status_code == 403
    api.put(f"/v2/lbaas/quotas/{owner}", json={"quota": {"l7rule": 0}}, headers=admin)
    resp = api.post(rules_url(pol), json=body)
    assert resp.status_code == 403
    assert resp.json()["faultstring"] == "Quota has been met for resources: L7 Rule"
    api.put(f"/v2/lbaas/quotas/{owner}", json={"quota": {"l7rule": None}}, headers=admin)
    rule = add_rule(api, lb, pol)
    url = f"{rules_url(pol)}/{rule['id']}"
    assert api.get(rules_url(pol), headers=reader).status_code == 200
    assert api.get(rules_url(pol), headers=stranger).status_code == 403
    assert api.get(url, headers=stranger).status_code == 403
    assert api.get(url, headers=admin).status_code == 200
    assert api.delete(url, headers=reader).status_code == 403
