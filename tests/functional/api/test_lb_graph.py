"""Fully populated load balancer create (api-v2.md 1.6) against a real database."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest

LBS = "/v2/lbaas/loadbalancers"


def _pool(name: str, protocol: str = "HTTP", **extra: Any) -> dict[str, Any]:
    return {"name": name, "protocol": protocol, "lb_algorithm": "ROUND_ROBIN", **extra}


def _post(api: Any, **fields: Any) -> Any:
    body = {"vip_subnet_id": str(uuid.uuid4()), **fields}
    return api.post(LBS, json={"loadbalancer": body})


GRAPH: dict[str, Any] = {
    "name": "graph",
    "listeners": [
        {
            "name": "web", "protocol": "HTTP", "protocol_port": 80, "default_pool": {"name": "app"},
            "tags": ["l"],
            "l7policies": [
                {"name": "api", "action": "REDIRECT_TO_POOL", "position": 1,
                 "redirect_pool": _pool("api", members=[{"address": "192.0.2.20", "protocol_port": 8080}]),
                 "rules": [{"type": "PATH", "compare_type": "STARTS_WITH", "value": "/api"},
                           {"type": "HEADER", "key": "X-Env", "compare_type": "EQUAL_TO", "value": "prod"}]},
                {"action": "REJECT", "rules": [{"type": "PATH", "compare_type": "EQUAL_TO", "value": "/x"}]},
            ],
        },
        {"name": "raw", "protocol": "TCP", "protocol_port": 81,
         "default_pool": _pool("tcp", "TCP", session_persistence={"type": "SOURCE_IP"})},
    ],
    "pools": [
        _pool("app", tags=["p"], healthmonitor={"type": "HTTP", "delay": 5, "timeout": 3, "max_retries": 2,
                                                "url_path": "/health", "tags": ["h"]},
              members=[{"address": "192.0.2.10", "protocol_port": 80, "tags": ["m"]},
                       {"address": "192.0.2.11", "protocol_port": 80, "weight": 5}]),
    ],
}


def test_full_graph_is_created_pending_and_rendered_in_full(api):
    resp = _post(api, **copy.deepcopy(GRAPH))
    assert resp.status_code == 201, resp.text
    lb = resp.json()["loadbalancer"]
    assert lb["provisioning_status"] == "PENDING_CREATE"
    listeners = {li["name"]: li for li in lb["listeners"]}
    pools = {p["name"]: p for p in lb["pools"]}
    assert list(pools) == ["app", "api", "tcp"]
    for obj in [*listeners.values(), *pools.values()]:
        assert (obj["provisioning_status"], obj["operating_status"]) == ("PENDING_CREATE", "OFFLINE")
        assert "loadbalancers" not in obj
    web, raw = listeners["web"], listeners["raw"]
    assert web["default_pool_id"] == pools["app"]["id"] and raw["default_pool_id"] == pools["tcp"]["id"]
    assert web["tags"] == ["l"]
    policies = web["l7policies"]
    assert [p["position"] for p in policies] == [1, 2]
    assert policies[0]["redirect_pool_id"] == pools["api"]["id"]
    assert policies[0]["provisioning_status"] == "PENDING_CREATE"
    assert [r["value"] for r in policies[0]["rules"]] == ["/api", "prod"]
    assert policies[0]["rules"][1]["key"] == "X-Env"
    assert policies[1]["action"] == "REJECT" and policies[1]["redirect_pool_id"] is None
    app = pools["app"]
    assert "healthmonitor_id" not in app and app["tags"] == ["p"]
    assert app["healthmonitor"]["url_path"] == "/health" and app["healthmonitor"]["tags"] == ["h"]
    assert "pools" not in app["healthmonitor"]
    assert app["healthmonitor"]["provisioning_status"] == "PENDING_CREATE"
    assert [m["address"] for m in app["members"]] == ["192.0.2.10", "192.0.2.11"]
    assert {m["operating_status"] for m in app["members"]} == {"OFFLINE"}
    assert app["members"][0]["tags"] == ["m"] and app["members"][1]["weight"] == 5
    assert app["listeners"] == [{"id": web["id"]}]
    assert pools["api"]["listeners"] == [{"id": web["id"]}]
    assert "healthmonitor" not in pools["api"]
    assert pools["api"]["members"][0]["operating_status"] == "NO_MONITOR"
    assert pools["tcp"]["session_persistence"]["type"] == "SOURCE_IP"

    active = api.wait_lb(lb["id"])
    assert {x["id"] for x in active["listeners"]} == {web["id"], raw["id"]}
    assert {x["id"] for x in active["pools"]} == {p["id"] for p in pools.values()}
    shown = api.get(f"/v2/lbaas/listeners/{web['id']}").json()["listener"]
    assert shown["provisioning_status"] == "ACTIVE"
    assert shown["loadbalancers"] == [{"id": lb["id"]}]
    assert shown["l7policies"] == [{"id": policies[0]["id"]}, {"id": policies[1]["id"]}]
    pool = api.get(f"/v2/lbaas/pools/{app['id']}").json()["pool"]
    assert pool["healthmonitor_id"] == app["healthmonitor"]["id"] and pool["provisioning_status"] == "ACTIVE"
    for path, key in (
        (f"/v2/lbaas/pools/{app['id']}/members/{app['members'][0]['id']}", "member"),
        (f"/v2/lbaas/healthmonitors/{app['healthmonitor']['id']}", "healthmonitor"),
        (f"/v2/lbaas/l7policies/{policies[0]['id']}", "l7policy"),
        (f"/v2/lbaas/l7policies/{policies[0]['id']}/rules/{policies[0]['rules'][0]['id']}", "rule"),
    ):
        assert api.get(path).json()[key]["provisioning_status"] == "ACTIVE"
    tree = api.get(f"{LBS}/{lb['id']}/status").json()["statuses"]["loadbalancer"]
    web_tree = next(x for x in tree["listeners"] if x["id"] == web["id"])
    assert [p["id"] for p in web_tree["pools"]] == [app["id"], pools["api"]["id"]]


def test_reference_with_default_fields_is_still_a_reference(api):
    listeners = [{"protocol": "HTTP", "protocol_port": 80,
                  "default_pool": {"name": "p", "admin_state_up": True, "tls_enabled": False}}]
    resp = _post(api, listeners=listeners, pools=[_pool("p")])
    assert resp.status_code == 201, resp.text
    lb = resp.json()["loadbalancer"]
    assert len(lb["pools"]) == 1
    assert lb["listeners"][0]["default_pool_id"] == lb["pools"][0]["id"]


def test_unattached_pools_and_listener_rules_after_vip_allocation(api):
    resp = _post(api, pools=[_pool("a"), _pool("b", "UDP")],
                 listeners=[{"protocol": "TERMINATED_HTTPS", "protocol_port": 443,
                             "default_tls_container_ref": None, "sni_container_refs": []}])
    assert resp.status_code == 400
    assert "An SNI or default certificate container reference must be provided" in resp.json()["faultstring"]
    resp = _post(api, pools=[_pool("a"), _pool("b", "UDP")],
                 listeners=[{"protocol": "UDP", "protocol_port": 53, "allowed_cidrs": ["198.51.100.0/24"]}])
    assert resp.status_code == 201, resp.text
    lb = resp.json()["loadbalancer"]
    assert [p["listeners"] for p in lb["pools"]] == [[], []]
    assert lb["listeners"][0]["allowed_cidrs"] == ["198.51.100.0/24"]
    api.wait_lb(lb["id"])


HM = {"delay": 5, "timeout": 1, "max_retries": 1}


def _listener(**extra: Any) -> dict[str, Any]:
    return {"protocol": "HTTP", "protocol_port": 80, **extra}


@pytest.mark.parametrize(
    "fields, code, fault",
    [
        ({"pools": [{"protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"}]}, 400,
         "Validation failure: Pools must be named when creating a fully populated loadbalancer."),
        ({"listeners": [_listener(default_pool={"protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"})]}, 400,
         "Validation failure: Pools must be named when creating a fully populated loadbalancer."),
        ({"pools": [_pool("a"), _pool("a")]}, 400,
         "Validation failure: Pool names must be unique when creating a fully populated loadbalancer."),
        ({"pools": [_pool("a")], "listeners": [_listener(default_pool=_pool("a"))]}, 400,
         "Pool names must be unique when creating a fully populated loadbalancer."),
        ({"listeners": [_listener(default_pool={"name": "ghost"})]}, 400,
         "Validation failure: Pool 'ghost' was referenced but no full definition was found."),
        ({"listeners": [_listener(l7policies=[{"action": "REDIRECT_TO_POOL",
                                               "redirect_pool": {"name": "g"}}])]},
         400, "Pool 'g' was referenced but no full definition was found."),
        ({"pools": [{"name": "a", "protocol": "HTTP"}]}, 400,
         "Validation failure: Pool definition for 'a' missing required attribute: lb_algorithm"),
        ({"pools": [{"name": "a"}]}, 400, "Pool definition for 'a' missing required attribute: protocol"),
        ({"pools": [_pool("a", "UDP")], "listeners": [_listener(default_pool={"name": "a"})]}, 400,
         "Validation failure: The pool protocol 'UDP' is invalid while the listener protocol is 'HTTP'."),
        ({"pools": [_pool("a", "TCP")], "listeners": [_listener(l7policies=[
            {"action": "REDIRECT_TO_POOL", "redirect_pool": {"name": "a"}}])]}, 400,
         "The pool protocol 'TCP' is invalid while the listener protocol is 'HTTP'."),
        ({"listeners": [_listener(), _listener(protocol="TCP")]}, 409,
         "Another Listener on this Load Balancer is already using protocol HTTP and protocol_port 80"),
        ({"listeners": [_listener(default_pool_id=str(uuid.uuid4()))]}, 404, "not found."),
        ({"pools": [_pool("a")], "listeners": [_listener(protocol="PROMETHEUS", default_pool={"name": "a"})]},
         400, "Validation failure: Protocol PROMETHEUS listeners cannot have child objects."),
        ({"listeners": [{"protocol": "HTTP"}]}, 400,
         "Invalid input for field/attribute protocol_port. Value: 'None'. Mandatory field missing."),
        ({"listeners": [_listener(bogus=1)]}, 400, "Unknown attribute for argument listeners: bogus"),
        ({"listeners": [_listener(loadbalancer_id=str(uuid.uuid4()))]}, 400,
         "Unknown attribute for argument listeners: loadbalancer_id"),
        ({"listeners": [_listener(protocol="PROXY")]}, 400, "Value should be one of:"),
        ({"listeners": [_listener(allowed_cidrs=["2001:db8::/32"])]}, 400,
         "CIDR 2001:db8::/32 IP version incompatible with all VIPs"),
        ({"listeners": [_listener(insert_headers={"X-SSL-Client-DN": "true"})]}, 400,
         "['X-SSL-Client-DN'] is not a valid option for HTTP protocol listener."),
        ({"pools": [_pool("a", bogus=True)]}, 400, "Unknown attribute for argument pools: bogus"),
        ({"pools": [_pool("a", "UDP", session_persistence={"type": "APP_COOKIE", "cookie_name": "c"})]}, 400,
         "Cookie names are not supported for UDP/SCTP pools."),
        ({"pools": [_pool("a", healthmonitor={"type": "HTTP", "delay": 1, "timeout": 1})]}, 400,
         "Invalid input for field/attribute max_retries. Value: 'None'. Mandatory field missing."),
        ({"pools": [_pool("a", healthmonitor={"type": "TCP", "delay": 1, "timeout": 1, "max_retries": 1,
                                              "pool_id": str(uuid.uuid4())})]}, 400,
         "Unknown attribute for argument healthmonitor: pool_id"),
        ({"pools": [_pool("a", "UDP", healthmonitor={"type": "PING", **HM})]},
         400, "The associated pool protocol is UDP"),
        ({"pools": [_pool("a", healthmonitor={"type": "UDP-CONNECT", **HM})]},
         400, "The UDP-CONNECT type is only supported for pools of type"),
        ({"pools": [_pool("a", members=[{"address": "169.254.169.254", "protocol_port": 80}])]}, 400,
         "169.254.169.254 is not a valid option for member address"),
        ({"pools": [_pool("a", members=[{"address": "192.0.2.1"}])]}, 400,
         "Invalid input for field/attribute protocol_port. Value: 'None'. Mandatory field missing."),
        ({"pools": [_pool("a", members=[{"address": "192.0.2.1", "protocol_port": 80}] * 2)]}, 409,
         "Another member on this pool is already using ip 192.0.2.1 on protocol_port 80"),
        ({"pools": [_pool("a", members=[{"address": "192.0.2.1", "protocol_port": 80,
                                         "request_sriov": True}])]},
         400, "SR-IOV"),
        ({"listeners": [_listener(l7policies=[{"action": "REDIRECT_TO_POOL"}])]}, 400,
         "redirect_pool_id or redirect_pool must not be None"),
        ({"listeners": [_listener(l7policies=[{"action": "REDIRECT_TO_POOL",
                                               "redirect_pool_id": str(uuid.uuid4())}])]},
         404, "not found."),
        ({"listeners": [_listener(l7policies=[{"action": "REJECT", "listener_id": str(uuid.uuid4())}])]}, 400,
         "Unknown attribute for argument l7policies: listener_id"),
        ({"listeners": [_listener(l7policies=[{"action": "REJECT", "rules": [
            {"type": "HEADER", "compare_type": "EQUAL_TO", "value": "x"}]}])]}, 400,
         "Error parsing L7Rule"),
        ({"listeners": [_listener(l7policies=[{"action": "REJECT", "rules": [
            {"type": "PATH", "compare_type": "EQUAL_TO", "value": f"/{i}"} for i in range(51)]}])]}, 409,
         "Too many rules on L7 policy"),
    ],
)
def test_bad_graph(api, fields, code, fault):
    resp = _post(api, **fields)
    assert resp.status_code == code, resp.text
    assert fault in resp.json()["faultstring"]
    assert api.get(LBS).json()["loadbalancers"] == []
    assert api.get("/v2/lbaas/listeners").json()["listeners"] == []
    assert api.get("/v2/lbaas/pools").json()["pools"] == []
    assert api.get("/v2/lbaas/l7policies").json()["l7policies"] == []
    assert api.get("/v2/lbaas/healthmonitors").json()["healthmonitors"] == []


def test_quotas_count_nested_objects_but_not_l7(api, overrides):
    overrides(group="api_settings", auth_strategy="testing")
    overrides(group="quotas", default_member_quota=2, default_l7policy_quota=0, default_l7rule_quota=0)
    headers = {"X-Project-Id": uuid.uuid4().hex, "X-Roles": "member"}
    members = [{"address": f"192.0.2.{i}", "protocol_port": 80} for i in range(1, 4)]
    resp = api.post(LBS, json={"loadbalancer": {"vip_subnet_id": str(uuid.uuid4()),
                                                "pools": [_pool("a", members=members)]}}, headers=headers)
    assert resp.status_code == 403
    assert resp.json()["faultstring"] == "Quota has been met for resources: Member"
    listeners = [_listener(default_pool=_pool("a", members=members[:2]), l7policies=[
        {"action": "REJECT", "rules": [{"type": "PATH", "compare_type": "EQUAL_TO", "value": "/"}]}])]
    resp = api.post(LBS, json={"loadbalancer": {"vip_subnet_id": str(uuid.uuid4()), "listeners": listeners}},
                    headers=headers)
    assert resp.status_code == 201, resp.text
    assert len(resp.json()["loadbalancer"]["listeners"][0]["l7policies"]) == 1


def test_tls_listener_and_reencrypting_pool(api):
    from octavia.certificates.loader import get_cert_manager
    from tests.unit.certificates import helpers as h

    manager = get_cert_manager()
    key, ca_key = h.make_key(), h.make_key()
    server = manager.store_cert(None, h.cert_pem(h.make_cert(key)), h.key_pem(key))
    ca = manager.store_secret(None, h.cert_pem(h.make_cert(ca_key, cn="ca", ca=True)))
    listener = {"protocol": "TERMINATED_HTTPS", "protocol_port": 443, "default_tls_container_ref": server,
                "default_pool": _pool("backend", tls_enabled=True, ca_tls_container_ref=ca)}
    resp = _post(api, listeners=[listener])
    assert resp.status_code == 201, resp.text
    lb = resp.json()["loadbalancer"]
    assert lb["listeners"][0]["tls_versions"] == ["TLSv1.2", "TLSv1.3"]
    assert lb["pools"][0]["tls_enabled"] is True and lb["pools"][0]["ca_tls_container_ref"] == ca
    api.wait_lb(lb["id"])
    bad = {**listener, "default_tls_container_ref": "missing"}
    resp = _post(api, listeners=[bad])
    assert resp.status_code == 400
    assert resp.json()["faultstring"] == "Could not retrieve certificate: ['missing']"
