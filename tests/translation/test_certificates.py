"""TLS Secrets parsed, checked and re-serialized; the self-signed fallback kept in the state dir."""

from __future__ import annotations

import base64
import hashlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ed25519, rsa

from ingress_ctl.fallback import load_or_create
from ingress_ctl.haproxy import naming
from ingress_ctl.model.objects import Secret, parse_object
from ingress_ctl.translation.certificates import (
    CertificateError,
    parse_pem,
    parse_tls_secret,
    self_signed,
    validity_problem,
)
from tests.certs import TestCA
from tests.manifests import Manifest, tls_secret

CA = TestCA()
GOOD = CA.issue("a.example.com", "b.example.com")
OTHER = CA.issue("other.example.com")


def secret(manifest: Manifest) -> Secret:
    found = parse_object(manifest)
    assert isinstance(found, Secret)
    return found


@pytest.mark.parametrize("string_data", [False, True])
def test_a_tls_secret_is_parsed_and_served_re_serialized(string_data: bool) -> None:
    noisy = b"# a comment and blank lines around the PEM\n\n" + GOOD.chain_pem + b"\n\n"
    found = parse_tls_secret(secret(tls_secret("a", noisy, GOOD.key_pem, string_data=string_data)))
    assert found.subject == "CN=a.example.com"
    assert found.pem.encode() != noisy + GOOD.key_pem
    assert found.pem.count("BEGIN CERTIFICATE") == 2  # the leaf, then its CA
    assert found.pem.startswith(GOOD.leaf.public_bytes(serialization.Encoding.PEM).decode())
    assert "BEGIN PRIVATE KEY" in found.pem  # PKCS#8, whatever the Secret held
    assert "#" not in found.pem and "\n\n" not in found.pem
    digest = hashlib.sha256(found.pem.encode()).hexdigest()[:32]
    assert found.file == f"certs/{digest}.pem" == naming.certificate_file(found.pem.encode())
    assert found.not_after == GOOD.leaf.not_valid_after_utc
    assert "BEGIN" not in repr(found)  # the key never reaches a log through repr()


def _raw_secret(kind: str = "kubernetes.io/tls", **data: str) -> Manifest:
    return {"kind": "Secret", "metadata": {"name": "x"}, "type": kind, "data": data}


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _key(key: object) -> bytes:
    assert isinstance(key, rsa.RSAPrivateKey | dsa.DSAPrivateKey | ed25519.Ed25519PrivateKey)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


BAD_SECRETS = {
    "wrong type": (
        tls_secret("x", GOOD.chain_pem, GOOD.key_pem, kind="Opaque"),
        "type is 'Opaque', not 'kubernetes.io/tls'",
    ),
    "missing tls.key": (_raw_secret(**{"tls.crt": _b64(GOOD.chain_pem)}), "has no 'tls.key' key"),
    "missing tls.crt": (_raw_secret(**{"tls.key": _b64(GOOD.key_pem)}), "has no 'tls.crt' key"),
    "not base64": (
        _raw_secret(**{"tls.crt": "not base64!", "tls.key": _b64(GOOD.key_pem)}),
        "'tls.crt' is not base64",
    ),
    "not PEM": (tls_secret("x", b"hello", GOOD.key_pem), "tls.crt holds no PEM certificate"),
    "key not PEM": (
        tls_secret("x", GOOD.chain_pem, b"hello"),
        "tls.key holds no unencrypted PEM private key",
    ),
    "key of another certificate": (
        tls_secret("x", GOOD.chain_pem, OTHER.key_pem),
        "tls.key is not the key of the certificate in tls.crt",
    ),
    "small RSA key": (
        tls_secret(
            "x",
            GOOD.chain_pem,
            _key(rsa.generate_private_key(public_exponent=65537, key_size=1024)),
        ),
        "tls.key is RSA of 1024 bits (< 2048)",
    ),
    "DSA key": (
        tls_secret("x", GOOD.chain_pem, _key(dsa.generate_private_key(key_size=2048))),
        "only RSA and ECDSA are served",
    ),
    "Ed25519 key": (
        tls_secret("x", GOOD.chain_pem, _key(ed25519.Ed25519PrivateKey.generate())),
        "only RSA and ECDSA are served",
    ),
    "huge": (tls_secret("x", b"x" * 300_000, GOOD.key_pem), "larger than 262144 bytes"),
}


@pytest.mark.parametrize("case", sorted(BAD_SECRETS))
def test_a_bad_secret_is_refused_with_its_reason(case: str) -> None:
    manifest, reason = BAD_SECRETS[case]
    with pytest.raises(CertificateError) as refused:
        parse_tls_secret(secret(manifest))
    assert reason in str(refused.value)


def test_an_encrypted_key_is_refused() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    )
    with pytest.raises(CertificateError, match="unencrypted"):
        parse_pem(GOOD.chain_pem, encrypted)


def test_an_rsa_certificate_is_served() -> None:
    issued = CA.issue("rsa.example.com", rsa_bits=2048)
    assert parse_pem(issued.chain_pem, issued.key_pem).subject == "CN=rsa.example.com"


def test_validity_is_checked_against_a_given_time() -> None:
    pem = parse_pem(GOOD.chain_pem, GOOD.key_pem).pem
    not_after = GOOD.leaf.not_valid_after_utc
    assert validity_problem(pem, now=not_after - timedelta(days=1)) is None
    assert validity_problem(pem, now=not_after + timedelta(seconds=1)) == (
        f"the certificate expired on {not_after:%Y-%m-%d %H:%M} UTC"
    )
    before = GOOD.leaf.not_valid_before_utc - timedelta(days=1)
    assert "is not valid before" in str(validity_problem(pem, now=before))


def test_self_signed_certificates_are_fresh_and_valid() -> None:
    one, two = self_signed(), self_signed(names=("x.example.com",))
    assert one.file != two.file
    assert one.subject == "CN=ingress-ctl default certificate"
    leaf = x509.load_pem_x509_certificate(two.pem.encode())
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["x.example.com"]
    assert validity_problem(one.pem, now=datetime.now(UTC)) is None


def test_the_fallback_certificate_is_made_once_and_kept(tmp_path: Path) -> None:
    first = load_or_create(tmp_path)
    stored = tmp_path / naming.FALLBACK_CERTIFICATE
    assert os.stat(stored).st_mode & 0o777 == 0o600
    assert load_or_create(tmp_path) == first
    stored.write_text("garbage")
    replaced = load_or_create(tmp_path)
    assert replaced != first
    assert load_or_create(tmp_path) == replaced
