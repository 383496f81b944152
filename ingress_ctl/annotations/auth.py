"""Basic authentication annotations, and the htpasswd files they point at.

`auth-type: basic` with `auth-secret` (a Secret of the Ingress's namespace
whose key `auth` holds an htpasswd file, or with `auth-secret-type: auth-map`
a key per user whose value is the hash) makes the routes answer 401 without
valid credentials. HAProxy checks passwords with crypt(3) (libxcrypt on
Debian), so only crypt(3) hashes are taken: bcrypt (`$2y$`, `$2b$`, `$2a$`),
SHA-crypt (`$5$`, `$6$`), yescrypt (`$y$`) and MD5-crypt (`$1$`). Apache's
`{SHA}` and `$apr1$` and DES hashes are refused line by line with a reason;
if no user is left, every request answers 401 (the routes fail closed).
"""

from __future__ import annotations

import re
from enum import StrEnum

from ingress_ctl.annotations.registry import Reader, Scope, register
from ingress_ctl.annotations.values import choice, secret, text
from ingress_ctl.model.policies import Part, User

DEFAULT_REALM = "Authentication Required"
SECRET_KEY = "auth"
MAX_USERS = 1000
_SALT = r"[./A-Za-z0-9]"
HASHES = {
    "bcrypt": re.compile(rf"^\$2[aby]\$[0-9]{{2}}\${_SALT}{{53}}$"),
    "SHA-256-crypt": re.compile(rf"^\$5\$(rounds=[0-9]{{1,9}}\$)?{_SALT}{{1,16}}\${_SALT}{{43}}$"),
    "SHA-512-crypt": re.compile(rf"^\$6\$(rounds=[0-9]{{1,9}}\$)?{_SALT}{{1,16}}\${_SALT}{{86}}$"),
    "yescrypt": re.compile(rf"^\$y\${_SALT}{{1,64}}\${_SALT}{{1,86}}\${_SALT}{{43}}$"),
    "MD5-crypt": re.compile(rf"^\$1\${_SALT}{{1,8}}\${_SALT}{{22}}$"),
}
"""The crypt(3) hashes HAProxy's libcrypt verifies, by name."""
_REFUSED = {
    "{SHA}": "Apache's {SHA} hashes are not a crypt(3) format HAProxy can check",
    "$apr1$": "Apache's $apr1$ MD5 hashes are not a crypt(3) format HAProxy can check",
}
CLOSED = "every request answers 401 until it is fixed"
REHASH = "re-create it with `htpasswd -B` (bcrypt) or `openssl passwd -6`"
_USER = re.compile(r"^[A-Za-z0-9._@+\-]{1,64}$")


class AuthType(StrEnum):
    BASIC = "basic"


class SecretType(StrEnum):
    """How the Secret holds the users: an htpasswd file in key `auth`, or a key per user."""

    FILE = "auth-file"
    MAP = "auth-map"


class AuthRequest(Part):
    """Basic auth from a Secret (its namespace None: the Ingress's), not yet read."""

    secret: tuple[str | None, str] | None
    """None: no usable Secret is named, and every request answers 401."""
    realm: str
    by_key: bool = False
    """The Secret holds a key per user whose value is the hash (auth-map)."""


AUTH_TYPE = register("auth-type", choice(AuthType), Scope.ROUTE, default="none", invalid=CLOSED)
AUTH_SECRET = register(
    "auth-secret",
    secret,
    Scope.ROUTE,
    default="none (required with auth-type)",
    invalid=CLOSED,
)
AUTH_SECRET_TYPE = register(
    "auth-secret-type",
    choice(SecretType),
    Scope.ROUTE,
    default="auth-file",
    invalid=CLOSED,
)
AUTH_REALM = register(
    "auth-realm",
    text,
    Scope.ROUTE,
    default=DEFAULT_REALM,
)


def auth(reader: Reader) -> AuthRequest | None:
    """The basic auth asked for; None without `auth-type`. Fails closed: an invalid type or
    Secret name keeps auth on with no user."""
    if not reader.given(AUTH_TYPE):
        for key in (AUTH_SECRET, AUTH_SECRET_TYPE, AUTH_REALM):
            if reader.given(key):
                reader.complain(key, "ignored without auth-type: basic", "warning")
        return None
    secret, kind = reader.get(AUTH_SECRET), reader.get(AUTH_SECRET_TYPE)
    valid = reader.get(AUTH_TYPE) is not None and (
        kind is not None or not reader.given(AUTH_SECRET_TYPE)
    )
    if valid and not reader.given(AUTH_SECRET):
        reader.complain(AUTH_TYPE, f"needs auth-secret: {CLOSED}")
    return AuthRequest(
        secret=secret if valid else None,
        realm=reader.value(AUTH_REALM, DEFAULT_REALM),
        by_key=kind is SecretType.MAP,
    )


def htpasswd(content: str) -> tuple[tuple[User, ...], list[str]]:
    """The users of an htpasswd file, and a reason per line that was refused."""
    users: dict[str, User] = {}
    refused = []
    for number, line in enumerate(content.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            user = _user(stripped)
        except ValueError as error:
            refused.append(f"line {number}: {error}")
            continue
        if user.name in users:
            refused.append(f"line {number}: user {user.name!r} again; the first line wins")
        elif len(users) == MAX_USERS:
            refused.append(f"line {number}: more than {MAX_USERS} users")
        else:
            users[user.name] = user
    return tuple(users.values()), refused


def _user(line: str) -> User:
    name, colon, hashed = line.partition(":")
    if not colon or not _USER.fullmatch(name):
        raise ValueError("is not `user:hash` with a user name of letters, digits and ._@+-")
    for prefix, reason in _REFUSED.items():
        if hashed.startswith(prefix):
            raise ValueError(f"user {name!r}: {reason}; {REHASH}")
    if not any(pattern.fullmatch(hashed) for pattern in HASHES.values()):
        raise ValueError(
            f"user {name!r}: not a bcrypt, SHA-crypt, yescrypt or MD5-crypt hash; {REHASH}"
        )
    return User(name=name, hash=hashed)
