"""The service CA and the certificates it issues for amphora agents and the controller."""

from __future__ import annotations

import datetime
import os
import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from octavia.certificates.generator import service_ca
from octavia.certificates.generator.local import InvalidCSR, LocalCertGenerator
from octavia.common.config import CONF
from tests.unit.certificates import helpers

AMP_ID = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"


def _cn(cert: x509.Certificate) -> str:
    return str(cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)


def test_ca_created_once_with_private_key_mode(state_dir: str) -> None:
    first = LocalCertGenerator().get_ca_certificate()
    second = LocalCertGenerator().get_ca_certificate()
    assert first == second
    key_path = os.path.join(state_dir, "ca", service_ca.CA_KEY_FILE)
    assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600
    ca = x509.load_pem_x509_certificate(first)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_storage_path_holds_the_ca(state_dir: str, tmp_path: os.PathLike[str]) -> None:
    store = os.path.join(str(tmp_path), "store")
    CONF.set_override("storage_path", store, group="certificates")
    try:
        LocalCertGenerator().get_ca_certificate()
    finally:
        CONF.clear_override("storage_path", group="certificates")
    assert os.path.exists(os.path.join(store, "ca", service_ca.CA_CERT_FILE))
    assert not os.path.exists(os.path.join(state_dir, "ca"))


def test_amphora_cert_cn_san_expiry_and_chain(state_dir: str) -> None:
    generator = LocalCertGenerator()
    before = datetime.datetime.now(datetime.UTC)
    bundle = generator.generate_cert_key_pair(AMP_ID, 3600)
    cert = x509.load_pem_x509_certificate(bundle.certificate)
    ca = x509.load_pem_x509_certificate(bundle.ca)
    assert _cn(cert) == AMP_ID
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == [AMP_ID]
    usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in usage
    assert bundle.expiration == cert.not_valid_after_utc
    lifetime = bundle.expiration - before
    assert datetime.timedelta(seconds=3590) < lifetime <= datetime.timedelta(seconds=3601)
    cert.verify_directly_issued_by(ca)
    key = serialization.load_pem_private_key(bundle.private_key, password=None)
    assert key.public_key() == cert.public_key()
    assert bundle.pem == bundle.certificate + bundle.private_key


def test_bundle_repr_hides_the_key(state_dir: str) -> None:
    bundle = LocalCertGenerator().generate_cert_key_pair(AMP_ID, 60)
    assert b"PRIVATE" not in repr(bundle).encode()
    assert "PRIVATE" not in repr(bundle)


def test_non_positive_validity_is_refused(state_dir: str) -> None:
    with pytest.raises(ValueError):
        LocalCertGenerator().generate_cert_key_pair(AMP_ID, 0)


def test_sign_csr_keeps_subject_and_sans(state_dir: str) -> None:
    key = helpers.make_key()
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "amp-csr")]))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("amp-csr")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    generator = LocalCertGenerator()
    pem = generator.sign_csr(csr.public_bytes(serialization.Encoding.PEM), 600)
    cert = x509.load_pem_x509_certificate(pem)
    assert _cn(cert) == "amp-csr"
    assert cert.public_key() == key.public_key()
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(generator.get_ca_certificate()))


def test_sign_csr_rejects_garbage(state_dir: str) -> None:
    with pytest.raises(InvalidCSR):
        LocalCertGenerator().sign_csr(b"not a csr", 600)


def test_client_cert_is_reused_then_reissued_for_a_new_ca(state_dir: str, tmp_path: os.PathLike[str]) -> None:
    generator = LocalCertGenerator()
    paths = generator.get_client_cert()
    with open(paths.cert_file, "rb") as handle:
        first = handle.read()
    assert b"PRIVATE KEY" in first
    client = x509.load_pem_x509_certificate(first)
    assert ExtendedKeyUsageOID.CLIENT_AUTH in client.extensions.get_extension_for_class(
        x509.ExtendedKeyUsage
    ).value
    assert LocalCertGenerator().get_client_cert() == paths
    with open(paths.cert_file, "rb") as handle:
        assert handle.read() == first

    # An operator-provided CA replaces the generated one: the client cert follows it.
    ca_key = helpers.make_key()
    ca_cert = helpers.make_cert(ca_key, cn="operator CA", ca=True)
    cert_path = os.path.join(str(tmp_path), "op-ca.pem")
    key_path = os.path.join(str(tmp_path), "op-ca.key")
    with open(cert_path, "wb") as handle:
        handle.write(helpers.cert_pem(ca_cert))
    with open(key_path, "wb") as handle:
        handle.write(helpers.key_pem(ca_key, b"s3cret"))
    CONF.set_override("ca_certificate", cert_path, group="certificates")
    CONF.set_override("ca_private_key", key_path, group="certificates")
    CONF.set_override("ca_private_key_passphrase", "s3cret", group="certificates")
    try:
        reissued = LocalCertGenerator().get_client_cert()
        with open(reissued.cert_file, "rb") as handle:
            x509.load_pem_x509_certificate(handle.read()).verify_directly_issued_by(ca_cert)
        assert reissued.ca_file == cert_path
    finally:
        for name in ("ca_certificate", "ca_private_key", "ca_private_key_passphrase"):
            CONF.clear_override(name, group="certificates")


def test_configured_ca_with_wrong_passphrase(state_dir: str, tmp_path: os.PathLike[str]) -> None:
    ca_key = helpers.make_key()
    cert_path = os.path.join(str(tmp_path), "ca.pem")
    key_path = os.path.join(str(tmp_path), "ca.key")
    with open(cert_path, "wb") as handle:
        handle.write(helpers.cert_pem(helpers.make_cert(ca_key, cn="CA", ca=True)))
    with open(key_path, "wb") as handle:
        handle.write(helpers.key_pem(ca_key, b"right"))
    CONF.set_override("ca_certificate", cert_path, group="certificates")
    CONF.set_override("ca_private_key", key_path, group="certificates")
    CONF.set_override("ca_private_key_passphrase", "wrong", group="certificates")
    try:
        with pytest.raises(service_ca.CAConfigurationError) as info:
            LocalCertGenerator().get_ca_certificate()
        assert "right" not in str(info.value)
    finally:
        for name in ("ca_certificate", "ca_private_key", "ca_private_key_passphrase"):
            CONF.clear_override(name, group="certificates")


def test_configured_ca_key_must_match(state_dir: str, tmp_path: os.PathLike[str]) -> None:
    cert_path = os.path.join(str(tmp_path), "ca.pem")
    key_path = os.path.join(str(tmp_path), "ca.key")
    with open(cert_path, "wb") as handle:
        handle.write(helpers.cert_pem(helpers.make_cert(helpers.make_key(), cn="CA", ca=True)))
    with open(key_path, "wb") as handle:
        handle.write(helpers.key_pem(helpers.make_key()))
    CONF.set_override("ca_certificate", cert_path, group="certificates")
    CONF.set_override("ca_private_key", key_path, group="certificates")
    try:
        with pytest.raises(service_ca.CAConfigurationError, match="does not match"):
            LocalCertGenerator().get_ca_certificate()
    finally:
        CONF.clear_override("ca_certificate", group="certificates")
        CONF.clear_override("ca_private_key", group="certificates")


def test_client_cert_near_expiry_is_reissued(state_dir: str) -> None:
    generator = LocalCertGenerator()
    path = generator.get_client_cert().cert_file
    with open(path, "rb") as handle:
        first = handle.read()
    # A buffer longer than the certificate's lifetime makes it "about to expire".
    CONF.set_override("cert_expiry_buffer", 400 * 86400, group="house_keeping")
    try:
        generator.get_client_cert()
    finally:
        CONF.clear_override("cert_expiry_buffer", group="house_keeping")
    with open(path, "rb") as handle:
        assert handle.read() != first
