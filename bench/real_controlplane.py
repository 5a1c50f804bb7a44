"""The lab control plane running for real: how long it takes to come up, what faults cost its
clients, and how much memory it uses.

    python bench/real_controlplane.py [--keep]

On its own cluster (`small` with one real node), it deploys examples/controlplane-lab.yaml as
the end-to-end test does (images loaded into the node, the operator in-cluster, one OSD), then
prints:
  - the seconds from `kubectl apply` to the plane Ready, and to each service's Ready;
  - per fault (the Galera writer, a keystone pod, a RabbitMQ broker deleted one at a time, while
    a client calls token, image, volume, network and flavor lists in a loop): the calls made and
    failed, and the seconds until the replacement pod is Ready and the plane Ready;
  - the memory of the plane: the working sets of its pods (the kubelet's figures), in all and per
    service.
With --keep the cluster stays up afterwards (`ccp-localcluster down --state-dir ...` stops it).
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from datetime import datetime

from ccp_operator import conditions
from ccp_operator.api import API_VERSION
from ccp_operator.kube.client import Kube
from ccp_operator.reconcile.controlplane import children
from localcluster import LocalCluster, realplane
from localcluster.cluster import CACHE_ROOT

STATE_DIR = CACHE_ROOT / "bench-real-plane"


def timestamp(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def service_ready_seconds(kube: Kube, namespace: str, plane_name: str) -> dict[str, float]:
    """Per child resource: its Ready condition's time, from the plane's creation."""
    plane = kube.get(API_VERSION, "OpenStackControlPlane", namespace, plane_name)
    created = timestamp(plane["metadata"]["creationTimestamp"])
    result = {}
    for kind, _, _ in children():
        child = kube.get(API_VERSION, kind, namespace, plane_name)
        ready = conditions.find(((child or {}).get("status") or {}).get("conditions"), conditions.READY)
        if ready and ready.get("status") == "True":
            result[kind] = timestamp(ready["lastTransitionTime"]) - created
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", action="store_true", help="leave the cluster up")
    args = parser.parse_args()
    body = realplane.lab_manifest()
    namespace, name = body["metadata"]["namespace"], body["metadata"]["name"]
    cluster = LocalCluster(STATE_DIR, progress=lambda message: None)
    try:
        cluster.up("small", real_nodes=1)
        timings = realplane.deploy(cluster, progress=lambda message: None)
        kube = Kube(cluster.api_client())
        print(f"images loaded into the node: {timings['images']:.0f} s; operator installed: {timings['operator']:.0f} s")
        print(f"apply to Ready (the whole plane): {timings['ready']:.0f} s")
        for kind, seconds in sorted(service_ready_seconds(kube, namespace, name).items(), key=lambda item: item[1]):
            print(f"  {kind:<12} Ready at {seconds:6.0f} s")

        password = realplane.admin_password(kube, namespace, name)
        report = []
        with realplane.ApiLoop(lambda: realplane.connect(realplane.keystone_url(body), "admin", password,
                                                         "admin")) as loop:
            time.sleep(10)
            for fault in realplane.FAULTS:
                start = time.monotonic()
                pod, back = realplane.inject(kube, namespace, name, fault)
                time.sleep(10)
                calls = loop.between(start, time.monotonic())
                slowest = max(calls, key=lambda call: call.seconds, default=None)
                report.append((fault.name, pod, back, len(calls), sum(not call.ok for call in calls), slowest))
        print("faults (API calls in a loop: token, image, volume, network, flavor lists):")
        for fault, pod, back, calls, failed, slowest in report:
            print(f"  {fault:<16} {pod:<36} back to Ready in {back:5.0f} s; {failed} of {calls} calls failed"
                  + (f"; slowest call {slowest.name} {slowest.seconds:.1f} s" if slowest else ""))

        working_sets = realplane.pod_working_sets(kube, cluster.real_node().spec.name, namespace)
        by_service: dict[str, int] = defaultdict(int)
        pods = {pod["metadata"]["name"]: pod for pod in kube.list("v1", "Pod", namespace)}
        for pod_name, size in working_sets.items():
            labels = (pods.get(pod_name) or {}).get("metadata", {}).get("labels", {})
            by_service[labels.get("app.kubernetes.io/name", pod_name)] += size
        print(f"memory of the plane (working sets of {len(working_sets)} pods): "
              f"{sum(working_sets.values()) / 2**20:.0f} MiB")
        for service, size in sorted(by_service.items(), key=lambda item: -item[1]):
            print(f"  {service:<14} {size / 2**20:7.0f} MiB")
        print(json.dumps({"timings": timings}))
    finally:
        if not args.keep:
            cluster.down()


if __name__ == "__main__":
    main()
