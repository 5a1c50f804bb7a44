"""kopf handlers of the RabbitMQ resource: create, update and operator restart all reconcile; a
timer brings the brokers' own view (members running, alarms) into the status."""

import kopf

from ..api import GROUP, VERSION
from ..kube import default_kube
from ..reconcile.rabbitmq import RabbitMQReconciler, refresh_broker_status
from .common import plain, run

OBSERVE_EVERY = 30.0


@kopf.on.resume(GROUP, VERSION, "rabbitmqs")
@kopf.on.create(GROUP, VERSION, "rabbitmqs")
@kopf.on.update(GROUP, VERSION, "rabbitmqs")
def reconcile(body, retry, logger, **_):
    run(RabbitMQReconciler, body, retry, logger)


@kopf.timer(GROUP, VERSION, "rabbitmqs", interval=OBSERVE_EVERY, initial_delay=OBSERVE_EVERY)
def observe_brokers(body, **_):
    changed = refresh_broker_status(default_kube(), plain(body))
    if changed.get("alarms") not in (None, "none"):
        kopf.event(body, type="Warning", reason="BrokerAlarm", message=changed["alarms"])
