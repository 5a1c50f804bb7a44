"""kopf handlers of the Galera resource: create, update and operator restart all reconcile; a
timer brings what the agents report through etcd (members, writer, failovers) into the status."""

import kopf

from ..api import GROUP, VERSION
from ..kube import default_kube
from ..reconcile.galera import GaleraReconciler, refresh_cluster_status
from .common import plain, run

OBSERVE_EVERY = 15.0


@kopf.on.resume(GROUP, VERSION, "galeras")
@kopf.on.create(GROUP, VERSION, "galeras")
@kopf.on.update(GROUP, VERSION, "galeras")
def reconcile(body, retry, logger, **_):
    run(GaleraReconciler, body, retry, logger)


@kopf.timer(GROUP, VERSION, "galeras", interval=OBSERVE_EVERY, initial_delay=OBSERVE_EVERY)
def observe_cluster(body, **_):
    changed = refresh_cluster_status(default_kube(), plain(body))
    if "lastFailoverTime" in changed:
        kopf.event(body, type="Warning", reason="Failover", message=f"the writer changed: {changed['lastFailover']}")
