"""The local network driver's registry: networks, subnets and ports kept in the database.

This is the part of Neutron a single machine needs: which subnets exist, which
addresses are taken, which port holds which address. Functions take the caller's
session so that a VIP allocated during an API request commits or rolls back with it.
Nothing here touches the host; `octavia.network.local` does that.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from octavia.db import models
from octavia.network import base
from octavia.network import data_models as n

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
MAC_PREFIX = "fa:16:3e"


# --- conversions ----------------------------------------------------------------------


def network_view(row: models.LocalNetwork) -> n.Network:
    return n.Network(
        id=row.id,
        name=row.name,
        project_id=row.project_id,
        subnets=[s.id for s in row.subnets],
    )


def allocation_pool(cidr: str, gateway_ip: str | None) -> tuple[Any, Any]:
    """First and last address handed out: after the gateway, before the v4 broadcast."""
    net = ipaddress.ip_network(cidr)
    first = net.network_address + 1
    if gateway_ip and ipaddress.ip_address(gateway_ip) == first:
        first += 1
    last = net.broadcast_address - (1 if net.version == 4 else 0)
    return first, last


def subnet_view(row: models.LocalSubnet) -> n.Subnet:
    start, end = allocation_pool(row.cidr, row.gateway_ip)
    return n.Subnet(
        id=row.id,
        name=row.name,
        network_id=row.network_id,
        project_id=row.project_id,
        cidr=row.cidr,
        ip_version=row.ip_version,
        gateway_ip=row.gateway_ip,
        allocation_pools=[{"start": str(start), "end": str(end)}],
    )


def port_view(row: models.LocalPort) -> n.Port:
    return n.Port(
        id=row.id,
        name=row.name,
        network_id=row.network_id,
        project_id=row.project_id,
        device_id=row.device_id,
        device_owner=row.device_owner,
        mac_address=row.mac_address,
        fixed_ips=[n.FixedIP(f["subnet_id"], f["ip_address"]) for f in row.fixed_ips or []],
        qos_policy_id=row.qos_policy_id,
        security_group_ids=list(row.security_group_ids or []),
    )


# --- lookups --------------------------------------------------------------------------


def get_network(session: Session, network_id: str) -> models.LocalNetwork:
    row = session.get(models.LocalNetwork, network_id)
    if row is None:
        raise base.NetworkNotFound(network_id)
    return row


def _lock_addresses(session: Session, network_id: str) -> None:
    """Serialize address allocation on the network until this transaction ends.

    Several processes (the API allocating VIPs, each worker plugging amphorae) allocate
    from the same registry; on PostgreSQL and MySQL two transactions would otherwise both
    find the same lowest free address. The network row's lock makes the second wait and
    then see the first one's port. (SQLite writers are serialized already.)"""
    network = models.LocalNetwork
    session.execute(select(network.id).where(network.id == network_id).with_for_update())


def get_subnet(session: Session, subnet_id: str) -> models.LocalSubnet:
    row = session.get(models.LocalSubnet, subnet_id)
    if row is None:
        raise base.SubnetNotFound(subnet_id)
    return row


def get_port(session: Session, port_id: str) -> models.LocalPort:
    row = session.get(models.LocalPort, port_id)
    if row is None:
        raise base.PortNotFound(port_id)
    return row


def find_by_name(session: Session, model: type[Any], name: str) -> Any | None:
    return session.execute(select(model).where(model.name == name).limit(1)).scalar_one_or_none()


def all_rows(session: Session, model: type[Any]) -> list[Any]:
    return list(session.execute(select(model)).scalars())


def ports_of_device(
    session: Session, device_id: str, network_id: str | None = None
) -> list[models.LocalPort]:
    stmt = select(models.LocalPort).where(models.LocalPort.device_id == device_id)
    if network_id:
        stmt = stmt.where(models.LocalPort.network_id == network_id)
    return list(session.execute(stmt).scalars())


# --- networks and subnets -------------------------------------------------------------


def create_network(session: Session, name: str, project_id: str | None = None) -> models.LocalNetwork:
    row = models.LocalNetwork(id=models.new_id(), name=name, project_id=project_id)
    session.add(row)
    session.flush()
    return row


def create_subnet(
    session: Session,
    network_id: str,
    cidr: str,
    name: str = "",
    gateway_ip: str | None = None,
    project_id: str | None = None,
) -> models.LocalSubnet:
    """A subnet whose gateway (default: its first address) is the host."""
    network = get_network(session, network_id)
    try:
        net = ipaddress.ip_network(cidr)
    except ValueError as exc:
        raise base.InvalidVipRequest(detail=f"Invalid CIDR {cidr}: {exc}") from None
    if net.num_addresses < 4:
        raise base.InvalidVipRequest(detail=f"Subnet {cidr} is too small.")
    gateway = ipaddress.ip_address(gateway_ip) if gateway_ip else net.network_address + 1
    if gateway not in net:
        raise base.InvalidVipRequest(detail=f"Gateway IP {gateway} is not in subnet {cidr}.")
    for other in all_rows(session, models.LocalSubnet):
        if ipaddress.ip_network(other.cidr).overlaps(net):
            raise base.InvalidVipRequest(
                detail=f"Requested subnet with cidr: {cidr} overlaps with subnet {other.id} ({other.cidr})."
            )
    row = models.LocalSubnet(
        id=models.new_id(),
        network_id=network.id,
        name=name,
        project_id=project_id,
        cidr=str(net),
        ip_version=net.version,
        gateway_ip=str(gateway),
    )
    session.add(row)
    session.flush()
    session.refresh(network)
    return row


def _ports_on_network(session: Session, network_id: str) -> list[models.LocalPort]:
    stmt = select(models.LocalPort).where(models.LocalPort.network_id == network_id)
    return list(session.execute(stmt).scalars())


def delete_subnet(session: Session, subnet_id: str) -> None:
    row = get_subnet(session, subnet_id)
    for port in _ports_on_network(session, row.network_id):
        if any(f["subnet_id"] == subnet_id for f in port.fixed_ips or []):
            raise base.InvalidVipRequest(detail=f"Subnet {subnet_id} has ports in use (port {port.id}).")
    session.delete(row)
    session.flush()


def delete_network(session: Session, network_id: str) -> None:
    row = get_network(session, network_id)
    ports = _ports_on_network(session, network_id)
    if ports:
        raise base.InvalidVipRequest(detail=f"Network {network_id} has ports in use (port {ports[0].id}).")
    session.delete(row)
    session.flush()


# --- addresses and ports --------------------------------------------------------------


def used_addresses(session: Session, subnet: models.LocalSubnet) -> set[Any]:
    used = {
        ipaddress.ip_address(f["ip_address"])
        for port in _ports_on_network(session, subnet.network_id)
        for f in port.fixed_ips or []
        if f["subnet_id"] == subnet.id
    }
    if subnet.gateway_ip:
        used.add(ipaddress.ip_address(subnet.gateway_ip))
    return used


def allocate_address(session: Session, subnet: models.LocalSubnet, requested: str | None = None) -> str:
    """The requested address if valid and free, else the lowest free one."""
    net = ipaddress.ip_network(subnet.cidr)
    used = used_addresses(session, subnet)
    start, end = allocation_pool(subnet.cidr, subnet.gateway_ip)
    if requested:
        try:
            ip = ipaddress.ip_address(requested)
        except ValueError:
            raise base.InvalidVipRequest(detail=f"Invalid IP address {requested}.") from None
        if ip not in net or ip == net.network_address or (net.version == 4 and ip == net.broadcast_address):
            raise base.InvalidVipRequest(
                detail=f"IP address {requested} is not a valid IP for the specified subnet {subnet.id} "
                f"({subnet.cidr})."
            )
        if ip in used:
            raise base.VipAddressInUse(requested, subnet.id)
        return str(ip)
    candidate = start
    while candidate <= end:
        if candidate not in used:
            return str(candidate)
        candidate += 1
    raise base.SubnetFull(network_id=subnet.network_id)


def new_mac(session: Session) -> str:
    taken = {p.mac_address for p in all_rows(session, models.LocalPort)}
    while True:
        mac = MAC_PREFIX + "".join(f":{b:02x}" for b in secrets.token_bytes(3))
        if mac not in taken:
            return mac


def create_port(
    session: Session,
    network_id: str,
    fixed_ips: Iterable[Mapping[str, str]] = (),
    name: str = "",
    project_id: str | None = None,
    device_id: str = "",
    device_owner: str = "",
    qos_policy_id: str | None = None,
    security_group_ids: Iterable[str] = (),
) -> models.LocalPort:
    """fixed_ips entries give a subnet_id, an ip_address or both; none: one address on
    the network's first IPv4 subnet (else its first subnet), as Neutron does."""
    network = get_network(session, network_id)
    _lock_addresses(session, network.id)
    requests = list(fixed_ips) or [{}]
    allocated: list[dict[str, str]] = []
    for request in requests:
        subnet = subnet_for(network, request)
        address = allocate_address(session, subnet, request.get("ip_address"))
        allocated.append({"subnet_id": subnet.id, "ip_address": address})
    row = models.LocalPort(
        id=models.new_id(),
        network_id=network.id,
        name=name,
        project_id=project_id,
        device_id=device_id,
        device_owner=device_owner,
        mac_address=new_mac(session),
        fixed_ips=allocated,
        qos_policy_id=qos_policy_id,
        security_group_ids=list(security_group_ids),
    )
    session.add(row)
    session.flush()
    return row


def subnet_for(network: models.LocalNetwork, request: Mapping[str, str]) -> models.LocalSubnet:
    if request.get("subnet_id"):
        subnet = next((s for s in network.subnets if s.id == request["subnet_id"]), None)
        if subnet is None:
            raise base.InvalidVipRequest(
                detail=f"Subnet {request['subnet_id']} is not in network {network.id}."
            )
        return subnet
    if request.get("ip_address"):
        ip = ipaddress.ip_address(request["ip_address"])
        subnet = next((s for s in network.subnets if ip in ipaddress.ip_network(s.cidr)), None)
        if subnet is None:
            raise base.InvalidVipRequest(
                detail=f"IP address {ip} is not in any subnet of network {network.id}."
            )
        return subnet
    subnets = sorted(network.subnets, key=lambda s: s.ip_version)
    if not subnets:
        raise base.InvalidVipRequest(detail=f"Network {network.id} has no subnet.")
    return subnets[0]


def delete_port(session: Session, port_id: str) -> None:
    row = session.get(models.LocalPort, port_id)
    if row is not None:
        session.delete(row)
        session.flush()
