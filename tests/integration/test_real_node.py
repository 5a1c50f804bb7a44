"""A real node in the local cluster: pods run for real beside KWOK's nodes.

The cluster of this module is its own (`small` with one real node), so the session's KWOK-only
cluster keeps its simulated pods. The images come from images/, built here by docker from a
debootstrap base and loaded into the node's containerd. The last test takes the cluster down and
checks that nothing of it is left on the host.
"""

from __future__ import annotations

import re
import secrets
import subprocess
import urllib.request
import uuid
from pathlib import Path

import pytest

from ccp_operator.api.kinds import API_VERSION
from ccp_operator.kube.client import Kube
from localcluster import images, realnode, tools_bin_dir
from localcluster.cluster import CACHE_ROOT
from localcluster.operator import NAMESPACE, RELEASE, helm, install_in_cluster
from support.real_cluster import RealCluster
from support.waiting import wait_for

STATE_DIR = CACHE_ROOT / "test-real-node"


@pytest.fixture(scope="module")
def real():
    cluster = RealCluster(STATE_DIR)
    try:
        cluster.local.up("small", real_nodes=1)
        cluster.local.real_node().load_images(["python", "memcached"])
        yield cluster
    finally:
        # A node that failed to start is stopped too: its bridge would stop the next one.
        if cluster.local.state_dir.exists():
            cluster.local.down()


@pytest.fixture
def namespace(real):
    name = f"real-{uuid.uuid4().hex[:8]}"
    real.kubectl("create", "namespace", name)
    yield name
    real.kubectl("delete", "namespace", name, "--wait=false", check=False)


def web_server(real, namespace):
    """A Python HTTP server pod and its ClusterIP Service `web` (port 80 to 8080)."""
    real.apply(
        real.pod(namespace, "web", ["python3", "-m", "http.server", "8080"],
                 container={"readinessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 1}}),
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": namespace},
         "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}},
        real.pod(namespace, "client", ["sleep", "infinity"]),
    )
    real.wait_ready(namespace, "web", "client")


def test_the_real_node_is_ready_beside_kwok_nodes_with_its_role_labels(real):
    node = real.get("node", real.node)
    labels = node["metadata"]["labels"]
    assert labels["ccp.openstack.org/node-role"] == "all-in-one"
    assert labels["ccp.local/all-in-one"] == "enabled"
    assert "openstack-control-plane" not in labels  # the simulated control plane's nodes only
    assert "kwok.x-k8s.io/node" not in node["metadata"].get("annotations", {})
    assert node["status"]["nodeInfo"]["containerRuntimeVersion"].startswith("containerd://")
    addresses = {a["type"]: a["address"] for a in node["status"]["addresses"]}
    assert addresses["InternalIP"] == realnode.NODE_IP
    kwok_nodes = [n for n in real.get("nodes")["items"]
                  if n["metadata"].get("annotations", {}).get("kwok.x-k8s.io/node") == "fake"]
    assert len(kwok_nodes) == 15


def test_a_pod_resolves_a_service_by_name_and_reaches_it_through_its_cluster_ip(real, namespace):
    web_server(real, namespace)
    cluster_ip = real.get("-n", namespace, "service", "web")["spec"]["clusterIP"]
    probe = ("import socket, urllib.request\n"
             f"print(socket.gethostbyname('web.{namespace}.svc.cluster.local'))\n"
             "print(urllib.request.urlopen('http://web/', timeout=10).status)\n")
    # exec: the API server reaches the kubelet with its client certificate.
    out = real.exec_python(namespace, "client", probe).split()
    assert out == [cluster_ip, "200"]
    # logs: the request arrived from the client pod's address.
    client_ip = real.get("-n", namespace, "pod", "client")["status"]["podIP"]
    log = real.kubectl("-n", namespace, "logs", "web").stdout + real.kubectl("-n", namespace, "logs", "web").stderr
    assert re.search(rf"^{re.escape(client_ip)} .*\"GET / HTTP/1\.1\" 200", log, re.MULTILINE), log


def test_names_outside_the_cluster_domain_do_not_resolve(real, namespace):
    """CoreDNS answers for the cluster domain only: no query leaves this machine."""
    real.apply(real.pod(namespace, "client", ["sleep", "infinity"]))
    real.wait_ready(namespace, "client")
    probe = ("import socket\ntry:\n    socket.gethostbyname('example.org')\n    print('resolved')\n"
             "except socket.gaierror:\n    print('unresolved')\n"
             "print(socket.gethostbyname('kubernetes.default'))\n")
    out = real.exec_python(namespace, "client", probe).split()
    assert out == ["unresolved", "10.96.0.1"]


def test_port_forward_reaches_a_pod(real, namespace):
    web_server(real, namespace)
    forward = subprocess.Popen([str(tools_bin_dir() / "kubectl"), "--kubeconfig", str(real.local.kubeconfig),
                                "-n", namespace, "port-forward", "pod/web", ":8080"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = forward.stdout.readline()
        match = re.search(r"127\.0\.0\.1:(\d+)", line)
        assert match, line
        with urllib.request.urlopen(f"http://127.0.0.1:{match.group(1)}/", timeout=10) as response:
            assert response.status == 200
    finally:
        forward.terminate()
        forward.wait(timeout=10)


def test_a_claim_binds_a_local_volume_of_the_real_node_and_its_data_outlives_the_pod(real, namespace):
    token = secrets.token_hex(8)
    claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data", "namespace": namespace},
             "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}
    volume = {"volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]}
    mount = {"container": {"volumeMounts": [{"name": "data", "mountPath": "/data"}]}}
    real.apply(claim, real.pod(namespace, "writer", ["sh", "-c", f"echo {token} > /data/token && sleep infinity"],
                               **volume, **mount))
    real.wait_ready(namespace, "writer")
    name = real.get("-n", namespace, "pvc", "data")["spec"]["volumeName"]
    pv = real.get("pv", name)
    terms = pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"]
    assert terms[0]["matchExpressions"][0]["values"] == [real.node]
    # The data is on this machine's disk, in the volume's directory.
    wait_for(lambda: (Path(pv["spec"]["local"]["path"]) / "token").exists(), timeout=30, interval=0.5,
             what="the token on the node's disk")
    assert (Path(pv["spec"]["local"]["path"]) / "token").read_text().strip() == token
    real.kubectl("-n", namespace, "delete", "pod", "writer", "--wait=true", timeout=120)
    real.apply(real.pod(namespace, "reader", ["sh", "-c", "cat /data/token && sleep infinity"], **volume, **mount))
    real.wait_ready(namespace, "reader")
    assert real.kubectl("-n", namespace, "logs", "reader").stdout.strip() == token


def test_the_operator_reads_the_last_lines_a_pod_logged(real, namespace):
    """What a failed Job's condition quotes (Reconciler._log_tail), read as the operator reads it."""
    real.apply(real.pod(namespace, "talker", ["sh", "-c", "echo one; echo two; echo three; sleep infinity"]))
    real.wait_ready(namespace, "talker")
    kube = Kube(real.local.api_client())
    wait_for(lambda: kube.logs(namespace, "talker", 2).split() == ["two", "three"], timeout=30, interval=0.5,
             what="the pod's last two lines")


@pytest.fixture(scope="module")
def in_cluster_operator(real):
    """The chart installed with the image built here (the cluster's down removes it)."""
    install_in_cluster(real.local)


def test_the_chart_runs_the_operator_image_as_real_pods_with_one_leader(real, in_cluster_operator):
    pods = real.get("-n", NAMESPACE, "pods", "-l", "app.kubernetes.io/name=openstack-ccp-operator")["items"]
    assert len(pods) == 2
    for pod in pods:
        assert pod["spec"]["nodeName"] == real.node
        assert pod["status"]["phase"] == "Running"
        assert all(status["ready"] for status in pod["status"]["containerStatuses"])
    names = sorted(pod["metadata"]["name"] for pod in pods)

    def leader_gauges() -> dict[str, float]:
        gauges = {}
        for name in names:
            metrics = real.kubectl("-n", NAMESPACE, "exec", name, "--", "/opt/ccp/bin/python", "-c",
                                   "import urllib.request; print(urllib.request.urlopen("
                                   "'http://127.0.0.1:8080/metrics', timeout=10).read().decode())").stdout
            match = re.search(r"^ccp_operator_leader (\S+)$", metrics, re.MULTILINE)
            gauges[name] = float(match.group(1)) if match else None
        return gauges

    # The replica that took the Lease exports 1 once it reconciles; the standby 0.
    gauges = wait_for(lambda: (lambda g: g if sorted(g.values()) == [0.0, 1.0] else None)(leader_gauges()),
                      timeout=90, interval=2, what="one leader among the operator's pods")
    leader = next(name for name, value in gauges.items() if value == 1.0)
    holder = real.get("-n", NAMESPACE, "lease", f"{RELEASE}-leader")["spec"]["holderIdentity"]
    assert holder.startswith(f"{leader}_"), (holder, leader)


def test_helm_test_passes_for_real(real, in_cluster_operator):
    out = helm(real.local.kubeconfig, "test", RELEASE, "--namespace", NAMESPACE, "--timeout", "150s", "--logs")
    assert re.search(r"^Phase:\s+Succeeded$", out, re.MULTILINE), out
    assert "metrics and readiness OK" in out


def test_the_in_cluster_operator_runs_a_memcached_that_answers_stats(real, in_cluster_operator, namespace):
    real.apply({"apiVersion": API_VERSION, "kind": "Memcached", "metadata": {"name": "cache", "namespace": namespace},
                "spec": {"replicas": 1,
                         "images": {"registry": images.KOLLA_REGISTRY, "distro": images.KOLLA_DISTRO},
                         "nodeSelector": {"kubernetes.io/hostname": real.node},
                         "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}})
    real.kubectl("-n", namespace, "wait", "--for=condition=Ready", "memcached/cache", "--timeout=180s", timeout=200)
    pod = real.get("-n", namespace, "pod", "cache-memcached-0")
    assert pod["spec"]["nodeName"] == real.node
    assert pod["spec"]["containers"][0]["image"] == images.reference("memcached")
    real.apply(real.pod(namespace, "client", ["sleep", "infinity"]))
    real.wait_ready(namespace, "client")
    probe = ("import socket\n"
             f"s = socket.create_connection(('cache-memcached-0.cache-memcached.{namespace}.svc.cluster.local', 11211),"
             " timeout=10)\n"
             "s.sendall(b'stats\\r\\n')\ndata = b''\n"
             "while not data.endswith(b'END\\r\\n'):\n    data += s.recv(4096)\nprint(data.decode())\n")
    stats = real.exec_python(namespace, "client", probe)
    assert re.search(r"^STAT pid \d+", stats, re.MULTILINE), stats
    # Kolla's start script ran the operator's command as Kolla's memcached user.
    log = real.kubectl("-n", namespace, "logs", "cache-memcached-0").stdout
    assert "Running command: '/usr/bin/memcached" in log, log[-2000:]


def test_down_leaves_nothing_of_the_cluster_on_the_host(real):
    state_dir = real.local.state_dir
    real.local.down()
    assert realnode.leftovers(state_dir) == []
    assert not state_dir.exists()
    # The docker daemon is not the cluster's: it still runs.
    assert subprocess.run([images.DOCKER, "info"], capture_output=True, timeout=30).returncode == 0
