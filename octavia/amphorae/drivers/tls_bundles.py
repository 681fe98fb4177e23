"""The PEM files a load balancer's HAProxy needs, fetched from the certificate manager.

Keys are the file names the renderer expects (`octavia.amphorae.haproxy.tls.cert_file_name`);
server certificates become HAProxy's `crt` bundle (leaf, chain, decrypted key), CA and
CRL secrets are used as stored.
"""

from __future__ import annotations

from collections.abc import Callable

from octavia.amphorae.haproxy.tls import cert_file_name
from octavia.certificates import parsing
from octavia.certificates.manager.base import CertManager
from octavia.db import models


def _server_cert(manager: CertManager, ref: str) -> str:
    return parsing.build_haproxy_pem(manager.get_cert(ref)).decode()


def _secret(manager: CertManager, ref: str) -> str:
    return manager.get_secret(ref).decode()


def pem_files(loadbalancer: models.LoadBalancer, manager: CertManager) -> dict[str, str]:
    """File name -> PEM text for every TLS reference of the enabled listeners and the pools."""
    files: dict[str, str] = {}

    def add(ref: str | None, fetch: Callable[[CertManager, str], str]) -> None:
        if ref and cert_file_name(ref) not in files:
            files[cert_file_name(ref)] = fetch(manager, ref)

    for listener in loadbalancer.listeners:
        if not listener.enabled:
            continue
        add(listener.default_tls_container_ref, _server_cert)
        for ref in listener.sni_container_refs or ():
            add(ref, _server_cert)
        add(listener.client_ca_tls_container_ref, _secret)
        add(listener.client_crl_container_ref, _secret)
    for pool in loadbalancer.pools:
        if pool.tls_enabled:
            add(pool.tls_container_ref, _server_cert)
            add(pool.ca_tls_container_ref, _secret)
            add(pool.crl_container_ref, _secret)
    return files
