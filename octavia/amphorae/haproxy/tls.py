"""TLS options shared by listener binds and pool servers: certificate paths, versions, ciphers, ALPN."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping

from octavia.amphorae.haproxy.errors import ConfigRenderError
from octavia.amphorae.haproxy.quoting import config_word
from octavia.common import constants

# The HAProxy flag that turns each protocol version off.
_VERSION_FLAGS = {
    "SSLv3": "no-sslv3",
    "TLSv1": "no-tlsv10",
    "TLSv1.1": "no-tlsv11",
    "TLSv1.2": "no-tlsv12",
    "TLSv1.3": "no-tlsv13",
}
# OpenSSL cipher-list syntax: names, separators and the !, +, -, @STRENGTH/@SECLEVEL=n operators.
_CIPHERS = re.compile(r"[A-Za-z0-9_.:,+!@=-]{1,4096}")


def cert_file_name(container_ref: str) -> str:
    """Name of the PEM file holding one TLS container; the caller stores the bundle under it."""
    return hashlib.sha1(container_ref.encode(), usedforsecurity=False).hexdigest() + ".pem"


class CertPaths:
    """Resolves container refs to paths under the load balancer's certs directory.

    Only files the caller says it provides (the keys of `certs`) may be named, so a
    rendered configuration never points at a file that will not exist.
    """

    def __init__(self, certs_dir: str, certs: Mapping[str, str] | None) -> None:
        self._dir = certs_dir
        self._names = set(certs or ())

    def path(self, field: str, container_ref: str) -> str:
        name = cert_file_name(container_ref)
        if name not in self._names:
            raise ConfigRenderError(
                f"{field} {container_ref!r} has no PEM file ({name}) among the certs provided"
            )
        return config_word(f"{self._dir}/{name}")


def version_flags(versions: Iterable[str] | None) -> list[str]:
    """`no-<version>` for every protocol version not in `versions` (None: HAProxy's defaults)."""
    if not versions:
        return []
    wanted = set(versions)
    unknown = wanted - set(constants.TLS_VERSIONS)
    if unknown:
        raise ConfigRenderError(f"unknown TLS versions {sorted(unknown)}")
    return [flag for version, flag in _VERSION_FLAGS.items() if version not in wanted]


def cipher_options(ciphers: str | None) -> list[str]:
    """`ciphers` (TLS <= 1.2) and `ciphersuites` (TLS 1.3) from one OpenSSL-style list."""
    if not ciphers:
        return []
    if not _CIPHERS.fullmatch(ciphers):
        raise ConfigRenderError("tls_ciphers must be an OpenSSL cipher list (letters, digits, _.:,+!@=-)")
    names = [name for name in re.split(r"[:,]", ciphers) if name]
    suites = [name for name in names if name.startswith("TLS_")]
    legacy = [name for name in names if not name.startswith("TLS_")]
    options = []
    if legacy:
        options += ["ciphers", config_word(":".join(legacy))]
    if suites:
        options += ["ciphersuites", config_word(":".join(suites))]
    return options


def alpn_options(protocols: Iterable[str] | None) -> list[str]:
    if not protocols:
        return []
    chosen = list(protocols)
    unknown = set(chosen) - set(constants.ALPN_PROTOCOLS)
    if unknown:
        raise ConfigRenderError(f"unknown ALPN protocols {sorted(unknown)}")
    return ["alpn", ",".join(chosen)]
