"""Certificate errors, with upstream Octavia's user-facing wording (all 400s)."""

from __future__ import annotations

from octavia.common.exceptions import APIException


class CertificateError(APIException):
    code = 400


class UnreadableCert(CertificateError):
    message = "Could not read X509 from PEM"


class MisMatchedKey(CertificateError):
    message = "Key and x509 certificate do not match"


class MissingCertSubject(CertificateError):
    message = "No CN or DNSName(s) found in certificate. The certificate is invalid."


class UnreadablePKCS12(CertificateError):
    message = (
        "The PKCS12 bundle is unreadable. Please check the PKCS12 bundle validity. In addition, "
        "make sure it does not require a pass phrase. Error: {error}"
    )


class CertificateRetrievalException(CertificateError):
    message = "Could not retrieve certificate: {ref}"


class InvalidCAPEM(CertificateError):
    """A CA secret that is not a PEM X.509 certificate; `error` is the parser's reason."""

    message = "{error}"


class InvalidCRLPEM(CertificateError):
    """A CRL secret that is not a PEM X.509 CRL."""

    message = "{error}"


class CRLNotForCA(CertificateError):
    """A well-formed CRL that the given CA did not sign."""

    message = "The CRL specified is not valid for client certificate authority reference supplied."
