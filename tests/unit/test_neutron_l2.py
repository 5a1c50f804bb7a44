"""Neutron's node agents: the DHCP, L3 and metadata agents on every network node, and Open vSwitch
with its L2 agent on every node that plugs ports (the network nodes and the hypervisors), one
switch per node even where a node is both."""

from __future__ import annotations

import configparser
import json

from ccp_operator import secrets
from ccp_operator.reconcile.controlplane import child_spec
from ccp_operator.services import catalog, neutron
from ccp_operator.services.base import OVSDB_CONNECTION
from support.rendering import INSTANCE, NAMESPACE
from test_service_pass import ready_with

NEUTRON = catalog.BY_KIND["Neutron"]
HYPERVISORS = {"openstack-compute-node": "enabled"}
LAB = {"ccp.local/all-in-one": "enabled"}


def ready_neutron(spec: dict):
    return ready_with(NEUTRON, spec)


def daemon_sets(kube) -> dict[str, dict]:
    return {obj["metadata"]["name"].removeprefix(f"{INSTANCE}-"): obj for obj in kube.objects.values()
            if obj["kind"] == "DaemonSet"}


def node_terms(daemon_set: dict) -> list[dict]:
    return daemon_set["spec"]["template"]["spec"]["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]


def term(labels: dict[str, str]) -> dict:
    return {"matchExpressions": [{"key": key, "operator": "In", "values": [value]}
                                 for key, value in sorted(labels.items())]}


def config(kube, workload: str) -> dict[str, str]:
    return secrets.decoded(kube.get("v1", "Secret", NAMESPACE, f"{INSTANCE}-{workload}-config"))


def ini(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text)
    return parser


def test_agents_run_on_network_nodes_and_the_switch_also_on_every_hypervisor():
    kube = ready_neutron({"hypervisorNodeSelectors": [HYPERVISORS]})
    sets = daemon_sets(kube)
    assert set(sets) == {"neutron-dhcp-agent-network", "neutron-l3-agent-network", "neutron-metadata-agent-network",
                         "openvswitch-db-server-l2", "openvswitch-vswitchd-l2", "neutron-openvswitch-agent-l2"}
    assert node_terms(sets["neutron-l3-agent-network"]) == [term(neutron.NETWORK_NODE_SELECTOR)]
    # One DaemonSet per switch component, on either kind of node: a node never runs two switches.
    assert node_terms(sets["openvswitch-vswitchd-l2"]) == [term(neutron.NETWORK_NODE_SELECTOR), term(HYPERVISORS)]
    for name, daemon_set in sets.items():
        assert daemon_set["spec"]["template"]["spec"]["hostNetwork"] is True, name
    # neutron-server prefers the agents' nodes (the placement table co-locates them).
    server = kube.get("apps/v1", "Deployment", NAMESPACE, f"{INSTANCE}-neutron-server")
    near = server["spec"]["template"]["spec"]["affinity"]["nodeAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert [preference["preference"] for preference in near] == [term(neutron.NETWORK_NODE_SELECTOR)]


def test_a_node_both_network_node_and_hypervisor_gets_one_switch():
    sets = daemon_sets(ready_neutron({"networkNodes": {"nodeSelector": LAB}, "hypervisorNodeSelectors": [LAB]}))
    assert node_terms(sets["openvswitch-db-server-l2"]) == [term(LAB)]


def test_a_control_plane_gives_neutron_the_selectors_of_its_compute_node_groups():
    plane = {"compute": {"nodeGroups": [{"name": "a", "nodeSelector": {"rack": "1"}},
                                        {"name": "b", "nodeSelector": {"rack": "2"}}]}, "neutron": {}}
    assert child_spec(plane, "Neutron", "neutron")["hypervisorNodeSelectors"] == [{"rack": "1"}, {"rack": "2"}]
    # The default group, and none at all.
    assert child_spec({}, "Neutron", "neutron")["hypervisorNodeSelectors"] == [{"openstack-compute-node": "enabled"}]
    assert child_spec({"compute": {"nodeGroups": []}}, "Neutron", "neutron")["hypervisorNodeSelectors"] == []


def test_agents_reach_root_through_rootwrap_and_the_switch_through_the_nodes_loopback():
    kube = ready_neutron({})
    neutron_conf = ini(config(kube, "neutron-l3-agent-network")["neutron.conf"])
    assert neutron_conf["agent"]["root_helper"] == "sudo neutron-rootwrap /etc/neutron/rootwrap.conf"
    assert ini(config(kube, "neutron-l3-agent-network")["l3_agent.ini"])["ovs"]["ovsdb_connection"] == \
        OVSDB_CONNECTION
    assert ini(config(kube, "neutron-dhcp-agent-network")["dhcp_agent.ini"])["ovs"]["ovsdb_connection"] == \
        OVSDB_CONNECTION
    agent = ini(config(kube, "neutron-openvswitch-agent-l2")["openvswitch_agent.ini"])
    assert agent["ovs"]["ovsdb_connection"] == OVSDB_CONNECTION
    assert "--remote=ptcp:6640:127.0.0.1" in config(kube, "openvswitch-db-server-l2")["start-ovsdb-server"]


def test_each_agent_is_ready_only_while_it_holds_its_rpc_connection():
    sets = daemon_sets(ready_neutron({}))
    for name in ("neutron-dhcp-agent-network", "neutron-l3-agent-network", "neutron-metadata-agent-network",
                 "neutron-openvswitch-agent-l2"):
        container = sets[name]["spec"]["template"]["spec"]["containers"][0]
        assert container["readinessProbe"]["exec"]["command"] == ["healthcheck_port", container["name"], "5672"]


def test_the_userspace_datapath_enables_tso_before_ovs_vswitchd_starts():
    netdev = config(ready_neutron({"datapathType": "netdev"}), "openvswitch-vswitchd-l2")["start-ovs-vswitchd"]
    system = config(ready_neutron({}), "openvswitch-vswitchd-l2")["start-ovs-vswitchd"]
    tso = "other_config:userspace-tso-enable=true"
    assert tso in netdev and netdev.index(tso) < netdev.index("exec ovs-vswitchd")
    assert tso not in system and "modprobe openvswitch" in system
    agent = ini(config(ready_neutron({"datapathType": "netdev"}), "neutron-openvswitch-agent-l2")
                ["openvswitch_agent.ini"])
    assert agent["ovs"]["datapath_type"] == "netdev"


def test_the_l2_agents_tunnel_endpoint_is_its_nodes_address():
    kube = ready_neutron({})
    container = daemon_sets(kube)["neutron-openvswitch-agent-l2"]["spec"]["template"]["spec"]["containers"][0]
    assert {"name": neutron.NODE_IP, "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}} in container["env"]
    script = config(kube, "neutron-openvswitch-agent-l2")["start-openvswitch-agent"]
    assert f'local_ip = %s\\n\' "${neutron.NODE_IP}"' in script


def test_namespace_agents_share_their_namespaces_and_state_with_the_node():
    kube = ready_neutron({})
    spec = daemon_sets(kube)["neutron-l3-agent-network"]["spec"]["template"]["spec"]
    mounts = {mount["mountPath"]: mount for mount in spec["containers"][0]["volumeMounts"]}
    assert mounts["/run/netns"]["mountPropagation"] == "Bidirectional"
    assert spec["containers"][0]["securityContext"] == {"privileged": True}
    # The kubelet makes a missing host directory as root's: the agent's start makes it neutron's.
    permissions = json.loads(config(kube, "neutron-l3-agent-network")["config.json"])["permissions"]
    assert {"path": "/var/lib/neutron", "owner": "neutron:neutron", "recurse": True} in permissions
    # Agents that plug ports wait for br-int; the metadata agent plugs none.
    assert config(kube, "neutron-dhcp-agent-network")["config.json"].count("ccp-wait-for-br-int") == 2
    assert "ccp-wait-for-br-int" not in config(kube, "neutron-metadata-agent-network")["config.json"]
