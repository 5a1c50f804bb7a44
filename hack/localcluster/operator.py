"""The operator as users install it: the chart by `helm install`.

On a cluster with a real node, the chart's Deployment runs the operator's image (built here and
loaded into the node) as real pods on that node. On a KWOK-only cluster the chart's pods are
KWOK's and run nothing: the operator process is then started beside the cluster with the chart's
ServiceAccount credentials (a token from the TokenRequest API) and the same arguments the chart
gives its pods, so that the chart's RBAC is exactly what it runs with.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client, config

from . import images
from .cluster import ClusterError, LocalCluster, free_port, tools_bin_dir

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "openstack-ccp-operator"
RELEASE = "openstack-ccp-operator"  # contains the chart's name: objects are named after it alone
NAMESPACE = "ccp-system"
SERVICE_ACCOUNT = RELEASE
LEASE = f"{RELEASE}-leader"
USER = f"system:serviceaccount:{NAMESPACE}:{SERVICE_ACCOUNT}"
PROCESS = "ccp-operator"
TOKEN_SECONDS = 24 * 3600


def helm(kubeconfig: Path, *args: str, timeout: float = 300) -> str:
    done = subprocess.run([str(tools_bin_dir() / "helm"), "--kubeconfig", str(kubeconfig), *args],
                          capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise ClusterError(f"helm {' '.join(args[:2])} failed: {done.stderr.strip()}\n{done.stdout[-3000:]}")
    return done.stdout


def install_chart(kubeconfig: Path, values: dict[str, Any] | None = None, release: str = RELEASE,
                  namespace: str = NAMESPACE) -> None:
    """`helm upgrade --install` of the chart; returns once its CRDs are established."""
    settings = [f"--set-json={key}={json.dumps(value)}" for key, value in (values or {}).items()]
    helm(kubeconfig, "upgrade", "--install", release, str(CHART), "--namespace", namespace, "--create-namespace",
         "--wait", "--timeout", "180s", *settings)
    subprocess.run([str(tools_bin_dir() / "kubectl"), "--kubeconfig", str(kubeconfig), "wait",
                    "--for=condition=Established", "crd", "-l", "app.kubernetes.io/part-of=openstack-ccp-operator",
                    "--timeout=60s"], capture_output=True, text=True, check=True, timeout=90)


def service_account_kubeconfig(admin_kubeconfig: Path, path: Path, namespace: str = NAMESPACE,
                               service_account: str = SERVICE_ACCOUNT, seconds: int = TOKEN_SECONDS) -> Path:
    """A kubeconfig holding a fresh token of the ServiceAccount (each call a token of its own)."""
    admin = yaml.safe_load(admin_kubeconfig.read_text())
    configuration = client.Configuration()
    config.load_kube_config(str(admin_kubeconfig), client_configuration=configuration)
    core = client.CoreV1Api(client.ApiClient(configuration))
    request = core.create_namespaced_service_account_token(
        service_account, namespace, {"spec": {"expirationSeconds": seconds}})
    user = f"{namespace}:{service_account}"
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config",
        "clusters": admin["clusters"],
        "users": [{"name": user, "user": {"token": request.status.token}}],
        "contexts": [{"name": user, "context": {"cluster": admin["clusters"][0]["name"], "user": user,
                                                "namespace": namespace}}],
        "current-context": user,
    }, sort_keys=False))
    path.chmod(0o600)
    return path


def operator_argv(http_port: int, *extra: str, lease_namespace: str = NAMESPACE, lease: str = LEASE) -> list[str]:
    """The chart's arguments for its container, with the probes and metrics on a loopback port."""
    return [sys.executable, "-m", "ccp_operator", "--leader-election", f"--lease-namespace={lease_namespace}",
            f"--lease-name={lease}", f"--http-address=127.0.0.1:{http_port}", *extra]


def install_and_start(cluster: LocalCluster) -> tuple[int, int]:
    """Installs the chart and starts the operator as one of the cluster's processes (`down` stops
    it); returns its pid and the port of its metrics and probes."""
    install_chart(cluster.kubeconfig)
    port_file = cluster.state_dir / "operator.port"
    if cluster.processes.alive(PROCESS):
        return cluster.processes.records()[PROCESS].pid, int(port_file.read_text())
    kubeconfig = service_account_kubeconfig(cluster.kubeconfig, cluster.state_dir / "operator-sa.kubeconfig")
    port = free_port()
    port_file.write_text(str(port))
    env = ["/usr/bin/env", f"KUBECONFIG={kubeconfig}", "PYTHONUNBUFFERED=1"]
    record = cluster.processes.start(PROCESS, [*env, *operator_argv(port, "--all-namespaces")],
                                     cwd=cluster.state_dir)
    return record.pid, port


def install_in_cluster(cluster: LocalCluster, values: dict[str, Any] | None = None) -> str:
    """Installs the chart with the operator's image built here, its pods on the real node (where
    the image is); returns once they are Ready. Returns the image."""
    node = cluster.real_node()
    if node is None:
        raise ClusterError("the operator runs in-cluster only on a cluster with a real node (up --real-nodes 1)")
    reference, = node.load_images(["operator"])
    repository, tag = reference.rsplit(":", 1)
    install_chart(cluster.kubeconfig, {
        "image": {"repository": repository, "tag": tag, "pullPolicy": "Never"},
        "nodeSelector": {"kubernetes.io/hostname": node.spec.name},
        # A rebuilt image keeps its tag: its id in the pod template rolls the pods onto it.
        "podAnnotations": {"ccp.local/image-id": images.image_id(reference)},
        **(values or {}),
    })
    return f"{repository}:{tag}"
