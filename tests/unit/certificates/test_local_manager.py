"""The local certificate store: refs, PEM bundles, PKCS12 secrets, deletion."""

from __future__ import annotations

import os
import stat

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from octavia.certificates import errors
from octavia.certificates.manager.local import LocalCertManager
from tests.unit.certificates import helpers


@pytest.fixture
def material() -> dict[str, bytes]:
    ca_key = helpers.make_key()
    ca = helpers.make_cert(ca_key, cn="CA", ca=True)
    key = helpers.make_key()
    leaf = helpers.make_cert(key, cn="lb.example.com", issuer=(ca, ca_key))
    return {
        "ca": helpers.cert_pem(ca),
        "leaf": helpers.cert_pem(leaf),
        "key": helpers.key_pem(key),
        "p12": pkcs12.serialize_key_and_certificates(b"x", key, leaf, [ca], serialization.NoEncryption()),
    }


def test_store_and_get_pem_bundle(state_dir: str, material: dict[str, bytes]) -> None:
    manager = LocalCertManager()
    ref = manager.store_cert("p1", material["leaf"], material["key"], [material["ca"]], name="web")
    cert = manager.get_cert(ref)
    assert cert.certificate == material["leaf"]
    assert cert.private_key == material["key"]
    assert cert.intermediates == [material["ca"]]
    assert manager.get_secret(ref) == material["leaf"] + material["ca"]
    path = os.path.join(state_dir, "certs", f"{ref}.json")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_store_refuses_a_key_of_another_cert(state_dir: str, material: dict[str, bytes]) -> None:
    with pytest.raises(errors.MisMatchedKey):
        LocalCertManager().store_cert("p1", material["leaf"], helpers.key_pem(helpers.make_key()))


def test_pkcs12_secret_reads_as_a_cert(state_dir: str, material: dict[str, bytes]) -> None:
    manager = LocalCertManager()
    ref = manager.store_secret("p1", material["p12"])
    assert manager.get_secret(ref) == material["p12"]
    cert = manager.get_cert(f"http://keymanager.example/v1/secrets/{ref}")
    assert cert.certificate == material["leaf"]
    assert cert.intermediates == [material["ca"]]


def test_bad_secret_bundle(state_dir: str) -> None:
    manager = LocalCertManager()
    ref = manager.store_secret("p1", b"definitely not pkcs12")
    with pytest.raises(errors.UnreadablePKCS12):
        manager.get_cert(ref)


@pytest.mark.parametrize("ref", ["no-such-ref", "5f2b8a62-0bd3-4a49-9a2c-6f0c8b2d9e11", "../../etc/passwd"])
def test_unknown_refs_are_retrieval_errors(state_dir: str, ref: str) -> None:
    manager = LocalCertManager()
    with pytest.raises(errors.CertificateRetrievalException) as info:
        manager.get_cert(ref)
    assert info.value.msg == f"Could not retrieve certificate: {ref}"
    with pytest.raises(errors.CertificateRetrievalException):
        manager.get_secret(ref)


def test_delete(state_dir: str, material: dict[str, bytes]) -> None:
    manager = LocalCertManager()
    ref = manager.store_secret("p1", material["ca"])
    manager.delete_cert(ref)
    with pytest.raises(errors.CertificateRetrievalException):
        manager.get_secret(ref)
    manager.delete_cert(ref)
    manager.delete_cert("not-a-uuid")
