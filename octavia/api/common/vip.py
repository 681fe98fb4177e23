"""VIP request checks that need the network driver (upstream's validate_vip and friends)."""

from __future__ import annotations

import ipaddress
from typing import Any

from octavia.common import exceptions
from octavia.common.config import CONF
from octavia.network import loader as network_loader

VIP_FIELDS = ("vip_port_id", "vip_network_id", "vip_subnet_id")


def _allowed_fields() -> list[str]:
    flags = CONF.networking
    allowed = {
        "vip_port_id": flags.allow_vip_port_id,
        "vip_network_id": flags.allow_vip_network_id,
        "vip_subnet_id": flags.allow_vip_subnet_id,
    }
    return [f for f in VIP_FIELDS if allowed[f]]


def _lookup(kind: str, getter: Any, obj_id: str) -> Any:
    try:
        return getter(obj_id)
    except exceptions.APIException:
        raise
    except Exception:
        raise exceptions.BadRequest(f"{kind} {obj_id} not found.") from None


def validate(body: dict[str, Any]) -> dict[str, Any]:
    """Check the VIP fields and return the VIP request with any ids the network adds."""
    allowed = _allowed_fields()
    for name in VIP_FIELDS:
        if body.get(name) and name not in allowed:
            raise exceptions.ValidationException(
                detail=f"use of {name} is disallowed by this deployment's configuration."
            )
    if not any(body.get(f) for f in VIP_FIELDS):
        raise exceptions.ValidationException(
            detail="VIP must contain one of: " + ", ".join(allowed) + "."
        )
    driver = network_loader.get_driver()
    vip: dict[str, Any] = {k: body.get(k) for k in (*VIP_FIELDS, "vip_address", "vip_qos_policy_id")}
    if vip["vip_port_id"]:
        port = _lookup("Port", driver.get_port, vip["vip_port_id"])
        if getattr(port, "device_id", None):
            raise exceptions.BadRequest(f"Port {port.id} is already used by device {port.device_id}")
        vip["vip_network_id"] = vip["vip_network_id"] or port.network_id
        fixed = list(getattr(port, "fixed_ips", []) or [])
        if not vip["vip_subnet_id"] and not vip["vip_address"] and len(fixed) > 1:
            raise exceptions.ValidationException(
                detail="Multiple VIP IP addresses found on the port: specify vip_subnet_id or vip_address."
            )
        if not vip["vip_qos_policy_id"] and getattr(port, "qos_policy_id", None):
            vip["vip_qos_policy_id"] = port.qos_policy_id
    if vip["vip_network_id"]:
        network = _lookup("Network", driver.get_network, vip["vip_network_id"])
        valid = CONF.networking.valid_vip_networks
        if valid and network.id not in valid:
            raise exceptions.ValidationException(
                detail="Supplied VIP network_id is not allowed by the configuration of this deployment."
            )
    if vip["vip_subnet_id"]:
        subnet = _lookup("Subnet", driver.get_subnet, vip["vip_subnet_id"])
        if vip["vip_network_id"] and subnet.network_id != vip["vip_network_id"]:
            raise exceptions.ValidationException(
                detail=f"Subnet {subnet.id} is not in network {vip['vip_network_id']}."
            )
        vip["vip_network_id"] = vip["vip_network_id"] or subnet.network_id
        cidr = getattr(subnet, "cidr", None)
        address = vip["vip_address"]
        if address and cidr and ipaddress.ip_address(address) not in ipaddress.ip_network(cidr):
            raise exceptions.ValidationException(
                detail=f"The VIP address {vip['vip_address']} is not in subnet {subnet.id}."
            )
    if vip["vip_qos_policy_id"] and body.get("vip_qos_policy_id"):
        _lookup("QoS Policy", driver.get_qos_policy, vip["vip_qos_policy_id"])
    for sg_id in body.get("vip_sg_ids") or []:
        _lookup("Security Group", driver.get_security_group, sg_id)
    seen = {vip["vip_subnet_id"]} if vip["vip_subnet_id"] else set()
    for extra in body.get("additional_vips") or []:  # AdditionalVip models of the parsed body
        if extra.subnet_id in seen:
            raise exceptions.ValidationException(
                detail="Duplicate VIP subnet(s) specified. Only one IP can be bound per subnet."
            )
        seen.add(extra.subnet_id)
        subnet = _lookup("Subnet", driver.get_subnet, extra.subnet_id)
        if vip["vip_network_id"] and subnet.network_id != vip["vip_network_id"]:
            raise exceptions.ValidationException(
                detail="All VIP subnets must belong to the same network."
            )
    return vip
