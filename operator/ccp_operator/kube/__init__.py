"""Access to the Kubernetes API for the operator's reconcilers."""

from __future__ import annotations

import functools

import kubernetes

from .client import Kube


def connect(timeout: tuple[float, float] | None = None, pool_size: int | None = None) -> Kube:
    """A client with connections of its own, to the cluster the operator runs in or the one
    $KUBECONFIG names."""
    configuration = kubernetes.client.Configuration()
    try:
        kubernetes.config.load_incluster_config(client_configuration=configuration)
    except kubernetes.config.ConfigException:
        kubernetes.config.load_kube_config(client_configuration=configuration)
    if pool_size:
        configuration.connection_pool_maxsize = pool_size
    return Kube(kubernetes.client.ApiClient(configuration), **({"timeout": timeout} if timeout else {}))


@functools.cache
def default_kube() -> Kube:
    """The reconcilers' shared client (kopf runs up to 16 handlers at once)."""
    return connect(pool_size=32)
