"""Command line: `run`, `render`, `explain`, `migrate` and `status`.

Exit codes: 0 when all is well, 1 when an object was rejected (`render`, `status`), a
backend is not serving (`status`) or an ingress-nginx annotation would not behave the same
(`migrate`), 2 on usage errors.
Only `run` imports the Kubernetes client and the HTTP server (kubernetes_asyncio,
aiohttp): `--help`, `render`, `explain` and `migrate` start without them, and each command
imports only what it uses (`render` is timed at scale: bench/render_scale.py).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ingress_ctl import __version__
from ingress_ctl.building import building
from ingress_ctl.fallback import named_placeholder, placeholder
from ingress_ctl.haproxy.rendering import render
from ingress_ctl.model.objects import Ingress, IngressClass
from ingress_ctl.model.settings import Settings, default_controller_namespace, parse_service_port
from ingress_ctl.model.snapshot import Snapshot
from ingress_ctl.resolving import external_names, own_addresses, resolve_all
from ingress_ctl.sources.files import load_manifests
from ingress_ctl.state_dir import default_state_dir
from ingress_ctl.translation import Translation, translate
from ingress_ctl.translation.ownership import ownership

USAGE_ERROR = 2


STATUS_URL = "http://127.0.0.1:10254"
"""Where `status` asks by default: a local `run` on its default --status-port."""


def _routing_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--gateway-address-pool",
        metavar="IPV4_NETWORK",
        help="give each Gateway without spec.addresses its own address of this network "
        "(e.g. 127.10.0.0/24); its listeners bind there",
    )
    parser.add_argument(
        "--controller-name",
        default="ingress-ctl.io/haproxy",
        help="spec.controller of the IngressClasses we own",
    )
    parser.add_argument(
        "--ingress-class",
        default="haproxy",
        help="value of the deprecated kubernetes.io/ingress.class annotation",
    )
    parser.add_argument(
        "--watch-ingress-without-class",
        action="store_true",
        help="also serve Ingresses that name no class",
    )
    parser.add_argument(
        "--default-backend-service",
        type=parse_service_port,
        default=None,
        metavar="NS/NAME:PORT",
        help="serves requests no rule matches",
    )
    parser.add_argument("--bind-address", default="0.0.0.0")
    parser.add_argument("--http-port", type=int, default=80)
    parser.add_argument("--https-port", type=int, default=443)
    parser.add_argument(
        "--default-ssl-certificate",
        metavar="NS/NAME",
        help="TLS Secret served when no other certificate matches (default: self-signed)",
    )
    parser.add_argument(
        "--configmap",
        metavar="NS/NAME",
        help="ConfigMap of global settings (see docs/configuration.md)",
    )
    parser.add_argument(
        "--tcp-services-configmap",
        metavar="NS/NAME",
        help='ConfigMap of TCP services: "<port>": "<ns>/<service>:<port>[:PROXY[:PROXY]]"',
    )
    parser.add_argument(
        "--allow-external-name",
        action="store_true",
        help="serve ExternalName Services (off by default: see docs/security.md)",
    )
    parser.add_argument(
        "--allow-external-name-namespace",
        dest="allow_external_name_namespaces",
        action="append",
        metavar="NAMESPACE",
        help="serve the ExternalName Services of this namespace (repeatable)",
    )
    parser.add_argument(
        "--nginx-compat",
        action="store_true",
        help="also read nginx.ingress.kubernetes.io/ annotations (see docs/annotations.md)",
    )


def _kubernetes_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Kubernetes mode (when --manifests is absent)")
    group.add_argument(
        "--kubeconfig", type=Path, help="credentials; default $KUBECONFIG, else in-cluster"
    )
    group.add_argument(
        "--watch-namespace",
        dest="watch_namespaces",
        action="append",
        metavar="NAMESPACE",
        help="watch only this namespace (repeatable; default: all)",
    )
    group.add_argument(
        "--publish-address",
        dest="publish_addresses",
        action="append",
        metavar="IP_OR_HOSTNAME",
        help="address written into the status of our Ingresses (repeatable)",
    )
    group.add_argument(
        "--publish-service",
        metavar="NAMESPACE/NAME",
        help="write this Service's addresses into the status of our Ingresses",
    )
    group.add_argument(
        "--election-id", help="name of the leader-election Lease (default ingress-ctl-leader)"
    )
    group.add_argument(
        "--controller-namespace",
        help="namespace of the Lease (default $POD_NAMESPACE, the pod's namespace, ingress-ctl)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ingress-ctl", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the controller")
    _routing_flags(run)
    run.add_argument("--manifests", type=Path, help="file mode: folder of manifests to serve")
    run.add_argument(
        "--status-port", type=int, help="/healthz and /readyz on --bind-address (default 10254)"
    )
    run.add_argument(
        "--status-bind-address",
        help="/status and /metrics listen here (default 127.0.0.1; see docs/security.md)",
    )
    run.add_argument(
        "--metrics-port",
        type=int,
        help="port of /status and /metrics on --status-bind-address (default 10255)",
    )
    run.add_argument(
        "--state-dir",
        type=Path,
        help="private directory of HAProxy's files and sockets "
        "(default $XDG_RUNTIME_DIR/ingress-ctl, else /var/run/ingress-ctl)",
    )
    run.add_argument("--haproxy-bin", default="haproxy")
    run.add_argument("--log-format", choices=("text", "json"), default="text")
    run.add_argument("--log-level", choices=("debug", "info", "warning", "error"), default="info")
    run.add_argument(
        "--sync-settle",
        type=float,
        metavar="SECONDS",
        help="let a burst of changes settle this long before syncing (default 0.05)",
    )
    run.add_argument(
        "--min-reload-interval",
        type=float,
        metavar="SECONDS",
        help="at least this long between two HAProxy reloads (default 0.5)",
    )
    run.add_argument(
        "--metrics-per-server",
        action="store_true",
        default=None,
        help="/metrics also exposes haproxy_server_* per server (pod), not only per backend",
    )
    _kubernetes_flags(run)

    rendering = commands.add_parser("render", help="print the HAProxy configuration")
    _routing_flags(rendering)
    rendering.add_argument("-f", "--filename", type=Path, action="append", required=True)
    rendering.add_argument("--out", type=Path, help="write haproxy.cfg and its maps here")

    explaining = commands.add_parser("explain", help="say where a request goes and why")
    _routing_flags(explaining)
    explaining.add_argument("-f", "--filename", type=Path, action="append", required=True)
    explaining.add_argument("--url", required=True)
    explaining.add_argument(
        "--method", default="GET", help="the request's method (Gateway matches may ask for one)"
    )
    explaining.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a request header (Gateway matches may ask for one); repeat for more",
    )
    explaining.add_argument(
        "--gateway",
        metavar="NAMESPACE/NAME",
        help="the Gateway whose port the URL names, when several listen on it",
    )

    migrating = commands.add_parser(
        "migrate", help="report what the ingress-nginx annotations of Ingresses become"
    )
    migrating.add_argument("-f", "--filename", type=Path, action="append", required=True)

    status = commands.add_parser("status", help="show a running controller's hosts and backends")
    status.add_argument("--url", default=STATUS_URL, help=f"its status port (default {STATUS_URL})")
    status.add_argument(
        "-o", "--output", choices=("table", "wide", "json", "yaml"), default="table"
    )
    return parser


_NOT_SETTINGS = frozenset(
    {"command", "filename", "out", "url", "output", "method", "header", "gateway"}
)


def parse_command_line(argv: Sequence[str] | None) -> tuple[argparse.Namespace, Settings]:
    """The parsed arguments and the Settings they make (pydantic's ValidationError if bad).

    A flag left out keeps the Settings default; `run` finds its namespace in the
    environment unless --controller-namespace names it.
    """
    args = _parser().parse_args(argv)
    values: dict[str, Any] = {
        key: value
        for key, value in vars(args).items()
        if key not in _NOT_SETTINGS and value is not None
    }
    if args.command == "run" and "controller_namespace" not in values:
        values["controller_namespace"] = default_controller_namespace(os.environ)
    if args.command == "run" and "state_dir" not in values:
        values["state_dir"] = default_state_dir(os.environ)
    return args, Settings(**values)


def _translate(args: argparse.Namespace, settings: Settings) -> tuple[Translation, int]:
    with building():
        loaded = load_manifests(args.filename)
        snapshot = Snapshot.of(loaded.objects)
        names = external_names(snapshot)
        if names:
            snapshot = replace(snapshot, resolved=resolve_all(names, own_addresses()))
        fallback = placeholder() if getattr(args, "out", None) else named_placeholder()
        translation = translate(snapshot, settings=settings, fallback_certificate=fallback)
    problems = loaded.problems + translation.problems
    for problem in problems:
        print(f"{problem.severity}: {problem}", file=sys.stderr)
    for found in translation.ingresses:
        if found.state == "ignored":
            source = found.source
            print(
                f"ignored: Ingress {source.namespace}/{source.name}: {found.reason}",
                file=sys.stderr,
            )
    return translation, int(any(p.severity == "error" for p in problems))


def _render(args: argparse.Namespace, settings: Settings) -> int:
    translation, code = _translate(args, settings)
    with building():
        files = render(translation.routing, settings=settings)
    if args.out is None:
        sys.stdout.write(files["haproxy.cfg"])
        return code
    from ingress_ctl.haproxy.applying import write_files  # noqa: PLC0415 (--out only)

    write_files(args.out, files)
    return code


def _explain(args: argparse.Namespace, settings: Settings) -> int:
    from ingress_ctl.explaining import explain  # noqa: PLC0415 (each command imports its own)

    translation, _ = _translate(args, settings)
    headers = dict(header.partition("=")[::2] for header in args.header)
    try:
        lines = explain(
            translation.routing,
            url=args.url,
            method=args.method,
            headers=headers,
            gateway=args.gateway,
        )
    except ValueError as error:
        print(f"ingress-ctl explain: {error}", file=sys.stderr)
        return USAGE_ERROR
    print("\n".join(lines))
    return 0


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    from ingress_ctl.annotations.migrating import migrate, report  # noqa: PLC0415

    with building():
        loaded = load_manifests(args.filename)
    for problem in loaded.problems:
        print(f"{problem.severity}: {problem}", file=sys.stderr)
    ingresses = sorted(
        (obj for obj in loaded.objects if isinstance(obj, Ingress)),
        key=lambda found: (found.metadata.namespace, found.metadata.name),
    )
    classes = {obj.metadata.name: obj for obj in loaded.objects if isinstance(obj, IngressClass)}
    migrations = [
        migrate(
            f"{found.metadata.namespace}/{found.metadata.name}",
            found.metadata.annotations,
            paths=[
                path.path or "/"
                for rule in found.spec.rules
                if rule.http is not None
                for path in rule.http.paths
            ],
            ignored=ownership(found, classes=classes, settings=settings),
        )
        for found in ingresses
    ]
    print("\n".join(report(migrations)))
    return int(any(migration.blocked for migration in migrations))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `ingress-ctl` command."""
    try:
        args, settings = parse_command_line(argv)
    except ValidationError as error:
        print(f"ingress-ctl: invalid flags: {error}", file=sys.stderr)
        return USAGE_ERROR
    if args.command == "render":
        return _render(args, settings)
    if args.command == "explain":
        return _explain(args, settings)
    if args.command == "migrate":
        return _migrate(args, settings)
    if args.command == "status":
        from ingress_ctl.web.inspecting import status_command  # noqa: PLC0415

        return status_command(url=args.url, output=args.output)
    import asyncio  # noqa: PLC0415 (`run` only)

    from ingress_ctl.app import run  # noqa: PLC0415 (the Kubernetes and HTTP code: `run` only)

    return asyncio.run(run(settings))


if __name__ == "__main__":
    sys.exit(main())
