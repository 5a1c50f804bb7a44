"""Access to the Kubernetes API for the operator's reconcilers."""

from __future__ import annotations

import functools
from typing import Callable

import kubernetes

from .client import Kube

_write_check: Callable[[], None] | None = None


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


def guard_writes(check: Callable[[], None]) -> None:
    """From now on every write, the reconcilers' and kopf's own, calls `check` first (the leader
    election's: it ends the process when this replica can no longer vouch for its Lease)."""
    global _write_check
    _write_check = check
    default_kube().before_write = check


def write_check() -> Callable[[], None] | None:
    return _write_check
