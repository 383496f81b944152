"""The compatibility table in docs/ is the one the registry makes, and agrees with migrate."""

from __future__ import annotations

import pytest

from ingress_ctl.annotations import compatibility
from ingress_ctl.annotations.migrating import migrate

N = "nginx.ingress.kubernetes.io/"
SAMPLES = {
    "backend-protocol": "HTTPS",
    "rewrite-target": "/",
    "proxy-body-size": "8m",
    "proxy-connect-timeout": "5",
    "proxy-read-timeout": "60",
    "proxy-send-timeout": "60",
    "allowlist-source-range": "10.0.0.0/8",
    "whitelist-source-range": "10.0.0.0/8",
    "denylist-source-range": "10.0.0.0/8",
    "affinity": "cookie",
    "affinity-mode": "balanced",
    "session-cookie-name": "S",
    "session-cookie-path": "/a",
    "session-cookie-domain": "example.com",
    "session-cookie-max-age": "60",
    "session-cookie-expires": "60",
    "session-cookie-samesite": "Lax",
    "canary-weight": "10",
    "canary-weight-total": "100",
    "canary-by-header": "X-Canary",
    "canary-by-header-value": "yes",
    "canary-by-cookie": "c",
    "affinity-canary-behavior": "sticky",
    "auth-type": "basic",
    "auth-secret": "users",
    "auth-secret-type": "auth-file",
    "auth-realm": "Staff",
    "cors-allow-origin": "https://a.example.com",
    "cors-allow-methods": "GET",
    "cors-allow-headers": "X-A",
    "cors-expose-headers": "X-B",
    "cors-max-age": "60",
    "temporal-redirect": "https://example.com/",
    "temporal-redirect-code": "307",
    "permanent-redirect": "https://example.com/",
    "permanent-redirect-code": "308",
    "app-root": "/app",
    "upstream-vhost": "api.internal",
    "limit-rps": "5",
    "limit-rpm": "300",
    "limit-connections": "5",
    "upstream-hash-by": "$request_uri",
    "client-body-buffer-size": "16k",
    "x-forwarded-prefix": "/app",
    "canary-by-header-pattern": "^beta",
    "custom-headers": "headers",
}
"""A value each key takes (the others take `true`)."""
WITH = {"auth-type": {N + "auth-secret": "users"}}
"""Keys that need another to be valid."""


def test_committed_table_is_the_generated_one() -> None:
    assert compatibility.DOC.read_text() == compatibility.markdown(), (
        "docs/nginx-compat.md is stale: run python -m ingress_ctl.annotations.compatibility"
    )


def test_check_reports_a_stale_file(
    tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    stale = tmp_path / "nginx-compat.md"  # type: ignore[operator]
    monkeypatch.setattr(compatibility, "DOC", stale)
    assert compatibility.main(["--check"]) == 1
    assert compatibility.main([]) == 0
    assert compatibility.main(["--check"]) == 0


@pytest.mark.parametrize("row", compatibility.rows(), ids=lambda row: row.key)
def test_migrate_reports_the_table_verdict(row: compatibility.Row) -> None:
    """Each key alone, with a value its rule takes: migrate says what the table says."""
    verdicts = {"translated": "translated", "differs": "differs", "refused": "unsupported"}
    [entry] = [
        entry
        for entry in migrate(
            "a/b", {N + row.key: SAMPLES.get(row.key, "true")} | WITH.get(row.key, {})
        ).entries
        if entry.key == N + row.key
    ]
    assert entry.verdict in (verdicts[row.verdict], "overridden"), entry
