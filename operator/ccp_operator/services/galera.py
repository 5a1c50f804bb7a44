"""Galera (MariaDB): the state database of every OpenStack service.

Three members on dedicated nodes, each on a local persistent volume (the reference architecture
keeps database files on the local disks of the database nodes). The writer election, fencing
and recovery agent comes with the Galera issue; this module holds the member configuration.
"""

from ..api import schema as s
from .base import ConfigFile

PORT = 3306
REPLICATION_PORT = 4567
IST_PORT = 4568
SST_PORT = 4444
KIND, PLURAL, SHORT_NAMES = "Galera", "galeras", ("gal",)
DESCRIPTION = "A Galera (MariaDB) cluster: the OpenStack state database."
CONFIG_TEMPLATE = "galera/galera.cnf.j2"
ROOT_PASSWORD_KEY = "root-password"
DEFAULT_REPLICAS = 3
DEFAULT_STORAGE = "100Gi"
# Sized for a 1000-node cloud: every API worker and conductor holds a pool of connections.
MAX_CONNECTIONS = 8192
BUFFER_POOL_SIZE = "16G"
GCACHE_SIZE = "2G"
APPLIER_THREADS = 8
CPU, MEMORY = "4", "32Gi"

def section() -> dict:
    return s.members_section(DESCRIPTION, DEFAULT_REPLICAS, DEFAULT_STORAGE, "The member's persistent volume.",
                             'MariaDB option file lines layered after the rendered galera.cnf.')

CONFIG_FILE = ConfigFile("galera.cnf", CONFIG_TEMPLATE, "/etc/mysql/conf.d/galera.cnf")
HAPROXY_CONFIG = ConfigFile("haproxy.cfg", "galera/haproxy.cfg.j2", "/usr/local/etc/haproxy/haproxy.cfg")
WRITER_BACKEND = "galera-writer"
HAPROXY_ADMIN_SOCKET = "/var/run/haproxy/admin.sock"
# One client connection costs HAProxy two descriptors; Galera takes at most MAX_CONNECTIONS anyway.
HAPROXY_MAX_CONNECTIONS = 8000
