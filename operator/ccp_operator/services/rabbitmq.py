"""RabbitMQ: the RPC and notification bus.

Three brokers on dedicated nodes. One vhost carries RPC, another notifications; every OpenStack
service has its own user with rights on exactly the vhosts it uses.
"""

from ..api import schema as s
from .base import ConfigFile

PORT = 5672
MANAGEMENT_PORT = 15672
EPMD_PORT = 4369
DISTRIBUTION_PORT = 25672
KIND, PLURAL, SHORT_NAMES = "RabbitMQ", "rabbitmqs", ("rmq",)
DESCRIPTION = "A RabbitMQ cluster for OpenStack RPC and notifications."
CONFIG_TEMPLATE = "rabbitmq/rabbitmq.conf.j2"
RPC_VHOST = "openstack"
NOTIFICATIONS_VHOST = "notifications"
DEFAULT_REPLICAS = 3
DEFAULT_STORAGE = "20Gi"
CPU, MEMORY = "4", "16Gi"

# The OpenStack services that talk to RabbitMQ, and what each needs: (rpc, publishes notifications).
USERS = {
    "keystone": (False, True),
    "glance": (False, True),
    "cinder": (True, True),
    "neutron": (True, True),
    "nova": (True, True),
}

def section() -> dict:
    return s.members_section(DESCRIPTION, DEFAULT_REPLICAS, DEFAULT_STORAGE, "The broker's persistent volume (quorum queue data and node state).",
                             'rabbitmq.conf lines appended after the rendered ones (later keys win).')

CONFIG_FILE = ConfigFile("rabbitmq.conf", CONFIG_TEMPLATE, "/etc/rabbitmq/rabbitmq.conf")
ENABLED_PLUGINS = "[rabbitmq_management,rabbitmq_peer_discovery_k8s].\n"
