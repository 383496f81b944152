"""File mode: manifests from files and folders, problems naming file, object and field."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
import yaml

from ingress_ctl.model.gateway_api import API_RESOURCES
from ingress_ctl.model.gateway_objects import Gateway, HTTPRoute, PathMatch
from ingress_ctl.model.objects import object_key
from ingress_ctl.model.problems import Problem
from ingress_ctl.model.routing import ObjectRef
from ingress_ctl.sources import files
from ingress_ctl.sources.files import Loaded, ManifestWatch, load_manifests, watch_manifests
from tests.gateway_examples import KINDS, gateway_api_objects
from tests.manifests import Manifest, ingress, ingress_class, path, rule, service, service_port

WEB = service("web")
API = service("api", namespace="team-a")
SHOP = ingress("shop", rule("shop.example.com", path("/")))
CLASS = ingress_class()


def write(file: Path, *documents: object) -> Path:
    """A multi-document YAML file (or one JSON document for `.json`)."""
    file.parent.mkdir(parents=True, exist_ok=True)
    if file.suffix == ".json":
        (document,) = documents
        file.write_text(json.dumps(document, indent="\t"))
    else:
        file.write_text(yaml.safe_dump_all(documents))
    return file


def keys(loaded: Loaded) -> list[tuple[str, str, str]]:
    return [object_key(obj) for obj in loaded.objects]


def key(manifest: Manifest) -> tuple[str, str, str]:
    meta = manifest["metadata"]
    namespace = "" if manifest["kind"] == "IngressClass" else meta.get("namespace", "default")
    return (manifest["kind"], namespace, meta["name"])


def file_problems(loaded: Loaded) -> list[tuple[str, str]]:
    """(file, reason) of each problem about a whole file."""
    return [
        (p.source.name, p.reason)
        for p in loaded.problems
        if p.source.kind == "File" and p.field == "(file)"
    ]


def test_multi_document_yaml_loads_every_object(tmp_path: Path) -> None:
    file = tmp_path / "all.yaml"
    file.write_text(
        "# comment only\n---\n"
        + yaml.safe_dump(WEB)
        + "---\n---\n"
        + yaml.safe_dump(SHOP)
        + "...\n---\n"
        + yaml.safe_dump(CLASS)
    )
    loaded = load_manifests([file])
    assert keys(loaded) == [key(WEB), key(SHOP), key(CLASS)]
    assert loaded.problems == ()


def test_json_file_loads_even_when_indented_with_tabs(tmp_path: Path) -> None:
    loaded = load_manifests([write(tmp_path / "web.json", WEB)])
    assert keys(loaded) == [key(WEB)]
    assert loaded.problems == ()


@pytest.mark.parametrize("kind", ["List", "IngressList"])
@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_list_kinds_load_their_items(tmp_path: Path, kind: str, suffix: str) -> None:
    listing = {"apiVersion": "v1", "kind": kind, "items": [WEB, SHOP, {"kind": "Pod"}]}
    loaded = load_manifests([write(tmp_path / f"list{suffix}", listing)])
    assert keys(loaded) == [key(WEB), key(SHOP)]
    assert loaded.problems == ()


def test_a_list_item_that_is_not_an_object_is_a_problem(tmp_path: Path) -> None:
    file = write(tmp_path / "list.yaml", {"kind": "List", "items": [WEB, "oops"]})
    loaded = load_manifests([file])
    assert keys(loaded) == [key(WEB)]
    assert file_problems(loaded) == [(str(file), "holds a str, not an object")]


def test_folders_are_read_recursively_and_only_manifests(tmp_path: Path) -> None:
    write(tmp_path / "b" / "deep" / "er" / "web.yml", WEB)
    write(tmp_path / "a" / "api.json", API)
    write(tmp_path / "shop.yaml", SHOP)
    for ignored in ("notes.txt", "shop.yaml.bak", "README.md", "b/class.YAML.orig"):
        write(tmp_path / ignored, CLASS)
    loaded = load_manifests([tmp_path])
    assert sorted(keys(loaded)) == sorted([key(WEB), key(API), key(SHOP)])
    assert loaded.problems == ()


def test_hidden_entries_of_a_mounted_config_map_are_read_once(tmp_path: Path) -> None:
    """A ConfigMap volume: `x.yaml -> ..data/x.yaml`, `..data -> ..<timestamp>/`."""
    write(tmp_path / "..2024_01_01_00_00_00.1" / "x.yaml", WEB, {"kind": "Service"})
    (tmp_path / "..data").symlink_to("..2024_01_01_00_00_00.1")
    (tmp_path / "x.yaml").symlink_to(Path("..data") / "x.yaml")
    write(tmp_path / ".hidden" / "y.yaml", SHOP)
    loaded = load_manifests([tmp_path])
    assert keys(loaded) == [key(WEB)]
    assert len(loaded.problems) == 1


def test_files_named_explicitly_are_read_whatever_their_suffix(tmp_path: Path) -> None:
    file = write(tmp_path / "manifests.txt", WEB)
    assert keys(load_manifests([file, write(tmp_path / "shop.yaml", SHOP)])) == [
        key(WEB),
        key(SHOP),
    ]


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("broken.yaml", b"kind: Service\nmetadata: {name: [unclosed\n", "cannot be read: while"),
        ("broken.json", b'{"kind": "Service",', "cannot be read: Expecting"),
        ("latin1.yaml", b"kind: Service\nmetadata: {name: caf\xe9}\n", "cannot be read: 'utf-8'"),
    ],
)
def test_a_file_that_does_not_parse_is_a_problem_naming_it(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    bad = tmp_path / name
    bad.write_bytes(content)
    write(tmp_path / "ok.yaml", WEB)
    loaded = load_manifests([tmp_path])
    assert keys(loaded) == [key(WEB)]
    ((file, why),) = file_problems(loaded)
    assert (file, why[: len(reason)]) == (str(bad), reason)


def test_a_missing_file_is_a_problem_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    loaded = load_manifests([missing])
    assert loaded.objects == ()
    ((file, why),) = file_problems(loaded)
    assert file == str(missing)
    assert why.startswith("cannot be read:")


def test_a_bad_field_names_file_object_and_field_while_the_rest_loads(tmp_path: Path) -> None:
    bad = ingress("bad", rule("a.example.com", path("/")), namespace="team-a")
    bad["spec"]["ingressClassName"] = "Not A Name"
    bad["spec"]["rules"][0]["http"]["paths"][0]["pathType"] = "Regex"
    file = write(tmp_path / "mixed.yaml", WEB, bad, SHOP)
    loaded = load_manifests([file])
    assert keys(loaded) == [key(WEB), key(SHOP)]
    source = ObjectRef(kind="Ingress", namespace="team-a", name="bad")
    assert [(p.source, p.field) for p in loaded.problems] == [
        (source, "spec.ingressClassName"),
        (source, "spec.rules.0.http.paths.0.pathType"),
    ]
    for found in loaded.problems:
        assert str(file) in found.reason
        assert found.reason.split(f" (in {file})")[0].strip()
        assert found.severity == "error"


def test_an_object_without_a_name_is_still_named_as_far_as_possible(tmp_path: Path) -> None:
    file = write(tmp_path / "x.yaml", {"kind": "Service", "metadata": {"namespace": "a"}})
    (found,) = load_manifests([file]).problems
    assert found == Problem(
        source=ObjectRef(kind="Service", namespace="a", name="?"),
        field="metadata.name",
        reason=f"Field required (in {file})",
    )


@pytest.mark.parametrize(
    ("document", "what"),
    [("just text", "str"), ([WEB], "list"), (42, "int"), (True, "bool")],
)
def test_a_document_that_is_not_an_object_is_a_problem(
    tmp_path: Path, document: object, what: str
) -> None:
    file = write(tmp_path / "odd.yaml", WEB, document, SHOP)
    loaded = load_manifests([file])
    assert keys(loaded) == [key(WEB), key(SHOP)]
    assert file_problems(loaded) == [(str(file), f"holds a {what}, not an object")]


def test_unknown_kinds_are_ignored(tmp_path: Path) -> None:
    others = [
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "Not Valid!"}},
        {"kind": "CustomThing", "spec": "anything"},
        {"kind": ["not", "a", "string"]},
        {"metadata": {"name": "no-kind"}},
    ]
    loaded = load_manifests([write(tmp_path / "others.yaml", *others, WEB)])
    assert keys(loaded) == [key(WEB)]
    assert loaded.problems == ()


def test_gateway_api_manifests_load_as_their_views(tmp_path: Path) -> None:
    examples = gateway_api_objects("team-a")
    foreign = {  # same kind name, another group: not ours to read
        "apiVersion": "networking.istio.io/v1",
        "kind": "Gateway",
        "metadata": {"name": "istio", "namespace": "team-a"},
        "spec": {"servers": []},
    }
    bad = {**examples[3], "metadata": {"name": "Bad_Name", "namespace": "team-a"}}
    loaded = load_manifests([write(tmp_path / "gateway.yaml", *examples, foreign, bad)])

    assert [type(obj).__name__ for obj in loaded.objects] == list(KINDS)
    assert keys(loaded)[:3] == [
        ("Namespace", "", "team-a"),
        ("GatewayClass", "", "ingress-ctl-team-a"),
        ("Gateway", "team-a", "gw"),
    ]
    namespace, _, gateway, http_route = loaded.objects[:4]
    assert isinstance(gateway, Gateway)
    assert isinstance(http_route, HTTPRoute)
    assert namespace.metadata.labels == {"gateway-access": "yes"}
    assert [listener.protocol for listener in gateway.spec.listeners] == ["HTTP", "TLS", "TCP"]
    assert http_route.spec.rules[0].matches[0].path == PathMatch(type="PathPrefix", value="/shop")
    [problem] = loaded.problems
    assert (problem.source.kind, problem.source.name, problem.field) == (
        "HTTPRoute",
        "Bad_Name",
        "metadata.name",
    )


# watch_manifests

INTERVAL = 0.01
SETTLE = 0.1
QUIET = 0.3
"""Many polls: long enough for any spurious yield to show."""


class Watch:
    """Collect what watch_manifests yields, in the background."""

    def __init__(self, paths: Sequence[Path]) -> None:
        self._loads: asyncio.Queue[Loaded] = asyncio.Queue()
        self._watch: AsyncIterator[Loaded] = watch_manifests(
            paths, interval=INTERVAL, settle=SETTLE
        )
        self._task = asyncio.create_task(self._collect())

    async def _collect(self) -> None:
        async for loaded in self._watch:
            await self._loads.put(loaded)

    async def next(self) -> Loaded:
        return await asyncio.wait_for(self._loads.get(), timeout=5)

    async def quiet(self) -> bool:
        """Whether nothing more is yielded for a while."""
        await asyncio.sleep(QUIET)
        return self._loads.empty()

    async def stop(self) -> None:
        self._task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self._task


@pytest.fixture
async def watched(tmp_path: Path) -> AsyncIterator[tuple[Path, Watch]]:
    write(tmp_path / "web.yaml", WEB)
    watch = Watch([tmp_path])
    yield tmp_path, watch
    await watch.stop()


async def test_watch_yields_the_manifests_at_once_then_waits(
    watched: tuple[Path, Watch],
) -> None:
    _, watch = watched
    assert keys(await watch.next()) == [key(WEB)]
    assert await watch.quiet()


async def test_watch_yields_again_when_a_file_changes(watched: tuple[Path, Watch]) -> None:
    folder, watch = watched
    await watch.next()
    write(folder / "web.yaml", service("web", namespace="team-a"))
    assert keys(await watch.next()) == [("Service", "team-a", "web")]
    assert await watch.quiet()


async def test_watch_yields_again_when_a_file_is_added(watched: tuple[Path, Watch]) -> None:
    folder, watch = watched
    await watch.next()
    write(folder / "sub" / "shop.yaml", SHOP)
    assert sorted(keys(await watch.next())) == sorted([key(WEB), key(SHOP)])
    assert await watch.quiet()


async def test_watch_yields_again_when_a_file_is_removed(watched: tuple[Path, Watch]) -> None:
    folder, watch = watched
    await watch.next()
    (folder / "web.yaml").unlink()
    assert (await watch.next()).objects == ()
    assert await watch.quiet()


async def test_watch_ignores_files_that_are_not_manifests(watched: tuple[Path, Watch]) -> None:
    folder, watch = watched
    await watch.next()
    (folder / "notes.txt").write_text("hello")
    (folder / "empty").mkdir()
    os.utime(folder)
    assert await watch.quiet()


async def test_watch_keeps_the_objects_of_a_file_that_stops_parsing(
    watched: tuple[Path, Watch],
) -> None:
    folder, watch = watched
    await watch.next()
    (folder / "web.yaml").write_text(yaml.safe_dump(WEB) + "metadata: {name: [unclosed\n")

    loaded = await watch.next()

    assert keys(loaded) == [key(WEB)]
    ((file, why),) = file_problems(loaded)
    assert file == str(folder / "web.yaml")
    assert why.startswith("cannot be read: ")
    assert why.endswith("; its last good 1 object(s) are kept")
    assert await watch.quiet()


# ManifestWatch, polled by hand on a clock of our own

STEADY = 1.0


def test_a_file_seen_empty_for_a_moment_changes_nothing(tmp_path: Path) -> None:
    file = write(tmp_path / "web.yaml", WEB, SHOP)
    watch = ManifestWatch([tmp_path], settle=STEADY)
    assert watch.poll(0.0)
    content = file.read_bytes()

    file.write_bytes(b"")  # a shell's `>`: truncated, then written
    assert not watch.poll(0.1)
    assert keys(watch.loaded()) == [key(WEB), key(SHOP)]
    file.write_bytes(content[: len(content) // 2])
    assert not watch.poll(0.2)
    file.write_bytes(content)

    assert not watch.poll(0.3)
    assert not watch.poll(0.3 + STEADY)
    assert keys(watch.loaded()) == [key(WEB), key(SHOP)]
    assert watch.loaded().problems == ()


def test_objects_leave_a_file_once_it_has_settled(tmp_path: Path) -> None:
    file = write(tmp_path / "web.yaml", WEB, SHOP)
    watch = ManifestWatch([tmp_path], settle=STEADY)
    watch.poll(0.0)

    write(file, WEB)
    assert not watch.poll(0.1)
    assert not watch.poll(0.1 + STEADY / 2)
    assert watch.poll(0.1 + STEADY)

    assert keys(watch.loaded()) == [key(WEB)]


def test_a_removed_file_is_forgotten_once_it_stays_away(tmp_path: Path) -> None:
    write(tmp_path / "web.yaml", WEB)
    shop = write(tmp_path / "shop.yaml", SHOP)
    watch = ManifestWatch([tmp_path], settle=STEADY)
    watch.poll(0.0)

    shop.unlink()
    assert not watch.poll(0.1)
    assert watch.poll(0.1 + STEADY)

    assert keys(watch.loaded()) == [key(WEB)]


def test_a_new_object_is_taken_in_at_once(tmp_path: Path) -> None:
    file = write(tmp_path / "web.yaml", WEB)
    watch = ManifestWatch([tmp_path], settle=STEADY)
    watch.poll(0.0)

    write(file, WEB, SHOP)

    assert watch.poll(0.1)
    assert keys(watch.loaded()) == [key(WEB), key(SHOP)]


def test_only_changed_files_are_parsed_and_same_bytes_change_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for index in range(5):
        write(tmp_path / f"svc{index}.yaml", service(f"svc{index}"))
    watch = ManifestWatch([tmp_path], settle=STEADY)
    watch.poll(0.0)
    parsed: list[Path] = []
    parse = files.parse_manifest

    def counted(file: Path, data: bytes) -> Loaded:
        parsed.append(file)
        return parse(file, data)

    monkeypatch.setattr(files, "parse_manifest", counted)

    write(tmp_path / "svc1.yaml", service("svc1", service_port(81)))
    (tmp_path / "svc2.yaml").write_bytes((tmp_path / "svc2.yaml").read_bytes())
    os.utime(tmp_path / "svc3.yaml", ns=(1, 1))

    assert watch.poll(0.1)
    assert parsed == [tmp_path / "svc1.yaml"]
    assert not watch.poll(0.2)
    assert parsed == [tmp_path / "svc1.yaml"]


def test_a_typo_is_reported_once_settled_and_the_fix_is_taken_at_once(tmp_path: Path) -> None:
    file = write(tmp_path / "web.yaml", WEB)
    watch = ManifestWatch([tmp_path], settle=STEADY)
    watch.poll(0.0)
    file.write_text("kind: Service\nmetadata: {name: [unclosed\n")

    assert not watch.poll(0.1)
    assert watch.loaded().problems == ()
    assert watch.poll(0.1 + STEADY)
    assert keys(watch.loaded()) == [key(WEB)]
    assert [p.source.name for p in watch.loaded().problems] == [str(file)]

    write(file, WEB)
    assert watch.poll(0.2 + STEADY)
    assert watch.loaded().problems == ()


def test_yaml_is_read_with_libyaml_when_pyyaml_has_it() -> None:
    assert yaml.__with_libyaml__
    assert files.yaml_loader() is yaml.CSafeLoader


def test_the_examples_hold_every_gateway_api_kind_the_controller_reads() -> None:
    """The e2e test of the informers applies these: a kind missing here goes unwatched there."""
    assert set(KINDS) - {"Namespace"} == set(API_RESOURCES)
