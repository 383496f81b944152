"""Incremental translation: `translate` again, reusing the last result where a change
leaves it alone.

`Translator.translate(snapshot)` gives exactly what `translate` gives for the same
snapshot (a property test compares them over random change sequences). It compares the
snapshot with the one it translated last, object by object (the store replaces an object
only when it changed, so identity tells). When only Ingresses, Services and endpoint
objects changed (and no Gateway API object of ours is served), it folds again just the Ingresses the change reaches (the changed ones,
and those sending to a changed Service), each on a fold of its own with the same
functions `translate` uses, and patches their hosts, backends, report and problems into
the last result; the rest is reused as it was.

That is exact only when those Ingresses share nothing that the oldest-first fold decides
between Ingresses. It falls back to the full pass otherwise: when an Ingress it would fold
again is a canary, passes TLS through, redirects from-to-www or has a default backend, or
shares a host key (rule host, TLS host, www peer) with another of our Ingresses, or has
`spec.tls` while HTTPS is off; when there is a canary at all (it moves other Ingresses'
backends); when any other kind changed (Secrets included); when a changed Service is
reached by a TCP service or the default backend flag; when an ExternalName resolves
differently; when a certificate became valid or expired since the last pass. A
translation holding a host, SNI name or passthrough name that no Ingress claims (routing
made from another kind of object) is never patched.
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ingress_ctl.annotations import https
from ingress_ctl.model.globals import GlobalConfig
from ingress_ctl.model.matching import parse_host
from ingress_ctl.model.objects import (
    ConfigMap,
    EndpointSlice,
    Ingress,
    IngressClass,
    Secret,
    Service,
)
from ingress_ctl.model.problems import Problem
from ingress_ctl.model.routing import (
    Backend,
    CABundle,
    Certificate,
    ObjectRef,
    ProxyProtocol,
    Routing,
    TLSName,
    VirtualHost,
)
from ingress_ctl.model.settings import Settings
from ingress_ctl.model.snapshot import NamespacedName, Snapshot
from ingress_ctl.model.verdicts import IngressReport
from ingress_ctl.translation.backends import SERVICE_NAME_LABEL, ExternalNames, Index
from ingress_ctl.translation.certificates import validity_edges
from ingress_ctl.translation.fold import Fold
from ingress_ctl.translation.ingresses import virtual_hosts
from ingress_ctl.translation.options import IngressOptions, ingress_options
from ingress_ctl.translation.ownership import ownership
from ingress_ctl.translation.route_policies import ingress_annotations, read_service
from ingress_ctl.translation.tls import TLSFold
from ingress_ctl.translation.translate import Translation, fold_ingress, read_config, translate

PATCHED_KINDS = frozenset({"Ingress", "Service", "EndpointSlice", "Endpoints"})
"""The kinds whose changes a patch can follow; any other change makes a full pass."""

FoldOrder = tuple[bool, object, str, str]
"""Where an Ingress folds: canaries last, else oldest first (as `translate` folds them)."""


@dataclass(frozen=True, slots=True)
class Digest:
    """What a patch needs to know of one Ingress, made once per object."""

    ingress: Ingress
    reason: str | None
    """Why it is ignored; None: it is ours."""
    alone: bool = False
    """Ours, and its fold touches nothing but its hosts, TLS names and backends: no canary,
    passthrough, from-to-www or default backend."""
    tls: bool = False
    """It has `spec.tls`: SNI names (each of its own hosts)."""
    canary: bool = False
    hosts: frozenset[str] = frozenset()
    """Every host key it may claim: rule hosts, TLS hosts, www peers."""
    services: frozenset[str] = frozenset()
    """The Services of its namespace it sends to."""

    @property
    def order(self) -> FoldOrder:
        return (self.canary, *self.ingress.metadata.age)


@dataclass
class Parts:
    """The last translation taken apart: what a patch changes, and what it keeps."""

    digests: dict[NamespacedName, Digest]
    reports: dict[NamespacedName, IngressReport]
    hosts: dict[str, VirtualHost]
    backends: dict[str, Backend]
    tls_names: dict[str, TLSName]
    certificates: dict[str, Certificate]
    """Every certificate seen, by file (the routing keeps those in use)."""
    kept: frozenset[str]
    """Backends no Ingress report names (built-ins, TCP services, the default backend)."""
    pinned: frozenset[NamespacedName]
    """Services that a kept backend reaches."""
    head: tuple[Problem, ...]
    """The global ConfigMap's problems: first in a translation's problems."""
    tail: tuple[Problem, ...]
    """The problems after the Ingresses': www, TLS names, TCP services, default backend."""
    bundles: dict[str, str]
    services: dict[NamespacedName, tuple[Service, ProxyProtocol | None, tuple[Problem, ...]]]
    service_order: list[NamespacedName]
    owners: Counter[str] = field(default_factory=Counter)
    """Host key -> how many of our Ingresses may claim it."""
    users: defaultdict[NamespacedName, set[NamespacedName]] = field(
        default_factory=lambda: defaultdict(set)
    )
    """Service -> our Ingresses sending to it."""
    uses: Counter[str] = field(default_factory=Counter)
    """Backend -> how many Ingress reports name it."""
    order: list[tuple[FoldOrder, NamespacedName]] = field(default_factory=list)
    canaries: int = 0

    def add(self, key: NamespacedName, digest: Digest, report: IngressReport) -> None:
        self.digests[key] = digest
        self.reports[key] = report
        if digest.reason is not None:
            return
        self.owners.update(digest.hosts)
        for name in digest.services:
            self.users[(key[0], name)].add(key)
        self.uses.update(backend.name for backend in report.backends)
        bisect.insort(self.order, (digest.order, key))
        self.canaries += digest.canary

    def remove(self, key: NamespacedName) -> None:
        digest = self.digests.pop(key)
        report = self.reports.pop(key)
        if digest.reason is not None:
            return
        self.owners.subtract(digest.hosts)
        for name in digest.services:
            self.users[(key[0], name)].discard(key)
        self.uses.subtract(backend.name for backend in report.backends)
        del self.order[bisect.bisect_left(self.order, (digest.order, key))]
        self.canaries -= digest.canary
        for host in digest.hosts:
            self.hosts.pop(host, None)
            self.tls_names.pop(host, None)

    def read_service(self, key: NamespacedName, service: Service | None) -> None:
        """Read a Service's annotations again (None: it was deleted), unless unchanged."""
        known = self.services.get(key)
        if service is None:
            if known is not None:
                del self.services[key]
                del self.service_order[bisect.bisect_left(self.service_order, key)]
            return
        if known is not None and known[0] is service:
            return
        if known is None:
            bisect.insort(self.service_order, key)
        proxy, problems = read_service(service)
        self.services[key] = (service, proxy, tuple(problems))

    def problems(self) -> tuple[Problem, ...]:
        """In `translate`'s order: ConfigMap, Services, our Ingresses as folded, the rest."""
        found = list(self.head)
        for key in self.service_order:
            found += self.services[key][2]
        for _, key in self.order:
            found += self.reports[key].problems
        found += self.tail
        return tuple(found)


@dataclass
class Last:
    """The last snapshot translated, its translation, and when."""

    snapshot: Snapshot
    translation: Translation
    now: datetime
    edges: tuple[datetime, ...]
    """When the validity of a certificate in its Secrets changes (see `validity_edges`)."""
    parts: Parts | None = None
    """Taken apart on the first patch (None until then, or if it cannot be)."""
    whole: bool = True
    """False once the translation is known not to come apart (see `Translator._parts`)."""


class Translator:
    """`translate` for a sequence of snapshots, patching the last result when it can."""

    def __init__(
        self, *, settings: Settings, fallback_certificate: Certificate | None = None
    ) -> None:
        self._settings = settings
        self._fallback = fallback_certificate
        self._last: Last | None = None
        self._digests: dict[NamespacedName, Digest] = {}
        self._basis: tuple[dict[str, IngressClass], GlobalConfig] | None = None
        """What the digests were made with (made again when it changes)."""
        self._edges: dict[NamespacedName, tuple[Secret, tuple[datetime, ...]]] = {}
        self.patched = False
        """Whether the last pass was a patch (else a full translation)."""
        self.why_full = ""
        """Why the last pass was a full one."""

    def translate(self, snapshot: Snapshot, *, now: datetime | None = None) -> Translation:
        """What `translate(snapshot, ...)` gives, made by a patch when the change allows."""
        now = now or datetime.now(UTC)
        last = self._last
        found = None
        self.why_full = "first pass"
        if last is not None:
            found = self._patch(last, snapshot, now)
        self.patched = found is not None
        if found is None:
            found = translate(
                snapshot, settings=self._settings, fallback_certificate=self._fallback, now=now
            )
            self._last = Last(snapshot, found, now, self._secret_edges(snapshot))
        else:
            assert last is not None
            last.snapshot, last.translation, last.now = snapshot, found, now
        return found

    def _secret_edges(self, snapshot: Snapshot) -> tuple[datetime, ...]:
        secrets = snapshot.objects(Secret)
        cached = self._edges
        self._edges = {}
        for key, secret in secrets.items():
            known = cached.get(key)
            if known is None or known[0] is not secret:
                known = (secret, validity_edges(secret))
            self._edges[key] = known
        return tuple(sorted({edge for _, edges in self._edges.values() for edge in edges}))

    def _patch(self, last: Last, snapshot: Snapshot, now: datetime) -> Translation | None:
        """The translation of snapshot as a patch of the last one; None if it cannot be."""
        changed = _changes(last.snapshot, snapshot)
        other = set(changed) - PATCHED_KINDS
        if other:
            self.why_full = f"{', '.join(sorted(other))} changed"
            return None
        if snapshot.resolved != last.snapshot.resolved:
            self.why_full = "an ExternalName resolves differently"
            return None
        if any(last.now < edge <= now for edge in last.edges):
            self.why_full = "a certificate became valid or expired"
            return None
        if _gateway_api(last.translation):
            self.why_full = "Gateway API objects are served (their routes are not patched)"
            return None
        parts = self._parts(last)
        if parts is None:
            self.why_full = "the last translation does not come apart"
            return None
        return self._apply(parts, snapshot, changed, now)

    def _parts(self, last: Last) -> Parts | None:
        """The last translation taken apart (once), or None if it does not come apart (then
        every pass is a full one until the next full translation)."""
        if last.parts is None and last.whole:
            last.parts = self._take_apart(last.snapshot, last.translation)
            last.whole = last.parts is not None
        return last.parts

    def _take_apart(self, snapshot: Snapshot, translation: Translation) -> Parts | None:
        """The parts of a translation; None unless its problems are the ConfigMap's, the
        Services', the Ingresses' in fold order and the rest, in that order, and each host,
        SNI name and passthrough name is one an Ingress's digest claims (anything else that
        made routing would escape the checks that a patch is exact)."""
        routing = translation.routing
        config, head = self._config(snapshot)
        defaults = ingress_options(https.NOTHING, config)
        classes = _classes(snapshot)
        named = {backend.name for report in translation.ingresses for backend in report.backends}
        kept = frozenset(backend.name for backend in routing.backends if backend.name not in named)
        by_name = {backend.name: backend for backend in routing.backends}
        pinned = frozenset(
            (service.namespace, service.name)
            for name in kept
            if (service := by_name[name].service) is not None
        )
        reports = {(r.source.namespace, r.source.name): r for r in translation.ingresses}
        parts = Parts(
            digests={},
            reports={},
            hosts={vhost.host: vhost for vhost in routing.hosts},
            backends=by_name,
            tls_names={name.name: name for name in routing.tls_names},
            certificates={certificate.file: certificate for certificate in routing.certificates},
            kept=kept,
            pinned=pinned,
            head=head,
            tail=(),
            bundles={bundle.file: bundle.pem for bundle in routing.ca_bundles},
            services={},
            service_order=[],
        )
        for key, found in snapshot.objects(Service).items():
            parts.read_service(key, found)
        for key, ingress in snapshot.objects(Ingress).items():
            digest = self._digest(snapshot, classes, config, defaults, ingress)
            if key not in reports:
                return None
            parts.add(key, digest, reports[key])
        start = len(parts.problems())
        parts.tail = translation.problems[start:]
        if parts.problems() != translation.problems:
            return None
        claimed = [*parts.hosts, *parts.tls_names, *(route.name for route in routing.passthrough)]
        if any(parts.owners[host] <= 0 for host in claimed):
            return None  # a host that no Ingress of ours claims: made by something else
        return parts

    def _config(self, snapshot: Snapshot) -> tuple[GlobalConfig, tuple[Problem, ...]]:
        """The global configuration, and its problems (the first of a translation's)."""
        fold = Fold(index=Index(services={}, slices={}, endpoints={}))
        config = read_config(fold, snapshot, self._settings)
        return config, tuple(fold.problems)

    def _digest(
        self,
        snapshot: Snapshot,
        classes: dict[str, IngressClass],
        config: GlobalConfig,
        defaults: IngressOptions,
        ingress: Ingress,
    ) -> Digest:
        if self._basis != (classes, config):
            self._basis, self._digests = (dict(classes), config), {}
        meta = ingress.metadata
        key = (meta.namespace, meta.name)
        known = self._digests.get(key)
        if known is not None and known.ingress is ingress:
            return known
        found = _digest(
            ingress,
            reason=ownership(ingress, classes=classes, settings=self._settings),
            snapshot=snapshot,
            config=config,
            defaults=defaults,
            nginx=self._settings.nginx_compat,
        )
        self._digests[key] = found
        return found

    def _apply(
        self,
        parts: Parts,
        snapshot: Snapshot,
        changed: Mapping[str, set[NamespacedName]],
        now: datetime,
    ) -> Translation | None:
        """Fold again the Ingresses the change reaches and patch them in; None (and the
        parts untouched) if that would not give what `translate` gives."""
        services = _changed_services(changed, snapshot, self._last_snapshot())
        if services & parts.pinned:
            self.why_full = "a Service of a TCP service or of the default backend changed"
            return None
        config, _ = self._config(snapshot)
        defaults = ingress_options(https.NOTHING, config)
        classes = _classes(snapshot)
        ingresses = snapshot.objects(Ingress)
        affected = set(changed.get("Ingress", ()))
        for service in services:
            affected |= parts.users.get(service, set())
        fresh = {
            key: self._digest(snapshot, classes, config, defaults, ingresses[key])
            for key in affected
            if key in ingresses
        }
        served = self._last_translation().routing.default_certificate is not None
        why = _not_alone(parts, affected, fresh, https=served)
        if why:
            self.why_full = why
            return None
        self._fold_again(parts, snapshot, affected, fresh, services, config, defaults, now)
        last = self._last_translation()
        return last.model_copy(
            update={
                "routing": _routing(parts, last.routing),
                "problems": parts.problems(),
                "ingresses": tuple(parts.reports[key] for key in sorted(parts.reports)),
            }
        )

    def _fold_again(
        self,
        parts: Parts,
        snapshot: Snapshot,
        affected: set[NamespacedName],
        fresh: Mapping[NamespacedName, Digest],
        services: set[NamespacedName],
        config: GlobalConfig,
        defaults: IngressOptions,
        now: datetime,
    ) -> None:
        """Take the affected Ingresses out of the parts, then fold each again on its own."""
        for key in affected & parts.digests.keys():
            parts.remove(key)
            if key not in fresh:
                self._digests.pop(key, None)
        for name, count in list(parts.uses.items()):
            if count <= 0:
                del parts.uses[name]
                if name not in parts.kept:
                    parts.backends.pop(name, None)
        for key in services:
            parts.read_service(key, snapshot.objects(Service).get(key))
        needed = {(key[0], name) for key in fresh for name in fresh[key].services}
        index = Index.of(snapshot, only=needed, external=ExternalNames.of(snapshot, self._settings))
        for key in needed:
            known = parts.services.get(key)
            if known is not None and known[1] is not None:
                index.send_proxy[key] = known[1]
        for key, digest in fresh.items():
            source = ObjectRef(kind="Ingress", namespace=key[0], name=key[1])
            if digest.reason is not None:
                report = IngressReport(source=source, state="ignored", reason=digest.reason)
                parts.add(key, digest, report)
                continue
            fold = Fold(index=index)
            annotations = ingress_annotations(
                digest.ingress,
                source,
                services=index.services,
                secrets=snapshot.objects(Secret),
                config_maps=snapshot.objects(ConfigMap),
                bundles=fold.ca_bundles,
                nginx=self._settings.nginx_compat,
            )
            tls = TLSFold(secrets=snapshot.objects(Secret), now=now)
            report = fold_ingress(fold, tls, digest.ingress, source, annotations, config, defaults)
            parts.hosts.update((vhost.host, vhost) for vhost in virtual_hosts(fold))
            parts.tls_names.update(tls.names)
            parts.certificates.update(tls.by_file)
            parts.backends.update(fold.backends)
            parts.bundles.update(fold.ca_bundles)
            parts.add(key, digest, report)

    def _last_snapshot(self) -> Snapshot:
        assert self._last is not None
        return self._last.snapshot

    def _last_translation(self) -> Translation:
        assert self._last is not None
        return self._last.translation


def _routing(parts: Parts, last: Routing) -> Routing:
    """The last routing with the parts' hosts, backends, TLS names and the certificate and
    CA files they use (what `translate`'s own `_routing` keeps)."""
    backends = parts.backends
    bundles = {backend.policy.backend.upstream.ca_file for backend in backends.values()}
    names = tuple(parts.tls_names[name] for name in sorted(parts.tls_names))
    files = {name.certificate for name in names} | {tcp.certificate for tcp in last.tcp_services}
    if last.default_certificate is not None:
        files.add(last.default_certificate.file)
    return last.model_copy(
        update={
            "hosts": tuple(parts.hosts[host] for host in sorted(parts.hosts)),
            "backends": tuple(backends[name] for name in sorted(backends)),
            "tls_names": names,
            "certificates": tuple(parts.certificates[f] for f in sorted(f for f in files if f)),
            "ca_bundles": tuple(
                CABundle(file=file, pem=parts.bundles[file])
                for file in sorted(f for f in bundles if f)
            ),
        }
    )


def _gateway_api(translation: Translation) -> bool:
    """Whether a translation serves or reports Gateway API objects: a change of a Service or
    its endpoints may reach their backends, which a patch does not follow."""
    found = translation.gateway
    return bool(translation.routing.gateway_ports or found.classes or found.gateways)


def _changes(before: Snapshot, after: Snapshot) -> dict[str, set[NamespacedName]]:
    """The keys of each kind whose object was added, replaced or removed."""
    changed: dict[str, set[NamespacedName]] = {}
    for kind in before.kinds.keys() | after.kinds.keys():
        old, new = before.kinds.get(kind, {}), after.kinds.get(kind, {})
        if old is new:
            continue
        keys = {key for key, obj in new.items() if old.get(key) is not obj}
        keys.update(key for key in old if key not in new)
        if keys:
            changed[kind] = keys
    return changed


def _changed_services(
    changed: Mapping[str, set[NamespacedName]], after: Snapshot, before: Snapshot
) -> set[NamespacedName]:
    """The Services whose object, EndpointSlices or Endpoints changed."""
    services = set(changed.get("Service", ())) | set(changed.get("Endpoints", ()))
    for key in changed.get("EndpointSlice", ()):
        for snapshot in (before, after):
            eps = snapshot.objects(EndpointSlice).get(key)
            name = eps.metadata.labels.get(SERVICE_NAME_LABEL) if eps is not None else None
            if name:
                services.add((key[0], name))
    return services


def _not_alone(
    parts: Parts,
    affected: Iterable[NamespacedName],
    fresh: Mapping[NamespacedName, Digest],
    *,
    https: bool,
) -> str:
    """Why folding the affected Ingresses again on their own would not be exact ("" if it
    would): one of them is not alone, shares a host key with another of our Ingresses, or
    has TLS names while HTTPS is off (their problems come after every Ingress's), or there
    is a canary (before or after)."""
    owners = Counter(parts.owners)
    canaries = parts.canaries
    for key in affected:
        old, new = parts.digests.get(key), fresh.get(key)
        for digest, sign in ((old, -1), (new, 1)):
            if digest is not None and digest.reason is None:
                owners.update(dict.fromkeys(digest.hosts, sign))
                canaries += sign * digest.canary
    if parts.canaries or canaries:
        return "there is a canary Ingress"
    for key in affected:
        for digest, count in ((parts.digests.get(key), parts.owners), (fresh.get(key), owners)):
            if digest is None or digest.reason is not None:
                continue
            if not digest.alone:
                return f"Ingress {key[0]}/{key[1]} has a default backend or annotations that join others"
            if digest.tls and not https:
                return f"Ingress {key[0]}/{key[1]} has TLS while HTTPS is off"
            if any(count[host] != 1 for host in digest.hosts):
                return f"Ingress {key[0]}/{key[1]} shares a host with another Ingress"
    return ""


def _classes(snapshot: Snapshot) -> dict[str, IngressClass]:
    return {name: cls for (_, name), cls in snapshot.objects(IngressClass).items()}


def _digest(
    ingress: Ingress,
    *,
    reason: str | None,
    snapshot: Snapshot,
    config: GlobalConfig,
    defaults: IngressOptions,
    nginx: bool,
) -> Digest:
    if reason is not None:
        return Digest(ingress, reason)
    spec, meta = ingress.spec, ingress.metadata
    canary = www = passthrough = False
    if meta.annotations:
        source = ObjectRef(kind="Ingress", namespace=meta.namespace, name=meta.name)
        found = ingress_annotations(
            ingress,
            source,
            services=snapshot.objects(Service),
            secrets=snapshot.objects(Secret),
            config_maps=snapshot.objects(ConfigMap),
            bundles={},
            nginx=nginx,
        )
        options = defaults if found.https is https.NOTHING else ingress_options(found.https, config)
        canary, www = found.canary is not None, found.from_to_www
        passthrough = options.ssl_passthrough
    rule_hosts = set(_hosts(rule.host for rule in spec.rules))
    hosts = rule_hosts | set(_hosts(host for tls in spec.tls for host in tls.hosts))
    if www:
        hosts |= {f"www.{host}" for host in rule_hosts}
        hosts |= {host.removeprefix("www.") for host in rule_hosts}
    backends = [path.backend for rule in spec.rules if rule.http for path in rule.http.paths]
    if spec.default_backend is not None:
        backends.append(spec.default_backend)
    return Digest(
        ingress,
        None,
        alone=not (canary or www or passthrough or spec.default_backend),
        tls=bool(spec.tls),
        canary=canary,
        hosts=frozenset(hosts),
        services=frozenset(b.service.name for b in backends if b.service is not None),
    )


def _hosts(raw: Iterable[str | None]) -> Iterable[str]:
    """Host keys as the fold makes them ("" for none); one that does not parse claims
    nothing."""
    for host in raw:
        if not host:
            yield ""
            continue
        try:
            yield parse_host(host)
        except ValueError:
            continue
