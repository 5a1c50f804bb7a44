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

from ..api import schema as s
from ..releases import DEFAULT_RELEASE
from . import catalog
from .base import CephClient, ConfigFile

KIND, PLURAL, SHORT_NAMES = "Ceph", "cephs", ("ccpceph",)
DESCRIPTION = ("Ceph monitors, managers and radosgw, RBD pools and one cephx user per OpenStack service; "
               "or an external Ceph cluster.")
IMAGE = "quay.io/ceph/ceph:v19.2.3"
MON_V2_PORT, MON_V1_PORT = 3300, 6789
MGR_METRICS_PORT = 9283
RGW_PORT = 8080
MANAGED, EXTERNAL = "managed", "external"
DEFAULT_MONITORS, DEFAULT_MANAGERS, DEFAULT_RADOSGW = 3, 2, 3
DEFAULT_REPLICAS = DEFAULT_MONITORS
QUORUM_FIELD = "monitors.replicas"  # the member count that must be odd
NEEDS = ("Keystone",)  # radosgw authenticates users with keystone
DEPENDENCIES = NEEDS  # every kind whose endpoint it reads
PLANE_FIELDS = ("release", "images")  # the control plane's fields it takes: radosgw's registration is a Kolla Job
DEFAULT_POOL_SIZE = 3
MON_STORAGE = "20Gi"
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


def key_name(entity: str) -> str:
    """The key of an entity's secret in the keys Secret: mon., client.admin -> mon, client.admin."""
    return entity.rstrip(".")


def libvirt_secret_xml(uuid: str, user: str) -> str:
    """What `virsh secret-define` takes on a hypervisor, for nova's cephx user."""
    return (f"<secret ephemeral='no' private='no'>\n  <uuid>{uuid}</uuid>\n"
            f"  <usage type='ceph'>\n    <name>client.{user} secret</name>\n  </usage>\n</secret>\n")


def _daemons(description: str, replicas: int, cpu: str, memory: str, *, minimum: int = 1,
             dedicated: bool | None = None) -> s.Schema:
    properties: dict[str, s.Schema] = {
        "replicas": s.integer("Number of pods.", minimum=minimum, maximum=9, default=replicas),
        "resources": s.RESOURCES,
    }
    if dedicated is not None:
        properties["dedicated"] = s.boolean(
            "Run at most one pod per node, on nodes no other dedicated component uses.", default=dedicated)
    return s.obj(f"{description} Default requests: {cpu} CPU, {memory} memory.", properties, default={})


def section() -> dict[str, s.Schema]:
    monitors = _daemons("Ceph monitors, one per node, each with a stable address and a volume.",
                        DEFAULT_MONITORS, MON_CPU, MON_MEMORY, dedicated=True)
    monitors["properties"]["storage"] = s.obj("The monitor's persistent volume.", {
        "size": s.string("Size of each monitor's volume.", default=MON_STORAGE, pattern=r"^[0-9]+(Mi|Gi|Ti)$"),
        "storageClassName": s.string("Storage class of the volumes (default: the cluster's default class)."),
    }, default={})
    radosgw = _daemons("radosgw (Swift and S3 API, keystone authentication) on the monitor nodes; 0 disables it.",
                       DEFAULT_RADOSGW, RGW_CPU, RGW_MEMORY, minimum=0)
    radosgw["properties"]["loadBalancer"] = s.LOAD_BALANCER
    pool_names = {role: s.string(f"Name of the {role} pool.", default=role, pattern=r"^[A-Za-z0-9_.\-]+$",
                                 maxLength=63) for role in POOL_ROLES}
    secret_name = s.string("Secret name.", pattern=s.DNS_LABEL_PATTERN, maxLength=253)
    rook = s.obj("A Rook CephCluster: its mon-endpoints ConfigMap and one CephClient Secret per service.", {
        "namespace": s.string("The CephCluster's namespace.", pattern=s.DNS_LABEL_PATTERN, maxLength=63),
        "monEndpointsConfigMap": s.string("Rook's mon-endpoints ConfigMap.", default="rook-ceph-mon-endpoints",
                                          pattern=s.DNS_LABEL_PATTERN, maxLength=253),
        "clientSecrets": s.obj("Secret of the CephClient of each service (Rook names them "
                               "rook-ceph-client-<client>, holding the key under the client's name).",
                               {user: secret_name for user in CLIENTS}, required=list(CLIENTS)),
    }, required=["namespace", "clientSecrets"])
    external = s.obj("An existing Ceph cluster; nothing is deployed. Give exactly one of rook and secret.", {
        "rook": rook,
        "secret": s.string("Secret in this namespace with ceph.conf and ceph.client.<user>.keyring for the "
                           "users " + ", ".join(CLIENTS) + ".", pattern=s.DNS_LABEL_PATTERN, maxLength=253),
    }, **{"x-kubernetes-validations": [{"rule": "has(self.rook) != has(self.secret)",
                                        "message": "give exactly one of rook and secret"}]})
    return {
        "release": {**s.RELEASE, "default": DEFAULT_RELEASE,
                    "description": "OpenStack release of the Job registering radosgw in keystone."},
        "images": s.IMAGES,
        "mode": s.string("managed: deploy monitors, managers and radosgw; external: use an existing cluster.",
                         enum=[MANAGED, EXTERNAL], default=MANAGED),
        "image": s.string("Ceph container image.", minLength=1, maxLength=512),
        "nodeSelector": s.string_map("Labels the nodes of the Ceph daemons must carry."),
        "monitors": monitors,
        "managers": _daemons("Ceph managers (one active, the others standby) on the monitor nodes.",
                             DEFAULT_MANAGERS, MGR_CPU, MGR_MEMORY),
        "radosgw": radosgw,
        "poolSize": s.integer("Replicas of every object in the OpenStack pools.", minimum=1, maximum=7,
                              default=DEFAULT_POOL_SIZE),
        "pools": s.obj("Pool names by role.", pool_names, default={}),
        "external": external,
        "identityRef": s.reference("The Keystone radosgw authenticates users with "
                                   "(default: the one of the same name)."),
    }
