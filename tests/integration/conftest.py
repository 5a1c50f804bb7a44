"""The integration tests' cluster and operator.

The cluster is the `small` local cluster, brought up once per session; with $KUBECONFIG set,
that cluster is used instead. The operator is installed by its chart, and its process runs with
the chart's ServiceAccount token: every test also proves that the chart's RBAC is enough, and
the API server's audit log tells the operator's writes apart by that user.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from kubernetes import client, config

from localcluster import LocalCluster, tools_bin_dir
from localcluster.cluster import CACHE_ROOT
from localcluster.operator import install_chart, service_account_kubeconfig
from ccp_operator.api.kinds import register_api_types
from ccp_operator.kube.client import Kube
from support.audit import AuditLog
from support.operator_process import OperatorProcess

register_api_types()


@dataclass
class Cluster:
    kubeconfig: Path
    api_client: client.ApiClient
    local: LocalCluster | None

    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api_client)

    @property
    def apps(self) -> client.AppsV1Api:
        return client.AppsV1Api(self.api_client)

    @property
    def kube(self) -> Kube:
        return Kube(self.api_client)

    @property
    def audit(self) -> AuditLog | None:
        return AuditLog(self.local.audit_log) if self.local else None

    def kubectl(self, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([str(tools_bin_dir() / "kubectl"), "--kubeconfig", str(self.kubeconfig), *args],
                              input=stdin, capture_output=True, text=True, timeout=120)
        if check and done.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} exited {done.returncode}: {done.stderr.strip()}")
        return done


def _api_client(path: Path) -> client.ApiClient:
    configuration = client.Configuration()
    config.load_kube_config(str(path), client_configuration=configuration)
    return client.ApiClient(configuration)


@pytest.fixture(scope="session")
def kube():
    if os.environ.get("KUBECONFIG"):
        path = Path(os.environ["KUBECONFIG"])
        yield Cluster(path, _api_client(path), None)
        return
    cluster = LocalCluster(CACHE_ROOT / "test-cluster")
    cluster.up("small")
    try:
        yield Cluster(cluster.kubeconfig, cluster.api_client(), cluster)
    finally:
        cluster.down()


@pytest.fixture(scope="session")
def operator(kube, tmp_path_factory):
    """The operator, installed by its chart (cluster-wide), running for the whole session."""
    install_chart(kube.kubeconfig)
    directory = tmp_path_factory.mktemp("operator")
    process = OperatorProcess(service_account_kubeconfig(kube.kubeconfig, directory / "kubeconfig"),
                              directory / "operator.log")
    process.start()
    process.wait_active()
    yield process
    process.stop()


@pytest.fixture
def namespace(kube):
    """A fresh namespace for one test, deleted afterwards."""
    name = f"test-{uuid.uuid4().hex[:8]}"
    kube.core.create_namespace({"metadata": {"name": name}})
    yield name
    kube.core.delete_namespace(name)
