"""What services publish in their status for the services that depend on them, and how a
dependent reads it.

A provider writes `status.endpoint` once it is Ready; a dependent waits until the provider's
Ready condition is True for its current generation and then reads only that endpoint, so
services stay decoupled and each works on its own with hand-written neighbours.
"""

from __future__ import annotations

from typing import Any

from . import conditions
from .api import API_VERSION
from .errors import WaitingForResource
from .kube.client import Kube

# The spec field of a dependent naming each dependency (default: the dependent's own name).
REFERENCE_FIELDS = {"Etcd": "etcdRef", "Ceph": "cephRef", "Galera": "databaseRef", "RabbitMQ": "messagingRef", "Memcached": "cacheRef",
                    "Keystone": "identityRef", "Placement": "placementRef", "Nova": "computeAPIRef"}


def is_ready(body: dict[str, Any]) -> bool:
    status = body.get("status") or {}
    return (conditions.is_true(status.get("conditions"))
            and status.get("observedGeneration") == body["metadata"].get("generation"))


def reference_name(spec: dict[str, Any], kind: str, default: str) -> str:
    return (spec.get(REFERENCE_FIELDS[kind]) or {}).get("name") or default


def waiting_reason(kind: str) -> str:
    """The Ready reason of a resource waiting for a dependency of this kind (what wakes it)."""
    return f"WaitingFor{kind}"


def resolve(kube: Kube, namespace: str, spec: dict[str, Any], kinds: tuple[str, ...],
            default_name: str) -> dict[str, dict[str, Any]]:
    """The published endpoints of every dependency, or WaitingForResource naming the first one
    not Ready (which wakes this resource once it is: reconcile/dependents.py)."""
    endpoints: dict[str, dict[str, Any]] = {}
    for kind in kinds:
        name = reference_name(spec, kind, default_name)
        body = kube.get(API_VERSION, kind, namespace, name)

        def arrived(kind: str = kind, name: str = name) -> bool:
            again = kube.get(API_VERSION, kind, namespace, name)
            return again is not None and is_ready(again)

        if body is None:
            raise WaitingForResource(waiting_reason(kind), f"waiting for {kind} {name}: it does not exist", arrived)
        if not is_ready(body):
            ready = conditions.find((body.get("status") or {}).get("conditions"), conditions.READY) or {}
            detail = ready.get("message") or "not reconciled yet"
            raise WaitingForResource(waiting_reason(kind), f"waiting for {kind} {name} to be Ready ({detail})",
                                     arrived)
        endpoints[kind] = body["status"]["endpoint"]
    return endpoints
