"""The Neutron network driver (upstream's allowed_address_pairs driver), over openstacksdk.

A VIP is a Neutron port (`octavia-lb-<lb id>`, owner `Octavia`, admin down) whose
address each amphora's vrrp port (`octavia-lb-vrrp-<amp id>`) carries as an allowed
address pair; vrrp ports are attached to the amphora with Nova's os-interface API.

There is no Neutron on this machine: the tests drive a real openstacksdk Connection
against recorded Networking v2.0 / Compute v2.1 response shapes
(tests/unit/network/fake_cloud.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import openstack
from openstack import exceptions as sdk_exc

from octavia.common.config import CONF
from octavia.network import base
from octavia.network import data_models as n

LOG = logging.getLogger(__name__)
T = TypeVar("T")
PORT_DETACH_TIMEOUT_S = 30.0


def _network(r: Any) -> n.Network:
    return n.Network(id=r.id, name=r.name or "", project_id=r.project_id, subnets=list(r.subnet_ids or []),
                     admin_state_up=bool(r.is_admin_state_up), status=r.status or "ACTIVE",
                     mtu=r.mtu or n.DEFAULT_MTU, shared=bool(r.is_shared),
                     router_external=bool(r.is_router_external), network_type=r.provider_network_type or "")


def _subnet(r: Any) -> n.Subnet:
    return n.Subnet(id=r.id, name=r.name or "", network_id=r.network_id, project_id=r.project_id,
                    cidr=r.cidr, ip_version=r.ip_version, gateway_ip=r.gateway_ip,
                    allocation_pools=list(r.allocation_pools or []), host_routes=list(r.host_routes or []),
                    dns_nameservers=list(r.dns_nameservers or []), enable_dhcp=bool(r.is_dhcp_enabled))


def _port(r: Any) -> n.Port:
    return n.Port(id=r.id, name=r.name or "", network_id=r.network_id, project_id=r.project_id,
                  device_id=r.device_id or "", device_owner=r.device_owner or "", mac_address=r.mac_address,
                  fixed_ips=[n.FixedIP(f["subnet_id"], f["ip_address"]) for f in r.fixed_ips or []],
                  admin_state_up=bool(r.is_admin_state_up), status=r.status or "",
                  qos_policy_id=r.qos_policy_id, security_group_ids=list(r.security_group_ids or []))


def _lookup(getter: Callable[[str], Any], obj_id: str, not_found: type[base._NotFoundAsBadRequest]) -> Any:
    try:
        return getter(obj_id)
    except sdk_exc.NotFoundException:
        raise not_found(obj_id) from None
    except sdk_exc.SDKException as exc:
        raise base.NetworkException(reason=str(exc)) from exc


def _one_value(filters: base.Filters | None) -> dict[str, Any]:
    """openstacksdk query arguments; repeated values go as a list (Neutron ORs them)."""
    return {k: (v[0] if len(v) == 1 else list(v)) for k, v in (filters or {}).items()}


class NeutronNetworkDriver(base.AbstractNetworkDriver):
    def __init__(self, connection: openstack.connection.Connection | None = None) -> None:
        self._conn = connection

    @property
    def conn(self) -> openstack.connection.Connection:
        if self._conn is None:
            self._conn = openstack.connect(cloud=CONF.service_auth.cloud)
        return self._conn

    # --- reads ----------------------------------------------------------------------------

    def get_network(self, network_id: str) -> n.Network:
        return _network(_lookup(self.conn.network.get_network, network_id, base.NetworkNotFound))

    def get_subnet(self, subnet_id: str) -> n.Subnet:
        return _subnet(_lookup(self.conn.network.get_subnet, subnet_id, base.SubnetNotFound))

    def get_port(self, port_id: str) -> n.Port:
        return _port(_lookup(self.conn.network.get_port, port_id, base.PortNotFound))

    def get_qos_policy(self, qos_policy_id: str) -> n.QosPolicy:
        r = _lookup(self.conn.network.get_qos_policy, qos_policy_id, base.QosPolicyNotFound)
        return n.QosPolicy(id=r.id, name=r.name or "", project_id=r.project_id, rules=list(r.rules or []))

    def get_security_group(self, sg_id: str) -> n.SecurityGroup:
        r = _lookup(self.conn.network.get_security_group, sg_id, base.SecurityGroupNotFound)
        return n.SecurityGroup(id=r.id, name=r.name or "", project_id=r.project_id,
                               rules=list(r.security_group_rules or []))

    def _first_named(self, lister: Callable[..., Iterable[T]], name: str,
                     not_found: type[base._NotFoundAsBadRequest]) -> T:
        found = next(iter(lister(name=name)), None)
        if found is None:
            raise not_found(name)
        return found

    def get_network_by_name(self, network_name: str) -> n.Network:
        return _network(self._first_named(self.conn.network.networks, network_name, base.NetworkNotFound))

    def get_subnet_by_name(self, subnet_name: str) -> n.Subnet:
        return _subnet(self._first_named(self.conn.network.subnets, subnet_name, base.SubnetNotFound))

    def get_port_by_name(self, port_name: str) -> n.Port:
        return _port(self._first_named(self.conn.network.ports, port_name, base.PortNotFound))

    def list_networks(self, filters: base.Filters | None = None) -> list[n.Network]:
        return [_network(r) for r in self.conn.network.networks(**_one_value(filters))]

    def list_subnets(self, filters: base.Filters | None = None) -> list[n.Subnet]:
        return [_subnet(r) for r in self.conn.network.subnets(**_one_value(filters))]

    def list_ports(self, filters: base.Filters | None = None) -> list[n.Port]:
        return [_port(r) for r in self.conn.network.ports(**_one_value(filters))]

    # --- ports ----------------------------------------------------------------------------

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
        admin_state_up: bool = True,
        allowed_address_pairs: Sequence[Mapping[str, str]] = (),
    ) -> n.Port:
        attrs: dict[str, Any] = {"network_id": network_id, "name": name, "device_id": device_id,
                                 "device_owner": device_owner, "admin_state_up": admin_state_up}
        fixed = [c for c in ({k: v for k, v in f.items() if v} for f in fixed_ips) if c]
        optional = {"fixed_ips": fixed, "project_id": project_id, "qos_policy_id": qos_policy_id,
                    "security_groups": list(security_group_ids),
                    "allowed_address_pairs": [dict(p) for p in allowed_address_pairs]}
        attrs.update({k: v for k, v in optional.items() if v})
        try:
            return _port(self.conn.network.create_port(**attrs))
        except sdk_exc.NotFoundException:
            raise base.NetworkNotFound(network_id) from None
        except sdk_exc.ConflictException as exc:
            address = next((f["ip_address"] for f in fixed if f.get("ip_address")), None)
            subnet = next((f["subnet_id"] for f in fixed if f.get("subnet_id")), network_id)
            if address:
                raise base.VipAddressInUse(address, subnet) from None
            raise base.SubnetFull(network_id=network_id) from exc
        except sdk_exc.BadRequestException as exc:
            raise base.InvalidVipRequest(detail=exc.details or str(exc)) from None

    def delete_port(self, port_id: str) -> None:
        self.conn.network.delete_port(port_id, ignore_missing=True)

    # --- VIPs -----------------------------------------------------------------------------

    def allocate_vip(self, load_balancer: base.LoadBalancerLike) -> tuple[n.Vip, list[n.AdditionalVip]]:
        lb = load_balancer
        if lb.vip_port_id:
            port = self.get_port(lb.vip_port_id)
            if port.device_id and port.device_id != f"lb-{lb.id}":
                raise base.InvalidVipRequest(
                    detail=f"Port {port.id} is already in use by device {port.device_id}.")
            fixed = [f for f in port.fixed_ips if (not lb.vip_subnet_id or f.subnet_id == lb.vip_subnet_id)
                     and (not lb.vip_address or f.ip_address == lb.vip_address)]
            if len(fixed) != 1:
                raise base.InvalidVipRequest(detail=(
                    "Multiple VIP IP addresses found on the port: specify vip_subnet_id or vip_address."
                    if fixed else f"Port {port.id} has no fixed IP matching the requested VIP."))
            self.conn.network.update_port(port.id, device_owner=base.DEVICE_OWNER_VIP,
                                          device_id=f"lb-{lb.id}")
            vip = n.Vip(fixed[0].ip_address, port.id, fixed[0].subnet_id, port.network_id,
                        lb.vip_qos_policy_id or port.qos_policy_id, octavia_owned=False)
            return vip, []
        if lb.vip_subnet_id:
            subnet = self.get_subnet(lb.vip_subnet_id)
            network_id = subnet.network_id
        elif lb.vip_network_id:
            network_id, subnet = lb.vip_network_id, None
        else:
            raise base.InvalidVipRequest(
                detail="VIP must contain one of: vip_port_id, vip_network_id, vip_subnet_id.")
        requested = [{"subnet_id": subnet.id if subnet else "", "ip_address": lb.vip_address or ""}]
        requested += [{"subnet_id": a["subnet_id"], "ip_address": a.get("ip_address") or ""}
                      for a in lb.additional_vips or []]
        port = self.create_port(network_id, name=f"octavia-lb-{lb.id}", fixed_ips=requested,
                                project_id=lb.project_id, device_id=f"lb-{lb.id}",
                                device_owner=base.DEVICE_OWNER_VIP, qos_policy_id=lb.vip_qos_policy_id,
                                admin_state_up=False)
        first = port.fixed_ips[0]
        vip = n.Vip(first.ip_address, port.id, first.subnet_id, port.network_id, lb.vip_qos_policy_id)
        additional = [n.AdditionalVip(f.subnet_id, f.ip_address, port.id, port.network_id)
                      for f in port.fixed_ips[1:]]
        return vip, additional

    def deallocate_vip(self, vip: n.Vip) -> None:
        if not vip.port_id:
            return
        if vip.octavia_owned:
            self.delete_port(vip.port_id)
            return
        try:
            self.conn.network.update_port(vip.port_id, device_owner="", device_id="")
        except sdk_exc.NotFoundException:
            LOG.info("VIP port %s already gone", vip.port_id)

    def plug_vip(self, load_balancer: base.LoadBalancerLike, amphora: base.AmphoraLike) -> n.VipPlug:
        lb = load_balancer
        subnet = self.get_subnet(lb.vip_subnet_id or "")
        pairs = [{"ip_address": lb.vip_address or ""}] + [
            {"ip_address": a["ip_address"]} for a in lb.additional_vips or [] if a.get("ip_address")]
        port = self.create_port(subnet.network_id, name=f"octavia-lb-vrrp-{amphora.id}",
                                fixed_ips=[{"subnet_id": subnet.id}], project_id=lb.project_id,
                                device_owner=base.DEVICE_OWNER_VRRP, allowed_address_pairs=pairs)
        try:
            self.conn.compute.create_server_interface(amphora.compute_id or amphora.id, port_id=port.id)
        except sdk_exc.SDKException as exc:
            self.delete_port(port.id)
            raise base.PlugVIPException(reason=str(exc)) from exc
        network = self.get_network(subnet.network_id)
        return n.VipPlug(amphora_id=amphora.id, vrrp_ip=port.ip_in_subnet(subnet.id) or "",
                         ha_ip=lb.vip_address or "", vrrp_port_id=port.id, ha_port_id=lb.vip_port_id,
                         mac_address=port.mac_address or "", subnet_cidr=subnet.cidr,
                         gateway=subnet.gateway_ip, mtu=network.mtu)

    def unplug_vip(self, load_balancer: base.LoadBalancerLike, amphora: base.AmphoraLike) -> None:
        if not amphora.vrrp_port_id:
            return
        if amphora.compute_id:
            self.conn.compute.delete_server_interface(amphora.vrrp_port_id, server=amphora.compute_id,
                                                      ignore_missing=True)
        self.delete_port(amphora.vrrp_port_id)

    # --- amphora interfaces -----------------------------------------------------------------

    def plug_network(self, compute_id: str, network_id: str) -> n.Port:
        try:
            iface = self.conn.compute.create_server_interface(compute_id, net_id=network_id)
        except sdk_exc.NotFoundException:
            raise base.NetworkNotFound(network_id) from None
        except sdk_exc.SDKException as exc:
            raise base.PlugNetworkException(compute_id=compute_id, network_id=network_id,
                                            reason=str(exc)) from exc
        return self.get_port(iface.port_id)

    def unplug_network(self, compute_id: str, network_id: str) -> None:
        for iface in self.conn.compute.server_interfaces(compute_id):
            if iface.net_id == network_id:
                self.conn.compute.delete_server_interface(iface.port_id, server=compute_id,
                                                          ignore_missing=True)

    def get_plugged_networks(self, compute_id: str) -> list[n.Port]:
        return self.list_ports({"device_id": [compute_id]})

    def plug_port(self, amphora: base.AmphoraLike, port: n.Port) -> n.Port:
        self.conn.compute.create_server_interface(amphora.compute_id or amphora.id, port_id=port.id)
        return self.get_port(port.id)

    def failover_preparation(self, amphora: base.AmphoraLike) -> None:
        """Detach the failed amphora's member ports so its replacement can take them."""
        for port in self.get_plugged_networks(amphora.compute_id or ""):
            if port.id != amphora.vrrp_port_id and port.device_owner != base.DEVICE_OWNER_VIP:
                self.conn.compute.delete_server_interface(port.id, server=amphora.compute_id,
                                                          ignore_missing=True)

    def wait_for_port_detach(self, amphora: base.AmphoraLike) -> None:
        deadline = time.monotonic() + PORT_DETACH_TIMEOUT_S
        while self.get_plugged_networks(amphora.compute_id or ""):
            if time.monotonic() > deadline:
                raise base.NetworkException(reason=f"ports of amphora {amphora.id} did not detach")
            time.sleep(1)

    def get_network_configs(
        self, load_balancer: base.LoadBalancerLike, amphorae: Sequence[base.AmphoraLike] = ()
    ) -> dict[str, n.AmphoraNetworkConfig]:
        lb = load_balancer
        subnet = self.get_subnet(lb.vip_subnet_id or "")
        vip_port = self.get_port(lb.vip_port_id) if lb.vip_port_id else None
        configs = {}
        for amp in amphorae:
            vrrp = self.get_port(amp.vrrp_port_id) if amp.vrrp_port_id else None
            configs[amp.id] = n.AmphoraNetworkConfig(
                amphora_id=amp.id, vip_subnet=subnet, vip_port=vip_port, vrrp_port=vrrp, ha_port=vip_port,
                vrrp_ip=vrrp.ip_in_subnet(subnet.id) if vrrp else None, ha_ip=lb.vip_address)
        return configs
