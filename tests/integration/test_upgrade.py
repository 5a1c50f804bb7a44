"""Per-service and whole-release upgrades on the real API server: steps in order, one pod at a
time, nothing else touched; a failing step stops with a clear condition and resumes once fixed;
pause stops after the current step; going back before contract rolls back. The tests run in
file order on one control plane."""

from __future__ import annotations

import copy
import json
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from ccp_operator import conditions
from ccp_operator.api import API_VERSION
from ccp_operator.services import catalog
from localcluster.readiness import Unavailability
from support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = yaml.safe_load((ROOT / "examples" / "controlplane-small.yaml").read_text())
FAILING_IMAGE = "registry.invalid/ccp-test/fails:1"  # the local cluster fails Job pods of this image
SLOW_IMAGE = "registry.invalid/ccp-test/slow:1"  # and lets those of this one succeed after 15 s
KEYSTONE_REPLICAS = 3


def plane_body(namespace):
    body = copy.deepcopy(EXAMPLE)
    body["metadata"]["namespace"] = namespace
    body["spec"]["keystone"] = {"replicas": KEYSTONE_REPLICAS, "dedicated": False}
    return body


def child(kube, namespace, kind):
    return kube.kube.get(API_VERSION, kind, namespace, "cloud")


def plane_ready(kube, namespace, operator):
    assert operator.running, f"the operator exited:\n{operator.log_tail()}"
    body = kube.kube.get(API_VERSION, "OpenStackControlPlane", namespace, "cloud") or {}
    status = body.get("status") or {}
    return (conditions.is_true(status.get("conditions"))
            and status.get("observedGeneration") == body["metadata"]["generation"])


def patch(kube, namespace, spec):
    kube.kubectl("patch", "openstackcontrolplane", "cloud", "-n", namespace, "--type=merge", "-p",
                 json.dumps({"spec": spec}))


def templates(kube, namespace):
    return {f"{kind}/{item['metadata']['name']}": item["spec"]["template"]
            for kind in ("Deployment", "StatefulSet") for item in kube.kube.list("apps/v1", kind, namespace)}


@pytest.fixture(scope="module")
def plane(kube, operator):
    namespace = f"upgrade-{uuid.uuid4().hex[:6]}"
    kube.core.create_namespace({"metadata": {"name": namespace}})
    kube.kubectl("apply", "-f", "-", stdin=yaml.safe_dump(plane_body(namespace)))
    wait_for(lambda: plane_ready(kube, namespace, operator), timeout=420, interval=2, what="the plane Ready")
    yield namespace
    kube.core.delete_namespace(namespace)


def keystone_upgrade(kube, namespace):
    return (child(kube, namespace, "Keystone").get("status") or {}).get("upgrade") or {}


def test_keystone_alone_moves_through_its_steps_one_pod_at_a_time(kube, plane, operator):
    before = templates(kube, plane)
    with Unavailability(kube.core, plane, {"keystone": KEYSTONE_REPLICAS}) as pods:
        patch(kube, plane, {"keystone": {"version": "2026.2"}})
        wait_for(lambda: keystone_upgrade(kube, plane).get("state") == "Completed", timeout=300, interval=1,
                 what="keystone's upgrade to complete")
        wait_for(lambda: plane_ready(kube, plane, operator), timeout=300, interval=2, what="the plane Ready")
    record = keystone_upgrade(kube, plane)
    assert (record["fromVersion"], record["toVersion"]) == ("2026.1", "2026.2")
    assert record["stepsDone"] == ["upgrade-check", "db-expand", "db-migrate", "roll", "db-contract"]
    assert child(kube, plane, "Keystone")["status"]["version"] == "2026.2"
    assert pods.worst["keystone"] <= 1 and len(pods.serving["keystone"]) >= 2 * KEYSTONE_REPLICAS
    jobs = {job["metadata"]["labels"]["ccp.openstack.org/job-step"]: job
            for job in kube.kube.list("batch/v1", "Job", plane, {"app.kubernetes.io/name": "keystone"})}
    created = [jobs[f"{step}-2026-2"]["metadata"]["creationTimestamp"]
               for step in ("upgrade-check", "db-expand", "db-migrate", "db-contract")]
    assert created == sorted(created)
    assert jobs["db-expand-2026-2"]["spec"]["template"]["spec"]["containers"][0]["image"].endswith(
        "keystone:2026.2-ubuntu-noble")
    # The contract step starts only once every keystone pod runs the new release.
    newest_pod = max(p["metadata"]["creationTimestamp"] for p in kube.kube.list(
        "v1", "Pod", plane, {"app.kubernetes.io/name": "keystone", "app.kubernetes.io/component": "keystone"}))
    assert jobs["db-contract-2026-2"]["metadata"]["creationTimestamp"] >= newest_pod
    after = templates(kube, plane)
    assert {name for name in before if after.get(name) != before[name]} == {"Deployment/cloud-keystone"}
    events = [e.message for e in kube.core.list_namespaced_event(plane, field_selector="reason=UpgradeStep").items
              if e.involved_object.kind == "Keystone"]
    assert "2026.1 -> 2026.2: step db-contract done" in events
    header, row = kube.kubectl("get", "keystone", "cloud", "-n", plane).stdout.splitlines()
    assert header.split()[:6] == ["NAME", "READY", "VERSION", "UPGRADE", "STEP", "UPGRADE-STATE"]
    assert row.split()[:5] == ["cloud", "True", "2026.2", "2026.2", "Completed"]  # no step left


def test_a_failing_step_stops_with_a_clear_condition_and_resumes_once_fixed(kube, plane, operator):
    serving = templates(kube, plane)["Deployment/cloud-placement-api"]
    patch(kube, plane, {"placement": {"version": "2026.2", "image": FAILING_IMAGE}})

    def failed():
        status = child(kube, plane, "Placement").get("status") or {}
        condition = conditions.find(status.get("conditions"), "UpgradeComplete") or {}
        return condition if condition.get("reason") == "JobFailed" else None

    condition = wait_for(failed, timeout=240, interval=2, what="the failed db-sync step")
    # The first step, the new release's own checks, already runs the failing image.
    assert condition["message"].startswith(
        "2026.1 -> 2026.2, step upgrade-check: Job cloud-placement-upgrade-check-2026-2-")
    assert "logs" in condition["message"]
    assert keystone_upgrade(kube, plane)["state"] == "Completed"
    placement = child(kube, plane, "Placement")["status"]
    assert placement["upgrade"]["state"] == "Failed" and placement["version"] == "2026.1"
    # The old release keeps serving: its pods were not touched.
    assert templates(kube, plane)["Deployment/cloud-placement-api"] == serving
    wait_for(lambda: "placement 2026.1 -> 2026.2: upgrade-check (Failed)" in kube.kube.get(
        API_VERSION, "OpenStackControlPlane", plane, "cloud")["status"].get("upgrading", ""),
        timeout=60, interval=1, what="the control plane to show the failed step")

    patch(kube, plane, {"placement": {"image": None}})
    wait_for(lambda: (child(kube, plane, "Placement").get("status") or {}).get("version") == "2026.2",
             timeout=240, interval=2, what="placement upgraded once the step is fixed")
    assert child(kube, plane, "Placement")["status"]["upgrade"]["stepsDone"] == [
        "upgrade-check", "db-sync", "roll", "online-data-migrations"]


def test_pause_stops_after_the_current_step_and_going_back_before_contract_rolls_back(kube, plane, operator):
    serving = templates(kube, plane)["Deployment/cloud-glance-api"]
    # The slow image keeps the db-expand step running for 15 seconds: pause arrives during it.
    patch(kube, plane, {"glance": {"version": "2026.2", "image": SLOW_IMAGE}})

    def expand_job():
        return kube.kube.list("batch/v1", "Job", plane, {"ccp.openstack.org/job-step": "db-expand-2026-2",
                                                         "app.kubernetes.io/name": "glance"})

    wait_for(expand_job, timeout=120, interval=0.5, what="glance's db-expand Job")
    patch(kube, plane, {"glance": {"paused": True}})
    record = wait_for(lambda: (lambda r: r if r.get("state") == "Paused" else None)(
        (child(kube, plane, "Glance").get("status") or {}).get("upgrade") or {}), timeout=120, interval=1,
        what="glance's upgrade paused")
    assert record["stepsDone"] == ["upgrade-check", "db-expand"] and record["step"] == ""
    time.sleep(5)
    still = child(kube, plane, "Glance")["status"]["upgrade"]
    assert still["stepsDone"] == record["stepsDone"] and still["state"] == "Paused"
    assert templates(kube, plane)["Deployment/cloud-glance-api"] == serving

    patch(kube, plane, {"glance": {"version": None, "image": None, "paused": False}})
    wait_for(lambda: ((child(kube, plane, "Glance").get("status") or {}).get("upgrade") or {}).get("state")
             == "Reverted", timeout=120, interval=1, what="glance's upgrade reverted")
    wait_for(lambda: plane_ready(kube, plane, operator), timeout=300, interval=2, what="the plane Ready")
    assert templates(kube, plane)["Deployment/cloud-glance-api"] == serving
    assert child(kube, plane, "Glance")["status"]["version"] == "2026.1"


def kopf_progress(kube, namespace) -> dict:
    """kopf's record of the plane's handlers still to finish (a retry pending), in its status."""
    body = kube.kube.get(API_VERSION, "OpenStackControlPlane", namespace, "cloud") or {}
    return ((body.get("status") or {}).get("kopf") or {}).get("progress") or {}


def test_going_back_after_contract_is_refused(kube, plane, operator):
    # The order that once lost the revert: kopf has finished with the plane's last spec, so that
    # spec is what it compares the next ones with, and a revert to it is no change to kopf. Were
    # the refused spec's pass left with a retry pending, the revert would never be handled.
    wait_for(lambda: not kopf_progress(kube, plane), timeout=120, interval=0.5, what="kopf done with the plane")
    patch(kube, plane, {"keystone": {"version": "2026.1"}})
    # keystone finished at 2026.2: going back is a downgrade, refused before anything changes.
    def refused():
        condition = conditions.find((child(kube, plane, "Keystone").get("status") or {}).get("conditions"),
                                    "SpecValid") or {}
        return condition if condition.get("status") == "False" else None

    condition = wait_for(refused, timeout=60, interval=1, what="the refusal")
    assert "2026.2 -> 2026.1 is a downgrade" in condition["message"]
    patch(kube, plane, {"keystone": {"version": "2026.2"}})
    wait_for(lambda: plane_ready(kube, plane, operator), timeout=120, interval=2, what="the plane Ready again")


def test_a_new_release_moves_one_service_at_a_time_in_order(kube, plane, operator):
    order = [definition.kind for definition in catalog.SERVICES]
    refused = kube.kubectl("patch", "openstackcontrolplane", "cloud", "-n", plane, "--type=merge", "-p",
                           '{"spec": {"release": "2025.1"}}', check=False)
    assert refused.returncode == 0  # the schema allows it; the operator refuses it
    wait_for(lambda: "downgrade" in ((conditions.find((kube.kube.get(API_VERSION, "OpenStackControlPlane", plane,
                                                                     "cloud").get("status") or {}).get("conditions"),
                                                      "SpecValid") or {}).get("message") or ""),
             timeout=60, interval=1, what="the release refused")
    assert child(kube, plane, "Nova")["spec"]["release"] == "2026.1", "nothing moved"

    since = datetime.now(timezone.utc).replace(microsecond=0)
    patch(kube, plane, {"release": "2026.2", "keystone": {"version": None}, "placement": {"version": None},
                        "glance": {"version": None}})
    overlaps = []
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline and not plane_ready(kube, plane, operator):
        moving = [kind for kind in order
                  if ((child(kube, plane, kind).get("status") or {}).get("upgrade") or {}).get("state")
                  in ("Running", "Paused", "Failed")]
        if len(moving) > 1:
            overlaps.append(moving)
        time.sleep(0.5)
    assert plane_ready(kube, plane, operator), "the plane did not reach Ready at 2026.2"
    assert overlaps == []
    # From the services' Events: each one started only after the one before it was done.
    started, done = {}, {}
    for event in kube.core.list_namespaced_event(plane, field_selector="reason=UpgradeStep").items:
        if "2026.1 -> 2026.2" not in event.message:
            continue
        kind, at = event.involved_object.kind, event.first_timestamp or event.event_time
        if at < since:  # keystone's and placement's own upgrades, earlier
            continue
        if "started" in event.message:
            started[kind] = min(started.get(kind, at), at)
        done[kind] = max(done.get(kind, at), at)
    moved = [kind for kind in order if kind in started]
    assert {"Memcached", "Glance", "Cinder", "Neutron", "Nova", "Horizon"} <= set(moved)
    for before, after in zip(moved, moved[1:]):
        assert started[after] >= done[before], f"{after} started before {before} was done"
    for kind in order:
        assert child(kube, plane, kind)["status"]["version"] == "2026.2", kind
    assert kube.kube.get(API_VERSION, "OpenStackControlPlane", plane, "cloud")["status"]["release"] == "2026.2"
