"""etcd: the state store of the Galera agents (member reports, the writer lease) and of cinder's
coordination.

Three members by default, each with a stable peer name (`<instance>-etcd-<n>.<peers service>`)
and a persistent volume, so a member that moves to another node keeps its identity and data.
Placement is not dedicated by default: etcd is small, and a member per database node is fine.
An etcd outside Kubernetes can be used instead (`external`): nothing is deployed then, and the
resource only publishes the endpoints and the client Secret.
"""

from __future__ import annotations

from .base import InfrastructureDefinition

DEFINITION = InfrastructureDefinition(
    kind="Etcd", plural="etcds", short_names=("ccpetcd",), default_replicas=3,
    description="An etcd cluster for the Galera agents and cinder's coordination, or an external one.")
CLIENT_PORT = 2379
PEER_PORT = 2380
METRICS_PORT = 2381
DEFAULT_STORAGE = "10Gi"
CPU, MEMORY = "500m", "1Gi"
# A full backend stops every write: keep well above what member reports and leases ever need.
QUOTA_BACKEND_BYTES = 2 * 1024**3
DATA_DIR = "/var/lib/etcd"
# The keys of an external etcd's client Secret (the kubernetes.io/tls layout plus the CA).
CLIENT_SECRET_KEYS = ("ca.crt", "tls.crt", "tls.key")

def command(*, instance: str, namespace: str, peers_service: str, replicas: int) -> list[str]:
    """The member's etcd command line; $(POD_NAME) is expanded by the kubelet."""
    def peer(i: int) -> str:
        return f"{instance}-etcd-{i}.{peers_service}.{namespace}.svc"

    own = f"$(POD_NAME).{peers_service}.{namespace}.svc"
    initial = ",".join(f"{instance}-etcd-{i}=http://{peer(i)}:{PEER_PORT}" for i in range(replicas))
    return [
        "/usr/local/bin/etcd",
        "--name=$(POD_NAME)",
        f"--data-dir={DATA_DIR}/data",
        f"--listen-client-urls=http://0.0.0.0:{CLIENT_PORT}",
        f"--advertise-client-urls=http://{own}:{CLIENT_PORT}",
        f"--listen-peer-urls=http://0.0.0.0:{PEER_PORT}",
        f"--initial-advertise-peer-urls=http://{own}:{PEER_PORT}",
        f"--listen-metrics-urls=http://0.0.0.0:{METRICS_PORT}",
        f"--initial-cluster={initial}",
        "--initial-cluster-state=new",
        f"--initial-cluster-token={namespace}-{instance}-etcd",
        "--auto-compaction-mode=periodic",
        "--auto-compaction-retention=1h",
        f"--quota-backend-bytes={QUOTA_BACKEND_BYTES}",
    ]
