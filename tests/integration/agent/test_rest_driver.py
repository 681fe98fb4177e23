"""The controller's rest amphora driver against a real agent: render, upload, reload, traffic."""

from __future__ import annotations

import contextlib
import http.server
import os
import shutil
import signal
import ssl
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from octavia.amphorae.drivers import errors
from octavia.amphorae.drivers.paths import amphora_base_path, forget_amphora_base_path
from octavia.amphorae.drivers.rest import RestAmphoraDriver
from octavia.certificates import loader
from octavia.common.config import CONF
from octavia.db import models
from octavia.network import data_models as n
from tests.integration.agent.conftest import (
    PKI,
    Agent,
    free_port,
    haproxy_pids_under,
    http_get,
    start_agent,
    stop_agent,
)
from tests.unit.amphorae.haproxy import factory

pytestmark = pytest.mark.slow


class _Named(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        body = self.server.name.encode()  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Quiet."""


def _backend(name: str, host: str) -> http.server.ThreadingHTTPServer:
    server = http.server.ThreadingHTTPServer((host, 0), _Named)
    server.daemon_threads = True
    server.name = name  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


@dataclass
class Setup:
    agent: Agent
    amphora: models.Amphora
    driver: RestAmphoraDriver
    root: str


@pytest.fixture
def setup(pki: PKI) -> Iterator[Setup]:
    # A deep amphorae root, as under a real state directory: base paths become short links.
    root = tempfile.mkdtemp(prefix="oa-driver-state-directory-deep-enough-for-links-")
    store = tempfile.mkdtemp(prefix="oa-store-")
    amphora_id = str(uuid.uuid4())
    CONF.set_override("base_path", root, group="haproxy_amphora")
    CONF.set_override("client_cert", pki.client_cert, group="haproxy_amphora")
    CONF.set_override("server_ca", pki.ca_file, group="haproxy_amphora")
    CONF.set_override("storage_path", store, group="certificates")
    loader.reset()
    agent = None
    try:
        agent = start_agent(pki, amphora_id=amphora_id, base_path=amphora_base_path(amphora_id))
        CONF.set_override("bind_port", agent.port, group="haproxy_amphora")
        amphora = models.Amphora(id=amphora_id, status="ALLOCATED", lb_network_ip=agent.host)
        yield Setup(agent, amphora, RestAmphoraDriver(), root)
    finally:
        if agent is not None:
            stop_agent(agent)
        for pid in haproxy_pids_under(root):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        forget_amphora_base_path(amphora_id)
        for name in ("base_path", "client_cert", "server_ca", "bind_port"):
            CONF.clear_override(name, group="haproxy_amphora")
        CONF.clear_override("storage_path", group="certificates")
        loader.reset()
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(store, ignore_errors=True)


def _http_lb(setup: Setup, port: int) -> tuple[models.LoadBalancer, models.Listener, models.Pool]:
    lb = factory.load_balancer(vip=setup.agent.address(5))
    lb.amphorae.append(setup.amphora)
    listener = factory.listener(lb, protocol="HTTP", port=port)
    pool = factory.pool(lb, protocol="HTTP", listener=listener)
    return lb, listener, pool


def test_get_info_checks_the_agent_identity(setup: Setup) -> None:
    assert setup.driver.get_info(setup.amphora)["amphora_id"] == setup.amphora.id
    impostor = models.Amphora(id=str(uuid.uuid4()), status="ALLOCATED", lb_network_ip=setup.agent.host)
    started = time.monotonic()
    with pytest.raises(errors.AgentIdentityError):
        setup.driver.get_info(impostor)
    assert time.monotonic() - started < 5  # refused at once, not retried


def test_unreachable_agent_is_bounded_by_the_retry_settings(setup: Setup) -> None:
    silent = models.Amphora(id=setup.amphora.id, status="ALLOCATED", lb_network_ip=setup.agent.address(99))
    started = time.monotonic()
    with pytest.raises(errors.AgentUnreachable):
        setup.driver.get_info(silent, {"conn_max_retries": 3, "conn_retry_interval": 0.1})
    assert time.monotonic() - started < 5


def test_update_serves_traffic_through_the_vip_and_follows_changes(setup: Setup) -> None:
    host = setup.agent.address(5)
    port = free_port(host)
    first, second = _backend("m1", setup.agent.address(20)), _backend("m2", setup.agent.address(21))
    try:
        lb, listener, pool = _http_lb(setup, port)
        factory.member(pool, first.server_address[0], first.server_address[1])  # type: ignore[arg-type]
        setup.driver.update_amphora_listeners(lb, setup.amphora)
        assert http_get(host, port) == (200, b"m1")
        base = amphora_base_path(setup.amphora.id)
        assert len(os.path.join(base, lb.id, "haproxy.sock")) <= 97
        assert os.path.exists(os.path.join(setup.root, setup.amphora.id, "lbs", lb.id, "haproxy.cfg"))

        factory.member(pool, second.server_address[0], second.server_address[1])  # type: ignore[arg-type]
        setup.driver.update(lb)
        answers = {http_get(host, port)[1] for _ in range(10)}
        assert answers == {b"m1", b"m2"}
        statuses = setup.driver.get_listeners_status(setup.amphora)
        assert [(entry["lb_id"], entry["status"]) for entry in statuses] == [(lb.id, "ACTIVE")]

        setup.driver.delete(listener)
        assert haproxy_pids_under(setup.root) == set()
        with pytest.raises(OSError):
            http_get(host, port, timeout=1)
    finally:
        first.shutdown()
        second.shutdown()


def test_terminated_https_uploads_the_bundle_once(setup: Setup) -> None:
    host = setup.agent.address(5)
    port = free_port(host)
    backend = _backend("tls-member", setup.agent.address(22))
    try:
        bundle = setup.agent.pki.generator.generate_cert_key_pair("www.example.com", 3600)
        ref = loader.get_cert_manager().store_cert("project", bundle.certificate, bundle.private_key)
        lb = factory.load_balancer(vip=host)
        lb.amphorae.append(setup.amphora)
        listener = factory.listener(lb, protocol="TERMINATED_HTTPS", port=port, default_tls_container_ref=ref)
        pool = factory.pool(lb, protocol="HTTP", listener=listener)
        factory.member(pool, backend.server_address[0], backend.server_address[1])  # type: ignore[arg-type]
        setup.driver.update_amphora_listeners(lb, setup.amphora)
        context = ssl.create_default_context(cafile=setup.agent.pki.ca_file)
        with httpx.Client(verify=context) as client:
            response = client.get(f"https://{host}:{port}/", extensions={"sni_hostname": "www.example.com"})
        assert response.text == "tls-member"
        certs = os.path.join(amphora_base_path(setup.amphora.id), lb.id, "certs")
        (name,) = os.listdir(certs)
        uploaded = os.stat(os.path.join(certs, name)).st_mtime_ns
        setup.driver.update_amphora_listeners(lb, setup.amphora)
        assert os.stat(os.path.join(certs, name)).st_mtime_ns == uploaded
    finally:
        backend.shutdown()


def test_invalid_render_result_is_reported(setup: Setup) -> None:
    """A VIP this host cannot bind: `haproxy -c` passes, the agent's bind probe refuses the
    upload (before any reload could pause the running listeners) and the driver says so."""
    lb, _, pool = _http_lb(setup, 8080)
    lb.vip_address = "192.0.2.10"
    factory.member(pool, setup.agent.address(30), 80)
    with pytest.raises(errors.InvalidHAProxyConfig) as info:
        setup.driver.update_amphora_listeners(lb, setup.amphora)
    assert info.value.status == 400
    assert "192.0.2.10" in str(info.value.details)


def test_amphora_level_calls(setup: Setup) -> None:
    driver, amphora = setup.driver, setup.amphora
    plug = n.VipPlug(
        amphora_id=amphora.id, vrrp_ip="", ha_ip=setup.agent.address(5), vrrp_port_id="p", ha_port_id=None,
        mac_address="", subnet_cidr=f"{setup.agent.prefix}.0/24", gateway=None,
    )
    lb = factory.load_balancer(vip=setup.agent.address(5))
    driver.post_vip_plug(amphora, lb, plug)
    assert driver.get_interface_from_ip(amphora, setup.agent.host) == "lo"
    assert driver.get_interface_from_ip(amphora, "192.0.2.1") is None
    CONF.set_override("heartbeat_key", "rotated-key", group="health_manager")
    try:
        driver.update_amphora_agent_config(amphora, None)
    finally:
        CONF.clear_override("heartbeat_key", group="health_manager")
    with open(setup.agent.config_file) as handle:
        assert "heartbeat_key = rotated-key" in handle.read()
    assert driver.get_diagnostics(amphora)["amphora_id"] == amphora.id
    driver.upload_cert_amp(amphora, setup.agent.pki.server_pem(amphora.id))
    driver.check(amphora)
    with pytest.raises(errors.AgentRequestError):
        driver.upload_cert_amp(amphora, b"not a certificate")
