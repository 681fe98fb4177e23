"""Contract of certificate managers: where tenants' TLS bundles for TERMINATED_HTTPS live."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Cert:
    """A TLS certificate with its key and chain, all PEM."""

    certificate: bytes
    private_key: bytes | None = None
    intermediates: list[bytes] = field(default_factory=list)
    private_key_passphrase: bytes | None = None

    def __repr__(self) -> str:  # never print key material
        return f"Cert(intermediates={len(self.intermediates)}, has_key={self.private_key is not None})"


class CertManager(abc.ABC):
    """Stores and retrieves certificate bundles and opaque secrets by reference."""

    @abc.abstractmethod
    def store_cert(
        self,
        project_id: str | None,
        certificate: bytes,
        private_key: bytes,
        intermediates: list[bytes] | None = None,
        passphrase: bytes | None = None,
        name: str | None = None,
    ) -> str:
        """Store a PEM certificate and key; returns the reference to use in the API."""

    @abc.abstractmethod
    def store_secret(self, project_id: str | None, payload: bytes, name: str | None = None) -> str:
        """Store an opaque secret (a PKCS12 bundle, a CA or CRL PEM); returns its reference."""

    @abc.abstractmethod
    def get_cert(self, ref: str) -> Cert:
        """The certificate behind `ref` (a stored bundle, or a secret holding PKCS12 or PEM)."""

    @abc.abstractmethod
    def get_secret(self, ref: str) -> bytes:
        """The raw payload behind `ref` (e.g. a client CA or CRL in PEM)."""

    @abc.abstractmethod
    def delete_cert(self, ref: str) -> None:
        """Forget `ref`; deleting an unknown reference is not an error."""
