"""Which member addresses local amphorae can reach, decided before anything is built.

netns mode: an amphora's only way out is its VIP port, whose default route is the
host. The host answers its own addresses and forwards only between local bridges
(`netns.install_forward_guard`), so a member is reachable when it is in a local subnet
or is an address of the host (not a loopback one: 127/8 inside the namespace is the
amphora itself).

loopback mode: HAProxy runs in the host's namespace, so it reaches what the host
reaches locally: loopback and host addresses, local subnets, and networks the host has
a route to. The default route is not counted: it would make every address reachable,
and an all-in-one's load balancers serve members on this host and its own networks.
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
from collections.abc import Iterable

from octavia.network import base, netns

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _host_owns(address: str) -> bool:
    """True when the kernel routes the address to the host itself (`ip route get`: local)."""
    proc = subprocess.run([netns.IP, "-j", "route", "get", address], capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        return False
    try:
        routes = json.loads(proc.stdout or "[]")
    except ValueError:
        return False
    return any(route.get("type") == "local" for route in routes)


def unreachable_reason(address: str, mode: netns.Mode, local_subnets: Iterable[str]) -> str | None:
    """Why amphorae in `mode` cannot reach `address`, or None when they can."""
    ip = ipaddress.ip_address(address)
    subnets: list[IPNetwork] = [ipaddress.ip_network(cidr) for cidr in local_subnets]
    if any(ip in subnet for subnet in subnets):
        return None
    if mode == "loopback":
        if ip.is_loopback or _host_owns(address):
            return None
        if any(ip in route for route in netns.host_routes()):
            return None
        return ("it is not in a local subnet, not an address of this host, and the host has no route "
                "to it other than its default route.")
    if not ip.is_loopback and _host_owns(address):
        return None
    listed = ", ".join(str(subnet) for subnet in subnets) or "none"
    return (f"it is neither in a local subnet ({listed}) nor an address of this host, and "
            "amphorae in network namespaces reach nothing else.")


def check(address: str, mode: netns.Mode, local_subnets: Iterable[str]) -> None:
    reason = unreachable_reason(address, mode, local_subnets)
    if reason is not None:
        raise base.MemberAddressUnreachable(address=address, reason=reason)
