"""Plugging the VIP and member networks into the amphora's own network namespace.

Planning (which addresses, routes and policy rules) is pure and follows upstream's
amphora interface files: the VIP is a host address (/32, /128) owned by the agent in
SINGLE topology and by keepalived in ACTIVE_STANDBY; in SINGLE, traffic sourced from
the VIP is routed through table 1 so replies leave by the VIP network's gateway.
Applying the plan uses netlink (pyroute2, imported on first use: it costs 0.4 s of
agent start-up, and an amphora in loopback mode never needs it) and is idempotent.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import socket
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from octavia.amphorae.agent.layout import write_atomically

if TYPE_CHECKING:
    from pyroute2 import IPRoute

LOG = logging.getLogger(__name__)

VIP_TABLE = 1
VIP_RULE_PRIORITY = 100
TOPOLOGY_ACTIVE_STANDBY = "ACTIVE_STANDBY"
_EEXIST = 17


class PlugError(ValueError):
    """The request cannot be applied (bad addresses)."""


class InterfaceNotFound(LookupError):
    """No interface has the requested MAC address or name."""


class NetlinkFailure(OSError):
    """The kernel refused a change (message from netlink)."""


@dataclass(frozen=True)
class Route:
    dst: str
    gateway: str | None = None
    table: int | None = None
    prefsrc: str | None = None
    scope_link: bool = False


@dataclass(frozen=True)
class Rule:
    src: str
    src_len: int
    table: int


@dataclass
class InterfacePlan:
    """Everything to configure on one interface."""

    mac_address: str | None
    interface: str | None
    mtu: int | None
    addresses: list[tuple[str, int]] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)


def _default_dst(version: int) -> str:
    return "::/0" if version == 6 else "0.0.0.0/0"


def _network(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(cidr, strict=False)
    except ValueError as exc:
        raise PlugError(f"Invalid subnet CIDR {cidr!r}") from exc


def _address(value: str, what: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(value)
    except ValueError as exc:
        raise PlugError(f"Invalid {what} {value!r}") from exc


def normalized_address(value: str) -> str:
    """One spelling per address (IPv6 has many), for comparisons."""
    return str(_address(value, "IP address"))


def on_loopback_network(address: str, interface_address: str) -> bool:
    """Whether `address` is answered by a loopback network such as 127.0.0.1/8."""
    network = ipaddress.ip_network(interface_address, strict=False)
    return network.network_address.is_loopback and ipaddress.ip_address(address) in network


def _host_routes(routes: list[dict[str, str]], table: int | None = None) -> list[Route]:
    planned = []
    for route in routes:
        destination = _network(route["destination"])
        nexthop = _address(route["nexthop"], "nexthop")
        planned.append(Route(dst=str(destination), gateway=str(nexthop), table=table))
    return planned


def _plan_vip(plan: InterfacePlan, vip: str, cidr: str, gateway: str | None,
              host_routes: list[dict[str, str]], owned: bool) -> None:
    address = _address(vip, "VIP")
    network = _network(cidr)
    if address not in network:
        raise PlugError(f"VIP {vip} is not in subnet {cidr}")
    if owned:
        plan.addresses.append((str(address), network.max_prefixlen))
    plan.routes.append(Route(dst=str(network), scope_link=True))
    if gateway:
        gateway_address = str(_address(gateway, "gateway"))
        plan.routes.append(Route(dst=_default_dst(address.version), gateway=gateway_address))
        if owned:
            plan.routes.append(
                Route(dst=_default_dst(address.version), gateway=gateway_address, table=VIP_TABLE)
            )
    if owned:
        plan.routes.append(Route(dst=str(network), table=VIP_TABLE, prefsrc=str(address), scope_link=True))
        plan.rules.append(Rule(src=str(address), src_len=network.max_prefixlen, table=VIP_TABLE))
    plan.routes.extend(_host_routes(host_routes))
    if owned:
        plan.routes.extend(_host_routes(host_routes, VIP_TABLE))


def _empty_plan(body: dict[str, Any]) -> InterfacePlan:
    return InterfacePlan(
        mac_address=body.get("mac_address"), interface=body.get("interface"), mtu=body.get("mtu")
    )


def plan_vip(vip: str, body: dict[str, Any], topology: str) -> InterfacePlan:
    """The interface plan for POST /plug/vip/{vip}."""
    plan = _empty_plan(body)
    owned = topology != TOPOLOGY_ACTIVE_STANDBY
    if body.get("vrrp_ip"):
        vrrp = _address(body["vrrp_ip"], "VRRP address")
        plan.addresses.append((str(vrrp), _network(body["subnet_cidr"]).prefixlen))
    _plan_vip(plan, vip, body["subnet_cidr"], body.get("gateway"), body.get("host_routes") or [], owned)
    for extra in body.get("additional_vips") or []:
        _plan_vip(plan, extra["ip_address"], extra["subnet_cidr"], extra.get("gateway"),
                  extra.get("host_routes") or [], owned)
    return plan


def plan_network(body: dict[str, Any]) -> InterfacePlan:
    """The interface plan for POST /plug/network (a member network)."""
    plan = _empty_plan(body)
    for fixed_ip in body.get("fixed_ips") or []:
        address = _address(fixed_ip["ip_address"], "address")
        network = _network(fixed_ip["subnet_cidr"])
        if address not in network:
            raise PlugError(f"Address {address} is not in subnet {network}")
        plan.addresses.append((str(address), network.prefixlen))
        plan.routes.extend(_host_routes(fixed_ip.get("host_routes") or []))
    return plan


def loopback_vips(vip: str, body: dict[str, Any]) -> bool:
    """True when every VIP is a loopback address (the amphora runs without a namespace)."""
    addresses = [_address(vip, "VIP")]
    addresses += [_address(extra["ip_address"], "VIP") for extra in body.get("additional_vips") or []]
    loopback = [address.is_loopback for address in addresses]
    if any(loopback) and not all(loopback):
        raise PlugError("Loopback and routable VIPs cannot be mixed")
    return all(loopback)


def check_local_address(address: str) -> None:
    """A loopback VIP must be bindable here (all of 127/8 is, ::1 only if IPv6 is up)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.bind((address, 0))
    except OSError as exc:
        raise PlugError(f"VIP {address} is not a local address: {exc.strerror}") from exc


def _find_interface(ipr: IPRoute, plan: InterfacePlan) -> tuple[int, str]:
    for link in ipr.get_links():
        name = link.get("ifname")
        if plan.interface and name == plan.interface:
            return int(link["index"]), str(name)
        mac = link.get("address")
        if plan.mac_address and mac and mac.lower() == plan.mac_address.lower():
            return int(link["index"]), str(name)
    raise InterfaceNotFound(plan.interface or plan.mac_address or "no interface given")


def _ignore_exists(call: Any, *args: Any, **kwargs: Any) -> None:
    from pyroute2.netlink.exceptions import NetlinkError

    try:
        call(*args, **kwargs)
    except NetlinkError as exc:
        if exc.code != _EEXIST:
            raise


def apply_plan(plan: InterfacePlan) -> str:
    """Configure the interface; returns its name."""
    from pyroute2.netlink.exceptions import NetlinkError

    try:
        return _apply(plan)
    except NetlinkError as exc:
        raise NetlinkFailure(str(exc)) from exc


def _apply(plan: InterfacePlan) -> str:
    from pyroute2 import IPRoute

    with IPRoute() as ipr:
        index, name = _find_interface(ipr, plan)
        if plan.mtu:
            ipr.link("set", index=index, mtu=plan.mtu)
        ipr.link("set", index=index, state="up")
        for address, prefixlen in plan.addresses:
            _ignore_exists(ipr.addr, "add", index=index, address=address, prefixlen=prefixlen)
        for route in plan.routes:
            kwargs: dict[str, Any] = {"dst": route.dst, "oif": index}
            if route.gateway:
                kwargs["gateway"] = route.gateway
            if route.table:
                kwargs["table"] = route.table
            if route.prefsrc:
                kwargs["prefsrc"] = route.prefsrc
            if route.scope_link:
                kwargs["scope"] = "link"
            ipr.route("replace", **kwargs)
        for rule in plan.rules:
            _ignore_exists(ipr.rule, "add", src=rule.src, src_len=rule.src_len, table=rule.table,
                           priority=VIP_RULE_PRIORITY)
    LOG.info("Configured interface %s: %d addresses, %d routes", name, len(plan.addresses), len(plan.routes))
    return name


def record_plan(network_dir: str, name: str, plan: InterfacePlan) -> None:
    """Keep what was configured so that a restarted agent can apply it again."""
    os.makedirs(network_dir, exist_ok=True)
    data = asdict(plan)
    data["interface"] = name
    write_atomically(os.path.join(network_dir, f"{name}.json"), json.dumps(data, indent=1).encode())


def reapply_recorded(network_dir: str) -> None:
    """At agent start: apply every recorded interface plan again (idempotent)."""
    try:
        names = sorted(os.listdir(network_dir))
    except FileNotFoundError:
        return
    for filename in names:
        if not filename.endswith(".json"):
            continue
        try:
            with open(os.path.join(network_dir, filename)) as handle:
                data = json.load(handle)
            data["routes"] = [Route(**route) for route in data["routes"]]
            data["rules"] = [Rule(**rule) for rule in data["rules"]]
            data["addresses"] = [tuple(address) for address in data["addresses"]]
            apply_plan(InterfacePlan(**data))
        except (OSError, ValueError, KeyError, TypeError, InterfaceNotFound) as exc:
            LOG.warning("Could not re-apply network record %s: %s", filename, exc)
