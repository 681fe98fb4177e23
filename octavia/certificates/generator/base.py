"""Contract of certificate generators: the service CA that issues amphora agent certificates."""

from __future__ import annotations

import abc
import datetime
from dataclasses import dataclass


@dataclass(frozen=True)
class CertBundle:
    """A freshly issued certificate, its private key and the CA that signed it (all PEM)."""

    certificate: bytes
    private_key: bytes
    ca: bytes
    expiration: datetime.datetime

    @property
    def pem(self) -> bytes:
        """Certificate followed by its key: the agent's `agent_server_cert` file format."""
        return self.certificate + self.private_key

    def __repr__(self) -> str:  # keep the key out of logs and tracebacks
        return f"CertBundle(expiration={self.expiration.isoformat()})"


@dataclass(frozen=True)
class ClientCertPaths:
    """Files the controller presents to amphora agents and trusts them with."""

    cert_file: str
    """PEM holding the client certificate followed by its private key."""
    ca_file: str
    """PEM of the CA that must have signed every agent's server certificate."""


class CertGenerator(abc.ABC):
    """Issues the certificates of the controller <-> amphora agent mutual TLS."""

    @abc.abstractmethod
    def generate_cert_key_pair(self, cn: str, validity: int) -> CertBundle:
        """Make a new key and a certificate for `cn` valid for `validity` seconds."""

    @abc.abstractmethod
    def sign_csr(self, csr_pem: bytes, validity: int) -> bytes:
        """Sign a PEM certificate signing request; returns the PEM certificate."""

    @abc.abstractmethod
    def get_ca_certificate(self) -> bytes:
        """PEM of the CA certificate (what agents are given as `agent_server_ca`)."""

    @abc.abstractmethod
    def get_client_cert(self) -> ClientCertPaths:
        """The controller's client certificate, issued on first use and renewed near expiry."""
