"""Access to the Kubernetes API for the operator's reconcilers."""

from __future__ import annotations

import functools

import kubernetes

from .client import Kube


@functools.cache
def default_kube() -> Kube:
    """A client for the cluster the operator runs in, or the one $KUBECONFIG names."""
    configuration = kubernetes.client.Configuration()
    try:
        kubernetes.config.load_incluster_config(client_configuration=configuration)
    except kubernetes.config.ConfigException:
        kubernetes.config.load_kube_config(client_configuration=configuration)
    configuration.connection_pool_maxsize = 32
    return Kube(kubernetes.client.ApiClient(configuration))
