"""`/openapi.json`: public, complete, and true to what the routes return.

The fuzz run checks responses against the document at length (slow); this fast test
keeps the response models of octavia/api/v2/responses.py in step with each resource's
`to_dict` on every commit: real responses of a full tree are validated against the
document's schemas with jsonschema.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.routing import APIRoute
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from keystonemiddleware import auth_token  # type: ignore[import-untyped]
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from octavia.api import auth
from octavia.api.common.openapi import ALWAYS
from octavia.api.v2 import ROUTERS
from octavia.common.config import CONF

DOC_URI = "urn:octavia:openapi"


@pytest.fixture
def document(api: Any) -> dict[str, Any]:
    resp = api.client.get("/openapi.json")  # no identity headers at all
    assert resp.status_code == 200
    return dict(resp.json())


def test_document_needs_no_authentication(api: Any, overrides: Any) -> None:
    """Under keystone auth a request without a token is a 401, except for the document."""
    for group, opts in auth_token.list_opts():
        CONF.register_opts(opts, group=group)
    overrides(group="keystone_authtoken", www_authenticate_uri="http://127.0.0.1:9/v3")
    overrides(group="api_settings", auth_strategy="keystone")
    auth.reset()
    assert api.client.get("/v2").status_code == 401
    resp = api.client.get("/openapi.json")
    assert resp.status_code == 200 and resp.json()["openapi"].startswith("3.")


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, item in document["paths"].items() for method, op in item.items()]


def test_every_route_is_documented_with_its_codes(document: dict[str, Any]) -> None:
    routes = {("/v2" + route.path, method.lower()) for router in ROUTERS for route in router.routes
              if isinstance(route, APIRoute) and route.include_in_schema for method in route.methods or ()}
    routes |= {("/", "get"), ("/v2", "get")}
    assert len(routes) > 70
    documented = {(path, method) for path, method, _ in _operations(document)}
    assert routes == documented
    for path, method, op in _operations(document):
        codes = set(op["responses"])
        assert "422" not in codes, (method, path)
        if path in ("/", "/v2"):
            continue
        assert {str(c) for c in ALWAYS} <= codes, (method, path)
        for code in codes - {"200", "201", "202", "204"}:
            schema = op["responses"][code]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Fault"}, (method, path, code)
        success = [c for c in codes if c.startswith("2")]
        assert len(success) == 1, (method, path)
        ok = op["responses"][success[0]]
        if success[0] in ("200", "201") or "content" in ok:  # a 202 may carry a body (quotas)
            assert "$ref" in ok["content"]["application/json"]["schema"], (method, path)
        assert success[0] != "204" or "content" not in ok, (method, path)
        if "{" in path:
            assert "404" in codes, (method, path)
        if method in ("post", "put") and op.get("requestBody"):
            assert "413" in codes, (method, path)


def test_list_operations_document_their_query(document: dict[str, Any]) -> None:
    op = document["paths"]["/v2/lbaas/listeners"]["get"]
    params = {p["name"]: p["schema"] for p in op["parameters"]}
    assert {"limit", "marker", "page_reverse", "sort", "fields", "tags", "not-tags-any"} <= set(params)
    assert params["protocol_port"] == {"type": "integer"}
    assert params["admin_state_up"] == {"type": "boolean"}
    body = document["components"]["schemas"]["ListenerPOST"]["properties"]
    assert body["protocol_port"] == {
        "type": "integer", "minimum": 1, "maximum": 65535, "title": "Protocol Port"}
    assert body["loadbalancer_id"]["format"] == "uuid"
    assert body["name"]["anyOf"][0] == {"type": "string", "maxLength": 255}


class Checker:
    """Validates a response against the schema the document gives its status code."""

    def __init__(self, api: Any, document: dict[str, Any]) -> None:
        self.api = api
        self.document = document
        self.registry = Registry().with_resource(
            DOC_URI, Resource.from_contents(document, default_specification=DRAFT202012))
        self.checked = 0

    def schema_for(self, template: str, method: str, status: int) -> dict[str, Any]:
        response = self.document["paths"][template.split("?")[0]][method]["responses"][str(status)]
        ref = response["content"]["application/json"]["schema"]["$ref"]
        return {"$ref": DOC_URI + ref}

    def call(self, method: str, template: str, status: int, body: Any = None, **ids: str) -> dict[str, Any]:
        resp = self.api.request(method.upper(), template.format(**ids), json=body)
        assert resp.status_code == status, (template, resp.text)
        validator = Draft202012Validator(self.schema_for(template, method, status), registry=self.registry)
        errors = sorted(validator.iter_errors(resp.json()), key=str)
        assert not errors, (template, [e.message for e in errors[:3]])
        self.checked += 1
        return dict(resp.json())


def test_real_responses_match_the_document(api: Any, document: dict[str, Any]) -> None:
    check = Checker(api, document)
    lbs, lb_t = "/v2/lbaas/loadbalancers", "/v2/lbaas/loadbalancers/{lb_id}"
    lb = check.call("post", lbs, 201, {"loadbalancer": {"vip_subnet_id": str(uuid.uuid4()), "tags": ["t"]}})
    lb_id = lb["loadbalancer"]["id"]
    api.wait_lb(lb_id)

    def make(template: str, body: dict[str, Any], **ids: str) -> str:
        created = check.call("post", template, 201, body, **ids)
        api.wait_lb(lb_id)
        return str(next(iter(created.values()))["id"])

    listener = make("/v2/lbaas/listeners", {"listener": {"loadbalancer_id": lb_id, "protocol": "HTTP",
                                                         "protocol_port": 80}})
    pool = make("/v2/lbaas/pools", {"pool": {"listener_id": listener, "protocol": "HTTP",
                                             "lb_algorithm": "ROUND_ROBIN",
                                             "session_persistence": {"type": "HTTP_COOKIE"}}})
    member = make("/v2/lbaas/pools/{pool_id}/members", {"member": {"address": "192.0.2.9",
                                                                   "protocol_port": 80}}, pool_id=pool)
    hm = make("/v2/lbaas/healthmonitors", {"healthmonitor": {"pool_id": pool, "type": "HTTP", "delay": 5,
                                                             "timeout": 3, "max_retries": 3}})
    policy = make("/v2/lbaas/l7policies", {"l7policy": {"listener_id": listener, "action": "REJECT"}})
    rule = make("/v2/lbaas/l7policies/{policy_id}/rules", {"rule": {"type": "PATH",
                                                                    "compare_type": "STARTS_WITH",
                                                                    "value": "/a"}}, policy_id=policy)
    ids = {"lb_id": lb_id, "listener_id": listener, "pool_id": pool, "member_id": member, "hm_id": hm,
           "policy_id": policy, "rule_id": rule}
    for template in (lbs, lb_t, lb_t + "/stats", lb_t + "/status", "/v2/lbaas/listeners",
                     "/v2/lbaas/listeners/{listener_id}", "/v2/lbaas/listeners/{listener_id}/stats",
                     "/v2/lbaas/pools", "/v2/lbaas/pools/{pool_id}", "/v2/lbaas/pools/{pool_id}/members",
                     "/v2/lbaas/pools/{pool_id}/members/{member_id}", "/v2/lbaas/healthmonitors",
                     "/v2/lbaas/healthmonitors/{hm_id}", "/v2/lbaas/l7policies",
                     "/v2/lbaas/l7policies/{policy_id}", "/v2/lbaas/l7policies/{policy_id}/rules",
                     "/v2/lbaas/l7policies/{policy_id}/rules/{rule_id}", "/v2/lbaas/quotas",
                     "/v2/lbaas/quotas/defaults", "/v2/lbaas/providers",
                     "/v2/octavia/amphorae", "/"):
        check.call("get", template, 200, **ids)
    check.call("get", "/v2/lbaas/providers/{provider}/flavor_capabilities", 200, provider="noop_driver")
    check.call("put", lb_t, 200, {"loadbalancer": {"description": "d"}}, lb_id=lb_id)
    api.wait_lb(lb_id)
    check.call("get", "/v2/lbaas/listeners/{listener_id}", 404, listener_id=str(uuid.uuid4()))
    check.call("get", lbs + "?limit=1&fields=id&fields=name", 200)
    admin_objects(check)
    assert check.checked >= 35


def admin_objects(check: Checker) -> None:
    fp = check.call("post", "/v2/lbaas/flavorprofiles", 201, {"flavorprofile": {
        "name": "fp", "provider_name": "noop_driver", "flavor_data": "{}"}})["flavorprofile"]["id"]
    flavor = check.call("post", "/v2/lbaas/flavors", 201, {"flavor": {
        "name": "f", "flavor_profile_id": fp}})["flavor"]["id"]
    azp = check.call("post", "/v2/lbaas/availabilityzoneprofiles", 201, {"availability_zone_profile": {
        "name": "azp", "provider_name": "noop_driver", "availability_zone_data": "{}"}})
    azp_id = azp["availability_zone_profile"]["id"]
    check.call("post", "/v2/lbaas/availabilityzones", 201, {"availability_zone": {
        "name": "az1", "availability_zone_profile_id": azp_id}})
    project = "b" * 32
    check.call("put", "/v2/lbaas/quotas/{project_id}", 202, {"quota": {"pool": 3}}, project_id=project)
    for template, ids in (("/v2/lbaas/flavors/{flavor_id}", {"flavor_id": flavor}),
                          ("/v2/lbaas/flavors", {}), ("/v2/lbaas/flavorprofiles", {}),
                          ("/v2/lbaas/flavorprofiles/{profile_id}", {"profile_id": fp}),
                          ("/v2/lbaas/availabilityzones/{name}", {"name": "az1"}),
                          ("/v2/lbaas/availabilityzones", {}), ("/v2/lbaas/availabilityzoneprofiles", {}),
                          ("/v2/lbaas/availabilityzoneprofiles/{profile_id}", {"profile_id": azp_id}),
                          ("/v2/lbaas/quotas/{project_id}", {"project_id": project})):
        check.call("get", template, 200, **ids)
