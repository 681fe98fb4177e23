"""Self-signed CA, server certificate and CRL made with `cryptography` for TLS rendering tests."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from octavia.amphorae.haproxy.tls import cert_file_name
from octavia.db import models


@dataclass
class TlsMaterial:
    ca_pem: str
    server_pem: str  # certificate + key, as HAProxy's `crt` wants
    crl_pem: str


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_tls_material(server_name: str = "lb.example.com") -> TlsMaterial:
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("test CA"))
        .issuer_name(_name("test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(server_name))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(server_name)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(now - datetime.timedelta(days=1))
        .next_update(now + datetime.timedelta(days=30))
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return TlsMaterial(
        ca_pem=ca_cert.public_bytes(serialization.Encoding.PEM).decode(),
        server_pem=cert.public_bytes(serialization.Encoding.PEM).decode() + key_pem,
        crl_pem=crl.public_bytes(serialization.Encoding.PEM).decode(),
    )


def install_certs(amp_base: Path, lb: models.LoadBalancer, by_ref: dict[str, str]) -> dict[str, str]:
    """Write each container's PEM where the renderer points, return the `certs` mapping."""
    certs = {cert_file_name(ref): pem for ref, pem in by_ref.items()}
    directory = amp_base / lb.id / "certs"
    directory.mkdir(parents=True, exist_ok=True)
    for name, pem in certs.items():
        (directory / name).write_text(pem)
    return certs
