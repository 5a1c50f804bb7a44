"""The local cluster: pinned real programs, profile nodes with role labels, idempotent up, clean down."""

import os
import subprocess
import shutil

import pytest
from kubernetes import client

from localcluster import LocalCluster, nodes, tools_bin_dir
from localcluster.cluster import COMPONENTS
from localcluster.processes import is_alive

VERSIONS = {
    name: value.split(":-", 1)[1].rstrip("}")
    for name, value in (line.split("=", 1) for line in
                        open(os.path.join(os.path.dirname(__file__), "../../hack/versions.env")).read().splitlines()
                        if line and not line.startswith("#"))
}


def test_apiserver_reports_the_pinned_release(kube):
    out = subprocess.run([str(tools_bin_dir() / "kube-apiserver"), "--version"],
                         check=True, capture_output=True, text=True).stdout
    assert out.strip() == f"Kubernetes {VERSIONS['KUBERNETES_VERSION']}"
    assert client.VersionApi(kube.api_client).get_code().git_version == VERSIONS["KUBERNETES_VERSION"]


def test_kubectl_lists_the_profile_nodes_ready_with_role_labels(kube):
    out = subprocess.run([str(tools_bin_dir() / "kubectl"), "--kubeconfig", str(kube.kubeconfig),
                          "get", "nodes", "-l", "openstack-control-plane=enabled", "--no-headers"],
                         check=True, capture_output=True, text=True).stdout
    rows = [line.split() for line in out.splitlines()]
    expected = [n for n in nodes.load_profile("small").nodes
                if n["metadata"]["labels"].get("openstack-control-plane") == "enabled"]
    assert len(rows) == len(expected)
    assert all(row[1] == "Ready" for row in rows)


def test_rbac_is_enforced(kube, namespace):
    """A service account with no role binding is refused: authorization is really RBAC."""
    kube.core.create_namespaced_service_account(namespace, {"metadata": {"name": "nobody"}})
    out = subprocess.run([str(tools_bin_dir() / "kubectl"), "--kubeconfig", str(kube.kubeconfig),
                          "auth", "can-i", "list", "nodes", f"--as=system:serviceaccount:{namespace}:nobody"],
                         capture_output=True, text=True)
    assert out.stdout.strip() == "no"


def test_second_up_is_harmless_and_down_stops_only_its_own_processes(tmp_path):
    cluster = LocalCluster(tmp_path / "state", progress=lambda _: None)
    bystander = subprocess.Popen([shutil.which("sleep"), "300"])
    try:
        cluster.up("small", timeout=180)
        first = cluster.processes.records()
        assert set(first) == set(COMPONENTS)
        cluster.up("small", timeout=60)
        assert cluster.processes.records() == first, "a second up restarted processes"
        assert len(nodes.node_summaries(cluster.core_api())) == len(nodes.load_profile("small").nodes)
    finally:
        records = cluster.processes.records()
        stopped = cluster.down()
    assert sorted(stopped) == sorted(COMPONENTS)
    assert not any(is_alive(r) for r in records.values())
    assert not (tmp_path / "state").exists()
    assert bystander.poll() is None, "down touched a process it did not start"
    bystander.kill()
    bystander.wait()


def test_up_reports_a_component_that_dies_with_its_log(tmp_path, monkeypatch):
    cluster = LocalCluster(tmp_path / "state", progress=lambda _: None)
    real_argv = cluster._argv
    monkeypatch.setattr(cluster, "_argv", lambda name: real_argv(name) + (
        ["--no-such-flag"] if name == "etcd" else []))
    try:
        with pytest.raises(Exception, match="etcd exited during start-up"):
            cluster.up("small", timeout=30)
    finally:
        cluster.down()
