"""TLS of our Ingresses: SNI names, the certificates their Secrets hold, and their policy.

Each `spec.tls[i]` names hosts (all the Ingress's rule hosts when empty) and a
Secret. The SNI name selects the certificate; the oldest Ingress that names a
host owns its certificate, its HTTP->HTTPS redirect and its HSTS policy. A
Secret that cannot be served leaves its hosts on the default certificate
(with a problem on `spec.tls[i].secretName`); an expired one is served with a
warning. The default certificate is `--default-ssl-certificate`'s, else the
controller's self-signed one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from ingress_ctl.model.matching import parse_host
from ingress_ctl.model.objects import Ingress, IngressTLS, Secret
from ingress_ctl.model.routing import Certificate, ObjectRef, TLSName
from ingress_ctl.model.settings import Settings
from ingress_ctl.model.snapshot import NamespacedName
from ingress_ctl.translation.certificates import (
    CertificateError,
    parse_tls_secret,
    validity_problem,
)
from ingress_ctl.translation.fold import Fold
from ingress_ctl.translation.options import IngressOptions

DEFAULT_FLAG = ObjectRef(kind="Flag", name="--default-ssl-certificate")


@dataclass
class TLSFold:
    """SNI names and certificates gathered so far; Secrets are parsed once each."""

    secrets: Mapping[NamespacedName, Secret]
    now: datetime
    names: dict[str, TLSName] = field(default_factory=dict)
    by_file: dict[str, Certificate] = field(default_factory=dict)
    """Every certificate read, by file; the Routing keeps only those in use."""
    parsed: dict[NamespacedName, Certificate | CertificateError] = field(default_factory=dict)

    def _certificate(self, namespace: str, name: str) -> Certificate:
        """The certificate of Secret namespace/name (kept for the Routing), or CertificateError."""
        key = (namespace, name)
        if key not in self.parsed:
            self.parsed[key] = self._parse(key)
        found = self.parsed[key]
        if isinstance(found, CertificateError):
            raise found
        self.by_file[found.file] = found
        return found

    def certificate(self, namespace: str, name: str) -> Certificate | str:
        """The certificate of Secret namespace/name, or why it cannot be served."""
        try:
            return self._certificate(namespace, name)
        except CertificateError as error:
            return str(error)

    def _parse(self, key: NamespacedName) -> Certificate | CertificateError:
        secret = self.secrets.get(key)
        if secret is None:
            return CertificateError("not found")
        try:
            return parse_tls_secret(secret)
        except CertificateError as error:
            return error

    def secret(
        self, fold: Fold, source: ObjectRef, where: str, namespace: str, name: str
    ) -> Certificate | None:
        """The certificate of a Secret a user named, or None with a problem at `where`."""
        try:
            found = self._certificate(namespace, name)
        except CertificateError as error:
            reason = f"Secret {namespace}/{name}: {error}; the default certificate is served"
            fold.problem(source, where, reason)
            return None
        expiry = validity_problem(found.pem, now=self.now)
        if expiry is not None:
            reason = f"Secret {namespace}/{name}: {expiry}; it is served anyway"
            fold.problem(source, where, reason, severity="warning")
        return found

    def add_ingress(
        self, fold: Fold, ingress: Ingress, source: ObjectRef, options: IngressOptions
    ) -> list[str]:
        """Fold an Ingress's `spec.tls`; returns a report line per SNI name it serves."""
        served = []
        for i, tls in enumerate(ingress.spec.tls):
            where = f"spec.tls[{i}]"
            hosts = _hosts(fold, source, where, tls, ingress)
            certificate = None
            if tls.secret_name is not None:
                certificate = self.secret(
                    fold, source, f"{where}.secretName", source.namespace, tls.secret_name
                )
            for host in hosts:
                name = TLSName(
                    name=host,
                    certificate=certificate.file if certificate is not None else None,
                    redirect=options.ssl_redirect,
                    hsts=options.hsts.header(),
                    source=source,
                )
                if self._claim(fold, name, f"{where}.hosts"):
                    served.append(f"tls {host} -> {name.certificate or 'default certificate'}")
        return served

    def _claim(self, fold: Fold, name: TLSName, where: str) -> bool:
        owner = self.names.get(name.name)
        if owner is None:
            self.names[name.name] = name
            return True
        if owner.model_copy(update={"source": name.source}) != name:
            fold.problem(
                name.source,
                where,
                f"host {name.name} already has TLS from {owner.source}; the oldest Ingress wins",
                severity="warning",
            )
        return False

    def default(
        self, fold: Fold, settings: Settings, fallback: Certificate | None
    ) -> Certificate | None:
        """The default certificate: the flag's Secret if it can be served, else `fallback`."""
        ref = settings.default_ssl_certificate
        if ref is None:
            chosen = fallback
        else:
            namespace, _, name = ref.partition("/")
            chosen = self.secret(fold, DEFAULT_FLAG, ref, namespace, name) or fallback
        if chosen is not None:
            self.by_file[chosen.file] = chosen
        return chosen


def _hosts(
    fold: Fold, source: ObjectRef, where: str, tls: IngressTLS, ingress: Ingress
) -> list[str]:
    """The SNI names of one `spec.tls` entry: its valid hosts, else the rules' hosts."""
    if not tls.hosts:
        return list(dict.fromkeys(_rule_hosts(rule.host for rule in ingress.spec.rules)))
    hosts = []
    for j, raw in enumerate(tls.hosts):
        try:
            hosts.append(parse_host(raw))
        except ValueError as error:
            fold.problem(source, f"{where}.hosts[{j}]", f"{error}; host ignored")
    return list(dict.fromkeys(hosts))


def _rule_hosts(raw: Iterable[str | None]) -> Iterable[str]:
    for host in raw:
        try:
            yield parse_host(host or "")
        except ValueError:
            continue  # rule hosts are reported where the rules are folded
