"""kopf handlers of the Ceph resource: create, update and operator restart all reconcile; a
timer notices changed keys (rotated in the keys Secret, or in the external cluster's objects)
and brings the cluster's own view (quorum, health) into the status."""

import kopf

from ..api import GROUP, VERSION
from ..kube import default_kube
from ..reconcile.ceph import CephReconciler, refresh_cluster_status, refresh_key_sources
from .common import plain, run

OBSERVE_EVERY = 30.0


@kopf.on.resume(GROUP, VERSION, "cephs")
@kopf.on.create(GROUP, VERSION, "cephs")
@kopf.on.update(GROUP, VERSION, "cephs")
def reconcile(body, retry, logger, **_):
    run(CephReconciler, body, retry, logger)


@kopf.timer(GROUP, VERSION, "cephs", interval=OBSERVE_EVERY, initial_delay=OBSERVE_EVERY)
def observe_cluster(body, logger, **_):
    kube, current = default_kube(), plain(body)
    if refresh_key_sources(kube, current):
        logger.info("the Ceph keys changed; reconciling")
    changed = refresh_cluster_status(kube, current)
    if changed.get("health") not in (None, "HEALTH_OK"):
        checks = changed.get("healthChecks") or (current.get("status") or {}).get("healthChecks", "")
        kopf.event(body, type="Warning", reason="CephHealth", message=f"{changed['health']}: {checks}")
