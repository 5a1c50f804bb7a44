"""Names of Services in the cluster's DNS.

Most clients resolve `<service>.<namespace>.svc` through the pod's search domains. HAProxy's
runtime resolvers do not apply search domains, so what they re-resolve must be fully qualified:
that needs the cluster's domain, an operator setting (`--cluster-domain`, the chart's
`clusterDomain`), cluster.local unless the cluster was set up otherwise.
"""

from __future__ import annotations

DEFAULT_CLUSTER_DOMAIN = "cluster.local"
_cluster_domain = DEFAULT_CLUSTER_DOMAIN


def set_cluster_domain(domain: str) -> None:
    global _cluster_domain
    _cluster_domain = domain.strip(".")


def fully_qualified(name: str) -> str:
    """`<name>.<cluster domain>` for a `*.svc` name: one that needs no search domain."""
    return f"{name}.{_cluster_domain}"
