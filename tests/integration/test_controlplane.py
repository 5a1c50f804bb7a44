"""examples/controlplane-small.yaml on the real API server: Ready, quiet, and changed one
service at a time. The tests run in file order on one control plane."""

from __future__ import annotations

import base64
import copy
import re
import time
import uuid
from pathlib import Path

import pytest
import yaml

from ccp_operator import conditions, secrets
from ccp_operator.api import API_VERSION
from ccp_operator.reconcile.controlplane import children
from ccp_operator.secrets import GENERATED_LABEL
from ccp_operator.workloads import INPUTS_HASH_ANNOTATION
from localcluster.operator import USER as OPERATOR_USER
from support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = yaml.safe_load((ROOT / "examples" / "controlplane-small.yaml").read_text())
READY_TIMEOUT = 420
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture(scope="module")
def plane(kube, operator):
    """The small example in a namespace of its own, Ready."""
    namespace = f"plane-{uuid.uuid4().hex[:6]}"
    kube.core.create_namespace({"metadata": {"name": namespace}})
    body = copy.deepcopy(EXAMPLE)
    body["metadata"]["namespace"] = namespace
    kube.kubectl("apply", "-f", "-", stdin=yaml.safe_dump(body))
    wait_ready(kube, namespace, "cloud", operator)
    yield namespace
    kube.core.delete_namespace(namespace)


def umbrella(kube, namespace, name="cloud"):
    return kube.kube.get(API_VERSION, "OpenStackControlPlane", namespace, name)


def wait_ready(kube, namespace, name, operator, timeout=READY_TIMEOUT):
    def ready():
        assert operator.running, f"the operator exited:\n{operator.log_tail()}"
        body = umbrella(kube, namespace, name)
        status = (body or {}).get("status") or {}
        return (conditions.is_true(status.get("conditions"))
                and status.get("observedGeneration") == body["metadata"]["generation"])
    wait_for(ready, timeout=timeout, interval=2, what=f"OpenStackControlPlane {namespace}/{name} Ready")


def settled(kube, namespace):
    """True once no handler of the operator is pending on any resource of the namespace."""
    bodies = [umbrella(kube, namespace)] + [kube.kube.get(API_VERSION, kind, namespace, "cloud")
                                            for kind, _, _ in children()]
    return all(not ((body or {}).get("status", {}).get("kopf") or {}).get("progress") for body in bodies)


def workloads(kube, namespace):
    """{kind/name: (generation, inputs hash)} of every Deployment, StatefulSet and DaemonSet."""
    result = {}
    for kind in ("Deployment", "StatefulSet", "DaemonSet"):
        for item in kube.kube.list("apps/v1", kind, namespace):
            annotations = item["spec"]["template"]["metadata"].get("annotations", {})
            result[f"{kind}/{item['metadata']['name']}"] = (item["metadata"]["generation"],
                                                            annotations.get(INPUTS_HASH_ANNOTATION))
    return result


def test_reaches_ready_with_every_job_completed(kube, plane):
    body = umbrella(kube, plane)
    status = body["status"]
    assert status["servicesReady"] == f"{len(children())}/{len(children())}"
    assert status["release"] == "2026.1"
    for kind, section, _ in children():
        assert conditions.is_true(status["conditions"], f"{kind}Ready"), kind
        child = kube.kube.get(API_VERSION, kind, plane, "cloud")
        assert child["status"]["observedGeneration"] == child["metadata"]["generation"], kind
    jobs = kube.kube.list("batch/v1", "Job", plane)
    steps = {job["metadata"]["labels"]["ccp.openstack.org/job-step"] for job in jobs}
    assert {"db-init", "db-sync", "bootstrap", "api-db-sync", "cells", "keystone-register"} <= steps
    assert all(job["status"].get("succeeded") == 1 for job in jobs)
    printed = kube.kubectl("get", "openstackcontrolplane", "-n", plane).stdout.split()
    assert printed[printed.index("cloud") + 1:printed.index("cloud") + 4] == ["True", f"{len(children())}/{len(children())}", "2026.1"]


def test_every_component_runs_with_a_budget_and_a_service(kube, plane):
    deployments = {d["metadata"]["name"]: d for d in kube.kube.list("apps/v1", "Deployment", plane)}
    for name in ("cloud-keystone", "cloud-placement-api", "cloud-glance-api", "cloud-cinder-api",
                 "cloud-cinder-scheduler", "cloud-cinder-volume", "cloud-neutron-server", "cloud-nova-api",
                 "cloud-nova-conductor", "cloud-nova-scheduler", "cloud-nova-novncproxy", "cloud-horizon"):
        assert name in deployments, name
        labels = deployments[name]["metadata"]["labels"]
        assert labels["app.kubernetes.io/managed-by"] == "ccp-operator"
        assert deployments[name]["metadata"]["ownerReferences"][0]["controller"] is True
    # The network nodes' agents and every switch are DaemonSets, each running on its nodes.
    daemon_sets = {d["metadata"]["name"]: d for d in kube.kube.list("apps/v1", "DaemonSet", plane)}
    for name in ("cloud-neutron-dhcp-agent-network", "cloud-neutron-l3-agent-network",
                 "cloud-neutron-metadata-agent-network", "cloud-openvswitch-db-server-l2",
                 "cloud-openvswitch-vswitchd-l2", "cloud-neutron-openvswitch-agent-l2"):
        status = daemon_sets[name]["status"]
        assert status["desiredNumberScheduled"] > 0 and status["numberReady"] == status["desiredNumberScheduled"], name
    services = {s["metadata"]["name"] for s in kube.kube.list("v1", "Service", plane)}
    assert {"cloud-keystone", "cloud-nova-api", "cloud-glance-api", "cloud-galera", "cloud-rabbitmq"} <= services
    budgets = {b["metadata"]["name"]: b for b in kube.kube.list("policy/v1", "PodDisruptionBudget", plane)}
    assert budgets["cloud-galera"]["spec"]["maxUnavailable"] == 1
    assert "cloud-keystone" not in budgets, "a single replica needs no budget"


def test_galera_runs_its_agents_behind_the_writer_endpoint_with_etcd(kube, plane):
    k = kube.kube
    members = k.get("apps/v1", "StatefulSet", plane, "cloud-galera")
    pod = members["spec"]["template"]["spec"]
    agent = pod["containers"][0]
    assert agent["command"][0].endswith("ccp-galera-agent")
    assert agent["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert agent["livenessProbe"]["httpGet"]["path"] == "/live"
    assert members["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
    # (the small example shares nodes; tests/integration/test_placement_ra1000.py checks dedicated nodes)
    secret_volumes = {v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
    assert secret_volumes == {"cloud-galera-root", "cloud-galera-sst"}
    config = k.get("v1", "ConfigMap", plane, "cloud-galera-config")["data"]
    agent_config = yaml.safe_load(config["agent.json"])
    assert sorted(agent_config["members"]) == ["cloud-galera-0", "cloud-galera-1", "cloud-galera-2"]
    assert agent_config["etcd"]["endpoints"] == [
        f"cloud-etcd-{i}.cloud-etcd-peers.{plane}.svc:2379" for i in range(3)]
    assert "gcomm://" not in config["galera.cnf"], "the agent decides the cluster address"

    # Clients reach the writer endpoint (HAProxy), never the members directly.
    writer_service = k.get("v1", "Service", plane, "cloud-galera")
    assert writer_service["spec"]["selector"]["app.kubernetes.io/component"] == "galera-haproxy"
    haproxy = k.get("apps/v1", "Deployment", plane, "cloud-galera-haproxy")
    assert haproxy["spec"]["replicas"] == 2 and haproxy["status"]["readyReplicas"] == 2
    assert [c["name"] for c in haproxy["spec"]["template"]["spec"]["containers"]] == ["haproxy", "router"]
    peers = k.get("v1", "Service", plane, "cloud-galera-peers")
    assert peers["spec"]["clusterIP"] == "None" and peers["spec"]["publishNotReadyAddresses"] is True
    budgets = {b["metadata"]["name"] for b in k.list("policy/v1", "PodDisruptionBudget", plane)}
    assert {"cloud-galera", "cloud-galera-haproxy", "cloud-etcd"} <= budgets

    etcd = k.get("apps/v1", "StatefulSet", plane, "cloud-etcd")
    assert etcd["spec"]["replicas"] == 3 and etcd["status"]["readyReplicas"] == 3
    command = etcd["spec"]["template"]["spec"]["containers"][0]["command"]
    assert any(arg.startswith("--initial-cluster=cloud-etcd-0=http://cloud-etcd-0.cloud-etcd-peers.") for arg in command)
    assert k.get(API_VERSION, "Etcd", plane, "cloud")["status"]["endpoint"]["service"] == f"cloud-etcd.{plane}.svc:2379"
    cinder = k.get("v1", "Secret", plane, "cloud-cinder-volume-config")
    cinder_conf = base64.b64decode(cinder["data"]["cinder.conf"]).decode()
    assert f"backend_url = etcd3+http://cloud-etcd.{plane}.svc:2379" in cinder_conf

    # The operator cannot reach etcd from outside the cluster here: the status says so, once.
    galera = k.get(API_VERSION, "Galera", plane, "cloud")
    printed = kube.kubectl("get", "galera", "cloud", "-n", plane).stdout.splitlines()[0].split()
    assert printed[:5] == ["NAME", "READY", "MEMBERS", "SYNCED", "WRITER"]
    wait_for(lambda: k.get(API_VERSION, "Galera", plane, "cloud")["status"].get("clusterObservation"),
             timeout=60, what="the operator's first look at the Galera agents' state")
    assert "etcd unreachable" in k.get(API_VERSION, "Galera", plane, "cloud")["status"]["clusterObservation"]
    assert galera["status"]["endpoint"]["host"] == f"cloud-galera.{plane}.svc"


def test_generated_secrets_are_random_and_not_in_configmaps(kube, plane):
    generated = kube.kube.list("v1", "Secret", plane, {GENERATED_LABEL: "true"})
    values = [base64.b64decode(v).decode() for s in generated for v in (s.get("data") or {}).values()]
    # Ceph's fsid and libvirt secret uuid are identifiers (ceph.conf names the fsid), not credentials.
    passwords = [value for value in values if not UUID.match(value)]
    assert len(passwords) > 15 and len(set(passwords)) == len(passwords)
    for config_map in kube.kube.list("v1", "ConfigMap", plane):
        text = yaml.safe_dump(config_map.get("data") or {})
        assert not any(password in text for password in passwords), config_map["metadata"]["name"]


def test_idle_operator_sends_no_write_requests(kube, plane):
    if kube.audit is None:
        pytest.skip("needs the local cluster's audit log")
    wait_for(lambda: settled(kube, plane), timeout=120, what="the operator's handlers to finish")
    mark = kube.audit.mark()
    time.sleep(30)
    writes = kube.audit.writes_since(mark, OPERATOR_USER)
    assert writes == [], [f"{w['verb']} {w['requestURI']}" for w in writes]


def test_operator_restart_changes_no_pod_template(kube, plane, operator):
    before = workloads(kube, plane)
    mark = kube.audit.mark() if kube.audit else None
    log_mark = operator.log_mark()
    operator.restart()
    # At start the operator resumes every resource: wait until each reconcile handler has run.
    wait_for(lambda: operator.log_since(log_mark).count("Handler 'reconcile' succeeded") >= len(children()) + 1,
             timeout=120, what="the resume handlers of every resource")
    wait_ready(kube, plane, "cloud", operator)
    assert workloads(kube, plane) == before
    if mark is not None:
        rolled = [w for w in kube.audit.writes_since(mark, OPERATOR_USER)
                  if w["objectRef"]["resource"] in ("deployments", "statefulsets", "daemonsets", "jobs", "secrets")]
        assert rolled == [], [f"{w['verb']} {w['requestURI']}" for w in rolled]


def test_keystone_config_change_rolls_keystone_alone(kube, plane, operator):
    before = workloads(kube, plane)
    kube.kubectl("patch", "openstackcontrolplane", "cloud", "-n", plane, "--type=merge", "-p",
                 '{"spec": {"keystone": {"customConfig": "[DEFAULT]\\nmax_param_size = 128\\n"}}}')
    wait_for(lambda: workloads(kube, plane)["Deployment/cloud-keystone"] != before["Deployment/cloud-keystone"],
             timeout=120, what="keystone's pod template to change")
    wait_ready(kube, plane, "cloud", operator)
    after = workloads(kube, plane)
    changed = {name for name in before if after[name] != before[name]}
    assert changed == {"Deployment/cloud-keystone"}
    config = kube.kube.get("v1", "Secret", plane, "cloud-keystone-config")
    assert base64.b64decode(config["data"]["90-service.conf"]).decode() == "[DEFAULT]\nmax_param_size = 128\n"


def test_new_image_replaces_the_jobs_and_rolls_the_service(kube, plane, operator):
    def jobs():
        return {job["metadata"]["labels"]["ccp.openstack.org/job-step"]: job["metadata"]["name"]
                for job in kube.kube.list("batch/v1", "Job", plane, {"app.kubernetes.io/name": "placement"})}

    before_jobs, before = jobs(), workloads(kube, plane)
    image = "quay.io/openstack.kolla/placement-api:2026.1-rocky-10"
    kube.kubectl("patch", "openstackcontrolplane", "cloud", "-n", plane, "--type=merge", "-p",
                 f'{{"spec": {{"placement": {{"image": "{image}"}}}}}}')
    wait_for(lambda: jobs().get("db-sync") not in (None, before_jobs["db-sync"]), timeout=120,
             what="a new placement db-sync Job")
    wait_ready(kube, plane, "cloud", operator)
    after_jobs = jobs()
    assert after_jobs["db-sync"] != before_jobs["db-sync"]
    assert kube.kube.get("batch/v1", "Job", plane, before_jobs["db-sync"]) is None, "the old Job is replaced"
    job = kube.kube.get("batch/v1", "Job", plane, after_jobs["db-sync"])
    assert job["spec"]["template"]["spec"]["containers"][0]["image"] == image
    changed = {name for name, value in workloads(kube, plane).items() if before[name] != value}
    assert changed == {"Deployment/cloud-placement-api"}
    events = kube.core.list_namespaced_event(plane, field_selector="reason=JobStarted").items
    assert any(after_jobs["db-sync"] in event.message for event in events)


def test_deleting_keeps_volumes_and_generated_secrets(kube, plane, operator):
    generated = {s["metadata"]["name"]: s["data"] for s in kube.kube.list("v1", "Secret", plane,
                                                                              {GENERATED_LABEL: "true"})}
    claims = {c["metadata"]["name"] for c in kube.kube.list("v1", "PersistentVolumeClaim", plane)}
    assert {"data-cloud-galera-0", "data-cloud-rabbitmq-0"} <= claims
    kube.kubectl("delete", "openstackcontrolplane", "cloud", "-n", plane, "--wait=true", "--timeout=120s")
    wait_for(lambda: not kube.kube.list("apps/v1", "Deployment", plane) and
             not kube.kube.list("apps/v1", "StatefulSet", plane), timeout=120, what="workloads to be deleted")
    assert {c["metadata"]["name"] for c in kube.kube.list("v1", "PersistentVolumeClaim", plane)} == claims
    kept = {s["metadata"]["name"]: s["data"] for s in kube.kube.list("v1", "Secret", plane,
                                                                         {GENERATED_LABEL: "true"})}
    assert kept == generated
    # Re-created, the control plane finds the same credentials and volumes.
    body = copy.deepcopy(EXAMPLE)
    body["metadata"]["namespace"] = plane
    kube.kubectl("apply", "-f", "-", stdin=yaml.safe_dump(body))
    wait_ready(kube, plane, "cloud", operator)
    again = {s["metadata"]["name"]: s["data"] for s in kube.kube.list("v1", "Secret", plane,
                                                                          {GENERATED_LABEL: "true"})}
    assert again == generated


def test_rabbitmq_brokers_replicate_notifications_only(kube, plane):
    k = kube.kube
    brokers = k.get("apps/v1", "StatefulSet", plane, "cloud-rabbitmq")
    pod = brokers["spec"]["template"]["spec"]
    broker = pod["containers"][0]
    assert broker["image"] == "rabbitmq:4.1-management"
    assert "await_online_quorum_plus_one" in broker["lifecycle"]["preStop"]["exec"]["command"][-1]
    assert pod["terminationGracePeriodSeconds"] > 600
    assert broker["resources"]["limits"]["memory"] == broker["resources"]["requests"]["memory"]
    definitions = yaml.safe_load(base64.b64decode(
        k.get("v1", "Secret", plane, "cloud-rabbitmq-definitions")["data"]["definitions.json"]))
    assert {v["name"]: v["metadata"]["default_queue_type"] for v in definitions["vhosts"]} == {
        "openstack": "classic", "notifications": "quorum"}
    assert [p["vhost"] for p in definitions["policies"]] == ["notifications"]
    config = k.get("v1", "ConfigMap", plane, "cloud-rabbitmq-config")["data"]["rabbitmq.conf"]
    assert "cluster_partition_handling = pause_minority" in config
    nova = k.get("v1", "Secret", plane, "cloud-nova-conductor-config")
    nova_conf = base64.b64decode(nova["data"]["nova.conf"]).decode()
    assert "/notifications?rabbit_quorum_queue=true" in nova_conf
    printed = kube.kubectl("get", "rabbitmq", "cloud", "-n", plane).stdout.splitlines()[0].split()
    assert printed[:6] == ["NAME", "READY", "MEMBERS", "RUNNING", "ALARMS", "BROKER"]
    wait_for(lambda: k.get(API_VERSION, "RabbitMQ", plane, "cloud")["status"].get("brokerObservation"),
             timeout=90, what="the operator's first look at the brokers")
    # The brokers are simulated here: the operator says it cannot reach their management API.
    assert "unreachable" in k.get(API_VERSION, "RabbitMQ", plane, "cloud")["status"]["brokerObservation"]


def secret_files(kube, namespace, name):
    return {key: base64.b64decode(value).decode()
            for key, value in kube.kube.get("v1", "Secret", namespace, name)["data"].items()}


def test_ceph_gives_each_service_its_own_key_and_configuration(kube, plane):
    k = kube.kube
    monitors = k.get("apps/v1", "StatefulSet", plane, "cloud-ceph-mon")
    assert monitors["spec"]["replicas"] == 1
    assert monitors["spec"]["template"]["spec"]["initContainers"][0]["command"][-1] == "mkfs"
    address = k.get("v1", "Service", plane, "cloud-ceph-mon-a")["spec"]["clusterIP"]
    assert k.get("v1", "ConfigMap", plane, "cloud-ceph-mon-addresses")["data"] == {"a": address}
    ceph_conf = k.get("v1", "ConfigMap", plane, "cloud-ceph-config")["data"]["ceph.conf"]
    assert f"mon_host = [v2:{address}:3300,v1:{address}:6789]" in ceph_conf
    assert k.get("apps/v1", "StatefulSet", plane, "cloud-ceph-mgr")["spec"]["replicas"] == 1
    assert k.get("apps/v1", "Deployment", plane, "cloud-radosgw")["spec"]["replicas"] == 1
    keys = secret_files(kube, plane, "cloud-ceph-keys")
    imported = secret_files(kube, plane, "cloud-ceph-admin")["import.keyring"]
    assert '[client.glance]\n\tkey = %s\n\tcaps mgr = "profile rbd pool=images"' % keys["client.glance"] in imported

    glance = secret_files(kube, plane, "cloud-glance-api-config")
    assert glance["ceph.client.glance.keyring"] == f"[client.glance]\n\tkey = {keys['client.glance']}\n"
    assert f"mon_host = [v2:{address}:3300" in glance["ceph.conf"]
    assert "rbd_store_user = glance" in glance["glance-api.conf"]
    assert not any(name.endswith(".keyring") and name != "ceph.client.glance.keyring" for name in glance)
    backup = secret_files(kube, plane, "cloud-cinder-backup-config")
    assert {"ceph.client.cinder-backup.keyring", "ceph.client.cinder.keyring"} <= set(backup)
    uuid_ = secret_files(kube, plane, "cloud-ceph-cluster")["libvirt-secret-uuid"]
    assert f"rbd_secret_uuid = {uuid_}" in backup["cinder.conf"]
    # The hypervisors open volumes and the guests' disks as cinder's user, whose key libvirt holds.
    cinder_client = secret_files(kube, plane, "cloud-ceph-client-cinder")
    assert f"<uuid>{uuid_}</uuid>" in cinder_client["libvirt-secret.xml"]
    hypervisor = secret_files(kube, plane, "cloud-nova-compute-default-config")
    assert f"rbd_secret_uuid = {uuid_}" in hypervisor["nova.conf"]
    assert "ceph.client.cinder.keyring" in hypervisor and "rbd_user = cinder" in hypervisor["nova.conf"]
    assert "[libvirt]" not in secret_files(kube, plane, "cloud-nova-conductor-config")["nova.conf"]

    steps = {job["metadata"]["labels"]["ccp.openstack.org/job-step"]
             for job in k.list("batch/v1", "Job", plane, {"app.kubernetes.io/name": "ceph"})}
    assert steps == {"bootstrap", "keystone-register"}
    printed = kube.kubectl("get", "ceph", "cloud", "-n", plane).stdout.splitlines()
    assert printed[0].split()[:6] == ["NAME", "READY", "MODE", "MONITORS", "QUORUM", "HEALTH"]
    assert printed[1].split()[:4] == ["cloud", "True", "managed", "1"]


def test_a_rotated_ceph_key_rolls_exactly_the_services_that_use_it(kube, plane, operator):
    before = workloads(kube, plane)
    new_key = secrets.new_cephx_key()
    kube.kubectl("patch", "secret", "cloud-ceph-keys", "-n", plane, "--type=merge", "-p",
                 f'{{"stringData": {{"client.glance": "{new_key}"}}}}')
    wait_for(lambda: workloads(kube, plane)["Deployment/cloud-glance-api"] != before["Deployment/cloud-glance-api"],
             timeout=240, interval=2, what="glance-api to roll with the new key")
    wait_ready(kube, plane, "cloud", operator)
    changed = {name for name, value in workloads(kube, plane).items() if before[name] != value}
    assert changed == {"Deployment/cloud-glance-api"}
    assert new_key in secret_files(kube, plane, "cloud-glance-api-config")["ceph.client.glance.keyring"]
    assert new_key in secret_files(kube, plane, "cloud-ceph-admin")["import.keyring"]


def test_radosgw_can_be_switched_off_and_on(kube, plane, operator):
    def radosgw_objects():
        return {kind: kube.kube.get(api, kind, plane, "cloud-radosgw") is not None
                for api, kind in (("apps/v1", "Deployment"), ("v1", "Service"))}

    kube.kubectl("patch", "openstackcontrolplane", "cloud", "-n", plane, "--type=merge", "-p",
                 '{"spec": {"ceph": {"radosgw": {"replicas": 0}}}}')
    wait_for(lambda: radosgw_objects() == {"Deployment": False, "Service": False}, timeout=120,
             what="radosgw removed")
    wait_ready(kube, plane, "cloud", operator)
    assert kube.kube.get(API_VERSION, "Ceph", plane, "cloud")["status"]["endpoint"].get("radosgwURL") is None
    kube.kubectl("patch", "openstackcontrolplane", "cloud", "-n", plane, "--type=merge", "-p",
                 '{"spec": {"ceph": {"radosgw": {"replicas": 1}}}}')
    wait_ready(kube, plane, "cloud", operator)
    assert radosgw_objects() == {"Deployment": True, "Service": True}
