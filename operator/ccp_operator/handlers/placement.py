"""kopf handlers of the Placement resource: create, update and operator restart all reconcile."""

import kopf

from ..api import GROUP, VERSION
from ..services import placement
from ..reconcile.service import ServiceReconciler
from .common import run


@kopf.on.resume(GROUP, VERSION, "placements")
@kopf.on.create(GROUP, VERSION, "placements")
@kopf.on.update(GROUP, VERSION, "placements")
def reconcile(body, retry, logger, **_):
    run(lambda kube, current: ServiceReconciler(kube, placement.SERVICE, current), body, retry, logger)
