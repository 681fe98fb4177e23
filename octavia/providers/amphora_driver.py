"""The `amphora` provider (alias `octavia`): hands every operation to the controller worker.

Each call validates what the amphora data plane cannot do (synchronously, so the API
answers 4xx/501 with nothing changed) and casts the object's id to a worker over
oslo.messaging. SOURCE_IP_PORT is accepted: HAProxy 2.6 hashes the client address and
port. ACTIVE_STANDBY (a keepalived pair) needs amphorae in network namespaces: with
local amphorae in loopback mode (keepalived refuses `lo`) it is refused at LB create.
`create_vip_port` is not implemented, so the API allocates the VIP through the
configured network driver (upstream's fallback), keeping one VIP path for all providers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from octavia_lib.api.drivers import data_models as dm
from octavia_lib.api.drivers import exceptions as lib_exceptions
from octavia_lib.api.drivers.provider_base import ProviderDriver
from sqlalchemy import select

from octavia.common import constants as c
from octavia.common.config import CONF
from octavia.controller.worker import rpc
from octavia.db import models
from octavia.db.api import session_scope
from octavia.network import loader as network_loader

LOG = logging.getLogger(__name__)

FLAVOR_METADATA = {
    "loadbalancer_topology": "The load balancer topology. One of: SINGLE - One amphora per load balancer. "
    "ACTIVE_STANDBY - Two amphora per load balancer.",
    "compute_flavor": "The compute driver flavor ID.",
    "amp_image_tag": "The amphora image tag.",
    "sriov_vip": "When true, the VIP port will be created using an SR-IOV VF port.",
    "allow_member_sriov": "When true, members can be on SR-IOV VF ports.",
}
AVAILABILITY_ZONE_METADATA = {
    "compute_zone": "The compute availability zone.",
    "volume_zone": "The volume availability zone.",
    "management_network": "The management network ID for the amphora.",
    "valid_vip_networks": "List of network IDs that are allowed for VIP use. "
    "This overrides/replaces the list of allowed networks configured in `octavia.conf`.",
}
_BOOLEAN_KEYS = ("sriov_vip", "allow_member_sriov")
L7_PROTOCOLS = (c.PROTOCOL_HTTP, c.PROTOCOL_TERMINATED_HTTPS)


def _unsupported(message: str) -> lib_exceptions.UnsupportedOptionError:
    return lib_exceptions.UnsupportedOptionError(user_fault_string=message, operator_fault_string=message)


def _set(value: Any) -> Any:
    """octavia-lib's Unset sentinel reads as None."""
    return None if isinstance(value, dm.UnsetType) else value


_HAPROXY_ONLY = "UDP and SCTP are not served by this amphora data plane yet"


def _check_protocol(protocol: Any) -> None:
    """HAProxy 2.6 has no generic UDP (DATAPLANE-FACTS): refuse cleanly instead of an ERROR later."""
    if _set(protocol) in (c.PROTOCOL_UDP, c.PROTOCOL_SCTP):
        raise _unsupported(f"{_HAPROXY_ONLY}: {_set(protocol)}")


class AmphoraProviderDriver(ProviderDriver):
    def __init__(self) -> None:
        super().__init__()
        self.name = "amphora"

    # Load balancer
    def create_vip_port(self, loadbalancer_id: str, project_id: str, vip_dictionary: dict[str, Any],
                        additional_vip_dicts: list[dict[str, Any]] | None = None) -> Any:
        raise NotImplementedError()

    def loadbalancer_create(self, loadbalancer: dm.LoadBalancer) -> None:
        _check_topology(_set(loadbalancer.flavor) or {})
        for listener in _set(loadbalancer.listeners) or []:
            _check_protocol(listener.protocol)
        pools = [_set(listener.default_pool) for listener in _set(loadbalancer.listeners) or []]
        pools += _set(loadbalancer.pools) or []
        for pool in pools:
            if pool:
                _check_protocol(pool.protocol)
        _check_reachable(member for pool in pools if pool for member in _set(pool.members) or [])
        rpc.cast("create_load_balancer", loadbalancer_id=loadbalancer.loadbalancer_id,
                 flavor=_set(loadbalancer.flavor) or {},
                 availability_zone=_set(loadbalancer.availability_zone) or {})

    def loadbalancer_delete(self, loadbalancer: dm.LoadBalancer, cascade: bool = False) -> None:
        rpc.cast("delete_load_balancer", loadbalancer_id=loadbalancer.loadbalancer_id, cascade=cascade)

    def loadbalancer_update(self, old_loadbalancer: dm.LoadBalancer,
                            new_loadbalancer: dm.LoadBalancer) -> None:
        rpc.cast("update_load_balancer",
                 loadbalancer_id=old_loadbalancer.loadbalancer_id or new_loadbalancer.loadbalancer_id)

    def loadbalancer_failover(self, loadbalancer_id: str) -> None:
        rpc.cast("failover_load_balancer", loadbalancer_id=loadbalancer_id)

    # Listener
    def listener_create(self, listener: dm.Listener) -> None:
        _check_protocol(listener.protocol)
        rpc.cast("create_listener", listener_id=listener.listener_id)

    def listener_update(self, old_listener: dm.Listener, new_listener: dm.Listener) -> None:
        rpc.cast("update_listener", listener_id=old_listener.listener_id or new_listener.listener_id)

    def listener_delete(self, listener: dm.Listener) -> None:
        rpc.cast("delete_listener", listener_id=listener.listener_id)

    # Pool
    def pool_create(self, pool: dm.Pool) -> None:
        _check_protocol(pool.protocol)
        rpc.cast("create_pool", pool_id=pool.pool_id)

    def pool_update(self, old_pool: dm.Pool, new_pool: dm.Pool) -> None:
        rpc.cast("update_pool", pool_id=old_pool.pool_id or new_pool.pool_id)

    def pool_delete(self, pool: dm.Pool) -> None:
        rpc.cast("delete_pool", pool_id=pool.pool_id)

    # Member
    def member_create(self, member: dm.Member) -> None:
        _check_reachable([member])
        rpc.cast("create_member", member_id=member.member_id)

    def member_update(self, old_member: dm.Member, new_member: dm.Member) -> None:
        rpc.cast("update_member", member_id=old_member.member_id or new_member.member_id)

    def member_delete(self, member: dm.Member) -> None:
        rpc.cast("delete_member", member_id=member.member_id)

    def member_batch_update(self, pool_id: str, members: list[dm.Member]) -> None:
        _check_reachable(members)
        wanted = [{"member_id": _set(m.member_id), "address": _set(m.address),
                   "protocol_port": _set(m.protocol_port)} for m in members]
        rpc.cast("batch_update_members", pool_id=pool_id, members=wanted)

    # Health monitor
    def health_monitor_create(self, healthmonitor: dm.HealthMonitor) -> None:
        rpc.cast("create_health_monitor", healthmonitor_id=healthmonitor.healthmonitor_id)

    def health_monitor_update(self, old_healthmonitor: dm.HealthMonitor,
                              new_healthmonitor: dm.HealthMonitor) -> None:
        rpc.cast("update_health_monitor",
                 healthmonitor_id=old_healthmonitor.healthmonitor_id or new_healthmonitor.healthmonitor_id)

    def health_monitor_delete(self, healthmonitor: dm.HealthMonitor) -> None:
        rpc.cast("delete_health_monitor", healthmonitor_id=healthmonitor.healthmonitor_id)

    # L7 policy
    def l7policy_create(self, l7policy: dm.L7Policy) -> None:
        self._require_http_listener(_set(l7policy.listener_id))
        rpc.cast("create_l7policy", l7policy_id=l7policy.l7policy_id)

    def l7policy_update(self, old_l7policy: dm.L7Policy, new_l7policy: dm.L7Policy) -> None:
        rpc.cast("update_l7policy", l7policy_id=old_l7policy.l7policy_id or new_l7policy.l7policy_id)

    def l7policy_delete(self, l7policy: dm.L7Policy) -> None:
        rpc.cast("delete_l7policy", l7policy_id=l7policy.l7policy_id)

    @staticmethod
    def _require_http_listener(listener_id: str | None) -> None:
        if listener_id is None:
            return
        with session_scope() as session:
            protocol = session.execute(
                select(models.Listener.protocol).where(models.Listener.id == listener_id)).scalar()
        if protocol is not None and protocol not in L7_PROTOCOLS:
            raise _unsupported(f"L7 policies are only supported on HTTP and TERMINATED_HTTPS listeners; "
                               f"listener {listener_id} is {protocol}.")

    # L7 rule
    def l7rule_create(self, l7rule: dm.L7Rule) -> None:
        rpc.cast("create_l7rule", l7rule_id=l7rule.l7rule_id)

    def l7rule_update(self, old_l7rule: dm.L7Rule, new_l7rule: dm.L7Rule) -> None:
        rpc.cast("update_l7rule", l7rule_id=old_l7rule.l7rule_id or new_l7rule.l7rule_id)

    def l7rule_delete(self, l7rule: dm.L7Rule) -> None:
        rpc.cast("delete_l7rule", l7rule_id=l7rule.l7rule_id)

    # Flavors and availability zones
    def get_supported_flavor_metadata(self) -> dict[str, str]:
        return dict(FLAVOR_METADATA)

    def validate_flavor(self, flavor_metadata: dict[str, Any]) -> None:
        _check_keys("flavor", flavor_metadata, FLAVOR_METADATA)
        topology = flavor_metadata.get("loadbalancer_topology")
        if topology is not None and topology not in c.TOPOLOGIES:
            raise _unsupported(f"Invalid loadbalancer_topology {topology!r}; expected one of "
                               f"{', '.join(c.TOPOLOGIES)}.")
        for key in ("compute_flavor", "amp_image_tag"):
            if key in flavor_metadata and not isinstance(flavor_metadata[key], str):
                raise _unsupported(f"The flavor metadata value of '{key}' must be a string.")
        for key in _BOOLEAN_KEYS:
            if key in flavor_metadata and not isinstance(flavor_metadata[key], bool):
                raise _unsupported(f"The flavor metadata value of '{key}' must be a boolean.")

    def get_supported_availability_zone_metadata(self) -> dict[str, str]:
        return dict(AVAILABILITY_ZONE_METADATA)

    def validate_availability_zone(self, availability_zone_metadata: dict[str, Any]) -> None:
        metadata = availability_zone_metadata
        _check_keys("availability zone", metadata, AVAILABILITY_ZONE_METADATA)
        for key in ("compute_zone", "volume_zone", "management_network"):
            if key in metadata and not isinstance(metadata[key], str):
                raise _unsupported(f"The availability zone metadata value of '{key}' must be a string.")
        networks = metadata.get("valid_vip_networks")
        valid = isinstance(networks, list) and all(isinstance(n, str) for n in networks)
        if networks is not None and not valid:
            raise _unsupported("The availability zone metadata value of 'valid_vip_networks' must be "
                               "a list of network IDs.")


def _check_topology(flavor: dict[str, Any]) -> None:
    """ACTIVE_STANDBY moves the VIP between two namespaces with VRRP: local amphorae in
    loopback mode share the host's `lo`, where keepalived cannot run."""
    topology = flavor.get("loadbalancer_topology") or CONF.controller_worker.loadbalancer_topology
    driver = network_loader.get_driver()
    if topology == c.TOPOLOGY_ACTIVE_STANDBY and getattr(driver, "mode", None) == "loopback":
        raise _unsupported("The ACTIVE_STANDBY topology needs amphorae in network namespaces; local "
                           "amphorae run in loopback mode here (root and `ip netns` are needed).")


def _check_reachable(members: Iterable[dm.Member]) -> None:
    """Refuse (400) members the amphorae could never reach, before anything is built."""
    network = network_loader.get_driver()
    for address in sorted({_set(m.address) for m in members} - {None}):
        network.check_member_address(address)


def _check_keys(kind: str, metadata: Any, supported: dict[str, str]) -> None:
    if not isinstance(metadata, dict):
        raise _unsupported(f"The {kind} metadata must be a JSON object.")
    unknown = sorted(set(metadata) - set(supported))
    if unknown:
        raise _unsupported(f"Unsupported {kind} metadata key(s): {', '.join(unknown)}. "
                           f"Supported: {', '.join(supported)}.")
