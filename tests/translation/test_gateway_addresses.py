"""Gateway spec.addresses: manifests in, the address served and the Gateway's conditions out."""

from __future__ import annotations

import pytest

from tests.translation.test_gateways import conditions, translated

POOL = "127.10.0.0/24"
GATEWAY = """
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: static, namespace: infra, generation: 3}}
spec:
  gatewayClassName: ours
  addresses: {addresses}
  listeners: [{{name: http, port: 8080, protocol: HTTP}}]
"""

CASES = [
    # (spec.addresses, pool, Accepted, Programmed, the status address, served there)
    (
        "[{type: test/fake-invalid-type, value: x}, {value: 127.10.0.250}]",
        POOL,
        ("False", "UnsupportedAddress"),
        ("False", "Invalid"),
        None,
    ),
    ("[{value: not-an-ip}]", POOL, ("False", "UnsupportedAddress"), ("False", "Invalid"), None),
    (
        "[{value: 192.0.2.1}, {value: 127.10.0.250}]",
        POOL,
        ("True", "Accepted"),
        ("False", "AddressNotUsable"),
        None,
    ),
    (
        "[{value: 127.10.0.249}, {value: 127.10.0.250}]",
        POOL,
        ("True", "Accepted"),
        ("False", "AddressNotUsable"),
        None,
    ),
    ("[{value: 127.10.0.250}]", POOL, ("True", "Accepted"), ("True", "Programmed"), "127.10.0.250"),
    ("[{type: IPAddress}]", POOL, ("True", "Accepted"), ("True", "Programmed"), "127.10.0."),
    ("[{value: 10.1.2.3}]", None, ("True", "Accepted"), ("True", "Programmed"), "10.1.2.3"),
]


@pytest.mark.parametrize(("addresses", "pool", "accepted", "programmed", "served"), CASES)
def test_static_addresses_inside_the_pool_are_served_others_reported(
    addresses: str,
    pool: str | None,
    accepted: tuple[str, str],
    programmed: tuple[str, str],
    served: str | None,
) -> None:
    found = translated(GATEWAY.format(addresses=addresses), gateway_address_pool=pool)
    status = next(item for item in found.gateway.gateways if item.name == "static")
    assert conditions(status.conditions) == {"Accepted": accepted, "Programmed": programmed}
    ports = [port for port in found.routing.gateway_ports if port.gateway.name == "static"]
    if served is None:
        assert ports == []
        return
    (port,) = ports
    assert port.address is not None and port.address.startswith(served)
    assert [(item.type, item.value) for item in status.addresses] == [("IPAddress", port.address)]


def test_a_parameters_ref_is_refused_the_gateway_not_served() -> None:
    text = """
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: params, namespace: infra, generation: 2}
spec:
  gatewayClassName: ours
  infrastructure:
    labels: {key2: value2}
    parametersRef: {group: invalid.io, kind: InvalidParameters, name: invalid}
  listeners: [{name: http, port: 8080, protocol: HTTP}]
"""
    found = translated(text, gateway_address_pool=POOL)
    status = next(item for item in found.gateway.gateways if item.name == "params")
    assert conditions(status.conditions)["Accepted"] == ("False", "InvalidParameters")
    assert [port for port in found.routing.gateway_ports if port.gateway.name == "params"] == []
