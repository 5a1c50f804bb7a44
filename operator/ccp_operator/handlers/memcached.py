"""kopf handlers of the Memcached resource: create, update and operator restart all reconcile."""

import kopf

from ..api import GROUP, VERSION
from ..services import memcached
from ..reconcile.service import ServiceReconciler
from .common import run


@kopf.on.resume(GROUP, VERSION, "memcacheds")
@kopf.on.create(GROUP, VERSION, "memcacheds")
@kopf.on.update(GROUP, VERSION, "memcacheds")
def reconcile(body, retry, logger, **_):
    run(lambda kube, current: ServiceReconciler(kube, memcached.SERVICE, current), body, retry, logger)
