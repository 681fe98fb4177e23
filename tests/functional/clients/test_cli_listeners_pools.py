"""`openstack loadbalancer listener|pool|member|healthmonitor` through their whole lifecycle."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.functional.clients.conftest import PROJECT, SUBNET

pytestmark = pytest.mark.clients


@pytest.fixture(scope="module")
def lb(cli: Any) -> Iterator[dict[str, Any]]:
    created = cli.json("create", "--name", f"children-{id(cli)}", "--project", PROJECT,
                       "--vip-subnet-id", SUBNET, "--wait")
    yield created
    cli.ok("delete", "--cascade", "--wait", created["id"])


def test_listener_lifecycle(cli, http, lb, name):
    listener = cli.json(
        "listener create", "--name", name, "--description", "web", "--protocol", "HTTP", "--protocol-port",
        "8080", "--connection-limit", "100", "--insert-headers", "X-Forwarded-For=true",
        "--timeout-client-data", "1000", "--allowed-cidr", "10.0.0.0/8", "--allowed-cidr", "192.0.2.0/24",
        "--tag", "front", "--wait", lb["id"],
    )
    assert listener["provisioning_status"] == "ACTIVE" and listener["protocol_port"] == 8080
    assert listener["connection_limit"] == 100 and listener["timeout_client_data"] == 1000
    assert listener["insert_headers"] == {"X-Forwarded-For": "true"}
    assert listener["allowed_cidrs"] == ["10.0.0.0/8", "192.0.2.0/24"]
    assert listener["loadbalancers"] == [{"id": lb["id"]}] and listener["project_id"] == PROJECT

    assert cli.json("listener show", name)["id"] == listener["id"]

    def listed(*filters: str) -> list[str]:
        return [row["id"] for row in cli.json("listener list", "--name", name, *filters)]

    assert listed("--loadbalancer", lb["id"], "--project", PROJECT, "--enable") == [listener["id"]]
    assert listed("--tags", "front") == [listener["id"]]
    assert listed("--disable") == []

    pool = cli.json("pool create", "--name", name, "--protocol", "HTTP", "--lb-algorithm",
                    "ROUND_ROBIN", "--loadbalancer", lb["id"], "--wait")
    cli.ok("listener set", "--name", name + "-2", "--connection-limit", "200", "--disable",
           "--default-pool", pool["id"], "--timeout-member-data", "2000", "--tag", "back", "--wait",
           listener["id"])
    shown = cli.json("listener show", listener["id"])
    assert (shown["name"], shown["connection_limit"], shown["admin_state_up"]) == (name + "-2", 200, False)
    assert shown["default_pool_id"] == pool["id"] and shown["timeout_member_data"] == 2000
    assert sorted(shown["tags"]) == ["back", "front"]

    cli.ok("listener unset", "--connection-limit", "--insert-headers", "--allowed-cidrs",
           "--description", "--default-pool", "--timeout-member-data", "--tag", "front", "--wait",
           listener["id"])
    shown = cli.json("listener show", listener["id"])
    assert shown["connection_limit"] == -1 and shown["description"] == "" and not shown["default_pool_id"]
    assert not shown["insert_headers"] and not shown["allowed_cidrs"]
    assert shown["timeout_member_data"] == 50000 and shown["tags"] == ["back"]

    stats = cli.json("listener stats show", listener["id"])
    assert stats["bytes_in"] == 0 and stats["total_connections"] == 0

    # A second listener on the same port is a conflict, reported with the server's faultstring.
    assert "already" in cli.fails("listener create", "--protocol", "TCP",
                                  "--protocol-port", "8080", lb["id"])
    cli.ok("listener delete", "--wait", listener["id"])
    cli.ok("pool delete", "--wait", pool["id"])
    assert http.status(f"/v2/lbaas/listeners/{listener['id']}") == 404
    assert http.get(f"/v2/lbaas/loadbalancers/{lb['id']}")["loadbalancer"]["provisioning_status"] == "ACTIVE"


def test_pool_lifecycle(cli, http, lb, name):
    pool = cli.json(
        "pool create", "--name", name, "--description", "backends", "--protocol", "HTTP", "--lb-algorithm",
        "LEAST_CONNECTIONS", "--session-persistence", "type=APP_COOKIE,cookie_name=chip", "--loadbalancer",
        lb["id"], "--tag", "pool", "--wait",
    )
    assert pool["provisioning_status"] == "ACTIVE" and pool["lb_algorithm"] == "LEAST_CONNECTIONS"
    assert pool["session_persistence"]["type"] == "APP_COOKIE"
    assert pool["session_persistence"]["cookie_name"] == "chip"
    assert pool["loadbalancers"] == [{"id": lb["id"]}]

    listed = cli.json("pool list", "--loadbalancer", lb["id"], "--tags", "pool")
    assert pool["id"] in [row["id"] for row in listed]
    assert pool["id"] not in [row["id"] for row in cli.json("pool list", "--not-tags", "pool")]
    assert cli.json("pool show", name)["description"] == "backends"

    cli.ok("pool set", "--lb-algorithm", "SOURCE_IP", "--session-persistence", "type=SOURCE_IP",
           "--name", name + "-2", "--disable", "--tls-ciphers", "ECDHE-RSA-AES128-GCM-SHA256", "--wait",
           pool["id"])
    shown = cli.json("pool show", pool["id"])
    assert (shown["lb_algorithm"], shown["name"]) == ("SOURCE_IP", name + "-2")
    assert shown["admin_state_up"] is False
    assert shown["session_persistence"]["type"] == "SOURCE_IP"
    assert shown["tls_ciphers"] == "ECDHE-RSA-AES128-GCM-SHA256"

    cli.ok("pool unset", "--session-persistence", "--description", "--name",
           "--tls-ciphers", "--tag", "pool", "--wait", pool["id"])
    shown = cli.json("pool show", pool["id"])
    assert not shown["session_persistence"] and shown["description"] == "" and shown["name"] == ""
    assert shown["tags"] == []

    cli.ok("pool delete", "--wait", pool["id"])
    assert http.status(f"/v2/lbaas/pools/{pool['id']}") == 404


def test_member_lifecycle(cli, http, lb, name):
    pool = cli.json("pool create", "--protocol", "TCP", "--lb-algorithm", "ROUND_ROBIN",
                    "--loadbalancer", lb["id"], "--wait")
    member = cli.json(
        "member create", "--name", name, "--address", "192.0.2.20", "--protocol-port", "80", "--weight", "5",
        "--subnet-id", SUBNET, "--monitor-port", "81", "--monitor-address", "192.0.2.21", "--enable-backup",
        "--tag", "m", "--wait", pool["id"],
    )
    assert member["provisioning_status"] == "ACTIVE" and member["operating_status"] == "NO_MONITOR"
    assert (member["address"], member["protocol_port"], member["weight"]) == ("192.0.2.20", 80, 5)
    assert (member["monitor_address"], member["monitor_port"], member["backup"]) == ("192.0.2.21", 81, True)
    assert member["subnet_id"] == SUBNET

    second = cli.json("member create", "--address", "192.0.2.22", "--protocol-port", "80",
                      "--wait", pool["id"])
    rows = cli.json("member list", pool["id"])
    assert sorted(row["address"] for row in rows) == ["192.0.2.20", "192.0.2.22"]
    assert [row["id"] for row in cli.json("member list", "--tags", "m", pool["id"])] == [
        member["id"]
    ]
    assert cli.json("member show", pool["id"], name)["id"] == member["id"]

    cli.ok("member set", "--weight", "10", "--disable", "--disable-backup", "--name",
           name + "-2", "--wait", pool["id"], member["id"])
    shown = cli.json("member show", pool["id"], member["id"])
    assert (shown["weight"], shown["admin_state_up"], shown["backup"], shown["name"]) == (
        10, False, False, name + "-2")

    cli.ok("member unset", "--weight", "--monitor-address", "--monitor-port", "--name",
           "--tag", "m", "--wait", pool["id"], member["id"])
    shown = cli.json("member show", pool["id"], member["id"])
    assert shown["weight"] == 1 and shown["monitor_address"] is None and shown["monitor_port"] is None
    assert shown["name"] == "" and shown["tags"] == []

    assert "already" in cli.fails("member create", "--address", "192.0.2.22",
                                  "--protocol-port", "80", pool["id"])
    cli.ok("member delete", "--wait", pool["id"], second["id"])
    assert http.status(f"/v2/lbaas/pools/{pool['id']}/members/{second['id']}") == 404
    cli.ok("pool delete", "--wait", pool["id"])


def test_health_monitor_lifecycle(cli, http, lb, name):
    pool = cli.json("pool create", "--protocol", "HTTP", "--lb-algorithm", "ROUND_ROBIN",
                    "--loadbalancer", lb["id"], "--wait")
    member = cli.json("member create", "--address", "192.0.2.30", "--protocol-port", "80",
                      "--wait", pool["id"])
    hm = cli.json(
        "healthmonitor create", "--name", name, "--delay", "5", "--timeout", "3", "--max-retries", "2",
        "--max-retries-down", "4", "--type", "HTTP", "--url-path", "/health", "--expected-codes", "200,201",
        "--http-method", "HEAD", "--http-version", "1.1", "--domain-name", "example.com", "--tag", "hm",
        "--wait", pool["id"],
    )
    assert hm["provisioning_status"] == "ACTIVE" and hm["type"] == "HTTP"
    assert (hm["delay"], hm["timeout"], hm["max_retries"], hm["max_retries_down"]) == (5, 3, 2, 4)
    assert (hm["url_path"], hm["expected_codes"], hm["http_method"]) == ("/health", "200,201", "HEAD")
    assert hm["http_version"] == 1.1 and hm["domain_name"] == "example.com"
    assert hm["pools"] == [{"id": pool["id"]}]
    assert cli.json("pool show", pool["id"])["healthmonitor_id"] == hm["id"]

    rows = cli.json("healthmonitor list", "--tags", "hm")
    assert hm["id"] in [row["id"] for row in rows]
    assert cli.json("healthmonitor show", name)["id"] == hm["id"]

    cli.ok("healthmonitor set", "--delay", "10", "--url-path", "/ready", "--disable",
           "--expected-codes", "204", "--wait", hm["id"])
    shown = cli.json("healthmonitor show", hm["id"])
    assert (shown["delay"], shown["url_path"], shown["admin_state_up"], shown["expected_codes"]) == (
        10, "/ready", False, "204")

    cli.ok("healthmonitor unset", "--expected-codes", "--http-method", "--url-path", "--domain-name",
           "--http-version", "--max-retries-down", "--name", "--tag", "hm", "--wait", hm["id"])
    shown = cli.json("healthmonitor show", hm["id"])
    assert (shown["expected_codes"], shown["http_method"], shown["url_path"]) == ("200", "GET", "/")
    assert shown["max_retries_down"] == 3 and shown["domain_name"] is None and shown["http_version"] is None
    assert shown["name"] == "" and shown["tags"] == []

    assert "already has" in cli.fails("healthmonitor create", "--delay", "5", "--timeout",
                                      "3", "--max-retries", "2", "--type", "TCP", pool["id"])
    cli.ok("healthmonitor delete", "--wait", hm["id"])
    assert http.status(f"/v2/lbaas/healthmonitors/{hm['id']}") == 404
    # Without a monitor the member's operating status is NO_MONITOR again.
    shown = cli.json("member show", pool["id"], member["id"])
    assert shown["operating_status"] == "NO_MONITOR"
    cli.ok("pool delete", "--wait", pool["id"])
