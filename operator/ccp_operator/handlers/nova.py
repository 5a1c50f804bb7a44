"""kopf handlers of the Nova resource: create, update and operator restart all reconcile."""

import kopf

from ..api import GROUP, VERSION
from ..services import nova
from ..reconcile.service import ServiceReconciler
from .common import run


@kopf.on.resume(GROUP, VERSION, "novas")
@kopf.on.create(GROUP, VERSION, "novas")
@kopf.on.update(GROUP, VERSION, "novas")
def reconcile(body, retry, logger, **_):
    run(lambda kube, current: ServiceReconciler(kube, nova.SERVICE, current), body, retry, logger)
