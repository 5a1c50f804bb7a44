"""The chart on the real API server: it lints, every manifest it renders passes a server-side dry
run (the monitoring ones against the Prometheus operator's own CRDs), and a namespace-scoped
install is all the operator needs: run with that release's ServiceAccount token, it brings the
small example to Ready, while the same token is refused what the operator never does.

(Every other integration test runs the operator with the cluster-wide install's token.)"""

from __future__ import annotations

import copy
import json
import subprocess
import uuid
from pathlib import Path

import pytest
import yaml

from ccp_operator import conditions
from ccp_operator.api import API_VERSION
from localcluster import tools_bin_dir
from localcluster.cluster import monitoring_crds_dir
from localcluster.operator import CHART, NAMESPACE, SERVICE_ACCOUNT, helm, install_chart, service_account_kubeconfig
from support.chart import render_text
from support.operator_process import OperatorProcess
from support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = yaml.safe_load((ROOT / "examples" / "controlplane-small.yaml").read_text())
MONITORING_CRDS = ("servicemonitors.monitoring.coreos.com", "prometheusrules.monitoring.coreos.com")
NAMESPACED_RELEASE = "openstack-ccp-operator-scoped"  # contains the chart's name: objects take this name


def kubectl_as(kubeconfig: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(tools_bin_dir() / "kubectl"), "--kubeconfig", str(kubeconfig), *args],
                          input=stdin, capture_output=True, text=True, timeout=60)


def refused(kubeconfig: Path, *args: str, stdin: str | None = None) -> bool:
    done = kubectl_as(kubeconfig, *args, stdin=stdin)
    return done.returncode != 0 and "forbidden" in done.stderr.lower()


@pytest.fixture(scope="module")
def monitoring_api(kube):
    """The Prometheus operator's CRDs, as a cluster with monitoring has them."""
    kube.kubectl("apply", "--server-side", "-f", str(monitoring_crds_dir()))

    def established() -> bool:
        done = kube.kubectl("get", "crd", *MONITORING_CRDS, "-o", "json", check=False)
        crds = json.loads(done.stdout)["items"] if done.returncode == 0 else []
        return len(crds) == len(MONITORING_CRDS) and all(
            conditions.is_true(crd.get("status", {}).get("conditions"), "Established") for crd in crds)

    wait_for(established, timeout=180, what="the monitoring CRDs Established")


def test_chart_lints(kube):
    done = subprocess.run([str(tools_bin_dir() / "helm"), "lint", "--strict", str(CHART)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("values", [
    [],
    ["--set-json", 'watchNamespaces=["tenant-a","tenant-b"]', "--set", "crds.install=false"],
    ["--set", "replicas=1", "--set", "metrics.serviceMonitor.enabled=false"],
], ids=["cluster-wide", "namespaced", "single-replica"])
def test_rendered_manifests_pass_a_server_side_dry_run(kube, monitoring_api, namespace, values):
    rendered = render_text("--api-versions", "monitoring.coreos.com/v1", *values, release="dry", namespace=namespace)
    kinds = {doc["kind"] for doc in yaml.safe_load_all(rendered) if doc}
    assert {"Deployment", "ServiceAccount", "Service", "Role", "RoleBinding", "PrometheusRule"} <= kinds
    for tenant in ("tenant-a", "tenant-b"):
        if tenant in " ".join(values):
            kube.kubectl("create", "namespace", tenant, check=False)
    # Server-side apply, forced: the CRDs exist (installed by the session's release) and are big.
    done = kube.kubectl("apply", "--dry-run=server", "--server-side", "--force-conflicts", "-f", "-",
                        stdin=rendered, check=False)
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.strip().splitlines()) == len([doc for doc in yaml.safe_load_all(rendered) if doc])


def test_the_cluster_wide_token_is_refused_what_the_operator_never_does(kube, operator, tmp_path):
    token = service_account_kubeconfig(kube.kubeconfig, tmp_path / "sa.kubeconfig")
    node = kube.core.list_node(limit=1).items[0].metadata.name
    assert refused(token, "delete", "node", node)
    assert refused(token, "get", "nodes")
    assert refused(token, "delete", "secret", "anything", "-n", NAMESPACE)  # never deletes a Secret
    assert refused(token, "delete", "persistentvolumeclaims", "--all", "-n", NAMESPACE)  # nor a volume
    assert refused(token, "run", "probe", "--image=busybox", "-n", NAMESPACE)  # never makes pods itself
    assert refused(token, "create", "clusterrolebinding", "escalate", "--clusterrole=cluster-admin",
                   f"--serviceaccount={NAMESPACE}:{SERVICE_ACCOUNT}")
    # It binds the roles of RabbitMQ's brokers, never one granting more than it holds.
    assert refused(token, "create", "rolebinding", "escalate", "--clusterrole=cluster-admin",
                   f"--serviceaccount={NAMESPACE}:{SERVICE_ACCOUNT}", "-n", NAMESPACE)
    assert refused(token, "create", "role", "escalate", "--verb=list", "--resource=secrets", "-n", NAMESPACE)
    assert refused(token, "get", "customresourcedefinitions")
    assert refused(token, "delete", "namespace", NAMESPACE)
    assert refused(token, "get", "secrets", "-n", NAMESPACE)  # it reads Secrets by name, never lists them
    # What it does use works with the same token (the refusals above are RBAC, not a broken token).
    kube.kubectl("create", "secret", "generic", "readable", "-n", NAMESPACE, "--from-literal=k=v")
    try:
        assert kubectl_as(token, "get", "secret", "readable", "-n", NAMESPACE).returncode == 0
    finally:
        kube.kubectl("delete", "secret", "readable", "-n", NAMESPACE)


def test_a_namespaced_install_reconciles_the_small_example_with_its_roles_alone(kube, operator, tmp_path):
    plane, release_namespace = f"scoped-{uuid.uuid4().hex[:6]}", f"ccp-{uuid.uuid4().hex[:6]}"
    other = f"other-{uuid.uuid4().hex[:6]}"
    for name in (plane, other):
        kube.core.create_namespace({"metadata": {"name": name}})
    kube.kubectl("create", "secret", "generic", "not-yours", "-n", other, "--from-literal=password=x")
    operator.stop()  # the cluster-wide operator would reconcile the plane too
    scoped = None
    try:
        install_chart(kube.kubeconfig, {"watchNamespaces": [plane], "crds": {"install": False}},
                      release=NAMESPACED_RELEASE, namespace=release_namespace)
        assert not kube.kubectl("get", "clusterroles,clusterrolebindings", "-o", "name", "-l",
                                f"app.kubernetes.io/instance={NAMESPACED_RELEASE}").stdout.strip()
        token = service_account_kubeconfig(kube.kubeconfig, tmp_path / "scoped.kubeconfig",
                                           namespace=release_namespace, service_account=NAMESPACED_RELEASE)
        scoped = OperatorProcess(token, tmp_path / "scoped.log", f"--namespace={plane}",
                                 lease_namespace=release_namespace, lease=f"{NAMESPACED_RELEASE}-leader")
        scoped.start()
        scoped.wait_active()

        body = copy.deepcopy(EXAMPLE)
        body["metadata"]["namespace"] = plane
        kube.kubectl("apply", "-f", "-", stdin=yaml.safe_dump(body))

        def ready():
            assert scoped.running, f"the operator exited:\n{scoped.log_tail()}"
            current = kube.kube.get(API_VERSION, "OpenStackControlPlane", plane, body["metadata"]["name"])
            status = (current or {}).get("status") or {}
            return (conditions.is_true(status.get("conditions"))
                    and status.get("observedGeneration") == current["metadata"]["generation"])
        wait_for(ready, timeout=420, interval=2, what="the small example Ready under the namespaced install")
        log = scoped.log_path.read_text(errors="replace")
        # A refusal is logged as "API error 403: ... is forbidden: ..." (a bare "403" may be a timestamp).
        assert "API error 403" not in log and "forbidden" not in log.lower(), scoped.log_tail()

        assert refused(token, "get", "secrets", "-n", other)
        assert refused(token, "get", "secret", "not-yours", "-n", other)
        assert refused(token, "get", "openstackcontrolplanes", "-A")
        assert refused(token, "get", "nodes")
        assert refused(token, "delete", "secret", "--all", "-n", plane)
        assert kubectl_as(token, "get", "openstackcontrolplane", body["metadata"]["name"], "-n", plane).returncode == 0
    finally:
        if scoped:
            scoped.stop()
        helm(kube.kubeconfig, "uninstall", NAMESPACED_RELEASE, "--namespace", release_namespace, "--wait")
        for name in (plane, other, release_namespace):
            kube.core.delete_namespace(name)
        operator.start()
        operator.wait_active()
