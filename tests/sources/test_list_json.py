"""JSON Lists: the items read by `parse_list_json` load exactly as the Python tree of the same
bytes, each item read by `parse_object`, loads them: the same objects (values and types), the
same problems in the same words, in the same order, on hostile values and duplicate keys."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingress_ctl.model.objects import Unread, parse_list_json
from ingress_ctl.model.problems import Problem
from ingress_ctl.sources import files
from ingress_ctl.sources.files import Loaded, parse_manifest
from tests.manifests import (
    configmap,
    endpoint,
    endpoint_slice,
    ingress,
    ingress_class,
    legacy_endpoints,
    meta,
    path,
    rule,
    service,
    service_port,
    tls,
)

FILE = Path("list.json")

TEMPLATES: list[Any] = [
    ingress("web", rule("a.example.com", path("/", "web", 80)), minute=3),
    ingress("tls", rule(None, path("/x", "web", "http", kind="Exact")), tls=[tls("s", "a.b")]),
    ingress_class("haproxy"),
    service("web", service_port(80, "http", 8080)),
    endpoint_slice(
        "web-1",
        "web",
        endpoint("10.0.0.1"),
        endpoint("10.0.0.2", ready=False, serving=True, terminating=True),
        endpoint("10.0.0.3", ready=False),
    ),
    legacy_endpoints("web", ["10.0.0.1"], not_ready=["10.0.0.2"]),
    configmap("cfg", {"a": "b"}),
    {"apiVersion": "v1", "kind": "Secret", "metadata": meta("s"), "data": {"k": "dg=="}},
    {"apiVersion": "v1", "kind": "Namespace", "metadata": meta("ns", None, labels={"a": "b"})},
    {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": meta("g")},
    {"apiVersion": "v1", "kind": "Pod", "metadata": meta("p")},
]
KEYS = st.sampled_from(
    [
        *("kind", "apiVersion", "metadata", "name", "namespace", "labels", "annotations"),
        *("creationTimestamp", "generation", "uid", "spec", "rules", "host", "http", "paths"),
        *("path", "pathType", "backend", "service", "port", "number", "ingressClassName"),
        *("defaultBackend", "tls", "hosts", "secretName", "status", "ports", "targetPort"),
        *("type", "addressType", "endpoints", "addresses", "conditions", "ready", "serving"),
        *("terminating", "data", "subsets", "ip", "items", "controller", "externalName"),
    ]
)
SCALARS = st.sampled_from(
    [
        *(None, True, False, 0, 1, 80, 65536, -1, 80.0, 80.5, 10**30, float("inf"), "80"),
        *("true", "no", "", "a", "web", "Prefix", "Exact", "10.0.0.1", "::1", "010.0.0.1"),
        *("2024-01-01T00:00:00Z", "2024-01-01", "1700000000", 1700000000, "A-b", "a" * 70),
        *("Ingress", "Service", "EndpointSlice", "Secret", "Gateway", "List", "é\u2028"),
    ]
)


class Pairs(list[tuple[str, Any]]):
    """A JSON object as its written pairs: a key may repeat (the last one counts)."""


def as_pairs(value: Any) -> Any:
    if isinstance(value, dict):
        return Pairs((key, as_pairs(item)) for key, item in value.items())
    if isinstance(value, list):
        return [as_pairs(item) for item in value]
    return value


def dump(value: Any) -> str:
    if isinstance(value, Pairs):
        return "{" + ",".join(f"{json.dumps(key)}:{dump(item)}" for key, item in value) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dump(item) for item in value) + "]"
    return json.dumps(value)


VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.lists(st.tuples(KEYS, children), max_size=3).map(Pairs),
    ),
    max_leaves=6,
)


@st.composite
def mutated(draw: st.DrawFn, value: Any, depth: int = 0) -> Any:
    """The value with one of its parts (maybe itself) replaced, dropped, or given a key again."""
    children = list(range(len(value))) if isinstance(value, list) else []
    if not children or depth > 8 or draw(st.integers(0, 5)) == 0:
        return draw(VALUES)
    index = draw(st.sampled_from(children))
    copy: list[Any] = Pairs(value) if isinstance(value, Pairs) else list(value)
    action = draw(st.sampled_from(["into", "into", "into", "drop", "again"]))
    if action == "drop":
        del copy[index]
    elif isinstance(copy, Pairs):
        key, item = copy[index]
        if action == "again":
            copy.append((key, draw(VALUES)))
        else:
            copy[index] = (key, draw(mutated(item, depth + 1)))
    else:
        copy[index] = draw(mutated(copy[index], depth + 1))
    return copy


@st.composite
def items(draw: st.DrawFn) -> Any:
    item = as_pairs(draw(st.sampled_from(TEMPLATES)))
    for _ in range(draw(st.integers(0, 3))):
        item = draw(mutated(item))
    return item


LISTS = st.builds(
    lambda kind, found, extra: Pairs([("kind", kind), ("items", found), *extra]),
    st.sampled_from(["List", "ServiceList", "list", "List\n", "Lists"]),
    st.lists(items(), max_size=4),
    st.lists(st.tuples(st.sampled_from(["kind", "items", "apiVersion"]), VALUES), max_size=1),
)


def by_python_tree(data: bytes) -> Loaded:
    """The reference: the JSON's Python tree, each item read by `parse_object`."""
    objects: list[Any] = []
    problems: list[Problem] = []
    for raw in files._items(files._documents(FILE, data)):
        files._load_one(FILE, raw, objects, problems)
    return Loaded(objects=tuple(objects), problems=tuple(problems))


def outcome(read: Any, data: bytes) -> object:
    try:
        return repr(read(FILE, data) if read is parse_manifest else read(data))  # 1 != True
    except ValueError as error:
        return (type(error).__name__, str(error))


@settings(max_examples=400)
@given(LISTS)
def test_a_json_list_loads_as_its_python_tree_does(document: Any) -> None:
    data = dump(document).encode("utf-8", "surrogatepass")
    assert outcome(parse_manifest, data) == outcome(by_python_tree, data)


@given(VALUES)
def test_any_json_loads_as_its_python_tree_does(document: Any) -> None:
    data = dump(document).encode()
    assert outcome(parse_manifest, data) == outcome(by_python_tree, data)


def test_the_core_kinds_are_read_from_the_json_and_others_left_unread() -> None:
    data = json.dumps({"kind": "List", "items": TEMPLATES}).encode()
    found = parse_list_json(data)
    assert found is not None
    assert [type(item).__name__ for item in found] == [
        *("Ingress", "Ingress", "IngressClass", "Service", "EndpointSlice", "Endpoints"),
        *("ConfigMap", "Secret", "Namespace", "Unread", "Unread"),
    ]
    assert repr(parse_manifest(FILE, data)) == repr(by_python_tree(data))


@pytest.mark.parametrize(
    "data",
    [
        b'{"kind": "List", "items": [{"kind": "Service", "metadata": {"name": "A"}}]}',
        b'{"kind": "List", "items": [{"kind": "Service", "metadata": {"name": "web"}}, 7]}',
        b'{"kind": "List", "items": [], "kind": "Service", "metadata": {"name": "web"}}',
        b'{"kind": "List", "items": [{"kind": "Service", "kind": 5}]}',
    ],
)
def test_what_a_view_refuses_is_left_unread(data: bytes) -> None:
    found = parse_list_json(data)
    assert found is None or any(type(item) is Unread for item in found)
    assert repr(parse_manifest(FILE, data)) == repr(by_python_tree(data))


@pytest.mark.parametrize("data", [b'{"kind": "List", "items": {}}', b'{"kind": 1}', b"[", b"{}"])
def test_other_json_is_not_a_list(data: bytes) -> None:
    assert parse_list_json(data) is None


@pytest.mark.parametrize(
    "data",
    [
        b'{"kind": "List", "items": [' + b"[" * 300 + b"]" * 300 + b"]}",  # too deep for it
        b'{"kind": "List", "items": [{"kind": "Service", "metadata": {"name": "\\ud800"}}]}',
        b'{"kind": "List", "items": [{"kind": "Service", "metadata": {"name": "a",'
        b' "labels": {"\\udc00": "x"}}}]}',
        b'\xef\xbb\xbf{"kind": "List", "items": []}',
        b'{"kind": "List", "items": ["\xff"]}',
        b'{"kind": "List", "items": []} x',
        b'{"kind": "List", "items": [1e400, -0.0, NaN]}',
    ],
)
def test_what_pydantic_core_refuses_loads_as_ever(data: bytes) -> None:
    assert outcome(parse_manifest, data) == outcome(by_python_tree, data)


def test_a_json_list_is_read_without_the_python_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(text: str) -> object:
        raise AssertionError("json.loads was called")

    monkeypatch.setattr(json, "loads", refused)
    data = json.dumps({"kind": "List", "items": [ingress("web")]}).encode()
    loaded = parse_manifest(Path("list.json"), data)
    assert [obj.metadata.name for obj in loaded.objects] == ["web"]
    with pytest.raises(AssertionError, match=r"json\.loads was called"):
        parse_manifest(Path("bad.json"), b"{")
