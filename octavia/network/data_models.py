"""Typed views of what a network service holds, independent of where it is held.

Every network driver (noop, local, Neutron) returns these, so the controller and the
API's read-only Neutron v2.0 shim never see driver-specific shapes. `to_neutron_dict()`
gives the JSON fields Neutron's v2.0 API uses, which is what `openstack subnet list`
and openstacksdk read.
"""

from __future__ import annotations

import dataclasses
from typing import Any

DEFAULT_MTU = 1500


@dataclasses.dataclass(frozen=True)
class FixedIP:
    subnet_id: str
    ip_address: str

    def to_neutron_dict(self) -> dict[str, Any]:
        return {"subnet_id": self.subnet_id, "ip_address": self.ip_address}


@dataclasses.dataclass
class Network:
    id: str
    name: str = ""
    project_id: str | None = None
    subnets: list[str] = dataclasses.field(default_factory=list)
    admin_state_up: bool = True
    status: str = "ACTIVE"
    mtu: int = DEFAULT_MTU
    shared: bool = False
    router_external: bool = False
    port_security_enabled: bool = True
    network_type: str = "local"

    def to_neutron_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "tenant_id": self.project_id or "",
            "project_id": self.project_id or "",
            "subnets": list(self.subnets),
            "admin_state_up": self.admin_state_up,
            "status": self.status,
            "mtu": self.mtu,
            "shared": self.shared,
            "router:external": self.router_external,
            "port_security_enabled": self.port_security_enabled,
            "provider:network_type": self.network_type,
            "availability_zones": [],
            "description": "",
            "tags": [],
        }


@dataclasses.dataclass
class Subnet:
    id: str
    network_id: str
    cidr: str
    ip_version: int
    gateway_ip: str | None = None
    name: str = ""
    project_id: str | None = None
    allocation_pools: list[dict[str, str]] = dataclasses.field(default_factory=list)
    host_routes: list[dict[str, str]] = dataclasses.field(default_factory=list)
    dns_nameservers: list[str] = dataclasses.field(default_factory=list)
    enable_dhcp: bool = False

    def to_neutron_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "tenant_id": self.project_id or "",
            "project_id": self.project_id or "",
            "network_id": self.network_id,
            "cidr": self.cidr,
            "ip_version": self.ip_version,
            "gateway_ip": self.gateway_ip,
            "allocation_pools": [dict(p) for p in self.allocation_pools],
            "host_routes": [dict(r) for r in self.host_routes],
            "dns_nameservers": list(self.dns_nameservers),
            "enable_dhcp": self.enable_dhcp,
            "ipv6_address_mode": None,
            "ipv6_ra_mode": None,
            "subnetpool_id": None,
            "description": "",
            "tags": [],
        }


@dataclasses.dataclass
class Port:
    id: str
    network_id: str
    fixed_ips: list[FixedIP] = dataclasses.field(default_factory=list)
    name: str = ""
    project_id: str | None = None
    device_id: str = ""
    device_owner: str = ""
    mac_address: str | None = None
    admin_state_up: bool = True
    status: str = "ACTIVE"
    qos_policy_id: str | None = None
    security_group_ids: list[str] = dataclasses.field(default_factory=list)

    def ip_in_subnet(self, subnet_id: str) -> str | None:
        return next((f.ip_address for f in self.fixed_ips if f.subnet_id == subnet_id), None)

    def to_neutron_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "tenant_id": self.project_id or "",
            "project_id": self.project_id or "",
            "network_id": self.network_id,
            "fixed_ips": [f.to_neutron_dict() for f in self.fixed_ips],
            "device_id": self.device_id,
            "device_owner": self.device_owner,
            "mac_address": self.mac_address,
            "admin_state_up": self.admin_state_up,
            "status": self.status,
            "qos_policy_id": self.qos_policy_id,
            "security_groups": list(self.security_group_ids),
            "allowed_address_pairs": [],
            "binding:vnic_type": "normal",
            "description": "",
            "tags": [],
        }


@dataclasses.dataclass
class QosPolicy:
    id: str
    name: str = ""
    project_id: str | None = None
    rules: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    def to_neutron_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "tenant_id": self.project_id or "",
            "project_id": self.project_id or "",
            "rules": [dict(r) for r in self.rules],
            "shared": False,
            "is_default": False,
            "description": "",
        }


@dataclasses.dataclass
class SecurityGroup:
    id: str
    name: str = ""
    project_id: str | None = None
    rules: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    def to_neutron_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "tenant_id": self.project_id or "",
            "project_id": self.project_id or "",
            "security_group_rules": [dict(r) for r in self.rules],
            "stateful": True,
            "description": "",
        }


@dataclasses.dataclass
class Vip:
    """The address a load balancer answers on, and the port that reserves it."""

    ip_address: str
    port_id: str | None
    subnet_id: str
    network_id: str
    qos_policy_id: str | None = None
    octavia_owned: bool = True

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def as_load_balancer_columns(self) -> dict[str, Any]:
        """The LoadBalancer row columns this VIP fills."""
        return {
            "vip_address": self.ip_address,
            "vip_port_id": self.port_id,
            "vip_subnet_id": self.subnet_id,
            "vip_network_id": self.network_id,
            "vip_qos_policy_id": self.qos_policy_id,
        }


@dataclasses.dataclass
class AdditionalVip:
    """A further address on the VIP port, in another subnet of the VIP network."""

    subnet_id: str
    ip_address: str
    port_id: str | None = None
    network_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class VipPlug:
    """What plugging the VIP into one amphora made: the Amphora row fields and what the
    agent's `/plug/vip` call needs (upstream passes the interface by MAC address)."""

    amphora_id: str
    vrrp_ip: str
    ha_ip: str
    vrrp_port_id: str
    ha_port_id: str | None
    mac_address: str
    subnet_cidr: str
    gateway: str | None
    mtu: int = DEFAULT_MTU
    interface: str | None = None
    additional_vips: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    def as_amphora_columns(self) -> dict[str, Any]:
        return {
            "vrrp_ip": self.vrrp_ip,
            "ha_ip": self.ha_ip,
            "vrrp_port_id": self.vrrp_port_id,
            "ha_port_id": self.ha_port_id,
            "vrrp_interface": self.interface,
        }


@dataclasses.dataclass
class AmphoraNetworkConfig:
    """Per amphora, the ports and subnet the controller needs to configure it."""

    amphora_id: str
    vip_subnet: Subnet
    vip_port: Port | None
    vrrp_port: Port | None
    ha_port: Port | None
    vrrp_ip: str | None
    ha_ip: str | None
