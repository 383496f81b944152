"""The status page as a person sees it: headless Chromium against a running controller.

A real `ingress-ctl run` in file mode with the real HAProxy and echo backends on 127.0.0.x:
hosts, backends and server states from HAProxy's runtime, a certificate close to expiry,
problems with their field paths, hostile values shown as text, the page without JavaScript,
and HAProxy's per-backend counters in /metrics. Screenshots go to test-artefacts/
(INGRESS_CTL_UPDATE_DOCS=1 also writes docs/status-page.png).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
import yaml

from tests.browser import Page, chromium_bin, dump_dom, screenshot
from tests.certs import TestCA
from tests.conftest import ROOT, EchoBackends, echo_service, free_port
from tests.controller import Controller, running_controller
from tests.http import get, wait_for
from tests.manifests import Manifest, ingress, ingress_class, path, rule, tls, tls_secret

pytestmark = pytest.mark.haproxy

__all__ = ["chromium_bin"]  # the fixture, used by name

SCHEMA = json.loads((ROOT / "docs" / "status.schema.json").read_text())
HEALTH = {"ingress-ctl.io/health-check-path": "/", "ingress-ctl.io/health-check-interval": "200ms"}
HOSTILE = "</td><script>document.title='pwned'</script>\"'"
"""Written into an annotation, a host and a Service name: must show as text, never run."""


class Echo:
    """One echo backend of its own (so that it can be stopped alone)."""

    def __init__(self, name: str, address: str) -> None:
        self.name, self.address, self.port = name, address, free_port(address)
        self._backends = EchoBackends()
        self._backends.start(name=name, host=address, port=self.port)

    def stop(self) -> None:
        self._backends.stop()
        self._backends = EchoBackends()

    def services(self) -> tuple[Manifest, Manifest]:
        return echo_service(self.name, self.address, self.port)


@pytest.fixture(scope="module")
def echoes() -> Iterator[dict[str, Echo]]:
    made = {name: Echo(name, f"127.0.0.{61 + index}") for index, name in enumerate(("shop", "api"))}
    yield made
    for echo in made.values():
        echo.stop()


def manifests(echoes: dict[str, Echo]) -> list[Manifest]:
    issued = TestCA().issue("secure.test", days=10)
    return [
        *echoes["shop"].services(),
        *echoes["api"].services(),
        tls_secret("secure-tls", issued.chain_pem, issued.key_pem),
        ingress(
            "shop",
            rule("shop.test", path("/", "shop")),
            rule("secure.test", path("/", "shop")),
            tls=[tls("secure-tls", "secure.test")],
        ),
        ingress("api", rule("api.test", path("/v1", "api")), annotations=HEALTH),
        ingress("evil-service", rule("evil.test", path("/", HOSTILE))),
        ingress("evil-host", rule(HOSTILE, path("/", "shop"))),
        ingress(
            "evil-annotation",
            rule("evil.test", path("/", "shop")),
            annotations={"ingress-ctl.io/health-check-path": HOSTILE},
        ),
        ingress("other", rule("other.test", path("/", "shop")), class_name="nginx"),
        ingress_class("nginx", "k8s.io/ingress-nginx"),
    ]


@pytest.fixture(scope="module")
def controller(haproxy_bin: str, echoes: dict[str, Echo]) -> Iterator[Controller]:
    with running_controller(haproxy_bin, *manifests(echoes)) as running:
        running.wait_until("/readyz")
        yield running


def url(controller: Controller, query: str = "") -> str:
    return f"http://127.0.0.1:{controller.status_port}/{query}"


def backend_of(controller: Controller, service: str) -> dict[str, Any]:
    backends = controller.status()["dataplane"]["backends"]
    return next(found for found in backends if found["service"] == f"default/{service}:80")


def test_page_shows_hosts_backends_servers_and_certificate(
    controller: Controller, chromium_bin: str, echoes: dict[str, Echo]
) -> None:
    for _ in range(3):
        assert controller.get("shop.test", "/").status == 200
    page = Page(dump_dom(chromium_bin, url(controller)))
    assert page.title == "ingress-ctl status"
    shop = page.row("shop.test", "default/shop:80")
    assert "UP" in shop
    assert f"{echoes['shop'].address}:{echoes['shop'].port}" in shop
    assert shop[-4:] == ["3", "3", "0", "0"]  # requests, 2xx, 4xx, 5xx of the server
    certificate = page.row("CN=secure.test", "UTC")
    assert certificate[1] == "secure.test"
    assert int(certificate[3]) in {9, 10}
    assert "ingress-ctl status" in page.visible and "Mode files" in page.visible
    screenshot(chromium_bin, url(controller), "status-page")


def test_expiring_certificate_is_marked(controller: Controller) -> None:
    html = get(controller.status_port, "/").text
    [line] = [
        line for line in html.splitlines() if 'class="certificate"><td>CN=secure.test' in line
    ]
    assert 'class="n expiring"' in line


def test_a_stopped_backend_shows_down(
    controller: Controller, chromium_bin: str, echoes: dict[str, Echo]
) -> None:
    wait_for(lambda: backend_of(controller, "api")["ready"] == 1 or None, timeout=10)
    page = Page(dump_dom(chromium_bin, url(controller, "?q=api")))
    assert "UP" in page.row("api.test", "default/api:80")
    echoes["api"].stop()
    wait_for(lambda: backend_of(controller, "api")["ready"] == 0 or None, timeout=10)
    page = Page(dump_dom(chromium_bin, url(controller, "?q=api")))
    row = page.row("api.test", "default/api:80")
    assert "DOWN" in row and "UP" not in row
    assert "0/1" in row
    screenshot(chromium_bin, url(controller), "status-page-down")


def test_problems_show_with_their_field_path(controller: Controller, chromium_bin: str) -> None:
    page = Page(dump_dom(chromium_bin, url(controller)))
    fields = {
        (row[0], row[1]) for row in page.rows if row and row[0].startswith("Ingress default/evil")
    }
    assert fields == {
        ("Ingress default/evil-service", "spec.rules.0.http.paths.0.backend.service.name"),
        ("Ingress default/evil-host", "spec.rules[0].host"),
        (
            "Ingress default/evil-annotation",
            "metadata.annotations[ingress-ctl.io/health-check-path]",
        ),
    }
    ignored = page.row("Ingress default/other")
    assert "nginx" in ignored[1]


def test_hostile_values_render_as_text_and_never_run(
    controller: Controller, chromium_bin: str
) -> None:
    dom = dump_dom(chromium_bin, url(controller), wait_ms=1000)
    page = Page(dom)
    assert page.title == "ingress-ctl status"  # the injected script would have changed it
    assert len(page.scripts) == 1  # ours: the refresh
    assert "</td><script>document.title=" in page.visible
    assert "pwned" not in "".join(page.scripts)
    screenshot(chromium_bin, url(controller, "?q=evil"), "status-page-hostile")


def test_refreshes_with_javascript(controller: Controller, chromium_bin: str) -> None:
    """The inline script runs (its hash is in the Content-Security-Policy) and refreshes."""
    page = Page(dump_dom(chromium_bin, url(controller), wait_ms=12_000))
    assert int(page.attributes.get("data-refreshed", "0")) >= 1
    assert "shop.test" in page.visible


def test_works_without_javascript(controller: Controller, chromium_bin: str) -> None:
    page = Page(dump_dom(chromium_bin, url(controller, "?q=shop"), script=False))
    assert "data-refreshed" not in page.attributes
    assert page.row("shop.test", "default/shop:80")
    assert "api.test" not in page.visible  # the filter is a plain GET form
    screenshot(chromium_bin, url(controller), "status-page-no-js", script=False)
    if os.environ.get("INGRESS_CTL_UPDATE_DOCS"):
        shutil.copy(
            screenshot(chromium_bin, url(controller), "docs"), ROOT / "docs/status-page.png"
        )


def test_status_matches_its_schema(controller: Controller) -> None:
    document = controller.status()
    jsonschema.validate(document, SCHEMA)
    assert document["leader"] is None  # file mode elects no leader
    shop = backend_of(controller, "shop")
    assert (shop["ready"], shop["total"], shop["servers"][0]["state"]) == (1, 1, "UP")
    [certificate] = [
        c for c in document["dataplane"]["certificates"] if "secure.test" in c["names"]
    ]
    assert certificate["days_left"] in {9, 10}


def test_schema_refuses_what_it_should(controller: Controller) -> None:
    """The schema is not a blank cheque: an unknown server state or a missing field fails."""
    document = controller.status()
    backend = backend_of(controller, "shop")
    wrong_state = backend | {"servers": [backend["servers"][0] | {"state": "SLEEPING"}]}
    document["dataplane"]["backends"] = [wrong_state]
    assert not jsonschema.Draft202012Validator(SCHEMA).is_valid(document)
    del document["dataplane"]
    assert not jsonschema.Draft202012Validator(SCHEMA).is_valid(document)


def test_metrics_count_requests_per_backend(controller: Controller) -> None:
    def requests() -> float:
        samples = controller.metrics()
        [value] = [
            value
            for name, value in samples.items()
            if name.startswith("haproxy_backend_http_requests_total{")
            and 'service="shop"' in name
            and 'namespace="default"' in name
            and 'port="80"' in name
        ]
        return value

    before = requests()
    count = 17
    for _ in range(count):
        assert controller.get("shop.test", "/").status == 200
    assert requests() == before + count
    samples = controller.metrics()
    assert any(name.startswith("haproxy_frontend_http_requests_total{") for name in samples)
    assert not any('server="' in name for name in samples)  # per backend, never per server


def status_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ingress_ctl", "status", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_status_command_prints_a_table_and_fails_on_rejected_objects(
    controller: Controller,
) -> None:
    result = status_cli("--url", url(controller).rstrip("/"))
    assert result.returncode == 1  # the evil Ingresses are rejected
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["HOST", "PATH", "BACKEND", "READY", "STATE"]
    assert next(line for line in lines if line.startswith("shop.test")).split() == [
        "shop.test",
        "/",
        "default/shop:80",
        "1/1",
        "serving",
    ]
    assert "OBJECT" in result.stdout and "spec.rules[0].host" in result.stdout
    assert "<script>" in result.stdout  # shown as text, control characters escaped
    assert "error: Ingress default/evil-host is rejected: spec.rules[0].host" in result.stderr


def test_status_command_outputs_json_yaml_and_wide(controller: Controller) -> None:
    as_json = status_cli("--url", url(controller), "-o", "json")
    assert json.loads(as_json.stdout)["dataplane"]["backends"]
    as_yaml = yaml.safe_load(status_cli("--url", url(controller), "-o", "yaml").stdout)
    assert as_yaml["mode"] == "files"
    wide = status_cli("--url", url(controller), "-o", "wide").stdout
    assert "Ingress default/shop" in wide and "IGNORED" in wide
    assert wide.splitlines()[0].split()[-2:] == ["HAPROXY", "BACKEND"]


def test_status_command_exit_code_when_unreachable() -> None:
    result = status_cli("--url", f"http://127.0.0.1:{free_port()}")
    assert result.returncode == 1
    assert "cannot read" in result.stderr


def test_every_metric_is_documented(controller: Controller) -> None:
    documented = (ROOT / "docs/metrics.md").read_text()
    text = get(controller.status_port, "/metrics").text
    names = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}
    assert {"haproxy_backend_http_requests_total", "ingress_ctl_syncs_total"} <= names
    missing = {name for name in names if f"`{name}" not in documented}
    assert missing == set()
