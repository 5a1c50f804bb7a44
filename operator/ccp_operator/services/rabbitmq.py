"""RabbitMQ: the RPC and notification bus, with only notifications replicated.

The reference architecture measured that mirroring every queue halves RabbitMQ's throughput and
destabilises it: RPC queues are short-lived, their messages are retried by the caller, and a
replica buys nothing but latency. Notifications are consumed later by other systems (billing,
search) and must survive a broker: they are replicated.

- Two vhosts: RPC (never replicated: its default queue type is classic and no policy mirrors
  it) and notifications (replicated by quorum queues, or by a classic mirroring policy on 3.x
  brokers, which removed mirroring in 4.0).
- The notifications transport asks for quorum queues in its own transport URL
  (`?rabbit_quorum_queue=true`), so the same process keeps classic RPC queues: oslo.messaging's
  `[oslo_messaging_rabbit]` options are shared by both transports, its URL options are not.
- A policy bounds every notification queue (length, drop the oldest, TTL): a queue nobody
  consumes cannot fill the brokers' memory or disks.
- Every OpenStack service has its own user, with rights only on the vhosts it uses; on the
  notifications vhost it may publish to its own exchange and declare notification queues, not
  consume them.
"""

from __future__ import annotations

import re

from . import catalog
from .base import RPC_PORT, ConfigFile, InfrastructureDefinition, Messaging

# The official image's rabbitmq user (and group), which this project's image keeps: the pods run
# as it, and it owns the data volumes.
UID = 999
PORT = RPC_PORT  # AMQP, where every RPC client connects (and its readiness check looks)
MANAGEMENT_PORT = 15672
EPMD_PORT = 4369
DISTRIBUTION_PORT = 25672
DEFINITION = InfrastructureDefinition(
    kind="RabbitMQ", plural="rabbitmqs", short_names=("rmq",), default_replicas=3, members="brokers",
    description="A RabbitMQ cluster for OpenStack RPC and notifications (only notifications replicated).")
CONFIG_TEMPLATE = "rabbitmq/rabbitmq.conf.j2"
RPC_VHOST = "openstack"
NOTIFICATIONS_VHOST = "notifications"
DEFAULT_STORAGE = "20Gi"
CPU, MEMORY = "4", "16Gi"
DEFAULT_BROKER_VERSION = "4.1"
BROKER_VERSION_PATTERN = r"^[34]\.[0-9]+$"
# How a pre-stop hook may wait for quorum queues to keep their majority (and for mirrors to
# sync) before the broker goes away; the pod's grace period is longer.
PRE_STOP_TIMEOUT = 600

# oslo.messaging names a notification queue <topic>.<priority>: notifications.info, ...
NOTIFICATION_TOPICS = ("notifications", "versioned_notifications")
NOTIFICATION_QUEUES = r"^(" + "|".join(re.escape(t) for t in NOTIFICATION_TOPICS) + r")\."
# Bounds of one notification queue: about a day of a 1000-node cloud's notifications, oldest
# dropped first, none older than a day.
NOTIFICATION_LIMITS = {"max-length": 200000, "overflow": "drop-head", "message-ttl": 24 * 3600 * 1000}

QUORUM, MIRRORED, NONE = "quorum", "mirrored", "none"

# Per OpenStack service, what its user may do (its declaration's `messaging`). Each one's
# exchange on the notifications vhost is the rendered `[DEFAULT] control_exchange` (EXCHANGES).
USERS: dict[str, Messaging] = {definition.name: definition.messaging for definition in catalog.SERVICES
                               if definition.messaging}
EXCHANGES: dict[str, str] = {definition.name: definition.exchange for definition in catalog.SERVICES
                             if definition.messaging}


# Users that consume notifications (telemetry, search, billing): they may read every
# notification queue, and declare and bind their own, but make no RPC.
CONSUMERS = ("telemetry",)


def major(broker_version: str) -> int:
    return int(broker_version.split(".")[0])


def default_image(broker_version: str) -> str:
    return f"rabbitmq:{broker_version}-management"


def notifications_transport_options(replication: str) -> str:
    """The query of the notifications transport URL (oslo.messaging options for it alone)."""
    if replication == QUORUM:
        return "rabbit_quorum_queue=true"
    if replication == MIRRORED:
        return "amqp_durable_queues=true"  # mirroring a transient queue would keep nothing
    return ""


def notification_policy(replication: str) -> dict:
    definition: dict = dict(NOTIFICATION_LIMITS)
    if replication == MIRRORED:
        definition.update({"ha-mode": "all", "ha-sync-mode": "automatic"})
    return {"vhost": NOTIFICATIONS_VHOST, "name": "notifications", "pattern": NOTIFICATION_QUEUES,
            "apply-to": "queues", "priority": 10, "definition": definition}


def permissions(user: str) -> list[dict]:
    """What a service's user may do: everything on the RPC vhost if it uses RPC; on the
    notifications vhost, publish through its own exchange into notification queues it may
    declare, and nothing else (it cannot consume them)."""
    queues = "|".join(re.escape(t) + r"\..*" for t in NOTIFICATION_TOPICS)
    if user in CONSUMERS:
        # Declaring the publishers' exchanges (as oslo.messaging listeners do), binding and
        # reading notification queues; publishing nothing.
        exchanges = "|".join(sorted({re.escape(exchange) for exchange in EXCHANGES.values()}))
        return [{"user": user, "vhost": NOTIFICATIONS_VHOST, "configure": f"^({exchanges}|{queues})$",
                 "write": f"^({queues})$", "read": ".*"}]
    access = USERS[user]
    result = []
    if access.rpc:
        result.append({"user": user, "vhost": RPC_VHOST, "configure": ".*", "write": ".*", "read": ".*"})
    if access.notifications:
        own = re.escape(EXCHANGES[user])
        result.append({"user": user, "vhost": NOTIFICATIONS_VHOST, "configure": f"^({own}|{queues})$",
                       "write": f"^({own}|{queues})$", "read": f"^{own}$"})
    return result


CONFIG_FILE = ConfigFile("rabbitmq.conf", CONFIG_TEMPLATE, "/etc/rabbitmq/rabbitmq.conf")
ENABLED_PLUGINS = "[rabbitmq_management,rabbitmq_peer_discovery_k8s].\n"
