"""The self-signed default certificate: made once, then kept in the state directory.

HTTPS always has a default certificate: `--default-ssl-certificate`'s Secret,
else this one. It is read back at every start, so clients keep seeing the
same certificate; an unreadable file is replaced by a fresh one.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ingress_ctl.haproxy import naming
from ingress_ctl.model.routing import Certificate
from ingress_ctl.translation.certificates import (
    SELF_SIGNED_DAYS,
    SELF_SIGNED_SUBJECT,
    CertificateError,
    parse_pem,
    self_signed,
)

log = logging.getLogger(__name__)


def placeholder() -> Certificate:
    """A fresh self-signed default certificate under a fixed file name: what `render --out`
    writes in place of the one `run` keeps in its state directory."""
    return self_signed().model_copy(update={"file": naming.PLACEHOLDER_CERTIFICATE})


def named_placeholder() -> Certificate:
    """The placeholder as `render` (to standard output) and `explain` name it: its file,
    subject and validity without the key pair and certificate that only a written file
    needs (so they run without making a key, or importing cryptography)."""
    return Certificate(
        file=naming.PLACEHOLDER_CERTIFICATE,
        pem="",
        subject=f"CN={SELF_SIGNED_SUBJECT}",
        not_after=datetime.now(UTC) + timedelta(days=SELF_SIGNED_DAYS),
    )


def load_or_create(state_dir: Path) -> Certificate:
    """The fallback certificate of this state directory, made and saved (mode 0600) if needed."""
    path = state_dir / naming.FALLBACK_CERTIFICATE
    try:
        pem = path.read_bytes()
        return parse_pem(pem, pem)
    except FileNotFoundError:
        pass
    except (OSError, CertificateError) as error:
        log.warning("replacing the unreadable %s: %s", path, error)
    certificate = self_signed()
    state_dir.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(certificate.pem)
    os.replace(temporary, path)
    log.info("made a self-signed default certificate: %s", path)
    return certificate
