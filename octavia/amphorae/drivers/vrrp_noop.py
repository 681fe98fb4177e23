"""VRRP calls of the noop amphora driver: recorded, nothing configured."""

from __future__ import annotations

from collections.abc import Callable

from octavia.amphorae.drivers.base import TimeoutDict
from octavia.amphorae.drivers.vrrp_base import VrrpDriverMixin
from octavia.common import constants
from octavia.db import models


class NoopVrrpMixin(VrrpDriverMixin):
    _record: Callable[..., None]
    """The noop driver's call recorder."""

    def update_vrrp_conf(
        self, loadbalancer: models.LoadBalancer, amphora: models.Amphora, timeout_dict: TimeoutDict = None
    ) -> None:
        self._record("update_vrrp_conf", loadbalancer.id, amphora.id)

    def start_vrrp_service(self, amphora: models.Amphora, timeout_dict: TimeoutDict = None) -> None:
        self._record("start_vrrp_service", amphora.id)

    def reload_vrrp_service(
        self, loadbalancer: models.LoadBalancer, amphora: models.Amphora | None = None,
        timeout_dict: TimeoutDict = None,
    ) -> None:
        self._record("reload_vrrp_service", loadbalancer.id, amphora.id if amphora else None)

    def stop_vrrp_service(
        self, loadbalancer: models.LoadBalancer, amphora: models.Amphora | None = None,
        timeout_dict: TimeoutDict = None,
    ) -> None:
        self._record("stop_vrrp_service", loadbalancer.id, amphora.id if amphora else None)

    def holds_vip(
        self, loadbalancer: models.LoadBalancer, amphora: models.Amphora, timeout_dict: TimeoutDict = None
    ) -> bool:
        """Nothing runs: the MASTER is taken to hold the VIP."""
        self._record("holds_vip", loadbalancer.id, amphora.id)
        return amphora.role == constants.ROLE_MASTER

    def get_vrrp_interface(self, amphora: models.Amphora, timeout_dict: TimeoutDict = None) -> str | None:
        self._record("get_vrrp_interface", amphora.id)
        return amphora.vrrp_interface
