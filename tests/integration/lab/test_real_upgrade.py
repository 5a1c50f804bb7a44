"""The lab plane upgraded for real from 2026.1 to 2026.2 while its users keep using it: every
service through its declared steps (expand and migrate, roll, contract and online data
migrations) against its real database, compute included, with a tenant's VM running.

It runs after the lab's other tests (this module's name sorts last) on the same plane, whose API
services first scale to two replicas each, so a rolling update always keeps one serving.
"""

from __future__ import annotations

import functools
import json
import time

import pytest

from ccp_operator.api import API_VERSION
from ccp_operator.services import catalog
from localcluster import guest, realplane
from support.lab_plane import (NAME, NAMESPACE, admin_password, answers_ping, connect, dhcp_datapath_report,
                               galera_root_password, unique)
from support.waiting import wait_for

PREVIOUS_RELEASE, NEXT_RELEASE = "2026.1", "2026.2"
# Each service's own check that its release is fit to run (oslo.upgradecheck), as its declaration
# runs it before its upgrade (exit 1, warnings, passes), with the image it runs in.
UPGRADE_CHECKS = {definition.name: step for definition in catalog.SERVICES for step in definition.upgrade
                  if step.name == "upgrade-check"}


def child(lab, kind: str) -> dict:
    return lab.kube.get(API_VERSION, kind, NAMESPACE, NAME)


def upgrade_record(lab, kind: str) -> dict:
    return (child(lab, kind).get("status") or {}).get("upgrade") or {}


def set_section(lab, section: str, fields: dict) -> None:
    """The control plane's section of one service, merged (a None removes a field)."""
    lab.kube.merge_patch(API_VERSION, "OpenStackControlPlane", NAMESPACE, NAME, {"spec": {section: fields}})


def sql(lab, statement: str) -> str:
    """A statement run as the database's root on the Galera writer."""
    writer = lab.get("-n", NAMESPACE, "galera", NAME)["status"]["writer"]
    password = galera_root_password(lab)
    return lab.kubectl("-n", NAMESPACE, "exec", writer, "-c", "mariadb", "--", "mariadb", "-uroot",
                       f"-p{password}", "--batch", "--skip-column-names", "-e", statement).stdout


def images_of(lab, component: str) -> set[str]:
    pods = lab.get("-n", NAMESPACE, "pods", "-l", f"app.kubernetes.io/component={component}")["items"]
    return {container["image"].rsplit(":", 1)[1] for pod in pods for container in pod["spec"]["containers"]}


def service_ready_at(lab, kind: str, version: str) -> bool:
    body = child(lab, kind)
    status = body.get("status") or {}
    ready = next((c for c in status.get("conditions") or [] if c["type"] == "Ready"), {})
    return (status.get("version") == version and ready.get("status") == "True"
            and status.get("observedGeneration") == body["metadata"]["generation"])


def pause_after(lab, step: str) -> None:
    """Pauses neutron's upgrade while `step` runs; it stops once that step is done."""
    wait_for(lambda: upgrade_record(lab, "Neutron").get("step") == step, timeout=300, interval=0.5,
             what=f"neutron's {step} step to start")
    set_section(lab, "neutron", {"paused": True})
    wait_for(lambda: upgrade_record(lab, "Neutron").get("state") == "Paused", timeout=900, interval=2,
             what=f"neutron's upgrade paused after {step}")
    done = upgrade_record(lab, "Neutron")["stepsDone"]
    assert done[-1] == step and "db-contract" not in done, done


def network_round_trip(cloud) -> None:
    network = cloud.network.create_network(name=unique("schema"))
    assert network.id in {n.id for n in cloud.network.networks()}
    cloud.network.delete_network(network)


@pytest.fixture(scope="module")
def two_api_replicas(lab):
    lab.kube.merge_patch(API_VERSION, "OpenStackControlPlane", NAMESPACE, NAME,
                         {"spec": realplane.TWO_API_REPLICAS})
    time.sleep(5)  # the operator's pass starts from the new generation
    realplane.wait_plane_ready(lab.kube, NAMESPACE, NAME, 900, progress=lambda message: print(message, flush=True))


@pytest.fixture(scope="module")
def next_release_images(lab):
    lab.local.real_node().load_images(list(realplane.PLANE_IMAGES), release=NEXT_RELEASE)


@pytest.fixture(scope="module")
def running_vm(cloud):
    """A tenant's server on a network behind a router, up and reporting its uptime."""
    name = unique("upgrade-vm")
    guest.wait_for_hypervisor(cloud)
    server = guest.boot(cloud, guest.set_up(cloud, name, cidr="192.168.91.0/24"), name).server
    guest.poll(lambda: guest.uptimes(cloud, server) or None, 300, 5,
               lambda: f"no uptime line; the guest said {guest.console_lines(cloud, server)}")
    return server


@pytest.mark.timeout(1800)
def test_a_pause_during_a_real_migration_stops_after_it_and_going_back_before_contract_serves_from_the_expanded_schema(
        lab, cloud, two_api_replicas, next_release_images):
    """neutron moves alone: its 2026.2 expand migrations (new tables) run for real, a pause asked
    while the expand Job runs stops after it, the roll then moves every neutron pod to 2026.2, and
    going back before contract returns them to 2026.1, which serves from the expanded schema."""
    heads_before = sql(lab, "SELECT version_num FROM neutron.alembic_version").split()
    set_section(lab, "neutron", {"version": NEXT_RELEASE})
    pause_after(lab, "db-expand")
    heads_expanded = sql(lab, "SELECT version_num FROM neutron.alembic_version").split()
    assert set(heads_expanded) != set(heads_before), "the expand moved no alembic head"
    time.sleep(30)  # paused: nothing else starts
    record = upgrade_record(lab, "Neutron")
    assert (record["stepsDone"], record["step"], record["state"]) == (["upgrade-check", "db-expand"], "", "Paused")
    assert images_of(lab, "neutron-server") == {f"{PREVIOUS_RELEASE}-debian-trixie"}
    network_round_trip(cloud)  # 2026.1 on the expanded schema

    set_section(lab, "neutron", {"paused": False})
    pause_after(lab, "roll")
    assert images_of(lab, "neutron-server") == {f"{NEXT_RELEASE}-debian-trixie"}
    network_round_trip(cloud)  # 2026.2

    set_section(lab, "neutron", {"version": None, "paused": None})
    wait_for(lambda: upgrade_record(lab, "Neutron").get("state") == "Reverted"
             and service_ready_at(lab, "Neutron", PREVIOUS_RELEASE), timeout=900, interval=5,
             what="neutron back at 2026.1 and Ready")
    assert images_of(lab, "neutron-server") == {f"{PREVIOUS_RELEASE}-debian-trixie"}
    assert sql(lab, "SELECT version_num FROM neutron.alembic_version").split() == heads_expanded
    network_round_trip(cloud)  # 2026.1 again, on the schema 2026.2 expanded


@pytest.mark.timeout(1800)
def test_a_migration_that_fails_for_real_stops_the_upgrade_with_its_log_while_2026_1_keeps_serving(
        lab, cloud, two_api_replicas, next_release_images):
    """nova's database user loses the INDEX privilege its 2026.2 migration (two new indexes)
    needs: the db-sync step fails, the upgrade stops there with the Job's log in its condition,
    and nova 2026.1, which rolled nowhere, keeps answering."""
    sql(lab, "REVOKE INDEX ON nova.* FROM 'nova'@'%'")
    try:
        set_section(lab, "nova", {"version": NEXT_RELEASE})
        wait_for(lambda: upgrade_record(lab, "Nova").get("state") == "Failed", timeout=1200, interval=5,
                 what="nova's upgrade to fail")
        record = upgrade_record(lab, "Nova")
        assert (record["step"], record["stepsDone"]) == ("db-sync", ["upgrade-check", "api-db-sync"]), record
        condition = next(c for c in child(lab, "Nova")["status"]["conditions"] if c["type"] == "UpgradeComplete")
        assert condition["status"] == "False" and "db-sync" in condition["message"], condition
        assert "INDEX command denied" in condition["message"], condition["message"]
        for component in ("nova-api", "nova-conductor", "nova-scheduler"):
            assert images_of(lab, component) == {f"{PREVIOUS_RELEASE}-debian-trixie"}, component
        assert list(cloud.compute.flavors()) and isinstance(list(cloud.compute.servers()), list)
    finally:
        sql(lab, "GRANT ALL PRIVILEGES ON nova.* TO 'nova'@'%'")
        set_section(lab, "nova", {"version": None})
    wait_for(lambda: service_ready_at(lab, "Nova", PREVIOUS_RELEASE), timeout=900, interval=5,
             what="nova back at 2026.1 and Ready")
    # The runbook's step for a failed Job whose inputs do not change: delete it, and it runs again.
    lab.kubectl("-n", NAMESPACE, "delete", "jobs", "-l",
                f"ccp.openstack.org/job-step=db-sync-{NEXT_RELEASE.replace('.', '-')},app.kubernetes.io/name=nova")


@pytest.mark.timeout(5400)  # every service's steps, one after the other, on 2 cores
def test_the_whole_release_moves_to_2026_2_under_load_with_no_failed_call_and_the_vm_running(
        lab, cloud, two_api_replicas, next_release_images, running_vm):
    uptimes_before = guest.uptimes(cloud, running_vm)
    report, start = realplane.upgrade_under_load(lab.kube, NAMESPACE, NAME, NEXT_RELEASE,
                                                 lambda: connect("admin", admin_password(lab), "admin"),
                                                 running_vm.id, progress=lambda message: print(message, flush=True))
    figures = report.as_dict(start)
    print(json.dumps(figures, indent=1), flush=True)
    assert {call.name for call in report.calls} == set(realplane.tenant_calls(running_vm.id))
    assert report.failed == [], figures["failedCallsPerUpgradingService"]

    # The guest kept running: its uptime only grew, and it still reports.
    wait_for(lambda: guest.uptimes(cloud, running_vm)[-1] > uptimes_before[-1] + guest.HEARTBEAT_SECONDS,
             timeout=120, interval=5, what="the guest's uptime after the upgrade")
    uptimes = guest.uptimes(cloud, running_vm)
    assert uptimes == sorted(uptimes), f"the guest restarted: {uptimes}"
    assert cloud.compute.get_server(running_vm.id).status == "ACTIVE"
    # Its network came through the switch's restart (ovs-vswitchd moved to 2026.2 too): from its
    # DHCP server's namespace, its router answers.
    port = next(cloud.network.ports(device_id=running_vm.id))
    gateway = cloud.network.get_subnet(port.fixed_ips[0]["subnet_id"]).gateway_ip
    assert answers_ping(f"qdhcp-{port.network_id}", gateway), (
        dhcp_datapath_report(lab, port.network_id,
                             [p.id for p in cloud.network.ports(network_id=port.network_id)]))


def test_after_the_upgrade_every_service_reports_2026_2_and_its_pods_run_its_images(lab):
    """Every pod runs 2026.2 but those replaced only when their node is drained of guests
    (libvirt, virtlogd): they keep 2026.1, the tenant's VM with them, and their kind's status
    shows the 2026.2 template waiting on that node."""
    for definition in catalog.SERVICES:
        status = child(lab, definition.kind)["status"]
        assert status["version"] == NEXT_RELEASE, (definition.kind, status.get("upgrade"))
        assert (status.get("upgrade") or {}).get("state") == "Completed", (definition.kind, status["upgrade"])
    assert lab.get("-n", NAMESPACE, "openstackcontrolplane", NAME)["status"]["release"] == NEXT_RELEASE
    kind_waiting_for_drain = {component.name: definition.kind for definition in catalog.SERVICES
                              for component in definition.components if component.replaced_when_drained}
    waiting = 0
    # The running pods; the install's Jobs keep their finished pods of 2026.1.
    for pod in lab.get("-n", NAMESPACE, "pods", "--field-selector=status.phase=Running")["items"]:
        component = pod["metadata"]["labels"].get("app.kubernetes.io/component")
        images = [c["image"] for c in pod["spec"]["containers"] if "/openstack.kolla/" in c["image"]]
        if component not in kind_waiting_for_drain:
            assert all(f":{NEXT_RELEASE}-" in image for image in images), (pod["metadata"]["name"], images)
            continue
        assert all(f":{PREVIOUS_RELEASE}-" in image for image in images), (pod["metadata"]["name"], images)
        owner = pod["metadata"]["ownerReferences"][0]["name"].removeprefix(f"{NAME}-")
        entry = child(lab, kind_waiting_for_drain[component])["status"]["components"][owner]
        assert entry["updatedReplicas"] < entry["replicas"] and f":{NEXT_RELEASE}-" in entry["image"], entry
        waiting += 1
    assert waiting == len(kind_waiting_for_drain), f"{waiting} pods wait for a drain"


@pytest.mark.parametrize("service", sorted(UPGRADE_CHECKS))
def test_after_the_upgrade_the_release_s_own_upgrade_checks_pass(lab, service):
    step = UPGRADE_CHECKS[service]
    pod = next(pod for pod in lab.get("-n", NAMESPACE, "pods", "--field-selector=status.phase=Running")["items"]
               if any(f"/openstack.kolla/{step.image}:" in container["image"] for container in pod["spec"]["containers"]))
    # kolla_set_configs has put the configuration where the program reads it.
    done = lab.kubectl("-n", NAMESPACE, "exec", pod["metadata"]["name"], "--", "sh", "-c", step.command,
                       check=False, timeout=300)
    print(done.stdout, flush=True)
    assert done.returncode == 0, f"{step.command}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"


def test_after_the_upgrade_a_new_server_boots(lab, cloud):
    name = unique("after-upgrade")
    booted = guest.boot(cloud, guest.set_up(cloud, name, cidr="192.168.92.0/24"), name)
    node_report = functools.partial(dhcp_datapath_report, lab)
    assert guest.wait_for_address(cloud, booted.server, node_report) == guest.fixed_address(booted.server)
