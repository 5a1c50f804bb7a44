"""Waking the users of a provider: when its published endpoint changed, and when it became Ready.

A dependent reads its providers' endpoints only when it reconciles. When a provider's endpoint
changes (a Ceph key rotated, RabbitMQ members added), each resource that uses it gets an
annotation with the endpoint's digest: a change of its own, so it reconciles, re-renders its
configuration and rolls only the components whose files changed.

A dependent waiting for a provider to be Ready schedules no retry (errors.WaitingForResource):
the provider's pass that makes it Ready annotates every dependent whose Ready condition says it
waits for it, and that change reconciles the dependent at once.
"""

from __future__ import annotations

from typing import Any

from .. import conditions, dependencies
from ..api import API_VERSION
from ..hashing import short_hash
from ..kube.client import Kube
from ..services import catalog

ANNOTATION = "ccp.openstack.org/{kind}-endpoint"
WAKE_ANNOTATION = "ccp.openstack.org/{kind}-ready"


def dependent_kinds(kind: str) -> list[str]:
    return ([definition.kind for definition in catalog.SERVICES if kind in definition.needs]
            + [infrastructure.kind for infrastructure in catalog.INFRASTRUCTURE if kind in infrastructure.dependencies])


def users(kube: Kube, namespace: str, kind: str, name: str) -> list[tuple[str, dict[str, Any]]]:
    """(kind, body) of every resource whose reference to a `kind` names `name`."""
    return [(dependent_kind, body) for dependent_kind in dependent_kinds(kind)
            for body in kube.list(API_VERSION, dependent_kind, namespace)
            if dependencies.reference_name(body.get("spec") or {}, kind, body["metadata"]["name"]) == name]


def annotate(kube: Kube, namespace: str, targets: list[tuple[str, dict[str, Any]]], key: str,
             value: str) -> list[str]:
    """Sets the annotation `key` to `value` on each target not carrying it yet (a change of its
    own, so it reconciles); returns the ones it changed."""
    changed = []
    for dependent_kind, body in targets:
        meta = body["metadata"]
        if (meta.get("annotations") or {}).get(key) == value:
            continue
        kube.merge_patch(API_VERSION, dependent_kind, namespace, meta["name"],
                         {"metadata": {"annotations": {key: value}}})
        changed.append(f"{dependent_kind} {meta['name']}")
    return changed


def wake(kube: Kube, namespace: str, kind: str, name: str, token: str) -> list[str]:
    """Annotates every user of the provider `kind`/`name` that waits for it to be Ready;
    `token` differs at each of the provider's passes to Ready (its resourceVersion before it)."""
    waiting = [(dependent_kind, body) for dependent_kind, body in users(kube, namespace, kind, name)
               if (conditions.find((body.get("status") or {}).get("conditions"), conditions.READY) or {}).get(
                   "reason") == dependencies.waiting_reason(kind)]
    return annotate(kube, namespace, waiting, WAKE_ANNOTATION.format(kind=kind.lower()), token)


def notify(kube: Kube, namespace: str, kind: str, name: str, endpoint: dict[str, Any]) -> list[str]:
    """Annotates every dependent of the provider `kind`/`name` not yet told of this endpoint;
    returns the ones it woke."""
    return annotate(kube, namespace, users(kube, namespace, kind, name), ANNOTATION.format(kind=kind.lower()),
                    short_hash(endpoint))
