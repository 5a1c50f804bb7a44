"""The Compute kind: one set of DaemonSets per compute node group, each on its own nodes and with
its own virtualization settings, rolled at the pace the spec sets."""

from __future__ import annotations

import configparser
import json
import re

import pytest

from ccp_operator import secrets, workloads
from ccp_operator.api import API_VERSION
from ccp_operator.errors import InvalidSpec
from ccp_operator.placement import NODE_SET_LABEL
from ccp_operator.reconcile.controlplane import ControlPlaneReconciler
from ccp_operator.reconcile.service import ServiceReconciler, validate
from ccp_operator.services import catalog, compute, rabbitmq
from ccp_operator.services.base import OVSDB_CONNECTION
from support.fake_kube import FakeKube
from support.rendering import CEPH_KEY, INSTANCE, NAMESPACE
from test_service_pass import drive_to_ready, ready_with

COMPUTE = catalog.BY_KIND["Compute"]
GROUPS = [{"name": "kvm", "nodeSelector": {"openstack-compute-node": "enabled"}},
          {"name": "lab", "nodeSelector": {"ccp.local/all-in-one": "enabled", "openstack-compute-node": "qemu"},
           "virtType": "qemu",
           "cpuMode": "custom", "cpuModels": ["Nehalem"]}]


def ready_compute(spec: dict):
    return ready_with(COMPUTE, spec)


def daemon_sets(kube) -> dict[str, dict]:
    return {obj["metadata"]["name"]: obj for obj in kube.objects.values() if obj["kind"] == "DaemonSet"}


def config(kube, workload: str) -> dict[str, str]:
    return secrets.decoded(kube.get("v1", "Secret", NAMESPACE, f"{INSTANCE}-{workload}-config"))


def nova_conf(kube, group: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(config(kube, f"nova-compute-{group}")["nova.conf"])
    return parser


def test_each_node_group_gets_libvirt_virtlogd_and_nova_compute_on_its_own_nodes_only():
    kube = ready_compute({"nodeGroups": GROUPS})
    sets = daemon_sets(kube)
    assert set(sets) == {f"{INSTANCE}-{component}-{group['name']}" for group in GROUPS
                         for component in ("nova-libvirt", "nova-virtlogd", "nova-compute")}
    lab = sets[f"{INSTANCE}-nova-compute-lab"]
    terms = lab["spec"]["template"]["spec"]["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms == [{"matchExpressions": [{"key": "ccp.local/all-in-one", "operator": "In", "values": ["enabled"]},
                                           {"key": "openstack-compute-node", "operator": "In",
                                            "values": ["qemu"]}]}]
    # Two groups' DaemonSets of one component never select each other's pods.
    assert lab["spec"]["selector"]["matchLabels"][NODE_SET_LABEL] == "lab"
    assert sets[f"{INSTANCE}-nova-compute-kvm"]["spec"]["selector"]["matchLabels"][NODE_SET_LABEL] == "kvm"


def test_a_group_renders_its_own_virtualization_settings_and_no_database_credentials():
    kube = ready_compute({"nodeGroups": GROUPS})
    kvm, lab = nova_conf(kube, "kvm"), nova_conf(kube, "lab")
    assert (kvm["libvirt"]["virt_type"], kvm["libvirt"]["cpu_mode"]) == ("kvm", "host-model")
    assert (lab["libvirt"]["virt_type"], lab["libvirt"]["cpu_mode"], lab["libvirt"]["cpu_models"]) == \
        ("qemu", "custom", "Nehalem")
    assert lab["libvirt"]["images_type"] == "rbd" and lab["libvirt"]["rbd_user"] == "cinder"
    assert not {"database", "api_database"} & set(lab.sections())
    assert lab["upgrade_levels"]["compute"] == "auto"


def test_libvirt_holds_novas_ceph_key_as_its_secret_and_nova_compute_reads_the_key_ring():
    kube = ready_compute({})
    secret = config(kube, "nova-libvirt-default")
    uuid_line = next(line for line in secret["libvirt-secret.xml"].splitlines() if "<uuid>" in line)
    uuid = uuid_line.strip().removeprefix("<uuid>").removesuffix("</uuid>")
    assert f'/etc/libvirt/secrets/{uuid}.base64' in secret["config.json"]
    assert secret["libvirt-secret.base64"].strip() == CEPH_KEY  # the value only: libvirt decodes it
    compute = config(kube, "nova-compute-default")
    assert "ceph.client.cinder.keyring" in compute


def test_hypervisor_pods_share_the_nodes_network_processes_and_libvirts_directories():
    kube = ready_compute({})
    sets = daemon_sets(kube)
    for component in ("nova-libvirt", "nova-compute"):
        pod = sets[f"{INSTANCE}-{component}-default"]["spec"]["template"]["spec"]
        assert pod["hostNetwork"] and pod["hostPID"] and pod["dnsPolicy"] == "ClusterFirstWithHostNet"
        paths = {volume["hostPath"]["path"] for volume in pod["volumes"] if "hostPath" in volume}
        assert {"/run/libvirt", "/var/lib/nova", "/var/lib/libvirt"} <= paths, component
        assert "podAntiAffinity" not in pod["affinity"] and "topologySpreadConstraints" not in pod


def test_the_default_pace_is_a_tenth_of_the_fleet_and_a_component_may_set_its_own():
    kube = ready_compute({"maxUnavailable": "25%", "compute": {"maxUnavailable": 1}})
    compute = daemon_sets(kube)[f"{INSTANCE}-nova-compute-default"]
    assert compute["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"] == 1
    kube = ready_compute({})
    compute = daemon_sets(kube)[f"{INSTANCE}-nova-compute-default"]
    assert compute["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"] == "10%"


def test_libvirt_and_virtlogd_wait_for_a_drained_node_and_count_as_rolled_out_before():
    """Deleting libvirt's pod kills its guests: no rolling update does it, and an upgrade does not
    wait for it."""
    kube = ready_compute({})
    sets = daemon_sets(kube)
    for component in ("nova-libvirt", "nova-virtlogd"):
        live = sets[f"{INSTANCE}-{component}-default"]
        assert live["spec"]["updateStrategy"] == {"type": "OnDelete"}
        live = {**live, "status": {"observedGeneration": live["metadata"].get("generation", 0),
                                   "desiredNumberScheduled": 3, "updatedNumberScheduled": 1, "numberReady": 3,
                                   "numberAvailable": 3}}
        rollout = workloads.Rollout.of(live, None)
        assert rollout.done and (rollout.updated, rollout.replicas) == (1, 3)


def test_an_upgrade_waits_for_every_hypervisor_of_every_group():
    kube = ready_compute({"nodeGroups": GROUPS})
    name = f"{INSTANCE}-nova-compute-lab"
    live = kube.get("apps/v1", "DaemonSet", NAMESPACE, name)
    kube.put({**live, "status": {**live["status"], "numberReady": 1}})
    body = kube.get(API_VERSION, "Compute", NAMESPACE, INSTANCE)
    result = ServiceReconciler(kube, COMPUTE, body).run()
    assert result.stopped is not None and "nova-compute 1/2 on lab" in result.stopped.message


def test_groups_that_could_select_one_node_are_refused_naming_the_group():
    """A node matching two groups would run two libvirts: selectors must differ in some key's value."""
    gpu = {"name": "gpu", "nodeSelector": {"openstack-compute-node": "enabled", "gpu": "yes"}}
    with pytest.raises(InvalidSpec) as refused:
        validate(COMPUTE, {"release": "2026.1", "nodeGroups": [GROUPS[0], gpu]})
    assert refused.value.field == "spec.nodeGroups[1].nodeSelector" and "group gpu" in refused.value.message
    # No selector: the default one, which a group on other labels may still share a node with.
    assert compute.overlapping_node_groups({"nodeGroups": [{"name": "a"}, {"name": "b", "nodeSelector": {"x": "1"}}]})
    validate(COMPUTE, {"release": "2026.1", "nodeGroups": GROUPS})
    disjoint = {"name": "gpu", "nodeSelector": {"openstack-compute-node": "gpu"}}
    validate(COMPUTE, {"release": "2026.1", "nodeGroups": [GROUPS[0], disjoint]})


def test_a_control_plane_refuses_overlapping_groups_in_its_own_terms_before_writing_children():
    gpu = {"name": "gpu", "nodeSelector": {"openstack-compute-node": "enabled", "gpu": "yes"}}
    body = {"apiVersion": API_VERSION, "kind": "OpenStackControlPlane",
            "metadata": {"name": INSTANCE, "namespace": NAMESPACE, "uid": "u-1", "generation": 1},
            "spec": {"release": "2026.1", "compute": {"nodeGroups": [GROUPS[0], gpu]}}}
    kube = FakeKube({})
    with pytest.raises(InvalidSpec) as refused:
        ControlPlaneReconciler(kube, body).validate()
    assert refused.value.field == "spec.compute.nodeGroups[1].nodeSelector"
    assert not kube.objects


def test_removing_a_node_group_deletes_its_daemon_sets_and_keeps_the_others():
    kube = ready_compute({"nodeGroups": GROUPS})
    body = kube.get(API_VERSION, "Compute", NAMESPACE, INSTANCE)
    body["spec"]["nodeGroups"] = GROUPS[:1]
    kube.put(body)
    drive_to_ready(kube, COMPUTE)
    assert set(daemon_sets(kube)) == {f"{INSTANCE}-{component}-kvm"
                                      for component in ("nova-libvirt", "nova-virtlogd", "nova-compute")}


def test_nova_compute_speaks_on_novas_exchange_and_its_user_may_publish_there():
    kube = ready_compute({})
    conf = nova_conf(kube, "default")
    assert conf["DEFAULT"]["control_exchange"] == "nova"  # where nova-conductor listens
    assert conf["os_vif_ovs"]["ovsdb_connection"] == OVSDB_CONNECTION  # the node's switch, over its loopback
    (notifications,) = [p for p in rabbitmq.permissions("compute") if p["vhost"] == rabbitmq.NOTIFICATIONS_VHOST]
    assert re.fullmatch(notifications["write"], "nova") and not re.fullmatch(notifications["write"], "compute")


def test_nova_compute_owns_the_instances_directory_and_is_ready_only_with_its_rpc_connection():
    kube = ready_compute({})
    permissions = json.loads(config(kube, "nova-compute-default")["config.json"])["permissions"]
    assert {"path": "/var/lib/nova", "owner": "nova:nova", "recurse": True} in permissions
    container = daemon_sets(kube)[f"{INSTANCE}-nova-compute-default"]["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["exec"]["command"] == ["healthcheck_port", "nova-compute", "5672"]
    # libvirt's read-write socket is for Kolla's kolla group, which nova's user is in.
    assert 'unix_sock_group = "kolla"' in config(kube, "nova-libvirt-default")["libvirtd.conf"]


def test_volumes_and_guest_disks_are_opened_as_the_user_whose_key_libvirt_holds():
    """nova attaches a volume as the cephx user and libvirt secret cinder names in the volume's
    connection (its own user, and the cluster's fsid when it names no secret): cinder names the
    secret libvirt holds, of its user's key, and the guests' own disks use that user too."""
    from support.rendering import all_files
    cinder_conf = configparser.ConfigParser(interpolation=None)
    cinder_conf.read_string(all_files(catalog.BY_KIND["Cinder"])["cinder-volume"]["cinder.conf"])
    backend = cinder_conf[next(section for section in cinder_conf.sections() if "volume_driver" in cinder_conf[section])]
    kube = ready_compute({})
    libvirt = nova_conf(kube, "default")["libvirt"]
    secret = config(kube, "nova-libvirt-default")
    assert (libvirt["rbd_user"], libvirt["rbd_secret_uuid"]) == (backend["rbd_user"], backend["rbd_secret_uuid"])
    assert f"<uuid>{backend['rbd_secret_uuid']}</uuid>" in secret["libvirt-secret.xml"]
    assert f"client.{backend['rbd_user']} secret" in secret["libvirt-secret.xml"]
    assert secret["libvirt-secret.base64"].strip() == CEPH_KEY
