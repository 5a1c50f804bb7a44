"""Whole passes of the service reconciler against the fake API server: every service of the
catalog goes through its steps to Ready, publishes its endpoint, and a pass over an unchanged
resource sends no write request."""

from __future__ import annotations

import pytest

from ccp_operator import conditions, endpoints, secrets
from ccp_operator.api import API_VERSION
from ccp_operator.errors import Waiting
from ccp_operator.reconcile import status as status_writer
from ccp_operator.reconcile.ceph_objects import client_files
from ccp_operator.reconcile.service import ServiceReconciler
from ccp_operator.services import catalog, ceph
from ccp_operator.services.base import CACHE_SERVERS, IDENTITY
from ccp_operator.workloads import JOB_STEP_LABEL
from support.fake_kube import FakeKube
from support.rendering import CEPH_CONF, CEPH_KEY, CREDENTIALS, ENDPOINTS, INSTANCE, NAMESPACE

MAX_PASSES = 40


def secret(name: str, values: dict[str, str]) -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": NAMESPACE},
            "stringData": values}


def ready_provider(kind: str) -> dict:
    endpoint = dict(ENDPOINTS[kind])
    if kind == "RabbitMQ":
        endpoint["userSecrets"] = {d.name: f"{INSTANCE}-rabbitmq-user-{d.name}" for d in catalog.SERVICES}
    return {"apiVersion": API_VERSION, "kind": kind, "metadata": {"name": INSTANCE, "namespace": NAMESPACE},
            "spec": {}, "status": {"observedGeneration": 1, "endpoint": endpoint, "conditions": conditions.merge(
                None, [conditions.Condition("Ready", True, "Ready")], 1)}}


def cloud(definition) -> FakeKube:
    """Every provider Ready, the infrastructure's Secrets there, and the service's generated
    credentials fixed (so that the rendered files, and the hashes, are the same at every run)."""
    objects = [ready_provider(kind) for kind in ENDPOINTS]
    objects += [secret(f"{INSTANCE}-rabbitmq-user-{d.name}", {"password": f"{d.name}-rabbit"})
                for d in catalog.SERVICES]
    uuid = ENDPOINTS["Ceph"]["libvirtSecretUUID"]
    objects += [secret(f"{INSTANCE}-ceph-client-{user}", client_files(
        user, {"conf": CEPH_CONF, "user": user, "key": CEPH_KEY}, {"uuid": uuid})) for user in ceph.CLIENTS]
    objects.append(secret("cloud-keystone-credentials", {"admin-password": CREDENTIALS["admin-password"]}))
    keys = [*definition.passwords, "database-password", "keystone-password"]
    own = f"{INSTANCE}-{definition.name}-credentials"
    if own != "cloud-keystone-credentials":
        objects.append(secret(own, {key: f"{definition.name}-{key}" for key in keys}))
    else:
        objects[-1]["stringData"].update({key: f"keystone-{key}" for key in keys if key != "admin-password"})
    for repo in definition.key_repositories:
        objects.append(secret(f"{INSTANCE}-{definition.name}-{repo.name}",
                              {str(i): f"{repo.name}-{i:02d}".ljust(43, "x") + "=" for i in range(repo.count)}))
    objects += [secret(f"{INSTANCE}-{name}", {"value": f"{name}-shared"}) for name in definition.shared_secrets]
    objects.append({"apiVersion": API_VERSION, "kind": definition.kind,
                    "metadata": {"name": INSTANCE, "namespace": NAMESPACE}, "spec": {"release": "2026.1"}})
    return FakeKube(objects)


def finish_what_runs(kube: FakeKube) -> None:
    """What the cluster does meanwhile: Jobs succeed, workloads roll out."""
    for path, obj in list(kube.objects.items()):
        if obj["kind"] == "Job" and not (obj.get("status") or {}).get("succeeded"):
            kube.put({**obj, "status": {"succeeded": 1}})
        elif obj["kind"] == "DaemonSet":
            nodes = 2  # the node set's nodes
            kube.put({**obj, "status": {
                "observedGeneration": obj["metadata"]["generation"], "desiredNumberScheduled": nodes,
                "currentNumberScheduled": nodes, "updatedNumberScheduled": nodes, "numberReady": nodes,
                "numberAvailable": nodes}})
        elif obj["kind"] in ("Deployment", "StatefulSet"):
            replicas = obj["spec"].get("replicas", 1)
            kube.put({**obj, "status": {
                "observedGeneration": obj["metadata"]["generation"], "replicas": replicas,
                "updatedReplicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas,
                "currentRevision": "r1", "updateRevision": "r1"}})


def drive(kube: FakeKube, kind: str, make) -> tuple:
    """Passes of `make(kube, body)`'s reconciler as the handler runs them, the status written after
    each, until one completes: (the reconciler, its outcome)."""
    for _ in range(MAX_PASSES):
        body = kube.get(API_VERSION, kind, NAMESPACE, INSTANCE)
        reconciler = make(kube, body)
        result = reconciler.run()
        status_writer.write(kube, body, result.status)
        if result.stopped is not None:
            assert isinstance(result.stopped, Waiting), result.stopped
            finish_what_runs(kube)
            continue
        return reconciler, result.outcome
    raise AssertionError(f"{kind} not Ready after {MAX_PASSES} passes")


def ready_with(definition, spec: dict) -> FakeKube:
    """A cloud where the service's resource, with `spec` merged into its own, reached Ready."""
    kube = cloud(definition)
    body = kube.get(API_VERSION, definition.kind, NAMESPACE, INSTANCE)
    body["spec"].update(spec)
    kube.put(body)
    drive_to_ready(kube, definition)
    return kube


def drive_to_ready(kube: FakeKube, definition):
    return drive(kube, definition.kind, lambda kube, body: ServiceReconciler(kube, definition, body))


def one_job(kube: FakeKube, step: str) -> dict:
    """The one Job of a step there is (older versions of a step are deleted)."""
    (job,) = [obj for obj in kube.objects.values()
              if obj["kind"] == "Job" and obj["metadata"]["labels"].get(JOB_STEP_LABEL) == step]
    return job


def job_script(kube: FakeKube, job: dict) -> str:
    secret_name = next(volume["secret"]["secretName"] for volume in job["spec"]["template"]["spec"]["volumes"]
                       if volume["name"] == "config")
    return secrets.decoded(kube.get("v1", "Secret", NAMESPACE, secret_name))["job.sh"]


@pytest.mark.parametrize("definition", catalog.SERVICES, ids=lambda d: d.name)
def test_a_service_reaches_ready_through_its_steps_and_then_writes_nothing(definition):
    kube = cloud(definition)
    reconciler, outcome = drive_to_ready(kube, definition)
    steps = [step.type for step in reconciler.steps]
    checks = [ServiceReconciler._step_condition(check) for check in definition.serving_checks]
    assert steps[0] == "DependenciesReady" and steps[len(steps) - len(checks):] == checks
    assert steps[len(steps) - len(checks) - 1] == "WorkloadsReady"
    assert ("DatabaseReady" in steps) == bool(definition.databases)
    # A catalog entry or a keystone user of its own (the hypervisors') is registered; keystone registers itself.
    assert ("KeystoneRegistered" in steps) == bool((definition.endpoints or definition.keystone_user)
                                                   and definition.publishes != IDENTITY)
    assert set(outcome.components) == {
        f"{component.name}-{node_set.name}" if component.per_node else component.name
        for component in definition.components
        for node_set in (definition.component_node_sets(component, {}) if component.per_node else (None,))}
    if definition.publishes == IDENTITY:
        assert set(outcome.endpoint) == {"internalURL", "publicURL", "region", "adminSecret", "adminPasswordKey"}
    elif definition.publishes == CACHE_SERVERS:
        assert len(outcome.endpoint["servers"]) == definition.components[0].replicas
    elif definition.endpoints:
        assert set(outcome.endpoint["internalURLs"]) == {e.service_type for e in definition.endpoints}
    if outcome.endpoint is not None:
        assert endpoints.check(endpoints.SERVICES[definition.publishes], outcome.endpoint) == []
    kube.requests.clear()
    body = kube.get(API_VERSION, definition.kind, NAMESPACE, INSTANCE)
    ServiceReconciler(kube, definition, body).reconcile()
    assert kube.writes() == [], "a pass over an unchanged resource wrote"


def test_cinders_serving_check_proves_volumes_and_backups_are_placed_and_runs_again_on_a_new_rollout():
    definition = catalog.BY_KIND["Cinder"]
    kube = cloud(definition)
    drive_to_ready(kube, definition)
    check = one_job(kube, "backends-known")
    script = job_script(kube, check)
    assert "storage.backend_pools()" in script and '"ccp-serving-check", "rbd-1"' in script
    assert "storage.create_backup(" in script
    env = {e["name"]: e for e in check["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["OS_USERNAME"]["value"] == "admin" and "CHECKED_ROLLOUT" in env
    body = kube.get(API_VERSION, "Cinder", NAMESPACE, INSTANCE)
    body["spec"]["debug"] = True  # another cinder.conf: every workload rolls
    kube.put(body)
    drive_to_ready(kube, definition)
    again = one_job(kube, "backends-known")
    assert again["metadata"]["name"] != check["metadata"]["name"]


def test_heats_stack_domain_step_runs_the_cli_as_keystones_admin_with_the_domain_admins_password():
    definition = catalog.BY_KIND["Heat"]
    kube = cloud(definition)
    reconciler, _ = drive_to_ready(kube, definition)
    steps = [step.type for step in reconciler.steps]
    # After its database schema, before its own service user and catalog entries.
    assert steps.index("DbSyncComplete") < steps.index("StackDomainComplete") < steps.index("KeystoneRegistered")
    job = next(obj for obj in kube.objects.values()
               if obj["kind"] == "Job" and "-heat-stack-domain-" in obj["metadata"]["name"])
    env = {var["name"]: var for var in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["OS_AUTH_URL"]["value"] == ENDPOINTS["Keystone"]["internalURL"]
    assert env["OS_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "cloud-keystone-credentials",
                                                               "key": "admin-password"}
    assert env["DOMAIN_ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "cloud-heat-credentials",
                                                                         "key": "domain-admin-password"}
