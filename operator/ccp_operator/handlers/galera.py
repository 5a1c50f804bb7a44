"""kopf handlers of the Galera resource: create, update and operator restart all reconcile."""

import kopf

from ..api import GROUP, VERSION
from ..reconcile.galera import GaleraReconciler
from .common import run


@kopf.on.resume(GROUP, VERSION, "galeras")
@kopf.on.create(GROUP, VERSION, "galeras")
@kopf.on.update(GROUP, VERSION, "galeras")
def reconcile(body, retry, logger, **_):
    run(GaleraReconciler, body, retry, logger)
