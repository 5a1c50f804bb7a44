"""A control plane that runs for real: examples/controlplane-lab.yaml on the local cluster's real
node, from the images built on this machine, reconciled by the operator running in-cluster.

The demo, the end-to-end tests and bench/real_controlplane.py bring it up through deploy().
"""

from __future__ import annotations

import base64
import contextlib
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import yaml

from ccp_operator.api import API_VERSION
from ccp_operator.kube.client import Kube

from . import images
from .cluster import ClusterError, LocalCluster
from .controlplane import apply_plane, kubectl, plane_state, wait_plane_ready
from .operator import install_in_cluster

ROOT = Path(__file__).resolve().parents[2]
LAB_EXAMPLE = ROOT / "examples" / "controlplane-lab.yaml"
# Every image the lab plane runs (the node's own and the operator's are loaded apart).
PLANE_IMAGES = tuple(name for name in images.DEFAULT_IMAGES if name not in (images.PAUSE, images.COREDNS, "operator"))


OSD_SIZE_BYTES = 8 * 1024**3
# The smallest memory target an OSD accepts; its caches shrink to fit.
OSD_MEMORY_TARGET = 939524096

# The storage node's join (docs/operations.md: the storage nodes): the bootstrap-osd key
# registers a new OSD with a cephx key of its own, which then makes its BlueStore (in a file on
# its volume: this machine has no spare disk) and runs. On a restart the OSD keeps its id and data.
OSD_SCRIPT = """set -e
state=/var/lib/ceph/osd
data=$state/data
keyring=/tmp/bootstrap-osd.keyring
printf '[client.bootstrap-osd]\\n  key = %s\\n' "$(cat /etc/ceph-bootstrap-osd/key)" > "$keyring"
if [ ! -s "$state/whoami" ]; then
  # The OSD's uuid and key are made once: `osd new` with the same uuid gives the same id again.
  [ -s "$state/uuid" ] || cat /proc/sys/kernel/random/uuid > "$state/uuid"
  [ -s "$state/key" ] || ceph-authtool --gen-print-key > "$state/key"
  printf '{"cephx_secret": "%s"}' "$(cat "$state/key")" > /tmp/secret.json
  id=$(ceph -n client.bootstrap-osd -k "$keyring" osd new "$(cat "$state/uuid")" -i /tmp/secret.json)
  rm -rf "$data" "$state/block"
  mkdir -p "$data"
  printf '[osd.%s]\\n  key = %s\\n' "$id" "$(cat "$state/key")" > "$data/keyring"
  ceph-osd -i "$id" --mkfs --osd-uuid "$(cat "$state/uuid")" --osd-data "$data" --keyring "$data/keyring" \\
    --osd-objectstore bluestore --bluestore-block-path "$state/block" --bluestore-block-create \\
    --bluestore-block-size @SIZE@
  echo "$id" > "$state/whoami"
fi
exec ceph-osd --foreground -i "$(cat "$state/whoami")" --osd-data "$data" --keyring "$data/keyring" \\
  --bluestore-block-path "$state/block" --osd-memory-target @MEMORY@
"""


def lab_manifest(path: Path = LAB_EXAMPLE) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def osd_manifests(namespace: str, instance: str, image: str, node_selector: dict[str, str]) -> list[dict[str, Any]]:
    """One OSD on the real node, as a storage node joins: a StatefulSet of one pod reading the
    cluster's ceph.conf from a client Secret and the OSD bootstrap key from the keys Secret."""
    name = f"{instance}-lab-osd"
    pod_labels = {"app.kubernetes.io/name": "ceph-osd", "app.kubernetes.io/instance": instance}
    script = OSD_SCRIPT.replace("@SIZE@", str(OSD_SIZE_BYTES)).replace("@MEMORY@", str(OSD_MEMORY_TARGET))
    container = {
        "name": "ceph-osd", "image": image, "imagePullPolicy": "Never", "command": ["/bin/sh", "-c", script],
        "resources": {"requests": {"cpu": "10m", "memory": "256Mi"}},
        "volumeMounts": [{"name": "data", "mountPath": "/var/lib/ceph/osd"},
                         {"name": "conf", "mountPath": "/etc/ceph/ceph.conf", "subPath": "ceph.conf"},
                         {"name": "bootstrap-key", "mountPath": "/etc/ceph-bootstrap-osd", "readOnly": True}],
    }
    keys = f"{instance}-ceph-keys"
    bootstrap_key = {"name": "bootstrap-key", "secret": {"secretName": keys, "items": [
        {"key": "client.bootstrap-osd", "path": "key"}]}}
    return [{
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": name, "namespace": namespace, "labels": pod_labels},
        "spec": {
            "replicas": 1, "serviceName": name, "selector": {"matchLabels": pod_labels},
            "template": {"metadata": {"labels": pod_labels}, "spec": {
                "nodeSelector": node_selector, "terminationGracePeriodSeconds": 30,
                "containers": [container],
                "volumes": [{"name": "conf", "secret": {"secretName": f"{instance}-ceph-client-glance"}},
                            bootstrap_key]}},
            "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}}}],
        },
    }]


def deploy(cluster: LocalCluster, manifest: Path = LAB_EXAMPLE, timeout: float = 3600,
           progress: Callable[[str], None] = print) -> dict[str, float]:
    """Loads the plane's images into the real node, installs the operator in-cluster, applies the
    plane and waits until it is Ready; returns the seconds each phase took."""
    node = cluster.real_node()
    if node is None:
        raise ClusterError("the lab control plane runs on a real node: up --real-nodes 1")
    timings = {}
    step = time.monotonic()
    node.load_images(list(PLANE_IMAGES))
    timings["images"] = time.monotonic() - step
    step = time.monotonic()
    install_in_cluster(cluster)
    timings["operator"] = time.monotonic() - step
    body = apply_plane(cluster, manifest)
    namespace, name, spec = body["metadata"]["namespace"], body["metadata"]["name"], body["spec"]
    kube = Kube(cluster.api_client())
    start = time.monotonic()
    wait_for_secret(kube, namespace, f"{name}-ceph-client-glance", timeout, progress)
    kubectl(cluster, "apply", "-f", "-",
            stdin=yaml.safe_dump_all(osd_manifests(namespace, name, spec["ceph"]["image"], spec["nodeSelector"])))
    progress(f"  {time.monotonic() - start:6.0f}s  Ceph monitors up: one OSD joined")
    timings["ready"] = time.monotonic() - start + wait_plane_ready(kube, namespace, name, timeout, progress)
    return timings


@contextlib.contextmanager
def bench_lab(state_dir: Path | None, own_dir: Path, keep: bool,
              progress: Callable[[str], None] = print) -> Iterator[LocalCluster]:
    """The lab a benchmark runs on: the one already up and Ready in `state_dir` (left running),
    or its own in `own_dir`, brought up and deployed, and stopped afterwards unless `keep`."""
    cluster = LocalCluster(state_dir or own_dir, progress=lambda message: None)
    try:
        if state_dir is None:
            cluster.up("small", real_nodes=1)
            deploy(cluster, progress=progress)
        yield cluster
    finally:
        if state_dir is None and not keep:
            cluster.down()


def plane_ready(kube: Kube, namespace: str, name: str) -> bool:
    return plane_state(kube, namespace, name)["ready"]


def wait_for_secret(kube: Kube, namespace: str, name: str, timeout: float, progress: Callable[[str], None]) -> None:
    deadline = time.monotonic() + timeout
    while kube.get("v1", "Secret", namespace, name) is None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no Secret {namespace}/{name} after {timeout:.0f}s")
        time.sleep(5)


# -- clients of the running plane --------------------------------------------------------------

def admin_password(kube: Kube, namespace: str, name: str) -> str:
    secret = kube.get("v1", "Secret", namespace, f"{name}-keystone-credentials")
    if secret is None:
        raise ClusterError(f"no Secret {namespace}/{name}-keystone-credentials: is the plane deployed?")
    return base64.b64decode(secret["data"]["admin-password"]).decode()


def keystone_url(body: dict[str, Any]) -> str:
    """Keystone's public URL: its load balancer's IP, which the real node routes."""
    return f"http://{body['spec']['keystone']['loadBalancer']['ip']}:5000/v3"


# A call that has no answer by then fails (and is counted), as for a client that sets a timeout:
# without one, a connection whose SYN went to a replaced pod waits out conntrack's 120 s.
API_TIMEOUT = 15


def connect(auth_url: str, username: str, password: str, project: str):
    """An openstacksdk connection through the public endpoints, as a cloud's user makes one."""
    import openstack  # the test and bench dependency, not the cluster tool's

    return openstack.connect(auth_url=auth_url, username=username, password=password, project_name=project,
                             user_domain_name="Default", project_domain_name="Default", region_name="RegionOne",
                             interface="public", identity_api_version="3", api_timeout=API_TIMEOUT)


@dataclass
class Call:
    name: str
    started: float
    ok: bool
    error: str = ""
    seconds: float = 0.0  # how long it took (a hung call shows here, not as a failure)


# The calls a client keeps making while faults happen: one per service that keeps state.
API_CALLS: dict[str, Callable[[Any], Any]] = {
    "token": lambda cloud: (cloud.session.auth.invalidate(), cloud.session.get_token()),
    "image list": lambda cloud: list(cloud.image.images(limit=5)),
    "volume list": lambda cloud: list(cloud.block_storage.volumes(limit=5)),
    "network list": lambda cloud: list(cloud.network.networks(limit=5)),
    "flavor list": lambda cloud: list(cloud.compute.flavors()),
}


def _volume_round_trip(cloud) -> None:
    """A volume created, available, and deleted: the API, the scheduler and the volume service."""
    storage = cloud.block_storage
    volume = storage.create_volume(size=1, name=f"load-{time.monotonic_ns()}")
    storage.wait_for_status(volume, "available", failures=["error"], interval=1, wait=API_TIMEOUT * 8)
    storage.delete_volume(volume)


def _active(server) -> None:
    if server.status != "ACTIVE":
        raise ClusterError(f"server {server.id} is {server.status}")


def tenant_calls(server_id: str) -> dict[str, Callable[[Any], Any]]:
    """What a cloud's users keep doing while the cloud is upgraded: tokens, lists of what they
    own, a volume's whole life, and a look at their running server (ACTIVE, else a failure)."""
    return {
        "token": API_CALLS["token"],
        "image list": API_CALLS["image list"],
        "network list": API_CALLS["network list"],
        "server list": lambda cloud: list(cloud.compute.servers(limit=5)),
        "volume list": API_CALLS["volume list"],
        "volume create and delete": _volume_round_trip,
        "server show": lambda cloud: _active(cloud.compute.get_server(server_id)),
    }


class ApiLoop:
    """Makes `calls` (API_CALLS by default) one after the other in a thread, for as long as it
    runs, and records each call's outcome; failures are then counted per time window (one per
    fault) or over the whole run (an upgrade)."""

    def __init__(self, connection_factory: Callable[[], Any], pause: float = 0.2,
                 calls: dict[str, Callable[[Any], Any]] | None = None):
        self.connection_factory = connection_factory
        self.pause = pause
        self.api_calls = calls or API_CALLS
        self.calls: list[Call] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="api-loop", daemon=True)

    def __enter__(self) -> "ApiLoop":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=120)

    def _run(self) -> None:
        cloud = None
        while not self._stop.is_set():
            for name, call in self.api_calls.items():
                started = time.monotonic()
                try:
                    cloud = cloud or self.connection_factory()
                    call(cloud)
                    self.calls.append(Call(name, started, True, seconds=time.monotonic() - started))
                except Exception as exc:  # every failure counts, whatever its kind
                    self.calls.append(Call(name, started, False, f"{type(exc).__name__}: {exc}"[:200],
                                           time.monotonic() - started))
                    cloud = None  # a new connection (and token) for the next call
                if self._stop.wait(self.pause):
                    return

    def between(self, start: float, end: float) -> list[Call]:
        return [call for call in self.calls if start <= call.started < end]

    def longest_gaps(self) -> dict[str, float]:
        """Per kind of call, the longest time between the starts of two successful calls."""
        gaps: dict[str, float] = {}
        for name in self.api_calls:
            starts = [call.started for call in self.calls if call.name == name and call.ok]
            gaps[name] = max((b - a for a, b in zip(starts, starts[1:])), default=0.0)
        return gaps


def pod_working_sets(kube: Kube, node: str, namespace: str) -> dict[str, int]:
    """Bytes of memory in use (the kubelet's working set) of every pod of `namespace` on the node."""
    summary = kube.request("GET", f"/api/v1/nodes/{node}/proxy/stats/summary")
    result = {}
    for pod in summary.get("pods", []):
        if pod["podRef"]["namespace"] == namespace:
            result[pod["podRef"]["name"]] = sum((container.get("memory") or {}).get("workingSetBytes", 0)
                                                for container in pod.get("containers", []))
    return result


# -- faults ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Fault:
    """A pod the plane must replace by itself: its name, and the component whose pods must all
    be Ready again."""

    name: str
    component: str
    victim: Callable[[Kube, str, str], str]


def _galera_writer(kube: Kube, namespace: str, name: str) -> str:
    writer = ((kube.get(API_VERSION, "Galera", namespace, name) or {}).get("status") or {}).get("writer")
    if not writer:
        raise ClusterError(f"Galera {namespace}/{name} reports no writer")
    return writer


def _first_pod(component: str) -> Callable[[Kube, str, str], str]:
    def victim(kube: Kube, namespace: str, name: str) -> str:
        pods = kube.list("v1", "Pod", namespace, labels={"app.kubernetes.io/component": component})
        return sorted(pod["metadata"]["name"] for pod in pods)[0]
    return victim


# The faults of the end-to-end test and the benchmark, one after the other.
FAULTS = (
    Fault("galera writer", "galera", _galera_writer),
    Fault("keystone pod", "keystone", _first_pod("keystone")),
    Fault("rabbitmq broker", "rabbitmq", lambda kube, namespace, name: f"{name}-rabbitmq-1"),
)


def inject(kube: Kube, namespace: str, name: str, fault: Fault, timeout: float = 900) -> tuple[str, float]:
    """Deletes the fault's pod; returns it and the seconds until the component has replaced it
    with every pod Ready and the plane is Ready."""
    pod = fault.victim(kube, namespace, name)
    old = kube.get("v1", "Pod", namespace, pod)
    start = time.monotonic()
    kube.delete("v1", "Pod", namespace, pod)
    while True:
        pods = kube.list("v1", "Pod", namespace, labels={"app.kubernetes.io/component": fault.component})
        replaced = pods and all(p["metadata"]["uid"] != old["metadata"]["uid"] for p in pods)
        ready = all(status.get("ready") for p in pods for status in (p.get("status") or {}).get("containerStatuses")
                    or [{}])
        if replaced and ready and plane_ready(kube, namespace, name):
            return pod, time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"{fault.name}: {pod} not replaced by a Ready pod within {timeout:.0f}s")
        time.sleep(2)


# -- a release upgrade -------------------------------------------------------------------------

@dataclass
class StepTiming:
    service: str
    step: str
    started: float          # seconds after the upgrade began (first seen running)
    finished: float | None = None


def upgrade(kube: Kube, namespace: str, name: str, target: str, timeout: float = 5400,
            progress: Callable[[str], None] = print, since: float | None = None) -> tuple[float, list[StepTiming]]:
    """Moves the plane to release `target` (its `spec.release`) and follows each service's steps in
    its status until the plane runs `target` and is Ready; returns the seconds that took and when
    each step of each service ran (watched every 2 s, so a step shorter than that shows as ~0)."""
    from ccp_operator.services import catalog

    kube.merge_patch(API_VERSION, "OpenStackControlPlane", namespace, name, {"spec": {"release": target}})
    start = time.monotonic() if since is None else since
    steps: dict[tuple[str, str], StepTiming] = {}
    reported = ""
    while True:
        elapsed = time.monotonic() - start
        for definition in catalog.SERVICES:
            record = ((kube.get(API_VERSION, definition.kind, namespace, name) or {}).get("status") or {}).get("upgrade")
            # A move to `target` tried and reverted before this one is not this one's.
            if not record or record.get("toVersion") != target or record.get("state") == "Reverted":
                continue
            for step in record.get("stepsDone") or []:
                timing = steps.setdefault((definition.name, step), StepTiming(definition.name, step, elapsed))
                timing.finished = timing.finished if timing.finished is not None else elapsed
            if record.get("step"):
                steps.setdefault((definition.name, record["step"]), StepTiming(definition.name, record["step"], elapsed))
                now = f"{definition.name}: {record['step']} ({record.get('state')})"
                if now != reported:
                    progress(f"  {elapsed:6.0f}s  {now}")
                    reported = now
        plane = kube.get(API_VERSION, "OpenStackControlPlane", namespace, name) or {}
        if (plane.get("status") or {}).get("release") == target and plane_ready(kube, namespace, name):
            progress(f"  {elapsed:6.0f}s  the plane runs {target} and is Ready")
            return elapsed, sorted(steps.values(), key=lambda timing: timing.started)
        if elapsed > timeout:
            raise TimeoutError(f"the plane did not reach {target} within {timeout:.0f}s: "
                               f"{plane_state(kube, namespace, name)['message']}")
        time.sleep(2)


# The API services a tenant's calls reach, at two replicas each for an upgrade under load (the lab
# runs one of everything): a rolling update then always keeps one serving.
TWO_API_REPLICAS = {
    "keystone": {"replicas": 2},
    "placement": {"replicas": 2},
    "glance": {"api": {"replicas": 2}},
    "cinder": {"api": {"replicas": 2}},
    "neutron": {"server": {"replicas": 2}},
    "nova": {"api": {"replicas": 2}},
}


@dataclass
class UpgradeReport:
    seconds: float
    steps: list[StepTiming]
    calls: list[Call]
    longest_gaps: dict[str, float]

    @property
    def failed(self) -> list[Call]:
        return [call for call in self.calls if not call.ok]

    def moving_service(self, call: Call, start: float) -> str:
        """The service whose step was running when the call started ("" between services)."""
        at = call.started - start
        running = [step for step in self.steps if step.started <= at <= (step.finished or self.seconds)]
        return running[-1].service if running else ""

    def as_dict(self, start: float) -> dict[str, Any]:
        by_service: dict[str, list[str]] = {}
        for call in self.failed:
            by_service.setdefault(self.moving_service(call, start) or "(between services)", []).append(
                f"{call.name}: {call.error}")
        return {
            "upgradeSeconds": round(self.seconds, 1),
            "steps": [{"service": s.service, "step": s.step, "startedAt": round(s.started),
                       "seconds": round(s.finished - s.started, 1) if s.finished is not None else None}
                      for s in self.steps],
            "calls": len(self.calls),
            "failedCalls": len(self.failed),
            "failedCallsPerUpgradingService": {service: {"count": len(errors), "errors": sorted(set(errors))[:5]}
                                               for service, errors in by_service.items()},
            "longestGapSeconds": {call: round(gap, 1) for call, gap in self.longest_gaps.items()},
        }


def upgrade_under_load(kube: Kube, namespace: str, name: str, target: str, connection_factory: Callable[[], Any],
                       server_id: str, progress: Callable[[str], None] = print) -> tuple[UpgradeReport, float]:
    """The whole-release upgrade with tenant_calls() looping throughout (from 10 s before to 10 s
    after); returns the report and the loop's start (monotonic), which its times count from."""
    with ApiLoop(connection_factory, calls=tenant_calls(server_id)) as loop:
        time.sleep(10)
        start = time.monotonic()
        seconds, steps = upgrade(kube, namespace, name, target, progress=progress, since=start)
        time.sleep(10)
    return UpgradeReport(seconds, steps, list(loop.calls), loop.longest_gaps()), start
