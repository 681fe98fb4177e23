"""Listener API against a real database and the noop provider."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import event, update

from octavia.common.config import CONF
from octavia.db import models
from octavia.db.api import session_scope
from octavia.providers.completion_worker import CompletionWorker

LBS = "/v2/lbaas/loadbalancers"
LISTENERS = "/v2/lbaas/listeners"
POOLS = "/v2/lbaas/pools"


def _post(api: Any, lb: dict[str, Any], **fields: Any) -> Any:
    body = {"loadbalancer_id": lb["id"], "protocol": "HTTP", "protocol_port": 80, **fields}
    return api.post(LISTENERS, json={"listener": body})


def _create(api: Any, lb: dict[str, Any], **fields: Any) -> dict[str, Any]:
    resp = _post(api, lb, **fields)
    assert resp.status_code == 201, resp.text
    listener = resp.json()["listener"]
    api.wait_for(f"{LISTENERS}/{listener['id']}", "listener")
    api.wait_lb(lb["id"])
    return listener


def _lb_status(api: Any, lb_id: str) -> str:
    return api.get(f"{LBS}/{lb_id}").json()["loadbalancer"]["provisioning_status"]


def _set_lb(lb_id: str, **values: Any) -> None:
    with session_scope(write=True) as s:
        s.execute(update(models.LoadBalancer).where(models.LoadBalancer.id == lb_id).values(**values))


@pytest.fixture
def hold_completions(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Call it to drop the noop provider's completion work from then on: nothing reports
    back, so the statuses the API wrote stay visible."""

    def hold() -> None:
        monkeypatch.setattr(CompletionWorker, "submit", lambda _self, _job: None)

    return hold


@pytest.fixture
def lb(api: Any) -> dict[str, Any]:
    return api.create_lb(vip_address="198.51.100.10")


def test_create_http_listener_defaults_and_lifecycle(api, lb):
    resp = _post(api, lb, name="web", tags=["x", "x", "y"])
    assert resp.status_code == 201, resp.text
    body = resp.json()["listener"]
    assert body["provisioning_status"] == "PENDING_CREATE"
    assert body["operating_status"] == "OFFLINE"
    assert body["loadbalancers"] == [{"id": lb["id"]}]
    assert body["project_id"] == body["tenant_id"] == lb["project_id"]
    assert (
        body["timeout_client_data"],
        body["timeout_member_connect"],
        body["timeout_member_data"],
        body["timeout_tcp_inspect"],
    ) == (50000, 5000, 50000, 0)
    assert body["connection_limit"] == -1
    assert body["client_authentication"] == "NONE"
    assert body["insert_headers"] == {} and body["sni_container_refs"] == [] and body["l7policies"] == []
    assert body["allowed_cidrs"] is None
    assert body["tls_ciphers"] is None and body["tls_versions"] is None and body["alpn_protocols"] is None
    assert body["hsts_max_age"] is None and body["hsts_preload"] is False
    assert body["hsts_include_subdomains"] is False
    assert body["default_pool_id"] is None and body["description"] == ""
    assert body["tags"] == ["x", "y"]
    active = api.wait_for(f"{LISTENERS}/{body['id']}", "listener")
    assert active["updated_at"] is not None
    assert api.wait_lb(lb["id"])["listeners"] == [{"id": body["id"]}]


def test_numeric_strings_and_timeouts_from_request(api, lb):
    listener = _create(
        api,
        lb,
        protocol_port="8080",
        connection_limit="10",
        timeout_client_data=0,
        timeout_tcp_inspect=86400000,
    )
    assert listener["protocol_port"] == 8080 and listener["connection_limit"] == 10
    assert listener["timeout_client_data"] == 0 and listener["timeout_tcp_inspect"] == 86400000


def test_timeout_defaults_come_from_config(api, lb, overrides):
    overrides(group="haproxy_amphora", timeout_client_data=1234, timeout_member_connect=77)
    listener = _create(api, lb)
    assert listener["timeout_client_data"] == 1234 and listener["timeout_member_connect"] == 77


def test_same_port_conflicts_only_within_l4_family(api, lb):
    _create(api, lb, protocol="HTTP", protocol_port=80)
    resp = _post(api, lb, protocol="TCP", protocol_port=80)
    assert resp.status_code == 409
    assert resp.json()["faultstring"] == (
        "Another Listener on this Load Balancer is already using protocol HTTP and protocol_port 80"
    )
    assert _lb_status(api, lb["id"]) == "ACTIVE"
    udp = _create(api, lb, protocol="UDP", protocol_port=80)
    assert udp["protocol"] == "UDP"
    _create(api, lb, protocol="SCTP", protocol_port=80)
    assert _post(api, lb, protocol="PROMETHEUS", protocol_port=80).status_code == 409


@pytest.mark.parametrize(
    "fields, code, fragment",
    [
        ({"protocol": None}, 400, "protocol"),
        ({"protocol": "PROXY"}, 400, "Value should be one of:"),
        ({"protocol": "http"}, 400, "Value should be one of:"),
        ({"protocol_port": 0}, 400, "Value should be greater or equal to 1"),
        ({"protocol_port": 65536}, 400, "Value should be lower or equal to 65535"),
        ({"protocol_port": "eighty"}, 400, "protocol_port"),
        ({"connection_limit": -2}, 400, "Value should be greater or equal to -1"),
        ({"timeout_client_data": -1}, 400, "Value should be greater or equal to 0"),
        ({"timeout_member_data": 86400001}, 400, "Value should be lower or equal to 86400000"),
        ({"name": "n" * 256}, 400, "Value should have a maximum character requirement of 255"),
        ({"bogus": 1}, 400, "Unknown attribute for argument listener: bogus"),
        ({"id": str(uuid.uuid4())}, 400, "Unknown attribute for argument listener: id"),
        ({"default_pool_id": "nope"}, 400, "Value should be UUID format"),
        ({"client_authentication": "SOMETIMES"}, 400, "Value should be one of:"),
        ({"allowed_cidrs": ["10.0.0.0/33"]}, 400, "Value should be IPv4 or IPv6 CIDR format"),
        (
            {"allowed_cidrs": ["2001:db8::/64"]},
            400,
            "Validation failure: CIDR 2001:db8::/64 IP version incompatible with all VIPs "
            "['198.51.100.10'] IP version.",
        ),
        (
            {"protocol": "UDP", "insert_headers": {"X-Forwarded-For": "true"}},
            400,
            "insert-headers is not a valid option for a UDP protocol listener.",
        ),
        (
            {"insert_headers": {"X-Bogus": "true"}},
            400,
            "['X-Bogus'] is not a valid option for insert_headers",
        ),
        (
            {"insert_headers": {"X-SSL-Client-DN": "true"}},
            400,
            "['X-SSL-Client-DN'] is not a valid option for HTTP protocol listener.",
        ),
        ({"insert_headers": {"X-Forwarded-For": "t" * 256}}, 400, "maximum character requirement of 255"),
        (
            {"default_tls_container_ref": "ref"},
            400,
            "Validation failure: Certificate container references are not allowed on HTTP protocol "
            "listeners.",
        ),
        (
            {"protocol": "TCP", "sni_container_refs": ["a"]},
            400,
            "Certificate container references are not allowed on TCP protocol listeners.",
        ),
        (
            {"protocol": "UDP", "default_tls_container_ref": "ref"},
            400,
            "Validation failure: UDP protocol listener does not support TLS.",
        ),
        (
            {"protocol": "SCTP", "client_ca_tls_container_ref": "ref"},
            400,
            "Validation failure: SCTP protocol listener does not support TLS.",
        ),
        (
            {"protocol": "TERMINATED_HTTPS"},
            400,
            "Validation failure: An SNI or default certificate container reference must be provided for "
            "TERMINATED_HTTPS protocol listeners.",
        ),
        (
            {"protocol": "TERMINATED_HTTPS", "client_ca_tls_container_ref": "ca"},
            400,
            "An SNI or default certificate container reference must be provided with a client CA "
            "container reference.",
        ),
        (
            {"client_authentication": "MANDATORY"},
            400,
            "Validation failure: Client authentication setting MANDATORY requires a client CA "
            "container reference.",
        ),
        (
            {"client_crl_container_ref": "crl"},
            400,
            "A client authentication CA reference is required to specify a client authentication "
            "revocation list.",
        ),
        (
            {"hsts_max_age": 10},
            400,
            "The HSTS feature can only be used for listeners using the TERMINATED_HTTPS protocol.",
        ),
        (
            {"hsts_preload": True},
            400,
            "HSTS configuration options hsts_include_subdomains and hsts_preload only make sense if "
            "hsts_max_age is set as well.",
        ),
        ({"hsts_max_age": -1}, 400, "Value should be greater or equal to 0"),
        ({"tls_ciphers": "AES128 SHA"}, 400, "Invalid characters in cipher string"),
        ({"tls_ciphers": "x" * 2049}, 400, "maximum character requirement of 2048"),
        ({"alpn_protocols": ["spdy"]}, 400, "Value should be a valid ALPN protocol ID"),
        ({"tls_versions": ["x" * 33]}, 400, "maximum character requirement of 32"),
        (
            {"protocol": "PROMETHEUS", "default_pool_id": str(uuid.uuid4())},
            400,
            "Validation failure: Protocol PROMETHEUS listeners cannot have child objects.",
        ),
        (
            {"default_pool_id": "00000000-0000-0000-0000-000000000001"},
            404,
            "Pool 00000000-0000-0000-0000-000000000001 not found.",
        ),
        (
            {"loadbalancer_id": "00000000-0000-0000-0000-000000000002"},
            404,
            "Load Balancer 00000000-0000-0000-0000-000000000002 not found.",
        ),
    ],
)
def test_bad_post(api, lb, fields, code, fragment):
    body = {"loadbalancer_id": lb["id"], "protocol": "HTTP", "protocol_port": 80, **fields}
    body = {k: v for k, v in body.items() if v is not None}
    resp = api.post(LISTENERS, json={"listener": body})
    assert resp.status_code == code, resp.text
    fault = resp.json()
    assert fragment in fault["faultstring"]
    assert fault["faultcode"] == "Client"
    assert _lb_status(api, lb["id"]) == "ACTIVE"
    assert api.get(f"{LBS}/{lb['id']}").json()["loadbalancer"]["listeners"] == []


def test_missing_wrapper_and_mandatory_fields(api, lb):
    resp = api.post(LISTENERS, json={"protocol": "HTTP"})
    assert resp.status_code == 400
    resp = _post(api, lb, protocol_port=None)
    assert resp.status_code == 400
    assert "protocol_port" in resp.json()["faultstring"]
    resp = api.post(LISTENERS, json={"listener": {"protocol": "HTTP", "protocol_port": 80}})
    assert resp.json()["faultstring"] == (
        "Invalid input for field/attribute loadbalancer_id. Value: 'None'. Mandatory field missing."
    )


@pytest.mark.parametrize("protocol", ["TERMINATED_HTTPS", "PROMETHEUS"])
def test_protocols_disabled_by_config(api, lb, overrides, protocol):
    overrides(group="api_settings", allow_tls_terminated_listeners=False, allow_prometheus_listeners=False)
    resp = _post(api, lb, protocol=protocol, default_tls_container_ref="ref")
    assert resp.status_code == 400
    expected = f"The selected protocol is not allowed in this deployment: {protocol}"
    assert resp.json()["faultstring"] == expected


def test_prometheus_and_header_insertion(api, lb):
    prom = _create(api, lb, protocol="PROMETHEUS", protocol_port=9100)
    assert prom["tls_versions"] is None
    headers = {"X-Forwarded-For": "true", "X-Forwarded-Port": "true", "X-Forwarded-Proto": "true"}
    listener = _create(api, lb, insert_headers=headers)
    assert listener["insert_headers"] == headers


def test_allowed_cidrs_are_normalised_and_deduplicated(api, lb):
    cidrs = ["192.0.2.5/24", "192.0.2.0/24", "198.51.100.7"]
    listener = _create(api, lb, allowed_cidrs=cidrs)
    assert listener["allowed_cidrs"] == ["192.0.2.0/24", "198.51.100.7/32"]
    resp = api.put(f"{LISTENERS}/{listener['id']}", json={"listener": {"allowed_cidrs": []}})
    assert resp.status_code == 200 and resp.json()["listener"]["allowed_cidrs"] is None


def test_allowed_cidrs_match_any_vip_family(api, lb):
    # The noop network only has IPv4 subnets: give the LB an IPv6 primary VIP directly.
    extra = [{"subnet_id": str(uuid.uuid4()), "ip_address": "192.0.2.9"}]
    _set_lb(lb["id"], vip_address="2001:db8::5", additional_vips=extra)
    listener = _create(api, lb, allowed_cidrs=["2001:db8::/64", "10.0.0.0/8"])
    assert listener["allowed_cidrs"] == ["2001:db8::/64", "10.0.0.0/8"]


def test_allowed_cidrs_refused_with_custom_vip_security_groups(api):
    lb = api.create_lb(vip_sg_ids=[str(uuid.uuid4())])
    resp = _post(api, lb, allowed_cidrs=["10.0.0.0/8"])
    assert resp.status_code == 400
    assert resp.json()["faultstring"] == (
        "Validation failure: Allowed CIDRs are not allowed when using custom VIP Security Groups."
    )


def test_default_pool_binding_and_protocol_check(api, lb):
    resp = api.post(
        POOLS, json={"pool": {"loadbalancer_id": lb["id"], "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"}}
    )
    pool = resp.json()["pool"]
    api.wait_lb(lb["id"])
    bad = _post(api, lb, protocol="UDP", default_pool_id=pool["id"])
    assert bad.status_code == 400
    assert bad.json()["faultstring"] == (
        "Validation failure: The pool protocol 'HTTP' is invalid while the listener protocol is 'UDP'."
    )
    listener = _create(api, lb, default_pool_id=pool["id"])
    assert listener["default_pool_id"] == pool["id"]
    assert api.get(f"{POOLS}/{pool['id']}").json()["pool"]["listeners"] == [{"id": listener["id"]}]
    other_lb = api.create_lb()
    resp = _post(api, other_lb, default_pool_id=pool["id"])
    assert resp.status_code == 404


def test_update_and_null_resets(api, lb, overrides):
    listener = _create(api, lb, name="a", connection_limit=5, timeout_member_data=1, tags=["t"])
    path = f"{LISTENERS}/{listener['id']}"
    resp = api.put(
        path,
        json={
            "listener": {
                "name": None,
                "description": "d",
                "connection_limit": None,
                "timeout_member_data": None,
                "admin_state_up": None,
                "insert_headers": {"X-Forwarded-For": "true"},
                "tags": ["u", "v"],
            }
        },
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()["listener"]
    assert body["provisioning_status"] == "PENDING_UPDATE"
    assert body["name"] == "" and body["description"] == "d"
    assert body["connection_limit"] == -1 and body["timeout_member_data"] == 50000
    assert body["admin_state_up"] is False
    assert body["insert_headers"] == {"X-Forwarded-For": "true"}
    assert body["tags"] == ["u", "v"]
    active = api.wait_for(path, "listener")
    assert active["name"] == "" and active["tags"] == ["u", "v"]
    api.wait_lb(lb["id"])
    assert api.put(path, json={"listener": {"tags": None}}).json()["listener"]["tags"] == ["u", "v"]


@pytest.mark.parametrize(
    "fields, fragment",
    [
        ({"protocol": "TCP"}, "Unknown attribute for argument listener: protocol"),
        ({"protocol_port": 81}, "Unknown attribute for argument listener: protocol_port"),
        ({"loadbalancer_id": str(uuid.uuid4())}, "Unknown attribute for argument listener: loadbalancer_id"),
        (
            {"default_tls_container_ref": "ref"},
            "Certificate container references are not allowed on HTTP protocol listeners.",
        ),
        (
            {"client_authentication": "OPTIONAL"},
            "Client authentication setting OPTIONAL requires a client CA container reference.",
        ),
        (
            {"hsts_preload": False},
            "The HSTS feature can only be used for listeners using the TERMINATED_HTTPS",
        ),
        ({"insert_headers": {"X-Nope": "1"}}, "['X-Nope'] is not a valid option for insert_headers"),
        ({"tls_versions": []}, "Empty TLS version list."),
        ({"tls_versions": ["TLSv1.2", "TLSv9"]}, "Validation failure: Invalid TLS versions: TLSv9"),
        ({"alpn_protocols": []}, "Empty ALPN protocol list."),
        ({"allowed_cidrs": ["::/0"]}, "IP version incompatible with all VIPs"),
        ({"connection_limit": -5}, "Value should be greater or equal to -1"),
        ({"default_pool_id": str(uuid.uuid4())}, "not found."),
    ],
)
def test_bad_put(api, lb, fields, fragment):
    listener = _create(api, lb)
    resp = api.put(f"{LISTENERS}/{listener['id']}", json={"listener": fields})
    assert resp.status_code in (400, 404), resp.text
    assert fragment in resp.json()["faultstring"]
    assert _lb_status(api, lb["id"]) == "ACTIVE"
    assert api.get(f"{LISTENERS}/{listener['id']}").json()["listener"]["provisioning_status"] == "ACTIVE"


def test_udp_listener_update_refuses_tls_and_headers(api, lb):
    listener = _create(api, lb, protocol="UDP", protocol_port=53)
    body = {"listener": {"insert_headers": {"X-Forwarded-For": "1"}}}
    resp = api.put(f"{LISTENERS}/{listener['id']}", json=body)
    assert resp.status_code == 400
    assert resp.json()["faultstring"] == (
        "Validation failure: UDP protocol listener does not support TLS or header insertion."
    )


def test_writes_refused_while_load_balancer_is_pending(api, lb):
    listener = _create(api, lb)
    _set_lb(lb["id"], provisioning_status="PENDING_UPDATE")
    immutable = f"Load Balancer {lb['id']} is immutable and cannot be updated."
    for resp in (
        _post(api, lb, protocol_port=81),
        api.put(f"{LISTENERS}/{listener['id']}", json={"listener": {"name": "x"}}),
        api.delete(f"{LISTENERS}/{listener['id']}"),
    ):
        assert resp.status_code == 409
        assert resp.json()["faultstring"] == immutable
    assert api.get(f"{LISTENERS}/{listener['id']}").json()["listener"]["name"] == ""
    _set_lb(lb["id"], provisioning_status="ERROR")
    assert _post(api, lb, protocol_port=82).status_code == 409


def test_status_changes_made_by_the_api(api, lb, hold_completions):
    """With the provider unable to report back, statuses stay exactly as the API set them."""
    listener = _create(api, lb)
    hold_completions()
    assert _post(api, lb, protocol_port=81).json()["listener"]["provisioning_status"] == "PENDING_CREATE"
    assert _lb_status(api, lb["id"]) == "PENDING_UPDATE"
    _set_lb(lb["id"], provisioning_status="ACTIVE")
    path = f"{LISTENERS}/{listener['id']}"
    assert api.put(path, json={"listener": {"name": "n"}}).status_code == 200
    assert api.get(path).json()["listener"]["provisioning_status"] == "PENDING_UPDATE"
    assert _lb_status(api, lb["id"]) == "PENDING_UPDATE"
    _set_lb(lb["id"], provisioning_status="ACTIVE")
    assert api.delete(path).status_code == 204
    assert api.get(path).json()["listener"]["provisioning_status"] == "PENDING_DELETE"
    assert _lb_status(api, lb["id"]) == "PENDING_UPDATE"


def test_delete_cascades_policies_and_keeps_pool(api, lb):
    pool = api.post(
        POOLS, json={"pool": {"loadbalancer_id": lb["id"], "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"}}
    ).json()["pool"]
    api.wait_lb(lb["id"])
    listener = _create(api, lb, default_pool_id=pool["id"])
    body = {"l7policy": {"listener_id": listener["id"], "action": "REJECT"}}
    resp = api.post("/v2/lbaas/l7policies", json=body)
    assert resp.status_code == 201, resp.text
    policy_id = resp.json()["l7policy"]["id"]
    api.wait_lb(lb["id"])
    resp = api.delete(f"{LISTENERS}/{listener['id']}")
    assert resp.status_code == 204 and resp.content == b""
    api.wait_for(f"{LISTENERS}/{listener['id']}", "listener", status="DELETED")
    assert api.get(f"/v2/lbaas/l7policies/{policy_id}").status_code == 404
    assert api.get(f"{POOLS}/{pool['id']}").json()["pool"]["listeners"] == []
    assert api.wait_lb(lb["id"])["listeners"] == []
    assert api.delete(f"{LISTENERS}/{listener['id']}").status_code == 404


def test_l7policies_are_listed_by_position(api, lb):
    listener = _create(api, lb)
    ids = []
    for position in (None, 1, 2):
        body = {"listener_id": listener["id"], "action": "REJECT"}
        if position:
            body["position"] = position
        resp = api.post("/v2/lbaas/l7policies", json={"l7policy": body})
        assert resp.status_code == 201, resp.text
        ids.append(resp.json()["l7policy"]["id"])
        api.wait_lb(lb["id"])
    # first appended (1), second inserted at 1, third inserted at 2
    expected = [ids[1], ids[2], ids[0]]
    shown = api.get(f"{LISTENERS}/{listener['id']}").json()["listener"]
    assert [p["id"] for p in shown["l7policies"]] == expected


def test_stats_sum_every_amphora(api, lb):
    listener = _create(api, lb)
    path = f"{LISTENERS}/{listener['id']}/stats"
    keys = ("bytes_in", "bytes_out", "active_connections", "total_connections", "request_errors")
    zeros = dict.fromkeys(keys, 0)
    assert api.get(path).json() == {"stats": zeros}
    with session_scope(write=True) as s:
        for amp, n in (("a1", 1), ("a2", 10)):
            s.add(
                models.ListenerStatistics(
                    listener_id=listener["id"],
                    amphora_id=amp,
                    bytes_in=n,
                    bytes_out=2 * n,
                    active_connections=n,
                    total_connections=3 * n,
                    request_errors=n,
                )
            )
    assert api.get(path).json()["stats"] == dict(zip(keys, (11, 22, 11, 33, 11), strict=True))
    assert api.get(f"{LISTENERS}/{uuid.uuid4()}/stats").status_code == 404


def test_list_filters_sorting_pagination_and_fields(api, lb):
    a = _create(api, lb, name="a", protocol_port=81)
    b = _create(api, lb, name="b", protocol="TCP", protocol_port=82)
    c = _create(api, lb, name="c", protocol="UDP", protocol_port=83)
    other = _create(api, api.create_lb(), name="z")

    def names(query: str) -> list[str]:
        resp = api.get(f"{LISTENERS}?{query}")
        assert resp.status_code == 200, resp.text
        return [x["name"] for x in resp.json()["listeners"]]

    assert names(f"loadbalancer_id={lb['id']}") == ["a", "b", "c"]
    assert names("protocol=TCP") == ["b"]
    assert names("protocol_port=83") == ["c"]
    assert names("admin_state_up=true&sort=protocol_port:desc") == ["c", "b", "a", "z"]
    assert names(f"loadbalancer_id={lb['id']}&sort_key=name&sort_dir=desc") == ["c", "b", "a"]
    page = api.get(f"{LISTENERS}?limit=2").json()
    assert [x["id"] for x in page["listeners"]] == [a["id"], b["id"]]
    assert page["listeners_links"][0]["rel"] == "next"
    nxt = api.get(page["listeners_links"][0]["href"]).json()
    assert [x["id"] for x in nxt["listeners"]] == [c["id"], other["id"]]
    assert {link["rel"] for link in nxt["listeners_links"]} >= {"previous"}
    only = api.get(f"{LISTENERS}?fields=id&fields=protocol&protocol=UDP").json()["listeners"]
    assert only == [{"id": c["id"], "protocol": "UDP"}]
    shown = api.get(f"{LISTENERS}/{a['id']}?fields=name").json()["listener"]
    assert shown == {"name": "a"}
    assert api.get(f"{LISTENERS}?bogus=1").status_code == 400
    assert api.get(f"{LISTENERS}?sort=bogus").status_code == 400
    assert api.get(f"{LISTENERS}?marker={uuid.uuid4()}").status_code == 400
    assert [x["id"] for x in api.get("/v2.0/lbaas/listeners?name=a").json()["listeners"]] == [a["id"]]
    assert api.get(f"/v2.0/lbaas/listeners/{b['id']}").json()["listener"]["name"] == "b"


def test_tag_filters(api, lb):
    _create(api, lb, name="a", protocol_port=81, tags=["red", "blue"])
    _create(api, lb, name="b", protocol_port=82, tags=["red"])
    _create(api, lb, name="c", protocol_port=83)

    def names(query: str) -> list[str]:
        return [x["name"] for x in api.get(f"{LISTENERS}?{query}").json()["listeners"]]

    assert names("tags=red,blue") == ["a"]
    assert names("tags-any=blue,red") == ["a", "b"]
    assert names("not-tags=red") == ["c"]
    assert names("not-tags-any=blue") == ["b", "c"]


def test_project_isolation_and_quota(api, lb, overrides):
    listener = _create(api, lb)
    overrides(group="api_settings", auth_strategy="testing")
    overrides(group="quotas", default_listener_quota=1)
    own = {"X-Project-Id": lb["project_id"], "X-Roles": "member,reader"}
    other = {"X-Project-Id": "b" * 32, "X-Roles": "member,reader"}
    reader = {"X-Project-Id": lb["project_id"], "X-Roles": "reader"}
    denied = "Policy does not allow this request to be performed."
    assert api.get(f"{LISTENERS}/{listener['id']}", headers=own).status_code == 200
    for resp in (
        api.get(f"{LISTENERS}/{listener['id']}", headers=other),
        api.get(f"{LISTENERS}/{listener['id']}/stats", headers=other),
        api.put(f"{LISTENERS}/{listener['id']}", json={"listener": {"name": "x"}}, headers=other),
        api.delete(f"{LISTENERS}/{listener['id']}", headers=other),
        api.post(
            LISTENERS,
            json={"listener": {"loadbalancer_id": lb["id"], "protocol": "TCP", "protocol_port": 90}},
            headers=reader,
        ),
        api.get(f"{LISTENERS}?project_id={lb['project_id']}", headers=other),
    ):
        assert resp.status_code == 403, resp.text
        assert resp.json()["faultstring"] == denied
    assert api.get(LISTENERS, headers=other).json()["listeners"] == []
    assert [x["id"] for x in api.get(LISTENERS, headers=own).json()["listeners"]] == [listener["id"]]
    resp = api.post(
        LISTENERS,
        json={"listener": {"loadbalancer_id": lb["id"], "protocol": "TCP", "protocol_port": 90}},
        headers=own,
    )
    assert resp.status_code == 403
    assert resp.json()["faultstring"] == "Quota has been met for resources: Listener"
    assert api.get(f"{LBS}/{lb['id']}", headers=own).json()["loadbalancer"]["provisioning_status"] == "ACTIVE"


def test_project_id_in_body_is_ignored(api, lb):
    listener = _create(api, lb, project_id="c" * 32)
    assert listener["project_id"] == lb["project_id"]


# ---- TLS: certificate references through the local certificate manager ----------------


@pytest.fixture
def certs(api: Any) -> dict[str, str]:
    """References to real material in the configured (local) certificate manager."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    from octavia.certificates.loader import get_cert_manager
    from tests.unit.certificates import helpers as h

    manager = get_cert_manager()
    ca_key, other_key, server_key, bare_key = (h.make_key() for _ in range(4))
    ca = h.make_cert(ca_key, cn="client-ca", ca=True)
    other_ca = h.make_cert(other_key, cn="other-ca", ca=True)
    server = h.make_cert(server_key, cn="www.example.com", dns_names=["www.example.com"])
    bare = h.make_cert(bare_key, cn=None)
    no_passphrase = serialization.NoEncryption()
    bundle = pkcs12.serialize_key_and_certificates(b"p12", server_key, server, None, no_passphrase)
    return {
        "server": manager.store_cert(None, h.cert_pem(server), h.key_pem(server_key)),
        "sni": manager.store_cert(None, h.cert_pem(server), h.key_pem(server_key)),
        "bare": manager.store_cert(None, h.cert_pem(bare), h.key_pem(bare_key)),
        "pkcs12": manager.store_secret(None, bundle),
        "garbage": manager.store_secret(None, b"\x00not a bundle"),
        "ca": manager.store_secret(None, h.cert_pem(ca)),
        "crl": manager.store_secret(None, h.make_crl((ca, ca_key))),
        "foreign_crl": manager.store_secret(None, h.make_crl((other_ca, other_key))),
        "not_pem": manager.store_secret(None, b"plain text"),
    }


def test_terminated_https_defaults_and_client_auth(api, lb, certs):
    listener = _create(api, lb, protocol="TERMINATED_HTTPS", protocol_port=443,
                       default_tls_container_ref=certs["server"], sni_container_refs=[certs["sni"]],
                       client_ca_tls_container_ref=certs["ca"], client_authentication="MANDATORY",
                       client_crl_container_ref=certs["crl"], hsts_max_age=31536000,
                       hsts_include_subdomains=True, hsts_preload=True,
                       insert_headers={"X-SSL-Client-DN": "true", "X-Forwarded-Proto": "true"})
    assert listener["tls_ciphers"] == CONF.api_settings.default_listener_ciphers
    assert listener["tls_versions"] == ["TLSv1.2", "TLSv1.3"]
    assert listener["alpn_protocols"] == ["h2", "http/1.1", "http/1.0"]
    assert listener["sni_container_refs"] == [certs["sni"]]
    assert (listener["hsts_max_age"], listener["hsts_include_subdomains"], listener["hsts_preload"]) == (
        31536000, True, True)
    assert listener["client_authentication"] == "MANDATORY"
    own = _create(api, lb, protocol="TERMINATED_HTTPS", protocol_port=8443,
                  sni_container_refs=[certs["pkcs12"]], tls_versions=["TLSv1.3"], alpn_protocols=["h2"],
                  tls_ciphers="ECDHE-ECDSA-AES128-GCM-SHA256")
    assert (own["tls_versions"], own["alpn_protocols"]) == (["TLSv1.3"], ["h2"])
    assert own["tls_ciphers"] == "ECDHE-ECDSA-AES128-GCM-SHA256"


@pytest.mark.parametrize(
    "fields, fault",
    [
        ({"default_tls_container_ref": "missing", "sni_container_refs": ["{server}", "gone"]},
         "Could not retrieve certificate: ['gone', 'missing']"),
        ({"default_tls_container_ref": "{bare}"},
         "No CN or DNSName(s) found in certificate. The certificate is invalid."),
        ({"default_tls_container_ref": "{garbage}"}, "The PKCS12 bundle is unreadable."),
        ({"default_tls_container_ref": "{server}", "client_ca_tls_container_ref": "nope"},
         "Could not retrieve certificate: ['nope']"),
        ({"default_tls_container_ref": "{server}", "client_ca_tls_container_ref": "{not_pem}"},
         "Validation failure: The client authentication CA certificate is invalid. It must be a "
         "valid x509 PEM format certificate."),
        ({"default_tls_container_ref": "{server}", "client_ca_tls_container_ref": "{ca}",
          "client_crl_container_ref": "{not_pem}"},
         "The client authentication certificate revocation list is invalid."),
        ({"default_tls_container_ref": "{server}", "client_ca_tls_container_ref": "{ca}",
          "client_crl_container_ref": "{foreign_crl}"},
         "The CRL specified is not valid for client certificate authority reference supplied."),
        ({"default_tls_container_ref": "{server}", "tls_versions": ["TLSv1.2", "SSLv2"]},
         "Validation failure: Invalid TLS versions: SSLv2"),
        ({"default_tls_container_ref": "{server}", "alpn_protocols": []}, "Empty ALPN protocol list."),
        ({"default_tls_container_ref": "{server}", "hsts_include_subdomains": True},
         "only make sense if hsts_max_age is set as well."),
    ],
)
def test_bad_certs(api, lb, certs, fields, fault):
    body = {k: (v.format(**certs) if isinstance(v, str) else [x.format(**certs) for x in v]
                if isinstance(v, list) else v) for k, v in fields.items()}
    resp = _post(api, lb, protocol="TERMINATED_HTTPS", protocol_port=443, **body)
    assert resp.status_code == 400, resp.text
    assert fault in resp.json()["faultstring"]
    assert _lb_status(api, lb["id"]) == "ACTIVE"
    assert api.get(LISTENERS).json()["listeners"] == []


def test_terminated_https_update_rules(api, lb, certs):
    listener = _create(api, lb, protocol="TERMINATED_HTTPS", protocol_port=443,
                       default_tls_container_ref=certs["server"], tls_versions=["TLSv1.3"])
    path = f"{LISTENERS}/{listener['id']}"

    def put(**fields: Any) -> Any:
        resp = api.put(path, json={"listener": fields})
        if resp.status_code == 200:
            api.wait_lb(lb["id"])
        return resp

    fault = put(default_tls_container_ref="gone").json()["faultstring"]
    assert fault == "Could not retrieve certificate: ['gone']"
    assert put(default_tls_container_ref=None).json()["faultstring"] == (
        "Validation failure: An SNI or default certificate container reference must be provided for "
        "TERMINATED_HTTPS protocol listeners.")
    assert "Cannot enable hsts_include_subdomains or hsts_preload if hsts_max_age was not set as well." in (
        put(hsts_preload=True).json()["faultstring"])
    resp = put(tls_versions=None, alpn_protocols=None, tls_ciphers=None, hsts_max_age=60)
    assert resp.status_code == 200, resp.text
    body = resp.json()["listener"]
    assert body["tls_versions"] == ["TLSv1.2", "TLSv1.3"]
    assert body["alpn_protocols"] == ["h2", "http/1.1", "http/1.0"]
    assert body["tls_ciphers"] == CONF.api_settings.default_listener_ciphers
    assert put(hsts_preload=True).json()["listener"]["hsts_preload"] is True
    assert put(client_crl_container_ref=certs["crl"]).json()["faultstring"] == (
        "Validation failure: A client authentication CA reference is required to specify a client "
        "authentication revocation list.")
    resp = put(client_ca_tls_container_ref=certs["ca"], client_authentication="OPTIONAL",
               sni_container_refs=[certs["sni"]])
    assert resp.status_code == 200, resp.text
    assert put(client_crl_container_ref=certs["foreign_crl"]).status_code == 400
    shown = put(client_crl_container_ref=certs["crl"]).json()["listener"]
    assert shown["client_crl_container_ref"] == certs["crl"]
    fault = put(client_ca_tls_container_ref=None).json()["faultstring"]
    assert "requires a client CA container reference" in fault


def test_prometheus_listener_with_a_certificate_is_tls_offload(api, lb, certs):
    listener = _create(api, lb, protocol="PROMETHEUS", protocol_port=9100,
                       default_tls_container_ref=certs["server"])
    assert listener["default_tls_container_ref"] == certs["server"]
    resp = _post(api, lb, protocol="PROMETHEUS", protocol_port=9101, client_ca_tls_container_ref=certs["ca"])
    assert resp.json()["faultstring"] == (
        "Validation failure: An SNI or default certificate container reference must be provided with a "
        "client CA container reference.")


def _statements(db: Any, call: Any) -> int:
    """SQL statements the engine runs during `call` (nothing else runs once all is ACTIVE)."""
    count = 0

    def hook(*_args: Any) -> None:
        nonlocal count
        count += 1

    event.listen(db, "before_cursor_execute", hook)
    try:
        call()
    finally:
        event.remove(db, "before_cursor_execute", hook)
    return count


def test_list_statements_do_not_grow_with_rows(api, lb, db):
    def add(port: int) -> None:
        listener = _create(api, lb, protocol_port=port, tags=["t"])
        body = {"l7policy": {"listener_id": listener["id"], "action": "REJECT"}}
        assert api.post("/v2/lbaas/l7policies", json=body).status_code == 201
        api.wait_lb(lb["id"])

    def listing() -> None:
        assert api.get(LISTENERS).status_code == 200

    add(80)
    one = _statements(db, listing)
    for port in (81, 82, 83):
        add(port)
    assert len(api.get(LISTENERS).json()["listeners"]) == 4
    assert _statements(db, listing) == one
