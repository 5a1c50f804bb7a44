"""Waking the users of a provider whose published endpoint changed.

A dependent reads its providers' endpoints only when it reconciles. When a provider's endpoint
changes (a Ceph key rotated, RabbitMQ members added), each resource that uses it gets an
annotation with the endpoint's digest: a change of its own, so it reconciles, re-renders its
configuration and rolls only the components whose files changed.
"""

from __future__ import annotations

from typing import Any

from .. import dependencies
from ..api import API_VERSION
from ..api.kinds import INFRASTRUCTURE
from ..hashing import short_hash
from ..kube.client import Kube
from ..services import catalog

ANNOTATION = "ccp.openstack.org/{kind}-endpoint"


def dependent_kinds(kind: str) -> list[str]:
    return ([definition.kind for definition in catalog.SERVICES if kind in definition.needs]
            + [module.KIND for module in INFRASTRUCTURE if kind in module.NEEDS])


def notify(kube: Kube, namespace: str, kind: str, name: str, endpoint: dict[str, Any]) -> list[str]:
    """Annotates every dependent of the provider `kind`/`name` not yet told of this endpoint;
    returns the ones it woke."""
    key = ANNOTATION.format(kind=kind.lower())
    digest = short_hash(endpoint)
    woken = []
    for dependent_kind in dependent_kinds(kind):
        for body in kube.list(API_VERSION, dependent_kind, namespace):
            meta = body["metadata"]
            if dependencies.reference_name(body.get("spec") or {}, kind, meta["name"]) != name:
                continue
            if (meta.get("annotations") or {}).get(key) == digest:
                continue
            kube.merge_patch(API_VERSION, dependent_kind, namespace, meta["name"],
                             {"metadata": {"annotations": {key: digest}}})
            woken.append(f"{dependent_kind} {meta['name']}")
    return woken
