"""Hostile requests through the real HAProxy: every spelling meets the same policy.

Paths are normalised before routing (docs/security.md): percent-escapes of
unreserved characters decoded, `//` merged, `.` and `..` resolved; a path that
climbs above `/`, or holds an encoded slash, backslash or NUL, is answered 400.
The backend receives the normalised path. Host headers that are not a name or
an address, a second Host header, and `Forwarded` from clients are refused or
dropped; one client address cannot hold more than its share of connections.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingress_ctl.model.matching import RefusedPath, normalise_path
from ingress_ctl.resolving import own_addresses, resolve_all
from ingress_ctl.translation.certificates import self_signed
from tests.conftest import EchoBackends, echo_proxy, free_port
from tests.http import wait_for
from tests.manifests import path, service, service_port
from tests.test_annotations_haproxy import (
    ECHOES,
    HASHES,
    PASSWORD,
    P,
    Proxy,
    app,
    basic,
    errors,
    users_secret,
)

pytestmark = pytest.mark.haproxy

HOST = "shop.test"


@pytest.fixture(scope="module")
def proxy(haproxy_bin: str) -> Iterator[Proxy]:
    with echo_proxy(haproxy_bin, ECHOES, first=61) as made:
        found = Proxy(made.pipeline, made.runner, made.echoes)
        found.serve(
            users_secret("users", f"alice:{HASHES['alice']}\n"),
            app(HOST, {}, path("/", "one"), name="public"),
            app(
                HOST,
                {P + "auth-type": "basic", P + "auth-secret": "users"},
                path("/admin", "two"),
                name="admin",
            ),
            app(HOST, {P + "allow-list": "10.0.0.0/8"}, path("/internal", "two"), name="internal"),
        )
        yield found


def spellings(word: str) -> tuple[str, ...]:
    """Spellings of `/<word>` (or below it) that must meet its policy, whatever the encoding."""
    first = f"%{ord(word[0]):02x}{word[1:]}"
    every = "".join(f"%{ord(char):02X}" for char in word)
    return (
        f"/{word}",
        f"//{word}",
        f"///{word}",
        f"/./{word}",
        f"/x/../{word}",
        f"/x/y/../../{word}",
        f"/{first}",
        f"/{every}",
        f"/%2e/{word}",
        f"/x/%2E%2e/{word}",
        f"/{word}/",
        f"/{word}/./",
        f"/{word}//x",
    )


REFUSED = (
    "/../admin",
    "/..",
    "/%2e%2e/admin",
    "/x/../../admin",
    "/%2Fadmin",
    "/%2fadmin",
    "/x/..%2Fadmin",
    "/%5Cadmin",
    "/admin%00",
    "/%zzadmin",
    "/\\admin",
)
"""Paths that climb above `/`, hold an encoded slash, backslash or NUL, or a bad escape."""


@pytest.mark.parametrize("spelling", spellings("admin"))
def test_every_spelling_of_a_protected_path_needs_credentials(proxy: Proxy, spelling: str) -> None:
    assert proxy.request(HOST, spelling).status == 401
    allowed = proxy.echoed(HOST, spelling, headers=basic("alice", PASSWORD))
    assert allowed["backend"] == "two"
    assert allowed["path"].startswith("/admin")
    assert "//" not in allowed["path"] and "%" not in allowed["path"]


@pytest.mark.parametrize("spelling", spellings("internal"))
def test_every_spelling_of_a_path_meets_its_allow_list(proxy: Proxy, spelling: str) -> None:
    assert proxy.request(HOST, spelling).status == 403


@pytest.mark.parametrize("spelling", REFUSED)
def test_paths_above_the_root_or_with_encoded_separators_are_refused(
    proxy: Proxy, spelling: str
) -> None:
    assert proxy.request(HOST, spelling).status == 400


def test_the_backend_receives_the_normalised_path_and_case_is_kept(proxy: Proxy) -> None:
    public = proxy.echoed(HOST, "/x/..//public/./%7Euser?next=/../a//b")
    assert (public["backend"], public["path"]) == ("one", "/public/~user?next=/../a//b")
    upper = proxy.echoed(HOST, "/ADMIN")  # paths are case-sensitive: not /admin
    assert (upper["backend"], upper["path"]) == ("one", "/ADMIN")


PATH_PIECES = st.sampled_from(
    ["/", "//", "a", "admin", ".", "..", "%2e", "%2E", "%61", "%7e", "%2F", "%5c", "%00", "%zz",
     "%", "%4", "~", "-", "%41", "%20", "%C3%A9", "public"]
)  # fmt: skip


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(PATH_PIECES, max_size=8).map(lambda pieces: "/" + "".join(pieces)))
def test_explain_normalises_paths_as_haproxy_does(proxy: Proxy, asked: str) -> None:
    """`normalise_path` (what explain shows) against the real HAProxy, for any mix of pieces."""
    response = proxy.request(HOST, asked)
    try:
        expected = normalise_path(asked)
    except RefusedPath:
        assert response.status == 400, (asked, response.status)
        return
    assert response.status in (200, 401, 403), (asked, response.status, expected)
    if response.status == 200:
        assert response.json()["path"] == expected, asked


def raw_request(port: int, head: bytes, *, source: str = "127.0.0.1") -> bytes:
    """The status line HAProxy answers to this request head (sent as is)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0)) as s:
        s.sendall(head + b"Connection: close\r\n\r\n")
        return s.makefile("rb").readline().rstrip()


@pytest.mark.parametrize(
    ("host_lines", "status"),
    [
        (b"Host: shop.test\r\n", b"200"),
        (b"Host: SHOP.test:80\r\n", b"200"),
        (b"Host: [::1]:80\r\n", b"404"),  # not served, but a valid Host
        (b"Host: shop.test\x00.evil\r\n", b"400"),
        (b"Host: shop.test\x01\r\n", b"400"),
        (b"Host: shop.test\x7f\r\n", b"400"),
        (b"Host: shop.test evil\r\n", b"400"),
        (b"Host: shop.test,evil.test\r\n", b"400"),
        (b"Host: shop.test\r\nHost: evil.test\r\n", b"400"),
        (b"Host: shop.test/x\r\n", b"400"),
    ],
)
def test_host_headers_that_are_not_one_name_are_refused(
    proxy: Proxy, host_lines: bytes, status: bytes
) -> None:
    line = raw_request(proxy.pipeline.port, b"GET / HTTP/1.1\r\n" + host_lines)
    assert line.split()[1] == status, line


def test_forwarded_from_a_client_is_dropped(proxy: Proxy) -> None:
    echoed = proxy.echoed(
        HOST, "/", headers={"Forwarded": "for=10.1.2.3;proto=https", "X-Forwarded-For": "10.9.9.9"}
    )
    assert "forwarded" not in echoed["headers"]
    assert echoed["headers"]["x-forwarded-for"] == "127.0.0.1"


def idle_connections(port: int, count: int, *, source: str) -> list[socket.socket]:
    """`count` connections from `source` that send nothing (a refused one is a closed socket)."""
    made = []
    for _ in range(count):
        sock = socket.socket()
        sock.bind((source, 0))
        made.append(sock)
        try:
            sock.connect(("127.0.0.1", port))
        except ConnectionResetError:
            sock.close()
    return made


def closed_by_peer(sock: socket.socket) -> bool:
    """Whether HAProxy closed this connection (without waiting for it)."""
    if sock.fileno() < 0:
        return True
    sock.settimeout(0)
    try:
        return sock.recv(1) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


def closed_at_least(sockets: list[socket.socket], count: int) -> int:
    """How many of `sockets` HAProxy closed, once at least `count` are (fails after 10 s)."""

    def closed() -> int | None:
        found = sum(map(closed_by_peer, sockets))
        return found if found >= count else None

    return wait_for(closed, timeout=10)


def test_one_source_cannot_hold_more_than_its_connections(proxy: Proxy) -> None:
    proxy.serve(app(HOST, {}, path("/", "one")), global_config={"max-connections-per-source": "50"})
    with ExitStack() as stack:
        sockets = idle_connections(proxy.pipeline.port, 80, source="127.0.0.2")
        for sock in sockets:
            stack.callback(sock.close)
        assert closed_at_least(sockets, 30) == 30
        assert sum(map(closed_by_peer, sockets)) == 30  # and the other 50 stay open
        # another client is served meanwhile
        assert raw_request(proxy.pipeline.port, b"GET / HTTP/1.1\r\nHost: shop.test\r\n") == (
            b"HTTP/1.1 200 OK"
        )


def test_default_limits_keep_serving_while_2000_idle_connections_are_open(proxy: Proxy) -> None:
    """2,000 idle connections (1,200 from one address, 800 from eight others): the default
    per-source limit (1,000) refuses 200 of them, and a normal request is answered."""
    proxy.serve(app(HOST, {}, path("/", "one")), global_config={})
    with ExitStack() as stack:
        sockets = idle_connections(proxy.pipeline.port, 1_200, source="127.0.0.3")
        for index in range(8):
            sockets += idle_connections(proxy.pipeline.port, 100, source=f"127.0.1.{index + 1}")
        for sock in sockets:
            stack.callback(sock.close)
        assert closed_at_least(sockets, 200) == 200
        assert raw_request(proxy.pipeline.port, b"GET / HTTP/1.1\r\nHost: shop.test\r\n") == (
            b"HTTP/1.1 200 OK"
        )


def test_an_external_name_of_this_machine_never_reaches_it(
    proxy: Proxy, echo_backends: EchoBackends
) -> None:
    """This machine's hostname resolves to 127.0.0.1 (/etc/hosts), where the controller's
    own ports listen (here: a stand-in on a free port): refused at check time, and HAProxy
    is given no name to resolve by itself."""
    port = free_port()
    echo_backends.start(name="controller", host="127.0.0.1", port=port)
    hostname = socket.gethostname()
    translation = proxy.serve(
        service("ext", service_port(port), external_name=hostname),
        app("ext.test", {}, path("/", "ext", port)),
        resolved=resolve_all({hostname}, own_addresses()),
        allow_external_name=True,
    )
    [reason] = errors(translation)
    assert f"{hostname.lower()!r} resolves to 127.0.0.1, a loopback address; refused" in reason
    assert proxy.request("ext.test").status == 503
    assert hostname.lower() not in proxy.config()


def test_tls_clients_that_send_no_hello_are_closed_after_the_handshake_timeout(
    proxy: Proxy,
) -> None:
    """2,000 idle connections to the TLS port (100 from each of 20 addresses): a normal HTTPS
    request is answered meanwhile, and all 2,000 are closed once `timeout-client-hs` (1 s)
    has passed, long before `timeout client` (50 s)."""
    https_port = free_port()
    proxy.serve(
        app(HOST, {}, path("/", "one")),
        global_config={"timeout-client-hs": "1s"},
        certificate=self_signed(names=(HOST,)),
        https_port=https_port,
    )
    with ExitStack() as stack:
        sockets: list[socket.socket] = []
        for index in range(20):
            sockets += idle_connections(https_port, 100, source=f"127.0.2.{index + 1}")
        for sock in sockets:
            stack.callback(sock.close)
        started = time.monotonic()
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        with (
            socket.create_connection(("127.0.0.1", https_port), timeout=5) as raw,
            context.wrap_socket(raw, server_hostname=HOST) as tls,
        ):
            tls.sendall(b"GET / HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n\r\n")
            assert tls.makefile("rb").readline().rstrip() == b"HTTP/1.1 200 OK"
        assert closed_at_least(sockets, 2_000) == 2_000
        assert time.monotonic() - started < 10
