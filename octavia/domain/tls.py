"""TLS rules shared by listeners and pools: version/cipher/ALPN lists and certificate refs.

References are checked by fetching them through the configured certificate manager
(`[certificates] cert_manager`), because a ref that cannot be read now would break the
data plane later; the API refuses it with upstream's 400s instead.
"""

from __future__ import annotations

import logging
import re
import ssl
from collections.abc import Iterable, Sequence

from octavia.certificates import errors, parsing
from octavia.certificates.loader import get_cert_manager
from octavia.common import constants as c
from octavia.common import exceptions
from octavia.common.config import CONF

LOG = logging.getLogger(__name__)
TLS13_SUITES = frozenset({"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
                          "TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256"})


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
    """Ciphers on the operator's prohibit list are refused, and so is a list HAProxy cannot load."""
    if not ciphers:
        return
    prohibited = {p for p in (CONF.api_settings.tls_cipher_prohibit_list or "").split(":") if p}
    rejected = [x for x in ciphers.split(":") if x in prohibited]
    if rejected:
        raise exceptions.ValidationException(
            detail="The following ciphers have been prohibited by an administrator: " + ", ".join(rejected)
        )
    if not _selectable(ciphers):
        raise exceptions.ValidationException(detail="The cipher string selects no cipher OpenSSL knows.")


def _selectable(ciphers: str) -> bool:
    """Whether HAProxy will accept the list: like it, TLS 1.3 suites apart (`ciphersuites`,
    one known name is enough) and the rest through OpenSSL's cipher list parser (`ciphers`)."""
    names = [name for name in re.split(r"[:,]", ciphers) if name]
    suites = [name for name in names if name.startswith("TLS_")]
    legacy = ":".join(name for name in names if not name.startswith("TLS_"))
    if suites and not TLS13_SUITES.intersection(suites):
        return False
    if legacy:
        try:
            ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).set_ciphers(legacy)
        except ssl.SSLError:
            return False
    return True


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

def check_server_refs(refs: Iterable[str | None]) -> None:
    """Every server certificate ref must be readable and name at least one host."""
    wanted = [r for r in refs if r]
    if not wanted:
        return
    manager = get_cert_manager()
    bad: list[str] = []
    certs = []
    for ref in wanted:
        try:
            certs.append(manager.get_cert(ref))
        except errors.UnreadablePKCS12:
            raise
        except Exception as exc:
            LOG.info("certificate reference %s could not be retrieved: %s", ref, type(exc).__name__)
            bad.append(ref)
    if bad:
        raise errors.CertificateRetrievalException(ref=bad)
    for cert in certs:
        parsing.validate_cert(cert)


def check_ca_and_crl(ca_ref: str, crl_ref: str | None) -> None:
    """The CA must be a PEM X.509 certificate; the CRL a PEM CRL signed by that CA."""
    manager = get_cert_manager()
    bad: list[str] = []
    secrets: dict[str, bytes] = {}
    for ref in (ca_ref, crl_ref):
        if not ref:
            continue
        try:
            secrets[ref] = manager.get_secret(ref)
        except Exception as exc:
            LOG.info("secret reference %s could not be retrieved: %s", ref, type(exc).__name__)
            bad.append(ref)
    if bad:
        raise errors.CertificateRetrievalException(ref=bad)
    parsing.validate_client_ca(secrets[ca_ref])
    if crl_ref:
        parsing.validate_client_crl(secrets[crl_ref], secrets[ca_ref])
