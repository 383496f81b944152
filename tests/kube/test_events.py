"""Events: reasons read from problems, one Event per problem, counts, and the rate limit."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from ingress_ctl.kube.events import (
    EventLog,
    IngressEvent,
    Write,
    event_body,
    event_reason,
    ingress_events,
)
from ingress_ctl.model.objects import Ingress, parse_object
from ingress_ctl.model.problems import Problem, Severity
from ingress_ctl.model.routing import ObjectRef
from ingress_ctl.model.verdicts import IngressReport
from tests.manifests import ingress

SOURCE = ObjectRef(kind="Ingress", namespace="shop", name="web")


def problem(reason: str, severity: Severity = "error", field: str = "spec.rules[0]") -> Problem:
    return Problem(source=SOURCE, field=field, reason=reason, severity=severity)


@pytest.mark.parametrize(
    ("reason", "severity", "expected"),
    [
        ("Service shop/web not found; requests answer 503", "error", "ServiceNotFound"),
        (
            "Service shop/web has no port 'http'; requests answer 503",
            "error",
            "ServicePortNotFound",
        ),
        ("Secret shop/tls not found; the default certificate serves", "warning", "SecretNotFound"),
        (
            "a.test /x (Prefix) is already routed by Ingress shop/old; the oldest Ingress wins",
            "error",
            "RuleConflict",
        ),
        (
            "host a.test already has the default backend of x; the oldest Ingress wins",
            "warning",
            "RuleConflict",
        ),
        ("'bad_host' is not a DNS name; rule ignored", "error", "RuleRejected"),
        ("something else", "warning", "RuleWarning"),
    ],
)
def test_event_reason(reason: str, severity: Severity, expected: str) -> None:
    assert event_reason(problem(reason, severity)) == expected


def served(uid: str = "uid-1") -> Ingress:
    manifest = ingress("web", namespace="shop")
    manifest["metadata"]["uid"] = uid
    parsed = parse_object(manifest)
    assert isinstance(parsed, Ingress)
    return parsed


def test_ingress_events_come_from_served_ingresses_only() -> None:
    missing = problem("Service shop/api not found; requests answer 503")
    reports = [
        IngressReport(source=SOURCE, state="serving", problems=(missing,)),
        IngressReport(source=replace(SOURCE, name="gone"), state="serving", problems=(missing,)),
        IngressReport(source=replace(SOURCE, name="other"), state="ignored"),
    ]

    events = ingress_events(reports, {("shop", "web"): served()})

    assert events == {
        IngressEvent(
            namespace="shop",
            name="web",
            uid="uid-1",
            reason="ServiceNotFound",
            message="spec.rules[0]: Service shop/api not found; requests answer 503",
        )
    }


def event(message: str = "spec: broken", name: str = "web", uid: str = "uid-1") -> IngressEvent:
    return IngressEvent(
        namespace="shop", name=name, uid=uid, reason="RuleRejected", message=message
    )


def test_a_problem_is_written_once_while_it_lasts() -> None:
    log = EventLog()

    first = log.decide({event()}, now=0.0)
    again = log.decide({event()}, now=1.0)

    assert first.writes == (Write(event=event(), count=1),)
    assert again.writes == ()


def test_a_problem_that_comes_back_bumps_the_count() -> None:
    log = EventLog()
    log.decide({event()}, now=0.0)
    log.decide(set(), now=1.0)

    back = log.decide({event()}, now=2.0)

    assert back.writes == (Write(event=event(), count=2),)


def test_each_ingress_has_its_own_rate_limit() -> None:
    log = EventLog(burst=2, refill_s=10.0)
    flood = {event(f"problem {i}") for i in range(4)}

    decision = log.decide(flood | {event(name="api")}, now=0.0)

    assert [w.event.name for w in decision.writes].count("web") == 2
    assert [w.event.name for w in decision.writes].count("api") == 1
    assert decision.limited == 2


def test_the_rate_limit_refills_with_time() -> None:
    log = EventLog(burst=1, refill_s=10.0)
    log.decide({event("a")}, now=0.0)

    early = log.decide({event("a"), event("b")}, now=5.0)
    later = log.decide({event("c")}, now=15.0)

    assert (early.writes, early.limited) == ((), 1)
    assert later.writes == (Write(event=event("c"), count=1),)


def test_a_new_leader_announces_current_problems_again() -> None:
    log = EventLog()
    log.decide({event()}, now=0.0)

    log.forget_present()

    assert log.decide({event()}, now=1.0).writes == (Write(event=event(), count=2),)


def test_counts_of_the_least_recent_events_are_forgotten() -> None:
    log = EventLog(capacity=2)
    for message in ("a", "b", "c"):
        log.decide({event(message)}, now=0.0)
        log.decide(set(), now=0.0)

    assert log.decide({event("a")}, now=0.0).writes == (Write(event=event("a"), count=1),)
    assert log.decide({event("c")}, now=0.0).writes == (Write(event=event("c"), count=2),)


def test_event_names_are_stable_valid_and_distinct() -> None:
    long = event(name="x" * 253)

    assert event().event_name == event().event_name
    assert event("a").event_name != event("b").event_name
    assert event(uid="uid-2").event_name != event().event_name
    assert event().event_name.startswith("web.")
    assert len(long.event_name) <= 253


def test_event_body_is_a_core_v1_warning_about_the_ingress() -> None:
    body = event_body(
        Write(event=event(), count=3),
        at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        instance="pod-1",
    )

    assert body["metadata"] == {"name": event().event_name, "namespace": "shop"}
    assert body["involvedObject"] == {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "namespace": "shop",
        "name": "web",
        "uid": "uid-1",
    }
    assert (body["type"], body["reason"], body["message"], body["count"]) == (
        "Warning",
        "RuleRejected",
        "spec: broken",
        3,
    )
    assert body["lastTimestamp"] == "2026-01-02T03:04:05Z"
