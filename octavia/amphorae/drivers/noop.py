"""Amphora driver that configures nothing (upstream's `amphora_noop_driver`).

It records each call so that tests and operators running the API with noop drivers
can see what the worker asked for; amphora rows still go through their states.
"""

from __future__ import annotations

import collections
import logging
from typing import Any

from octavia.amphorae.drivers.base import AmphoraeNetworkConfig, AmphoraLoadBalancerDriver, TimeoutDict
from octavia.amphorae.drivers.vrrp_noop import NoopVrrpMixin
from octavia.db import models
from octavia.network import data_models as n

LOG = logging.getLogger(__name__)


class NoopAmphoraDriver(NoopVrrpMixin, AmphoraLoadBalancerDriver):
    RECORDED_CALLS = 1000

    def __init__(self) -> None:
        self.calls: collections.deque[tuple[str, tuple[Any, ...]]] = collections.deque(
            maxlen=self.RECORDED_CALLS
        )

    def _record(self, method: str, *ids: Any) -> None:
        LOG.debug("noop amphora driver: %s %s", method, ids)
        self.calls.append((method, ids))

    def update_amphora_listeners(
        self, loadbalancer: models.LoadBalancer, amphora: models.Amphora, timeout_dict: TimeoutDict = None
    ) -> None:
        self._record("update_amphora_listeners", loadbalancer.id, amphora.id)

    def update(self, loadbalancer: models.LoadBalancer) -> None:
        self._record("update", loadbalancer.id)

    def start(
        self,
        loadbalancer: models.LoadBalancer,
        amphora: models.Amphora | None = None,
        timeout_dict: TimeoutDict = None,
    ) -> None:
        self._record("start", loadbalancer.id, amphora.id if amphora else None)

    def reload(
        self,
        loadbalancer: models.LoadBalancer,
        amphora: models.Amphora | None = None,
        timeout_dict: TimeoutDict = None,
    ) -> None:
        self._record("reload", loadbalancer.id, amphora.id if amphora else None)

    def delete(self, listener: models.Listener) -> None:
        self._record("delete", listener.id)

    def get_info(self, amphora: models.Amphora, timeout_dict: TimeoutDict = None) -> dict[str, Any]:
        self._record("get_info", amphora.id)
        return {"hostname": "noop", "api_version": "1.0", "haproxy_version": None, "amphora_id": amphora.id}

    def get_diagnostics(self, amphora: models.Amphora) -> dict[str, Any]:
        self._record("get_diagnostics", amphora.id)
        return {}

    def finalize_amphora(self, amphora: models.Amphora) -> None:
        self._record("finalize_amphora", amphora.id)

    def post_vip_plug(
        self,
        amphora: models.Amphora,
        load_balancer: models.LoadBalancer,
        amphorae_network_config: AmphoraeNetworkConfig,
        vrrp_port: n.Port | None = None,
        vip_subnet: n.Subnet | None = None,
        additional_vip_data: list[n.AdditionalVip] | None = None,
    ) -> None:
        self._record("post_vip_plug", amphora.id, load_balancer.id)

    def post_network_plug(
        self,
        amphora: models.Amphora,
        port: n.Port,
        amphora_network_config: n.AmphoraNetworkConfig | None = None,
    ) -> None:
        self._record("post_network_plug", amphora.id, port.id)

    def upload_cert_amp(self, amphora: models.Amphora, pem_file: bytes) -> None:
        self._record("upload_cert_amp", amphora.id)

    def update_amphora_agent_config(
        self, amphora: models.Amphora, agent_config: str | bytes | None, timeout_dict: TimeoutDict = None
    ) -> None:
        self._record("update_amphora_agent_config", amphora.id)

    def get_interface_from_ip(
        self, amphora: models.Amphora, ip_address: str, timeout_dict: TimeoutDict = None
    ) -> str | None:
        self._record("get_interface_from_ip", amphora.id, ip_address)
        return None

    def get_listeners_status(
        self, amphora: models.Amphora, timeout_dict: TimeoutDict = None
    ) -> list[dict[str, Any]]:
        self._record("get_listeners_status", amphora.id)
        return []

    def check(self, amphora: models.Amphora, timeout_dict: TimeoutDict = None) -> None:
        self._record("check", amphora.id)

    def wait_for_ready(self, amphora: models.Amphora, timeout_dict: TimeoutDict = None) -> dict[str, Any]:
        self._record("wait_for_ready", amphora.id)
        return self.get_info(amphora)
