"""Compute: the hypervisors of the cloud. On every node of each compute node group, libvirt
(libvirtd and virtlogd) runs the guests under qemu and nova-compute drives it.

Each group is its own set of DaemonSets, with its own nodeSelector and virtualization settings
(`virtType`: kvm, or qemu where there is no usable KVM; the CPU model guests see). libvirt and
nova-compute are separate pods, so rolling nova-compute (an upgrade) never restarts libvirt. The
guests run in the node's process table (hostPID), yet in some of libvirt's pod's cgroups: deleting
that pod kills them. So libvirt and virtlogd take a new template (a release's image, a changed
file) only when their pod is deleted, once the node is drained of guests (docs/operations.md);
the Compute's status counts the nodes still waiting for that. nova-compute holds no
database credentials: it reaches the database through nova-conductor, over RPC. The instance
disks are RBD images in the `vms` pool, opened by qemu with the Ceph key of cinder's cephx user
(the one the volumes' connections name), which libvirt reads from its secrets directory at start.

New hypervisors map themselves into the cell: nova-scheduler discovers unmapped hosts
periodically (`discover_hosts_in_cells_interval`), and each nova-compute registers its resource
provider in placement.
"""

from __future__ import annotations

from typing import Any

from . import cinder, nova
from .base import (CEPH, KEYSTONE, NOVA, OVSDB_CONNECTION, PLACEMENT, RABBITMQ, Component, ConfigFile, HostPath, Messaging,
                   NodeSet, Probe, ServiceDefinition, UpgradeStep)

DEFAULT_NODE_SELECTOR = {"openstack-compute-node": "enabled"}
DEFAULT_GROUP = {"name": "default", "nodeSelector": DEFAULT_NODE_SELECTOR}
DEFAULT_VIRT_TYPE = "kvm"
DEFAULT_CPU_MODE = "host-model"
LIBVIRT, VIRTLOGD, COMPUTE = "nova-libvirt", "nova-virtlogd", "nova-compute"

# What libvirt and nova-compute share on the node: libvirt's sockets and state, the guests'
# local files (console logs, config drives), and the node's devices and kernel modules.
RUN_LIBVIRT = HostPath("run-libvirt", "/run/libvirt")
LIBVIRT_STATE = HostPath("var-lib-libvirt", "/var/lib/libvirt")
INSTANCES = HostPath("var-lib-nova", "/var/lib/nova")
GUEST_LOGS = HostPath("var-log-libvirt", "/var/log/libvirt")
DEVICES = HostPath("dev", "/dev")
MODULES = HostPath("lib-modules", "/lib/modules", read_only=True)
CGROUPS = HostPath("sys-fs-cgroup", "/sys/fs/cgroup")
MACHINES = HostPath("run-machines", "/run/systemd/machines")

NOVA_CONFIG = ("nova.conf",)
# The cephx user qemu opens the guests' disks as, cinder's (as in Ceph's guide to OpenStack): nova
# attaches a volume as the user cinder names in its connection (always its own), so the guests'
# own disks in `vms` use that user too, and libvirt holds one key, cinder's.
GUEST_DISKS_USER = cinder.VOLUMES_USER
LIBVIRT_CONFIG = ("libvirtd.conf", "qemu.conf", "libvirt-secret.xml", "libvirt-secret.base64")


def node_groups(spec: dict[str, Any]) -> tuple[NodeSet, ...]:
    """One node set per compute node group, with its virtualization settings."""
    groups = spec.get("nodeGroups")
    if groups is None:
        groups = [DEFAULT_GROUP]
    return tuple(NodeSet(group["name"], (dict(group.get("nodeSelector") or DEFAULT_NODE_SELECTOR),), {
        "virt_type": group.get("virtType", DEFAULT_VIRT_TYPE),
        "cpu_mode": group.get("cpuMode", DEFAULT_CPU_MODE),
        "cpu_models": list(group.get("cpuModels") or []),
    }) for group in groups)


def overlapping_node_groups(spec: dict[str, Any]) -> list[tuple[str, str]]:
    """Two groups whose selectors a node could match at once would run two libvirts on it: every
    pair must give some label key different values (the schema cannot compare list items)."""
    groups = spec.get("nodeGroups")
    if groups is None:
        return []
    problems = []
    for later, group in enumerate(groups):
        mine = group.get("nodeSelector") or DEFAULT_NODE_SELECTOR
        for earlier, other in enumerate(groups[:later]):
            theirs = other.get("nodeSelector") or DEFAULT_NODE_SELECTOR
            if all(mine[key] == theirs[key] for key in mine.keys() & theirs.keys()):
                problems.append((f"spec.nodeGroups[{later}].nodeSelector",
                                 f"group {group['name']} could select the nodes of group {other['name']} "
                                 f"(nodeGroups[{earlier}]): a node in both would run two hypervisors; give a "
                                 "label key different values in the two selectors"))
    return problems


SERVICE = ServiceDefinition(
    name="compute",
    kind="Compute",
    plural="computes",
    short_names=("cmp", "hypervisors"),
    description="OpenStack Compute's hypervisors: libvirt (libvirtd, virtlogd) and nova-compute on every node "
                "of each compute node group.",
    pypi_package="nova",
    package_versions=nova.SERVICE.package_versions,
    components=(
        Component(key="libvirt", name=LIBVIRT, image="nova-libvirt", user="root", command="/usr/sbin/libvirtd",
                  config_files=LIBVIRT_CONFIG, per_node=True, privileged=True, host_network=True, host_pid=True,
                  host_paths=(RUN_LIBVIRT, LIBVIRT_STATE, INSTANCES, GUEST_LOGS, DEVICES, MODULES, CGROUPS,
                              MACHINES),
                  replaced_when_drained=True, cpu="500m", memory="1Gi"),
        Component(key="virtlogd", name=VIRTLOGD, image="nova-libvirt", user="root",
                  command="/usr/sbin/virtlogd", config_files=("virtlogd.conf",), per_node=True, privileged=True,
                  host_network=True, host_pid=True, host_paths=(RUN_LIBVIRT, INSTANCES, GUEST_LOGS),
                  replaced_when_drained=True, cpu="100m", memory="128Mi"),
        Component(key="compute", name=COMPUTE, image="nova-compute", user="nova", command="nova-compute",
                  config_files=NOVA_CONFIG, per_node=True, privileged=True, host_network=True, host_pid=True,
                  host_paths=(RUN_LIBVIRT, LIBVIRT_STATE, INSTANCES, DEVICES, MODULES), owns=(INSTANCES.path,),
                  readiness=Probe.holds_rpc_connection(COMPUTE), ceph_users=(GUEST_DISKS_USER,), cpu="500m",
                  memory="1Gi"),
    ),
    config_files=(
        ConfigFile("nova.conf", "compute/nova.conf.j2", "/etc/nova/nova.conf",
                   oslo_namespaces=nova.SERVICE.config_file("nova.conf").oslo_namespaces,
                   # os-vif plugs the guests' ports into the node's switch (neutron's l2 node set).
                   values={"ovsdb_connection": OVSDB_CONNECTION}),
        ConfigFile("libvirtd.conf", "compute/libvirtd.conf.j2", "/etc/libvirt/libvirtd.conf", mode="0644"),
        ConfigFile("qemu.conf", "compute/qemu.conf.j2", "/etc/libvirt/qemu.conf", mode="0644"),
        ConfigFile("virtlogd.conf", "compute/virtlogd.conf.j2", "/etc/libvirt/virtlogd.conf", mode="0644"),
        # libvirt loads its persistent secrets from here at start: nova's Ceph key, for qemu's RBD disks.
        ConfigFile("libvirt-secret.xml", "compute/libvirt-secret.xml.j2",
                   "/etc/libvirt/secrets/{{ ceph.secret_uuid }}.xml"),
        ConfigFile("libvirt-secret.base64", "compute/libvirt-secret.base64.j2",
                   "/etc/libvirt/secrets/{{ ceph.secret_uuid }}.base64"),
    ),
    needs=(RABBITMQ, KEYSTONE, PLACEMENT, CEPH, NOVA),
    # nova-compute serves and calls nova's RPC (conductor, scheduler) on nova's exchange.
    messaging=Messaging(rpc=True, exchange="nova"),
    keystone_user=True,
    # After the control services (the catalog's order): nova-compute rolls at the pace of
    # maxUnavailable; libvirt and virtlogd wait for each node's drain.
    upgrade=(UpgradeStep("roll"),),
    shared_secrets=(),
    custom_config_dir="/etc/nova/nova.conf.d",
    node_sets=node_groups,
    spec_problems=overlapping_node_groups,
)
