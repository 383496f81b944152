"""The connection to the Kubernetes API server: credentials, and calls that answer raw JSON.

Credentials come from --kubeconfig, else $KUBECONFIG, else the pod's service account
(whose token kubernetes-asyncio re-reads as it rotates). Every call goes through
kubernetes-asyncio's generated methods with `_preload_content=False` and is decoded here
with `json.loads`: several times faster than its generated models, and one way to read
errors for every caller.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import aiohttp
from kubernetes_asyncio import client, config

CALL_TIMEOUT = aiohttp.ClientTimeout(total=120, sock_connect=10)
"""Bound on any call but a watch (a list of ten thousand objects takes a few seconds)."""

ApiErrors = (
    aiohttp.ClientError,
    TimeoutError,
    ConnectionError,
    json.JSONDecodeError,
    client.ApiException,
)
"""What a call to the API server raises when the server or the network fails it."""


def kubeconfig_path(flag: Path | None, environ: Mapping[str, str]) -> Path | None:
    """The kubeconfig to use: the flag, else $KUBECONFIG; None means in-cluster."""
    if flag is not None:
        return flag
    found = environ.get("KUBECONFIG", "").split(os.pathsep)[0]
    return Path(found) if found else None


async def connect(*, kubeconfig: Path | None) -> client.ApiClient:
    """An API client with credentials from kubeconfig (or in-cluster when None).

    Raises kubernetes-asyncio's ConfigException when there are no usable credentials.
    """
    configuration = client.Configuration()
    path = kubeconfig_path(kubeconfig, os.environ)
    if path is None:
        config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    elif not path.is_file():
        raise config.ConfigException(f"kubeconfig {path} does not exist")
    else:
        await config.load_kube_config(config_file=str(path), client_configuration=configuration)
    return client.ApiClient(configuration=configuration)


async def read_json(response: aiohttp.ClientResponse) -> dict[str, Any]:
    """The decoded body of a 2xx response; ApiException (status, message) otherwise."""
    async with response:
        data = await response.read()
    if not 200 <= response.status <= 299:
        raise client.ApiException(status=response.status, reason=_message(data))
    body: dict[str, Any] = json.loads(data)
    return body


async def call_json(
    method: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any
) -> dict[str, Any]:
    """Call a generated API method and decode its answer (see `read_json`)."""
    response = await method(*args, _preload_content=False, _request_timeout=CALL_TIMEOUT, **kwargs)
    return await read_json(response)


def _message(data: bytes) -> str:
    """The `message` of a Kubernetes Status body, else the start of the body."""
    try:
        status = json.loads(data)
    except ValueError:
        status = None
    if isinstance(status, dict) and isinstance(status.get("message"), str):
        return str(status["message"])[:500]
    return data[:300].decode(errors="replace")


def describe_error(error: BaseException) -> str:
    """One short line naming an API failure, for logs."""
    if isinstance(error, client.ApiException):
        return f"HTTP {error.status}: {error.reason}"
    return f"{type(error).__name__}: {error}".splitlines()[0][:300]
