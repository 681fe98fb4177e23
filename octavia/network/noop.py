"""A network driver with no network behind it, as upstream's noop driver.

Any well-formed (UUID) id names an object that exists; the objects are made up but
stable (the same id always yields the same network, subnet and addresses), so the API
and the amphora provider run their full paths with nothing else installed.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TypeVar

from octavia.network import base
from octavia.network import data_models as n

LOG = logging.getLogger(__name__)

NOOP_CIDR = ipaddress.ip_network("198.51.100.0/24")
_Listed = TypeVar("_Listed", n.Network, n.Subnet, n.Port)
_NAMESPACE = uuid.UUID("6f1d4a7e-3c52-4f4b-9d0a-1b2c3d4e5f60")


def _derived_id(kind: str, source: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{source}"))


def _derived_ip(source: str) -> str:
    """A stable host address of the noop subnet for any string."""
    net = NOOP_CIDR
    offset = int.from_bytes(hashlib.sha256(source.encode()).digest()[:4], "big")
    return str(net.network_address + 2 + offset % (net.num_addresses - 3))


def _derived_mac(source: str) -> str:
    digest = hashlib.sha256(source.encode()).digest()
    return "fa:16:3e:" + ":".join(f"{b:02x}" for b in digest[:3])


def _check_id(value: str, not_found: type[base._NotFoundAsBadRequest]) -> None:
    if not base.is_uuid_like(value):
        raise not_found(value)


class NoopNetworkDriver(base.AbstractNetworkDriver):
    def allocate_vip(self, load_balancer: base.LoadBalancerLike) -> tuple[n.Vip, list[n.AdditionalVip]]:
        lb = load_balancer
        port = self.get_port(lb.vip_port_id) if lb.vip_port_id else None
        subnet_id = lb.vip_subnet_id or (port.fixed_ips[0].subnet_id if port else None)
        if subnet_id is None:
            network_id = lb.vip_network_id or _derived_id("network", lb.id)
            subnet_id = _derived_id("subnet", network_id)
        ip = lb.vip_address or (port.fixed_ips[0].ip_address if port else None)
        ip = ip or _derived_ip(lb.id)
        vip = n.Vip(
            ip_address=ip,
            port_id=lb.vip_port_id or _derived_id("vip-port", lb.id),
            subnet_id=subnet_id,
            network_id=lb.vip_network_id or _derived_id("network", subnet_id),
            qos_policy_id=lb.vip_qos_policy_id,
            octavia_owned=lb.vip_port_id is None,
        )
        additional = [
            n.AdditionalVip(
                subnet_id=extra["subnet_id"],
                ip_address=extra.get("ip_address") or _derived_ip(lb.id + extra["subnet_id"]),
                port_id=vip.port_id,
                network_id=vip.network_id,
            )
            for extra in lb.additional_vips or []
        ]
        LOG.debug("noop network: allocate_vip %s -> %s", lb.id, vip.ip_address)
        return vip, additional

    def deallocate_vip(self, vip: n.Vip) -> None:
        LOG.debug("noop network: deallocate_vip %s", vip.ip_address)

    def plug_vip(self, load_balancer: base.LoadBalancerLike, amphora: base.AmphoraLike) -> n.VipPlug:
        subnet = self.get_subnet(load_balancer.vip_subnet_id or _derived_id("subnet", load_balancer.id))
        return n.VipPlug(
            amphora_id=amphora.id,
            vrrp_ip=_derived_ip("vrrp" + amphora.id),
            ha_ip=load_balancer.vip_address or _derived_ip(load_balancer.id),
            vrrp_port_id=_derived_id("vrrp-port", amphora.id),
            ha_port_id=load_balancer.vip_port_id,
            mac_address=_derived_mac(amphora.id),
            subnet_cidr=subnet.cidr,
            gateway=subnet.gateway_ip,
        )

    def unplug_vip(self, load_balancer: base.LoadBalancerLike, amphora: base.AmphoraLike) -> None:
        LOG.debug("noop network: unplug_vip %s", amphora.id)

    def plug_network(self, compute_id: str, network_id: str) -> n.Port:
        _check_id(network_id, base.NetworkNotFound)
        return self._port(_derived_id("port", compute_id + network_id), network_id, compute_id)

    def unplug_network(self, compute_id: str, network_id: str) -> None:
        _check_id(network_id, base.NetworkNotFound)

    def get_plugged_networks(self, compute_id: str) -> list[n.Port]:
        return []

    def get_network(self, network_id: str) -> n.Network:
        _check_id(network_id, base.NetworkNotFound)
        return n.Network(
            id=network_id,
            name="noop-network",
            subnets=[_derived_id("subnet", network_id)],
        )

    def get_subnet(self, subnet_id: str) -> n.Subnet:
        _check_id(subnet_id, base.SubnetNotFound)
        return n.Subnet(
            id=subnet_id,
            name="noop-subnet",
            network_id=_derived_id("network", subnet_id),
            cidr=str(NOOP_CIDR),
            ip_version=4,
            gateway_ip=str(NOOP_CIDR.network_address + 1),
            allocation_pools=[{"start": str(NOOP_CIDR[2]), "end": str(NOOP_CIDR[-2])}],
        )

    def get_port(self, port_id: str) -> n.Port:
        _check_id(port_id, base.PortNotFound)
        return self._port(port_id, _derived_id("network", port_id))

    def _port(self, port_id: str, network_id: str, device_id: str = "") -> n.Port:
        subnet_id = _derived_id("subnet", network_id)
        return n.Port(
            id=port_id,
            network_id=network_id,
            fixed_ips=[n.FixedIP(subnet_id=subnet_id, ip_address=_derived_ip(port_id))],
            name="noop-port",
            device_id=device_id,
            mac_address=_derived_mac(port_id),
        )

    def get_qos_policy(self, qos_policy_id: str) -> n.QosPolicy:
        _check_id(qos_policy_id, base.QosPolicyNotFound)
        return n.QosPolicy(id=qos_policy_id, name="noop-qos-policy")

    def get_security_group(self, sg_id: str) -> n.SecurityGroup:
        _check_id(sg_id, base.SecurityGroupNotFound)
        return n.SecurityGroup(id=sg_id, name="noop-security-group")

    def get_network_by_name(self, network_name: str) -> n.Network:
        network = self.get_network(_derived_id("network-name", network_name))
        network.name = network_name
        return network

    def get_subnet_by_name(self, subnet_name: str) -> n.Subnet:
        subnet = self.get_subnet(_derived_id("subnet-name", subnet_name))
        subnet.name = subnet_name
        return subnet

    def get_port_by_name(self, port_name: str) -> n.Port:
        port = self.get_port(_derived_id("port-name", port_name))
        port.name = port_name
        return port

    def list_networks(self, filters: base.Filters | None = None) -> list[n.Network]:
        return self._list(self.get_network, filters)

    def list_subnets(self, filters: base.Filters | None = None) -> list[n.Subnet]:
        return self._list(self.get_subnet, filters)

    def list_ports(self, filters: base.Filters | None = None) -> list[n.Port]:
        return self._list(self.get_port, filters)

    @staticmethod
    def _list(getter: Callable[[str], _Listed], filters: base.Filters | None) -> list[_Listed]:
        """Only objects asked for by id exist in a listing: noop has no inventory."""
        objects = [getter(i) for i in (filters or {}).get("id", ()) if base.is_uuid_like(i)]
        return [o for o in objects if base.matches_filters(o.to_neutron_dict(), filters)]

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
        _check_id(network_id, base.NetworkNotFound)
        port_id = str(uuid.uuid4())
        port = self._port(port_id, network_id, device_id)
        requested = [
            n.FixedIP(
                subnet_id=f.get("subnet_id") or port.fixed_ips[0].subnet_id,
                ip_address=f.get("ip_address") or _derived_ip(port_id + str(i)),
            )
            for i, f in enumerate(fixed_ips)
        ]
        port.fixed_ips = requested or port.fixed_ips
        port.name, port.project_id, port.device_owner = name, project_id, device_owner
        port.qos_policy_id, port.security_group_ids = qos_policy_id, list(security_group_ids)
        return port

    def delete_port(self, port_id: str) -> None:
        LOG.debug("noop network: delete_port %s", port_id)

    def plug_port(self, amphora: base.AmphoraLike, port: n.Port) -> n.Port:
        port.device_id = amphora.compute_id or amphora.id
        return port

    def failover_preparation(self, amphora: base.AmphoraLike) -> None:
        LOG.debug("noop network: failover_preparation %s", amphora.id)

    def get_network_configs(
        self, load_balancer: base.LoadBalancerLike, amphorae: Sequence[base.AmphoraLike] = ()
    ) -> dict[str, n.AmphoraNetworkConfig]:
        subnet = self.get_subnet(load_balancer.vip_subnet_id or _derived_id("subnet", load_balancer.id))
        configs = {}
        for amp in amphorae:
            plug = self.plug_vip(load_balancer, amp)
            configs[amp.id] = n.AmphoraNetworkConfig(
                amphora_id=amp.id,
                vip_subnet=subnet,
                vip_port=None,
                vrrp_port=None,
                ha_port=None,
                vrrp_ip=plug.vrrp_ip,
                ha_ip=plug.ha_ip,
            )
        return configs
