"""from-to-www redirects: the other spelling of an Ingress's hosts redirects to them.

With `from-to-www-redirect: "true"`, each exact host `H` of the Ingress's
rules makes `www.H` (or, for `www.H` itself, `H`) redirect to it with 308,
keeping scheme, path and query (not a non-default port). This happens after
every Ingress is folded, and only for a peer host that no Ingress serves:
an Ingress's own rules always win.
"""

from __future__ import annotations

from collections.abc import Iterable

from ingress_ctl.haproxy import naming
from ingress_ctl.model.matching import parse_host
from ingress_ctl.model.objects import Ingress
from ingress_ctl.model.routing import Backend, ObjectRef
from ingress_ctl.translation.fold import Fold, HostState

REDIRECT_STATUS = 308


def add_www_redirects(fold: Fold, ingresses: Iterable[tuple[Ingress, ObjectRef]]) -> None:
    """Redirect the unserved peer host of each rule host of these Ingresses."""
    for ingress, source in ingresses:
        for rule in ingress.spec.rules:
            host = _exact(rule.host)
            peer = _exact(host.removeprefix("www.") if host.startswith("www.") else f"www.{host}")
            if host and peer and peer not in fold.hosts:
                backend = Backend(
                    name=naming.redirect_backend_name(host),
                    status=REDIRECT_STATUS,
                    redirect_to=host,
                )
                fold.backends[backend.name] = backend
                fold.hosts[peer] = HostState(default_backend=backend.name, default_source=source)


def _exact(raw: str | None) -> str:
    """A rule's exact host; "" for none, a wildcard or an invalid one."""
    try:
        host = parse_host(raw or "")
    except ValueError:
        return ""
    return "" if host.startswith("*") else host
