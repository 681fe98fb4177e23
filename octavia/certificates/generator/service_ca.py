"""The service's own CA: loaded from `[certificates]` files, or created once on first use.

Several processes (API, worker, health manager) may ask for it at the same moment on a
fresh state directory, so creation happens under an exclusive file lock and files are
written atomically: every process ends up with the same CA.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import NameOID

from octavia.common import config
from octavia.common.config import CONF

LOG = logging.getLogger(__name__)

CA_VALIDITY = datetime.timedelta(days=3650)
CA_COMMON_NAME = "Octavia service CA"
CA_CERT_FILE = "ca.pem"
CA_KEY_FILE = "ca.key"


class CAConfigurationError(RuntimeError):
    """The configured CA files are missing, unreadable or do not match."""


@dataclass(frozen=True)
class ServiceCA:
    certificate: x509.Certificate
    private_key: CertificateIssuerPrivateKeyTypes
    cert_pem: bytes
    cert_path: str

    def __repr__(self) -> str:
        return f"ServiceCA(subject={self.certificate.subject.rfc4514_string()!r})"


def ca_directory() -> str:
    """Where a generated CA (and the controller's client certificate) live."""
    if CONF.certificates.storage_path:
        return os.path.join(CONF.certificates.storage_path, "ca")
    return config.state_path("ca")


def signature_hash(key: CertificateIssuerPrivateKeyTypes) -> hashes.SHA256 | None:
    """Ed25519/Ed448 keys sign without a separate digest; every other key uses SHA-256."""
    if isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
        return None
    return hashes.SHA256()


def write_private_file(path: str, data: bytes) -> None:
    """Write atomically with mode 0600 so that a reader never sees half a key."""
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def directory_lock(directory: str) -> Iterator[None]:
    """Exclusive lock shared by every process using `directory`."""
    os.makedirs(directory, mode=0o700, exist_ok=True)
    with open(os.path.join(directory, ".lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _passphrase() -> bytes | None:
    value = CONF.certificates.ca_private_key_passphrase
    return value.encode() if value else None


def _load(cert_path: str, key_path: str) -> ServiceCA:
    try:
        with open(cert_path, "rb") as handle:
            cert_pem = handle.read()
        with open(key_path, "rb") as handle:
            key_pem = handle.read()
    except OSError as exc:
        raise CAConfigurationError(f"Cannot read the CA files: {exc.strerror} ({exc.filename})") from exc
    try:
        certificate = x509.load_pem_x509_certificate(cert_pem)
    except ValueError as exc:
        raise CAConfigurationError(f"{cert_path} is not a PEM certificate") from exc
    try:
        key = serialization.load_pem_private_key(key_pem, password=_passphrase())
    except (ValueError, TypeError) as exc:
        # The message of these errors never contains key material, but keep it generic.
        raise CAConfigurationError(f"Cannot load the CA private key {key_path} (wrong passphrase?)") from exc
    if key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) != certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ):
        raise CAConfigurationError(f"The CA key {key_path} does not match the certificate {cert_path}")
    return ServiceCA(
        certificate=certificate,
        private_key=key,  # type: ignore[arg-type]  # a loaded key that cannot sign fails when signing
        cert_pem=cert_pem,
        cert_path=cert_path,
    )


def _create(cert_path: str, key_path: str) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CA_COMMON_NAME)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    passphrase = _passphrase()
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    )
    write_private_file(
        key_path,
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption),
    )
    write_private_file(cert_path, certificate.public_bytes(serialization.Encoding.PEM))
    LOG.info("Created the service CA in %s", os.path.dirname(cert_path))


def load_service_ca() -> ServiceCA:
    """The configured CA, or the generated one (created now if it does not exist yet)."""
    configured_cert = CONF.certificates.ca_certificate
    configured_key = CONF.certificates.ca_private_key
    if configured_cert or configured_key:
        if not (configured_cert and configured_key):
            raise CAConfigurationError("[certificates] ca_certificate and ca_private_key go together")
        return _load(configured_cert, configured_key)
    directory = ca_directory()
    cert_path = os.path.join(directory, CA_CERT_FILE)
    key_path = os.path.join(directory, CA_KEY_FILE)
    with directory_lock(directory):
        if not os.path.exists(cert_path):
            _create(cert_path, key_path)
    return _load(cert_path, key_path)
