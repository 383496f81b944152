"""The command line in-process: `render` and `explain`, their output and exit codes."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from ipaddress import IPv4Network
from pathlib import Path
from typing import Any

import pytest
import yaml

from ingress_ctl.cli import main, parse_command_line
from ingress_ctl.fallback import placeholder
from ingress_ctl.haproxy import naming
from ingress_ctl.translation import translate
from ingress_ctl.translation.certificates import parse_pem
from tests.haproxy.test_rendering import EXAMPLES, rendered
from tests.manifests import Manifest, backend, ingress, ingress_class, path, rule, service

DEMO = str(EXAMPLES / "demo.yaml")


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run `ingress-ctl args...`: exit code, stdout, stderr."""
    try:
        code = main(list(args))
    except SystemExit as exit_:  # argparse exits on usage errors
        assert isinstance(exit_.code, int)
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def manifest_file(folder: Path, *manifests: Manifest) -> str:
    file = folder / "manifests.yaml"
    file.write_text(yaml.safe_dump_all([ingress_class(), *manifests]))
    return str(file)


# --- render -------------------------------------------------------------------------


def test_render_prints_the_configuration(capsys: pytest.CaptureFixture[str]) -> None:
    """With the HTTPS listener `run` serves: a self-signed default certificate (placeholder)."""
    expected = rendered("demo", placeholder())["haproxy.cfg"]
    assert cli(capsys, "render", "-f", DEMO) == (0, expected, "")
    assert "ssl crt-list certs/https.crt-list" in expected


def test_render_out_writes_the_configuration_and_maps(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "out"

    assert cli(capsys, "render", "-f", DEMO, "--out", str(out)) == (0, "", "")

    written = {str(p.relative_to(out)): p.read_text() for p in out.rglob("*") if p.is_file()}
    pem = written.pop(naming.PLACEHOLDER_CERTIFICATE)  # a fresh key each time
    assert parse_pem(pem.encode(), pem.encode()).subject
    expected = rendered("demo", placeholder())
    del expected[naming.PLACEHOLDER_CERTIFICATE]
    assert written == expected
    assert {"haproxy.cfg", "maps/hosts.map", "maps/routes.map"} <= set(written)


def test_render_reports_a_rejected_rule_and_exits_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    manifests = manifest_file(
        tmp_path,
        ingress("shop", rule("bad_host", path("/", "web")), rule("ok.test", path("/", "web"))),
        service("web"),
    )

    code, out, err = cli(capsys, "render", "-f", manifests)

    assert code == 1
    assert err == (
        "error: Ingress default/shop: spec.rules[0].host: 'bad_host' is not a DNS name "
        "(optionally starting with '*.'); rule ignored\n"
    )
    assert "\nbackend be_default_web_80\n" in out  # the rest is still served


@pytest.mark.parametrize(
    ("flags", "reason"),
    [
        ((), "ExternalName Services are not served (allow them with --allow-external-name"),
        (("--allow-external-name",), "resolves to 127.0.0.1, a loopback address; refused"),
    ],
)
def test_render_refuses_an_external_name_of_this_machine(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, flags: tuple[str, ...], reason: str
) -> None:
    """The hostname resolves to 127.0.0.1 (/etc/hosts): the controller's own ports."""
    hostname = socket.gethostname()
    manifests = manifest_file(
        tmp_path,
        ingress("ext", rule("ext.test", path("/", "ext", 80))),
        service("ext", external_name=hostname),
    )
    code, out, err = cli(capsys, "render", "-f", manifests, *flags)
    assert code == 1
    assert reason in err
    assert hostname.lower() not in out and "resolvers" not in out


def test_render_says_which_ingresses_it_ignored_and_why(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    manifests = manifest_file(
        tmp_path,
        ingress_class("nginx", "k8s.io/ingress-nginx"),
        ingress("theirs", rule("a.test", path("/", "web")), class_name="nginx"),
        ingress("ours", rule("b.test", path("/", "web"))),
        service("web"),
    )
    code, out, err = cli(capsys, "render", "-f", manifests)
    assert code == 0 and "a.test" not in out
    assert err == (
        "ignored: Ingress default/theirs: IngressClass 'nginx' belongs to controller "
        "'k8s.io/ingress-nginx'\n"
    )


def test_run_without_credentials_says_what_to_use(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.kube/config
    code = main(["run", "--state-dir", str(tmp_path / "state"), "--status-port", "0"])
    assert code == 2
    assert "use --kubeconfig or --manifests" in capsys.readouterr().err


def test_render_exits_0_with_only_warnings(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    manifests = manifest_file(
        tmp_path,
        ingress("first", default=backend("web", 80), minute=1),
        ingress("second", default=backend("web", 80), minute=2),
        service("web"),
    )

    code, _, err = cli(capsys, "render", "-f", manifests)

    assert code == 0
    assert err.startswith("warning: Ingress default/second: spec.defaultBackend: ")


@pytest.mark.parametrize(
    ("flag", "value", "mentions"),
    [
        ("--default-backend-service", "nonsense", "--default-backend-service"),
        ("--http-port", "eighty", "--http-port"),
        ("--http-port", "0", "http_port"),
        ("--bind-address", "localhost", "bind_address"),
    ],
)
def test_bad_flag_values_exit_2(
    capsys: pytest.CaptureFixture[str], flag: str, value: str, mentions: str
) -> None:
    code, out, err = cli(capsys, "render", "-f", DEMO, flag, value)

    assert (code, out) == (2, "")
    assert mentions in err


def test_the_gateway_address_pool_is_an_ipv4_network_off_by_default() -> None:
    _, default = parse_command_line(["run"])
    _, given = parse_command_line(["run", "--gateway-address-pool", "127.10.0.0/24"])

    assert default.gateway_address_pool is None
    assert given.gateway_address_pool == IPv4Network("127.10.0.0/24")


@pytest.mark.parametrize(
    "value", ["127.10.0.5/24", "fd00::/64", "127.10.0.0/33", "pool", "127.10.0.0/24\nx"]
)
def test_a_gateway_address_pool_that_is_no_ipv4_network_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, value: str
) -> None:
    code, out, err = cli(
        capsys, "run", "--state-dir", str(tmp_path), "--gateway-address-pool", value
    )

    assert (code, out) == (2, "")
    assert "gateway_address_pool" in err


# --- explain ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "http://shop.example.com/api/x",
            [
                "request: host 'shop.example.com', path '/api/x'",
                "host key: shop.example.com (exact host)",
                "matched: longest prefix '/api' of Ingress demo/shop (spec.rules[0].http.paths[1])",
                "backend: be_demo_api_http (Service demo/api:http)",
                "servers: 127.0.0.4:8082",
            ],
        ),
        (
            "http://SHOP.example.com:8080/api/status?x=1",
            [
                "request: host 'shop.example.com', path '/api/status'",
                "host key: shop.example.com (exact host)",
                "matched: exact path '/api/status' of Ingress demo/shop (spec.rules[0].http.paths[2])",
                "backend: be_demo_status_80 (Service demo/status:80)",
                "servers: none: requests answer 503",
            ],
        ),
        (
            "http://a.docs.example.com/x",
            [
                "request: host 'a.docs.example.com', path '/x'",
                "host key: *.docs.example.com (wildcard host)",
                "matched: longest prefix '/' of Ingress demo/shop (spec.rules[1].http.paths[0])",
                "backend: be_demo_docs_80 (Service demo/docs:80)",
                "servers: 127.0.0.5:8083",
            ],
        ),
        (
            "http://shop.example.com//x/../%61pi/./x",
            [
                "request: host 'shop.example.com', path '/api/x' (normalised from "
                "'//x/../%61pi/./x')",
                "host key: shop.example.com (exact host)",
                "matched: longest prefix '/api' of Ingress demo/shop (spec.rules[0].http.paths[1])",
                "backend: be_demo_api_http (Service demo/api:http)",
                "servers: 127.0.0.4:8082",
            ],
        ),
        (
            "http://shop.example.com/x/../../api",
            [
                "request: host 'shop.example.com', path '/x/../../api'",
                "answered 400: '/x/../../api' climbs above /",
            ],
        ),
        (
            "http://nowhere.test",
            [
                "request: host 'nowhere.test', path '/'",
                "host key: no host rule matches; rules without a host apply",
                "matched: no host matched: built-in 404",
                "backend: builtin_404 (built-in: answers 404)",
            ],
        ),
    ],
)
def test_explain_names_ingress_rule_backend_and_servers(
    capsys: pytest.CaptureFixture[str], url: str, expected: list[str]
) -> None:
    code, out, err = cli(capsys, "explain", "-f", DEMO, "--url", url)

    assert (code, err) == (0, "")
    assert out.splitlines() == expected


def test_explain_ignores_user_info_like_the_host_header(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, plain, _ = cli(capsys, "explain", "-f", DEMO, "--url", "http://shop.example.com/api/x")
    _, with_user, _ = cli(
        capsys, "explain", "-f", DEMO, "--url", "http://user@shop.example.com/api/x"
    )

    assert with_user == plain


@pytest.mark.parametrize("url", ["shop.example.com/api", "/api/x", "http:///api"])
def test_explain_needs_an_absolute_url(capsys: pytest.CaptureFixture[str], url: str) -> None:
    code, out, err = cli(capsys, "explain", "-f", DEMO, "--url", url)

    assert (code, out) == (2, "")
    assert err == f"ingress-ctl explain: {url!r} is not an absolute URL like http://host/path\n"


# --- nginx compatibility and migrate ---------------------------------------------------

NGINX = "nginx.ingress.kubernetes.io/"


def test_nginx_annotations_are_read_only_with_the_flag(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    manifests = manifest_file(
        tmp_path,
        ingress(
            "shop",
            rule("shop.test", path("/", "web")),
            annotations={NGINX + "proxy-body-size": "1k"},
        ),
        service("web"),
    )
    plain = cli(capsys, "render", "-f", manifests)[1]
    compat = cli(capsys, "render", "-f", manifests, "--nginx-compat")[1]
    limit = "http-request deny deny_status 413 if { req.hdr_val(content-length) gt 1024 }"
    assert limit not in plain
    assert limit in compat


def test_migrate_reports_each_nginx_annotation(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    annotations = {NGINX + "proxy-body-size": "1k", NGINX + "server-snippet": "x"}
    manifests = manifest_file(
        tmp_path,
        ingress("b", rule("b.test", path("/", "web")), annotations=annotations),
        ingress("a", rule("a.test", path("/", "web"))),
    )
    code, out, err = cli(capsys, "migrate", "-f", manifests)
    assert (code, err) == (1, "")
    assert out.splitlines()[:4] == [
        "Ingress default/b:",
        f"  refused     {NGINX}server-snippet: snippets are refused: raw configuration from an "
        "Ingress could reach every tenant's traffic; use the typed annotations "
        "(docs/annotations.md)",
        f"  translated  {NGINX}proxy-body-size -> ingress-ctl.io/proxy-body-size",
        "",
    ]
    clean = manifest_file(tmp_path, ingress("c", annotations={NGINX + "ssl-redirect": "true"}))
    assert cli(capsys, "migrate", "-f", clean)[0] == 0


HEAVY = ("kubernetes_asyncio", "aiohttp", "asyncio")
"""The Kubernetes client, the HTTP server and the event loop: imported by `run` only."""


def imported_modules(*args: str, cwd: Path) -> set[str]:
    """Every module a Python process imports (`python -X importtime`), by full name."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return {
        line.rsplit("|", 1)[1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


def heavy(modules: set[str]) -> set[str]:
    return {name for name in modules if name.split(".")[0] in HEAVY}


@pytest.mark.parametrize(
    "command",
    [
        ["--help"],
        ["render", "-f", DEMO],
        ["explain", "-f", DEMO, "--url", "http://demo.example.com/"],
        ["migrate", "-f", DEMO],
        ["status", "--url", "http://127.0.0.1:1"],
    ],
    ids=lambda command: command[0],
)
def test_commands_but_run_import_no_kubernetes_http_server_or_event_loop(
    command: list[str], tmp_path: Path
) -> None:
    modules = imported_modules("-m", "ingress_ctl", *command, cwd=tmp_path)
    assert "ingress_ctl.cli" in modules
    assert heavy(modules) == set()


def test_run_imports_them(tmp_path: Path) -> None:
    """The check sees them when they are imported."""
    modules = imported_modules("-c", "import ingress_ctl.app", cwd=tmp_path)
    assert heavy(modules) >= {"aiohttp", "kubernetes_asyncio", "asyncio"}


def test_a_json_list_renders_without_pyyaml(tmp_path: Path) -> None:
    listed = tmp_path / "cluster.json"
    items = [ingress_class(), ingress("web", rule("web.test", path("/", "web")))]
    listed.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    assert "yaml" not in imported_modules(
        "-m", "ingress_ctl", "render", "-f", str(listed), cwd=tmp_path
    )
    assert "yaml" in imported_modules("-m", "ingress_ctl", "render", "-f", DEMO, cwd=tmp_path)


def test_render_makes_a_key_only_for_the_files_it_writes(tmp_path: Path) -> None:
    """The placeholder certificate's key is made (with cryptography) only for --out."""
    printed = imported_modules("-m", "ingress_ctl", "render", "-f", DEMO, cwd=tmp_path)
    written = imported_modules(
        "-m", "ingress_ctl", "render", "-f", DEMO, "--out", str(tmp_path / "out"), cwd=tmp_path
    )
    assert "cryptography" not in printed
    assert "cryptography" in written


GATEWAY_API_CODE = {
    "ingress_ctl.model.gateway_objects",
    "ingress_ctl.model.gateways",
    "ingress_ctl.model.conditions",
    "ingress_ctl.translation.gateway.gateways",
    "ingress_ctl.haproxy.gateway_tables",
    "ingress_ctl.haproxy.gateway_frontends",
}
"""The Gateway API's views, translation, model (ports, splits, status records) and rendering:
built only for manifests that hold its objects."""


def test_render_loads_the_gateway_api_code_only_for_gateway_api_objects(tmp_path: Path) -> None:
    ingresses = imported_modules("-m", "ingress_ctl", "render", "-f", DEMO, cwd=tmp_path)
    gateways = imported_modules(
        "-m", "ingress_ctl", "render", "-f", str(EXAMPLES / "gateway.yaml"), cwd=tmp_path
    )
    assert "ingress_ctl.translation.translate" in ingresses
    assert ingresses & GATEWAY_API_CODE == set()
    assert gateways >= GATEWAY_API_CODE


@pytest.mark.parametrize("command", ["render", "explain"])
def test_commands_build_the_model_with_the_collector_paused(
    command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    from ingress_ctl import cli

    seen: list[bool] = []

    def translating(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.isenabled())
        return translate(*args, **kwargs)

    monkeypatch.setattr(cli, "translate", translating)
    extra = ["--url", "http://demo.example.com/"] if command == "explain" else []
    main([command, "-f", DEMO, *extra])
    assert seen == [False]
    assert gc.isenabled()


def test_migrate_a_folder_of_ingress_nginx_ingresses(capsys: pytest.CaptureFixture[str]) -> None:
    """The riskiest Ingress first, warnings for a foreign class and a regex path, a summary."""
    folder = Path(__file__).resolve().parent.parent / "examples" / "nginx-migration"
    code, out, err = cli(capsys, "migrate", "-f", str(folder))
    assert (code, err) == (1, "")
    lines = out.splitlines()
    assert [line for line in lines if line.startswith("Ingress ")] == [
        "Ingress ops/dashboard:",
        "Ingress shop/api:",
        "Ingress shop/web-canary:",
        "Ingress shop/web:",
    ]
    warnings = [line.strip() for line in lines if line.startswith("  warning")]
    assert warnings == [
        "warning     not served: IngressClass 'nginx' does not exist; set "
        "spec.ingressClassName to an IngressClass of ingress-ctl",
        "warning     path '/reports/[0-9]+' is a regular expression: it is rejected (paths "
        "match as Prefix or Exact); write the prefix it stands for, and "
        "ingress-ctl.io/path-rewrite for its captures",
    ]
    summary = lines[lines.index("") + 1 :]
    assert summary[0] == (
        "Summary: 4 Ingresses with nginx annotations, 1 that would behave differently, "
        "1 with warnings."
    )
    assert [line.split()[0] for line in summary[2:] if not line.startswith("    ")] == [
        "refused",
        "unsupported",
        "differs",
        "translated",
    ]
