"""The conformance harness (e2e/gateway.py): what it passes the suite, how it reads the report.

The run itself is `make gateway-conformance` (docs/gateway-api.md); these check the parts that
decide its verdict. Those marked e2e read the suite's Go module (downloaded when missing).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from e2e.gateway import (
    ECHO_REPO,
    classify,
    feature_flags,
    manifest_images,
    profile_results,
    suite_args,
    suite_errors,
    suite_module,
    summary,
    verdict,
)

DEPLOY = Path(__file__).parent.parent / "deploy"

# A report as the suite v1.6.3 writes it (apis/v1 ConformanceReport), trimmed.
REPORT = """
apiVersion: gateway.networking.k8s.io/v1
kind: ConformanceReport
gatewayAPIVersion: v1.6.3
profiles:
- name: GATEWAY-HTTP
  core:
    result: failure
    statistics: {Passed: 35, Skipped: 0, Failed: 2}
    failedTests: [HTTPRouteHostnameIntersection, HTTPRouteListenerHostnameMatching]
  extended:
    result: partial
    statistics: {Passed: 9, Skipped: 3, Failed: 1}
    failedTests: [HTTPRouteRequestMirror]
  summary: ""
- name: GATEWAY-TLS
  core:
    result: success
    statistics: {Passed: 20, Skipped: 0, Failed: 0}
  summary: ""
- name: GATEWAY-GRPC
  core:
    result: success
    statistics: {Passed: 12, Skipped: 0, Failed: 0}
  summary: ""
"""


def test_the_summary_counts_each_profile_and_names_the_failed_tests() -> None:
    results = profile_results(yaml.safe_load(REPORT))
    lines = summary(results).splitlines()

    assert lines[1].split() == ["GATEWAY-HTTP", "35", "2", "0", "9", "1"]
    assert lines[2].split() == ["GATEWAY-TLS", "20", "0", "0", "0", "0"]
    assert lines[3].split() == ["GATEWAY-TCP", "not", "run"]
    assert lines[4].split() == ["GATEWAY-GRPC", "12", "0", "0", "0", "0"]
    assert lines[5] == (
        "GATEWAY-HTTP failed: HTTPRouteHostnameIntersection, "
        "HTTPRouteListenerHostnameMatching, HTTPRouteRequestMirror"
    )


def test_a_failed_core_test_or_a_profile_that_did_not_run_fails_the_run() -> None:
    report = yaml.safe_load(REPORT)
    tcp = {"name": "GATEWAY-TCP", "core": {"statistics": {"Passed": 3, "Failed": 0}}}
    passing = {
        **report,
        "profiles": [
            {"name": p["name"], "core": {"statistics": {**p["core"]["statistics"], "Failed": 0}}}
            for p in report["profiles"]
        ]
        + [tcp],
    }
    empty = {**passing, "profiles": [*passing["profiles"][:3], {**tcp, "core": {"statistics": {}}}]}

    assert verdict(profile_results(report), suite_code=1, single_test=False) == 1
    assert (
        verdict(
            profile_results({**report, "profiles": [*report["profiles"], tcp]}),
            suite_code=1,
            single_test=False,
        )
        == 1
    )
    assert verdict(profile_results(passing), suite_code=1, single_test=False) == 0
    assert verdict(profile_results(empty), suite_code=0, single_test=False) == 1
    assert verdict(profile_results({"profiles": None}), suite_code=1, single_test=False) == 1
    assert verdict(profile_results({"profiles": None}), suite_code=0, single_test=True) == 0


@pytest.mark.parametrize(
    ("environ", "published", "run_test", "expected"),
    [
        ({}, ["HTTPRouteQueryParamMatching"], "", []),
        (
            {},
            ["HTTPRouteMethodMatching", "HTTPRouteQueryParamMatching"],
            "HTTPRouteMethodMatching",
            ["-supported-features=HTTPRouteMethodMatching,HTTPRouteQueryParamMatching"],
        ),
        ({}, [], "", ["-supported-features=Gateway"]),
        ({}, [], "HTTPRouteSimpleSameNamespace", ["-supported-features=Gateway"]),
        (
            {"GATEWAY_FEATURES": "HTTPRouteHostRewrite"},
            ["HTTPRouteQueryParamMatching"],
            "",
            ["-supported-features=HTTPRouteHostRewrite"],
        ),
    ],
)
def test_features_come_from_the_gateway_class_unless_the_suite_reads_them_itself(
    environ: dict[str, str], published: list[str], run_test: str, expected: list[str]
) -> None:
    assert feature_flags(environ, published, run_test) == expected


def test_the_suite_gets_our_class_profiles_report_and_passthrough_settings(
    tmp_path: Path,
) -> None:
    environ = {
        "GATEWAY_RUN_TEST": "HTTPRouteSimpleSameNamespace",
        "GATEWAY_SKIP_TESTS": "A,B",
        "GATEWAY_TIMEOUTS": "GWCMustBeAccepted:20",
        "GATEWAY_URL": "https://example.test/ingress-ctl",
        "GATEWAY_ARGS": "-fail-fast",
    }
    args = suite_args(
        environ, tmp_path / "r.yaml", ["-supported-features=Gateway"], cleanup_base=False
    )

    assert "-gateway-class=ingress-ctl" in args
    assert "-conformance-profiles=GATEWAY-HTTP,GATEWAY-TLS,GATEWAY-TCP,GATEWAY-GRPC" in args
    assert f"-report-output={tmp_path / 'r.yaml'}" in args
    assert "-cleanup-base-resources=false" in args
    assert "-run-test=HTTPRouteSimpleSameNamespace" in args
    assert "-skip-tests=A,B" in args
    assert "-usable-address=127.10.0.254" in args and "-unusable-address=192.0.2.1" in args
    assert "-timeout-config-overrides=GWCMustBeAccepted:20" in args
    assert "-url=https://example.test/ingress-ctl" in args
    assert args[-1] == "-fail-fast"
    assert all(
        any(a.startswith(f"-{key}=") and len(a) > len(key) + 2 for a in args)
        for key in ("organization", "project", "url", "version", "contact")
    )


def test_the_suite_errors_are_its_failed_assertions() -> None:
    output = (
        "    suite.go:443: \n"
        "        \tError Trace:\tsigs.k8s.io/gateway-api/conformance@v1.6.3/utils/kubernetes/helpers.go:312\n"
        "        \tError:      \tReceived unexpected error:\n"
        "        \t            \tcontext deadline exceeded\n"
        "        \tMessages:   \terror waiting for gateway-conformance-infra namespaces to be ready\n"
    )

    assert suite_errors(output) == [
        "Error:      \tReceived unexpected error:",
        "Messages:   \terror waiting for gateway-conformance-infra namespaces to be ready",
    ]


def test_images_are_sorted_by_the_build_that_makes_them() -> None:
    found = classify(
        {
            f"{ECHO_REPO}:v1.5.1",
            f"{ECHO_REPO}:v1.6.0-dev.2",
            "registry.k8s.io/coredns/coredns:v1.12.2",
            "registry.k8s.io/gateway-api/echo-advanced:v1.5.1",
        }
    )

    assert found.echo == (f"{ECHO_REPO}:v1.5.1", f"{ECHO_REPO}:v1.6.0-dev.2")
    assert found.coredns == {"registry.k8s.io/coredns/coredns:v1.12.2": "v1.12.2"}
    assert found.unknown == ("registry.k8s.io/gateway-api/echo-advanced:v1.5.1",)


@pytest.mark.e2e
def test_every_image_of_the_suites_gateway_manifests_has_a_build() -> None:
    found = classify(manifest_images(suite_module()))

    assert found.unknown == ()
    assert f"{ECHO_REPO}:v1.5.1" in found.echo
    assert found.coredns == {"registry.k8s.io/coredns/coredns:v1.12.2": "v1.12.2"}


@pytest.mark.e2e
def test_the_shipped_crds_are_the_modules_unchanged() -> None:
    standard = suite_module("sigs.k8s.io/gateway-api") / "config" / "crd" / "standard"
    shipped = DEPLOY / "gateway-api"

    names = sorted(p.name for p in standard.glob("gateway.networking.k8s.io_*.yaml"))
    assert names == sorted(p.name for p in shipped.glob("gateway.networking.k8s.io_*.yaml"))
    for name in names:
        assert (shipped / name).read_bytes() == (standard / name).read_bytes(), name
