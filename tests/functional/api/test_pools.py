"""Pool API against a real database and the noop provider."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import event, update

from octavia.db import models
from octavia.db.api import session_scope
from octavia.providers.completion_worker import CompletionWorker

LBS = "/v2/lbaas/loadbalancers"
LISTENERS = "/v2/lbaas/listeners"
POOLS = "/v2/lbaas/pools"
POLICIES = "/v2/lbaas/l7policies"
DEFAULT_VERSIONS = ["TLSv1.2", "TLSv1.3"]
DEFAULT_ALPN = ["h2", "http/1.1", "http/1.0"]


def _post(api: Any, lb: dict[str, Any] | None, **fields: Any) -> Any:
    body = {"protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN", **fields}
    if lb is not None:
        body["loadbalancer_id"] = lb["id"]
    return api.post(POOLS, json={"pool": body})


def _create(api: Any, lb: dict[str, Any] | None, **fields: Any) -> dict[str, Any]:
    resp = _post(api, lb, **fields)
    assert resp.status_code == 201, resp.text
    pool = resp.json()["pool"]
    api.wait_for(f"{POOLS}/{pool['id']}", "pool")
    api.wait_lb(pool["loadbalancers"][0]["id"])
    return pool


def _listener(api: Any, lb: dict[str, Any], protocol: str = "HTTP", port: int = 80) -> dict[str, Any]:
    resp = api.post(
        LISTENERS,
        json={"listener": {"loadbalancer_id": lb["id"], "protocol": protocol, "protocol_port": port}},
    )
    assert resp.status_code == 201, resp.text
    api.wait_lb(lb["id"])
    return resp.json()["listener"]


def _lb_status(api: Any, lb_id: str) -> str:
    return api.get(f"{LBS}/{lb_id}").json()["loadbalancer"]["provisioning_status"]


def _show(api: Any, pool_id: str) -> dict[str, Any]:
    return api.get(f"{POOLS}/{pool_id}").json()["pool"]


@pytest.fixture
def hold_completions(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Call it to drop the noop provider's completion work from then on: nothing reports
    back, so the statuses the API wrote stay visible."""

    def hold() -> None:
        monkeypatch.setattr(CompletionWorker, "submit", lambda _self, _job: None)

    return hold


@pytest.fixture
def lb(api: Any) -> dict[str, Any]:
    return api.create_lb()


def test_create_on_load_balancer_defaults_and_lifecycle(api, lb):
    resp = _post(api, lb, name="web", tags=["a"])
    assert resp.status_code == 201, resp.text
    pool = resp.json()["pool"]
    assert pool["provisioning_status"] == "PENDING_CREATE" and pool["operating_status"] == "OFFLINE"
    assert pool["loadbalancers"] == [{"id": lb["id"]}]
    assert pool["listeners"] == [] and pool["members"] == [] and pool["healthmonitor_id"] is None
    assert pool["session_persistence"] is None
    assert pool["tls_enabled"] is False
    assert pool["tls_ciphers"] is None and pool["tls_versions"] is None and pool["alpn_protocols"] is None
    assert pool["tls_container_ref"] is None and pool["ca_tls_container_ref"] is None
    assert pool["crl_container_ref"] is None
    assert pool["project_id"] == pool["tenant_id"] == lb["project_id"]
    assert pool["description"] == "" and pool["tags"] == ["a"] and pool["admin_state_up"] is True
    active = api.wait_for(f"{POOLS}/{pool['id']}", "pool")
    assert active["updated_at"] is not None
    assert api.wait_lb(lb["id"])["pools"] == [{"id": pool["id"]}]


def test_create_through_listener_sets_its_default_pool(api, lb):
    listener = _listener(api, lb)
    resp = _post(api, None, listener_id=listener["id"])
    assert resp.status_code == 201, resp.text
    pool = resp.json()["pool"]
    assert pool["loadbalancers"] == [{"id": lb["id"]}]
    assert pool["listeners"] == [{"id": listener["id"]}]
    assert api.get(f"{LISTENERS}/{listener['id']}").json()["listener"]["default_pool_id"] == pool["id"]
    api.wait_for(f"{POOLS}/{pool['id']}", "pool")
    api.wait_for(f"{LISTENERS}/{listener['id']}", "listener")
    api.wait_lb(lb["id"])
    again = _post(api, lb, listener_id=listener["id"])
    assert again.status_code == 409
    assert again.json()["faultstring"] == "This listener already has a default pool"
    assert _lb_status(api, lb["id"]) == "ACTIVE"


def test_listener_protocol_rules(api, lb):
    udp = _listener(api, lb, "UDP", 53)
    prom = _listener(api, lb, "PROMETHEUS", 9100)
    resp = _post(api, None, listener_id=udp["id"], protocol="HTTP")
    assert resp.status_code == 400
    assert resp.json()["faultstring"] == (
        "Validation failure: The pool protocol 'HTTP' is invalid while the listener protocol is 'UDP'."
    )
    resp = _post(api, None, listener_id=prom["id"])
    expected = "Validation failure: Protocol PROMETHEUS listeners cannot have child objects."
    assert resp.json()["faultstring"] == expected
    other = api.create_lb()
    resp = _post(api, other, listener_id=udp["id"], protocol="UDP")
    assert resp.status_code == 400
    assert _post(api, None, listener_id=str(uuid.uuid4())).status_code == 404
    assert _create(api, None, listener_id=udp["id"], protocol="UDP")["listeners"] == [{"id": udp["id"]}]


@pytest.mark.parametrize(
    "fields, code, fragment",
    [
        (
            {"loadbalancer_id": None},
            400,
            "Validation failure: Must provide at least one of: loadbalancer_id, listener_id",
        ),
        ({"loadbalancer_id": str(uuid.uuid4())}, 404, "not found."),
        ({"protocol": "TERMINATED_HTTPS"}, 400, "Value should be one of:"),
        (
            {"protocol": None},
            400,
            "Invalid input for field/attribute protocol. Value: 'None'. Mandatory field missing.",
        ),
        ({"lb_algorithm": "RANDOM"}, 400, "Value should be one of:"),
        ({"lb_algorithm": None}, 400, "lb_algorithm"),
        ({"name": "n" * 256}, 400, "maximum character requirement of 255"),
        ({"tls_enabled": "sure"}, 400, "tls_enabled"),
        ({"bogus": 1}, 400, "Unknown attribute for argument pool: bogus"),
        ({"session_persistence": {"type": "BOGUS"}}, 400, "Value should be one of:"),
        ({"session_persistence": {"cookie_name": "x"}}, 400, "Mandatory field missing."),
        ({"session_persistence": {"type": "SOURCE_IP", "extra": 1}}, 400, "Unknown attribute"),
        (
            {"session_persistence": {"type": "APP_COOKIE"}},
            400,
            'Validation failure: Field "cookie_name" must be specified when using the "APP_COOKIE" '
            "session persistence type.",
        ),
        (
            {"session_persistence": {"type": "HTTP_COOKIE", "cookie_name": "c"}},
            400,
            'Validation failure: Field "cookie_name" can only be specified with session persistence of '
            'type "APP_COOKIE".',
        ),
        (
            {"session_persistence": {"type": "APP_COOKIE", "cookie_name": "b@d_cookie_name"}},
            400,
            'Validation failure: Supplied "cookie_name" is invalid.',
        ),
        (
            {"session_persistence": {"type": "APP_COOKIE", "cookie_name": "bad cookie"}},
            400,
            'Supplied "cookie_name" is invalid.',
        ),
        (
            {"session_persistence": {"type": "SOURCE_IP", "persistence_timeout": 3}},
            400,
            "persistence_timeout and persistence_granularity is only for UDP and SCTP protocol pools.",
        ),
        (
            {"protocol": "UDP", "session_persistence": {"type": "HTTP_COOKIE"}},
            400,
            "Session persistence of type HTTP_COOKIE is not supported for UDP/SCTP protocol pools.",
        ),
        (
            {"protocol": "SCTP", "session_persistence": {"type": "APP_COOKIE", "cookie_name": "c"}},
            400,
            "Cookie names are not supported for UDP/SCTP pools.",
        ),
        (
            {"protocol": "UDP", "session_persistence": {"type": "SOURCE_IP", "persistence_granularity": "x"}},
            400,
            "Value should be IPv4 or IPv6 format",
        ),
        (
            {"crl_container_ref": "crl"},
            400,
            "Validation failure: A CA certificate reference is required to specify a revocation list.",
        ),
        ({"tls_enabled": True, "tls_versions": []}, 400, "Empty TLS version list."),
        ({"tls_enabled": True, "tls_versions": ["TLSv4"]}, 400, "Invalid TLS versions: TLSv4"),
        ({"tls_enabled": True, "alpn_protocols": []}, 400, "Empty ALPN protocol list."),
        ({"alpn_protocols": ["h3"]}, 400, "Value should be a valid ALPN protocol ID"),
        ({"tls_ciphers": "A;B"}, 400, "Invalid characters in cipher string"),
    ],
)
def test_bad_post(api, lb, fields, code, fragment):
    body = {"loadbalancer_id": lb["id"], "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN", **fields}
    body = {k: v for k, v in body.items() if v is not None}
    resp = api.post(POOLS, json={"pool": body})
    assert resp.status_code == code, resp.text
    assert fragment in resp.json()["faultstring"]
    assert _lb_status(api, lb["id"]) == "ACTIVE"
    assert api.get(f"{LBS}/{lb['id']}").json()["loadbalancer"]["pools"] == []


def test_tls_settings_and_config_rules(api, lb, overrides):
    pool = _create(api, lb, tls_enabled=True)
    assert pool["tls_enabled"] is True
    assert pool["tls_versions"] == DEFAULT_VERSIONS and pool["alpn_protocols"] == DEFAULT_ALPN
    assert pool["tls_ciphers"].startswith("TLS_AES_128_GCM_SHA256:")
    mine = _create(
        api,
        lb,
        tls_enabled=True,
        tls_versions=["TLSv1.3"],
        tls_ciphers="ECDHE-RSA-AES128-GCM-SHA256",
        alpn_protocols=["h2"],
    )
    assert (mine["tls_versions"], mine["tls_ciphers"], mine["alpn_protocols"]) == (
        ["TLSv1.3"],
        "ECDHE-RSA-AES128-GCM-SHA256",
        ["h2"],
    )
    overrides(group="api_settings", minimum_tls_version="TLSv1.2", tls_cipher_prohibit_list="RC4-MD5:NULL")
    resp = _post(api, lb, tls_enabled=True, tls_versions=["TLSv1.1", "TLSv1.2"])
    assert resp.json()["faultstring"] == (
        "Validation failure: Requested TLS versions are less than the minimum: TLSv1.1 < TLSv1.2"
    )
    resp = _post(api, lb, tls_ciphers="AES:RC4-MD5")
    assert resp.json()["faultstring"] == (
        "Validation failure: The following ciphers have been prohibited by an administrator: RC4-MD5"
    )


def test_session_persistence_create_and_put_merge(api, lb):
    pool = _create(api, lb, session_persistence={"type": "APP_COOKIE", "cookie_name": "a"})
    blank = {"persistence_timeout": None, "persistence_granularity": None}
    assert pool["session_persistence"] == {"type": "APP_COOKIE", "cookie_name": "a", **blank}
    path = f"{POOLS}/{pool['id']}"

    def put(sp: Any) -> Any:
        resp = api.put(path, json={"pool": {"session_persistence": sp}})
        api.wait_lb(lb["id"])
        return resp

    resp = put({"cookie_name": "b"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["pool"]["session_persistence"]["type"] == "APP_COOKIE"
    assert resp.json()["pool"]["session_persistence"]["cookie_name"] == "b"
    resp = put({"type": "SOURCE_IP"})
    assert resp.json()["pool"]["session_persistence"] == {"type": "SOURCE_IP", "cookie_name": None, **blank}
    bad = put({"cookie_name": "c"})
    assert bad.status_code == 400
    assert 'can only be specified with session persistence of type "APP_COOKIE"' in bad.json()["faultstring"]
    assert put({}).json()["pool"]["session_persistence"] is None
    assert put({"type": "HTTP_COOKIE"}).json()["pool"]["session_persistence"]["type"] == "HTTP_COOKIE"
    assert put(None).json()["pool"]["session_persistence"] is None
    expected = "Validation failure: Invalid session_persistence provided."
    assert put({"cookie_name": "x"}).json()["faultstring"] == expected


def test_udp_session_persistence(api, lb):
    sp = {"type": "SOURCE_IP", "persistence_timeout": 60, "persistence_granularity": "255.255.255.0"}
    pool = _create(api, lb, protocol="UDP", session_persistence=sp)
    assert pool["session_persistence"] == {**sp, "cookie_name": None}
    body = {"pool": {"session_persistence": {"persistence_timeout": 5}}}
    resp = api.put(f"{POOLS}/{pool['id']}", json=body)
    assert resp.json()["pool"]["session_persistence"]["type"] == "SOURCE_IP"
    assert resp.json()["pool"]["session_persistence"]["persistence_granularity"] is None


def _status(api: Any, path: str, key: str) -> str:
    return api.get(path).json()[key]["provisioning_status"]


def _unlock() -> None:
    """Put objects back to ACTIVE behind the API (the provider cannot report in these tests)."""
    with session_scope(write=True) as s:
        for model in (models.LoadBalancer, models.Listener, models.Pool):
            s.execute(update(model).values(provisioning_status="ACTIVE"))


def test_status_changes_made_by_the_api(api, lb, hold_completions):
    """With the provider unable to report back, statuses stay exactly as the API set them."""
    listener = _listener(api, lb)
    used = _listener(api, lb, port=81)
    pool = _create(api, lb)
    hold_completions()
    lb_path, pool_path = f"{LBS}/{lb['id']}", f"{POOLS}/{pool['id']}"
    listener_path, used_path = f"{LISTENERS}/{listener['id']}", f"{LISTENERS}/{used['id']}"
    assert _post(api, lb).json()["pool"]["provisioning_status"] == "PENDING_CREATE"
    assert _status(api, lb_path, "loadbalancer") == "PENDING_UPDATE"
    assert _status(api, listener_path, "listener") == "ACTIVE"
    _unlock()
    assert _post(api, None, listener_id=listener["id"]).status_code == 201
    assert _status(api, listener_path, "listener") == "PENDING_UPDATE"
    assert _status(api, lb_path, "loadbalancer") == "PENDING_UPDATE"
    _unlock()
    assert api.put(used_path, json={"listener": {"default_pool_id": pool["id"]}}).status_code == 200
    _unlock()
    assert api.put(pool_path, json={"pool": {"name": "n"}}).status_code == 200
    assert _status(api, pool_path, "pool") == "PENDING_UPDATE"
    assert _status(api, used_path, "listener") == "PENDING_UPDATE"
    assert _status(api, listener_path, "listener") == "ACTIVE"
    assert _status(api, lb_path, "loadbalancer") == "PENDING_UPDATE"
    _unlock()
    assert api.delete(pool_path).status_code == 204
    assert _status(api, pool_path, "pool") == "PENDING_DELETE"
    assert _status(api, used_path, "listener") == "PENDING_UPDATE"
    assert _status(api, lb_path, "loadbalancer") == "PENDING_UPDATE"


def test_update_locks_listeners_and_resets(api, lb):
    listener = _listener(api, lb)
    pool = _create(
        api, None, listener_id=listener["id"], name="p", tls_enabled=True, tls_versions=["TLSv1.3"]
    )
    path = f"{POOLS}/{pool['id']}"
    resp = api.put(
        path,
        json={
            "pool": {
                "name": None,
                "lb_algorithm": "SOURCE_IP",
                "admin_state_up": None,
                "tls_versions": None,
                "tls_ciphers": None,
                "tags": ["t"],
            }
        },
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()["pool"]
    assert body["provisioning_status"] == "PENDING_UPDATE"
    assert body["name"] == "" and body["lb_algorithm"] == "SOURCE_IP" and body["admin_state_up"] is False
    assert body["tls_versions"] == DEFAULT_VERSIONS and body["tls_ciphers"].startswith("TLS_AES_128")
    assert body["tags"] == ["t"]
    api.wait_for(path, "pool")
    api.wait_for(f"{LISTENERS}/{listener['id']}", "listener")
    api.wait_lb(lb["id"])


@pytest.mark.parametrize(
    "fields, fragment",
    [
        ({"protocol": "TCP"}, "Unknown attribute for argument pool: protocol"),
        ({"loadbalancer_id": str(uuid.uuid4())}, "Unknown attribute for argument pool: loadbalancer_id"),
        ({"listener_id": str(uuid.uuid4())}, "Unknown attribute for argument pool: listener_id"),
        ({"lb_algorithm": None}, "None is not a valid option for lb_algorithm"),
        ({"lb_algorithm": "BEST"}, "Value should be one of:"),
        (
            {"crl_container_ref": "crl"},
            "Validation failure: A CA reference is required to specify a certificate revocation list.",
        ),
        (
            {"ca_tls_container_ref": None, "crl_container_ref": "crl"},
            "A CA reference is required to specify a certificate revocation list.",
        ),
        (
            {"session_persistence": {"type": "SOURCE_IP", "persistence_timeout": 1}},
            "persistence_timeout and persistence_granularity is only for UDP and SCTP protocol pools.",
        ),
        ({"tls_versions": []}, "Empty TLS version list."),
        ({"alpn_protocols": []}, "Empty ALPN protocol list."),
    ],
)
def test_bad_put(api, lb, fields, fragment):
    pool = _create(api, lb)
    resp = api.put(f"{POOLS}/{pool['id']}", json={"pool": fields})
    assert resp.status_code == 400, resp.text
    assert fragment in resp.json()["faultstring"]
    assert _lb_status(api, lb["id"]) == "ACTIVE"
    assert _show(api, pool["id"])["provisioning_status"] == "ACTIVE"


def test_writes_refused_while_load_balancer_is_pending(api, lb):
    pool = _create(api, lb)
    with session_scope(write=True) as s:
        s.execute(
            update(models.LoadBalancer)
            .where(models.LoadBalancer.id == lb["id"])
            .values(provisioning_status="PENDING_UPDATE")
        )
    immutable = f"Load Balancer {lb['id']} is immutable and cannot be updated."
    for resp in (
        _post(api, lb),
        api.put(f"{POOLS}/{pool['id']}", json={"pool": {"name": "x"}}),
        api.delete(f"{POOLS}/{pool['id']}"),
    ):
        assert resp.status_code == 409
        assert resp.json()["faultstring"] == immutable
    assert _show(api, pool["id"])["name"] == ""


def test_listeners_of_a_pool_follow_enabled_redirect_policies_with_rules(api, lb):
    pool = _create(api, lb)
    first = _listener(api, lb, port=80)
    second = _listener(api, lb, port=81)
    resp = api.post(
        POLICIES,
        json={
            "l7policy": {
                "listener_id": second["id"],
                "action": "REDIRECT_TO_POOL",
                "redirect_pool_id": pool["id"],
            }
        },
    )
    assert resp.status_code == 201, resp.text
    policy = resp.json()["l7policy"]
    api.wait_lb(lb["id"])
    assert _show(api, pool["id"])["listeners"] == []
    resp = api.post(
        f"{POLICIES}/{policy['id']}/rules",
        json={"rule": {"type": "PATH", "compare_type": "STARTS_WITH", "value": "/api"}},
    )
    assert resp.status_code == 201, resp.text
    api.wait_lb(lb["id"])
    assert _show(api, pool["id"])["listeners"] == [{"id": second["id"]}]
    api.put(f"{LISTENERS}/{first['id']}", json={"listener": {"default_pool_id": pool["id"]}})
    api.wait_lb(lb["id"])
    assert _show(api, pool["id"])["listeners"] == [{"id": first["id"]}, {"id": second["id"]}]
    api.put(f"{POLICIES}/{policy['id']}", json={"l7policy": {"admin_state_up": False}})
    api.wait_lb(lb["id"])
    assert _show(api, pool["id"])["listeners"] == [{"id": first["id"]}]
    resp = api.delete(f"{POOLS}/{pool['id']}")
    assert resp.status_code == 409
    assert resp.json()["faultstring"] == f"Pool {pool['id']} is in use by L7 policy {policy['id']}"
    assert _lb_status(api, lb["id"]) == "ACTIVE"


def test_delete_clears_default_pool_and_cascades(api, lb):
    listener = _listener(api, lb)
    pool = _create(api, None, listener_id=listener["id"])
    api.wait_for(f"{LISTENERS}/{listener['id']}", "listener")
    body = {"member": {"address": "192.0.2.1", "protocol_port": 80}}
    resp = api.post(f"{POOLS}/{pool['id']}/members", json=body)
    assert resp.status_code == 201, resp.text
    member = resp.json()["member"]
    api.wait_lb(lb["id"])
    api.wait_for(f"{POOLS}/{pool['id']}", "pool")
    resp = api.post(
        "/v2/lbaas/healthmonitors",
        json={
            "healthmonitor": {
                "pool_id": pool["id"],
                "type": "HTTP",
                "delay": 5,
                "timeout": 3,
                "max_retries": 2,
            }
        },
    )
    assert resp.status_code == 201, resp.text
    hm = resp.json()["healthmonitor"]
    api.wait_lb(lb["id"])
    shown = api.wait_for(f"{POOLS}/{pool['id']}", "pool")
    assert shown["members"] == [{"id": member["id"]}] and shown["healthmonitor_id"] == hm["id"]
    assert [p["id"] for p in api.get(f"{POOLS}?healthmonitor_id={hm['id']}").json()["pools"]] == [pool["id"]]
    assert api.get(f"{POOLS}?healthmonitor_id={uuid.uuid4()}").json()["pools"] == []
    resp = api.delete(f"{POOLS}/{pool['id']}")
    assert resp.status_code == 204
    api.wait_for(f"{POOLS}/{pool['id']}", "pool", status="DELETED")
    api.wait_lb(lb["id"])
    shown = api.wait_for(f"{LISTENERS}/{listener['id']}", "listener")
    assert shown["default_pool_id"] is None
    assert api.get(f"/v2/lbaas/healthmonitors/{hm['id']}").status_code == 404
    assert api.delete(f"{POOLS}/{pool['id']}").status_code == 404


def test_list_filters_sorting_pagination_and_fields(api, lb):
    a = _create(api, lb, name="a", lb_algorithm="SOURCE_IP")
    b = _create(api, lb, name="b", protocol="TCP")
    c = _create(api, lb, name="c", protocol="UDP", tls_enabled=True)

    def names(query: str) -> list[str]:
        resp = api.get(f"{POOLS}?{query}")
        assert resp.status_code == 200, resp.text
        return [x["name"] for x in resp.json()["pools"]]

    assert names(f"loadbalancer_id={lb['id']}") == ["a", "b", "c"]
    assert names("protocol=TCP") == ["b"]
    assert names("lb_algorithm=SOURCE_IP") == ["a"]
    assert names("tls_enabled=true") == ["c"]
    assert names("sort=name:desc") == ["c", "b", "a"]
    page = api.get(f"{POOLS}?limit=2").json()
    assert [x["id"] for x in page["pools"]] == [a["id"], b["id"]]
    assert page["pools_links"][0]["rel"] == "next"
    rest = api.get(page["pools_links"][0]["href"]).json()["pools"]
    assert [x["id"] for x in rest] == [c["id"]]
    assert api.get(f"{POOLS}?fields=id&name=b").json()["pools"] == [{"id": b["id"]}]
    assert api.get(f"{POOLS}/{a['id']}?fields=lb_algorithm").json()["pool"] == {"lb_algorithm": "SOURCE_IP"}
    assert api.get(f"{POOLS}?listener_id={uuid.uuid4()}").status_code == 400
    assert api.get(f"/v2.0/lbaas/pools/{c['id']}").json()["pool"]["name"] == "c"


def test_project_isolation_and_quota(api, lb, overrides):
    pool = _create(api, lb)
    overrides(group="api_settings", auth_strategy="testing")
    overrides(group="quotas", default_pool_quota=1)
    own = {"X-Project-Id": lb["project_id"], "X-Roles": "member,reader"}
    other = {"X-Project-Id": "b" * 32, "X-Roles": "member,reader"}
    for resp in (
        api.get(f"{POOLS}/{pool['id']}", headers=other),
        api.put(f"{POOLS}/{pool['id']}", json={"pool": {"name": "x"}}, headers=other),
        api.delete(f"{POOLS}/{pool['id']}", headers=other),
        api.post(
            POOLS,
            json={"pool": {"loadbalancer_id": lb["id"], "protocol": "TCP", "lb_algorithm": "ROUND_ROBIN"}},
            headers=other,
        ),
    ):
        assert resp.status_code == 403, resp.text
        assert resp.json()["faultstring"] == "Policy does not allow this request to be performed."
    assert api.get(POOLS, headers=other).json()["pools"] == []
    resp = api.post(
        POOLS,
        json={"pool": {"loadbalancer_id": lb["id"], "protocol": "TCP", "lb_algorithm": "ROUND_ROBIN"}},
        headers=own,
    )
    assert resp.status_code == 403
    assert resp.json()["faultstring"] == "Quota has been met for resources: Pool"


@pytest.fixture
def certs(api: Any) -> dict[str, str]:
    """Member-side TLS material stored in the configured (local) certificate manager."""
    from octavia.certificates.loader import get_cert_manager
    from tests.unit.certificates import helpers as h

    manager = get_cert_manager()
    ca_key, other_key, client_key = h.make_key(), h.make_key(), h.make_key()
    ca = h.make_cert(ca_key, cn="backend-ca", ca=True)
    other = h.make_cert(other_key, cn="other-ca", ca=True)
    client = h.make_cert(client_key, cn="lb.example.com")
    return {
        "client": manager.store_cert(None, h.cert_pem(client), h.key_pem(client_key)),
        "ca": manager.store_secret(None, h.cert_pem(ca)),
        "crl": manager.store_secret(None, h.make_crl((ca, ca_key))),
        "foreign_crl": manager.store_secret(None, h.make_crl((other, other_key))),
    }


def test_backend_reencryption_references(api, lb, certs):
    pool = _create(api, lb, tls_enabled=True, tls_container_ref=certs["client"],
                   ca_tls_container_ref=certs["ca"], crl_container_ref=certs["crl"])
    assert (pool["tls_container_ref"], pool["ca_tls_container_ref"], pool["crl_container_ref"]) == (
        certs["client"], certs["ca"], certs["crl"])
    for fields, fault in (
        ({"tls_container_ref": "gone"}, "Could not retrieve certificate: ['gone']"),
        ({"ca_tls_container_ref": "nope"}, "Could not retrieve certificate: ['nope']"),
        ({"ca_tls_container_ref": certs["ca"], "crl_container_ref": certs["foreign_crl"]},
         "The CRL specified is not valid for client certificate authority reference supplied."),
        ({"ca_tls_container_ref": certs["client"], "crl_container_ref": "x"},
         "Could not retrieve certificate: ['x']"),
    ):
        resp = _post(api, lb, **fields)
        assert resp.status_code == 400, resp.text
        assert fault in resp.json()["faultstring"]
    path = f"{POOLS}/{pool['id']}"
    resp = api.put(path, json={"pool": {"crl_container_ref": certs["foreign_crl"]}})
    assert resp.status_code == 400
    assert "The CRL specified is not valid" in resp.json()["faultstring"]
    resp = api.put(path, json={"pool": {"ca_tls_container_ref": None}})
    assert resp.json()["faultstring"] == (
        "Validation failure: A CA reference cannot be removed when a certificate revocation list is present."
    )
    resp = api.put(path, json={"pool": {"ca_tls_container_ref": None, "crl_container_ref": None,
                                        "tls_container_ref": None, "alpn_protocols": None}})
    assert resp.status_code == 200, resp.text
    body = resp.json()["pool"]
    assert body["ca_tls_container_ref"] is None and body["crl_container_ref"] is None
    assert body["alpn_protocols"] is None


def test_list_statements_do_not_grow_with_rows(api, lb, db):
    count = 0

    def hook(*_args: Any) -> None:
        nonlocal count
        count += 1

    def statements_of_a_listing() -> int:
        nonlocal count
        count = 0
        event.listen(db, "before_cursor_execute", hook)
        try:
            assert api.get(POOLS).status_code == 200
        finally:
            event.remove(db, "before_cursor_execute", hook)
        return count

    def add(port: int) -> None:
        listener = _listener(api, lb, port=port)
        pool = _create(api, None, listener_id=listener["id"], tags=["t"])
        body = {"member": {"address": "192.0.2.1", "protocol_port": port}}
        assert api.post(f"{POOLS}/{pool['id']}/members", json=body).status_code == 201
        api.wait_lb(lb["id"])

    add(80)
    one = statements_of_a_listing()
    for port in (81, 82, 83):
        add(port)
    assert len(api.get(POOLS).json()["pools"]) == 4
    assert statements_of_a_listing() == one
