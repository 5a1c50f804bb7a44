"""kopf handlers of the RabbitMQ resource: create, update and operator restart all reconcile."""

import kopf

from ..api import GROUP, VERSION
from ..reconcile.rabbitmq import RabbitMQReconciler
from .common import run


@kopf.on.resume(GROUP, VERSION, "rabbitmqs")
@kopf.on.create(GROUP, VERSION, "rabbitmqs")
@kopf.on.update(GROUP, VERSION, "rabbitmqs")
def reconcile(body, retry, logger, **_):
    run(RabbitMQReconciler, body, retry, logger)
