"""The PEM files the rest driver uploads for TLS listeners and pools."""

from __future__ import annotations

import pytest

from octavia.amphorae.drivers.tls_bundles import pem_files
from octavia.amphorae.haproxy.tls import cert_file_name
from octavia.certificates import errors
from octavia.certificates.manager.local import LocalCertManager
from tests.unit.amphorae.haproxy import factory
from tests.unit.certificates import helpers


def test_listener_and_pool_refs_become_files(state_dir: str) -> None:
    manager = LocalCertManager()
    ca_key = helpers.make_key()
    ca = helpers.make_cert(ca_key, cn="CA", ca=True)
    key = helpers.make_key()
    leaf = helpers.make_cert(key, cn="www.example.com", issuer=(ca, ca_key))
    server_ref = manager.store_cert("p", helpers.cert_pem(leaf), helpers.key_pem(key, b"pw"),
                                    [helpers.cert_pem(ca)], passphrase=b"pw")
    ca_ref = manager.store_secret("p", helpers.cert_pem(ca))
    crl_ref = manager.store_secret("p", helpers.make_crl((ca, ca_key)))
    lb = factory.load_balancer()
    listener = factory.listener(
        lb, protocol="TERMINATED_HTTPS", port=443, default_tls_container_ref=server_ref,
        sni_container_refs=[server_ref], client_ca_tls_container_ref=ca_ref, client_crl_container_ref=crl_ref,
    )
    factory.listener(lb, protocol="TERMINATED_HTTPS", port=444, enabled=False,
                     default_tls_container_ref="not-stored")
    factory.pool(lb, protocol="HTTP", listener=listener, tls_enabled=True, ca_tls_container_ref=ca_ref)
    files = pem_files(lb, manager)
    assert set(files) == {cert_file_name(server_ref), cert_file_name(ca_ref), cert_file_name(crl_ref)}
    server_pem = files[cert_file_name(server_ref)]
    assert server_pem.startswith("-----BEGIN CERTIFICATE-----")
    assert "BEGIN PRIVATE KEY" in server_pem and "ENCRYPTED" not in server_pem
    assert files[cert_file_name(crl_ref)].startswith("-----BEGIN X509 CRL-----")


def test_missing_ref_fails(state_dir: str) -> None:
    lb = factory.load_balancer()
    factory.listener(lb, protocol="TERMINATED_HTTPS", port=443, default_tls_container_ref="gone")
    with pytest.raises(errors.CertificateRetrievalException):
        pem_files(lb, LocalCertManager())
