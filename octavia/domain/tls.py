"""TLS rules shared by listeners and pools: version/cipher/ALPN lists and certificate refs.

References are checked by fetching them through the configured certificate manager
(`[certificates] cert_manager`), because a ref that cannot be read now would break the
data plane later; the API refuses it with upstream's 400s instead.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from importlib.metadata import entry_points
from typing import Any

from cryptography import x509
from cryptography.x509.oid import ExtensionOID, NameOID

from octavia.common import constants as c
from octavia.common import exceptions
from octavia.common.config import CONF

LOG = logging.getLogger(__name__)

CERT_MANAGER_GROUP = "octavia.cert_manager"


# ---- version / cipher / ALPN lists ----------------------------------------------------

def check_versions(versions: Sequence[str] | None) -> None:
    """`[]` and unknown names are refused; None means "use the default"."""
    if versions is None:
        return
    if not versions:
        raise exceptions.ValidationException(
            detail="Empty TLS version list. Either specify at least one TLS version or remove "
            "this parameter to use the default."
        )
    invalid = [v for v in versions if v not in c.TLS_VERSIONS]
    if invalid:
        raise exceptions.ValidationException(detail="Invalid TLS versions: " + ", ".join(invalid))
    minimum = CONF.api_settings.minimum_tls_version
    if minimum:
        floor = c.TLS_VERSIONS.index(minimum)
        rejected = [v for v in versions if c.TLS_VERSIONS.index(v) < floor]
        if rejected:
            raise exceptions.ValidationException(
                detail="Requested TLS versions are less than the minimum: "
                + ", ".join(rejected) + " < " + minimum
            )


def check_ciphers(ciphers: str | None) -> None:
    """Ciphers on the operator's prohibit list are refused."""
    if not ciphers:
        return
    prohibited = {p for p in (CONF.api_settings.tls_cipher_prohibit_list or "").split(":") if p}
    rejected = [x for x in ciphers.split(":") if x in prohibited]
    if rejected:
        raise exceptions.ValidationException(
            detail="The following ciphers have been prohibited by an administrator: " + ", ".join(rejected)
        )


def check_alpn(protocols: Sequence[str] | None) -> None:
    if protocols is None:
        return
    if not protocols:
        raise exceptions.ValidationException(
            detail="Empty ALPN protocol list. Either specify at least one ALPN protocol or remove "
            "this parameter to use the default."
        )
    invalid = [p for p in protocols if p not in c.ALPN_PROTOCOLS]
    if invalid:
        raise exceptions.ValidationException(detail="Invalid ALPN protocol: " + ", ".join(invalid))


# ---- certificate references -----------------------------------------------------------

def cert_manager() -> Any:
    """The configured certificate manager (loaded per call: its store location is config)."""
    name = CONF.certificates.cert_manager
    found = entry_points(group=CERT_MANAGER_GROUP, name=name)
    if not found:
        raise exceptions.APIException(f"Certificate manager '{name}' is not installed.")
    (entry_point,) = found
    return entry_point.load()()


def _pem(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode()


def _certificate_pem(cert: Any) -> bytes | None:
    """The leaf certificate of whatever the manager returned (Cert object or PEM text)."""
    getter = getattr(cert, "get_certificate", None)
    value = getter() if callable(getter) else cert
    return _pem(value) if value else None


def _host_names(pem: bytes) -> list[str]:
    cert = x509.load_pem_x509_certificate(pem)
    names = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    try:
        san = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
        names.extend(san.value.get_values_for_type(x509.DNSName))
    except x509.ExtensionNotFound:
        pass
    return [str(n) for n in names if n]


def _is_unreadable_bundle(exc: Exception) -> bool:
    return type(exc).__name__ in ("UnreadablePKCS12", "UnreadablePKCS12Bundle")


def check_server_refs(refs: Iterable[str | None]) -> None:
    """Every server certificate ref must be readable and name at least one host."""
    wanted = [r for r in refs if r]
    if not wanted:
        return
    manager = cert_manager()
    bad: list[str] = []
    loaded: list[Any] = []
    for ref in wanted:
        try:
            loaded.append(manager.get_cert(ref))
        except Exception as exc:
            if _is_unreadable_bundle(exc):
                raise exceptions.ValidationException(
                    detail="The PKCS12 bundle is unreadable. Please check the PKCS12 bundle validity. "
                    "In addition, make sure it does not require a pass phrase."
                ) from exc
            LOG.info("certificate reference %s could not be retrieved: %s", ref, type(exc).__name__)
            bad.append(ref)
    if bad:
        raise exceptions.CertificateRetrievalException(ref=bad)
    for cert in loaded:
        pem = _certificate_pem(cert)
        try:
            names = _host_names(pem) if pem else []
        except ValueError:
            names = []
        if not names:
            raise exceptions.ValidationException(
                detail="No CN or DNSName(s) found in certificate. The certificate is invalid."
            )


def _secret(manager: Any, ref: str) -> bytes:
    getter = getattr(manager, "get_secret", None)
    if callable(getter):
        return _pem(getter(ref))
    pem = _certificate_pem(manager.get_cert(ref))
    if pem is None:
        raise ValueError("empty secret")
    return pem


def check_ca_and_crl(ca_ref: str, crl_ref: str | None) -> None:
    """The CA must be a PEM X.509 certificate; the CRL a PEM CRL signed by that CA."""
    manager = cert_manager()
    bad: list[str] = []
    ca_pem = crl_pem = None
    try:
        ca_pem = _secret(manager, ca_ref)
    except Exception:
        bad.append(ca_ref)
    if crl_ref:
        try:
            crl_pem = _secret(manager, crl_ref)
        except Exception:
            bad.append(crl_ref)
    if bad:
        raise exceptions.CertificateRetrievalException(ref=bad)
    assert ca_pem is not None
    try:
        ca_cert = x509.load_pem_x509_certificate(ca_pem)
    except ValueError as exc:
        raise exceptions.ValidationException(
            detail="The client authentication CA certificate is invalid. It must be a valid x509 "
            f"PEM format certificate. Error: {exc}"
        ) from exc
    if crl_pem is None:
        return
    try:
        crl = x509.load_pem_x509_crl(crl_pem)
    except ValueError as exc:
        raise exceptions.ValidationException(
            detail="The client authentication certificate revocation list is invalid. It must be a "
            f"valid x509 PEM format certificate revocation list. Error: {exc}"
        ) from exc
    if not crl.is_signature_valid(ca_cert.public_key()):  # type: ignore[arg-type]
        raise exceptions.ValidationException(
            detail="The CRL specified is not valid for client certificate authority reference supplied."
        )
