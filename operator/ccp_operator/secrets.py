"""Credentials the operator generates: once, from a cryptographic random source, into Secrets.

These Secrets carry no owner reference, so deleting a custom resource keeps them and a
re-created resource finds the same passwords its databases were set up with. They are created
with a plain create (never applied), so an existing value is never overwritten.
"""

from __future__ import annotations

import base64
import secrets as random_source
import struct
import time
import uuid
from typing import Any, Iterable

from . import labels
from .kube.client import Kube

PASSWORD_BYTES = 24
GENERATED_LABEL = "ccp.openstack.org/generated"


def new_password() -> str:
    """32 characters of [A-Za-z0-9_-]: safe inside URLs, SQL string literals and INI values."""
    return random_source.token_urlsafe(PASSWORD_BYTES)


def new_fernet_key() -> str:
    """A Fernet key: 32 random bytes, URL-safe base64 (what keystone-manage fernet_setup writes)."""
    return base64.urlsafe_b64encode(random_source.token_bytes(32)).decode()


def new_cephx_key() -> str:
    """A cephx secret as `ceph-authtool --gen-print-key` prints it: base64 of the key type (AES),
    its creation time, the length and 16 random bytes, little-endian."""
    now = time.time()
    header = struct.pack("<HIIH", 1, int(now), int((now % 1) * 1e9), 16)
    return base64.b64encode(header + random_source.token_bytes(16)).decode()


def new_uuid() -> str:
    return str(uuid.uuid4())


def ensure(kube: Kube, namespace: str, name: str, keys: Iterable[str], *, service: str, instance: str,
           generate=new_password) -> dict[str, str]:
    """The Secret's values, creating it (or adding missing keys) without touching existing ones."""
    wanted = list(keys)
    existing = kube.get("v1", "Secret", namespace, name)
    if existing is None:
        manifest: dict[str, Any] = {
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": name, "namespace": namespace,
                         "labels": {**labels.standard(service, instance), GENERATED_LABEL: "true"}},
            "type": "Opaque",
            "stringData": {key: generate() for key in wanted},
        }
        existing, _ = kube.create(manifest)
    values = decoded(existing)
    missing = [key for key in wanted if key not in values]
    if missing:
        added = {key: generate() for key in missing}
        kube.merge_patch("v1", "Secret", namespace, name, {"stringData": added})
        values.update(added)
    return values


def decoded(secret: dict[str, Any]) -> dict[str, str]:
    """A Secret's values as text."""
    return {key: base64.b64decode(value).decode() for key, value in (secret.get("data") or {}).items()}
