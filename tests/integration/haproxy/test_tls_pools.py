"""TLS towards members: HTTPS pass-through and re-encryption (tls_enabled pools), through real HAProxy."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography import x509

from tests.integration.haproxy.backends import NamedHttpServer
from tests.integration.haproxy.conftest import Addresses, RunningHaproxy, http_get
from tests.unit.amphorae.haproxy import factory
from tests.unit.amphorae.haproxy.tls_material import TlsMaterial, install_certs, make_tls_material

pytestmark = pytest.mark.slow
PORT = 8080
MEMBER_PORT = 8443


@pytest.fixture
def tls_member(addresses: Addresses, amp_base: Path) -> Iterator[tuple[NamedHttpServer, TlsMaterial]]:
    """An HTTPS member with a certificate for member.example.com signed by its own CA."""
    material = make_tls_material("member.example.com")
    pem = amp_base / "member.pem"
    pem.write_text(material.server_pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(pem))
    server = NamedHttpServer("tls0", addresses.member(0), MEMBER_PORT, tls=context)
    yield server, material
    server.stop()


def test_https_passthrough_reaches_the_member_certificate(
    addresses: Addresses, tls_member, start_haproxy: Callable[..., RunningHaproxy]
):
    lb = factory.load_balancer(vip=addresses.vip)
    listener = factory.listener(lb, protocol="HTTPS", port=PORT)
    pool = factory.pool(lb, protocol="HTTPS", listener=listener)
    factory.member(pool, addresses.member(0), MEMBER_PORT)
    factory.health_monitor(pool, type="TLS-HELLO", delay=1, timeout=1)
    start_haproxy(lb)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with context.wrap_socket(socket.create_connection((addresses.vip, PORT), timeout=5)) as tls:
        served = x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))
        tls.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        reply = b""
        while chunk := tls.recv(4096):
            reply += chunk
    assert served.subject.rfc4514_string() == "CN=member.example.com"
    assert reply.endswith(b"tls0")


@pytest.mark.parametrize("verify", [True, False], ids=["verify-ca", "no-ca"])
def test_reencryption_to_tls_members(
    addresses: Addresses,
    amp_base: Path,
    tls_member,
    start_haproxy: Callable[..., RunningHaproxy],
    verify: bool,
):
    server, material = tls_member
    lb = factory.load_balancer(vip=addresses.vip)
    listener = factory.listener(lb, port=PORT)
    pool = factory.pool(
        lb, listener=listener, tls_enabled=True, ca_tls_container_ref="member-ca" if verify else None
    )
    factory.member(pool, addresses.member(0), MEMBER_PORT)
    certs = install_certs(amp_base, lb, {"member-ca": material.ca_pem}) if verify else None
    start_haproxy(lb, certs=certs)
    assert http_get(addresses.vip, PORT).body == "tls0"
    assert server.requests


def test_reencryption_refuses_a_member_signed_by_another_ca(
    addresses: Addresses, amp_base: Path, tls_member, start_haproxy: Callable[..., RunningHaproxy]
):
    lb = factory.load_balancer(vip=addresses.vip)
    listener = factory.listener(lb, port=PORT)
    pool = factory.pool(lb, listener=listener, tls_enabled=True, ca_tls_container_ref="other-ca")
    factory.member(pool, addresses.member(0), MEMBER_PORT)
    certs = install_certs(amp_base, lb, {"other-ca": make_tls_material().ca_pem})
    start_haproxy(lb, certs=certs)
    assert http_get(addresses.vip, PORT).status == 503
