"""Backends: Service ports, endpoints and their readiness, as the servers HAProxy balances."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingress_ctl.model.objects import EndpointSlice, ObjectError, parse_object
from ingress_ctl.model.routing import ServiceRef
from ingress_ctl.model.settings import Settings
from ingress_ctl.translation import Translation
from tests.manifests import (
    Manifest,
    endpoint,
    endpoint_slice,
    ingress,
    legacy_endpoints,
    path,
    problems,
    rule,
    run,
    servers,
    service,
    service_port,
    where,
)

BROKEN = "spec.rules[0].http.paths[0].backend.service"


def _app(port: int | str = 80, *objects: Manifest, name: str = "web") -> Translation:
    """One Ingress sending foo.com/ to Service `name` at `port`, plus these objects."""
    return run(ingress("app", rule("foo.com", path("/", name, port))), *objects)


def _reasons(translation: Translation) -> list[tuple[str, str]]:
    return [(p.field, p.reason) for p in translation.problems]


# --- Service port -> endpoint port ------------------------------------------------

PORT_CASES: list[tuple[str, int | str, list[Manifest], str, list[str]]] = [
    (
        "number, unnamed port",
        80,
        [
            service("web", service_port(80, target=8080)),
            endpoint_slice("web-a", "web", endpoint("10.0.0.1"), ports=[(None, 8080)]),
        ],
        "be_default_web_80",
        ["10.0.0.1:8080"],
    ),
    (
        "number, no targetPort",
        80,
        [
            service("web", service_port(80)),
            endpoint_slice("web-a", "web", endpoint("10.0.0.1"), ports=[(None, 80)]),
        ],
        "be_default_web_80",
        ["10.0.0.1:80"],
    ),
    (
        "name, named targetPort resolved by the slice",
        "http",
        [
            service("web", service_port(80, "http", "web-port")),
            endpoint_slice("web-a", "web", endpoint("10.0.0.1"), ports=[("http", 9090)]),
        ],
        "be_default_web_http",
        ["10.0.0.1:9090"],
    ),
    (
        "number of a named Service port",
        80,
        [
            service("web", service_port(80, "http", "web-port")),
            endpoint_slice("web-a", "web", endpoint("10.0.0.1"), ports=[("http", 9090)]),
        ],
        "be_default_web_80",
        ["10.0.0.1:9090"],
    ),
    (
        "multi-port Service, by name",
        "metrics",
        [
            service("web", service_port(80, "http", 8080), service_port(9100, "metrics", 9101)),
            endpoint_slice(
                "web-a", "web", endpoint("10.0.0.1"), ports=[("http", 8080), ("metrics", 9101)]
            ),
        ],
        "be_default_web_metrics",
        ["10.0.0.1:9101"],
    ),
    (
        "multi-port Service, by number",
        80,
        [
            service("web", service_port(80, "http", 8080), service_port(9100, "metrics", 9101)),
            endpoint_slice(
                "web-a", "web", endpoint("10.0.0.1"), ports=[("metrics", 9101), ("http", 8080)]
            ),
        ],
        "be_default_web_80",
        ["10.0.0.1:8080"],
    ),
    (
        "slice port unnamed: falls back to the targetPort number",
        "http",
        [
            service("web", service_port(80, "http", 8080)),
            endpoint_slice("web-a", "web", endpoint("10.0.0.1"), ports=[(None, 8080)]),
        ],
        "be_default_web_http",
        ["10.0.0.1:8080"],
    ),
    (
        "slice port number differs from targetPort: the slice says where pods listen",
        80,
        [
            service("web", service_port(80, target=8080)),
            endpoint_slice("web-a", "web", endpoint("10.0.0.1"), ports=[(None, 8081)]),
        ],
        "be_default_web_80",
        ["10.0.0.1:8081"],
    ),
    (
        "named targetPort, slice lacks the port name: no servers",
        "http",
        [
            service("web", service_port(80, "http", "web-port")),
            endpoint_slice("web-a", "web", endpoint("10.0.0.1"), ports=[("other", 9090)]),
        ],
        "be_default_web_http",
        [],
    ),
    (
        "slices of one Service with different ports (rollout)",
        80,
        [
            service("web", service_port(80, "http", "web-port")),
            endpoint_slice("web-a", "web", endpoint("10.0.0.1"), ports=[("http", 8080)]),
            endpoint_slice("web-b", "web", endpoint("10.0.0.2"), ports=[("http", 8081)]),
        ],
        "be_default_web_80",
        ["10.0.0.1:8080", "10.0.0.2:8081"],
    ),
]


@pytest.mark.parametrize(
    ("port", "objects", "backend", "expected"),
    [case[1:] for case in PORT_CASES],
    ids=[case[0] for case in PORT_CASES],
)
def test_service_port_to_endpoint_port(
    port: int | str, objects: list[Manifest], backend: str, expected: list[str]
) -> None:
    translation = _app(port, *objects)
    assert translation.problems == ()
    assert where(translation, "foo.com", "/") == backend
    assert servers(translation, backend) == expected
    found = translation.routing.backend(backend)
    assert found.service == ServiceRef(namespace="default", name="web", port=port)
    assert (found.resolve, found.status) == (False, None)


# --- Missing Service or port ---------------------------------------------------------

MISSING_CASES: list[tuple[str, int | str, list[Manifest], str, str]] = [
    ("no Service", 80, [], "be_default_web_80", "Service default/web not found"),
    (
        "Service in another namespace",
        80,
        [service("web", namespace="other"), endpoint_slice("w", "web", endpoint("10.0.0.1"))],
        "be_default_web_80",
        "Service default/web not found",
    ),
    (
        "no such port number",
        81,
        [service("web", service_port(80, target=8080))],
        "be_default_web_81",
        "Service default/web has no port 81",
    ),
    (
        "targetPort is not the Service port",
        8080,
        [service("web", service_port(80, target=8080))],
        "be_default_web_8080",
        "Service default/web has no port 8080",
    ),
    (
        "no such port name",
        "grpc",
        [service("web", service_port(80, "http", 8080))],
        "be_default_web_grpc",
        "Service default/web has no port 'grpc'",
    ),
    (
        "unnamed Service port asked by name",
        "http",
        [service("web", service_port(80, target=8080))],
        "be_default_web_http",
        "Service default/web has no port 'http'",
    ),
]


@pytest.mark.parametrize(
    ("port", "objects", "backend", "reason"),
    [case[1:] for case in MISSING_CASES],
    ids=[case[0] for case in MISSING_CASES],
)
def test_missing_service_or_port_is_a_problem_and_answers_503(
    port: int | str, objects: list[Manifest], backend: str, reason: str
) -> None:
    slice_ = endpoint_slice("web-a", "web", endpoint("10.0.0.1"), ports=[(None, 8080)])
    translation = _app(port, *objects, slice_)
    assert _reasons(translation) == [(BROKEN, f"{reason}; requests answer 503")]
    assert problems(translation) == [("default/app", BROKEN, "error")]
    # The route stays, and its backend exists with no servers (HAProxy answers 503).
    assert where(translation, "foo.com", "/") == backend
    assert servers(translation, backend) == []
    (report,) = translation.ingresses
    assert report.state == "serving"
    assert report.routes == (f"foo.com/ (Prefix) -> {backend}",)
    assert [p.reason for p in report.problems] == [f"{reason}; requests answer 503"]
    assert report.not_serving == f"{backend}: {reason}"
    [found] = report.backends
    assert (found.name, found.ready, found.reason) == (backend, 0, reason)


def test_the_report_counts_ready_and_all_endpoints_per_backend() -> None:
    translation = run(
        ingress(
            "app",
            rule("foo.com", path("/", "web", 80), path("/api", "api", 80), path("/x", "gone", 80)),
        ),
        service("web", service_port(80, target=8080)),
        endpoint_slice(
            "web-a",
            "web",
            endpoint("10.0.0.1", "10.0.0.2"),
            endpoint("10.0.0.3", ready=False),
            endpoint("10.0.0.4", ready=False, serving=True, terminating=True),
            ports=[(None, 8080)],
        ),
        service("api", service_port(80, target=8080)),
        legacy_endpoints("api", ["10.0.1.1"], not_ready=["10.0.1.2"]),
    )
    (report,) = translation.ingresses
    assert [(b.name, b.service, b.ready, b.total, b.reason) for b in report.backends] == [
        ("be_default_api_80", "default/api:80", 1, 2, ""),
        ("be_default_gone_80", "default/gone:80", 0, 0, "Service default/gone not found"),
        ("be_default_web_80", "default/web:80", 2, 4, ""),
    ]
    assert report.not_serving == "be_default_gone_80: Service default/gone not found"


def test_the_report_counts_the_endpoints_of_each_port_of_a_service_on_its_own() -> None:
    translation = run(
        ingress(
            "app",
            rule(
                "foo.com",
                path("/", "web", 80),
                path("/named", "web", "http"),
                path("/tls", "web", 443),
                path("/none", "web", 81),
            ),
        ),
        service("web", service_port(80, "http", 8080), service_port(443, "https", 8443)),
        endpoint_slice("web-a", "web", endpoint("10.0.0.1", "10.0.0.2"), ports=[("http", 8080)]),
        endpoint_slice("web-b", "web", endpoint("10.0.0.3"), ports=[("https", 8443)]),
        endpoint_slice("web-c", "web", endpoint("10.0.0.4", ready=False), ports=[("https", 8443)]),
    )
    (report,) = translation.ingresses
    assert [(b.service, b.ready, b.total, b.reason) for b in report.backends] == [
        ("default/web:443", 1, 2, ""),
        ("default/web:80", 2, 2, ""),
        ("default/web:81", 0, 0, "Service default/web has no port 81"),
        ("default/web:http", 2, 2, ""),
    ]


def test_a_service_without_ready_endpoints_is_reported_not_serving() -> None:
    translation = _app(80, service("web"))
    (report,) = translation.ingresses
    assert report.not_serving == "be_default_web_80: no ready endpoint"


def test_a_service_without_endpoints_is_not_a_problem() -> None:
    translation = _app(80, service("web"))
    assert translation.problems == ()
    assert servers(translation, "be_default_web_80") == []


# --- Endpoint readiness ---------------------------------------------------------------

READY = endpoint("10.0.0.1")
READY_TRUE = endpoint("10.0.0.2", ready=True, serving=True, terminating=False)
NOT_READY = endpoint("10.0.0.3", ready=False)
NOT_READY_SERVING = endpoint("10.0.0.4", ready=False, serving=True)
TERMINATING_SERVING = endpoint("10.0.0.5", ready=False, serving=True, terminating=True)
TERMINATING_NOT_SERVING = endpoint("10.0.0.6", ready=False, serving=False, terminating=True)
TERMINATING_UNKNOWN = endpoint("10.0.0.7", ready=False, terminating=True)
UNKNOWN_TERMINATING = endpoint("10.0.0.8", terminating=True)

READINESS_CASES: list[tuple[str, list[Manifest], list[str]]] = [
    ("conditions absent: ready", [READY], ["10.0.0.1:8080"]),
    ("ready true", [READY_TRUE], ["10.0.0.2:8080"]),
    ("ready false: out", [NOT_READY], []),
    ("ready false, serving, not terminating: out", [NOT_READY_SERVING], []),
    ("ready and not ready", [READY, NOT_READY], ["10.0.0.1:8080"]),
    ("terminating only when no ready one", [READY, TERMINATING_SERVING], ["10.0.0.1:8080"]),
    (
        "terminating only when no ready one, order irrelevant",
        [TERMINATING_SERVING, READY_TRUE],
        ["10.0.0.2:8080"],
    ),
    ("only serving+terminating: used", [TERMINATING_SERVING, NOT_READY], ["10.0.0.5:8080"]),
    ("terminating, not serving: out", [TERMINATING_NOT_SERVING], []),
    ("terminating, serving unknown: out", [TERMINATING_UNKNOWN], []),
    (
        "ready unknown while terminating: ready (absent = ready)",
        [UNKNOWN_TERMINATING],
        ["10.0.0.8:8080"],
    ),
    (
        "all kinds at once",
        [
            TERMINATING_SERVING,
            NOT_READY,
            READY,
            TERMINATING_NOT_SERVING,
            READY_TRUE,
            NOT_READY_SERVING,
        ],
        ["10.0.0.1:8080", "10.0.0.2:8080"],
    ),
    ("no endpoints", [], []),
    (
        "several addresses on one endpoint",
        [endpoint("10.0.0.9", "10.0.0.10")],
        ["10.0.0.10:8080", "10.0.0.9:8080"],
    ),
    ("duplicates merged", [READY, READY], ["10.0.0.1:8080"]),
]


@pytest.mark.parametrize(
    ("endpoints", "expected"),
    [case[1:] for case in READINESS_CASES],
    ids=[case[0] for case in READINESS_CASES],
)
def test_endpoint_readiness(endpoints: list[Manifest], expected: list[str]) -> None:
    translation = _app(80, service("web"), endpoint_slice("web-a", "web", *endpoints))
    assert servers(translation, "be_default_web_80") == expected


def test_terminating_fallback_considers_every_slice() -> None:
    """A ready endpoint in any slice keeps terminating ones of other slices out."""
    translation = _app(
        80,
        service("web"),
        endpoint_slice("web-a", "web", TERMINATING_SERVING),
        endpoint_slice("web-b", "web", READY),
    )
    assert servers(translation, "be_default_web_80") == ["10.0.0.1:8080"]


ADDRESSES = st.lists(st.sampled_from(["10.0.0.1", "10.0.0.2", "10.0.0.10", "10.0.0.9"]), max_size=3)
SLICES = st.lists(st.tuples(st.sampled_from([8080, 9090]), ADDRESSES, ADDRESSES), max_size=4)
"""Slices of one Service: each its endpoint port, ready and terminating addresses (overlapping)."""


@settings(max_examples=60, deadline=None)
@given(SLICES)
def test_servers_are_each_address_and_port_once_sorted(
    slices: list[tuple[int, list[str], list[str]]],
) -> None:
    """Ready endpoints of every slice, else the serving, terminating ones: each (address, port)
    once, sorted by address (as strings) then port, whether the slices share a port or not."""
    terminating = {"ready": False, "serving": True, "terminating": True}
    objects = [
        endpoint_slice(
            f"web-{index}",
            "web",
            *(endpoint(address) for address in ready),
            *(endpoint(address, **terminating) for address in ending),
            ports=[(None, port)],
        )
        for index, (port, ready, ending) in enumerate(slices)
    ]
    translation = _app(80, service("web"), *objects)
    found = {(a, port) for port, ready, _ in slices for a in ready}
    found = found or {(a, port) for port, _, ending in slices for a in ending}
    expected = [f"{address}:{port}" for address, port in sorted(found)]
    assert servers(translation, "be_default_web_80") == expected


# --- Which slices belong to the Service -------------------------------------------------

SLICE_CASES: list[tuple[str, list[Manifest], list[str]]] = [
    (
        "every labelled slice",
        [
            endpoint_slice("web-a", "web", endpoint("10.0.0.1")),
            endpoint_slice("web-b", "web", endpoint("10.0.0.2")),
        ],
        ["10.0.0.1:8080", "10.0.0.2:8080"],
    ),
    (
        "slice name is irrelevant, the label counts",
        [
            endpoint_slice("web-a", "api", endpoint("10.0.0.1")),
            endpoint_slice("api-a", "web", endpoint("10.0.0.2")),
        ],
        ["10.0.0.2:8080"],
    ),
    ("unlabelled slice ignored", [endpoint_slice("web", None, endpoint("10.0.0.1"))], []),
    (
        "slice of the same name in another namespace ignored",
        [
            endpoint_slice("web-a", "web", endpoint("10.0.0.1"), namespace="other"),
            endpoint_slice("web-b", "web", endpoint("10.0.0.2")),
        ],
        ["10.0.0.2:8080"],
    ),
    (
        "IPv6 addresses, normalised",
        [endpoint_slice("web-a", "web", endpoint("2001:DB8:0::1", "fd00::2"), address_type="IPv6")],
        ["2001:db8::1:8080", "fd00::2:8080"],
    ),
    (
        "dual stack",
        [
            endpoint_slice("web-a", "web", endpoint("10.0.0.1")),
            endpoint_slice("web-b", "web", endpoint("fd00::1"), address_type="IPv6"),
        ],
        ["10.0.0.1:8080", "fd00::1:8080"],
    ),
    (
        "FQDN slices ignored",
        [
            endpoint_slice("web-a", "web", endpoint("db.example.com"), address_type="FQDN"),
            endpoint_slice("web-b", "web", endpoint("10.0.0.2")),
        ],
        ["10.0.0.2:8080"],
    ),
]


@pytest.mark.parametrize(
    ("slices", "expected"),
    [case[1:] for case in SLICE_CASES],
    ids=[case[0] for case in SLICE_CASES],
)
def test_slices_of_a_service(slices: list[Manifest], expected: list[str]) -> None:
    translation = _app(80, service("web"), *slices)
    assert servers(translation, "be_default_web_80") == expected


# --- Legacy Endpoints ---------------------------------------------------------------------

LEGACY_CASES: list[tuple[str, int | str, list[Manifest], list[str]]] = [
    (
        "used when there is no slice",
        80,
        [legacy_endpoints("web", ["10.0.1.1", "10.0.1.2"], not_ready=["10.0.1.3"])],
        ["10.0.1.1:8080", "10.0.1.2:8080"],
    ),
    (
        "port by name",
        "http",
        [legacy_endpoints("web", ["10.0.1.1"], ports=[("metrics", 9100), ("http", 8443)])],
        ["10.0.1.1:8443"],
    ),
    (
        "ignored once the Service has a slice, even an empty one",
        80,
        [legacy_endpoints("web", ["10.0.1.1"]), endpoint_slice("web-a", "web")],
        [],
    ),
    (
        "ignored once the Service has a slice",
        80,
        [
            legacy_endpoints("web", ["10.0.1.1"]),
            endpoint_slice("web-a", "web", endpoint("10.0.0.1")),
        ],
        ["10.0.0.1:8080"],
    ),
    (
        "a slice of another Service does not hide them",
        80,
        [
            legacy_endpoints("web", ["10.0.1.1"]),
            endpoint_slice("api-a", "api", endpoint("10.0.0.1")),
        ],
        ["10.0.1.1:8080"],
    ),
    (
        "another namespace's Endpoints ignored",
        80,
        [legacy_endpoints("web", ["10.0.1.1"], namespace="other")],
        [],
    ),
    ("only not-ready addresses", 80, [legacy_endpoints("web", [], not_ready=["10.0.1.3"])], []),
]


@pytest.mark.parametrize(
    ("port", "objects", "expected"),
    [case[1:] for case in LEGACY_CASES],
    ids=[case[0] for case in LEGACY_CASES],
)
def test_legacy_endpoints(port: int | str, objects: list[Manifest], expected: list[str]) -> None:
    web = service("web", service_port(80, "http", 8080), service_port(9100, "metrics"))
    translation = _app(port, web, *objects)
    assert translation.problems == ()
    assert servers(translation, f"be_default_web_{port}") == expected


# --- ExternalName ---------------------------------------------------------------------------


def _external_service(external_name: str, *ports: Manifest) -> Manifest:
    """An ExternalName Service; without ports, as the Kubernetes documentation shows it."""
    spec: Manifest = {"type": "ExternalName", "externalName": external_name}
    if ports:
        spec["ports"] = list(ports)
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "ext", "namespace": "default"},
        "spec": spec,
    }


EXTERNAL = "db.example.com"
RESOLVED = {EXTERNAL: ("192.0.2.10", "2001:db8::10")}
ALLOWED = Settings(allow_external_name=True)


def _external_app(port: int | str, svc: Manifest, settings: Settings = ALLOWED) -> Translation:
    route = ingress("app", rule("foo.com", path("/", "ext", port)))
    return run(route, svc, settings=settings, resolved=RESOLVED)


EXTERNAL_CASES: list[tuple[str, Manifest, int | str, list[str]]] = [
    (
        "DNS name and targetPort",
        service("ext", service_port(80, target=8080), external_name=EXTERNAL),
        80,
        ["192.0.2.10:8080", "2001:db8::10:8080"],
    ),
    (
        "no targetPort: the Service port",
        service("ext", service_port(443), external_name=EXTERNAL),
        443,
        ["192.0.2.10:443", "2001:db8::10:443"],
    ),
    (
        "by port name",
        service("ext", service_port(443, "https"), external_name=EXTERNAL),
        "https",
        ["192.0.2.10:443", "2001:db8::10:443"],
    ),
    (
        "name lowercased",
        service("ext", service_port(80), external_name="DB.Example.COM"),
        80,
        ["192.0.2.10:80", "2001:db8::10:80"],
    ),
    (
        "no ports declared: the Ingress's port number",
        _external_service(EXTERNAL),
        8443,
        ["192.0.2.10:8443", "2001:db8::10:8443"],
    ),
]


@pytest.mark.parametrize(
    ("svc", "port", "expected"),
    [case[1:] for case in EXTERNAL_CASES],
    ids=[case[0] for case in EXTERNAL_CASES],
)
def test_external_name(svc: Manifest, port: int | str, expected: list[str]) -> None:
    translation = _external_app(port, svc)
    assert translation.problems == ()
    backend = translation.routing.backend(f"be_default_ext_{port}")
    assert backend.resolve is True
    assert servers(translation, backend.name) == expected


NOT_SERVED = "ExternalName Services are not served (allow them with --allow-external-name"
OTHER = "is a Service of namespace other; reaching another namespace needs --allow-external-name"
ONLY_DEFAULT = Settings(allow_external_name_namespaces=("default",))


@pytest.mark.parametrize(
    ("external_name", "port", "settings", "reason"),
    [
        ("", 80, ALLOWED, "ExternalName of Service default/ext: '' is not a DNS name"),
        ("db example.com", 80, ALLOWED, "ExternalName of Service default/ext: 'db example.com'"),
        ("db.example.com\n", 80, ALLOWED, "ExternalName of Service default/ext: 'db.example.com\\n'"),
        ("10.0.0.1", 80, ALLOWED, "ExternalName of Service default/ext: '10.0.0.1' is an IP"),
        ("*.example.com", 80, ALLOWED, "ExternalName '*.example.com' is a wildcard"),
        ("localhost", 80, ALLOWED, "ExternalName of Service default/ext: 'localhost' resolves to"),
        ("LocalHost", 80, ALLOWED, "ExternalName of Service default/ext: 'localhost' resolves to"),
        ("unknown.example.com", 80, ALLOWED, "ExternalName of Service default/ext: 'unknown.example.com' is not resolved yet"),
        (EXTERNAL, 80, Settings(), f"ExternalName of Service default/ext: {NOT_SERVED}"),
        (EXTERNAL, 80, Settings(allow_external_name_namespaces=("team",)), NOT_SERVED[:20]),
        ("db.other.svc.cluster.local", 80, ONLY_DEFAULT, f"ExternalName of Service default/ext: 'db.other.svc.cluster.local' {OTHER}"),
        ("db.other.svc", 80, ONLY_DEFAULT, f"ExternalName of Service default/ext: 'db.other.svc' {OTHER}"),
        (EXTERNAL, "https", ALLOWED, "Service default/ext has no port 'https'"),
        (EXTERNAL, 8443, ALLOWED, "Service default/ext has no port 8443"),
    ],
)  # fmt: skip
def test_external_name_problems(
    external_name: str, port: int | str, settings: Settings, reason: str
) -> None:
    ports = [] if port == "https" else [service_port(80)]
    translation = run(
        ingress("app", rule("foo.com", path("/", "ext", port))),
        _external_service(external_name, *ports),
        settings=settings,
        resolved=RESOLVED | {"localhost": "resolves to 127.0.0.1, a loopback address; refused"},
    )
    [(field, found)] = _reasons(translation)
    assert field == BROKEN
    assert reason in found
    assert found.endswith("; requests answer 503")
    assert servers(translation, f"be_default_ext_{port}") == []


@pytest.mark.parametrize(
    ("external_name", "settings"),
    [
        (EXTERNAL, ONLY_DEFAULT),
        ("db.default.svc.cluster.local", ONLY_DEFAULT),
        ("db.other.svc.cluster.local", ALLOWED),
    ],
)
def test_external_names_allowed(external_name: str, settings: Settings) -> None:
    translation = run(
        ingress("app", rule("foo.com", path("/", "ext", 80))),
        _external_service(external_name, service_port(80)),
        settings=settings,
        resolved={external_name: ("192.0.2.10",)},
    )
    assert translation.problems == ()
    assert servers(translation, "be_default_ext_80") == ["192.0.2.10:80"]


# --- Sharing and the default backend flag -------------------------------------------------


def test_routes_to_one_service_port_share_one_backend() -> None:
    translation = run(
        ingress("a", rule("a.com", path("/", "web", 80), path("/x", "web", "http"))),
        ingress("b", rule("b.com", path("/", "web", 80)), namespace="team"),
        service("web", service_port(80, "http", 8080)),
        service("web", service_port(80, "http", 8080), namespace="team"),
        endpoint_slice("web-a", "web", endpoint("10.0.0.1"), ports=[("http", 8080)]),
        endpoint_slice(
            "web-a", "web", endpoint("10.0.9.1"), ports=[("http", 8080)], namespace="team"
        ),
    )
    assert [b.name for b in translation.routing.backends] == [
        "be_default_web_80",
        "be_default_web_http",
        "be_team_web_80",
        "builtin_404",
    ]
    assert servers(translation, "be_default_web_80") == ["10.0.0.1:8080"]
    assert servers(translation, "be_default_web_http") == ["10.0.0.1:8080"]
    assert servers(translation, "be_team_web_80") == ["10.0.9.1:8080"]
    assert translation.routing.backend("builtin_404").status == 404


def test_default_backend_service_flag() -> None:
    settings = Settings(
        default_backend_service=ServiceRef(namespace="infra", name="fallback", port=80)
    )
    translation = run(
        service("fallback", service_port(80, target=8080), namespace="infra"),
        endpoint_slice("fb", "fallback", endpoint("10.0.2.1"), namespace="infra"),
        settings=settings,
    )
    assert translation.problems == ()
    assert (translation.routing.default_backend, translation.routing.default_source) == (
        "be_infra_fallback_80",
        "--default-backend-service",
    )
    assert servers(translation, "be_infra_fallback_80") == ["10.0.2.1:8080"]
    assert where(translation, "any.host", "/x") == "be_infra_fallback_80"


def test_default_backend_service_flag_missing_service() -> None:
    settings = Settings(
        default_backend_service=ServiceRef(namespace="infra", name="gone", port="http")
    )
    translation = run(settings=settings)
    [problem] = translation.problems
    assert (problem.source.kind, problem.source.name, problem.field, problem.reason) == (
        "Flag",
        "--default-backend-service",
        "infra/gone:http",
        "Service infra/gone not found; unmatched requests answer 503",
    )
    assert translation.routing.default_backend == "be_infra_gone_http"
    assert servers(translation, "be_infra_gone_http") == []


@pytest.mark.parametrize("bad", ["not-an-ip", "10.0.0.1/32", "999.0.0.1", "", "::g"])
def test_an_invalid_endpoint_address_rejects_the_slice_naming_it(bad: str) -> None:
    raw = endpoint_slice("web-1", "web", endpoint("10.0.0.1"), endpoint("10.0.0.2", bad))
    with pytest.raises(ObjectError, match=r"endpoints\[1\]\.addresses\[1\]: .* is not an IP"):
        parse_object(raw)


def test_endpoint_addresses_are_made_canonical() -> None:
    raw = endpoint_slice("web-1", "web", endpoint("fd00:0::0:10"), address_type="IPv6")
    parsed = parse_object(raw)
    assert isinstance(parsed, EndpointSlice)
    assert parsed.ready == ("fd00::10",)
