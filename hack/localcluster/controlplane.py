"""Apply a control plane to a local cluster and watch it come up (the demo, the benchmarks and
the ra-1000 test use this)."""

from __future__ import annotations

import subprocess
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable

import yaml

from ccp_operator import conditions
from ccp_operator.api import API_VERSION
from ccp_operator.api.kinds import register_api_types
from ccp_operator.kube.client import Kube

from .cluster import LocalCluster, tools_bin_dir

register_api_types()


def kubectl(cluster: LocalCluster, *args: str, stdin: str | None = None) -> str:
    return subprocess.run([str(tools_bin_dir() / "kubectl"), "--kubeconfig", str(cluster.kubeconfig), *args],
                          input=stdin, capture_output=True, text=True, check=True, timeout=300).stdout


def apply_plane(cluster: LocalCluster, manifest: Path) -> dict[str, Any]:
    body = yaml.safe_load(manifest.read_text())
    namespace = body["metadata"]["namespace"]
    if namespace not in kubectl(cluster, "get", "namespaces", "-o", "name"):
        kubectl(cluster, "create", "namespace", namespace)
    kubectl(cluster, "apply", "-f", str(manifest))
    return body


def plane_state(kube: Kube, namespace: str, name: str) -> dict[str, Any]:
    body = kube.get(API_VERSION, "OpenStackControlPlane", namespace, name) or {}
    status = body.get("status") or {}
    ready = conditions.find(status.get("conditions"), conditions.READY) or {}
    return {
        "ready": ready.get("status") == "True" and status.get("observedGeneration") == body["metadata"]["generation"],
        "services": status.get("servicesReady", "?"),
        "message": ready.get("message", ""),
    }


def wait_plane_ready(kube: Kube, namespace: str, name: str, timeout: float,
                     progress: Callable[[str], None] = print, every: float = 10.0) -> float:
    """Waits until the control plane is Ready, reporting its progress; returns the seconds taken."""
    start = time.monotonic()
    last_report = -every
    while True:
        state = plane_state(kube, namespace, name)
        elapsed = time.monotonic() - start
        if state["ready"]:
            progress(f"  {elapsed:6.0f}s  Ready: {state['services']} services")
            return elapsed
        if elapsed - last_report >= every:
            progress(f"  {elapsed:6.0f}s  {state['services']} services Ready; {state['message'][:110]}")
            last_report = elapsed
        if elapsed > timeout:
            raise TimeoutError(f"control plane not Ready after {timeout:.0f}s: {state['message']}")
        time.sleep(2)


def placement_table(kube: Kube, namespace: str) -> str:
    """Every component: ready/desired replicas, dedicated or not, and the nodes its pods run on."""
    pods_by_owner: dict[str, list[str]] = defaultdict(list)
    for pod in kube.list("v1", "Pod", namespace):
        labels = pod["metadata"].get("labels", {})
        component = labels.get("app.kubernetes.io/component")
        if component and pod["spec"].get("nodeName") and pod.get("status", {}).get("phase") == "Running":
            pods_by_owner[component].append(pod["spec"]["nodeName"])
    rows = [("SERVICE", "COMPONENT", "READY", "DEDICATED", "NODES")]
    for kind in ("StatefulSet", "Deployment"):
        for workload in sorted(kube.list("apps/v1", kind, namespace), key=lambda w: w["metadata"]["name"]):
            labels = workload["metadata"]["labels"]
            component = labels["app.kubernetes.io/component"]
            template_labels = workload["spec"]["template"]["metadata"]["labels"]
            dedicated = "yes" if template_labels.get("ccp.openstack.org/dedicated") == "true" else "no"
            ready = f"{workload.get('status', {}).get('readyReplicas', 0)}/{workload['spec']['replicas']}"
            nodes = ",".join(sorted(pods_by_owner.get(component, [])))
            rows.append((labels["app.kubernetes.io/name"], component, ready, dedicated, nodes))
    # Per-node components: one pod on each node of their node set, too many nodes to name.
    for workload in sorted(kube.list("apps/v1", "DaemonSet", namespace), key=lambda w: w["metadata"]["name"]):
        labels, status = workload["metadata"]["labels"], workload.get("status", {})
        node_set = labels.get("ccp.openstack.org/node-set", "")
        ready = f"{status.get('numberReady', 0)}/{status.get('desiredNumberScheduled', 0)}"
        rows.append((labels["app.kubernetes.io/name"], labels["app.kubernetes.io/component"], ready, "per node",
                     f"every node of node set {node_set}"))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join("  ".join([*(cell.ljust(w) for cell, w in zip(row[:4], widths)), row[4]]) for row in rows)
