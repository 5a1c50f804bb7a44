"""What the operator's watches delivered: the latest version and status of each of its objects.

Fed by an event handler on every kind; read by the metrics (readiness, Galera writer, upgrade
progress come from the status) and by the liveness check, which compares it with a fresh listing
to tell a watch that stopped delivering.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

Key = tuple[str, str, str]  # kind, namespace, name


@dataclass(frozen=True)
class WatchedObject:
    kind: str
    namespace: str
    name: str
    resource_version: str
    generation: int | None
    spec: dict[str, Any] = field(default_factory=dict)
    status: dict[str, Any] = field(default_factory=dict)


class WatchedObjects:
    """Thread-safe: kopf's event handlers write, the metrics and health threads read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._objects: dict[Key, WatchedObject] = {}

    def record(self, body: dict[str, Any], deleted: bool = False) -> None:
        meta = body["metadata"]
        key = (body["kind"], meta.get("namespace", ""), meta["name"])
        with self._lock:
            if deleted:
                self._objects.pop(key, None)
            else:
                self._objects[key] = WatchedObject(
                    key[0], key[1], key[2], meta.get("resourceVersion", ""), meta.get("generation"),
                    dict(body.get("spec") or {}), dict(body.get("status") or {}))

    def version(self, key: Key) -> str | None:
        with self._lock:
            found = self._objects.get(key)
            return found.resource_version if found else None

    def snapshot(self) -> list[WatchedObject]:
        with self._lock:
            return list(self._objects.values())


WATCHED = WatchedObjects()
