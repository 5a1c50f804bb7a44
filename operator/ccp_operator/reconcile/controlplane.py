"""Reconciliation of the OpenStackControlPlane umbrella: one child resource per service, and a
status that aggregates theirs.

The umbrella is Ready only when every child is Ready for the spec the umbrella gave it: the child
carries the umbrella generation it was applied from, and its observedGeneration equals its own
generation.
"""

from __future__ import annotations

import copy
from typing import Any

from .. import conditions, dependencies, placement, workloads
from ..api import API_VERSION
from ..api.kinds import INFRASTRUCTURE
from ..errors import InvalidSpec, Waiting
from ..kube.client import Kube
from ..services import catalog, ceph
from . import status as status_writer
from .base import Outcome, Reconciler

KIND = "OpenStackControlPlane"
PARENT_GENERATION = "ccp.openstack.org/parent-generation"
SHARED_FIELDS = ("release", "images", "debug")
IMAGE_FIELDS = ("release", "images")  # Ceph runs a Kolla Job (radosgw's keystone registration)


def children() -> list[tuple[str, str, str]]:
    """(kind, spec section, plural) of every child in bring-up order: the quorum services first,
    then the OpenStack services; an infrastructure kind that itself waits for a service (Ceph's
    radosgw for keystone) comes just before the first service that uses it."""
    late = {module.KIND: module for module in INFRASTRUCTURE if module.NEEDS}
    result = [(module.KIND, module.KIND.lower(), module.PLURAL) for module in INFRASTRUCTURE
              if module.KIND not in late]
    for definition in catalog.SERVICES:
        for kind in [kind for kind in late if kind in definition.needs]:
            module = late.pop(kind)
            result.append((module.KIND, module.KIND.lower(), module.PLURAL))
        result.append((definition.kind, catalog.section(definition), definition.plural))
    return result + [(module.KIND, module.KIND.lower(), module.PLURAL) for module in late.values()]


def child_spec(plane_spec: dict[str, Any], kind: str, section: str) -> dict[str, Any]:
    """The child's spec: its section, the shared fields, and the merged node selector."""
    spec = copy.deepcopy(plane_spec.get(section) or {})
    selector = placement.merged_node_selector(plane_spec.get("nodeSelector"), spec.get("nodeSelector"))
    if selector:
        spec["nodeSelector"] = selector
    shared = SHARED_FIELDS if kind in catalog.BY_KIND else IMAGE_FIELDS if kind == ceph.KIND else ()
    for field in shared:
        if field in plane_spec:
            spec[field] = copy.deepcopy(plane_spec[field])
    return spec


class ControlPlaneReconciler(Reconciler):
    kind = KIND

    def validate(self) -> None:
        for module in INFRASTRUCTURE:
            section = module.KIND.lower()
            value: Any = self.spec.get(section) or {}
            for part in module.QUORUM_FIELD.split("."):
                value = (value or {}).get(part) if isinstance(value, dict) else None
            replicas = module.DEFAULT_REPLICAS if value is None else value
            if replicas % 2 == 0:
                raise InvalidSpec(f"spec.{section}.{module.QUORUM_FIELD}",
                                  f"{replicas} members cannot keep a majority when half of them fail; "
                                  "use an odd number (1, 3, 5, ...)")

    def reconcile(self) -> Outcome:
        self.validate()
        self.step("ChildrenApplied", "Applied", self._apply_children)
        summary = aggregate(self.kube, self.body)
        self.steps += service_conditions(summary)
        self.extra_status = status_extra(self.body, summary)
        if summary["ready"] < summary["total"]:
            raise Waiting(summary["reason"], summary["message"])
        return Outcome({}, None, "")

    def _apply_children(self) -> None:
        generation = str(self.body["metadata"].get("generation", 0))
        for kind, section, _ in children():
            meta = workloads.metadata(self.owner, self.owner.name, section)
            meta["annotations"] = {PARENT_GENERATION: generation}
            self.kube.apply({"apiVersion": API_VERSION, "kind": kind, "metadata": meta,
                             "spec": child_spec(self.spec, kind, section)})


def aggregate(kube: Kube, body: dict[str, Any]) -> dict[str, Any]:
    """Per-service readiness of an umbrella's children, and which one is waited for first."""
    name, namespace = body["metadata"]["name"], body["metadata"]["namespace"]
    generation = str(body["metadata"].get("generation", 0))
    services: dict[str, Any] = {}
    first_waiting = None
    for kind, section, _ in children():
        child = kube.get(API_VERSION, kind, namespace, name)
        if child is None:
            entry = {"ready": False, "reason": "NotCreated", "message": f"{kind} {name} does not exist yet"}
        else:
            status = child.get("status") or {}
            ready_condition = conditions.find(status.get("conditions"), conditions.READY) or {}
            current = child["metadata"].get("annotations", {}).get(PARENT_GENERATION) == generation
            ready = current and dependencies.is_ready(child)
            entry = {"ready": ready, "reason": ready_condition.get("reason", "Pending"),
                     "message": ready_condition.get("message", "not reconciled yet")}
            if status.get("version"):
                entry["version"] = status["version"]
        services[section] = entry
        if not entry["ready"] and first_waiting is None:
            first_waiting = (kind, entry)
    ready = sum(1 for entry in services.values() if entry["ready"])
    total = len(services)
    result = {"services": services, "ready": ready, "total": total, "reason": "Ready", "message": ""}
    if first_waiting:
        kind, entry = first_waiting
        result["reason"] = f"WaitingFor{kind}"
        result["message"] = f"{ready}/{total} services Ready; {kind}: {entry['message']}"
    return result


def refresh(kube: Kube, parent: dict[str, Any]) -> None:
    """Recomputes the umbrella's aggregate after a child moved; writes only what changed.

    The umbrella's own handler decides about its spec (validity, children applied); this only
    re-reads the children, keeping the handler's ChildrenApplied condition as it is.
    """
    status = parent.get("status") or {}
    applied = conditions.find(status.get("conditions"), "ChildrenApplied")
    if not applied or applied.get("status") != "True":
        return
    summary = aggregate(kube, parent)
    steps = [conditions.Condition("ChildrenApplied", True, applied.get("reason", "Applied"), applied.get("message", "")),
             *service_conditions(summary)]
    new_status = status_writer.build(parent, steps, ready=summary["ready"] == summary["total"],
                                     extra=status_extra(parent, summary))
    status_writer.write(kube, parent, new_status)


def service_conditions(summary: dict[str, Any]) -> list[conditions.Condition]:
    """One condition per service, e.g. KeystoneReady, with the child's own reason and message."""
    result = []
    for kind, section, _ in children():
        entry = summary["services"][section]
        result.append(conditions.Condition(f"{kind}Ready", entry["ready"], entry["reason"], entry["message"]))
    return result


def status_extra(body: dict[str, Any], summary: dict[str, Any]) -> dict[str, Any]:
    versions = {entry.get("version") for entry in summary["services"].values() if entry.get("version")}
    release = body["spec"].get("release", "")
    return {
        "servicesReady": f"{summary['ready']}/{summary['total']}",
        "services": summary["services"],
        "release": release if versions == {release} else "",
    }
