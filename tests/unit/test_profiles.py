"""The cluster profiles expand to the nodes the reference architecture's lab had."""

from collections import Counter

import pytest

from localcluster import nodes


def _by_role(profile):
    return Counter(n["metadata"]["labels"][nodes.ROLE_LABEL] for n in profile.nodes)


def test_ra_1000_has_the_lab_grown_to_1000_compute_nodes():
    profile = nodes.load_profile("ra-1000")
    assert _by_role(profile) == {"compute": 1000, "storage": 45, "control-plane": 35}
    assert len(set(profile.node_names)) == 1080
    racks = {n["metadata"]["labels"][nodes.RACK_LABEL] for n in profile.nodes}
    assert len(racks) == 35


@pytest.mark.parametrize("role, label, memory", [
    ("control-plane", "openstack-control-plane", "256Gi"),
    ("compute", "openstack-compute-node", "256Gi"),
    ("storage", "ceph-osd", "128Gi"),
])
def test_roles_carry_openstack_helm_labels_and_server_capacity(role, label, memory):
    profile = nodes.load_profile("ra-1000")
    members = [n for n in profile.nodes if n["metadata"]["labels"][nodes.ROLE_LABEL] == role]
    assert members
    for node in members:
        assert node["metadata"]["labels"][label] == "enabled"
        assert node["status"]["capacity"]["cpu"] == "24"
        assert node["status"]["capacity"]["memory"] == memory
        assert node["metadata"]["annotations"] == nodes.KWOK_ANNOTATION
    other_labels = {"openstack-control-plane", "openstack-compute-node", "ceph-osd"} - {label}
    assert not any(lbl in node["metadata"]["labels"] for node in members for lbl in other_labels)


def test_small_profile_has_exactly_two_compute_nodes():
    # The scheduler test relies on two eligible nodes for three anti-affine replicas.
    assert _by_role(nodes.load_profile("small"))["compute"] == 2


def test_unknown_profile_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="known: ra-1000, small"):
        nodes.load_profile("huge")


def test_summary_table_counts_nodes_by_role():
    summaries = [
        {"name": "a", "role": "compute", "rack": "rack-01", "ready": True, "capacity": {"cpu": "24", "memory": "256Gi"}},
        {"name": "b", "role": "compute", "rack": "rack-02", "ready": False, "capacity": {"cpu": "24", "memory": "256Gi"}},
        {"name": "c", "role": "storage", "rack": "rack-01", "ready": True, "capacity": {"cpu": "24", "memory": "128Gi"}},
    ]
    lines = nodes.summary_table(summaries).splitlines()
    assert lines[1].split() == ["compute", "2", "1", "2", "24", "256Gi", "openstack-compute-node=enabled"]
    assert lines[2].split() == ["storage", "1", "1", "1", "24", "128Gi", "ceph-osd=enabled"]
    assert lines[3].split() == ["total", "3", "2"]


@pytest.mark.parametrize("profile_name, count", [("ra-1000", 3), ("small", 2)])
def test_some_control_plane_nodes_are_the_network_nodes(profile_name, count):
    profile = nodes.load_profile(profile_name)
    network = [n for n in profile.nodes if n["metadata"]["labels"].get("openstack-network-node") == "enabled"]
    assert len(network) == count
    assert all(n["metadata"]["labels"][nodes.ROLE_LABEL] == "control-plane" for n in network)
