"""kopf handlers of the Horizon resource: create, update and operator restart all reconcile."""

import kopf

from ..api import GROUP, VERSION
from ..services import horizon
from ..reconcile.service import ServiceReconciler
from .common import run


@kopf.on.resume(GROUP, VERSION, "horizons")
@kopf.on.create(GROUP, VERSION, "horizons")
@kopf.on.update(GROUP, VERSION, "horizons")
def reconcile(body, retry, logger, **_):
    run(lambda kube, current: ServiceReconciler(kube, horizon.SERVICE, current), body, retry, logger)
