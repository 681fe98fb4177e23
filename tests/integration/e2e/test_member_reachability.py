"""The rules behind "member address not reachable", against this host's real routes."""

from __future__ import annotations

import ipaddress
import json
import subprocess

import pytest

from octavia.network import local_reachability, netns
from tests.integration.e2e.test_bad_input import unrouted_address

LOCAL_SUBNETS = ["198.19.250.0/24", "fd12:3456:789a::/64"]


def host_address() -> str:
    """A global IPv4 address of this host outside 127/8 (skip when it has none)."""
    links = json.loads(subprocess.run(["ip", "-j", "-4", "addr", "show"], capture_output=True, text=True,
                                      check=True).stdout)
    for link in links:
        for info in link.get("addr_info", []):
            if not ipaddress.ip_address(info["local"]).is_loopback:
                return str(info["local"])
    pytest.skip("this host has no non-loopback IPv4 address")


def routed_neighbour() -> str:
    """An address on a network the host routes to directly, that the host does not hold."""
    for route in netns.host_routes():
        if route.version == 4 and route.num_addresses >= 256:
            candidate = str(route.broadcast_address - 7)
            if local_reachability.unreachable_reason(candidate, "netns", []) is not None:
                return candidate
    pytest.skip("no routed IPv4 network with a free address on this host")


@pytest.mark.parametrize("mode", ["netns", "loopback"])
def test_local_subnets_and_host_addresses_are_reachable(mode: netns.Mode) -> None:
    assert local_reachability.unreachable_reason("198.19.250.9", mode, LOCAL_SUBNETS) is None
    assert local_reachability.unreachable_reason("fd12:3456:789a::9", mode, LOCAL_SUBNETS) is None
    assert local_reachability.unreachable_reason(host_address(), mode, LOCAL_SUBNETS) is None


@pytest.mark.parametrize("mode", ["netns", "loopback"])
def test_addresses_behind_the_default_route_are_not(mode: netns.Mode) -> None:
    address = unrouted_address()
    reason = local_reachability.unreachable_reason(address, mode, LOCAL_SUBNETS)
    assert reason is not None and "local subnet" in reason


def test_loopback_and_host_networks_depend_on_the_mode() -> None:
    neighbour = routed_neighbour()
    # In a namespace, 127.0.0.1 is the amphora itself and the host forwards only between local bridges.
    assert local_reachability.unreachable_reason("127.0.0.1", "netns", LOCAL_SUBNETS) is not None
    assert local_reachability.unreachable_reason(neighbour, "netns", LOCAL_SUBNETS) is not None
    # On the host, HAProxy reaches loopback and the networks the host routes to.
    assert local_reachability.unreachable_reason("127.0.0.1", "loopback", LOCAL_SUBNETS) is None
    assert local_reachability.unreachable_reason(neighbour, "loopback", LOCAL_SUBNETS) is None
