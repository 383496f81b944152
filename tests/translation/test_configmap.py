"""The global ConfigMap: every key parsed or refused with a reason; HAProxy accepts the result."""

from __future__ import annotations

import subprocess
from ipaddress import ip_network
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingress_ctl.haproxy import naming
from ingress_ctl.haproxy.applying import write_files
from ingress_ctl.haproxy.rendering import duration, render
from ingress_ctl.model.globals import HSTS, GlobalConfig, LogFormat, Timeouts, TLSVersion
from ingress_ctl.model.objects import ConfigMap, parse_object
from ingress_ctl.model.routing import ObjectRef
from ingress_ctl.model.settings import Settings
from ingress_ctl.translation import Translation
from ingress_ctl.translation.certificates import self_signed
from ingress_ctl.translation.configmap import KEYS, global_config
from tests.manifests import configmap, ingress, path, rule, run, service

SOURCE = ObjectRef(kind="ConfigMap", namespace="ingress", name="config")
SETTINGS = Settings(configmap="ingress/config")
FALLBACK = self_signed()


def parse(data: dict[str, str]) -> tuple[GlobalConfig, list[tuple[str, str, str]]]:
    found = parse_object(configmap("config", data, namespace="ingress"))
    assert isinstance(found, ConfigMap)
    config, problems = global_config(found, source=SOURCE)
    return config, [(p.field, p.severity, p.reason) for p in problems]


def test_no_configmap_means_the_defaults() -> None:
    assert global_config(None, source=SOURCE) == (GlobalConfig(), [])


def test_every_key_is_parsed() -> None:
    config, problems = parse(
        {
            "timeout-connect": "3s",
            "timeout-client": "2m",
            "timeout-server": "1500",
            "timeout-http-request": "5s",
            "timeout-http-keep-alive": "250ms",
            "timeout-tunnel": "1d",
            "timeout-queue": "1h",
            "maxconn": "5000",
            "max-connections-per-source": "0",
            "nbthread": "4",
            "log-format": "json",
            "ssl-min-version": "TLSv1.3",
            "ssl-ciphers": "ECDHE+AESGCM:!aNULL:@STRENGTH",
            "ssl-ciphersuites": "TLS_AES_128_GCM_SHA256",
            "ssl-redirect": "False",
            "hsts": "true",
            "hsts-max-age": "0",
            "hsts-include-subdomains": "false",
            "hsts-preload": "TRUE",
            "trusted-proxy-cidrs": "10.0.0.0/8, 192.168.1.7,2001:db8::/32,10.0.0.0/8",
            "use-proxy-protocol": "true",
            "timeout-client-hs": "off",
            "hard-stop-after": "10m",
        }
    )
    assert problems == []
    assert config == GlobalConfig(
        timeouts=Timeouts(
            connect=3_000,
            client=120_000,
            server=1_500,
            http_request=5_000,
            http_keep_alive=250,
            tunnel=86_400_000,
            queue=3_600_000,
        ),
        maxconn=5000,
        max_connections_per_source=0,
        nbthread=4,
        log_format=LogFormat.JSON,
        ssl_min_version=TLSVersion.TLS13,
        ssl_ciphers="ECDHE+AESGCM:!aNULL:@STRENGTH",
        ssl_ciphersuites="TLS_AES_128_GCM_SHA256",
        ssl_redirect=False,
        hsts=HSTS(enabled=True, max_age=0, include_subdomains=False, preload=True),
        trusted_proxy_cidrs=(
            ip_network("10.0.0.0/8"),
            ip_network("192.168.1.7/32"),
            ip_network("2001:db8::/32"),
        ),
        use_proxy_protocol=True,
        tls_handshake_timeout=None,
        hard_stop_after=600_000,
    )
    assert set(KEYS) == {
        "timeout-connect", "timeout-client", "timeout-server", "timeout-http-request",
        "timeout-http-keep-alive", "timeout-tunnel", "timeout-queue", "maxconn", "nbthread",
        "max-connections-per-source",
        "log-format", "ssl-min-version", "ssl-ciphers", "ssl-ciphersuites", "ssl-redirect",
        "hsts", "hsts-max-age", "hsts-include-subdomains", "hsts-preload",
        "trusted-proxy-cidrs", "use-proxy-protocol", "timeout-client-hs", "hard-stop-after",
    }  # fmt: skip


REFUSED = {
    "timeout-connect": ("5 s", "'5 s' is not a duration like 500ms, 30s, 5m, 1h or 1d"),
    "timeout-client": ("0", "'0' is not between 1ms and 2147483647ms"),
    "timeout-server": ("30d", "'30d' is not between 1ms and 2147483647ms"),
    "maxconn": ("0", "0 is not between 1 and 1000000"),
    "nbthread": ("65", "65 is not between 1 and 64"),
    "max-connections-per-source": ("1000001", "1000001 is not between 0 and 1000000"),
    "timeout-client-hs": ("never", "'never' is not a duration like 500ms, 30s, 5m, 1h or 1d"),
    "log-format": ("%{+Q}[src]", "'%{+Q}[src]' is not one of none, httplog, clf, json"),
    "ssl-min-version": ("SSLv3", "'SSLv3' is not one of TLSv1.0, TLSv1.1, TLSv1.2, TLSv1.3"),
    "ssl-ciphers": ("NOTHING", "'NOTHING' selects no cipher OpenSSL knows"),
    "ssl-ciphersuites": ("TLS_AES_128_GCM_SHA256:x", "is not a ':'-separated list of distinct"),
    "hsts": ("on", "'on' is not true or false"),
    "trusted-proxy-cidrs": ("10.0.0.0/33", "'10.0.0.0/33' is not an IP network like 10.0.0.0/8"),
}


@pytest.mark.parametrize("key", sorted(REFUSED))
def test_a_bad_value_is_refused_with_its_reason_and_the_default_kept(key: str) -> None:
    value, reason = REFUSED[key]
    config, problems = parse({key: value, "maxconn": "100"} if key != "maxconn" else {key: value})
    ((where, severity, why),) = problems
    assert (where, severity) == (f"data.{key}", "error")
    assert reason in why and why.endswith("; the default is kept")
    assert config == (GlobalConfig(maxconn=100) if key != "maxconn" else GlobalConfig())


@pytest.mark.parametrize(
    "value",
    ["ECDHE'\n    lua-load /tmp/x", "HIGH #x", "${HOME}", "HIGH;x", "A B", "", ":HIGH", "HIGH:"],
)
def test_cipher_lists_outside_the_allow_list_are_refused(value: str) -> None:
    _, problems = parse({"ssl-ciphers": value})
    ((_, _, reason),) = problems
    assert "is not a ':'-separated list of OpenSSL cipher names" in reason


def test_an_unknown_key_is_a_warning() -> None:
    config, problems = parse({"proxy-body-size": "1m"})
    assert config == GlobalConfig()
    ((where, severity, reason),) = problems
    assert (where, severity) == ("data.proxy-body-size", "warning")
    assert reason.startswith("unknown key; known keys are hard-stop-after, hsts, ")


@pytest.mark.parametrize(
    ("milliseconds", "text"),
    [(1, "1ms"), (1_500, "1500ms"), (3_000, "3s"), (90_000, "90s"), (120_000, "2m"),
     (3_600_000, "1h"), (86_400_000, "1d"), (2**31 - 1, "2147483647ms")],
)  # fmt: skip
def test_durations_render_in_their_largest_exact_unit(milliseconds: int, text: str) -> None:
    assert duration(milliseconds) == text


# Hypothesis: any value of any key is taken or refused with a reason, and HAProxy accepts
# whatever is rendered.

VALID = {
    "timeout-connect": ["1", "5s", "100ms", "2147483647ms", "24d"],
    "timeout-tunnel": ["1h", "1d"],
    "maxconn": ["1", "1000000"],
    "nbthread": ["1", "64"],
    "max-connections-per-source": ["0", "1", "1000000"],
    "log-format": ["none", "httplog", "clf", "json"],
    "ssl-min-version": ["TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"],
    "ssl-ciphers": ["HIGH:!aNULL", "ECDHE+AESGCM", "DEFAULT:@SECLEVEL=0", "AES128-SHA:-RSA"],
    "ssl-ciphersuites": ["TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_CCM_8_SHA256"],
    "ssl-redirect": ["true", "false"],
    "hsts-max-age": ["0", "2147483647"],
    "trusted-proxy-cidrs": ["0.0.0.0/0", "::/0", "10.1.2.3", "fe80::1", ""],
    "use-proxy-protocol": ["true", "false"],
    "timeout-client-hs": ["off", "OFF", "1s", "250ms"],
    "hard-stop-after": ["1s", "15m", "1d"],
}
HOSTILE = st.one_of(
    st.sampled_from(["'", '"', "\n", "#", "${X}", "%[src]", " ", "-1", "99999999999999", "\\"]),
    st.text(max_size=20),
)
DATA = st.dictionaries(
    st.sampled_from([*KEYS, "unknown-key"]),
    st.one_of(st.sampled_from([v for values in VALID.values() for v in values]), HOSTILE),
    max_size=8,
)


def translate(data: dict[str, str]) -> Translation:
    return run(
        configmap("config", data, namespace="ingress"),
        service("web"),
        ingress("site", rule("a.example.com", path("/", "web"))),
        settings=SETTINGS,
        fallback_certificate=FALLBACK,
    )


def check_reasons(data: dict[str, str], translation: Translation) -> None:
    refused = {p.field.removeprefix("data."): p for p in translation.problems}
    for key in data:
        if key in refused:
            assert refused[key].reason.strip()
        else:
            assert key in KEYS


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DATA)
def test_any_value_is_taken_or_refused_with_a_reason(data: dict[str, str]) -> None:
    check_reasons(data, translate(data))


@pytest.mark.haproxy
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DATA)
def test_haproxy_accepts_whatever_a_configmap_renders(
    haproxy_bin: str, tmp_path_factory: pytest.TempPathFactory, data: dict[str, str]
) -> None:
    translation = translate(data)
    check_reasons(data, translation)
    directory: Path = tmp_path_factory.mktemp("config")
    write_files(directory, render(translation.routing, settings=SETTINGS))
    result = subprocess.run(
        [haproxy_bin, "-c", "-C", str(directory), "-f", naming.CONFIG_FILE],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
