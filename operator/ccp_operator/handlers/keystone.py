"""kopf handlers of the Keystone resource: create, update and operator restart all reconcile."""

import kopf

from ..api import GROUP, VERSION
from ..services import keystone
from ..reconcile.service import ServiceReconciler
from .common import run


@kopf.on.resume(GROUP, VERSION, "keystones")
@kopf.on.create(GROUP, VERSION, "keystones")
@kopf.on.update(GROUP, VERSION, "keystones")
def reconcile(body, retry, logger, **_):
    run(lambda kube, current: ServiceReconciler(kube, keystone.SERVICE, current), body, retry, logger)
