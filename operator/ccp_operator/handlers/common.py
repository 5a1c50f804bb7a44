"""What every handler does: run a reconciler, write the status, map errors for kopf."""

from __future__ import annotations

import json
import logging
from typing import Any, Callable

import kopf

from .. import conditions, metrics
from ..errors import InvalidSpec, Waiting, mapped_to_kopf
from ..kube import default_kube
from ..kube.client import Kube
from ..reconcile import dependents
from ..reconcile import status as status_writer
from ..reconcile.base import Reconciler


def plain(body: kopf.Body) -> dict[str, Any]:
    """A detached, JSON-plain copy of kopf's body view."""
    return json.loads(json.dumps(dict(body), default=dict))


def run(make: Callable[[Kube, dict[str, Any]], Reconciler], body: kopf.Body, retry: int,
        logger: logging.Logger) -> None:
    kube = default_kube()
    current = plain(body)
    reconciler = make(kube, current)
    try:
        with metrics.timed_reconciliation(reconciler.kind):
            _reconcile(kube, current, reconciler, body, retry, logger)
    finally:
        for kind, reason, message in reconciler.events:
            kopf.event(body, type=kind, reason=reason, message=message)


def _reconcile(kube: Kube, current: dict[str, Any], reconciler: Reconciler, body: kopf.Body, retry: int,
               logger: logging.Logger) -> None:
    with mapped_to_kopf(retry):
        try:
            outcome = reconciler.reconcile()
        except InvalidSpec as exc:
            steps = [conditions.Condition("SpecValid", False, "InvalidSpec", str(exc))]
            status_writer.write(kube, current, status_writer.build(current, steps, ready=False))
            reconciler.event("InvalidSpec", str(exc), warning=True)
            raise
        except Waiting:
            status_writer.write(kube, current, status_writer.build(current, reconciler.steps, ready=False,
                                                                   extra=reconciler.extra_status))
            raise
        extra: dict[str, Any] = {**reconciler.extra_status}
        if outcome.components:
            extra["components"] = outcome.components
        if outcome.version:
            extra["version"] = outcome.version
        if outcome.endpoint is not None:
            extra["endpoint"] = outcome.endpoint
        was_ready = conditions.is_true((current.get("status") or {}).get("conditions"))
        status_writer.write(kube, current, status_writer.build(current, reconciler.steps, ready=True, extra=extra))
        if outcome.endpoint is not None and outcome.endpoint != (current.get("status") or {}).get("endpoint"):
            woken = dependents.notify(kube, reconciler.namespace, reconciler.kind, reconciler.owner.name,
                                      outcome.endpoint)
            if woken:
                logger.info("endpoint changed; reconciling its users: %s", ", ".join(woken))
        if not was_ready:
            message = f"{reconciler.kind} {reconciler.owner.name} is Ready"
            reconciler.event("Ready", message + (f" at release {outcome.version}" if outcome.version else ""))
            logger.info(message)
