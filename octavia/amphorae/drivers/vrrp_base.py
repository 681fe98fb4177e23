"""Contract of the VRRP side of amphora drivers (upstream's `VRRPDriverMixin`).

ACTIVE_STANDBY load balancers run keepalived on both amphorae; the worker's flows
render and push its configuration, start it, reload it when the peer changes and
stop it before an amphora is retired (so the VIP moves with a clean handover).
"""

from __future__ import annotations

import abc

from octavia.amphorae.drivers.base import TimeoutDict
from octavia.db import models


class VrrpDriverMixin(abc.ABC):
    @abc.abstractmethod
    def update_vrrp_conf(
        self, loadbalancer: models.LoadBalancer, amphora: models.Amphora, timeout_dict: TimeoutDict = None
    ) -> None:
        """Render keepalived.conf for `amphora` (its peers are the load balancer's other
        amphorae) and upload it; the agent validates it before installing it."""

    @abc.abstractmethod
    def start_vrrp_service(self, amphora: models.Amphora, timeout_dict: TimeoutDict = None) -> None:
        """Start keepalived on the amphora (it starts as BACKUP; priorities elect the MASTER)."""

    @abc.abstractmethod
    def reload_vrrp_service(
        self, loadbalancer: models.LoadBalancer, amphora: models.Amphora | None = None,
        timeout_dict: TimeoutDict = None,
    ) -> None:
        """Make keepalived re-read its configuration, on one amphora or on all of the LB's."""

    @abc.abstractmethod
    def stop_vrrp_service(
        self, loadbalancer: models.LoadBalancer, amphora: models.Amphora | None = None,
        timeout_dict: TimeoutDict = None,
    ) -> None:
        """Stop keepalived cleanly (the peer takes the VIP over), on one amphora or on all."""

    @abc.abstractmethod
    def holds_vip(
        self, loadbalancer: models.LoadBalancer, amphora: models.Amphora, timeout_dict: TimeoutDict = None
    ) -> bool:
        """Whether keepalived on `amphora` has the VIP address configured right now."""

    @abc.abstractmethod
    def get_vrrp_interface(self, amphora: models.Amphora, timeout_dict: TimeoutDict = None) -> str | None:
        """Name of the amphora interface holding its VRRP address."""
