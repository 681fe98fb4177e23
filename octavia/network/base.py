"""The network driver contract (upstream's AbstractNetworkDriver, typed) and its errors.

Errors carry upstream's user-facing wording and an HTTP code, so the API and the
provider can surface them unchanged ("Subnet <id> not found." is a 400).
"""

from __future__ import annotations

import abc
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from octavia.common import exceptions
from octavia.network import data_models as n

# Neutron-style list filters: field -> accepted values (`?id=a&id=b`).
Filters = Mapping[str, Sequence[str]]

DEVICE_OWNER_VIP = "Octavia"
DEVICE_OWNER_VRRP = "compute:octavia"
DEVICE_OWNER_MEMBER = "compute:octavia-member"


class NetworkException(exceptions.APIException):
    code = 500
    message = "Network error: {reason}"


class _NotFoundAsBadRequest(NetworkException):
    """A referenced network object is missing: the request was bad, hence 400."""

    code = 400
    resource = "Object"

    def __init__(self, id: str) -> None:  # noqa: A002 - upstream wording
        super().__init__(f"{self.resource} {id} not found.")
        self.id = id


class NetworkNotFound(_NotFoundAsBadRequest):
    resource = "Network"


class SubnetNotFound(_NotFoundAsBadRequest):
    resource = "Subnet"


class PortNotFound(_NotFoundAsBadRequest):
    resource = "Port"


class QosPolicyNotFound(_NotFoundAsBadRequest):
    resource = "QoS Policy"


class SecurityGroupNotFound(_NotFoundAsBadRequest):
    resource = "Security Group"


class AmphoraNotFound(NetworkException):
    message = "Amphora {id} is not plugged into any network."


class InvalidVipRequest(NetworkException, exceptions.ValidationException):
    """A VIP request that cannot be satisfied as asked (address, port or subnet mismatch)."""

    code = 400
    message = "Validation failure: {detail}"


class VipAddressInUse(InvalidVipRequest):
    def __init__(self, ip_address: str, subnet_id: str) -> None:
        super().__init__(detail=f"IP address {ip_address} already allocated in subnet {subnet_id}.")


class SubnetFull(NetworkException):
    code = 409
    message = "No more IP addresses available on network {network_id}."


class AllocateVIPException(NetworkException):
    message = "Error allocating the VIP: {reason}"


class PlugVIPException(NetworkException):
    message = "Error plugging the VIP: {reason}"


class UnplugVIPException(NetworkException):
    message = "Error unplugging the VIP: {reason}"


class PlugNetworkException(NetworkException):
    message = "Error plugging amphora {compute_id} into network {network_id}: {reason}"


class MemberAddressUnreachable(NetworkException):
    """The amphorae this network serves could never reach the member: a bad request."""

    code = 400
    message = "Member address {address} is not reachable by the amphorae: {reason}"


class LoadBalancerLike(Protocol):
    """What drivers read from a load balancer (the ORM row or a provider data model)."""

    id: str
    project_id: str | None
    vip_address: str | None
    vip_subnet_id: str | None
    vip_network_id: str | None
    vip_port_id: str | None
    vip_qos_policy_id: str | None
    additional_vips: list[dict[str, Any]]


class AmphoraLike(Protocol):
    id: str
    compute_id: str | None
    vrrp_port_id: str | None
    ha_port_id: str | None


def is_uuid_like(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _filter_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _field_values(neutron_dict: Mapping[str, Any], field: str) -> set[str]:
    """The texts a filter on `field` can match; list fields match on any element and
    `fixed_ips` on `subnet_id=...` / `ip_address=...` as Neutron accepts."""
    value = neutron_dict.get(field)
    if field == "fixed_ips":
        return {f"{k}={v}" for fixed in value or () for k, v in fixed.items()}
    if isinstance(value, list):
        return {_filter_text(v) for v in value}
    return {_filter_text(value)}


def matches_filters(neutron_dict: Mapping[str, Any], filters: Filters | None) -> bool:
    """Neutron's list filter semantics: every given field must equal one of its values."""
    for field, wanted in (filters or {}).items():
        accepted = {w.lower() if w.lower() in ("true", "false") else w for w in map(str, wanted)}
        if not accepted & _field_values(neutron_dict, field):
            return False
    return True


class AbstractNetworkDriver(abc.ABC):
    """Reserve addresses, wire amphorae to networks, and answer questions about networks.

    Callers may expect a revert after any failing non-read method, so each one leaves
    nothing half-made that its reverse cannot remove.
    """

    @abc.abstractmethod
    def allocate_vip(self, load_balancer: LoadBalancerLike) -> tuple[n.Vip, list[n.AdditionalVip]]:
        """Reserve the VIP (and additional VIPs) described by the load balancer's vip_* fields."""

    @abc.abstractmethod
    def deallocate_vip(self, vip: n.Vip) -> None:
        """Release a VIP reserved by allocate_vip; a port the user brought is kept."""

    @abc.abstractmethod
    def plug_vip(self, load_balancer: LoadBalancerLike, amphora: AmphoraLike) -> n.VipPlug:
        """Give one amphora an interface on the VIP network (its vrrp port) for the VIP."""

    @abc.abstractmethod
    def unplug_vip(self, load_balancer: LoadBalancerLike, amphora: AmphoraLike) -> None:
        """Undo plug_vip for one amphora; missing pieces are not an error."""

    def update_vip(self, load_balancer: LoadBalancerLike, for_delete: bool = False) -> None:  # noqa: B027
        """Hook after listener changes (security group rules upstream); optional."""

    def check_member_address(self, address: str) -> None:  # noqa: B027
        """Raise MemberAddressUnreachable when no amphora on this network could reach the
        address. Drivers that cannot tell (Neutron routes members through subnets the
        amphora is plugged into later; noop) accept every address."""

    @abc.abstractmethod
    def plug_network(self, compute_id: str, network_id: str) -> n.Port:
        """Attach an amphora to a further network (member subnets); returns the new port."""

    @abc.abstractmethod
    def unplug_network(self, compute_id: str, network_id: str) -> None:
        """Detach every port of the amphora on that network."""

    @abc.abstractmethod
    def get_plugged_networks(self, compute_id: str) -> list[n.Port]:
        """Ports currently attached to the amphora."""

    @abc.abstractmethod
    def get_network(self, network_id: str) -> n.Network: ...

    @abc.abstractmethod
    def get_subnet(self, subnet_id: str) -> n.Subnet: ...

    @abc.abstractmethod
    def get_port(self, port_id: str) -> n.Port: ...

    @abc.abstractmethod
    def get_qos_policy(self, qos_policy_id: str) -> n.QosPolicy: ...

    @abc.abstractmethod
    def get_security_group(self, sg_id: str) -> n.SecurityGroup: ...

    @abc.abstractmethod
    def get_network_by_name(self, network_name: str) -> n.Network: ...

    @abc.abstractmethod
    def get_subnet_by_name(self, subnet_name: str) -> n.Subnet: ...

    @abc.abstractmethod
    def get_port_by_name(self, port_name: str) -> n.Port: ...

    @abc.abstractmethod
    def list_networks(self, filters: Filters | None = None) -> list[n.Network]: ...

    @abc.abstractmethod
    def list_subnets(self, filters: Filters | None = None) -> list[n.Subnet]: ...

    @abc.abstractmethod
    def list_ports(self, filters: Filters | None = None) -> list[n.Port]: ...

    @abc.abstractmethod
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
        """fixed_ips: [{"subnet_id": ..., "ip_address": ...}], either key optional."""

    @abc.abstractmethod
    def delete_port(self, port_id: str) -> None:
        """Delete a port; an absent port is not an error (reverts call this)."""

    @abc.abstractmethod
    def plug_port(self, amphora: AmphoraLike, port: n.Port) -> n.Port:
        """Attach an existing port to the amphora."""

    @abc.abstractmethod
    def failover_preparation(self, amphora: AmphoraLike) -> None:
        """Release what would stop a replacement amphora from taking the ports over."""

    @abc.abstractmethod
    def get_network_configs(
        self, load_balancer: LoadBalancerLike, amphorae: Sequence[AmphoraLike] = ()
    ) -> dict[str, n.AmphoraNetworkConfig]:
        """Per amphora id, the VIP subnet and the ports it holds."""

    def wait_for_port_detach(self, amphora: AmphoraLike) -> None:  # noqa: B027
        """Return once the amphora's ports are detached; drivers that detach synchronously
        have nothing to wait for."""
