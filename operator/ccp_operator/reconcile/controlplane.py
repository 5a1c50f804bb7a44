"""Reconciliation of the OpenStackControlPlane umbrella: one child resource per service, and a
status that aggregates theirs.

The umbrella is Ready only when every child is Ready for the spec the umbrella gave it: the child
carries the umbrella generation it was applied from, and its observedGeneration equals its own
generation.
"""

from __future__ import annotations

import contextlib
import copy
from typing import Any

from .. import conditions, dependencies, placement, releases, workloads
from ..api import API_VERSION
from ..errors import InvalidSpec, WaitingForResource, require_odd
from ..kube.client import Kube
from ..services import catalog
from . import status as status_writer
from . import upgrade
from .base import Outcome, Reconciler

KIND, PLURAL = "OpenStackControlPlane", "openstackcontrolplanes"
PARENT_GENERATION = "ccp.openstack.org/parent-generation"
SHARED_FIELDS = ("release", "images", "debug")
DEFAULTED_FIELDS = ("workers",)  # given to every service that sets none of its own


def children() -> list[tuple[str, str, str]]:
    """(kind, spec section, plural) of every child in bring-up order: the quorum services first,
    then the OpenStack services; an infrastructure kind that itself waits for a service (Ceph's
    radosgw for keystone) comes just before the first service that uses it."""
    late = {kind.kind: kind for kind in catalog.INFRASTRUCTURE if kind.needs}
    result = [(kind.kind, kind.section, kind.plural) for kind in catalog.INFRASTRUCTURE if kind.kind not in late]
    for definition in catalog.SERVICES:
        for name in [name for name in late if name in definition.needs]:
            kind = late.pop(name)
            result.append((kind.kind, kind.section, kind.plural))
        result.append((definition.kind, catalog.section(definition), definition.plural))
    return result + [(kind.kind, kind.section, kind.plural) for kind in late.values()]


def child_spec(plane_spec: dict[str, Any], kind: str, section: str) -> dict[str, Any]:
    """The child's spec: its section, the shared fields, and the merged node selector."""
    spec = copy.deepcopy(plane_spec.get(section) or {})
    selector = placement.merged_node_selector(plane_spec.get("nodeSelector"), spec.get("nodeSelector"))
    if selector:
        spec["nodeSelector"] = selector
    shared = SHARED_FIELDS if kind in catalog.BY_KIND else catalog.INFRASTRUCTURE_BY_KIND[kind].plane_fields
    for field in shared:
        if field in plane_spec:
            spec[field] = copy.deepcopy(plane_spec[field])
    if kind in catalog.BY_KIND:
        for field in DEFAULTED_FIELDS:
            if field in plane_spec:
                spec.setdefault(field, plane_spec[field])
    if kind in catalog.BY_KIND and plane_spec.get("paused"):
        spec["paused"] = True
    derived = kind in catalog.BY_KIND and catalog.BY_KIND[kind].from_plane
    if derived:
        spec.update(derived(plane_spec))
    return spec


def follows_release(child: dict[str, Any] | None) -> bool:
    """A service that takes the control plane's release (no version of its own)."""
    return child is not None and not (child.get("spec") or {}).get("version")


def releases_to_apply(plane_spec: dict[str, Any], live: dict[str, dict[str, Any] | None]) -> dict[str, str]:
    """The release to give each service: a new control-plane release goes to one service at a
    time, in the catalog's bring-up order; the next one gets it once the previous runs it and is
    Ready."""
    target = plane_spec["release"]
    result, gate_open = {}, True
    for definition in catalog.SERVICES:
        child = live.get(definition.kind)
        if child is not None and not gate_open:
            # Waiting for its turn: it keeps the release it runs.
            status, spec = child.get("status") or {}, child.get("spec") or {}
            result[definition.kind] = status.get("version") or spec.get("release") or target
            continue
        result[definition.kind] = target
        if follows_release(child):
            gate_open = (child["spec"].get("release") == target and dependencies.is_ready(child)
                         and (child.get("status") or {}).get("version") == target)
    return result


def release_refusal(plane_spec: dict[str, Any], live: dict[str, dict[str, Any] | None]) -> str | None:
    """Why a service cannot move from the release it runs to the control plane's (SLURP rules)."""
    for definition in catalog.SERVICES:
        child = live.get(definition.kind)
        running = ((child or {}).get("status") or {}).get("version")
        if follows_release(child) and running:
            refusal = releases.upgrade_refusal(running, plane_spec["release"])
            if refusal:
                return f"{definition.name}: {refusal}"
    return None


class ControlPlaneReconciler(Reconciler):
    kind = KIND

    def validate(self) -> None:
        for kind in catalog.INFRASTRUCTURE:
            require_odd(f"spec.{kind.section}.{kind.quorum_field}", kind.member_count(self.spec.get(kind.section) or {}))
        # A section's own refusal, named in the plane's terms before any child is written.
        for definition in catalog.SERVICES:
            name = catalog.section(definition)
            for field_path, problem in definition.problems(self.spec.get(name) or {}):
                raise InvalidSpec(f"spec.{name}.{field_path.removeprefix('spec.')}", problem)

    def reconcile(self) -> Outcome:
        self.validate()
        self.step("ChildrenApplied", "Applied", self.apply_children)
        summary = aggregate(self.kube, self.body)
        self.steps += service_conditions(summary)
        self.extra_status = status_extra(self.body, summary)
        if summary["ready"] < summary["total"]:
            # Each change of a child refreshes this status (refresh below), and a pause or a revert
            # in this spec is reconciled at once, since no retry holds it back.
            def arrived() -> bool:
                again = aggregate(self.kube, self.body)
                return again["ready"] == again["total"]
            raise WaitingForResource(summary["reason"], summary["message"], arrived)
        return Outcome({}, None, "")

    def apply_children(self) -> None:
        generation = str(self.body["metadata"].get("generation", 0))
        live = {definition.kind: self.kube.get(API_VERSION, definition.kind, self.namespace, self.owner.name)
                for definition in catalog.SERVICES}
        refusal = release_refusal(self.spec, live)
        if refusal:
            raise InvalidSpec("spec.release", refusal)
        service_releases = releases_to_apply(self.spec, live)
        for kind, section, _ in children():
            meta = workloads.metadata(self.owner, self.owner.name, section)
            meta["annotations"] = {PARENT_GENERATION: generation}
            spec = child_spec(self.spec, kind, section)
            if kind in service_releases:
                spec["release"] = service_releases[kind]
            self.kube.apply({"apiVersion": API_VERSION, "kind": kind, "metadata": meta, "spec": spec})


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
            target = body["spec"].get("release")
            if ready and kind in catalog.BY_KIND and follows_release(child) and child["spec"].get("release") != target:
                entry.update(ready=False, reason="WaitingForItsTurn",
                             message=f"runs {child['spec'].get('release')}; moves to {target} after the services "
                                     "before it")
            if status.get("version"):
                entry["version"] = status["version"]
            record = upgrade.in_progress(status)
            if record:
                entry["upgrade"] = (f"{record['fromVersion']} -> {record['toVersion']}: "
                                    f"{record.get('step') or '-'} ({record['state']})")
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
    if any(entry["reason"] == "WaitingForItsTurn" for entry in summary["services"].values()):
        # A new release goes on to the next service as soon as the one before it is Ready;
        # re-applying the children writes only the one whose release changes. (A refused release
        # is the umbrella handler's to report.)
        with contextlib.suppress(InvalidSpec):
            ControlPlaneReconciler(kube, parent).apply_children()
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
    upgrading = [f"{section} {entry['upgrade']}" for section, entry in summary["services"].items()
                 if entry.get("upgrade")]
    return {
        "servicesReady": f"{summary['ready']}/{summary['total']}",
        "services": summary["services"],
        "release": release if versions == {release} else "",
        "upgrading": "; ".join(upgrading),
    }
