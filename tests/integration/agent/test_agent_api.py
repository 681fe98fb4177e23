"""The agent's mutual TLS, info/details, certificate files, config update, cert rotation, plugging."""

from __future__ import annotations

import hashlib
import socket
import ssl
import uuid

import httpx
import pytest
from cryptography import x509

from tests.integration.agent.conftest import PKI, Agent

pytestmark = pytest.mark.slow


def _handshake(agent: Agent, context: ssl.SSLContext) -> bytes:
    """Handshake, send a request, return what came back (raises when the agent refuses)."""
    with socket.create_connection((agent.host, agent.port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=agent.amphora_id) as tls:
            tls.sendall(b"GET /1.0/info HTTP/1.1\r\nHost: amp\r\nConnection: close\r\n\r\n")
            return tls.recv(65536)


def _refused(agent: Agent, context: ssl.SSLContext) -> bool:
    """No HTTP answer: TLS 1.2 fails the handshake itself, TLS 1.3 ends right after it."""
    try:
        return _handshake(agent, context) == b""
    except (ssl.SSLError, ConnectionResetError):
        return True


def _tls12(context: ssl.SSLContext) -> ssl.SSLContext:
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    return context


def _peer_certificate(agent: Agent) -> x509.Certificate:
    context = agent.client_context(agent.pki.client_cert)
    with socket.create_connection((agent.host, agent.port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=agent.amphora_id) as tls:
            der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der)


def test_client_with_service_cert_is_served(agent: Agent) -> None:
    assert _handshake(agent, agent.client_context(agent.pki.client_cert)).startswith(b"HTTP/1.1 200")


def test_client_without_certificate_is_refused_at_handshake(agent: Agent) -> None:
    assert _refused(agent, agent.client_context(None))
    with pytest.raises(ssl.SSLError):
        _handshake(agent, _tls12(agent.client_context(None)))
    with agent.client(cert_file=None) as client, pytest.raises(httpx.TransportError):
        client.get("/1.0/info", extensions={"sni_hostname": agent.amphora_id})


def test_client_with_foreign_ca_certificate_is_refused(agent: Agent) -> None:
    assert _refused(agent, agent.client_context(agent.pki.rogue_client_cert))
    with pytest.raises(ssl.SSLError):
        _handshake(agent, _tls12(agent.client_context(agent.pki.rogue_client_cert)))
    assert not _refused(agent, _tls12(agent.client_context(agent.pki.client_cert)))


def test_agent_identity_is_checked_by_name(agent: Agent) -> None:
    """The server certificate names the amphora: a client expecting another amphora refuses it."""
    context = agent.client_context(agent.pki.client_cert)
    with socket.create_connection((agent.host, agent.port), timeout=5) as raw:
        with pytest.raises(ssl.SSLCertVerificationError):
            context.wrap_socket(raw, server_hostname=str(uuid.uuid4()))


def test_info_and_details(agent: Agent) -> None:
    info = agent.request("GET", "/1.0/info").json()
    assert info["amphora_id"] == agent.amphora_id
    assert info["api_version"] == "1.0"
    assert info["haproxy_version"].startswith("2.")
    details = agent.request("GET", "/1.0/details").json()
    assert details["amphora_id"] == agent.amphora_id
    assert details["memory"]["total"] > 0
    assert len(details["load"]) == 3
    assert "127.0.0.1/8" in details["interfaces"]["lo"]["addresses"]


def test_interface_lookup(agent: Agent) -> None:
    assert agent.request("GET", f"/1.0/interface/{agent.host}").json() == {"interface": "lo"}
    assert agent.request("GET", "/1.0/interface/192.0.2.77").status_code == 404
    assert agent.request("GET", "/1.0/interface/not-an-ip").status_code == 400


def test_certificate_files(agent: Agent) -> None:
    lb_id = str(uuid.uuid4())
    pem = agent.pki.server_pem("listener.example.com")
    path = f"/1.0/loadbalancer/{lb_id}/certificates/abc.pem"
    assert agent.request("GET", path).status_code == 404
    assert agent.request("PUT", path, content=pem).status_code == 200
    assert agent.request("GET", path).json() == {"md5sum": hashlib.md5(pem).hexdigest()}  # noqa: S324
    hidden = f"/1.0/loadbalancer/{lb_id}/certificates/.hidden.pem"
    assert agent.request("PUT", hidden, content=pem).status_code == 400
    text_file = f"/1.0/loadbalancer/{lb_id}/certificates/x.txt"
    assert agent.request("PUT", text_file, content=pem).status_code == 400
    assert agent.request("PUT", path, content=b"not pem").status_code == 400
    assert agent.request("DELETE", path).status_code == 200
    assert agent.request("GET", path).status_code == 404
    assert agent.request("DELETE", f"/1.0/loadbalancer/{lb_id}").status_code == 200


def test_agent_config_update(agent: Agent) -> None:
    assert agent.request("PUT", "/1.0/config", content=b"not [an ini").status_code == 400
    update = b"[health_manager]\nheartbeat_interval = 1800\n"
    assert agent.request("PUT", "/1.0/config", content=update).status_code == 202
    with open(agent.config_file) as handle:
        merged = handle.read()
    assert "heartbeat_interval = 1800" in merged
    assert f"amphora_id = {agent.amphora_id}" in merged
    assert agent.request("GET", "/1.0/info").json()["amphora_id"] == agent.amphora_id


def test_certificate_rotation_without_restart(agent: Agent, pki: PKI) -> None:
    before = _peer_certificate(agent)
    assert agent.request("PUT", "/1.0/certificate", content=b"garbage").status_code == 400
    other_key = pki.server_pem(agent.amphora_id).split(b"-----END CERTIFICATE-----\n")[1]
    mismatched = pki.server_pem(agent.amphora_id).split(b"-----BEGIN PRIVATE KEY-----")[0] + other_key
    assert agent.request("PUT", "/1.0/certificate", content=mismatched).status_code == 400
    assert _peer_certificate(agent).serial_number == before.serial_number
    pid = agent.process.pid
    new_pem = pki.server_pem(agent.amphora_id)
    assert agent.request("PUT", "/1.0/certificate", content=new_pem).status_code == 202
    after = _peer_certificate(agent)
    assert after.serial_number != before.serial_number
    assert after.serial_number == x509.load_pem_x509_certificate(new_pem).serial_number
    assert agent.process.pid == pid and agent.process.poll() is None
    with open(agent.cert_file, "rb") as handle:
        assert handle.read() == new_pem


def test_plug_loopback_vip(agent: Agent) -> None:
    vip = agent.address(3)
    body = {"subnet_cidr": f"{agent.prefix}.0/24", "gateway": None, "mac_address": None, "vrrp_ip": None,
            "host_routes": [], "mtu": 1500}
    response = agent.request("POST", f"/1.0/plug/vip/{vip}", json=body)
    assert response.status_code == 202
    assert "loopback" in response.json()["details"]
    response = agent.request("POST", f"/1.0/plug/vip/{vip}", json={**body, "subnet_cidr": "10.0.0.0/24"})
    assert response.status_code == 400
    response = agent.request("POST", "/1.0/plug/vip/not-an-ip", json=body)
    assert response.status_code == 400
    response = agent.request("POST", f"/1.0/plug/vip/{vip}", json={"gateway": 5})
    assert response.status_code == 400
