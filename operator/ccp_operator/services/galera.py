"""Galera (MariaDB): the state database of every OpenStack service.

Three members on dedicated nodes, each on a local persistent volume (the reference architecture
keeps database files on the local disks of the database nodes). In each member the Galera agent
(images/galera) starts mysqld, reports to etcd, elects the one writer and fences; clients reach
only the writer, through a small HAProxy tier whose router follows the writer key in etcd.
"""

from __future__ import annotations

from .base import ConfigFile, InfrastructureDefinition

PORT = 3306
REPLICATION_PORT = 4567
IST_PORT = 4568
SST_PORT = 4444
HEALTH_PORT = 9200  # the agent's /ready and /live
# The mysql user of the image (the official MariaDB image's uid, kept by images/galera): the
# members run as it, and it owns their volumes.
MYSQL_UID = 999
DEFINITION = InfrastructureDefinition(
    kind="Galera", plural="galeras", short_names=("gal",), default_replicas=3,
    description="A Galera (MariaDB) cluster: the OpenStack state database, with one writer behind HAProxy.",
    dependencies=("Etcd",))  # its agents elect the writer in etcd
CONFIG_TEMPLATE = "galera/galera.cnf.j2"
ROOT_PASSWORD_KEY = "root-password"
SST_PASSWORD_KEY = "sst-password"
DEFAULT_STORAGE = "100Gi"
# Sized for a 1000-node cloud: every API worker and conductor holds a pool of connections.
MAX_CONNECTIONS = 8192
BUFFER_POOL_SIZE = "16G"
APPLIER_THREADS = 8
CPU, MEMORY = "4", "32Gi"

# The write-set cache a restarted member catches up from by IST instead of a full SST. A
# 1000-node cloud writes in the order of 1 MB/s to its databases (instance, port and service
# heartbeats); 4 GiB covers about an hour of writes, far more than a pod restart or node drain.
GCACHE_SIZE = "4G"
# Group communication timeouts: a member silent for 3 s is suspected, evicted after 10 s; the
# writer's agent steps down when its member leaves the Primary component, and standbys take over
# at once (see docs/operations.md: failover timeline).
GROUP_TIMEOUTS = {"evs.suspect_timeout": "PT3S", "evs.inactive_timeout": "PT10S",
                  "evs.keepalive_period": "PT1S", "evs.inactive_check_period": "PT0.5S"}


def provider_options(gcache_size: str = GCACHE_SIZE) -> str:
    options = {"gcache.size": gcache_size, "gcache.recover": "yes", "gcs.fc_limit": "160", **GROUP_TIMEOUTS}
    return "; ".join(f"{key}={value}" for key, value in options.items())


# The agent's election: the writer lease lives WRITER_TTL seconds in etcd; the writer fences
# itself FENCE_MARGIN seconds before it could expire there.
WRITER_TTL = 6
FENCE_MARGIN = 2.0

HAPROXY_REPLICAS = 2
HAPROXY_CPU, HAPROXY_MEMORY = "500m", "256Mi"
SIZE_PATTERN = r"^[1-9][0-9]*[KMG]$"  # MariaDB's and Galera's size suffixes
MEMBER_NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?-galera-[0-9]+$"


CONFIG_FILE = ConfigFile("galera.cnf", CONFIG_TEMPLATE, "/etc/mysql/conf.d/galera.cnf")
HAPROXY_CONFIG = ConfigFile("haproxy.cfg", "galera/haproxy.cfg.j2", "/usr/local/etc/haproxy/haproxy.cfg")
WRITER_BACKEND = "galera-writer"
HAPROXY_ADMIN_SOCKET = "/var/run/haproxy/admin.sock"
# One client connection costs HAProxy two descriptors; Galera takes at most MAX_CONNECTIONS anyway.
HAPROXY_MAX_CONNECTIONS = 8000
# The official HAProxy image runs as this user; the router beside it shares its admin socket.
HAPROXY_UID = 99
# Paths inside the Galera image and its pods.
AGENT = "/opt/ccp-galera-agent/venv/bin/ccp-galera-agent"
ROUTER = "/opt/ccp-galera-agent/venv/bin/ccp-galera-router"
AGENT_CONFIG_DIR = "/etc/ccp-galera"
SECRETS_DIR = "/etc/ccp-galera/secrets"
ETCD_TLS_DIR = "/etc/ccp-galera/etcd"
CONTROL_DIR = "/etc/ccp-galera/control"  # files the agent re-reads while it runs (no restart)
DATA_DIR = "/var/lib/mysql"
SOCKET = "/run/mysqld/mysqld.sock"


def etcd_prefix(namespace: str, instance: str) -> str:
    """The cluster's keys in etcd; one etcd can serve many Galera clusters."""
    return f"/ccp/galera/{namespace}/{instance}"
