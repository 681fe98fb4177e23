"""Amphora driver talking to the amphora agent's REST API (upstream's `amphora_haproxy_rest_driver`).

Configuration is rendered here (`render_haproxy_config`), TLS files are fetched from
the certificate manager and uploaded first (skipped when the agent already holds the
same bytes), then the agent validates the configuration and reloads HAProxy.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from octavia.amphorae.drivers import tls_bundles
from octavia.amphorae.drivers.agent_client import AgentClient
from octavia.amphorae.drivers.base import AmphoraeNetworkConfig, AmphoraLoadBalancerDriver, TimeoutDict
from octavia.amphorae.drivers.errors import AgentRequestError, InvalidHAProxyConfig
from octavia.amphorae.drivers.paths import amphora_base_path
from octavia.amphorae.drivers.vrrp_rest import VrrpRestMixin
from octavia.amphorae.haproxy.frontends import HAPROXY_PROTOCOLS
from octavia.amphorae.haproxy.render import render_haproxy_config
from octavia.certificates import loader
from octavia.common import constants
from octavia.common.config import CONF
from octavia.db import models
from octavia.network import data_models as n
from octavia.network import loader as network_loader

LOG = logging.getLogger(__name__)


def _serves_traffic(listener: models.Listener) -> bool:
    return bool(listener.enabled) and listener.protocol in HAPROXY_PROTOCOLS


def _host_routes(subnet: n.Subnet | None) -> list[dict[str, str]]:
    if subnet is None:
        return []
    return [{"destination": r["destination"], "nexthop": r["nexthop"]} for r in subnet.host_routes]


class RestAmphoraDriver(VrrpRestMixin, AmphoraLoadBalancerDriver):
    def __init__(self) -> None:
        self.client = AgentClient()

    # -- load balancer configuration -------------------------------------------------

    def update_amphora_listeners(
        self, loadbalancer: models.LoadBalancer, amphora: models.Amphora, timeout_dict: TimeoutDict = None
    ) -> None:
        if amphora.status == constants.DELETED:
            return
        if not any(_serves_traffic(listener) for listener in loadbalancer.listeners):
            self._delete_lb(amphora, loadbalancer.id, timeout_dict)
            return
        files = tls_bundles.pem_files(loadbalancer, loader.get_cert_manager())
        for name, pem in files.items():
            self._upload_lb_cert(amphora, loadbalancer.id, name, pem.encode(), timeout_dict)
        text = render_haproxy_config(
            loadbalancer, amphora, amp_base=amphora_base_path(amphora.id), certs=files
        )
        try:
            self.client.request(
                amphora, "PUT", f"/loadbalancer/{amphora.id}/{loadbalancer.id}/haproxy",
                content=text.encode(), timeout_dict=timeout_dict,
            )
        except AgentRequestError as exc:
            if exc.status == 400:
                raise InvalidHAProxyConfig(exc.status, exc.message, exc.details) from exc
            raise
        self._action(amphora, loadbalancer.id, "reload", timeout_dict)
        LOG.info("Configured load balancer %s on amphora %s", loadbalancer.id, amphora.id)

    def _upload_lb_cert(
        self, amphora: models.Amphora, lb_id: str, name: str, pem: bytes, timeout_dict: TimeoutDict
    ) -> None:
        path = f"/loadbalancer/{lb_id}/certificates/{name}"
        current = self.client.request(amphora, "GET", path, timeout_dict=timeout_dict, tolerate=(404,))
        if current.status_code == 200 and current.json().get("md5sum") == hashlib.md5(
            pem, usedforsecurity=False
        ).hexdigest():
            return
        self.client.request(amphora, "PUT", path, content=pem, timeout_dict=timeout_dict)

    def _action(self, amphora: models.Amphora, lb_id: str, action: str, timeout_dict: TimeoutDict) -> None:
        self.client.request(amphora, "PUT", f"/loadbalancer/{lb_id}/{action}", timeout_dict=timeout_dict)

    def _delete_lb(self, amphora: models.Amphora, lb_id: str, timeout_dict: TimeoutDict) -> None:
        self.client.request(amphora, "DELETE", f"/loadbalancer/{lb_id}", timeout_dict=timeout_dict,
                            tolerate=(404,))

    @staticmethod
    def _amphorae(loadbalancer: models.LoadBalancer, amphora: models.Amphora | None) -> list[models.Amphora]:
        candidates = [amphora] if amphora is not None else list(loadbalancer.amphorae)
        return [amp for amp in candidates if amp.status != constants.DELETED]

    def update(self, loadbalancer: models.LoadBalancer) -> None:
        for amphora in self._amphorae(loadbalancer, None):
            self.update_amphora_listeners(loadbalancer, amphora)

    def start(
        self,
        loadbalancer: models.LoadBalancer,
        amphora: models.Amphora | None = None,
        timeout_dict: TimeoutDict = None,
    ) -> None:
        for amp in self._amphorae(loadbalancer, amphora):
            self._action(amp, loadbalancer.id, "start", timeout_dict)

    def reload(
        self,
        loadbalancer: models.LoadBalancer,
        amphora: models.Amphora | None = None,
        timeout_dict: TimeoutDict = None,
    ) -> None:
        for amp in self._amphorae(loadbalancer, amphora):
            self._action(amp, loadbalancer.id, "reload", timeout_dict)

    def delete(self, listener: models.Listener) -> None:
        loadbalancer = listener.load_balancer
        remaining = [
            item for item in loadbalancer.listeners if item.id != listener.id and _serves_traffic(item)
        ]
        for amphora in self._amphorae(loadbalancer, None):
            if remaining:
                self.update_amphora_listeners(loadbalancer, amphora)
            else:
                self._delete_lb(amphora, loadbalancer.id, None)

    # -- amphora ---------------------------------------------------------------------

    def get_info(self, amphora: models.Amphora, timeout_dict: TimeoutDict = None) -> dict[str, Any]:
        info: dict[str, Any] = self.client.request(amphora, "GET", "/info", timeout_dict=timeout_dict).json()
        return info

    def get_diagnostics(self, amphora: models.Amphora) -> dict[str, Any]:
        details: dict[str, Any] = self.client.request(amphora, "GET", "/details", active=True).json()
        return details

    def finalize_amphora(self, amphora: models.Amphora) -> None:
        """Nothing to do: the agent is ready for listeners as soon as it answers."""

    def wait_for_ready(self, amphora: models.Amphora, timeout_dict: TimeoutDict = None) -> dict[str, Any]:
        return self.get_info(amphora, timeout_dict)

    def check(self, amphora: models.Amphora, timeout_dict: TimeoutDict = None) -> None:
        self.client.request(amphora, "GET", "/info", timeout_dict=timeout_dict, active=True)

    def get_listeners_status(
        self, amphora: models.Amphora, timeout_dict: TimeoutDict = None
    ) -> list[dict[str, Any]]:
        statuses: list[dict[str, Any]] = self.client.request(
            amphora, "GET", "/listeners", timeout_dict=timeout_dict, active=True
        ).json()
        return statuses

    def get_interface_from_ip(
        self, amphora: models.Amphora, ip_address: str, timeout_dict: TimeoutDict = None
    ) -> str | None:
        response = self.client.request(
            amphora, "GET", f"/interface/{ip_address}", timeout_dict=timeout_dict, active=True,
            tolerate=(404,),
        )
        return str(response.json()["interface"]) if response.status_code == 200 else None

    def upload_cert_amp(self, amphora: models.Amphora, pem_file: bytes) -> None:
        self.client.request(amphora, "PUT", "/certificate", content=pem_file, active=True)

    def update_amphora_agent_config(
        self, amphora: models.Amphora, agent_config: str | bytes | None, timeout_dict: TimeoutDict = None
    ) -> None:
        """Without `agent_config`, push the heartbeat settings that do not depend on where the
        amphora runs (interval and key); the agent merges what it receives into its file."""
        if agent_config is None:
            hm = CONF.health_manager
            agent_config = (
                f"[health_manager]\nheartbeat_interval = {hm.heartbeat_interval}\n"
                f"heartbeat_key = {hm.heartbeat_key}\n"
            )
        content = agent_config.encode() if isinstance(agent_config, str) else agent_config
        self.client.request(
            amphora, "PUT", "/config", content=content, timeout_dict=timeout_dict, active=True
        )

    # -- networking ------------------------------------------------------------------

    def post_vip_plug(
        self,
        amphora: models.Amphora,
        load_balancer: models.LoadBalancer,
        amphorae_network_config: AmphoraeNetworkConfig,
        vrrp_port: n.Port | None = None,
        vip_subnet: n.Subnet | None = None,
        additional_vip_data: list[n.AdditionalVip] | None = None,
    ) -> None:
        if amphora.status == constants.DELETED:
            return
        if isinstance(amphorae_network_config, n.VipPlug):
            body = self._vip_body_from_plug(amphorae_network_config, vip_subnet)
        else:
            config = amphorae_network_config[amphora.id]
            body = self._vip_body_from_ports(
                amphora, vrrp_port or config.vrrp_port, vip_subnet or config.vip_subnet, additional_vip_data
            )
        self.client.request(amphora, "POST", f"/plug/vip/{load_balancer.vip_address}", json=body, active=True)

    @staticmethod
    def _vip_body_from_plug(plug: n.VipPlug, vip_subnet: n.Subnet | None) -> dict[str, Any]:
        return {
            "subnet_cidr": plug.subnet_cidr,
            "gateway": plug.gateway,
            "mac_address": plug.mac_address or None,
            "interface": plug.interface,
            "vrrp_ip": plug.vrrp_ip or None,
            "host_routes": _host_routes(vip_subnet),
            "mtu": plug.mtu,
            "additional_vips": list(plug.additional_vips),
        }

    def _vip_body_from_ports(
        self,
        amphora: models.Amphora,
        vrrp_port: n.Port | None,
        vip_subnet: n.Subnet,
        additional_vip_data: list[n.AdditionalVip] | None,
    ) -> dict[str, Any]:
        network = network_loader.get_driver()
        additional = []
        for extra in additional_vip_data or ():
            subnet = network.get_subnet(extra.subnet_id)
            additional.append({"ip_address": extra.ip_address, "subnet_cidr": subnet.cidr,
                               "gateway": subnet.gateway_ip, "host_routes": _host_routes(subnet)})
        mtu = network.get_network(vrrp_port.network_id).mtu if vrrp_port is not None else None
        return {
            "subnet_cidr": vip_subnet.cidr,
            "gateway": vip_subnet.gateway_ip,
            "mac_address": vrrp_port.mac_address if vrrp_port is not None else None,
            "vrrp_ip": amphora.vrrp_ip,
            "host_routes": _host_routes(vip_subnet),
            "mtu": mtu,
            "additional_vips": additional,
        }

    def post_network_plug(
        self,
        amphora: models.Amphora,
        port: n.Port,
        amphora_network_config: n.AmphoraNetworkConfig | None = None,
    ) -> None:
        if amphora.status == constants.DELETED:
            return
        network = network_loader.get_driver()
        fixed_ips = []
        for fixed_ip in port.fixed_ips:
            subnet = network.get_subnet(fixed_ip.subnet_id)
            fixed_ips.append({"ip_address": fixed_ip.ip_address, "subnet_cidr": subnet.cidr,
                              "host_routes": _host_routes(subnet)})
        body = {
            "mac_address": port.mac_address,
            "fixed_ips": fixed_ips,
            "mtu": network.get_network(port.network_id).mtu,
        }
        self.client.request(amphora, "POST", "/plug/network", json=body, active=True)
