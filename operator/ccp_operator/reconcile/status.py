"""Status of the operator's resources, written only when it changes.

observedGeneration moves to the resource's generation only once that generation is fully
reconciled; Ready mirrors the first step that is not done, so `kubectl get` tells what a
resource waits for.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from .. import conditions
from ..kube.client import Kube


def build(body: dict[str, Any], steps: list[conditions.Condition], *, ready: bool,
          extra: dict[str, Any] | None = None, waiting: conditions.Condition | None = None) -> dict[str, Any]:
    """The new status: Ready (mirroring the first unfinished step, else what the pass `waiting`
    stopped on outside any step), the steps, and `extra` fields."""
    previous = copy.deepcopy(body.get("status") or {})
    generation = body["metadata"].get("generation")
    blocking = next((c for c in steps if c.status is not True), None)
    if ready:
        summary = conditions.Condition(conditions.READY, True, "Ready", "all components are available")
    elif blocking is not None:
        summary = conditions.Condition(conditions.READY, False, blocking.reason, blocking.message)
    elif waiting is not None:
        summary = conditions.Condition(conditions.READY, False, waiting.reason, waiting.message)
    else:
        summary = conditions.Condition(conditions.READY, False, "Reconciling", "reconciliation in progress")
    status = {key: value for key, value in previous.items() if key not in ("conditions", "kopf")}
    status.update(extra or {})
    status["conditions"] = conditions.merge(previous.get("conditions"), [summary, *steps], generation)
    if ready:
        status["observedGeneration"] = generation
    return status


def changed(body: dict[str, Any], status: dict[str, Any]) -> bool:
    current = {k: v for k, v in (body.get("status") or {}).items() if k != "kopf"}
    return current != status


def write(kube: Kube, body: dict[str, Any], status: dict[str, Any]) -> None:
    """Patches the status subresource when, and only when, it differs from the body's."""
    if not changed(body, status):
        return
    meta = body["metadata"]
    current = {k: v for k, v in (body.get("status") or {}).items() if k != "kopf"}
    logging.getLogger(__name__).debug(
        "status of %s %s/%s changes: %s", body["kind"], meta["namespace"], meta["name"],
        sorted(k for k in set(current) | set(status) if current.get(k) != status.get(k)))
    # Only the fields that changed (so a stale copy never reverts what another writer, such as
    # the Galera observer, set meanwhile).
    patch = merge_patch(current, status)
    kube.patch_status(body["apiVersion"], body["kind"], meta["namespace"], meta["name"], patch)


def merge_patch(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The JSON merge patch (RFC 7386) turning `old` into `new`: changed fields only, and a
    field that is gone named as null, at any depth (a merge patch merges nested objects)."""
    patch: dict[str, Any] = {key: None for key in old if key not in new}
    for key, value in new.items():
        before = old.get(key)
        if before == value:
            continue
        if isinstance(value, dict) and isinstance(before, dict):
            patch[key] = merge_patch(before, value)
        else:
            patch[key] = value
    return patch


def patch_fields(kube: Kube, body: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """Patches the status fields an observer owns, only those that changed; returns them.

    Observers (the Galera and RabbitMQ timers) run beside the reconciler: naming only their own
    fields, they never revert what the reconciler wrote meanwhile."""
    current = body.get("status") or {}
    patch = {key: value for key, value in fields.items() if current.get(key) != value}
    if patch:
        meta = body["metadata"]
        kube.patch_status(body["apiVersion"], body["kind"], meta["namespace"], meta["name"], patch)
    return patch
