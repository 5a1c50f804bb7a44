"""Every kind the operator reconciles: how a pass over one resource is made, and the observer
that runs beside it where the program reports its own state. handlers/ registers each entry the
same way, so a new kind is one entry here (an OpenStack service: one line in services/catalog.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ..kube.client import Kube
from ..services import catalog
from ..services.base import ServiceDefinition
from . import ceph, galera, rabbitmq
from .base import Event, Reconciler
from .controlplane import KIND as CONTROL_PLANE_KIND
from .controlplane import PLURAL as CONTROL_PLANE_PLURAL
from .controlplane import ControlPlaneReconciler
from .etcd import EtcdReconciler
from .service import ServiceReconciler


@dataclass(frozen=True)
class Observer:
    """A timer that reads what the program itself reports into the status."""

    handler_id: str  # kopf's id of the timer, kept from release to release
    every: float     # seconds
    observe: Callable[[Kube, dict[str, Any]], list[Event]]


@dataclass(frozen=True)
class KindHandlers:
    kind: str
    plural: str
    reconciler: Callable[[Kube, dict[str, Any]], Reconciler]
    observer: Observer | None = None


def infrastructure(reconciler: type[Reconciler], observer: Observer | None = None) -> KindHandlers:
    """An infrastructure kind: its reconciler class names its declaration."""
    return KindHandlers(reconciler.definition.kind, reconciler.definition.plural, reconciler, observer)


def service(definition: ServiceDefinition) -> KindHandlers:
    return KindHandlers(definition.kind, definition.plural,
                        lambda kube, body: ServiceReconciler(kube, definition, body))


KINDS: tuple[KindHandlers, ...] = (
    KindHandlers(CONTROL_PLANE_KIND, CONTROL_PLANE_PLURAL, ControlPlaneReconciler),
    infrastructure(EtcdReconciler),
    infrastructure(galera.GaleraReconciler, Observer("observe_cluster", 15.0, galera.observe)),
    infrastructure(rabbitmq.RabbitMQReconciler, Observer("observe_brokers", 30.0, rabbitmq.observe)),
    infrastructure(ceph.CephReconciler, Observer("observe_cluster", 30.0, ceph.observe)),
    *(service(definition) for definition in catalog.SERVICES),
)
