"""The network driver of the all-in-one: local networks, with the host as their gateway.

The registry (`local_registry`) plays Neutron; this driver adds the host side. In
netns mode every local network is a host bridge holding each subnet's gateway_ip, and
a port attached to an amphora is a veth pair, one end in that bridge and the other in
the amphora's namespace with the port's MAC and addresses and a default route via
the gateway; forwarding is on between local bridges only. In loopback mode subnets
are 127/8 ranges that the host answers already, so ports need no plumbing.

Either way a backend on the host listening on all addresses is a member at its
subnet's gateway_ip.

The driver joins the session of the ORM object it is given (an API request's load
balancer, a worker's amphora) so its rows commit with the caller's, and so that it
never waits on the caller's own SQLite write lock.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from octavia.db import models
from octavia.db.api import session_scope
from octavia.network import base, local_reachability, netns
from octavia.network import data_models as n
from octavia.network import local_registry as reg
from octavia.network.local_networks import LocalNetworks

LOG = logging.getLogger(__name__)
_View = TypeVar("_View", n.Network, n.Subnet, n.Port)

VIP_PORT_PREFIX = "op"


@contextlib.contextmanager
def _session(*owners: Any) -> Iterator[Session]:
    """The session of the first owner that is an attached ORM object, else a new write one."""
    for owner in owners:
        state = sa_inspect(owner, raiseerr=False) if owner is not None else None
        session = getattr(state, "session", None)
        if session is not None:
            yield session
            session.flush()
            return
    with session_scope(write=True) as session:
        yield session


class LocalNetworkDriver(base.AbstractNetworkDriver):
    def __init__(self) -> None:
        self.mode = netns.resolve_mode()
        self.networks = LocalNetworks(self.mode)
        self.default_network_id = self.networks.ensure_default_network()

    # --- VIPs ---------------------------------------------------------------------------

    def _vip_subnet(self, session: Session, lb: base.LoadBalancerLike) -> models.LocalSubnet:
        if lb.vip_subnet_id:
            subnet = reg.get_subnet(session, lb.vip_subnet_id)
            if lb.vip_network_id and subnet.network_id != lb.vip_network_id:
                raise base.InvalidVipRequest(
                    detail=f"Subnet {subnet.id} is not in network {lb.vip_network_id}."
                )
        elif lb.vip_network_id:
            network = reg.get_network(session, lb.vip_network_id)
            usable = sorted((s for s in network.subnets if self.networks.usable(s)),
                            key=lambda s: s.ip_version)
            if lb.vip_address:
                subnet = reg.subnet_for(network, {"ip_address": lb.vip_address})
            elif usable:
                subnet = usable[0]
            else:
                raise base.InvalidVipRequest(detail=f"Network {network.id} has no subnet usable for a VIP.")
        else:
            raise base.InvalidVipRequest(
                detail="VIP must contain one of: vip_port_id, vip_network_id, vip_subnet_id."
            )
        if not self.networks.usable(subnet):
            raise base.InvalidVipRequest(
                detail=f"Subnet {subnet.id} ({subnet.cidr}) cannot hold VIPs in {self.mode} mode."
            )
        return subnet

    def allocate_vip(self, load_balancer: base.LoadBalancerLike) -> tuple[n.Vip, list[n.AdditionalVip]]:
        lb = load_balancer
        extra = [{"subnet_id": a["subnet_id"], "ip_address": a.get("ip_address")}
                 for a in lb.additional_vips or []]
        with _session(lb) as session:
            if lb.vip_port_id:
                port, vip_ip, subnet_id = self._adopt_vip_port(session, lb)
            else:
                subnet = self._vip_subnet(session, lb)
                subnet_id = subnet.id
                port = reg.create_port(
                    session,
                    subnet.network_id,
                    fixed_ips=[{"subnet_id": subnet.id, "ip_address": lb.vip_address or ""}],
                    name=f"octavia-lb-{lb.id}",
                    project_id=lb.project_id,
                    device_id=f"lb-{lb.id}",
                    device_owner=base.DEVICE_OWNER_VIP,
                    qos_policy_id=lb.vip_qos_policy_id,
                )
                vip_ip = port.fixed_ips[0]["ip_address"]
            additional = self._add_fixed_ips(session, port, extra)
            vip = n.Vip(
                ip_address=vip_ip,
                port_id=port.id,
                subnet_id=subnet_id,
                network_id=port.network_id,
                qos_policy_id=lb.vip_qos_policy_id or port.qos_policy_id,
                octavia_owned=not lb.vip_port_id,
            )
        LOG.info("allocated VIP %s (port %s) for load balancer %s", vip.ip_address, vip.port_id, lb.id)
        return vip, additional

    def _adopt_vip_port(
        self, session: Session, lb: base.LoadBalancerLike
    ) -> tuple[models.LocalPort, str, str]:
        """A user's port becomes the VIP port: unbound, and one fixed IP chosen unambiguously."""
        port = reg.get_port(session, lb.vip_port_id or "")
        if port.device_id:
            raise base.InvalidVipRequest(
                detail=f"Port {port.id} is already in use by device {port.device_id}."
            )
        fixed = [f for f in port.fixed_ips or []
                 if (not lb.vip_subnet_id or f["subnet_id"] == lb.vip_subnet_id)
                 and (not lb.vip_address or f["ip_address"] == lb.vip_address)]
        if not fixed:
            raise base.InvalidVipRequest(
                detail=f"Port {port.id} has no fixed IP matching the requested VIP subnet or address."
            )
        if len(fixed) > 1:
            raise base.InvalidVipRequest(
                detail="Multiple VIP IP addresses found on the port: specify vip_subnet_id or vip_address."
            )
        if not self.networks.usable(reg.get_subnet(session, fixed[0]["subnet_id"])):
            raise base.InvalidVipRequest(
                detail=f"Port {port.id} is on a subnet that cannot hold VIPs in {self.mode} mode."
            )
        port.device_id, port.device_owner = f"lb-{lb.id}", base.DEVICE_OWNER_VIP
        return port, fixed[0]["ip_address"], fixed[0]["subnet_id"]

    def _add_fixed_ips(self, session: Session, port: models.LocalPort,
                       requests: list[dict[str, Any]]) -> list[n.AdditionalVip]:
        network = reg.get_network(session, port.network_id)
        additional = []
        for request in requests:
            subnet = reg.subnet_for(network, {"subnet_id": request["subnet_id"]})
            if not self.networks.usable(subnet):
                raise base.InvalidVipRequest(
                    detail=f"Subnet {subnet.id} cannot hold VIPs in {self.mode} mode."
                )
            address = reg.allocate_address(session, subnet, request.get("ip_address"))
            port.fixed_ips = [*port.fixed_ips, {"subnet_id": subnet.id, "ip_address": address}]
            additional.append(n.AdditionalVip(subnet.id, address, port.id, port.network_id))
        return additional

    def deallocate_vip(self, vip: n.Vip) -> None:
        if not vip.port_id:
            return
        with session_scope(write=True) as session:
            port = session.get(models.LocalPort, vip.port_id)
            if port is None:
                return
            if vip.octavia_owned:
                reg.delete_port(session, port.id)
            else:
                port.device_id, port.device_owner = "", ""
        LOG.info("deallocated VIP %s (port %s)", vip.ip_address, vip.port_id)

    def check_member_address(self, address: str) -> None:
        with session_scope() as session:
            cidrs = [s.cidr for s in reg.all_rows(session, models.LocalSubnet) if self.networks.usable(s)]
        local_reachability.check(address, self.mode, cidrs)

    # --- plugging amphorae ----------------------------------------------------------------

    @staticmethod
    def _compute_id(amphora: base.AmphoraLike) -> str:
        return amphora.compute_id or amphora.id

    def _attach(self, session: Session, port: models.LocalPort, compute_id: str,
                default_route: bool) -> str | None:
        """netns mode: the port's veth into the amphora's namespace, configured. Returns the
        interface name the amphora sees (None in loopback mode: nothing to plumb)."""
        if self.mode != "netns":
            return None
        namespace = netns.namespace_name(compute_id)
        if not netns.namespace_exists(namespace):
            raise base.PlugNetworkException(
                compute_id=compute_id, network_id=port.network_id, reason=f"namespace {namespace} is missing"
            )
        network = reg.get_network(session, port.network_id)
        self.networks.ensure_bridges(session, [network])
        host_name = netns.host_ifname(VIP_PORT_PREFIX, port.id)
        inner = netns.free_inner_name(namespace)
        try:
            netns.attach_veth(namespace, host_name, inner, network.bridge or "", port.mac_address)
            routed: set[int] = set()
            for fixed in port.fixed_ips:
                subnet = reg.get_subnet(session, fixed["subnet_id"])
                prefix = ipaddress.ip_network(subnet.cidr).prefixlen
                netns.add_address(inner, f"{fixed['ip_address']}/{prefix}", namespace)
                if default_route and subnet.gateway_ip and subnet.ip_version not in routed:
                    netns.set_default_route(namespace, inner, subnet.gateway_ip)
                    routed.add(subnet.ip_version)
            netns.forget_neighbours(f["ip_address"] for f in port.fixed_ips)
        except netns.PlumbingError as exc:
            netns.delete_link(host_name)
            raise base.PlugNetworkException(
                compute_id=compute_id, network_id=port.network_id, reason=str(exc)
            ) from exc
        return inner

    def _detach(self, port_id: str) -> None:
        if self.mode == "netns":
            netns.delete_link(netns.host_ifname(VIP_PORT_PREFIX, port_id))

    def plug_vip(self, load_balancer: base.LoadBalancerLike, amphora: base.AmphoraLike) -> n.VipPlug:
        """The amphora's vrrp port: addresses in the VIP subnet (and each additional VIP
        subnet) on an interface with the default route via the host. The VIP itself is
        added by the amphora agent (/plug/vip) or keepalived, as upstream."""
        lb, compute_id = load_balancer, self._compute_id(amphora)
        with _session(amphora, lb) as session:
            subnet = reg.get_subnet(session, lb.vip_subnet_id or "")
            port = session.get(models.LocalPort, amphora.vrrp_port_id) if amphora.vrrp_port_id else None
            if port is None:
                requests = [{"subnet_id": subnet.id}] + [
                    {"subnet_id": a["subnet_id"]} for a in lb.additional_vips or []
                ]
                port = reg.create_port(
                    session, subnet.network_id, fixed_ips=requests, name=f"octavia-lb-vrrp-{amphora.id}",
                    project_id=lb.project_id, device_id=compute_id, device_owner=base.DEVICE_OWNER_VRRP,
                )
            self._detach(port.id)
            interface = self._attach(session, port, compute_id, default_route=True)
            if self.mode == "netns":
                netns.forget_neighbours([lb.vip_address or ""] + [a.get("ip_address") or ""
                                                                  for a in lb.additional_vips or []])
            subnets = {f["subnet_id"]: reg.get_subnet(session, f["subnet_id"]) for f in port.fixed_ips}
            plug = n.VipPlug(
                amphora_id=amphora.id,
                vrrp_ip=port.fixed_ips[0]["ip_address"],
                ha_ip=lb.vip_address or "",
                vrrp_port_id=port.id,
                ha_port_id=lb.vip_port_id,
                mac_address=port.mac_address or "",
                subnet_cidr=subnet.cidr,
                gateway=subnet.gateway_ip,
                interface=interface,
                additional_vips=[
                    {"ip_address": a["ip_address"], "subnet_cidr": subnets[a["subnet_id"]].cidr,
                     "gateway": subnets[a["subnet_id"]].gateway_ip, "host_routes": []}
                    for a in lb.additional_vips or [] if a.get("subnet_id") in subnets
                ],
            )
        LOG.info("plugged VIP network into amphora %s (%s, %s)", amphora.id, plug.vrrp_ip, interface)
        return plug

    def unplug_vip(self, load_balancer: base.LoadBalancerLike, amphora: base.AmphoraLike) -> None:
        compute_id = self._compute_id(amphora)
        with _session(amphora, load_balancer) as session:
            ports = [p for p in reg.ports_of_device(session, compute_id)
                     if p.device_owner == base.DEVICE_OWNER_VRRP or p.id == amphora.vrrp_port_id]
            for port in ports:
                self._detach(port.id)
                reg.delete_port(session, port.id)

    def plug_network(self, compute_id: str, network_id: str) -> n.Port:
        with session_scope(write=True) as session:
            port = reg.create_port(session, network_id, name=f"octavia-member-{compute_id}",
                                   device_id=compute_id, device_owner=base.DEVICE_OWNER_MEMBER)
            self._attach(session, port, compute_id, default_route=False)
            return reg.port_view(port)

    def unplug_network(self, compute_id: str, network_id: str) -> None:
        with session_scope(write=True) as session:
            reg.get_network(session, network_id)
            for port in reg.ports_of_device(session, compute_id, network_id):
                self._detach(port.id)
                reg.delete_port(session, port.id)

    def get_plugged_networks(self, compute_id: str) -> list[n.Port]:
        with session_scope() as session:
            return [reg.port_view(p) for p in reg.ports_of_device(session, compute_id)]

    def plug_port(self, amphora: base.AmphoraLike, port: n.Port) -> n.Port:
        compute_id = self._compute_id(amphora)
        with _session(amphora) as session:
            row = reg.get_port(session, port.id)
            if row.device_id and row.device_id != compute_id:
                raise base.PlugNetworkException(compute_id=compute_id, network_id=row.network_id,
                                                reason=f"port {row.id} is bound to {row.device_id}")
            row.device_id = compute_id
            self._detach(row.id)
            self._attach(session, row, compute_id, default_route=False)
            return reg.port_view(row)

    def detach_port(self, compute_id: str, port_id: str) -> None:
        """Take a port off an amphora and leave it unbound (compute's detach_port)."""
        with session_scope(write=True) as session:
            row = reg.get_port(session, port_id)
            self._detach(row.id)
            if row.device_id == compute_id:
                row.device_id = ""

    def failover_preparation(self, amphora: base.AmphoraLike) -> None:
        """Unbind the failed amphora's non-VIP ports so its replacement can plug them."""
        compute_id = self._compute_id(amphora)
        with _session(amphora) as session:
            for port in reg.ports_of_device(session, compute_id):
                if port.device_owner != base.DEVICE_OWNER_VRRP:
                    self._detach(port.id)
                    port.device_id = ""

    def get_network_configs(
        self, load_balancer: base.LoadBalancerLike, amphorae: Sequence[base.AmphoraLike] = ()
    ) -> dict[str, n.AmphoraNetworkConfig]:
        lb = load_balancer
        with _session(lb) as session:
            subnet = reg.subnet_view(reg.get_subnet(session, lb.vip_subnet_id or ""))
            vip_row = session.get(models.LocalPort, lb.vip_port_id) if lb.vip_port_id else None
            vip_port = reg.port_view(vip_row) if vip_row else None
            configs = {}
            for amp in amphorae:
                vrrp_row = session.get(models.LocalPort, amp.vrrp_port_id) if amp.vrrp_port_id else None
                vrrp_port = reg.port_view(vrrp_row) if vrrp_row else None
                configs[amp.id] = n.AmphoraNetworkConfig(
                    amphora_id=amp.id,
                    vip_subnet=subnet,
                    vip_port=vip_port,
                    vrrp_port=vrrp_port,
                    ha_port=vip_port,
                    vrrp_ip=vrrp_port.ip_in_subnet(subnet.id) if vrrp_port else None,
                    ha_ip=lb.vip_address,
                )
            return configs

    # --- reads (also served as Neutron v2.0 by the API) -----------------------------------

    def get_network(self, network_id: str) -> n.Network:
        with session_scope() as session:
            return reg.network_view(reg.get_network(session, network_id))

    def get_subnet(self, subnet_id: str) -> n.Subnet:
        with session_scope() as session:
            return reg.subnet_view(reg.get_subnet(session, subnet_id))

    def get_port(self, port_id: str) -> n.Port:
        with session_scope() as session:
            return reg.port_view(reg.get_port(session, port_id))

    def get_qos_policy(self, qos_policy_id: str) -> n.QosPolicy:
        """Local networks have no QoS policies: any reference is to a missing one."""
        raise base.QosPolicyNotFound(qos_policy_id)

    def get_security_group(self, sg_id: str) -> n.SecurityGroup:
        """Local networks have no security groups: any reference is to a missing one."""
        raise base.SecurityGroupNotFound(sg_id)

    @staticmethod
    def _by_name(model: type[Any], name: str, view: Callable[[Any], _View],
                 not_found: type[base._NotFoundAsBadRequest]) -> _View:
        with session_scope() as session:
            row = reg.find_by_name(session, model, name)
            if row is None:
                raise not_found(name)
            return view(row)

    def get_network_by_name(self, network_name: str) -> n.Network:
        return self._by_name(models.LocalNetwork, network_name, reg.network_view, base.NetworkNotFound)

    def get_subnet_by_name(self, subnet_name: str) -> n.Subnet:
        return self._by_name(models.LocalSubnet, subnet_name, reg.subnet_view, base.SubnetNotFound)

    def get_port_by_name(self, port_name: str) -> n.Port:
        return self._by_name(models.LocalPort, port_name, reg.port_view, base.PortNotFound)

    def list_networks(self, filters: base.Filters | None = None) -> list[n.Network]:
        with session_scope() as session:
            views = [reg.network_view(r) for r in reg.all_rows(session, models.LocalNetwork)]
        return [v for v in views if base.matches_filters(v.to_neutron_dict(), filters)]

    def list_subnets(self, filters: base.Filters | None = None) -> list[n.Subnet]:
        with session_scope() as session:
            views = [reg.subnet_view(r) for r in reg.all_rows(session, models.LocalSubnet)]
        return [v for v in views if base.matches_filters(v.to_neutron_dict(), filters)]

    def list_ports(self, filters: base.Filters | None = None) -> list[n.Port]:
        with session_scope() as session:
            views = [reg.port_view(r) for r in reg.all_rows(session, models.LocalPort)]
        return [v for v in views if base.matches_filters(v.to_neutron_dict(), filters)]

    # --- ports ------------------------------------------------------------------------------

    def create_port(
        self,
        network_id: str,
        name: str = "",
        fixed_ips: Iterable[Mapping[str, str]] = (),
        project_id: str | None = None,
        device_id: str = "",
        device_owner: str = "",
        qos_policy_id: str | None = None,
        security_group_ids: Iterable[str] = (),
    ) -> n.Port:
        with session_scope(write=True) as session:
            row = reg.create_port(session, network_id, fixed_ips, name, project_id, device_id,
                                  device_owner, qos_policy_id, security_group_ids)
            return reg.port_view(row)

    def delete_port(self, port_id: str) -> None:
        self._detach(port_id)
        with session_scope(write=True) as session:
            reg.delete_port(session, port_id)
