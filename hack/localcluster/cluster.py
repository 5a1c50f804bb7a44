"""A local Kubernetes control plane made of the real programs, with kwok for nodes and pods.

etcd, kube-apiserver (RBAC, client certificates, service-account signing keys),
kube-controller-manager, kube-scheduler and the kwok controller run as plain processes on free
127.0.0.1 ports; everything they keep (certificates, etcd data, logs, pids, kubeconfigs) lives in
one state directory, which `down` removes after stopping exactly the processes `up` started.

With real nodes (`up --real-nodes 1`), a kubelet on this machine joins KWOK's nodes and runs its
pods for real (localcluster.realnode); the API server then also listens where those pods reach
it, the node's address behind the `kubernetes` Service.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
import ssl
import subprocess
import time
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Callable

import yaml
from kubernetes import client, config

from . import images, nodes, pki, realnode
from .paths import CACHE_ROOT, tools_bin_dir, tools_dir
from .processes import ProcessTable

COMPONENTS = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"]

# The audit log records who writes what; reads, node heartbeats and leader/node leases would
# drown that, so they are left out.
AUDIT_POLICY = {
    "apiVersion": "audit.k8s.io/v1",
    "kind": "Policy",
    "omitStages": ["RequestReceived"],
    "rules": [
        {"level": "None", "verbs": ["get", "list", "watch"]},
        {"level": "None", "users": ["kwok-controller"]},
        {"level": "None", "resources": [{"group": "coordination.k8s.io", "resources": ["leases"]}]},
        {"level": "Metadata"},
    ],
}


class ClusterError(RuntimeError):
    """The local cluster could not be started or reached."""


def monitoring_crds_dir() -> Path:
    """The Prometheus operator's ServiceMonitor and PrometheusRule CRDs (hack/build-tools.sh)."""
    return (tools_dir() / "monitoring-crds").resolve()


def default_state_dir() -> Path:
    return Path(os.environ.get("CCP_CLUSTER_DIR", CACHE_ROOT / "cluster"))


_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A port free on loopback now, for a listener started later: taken outside the kernel's
    ephemeral range (32768 and up), so that no outgoing connection takes it meanwhile, and never
    handed out twice by this process."""
    while True:
        port = random.randint(20000, 32000)
        if port in _HANDED_OUT:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _HANDED_OUT.add(port)
        return port


@dataclass
class Ports:
    etcd_client: int
    etcd_peer: int
    apiserver: int
    controller_manager: int
    scheduler: int
    kwok: int

    @classmethod
    def allocate(cls) -> "Ports":
        ports: set[int] = set()
        while len(ports) < 6:
            ports.add(free_port())
        return cls(*sorted(ports))


class LocalCluster:
    def __init__(self, state_dir: Path | None = None, progress: Callable[[str], None] = print):
        self.state_dir = (state_dir or default_state_dir()).resolve()
        self.progress = progress
        self.processes = ProcessTable(self.state_dir)
        self._pki = self.state_dir / "pki"

    # -- paths and settings ------------------------------------------------------------------

    @property
    def kubeconfig(self) -> Path:
        """The admin kubeconfig (user ccp-admin in group system:masters)."""
        return self.state_dir / "kubeconfig"

    @property
    def audit_log(self) -> Path:
        """Write requests, one JSON event per line, with the user that sent them."""
        return self.state_dir / "logs" / "audit.log"

    @property
    def _settings_path(self) -> Path:
        return self.state_dir / "cluster.json"

    def ports(self) -> Ports:
        return Ports(**json.loads(self._settings_path.read_text())["ports"])

    def _settings(self) -> dict:
        return json.loads(self._settings_path.read_text()) if self._settings_path.exists() else {}

    @property
    def real_node_count(self) -> int:
        """How many real nodes the cluster was created with (fixed at its first `up`)."""
        return self._settings().get("realNodes", 0)

    def real_node(self) -> realnode.RealNode | None:
        """The cluster's real node, or None for a KWOK-only cluster."""
        settings = self._settings().get("realNode")
        if not settings:
            return None
        spec = realnode.NodeSpec(settings["name"], settings["labels"], settings["volumeCount"], settings["volumeSize"])
        return realnode.RealNode(self.state_dir, spec, self.processes, self._binary, self.progress)

    def _binary(self, name: str) -> str:
        path = tools_bin_dir() / name
        if not path.exists():
            raise ClusterError(f"{path} is missing: run hack/build-tools.sh first")
        return str(path.resolve())

    # -- lifecycle -----------------------------------------------------------------------------

    def running(self) -> dict[str, bool]:
        names = COMPONENTS + (list(realnode.PROCESSES) if self.real_node_count else [])
        return {name: self.processes.alive(name) for name in names}

    def up(self, profile_name: str, timeout: float = 600.0, real_nodes: int = 0) -> nodes.Profile:
        """Starts whatever is not running, creates the profile's nodes and waits until Ready."""
        profile = nodes.load_profile(profile_name)
        if real_nodes not in (0, 1):
            raise ClusterError(f"--real-nodes {real_nodes}: one machine runs at most one real node "
                               "(its kubelet, kube-proxy and bridge are the host's own)")
        if real_nodes and not profile.real_node:
            raise ClusterError(f"profile {profile.name} declares no realNode")
        started = time.monotonic()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if not self._settings_path.exists():
            self._settings_path.write_text(json.dumps(self._new_settings(profile, real_nodes), indent=2))
        elif self.real_node_count != real_nodes:
            raise ClusterError(f"the cluster in {self.state_dir} was created with {self.real_node_count} real "
                               f"node(s), not {real_nodes}: run `ccp-localcluster down` first")
        pki.create(self._pki)
        self._write_configs()
        node = self.real_node()
        if node:
            node.prepare(self.ports().apiserver)
        for name in COMPONENTS:
            if self.processes.alive(name):
                self.progress(f"{name}: already running")
                continue
            step = time.monotonic()
            self.processes.start(name, self._argv(name), cwd=self.state_dir)
            self._wait_healthy(name, timeout=120)
            self.progress(f"{name}: started in {time.monotonic() - step:.1f}s")
        api = self.core_api()
        step = time.monotonic()
        created = nodes.ensure_nodes(self.api_client(), profile)
        self.progress(f"nodes: {created} created for profile {profile.name} in {time.monotonic() - step:.1f}s")
        if node:
            node.start()
        wanted = profile.node_names + ([node.spec.name] if node else [])
        nodes.wait_ready(api, wanted, timeout=timeout, progress=self.progress)
        if node:
            self._real_node_objects(node)
        self.progress(f"cluster up in {time.monotonic() - started:.1f}s; KUBECONFIG={self.kubeconfig}")
        return profile

    def _new_settings(self, profile: nodes.Profile, real_nodes: int) -> dict:
        settings: dict = {"ports": asdict(Ports.allocate()), "realNodes": real_nodes}
        if real_nodes:
            spec = profile.real_node
            volumes = spec.get("localVolumes") or {}
            settings["realNode"] = {"name": "real-0001", "labels": nodes.role_labels(spec["role"], "rack-01"),
                                    "volumeCount": volumes.get("count", 0), "volumeSize": volumes.get("size", "10Gi")}
        return settings

    def _real_node_objects(self, node: realnode.RealNode) -> None:
        """The real node's local volumes and CoreDNS, which then answers for the cluster domain."""
        step = time.monotonic()
        volumes = [nodes.local_volume(node.spec.name, disk, node.spec.volume_size, str(node.volume_path(disk)))
                   for disk in range(node.spec.volume_count)]
        nodes.ensure_volumes(self.api_client(), volumes)
        manifests = realnode.coredns_manifests(images.reference(images.COREDNS), node.spec.name)
        self._kubectl("apply", "--server-side", "--field-manager=ccp-localcluster", "-f", "-",
                      stdin=yaml.safe_dump_all(manifests))
        self._kubectl("-n", "kube-system", "rollout", "status", "deployment/coredns", "--timeout=180s", timeout=200)
        self.progress(f"real node {node.spec.name}: {len(volumes)} volumes, CoreDNS ready in "
                      f"{time.monotonic() - step:.1f}s")

    def _kubectl(self, *args: str, stdin: str | None = None, timeout: float = 120) -> str:
        done = subprocess.run([self._binary("kubectl"), "--kubeconfig", str(self.kubeconfig), *args], input=stdin,
                              capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise ClusterError(f"kubectl {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def down(self) -> list[str]:
        """Stops the processes recorded in the state (and only those), then removes the state.

        Programs started beside the cluster (the operator of the demo) stop first.
        """
        node = self.real_node()
        extras = [name for name in self.processes.records()
                  if name not in COMPONENTS and name not in realnode.PROCESSES]
        stopped = self.processes.stop_all(extras)
        if node:
            stopped += node.teardown()
        stopped += self.processes.stop_all(list(reversed(COMPONENTS)))
        if self.state_dir.exists():
            shutil.rmtree(self.state_dir)
        return stopped

    def core_api(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api_client())

    def api_client(self) -> client.ApiClient:
        configuration = client.Configuration()
        config.load_kube_config(str(self.kubeconfig), client_configuration=configuration)
        configuration.connection_pool_maxsize = 32
        return client.ApiClient(configuration)

    # -- configuration -------------------------------------------------------------------------

    def _write_configs(self) -> None:
        for identity in pki.CLIENT_IDENTITIES:
            path = self.kubeconfig if identity is pki.ADMIN else self.state_dir / f"{identity.name}.kubeconfig"
            pki.write_kubeconfig(path, f"https://127.0.0.1:{self.ports().apiserver}", self._pki, identity)
        (self.state_dir / "audit-policy.yaml").write_text(yaml.safe_dump(AUDIT_POLICY, sort_keys=False))
        (self.state_dir / "kube-scheduler.yaml").write_text(yaml.safe_dump({
            "apiVersion": "kubescheduler.config.k8s.io/v1",
            "kind": "KubeSchedulerConfiguration",
            "clientConnection": {"kubeconfig": str(self.state_dir / "kube-scheduler.kubeconfig"),
                                 "qps": 200, "burst": 400},
            "leaderElection": {"leaderElect": False},
        }))
        shipped = resources.files("localcluster").joinpath("kwok", "kwok.yaml").read_text()
        (self.state_dir / "kwok.yaml").write_text(shipped)

    def _argv(self, name: str) -> list[str]:
        ports, state, pki_dir = self.ports(), self.state_dir, self._pki
        if name == "etcd":
            peer = f"http://127.0.0.1:{ports.etcd_peer}"
            client_url = f"http://127.0.0.1:{ports.etcd_client}"
            return [
                self._binary("etcd"), "--name=local", f"--data-dir={state / 'etcd'}",
                f"--listen-client-urls={client_url}", f"--advertise-client-urls={client_url}",
                f"--listen-peer-urls={peer}", f"--initial-advertise-peer-urls={peer}",
                f"--initial-cluster=local={peer}", "--quota-backend-bytes=8589934592",
                # A throwaway test cluster: durability of each write is not worth an fsync.
                "--unsafe-no-fsync", "--log-level=warn",
            ]
        if name == "kube-apiserver":
            if self.real_node_count:
                # Pods reach it through the `kubernetes` Service at the node's address; kubelets
                # are verified by the cluster CA and asked with a client certificate of its own.
                kubelet_client = pki_dir / pki.KUBELET_CLIENT.name
                listen = ["--bind-address=0.0.0.0", f"--advertise-address={realnode.NODE_IP}",
                          "--endpoint-reconciler-type=lease",
                          f"--kubelet-certificate-authority={pki_dir / 'ca.crt'}",
                          f"--kubelet-client-certificate={kubelet_client}.crt",
                          f"--kubelet-client-key={kubelet_client}.key",
                          "--kubelet-preferred-address-types=InternalIP"]
            else:
                # The endpoint reconciler refuses a loopback address, and no pod runs that could
                # reach the apiserver through the `kubernetes` Service anyway.
                listen = ["--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
                          "--endpoint-reconciler-type=none"]
            return [
                self._binary("kube-apiserver"),
                f"--etcd-servers=http://127.0.0.1:{ports.etcd_client}",
                *listen,
                f"--secure-port={ports.apiserver}",
                f"--tls-cert-file={pki_dir / 'apiserver.crt'}",
                f"--tls-private-key-file={pki_dir / 'apiserver.key'}",
                f"--client-ca-file={pki_dir / 'ca.crt'}",
                # The Node authorizer and NodeRestriction confine each kubelet to its own node.
                "--authorization-mode=Node,RBAC",
                # ServiceAccount is on by default too; named because pods' tokens depend on it.
                "--enable-admission-plugins=ServiceAccount,NodeRestriction",
                f"--service-account-key-file={pki_dir / 'service-account.pub'}",
                f"--service-account-signing-key-file={pki_dir / 'service-account.key'}",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-cluster-ip-range={pki.SERVICE_CLUSTER_IP_RANGE}",
                "--allow-privileged=true", "--profiling=false",
                "--max-requests-inflight=800", "--max-mutating-requests-inflight=400",
                f"--audit-policy-file={state / 'audit-policy.yaml'}", f"--audit-log-path={self.audit_log}",
                "--audit-log-maxsize=200", "--audit-log-maxbackup=2",
            ]
        if name in ("kube-controller-manager", "kube-scheduler"):
            kubeconfig = state / f"{name}.kubeconfig"
            common = [
                f"--authentication-kubeconfig={kubeconfig}", f"--authorization-kubeconfig={kubeconfig}",
                "--bind-address=127.0.0.1",
            ]
            if name == "kube-scheduler":
                return [self._binary(name), f"--config={state / 'kube-scheduler.yaml'}",
                        f"--secure-port={ports.scheduler}", *common]
            return [
                self._binary(name), f"--kubeconfig={kubeconfig}", *common,
                f"--secure-port={ports.controller_manager}", "--leader-elect=false",
                f"--root-ca-file={pki_dir / 'ca.crt'}",
                f"--service-account-private-key-file={pki_dir / 'service-account.key'}",
                "--use-service-account-credentials=true",
                f"--cluster-signing-cert-file={pki_dir / 'ca.crt'}",
                f"--cluster-signing-key-file={pki_dir / 'ca.key'}",
                "--kube-api-qps=200", "--kube-api-burst=400",
                # kwok renews the fake nodes' 240 s leases every 60 s (kwok.yaml).
                "--node-monitor-grace-period=180s",
            ]
        if name == "kwok":
            return [
                self._binary("kwok"), f"--kubeconfig={state / 'kwok.kubeconfig'}",
                f"--config={state / 'kwok.yaml'}", f"--server-address=127.0.0.1:{ports.kwok}",
                "--v=WARN",
            ]
        raise ValueError(name)

    # -- health --------------------------------------------------------------------------------

    def _health_url(self, name: str) -> str:
        ports = self.ports()
        return {
            "etcd": f"http://127.0.0.1:{ports.etcd_client}/health",
            "kube-apiserver": f"https://127.0.0.1:{ports.apiserver}/readyz",
            "kube-controller-manager": f"https://127.0.0.1:{ports.controller_manager}/healthz",
            "kube-scheduler": f"https://127.0.0.1:{ports.scheduler}/healthz",
            "kwok": f"http://127.0.0.1:{ports.kwok}/healthz",
        }[name]

    def _ssl_context(self, name: str) -> ssl.SSLContext:
        if name == "kube-apiserver":
            context = ssl.create_default_context(cafile=str(self._pki / "ca.crt"))
            context.load_cert_chain(self._pki / "admin.crt", self._pki / "admin.key")
            return context
        # The controller manager and scheduler serve on self-signed certificates of their own.
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context

    def _wait_healthy(self, name: str, timeout: float) -> None:
        url = self._health_url(name)
        problem = self.processes.wait_http(name, url, timeout, self._ssl_context(name) if url.startswith("https") else None)
        if problem:
            raise ClusterError(problem)
