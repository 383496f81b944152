"""Certificates: TLS Secrets parsed and checked, and the self-signed fallback made.

Tenant bytes never reach HAProxy: a Secret's `tls.crt` (leaf first, then its
chain) and `tls.key` are parsed with `cryptography`, checked (RSA of 2048
bits or more, or ECDSA on P-256/384/521; the key must belong to the leaf),
and serialized again as PEM; so is the `ca.crt` that verifies pods. The file
name is the hash of that PEM. Pure: no I/O (making a key pair for the
self-signed certificate draws random bytes). `cryptography` is imported by the functions
that use it, at the first certificate parsed or made: `render` of a cluster without TLS
Secrets prints its haproxy.cfg without it (see `fallback.named_placeholder`).
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from ingress_ctl.haproxy import naming
from ingress_ctl.model.objects import Secret
from ingress_ctl.model.routing import Certificate

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

TLS_SECRET_TYPE = "kubernetes.io/tls"
CA_KEY = "ca.crt"
MAX_PEM_BYTES = 256 * 1024
MAX_CHAIN = 10
MIN_RSA_BITS = 2048
CURVES = ("secp256r1", "secp384r1", "secp521r1")
"""The ECDSA curves served (P-256, P-384, P-521), by name."""
SELF_SIGNED_SUBJECT = "ingress-ctl default certificate"
SELF_SIGNED_DAYS = 3650


class CertificateError(ValueError):
    """A Secret that cannot be served as a certificate; the message says why."""


def parse_tls_secret(secret: Secret) -> Certificate:
    """The certificate of a `kubernetes.io/tls` Secret, or CertificateError."""
    if secret.type != TLS_SECRET_TYPE:
        raise CertificateError(f"type is {secret.type!r}, not {TLS_SECRET_TYPE!r}")
    return parse_pem(secret_value(secret, "tls.crt"), secret_value(secret, "tls.key"))


def secret_value(secret: Secret, key: str) -> bytes:
    """The bytes of a Secret's key (`stringData` first, else base64 `data`), or CertificateError."""
    if key in secret.string_data:
        return secret.string_data[key].encode("utf-8", errors="replace")
    if key not in secret.data:
        raise CertificateError(f"has no {key!r} key")
    try:
        return base64.b64decode(secret.data[key], validate=True)
    except (binascii.Error, ValueError):
        raise CertificateError(f"{key!r} is not base64") from None


def parse_pem(chain_pem: bytes, key_pem: bytes) -> Certificate:
    """A certificate from PEM bytes: the chain (leaf first) and its private key."""
    chain = _chain(chain_pem)
    key = _key(key_pem)
    if _public(chain[0].public_key()) != _public(key.public_key()):
        raise CertificateError("tls.key is not the key of the certificate in tls.crt")
    return certificate(chain, key)


def _chain(pem: bytes, key: str = "tls.crt") -> list[x509.Certificate]:
    from cryptography import x509

    if len(pem) > MAX_PEM_BYTES:
        raise CertificateError(f"{key} is larger than {MAX_PEM_BYTES} bytes")
    try:
        chain = x509.load_pem_x509_certificates(pem)
    except ValueError:
        raise CertificateError(f"{key} holds no PEM certificate") from None
    if len(chain) > MAX_CHAIN:
        raise CertificateError(f"{key} holds more than {MAX_CHAIN} certificates")
    return chain


def ca_bundle(pem: bytes) -> str:
    """The CA certificates of a Secret's `ca.crt` (to verify pods), parsed and serialized again."""
    from cryptography.hazmat.primitives import serialization

    found = _chain(pem, CA_KEY)
    return "".join(
        certificate.public_bytes(serialization.Encoding.PEM).decode() for certificate in found
    )


def _key(pem: bytes) -> PrivateKey:
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if len(pem) > MAX_PEM_BYTES:
        raise CertificateError(f"tls.key is larger than {MAX_PEM_BYTES} bytes")
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        raise CertificateError("tls.key holds no unencrypted PEM private key") from None
    except UnsupportedAlgorithm:
        raise CertificateError("tls.key uses an algorithm OpenSSL cannot load") from None
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < MIN_RSA_BITS:
            raise CertificateError(f"tls.key is RSA of {key.key_size} bits (< {MIN_RSA_BITS})")
        return key
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if key.curve.name not in CURVES:
            raise CertificateError(f"tls.key uses the unsupported curve {key.curve.name}")
        return key
    raise CertificateError(f"tls.key is a {type(key).__name__}: only RSA and ECDSA are served")


def _public(key: object) -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        return b""
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def certificate(chain: list[x509.Certificate], key: PrivateKey) -> Certificate:
    """Serialize parsed objects as the PEM that HAProxy reads: the chain, then the key."""
    from cryptography.hazmat.primitives import serialization

    parts = [cert.public_bytes(serialization.Encoding.PEM) for cert in chain]
    parts.append(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    pem = b"".join(parts)
    leaf = chain[0]
    return Certificate(
        file=naming.certificate_file(pem),
        pem=pem.decode("ascii"),
        subject=leaf.subject.rfc4514_string()[:256],
        not_after=leaf.not_valid_after_utc,
    )


def validity_problem(chain_pem: str, *, now: datetime) -> str | None:
    """Why the leaf is not valid at `now` (expired, or not yet valid), else None."""
    from cryptography import x509

    leaf = x509.load_pem_x509_certificate(chain_pem.encode("ascii"))
    if leaf.not_valid_after_utc < now:
        return f"the certificate expired on {leaf.not_valid_after_utc:%Y-%m-%d %H:%M} UTC"
    if leaf.not_valid_before_utc > now:
        return f"the certificate is not valid before {leaf.not_valid_before_utc:%Y-%m-%d} UTC"
    return None


def validity_edges(secret: Secret) -> tuple[datetime, ...]:
    """The instants at which a TLS Secret's certificates become valid or expire (none if it
    holds no readable certificate): `validity_problem` of its leaf changes only at one."""
    try:
        chain = _chain(secret_value(secret, "tls.crt"))
    except CertificateError:
        return ()
    return tuple(
        edge for cert in chain for edge in (cert.not_valid_before_utc, cert.not_valid_after_utc)
    )


def self_signed(
    *, subject: str = SELF_SIGNED_SUBJECT, names: tuple[str, ...] = (), days: int = SELF_SIGNED_DAYS
) -> Certificate:
    """A fresh ECDSA P-256 self-signed certificate (for the fallback default, and for tests)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    return certificate([_sign(key, subject=subject, names=names, days=days)], key)


def _sign(key: PrivateKey, *, subject: str, names: tuple[str, ...], days: int) -> x509.Certificate:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    start = datetime.now(UTC) - timedelta(minutes=5)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
    )
    if names:
        san = x509.SubjectAlternativeName([x509.DNSName(name) for name in names])
        builder = builder.add_extension(san, critical=False)
    return builder.sign(key, hashes.SHA256())
