"""kopf handlers of the Neutron resource: create, update and operator restart all reconcile."""

import kopf

from ..api import GROUP, VERSION
from ..services import neutron
from ..reconcile.service import ServiceReconciler
from .common import run


@kopf.on.resume(GROUP, VERSION, "neutrons")
@kopf.on.create(GROUP, VERSION, "neutrons")
@kopf.on.update(GROUP, VERSION, "neutrons")
def reconcile(body, retry, logger, **_):
    run(lambda kube, current: ServiceReconciler(kube, neutron.SERVICE, current), body, retry, logger)
