"""kopf handlers of the Etcd resource: create, update and operator restart all reconcile."""

import kopf

from ..api import GROUP, VERSION
from ..reconcile.etcd import EtcdReconciler
from .common import run


@kopf.on.resume(GROUP, VERSION, "etcds")
@kopf.on.create(GROUP, VERSION, "etcds")
@kopf.on.update(GROUP, VERSION, "etcds")
def reconcile(body, retry, logger, **_):
    run(EtcdReconciler, body, retry, logger)
