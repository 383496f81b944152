"""The state of one translation while it folds objects in, oldest Ingress first.

Holds the virtual hosts, passthrough routes and backends found so far and
the problems met; `translate` freezes it into a Routing at the end. Backends
are made here for every kind of user: HTTP routes, passthrough routes and
TCP services (the last two are `mode tcp` copies under their own names);
an HTTP route whose annotations ask for a policy gets a copy named by it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ingress_ctl.haproxy import naming
from ingress_ctl.model.objects import IngressBackend
from ingress_ctl.model.policies import Policy
from ingress_ctl.model.problems import Problem, Severity
from ingress_ctl.model.routing import (
    Backend,
    Mode,
    ObjectRef,
    PassthroughRoute,
    PathType,
    Route,
    ServiceRef,
)
from ingress_ctl.translation.backends import Index, resolve_backend
from ingress_ctl.translation.makers import new_problem, new_service_ref
from ingress_ctl.translation.route_policies import NOTHING


@dataclass
class HostState:
    """What one host key has gathered: its routes and its default backend."""

    routes: dict[tuple[PathType, str], Route] = field(default_factory=dict)
    default_backend: str | None = None
    default_source: ObjectRef | None = None


@dataclass
class Fold:
    """Mutable state while folding; frozen into a Routing at the end."""

    index: Index
    hosts: dict[str, HostState] = field(default_factory=dict)
    passthrough: dict[str, PassthroughRoute] = field(default_factory=dict)
    backends: dict[str, Backend] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    default: tuple[str, str] | None = None
    ca_bundles: dict[str, str] = field(default_factory=dict)
    """CA files that backends verify their pods against (file -> PEM), made so far."""
    made: dict[BackendKey, tuple[Backend, str | None]] = field(default_factory=dict)
    """The backends made so far by `backend`, and why each has no server: most are reached by
    several paths (every path of an Ingress, often), each the same for its key."""
    uses: dict[ObjectRef, dict[str, str | None]] = field(default_factory=dict)
    """The backends each object sends to, and why one has no server (None: it has some)."""
    _last_source: ObjectRef | None = field(default=None, init=False, repr=False)
    _last_uses: dict[str, str | None] = field(default_factory=dict, init=False, repr=False)
    """`uses_of` the last object asked for."""
    places: dict[tuple[int, int], tuple[str, ...]] = field(default_factory=dict)
    """Where the paths of an Ingress rule stand, by rule and number of paths (see
    `ingresses.rule_hosts`): the same few for every Ingress."""

    def problem(
        self, source: ObjectRef, where: str, reason: str, severity: Severity = "error"
    ) -> None:
        self.problems.append(
            new_problem(source=source, field=where, reason=reason, severity=severity)
        )

    def backend(
        self,
        source: ObjectRef,
        where: str,
        ref: IngressBackend,
        *,
        passthrough: bool = False,
        policy: Policy | None = None,
    ) -> str | None:
        """The name of the backend an IngressBackend reaches; None (with a problem) if unusable.

        A passthrough backend is the `mode tcp` twin of the HTTP one; an HTTP one with a
        policy is a backend of its own (see naming.policy_backend_name).
        """
        target = ref.service
        if target is None:
            self.problem(source, where, "only Service backends are supported")
            return None
        port = target.port.number or target.port.name
        if port is None:
            self.problem(source, f"{where}.service.port", "needs a number or a name")
            return None
        own = None if policy is None else _own(policy)  # None for most routes: no call
        key = (source.namespace, target.name, port, passthrough, own)
        made = self.made.get(key)
        if made is None:
            service = new_service_ref(namespace=source.namespace, name=target.name, port=port)
            tcp = naming.passthrough_backend_name(service) if passthrough else None
            made = self.made[key] = self.service_backend(service, tcp_name=tcp, policy=key[4])
        backend, missing = made
        name = backend.name
        self.backends[name] = backend  # a canary may have taken it out since
        self.uses_of(source)[name] = missing
        if missing is not None:
            answer = "connections are closed" if passthrough else "requests answer 503"
            self.problem(source, f"{where}.service", f"{missing}; {answer}")
        return name

    def uses_of(self, source: ObjectRef) -> dict[str, str | None]:
        """The backends `source` sends to (in `uses`, made empty). Those of the last object
        asked for are at hand: each path of an Ingress asks in turn, then its report, and a
        reference is hashed by a Python call."""
        if source is not self._last_source:
            self._last_source, self._last_uses = source, self.uses.setdefault(source, {})
        return self._last_uses

    def service_backend(
        self, service: ServiceRef, *, tcp_name: str | None = None, policy: Policy | None = None
    ) -> tuple[Backend, str | None]:
        """The backend of a Service port (a `mode tcp` one named `tcp_name` if given, one
        with a policy if it is not the default), kept for the Routing, and the reason it has
        no servers, if any."""
        backend, missing = resolve_backend(service, index=self.index)
        if tcp_name is not None:
            backend = replace(backend, name=tcp_name, mode=Mode.TCP)
        elif policy is not None and (policy := _own(policy)) is not None:
            name = naming.policy_backend_name(service, policy)
            backend = replace(backend, name=name, policy=policy)
        self.backends[backend.name] = backend
        return backend, missing


BackendKey = tuple[str, str, int | str, bool, Policy | None]
"""What the backend of an IngressBackend depends on: the namespace, Service name and port,
whether it is passed through, and its own policy (`_own`)."""


def _own(policy: Policy | None) -> Policy | None:
    """The policy a backend of its own is made for; None for none and for the default."""
    return None if policy is None or policy is NOTHING or policy == NOTHING else policy
