"""The integration tests' cluster: the `small` local cluster, brought up once per session.

With $KUBECONFIG set, that cluster is used instead and left as it was found.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from kubernetes import client, config

from localcluster import LocalCluster
from localcluster.cluster import CACHE_ROOT


@dataclass
class Kube:
    kubeconfig: Path
    api_client: client.ApiClient
    local: LocalCluster | None

    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api_client)

    @property
    def apps(self) -> client.AppsV1Api:
        return client.AppsV1Api(self.api_client)


@pytest.fixture(scope="session")
def kube():
    if os.environ.get("KUBECONFIG"):
        path = Path(os.environ["KUBECONFIG"])
        configuration = client.Configuration()
        config.load_kube_config(str(path), client_configuration=configuration)
        yield Kube(path, client.ApiClient(configuration), None)
        return
    cluster = LocalCluster(CACHE_ROOT / "test-cluster")
    cluster.up("small")
    try:
        yield Kube(cluster.kubeconfig, cluster.api_client(), cluster)
    finally:
        cluster.down()


@pytest.fixture
def namespace(kube):
    """A fresh namespace for one test, deleted afterwards."""
    name = f"test-{uuid.uuid4().hex[:8]}"
    kube.core.create_namespace({"metadata": {"name": name}})
    yield name
    kube.core.delete_namespace(name)
