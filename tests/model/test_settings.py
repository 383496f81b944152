"""Settings of `ingress-ctl run`: Kubernetes-mode flags, their defaults and their validation."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from ingress_ctl.cli import parse_command_line
from ingress_ctl.kube.client import kubeconfig_path
from ingress_ctl.model.settings import Settings, default_controller_namespace


def run_settings(*flags: str) -> Settings:
    return parse_command_line(["run", *flags])[1]


def test_without_manifests_the_mode_is_kubernetes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POD_NAMESPACE", raising=False)

    settings = run_settings()

    assert settings.mode == "kubernetes"
    assert settings.election_id == "ingress-ctl-leader"
    assert settings.watch_namespaces == ()
    assert settings.publish_addresses == ()
    assert settings.publish_service is None
    assert run_settings("--manifests", "examples").mode == "files"


def test_repeatable_flags_collect_in_order() -> None:
    settings = run_settings(
        "--watch-namespace", "team-a", "--watch-namespace", "team-b",
        "--publish-address", "192.0.2.10", "--publish-address", "lb.example.com",
        "--publish-address", "2001:DB8::1",
    )  # fmt: skip

    assert settings.watch_namespaces == ("team-a", "team-b")
    assert settings.publish_addresses == ("192.0.2.10", "lb.example.com", "2001:db8::1")


def test_kubernetes_flags_are_read() -> None:
    settings = run_settings(
        "--kubeconfig", "/etc/kube.conf", "--publish-service", "ingress-ctl/ingress-ctl",
        "--election-id", "my-lease", "--controller-namespace", "infra", "--sync-settle", "0.2",
    )  # fmt: skip

    assert settings.kubeconfig == Path("/etc/kube.conf")
    assert settings.publish_service == "ingress-ctl/ingress-ctl"
    assert (settings.election_id, settings.controller_namespace) == ("my-lease", "infra")
    assert settings.sync_settle == 0.2


@pytest.mark.parametrize(
    "flags",
    [
        ("--publish-address", "not an address"),
        ("--publish-address", "under_score.example.com"),
        ("--publish-service", "no-slash"),
        ("--publish-service", "ns/Name"),
        ("--publish-service", "a/b/c"),
        ("--watch-namespace", "Bad_Namespace"),
        ("--election-id", "UPPER"),
        ("--controller-namespace", "a.b"),
        ("--sync-settle", "-1"),
    ],
)
def test_bad_kubernetes_flags_are_refused(flags: tuple[str, str]) -> None:
    with pytest.raises(ValidationError):
        run_settings(*flags)


def test_the_controller_namespace_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("POD_NAMESPACE", "from-env")

    assert run_settings().controller_namespace == "from-env"
    assert run_settings("--controller-namespace", "flag").controller_namespace == "flag"


def test_default_controller_namespace_prefers_env_then_file_then_fallback(tmp_path: Path) -> None:
    namespace_file = tmp_path / "namespace"
    namespace_file.write_text("from-file\n")
    missing = tmp_path / "missing"

    assert default_controller_namespace({"POD_NAMESPACE": "env"}, namespace_file) == "env"
    assert default_controller_namespace({}, namespace_file) == "from-file"
    assert default_controller_namespace({"POD_NAMESPACE": ""}, missing) == "ingress-ctl"


def test_kubeconfig_is_the_flag_else_the_environment_else_in_cluster() -> None:
    flag = Path("/flag.conf")

    assert kubeconfig_path(flag, {"KUBECONFIG": "/env.conf"}) == flag
    assert kubeconfig_path(None, {"KUBECONFIG": "/a.conf:/b.conf"}) == Path("/a.conf")
    assert kubeconfig_path(None, {"KUBECONFIG": ""}) is None
    assert kubeconfig_path(None, {}) is None
