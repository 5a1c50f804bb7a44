"""kopf handlers of the Glance resource: create, update and operator restart all reconcile."""

import kopf

from ..api import GROUP, VERSION
from ..services import glance
from ..reconcile.service import ServiceReconciler
from .common import run


@kopf.on.resume(GROUP, VERSION, "glances")
@kopf.on.create(GROUP, VERSION, "glances")
@kopf.on.update(GROUP, VERSION, "glances")
def reconcile(body, retry, logger, **_):
    run(lambda kube, current: ServiceReconciler(kube, glance.SERVICE, current), body, retry, logger)
