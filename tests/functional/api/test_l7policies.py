"""L7 policy API against a real database and the noop provider."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from octavia.api import policy
from tests.functional.api.test_members import status_of

POLICIES = "/v2/lbaas/l7policies"


def make_listener(
    api: Any, protocol: str = "HTTP", lb: dict | None = None, port: int = 80
) -> tuple[dict, dict]:
    lb = lb or api.create_lb()
    resp = api.post(
        "/v2/lbaas/listeners",
        json={"listener": {"loadbalancer_id": lb["id"], "protocol": protocol, "protocol_port": port}},
    )
    assert resp.status_code == 201, resp.text
    api.wait_lb(lb["id"])
    return lb, resp.json()["listener"]


def make_lb_pool(api: Any, lb: dict, protocol: str = "HTTP") -> dict:
    resp = api.post(
        "/v2/lbaas/pools",
        json={"pool": {"loadbalancer_id": lb["id"], "protocol": protocol, "lb_algorithm": "ROUND_ROBIN"}},
    )
    assert resp.status_code == 201, resp.text
    api.wait_lb(lb["id"])
    return resp.json()["pool"]


def add_policy(api: Any, lb: dict, listener: dict, **fields: Any) -> dict:
    body = {"listener_id": listener["id"], "action": "REJECT", **fields}
    resp = api.post(POLICIES, json={"l7policy": body})
    assert resp.status_code == 201, resp.text
    pol = resp.json()["l7policy"]
    api.wait_lb(lb["id"])
    return api.wait_for(f"{POLICIES}/{pol['id']}", "l7policy")


def positions(api: Any, listener: dict) -> list[tuple[str, int]]:
    listed = api.get(POLICIES, params={"listener_id": listener["id"], "sort": "position"}).json()
    return [(p["name"], p["position"]) for p in listed["l7policies"]]


def assert_untouched(api: Any, lb: dict, listener: dict) -> None:
    assert status_of(api, f"/v2/lbaas/loadbalancers/{lb['id']}", "loadbalancer") == "ACTIVE"
    assert status_of(api, f"/v2/lbaas/listeners/{listener['id']}", "listener") == "ACTIVE"


@pytest.fixture
def site(api: Any) -> tuple[dict, dict]:
    return make_listener(api)


def test_create_reject_and_become_active(api, site):
    lb, listener = site
    resp = api.post(
        POLICIES,
        json={
            "l7policy": {
                "listener_id": listener["id"],
                "action": "REJECT",
                "name": "deny",
                "tags": ["x"],
                "redirect_http_code": 301,
                "project_id": "ignored",
            }
        },
    )
    assert resp.status_code == 201, resp.text
    pol = resp.json()["l7policy"]
    assert pol["provisioning_status"] == "PENDING_CREATE" and pol["operating_status"] == "OFFLINE"
    assert pol["position"] == 1 and pol["rules"] == [] and pol["redirect_http_code"] is None
    assert pol["project_id"] == pol["tenant_id"] == lb["project_id"] and pol["description"] == ""
    active = api.wait_for(f"{POLICIES}/{pol['id']}", "l7policy")
    assert active["operating_status"] == "ONLINE" and active["updated_at"] is not None
    api.wait_lb(lb["id"])
    assert api.get(f"/v2/lbaas/listeners/{listener['id']}").json()["listener"]["l7policies"] == [
        {"id": pol["id"]}
    ]
    assert api.get(f"/v2.0/lbaas/l7policies/{pol['id']}").json()["l7policy"]["name"] == "deny"


def test_redirect_actions_and_http_code_defaults(api, site):
    lb, listener = site
    to_url = add_policy(api, lb, listener, action="REDIRECT_TO_URL", redirect_url="https://example.com/x")
    assert to_url["redirect_http_code"] == 302 and to_url["redirect_url"] == "https://example.com/x"
    prefix = add_policy(
        api,
        lb,
        listener,
        action="REDIRECT_PREFIX",
        redirect_prefix="http://a.example",
        redirect_http_code="308",
    )
    assert prefix["redirect_http_code"] == 308 and prefix["redirect_prefix"] == "http://a.example"
    pool = make_lb_pool(api, lb)
    to_pool = add_policy(
        api, lb, listener, action="REDIRECT_TO_POOL", redirect_pool_id=pool["id"], redirect_http_code=301
    )
    assert to_pool["redirect_pool_id"] == pool["id"] and to_pool["redirect_http_code"] is None
    # REJECT wins over redirect fields sent with it: they are cleared, as upstream.
    reject = add_policy(api, lb, listener, action="REJECT", redirect_url="http://b.example")
    assert reject["action"] == "REJECT" and reject["redirect_url"] is None


def test_create_locks_listener(api, site, driver_agent):
    lb, listener = site
    driver_agent.stop()
    resp = api.post(POLICIES, json={"l7policy": {"listener_id": listener["id"], "action": "REJECT"}})
    assert resp.status_code == 201
    assert status_of(api, f"/v2/lbaas/loadbalancers/{lb['id']}", "loadbalancer") == "PENDING_UPDATE"
    assert status_of(api, f"/v2/lbaas/listeners/{listener['id']}", "listener") == "PENDING_UPDATE"
    again = api.post(POLICIES, json={"l7policy": {"listener_id": listener["id"], "action": "REJECT"}})
    assert again.status_code == 409
    assert again.json()["faultstring"] == f"Load Balancer {lb['id']} is immutable and cannot be updated."
    assert len(api.get(POLICIES).json()["l7policies"]) == 1


@pytest.mark.parametrize(
    "fields, fault",
    [
        ({"action": None}, "Invalid input for field/attribute action."),
        (
            {"action": "reject"},
            "Invalid input for field/attribute action. Value: 'reject'. Value should be one of:",
        ),
        ({"action": "REDIRECT_TO_URL"}, "Invalid L7 Policy arguments: redirect_url must not be None"),
        ({"action": "REDIRECT_PREFIX"}, "Invalid L7 Policy arguments: redirect_prefix must not be None"),
        (
            {"action": "REDIRECT_TO_POOL"},
            "Invalid L7 Policy arguments: redirect_pool_id or redirect_pool must not be None",
        ),
        (
            {
                "action": "REDIRECT_TO_POOL",
                "redirect_pool_id": "6c8f3c52-4f3e-4a53-9a8e-0d1f7b6b2a10",
                "redirect_url": "http://a.b",
            },
            "Invalid L7 Policy arguments: Cannot specify redirect_pool_id and redirect_url or "
            "redirect_prefix at the same time",
        ),
        (
            {"action": "REDIRECT_TO_URL", "redirect_url": "bad url"},
            "Invalid input for field/attribute redirect_url. Value: 'bad url'. "
            "Value must be a valid URL string",
        ),
        ({"action": "REDIRECT_TO_URL", "redirect_url": "bad-url"}, "Value must be a valid URL string"),
        (
            {"action": "REDIRECT_TO_URL", "redirect_url": "ftp://example.com"},
            "Value must be a valid URL string",
        ),
        ({"action": "REDIRECT_TO_URL", "redirect_url": "http://"}, "Value must be a valid URL string"),
        (
            {"action": "REDIRECT_TO_URL", "redirect_url": "http://a.example/x y"},
            "Value must be a valid URL string",
        ),
        (
            {"action": "REDIRECT_PREFIX", "redirect_prefix": "example.com"},
            "Invalid input for field/attribute redirect_prefix. Value: 'example.com'.",
        ),
        (
            {"action": "REDIRECT_TO_URL", "redirect_url": "http://a.example", "redirect_http_code": 1},
            "Invalid input for field/attribute redirect_http_code. Value: '1'. "
            "Value should be one of: 301, 302, 303, 307, 308",
        ),
        (
            {"action": "REDIRECT_TO_URL", "redirect_url": "http://a.example", "redirect_http_code": ""},
            "redirect_http_code",
        ),
        (
            {
                "action": "REDIRECT_TO_URL",
                "redirect_url": "http://a.example",
                "redirect_http_code": "HTTPCODE",
            },
            "redirect_http_code",
        ),
        (
            {"position": 0},
            "Invalid input for field/attribute position. Value: '0'. Value should be greater or equal to 1",
        ),
        ({"position": 2147483648}, "Value should be lower or equal to 2147483647"),
        ({"name": "n" * 256}, "Value should have a maximum character requirement of 255"),
        ({"bogus": True}, "Unknown attribute for argument l7policy: bogus"),
        ({"redirect_pool": {"name": "p"}}, "redirect_pool"),
        (
            {"rules": [{"type": "PATH", "compare_type": "REGEX", "value": "bad string\\"}]},
            "Error parsing L7Rule: Unable to parse regular expression:",
        ),
    ],
)
def test_create_rejects_bad_input(api, site, fields, fault):
    lb, listener = site
    body = {"listener_id": listener["id"], "action": "REJECT", **fields}
    resp = api.post(POLICIES, json={"l7policy": body})
    assert resp.status_code == 400, resp.text
    assert fault in resp.json()["faultstring"]
    assert api.get(POLICIES).json()["l7policies"] == []
    assert_untouched(api, lb, listener)


def test_listener_and_redirect_pool_checks(api, site):
    lb, listener = site
    body = {"action": "REJECT"}
    resp = api.post(POLICIES, json={"l7policy": body})
    assert resp.status_code == 400
    assert resp.json()["faultstring"] == (
        "Invalid input for field/attribute listener_id. Value: 'None'. Mandatory field missing."
    )
    missing = str(uuid.uuid4())
    resp = api.post(POLICIES, json={"l7policy": {**body, "listener_id": missing}})
    assert resp.status_code == 404 and resp.json()["faultstring"] == f"Listener {missing} not found."
    to_pool = {"listener_id": listener["id"], "action": "REDIRECT_TO_POOL"}
    resp = api.post(POLICIES, json={"l7policy": {**to_pool, "redirect_pool_id": missing}})
    assert resp.status_code == 404 and resp.json()["faultstring"] == f"Pool {missing} not found."
    foreign = make_lb_pool(api, api.create_lb())
    resp = api.post(POLICIES, json={"l7policy": {**to_pool, "redirect_pool_id": foreign["id"]}})
    assert resp.status_code == 404
    tcp_pool = make_lb_pool(api, lb, protocol="TCP")
    resp = api.post(POLICIES, json={"l7policy": {**to_pool, "redirect_pool_id": tcp_pool["id"]}})
    assert resp.status_code == 400
    assert resp.json()["faultstring"] == (
        "Validation failure: The pool protocol 'TCP' is invalid while the listener protocol is 'HTTP'."
    )
    _, prometheus = make_listener(api, protocol="PROMETHEUS", lb=lb, port=9100)
    resp = api.post(POLICIES, json={"l7policy": {"listener_id": prometheus["id"], "action": "REJECT"}})
    assert resp.status_code == 400
    assert resp.json()["faultstring"] == "Protocol PROMETHEUS listeners cannot have child objects."
    assert_untouched(api, lb, listener)


def test_create_with_rules_and_rule_limit(api, site):
    lb, listener = site
    rules = [{"type": "PATH", "compare_type": "STARTS_WITH", "value": f"/p{i}"} for i in range(2)]
    pol = add_policy(api, lb, listener, rules=rules)
    assert len(pol["rules"]) == 2
    listed = api.get(f"{POLICIES}/{pol['id']}/rules").json()["rules"]
    assert sorted(r["value"] for r in listed) == ["/p0", "/p1"]
    assert all(r["provisioning_status"] == "ACTIVE" for r in listed)
    too_many = [{"type": "PATH", "compare_type": "STARTS_WITH", "value": f"/p{i}"} for i in range(51)]
    resp = api.post(
        POLICIES, json={"l7policy": {"listener_id": listener["id"], "action": "REJECT", "rules": too_many}}
    )
    assert resp.status_code == 409
    assert resp.json()["faultstring"].startswith("Too many rules on L7 policy ")
    assert_untouched(api, lb, listener)
    assert len(api.get(POLICIES).json()["l7policies"]) == 1


def test_positions_stay_contiguous(api, site):
    lb, listener = site
    for name in ("a", "b", "c"):
        add_policy(api, lb, listener, name=name)
    assert positions(api, listener) == [("a", 1), ("b", 2), ("c", 3)]
    first = add_policy(api, lb, listener, name="first", position=1)
    assert first["position"] == 1
    assert positions(api, listener) == [("first", 1), ("a", 2), ("b", 3), ("c", 4)]
    last = add_policy(api, lb, listener, name="last", position=99)
    assert last["position"] == 5
    middle = add_policy(api, lb, listener, name="mid", position=3)
    assert positions(api, listener) == [("first", 1), ("a", 2), ("mid", 3), ("b", 4), ("c", 5), ("last", 6)]
    resp = api.put(f"{POLICIES}/{first['id']}", json={"l7policy": {"position": 4}})
    assert resp.status_code == 200 and resp.json()["l7policy"]["position"] == 4
    api.wait_lb(lb["id"])
    assert positions(api, listener) == [("a", 1), ("mid", 2), ("b", 3), ("first", 4), ("c", 5), ("last", 6)]
    api.put(f"{POLICIES}/{last['id']}", json={"l7policy": {"position": 1000}})
    api.wait_lb(lb["id"])
    assert positions(api, listener)[-1] == ("last", 6)
    assert api.delete(f"{POLICIES}/{middle['id']}").status_code == 204
    api.wait_for(f"{POLICIES}/{middle['id']}", "l7policy", status="DELETED")
    api.wait_lb(lb["id"])
    assert positions(api, listener) == [("a", 1), ("b", 2), ("first", 3), ("c", 4), ("last", 5)]
    order = api.get(f"/v2/lbaas/listeners/{listener['id']}").json()["listener"]["l7policies"]
    names = {p["id"]: p["name"] for p in api.get(POLICIES).json()["l7policies"]}
    assert [names[p["id"]] for p in order] == ["a", "b", "first", "c", "last"]


def test_update_actions_and_clearing(api, site):
    lb, listener = site
    pool = make_lb_pool(api, lb)
    pol = add_policy(
        api, lb, listener, action="REDIRECT_TO_URL", redirect_url="http://a.example", redirect_http_code=307
    )
    url = f"{POLICIES}/{pol['id']}"
    resp = api.put(url, json={"l7policy": {"redirect_http_code": None}})
    assert resp.status_code == 200 and resp.json()["l7policy"]["redirect_http_code"] is None
    assert resp.json()["l7policy"]["provisioning_status"] == "PENDING_UPDATE"
    api.wait_lb(lb["id"])
    resp = api.put(url, json={"l7policy": {"redirect_pool_id": pool["id"]}})
    body = resp.json()["l7policy"]
    assert body["action"] == "REDIRECT_TO_POOL" and body["redirect_url"] is None
    assert body["redirect_pool_id"] == pool["id"] and body["redirect_http_code"] is None
    api.wait_lb(lb["id"])
    prefix = {"action": "REDIRECT_PREFIX", "redirect_prefix": "https://p.example"}
    resp = api.put(url, json={"l7policy": prefix})
    body = resp.json()["l7policy"]
    assert (body["action"], body["redirect_pool_id"], body["redirect_http_code"]) == (
        "REDIRECT_PREFIX",
        None,
        302,
    )
    api.wait_lb(lb["id"])
    resp = api.put(url, json={"l7policy": {"action": "REJECT", "name": "r", "admin_state_up": None}})
    body = resp.json()["l7policy"]
    assert body["action"] == "REJECT" and body["admin_state_up"] is False and body["name"] == "r"
    assert body["redirect_prefix"] is None and body["redirect_http_code"] is None
    api.wait_lb(lb["id"])
    assert api.wait_for(url, "l7policy")["operating_status"] == "OFFLINE"


@pytest.mark.parametrize(
    "fields, fault",
    [
        ({}, "Invalid L7 Policy arguments: Invalid update options"),
        ({"action": "REDIRECT_TO_URL"}, "Invalid L7 Policy arguments: redirect_url must not be None"),
        ({"action": None}, "Invalid L7 Policy action specified: None"),
        ({"redirect_url": None}, "Invalid L7 Policy arguments: redirect_url must not be None"),
        ({"redirect_url": "nope"}, "Value must be a valid URL string"),
        (
            {"listener_id": "6c8f3c52-4f3e-4a53-9a8e-0d1f7b6b2a10"},
            "Unknown attribute for argument l7policy: listener_id",
        ),
        ({"rules": []}, "Unknown attribute for argument l7policy: rules"),
        ({"position": 0}, "Value should be greater or equal to 1"),
    ],
)
def test_update_rejects_bad_input(api, site, fields, fault):
    lb, listener = site
    pol = add_policy(api, lb, listener, action="REDIRECT_TO_URL", redirect_url="http://a.example")
    resp = api.put(f"{POLICIES}/{pol['id']}", json={"l7policy": fields})
    assert resp.status_code == 400, resp.text
    assert resp.json()["faultstring"].endswith(fault) or fault in resp.json()["faultstring"]
    assert_untouched(api, lb, listener)
    assert api.get(f"{POLICIES}/{pol['id']}").json()["l7policy"]["redirect_url"] == "http://a.example"


def test_delete_cascades_rules(api, site):
    lb, listener = site
    pol = add_policy(
        api,
        lb,
        listener,
        rules=[{"type": "HOST_NAME", "compare_type": "EQUAL_TO", "value": "www.example.com"}],
    )
    rule_id = pol["rules"][0]["id"]
    assert api.delete(f"{POLICIES}/{pol['id']}").status_code == 204
    api.wait_for(f"{POLICIES}/{pol['id']}", "l7policy", status="DELETED")
    assert api.get(f"{POLICIES}/{pol['id']}/rules/{rule_id}").status_code == 404
    assert api.wait_lb(lb["id"])["provisioning_status"] == "ACTIVE"
    assert api.delete(f"{POLICIES}/{pol['id']}").status_code == 404


def test_delete_marks_pending_delete(api, site, driver_agent):
    lb, listener = site
    pol = add_policy(api, lb, listener)
    driver_agent.stop()
    assert api.delete(f"{POLICIES}/{pol['id']}").status_code == 204
    assert status_of(api, f"{POLICIES}/{pol['id']}", "l7policy") == "PENDING_DELETE"
    assert status_of(api, f"/v2/lbaas/listeners/{listener['id']}", "listener") == "PENDING_UPDATE"


def test_list_filters_sorting_pagination(api, site):
    lb, listener = site
    made = [add_policy(api, lb, listener, name=n) for n in ("x", "y", "z")]
    add_policy(api, lb, listener, name="top", position=1)
    listed = api.get(POLICIES).json()
    # Lists are in creation order unless sorted by position explicitly.
    assert [p["name"] for p in listed["l7policies"]] == ["x", "y", "z", "top"]
    assert listed["l7policies_links"] == []
    by_position = api.get(POLICIES, params={"sort": "position:desc"}).json()["l7policies"]
    assert [p["name"] for p in by_position] == ["z", "y", "x", "top"]
    assert [p["name"] for p in api.get(POLICIES, params={"position": 1}).json()["l7policies"]] == ["top"]
    assert len(api.get(POLICIES, params={"action": "REJECT"}).json()["l7policies"]) == 4
    assert api.get(POLICIES, params={"listener_id": str(uuid.uuid4())}).json()["l7policies"] == []
    page = api.get(POLICIES, params={"limit": 2}).json()
    assert [p["id"] for p in page["l7policies"]] == [made[0]["id"], made[1]["id"]]
    nxt = [link for link in page["l7policies_links"] if link["rel"] == "next"]
    assert nxt and f"marker={made[1]['id']}" in nxt[0]["href"]
    fields = api.get(POLICIES, params=[("fields", "name"), ("fields", "position")]).json()["l7policies"]
    assert all(set(p) == {"name", "position"} for p in fields)
    assert api.get(POLICIES, params={"rules": "x"}).status_code == 400
    assert api.get(f"{POLICIES}/{uuid.uuid4()}").status_code == 404


@pytest.fixture
def testing_auth(api, overrides):
    overrides(group="api_settings", auth_strategy="testing")
    policy.reset()
    api.headers = {"X-Project-Id": api.headers["X-Project-Id"], "X-Roles": "member,reader"}
    yield
    policy.reset()


def test_rbac_scoping_and_quota(api, site, testing_auth):
    lb, listener = site
    owner, other = lb["project_id"], uuid.uuid4().hex
    reader = {"X-Project-Id": owner, "X-Roles": "reader"}
    stranger = {"X-Project-Id": other, "X-Roles": "member"}
    admin = {"X-Project-Id": other, "X-Roles": "admin"}
    body = {"l7policy": {"listener_id": listener["id"], "action": "REJECT"}}
    assert api.post(POLICIES, json=body, headers=reader).status_code == 403
    assert api.post(POLICIES, json=body, headers=stranger).status_code == 403
    api.put(f"/v2/lbaas/quotas/{owner}", json={"quota": {"l7policy": 0}}, headers=admin)
    resp = api.post(POLICIES, json=body)
    assert resp.status_code == 403
    assert resp.json()["faultstring"] == "Quota has been met for resources: L7 Policy"
    api.put(f"/v2/lbaas/quotas/{owner}", json={"quota": {"l7policy": None, "l7rule": 1}}, headers=admin)
    rules = [{"type": "PATH", "compare_type": "CONTAINS", "value": f"/{i}"} for i in range(2)]
    resp = api.post(POLICIES, json={"l7policy": {**body["l7policy"], "rules": rules}})
    assert resp.status_code == 403
    assert resp.json()["faultstring"] == "Quota has been met for resources: L7 Rule"
    pol = add_policy(api, lb, listener)
    assert api.get(f"{POLICIES}/{pol['id']}", headers=stranger).status_code == 403
    rename = api.put(f"{POLICIES}/{pol['id']}", json={"l7policy": {"name": "x"}}, headers=reader)
    assert rename.status_code == 403
    assert [p["id"] for p in api.get(POLICIES, headers=reader).json()["l7policies"]] == [pol["id"]]
    assert api.get(POLICIES, headers=stranger).json()["l7policies"] == []
    assert api.get(POLICIES, params={"project_id": owner}, headers=stranger).status_code == 403
    assert len(api.get(POLICIES, headers=admin).json()["l7policies"]) == 1
