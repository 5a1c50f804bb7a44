"""The lab control plane (examples/controlplane-lab.yaml) running for real on the real node, driven
from outside the pods through its load balancers' IPs with openstacksdk, as a cloud's operator and
its tenants drive a cloud.

Its cluster is its own (`small` with one real node); the operator runs in-cluster from the image
built here, and every OpenStack service from the images built here. A Ceph OSD joins the way a
storage node does (localcluster.realplane), so RBD and radosgw have somewhere to write.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import time
import uuid

import pytest
import requests

from localcluster import guest, realplane
from support.db_writer import AcknowledgedWriter
from support.lab_plane import (NAME, NAMESPACE, PLANE, admin_password, available, connect, dhcp_datapath_report,
                               dhcp_namespace_rules, galera_root_password, rbd_names, unique)
from support.waiting import wait_for

HORIZON_URL = f"http://{PLANE['spec']['horizon']['loadBalancer']['ip']}:8080"
CATALOG_TYPES = {"identity", "placement", "image", "volumev3", "network", "compute", "object-store",
                 "orchestration", "cloudformation"}


# -- the plane ---------------------------------------------------------------------------------

def test_every_pod_of_the_plane_runs_for_real_on_the_real_node_and_every_job_completed(lab):
    pods = lab.get("-n", NAMESPACE, "pods")["items"]
    assert len(pods) > 40
    for pod in pods:
        name = pod["metadata"]["name"]
        assert pod["spec"]["nodeName"] == lab.node, name
        if pod["metadata"].get("ownerReferences", [{}])[0].get("kind") == "Job":
            continue
        assert pod["status"]["phase"] == "Running", name
        assert all(status["ready"] for status in pod["status"]["containerStatuses"]), name
    jobs = lab.get("-n", NAMESPACE, "jobs")["items"]
    steps = {job["metadata"]["labels"].get("ccp.openstack.org/job-step") for job in jobs}
    assert {"db-init", "db-sync", "bootstrap", "keystone-register"} <= steps
    assert all((job["status"].get("succeeded") or 0) >= 1 for job in jobs), \
        [job["metadata"]["name"] for job in jobs if not job["status"].get("succeeded")]
    plane = lab.get("-n", NAMESPACE, "openstackcontrolplane", NAME)
    ready = next(c for c in plane["status"]["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "True", ready


def test_the_rabbitmq_brokers_form_one_cluster_with_both_vhosts(lab):
    """Three brokers that each formed a cluster of their own also look Ready to Kubernetes."""
    # The operator's observation of the brokers is periodic: the latest within a minute or two.
    wait_for(lambda: lab.get("-n", NAMESPACE, "rabbitmq", NAME)["status"].get("membersRunning") == "3/3",
             timeout=180, interval=5, what="the RabbitMQ status to show three brokers running in one cluster")
    listed = lab.kubectl("-n", NAMESPACE, "exec", f"{NAME}-rabbitmq-2", "-c", "rabbitmq", "--",
                         "rabbitmqctl", "list_vhosts", "--quiet").stdout.split()
    assert {"openstack", "notifications"} <= set(listed)


# -- keystone ----------------------------------------------------------------------------------

def test_keystone_gives_admin_a_token_and_a_catalog_whose_every_url_answers(cloud):
    assert cloud.auth_token
    catalog = cloud.session.auth.get_access(cloud.session).service_catalog.catalog
    assert CATALOG_TYPES <= {entry["type"] for entry in catalog}
    for entry in catalog:
        for endpoint in entry["endpoints"]:
            if endpoint["interface"] != "public":
                continue
            url = endpoint["url"].replace("$(project_id)s", cloud.current_project_id)
            url = re.sub(r"AUTH_%\(tenant_id\)s", f"AUTH_{cloud.current_project_id}", url)
            response = requests.get(url, headers={"X-Auth-Token": cloud.auth_token}, timeout=30)
            assert response.status_code < 500, (entry["type"], url, response.status_code)


def test_a_tenant_user_with_the_member_role_gets_a_token_of_its_project(cloud):
    project = cloud.identity.create_project(name=unique("tenant"), domain_id="default")
    password = uuid.uuid4().hex
    user = cloud.identity.create_user(name=unique("user"), password=password, default_project_id=project.id,
                                      domain_id="default")
    cloud.identity.assign_project_role_to_user(project, user, cloud.identity.find_role("member"))
    tenant = connect(user.name, password, project.name)
    assert tenant.auth_token
    assert tenant.current_project_id == project.id


# -- glance ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def image(cloud):
    data = os.urandom(4 * 1024 * 1024)
    created = cloud.image.create_image(name=unique("image"), data=data, disk_format="raw", container_format="bare",
                                       visibility="public")
    created = cloud.image.wait_for_status(created, "active", wait=300)
    return created, data


def test_glance_stores_an_image_in_the_images_pool_and_gives_it_back_unchanged(lab, cloud, image):
    created, data = image
    downloaded = cloud.image.download_image(created)
    assert hashlib.sha256(downloaded.content).hexdigest() == hashlib.sha256(data).hexdigest()
    assert created.id in rbd_names(lab, "glance-api", "glance", PLANE["spec"].get("ceph", {}).get("pools", {})
                                   .get("images", "images"))


# -- cinder ------------------------------------------------------------------------------------

def test_cinder_makes_rbd_volumes_snapshots_and_volumes_from_images(lab, cloud, image):
    storage = cloud.block_storage
    volume = available(storage, storage.create_volume(size=1, name=unique("volume")))
    assert f"volume-{volume.id}" in rbd_names(lab, "cinder-volume", "cinder", "volumes")
    snapshot = storage.create_snapshot(volume_id=volume.id, name=unique("snapshot"))
    available(storage, snapshot)
    from_image = available(storage, storage.create_volume(size=1, name=unique("from-image"), image_id=image[0].id))
    assert from_image.volume_image_metadata["image_id"] == image[0].id


def test_cinder_backs_a_volume_up_to_the_backups_pool(lab, cloud):
    storage = cloud.block_storage
    volume = available(storage, storage.create_volume(size=1, name=unique("volume")))
    available(storage, storage.create_backup(volume_id=volume.id, name=unique("backup"), force=True))
    assert rbd_names(lab, "cinder-backup", "cinder-backup", "backups")


# -- neutron -----------------------------------------------------------------------------------

def test_neutron_builds_a_network_a_router_a_port_with_a_fixed_ip_and_a_security_group_rule(cloud):
    network = cloud.network.create_network(name=unique("net"))
    subnet = cloud.network.create_subnet(network_id=network.id, ip_version=4, cidr="192.168.77.0/24",
                                         name=unique("subnet"))
    router = cloud.network.create_router(name=unique("router"))
    cloud.network.add_interface_to_router(router, subnet_id=subnet.id)
    port = cloud.network.create_port(network_id=network.id, fixed_ips=[{"subnet_id": subnet.id,
                                                                        "ip_address": "192.168.77.50"}])
    assert port.fixed_ips[0]["ip_address"] == "192.168.77.50"
    # The router's ports also include its HA network's (L3 HA is on): only the subnet's count.
    interfaces = list(cloud.network.ports(device_id=router.id))
    assert [ip["ip_address"] for p in interfaces for ip in p.fixed_ips if ip["subnet_id"] == subnet.id] \
        == ["192.168.77.1"]
    group = cloud.network.create_security_group(name=unique("sg"))
    rule = cloud.network.create_security_group_rule(security_group_id=group.id, direction="ingress",
                                                    protocol="tcp", port_range_min=22, port_range_max=22,
                                                    ethertype="IPv4")
    assert rule.port_range_min == 22


# -- heat --------------------------------------------------------------------------------------

# A tier of the eCommerce reference architecture in small: its network, a port on it and a volume.
STACK_TEMPLATE = {
    "heat_template_version": "2021-04-16",
    "resources": {
        "network": {"type": "OS::Neutron::Net"},
        "subnet": {"type": "OS::Neutron::Subnet",
                   "properties": {"network": {"get_resource": "network"}, "cidr": "192.168.78.0/24"}},
        "port": {"type": "OS::Neutron::Port",
                 "properties": {"network": {"get_resource": "network"},
                                "fixed_ips": [{"subnet": {"get_resource": "subnet"}}]}},
        "volume": {"type": "OS::Cinder::Volume", "properties": {"size": 1}},
    },
    "outputs": {"port_ip": {"value": {"get_attr": ["port", "fixed_ips", 0, "ip_address"]}}},
}


def test_heat_creates_a_stack_with_a_network_a_port_and_a_volume_and_deletes_it_cleanly(cloud):
    orchestration = cloud.orchestration
    stack = orchestration.create_stack(name=unique("stack"), template=STACK_TEMPLATE, timeout_mins=10)
    stack = orchestration.wait_for_status(stack, "CREATE_COMPLETE", failures=["CREATE_FAILED"], interval=5,
                                          wait=600)
    made = {r.name: r.physical_resource_id for r in orchestration.resources(stack)}
    assert set(made) == set(STACK_TEMPLATE["resources"])
    port = cloud.network.get_port(made["port"])
    assert port.network_id == made["network"] and port.fixed_ips[0]["ip_address"].startswith("192.168.78.")
    output = next(o for o in orchestration.get_stack(stack).outputs if o["output_key"] == "port_ip")
    assert output["output_value"] == port.fixed_ips[0]["ip_address"]
    assert cloud.block_storage.get_volume(made["volume"]).status == "available"
    orchestration.delete_stack(stack)
    deadline = time.monotonic() + 600
    while (found := orchestration.find_stack(stack.id, ignore_missing=True)) and found.status != "DELETE_COMPLETE":
        assert found.status != "DELETE_FAILED", found.status_reason
        assert time.monotonic() < deadline, f"stack still {found.status}"
        time.sleep(5)
    assert cloud.network.find_network(made["network"], ignore_missing=True) is None
    assert cloud.network.find_port(made["port"], ignore_missing=True) is None
    assert cloud.block_storage.find_volume(made["volume"], ignore_missing=True) is None


# -- nova and placement ------------------------------------------------------------------------

def test_nova_reports_its_conductor_and_scheduler_up_and_keeps_flavors(cloud):
    services = {(service.binary, service.state) for service in cloud.compute.services()}
    assert ("nova-conductor", "up") in services and ("nova-scheduler", "up") in services
    flavor = cloud.compute.create_flavor(name=unique("flavor"), ram=128, vcpus=1, disk=1)
    assert flavor.id in {f.id for f in cloud.compute.flavors()}


def test_placement_answers_resource_classes_and_traits(cloud):
    classes = cloud.placement.get("/resource_classes", microversion="1.2").json()["resource_classes"]
    assert {"VCPU", "MEMORY_MB", "DISK_GB"} <= {entry["name"] for entry in classes}
    traits = cloud.placement.get("/traits", microversion="1.6").json()["traits"]
    assert "COMPUTE_VOLUME_ATTACH" in traits


# -- radosgw -----------------------------------------------------------------------------------

# -- a real VM on the real node -----------------------------------------------------------------

def test_a_vm_boots_behind_a_router_gets_its_address_and_metadata_then_a_volume_and_leaves_nothing(lab, cloud):
    """The guest (localcluster.guest) under qemu on the lab's hypervisor, its port on the node's
    switch (Open vSwitch's userspace datapath), its disk an RBD image in the vms pool."""
    hypervisor = guest.wait_for_hypervisor(cloud)
    assert ("nova-compute", "up") in {(service.binary, service.state) for service in cloud.compute.services()}
    name = unique("vm")
    setup = guest.set_up(cloud, name)
    booted = guest.boot(cloud, setup, name)
    server = booted.server
    print(f"server {server.id} on {hypervisor}: ACTIVE after {booted.active_seconds:.1f} s, "
          f"first console line after {booted.first_line_seconds:.1f} s", flush=True)
    assert guest.wait_for_line(cloud, server, "kernel ", 60)[0] == f"kernel {guest.build().kernel_version}"
    node_report = functools.partial(dhcp_datapath_report, lab)
    assert guest.wait_for_address(cloud, server, node_report) == guest.fixed_address(server)
    # The DHCP agent fills in its replies' UDP checksums itself, not trusting offload to do it.
    assert "--dport 68 -j CHECKSUM --checksum-fill" in dhcp_namespace_rules(setup.network_id, "mangle")
    assert guest.wait_for_line(cloud, server, "instance-id ", 300)[0] == f"instance-id {server.id}"
    assert f"{server.id}_disk" in rbd_names(lab, "nova-compute", "cinder", "vms")

    volume = cloud.block_storage.create_volume(name=name, size=1)
    available(cloud.block_storage, volume)
    cloud.compute.create_volume_attachment(server, volume_id=volume.id)
    assert guest.wait_for_line(cloud, server, "disk vdb ", 300)[0] == "disk vdb 2097152 sectors"

    ports = [port.id for port in cloud.network.ports(device_id=server.id)]
    assert len(ports) == 1
    cloud.compute.delete_server(server)
    cloud.compute.wait_for_delete(server, interval=2, wait=300)
    wait_for(lambda: not list(cloud.network.ports(device_id=server.id)), timeout=120, what="the server's port gone")
    wait_for(lambda: f"{server.id}_disk" not in rbd_names(lab, "nova-compute", "cinder", "vms"), timeout=120,
             what="the server's RBD disk gone")
    wait_for(lambda: cloud.block_storage.get_volume(volume).status == "available", timeout=300,
             what="the volume detached")
    cloud.block_storage.delete_volume(volume)


def test_radosgw_stores_and_returns_an_object_through_the_swift_api_with_a_keystone_token(cloud):
    container = unique("container")
    data = os.urandom(64 * 1024)
    cloud.object_store.create_container(name=container)
    cloud.object_store.upload_object(container=container, name="blob", data=data)
    assert cloud.object_store.download_object("blob", container=container) == data


# -- horizon -----------------------------------------------------------------------------------

def test_horizon_logs_the_admin_in_and_shows_the_dashboard(lab):
    session = requests.Session()
    page = session.get(f"{HORIZON_URL}/auth/login/", timeout=60)
    assert page.status_code == 200
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    form = {"csrfmiddlewaretoken": token, "username": "admin", "password": admin_password(lab),
            "region": re.search(r'name="region" value="([^"]*)"', page.text).group(1)
            if 'name="region" value=' in page.text else "default"}
    dashboard = session.post(f"{HORIZON_URL}/auth/login/", data=form, timeout=120,
                             headers={"Referer": f"{HORIZON_URL}/auth/login/"})
    assert dashboard.status_code == 200
    assert "/auth/login/" not in dashboard.url, dashboard.url
    assert "Sign Out" in dashboard.text or "logout" in dashboard.text, dashboard.text[:500]


def test_the_plane_reports_what_it_runs(lab):
    plane = lab.get("-n", NAMESPACE, "openstackcontrolplane", NAME)
    print(json.dumps({"timings": lab.timings, "services": plane["status"].get("services")}, indent=1))
    assert plane["status"]["release"] == PLANE["spec"]["release"]


# -- faults ------------------------------------------------------------------------------------

def test_the_plane_survives_losing_the_galera_writer_a_keystone_pod_and_a_rabbitmq_broker(lab):
    galera_ip = lab.get("-n", NAMESPACE, "service", f"{NAME}-galera")["spec"]["clusterIP"]
    root_password = galera_root_password(lab)
    report = {}
    with AcknowledgedWriter(galera_ip, 3306, root_password) as writer, \
            realplane.ApiLoop(lambda: connect("admin", admin_password(lab), "admin")) as loop:
        time.sleep(10)  # calls and writes before the first fault
        for fault in realplane.FAULTS:
            start = time.monotonic()
            pod, back = realplane.inject(lab.kube, NAMESPACE, NAME, fault)
            time.sleep(10)  # the loop's calls right after recovery count for this fault too
            calls = loop.between(start, time.monotonic())
            failed = [call for call in calls if not call.ok]
            report[fault.name] = {"pod": pod, "backToReadySeconds": round(back, 1), "calls": len(calls),
                                  "failedCalls": len(failed), "errors": sorted({call.error[:80] for call in failed})[:3],
                                  "slowestCallSeconds": round(max((call.seconds for call in calls), default=0), 1)}
        time.sleep(10)
        after = loop.between(time.monotonic() - 10, time.monotonic())
    print(json.dumps({"faults": report, "rowsAcknowledged": len(writer.acknowledged),
                      "writeFailures": writer.failures}, indent=1))
    assert writer.acknowledged, "no write was acknowledged"
    assert writer.missing() == []
    assert after and all(call.ok for call in after), [call.error for call in after if not call.ok]
