"""`translate`: a snapshot of objects folded into the routing model, in one pass.

The global ConfigMap first (its values are the defaults of every Ingress),
then our Ingresses oldest first (their annotations read into route policies):
a passthrough Ingress adds SNI routes, any other adds HTTP routes and TLS
names; canary Ingresses come last and join the routes of the others; then
the from-to-www redirects of hosts no Ingress serves. Then the default
certificate, the TCP services, and the frozen Routing with only the
certificates in use.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from operator import attrgetter

from ingress_ctl.annotations import https
from ingress_ctl.model.gateway_statuses import GatewayStatuses
from ingress_ctl.model.globals import GlobalConfig
from ingress_ctl.model.objects import ConfigMap, Ingress, IngressClass, Secret, Service
from ingress_ctl.model.problems import Problem
from ingress_ctl.model.records import ByClass
from ingress_ctl.model.routing import (
    Backend,
    CABundle,
    Certificate,
    ObjectRef,
    Routing,
    TCPService,
    TLSName,
    Value,
)
from ingress_ctl.model.settings import Settings
from ingress_ctl.model.snapshot import Snapshot
from ingress_ctl.model.verdicts import BackendReport, IngressReport
from ingress_ctl.translation.backends import ExternalNames, Index, endpoint_total
from ingress_ctl.translation.canaries import add_canary
from ingress_ctl.translation.configmap import global_config
from ingress_ctl.translation.fold import Fold
from ingress_ctl.translation.gateway.translated import GatewayTranslation
from ingress_ctl.translation.ingresses import (
    BUILTIN_404,
    add_http,
    controller_default,
    virtual_hosts,
)
from ingress_ctl.translation.makers import new_backend_report, new_ingress_report, new_object_ref
from ingress_ctl.translation.options import IngressOptions, ingress_options
from ingress_ctl.translation.ownership import ownership
from ingress_ctl.translation.passthrough import add_passthrough
from ingress_ctl.translation.route_policies import (
    IngressAnnotations,
    ingress_annotations,
    read_service,
)
from ingress_ctl.translation.tcp import add_tcp_services
from ingress_ctl.translation.tls import TLSFold
from ingress_ctl.translation.www import add_www_redirects


class Translation(Value):
    """The routing model, every problem found, and a report per Ingress."""

    routing: Routing
    problems: ByClass[tuple[Problem, ...]]
    ingresses: ByClass[tuple[IngressReport, ...]]
    gateway: GatewayStatuses = GatewayStatuses()
    """The status of the Gateway API objects we own (written by the leader)."""


def translate(
    snapshot: Snapshot,
    *,
    settings: Settings,
    fallback_certificate: Certificate | None = None,
    now: datetime | None = None,
) -> Translation:
    """Fold a snapshot into the routing model (pure and deterministic for a given `now`).

    `fallback_certificate` is the default certificate unless `--default-ssl-certificate`
    names a usable Secret; with neither, nothing is served over HTTPS. `now` (default: the
    current time) decides which certificates have expired.
    """
    fold = Fold(index=Index.of(snapshot, external=ExternalNames.of(snapshot, settings)))
    config = read_config(fold, snapshot, settings)
    _check_services(fold, snapshot)
    tls = TLSFold(secrets=snapshot.objects(Secret), now=now or datetime.now(UTC))
    reports, owned = _owned(fold, tls, snapshot, settings)
    owned.sort(key=lambda item: item[2].canary is not None)  # canaries join the others' routes
    defaults = ingress_options(https.NOTHING, config)  # most Ingresses have no annotations
    reports += [
        fold_ingress(fold, tls, ingress, source, found, config, defaults)
        for ingress, source, found in owned
    ]
    add_www_redirects(
        fold, ((ingress, source) for ingress, source, found in owned if found.from_to_www)
    )
    default_certificate = tls.default(fold, settings, fallback_certificate)
    tcp_configmap, tcp_source = _configmap(
        fold, snapshot, settings.tcp_services_configmap, "no TCP services are served"
    )
    tcp = add_tcp_services(
        fold,
        tls,
        tcp_configmap,
        source=tcp_source,
        settings=settings,
        default_certificate=default_certificate,
    )
    names = _tls_names(fold, tls, https=default_certificate is not None)
    if default_certificate is None:
        _no_passthrough(fold)
    gateways = _gateways(fold, snapshot, settings, tls)
    routing = _routing(fold, settings, config, tls, default_certificate, names, tcp, gateways)
    return Translation(
        routing=routing,
        problems=tuple(fold.problems),
        ingresses=tuple(sorted(reports, key=attrgetter("source.namespace", "source.name"))),
        gateway=gateways.statuses,
    )


def _gateways(
    fold: Fold, snapshot: Snapshot, settings: Settings, tls: TLSFold
) -> GatewayTranslation:
    """What Gateways serve: nothing without a GatewayClass, and then the Gateway API's
    translation (and its views) is not even imported."""
    if not snapshot.kinds.get("GatewayClass"):
        return GatewayTranslation()
    from ingress_ctl.translation.gateway.gateways import translate_gateways  # noqa: PLC0415

    return translate_gateways(fold, snapshot, settings, tls)


def _oldest_first(snapshot: Snapshot) -> list[Ingress]:
    return sorted(snapshot.objects(Ingress).values(), key=attrgetter("metadata.age"))


Owned = tuple[Ingress, ObjectRef, IngressAnnotations]


def _owned(
    fold: Fold, tls: TLSFold, snapshot: Snapshot, settings: Settings
) -> tuple[list[IngressReport], list[Owned]]:
    """Reports of the Ingresses we ignore, and ours with their annotations read, oldest first."""
    classes = {name: cls for (_, name), cls in snapshot.objects(IngressClass).items()}
    config_maps = snapshot.objects(ConfigMap)
    ignored: list[IngressReport] = []
    owned: list[Owned] = []
    for ingress in _oldest_first(snapshot):
        meta = ingress.metadata
        source = new_object_ref(kind="Ingress", namespace=meta.namespace, name=meta.name)
        reason = ownership(ingress, classes=classes, settings=settings)
        if reason is not None:
            ignored.append(new_ingress_report(source=source, state="ignored", reason=reason))
            continue
        annotations = ingress_annotations(
            ingress,
            source,
            services=fold.index.services,
            secrets=tls.secrets,
            config_maps=config_maps,
            bundles=fold.ca_bundles,
            nginx=settings.nginx_compat,
        )
        owned.append((ingress, source, annotations))
    return ignored, owned


def fold_ingress(
    fold: Fold,
    tls: TLSFold,
    ingress: Ingress,
    source: ObjectRef,
    annotations: IngressAnnotations,
    config: GlobalConfig,
    defaults: IngressOptions,
) -> IngressReport:
    """Fold one of our Ingresses (its annotations read) into `fold`; its report."""
    before = len(fold.problems)
    fold.problems.extend(annotations.problems)
    request = annotations.https
    options = defaults if request is https.NOTHING else ingress_options(request, config)
    if annotations.canary is not None:
        served = add_canary(fold, ingress, source, annotations.policies, annotations.canary)
    elif options.ssl_passthrough:
        served = add_passthrough(fold, ingress, source)
    else:
        served = add_http(fold, ingress, source, annotations.policies)
        served += tls.add_ingress(fold, ingress, source, options)
    fold.problems.extend(annotations.policies.finish())
    backends, not_serving = _backend_reports(fold, source)
    return new_ingress_report(
        source=source,
        state="serving",
        routes=tuple(served),
        problems=tuple(fold.problems[before:]),
        backends=backends,
        not_serving=not_serving,
    )


def _backend_reports(fold: Fold, source: ObjectRef) -> tuple[tuple[BackendReport, ...], str]:
    """The backends an Ingress sends to, with their server and endpoint counts (a canary's
    may have been merged into its main Ingress's backend already: not listed); and those
    without a server, with why ("" when each has one)."""
    found = []
    not_serving = []
    for name, missing in sorted(fold.uses_of(source).items()):
        backend = fold.backends.get(name)
        if backend is None:
            continue
        ref = backend.service
        ready = len(backend.servers)
        found.append(
            new_backend_report(
                name=name,
                service=f"{ref.namespace}/{ref.name}:{ref.port}" if ref else "",
                ready=ready,
                total=endpoint_total(ref, index=fold.index) if ref else 0,
                reason=missing or "",
            )
        )
        if not ready:
            not_serving.append(f"{name}: {missing or 'no ready endpoint'}")
    return tuple(found), "; ".join(not_serving)


def read_config(fold: Fold, snapshot: Snapshot, settings: Settings) -> GlobalConfig:
    """The global ConfigMap's values; its problems go into `fold`."""
    configmap, source = _configmap(fold, snapshot, settings.configmap, "the defaults apply")
    config, problems = global_config(configmap, source=source)
    fold.problems.extend(problems)
    return config


def _configmap(
    fold: Fold, snapshot: Snapshot, ref: str | None, otherwise: str
) -> tuple[ConfigMap | None, ObjectRef]:
    """The ConfigMap a flag names (a warning if it names one that does not exist)."""
    namespace, _, name = (ref or "/").partition("/")
    source = ObjectRef(kind="ConfigMap", namespace=namespace, name=name)
    found = snapshot.objects(ConfigMap).get((namespace, name))
    if ref is not None and found is None:
        fold.problem(source, "(object)", f"not found; {otherwise}", "warning")
    return found, source


def _check_services(fold: Fold, snapshot: Snapshot) -> None:
    """A problem for every Service annotation of ours that cannot be read (those of Services
    with annotations, in the order of their names)."""
    annotated = (
        (key, found)
        for key, found in snapshot.objects(Service).items()
        if found.metadata.annotations
    )
    for key, service in sorted(annotated):
        proxy, problems = read_service(service)
        fold.problems.extend(problems)
        if proxy is not None:
            fold.index.send_proxy[key] = proxy


def _tls_names(fold: Fold, tls: TLSFold, *, https: bool) -> tuple[TLSName, ...]:
    """The terminated SNI names that are served: none without HTTPS, none passed through."""
    kept = []
    for name in sorted(tls.names.values(), key=lambda found: found.name):
        if not https:
            reason = "HTTPS is off: no default certificate (give --default-ssl-certificate)"
            fold.problem(name.source, "spec.tls", reason, "warning")
        elif name.name in fold.passthrough:
            owner = fold.passthrough[name.name].source
            reason = f"{name.name} is passed through by {owner}: its certificate is never served"
            fold.problem(name.source, "spec.tls", reason, "warning")
        else:
            kept.append(name)
    return tuple(kept)


def _no_passthrough(fold: Fold) -> None:
    """Without HTTPS there is no port to pass TLS through: drop the routes, say why."""
    for route in fold.passthrough.values():
        reason = "HTTPS is off: no default certificate (give --default-ssl-certificate)"
        fold.problem(route.source, "metadata.annotations", reason, "warning")
    fold.passthrough.clear()


def _routing(
    fold: Fold,
    settings: Settings,
    config: GlobalConfig,
    tls: TLSFold,
    default_certificate: Certificate | None,
    names: tuple[TLSName, ...],
    tcp: tuple[TCPService, ...],
    gateways: GatewayTranslation,
) -> Routing:
    default, why = controller_default(fold, settings)
    backends = dict(fold.backends)
    backends.setdefault(BUILTIN_404.name, BUILTIN_404)
    passthrough = tuple(fold.passthrough[name] for name in sorted(fold.passthrough))
    return Routing(
        hosts=virtual_hosts(fold),
        default_backend=default,
        default_source=why,
        backends=tuple(backends[name] for name in sorted(backends)),
        config=config,
        default_certificate=default_certificate,
        certificates=_in_use(tls, default_certificate, names, tcp, gateways.certificates),
        tls_names=names,
        passthrough=passthrough,
        tcp_services=tcp,
        ca_bundles=_bundles(fold, backends.values()) + gateways.ca_bundles,
        gateway_ports=gateways.ports,
        splits=gateways.splits,
    )


def _bundles(fold: Fold, backends: Iterable[Backend]) -> tuple[CABundle, ...]:
    """The CA files that the backends verify their pods against."""
    files = {backend.policy.backend.upstream.ca_file for backend in backends}
    return tuple(
        CABundle(file=file, pem=fold.ca_bundles[file]) for file in sorted(f for f in files if f)
    )


def _in_use(
    tls: TLSFold,
    default: Certificate | None,
    names: Iterable[TLSName],
    tcp: Iterable[TCPService],
    gateways: Iterable[str],
) -> tuple[Certificate, ...]:
    files = {name.certificate for name in names} | {service.certificate for service in tcp}
    files.update(gateways)
    if default is not None:
        files.add(default.file)
    return tuple(tls.by_file[file] for file in sorted(file for file in files if file))
