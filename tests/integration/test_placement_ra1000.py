"""examples/controlplane-1000.yaml on the ra-1000 profile (1080 nodes): the real scheduler
places every pod, and the reference architecture's placement rules hold."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from ccp_operator.kube.client import Kube
from ccp_operator.placement import DEDICATED_LABEL
from localcluster import LocalCluster
from localcluster.cluster import CACHE_ROOT
from localcluster.controlplane import apply_plane, wait_plane_ready
from localcluster.operator import install_and_start

ROOT = Path(__file__).resolve().parents[2]
DEDICATED = {"keystone": 5, "nova-api": 3, "nova-conductor": 3, "horizon": 3, "galera": 3, "rabbitmq": 3,
             "ceph-mon": 3}


@pytest.fixture(scope="module")
def ra1000():
    cluster = LocalCluster(CACHE_ROOT / "test-ra-1000", progress=lambda _: None)
    try:
        cluster.up("ra-1000", timeout=600)
        install_and_start(cluster)
        body = apply_plane(cluster, ROOT / "examples" / "controlplane-1000.yaml")
        kube = Kube(cluster.api_client())
        wait_plane_ready(kube, body["metadata"]["namespace"], body["metadata"]["name"], 900, lambda _: None)
        yield kube, body["metadata"]["namespace"]
    finally:
        cluster.down()


def _pods(kube, namespace):
    by_component = defaultdict(list)
    for pod in kube.list("v1", "Pod", namespace):
        if pod["metadata"].get("ownerReferences", [{}])[0].get("kind") == "Job":
            continue
        by_component[pod["metadata"]["labels"]["app.kubernetes.io/component"]].append(pod)
    return by_component


HYPERVISOR_COMPONENTS = ("nova-libvirt", "nova-virtlogd", "nova-compute")
SWITCH_COMPONENTS = ("openvswitch-db-server", "openvswitch-vswitchd", "neutron-openvswitch-agent")
NETWORK_AGENTS = ("neutron-dhcp-agent", "neutron-l3-agent", "neutron-metadata-agent")


def _nodes_labelled(kube, label):
    return {n["metadata"]["name"] for n in kube.list("v1", "Node", None)
            if n["metadata"]["labels"].get(label) == "enabled"}


def _control_pods(kube, namespace):
    return {component: pods for component, pods in _pods(kube, namespace).items()
            if component not in HYPERVISOR_COMPONENTS + SWITCH_COMPONENTS}


def test_every_pod_is_scheduled_and_running(ra1000):
    kube, namespace = ra1000
    pods = [p for group in _pods(kube, namespace).values() for p in group]
    # The replicas of examples/controlplane-1000.yaml, with etcd, HAProxy and the Ceph managers
    # and the three agents of each of the 3 network nodes; three hypervisor pods on each of the
    # 1000 compute nodes, and a switch (three pods) on those and the network nodes.
    assert len(pods) == 95 + 3 * 1000 + 3 * 1003
    assert all(p["status"]["phase"] == "Running" and p["spec"].get("nodeName") for p in pods)


def test_every_compute_node_runs_libvirt_and_nova_compute_once_and_no_other_node_does(ra1000):
    kube, namespace = ra1000
    computes = {n["metadata"]["name"] for n in kube.list("v1", "Node", None)
                if n["metadata"]["labels"].get("openstack-compute-node") == "enabled"}
    assert len(computes) == 1000
    pods = _pods(kube, namespace)
    for component in HYPERVISOR_COMPONENTS:
        nodes = [p["spec"]["nodeName"] for p in pods[component]]
        assert len(nodes) == len(set(nodes)) and set(nodes) == computes, component


def test_dedicated_components_have_nodes_of_their_own(ra1000):
    kube, namespace = ra1000
    pods = _pods(kube, namespace)
    used: dict[str, str] = {}
    for component, replicas in DEDICATED.items():
        nodes = [p["spec"]["nodeName"] for p in pods[component]]
        assert len(nodes) == replicas and len(set(nodes)) == replicas, component
        for node in nodes:
            assert node not in used, f"{component} shares {node} with {used.get(node)}"
            used[node] = component
    assert len(used) == 23


def test_everything_runs_on_control_plane_nodes(ra1000):
    kube, namespace = ra1000
    control = {n["metadata"]["name"] for n in kube.list("v1", "Node", None)
               if n["metadata"]["labels"].get("openstack-control-plane") == "enabled"}
    assert len(control) == 35
    for component, pods in _control_pods(kube, namespace).items():
        assert {p["spec"]["nodeName"] for p in pods} <= control, component


def test_heat_runs_three_of_each_on_shared_nodes(ra1000):
    """Shared: not dedicated (any control node may take them, a dedicated component's too), spread
    over three nodes."""
    kube, namespace = ra1000
    pods = _pods(kube, namespace)
    for component in ("heat-api", "heat-api-cfn", "heat-engine"):
        group = pods[component]
        assert len(group) == 3, component
        assert len({p["spec"]["nodeName"] for p in group}) == 3, component
        assert not any(p["metadata"]["labels"].get(DEDICATED_LABEL) for p in group), component


def test_every_network_node_runs_each_agent_once(ra1000):
    kube, namespace = ra1000
    network = _nodes_labelled(kube, "openstack-network-node")
    assert len(network) == 3
    pods = _pods(kube, namespace)
    for agent in NETWORK_AGENTS:
        nodes = [p["spec"]["nodeName"] for p in pods[agent]]
        assert len(nodes) == len(set(nodes)) and set(nodes) == network, agent
    # The placement table co-locates the L3 and DHCP agents with neutron-server: one server on
    # each network node, whatever order the pods were created in.
    servers = [p["spec"]["nodeName"] for p in pods["neutron-server"]]
    assert sorted(servers) == sorted(network), servers


def test_every_compute_and_network_node_runs_one_switch_and_l2_agent_and_no_other_node_does(ra1000):
    kube, namespace = ra1000
    expected = _nodes_labelled(kube, "openstack-compute-node") | _nodes_labelled(kube, "openstack-network-node")
    assert len(expected) == 1003
    pods = _pods(kube, namespace)
    for component in SWITCH_COMPONENTS:
        nodes = [p["spec"]["nodeName"] for p in pods[component]]
        assert len(nodes) == len(set(nodes)) and set(nodes) == expected, component


def test_nova_scheduler_leans_towards_api_and_conductor_nodes(ra1000):
    kube, namespace = ra1000
    pods = _pods(kube, namespace)
    preferred = {p["spec"]["nodeName"] for c in ("nova-api", "nova-conductor") for p in pods[c]}
    schedulers = [p["spec"]["nodeName"] for p in pods["nova-scheduler"]]
    assert len(schedulers) == 8
    # Spread at random, about 8 * 6/35 (fewer than 2) would land there.
    assert sum(node in preferred for node in schedulers) >= 4


def test_load_balancers_carry_the_virtual_ips(ra1000):
    kube, namespace = ra1000
    ips = {s["metadata"]["name"]: s["spec"].get("loadBalancerIP") for s in kube.list("v1", "Service", namespace)
           if s["spec"]["type"] == "LoadBalancer"}
    assert ips["cloud-keystone-lb"] == "192.0.2.10"
    assert ips["cloud-nova-api-lb"] == "192.0.2.15"
    assert ips["cloud-horizon-lb"] == "192.0.2.17"
    assert ips["cloud-radosgw-lb"] == "192.0.2.18"
    assert ips["cloud-heat-api-lb"] == "192.0.2.19"
    assert ips["cloud-heat-api-cfn-lb"] == "192.0.2.20"
    assert len(ips) == 11


def test_galera_writer_endpoint_and_etcd_spread_over_nodes(ra1000):
    kube, namespace = ra1000
    pods = _pods(kube, namespace)
    for component, replicas in (("galera-haproxy", 2), ("etcd", 3)):
        nodes = [p["spec"]["nodeName"] for p in pods[component]]
        assert len(nodes) == replicas and len(set(nodes)) == replicas, component
    claims = kube.list("v1", "PersistentVolumeClaim", namespace)
    assert sum(1 for c in claims if c["metadata"]["name"].startswith("data-cloud-galera-")) == 3
    assert sum(1 for c in claims if c["metadata"]["name"].startswith("data-cloud-etcd-")) == 3


def test_ceph_monitors_have_fixed_addresses_and_radosgw_runs_only_beside_them(ra1000):
    kube, namespace = ra1000
    pods = _pods(kube, namespace)
    monitor_nodes = {p["spec"]["nodeName"] for p in pods["ceph-mon"]}
    assert len(monitor_nodes) == 3
    for component, replicas in (("radosgw", 3), ("ceph-mgr", 2)):
        nodes = [p["spec"]["nodeName"] for p in pods[component]]
        assert len(nodes) == replicas and set(nodes) <= monitor_nodes, component
    assert len(set(p["spec"]["nodeName"] for p in pods["radosgw"])) == 3
    # One Service per monitor, whose ClusterIP is recorded (kept on deletion) for the monmap.
    recorded = kube.get("v1", "ConfigMap", namespace, "cloud-ceph-mon-addresses")["data"]
    services = {mon_id: kube.get("v1", "Service", namespace, f"cloud-ceph-mon-{mon_id}") for mon_id in "abc"}
    assert recorded == {mon_id: service["spec"]["clusterIP"] for mon_id, service in services.items()}
    assert not kube.get("v1", "ConfigMap", namespace, "cloud-ceph-mon-addresses")["metadata"].get("ownerReferences")
    claims = kube.list("v1", "PersistentVolumeClaim", namespace)
    assert sum(1 for c in claims if c["metadata"]["name"].startswith("data-cloud-ceph-mon-")) == 3
