"""Hostile tenants cannot inject configuration: properties of the whole pipeline.

Hypothesis writes Ingresses, Services, EndpointSlices, Endpoints and
IngressClasses as raw dicts (what YAML or the API server gives), with every
field drawn from valid values, random text, a list of nasty payloads, or any
other YAML value. Each batch goes through `parse_object` -> `Snapshot.of` ->
`translate` -> `render`, and:

(a) translation and rendering never raise;
(b) whatever is rejected comes with a field and a reason;
(c) every rendered line is one the template can print, with each printed
    value one config (or map) word; the allowed lines are built from the
    template files themselves;
(d) the real `haproxy -c` accepts the rendered files;
(e) the Python lookup only ever answers with a backend that is rendered.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingress_ctl.annotations import https, reading
from ingress_ctl.annotations.registry import Reader
from ingress_ctl.haproxy import naming
from ingress_ctl.haproxy.applying import write_files
from ingress_ctl.haproxy.rendering import TEMPLATES, render
from ingress_ctl.model import matching
from ingress_ctl.model.objects import Ingress, KubeObject, ObjectError, parse_object
from ingress_ctl.model.routing import ObjectRef
from ingress_ctl.model.settings import Settings
from ingress_ctl.model.snapshot import Snapshot
from ingress_ctl.model.views import canonical_ip
from ingress_ctl.resolving import external_names
from ingress_ctl.translation import Translation, translate
from ingress_ctl.translation.ownership import LEGACY_CLASS_ANNOTATION
from tests.manifests import (
    CONTROLLER,
    Manifest,
    endpoint,
    endpoint_slice,
    ingress,
    ingress_class,
    legacy_endpoints,
    path,
    rule,
    service,
    service_port,
)

SETTINGS = Settings(allow_external_name=True)
GOLDEN = Path(__file__).parent / "golden"
T = TypeVar("T")

NASTY = (
    "\n",
    "\r",
    "\x00",
    "'",
    '"',
    "\\",
    "#",
    "${HOME}",
    "%[src]",
    ";",
    " ",
    "\t",
    "\u212a",
    "\u212a.example.com",
    "\u2028",
    "a" * 300,
    "/" + "a" * 2100,
    "lua-load /tmp/x",
    "\n    http-request deny",
    "be_x_y_80 if TRUE",
    "*",
    "..",
    "//",
    "%2f",
    "/a/../b",
    "/a%2Fb",
    "a.example.com\r\nbackend evil",
    "web' if TRUE '",
    "web\n    http-request deny",
    "x #comment",
    "fe80::1%a b",
    "fe80::1%\n",
    "10.0.0.1\n    server evil 1.2.3.4:80",
    "1.2.3.4",
)
"""Payloads that end a directive, start one, comment, expand or escape; no host or path."""
SUSPICIOUS = ("fe80::1%lo", "0x7f000001", "localhost", "*.example.com", "/;", "/*.example.com")
"""Valid somewhere, dangerous elsewhere (an IPv6 scope, a hex IPv4 address, our own host)."""

NAMES = ("web", "api", "a-b", "x" * 63)
NAMESPACES = ("default", "team-a")
HOSTS = ("shop.example.com", "a.example.com", "*.example.com", "x.y", "Shop.Example.COM")
PATHS = ("/", "/api", "/api/", "/a;b", "/$x", "/*", "/%41", "/a:b@c=d", "/~u/(x)+,!", "/a.b")
PORT_NAMES = ("http", "web-1")
ADDRESSES = ("10.0.0.1", "10.0.0.2", "::1", "2001:db8::1", "::ffff:10.0.0.3", "fe80::1%lo")
EXTERNAL_NAMES = ("ext.example.com", "db.team-a.svc.cluster.local")

HOSTILE_TEXT: st.SearchStrategy[str] = st.one_of(
    st.sampled_from(NASTY + SUSPICIOUS),
    st.text(max_size=40),
    st.builds(
        lambda head, bad, tail: head + bad + tail,
        st.sampled_from(NAMES + HOSTS + PATHS),
        st.sampled_from(NASTY + SUSPICIOUS),
        st.sampled_from(("", *NAMES, *PATHS)),
    ),
)
YAML_VALUE: st.SearchStrategy[Any] = st.one_of(
    HOSTILE_TEXT,
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True),
    st.lists(HOSTILE_TEXT, max_size=2),
    st.dictionaries(HOSTILE_TEXT, HOSTILE_TEXT, max_size=2),
)
"""Anything a YAML document can hold where a tenant writes one value."""


def mostly(
    valid: st.SearchStrategy[T], hostile: st.SearchStrategy[T], *, one_in: int = 8
) -> st.SearchStrategy[T]:
    """`valid` (so objects refer to each other), except one draw in `one_in` from `hostile`."""
    return st.integers(1, one_in).flatmap(lambda i: hostile if i == one_in else valid)


def text_field(*valid: str, one_in: int = 4) -> st.SearchStrategy[str]:
    """A value reaching a sink (host, path, address): hostile one time in `one_in`."""
    return mostly(st.sampled_from(valid), HOSTILE_TEXT, one_in=one_in)


def checked_field(*valid: str) -> st.SearchStrategy[str]:
    """A value that parsing checks (names, pathType): hostile more rarely, or nothing parses."""
    return text_field(*valid, one_in=16)


RARELY = st.integers(1, 8).map(lambda i: i == 8)
HOSTILE_PORT = st.one_of(
    st.sampled_from((0, -1, 65536, 70000, 2**31, 2**64)),
    st.integers(max_value=0),
    st.integers(min_value=65536),
)
"""Port numbers that are no port."""
NAME = checked_field(*NAMES)
OPTIONAL_NAME = st.none() | NAME
NAMESPACE = checked_field(*NAMESPACES)
SERVICE_PORT = mostly(st.sampled_from((80, 8080)), HOSTILE_PORT, one_in=16)
ENDPOINT_PORT = mostly(st.sampled_from((8080, 80)), HOSTILE_PORT, one_in=16)
PORT_NAME = st.none() | checked_field(*PORT_NAMES)
BACKEND_PORT: st.SearchStrategy[int | str] = mostly(
    st.sampled_from((80, 8080, "http")), st.one_of(HOSTILE_PORT, HOSTILE_TEXT), one_in=16
)
TARGET_PORT: st.SearchStrategy[int | str | None] = mostly(
    st.sampled_from((None, 8080, "http")), st.one_of(HOSTILE_PORT, HOSTILE_TEXT), one_in=4
)
"""Reaches the server line of ExternalName Services."""
HOST = st.none() | text_field(*HOSTS)
PATH = st.none() | text_field(*PATHS)
PATH_TYPE = checked_field("Prefix", "Exact", "ImplementationSpecific")
CLASS_NAME = mostly(st.just("haproxy"), st.none() | HOSTILE_TEXT)
OUR_ANNOTATIONS = (
    LEGACY_CLASS_ANNOTATION,
    https.SSL_REDIRECT.key,
    https.SSL_PASSTHROUGH.key,
    https.HSTS.key,
    https.HSTS_MAX_AGE.key,
    https.HSTS_INCLUDE_SUBDOMAINS.key,
    https.HSTS_PRELOAD.key,
    https.SEND_PROXY_PROTOCOL.key,
)
ANNOTATIONS = st.dictionaries(
    mostly(st.sampled_from(OUR_ANNOTATIONS), HOSTILE_TEXT),
    text_field("haproxy", "true", "false", "v1", "v2", "31536000"),
    max_size=3,
)
"""Ours (with valid or hostile values) and any others."""
EXTERNAL_NAME = mostly(st.none(), text_field(*EXTERNAL_NAMES), one_in=4)
EXTRA_SERVICE_PORTS = st.lists(
    st.builds(service_port, SERVICE_PORT, PORT_NAME, TARGET_PORT), max_size=1
)
EXTRA_ENDPOINT_PORTS = st.lists(st.tuples(PORT_NAME, ENDPOINT_PORT), max_size=1)
ADDRESS = text_field(*ADDRESSES)
ENDPOINTS = st.lists(
    st.builds(
        endpoint,
        ADDRESS,
        ADDRESS,
        ready=st.none() | st.booleans(),
        serving=st.none() | st.booleans(),
        terminating=st.none() | st.booleans(),
    ),
    min_size=1,
    max_size=3,
)
CLASSES = st.builds(
    ingress_class, checked_field("haproxy", "other"), text_field(CONTROLLER), default=st.booleans()
)
COUNT = st.integers(1, 3)


def keep(draw: st.DrawFn, value: T, other: st.SearchStrategy[T]) -> T:
    """`value`, except one time in eight a draw from `other`."""
    return draw(other) if draw(RARELY) else value


@dataclass(frozen=True)
class App:
    """What an Ingress, its Service and its endpoints share, so that they refer to each other."""

    namespace: str
    service: str
    number: int
    port_name: str | None
    target: int | str | None
    endpoint_port: int
    reference: int | str
    """How the Ingress names the Service port."""


@st.composite
def apps(draw: st.DrawFn) -> App:
    number, port_name, target = draw(SERVICE_PORT), draw(PORT_NAME), draw(TARGET_PORT)
    return App(
        namespace=draw(NAMESPACE),
        service=draw(NAME),
        number=number,
        port_name=port_name,
        target=target,
        endpoint_port=keep(draw, target if isinstance(target, int) else 8080, HOSTILE_PORT),
        reference=keep(draw, port_name or number, BACKEND_PORT),
    )


def draw_path(draw: st.DrawFn, app: App) -> Manifest:
    return path(
        draw(PATH),
        keep(draw, app.service, NAME),
        keep(draw, app.reference, BACKEND_PORT),
        draw(PATH_TYPE),
    )


def draw_ingress(draw: st.DrawFn, app: App) -> Manifest:
    rules = [
        rule(draw(HOST), *(draw_path(draw, app) for _ in range(draw(COUNT))))
        for _ in range(draw(COUNT))
    ]
    return ingress(
        draw(NAME),
        *rules,
        namespace=keep(draw, app.namespace, NAMESPACE),
        class_name=draw(CLASS_NAME),
        default=draw_path(draw, app)["backend"] if draw(RARELY) else None,
        minute=draw(st.integers(0, 1000)),
        annotations=draw(ANNOTATIONS),
    )


def draw_service(draw: st.DrawFn, app: App) -> Manifest:
    found = service(
        app.service,
        service_port(app.number, app.port_name, app.target),
        *draw(EXTRA_SERVICE_PORTS),
        namespace=app.namespace,
        external_name=draw(EXTERNAL_NAME),
    )
    found["metadata"]["annotations"] = draw(ANNOTATIONS)
    return found


def draw_endpoint_ports(draw: st.DrawFn, app: App) -> list[tuple[str | None, int]]:
    return [(app.port_name, app.endpoint_port), *draw(EXTRA_ENDPOINT_PORTS)]


def draw_slice(draw: st.DrawFn, app: App) -> Manifest:
    return endpoint_slice(
        draw(NAME),
        keep(draw, app.service, OPTIONAL_NAME),
        *draw(ENDPOINTS),
        ports=draw_endpoint_ports(draw, app),
        namespace=app.namespace,
        address_type=draw(checked_field("IPv4", "IPv6", "FQDN")),
    )


def draw_legacy(draw: st.DrawFn, app: App) -> Manifest:
    return legacy_endpoints(
        app.service,
        [draw(ADDRESS) for _ in range(draw(COUNT))],
        ports=draw_endpoint_ports(draw, app),
        namespace=app.namespace,
    )


def draw_class(draw: st.DrawFn, app: App) -> Manifest:
    return draw(CLASSES)


def leaves(value: Any, at: tuple[Any, ...] = ()) -> Iterable[tuple[Any, ...]]:
    """The path of every value inside a manifest (dicts by key, lists by index)."""
    children = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in children:
        yield (*at, key)
        if isinstance(child, dict | list):
            yield from leaves(child, (*at, key))


def mutate(draw: st.DrawFn, manifest: Manifest) -> Manifest:
    """The manifest, with one value replaced by any YAML value (one time in eight)."""
    if draw(RARELY):
        *parents, last = draw(st.sampled_from(list(leaves(manifest))))
        holder: Any = manifest
        for key in parents:
            holder = holder[key]
        holder[last] = draw(YAML_VALUE)
    return manifest


ALONE = (draw_ingress, draw_service, draw_slice, draw_legacy, draw_class)


@st.composite
def objects_of_one_app(draw: st.DrawFn) -> list[Manifest]:
    """An Ingress, its Service and endpoints; or (one time in eight) one object alone."""
    app = draw(APPS)
    if draw(RARELY):
        found = [draw(st.sampled_from(ALONE))(draw, app)]
    else:
        endpoints = draw_legacy if draw(RARELY) else draw_slice
        found = [draw_ingress(draw, app), draw_service(draw, app), endpoints(draw, app)]
    return [mutate(draw, manifest) for manifest in found]


APPS = apps()
MANIFESTS = st.lists(objects_of_one_app(), min_size=1, max_size=4).map(
    lambda found: [ingress_class(), *(manifest for app in found for manifest in app)]
)
"""A batch of hostile objects, after one IngressClass of ours (which a later one may replace)."""


@dataclass(frozen=True)
class Outcome:
    rejected: tuple[ObjectError, ...]
    snapshot: Snapshot
    translation: Translation
    files: dict[str, str]


def pipeline(manifests: Iterable[Manifest]) -> Outcome:
    objects: list[KubeObject] = []
    rejected: list[ObjectError] = []
    for raw in manifests:
        try:
            obj = parse_object(raw)
        except ObjectError as error:
            rejected.append(error)
            continue
        if obj is not None:
            objects.append(obj)
    snapshot = Snapshot.of(objects)
    # every ExternalName resolves (as `resolving` checks them) to one documentation address
    resolved = dict.fromkeys(external_names(snapshot), ("192.0.2.1",))
    snapshot = replace(snapshot, resolved=resolved)
    translation = translate(snapshot, settings=SETTINGS)
    files = render(translation.routing, settings=SETTINGS)
    return Outcome(tuple(rejected), snapshot, translation, files)


# (c): the lines each template can print.

CONFIG_WORD = r"(?:[A-Za-z0-9_.:/@+\-\[\]]+|'(?:[\x20-\x26\x28-\x7e]|'\\'')*')"
"""A bare word, or a single-quoted printable one whose quotes are written `'\\''`."""
MAP_WORD = r"(?!#)[\x21-\x5b\x5d-\x7e]+"
"""Printable ASCII without whitespace or backslash, not starting a comment."""
_COMMENT = re.compile(r"\{#.*?#\}\n", re.DOTALL)
"""A comment and the newline after it (trim_blocks): it prints nothing."""
_STATEMENT_LINE = re.compile(r"\s*\{%[^%]*%\}\s*")
_TAG = re.compile(r"\{\{.*?\}\}|\{%[-+]?\s*(?P<statement>\w+)[^%]*?(?P<keep>\+?)%\}|\{#")


@dataclass
class _Branches:
    """An inline `{% if %}` being read: what came before it, and its branches so far."""

    before: list[str]
    branches: list[str]
    otherwise: bool = False


def template_lines(template: Path, word: str) -> list[re.Pattern[str]]:
    """A pattern per template line: its literal text, `word` wherever it prints a value, and a
    group of alternatives for each inline `{% if %}...{% elif %}...{% else %}...{% endif %}`.

    Lines that hold only a statement print nothing (`trim_blocks`, `lstrip_blocks`).
    """
    text = _COMMENT.sub("", template.read_text())
    return [
        line_pattern(line, word, where=f"{template.name}:{number}")
        for number, line in enumerate(text.splitlines(), start=1)
        if not _STATEMENT_LINE.fullmatch(line)
    ]


def line_pattern(line: str, word: str, *, where: str) -> re.Pattern[str]:
    parts: list[str] = []
    open_ifs: list[_Branches] = []
    end = 0
    trimmed = False
    for tag in _TAG.finditer(line):
        parts.append(re.escape(line[end : tag.start()]))
        end = tag.end()
        statement = tag["statement"]
        if tag[0].startswith("{{"):
            parts.append(word)
        elif statement == "if":
            open_ifs.append(_Branches(before=parts, branches=[]))
            parts = []
        elif statement in ("elif", "else") and open_ifs:
            open_ifs[-1].branches.append("".join(parts))
            open_ifs[-1].otherwise = statement == "else"
            parts = []
        elif statement == "endif" and open_ifs:
            done = open_ifs.pop()
            branches = [*done.branches, "".join(parts)] + ([] if done.otherwise else [""])
            parts = [*done.before, "(?:" + "|".join(branches) + ")"]
        else:
            raise AssertionError(f"{where}: cannot model {tag[0]!r} in {line!r}")
        # trim_blocks eats the newline after a statement ending a line, unless it says `+%}`.
        trimmed = end == len(line) and statement is not None and not tag["keep"]
    assert not open_ifs and not trimmed, f"{where}: cannot model {line!r}"
    return re.compile("".join([*parts, re.escape(line[end:])]))


CRT_LIST_WORDS = r"(?![#\[])[\x21-\x7e]+(?: (?![#\[])[\x21-\x7e]+)*"
"""Words that neither open `[ssl options]` nor a comment, one space apart."""
SERVER_LINE = re.compile(
    rf"    server s[1-9][0-9]* {CONFIG_WORD} (?:weight [0-9]+|disabled)(?: cookie {CONFIG_WORD})?"
)
"""A server slot's line: `rendering._server_lines` joins them (too many for a template's loop)."""
CONFIG_LINES = [
    *(
        line
        for template in sorted(TEMPLATES.glob("*.cfg.j2"))
        for line in template_lines(template, CONFIG_WORD)
    ),
    SERVER_LINE,
]
"""haproxy.cfg.j2, policy.cfg.j2 and the templates they include, and server lines."""
MAP_LINES = [re.compile(f"{MAP_WORD} {MAP_WORD}")]
"""A map entry's line: `escaping.map_lines` joins them (too many for a template's loop)."""
CRT_LIST_LINES = template_lines(TEMPLATES / "crt-list.j2", CRT_LIST_WORDS)
CERTIFICATE_FILE = re.compile(r"certs/[0-9a-f]{32}\.pem")
"""Certificate files are named by their content's hash, never by anything a tenant wrote."""


def lines_of(name: str) -> list[re.Pattern[str]] | None:
    """The lines the template of a rendered file can make (None for certificates)."""
    if name == naming.CONFIG_FILE:
        return CONFIG_LINES
    if name == naming.CRT_LIST:
        return CRT_LIST_LINES
    if name.startswith("maps/") and name.endswith(".map"):
        return MAP_LINES
    assert CERTIFICATE_FILE.fullmatch(name), f"{name!r}: no template is known to make it"
    return None


def foreign_lines(text: str, patterns: list[re.Pattern[str]]) -> list[str]:
    """Lines of a rendered file that no template line can print (only `\\n` ends a line)."""
    lines = text.removesuffix("\n").split("\n") if text else []
    return [line for line in lines if not any(pattern.fullmatch(line) for pattern in patterns)]


def test_template_line_patterns_refuse_injected_lines() -> None:
    backend = [line_pattern("backend {{ name }} from {{ mode }}", CONFIG_WORD, where="t")]
    assert foreign_lines("backend be_a_b_80 from http\n", backend) == []
    assert foreign_lines("backend 'be_x_y_80 if TRUE' from http\n", backend) == []
    assert foreign_lines("backend 'it'\\''s' from http\n", backend) == []
    injected = [
        "backend be_x_y_80 if TRUE from http",
        "backend 'a'b' from http",
        "backend a from http # x",
        "backend a from http\r",
        "backend a from\thttp",
        "    http-request deny",
    ]
    assert foreign_lines("\n".join(injected), backend) == injected
    optional = [line_pattern("bind {{ a }}{% if p %} accept-proxy{% endif +%}", "x", where="t")]
    assert foreign_lines("bind x\nbind x accept-proxy\n", optional) == []
    assert foreign_lines("bind x accept-proxy accept-proxy\n", optional) != []
    assert (
        foreign_lines("certs/a.pem !*\ncerts/b.pem a.example.com *.b.example.com\n", CRT_LIST_LINES)
        == []
    )
    assert foreign_lines("certs/a.pem [alpn h2]\n#x\na  b\n", CRT_LIST_LINES) == [
        "certs/a.pem [alpn h2]",
        "#x",
        "a  b",
    ]
    servers = "    server s1 10.0.0.1:80 weight 1\n    server s2 127.0.0.1:1 disabled cookie x_s2\n"
    assert foreign_lines(servers, CONFIG_LINES) == []
    assert foreign_lines("    server s1 10.0.0.1:80 weight 1 check\n", CONFIG_LINES) != []
    assert foreign_lines("    server s1 a b weight 1\n", CONFIG_LINES) != []
    assert foreign_lines("a.example.com/x be_a_b_80\n", MAP_LINES) == []
    assert foreign_lines("a b c\n#a b\na\\ b\na\tb", MAP_LINES) == [
        "a b c",
        "#a b",
        "a\\ b",
        "a\tb",
    ]


@pytest.mark.parametrize(
    "template", ["{% if a %}", "x {% if a %}y{% endif %}", "x {% for a in b %}", "{# c #} x"]
)
def test_template_lines_that_cannot_be_modelled_are_refused(template: str) -> None:
    with pytest.raises(AssertionError, match="cannot model"):
        line_pattern(template, "x", where="t")


@pytest.mark.parametrize("name", ["haproxy.cfg", "maps/routes.map", "maps/hosts.map"])
def test_golden_files_hold_only_template_lines(name: str) -> None:
    """The patterns accept everything the templates really make."""
    patterns = lines_of(name)
    assert patterns is not None
    for golden in sorted(GOLDEN.glob(f"*/expected/{name}")):
        assert foreign_lines(golden.read_text(), patterns) == [], golden


# (b): every rejection says where and why.


def reference(obj: Ingress) -> ObjectRef:
    return ObjectRef(kind="Ingress", namespace=obj.metadata.namespace, name=obj.metadata.name)


def unexplained_paths(outcome: Outcome) -> list[str]:
    """Rules and paths of served Ingresses that neither route nor have a problem about them.

    A problem explains a place when one of their fields holds the other (`spec.rules[0]`
    explains `spec.rules[0].http.paths[1]`, so does `spec.rules[0].http.paths[1].backend`).
    Paths of HTTP Ingresses route one by one; a passthrough Ingress routes a rule's host.
    """
    routing = outcome.translation.routing
    routed = {(route.source, route.rule) for vhost in routing.hosts for route in vhost.routes}
    passed = {(route.source, route.name) for route in routing.passthrough}
    problems = [(p.source, p.field) for p in outcome.translation.problems]
    serving = {r.source for r in outcome.translation.ingresses if r.state == "serving"}
    missing = []
    for obj in outcome.snapshot.objects(Ingress).values():
        source = reference(obj)
        if source not in serving:
            continue

        def explained(*places: str, source: ObjectRef = source) -> bool:
            return any(
                at == source and (field.startswith(place) or place.startswith(field))
                for at, field in problems
                for place in places
            )

        found, _ = reading.gather(obj.metadata.annotations, "Ingress")
        passthrough = https.https_request(Reader(found))
        for i, ingress_rule in enumerate(obj.spec.rules):
            where = f"spec.rules[{i}]"
            if passthrough.ssl_passthrough:
                host = matching.ascii_lower(ingress_rule.host or "")
                if (source, host) not in passed and not explained(where, "metadata.annotations"):
                    missing.append(f"{source} {where}")
                continue
            for j, _ in enumerate(ingress_rule.http.paths if ingress_rule.http else ()):
                at = f"{where}.http.paths[{j}]"
                if (source, at) not in routed and not explained(at, f"{where}.host"):
                    missing.append(f"{source} {at}")
    return missing


def check_reasons(outcome: Outcome) -> None:
    for error in outcome.rejected:
        assert error.fields
        for where, why in error.fields:
            assert where.strip() and why.strip(), error
    for problem in outcome.translation.problems:
        assert problem.field.strip() and problem.reason.strip(), problem
    for report in outcome.translation.ingresses:
        assert report.state == "serving" or report.reason.strip(), report
    assert unexplained_paths(outcome) == []


# (c) and (e).


def check_lines(outcome: Outcome) -> None:
    for name, text in outcome.files.items():
        patterns = lines_of(name)
        if patterns is not None:
            assert text == "" or text.endswith("\n"), name
            assert foreign_lines(text, patterns) == [], name


def check_lookups(outcome: Outcome, requests: list[tuple[str, str]]) -> None:
    routing = outcome.translation.routing
    rendered = {backend.name for backend in routing.backends}
    table = matching.build_table(routing)
    routed = [(vhost.host, route.path) for vhost in routing.hosts for route in vhost.routes]
    for host, request_path in [*routed, *requests]:
        for suffix in ("", "/x", "?q"):
            asked = host.replace("*", "a") or "unknown.example"
            found = matching.lookup(table, routing=routing, host=asked, path=request_path + suffix)
            assert found.backend in rendered, (host, request_path, found)
    assert routing.default_backend in rendered


def check_servers(outcome: Outcome) -> None:
    """Every server is a real port on an IP address: HAProxy resolves no name (ExternalNames
    are resolved and checked by the controller)."""
    for backend in outcome.translation.routing.backends:
        for server in backend.servers:
            assert 1 <= server.port <= 65535, (backend.name, server)
            assert canonical_ip(server.address) == server.address, (backend.name, server)
    assert " resolvers " not in outcome.files[naming.CONFIG_FILE]


def check_all(outcome: Outcome, requests: list[tuple[str, str]]) -> None:
    check_reasons(outcome)
    check_lines(outcome)
    check_lookups(outcome, requests)
    check_servers(outcome)


REQUESTS = st.lists(st.tuples(text_field(*HOSTS), text_field(*PATHS)), max_size=4)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MANIFESTS, REQUESTS)
def test_hostile_objects_render_only_template_lines(
    manifests: list[Manifest], requests: list[tuple[str, str]]
) -> None:
    check_all(pipeline(manifests), requests)  # (a): the pipeline raises nothing


# (d): the real HAProxy accepts what was rendered.


def haproxy_check(haproxy_bin: str, directory: Path, files: dict[str, str]) -> None:
    write_files(directory, files)
    result = subprocess.run(
        [haproxy_bin, "-c", "-C", str(directory), "-f", naming.CONFIG_FILE],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr + files[naming.CONFIG_FILE]


@pytest.mark.haproxy
@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(MANIFESTS, min_size=1, max_size=3))
def test_haproxy_accepts_whatever_hostile_objects_render(
    haproxy_bin: str, tmp_path_factory: pytest.TempPathFactory, batches: list[list[Manifest]]
) -> None:
    manifests = [manifest for batch in batches for manifest in batch]
    haproxy_check(haproxy_bin, tmp_path_factory.mktemp("check"), pipeline(manifests).files)


def external(name: str, target: int | None = None) -> list[Manifest]:
    return [
        ingress_class(),
        ingress("ext", rule("a.example.com", path("/", "web", 80))),
        service("web", service_port(80, target=target), external_name=name),
    ]


def endpoints_at(*addresses: str) -> list[Manifest]:
    return [
        ingress_class(),
        ingress("app", rule("a.example.com", path("/", "web", 80))),
        service("web"),
        endpoint_slice("web-1", "web", endpoint(*addresses)),
        legacy_endpoints("web", addresses),
    ]


FOUND = {
    "scoped IPv6 endpoint": endpoints_at("10.0.0.1", "fe80::1%lo"),
    "endpoint with a newline": endpoints_at("fe80::1%\n"),
    "ExternalName targetPort 0": external("ext.example.com", 0),
    "ExternalName targetPort -1": external("ext.example.com", -1),
    "ExternalName targetPort 70000": external("ext.example.com", 70000),
    "ExternalName in hex": external("0x7f000001"),
    "ExternalName in dotted hex": external("0x7f.1"),
}
"""Batches that broke a property once (a render that raised, a config `haproxy -c` refused, a
server on a port that is none or on 127.0.0.1 spelled in hex): checked on every run."""


@pytest.mark.haproxy
@pytest.mark.parametrize("case", sorted(FOUND))
def test_batches_that_broke_a_property(case: str, haproxy_bin: str, tmp_path: Path) -> None:
    outcome = pipeline(FOUND[case])
    check_all(outcome, [("a.example.com", "/")])
    haproxy_check(haproxy_bin, tmp_path, outcome.files)


# Each payload, alone: rejected where it stands, and the rest of the Ingress still served.

SIBLING = rule("ok.example.com", path("/ok", "web", 80))
CONTEXT = (ingress_class(), service("web"), endpoint_slice("web-1", "web", endpoint("10.0.0.1")))


def served_alongside(bad_rule: Manifest) -> Outcome:
    outcome = pipeline([*CONTEXT, ingress("mixed", bad_rule, SIBLING)])
    assert outcome.rejected == ()
    assert "ok.example.com/ok? be_default_web_80" in outcome.files[naming.ROUTES_MAP].splitlines()
    config = outcome.files[naming.CONFIG_FILE].splitlines()
    assert any(line.split()[:2] == ["backend", "be_default_web_80"] for line in config)
    check_lines(outcome)
    return outcome


def fields_of(outcome: Outcome) -> list[str]:
    return [problem.field for problem in outcome.translation.problems]


@pytest.mark.parametrize("payload", NASTY)
def test_nasty_path_is_rejected_and_siblings_served(payload: str) -> None:
    outcome = served_alongside(rule("ok.example.com", path(payload, "web", 80)))
    assert fields_of(outcome) == ["spec.rules[0].http.paths[0].path"]
    assert all(problem.reason.strip() for problem in outcome.translation.problems)


@pytest.mark.parametrize("payload", NASTY)
def test_nasty_host_is_rejected_and_siblings_served(payload: str) -> None:
    outcome = served_alongside(rule(payload, path("/", "web", 80)))
    assert fields_of(outcome) == ["spec.rules[0].host"]
    assert all(problem.reason.strip() for problem in outcome.translation.problems)
