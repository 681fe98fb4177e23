"""The agent's mutual-TLS listener and live rotation of its server certificate.

Clients must present a certificate signed by `agent_server_ca`, checked during the
handshake (uvicorn with CERT_REQUIRED). Rotation loads the new chain into the very
SSLContext the server uses: every later handshake presents it, no restart needed.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import ssl
import tempfile
from collections.abc import Callable
from typing import Any

import uvicorn
from cryptography import x509

from octavia.certificates import errors as cert_errors
from octavia.certificates import parsing


class InvalidServerCertificate(ValueError):
    """The uploaded PEM cannot serve as the agent's certificate."""


def build_server(app: Callable[..., Any], *, host: str, port: int, cert_file: str, ca_file: str,
                 log_level: str = "info") -> tuple[uvicorn.Server, ssl.SSLContext]:
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        ssl_certfile=cert_file,
        ssl_ca_certs=ca_file,
        ssl_cert_reqs=ssl.CERT_REQUIRED,
        log_level=log_level,
        access_log=False,
        lifespan="on",
    )
    config.load()
    context = config.ssl
    assert context is not None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return uvicorn.Server(config), context


def _check_pem(pem: bytes, scratch_path: str) -> None:
    try:
        cert = parsing.parse_pem_bundle(pem)
    except cert_errors.CertificateError as exc:
        raise InvalidServerCertificate(exc.msg) from exc
    if cert.private_key is None:
        raise InvalidServerCertificate("The PEM must hold the certificate followed by its private key")
    leaf = x509.load_pem_x509_certificate(cert.certificate)
    if leaf.not_valid_after_utc <= datetime.datetime.now(datetime.UTC):
        raise InvalidServerCertificate("The certificate has expired")
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(scratch_path)
    except ssl.SSLError as exc:
        raise InvalidServerCertificate(f"TLS cannot use this certificate: {exc.reason}") from exc


def rotate_certificate(context: ssl.SSLContext, cert_file: str, pem: bytes) -> None:
    """Check `pem` (cert + key), make it the agent's certificate file and serve it from now on."""
    directory = os.path.dirname(os.path.abspath(cert_file))
    fd, scratch = tempfile.mkstemp(dir=directory, prefix=".tmp-cert-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        os.chmod(scratch, 0o600)
        _check_pem(pem, scratch)
        os.replace(scratch, cert_file)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(scratch)
    context.load_cert_chain(cert_file)
