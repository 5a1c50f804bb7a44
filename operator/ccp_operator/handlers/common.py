"""What every handler does: run a reconciler, write the status, map errors for kopf; and the
registration of every kind's handlers from reconcile/kinds.py, all the same way."""

from __future__ import annotations

import json
import logging
from typing import Any, Callable

import kopf

from .. import conditions, dependencies, metrics
from ..api import GROUP, VERSION
from ..errors import Waiting, WaitingForResource, mapped_to_kopf
from ..kube import default_kube
from ..kube.client import Kube
from ..reconcile import dependents
from ..reconcile import status as status_writer
from ..reconcile.base import Event, Reconciler
from ..reconcile.kinds import KindHandlers


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
        post(body, reconciler.events)


def post(body: kopf.Body, events: list[Event]) -> None:
    for event in events:
        kopf.event(body, type=event.type, reason=event.reason, message=event.message)


def register(entry: KindHandlers) -> None:
    """Create, update and operator restart all reconcile (kopf id "reconcile"); an observer is a
    timer. The ids stay as they were, since kopf keeps a handler's progress in the status."""
    def reconcile(body: kopf.Body, retry: int, logger: logging.Logger, **_: Any) -> None:
        run(entry.reconciler, body, retry, logger)

    for on in (kopf.on.resume, kopf.on.create, kopf.on.update):
        on(GROUP, VERSION, entry.plural, id="reconcile")(reconcile)
    observer = entry.observer
    if observer is not None:
        def observe(body: kopf.Body, **_: Any) -> None:
            post(body, observer.observe(default_kube(), plain(body)))

        kopf.timer(GROUP, VERSION, entry.plural, id=observer.handler_id, interval=observer.every,
                   initial_delay=observer.every)(observe)


def _reconcile(kube: Kube, current: dict[str, Any], reconciler: Reconciler, body: kopf.Body, retry: int,
               logger: logging.Logger) -> None:
    with mapped_to_kopf(retry):
        result = reconciler.run()
        status_writer.write(kube, current, result.status)
        stopped = result.stopped
        if stopped is not None:
            if not isinstance(stopped, WaitingForResource):
                raise stopped
            if stopped.arrived():  # it got there while this pass wrote its status: look again now
                raise Waiting(stopped.reason, stopped.message, soon=True) from stopped
            logger.info("%s; reconciled again when that changes", stopped.message)
            return
        outcome = result.outcome
        # Whether a dependent could have found it not Ready (for this generation) until now.
        was_ready_for_generation = dependencies.is_ready(current)
        was_ready = conditions.is_true((current.get("status") or {}).get("conditions"))
        if outcome.endpoint is not None and outcome.endpoint != (current.get("status") or {}).get("endpoint"):
            woken = dependents.notify(kube, reconciler.namespace, reconciler.kind, reconciler.owner.name,
                                      outcome.endpoint)
            if woken:
                logger.info("endpoint changed; reconciling its users: %s", ", ".join(woken))
        if not was_ready_for_generation:
            woken = dependents.wake(kube, reconciler.namespace, reconciler.kind, reconciler.owner.name,
                                    current["metadata"].get("resourceVersion", ""))
            if woken:
                logger.info("Ready; reconciling the users that waited for it: %s", ", ".join(woken))
        if not was_ready:
            message = f"{reconciler.kind} {reconciler.owner.name} is Ready"
            reconciler.event("Ready", message + (f" at release {outcome.version}" if outcome.version else ""))
            logger.info(message)
