"""kopf handlers of the Cinder resource: create, update and operator restart all reconcile."""

import kopf

from ..api import GROUP, VERSION
from ..services import cinder
from ..reconcile.service import ServiceReconciler
from .common import run


@kopf.on.resume(GROUP, VERSION, "cinders")
@kopf.on.create(GROUP, VERSION, "cinders")
@kopf.on.update(GROUP, VERSION, "cinders")
def reconcile(body, retry, logger, **_):
    run(lambda kube, current: ServiceReconciler(kube, cinder.SERVICE, current), body, retry, logger)
