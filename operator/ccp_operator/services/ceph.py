"""Ceph: the monitors, managers and radosgw of the reference architecture's storage, and the
Ceph client configuration of glance, cinder and nova.

The reference architecture runs 3 monitors on 3 dedicated nodes, radosgw x3 on the same nodes
behind a load balancer, and OSDs on the storage nodes; glance images, cinder volumes and
backups, and nova disks live in RBD pools.

- Every monitor has a Service of its own whose ClusterIP is its address in the monmap, so a
  monitor that moves to another node keeps its identity. The addresses are recorded once in a
  ConfigMap that outlives the resource, and a re-created resource asks for the same ones.
- The fsid and every cephx key are generated once into Secrets kept on deletion. The initial
  monmap is built by monmaptool from the recorded addresses when a monitor first starts. A
  changed monitor count goes into the monmap first (`ceph mon add/remove`, by a Job), and
  only then does the StatefulSet grow or shrink.
- Managers (active/standby, with the prometheus module the operator reads health from) and
  radosgw run only on monitor nodes. radosgw authenticates Swift and S3 users with keystone.
- One cephx user per OpenStack service with `profile rbd` on its own pools only.
- OSDs are out of scope: storage nodes join with Ceph's own tooling (docs/operations.md).
- `mode: external` consumes an existing cluster (Rook, or a Secret with ceph.conf and keyrings).
"""

from __future__ import annotations

from . import catalog
from .base import KEYSTONE, CephClient, ConfigFile, InfrastructureDefinition

IMAGE = "quay.io/ceph/ceph:v19.2.3"
MON_V2_PORT, MON_V1_PORT = 3300, 6789
MGR_METRICS_PORT = 9283
RGW_PORT = 8080
MANAGED, EXTERNAL = "managed", "external"
DEFAULT_MONITORS, DEFAULT_MANAGERS, DEFAULT_RADOSGW = 3, 2, 3
DEFINITION = InfrastructureDefinition(
    kind="Ceph", plural="cephs", short_names=("ccpceph",), default_replicas=DEFAULT_MONITORS,
    description="Ceph monitors, managers and radosgw, RBD pools and one cephx user per OpenStack service; "
                "or an external Ceph cluster.",
    quorum_field="monitors.replicas", members="monitors",
    needs=(KEYSTONE,), dependencies=(KEYSTONE,),  # radosgw authenticates users with keystone
    plane_fields=("release", "images"))  # radosgw's registration is a Kolla Job of the plane's release
DEFAULT_POOL_SIZE = 3
MON_STORAGE = "20Gi"
# Ceph's own mon_data_avail_crit: a monitor stops when its filesystem has less free.
MON_MIN_FREE_PERCENT = 5
MON_CPU, MON_MEMORY = "1", "2Gi"
MGR_CPU, MGR_MEMORY = "500m", "1Gi"
RGW_CPU, RGW_MEMORY = "1", "2Gi"
# Monitor and manager ids by ordinal, as Ceph's own tooling names them.
DAEMON_IDS = "abcdefghi"
# The uid/gid of the ceph user in Ceph's images.
CEPH_UID = 167
# radosgw's keystone user and catalog entry.
RGW_KEYSTONE_USER = "swift"
RGW_SWIFT_PATH = "/swift/v1/AUTH_%(project_id)s"

CEPH_CONF = ConfigFile("ceph.conf", "ceph/ceph.conf.j2", "/etc/ceph/ceph.conf")
# The daemons' and the bootstrap Job's scripts, rendered into the cluster's ConfigMap.
SCRIPTS = {name: ConfigFile(name, f"ceph/{name}.j2", f"/usr/local/share/ccp-ceph/{name}")
           for name in ("mon.sh", "mgr.sh", "bootstrap.sh")}
MEMBERSHIP_SCRIPT = ConfigFile("mon-membership.sh", "ceph/mon-membership.sh.j2",
                               "/usr/local/share/ccp-ceph/mon-membership.sh")

# Pools by role; their names can be changed (an external cluster has its own).
POOL_ROLES = ("images", "volumes", "vms", "backups")

# The cephx users of the OpenStack services, by user (each service declares its `ceph_clients`).
CLIENTS: dict[str, CephClient] = {client.user: client for definition in catalog.SERVICES
                                  for client in definition.ceph_clients}


def client_caps(user: str, pools: dict[str, str]) -> dict[str, str]:
    """The least capabilities of a service's cephx user: RBD on its own pools, nothing else."""
    client = CLIENTS[user]
    osd = [f"profile rbd pool={pools[role]}" for role in client.writable]
    osd += [f"profile rbd-read-only pool={pools[role]}" for role in client.readable]
    mgr = [f"profile rbd pool={pools[role]}" for role in client.writable]
    return {"mon": "profile rbd", "osd": ", ".join(osd), "mgr": ", ".join(mgr)}


ADMIN_CAPS = {"mon": "allow *", "osd": "allow *", "mds": "allow *", "mgr": "allow *"}
MGR_CAPS = {"mon": "allow profile mgr", "osd": "allow *", "mds": "allow *"}
RGW_CAPS = {"mon": "allow rw", "osd": "allow rwx", "mgr": "allow rw"}
BOOTSTRAP_OSD_CAPS = {"mon": "allow profile bootstrap-osd"}


def mon_address(ip: str) -> str:
    """A monitor's address vector: msgr2 and the legacy protocol on their standard ports."""
    host = f"[{ip}]" if ":" in ip else ip
    return f"[v2:{host}:{MON_V2_PORT},v1:{host}:{MON_V1_PORT}]"


def keyring(entity: str, key: str, caps: dict[str, str] | None = None) -> str:
    """One entity of a keyring file, in the format ceph-authtool writes (and `auth import` reads)."""
    lines = [f"[{entity}]", f"\tkey = {key}"]
    for daemon, cap in sorted((caps or {}).items()):
        lines.append(f'\tcaps {daemon} = "{cap}"')
    return "\n".join(lines) + "\n"


def keyring_key(keyring_text: str) -> str:
    """The cephx key in a keyring of one entity (an external cluster's Secret gives keyrings, and
    libvirt's secret value is the bare key)."""
    for line in keyring_text.splitlines():
        name, _, value = line.partition("=")
        if name.strip() == "key" and value.strip():
            return value.strip()
    raise ValueError("the keyring holds no key")


def key_name(entity: str) -> str:
    """The key of an entity's secret in the keys Secret: mon., client.admin -> mon, client.admin."""
    return entity.rstrip(".")


def libvirt_secret_xml(uuid: str, user: str) -> str:
    """What `virsh secret-define` takes on a hypervisor, for the cephx user qemu opens disks as."""
    return (f"<secret ephemeral='no' private='no'>\n  <uuid>{uuid}</uuid>\n"
            f"  <usage type='ceph'>\n    <name>client.{user} secret</name>\n  </usage>\n</secret>\n")


