"""Certificate manager keeping bundles in files on this host (upstream's `local_cert_manager`).

Each reference is a UUID naming one JSON file (mode 0600) under
`[certificates] storage_path` (default `state_path/certs`). A reference written as a
URL (`.../secrets/<uuid>`, the key manager style) resolves to its last path segment.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import uuid
from typing import Any

from octavia.certificates import errors, parsing
from octavia.certificates.generator.service_ca import write_private_file
from octavia.certificates.manager.base import Cert, CertManager
from octavia.common import config
from octavia.common.config import CONF

LOG = logging.getLogger(__name__)

KIND_CERTIFICATE = "certificate"
KIND_SECRET = "secret"


def _store_directory() -> str:
    return CONF.certificates.storage_path or config.state_path("certs")


def _ref_id(ref: str) -> str | None:
    """The UUID a reference names, or None for anything else (which can never be stored)."""
    candidate = ref.rstrip("/").rsplit("/", 1)[-1]
    try:
        return str(uuid.UUID(candidate))
    except ValueError:
        return None


def _b64(data: bytes | None) -> str | None:
    return base64.b64encode(data).decode() if data is not None else None


def _unb64(text: str | None) -> bytes | None:
    return base64.b64decode(text) if text is not None else None


class LocalCertManager(CertManager):
    """Stores PEM bundles and opaque secrets (PKCS12, CA, CRL) in a local directory."""

    def _path(self, ref: str) -> str:
        ref_id = _ref_id(ref)
        if ref_id is None:
            raise errors.CertificateRetrievalException(ref=ref)
        return os.path.join(_store_directory(), f"{ref_id}.json")

    def _write(self, record: dict[str, Any]) -> str:
        ref = str(uuid.uuid4())
        directory = _store_directory()
        os.makedirs(directory, mode=0o700, exist_ok=True)
        write_private_file(os.path.join(directory, f"{ref}.json"), json.dumps(record).encode())
        LOG.info("Stored %s %s for project %s", record["kind"], ref, record.get("project_id"))
        return ref

    def _read(self, ref: str) -> dict[str, Any]:
        try:
            with open(self._path(ref), "rb") as handle:
                record: dict[str, Any] = json.loads(handle.read())
        except (OSError, ValueError) as exc:
            raise errors.CertificateRetrievalException(ref=ref) from exc
        return record

    def store_cert(
        self,
        project_id: str | None,
        certificate: bytes,
        private_key: bytes,
        intermediates: list[bytes] | None = None,
        passphrase: bytes | None = None,
        name: str | None = None,
    ) -> str:
        cert = Cert(
            certificate=certificate,
            private_key=private_key,
            intermediates=list(intermediates or []),
            private_key_passphrase=passphrase,
        )
        parsing.check_readable(cert)
        return self._write(
            {
                "kind": KIND_CERTIFICATE,
                "project_id": project_id,
                "name": name,
                "certificate": certificate.decode(),
                "private_key": private_key.decode(),
                "intermediates": [block.decode() for block in cert.intermediates],
                "passphrase": _b64(passphrase),
            }
        )

    def store_secret(self, project_id: str | None, payload: bytes, name: str | None = None) -> str:
        return self._write(
            {"kind": KIND_SECRET, "project_id": project_id, "name": name, "payload": _b64(payload)}
        )

    def get_cert(self, ref: str) -> Cert:
        record = self._read(ref)
        if record["kind"] == KIND_SECRET:
            return parsing.load_cert_payload(_unb64(record["payload"]) or b"")
        return Cert(
            certificate=record["certificate"].encode(),
            private_key=record["private_key"].encode(),
            intermediates=[block.encode() for block in record["intermediates"]],
            private_key_passphrase=_unb64(record["passphrase"]),
        )

    def get_secret(self, ref: str) -> bytes:
        record = self._read(ref)
        if record["kind"] == KIND_SECRET:
            return _unb64(record["payload"]) or b""
        parts = [record["certificate"], *record["intermediates"]]
        return "".join(part if part.endswith("\n") else part + "\n" for part in parts).encode()

    def delete_cert(self, ref: str) -> None:
        try:
            os.unlink(self._path(ref))
        except FileNotFoundError:
            return
        except errors.CertificateRetrievalException:
            return
        LOG.info("Deleted certificate %s", ref)
