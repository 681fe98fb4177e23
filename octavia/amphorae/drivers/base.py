"""Contract of amphora drivers: how the controller configures the amphorae of a load balancer.

Method names and arguments follow upstream's `AmphoraLoadBalancerDriver` so that
flows written against upstream read the same. Objects are the ORM rows
(`octavia.db.models`) and the network driver's data models. `timeout_dict` may hold
upstream's keys `req_conn_timeout`, `req_read_timeout`, `conn_max_retries` and
`conn_retry_interval`, overriding `[haproxy_amphora]` for one call.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any

from octavia.db import models
from octavia.network import data_models as n

TimeoutDict = Mapping[str, float] | None
AmphoraeNetworkConfig = n.VipPlug | Mapping[str, n.AmphoraNetworkConfig]


class AmphoraLoadBalancerDriver(abc.ABC):
    """Pushes configuration to amphorae and asks them about themselves."""

    @abc.abstractmethod
    def update_amphora_listeners(
        self, loadbalancer: models.LoadBalancer, amphora: models.Amphora, timeout_dict: TimeoutDict = None
    ) -> None:
        """Render the load balancer's HAProxy configuration for `amphora`, push it and reload.

        With no enabled listener left, the amphora's HAProxy for this load balancer is removed.
        """

    @abc.abstractmethod
    def update(self, loadbalancer: models.LoadBalancer) -> None:
        """`update_amphora_listeners` on every allocated amphora of the load balancer."""

    @abc.abstractmethod
    def start(
        self,
        loadbalancer: models.LoadBalancer,
        amphora: models.Amphora | None = None,
        timeout_dict: TimeoutDict = None,
    ) -> None:
        """Start HAProxy for the load balancer (on one amphora, or on all of them)."""

    @abc.abstractmethod
    def reload(
        self,
        loadbalancer: models.LoadBalancer,
        amphora: models.Amphora | None = None,
        timeout_dict: TimeoutDict = None,
    ) -> None:
        """Reload HAProxy seamlessly; raises when the reload did not take."""

    @abc.abstractmethod
    def delete(self, listener: models.Listener) -> None:
        """The listener is going away: push the remaining listeners, or remove HAProxy if none."""

    @abc.abstractmethod
    def get_info(self, amphora: models.Amphora, timeout_dict: TimeoutDict = None) -> dict[str, Any]:
        """Agent facts: hostname, api_version, haproxy_version, amphora_id."""

    @abc.abstractmethod
    def get_diagnostics(self, amphora: models.Amphora) -> dict[str, Any]:
        """The agent's details: info plus load, memory, interfaces, load balancers."""

    @abc.abstractmethod
    def finalize_amphora(self, amphora: models.Amphora) -> None:
        """Hook run once an amphora is built, before any listener is configured."""

    @abc.abstractmethod
    def post_vip_plug(
        self,
        amphora: models.Amphora,
        load_balancer: models.LoadBalancer,
        amphorae_network_config: AmphoraeNetworkConfig,
        vrrp_port: n.Port | None = None,
        vip_subnet: n.Subnet | None = None,
        additional_vip_data: list[n.AdditionalVip] | None = None,
    ) -> None:
        """Configure the VIP inside the amphora once the network driver plugged its port.

        `amphorae_network_config` is the network driver's `VipPlug` for this amphora, or
        upstream's mapping of amphora id to `AmphoraNetworkConfig` (then `vrrp_port` and
        `vip_subnet` default to the ones it holds).
        """

    @abc.abstractmethod
    def post_network_plug(
        self,
        amphora: models.Amphora,
        port: n.Port,
        amphora_network_config: n.AmphoraNetworkConfig | None = None,
    ) -> None:
        """Configure a member network port inside the amphora."""

    @abc.abstractmethod
    def upload_cert_amp(self, amphora: models.Amphora, pem_file: bytes) -> None:
        """Replace the agent's own server certificate (cert + key PEM); no agent restart."""

    @abc.abstractmethod
    def update_amphora_agent_config(
        self, amphora: models.Amphora, agent_config: str | bytes | None, timeout_dict: TimeoutDict = None
    ) -> None:
        """Replace the agent's configuration file (INI text) and have it re-read."""

    @abc.abstractmethod
    def get_interface_from_ip(
        self, amphora: models.Amphora, ip_address: str, timeout_dict: TimeoutDict = None
    ) -> str | None:
        """Name of the amphora interface holding `ip_address` (None if no interface has it)."""

    @abc.abstractmethod
    def get_listeners_status(
        self, amphora: models.Amphora, timeout_dict: TimeoutDict = None
    ) -> list[dict[str, Any]]:
        """Per load balancer on the amphora: status (ACTIVE/OFFLINE/ERROR), reason, frontends."""

    @abc.abstractmethod
    def check(self, amphora: models.Amphora, timeout_dict: TimeoutDict = None) -> None:
        """Raise unless the agent answers (with `[haproxy_amphora] active_connection_*` retries)."""

    @abc.abstractmethod
    def wait_for_ready(self, amphora: models.Amphora, timeout_dict: TimeoutDict = None) -> dict[str, Any]:
        """Wait for a booting amphora's agent (`connection_max_retries`); returns its info."""
