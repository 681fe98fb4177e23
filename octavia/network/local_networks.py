"""Local networks and their host side: the default VIP network, admin functions to add
networks and subnets, and (netns mode) the bridge of each network, which holds every
subnet's gateway_ip so the host is the gateway of every local subnet.

Address ranges are chosen to avoid every route the host already has, so a local
network never shadows a real one.
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
from collections.abc import Iterable

from sqlalchemy.orm import Session

from octavia.common.config import CONF
from octavia.db import models
from octavia.db.api import session_scope
from octavia.network import base, netns
from octavia.network import data_models as n
from octavia.network import local_registry as reg

LOG = logging.getLogger(__name__)

BENCHMARK_RANGE = "198.18.0.0/15"


def _ula_cidr() -> str:
    """A random RFC 4193 /64 (fd + 40-bit global id), made once and then kept in the DB."""
    global_id = secrets.token_bytes(5)
    return str(ipaddress.IPv6Network((b"\xfd" + global_id + b"\x00" * 10, 64)))


class LocalNetworks:
    def __init__(self, mode: netns.Mode) -> None:
        self.mode = mode
        self._bridges_ready: set[tuple[str, tuple[str, ...]]] = set()

    def usable(self, subnet: models.LocalSubnet | n.Subnet) -> bool:
        loopback = ipaddress.ip_network(subnet.cidr).is_loopback
        return loopback if self.mode == "loopback" else not loopback

    def taken_ranges(self, session: Session) -> list[reg.IPNetwork]:
        bridges = [r.bridge for r in reg.all_rows(session, models.LocalNetwork) if r.bridge]
        taken = netns.host_routes(ignore_devices=bridges)
        taken += [ipaddress.ip_network(s.cidr) for s in reg.all_rows(session, models.LocalSubnet)]
        taken.append(ipaddress.ip_network(CONF.local_network.management_cidr))
        return taken

    def ensure_default_network(self) -> str:
        """Create `lb-vip-network` with an IPv4 subnet (and an IPv6 one in netns mode) on
        first use; the address ranges avoid every route the host already has."""
        name = CONF.local_network.default_vip_network_name
        with session_scope() as session:
            row = reg.find_by_name(session, models.LocalNetwork, name)
            if row is not None and any(self.usable(s) for s in row.subnets):
                network_id = row.id
                rows = reg.all_rows(session, models.LocalNetwork)
                self.ensure_bridges(session, rows)
                return network_id
        with session_scope(write=True) as session:
            row = reg.find_by_name(session, models.LocalNetwork, name) or reg.create_network(session, name)
            if not any(self.usable(s) for s in row.subnets):
                if self.mode == "loopback":
                    cidrs = [CONF.local_network.loopback_vip_cidr]
                else:
                    taken = self.taken_ranges(session)
                    v4 = netns.pick_free_cidr(CONF.local_network.vip_cidr, BENCHMARK_RANGE, taken)
                    v6 = CONF.local_network.vip_ipv6_cidr or _ula_cidr()
                    cidrs = [v4, netns.pick_free_cidr(v6, "fc00::/7", taken)]
                for cidr in cidrs:
                    suffix = "-ipv6" if ipaddress.ip_network(cidr).version == 6 else ""
                    reg.create_subnet(session, row.id, cidr, name=f"{name}-subnet{suffix}")
                LOG.info("created local network %s (%s) with %s", name, row.id, ", ".join(cidrs))
            self.ensure_bridges(session, [row])
            return row.id

    def ensure_bridges(self, session: Session, rows: Iterable[models.LocalNetwork]) -> None:
        if self.mode != "netns":
            return
        for row in rows:
            if not row.bridge:
                row.bridge = netns.host_ifname(netns.LOCAL_BRIDGE_PREFIX, row.id)
            gateways = [
                f"{s.gateway_ip}/{ipaddress.ip_network(s.cidr).prefixlen}"
                for s in row.subnets
                if s.gateway_ip and self.usable(s)
            ]
            key = (row.bridge, tuple(gateways))
            if key in self._bridges_ready and netns.link_exists(row.bridge):
                continue
            netns.ensure_bridge(row.bridge, gateways, forwarding=True)
            self._bridges_ready.add(key)

    def create_network(self, name: str, project_id: str | None = None) -> n.Network:
        with session_scope(write=True) as session:
            return reg.network_view(reg.create_network(session, name, project_id))

    def create_subnet(self, network_id: str, cidr: str, name: str = "", gateway_ip: str | None = None,
                      project_id: str | None = None) -> n.Subnet:
        """Add a subnet; in netns mode it must not overlap a host route, and the host
        takes its gateway address on the network's bridge at once."""
        with session_scope(write=True) as session:
            if self.mode == "netns":
                clash = [t for t in self.taken_ranges(session)
                         if t.version == ipaddress.ip_network(cidr).version
                         and t.overlaps(ipaddress.ip_network(cidr))]
                if clash:
                    raise base.InvalidVipRequest(detail=f"Subnet {cidr} overlaps host route {clash[0]}.")
            row = reg.create_subnet(session, network_id, cidr, name, gateway_ip, project_id)
            if self.usable(row):
                self.ensure_bridges(session, [row.network])
            return reg.subnet_view(row)

    def delete_subnet(self, subnet_id: str) -> None:
        with session_scope(write=True) as session:
            row = reg.get_subnet(session, subnet_id)
            bridge, prefix = row.network.bridge, ipaddress.ip_network(row.cidr).prefixlen
            gateway = row.gateway_ip
            reg.delete_subnet(session, subnet_id)
        if self.mode == "netns" and bridge and gateway:
            netns.remove_address(bridge, f"{gateway}/{prefix}")

    def delete_network(self, network_id: str) -> None:
        with session_scope(write=True) as session:
            bridge = reg.get_network(session, network_id).bridge
            reg.delete_network(session, network_id)
        if self.mode == "netns" and bridge:
            netns.delete_link(bridge)
