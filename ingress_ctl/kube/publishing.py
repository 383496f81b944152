"""Publishing addresses: the `.status.loadBalancer.ingress` of the Ingresses we serve.

The addresses are the --publish-address values (an IP goes to `ip`, anything else to
`hostname`), else those of the --publish-service Service: its load-balancer status,
else its externalIPs, else its clusterIP. Only Ingresses that translation reports as
served get them; an Ingress whose status already says the same is left alone, and
the status of any other Ingress is never touched.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from ipaddress import ip_address

from kubernetes_asyncio import client

from ingress_ctl.kube.client import ApiErrors, call_json, describe_error
from ingress_ctl.metrics import Metrics
from ingress_ctl.model.objects import Ingress, LoadBalancerIngress, Service
from ingress_ctl.model.snapshot import NamespacedName
from ingress_ctl.model.verdicts import IngressReport
from ingress_ctl.store import Store

log = logging.getLogger(__name__)

Addresses = tuple[LoadBalancerIngress, ...]
PARALLEL_PATCHES = 8


def address_entry(address: str) -> LoadBalancerIngress:
    """An IP address as `ip`, anything else as `hostname`."""
    try:
        return LoadBalancerIngress(ip=str(ip_address(address)))
    except ValueError:
        return LoadBalancerIngress(hostname=address)


def publish_addresses(*, addresses: Sequence[str], service: Service | None) -> Addresses | None:
    """What our Ingresses' status should say; None when there is nothing to publish."""
    if addresses:
        return tuple(address_entry(address) for address in dict.fromkeys(addresses))
    if service is None:
        return None
    if service.status.load_balancer.ingress:
        return service.status.load_balancer.ingress
    if service.spec.external_ips:
        return tuple(address_entry(address) for address in service.spec.external_ips)
    cluster_ip = service.spec.cluster_ip
    if cluster_ip and cluster_ip != "None":
        return (address_entry(cluster_ip),)
    return None


class AddressSource:
    """The addresses to publish now: from the flags, or from the publish Service's store.

    That store holds the one Service (an informer of its own fills it), and its
    revision moves whenever the Service does.
    """

    def __init__(self, *, addresses: Sequence[str], service: str | None, store: Store) -> None:
        self._addresses = tuple(addresses)
        namespace, _, name = (service or "").partition("/")
        self._service_key = (namespace, name) if service else None
        self._store = store

    @property
    def revision(self) -> int:
        """Moves whenever the addresses may have changed."""
        return self._store.revision

    def current(self) -> Addresses | None:
        """What our Ingresses' status should say; None when there is nothing to publish."""
        service = None
        if self._service_key is not None:
            service = self._store.snapshot().objects(Service).get(self._service_key)
        return publish_addresses(addresses=self._addresses, service=service)


@dataclass(frozen=True)
class StatusUpdate:
    """One Ingress whose status must change."""

    namespace: str
    name: str
    addresses: Addresses


def status_updates(
    reports: Iterable[IngressReport],
    ingresses: Mapping[NamespacedName, Ingress],
    addresses: Addresses,
) -> list[StatusUpdate]:
    """The served Ingresses whose status differs from `addresses`."""
    updates = []
    for report in reports:
        key = (report.source.namespace, report.source.name)
        ingress = ingresses.get(key)
        if report.state != "serving" or ingress is None:
            continue
        if ingress.status.load_balancer.ingress != addresses:
            updates.append(StatusUpdate(namespace=key[0], name=key[1], addresses=addresses))
    return updates


def status_patch(addresses: Addresses) -> dict[str, object]:
    """The merge patch that sets an Ingress's load-balancer status."""
    entries = [
        {key: value for key, value in asdict(entry).items() if value is not None}
        for entry in addresses
    ]
    return {"status": {"loadBalancer": {"ingress": entries}}}


class StatusPublisher:
    """Patches the status subresource of Ingresses (a few at a time)."""

    def __init__(self, *, api: client.ApiClient, metrics: Metrics) -> None:
        self._api = client.NetworkingV1Api(api)
        self._metrics = metrics
        self._parallel = asyncio.Semaphore(PARALLEL_PATCHES)

    async def publish(self, updates: Sequence[StatusUpdate]) -> bool:
        """Apply every update; False if any failed (the next pass retries it)."""
        results = await asyncio.gather(*(self._patch(update) for update in updates))
        return all(results)

    async def _patch(self, update: StatusUpdate) -> bool:
        async with self._parallel:
            try:
                await call_json(
                    self._api.patch_namespaced_ingress_status,
                    update.name,
                    update.namespace,
                    status_patch(update.addresses),
                    _content_type="application/merge-patch+json",
                )
            except ApiErrors as error:
                self._metrics.status_updates.labels(result="error").inc()
                log.warning(
                    "status of Ingress %s/%s: %s",
                    update.namespace,
                    update.name,
                    describe_error(error),
                )
                return False
        self._metrics.status_updates.labels(result="ok").inc()
        log.info("status of Ingress %s/%s published", update.namespace, update.name)
        return True
