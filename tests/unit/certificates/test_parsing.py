"""PKCS12/PEM parsing and the TLS validation errors the API reports."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from octavia.certificates import errors, parsing
from octavia.certificates.manager.base import Cert
from octavia.common.exceptions import ValidationException
from tests.unit.certificates import helpers


@pytest.fixture(scope="module")
def chain() -> dict[str, object]:
    ca_key = helpers.make_key()
    ca = helpers.make_cert(ca_key, cn="Test CA", ca=True)
    leaf_key = helpers.make_key()
    leaf = helpers.make_cert(leaf_key, cn="www.example.com", dns_names=["www.example.com", "example.com"],
                             issuer=(ca, ca_key))
    return {"ca": ca, "ca_key": ca_key, "leaf": leaf, "leaf_key": leaf_key}


def _p12(chain: dict[str, object], passphrase: bytes | None = None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    )
    return pkcs12.serialize_key_and_certificates(
        b"tls", chain["leaf_key"], chain["leaf"], [chain["ca"]], encryption  # type: ignore[arg-type]
    )


def test_pkcs12_bundle_parses(chain: dict[str, object]) -> None:
    cert = parsing.parse_pkcs12(_p12(chain))
    assert cert.certificate == helpers.cert_pem(chain["leaf"])  # type: ignore[arg-type]
    assert cert.intermediates == [helpers.cert_pem(chain["ca"])]  # type: ignore[arg-type]
    assert cert.private_key is not None and b"PRIVATE KEY" in cert.private_key
    parsing.validate_cert(cert)
    assert parsing.get_host_names(cert.certificate) == {
        "cn": "www.example.com",
        "dns_names": ["www.example.com", "example.com"],
    }


def test_pkcs12_with_passphrase_is_unreadable_without_it(chain: dict[str, object]) -> None:
    blob = _p12(chain, b"pw")
    with pytest.raises(errors.UnreadablePKCS12) as info:
        parsing.parse_pkcs12(blob)
    assert info.value.msg.startswith("The PKCS12 bundle is unreadable.")
    assert info.value.code == 400
    assert parsing.parse_pkcs12(blob, b"pw").certificate == helpers.cert_pem(chain["leaf"])  # type: ignore[arg-type]


def test_garbage_pkcs12(chain: dict[str, object]) -> None:
    with pytest.raises(errors.UnreadablePKCS12):
        parsing.load_cert_payload(b"\x30\x82garbage")


def test_pem_bundle_finds_the_leaf_whatever_the_order(chain: dict[str, object]) -> None:
    blob = (
        helpers.cert_pem(chain["ca"])  # type: ignore[arg-type]
        + helpers.key_pem(chain["leaf_key"])  # type: ignore[arg-type]
        + helpers.cert_pem(chain["leaf"])  # type: ignore[arg-type]
    )
    cert = parsing.load_cert_payload(blob)
    assert cert.certificate == helpers.cert_pem(chain["leaf"])  # type: ignore[arg-type]
    assert cert.intermediates == [helpers.cert_pem(chain["ca"])]  # type: ignore[arg-type]


def test_pem_bundle_with_foreign_key_is_mismatched(chain: dict[str, object]) -> None:
    blob = helpers.cert_pem(chain["leaf"]) + helpers.key_pem(helpers.make_key())  # type: ignore[arg-type]
    with pytest.raises(errors.MisMatchedKey):
        parsing.load_cert_payload(blob)


def test_unreadable_pem() -> None:
    broken = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    with pytest.raises(errors.UnreadableCert) as info:
        parsing.validate_cert(Cert(certificate=broken))
    assert info.value.msg == "Could not read X509 from PEM"


def test_cert_without_cn_or_san_is_invalid() -> None:
    key = helpers.make_key()
    cert = Cert(
        certificate=helpers.cert_pem(helpers.make_cert(key, cn=None)), private_key=helpers.key_pem(key)
    )
    with pytest.raises(errors.MissingCertSubject) as info:
        parsing.validate_cert(cert)
    assert info.value.msg == "No CN or DNSName(s) found in certificate. The certificate is invalid."


def test_san_only_cert_is_valid() -> None:
    key = helpers.make_key()
    cert = Cert(certificate=helpers.cert_pem(helpers.make_cert(key, cn=None, dns_names=["a.example"])))
    parsing.validate_cert(cert)
    assert parsing.get_host_names(cert.certificate) == {"cn": None, "dns_names": ["a.example"]}


def test_encrypted_key_needs_its_passphrase(chain: dict[str, object]) -> None:
    leaf = helpers.cert_pem(chain["leaf"])  # type: ignore[arg-type]
    encrypted = helpers.key_pem(chain["leaf_key"], b"pw")  # type: ignore[arg-type]
    with pytest.raises(errors.MisMatchedKey):
        parsing.validate_cert(Cert(certificate=leaf, private_key=encrypted))
    good = Cert(certificate=leaf, private_key=encrypted, intermediates=[helpers.cert_pem(chain["ca"])],  # type: ignore[arg-type]
                private_key_passphrase=b"pw")
    parsing.validate_cert(good)
    pem = parsing.build_haproxy_pem(good)
    assert pem.index(b"BEGIN CERTIFICATE") < pem.index(b"BEGIN PRIVATE KEY")
    assert b"ENCRYPTED" not in pem
    assert parsing.pem_blocks(pem, b"CERTIFICATE") == [leaf, helpers.cert_pem(chain["ca"])]  # type: ignore[arg-type]


def test_client_ca_validation_messages(chain: dict[str, object]) -> None:
    parsing.validate_client_ca(helpers.cert_pem(chain["ca"]))  # type: ignore[arg-type]
    with pytest.raises(ValidationException) as info:
        parsing.validate_client_ca(b"not a cert")
    assert info.value.msg.startswith(
        "Validation failure: The client authentication CA certificate is invalid. "
        "It must be a valid x509 PEM format certificate. Error: "
    )


def test_crl_must_be_pem_and_signed_by_the_ca(chain: dict[str, object]) -> None:
    ca_pem = helpers.cert_pem(chain["ca"])  # type: ignore[arg-type]
    crl = helpers.make_crl((chain["ca"], chain["ca_key"]))  # type: ignore[arg-type]
    parsing.validate_client_crl(crl, ca_pem)
    with pytest.raises(ValidationException, match="certificate revocation list is invalid"):
        parsing.validate_client_crl(b"junk", ca_pem)
    other_key = helpers.make_key()
    other_ca = helpers.make_cert(other_key, cn="Other CA", ca=True)
    with pytest.raises(ValidationException) as info:
        parsing.validate_client_crl(helpers.make_crl((other_ca, other_key)), ca_pem)
    assert info.value.msg == (
        "Validation failure: The CRL specified is not valid for client certificate authority "
        "reference supplied."
    )
