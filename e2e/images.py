"""OCI image archives packed here, without a registry or an image builder.

A single-layer image (files + entrypoint) is written as an OCI image layout in a tar
archive whose index carries the ``io.containerd.image.name`` annotation, so
``ctr -n k8s.io images import`` stores it under that name and kubelet never pulls it.
Used for the pause image (a static C binary) and the echo backend (a static Go binary).
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path

MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_LAYER = "application/vnd.oci.image.layer.v1.tar"


@dataclass(frozen=True)
class ImageFile:
    """One regular file of the image's only layer."""

    path: str
    """Absolute path inside the image."""
    source: Path
    mode: int = 0o755


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    tar.addfile(info, io.BytesIO(data))


def _layer(files: list[ImageFile]) -> bytes:
    """An uncompressed, reproducible layer tar holding ``files`` (parent dirs included)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        dirs: set[str] = set()
        for item in files:
            parts = item.path.strip("/").split("/")
            for depth in range(1, len(parts)):
                parent = "/".join(parts[:depth])
                if parent not in dirs:
                    dirs.add(parent)
                    info = tarfile.TarInfo(parent)
                    info.type = tarfile.DIRTYPE
                    info.mode = 0o755
                    tar.addfile(info)
            _add_bytes(tar, "/".join(parts), item.source.read_bytes(), item.mode)
    return buf.getvalue()


def _descriptor(media_type: str, data: bytes) -> dict[str, object]:
    return {
        "mediaType": media_type,
        "digest": "sha256:" + hashlib.sha256(data).hexdigest(),
        "size": len(data),
    }


def pack_image(
    out: Path,
    *,
    name: str,
    files: list[ImageFile],
    entrypoint: list[str],
    user: str = "65534:65534",
) -> None:
    """Write an OCI image-layout archive of a one-layer linux/amd64 image named ``name``."""
    layer = _layer(files)
    layer_digest = "sha256:" + hashlib.sha256(layer).hexdigest()
    platform = {"architecture": "amd64", "os": "linux"}
    config = json.dumps(
        {
            **platform,
            "config": {"Entrypoint": entrypoint, "User": user, "WorkingDir": "/"},
            "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        },
        sort_keys=True,
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": MEDIA_MANIFEST,
            "config": _descriptor(MEDIA_CONFIG, config),
            "layers": [_descriptor(MEDIA_LAYER, layer)],
        },
        sort_keys=True,
    ).encode()
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                **_descriptor(MEDIA_MANIFEST, manifest),
                "platform": platform,
                "annotations": {
                    "io.containerd.image.name": name,
                    "org.opencontainers.image.ref.name": name.rpartition(":")[2],
                },
            }
        ],
    }
    tmp = out.with_suffix(".tmp")
    with tarfile.open(tmp, mode="w", format=tarfile.PAX_FORMAT) as tar:
        _add_bytes(tar, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        _add_bytes(tar, "index.json", json.dumps(index).encode())
        for blob in (layer, config, manifest):
            _add_bytes(tar, "blobs/sha256/" + hashlib.sha256(blob).hexdigest(), blob)
    tmp.replace(out)
