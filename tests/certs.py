"""Certificates for tests: a CA, leaf certificates for SNI names (valid, expired, RSA, EC)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

Key = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def _pem_key(key: Key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


@dataclass(frozen=True)
class Issued:
    """A leaf certificate (followed by its CA) and its key, as a Secret would hold them."""

    leaf: x509.Certificate
    chain_pem: bytes
    key_pem: bytes

    @property
    def subject(self) -> str:
        return self.leaf.subject.rfc4514_string()


class TestCA:
    """A certificate authority that issues leaf certificates for DNS names."""

    __test__ = False  # not a pytest class

    def __init__(self, name: str = "ingress-ctl test CA") -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = datetime.now(UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(self.name)
            .issuer_name(self.name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )

    @cached_property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def issue(
        self,
        *names: str,
        subject: str | None = None,
        expired: bool = False,
        rsa_bits: int | None = None,
        days: int = 30,
        uris: tuple[str, ...] = (),
    ) -> Issued:
        """A certificate for these DNS names and `uris` (the first name is the CN unless
        `subject` is given), valid for `days` more days unless expired."""
        key: Key = (
            rsa.generate_private_key(public_exponent=65537, key_size=rsa_bits)
            if rsa_bits
            else ec.generate_private_key(ec.SECP256R1())
        )
        now = datetime.now(UTC)
        start = now - timedelta(days=60 if expired else 1)
        common_name = subject or (names[0] if names else "leaf")
        leaf = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(self.name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(now - timedelta(days=1) if expired else now + timedelta(days=days))
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName(name) for name in names]
                    + [x509.UniformResourceIdentifier(uri) for uri in uris]
                ),
                critical=False,
            )
            .sign(self.key, hashes.SHA256())
        )
        chain = leaf.public_bytes(serialization.Encoding.PEM) + self.pem
        return Issued(leaf=leaf, chain_pem=chain, key_pem=_pem_key(key))

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts only this CA (hostname checks on)."""
        context = ssl.create_default_context(cadata=self.pem.decode())
        return context
