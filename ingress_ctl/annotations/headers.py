"""Header annotations: headers set, added or deleted on requests and on responses.

`*-set-header` and `*-add-header` hold one `Name value` per line; `*-del-header`
holds names, comma- or line-separated; `custom-headers` names a ConfigMap of
the Ingress's namespace whose keys and values are response headers set
(checked like `response-set-header`; while it is missing, requests answer 503). Names are RFC 7230 tokens; values are
printable ASCII without quotes, backslash or `%`. Headers that frame the
message or the connection (Content-Length, Transfer-Encoding, Connection,
...) and Host (see `upstream-vhost`) cannot be touched.
"""

from __future__ import annotations

from ingress_ctl.annotations.registry import Reader, Scope, register
from ingress_ctl.annotations.values import header_name, host_and_port, listing, reference, text
from ingress_ctl.model.policies import Header, HeaderEdits, Part

PROTECTED = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "upgrade",
    }
)
"""Headers that decide how a message is framed or routed: never edited."""


def editable(text_name: str) -> str:
    """A header name that annotations may edit."""
    name = header_name(text_name)
    if name in PROTECTED:
        raise ValueError(f"{name} frames the message or names the host; it cannot be edited")
    return name


def _header(line: str) -> Header:
    name, _, value = line.partition(" ")
    if not value.strip():
        raise ValueError(f"{line[:80]!r} is not `Name value`")
    return header(name.removesuffix(":"), value)


headers = listing(_header, separator="\n")
"""One `Name value` per line (blank lines skipped)."""


def names(value: str) -> tuple[str, ...]:
    """Header names, separated by commas or newlines."""
    return listing(editable)(value.replace("\n", ","))


REQUEST_SET = register("request-set-header", headers, Scope.ROUTE, default="none", multiline=True)
REQUEST_ADD = register("request-add-header", headers, Scope.ROUTE, default="none", multiline=True)
REQUEST_DEL = register("request-del-header", names, Scope.ROUTE, default="none", multiline=True)
RESPONSE_SET = register("response-set-header", headers, Scope.ROUTE, default="none", multiline=True)
RESPONSE_ADD = register("response-add-header", headers, Scope.ROUTE, default="none", multiline=True)
RESPONSE_DEL = register("response-del-header", names, Scope.ROUTE, default="none", multiline=True)
CUSTOM_HEADERS = register(
    "custom-headers",
    reference("ConfigMap"),
    Scope.ROUTE,
    default="none",
    invalid="requests answer 503 until it is fixed",
)
UPSTREAM_VHOST = register(
    "upstream-vhost",
    host_and_port,
    Scope.ROUTE,
    default="the request's Host",
)


def request_headers(reader: Reader) -> HeaderEdits:
    return HeaderEdits(
        set=reader.value(REQUEST_SET, ()),
        add=reader.value(REQUEST_ADD, ()),
        delete=reader.value(REQUEST_DEL, ()),
    )


def response_headers(reader: Reader) -> HeaderEdits:
    return HeaderEdits(
        set=reader.value(RESPONSE_SET, ()),
        add=reader.value(RESPONSE_ADD, ()),
        delete=reader.value(RESPONSE_DEL, ()),
    )


def upstream_vhost(reader: Reader) -> str | None:
    return reader.get(UPSTREAM_VHOST)


def header(name: str, value: str) -> Header:
    """A header to set from a name and a value (a custom-headers ConfigMap's entry)."""
    return Header(name=editable(name), value=text(value))


class CustomHeaders(Part):
    """Response headers from a ConfigMap, not yet read."""

    config_map: tuple[str | None, str] | None
    """None: the name is invalid, and requests answer 503."""


def custom_headers(reader: Reader) -> CustomHeaders | None:
    """The ConfigMap of response headers asked for; None without custom-headers."""
    if not reader.given(CUSTOM_HEADERS):
        return None
    return CustomHeaders(config_map=reader.get(CUSTOM_HEADERS))
