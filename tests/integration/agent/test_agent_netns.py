"""VIP and member-network plugging inside a real network namespace (root only)."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.integration.agent.conftest import PKI, Agent, start_agent, stop_agent

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root"),
]

_COUNTER = itertools.count()


def _ip(*args: str) -> str:
    return subprocess.run(["ip", *args], check=True, capture_output=True, text=True).stdout


def _link(namespace: str, name: str) -> dict[str, object]:
    data = json.loads(_ip("-n", namespace, "-j", "addr", "show", "dev", name))
    return data[0]  # type: ignore[no-any-return]


def _addresses(namespace: str, name: str) -> set[str]:
    return {f"{a['local']}/{a['prefixlen']}" for a in _link(namespace, name)["addr_info"]}  # type: ignore[index, union-attr]


@dataclass
class Amphora:
    namespace: str
    agent: Agent


@pytest.fixture
def amphora(pki: PKI) -> Iterator[Amphora]:
    """A namespace reached through a veth (host 100.127.N.1, agent .2) plus an unconfigured
    veth pair inside it standing for the VIP and member ports."""
    index = next(_COUNTER)
    tag = f"{os.getpid() % 100000}{index}"
    namespace, host_if = f"oat{tag}", f"oah{tag}"
    subnet = f"100.127.{(os.getpid() + index) % 250}"
    _ip("netns", "add", namespace)
    try:
        _ip("link", "add", host_if, "type", "veth", "peer", "name", "mgmt0", "netns", namespace)
        _ip("addr", "add", f"{subnet}.1/30", "dev", host_if)
        _ip("link", "set", host_if, "up")
        _ip("-n", namespace, "addr", "add", f"{subnet}.2/30", "dev", "mgmt0")
        _ip("-n", namespace, "link", "set", "mgmt0", "up")
        _ip("-n", namespace, "link", "set", "lo", "up")
        _ip("-n", namespace, "link", "add", "vip0", "type", "veth", "peer", "name", "member0")
        agent = start_agent(pki, netns=namespace, host=f"{subnet}.2")
        try:
            yield Amphora(namespace, agent)
        finally:
            stop_agent(agent)
    finally:
        subprocess.run(["ip", "link", "del", host_if], capture_output=True, check=False)
        subprocess.run(["ip", "netns", "del", namespace], capture_output=True, check=False)


def test_plug_vip_by_mac_in_single_topology(amphora: Amphora) -> None:
    namespace, agent = amphora.namespace, amphora.agent
    mac = str(_link(namespace, "vip0")["address"])
    body = {
        "subnet_cidr": "10.77.0.0/24", "gateway": "10.77.0.1", "mac_address": mac.upper(),
        "vrrp_ip": "10.77.0.5", "mtu": 1400,
        "host_routes": [{"destination": "10.88.0.0/24", "nexthop": "10.77.0.254"}],
    }
    response = agent.request("POST", "/1.0/plug/vip/10.77.0.10", json=body)
    assert response.status_code == 202, response.text
    assert response.json()["details"] == "VIP 10.77.0.10 plugged on interface vip0"
    assert {"10.77.0.5/24", "10.77.0.10/32"} <= _addresses(namespace, "vip0")
    assert _link(namespace, "vip0")["mtu"] == 1400
    assert "from 10.77.0.10 lookup 1" in _ip("-n", namespace, "rule")
    table = _ip("-n", namespace, "route", "show", "table", "1")
    assert "default via 10.77.0.1 dev vip0" in table
    assert "10.88.0.0/24 via 10.77.0.254 dev vip0" in table
    assert "10.88.0.0/24 via 10.77.0.254 dev vip0" in _ip("-n", namespace, "route")
    # idempotent: plugging again changes nothing and succeeds
    assert agent.request("POST", "/1.0/plug/vip/10.77.0.10", json=body).status_code == 202
    assert agent.request("GET", "/1.0/interface/10.77.0.10").json() == {"interface": "vip0"}
    recorded = os.listdir(os.path.join(agent.directory, "network"))
    assert recorded == ["vip0.json"]


def test_plug_vip_errors(amphora: Amphora) -> None:
    agent = amphora.agent
    body = {"subnet_cidr": "10.77.0.0/24", "mac_address": "02:00:00:00:00:99"}
    response = agent.request("POST", "/1.0/plug/vip/10.77.0.10", json=body)
    assert response.status_code == 404
    assert response.json()["message"] == "Network interface not found"
    response = agent.request("POST", "/1.0/plug/vip/10.66.0.10", json={**body, "interface": "vip0"})
    assert response.status_code == 400


def test_plug_member_network_by_name(amphora: Amphora) -> None:
    namespace, agent = amphora.namespace, amphora.agent
    body = {"interface": "member0", "fixed_ips": [{"ip_address": "10.99.0.5", "subnet_cidr": "10.99.0.0/24"}]}
    response = agent.request("POST", "/1.0/plug/network", json=body)
    assert response.status_code == 202, response.text
    assert "10.99.0.5/24" in _addresses(namespace, "member0")
    bad = {"interface": "member0", "fixed_ips": [{"ip_address": "10.98.0.5", "subnet_cidr": "10.99.0.0/24"}]}
    assert agent.request("POST", "/1.0/plug/network", json=bad).status_code == 400
    missing = {"interface": f"x{uuid.uuid4().hex[:8]}"}
    assert agent.request("POST", "/1.0/plug/network", json=missing).status_code == 404
