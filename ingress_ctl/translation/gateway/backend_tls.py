"""BackendTLSPolicy: how Gateways speak TLS to the pods of the Service ports a policy targets.

A policy targets Services: one port by its name (`sectionName`), else every port. Of
the policies targeting the same Service port, the oldest (creation time, then
namespace/name) wins and the others are Conflicted; one naming the port goes
before one naming the whole Service (they do not conflict). The winner becomes the
backend's `Upstream` (model/policies.py, as for Ingress `backend-protocol: HTTPS`):
TLS with the SNI `validation.hostname`, the certificate verified against the CA
certificates of its ConfigMaps (`ca.crt`) or the system's
(`wellKnownCACertificates: System`), and its name checked against the hostname
(HAProxy checks the name it sent as SNI) and, when given, against `subjectAltNames`
(one of them, byte for byte, on every response). A policy none of whose CA
references can be used makes its backends answer 503 (fail closed). Its status
lists, as ancestors, the Gateways whose routes reach a backend it applies to.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from ingress_ctl.haproxy import naming
from ingress_ctl.model.conditions import ParentRef, PolicyAncestor, PolicyStatus
from ingress_ctl.model.gateway_api import GROUP
from ingress_ctl.model.gateway_objects import BackendTLSPolicy, BackendTLSValidation
from ingress_ctl.model.matching import parse_host
from ingress_ctl.model.objects import ConfigMap
from ingress_ctl.model.policies import Protocol, ServerIdentity, SubjectAltName, Upstream
from ingress_ctl.model.snapshot import NamespacedName
from ingress_ctl.translation.certificates import CA_KEY, ca_bundle
from ingress_ctl.translation.gateway.conditions import ACCEPTED, RESOLVED_REFS, condition

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[\x21-\x7e]{1,2000}$")
Target = tuple[str, str, str | None]
"""(namespace, Service name, port name or None for every port)."""


@dataclass(frozen=True)
class _Read:
    """What a policy asks for, and the conditions reading it gave."""

    upstream: Upstream
    accepted: tuple[bool, str, str]
    resolved: tuple[bool, str, str]


@dataclass
class BackendTLS:
    """The BackendTLSPolicies of a snapshot: which applies to each Service port, and where
    they are used (see the module docstring)."""

    read: dict[NamespacedName, _Read] = field(default_factory=dict)
    policies: dict[NamespacedName, BackendTLSPolicy] = field(default_factory=dict)
    targeting: dict[Target, list[NamespacedName]] = field(default_factory=dict)
    """The policies targeting each Service port (or whole Service), oldest (the winner) first."""
    conflicted: dict[NamespacedName, str] = field(default_factory=dict)
    ancestors: dict[NamespacedName, dict[NamespacedName, None]] = field(default_factory=dict)

    def applying(
        self, namespace: str, service: str, port: str | None
    ) -> tuple[list[NamespacedName], Upstream | None]:
        """The policies targeting a Service port (by its name) or its whole Service, and the
        upstream of the one that applies (None: none does)."""
        found = [
            key
            for target in dict.fromkeys(((namespace, service, port), (namespace, service, None)))
            for key in self.targeting.get(target, ())
        ]
        return found, self.read[found[0]].upstream if found else None

    def used_by(self, policy: NamespacedName, gateway: NamespacedName) -> None:
        """A route attached to `gateway` reaches a backend `policy` applies to."""
        self.ancestors.setdefault(policy, {})[gateway] = None

    def statuses(self) -> tuple[PolicyStatus, ...]:
        """The status of every policy some Gateway of ours uses."""
        made = []
        for key in sorted(self.ancestors):
            found, read = self.policies[key], self.read[key]
            generation = found.metadata.generation
            accepted = read.accepted
            if key in self.conflicted and accepted[0]:
                accepted = (False, "Conflicted", self.conflicted[key])
            conditions = (
                condition(ACCEPTED, *accepted, generation=generation),
                condition(RESOLVED_REFS, *read.resolved, generation=generation),
            )
            made.append(
                PolicyStatus(
                    kind=found.kind,
                    namespace=key[0],
                    name=key[1],
                    ancestors=tuple(
                        PolicyAncestor(
                            ancestor=ParentRef(
                                group=GROUP, kind="Gateway", namespace=gateway[0], name=gateway[1]
                            ),
                            conditions=conditions,
                        )
                        for gateway in sorted(self.ancestors[key])
                    ),
                )
            )
        return tuple(made)


def backend_tls(
    policies: Mapping[NamespacedName, BackendTLSPolicy],
    config_maps: Mapping[NamespacedName, ConfigMap],
    bundles: dict[str, str],
) -> BackendTLS:
    """Read every policy (its CA files into `bundles`, by file name) and pick the winner of
    every Service port they target, oldest first."""
    found = BackendTLS(policies=dict(policies))
    oldest_first = sorted(
        policies.items(),
        key=lambda item: item[1].metadata.age,
    )
    for key, policy in oldest_first:
        found.read[key] = _read(key[0], policy.spec.validation, config_maps, bundles)
        for ref in policy.spec.target_refs:
            if ref.group not in ("", "core") or ref.kind != "Service":
                continue
            target = (key[0], ref.name, ref.section_name)
            targeting = found.targeting.setdefault(target, [])
            winner = targeting[0] if targeting else key
            targeting.append(key)
            if winner != key:
                section = f" port {ref.section_name}" if ref.section_name else ""
                found.conflicted[key] = (
                    f"Service {ref.name}{section} is already targeted by the older "
                    f"BackendTLSPolicy {winner[1]}"
                )
    return found


def _read(
    namespace: str,
    validation: BackendTLSValidation,
    config_maps: Mapping[NamespacedName, ConfigMap],
    bundles: dict[str, str],
) -> _Read:
    refused = Upstream(protocol=Protocol.HTTPS, unverifiable=True)
    resolved = (True, "ResolvedRefs", "")
    try:
        identity = _identity(validation)
    except ValueError as error:
        return _Read(refused, (False, "Invalid", str(error)), resolved)
    pems: list[str] = []
    for i, ref in enumerate(validation.ca_certificate_refs):
        where = f"spec.validation.caCertificateRefs[{i}]"
        if ref.group not in ("", "core") or ref.kind != "ConfigMap":
            kind = f"{ref.group or 'core'}/{ref.kind}"
            if resolved[0]:
                resolved = (False, "InvalidKind", f"{where}: {kind} is not a ConfigMap")
            continue
        found = config_maps.get((namespace, ref.name))
        try:
            if found is None:
                raise ValueError(f"ConfigMap {namespace}/{ref.name} not found")
            pems.append(ca_bundle(found.data.get(CA_KEY, "").encode()))
        except ValueError as error:
            if resolved[0]:
                resolved = (False, "InvalidCACertificateRef", f"{where}: {error}")
    system = validation.well_known_ca_certificates == "System"
    if not pems and not system:
        if validation.well_known_ca_certificates is not None:
            message = f"wellKnownCACertificates {validation.well_known_ca_certificates!r}"
            return _Read(refused, (False, "Invalid", f"{message} is not supported"), resolved)
        reason = resolved[2] or "no CA certificate"
        return _Read(refused, (False, "NoValidCACertificate", reason), resolved)
    file = None
    if pems:
        pem = "".join(pems)
        file = naming.certificate_file(pem.encode())
        bundles[file] = pem
    upstream = Upstream(
        protocol=Protocol.HTTPS, ca_file=file, system_ca=system and not pems, identity=identity
    )
    return _Read(upstream, (True, "Accepted", ""), resolved)


def _identity(validation: BackendTLSValidation) -> ServerIdentity:
    """The SNI and names to check; ValueError for a value this controller refuses."""
    host = parse_host(validation.hostname)
    if host.startswith("*"):
        raise ValueError(f"spec.validation.hostname: {host!r} is a wildcard")
    names = tuple(
        _subject_alt_name(item.type, item.hostname, item.uri, i)
        for i, item in enumerate(validation.subject_alt_names)
    )
    if not names:
        return ServerIdentity(sni=host, verify_host=host)
    return ServerIdentity(sni=host, subject_alt_names=names)


def _subject_alt_name(kind: str, hostname: str, uri: str, i: int) -> SubjectAltName:
    where = f"spec.validation.subjectAltNames[{i}]"
    if kind == "Hostname":
        try:
            return SubjectAltName(type="dns", value=parse_host(hostname))
        except ValueError as error:
            raise ValueError(f"{where}: {error}") from None
    if kind == "URI" and _URI.fullmatch(uri):
        return SubjectAltName(type="uri", value=uri)
    raise ValueError(f"{where}: {kind} {uri!r} is not a supported name")
