"""The spec sections of the infrastructure kinds, built from their declarations (services/), so
that the API layer depends on the declarations and never the other way round. An OpenStack
service's section follows from its ServiceDefinition alone (api/kinds.py)."""

from __future__ import annotations

from typing import Callable

from ..releases import DEFAULT_RELEASE
from ..services import ceph, compute, etcd, galera, neutron, rabbitmq
from ..services.base import InfrastructureDefinition
from . import schema as s


def _members(definition: InfrastructureDefinition, storage_size: str, storage_what: str,
             custom_config: str | None, dedicated: bool = True) -> dict[str, s.Schema]:
    return s.members_section(definition.description, definition.default_replicas, storage_size, storage_what,
                             custom_config, dedicated=dedicated)


def etcd_section() -> dict[str, s.Schema]:
    properties = _members(etcd.DEFINITION, etcd.DEFAULT_STORAGE, "The member's persistent volume.", None,
                          dedicated=False)
    properties["external"] = s.obj("Use an existing etcd instead of deploying one.", {
        "endpoints": {"type": "array", "minItems": 1, "maxItems": 9, "description": "Client endpoints as host:port.",
                      "items": s.string("host:port", pattern=r"^[A-Za-z0-9.\-\[\]:]+:[0-9]{1,5}$")},
        "clientSecret": s.string("Secret with ca.crt, tls.crt and tls.key for TLS client authentication "
                                 "(omit for plain HTTP).", pattern=s.DNS_LABEL_PATTERN, maxLength=253),
    }, required=["endpoints"])
    return properties


def galera_section() -> dict[str, s.Schema]:
    properties = _members(galera.DEFINITION, galera.DEFAULT_STORAGE, "The member's persistent volume.",
                          "MariaDB option file lines layered after the rendered galera.cnf.")
    properties["etcdRef"] = s.reference("The Etcd whose cluster holds the agents' state (default: the one of "
                                        "the same name; it may point at an external etcd).")
    properties["forceBootstrap"] = s.string(
        "After a full outage: the member (pod name) to bootstrap from, overriding the agents' choice of the "
        "most advanced one. Only for an operator who knows better; clear it once the cluster runs.",
        pattern=galera.MEMBER_NAME_PATTERN, maxLength=63)
    properties["bufferPoolSize"] = s.string(
        "InnoDB buffer pool of each member (the reference architecture's database nodes hold the working set "
        "in memory; a lab sets a few hundred MiB).", pattern=galera.SIZE_PATTERN, default=galera.BUFFER_POOL_SIZE)
    properties["gcacheSize"] = s.string(
        "Write-set cache of each member, on its volume: how far behind a restarted member may be and still "
        "catch up by IST rather than a full copy.", pattern=galera.SIZE_PATTERN, default=galera.GCACHE_SIZE)
    properties["haproxy"] = s.obj("The writer endpoint: HAProxy pods that route every client to the writer.", {
        "replicas": s.integer("HAProxy pods (two or more, so the endpoint survives a node).", minimum=2, maximum=16,
                              default=galera.HAPROXY_REPLICAS),
        "image": s.string("HAProxy image.", minLength=1, maxLength=512),
        "resources": s.RESOURCES,
    }, default={})
    return properties


def rabbitmq_section() -> dict[str, s.Schema]:
    properties = _members(rabbitmq.DEFINITION, rabbitmq.DEFAULT_STORAGE,
                          "The broker's persistent volume (quorum queue data and node state).",
                          "rabbitmq.conf lines appended after the rendered ones (later keys win).")
    properties["brokerVersion"] = s.string(
        "RabbitMQ major.minor the brokers run; it picks the default image and the settings of that generation "
        "(set it to match a custom image).", pattern=rabbitmq.BROKER_VERSION_PATTERN,
        default=rabbitmq.DEFAULT_BROKER_VERSION)
    properties["notificationReplication"] = s.string(
        "How notification queues are replicated: quorum queues (default), classic mirroring (3.x brokers only), "
        "or none. RPC queues are never replicated.", enum=[rabbitmq.QUORUM, rabbitmq.MIRRORED, rabbitmq.NONE],
        default=rabbitmq.QUORUM)
    return properties


def _ceph_daemons(description: str, replicas: int, cpu: str, memory: str, *, minimum: int = 1,
                  dedicated: bool | None = None) -> s.Schema:
    properties: dict[str, s.Schema] = {
        "replicas": s.integer("Number of pods.", minimum=minimum, maximum=9, default=replicas),
        "resources": s.RESOURCES,
    }
    if dedicated is not None:
        properties["dedicated"] = s.boolean(
            "Run at most one pod per node, on nodes no other dedicated component uses.", default=dedicated)
    return s.obj(f"{description} Default requests: {cpu} CPU, {memory} memory.", properties, default={})


def ceph_section() -> dict[str, s.Schema]:
    monitors = _ceph_daemons("Ceph monitors, one per node, each with a stable address and a volume.",
                             ceph.DEFAULT_MONITORS, ceph.MON_CPU, ceph.MON_MEMORY, dedicated=True)
    monitors["properties"]["storage"] = s.obj("The monitor's persistent volume.", {
        "size": s.string("Size of each monitor's volume.", default=ceph.MON_STORAGE, pattern=r"^[0-9]+(Mi|Gi|Ti)$"),
        "storageClassName": s.string("Storage class of the volumes (default: the cluster's default class)."),
        "minFreePercent": s.integer(
            "Free share of the filesystem under the monitor's store below which the monitor stops to save its "
            "store (Ceph's mon_data_avail_crit). Lower it only where the volumes are slices of one shared "
            "filesystem, as in a lab, where the share says nothing about the volume.", minimum=1, maximum=50,
            default=ceph.MON_MIN_FREE_PERCENT),
    }, default={})
    radosgw = _ceph_daemons("radosgw (Swift and S3 API, keystone authentication) on the monitor nodes; 0 disables "
                            "it.", ceph.DEFAULT_RADOSGW, ceph.RGW_CPU, ceph.RGW_MEMORY, minimum=0)
    radosgw["properties"]["loadBalancer"] = s.LOAD_BALANCER
    pool_names = {role: s.string(f"Name of the {role} pool.", default=role, pattern=r"^[A-Za-z0-9_.\-]+$",
                                 maxLength=63) for role in ceph.POOL_ROLES}
    secret_name = s.string("Secret name.", pattern=s.DNS_LABEL_PATTERN, maxLength=253)
    rook = s.obj("A Rook CephCluster: its mon-endpoints ConfigMap and one CephClient Secret per service.", {
        "namespace": s.string("The CephCluster's namespace.", pattern=s.DNS_LABEL_PATTERN, maxLength=63),
        "monEndpointsConfigMap": s.string("Rook's mon-endpoints ConfigMap.", default="rook-ceph-mon-endpoints",
                                          pattern=s.DNS_LABEL_PATTERN, maxLength=253),
        "clientSecrets": s.obj("Secret of the CephClient of each service (Rook names them "
                               "rook-ceph-client-<client>, holding the key under the client's name).",
                               {user: secret_name for user in ceph.CLIENTS}, required=list(ceph.CLIENTS)),
    }, required=["namespace", "clientSecrets"])
    external = s.obj("An existing Ceph cluster; nothing is deployed. Give exactly one of rook and secret.", {
        "rook": rook,
        "secret": s.string("Secret in this namespace with ceph.conf and ceph.client.<user>.keyring for the "
                           "users " + ", ".join(ceph.CLIENTS) + ".", pattern=s.DNS_LABEL_PATTERN, maxLength=253),
    }, **{"x-kubernetes-validations": [{"rule": "has(self.rook) != has(self.secret)",
                                        "message": "give exactly one of rook and secret"}]})
    return {
        "release": {**s.RELEASE, "default": DEFAULT_RELEASE,
                    "description": "OpenStack release of the Job registering radosgw in keystone."},
        "images": s.IMAGES,
        "mode": s.string("managed: deploy monitors, managers and radosgw; external: use an existing cluster.",
                         enum=[ceph.MANAGED, ceph.EXTERNAL], default=ceph.MANAGED),
        "image": s.string("Ceph container image.", minLength=1, maxLength=512),
        "nodeSelector": s.string_map("Labels the nodes of the Ceph daemons must carry."),
        "monitors": monitors,
        "managers": _ceph_daemons("Ceph managers (one active, the others standby) on the monitor nodes.",
                                  ceph.DEFAULT_MANAGERS, ceph.MGR_CPU, ceph.MGR_MEMORY),
        "radosgw": radosgw,
        "poolSize": s.integer("Replicas of every object in the OpenStack pools.", minimum=1, maximum=7,
                              default=ceph.DEFAULT_POOL_SIZE),
        "pools": s.obj("Pool names by role.", pool_names, default={}),
        "external": external,
        "identityRef": s.reference("The Keystone radosgw authenticates users with "
                                   "(default: the one of the same name)."),
    }


# Each infrastructure kind's section, by kind.
SECTIONS: dict[str, Callable[[], dict[str, s.Schema]]] = {
    etcd.DEFINITION.kind: etcd_section,
    galera.DEFINITION.kind: galera_section,
    rabbitmq.DEFINITION.kind: rabbitmq_section,
    ceph.DEFINITION.kind: ceph_section,
}


def compute_fields() -> dict[str, s.Schema]:
    """The Compute kind's own fields beside its components: its node groups and their pace."""
    group = s.obj("Hypervisors alike: one DaemonSet of each component on the nodes the selector picks.", {
        "name": s.string("The group's name, in its DaemonSets' names.", pattern=s.DNS_LABEL_PATTERN, maxLength=20),
        "nodeSelector": {**s.string_map("Labels of the group's nodes (not merged with the control plane's)."),
                         "minProperties": 1},
        "virtType": s.string("libvirt's domain type: kvm, or qemu (emulation) where the nodes have no usable KVM.",
                             enum=["kvm", "qemu"], default=compute.DEFAULT_VIRT_TYPE),
        "cpuMode": s.string("The CPU the guests see: the host's model, the host's CPU itself, the named models, "
                            "or none.", enum=["host-model", "host-passthrough", "custom", "none"],
                            default=compute.DEFAULT_CPU_MODE),
        "cpuModels": {"type": "array", "items": s.string("A libvirt CPU model, e.g. Cascadelake-Server."),
                      "maxItems": 16, "description": "With cpuMode custom: the models, in order of preference."},
    }, required=["name"])
    return {
        "nodeGroups": {"type": "array", "items": group, "maxItems": 64, "x-kubernetes-list-type": "map",
                       "x-kubernetes-list-map-keys": ["name"],
                       "description": "The hypervisors, in groups with their own nodes and settings; default: one "
                                      "group `default` on the nodes labelled openstack-compute-node=enabled. No "
                                      "node may match two groups: every two selectors give some label key "
                                      "different values.",
                       "default": [compute.DEFAULT_GROUP]},
        "maxUnavailable": s.MAX_UNAVAILABLE,
    }


def neutron_fields() -> dict[str, s.Schema]:
    """Neutron's own fields beside its components: where its agents and switches run."""
    selector = s.string_map("Labels of the nodes.")
    return {
        "networkNodes": s.obj("The network nodes: the DHCP, L3 and metadata agents, Open vSwitch and its agent run "
                              "on each of them (neutron-server prefers them).", {
                                  "nodeSelector": {**selector, "minProperties": 1,
                                                   "description": "Labels of the network nodes (not merged with the "
                                                                  "control plane's); default "
                                                                  "openstack-network-node=enabled.",
                                                   "default": dict(neutron.NETWORK_NODE_SELECTOR)}}),
        "hypervisorNodeSelectors": {"type": "array", "items": selector, "maxItems": 64,
                                    "description": "The hypervisors' nodes, where Open vSwitch and its agent run too; "
                                                   "in a control plane, those of its compute node groups."},
        "datapathType": s.string("Open vSwitch's datapath: the kernel's (system), or the userspace one (netdev) on "
                                 "nodes whose kernel has no openvswitch module.", enum=list(neutron.DATAPATH_TYPES),
                                 default=neutron.DEFAULT_DATAPATH_TYPE),
    }


# Fields of an OpenStack service's section beyond those of its components, by kind.
SERVICE_FIELDS: dict[str, Callable[[], dict[str, s.Schema]]] = {compute.SERVICE.kind: compute_fields,
                                                                neutron.SERVICE.kind: neutron_fields}
