"""Bad input to the amphora provider: clear 400s, and nothing made (no load balancer,
member, port, amphora or host plumbing) by the refused request."""

from __future__ import annotations

import ipaddress
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from octavia.network import netns
from tests.integration.e2e.harness import AllInOne, populated_lb_body

pytestmark = pytest.mark.slow

# Documentation ranges (RFC 5737): routed by no sane host except through a default route.
UNROUTED_CANDIDATES = ["203.0.113.77", "198.51.100.77", "192.0.2.77"]


def unrouted_address() -> str:
    routes = netns.host_routes()
    for candidate in UNROUTED_CANDIDATES:
        if not any(ipaddress.ip_address(candidate) in route for route in routes):
            return candidate
    pytest.skip("every candidate address is on a route of this host")


def snapshot(aio: AllInOne) -> dict[str, Any]:
    amphorae_dir = aio.state_path / "amphorae"
    return {
        "loadbalancers": sorted(lb["id"] for lb in aio.get("/v2/lbaas/loadbalancers")["loadbalancers"]),
        "members": sorted(m["id"] for pool in aio.get("/v2/lbaas/pools")["pools"]
                          for m in aio.get(f"/v2/lbaas/pools/{pool['id']}/members")["members"]),
        "ports": sorted(p["id"] for p in aio.get("/v2.0/ports")["ports"]),
        # An amphora (its namespace, links and processes) starts as a directory here.
        "amphora_dirs": sorted(e for e in os.listdir(amphorae_dir) if not e.startswith("."))
        if amphorae_dir.is_dir() else [],
    }


@pytest.fixture(scope="module")
def existing_lb(aio: AllInOne) -> Iterator[dict[str, Any]]:
    """An ACTIVE load balancer with one member on the host (no server needed)."""
    subnet = aio.vip_subnet()
    body = populated_lb_body(subnet["id"], [(subnet["gateway_ip"], 9)], name="bad-input")
    lb = aio.call("POST", "/v2/lbaas/loadbalancers", json=body, expect=201).json()["loadbalancer"]
    aio.wait_lb(lb["id"])
    try:
        yield lb
    finally:
        aio.call("DELETE", f"/v2/lbaas/loadbalancers/{lb['id']}", params={"cascade": "true"}, expect=204)
        aio.wait_lb_gone(lb["id"])


def refused(aio: AllInOne, method: str, path: str, body: dict[str, Any]) -> str:
    """The request is a 400 that changes nothing; returns its faultstring."""
    before = snapshot(aio)
    response = aio.call(method, path, json=body, expect=400)
    assert snapshot(aio) == before
    return str(response.json()["faultstring"])


def test_unreachable_member_is_refused(aio: AllInOne, existing_lb: dict[str, Any]) -> None:
    address = unrouted_address()
    pool_id = existing_lb["pools"][0]["id"]
    expected = f"Member address {address} is not reachable by the amphorae"

    fault = refused(aio, "POST", f"/v2/lbaas/pools/{pool_id}/members",
                    {"member": {"address": address, "protocol_port": 80}})
    assert fault.startswith(expected), fault
    assert "local subnet" in fault

    subnet = aio.vip_subnet()
    fault = refused(aio, "PUT", f"/v2/lbaas/pools/{pool_id}/members", {"members": [
        {"address": subnet["gateway_ip"], "protocol_port": 9},
        {"address": address, "protocol_port": 80},
    ]})
    assert fault.startswith(expected), fault

    body = populated_lb_body(subnet["id"], [(subnet["gateway_ip"], 8080), (address, 80)])
    fault = refused(aio, "POST", "/v2/lbaas/loadbalancers", body)
    assert fault.startswith(expected), fault
    assert aio.lb(existing_lb["id"])["provisioning_status"] == "ACTIVE"


def test_missing_vip_subnet_is_refused(aio: AllInOne) -> None:
    missing = str(uuid.uuid4())
    fault = refused(aio, "POST", "/v2/lbaas/loadbalancers", populated_lb_body(missing, []))
    assert fault == f"Subnet {missing} not found."


def test_missing_member_subnet_is_refused(aio: AllInOne, existing_lb: dict[str, Any]) -> None:
    missing = str(uuid.uuid4())
    subnet = aio.vip_subnet()
    fault = refused(aio, "POST", f"/v2/lbaas/pools/{existing_lb['pools'][0]['id']}/members",
                    {"member": {"address": subnet["gateway_ip"], "protocol_port": 81, "subnet_id": missing}})
    assert fault == f"Subnet {missing} not found."


def test_vip_address_outside_the_subnet_is_refused(aio: AllInOne) -> None:
    subnet = aio.vip_subnet()
    network = ipaddress.ip_network(subnet["cidr"])
    outside = str(network.broadcast_address + 2)
    body = populated_lb_body(subnet["id"], [])
    body["loadbalancer"]["vip_address"] = outside
    fault = refused(aio, "POST", "/v2/lbaas/loadbalancers", body)
    assert fault == f"Validation failure: The VIP address {outside} is not in subnet {subnet['id']}."


def test_vip_address_in_use_is_refused(aio: AllInOne, existing_lb: dict[str, Any]) -> None:
    subnet = aio.vip_subnet()
    for taken in (existing_lb["vip_address"], subnet["gateway_ip"]):
        body = populated_lb_body(subnet["id"], [])
        body["loadbalancer"]["vip_address"] = taken
        fault = refused(aio, "POST", "/v2/lbaas/loadbalancers", body)
        assert fault == f"Validation failure: IP address {taken} already allocated in subnet {subnet['id']}."
