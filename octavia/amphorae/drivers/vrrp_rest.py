"""VRRP calls of the rest amphora driver: keepalived configuration and actions through the
agent's `/vrrp/...` endpoints."""

from __future__ import annotations

import logging

from octavia.amphorae.drivers.agent_client import AgentClient
from octavia.amphorae.drivers.base import TimeoutDict
from octavia.amphorae.drivers.errors import AgentRequestError, AmphoraDriverError
from octavia.amphorae.drivers.paths import amphora_dir
from octavia.amphorae.drivers.vrrp_base import VrrpDriverMixin
from octavia.amphorae.keepalived.layout import vrrp_paths
from octavia.amphorae.keepalived.render import KeepalivedRenderError, VipNetwork, render_keepalived_config
from octavia.common import constants
from octavia.db import models
from octavia.network import loader as network_loader

LOG = logging.getLogger(__name__)


class InvalidKeepalivedConfig(AgentRequestError):
    """The agent's `keepalived -t` refused the rendered configuration."""


def vip_networks(loadbalancer: models.LoadBalancer) -> list[VipNetwork]:
    """The VIP and each additional VIP with their subnets (from the network driver)."""
    network = network_loader.get_driver()
    entries = [(loadbalancer.vip_address, loadbalancer.vip_subnet_id)]
    entries += [(extra.get("ip_address"), extra.get("subnet_id"))
                for extra in loadbalancer.additional_vips or []]
    found = []
    for address, subnet_id in entries:
        if not address or not subnet_id:
            continue
        subnet = network.get_subnet(subnet_id)
        found.append(VipNetwork(address=address, cidr=subnet.cidr, gateway=subnet.gateway_ip))
    return found


class VrrpRestMixin(VrrpDriverMixin):
    client: AgentClient

    @staticmethod
    def _pair(loadbalancer: models.LoadBalancer, amphora: models.Amphora | None) -> list[models.Amphora]:
        candidates = [amphora] if amphora is not None else list(loadbalancer.amphorae)
        return [amp for amp in candidates if amp.status == constants.AMPHORA_ALLOCATED or amp is amphora]

    def update_vrrp_conf(
        self, loadbalancer: models.LoadBalancer, amphora: models.Amphora, timeout_dict: TimeoutDict = None
    ) -> None:
        check_script = vrrp_paths(amphora_dir(amphora.compute_id or amphora.id)).check_script
        try:
            text = render_keepalived_config(loadbalancer, amphora, vip_networks(loadbalancer),
                                            check_script=check_script)
        except KeepalivedRenderError as exc:
            raise AmphoraDriverError(f"keepalived configuration of amphora {amphora.id}: {exc}") from exc
        try:
            self.client.request(amphora, "PUT", "/vrrp/upload", content=text.encode(),
                                timeout_dict=timeout_dict, active=True)
        except AgentRequestError as exc:
            if exc.status == 400:
                raise InvalidKeepalivedConfig(exc.status, exc.message, exc.details) from exc
            raise
        LOG.info("Uploaded keepalived configuration of load balancer %s to amphora %s (priority %s)",
                 loadbalancer.id, amphora.id, amphora.vrrp_priority)

    def _vrrp_action(self, amphora: models.Amphora, action: str, timeout_dict: TimeoutDict) -> None:
        self.client.request(amphora, "PUT", f"/vrrp/{action}", timeout_dict=timeout_dict, active=True)

    def start_vrrp_service(self, amphora: models.Amphora, timeout_dict: TimeoutDict = None) -> None:
        self._vrrp_action(amphora, "start", timeout_dict)

    def reload_vrrp_service(
        self, loadbalancer: models.LoadBalancer, amphora: models.Amphora | None = None,
        timeout_dict: TimeoutDict = None,
    ) -> None:
        for amp in self._pair(loadbalancer, amphora):
            self._vrrp_action(amp, "reload", timeout_dict)

    def stop_vrrp_service(
        self, loadbalancer: models.LoadBalancer, amphora: models.Amphora | None = None,
        timeout_dict: TimeoutDict = None,
    ) -> None:
        for amp in self._pair(loadbalancer, amphora):
            self._vrrp_action(amp, "stop", timeout_dict)

    def holds_vip(
        self, loadbalancer: models.LoadBalancer, amphora: models.Amphora, timeout_dict: TimeoutDict = None
    ) -> bool:
        if not loadbalancer.vip_address:
            return False
        response = self.client.request(amphora, "GET", f"/interface/{loadbalancer.vip_address}",
                                       timeout_dict=timeout_dict, active=True, tolerate=(404,))
        return response.status_code == 200

    def get_vrrp_interface(self, amphora: models.Amphora, timeout_dict: TimeoutDict = None) -> str | None:
        if not amphora.vrrp_ip:
            return None
        response = self.client.request(amphora, "GET", f"/interface/{amphora.vrrp_ip}",
                                       timeout_dict=timeout_dict, active=True, tolerate=(404,))
        return str(response.json()["interface"]) if response.status_code == 200 else None
