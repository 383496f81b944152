"""Prometheus metrics of the controller, in a registry of their own."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics

disable_created_metrics()  # type: ignore[no-untyped-call]


class Metrics:
    """Every metric /metrics exposes; one instance per controller."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.syncs = Counter(
            "ingress_ctl_syncs_total",
            "Passes of translate, render and apply.",
            registry=self.registry,
        )
        self.sync_seconds = Histogram(
            "ingress_ctl_sync_duration_seconds",
            "Duration of a sync pass.",
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.reloads = Counter(
            "ingress_ctl_reloads_total",
            "HAProxy reloads attempted, by reason.",
            ["reason"],
            registry=self.registry,
        )
        self.reload_failures = Counter(
            "ingress_ctl_reload_failures_total",
            "HAProxy reloads that did not take, by reason.",
            ["reason"],
            registry=self.registry,
        )
        self.check_failures = Counter(
            "ingress_ctl_config_check_failures_total",
            "Rendered configurations that `haproxy -c` refused (never loaded).",
            registry=self.registry,
        )
        self.apply_failures = Counter(
            "ingress_ctl_apply_failures_total",
            "Applies that failed, by stage (write, check, start, reload); HAProxy kept "
            "serving the last good configuration.",
            ["stage"],
            registry=self.registry,
        )
        self.haproxy_restarts = Counter(
            "ingress_ctl_haproxy_restarts_total",
            "Restarts of HAProxy after its master exited unasked.",
            registry=self.registry,
        )
        self.haproxy_up = Gauge(
            "ingress_ctl_haproxy_up",
            "1 while an HAProxy worker answers, else 0.",
            registry=self.registry,
        )
        self.runtime_updates = Counter(
            "ingress_ctl_runtime_updates_total",
            "Changes applied through the HAProxy runtime API (no reload).",
            registry=self.registry,
        )
        self.runtime_failures = Counter(
            "ingress_ctl_runtime_update_failures_total",
            "Runtime updates with an unexpected reply (a reload followed).",
            registry=self.registry,
        )
        self.runtime_commands = Counter(
            "ingress_ctl_runtime_commands_total",
            "Runtime API commands sent.",
            registry=self.registry,
        )
        self.objects = Gauge(
            "ingress_ctl_objects",
            "Objects known, by kind.",
            ["kind"],
            registry=self.registry,
        )
        self.rejected = Gauge(
            "ingress_ctl_rejected_objects",
            "Objects with at least one error problem.",
            registry=self.registry,
        )
        self.problems = Gauge(
            "ingress_ctl_problems",
            "Problems found, by severity.",
            ["severity"],
            registry=self.registry,
        )
        self.lists = Counter(
            "ingress_ctl_informer_lists_total",
            "Lists made by the Kubernetes informers, by kind and reason (start, expired, error).",
            ["kind", "reason"],
            registry=self.registry,
        )
        self.leader = Gauge(
            "ingress_ctl_leader",
            "1 while this replica holds the leader-election Lease.",
            registry=self.registry,
        )
        self.status_updates = Counter(
            "ingress_ctl_ingress_status_updates_total",
            "Ingress status patches, by result (ok, error).",
            ["result"],
            registry=self.registry,
        )
        self.gateway_status_writes = Counter(
            "ingress_ctl_gateway_status_writes_total",
            "Status writes of Gateway API objects (GatewayClass, Gateway, routes), by kind.",
            ["kind"],
            registry=self.registry,
        )
        self.gateway_status_failures = Counter(
            "ingress_ctl_gateway_status_write_failures_total",
            "Status writes of Gateway API objects that failed (retried later), by kind.",
            ["kind"],
            registry=self.registry,
        )
        self.events = Counter(
            "ingress_ctl_events_total",
            "Kubernetes Events about Ingresses, by action (created, updated, limited, error).",
            ["action"],
            registry=self.registry,
        )
