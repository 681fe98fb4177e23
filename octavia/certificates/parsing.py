"""Reading and checking tenants' TLS material: PKCS12 and PEM bundles, CAs, CRLs.

The API calls these to answer the TLS validation errors of upstream's v2 API; the
amphora driver calls `build_haproxy_pem` to produce the file HAProxy loads.
"""

from __future__ import annotations

import re

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from octavia.certificates import errors
from octavia.certificates.manager.base import Cert
from octavia.common.exceptions import ValidationException

_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n.*?-----END \1-----\r?\n?", re.DOTALL)
_KEY_LABELS = {b"PRIVATE KEY", b"RSA PRIVATE KEY", b"EC PRIVATE KEY", b"ENCRYPTED PRIVATE KEY"}


def _labelled_blocks(data: bytes) -> list[tuple[bytes, bytes]]:
    blocks = []
    for match in _PEM_BLOCK.finditer(data):
        block = match.group(0)
        blocks.append((match.group(1), block if block.endswith(b"\n") else block + b"\n"))
    return blocks


def pem_blocks(data: bytes, label: bytes) -> list[bytes]:
    """The PEM blocks of one label (e.g. b"CERTIFICATE") in `data`, each newline-terminated."""
    return [block for block_label, block in _labelled_blocks(data) if block_label == label]


def _public_der(key: PublicKeyTypes) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: PrivateKeyTypes) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def parse_pkcs12(blob: bytes, passphrase: bytes | None = None) -> Cert:
    """Certificate, key and chain from a PKCS12 bundle (UnreadablePKCS12 when it cannot be read)."""
    try:
        key, certificate, chain = pkcs12.load_key_and_certificates(blob, passphrase)
    except (ValueError, TypeError) as exc:
        raise errors.UnreadablePKCS12(error=str(exc) or type(exc).__name__) from exc
    if certificate is None:
        raise errors.UnreadablePKCS12(error="the bundle holds no certificate")
    return Cert(
        certificate=_pem(certificate),
        private_key=_key_pem(key) if key is not None else None,
        intermediates=[_pem(item) for item in chain],
    )


def parse_pem_bundle(data: bytes, passphrase: bytes | None = None) -> Cert:
    """A PEM concatenation of certificates and at most one key; the key's certificate is the leaf."""
    certificates = pem_blocks(data, b"CERTIFICATE")
    keys = [block for label, block in _labelled_blocks(data) if label in _KEY_LABELS]
    if not certificates:
        raise errors.UnreadableCert()
    loaded = [_load_certificate(block) for block in certificates]
    leaf_index = 0
    key_pem = keys[0] if keys else None
    if key_pem is not None:
        public = _public_der(load_private_key(key_pem, passphrase).public_key())
        matching = [i for i, cert in enumerate(loaded) if _public_der(cert.public_key()) == public]
        if not matching:
            raise errors.MisMatchedKey()
        leaf_index = matching[0]
    return Cert(
        certificate=certificates[leaf_index],
        private_key=key_pem,
        intermediates=[block for i, block in enumerate(certificates) if i != leaf_index],
        private_key_passphrase=passphrase,
    )


def load_cert_payload(payload: bytes, passphrase: bytes | None = None) -> Cert:
    """A stored secret as a certificate: PEM text when it looks like PEM, else PKCS12."""
    if payload.lstrip().startswith(b"-----BEGIN"):
        return parse_pem_bundle(payload, passphrase)
    return parse_pkcs12(payload, passphrase)


def _load_certificate(pem: bytes) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(pem)
    except ValueError as exc:
        raise errors.UnreadableCert() from exc


def load_private_key(pem: bytes, passphrase: bytes | None = None) -> PrivateKeyTypes:
    """Load a PEM key; a wrong or missing passphrase is a key/cert mismatch for the user."""
    try:
        return serialization.load_pem_private_key(pem, password=passphrase)
    except (ValueError, TypeError) as exc:
        raise errors.MisMatchedKey() from exc


def get_host_names(certificate_pem: bytes) -> dict[str, object]:
    """`{"cn": <common name or None>, "dns_names": [...]}` of a certificate (SNI matching)."""
    certificate = _load_certificate(certificate_pem)
    common_names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns_names = san.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        dns_names = []
    cn = common_names[0].value if common_names else None
    return {"cn": cn if isinstance(cn, str) else None, "dns_names": list(dns_names)}


def check_readable(cert: Cert) -> None:
    """Every certificate parses and the key (if any) belongs to the leaf certificate."""
    leaf = _load_certificate(cert.certificate)
    for block in cert.intermediates:
        _load_certificate(block)
    if cert.private_key is not None:
        key = load_private_key(cert.private_key, cert.private_key_passphrase)
        if _public_der(key.public_key()) != _public_der(leaf.public_key()):
            raise errors.MisMatchedKey()


def validate_cert(cert: Cert) -> None:
    """Check a listener's server certificate: readable, key matches, has a CN or DNS SAN."""
    check_readable(cert)
    names = get_host_names(cert.certificate)
    if not names["cn"] and not names["dns_names"]:
        raise errors.MissingCertSubject()


def load_ca_certificate(pem: bytes) -> x509.Certificate:
    """A CA secret as a certificate; InvalidCAPEM carries the parser's reason."""
    blocks = pem_blocks(pem, b"CERTIFICATE")
    if not blocks:
        raise errors.InvalidCAPEM(error="no PEM certificate found")
    try:
        return x509.load_pem_x509_certificate(blocks[0])
    except ValueError as exc:
        raise errors.InvalidCAPEM(error=str(exc)) from exc


def load_crl(crl_pem: bytes, ca_pem: bytes) -> x509.CertificateRevocationList:
    """A CRL secret, checked to be signed by the CA in `ca_pem`."""
    try:
        crl = x509.load_pem_x509_crl(crl_pem)
    except ValueError as exc:
        raise errors.InvalidCRLPEM(error=str(exc)) from exc
    ca = load_ca_certificate(ca_pem)
    try:
        valid = crl.is_signature_valid(ca.public_key())  # type: ignore[arg-type]  # no-signing key: TypeError
    except (TypeError, InvalidSignature):
        valid = False
    if not valid or crl.issuer != ca.subject:
        raise errors.CRLNotForCA()
    return crl


def validate_client_ca(pem: bytes) -> None:
    """Listener `client_ca_tls_container_ref` check, with upstream's message."""
    try:
        load_ca_certificate(pem)
    except errors.InvalidCAPEM as exc:
        raise ValidationException(
            detail="The client authentication CA certificate is invalid. It must be a valid x509 "
            f"PEM format certificate. Error: {exc.msg}"
        ) from exc


def validate_client_crl(crl_pem: bytes, ca_pem: bytes) -> None:
    """Listener `client_crl_container_ref` check, with upstream's messages."""
    try:
        load_crl(crl_pem, ca_pem)
    except errors.InvalidCRLPEM as exc:
        raise ValidationException(
            detail="The client authentication certificate revocation list is invalid. It must be a "
            f"valid x509 PEM format certificate revocation list. Error: {exc.msg}"
        ) from exc
    except errors.CRLNotForCA as exc:
        raise ValidationException(detail=exc.msg) from exc


def build_haproxy_pem(cert: Cert) -> bytes:
    """One PEM for HAProxy's `crt`: leaf, chain, then the key without its passphrase."""
    if cert.private_key is None:
        raise errors.MisMatchedKey()
    key = load_private_key(cert.private_key, cert.private_key_passphrase)
    parts = [cert.certificate if cert.certificate.endswith(b"\n") else cert.certificate + b"\n"]
    parts.extend(block if block.endswith(b"\n") else block + b"\n" for block in cert.intermediates)
    parts.append(_key_pem(key))
    return b"".join(parts)
