"""Policies: what annotations ask HAProxy to do for a backend and the routes that use it.

Only validated values live here (the parsers are in `ingress_ctl/annotations/`);
every field has a default that means "nothing special", so `Policy()` is a plain
backend. Two routes with equal policies share one backend; a policy that differs
makes a backend of its own (see naming.policy_backend_name). Durations are whole
milliseconds. This module imports nothing of ours: the routing model embeds it.
"""

from __future__ import annotations

from enum import StrEnum
from ipaddress import IPv4Network, IPv6Network
from typing import Literal

from pydantic import BaseModel, ConfigDict

Network = IPv4Network | IPv6Network

CANARY_COOKIE = "canary-"
"""How the affinity cookie values of a canary backend's servers start."""


class Part(BaseModel):
    """Base of every policy value: frozen, strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Balance(StrEnum):
    """HAProxy `balance` algorithms; the hashed ones use `hash-type consistent`."""

    ROUNDROBIN = "roundrobin"
    LEASTCONN = "leastconn"
    RANDOM = "random"
    FIRST = "first"
    SOURCE = "source"
    URI = "uri"

    @property
    def hashed(self) -> bool:
        """Whether the algorithm hashes a request property onto the servers."""
        return self in (Balance.SOURCE, Balance.URI)


class SameSite(StrEnum):
    """The SameSite attribute of a cookie."""

    STRICT = "Strict"
    LAX = "Lax"
    NONE = "None"


class Protocol(StrEnum):
    """What the pods speak: HTTP/1.1, HTTP/1.1 over TLS, HTTP/2 over TLS (ALPN h2), cleartext HTTP/2."""

    HTTP = "http"
    HTTPS = "https"
    H2 = "h2"
    H2C = "h2c"

    @property
    def tls(self) -> bool:
        return self in (Protocol.HTTPS, Protocol.H2)


class Timeouts(Part):
    """Backend timeouts (ms); None inherits the global ConfigMap's value."""

    connect: int | None = None
    server: int | None = None
    queue: int | None = None
    tunnel: int | None = None


class Affinity(Part):
    """Cookie session affinity: HAProxy inserts a cookie naming the server that answered."""

    name: str
    path: str | None = None
    domain: str | None = None
    max_age: int | None = None
    """Seconds (the cookie's Max-Age attribute); None makes a session cookie."""
    same_site: SameSite | None = None
    secure: bool = False
    """Always Secure; else Secure on requests that came over HTTPS (as in ingress-nginx)."""
    http_only: bool = True
    canary: bool = False
    """The backend of a canary: its servers' cookie values start with CANARY_COOKIE, which
    keeps a client that reached the canary on it (ingress-nginx's sticky canary)."""

    @property
    def set_cookie_regex(self) -> str:
        """A regular expression of the Set-Cookie header HAProxy inserts (the name's
        punctuation escaped): the name and value in group 1, HAProxy's own `; path=/` after
        it, the other attributes in group 2."""
        name = "".join(char if char.isalnum() else "\\" + char for char in self.name)
        return f"^({name}=[^;]*); path=/(.*)$"


class HealthCheck(Part):
    """Active HTTP health checks of every server."""

    path: str = "/"
    interval: int = 2_000
    status: int | None = None
    """The status a healthy server answers; None accepts any 2xx or 3xx."""


class SubjectAltName(Part):
    """A name a pod's certificate must hold: a DNS name or a URI (checked ASCII text)."""

    type: Literal["dns", "uri"]
    value: str

    @property
    def der_pattern(self) -> str:
        """A regular expression on the certificate's DER bytes in upper-case hex (HAProxy's
        `ssl_s_der,hex`) that finds this name as an X.509 GeneralName: the context tag
        (dNSName [2], uniformResourceIdentifier [6]), the DER length, the bytes; anchored
        on byte boundaries (`(..)*`) so it never matches across two bytes' nibbles."""
        data = self.value.encode()
        size = len(data)
        length = (
            bytes([size])
            if size < 0x80
            else bytes([0x81, size])
            if size < 0x100
            else (bytes([0x82]) + size.to_bytes(2, "big"))
        )
        tag = b"\x82" if self.type == "dns" else b"\x86"
        return "^(..)*" + (tag + length + data).hex().upper()


class ServerIdentity(Part):
    """What the pods' certificates must prove (a Gateway API BackendTLSPolicy)."""

    sni: str
    """The TLS server name HAProxy sends: a checked DNS name."""
    verify_host: str | None = None
    """The name the certificate must hold before a request is sent (HAProxy `verifyhost`;
    HAProxy checks the SNI name instead whenever it sends one, so this repeats `sni`)."""
    subject_alt_names: tuple[SubjectAltName, ...] = ()
    """When set, a response is let through only if the certificate holds one of them."""


class Upstream(Part):
    """How HAProxy talks to the pods."""

    protocol: Protocol = Protocol.HTTP
    ca_file: str | None = None
    """TLS protocols only: verify the pods' certificates against this CA file; None: no check."""
    system_ca: bool = False
    """TLS protocols only: verify the pods' certificates against the system's CAs."""
    identity: ServerIdentity | None = None
    """The server name sent and checked (with `ca_file` or `system_ca`)."""
    client_certificate: str | None = None
    """TLS protocols only: the certificate file (with its key) HAProxy presents to the pods."""
    unverifiable: bool = False
    """A CA was asked for but could not be read: requests answer 503 (fail closed)."""

    @property
    def verified(self) -> bool:
        """Whether the pods' certificates are verified (against a CA file or the system's)."""
        return self.ca_file is not None or self.system_ca


class HashKey(Part):
    """The request property a consistent hash puts onto the servers."""

    source: Literal["source", "uri", "header", "cookie", "param"]
    """The client address, the whole URI, or a header, cookie or query parameter."""
    name: str | None = None
    """The header, cookie or parameter: letters, digits, `-` and `_`."""


RETRY_CODES = (401, 403, 404, 408, 425, 500, 501, 502, 503, 504)
"""The response statuses HAProxy's `retry-on` takes (checked with `haproxy -c` on 2.6)."""


class Retry(Part):
    """Requests retried (the same request again) on a failed connection or these statuses."""

    codes: tuple[int, ...] = ()
    """Each one of RETRY_CODES."""
    attempts: int | None = None
    """Retries after the first try; None: HAProxy's default (3)."""


class BackendPolicy(Part):
    """What a Service (or an Ingress, which wins) asks of the backend's servers."""

    timeouts: Timeouts = Timeouts()
    balance: Balance = Balance.ROUNDROBIN
    hash_by: HashKey | None = None
    """When set, balance by a consistent hash of this instead of `balance`."""
    affinity: Affinity | None = None
    upstream: Upstream = Upstream()
    health: HealthCheck | None = None
    maxconn: int | None = None
    """Per server: requests beyond it wait in the queue."""
    retry: Retry | None = None


class User(Part):
    """One user of a basic-auth list: a name and a crypt(3) hash."""

    name: str
    hash: str


class BasicAuth(Part):
    """Requests without valid credentials of one of `users` answer 401."""

    realm: str
    users: tuple[User, ...]


class RateLimit(Part):
    """Per client address: requests per period, and concurrent connections."""

    requests: int | None = None
    period: int = 1_000
    connections: int | None = None
    status: int = 429


class PathRewrite(Part):
    """`http-request replace-path <regex> <replacement>` (replacement uses `\\1`..)."""

    regex: str
    replacement: str


class Header(Part):
    """A header name and value (value printed as a log-format string with no `%`)."""

    name: str
    value: str


class HeaderEdits(Part):
    """Headers deleted, then set (replaced), then added."""

    set: tuple[Header, ...] = ()
    add: tuple[Header, ...] = ()
    delete: tuple[str, ...] = ()


class Cors(Part):
    """CORS: preflight requests answered by HAProxy, allowed origins echoed on responses."""

    origins: tuple[str, ...] = ("*",)
    """`*` alone, or origins (`https://a.example.com`, `https://*.example.com:8443`); none
    allows no origin (a value that did not parse)."""
    methods: tuple[str, ...] = ("GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS")
    headers: tuple[str, ...] = (
        "DNT",
        "Keep-Alive",
        "User-Agent",
        "X-Requested-With",
        "If-Modified-Since",
        "Cache-Control",
        "Content-Type",
        "Range",
        "Authorization",
    )
    expose: tuple[str, ...] = ()
    credentials: bool = True
    max_age: int = 1_728_000
    """Seconds a browser may cache a preflight answer."""
    deep_wildcards: bool = False
    """The `*` of `scheme://*.name` matches one label or more (the Gateway API's greedy match
    to the left) instead of exactly one (ingress-nginx), and `scheme://*[:port]` any host."""
    echo_wildcards: bool = False
    """A `*` (origins, methods or headers) echoes what the request asked (its Origin,
    Access-Control-Request-Method and -Headers), as the Gateway API requires with
    credentials; else `*` is sent literally and the origin `*` never allows credentials."""
    refuse_preflights: bool = False
    """A preflight request from an origin not allowed answers 403 here (the Gateway API);
    else it reaches the pods."""

    @property
    def any_origin(self) -> bool:
        """Every origin is allowed."""
        return self.origins == ("*",)

    @property
    def literal_any(self) -> bool:
        """Access-Control-Allow-Origin is a literal `*` (never with credentials)."""
        return self.any_origin and not self.echo_wildcards

    @property
    def echo_methods(self) -> bool:
        """Access-Control-Allow-Methods echoes the request's Access-Control-Request-Method."""
        return self.echo_wildcards and self.methods == ("*",)

    @property
    def echo_headers(self) -> bool:
        """Access-Control-Allow-Headers echoes the request's Access-Control-Request-Headers."""
        return self.echo_wildcards and self.headers == ("*",)

    @property
    def exact(self) -> tuple[str, ...]:
        """The origins matched as they are (any case)."""
        return tuple(origin for origin in self.origins if "*" not in origin)

    @property
    def patterns(self) -> tuple[str, ...]:
        """Regular expressions of the `scheme://*.name[:port]` origins: one label of letters,
        digits and `-` for the `*` (labels, with deep_wildcards; the rest is letters, digits,
        `.`, `-`, `:`, `+`)."""
        label = "[a-z0-9-]+(\\.[a-z0-9-]+)*" if self.deep_wildcards else "[a-z0-9-]+"
        return tuple(
            "^" + origin.replace("+", "\\+").replace(".", "\\.").replace("*", label, 1) + "$"
            for origin in self.origins
            if "*" in origin and origin != "*"
        )


class Redirect(Part):
    """Every request answers a redirect to `location`."""

    location: str
    code: int = 302


class GatewayRedirect(Part):
    """A Gateway API RequestRedirect: every part not given is the request's own (the port as
    the Gateway API says: the scheme's well-known port when the scheme changes, else the port
    the request came in on; a well-known port is left out of the location)."""

    scheme: Literal["http", "https"] | None = None
    hostname: str | None = None
    """A checked DNS name."""
    port: int | None = None
    path: str | None = None
    """ReplaceFullPath: the new path (a checked rule path)."""
    prefix: tuple[str, str] | None = None
    """ReplacePrefixMatch: (the matched prefix, what replaces it), both checked rule paths."""
    code: Literal[301, 302, 303, 307, 308] = 302


class Canary(Part):
    """How a canary Ingress shares the requests of the routes it joins."""

    weight: int = 0
    """Requests in `weight_total` that no header or cookie decides."""
    weight_total: int = 100
    header: str | None = None
    header_value: str | None = None
    """The value of `header` that picks the canary (None: `always`; `never` keeps the main)."""
    header_pattern: str | None = None
    """A regular expression (values.safe_regex) on `header` that picks the canary, when
    `header_value` is None."""
    cookie: str | None = None
    """A cookie whose value `always` picks the canary (`never` keeps the main)."""
    sticky: bool = True
    """With affinity (the canary's, else the main route's), a client that reached the canary
    stays on it (ingress-nginx's `affinity-canary-behavior: sticky`)."""


class CanarySplit(Part):
    """A route's requests shared with the backend of a canary Ingress."""

    backend: str
    canary: Canary
    affinity_cookie: str | None = None
    """The canary backend's affinity cookie: a request whose value names a canary server
    stays on the canary."""


class RoutePolicy(Part):
    """What an Ingress asks for the requests of its routes; applied in their backend."""

    allow: tuple[Network, ...] | None = None
    """When set, other client addresses answer 403 (all of them when empty)."""
    deny: tuple[Network, ...] = ()
    auth: BasicAuth | None = None
    rate_limit: RateLimit | None = None
    rewrite: PathRewrite | None = None
    request_headers: HeaderEdits = HeaderEdits()
    response_headers: HeaderEdits = HeaderEdits()
    upstream_vhost: str | None = None
    """The Host header the pods see."""
    cors: Cors | None = None
    redirect: Redirect | None = None
    gateway_redirect: GatewayRedirect | None = None
    app_root: str | None = None
    """Requests for `/` are redirected (302) here."""
    body_size: int | None = None
    """Bytes; a larger Content-Length answers 413."""
    canary: CanarySplit | None = None
    unavailable: bool = False
    """Every request answers 503: an object the route needs is missing (fail closed)."""


class Policy(Part):
    """Everything annotations ask of one backend."""

    backend: BackendPolicy = BackendPolicy()
    route: RoutePolicy = RoutePolicy()
