"""Leader election rules: when a candidate creates, renews, takes over or waits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from ingress_ctl.kube.leading import LeaseRecord, Step, micro_time, next_step

ME, OTHER = "pod-a_1234", "pod-b_5678"


def record(holder: str, duration_s: int = 15) -> LeaseRecord:
    return LeaseRecord(holder=holder, duration_s=duration_s, renewed="t", transitions=2)


@pytest.mark.parametrize(
    ("lease", "unchanged_for", "expected"),
    [
        (None, 0.0, Step.CREATE),
        (record(ME), 0.0, Step.RENEW),
        (record(ME), 60.0, Step.RENEW),
        (record(""), 0.0, Step.TAKE_OVER),
        (record(OTHER), 14.9, Step.WAIT),
        (record(OTHER), 15.0, Step.TAKE_OVER),
        (record(OTHER, duration_s=1), 1.5, Step.TAKE_OVER),
    ],
    ids=[
        "no lease",
        "ours",
        "ours, even if we were slow",
        "released",
        "live holder",
        "holder silent for its whole lease",
        "released with a 1 s lease",
    ],
)
def test_next_step(lease: LeaseRecord | None, unchanged_for: float, expected: Step) -> None:
    assert (
        next_step(lease, identity=ME, unchanged_since=100.0, now=100.0 + unchanged_for) == expected
    )


def test_lease_record_reads_a_lease() -> None:
    lease = {
        "spec": {
            "holderIdentity": OTHER,
            "leaseDurationSeconds": 15,
            "renewTime": "2026-01-01T00:00:00.000000Z",
            "leaseTransitions": 3,
        }
    }

    assert LeaseRecord.of(lease) == LeaseRecord(
        holder=OTHER, duration_s=15, renewed="2026-01-01T00:00:00.000000Z", transitions=3
    )
    assert LeaseRecord.of({"spec": {"holderIdentity": None}}) == LeaseRecord(
        holder="", duration_s=0, renewed="", transitions=0
    )


def test_micro_time_is_utc_with_microseconds() -> None:
    local = datetime(2026, 1, 2, 5, 4, 5, 6, tzinfo=timezone(timedelta(hours=2)))

    assert micro_time(local) == "2026-01-02T03:04:05.000006Z"
    assert micro_time(datetime(2026, 1, 2, tzinfo=UTC)) == "2026-01-02T00:00:00.000000Z"
