"""The official Gateway API conformance suite against ingress-ctl: ``make gateway-conformance``.

Builds what is missing (the suite as a test binary, CoreDNS and echo-basic for the images
the suite's manifests name, the controller image), brings up the single-node cluster of
:mod:`e2e.cluster`, installs the Gateway API CRDs (``deploy/gateway-api``) and the
controller, runs the suite with our GatewayClass and profiles, and prints a summary of the
suite's own YAML report. The controller runs either as users run it (``--controller=pod``:
``e2e/gateway-overlay``, the image built from the Dockerfile, host network) or, for a fast
loop while developing, as a host process with the ServiceAccount's credentials
(``--controller=host``: ``.venv/bin/ingress-ctl run``, the machine's HAProxy, no image
build). Each Gateway gets its own address of 127.10.0.0/24 (``--gateway-address-pool``).

Every use of the cluster holds ``/tmp/ingress-ctl-e2e.lock`` (as ``flock`` does), builds
do not. The cluster is taken down at the end when this run brought it up, unless
``--keep-cluster``. Settings (flags win over the environment)::

    GATEWAY_CONTROLLER=pod|host|none   where the controller runs (default pod; none: you
                                       run it, the harness prints the command)
    GATEWAY_REPORT=PATH                the suite's report (default gateway-conformance-report.yaml)
    GATEWAY_RUN_TEST=ShortName         run one test (the suite's -run-test)
    GATEWAY_SKIP_TESTS=A,B             skip these (-skip-tests)
    GATEWAY_FEATURES=A,B               supported features (default: the GatewayClass's status)
    GATEWAY_CLEANUP_BASE=false         keep the suite's base resources (-cleanup-base-resources)
    GATEWAY_KEEP_CLUSTER=1             leave the cluster up
    GATEWAY_TIMEOUTS="GWCMustBeAccepted:20;..."   the suite's -timeout-config-overrides
    GATEWAY_DEBUG=1                    the suite's -debug
    GATEWAY_ARGS="..."                 more arguments for the suite binary
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from e2e.cluster import Cluster
from e2e.controller import ROOT, install, running_controller
from e2e.controlplane import KubectlError

E2E_DIR = Path(__file__).parent
OVERLAY = E2E_DIR / "gateway-overlay"
CRDS = ROOT / "deploy" / "gateway-api"
GATEWAY_CLASS_DIR = ROOT / "deploy" / "gatewayclass"
LOCK = Path("/tmp/ingress-ctl-e2e.lock")
NAMESPACE = "ingress-ctl"
GATEWAY_CLASS = "ingress-ctl"
ADDRESS_POOL = "127.10.0.0/24"
USABLE_ADDRESS = "127.10.0.254"
"""A static Gateway address the controller serves (inside the pool; GatewayStaticAddresses)."""
UNUSABLE_ADDRESS = "192.0.2.1"
"""A static Gateway address outside the pool: AddressNotUsable (TEST-NET-1, never sent to)."""
PROFILES = ("GATEWAY-HTTP", "GATEWAY-TLS", "GATEWAY-TCP", "GATEWAY-GRPC")
ECHO_REPO = "registry.k8s.io/gateway-api/echo-basic"
COREDNS_REPO = "registry.k8s.io/coredns/coredns"
IMAGE_LINE = re.compile(r"^\s*-?\s*image:\s*[\"']?([^\s\"']+)", re.MULTILINE)
FEATURES_WAIT_S = 30.0
"""How long to wait for the GatewayClass to publish status.supportedFeatures."""
IMPLEMENTATION = {
    "organization": "ingress-ctl",
    "project": "ingress-ctl",
    "url": "https://github.com/ingress-ctl/ingress-ctl",
    "contact": "maintainers@ingress-ctl.io",
}
"""The report's implementation block (GATEWAY_ORGANIZATION, _PROJECT, _URL, _CONTACT win)."""


def log(message: str) -> None:
    """Progress on stderr (the suite's output goes to stdout)."""
    print(f"[gateway] {message}", file=sys.stderr, flush=True)


# --- the suite's images --------------------------------------------------------------


def suite_module(module: str = "sigs.k8s.io/gateway-api/conformance") -> Path:
    """The downloaded ``module`` (default the suite's) at the version the wrapper pins."""
    out = subprocess.run(
        ["go", "mod", "download", "-json", module],
        cwd=E2E_DIR / "gateway-conformance",
        env={**os.environ, "PATH": f"{os.environ['PATH']}:/usr/local/go/bin", "GOWORK": "off"},
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return Path(json.loads(out)["Dir"])


def manifest_images(module: Path) -> set[str]:
    """Every image the suite's Gateway manifests (base/ and tests/, not mesh/) name."""
    return {
        image
        for folder in ("base", "tests")
        for path in (module / folder).rglob("*.yaml")
        for image in IMAGE_LINE.findall(path.read_text())
    }


@dataclass(frozen=True)
class SuiteImages:
    """The images to import, by what builds them; others (mesh only) are not needed."""

    echo: tuple[str, ...]
    coredns: dict[str, str]
    """Image name -> CoreDNS version."""
    unknown: tuple[str, ...]


def classify(images: set[str]) -> SuiteImages:
    """Sort the suite's image names by the build that makes them."""
    echo, coredns, unknown = [], {}, []
    for image in sorted(images):
        repository, _, tag = image.rpartition(":")
        if repository == ECHO_REPO:
            echo.append(image)
        elif repository == COREDNS_REPO:
            coredns[image] = tag
        else:
            unknown.append(image)
    return SuiteImages(tuple(echo), coredns, tuple(unknown))


def import_suite_images(cluster: Cluster, images: SuiteImages) -> None:
    """echo-basic of the suite's own version under every echo-basic name the manifests use,
    CoreDNS built at the version each name says (non-root, as the upstream image)."""
    cluster.import_echo(*images.echo)
    for name, version in images.coredns.items():
        binary = timed_build("build-coredns.sh", COREDNS_VERSION=version)
        cluster.import_binary(binary, "/coredns", name, user="65532:65532")
    for name in images.unknown:
        log(f"not imported (no build for it; the profiles we run do not use it): {name}")


def timed_build(script: str, **environ: str) -> Path:
    """Run ``e2e/<script>`` (cached builds are instant) and say how long it took."""
    started = time.monotonic()
    out = subprocess.run(
        ["bash", str(E2E_DIR / script)],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, **environ},
    ).stdout.split()
    log(f"{script}: {time.monotonic() - started:.1f} s")
    return Path(out[0])


# --- the cluster ---------------------------------------------------------------------


@contextlib.contextmanager
def e2e_lock() -> Iterator[None]:
    """Hold the e2e cluster lock (the same lock as ``flock /tmp/ingress-ctl-e2e.lock``)."""
    with LOCK.open("a") as handle:
        started = time.monotonic()
        fcntl.flock(handle, fcntl.LOCK_EX)
        log(f"holding {LOCK} (waited {time.monotonic() - started:.1f} s)")
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def install_crds(cluster: Cluster) -> None:
    """The Gateway API CRDs of deploy/gateway-api, Established."""
    applied = cluster.kubectl(
        "apply", "--server-side", "--force-conflicts", "-k", str(CRDS), "-o", "name", timeout=180
    ).split()
    crds = [name for name in applied if name.startswith("customresourcedefinition")]
    cluster.kubectl("wait", "--for=condition=Established", "--timeout=60s", *crds, timeout=90)


PENDING = {
    "conditions": [
        {
            "type": "Accepted",
            "status": "Unknown",
            "reason": "Pending",
            "message": "Waiting for controller",
            "lastTransitionTime": "1970-01-01T00:00:00Z",
        }
    ],
    "supportedFeatures": None,
}
"""The status the CRD gives a new GatewayClass."""


def reset_gateway_class(cluster: Cluster) -> None:
    """The GatewayClass, its status back to the CRD's default: on a cluster left up, the
    status a previous run's controller wrote would let the suite start before this run's
    controller said anything (the Accepted condition and supportedFeatures it checks)."""
    cluster.kubectl("apply", "-k", str(GATEWAY_CLASS_DIR))
    cluster.kubectl(
        "patch", "gatewayclass", GATEWAY_CLASS, "--subresource=status", "--type=merge",
        "-p", json.dumps({"status": PENDING}),
    )  # fmt: skip


def deploy_pod(cluster: Cluster) -> None:
    """The controller as users run it: e2e/gateway-overlay, the image just built."""
    image = cluster.import_images()
    reset_gateway_class(cluster)
    cluster.kubectl("apply", "-k", str(OVERLAY))
    cluster.kubectl(
        "set", "image", "deployment/ingress-ctl", "-n", NAMESPACE, f"controller={image}"
    )
    cluster.kubectl(
        "rollout", "status", "deployment/ingress-ctl", "-n", NAMESPACE, "--timeout=180s",
        timeout=200,
    )  # fmt: skip


def host_controller_flags() -> list[str]:
    """`ingress-ctl run` flags of the host-process controller (with its ports 80/443/10254)."""
    return [
        "--gateway-address-pool", ADDRESS_POOL, "--controller-namespace", NAMESPACE,
        "--log-level", os.environ.get("GATEWAY_LOG_LEVEL", "info"),
    ]  # fmt: skip


def prepare_host(cluster: Cluster, workdir: Path) -> Path:
    """deploy/cluster and the GatewayClass without the Deployment (no pod competes for the
    ports and the Lease); a kubeconfig with the controller ServiceAccount's token (the RBAC
    of deploy/) for a controller on this machine."""
    cluster.kubectl(
        "delete", "deployment", "ingress-ctl", "-n", NAMESPACE, "--ignore-not-found",
        "--wait=true", "--timeout=120s", timeout=150,
    )  # fmt: skip
    reset_gateway_class(cluster)
    return install(cluster, workdir)


@contextlib.contextmanager
def host_controller(cluster: Cluster, log_path: Path) -> Iterator[None]:
    """`ingress-ctl run` on this machine while the suite runs."""
    kubeconfig = prepare_host(cluster, log_path.parent)
    with running_controller(
        kubeconfig, *host_controller_flags(), ports=(80, 443, 10254), log=log_path
    ) as controller:
        controller.wait_ready(timeout=60)
        log(f"controller running on this machine; its log: {log_path}")
        yield


def own_controller(cluster: Cluster, workdir: Path) -> None:
    """Say how to run the controller yourself (a debugger, a live log) for this run."""
    kubeconfig = prepare_host(cluster, workdir)
    command = [
        str(ROOT / ".venv" / "bin" / "ingress-ctl"), "run", "--kubeconfig", str(kubeconfig),
        "--bind-address", "127.0.0.1", "--http-port", "80", "--https-port", "443",
        "--status-port", "10254", "--state-dir", "/tmp/ingress-ctl-gateway-state",
        *host_controller_flags(),
    ]  # fmt: skip
    log(f"--controller=none: run the controller yourself now:\n  {shlex.join(command)}")


# --- the suite -----------------------------------------------------------------------


def gateway_class_features(cluster: Cluster, wait: float) -> list[str]:
    """status.supportedFeatures of our GatewayClass, waiting up to ``wait`` s for them."""
    deadline = time.monotonic() + wait
    while True:
        with contextlib.suppress(KubectlError):
            out = cluster.kubectl("get", "gatewayclass", GATEWAY_CLASS, "-o", "json")
            status = json.loads(out).get("status", {})
            found = sorted(f["name"] for f in status.get("supportedFeatures") or [])
            if found:
                return found
        if time.monotonic() > deadline:
            return []
        time.sleep(1)


def feature_flags(environ: Mapping[str, str], published: list[str], run_test: str) -> list[str]:
    """-supported-features for the suite, or none to let it read the GatewayClass itself.

    The suite infers the features from the GatewayClass only when it runs everything (not
    with -run-test) and refuses to start when that list is empty: pass them explicitly
    then, or only the core feature (the profiles add theirs) while none are published."""
    if environ.get("GATEWAY_FEATURES"):
        return [f"-supported-features={environ['GATEWAY_FEATURES']}"]
    if published and not run_test:
        return []
    if published:
        return [f"-supported-features={','.join(published)}"]
    log("the GatewayClass publishes no status.supportedFeatures: core features only")
    return ["-supported-features=Gateway"]


def git_version() -> str:
    """`git describe` of the checkout (tags, else the commit; -dirty when changed)."""
    return subprocess.run(
        ["git", "describe", "--tags", "--always", "--dirty"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def suite_args(
    environ: Mapping[str, str], report: Path, features: list[str], *, cleanup_base: bool
) -> list[str]:
    """Arguments of the suite binary (go test flags, then the suite's own)."""
    implementation = {
        key: environ.get(f"GATEWAY_{key.upper()}", value) for key, value in IMPLEMENTATION.items()
    }
    args = [
        "-test.v",
        "-test.run=^TestConformance$",
        # Past -test.timeout Go panics without running cleanups: no report then.
        "-test.timeout=4h",
        f"-gateway-class={GATEWAY_CLASS}",
        f"-conformance-profiles={','.join(PROFILES)}",
        *features,
        f"-report-output={report}",
        *(f"-{key}={value}" for key, value in implementation.items()),
        f"-version={git_version()}",
        f"-cleanup-base-resources={str(cleanup_base).lower()}",
        f"-usable-address={USABLE_ADDRESS}",
        f"-unusable-address={UNUSABLE_ADDRESS}",
    ]
    if environ.get("GATEWAY_RUN_TEST"):
        args.append(f"-run-test={environ['GATEWAY_RUN_TEST']}")
    if environ.get("GATEWAY_SKIP_TESTS"):
        args.append(f"-skip-tests={environ['GATEWAY_SKIP_TESTS']}")
    if environ.get("GATEWAY_TIMEOUTS"):
        args.append(f"-timeout-config-overrides={environ['GATEWAY_TIMEOUTS']}")
    if environ.get("GATEWAY_DEBUG"):
        args.append("-debug")
    return [*args, *shlex.split(environ.get("GATEWAY_ARGS", ""))]


def run_suite(binary: Path, args: list[str], kubeconfig: Path, log_path: Path) -> int:
    """Run the suite binary, its output on stdout and in ``log_path``; its exit code."""
    log(f"running {binary.name} {shlex.join(args)}")
    started = time.monotonic()
    environ = {**os.environ, "KUBECONFIG": str(kubeconfig)}
    with log_path.open("w") as out:
        process = subprocess.Popen(
            [str(binary), *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=environ
        )
        assert process.stdout is not None
        for line in iter(process.stdout.readline, b""):
            text = line.decode(errors="replace")
            sys.stdout.write(text)
            out.write(text)
        code = process.wait()
    log(f"suite exited {code} after {time.monotonic() - started:.0f} s; its output: {log_path}")
    return code


# --- the report ----------------------------------------------------------------------


@dataclass(frozen=True)
class ProfileResult:
    """One profile's line of the summary."""

    name: str
    core: Mapping[str, int] | None
    """Passed/Failed/Skipped of its core tests; None when the profile did not run."""
    extended: Mapping[str, int] | None
    failed_tests: tuple[str, ...]


def profile_results(report: Any, profiles: Sequence[str] = PROFILES) -> list[ProfileResult]:
    """The requested profiles as the suite's report counts them."""
    found = {p["name"]: p for p in (report or {}).get("profiles") or []}
    results = []
    for name in profiles:
        profile = found.get(name)
        if profile is None:
            results.append(ProfileResult(name, None, None, ()))
            continue
        extended = profile.get("extended")
        failed = [*profile["core"].get("failedTests", [])]
        if extended:
            failed += extended.get("failedTests", [])
        results.append(
            ProfileResult(
                name,
                profile["core"]["statistics"],
                extended["statistics"] if extended else None,
                tuple(failed),
            )
        )
    return results


def summary(results: list[ProfileResult]) -> str:
    """A table: profile, core passed/failed/skipped, extended passed/failed."""
    lines = [
        f"{'profile':<14} {'core passed':>11} {'failed':>6} {'skipped':>7}"
        f" {'extended passed':>15} {'failed':>6}"
    ]
    for result in results:
        if result.core is None:
            lines.append(f"{result.name:<14} {'not run':>11}")
            continue
        core, extended = result.core, result.extended or {}
        lines.append(
            f"{result.name:<14} {core.get('Passed', 0):>11} {core.get('Failed', 0):>6}"
            f" {core.get('Skipped', 0):>7} {extended.get('Passed', 0):>15}"
            f" {extended.get('Failed', 0):>6}"
        )
    for result in results:
        if result.failed_tests:
            lines.append(f"{result.name} failed: {', '.join(result.failed_tests)}")
    return "\n".join(lines)


def suite_errors(output: str) -> list[str]:
    """The `Error:` and `Messages:` lines of the suite's failed assertions, in order."""
    return [
        line.strip()
        for line in output.splitlines()
        if line.strip().startswith(("Error:", "Messages:"))
    ]


def verdict(results: list[ProfileResult], *, suite_code: int, single_test: bool) -> int:
    """0 when every profile ran and no core test failed; for one test, the suite's code."""
    if single_test:
        return suite_code
    for result in results:
        if result.core is None or result.core.get("Failed", 0) or not result.core.get("Passed"):
            return 1
    return 0


# --- main ----------------------------------------------------------------------------


def _flag_or_env(value: str | None, name: str, default: str) -> str:
    return value if value is not None else os.environ.get(name, default)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m e2e.gateway",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--controller",
        choices=("pod", "host", "none"),
        help="default pod; none: you run `ingress-ctl run` yourself (the command is printed)",
    )
    parser.add_argument("--report", type=Path, help="default gateway-conformance-report.yaml")
    parser.add_argument("--run-test", metavar="SHORT_NAME")
    parser.add_argument("--skip-tests", metavar="A,B")
    parser.add_argument(
        "--keep-cluster", action="store_true", default=None, help="leave the cluster up"
    )
    parser.add_argument(
        "--cleanup-base-resources",
        choices=("true", "false"),
        help="false keeps the suite's namespaces, backends and Gateways for the next run",
    )
    return parser.parse_args(argv)


@dataclass(frozen=True)
class Options:
    """One run's settings, from the flags and the environment."""

    mode: str
    report: Path
    cleanup_base: bool
    keep_cluster: bool
    environ: dict[str, str]
    artefacts: Path = ROOT / "test-artefacts" / "gateway-conformance"


def options(argv: Sequence[str] | None) -> Options:
    """Flags win over the environment (the module docstring lists both)."""
    args = parse_args(argv)
    environ = dict(os.environ)
    if args.run_test:
        environ["GATEWAY_RUN_TEST"] = args.run_test
    if args.skip_tests:
        environ["GATEWAY_SKIP_TESTS"] = args.skip_tests
    report = args.report or Path(environ.get("GATEWAY_REPORT", "gateway-conformance-report.yaml"))
    cleanup = _flag_or_env(args.cleanup_base_resources, "GATEWAY_CLEANUP_BASE", "true")
    return Options(
        mode=_flag_or_env(args.controller, "GATEWAY_CONTROLLER", "pod"),
        report=report if report.is_absolute() else ROOT / report,
        cleanup_base=cleanup == "true",
        keep_cluster=bool(args.keep_cluster)
        or environ.get("GATEWAY_KEEP_CLUSTER", "") not in ("", "0"),
        environ=environ,
    )


def build(mode: str) -> tuple[Path, SuiteImages]:
    """Everything the run needs that is not built yet (outside the cluster lock)."""
    suite = timed_build("build-gateway-conformance.sh")
    images = classify(manifest_images(suite_module()))
    for version in sorted(set(images.coredns.values())):
        timed_build("build-coredns.sh", COREDNS_VERSION=version)
    timed_build("build-echo.sh")
    if mode == "pod":
        timed_build("build-image.sh")
    return suite, images


def run_on_cluster(opts: Options, suite: Path, images: SuiteImages) -> int:
    """Bring up the cluster (holding the lock), install, run the suite; its exit code."""
    cluster = Cluster()
    with e2e_lock():
        owned = not cluster.running()
        started = time.monotonic()
        cluster.up(images=False)
        log(f"cluster up in {time.monotonic() - started:.1f} s")
        try:
            import_suite_images(cluster, images)
            install_crds(cluster)
            with contextlib.ExitStack() as stack:
                if opts.mode == "pod":
                    deploy_pod(cluster)
                elif opts.mode == "host":
                    stack.enter_context(host_controller(cluster, opts.artefacts / "controller.log"))
                else:
                    own_controller(cluster, opts.artefacts)
                wait = 0.0 if opts.environ.get("GATEWAY_FEATURES") else FEATURES_WAIT_S
                published = gateway_class_features(cluster, wait)
                features = feature_flags(
                    opts.environ, published, opts.environ.get("GATEWAY_RUN_TEST", "")
                )
                args = suite_args(
                    opts.environ, opts.report, features, cleanup_base=opts.cleanup_base
                )
                return run_suite(suite, args, cluster.kubeconfig, opts.artefacts / "suite.log")
        finally:
            if owned and not opts.keep_cluster:
                cluster.down()
            elif owned:
                log(f"cluster left up: export KUBECONFIG={cluster.kubeconfig}")


def main(argv: Sequence[str] | None = None) -> int:
    """Build, run, summarise; 0 when no core test failed (see :func:`verdict`)."""
    opts = options(argv)
    opts.artefacts.mkdir(parents=True, exist_ok=True)
    suite, images = build(opts.mode)
    opts.report.unlink(missing_ok=True)
    code = run_on_cluster(opts, suite, images)
    if not opts.report.exists():
        log(f"the suite wrote no report ({opts.report}); exit code {code}")
        return code or 1
    results = profile_results(yaml.safe_load(opts.report.read_text()))
    print(f"\nGateway API conformance ({opts.mode} controller), report: {opts.report}")
    print(summary(results))
    if all(result.core is None for result in results):
        errors = suite_errors((opts.artefacts / "suite.log").read_text())
        print("no test ran; the suite said:", *errors[:6], sep="\n  ")
    single = bool(opts.environ.get("GATEWAY_RUN_TEST"))
    return verdict(results, suite_code=code, single_test=single)


if __name__ == "__main__":
    sys.exit(main())
