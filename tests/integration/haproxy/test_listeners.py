"""Listener features through a real HAProxy: CIDRs, headers, TCP, PROXY protocol, limits, TLS, IPv6."""

from __future__ import annotations

import http.client
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509

from tests.integration.haproxy.backends import (
    HoldingServer,
    NamedHttpServer,
    echo_server,
    proxy_protocol_server,
)
from tests.integration.haproxy.conftest import Addresses, RunningHaproxy, http_get
from tests.unit.amphorae.haproxy import factory
from tests.unit.amphorae.haproxy.tls_material import install_certs, make_tls_material

pytestmark = pytest.mark.slow
PORT = 8080
MEMBER_PORT = 8081


def _http_lb(addresses: Addresses, **listener_fields):
    lb = factory.load_balancer(vip=addresses.vip)
    listener = factory.listener(lb, port=PORT, **listener_fields)
    factory.member(factory.pool(lb, listener=listener), addresses.member(0), MEMBER_PORT)
    return lb


def test_allowed_cidrs_drop_other_sources(addresses: Addresses, start_haproxy: Callable[..., RunningHaproxy]):
    member = NamedHttpServer("m0", addresses.member(0), MEMBER_PORT)
    try:
        start_haproxy(_http_lb(addresses, allowed_cidrs=[f"{addresses.client(0)}/31"]))
        assert http_get(addresses.vip, PORT, source=addresses.client(0)).body == "m0"
        assert http_get(addresses.vip, PORT, source=addresses.client(1)).body == "m0"
        served = len(member.requests)
        with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
            http_get(addresses.vip, PORT, source=addresses.client(2))
        assert len(member.requests) == served
    finally:
        member.stop()


def test_insert_headers_arrive(addresses: Addresses, start_haproxy: Callable[..., RunningHaproxy]):
    member = NamedHttpServer("m0", addresses.member(0), MEMBER_PORT)
    headers = ("X-Forwarded-For", "X-Forwarded-Port", "X-Forwarded-Proto", "X-Real-IP", "X-Client-IP")
    try:
        start_haproxy(_http_lb(addresses, insert_headers={name: "true" for name in headers}))
        http_get(addresses.vip, PORT, source=addresses.client(3))
        received = member.requests[-1]
        assert received["x-forwarded-for"] == addresses.client(3)
        assert received["x-forwarded-port"] == str(PORT)
        assert received["x-forwarded-proto"] == "http"
        assert received["x-real-ip"] == received["x-client-ip"] == addresses.client(3)
    finally:
        member.stop()


def test_tcp_listener_passes_bytes_through(
    addresses: Addresses, start_haproxy: Callable[..., RunningHaproxy]
):
    member = echo_server("echo0", addresses.member(0), MEMBER_PORT)
    payload = os.urandom(256 * 1024)
    try:
        lb = factory.load_balancer(vip=addresses.vip)
        listener = factory.listener(lb, protocol="TCP", port=PORT)
        factory.member(factory.pool(lb, protocol="TCP", listener=listener), addresses.member(0), MEMBER_PORT)
        start_haproxy(lb)
        with socket.create_connection((addresses.vip, PORT), timeout=5) as sock:
            sender = threading.Thread(target=sock.sendall, args=(payload,))
            sender.start()
            expected = b"echo0:" + payload
            received = b""
            while len(received) < len(expected):
                chunk = sock.recv(65536)
                assert chunk, "connection closed early"
                received += chunk
            sender.join()
        assert received == expected
    finally:
        member.stop()


@pytest.mark.parametrize(("pool_protocol", "version"), [("PROXY", "v1"), ("PROXYV2", "v2")])
def test_proxy_protocol_reaches_the_member(
    addresses: Addresses, start_haproxy: Callable[..., RunningHaproxy], pool_protocol: str, version: str
):
    member = proxy_protocol_server("p0", addresses.member(0), MEMBER_PORT)
    try:
        lb = factory.load_balancer(vip=addresses.vip)
        listener = factory.listener(lb, protocol="TCP", port=PORT)
        pool = factory.pool(lb, protocol=pool_protocol, listener=listener)
        factory.member(pool, addresses.member(0), MEMBER_PORT)
        start_haproxy(lb)
        with socket.create_connection(
            (addresses.vip, PORT), timeout=5, source_address=(addresses.client(4), 0)
        ) as sock:
            client_port = sock.getsockname()[1]
            answer = sock.makefile().readline().split()
        assert answer == ["p0", version, addresses.client(4), str(client_port)]
    finally:
        member.stop()


def test_connection_limit_holds(addresses: Addresses, start_haproxy: Callable[..., RunningHaproxy]):
    member = HoldingServer("hold", addresses.member(0), MEMBER_PORT)
    clients: list[socket.socket] = []
    try:
        lb = factory.load_balancer(vip=addresses.vip)
        listener = factory.listener(lb, protocol="TCP", port=PORT, connection_limit=2)
        factory.member(factory.pool(lb, protocol="TCP", listener=listener), addresses.member(0), MEMBER_PORT)
        start_haproxy(lb)
        # 2 served + 2 waiting in the kernel's accept queue (HAProxy's backlog follows maxconn)
        for _ in range(4):
            sock = socket.create_connection((addresses.vip, PORT), timeout=5)
            sock.sendall(b"x")
            clients.append(sock)
        time.sleep(0.5)
        assert member.peak == 2
        member.release()
        # the waiting clients are served once served clients leave: queued, not dropped
        for sock in clients:
            assert sock.recv(4) == b"done"
            sock.close()
        assert member.served == 4
        assert member.peak == 2
    finally:
        member.release()
        for sock in clients:
            sock.close()
        member.stop()


def test_ipv6_additional_vip(addresses: Addresses, start_haproxy: Callable[..., RunningHaproxy]):
    if not socket.has_ipv6 or not os.path.exists("/proc/net/if_inet6"):
        pytest.skip("no IPv6 on this host")
    member = NamedHttpServer("m0", addresses.member(0), MEMBER_PORT)
    probe = socket.socket(socket.AF_INET6)
    probe.bind(("::1", 0))
    port = probe.getsockname()[1]
    probe.close()
    try:
        lb = factory.load_balancer(vip=addresses.vip, additional_vips=[{"ip_address": "::1"}])
        listener = factory.listener(lb, port=port)
        factory.member(factory.pool(lb, listener=listener), addresses.member(0), MEMBER_PORT)
        start_haproxy(lb)
        assert http_get("::1", port).body == "m0"
        assert http_get(addresses.vip, port).body == "m0"
    finally:
        member.stop()


def test_terminated_https_sni_client_auth_and_hsts(
    addresses: Addresses, amp_base: Path, start_haproxy: Callable[..., RunningHaproxy]
):
    member = NamedHttpServer("m0", addresses.member(0), MEMBER_PORT)
    default = make_tls_material("default.example.com")
    other = make_tls_material("other.example.com")
    try:
        lb = factory.load_balancer(vip=addresses.vip)
        listener = factory.listener(
            lb,
            protocol="TERMINATED_HTTPS",
            port=PORT,
            default_tls_container_ref="default",
            sni_container_refs=["other"],
            client_ca_tls_container_ref="ca",
            client_authentication="MANDATORY",
            hsts_max_age=600,
            insert_headers={"X-SSL-Client-CN": "true", "X-Forwarded-Proto": "true"},
        )
        factory.member(factory.pool(lb, listener=listener), addresses.member(0), MEMBER_PORT)
        certs = install_certs(
            amp_base, lb, {"default": default.server_pem, "other": other.server_pem, "ca": default.ca_pem}
        )
        start_haproxy(lb, certs=certs)
        client_pem = amp_base / "client.pem"
        client_pem.write_text(default.server_pem)

        def fetch(server_name: str, with_cert: bool) -> tuple[str, http.client.HTTPResponse, str]:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            if with_cert:
                context.load_cert_chain(str(client_pem))
            raw = socket.create_connection((addresses.vip, PORT), timeout=5)
            with context.wrap_socket(raw, server_hostname=server_name) as tls:
                served = x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))
                tls.sendall(b"GET / HTTP/1.1\r\nHost: lb\r\nConnection: close\r\n\r\n")
                reply = http.client.HTTPResponse(tls)  # type: ignore[arg-type]
                reply.begin()
                body = reply.read().decode()
            return served.subject.rfc4514_string(), reply, body

        name, reply, body = fetch("other.example.com", with_cert=True)
        assert (name, body) == ("CN=other.example.com", "m0")
        assert reply.headers["Strict-Transport-Security"] == "max-age=600"
        assert member.requests[-1]["x-ssl-client-cn"] == "default.example.com"
        assert member.requests[-1]["x-forwarded-proto"] == "https"
        assert fetch("unknown.example.com", with_cert=True)[0] == "CN=default.example.com"
        with pytest.raises((ssl.SSLError, ConnectionResetError, http.client.RemoteDisconnected)):
            fetch("other.example.com", with_cert=False)
    finally:
        member.stop()


def test_prometheus_listener_serves_metrics(
    addresses: Addresses, start_haproxy: Callable[..., RunningHaproxy]
):
    from octavia.amphorae.haproxy.capabilities import detect_features
    from octavia.common.config import CONF

    if not detect_features(CONF.haproxy_amphora.haproxy_cmd).prometheus_exporter:
        pytest.skip("this HAProxy build has no prometheus exporter")
    lb = factory.load_balancer(vip=addresses.vip)
    factory.listener(lb, protocol="PROMETHEUS", port=PORT)
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    internal_port = probe.getsockname()[1]
    probe.close()
    start_haproxy(lb, prometheus_port=internal_port)
    metrics = http_get(addresses.vip, PORT, "/metrics")
    assert metrics.status == 200 and "haproxy_process_" in metrics.body
    assert http_get(addresses.vip, PORT, "/other").status == 404
    assert "haproxy_frontend_" in http_get("127.0.0.1", internal_port, "/metrics").body


def test_many_unlimited_listeners_start_under_the_fd_limit(
    addresses: Addresses, start_haproxy: Callable[..., RunningHaproxy]
):
    lb = factory.load_balancer(vip=addresses.vip)
    for port in range(PORT, PORT + 4):
        factory.listener(lb, port=port, connection_limit=-1)
    running = start_haproxy(lb)
    info = running.command("show info")
    maxconn = int(next(line for line in info.splitlines() if line.startswith("Maxconn:")).split()[1])
    assert maxconn > 9000


def test_second_haproxy_on_the_same_vip_port_refuses_to_start(
    addresses: Addresses, start_haproxy: Callable[..., RunningHaproxy]
):
    start_haproxy(_http_lb(addresses))
    try:
        second = start_haproxy(_http_lb(addresses))
    except AssertionError as exc:
        assert "Address already in use" in str(exc)
        return
    # Under load the second one may create its stats socket (and the first one answers on
    # the port) before it gives up on the bind: it must still exit, refusing the address.
    assert second.process.wait(timeout=10) != 0
    assert "Address already in use" in second.log_path.read_text()
