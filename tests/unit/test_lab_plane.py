"""The lab control plane (examples/controlplane-lab.yaml) and the real node's parts it relies
on: its images are those `make images` builds, its VIPs are in the range the node routes, and
the lab load balancer hands out addresses as a load-balancer implementation would."""

from __future__ import annotations

import ipaddress
from types import SimpleNamespace

import yaml

from ccp_operator import images as operator_images
from ccp_operator.reconcile.controlplane import child_spec
from ccp_operator.services import catalog
from localcluster import images, loadbalancer, nodes, realnode, realplane

LAB = realplane.lab_manifest()


def service(name: str, requested: str | None = None, published: list[str] | None = None, kind: str = "LoadBalancer"):
    ingress = [SimpleNamespace(ip=ip) for ip in published or []]
    return SimpleNamespace(metadata=SimpleNamespace(name=name, namespace="ns"),
                           spec=SimpleNamespace(type=kind, load_balancer_ip=requested),
                           status=SimpleNamespace(load_balancer=SimpleNamespace(ingress=ingress)))


def test_every_image_of_the_lab_plane_is_one_built_here():
    spec = LAB["spec"]
    assert operator_images.kolla("keystone", spec["release"], spec["images"]) == images.reference("keystone")
    assert spec["galera"]["image"] == images.reference("galera")
    assert spec["galera"]["haproxy"]["image"] == images.reference("haproxy")
    assert spec["rabbitmq"]["image"] == images.reference("rabbitmq")
    assert spec["etcd"]["image"] == images.reference("etcd")
    assert spec["ceph"]["image"] == images.reference("ceph")
    # Every OpenStack component image has its recipe.
    for component in images.OPENSTACK["nova"].components:
        assert component in realplane.PLANE_IMAGES


def test_the_lab_plane_lands_on_the_real_node_only_and_its_vips_are_routed_there():
    assert LAB["spec"]["nodeSelector"] == {"ccp.local/all-in-one": "enabled"}
    balancers = ipaddress.ip_network(realnode.LOAD_BALANCER_RANGE)
    text = yaml.safe_dump(LAB)
    vips = [ipaddress.ip_address(line.split("ip:")[1].strip().strip("'}")) for line in text.splitlines()
            if line.strip().startswith("ip:")]
    assert len(vips) == 11 and len(set(vips)) == 11
    assert all(vip in balancers for vip in vips)


def test_the_lab_plane_gives_every_service_one_worker_unless_the_section_says_otherwise():
    assert child_spec(LAB["spec"], "Keystone", "keystone")["workers"] == 1
    assert child_spec({**LAB["spec"], "nova": {"workers": 3}}, "Nova", "nova")["workers"] == 3
    assert "workers" not in child_spec(LAB["spec"], "Galera", "galera")


def test_the_load_balancer_honours_a_requested_ip_in_its_range_and_allocates_others_from_the_top_half():
    network = ipaddress.ip_network("10.245.0.0/24")
    assert loadbalancer.wanted_ip(service("a", "10.245.0.10"), network, set()) == "10.245.0.10"
    assert loadbalancer.wanted_ip(service("b", "192.0.2.10"), network, set()) is None
    assert loadbalancer.wanted_ip(service("c"), network, set()) == "10.245.0.128"
    assert loadbalancer.wanted_ip(service("d"), network, {"10.245.0.128"}) == "10.245.0.129"
    # An address once given stays.
    assert loadbalancer.wanted_ip(service("e", published=["10.245.0.200"]), network, {"10.245.0.200"}) == "10.245.0.200"


def test_the_lab_osd_joins_with_the_bootstrap_key_and_keeps_its_store_on_a_volume():
    osd, = realplane.osd_manifests("openstack", "cloud", images.reference("ceph"), LAB["spec"]["nodeSelector"])
    pod = osd["spec"]["template"]["spec"]
    script = pod["containers"][0]["command"][-1]
    assert "-n client.bootstrap-osd" in script and "osd new" in script and "--mkfs" in script
    assert "@" not in script
    secrets = {volume["secret"]["secretName"] for volume in pod["volumes"] if "secret" in volume}
    assert secrets == {"cloud-ceph-keys", "cloud-ceph-client-glance"}
    assert osd["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
    assert pod["nodeSelector"] == LAB["spec"]["nodeSelector"]


def test_every_node_set_of_the_lab_plane_is_the_real_node_alone():
    """The switches, agents and hypervisor of the lab run on the real node, never on the small
    profile's KWOK network or compute nodes, where a pod would run nothing."""
    real_node = nodes.role_labels(nodes.load_profile("small").real_node["role"], "rack-01")
    for kind in ("Neutron", "Compute"):
        definition = catalog.BY_KIND[kind]
        node_sets = definition.node_sets(child_spec(LAB["spec"], kind, catalog.section(definition)))
        assert node_sets, kind
        for node_set in node_sets:
            for selector in node_set.selectors:
                assert selector.items() <= real_node.items(), (kind, node_set.name, selector)
