"""Certificate generator backed by the service's own CA (upstream's `local_cert_generator`).

Keys are ECDSA P-256: generating one takes well under a millisecond where RSA-2048
takes tens, which matters when a load balancer should be up within a second.
"""

from __future__ import annotations

import datetime
import logging
import os
import threading

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from octavia.certificates.generator import service_ca
from octavia.certificates.generator.base import CertBundle, CertGenerator, ClientCertPaths
from octavia.common.config import CONF

LOG = logging.getLogger(__name__)

CLIENT_COMMON_NAME = "octavia-controller"
CLIENT_CERT_FILE = "client.pem"
CLIENT_VALIDITY = datetime.timedelta(days=365)
CLOCK_SKEW = datetime.timedelta(minutes=5)


class InvalidCSR(ValueError):
    """The CSR is not PEM, or its signature does not verify."""


def _is_dns_name(value: str) -> bool:
    labels = value.split(".")
    return all(0 < len(label) <= 63 and label.replace("-", "").isalnum() for label in labels)


class LocalCertGenerator(CertGenerator):
    """Issues amphora server certificates and the controller's client certificate."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ca: service_ca.ServiceCA | None = None

    def _service_ca(self) -> service_ca.ServiceCA:
        with self._lock:
            if self._ca is None:
                self._ca = service_ca.load_service_ca()
            return self._ca

    def _issue(
        self,
        subject: x509.Name,
        public_key: CertificatePublicKeyTypes,
        validity: int | datetime.timedelta,
        usage: x509.ObjectIdentifier,
        alt_names: x509.SubjectAlternativeName | None,
    ) -> x509.Certificate:
        ca = self._service_ca()
        lifetime = (
            validity if isinstance(validity, datetime.timedelta) else datetime.timedelta(seconds=validity)
        )
        if lifetime <= datetime.timedelta(0):
            raise ValueError("certificate validity must be positive")
        now = datetime.datetime.now(datetime.UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca.certificate.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - CLOCK_SKEW)
            .not_valid_after(now + lifetime)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True, content_commitment=False, key_encipherment=True,
                    data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                    encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(
                # The CA key's public half: the same key as the CA certificate's (checked on load).
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.private_key.public_key()),
                critical=False,
            )
        )
        if alt_names is not None:
            builder = builder.add_extension(alt_names, critical=False)
        return builder.sign(ca.private_key, service_ca.signature_hash(ca.private_key))

    def generate_cert_key_pair(self, cn: str, validity: int) -> CertBundle:
        """Server certificate for an amphora agent: CN and DNS SAN are `cn` (the amphora id).

        The DNS SAN lets the controller verify the agent's identity during the handshake
        (it connects by IP and names the amphora id as the TLS server name).
        """
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        alt_names = x509.SubjectAlternativeName([x509.DNSName(cn)]) if _is_dns_name(cn) else None
        certificate = self._issue(
            subject, key.public_key(), validity, ExtendedKeyUsageOID.SERVER_AUTH, alt_names
        )
        return CertBundle(
            certificate=certificate.public_bytes(serialization.Encoding.PEM),
            private_key=key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
            ca=self._service_ca().cert_pem,
            expiration=certificate.not_valid_after_utc,
        )

    def sign_csr(self, csr_pem: bytes, validity: int) -> bytes:
        """Issue a server certificate for a CSR, keeping its subject and SANs."""
        try:
            csr = x509.load_pem_x509_csr(csr_pem)
        except ValueError as exc:
            raise InvalidCSR("not a PEM certificate signing request") from exc
        if not csr.is_signature_valid:
            raise InvalidCSR("the CSR signature does not verify")
        try:
            alt_names: x509.SubjectAlternativeName | None = csr.extensions.get_extension_for_class(
                x509.SubjectAlternativeName
            ).value
        except x509.ExtensionNotFound:
            alt_names = None
        certificate = self._issue(
            csr.subject, csr.public_key(), validity, ExtendedKeyUsageOID.SERVER_AUTH, alt_names
        )
        return certificate.public_bytes(serialization.Encoding.PEM)

    def get_ca_certificate(self) -> bytes:
        return self._service_ca().cert_pem

    def get_client_cert(self) -> ClientCertPaths:
        """The controller's client certificate, reissued when near expiry or from another CA."""
        ca = self._service_ca()
        directory = service_ca.ca_directory()
        path = os.path.join(directory, CLIENT_CERT_FILE)
        with service_ca.directory_lock(directory):
            if not self._client_cert_usable(path, ca):
                self._write_client_cert(path)
        return ClientCertPaths(cert_file=path, ca_file=ca.cert_path)

    def _client_cert_usable(self, path: str, ca: service_ca.ServiceCA) -> bool:
        try:
            with open(path, "rb") as handle:
                certificate = x509.load_pem_x509_certificate(handle.read())
        except (OSError, ValueError):
            return False
        try:
            certificate.verify_directly_issued_by(ca.certificate)
        except (ValueError, TypeError, InvalidSignature):
            LOG.info("The controller client certificate was issued by another CA: reissuing it")
            return False
        margin = datetime.timedelta(seconds=CONF.house_keeping.cert_expiry_buffer)
        return certificate.not_valid_after_utc - margin > datetime.datetime.now(datetime.UTC)

    def _write_client_cert(self, path: str) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CLIENT_COMMON_NAME)])
        certificate = self._issue(
            subject, key.public_key(), CLIENT_VALIDITY, ExtendedKeyUsageOID.CLIENT_AUTH, None
        )
        pem = certificate.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        service_ca.write_private_file(path, pem)
        LOG.info("Issued the controller client certificate (expires %s)", certificate.not_valid_after_utc)
